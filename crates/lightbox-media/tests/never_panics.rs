//! Every parser over arbitrary bytes and over mangled real files: no panic
//! (cheap property tests; `.ci/fuzz.sh` runs the same code under libFuzzer).

use lightbox_media::fixtures::{self, FixtureMeta};
use lightbox_media::metadata::{exif, iptc, xmp};
use lightbox_media::{MediaKind, header_dimensions, probe_video_bytes, read_embedded, sniff};
use proptest::prelude::*;

fn seeds() -> Vec<Vec<u8>> {
    let meta = FixtureMeta {
        orientation: Some(8),
        gps: Some((10.0, -20.0)),
        taken_at: Some("2024:07:14 21:30:05"),
        make: Some("Make"),
        caption: Some("caption"),
        keywords: &["a", "b"],
        title: Some("title"),
        ..FixtureMeta::default()
    };
    vec![
        fixtures::jpeg_with_metadata(8, 8, &meta),
        fixtures::png(4, 4),
        fixtures::webp(4, 4),
        fixtures::gif(4, 4),
        fixtures::tiff(4, 4),
        fixtures::heic_header(10, 10),
        fixtures::mp4_minimal(),
        fixtures::exif_tiff(&meta),
        fixtures::photoshop_iptc(&meta),
        fixtures::xmp_packet("t", &["k"]).into_bytes(),
    ]
}

fn all_parsers(data: &[u8]) {
    let _ = sniff(data);
    for kind in MediaKind::ALL {
        let _ = header_dimensions(kind, data);
        let _ = read_embedded(kind, data);
    }
    let _ = exif::parse(data);
    let _ = iptc::parse(data);
    let _ = iptc::from_photoshop(data);
    let _ = xmp::parse(data);
    let _ = probe_video_bytes(data);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        all_parsers(&data);
    }

    #[test]
    fn mangled_real_files(
        which in 0usize..10,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut data = seeds().swap_remove(which);
        for (at, byte) in edits {
            let i = at.index(data.len());
            data[i] = byte;
        }
        all_parsers(&data);
        let cut = cut.index(data.len() + 1);
        all_parsers(&data[..cut]);
    }
}

/// Inputs that once crashed a fuzz target (kept as regressions).
#[test]
fn fuzz_regressions() {
    let cases: &[&[u8]] = &[
        // A box that claims a 64-bit size smaller than its header.
        b"\0\0\0\x01ftyp\0\0\0\0\0\0\0\x01",
        // An IIM extended dataset with a huge length.
        b"\x1c\x02\x78\x80\x04\xff\xff\xff\xff",
        // A TIFF whose IFD points at itself.
        b"II*\0\x08\0\0\0\x01\0\x00\x01\x04\0\x01\0\0\0\x08\0\0\0",
    ];
    for c in cases {
        all_parsers(c);
    }
}
