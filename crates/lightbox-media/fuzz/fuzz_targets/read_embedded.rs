//! read_embedded() of every kind over arbitrary bytes (the container walkers:
//! JPEG segments, PNG chunks, WebP RIFF chunks, TIFF IFDs, HEIF items).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lightbox_media::{MediaKind, read_embedded};

fuzz_target!(|data: &[u8]| {
    if let Some(kind) = lightbox_media::sniff(data) {
        let _ = read_embedded(kind, data);
    }
    // And as every kind, whatever the magic says.
    for kind in MediaKind::ALL {
        let _ = read_embedded(kind, data);
    }
});
