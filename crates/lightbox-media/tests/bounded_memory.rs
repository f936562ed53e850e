//! A version job's memory stays under 256 MB whatever the upload holds: each
//! case renders in a child process (this test binary again, one test
//! selected) which reports its own peak resident size (`VmHWM`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use lightbox_media::fixtures;
use lightbox_media::{MediaKind, RenderError, RenderLimits, VersionSpec, render_versions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The budget a version job must stay under.
const JOB_MEMORY: u64 = 256 << 20;

/// The child's side: `LIGHTBOX_RENDER_CHILD=<kind>:<path>` renders that file
/// with the default versions and prints the outcome and the peak RSS.
fn child_render() -> Option<String> {
    let spec = std::env::var("LIGHTBOX_RENDER_CHILD").ok()?;
    let (kind, path) = spec.split_once(':')?;
    let kind = match kind {
        "jpeg" => MediaKind::Jpeg,
        "png" => MediaKind::Png,
        "heif" => MediaKind::Heif,
        "webp" => MediaKind::Webp,
        _ => MediaKind::Tiff,
    };
    let outcome = match render_versions(
        kind,
        Path::new(path),
        0,
        &VersionSpec::defaults(),
        &RenderLimits::default(),
    ) {
        Ok(r) => format!("ok {}x{} {}", r.width, r.height, r.versions.len()),
        Err(e @ RenderError::TooLargeToDecode { .. }) => format!("too-large {e}"),
        Err(e) => format!("error {e}"),
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    Some(format!("outcome={outcome}\npeak_kib={peak_kib}\n"))
}

/// Renders `path` in a child running `test` and returns (outcome, peak bytes).
fn render_in_child(
    test: &str,
    kind: &str,
    path: &Path,
) -> Result<(String, u64), Box<dyn std::error::Error>> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(
            "LIGHTBOX_RENDER_CHILD",
            format!("{kind}:{}", path.display()),
        )
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The harness may print "test … ... " before the child's own words.
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.find(name).map(|at| l[at + name.len()..].to_owned()))
    };
    let outcome = field("outcome=").ok_or_else(|| format!("no outcome from the child: {text}"))?;
    let peak = field("peak_kib=")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or("no peak from the child")?
        * 1024;
    eprintln!("{test}: {outcome}; peak RSS {} MiB", peak >> 20);
    Ok((outcome, peak))
}

/// Runs the child's side when asked to, else the parent's `body`.
fn case(test: &str, body: impl FnOnce(&str) -> TestResult) -> TestResult {
    if let Some(report) = child_render() {
        print!("{report}");
        return Ok(());
    }
    body(test)
}

/// `bytes` followed by `padding` zero bytes (a sparse file: no disk used).
fn padded(dir: &Path, name: &str, bytes: &[u8], padding: u64) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path)?;
    f.write_all(bytes)?;
    f.set_len(bytes.len() as u64 + padding)?;
    Ok(path)
}

#[test]
fn a_small_jpeg_followed_by_1_9_gb_of_padding() -> TestResult {
    case("a_small_jpeg_followed_by_1_9_gb_of_padding", |test| {
        let dir = tempfile::tempdir()?;
        let path = padded(dir.path(), "p.jpg", &fixtures::jpeg(16, 16), 1_900_000_000)?;
        let (outcome, peak) = render_in_child(test, "jpeg", &path)?;
        assert!(outcome.starts_with("ok 16x16"), "{outcome}");
        assert!(peak < JOB_MEMORY / 4, "peak {} MiB", peak >> 20);
        Ok(())
    })
}

#[test]
fn a_small_png_followed_by_1_9_gb_of_padding() -> TestResult {
    case("a_small_png_followed_by_1_9_gb_of_padding", |test| {
        let dir = tempfile::tempdir()?;
        let path = padded(dir.path(), "p.png", &fixtures::png(16, 16), 1_900_000_000)?;
        let (outcome, peak) = render_in_child(test, "png", &path)?;
        assert!(outcome.starts_with("ok 16x16"), "{outcome}");
        assert!(peak < JOB_MEMORY / 4, "peak {} MiB", peak >> 20);
        Ok(())
    })
}

/// 12 000 × 9 000 = 108 megapixels, 324 MB as RGB: decoded at 1/4 scale.
#[test]
fn a_108_megapixel_jpeg() -> TestResult {
    case("a_108_megapixel_jpeg", |test| {
        let dir = tempfile::tempdir()?;
        let path = padded(
            dir.path(),
            "big.jpg",
            &fixtures::plain_jpeg(12_000, 9_000),
            0,
        )?;
        let (outcome, peak) = render_in_child(test, "jpeg", &path)?;
        assert!(outcome.starts_with("ok 12000x9000 4"), "{outcome}");
        assert!(peak < JOB_MEMORY, "peak {} MiB", peak >> 20);
        Ok(())
    })
}

