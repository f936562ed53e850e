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