/// The same size as a PNG: reduced row by row, never held whole.
#[test]
fn a_108_megapixel_png() -> TestResult {
    case("a_108_megapixel_png", |test| {
        let dir = tempfile::tempdir()?;
        let path = padded(
            dir.path(),
            "big.png",
            &fixtures::plain_png(12_000, 9_000),
            0,
        )?;
        let (outcome, peak) = render_in_child(test, "png", &path)?;
        assert!(outcome.starts_with("ok 12000x9000 4"), "{outcome}");
        assert!(peak < JOB_MEMORY, "peak {} MiB", peak >> 20);
        Ok(())
    })
}

/// A format decoded whole, over the budget: refused before decoding.
#[test]
fn a_108_megapixel_tiff_is_refused_before_decoding() -> TestResult {
    case("a_108_megapixel_tiff_is_refused_before_decoding", |test| {
        let dir = tempfile::tempdir()?;
        let path = padded(
            dir.path(),
            "big.tif",
            &fixtures::tiff_header(12_000, 9_000),
            0,
        )?;
        let (outcome, peak) = render_in_child(test, "tiff", &path)?;
        assert!(outcome.starts_with("too-large"), "{outcome}");
        assert!(peak < JOB_MEMORY / 4, "peak {} MiB", peak >> 20);
        Ok(())
    })
}

/// A HEIF whose `meta` box (with the size) follows 1 GB of `mdat`: the size
/// is found by seeking, and a 30000 × 30000 image is refused, never handed
/// to a decoder.
#[test]
fn a_heif_bomb_with_meta_after_a_large_mdat_is_refused() -> TestResult {
    case(
        "a_heif_bomb_with_meta_after_a_large_mdat_is_refused",
        |test| {
            use std::io::{Seek, SeekFrom};
            let dir = tempfile::tempdir()?;
            let header = fixtures::heic_header(30_000, 30_000);
            // ftyp is the first box; meta is the rest.
            let ftyp_len = u32::from_be_bytes(header[0..4].try_into()?) as usize;
            let (ftyp, meta) = header.split_at(ftyp_len);
            let mdat_len: u64 = 1 << 30;
            let path = dir.path().join("bomb.heic");
            let mut f = std::fs::File::create(&path)?;
            f.write_all(ftyp)?;
            f.write_all(&1u32.to_be_bytes())?; // 64-bit size follows
            f.write_all(b"mdat")?;
            f.write_all(&(mdat_len + 16).to_be_bytes())?;
            f.seek(SeekFrom::Current(mdat_len as i64))?;
            f.write_all(meta)?;
            drop(f);
            let (outcome, _) = render_in_child(test, "heif", &path)?;
            assert!(
                outcome.starts_with("error") && outcome.contains("30000×30000"),
                "{outcome}"
            );
            Ok(())
        },
    )
}

/// A lossy 1 × 1 WebP whose `VP8 ` chunk claims 1.9 GB more (zeros): the
/// WebP decoder reads a lossy chunk whole, so it is stopped at a bound
/// instead of taking the file into memory.
#[test]
fn a_lossy_webp_with_a_1_9_gb_chunk() -> TestResult {
    case("a_lossy_webp_with_a_1_9_gb_chunk", |test| {
        // The smallest lossy WebP there is (1 × 1), as browsers probe with.
        const VP8: [u8; 22] = [
            0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x01, 0x00, 0x01, 0x00, 0x0e, 0xc0, 0xfe, 0x25,
            0xa4, 0x00, 0x03, 0x70, 0x00, 0x00, 0x00, 0x00,
        ];
        let webp = |padding: u32| {
            let chunk = VP8.len() as u32 + padding;
            let mut b = b"RIFF".to_vec();
            b.extend_from_slice(&(4 + 8 + chunk).to_le_bytes());
            b.extend_from_slice(b"WEBPVP8 ");
            b.extend_from_slice(&chunk.to_le_bytes());
            b.extend_from_slice(&VP8);
            b
        };
        let dir = tempfile::tempdir()?;
        // As it is, the file decodes.
        let plain = padded(dir.path(), "plain.webp", &webp(0), 0)?;
        let (outcome, _) = render_in_child(test, "webp", &plain)?;
        assert!(outcome.starts_with("ok 1x1"), "{outcome}");
        let padding = 1_900_000_000;
        let path = padded(dir.path(), "p.webp", &webp(padding), u64::from(padding))?;
        let (outcome, peak) = render_in_child(test, "webp", &path)?;
        assert!(
            outcome.starts_with("error") && outcome.contains("64 MiB"),
            "{outcome}"
        );
        assert!(peak < JOB_MEMORY / 2, "peak {} MiB", peak >> 20);
        Ok(())
    })
}

/// A progressive JPEG of 12 000 × 9 000 whose frame header comes after
/// 1.1 MB of APP segments, past the head the upload check reads: the
/// decoder's own header is weighed before any coefficient is allocated.
#[test]
fn a_progressive_jpeg_with_its_header_past_the_head_is_refused() -> TestResult {
    case(
        "a_progressive_jpeg_with_its_header_past_the_head_is_refused",
        |test| {
            let mut b = vec![0xFF, 0xD8];
            for _ in 0..17 {
                b.extend_from_slice(&[0xFF, 0xE1, 0xFF, 0xFF]);
                b.extend(std::iter::repeat_n(b'x', 0xFFFF - 2));
            }
            assert!(b.len() > 1 << 20);
            // DQT (one table), then SOF2: 8-bit, 9000 high, 12000 wide, 3 components 1×1.
            b.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
            b.extend(std::iter::repeat_n(1u8, 64));
            b.extend_from_slice(&[0xFF, 0xC2, 0x00, 0x11, 0x08]);
            b.extend_from_slice(&9000u16.to_be_bytes());
            b.extend_from_slice(&12000u16.to_be_bytes());
            b.extend_from_slice(&[0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00]);
            b.extend_from_slice(&[0xFF, 0xD9]);
            let head = &b[..1 << 20];
            // What the upload check sees says nothing of the frame.
            assert!(
                RenderLimits::default()
                    .check_memory(MediaKind::Jpeg, head)
                    .is_ok()
            );
            let dir = tempfile::tempdir()?;
            let path = padded(dir.path(), "late-sof.jpg", &b, 0)?;
            let (outcome, peak) = render_in_child(test, "jpeg", &path)?;
            assert!(
                outcome.starts_with("too-large") && outcome.contains("12000×9000"),
                "{outcome}"
            );
            assert!(peak < JOB_MEMORY / 4, "peak {} MiB", peak >> 20);
            Ok(())
        },
    )
}

/// A CMYK JPEG goes to the fallback decoder, which reads the file whole and
/// holds the picture twice: 8000 × 6000 is weighed (≈ 275 MiB) and refused
/// before it decodes, not after it has taken the job's memory.
#[test]
fn a_large_cmyk_jpeg_is_weighed_before_the_fallback_decoder() -> TestResult {
    // DQT, then SOF0: 8-bit, 6000 high, 8000 wide, 4 components 1×1, then EOI.
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00];
    b.extend(std::iter::repeat_n(1u8, 64));
    b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x14, 0x08]);
    b.extend_from_slice(&6000u16.to_be_bytes());
    b.extend_from_slice(&8000u16.to_be_bytes());
    b.push(0x04);
    for c in 1..=4u8 {
        b.extend_from_slice(&[c, 0x11, 0x00]);
    }
    b.extend_from_slice(&[0xFF, 0xD9]);
    let dir = tempfile::tempdir()?;
    let path = padded(dir.path(), "cmyk.jpg", &b, 0)?;
    let limits = RenderLimits::default();
    assert!(
        limits.check_memory(MediaKind::Jpeg, &b).is_ok(),
        "baseline: fine at upload"
    );
    match render_versions(MediaKind::Jpeg, &path, 0, &VersionSpec::defaults(), &limits) {
        Err(RenderError::TooLargeToDecode {
            width,
            height,
            needed_mib,
            ..
        }) => {
            assert_eq!((width, height, needed_mib), (8000, 6000, 274));
        }
        other => panic!("{other:?}"),
    }
    // A small CMYK picture still goes through the fallback (and is judged
    // by it, not by the weight).
    let mut small = b.clone();
    let at = small.len() - 2 - 12 - 1 - 4;
    small[at..at + 2].copy_from_slice(&60u16.to_be_bytes());
    small[at + 2..at + 4].copy_from_slice(&80u16.to_be_bytes());
    let path = padded(dir.path(), "cmyk-small.jpg", &small, 0)?;
    let small_outcome =
        render_versions(MediaKind::Jpeg, &path, 0, &VersionSpec::defaults(), &limits);
    assert!(
        !matches!(small_outcome, Err(RenderError::TooLargeToDecode { .. })),
        "a 80×60 picture weighed too large: {small_outcome:?}"
    );
    Ok(())
}

/// heif-convert decodes a whole HEIF in its own process (about 8 bytes a
/// pixel): a 24 MP iPhone photo fits the job's memory, a 48 MP one does not
/// and is refused before the tool runs.
#[test]
fn heif_memory_is_weighed_before_heif_convert_runs() -> TestResult {
    let limits = RenderLimits::default();
    let iphone_24mp = fixtures::heic_header(5712, 4284);
    assert!(limits.check_memory(MediaKind::Heif, &iphone_24mp).is_ok());
    let iphone_48mp = fixtures::heic_header(8064, 6048);
    let refused = limits.check_memory(MediaKind::Heif, &iphone_48mp);
    assert!(
        matches!(refused, Err(RenderError::TooLargeToDecode { .. })),
        "{refused:?}"
    );
    // The same when the size is found past the head: render_versions refuses
    // before looking for heif-convert.
    let dir = tempfile::tempdir()?;
    let path = padded(dir.path(), "48mp.heic", &iphone_48mp, 0)?;
    let rendered = render_versions(MediaKind::Heif, &path, 0, &VersionSpec::defaults(), &limits);
    assert!(
        matches!(rendered, Err(RenderError::TooLargeToDecode { .. })),
        "{:?}",
        rendered.err()
    );
    Ok(())
}
