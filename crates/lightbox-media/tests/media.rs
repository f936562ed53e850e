//! Sniffing, header sizes, embedded metadata and versions over real files made
//! by `lightbox_media::fixtures`.

use lightbox_media::fixtures::{self, FixtureMeta};
use lightbox_media::{
    MediaKind, RenderError, RenderLimits, VersionSpec, header_dimensions, probe_video_bytes,
    read_embedded, render_bytes, render_versions, sniff,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn sniffs_every_kind() {
    assert_eq!(sniff(&fixtures::jpeg(16, 16)), Some(MediaKind::Jpeg));
    assert_eq!(sniff(&fixtures::png(16, 16)), Some(MediaKind::Png));
    assert_eq!(sniff(&fixtures::webp(16, 16)), Some(MediaKind::Webp));
    assert_eq!(sniff(&fixtures::gif(16, 16)), Some(MediaKind::Gif));
    assert_eq!(sniff(&fixtures::tiff(16, 16)), Some(MediaKind::Tiff));
    assert_eq!(sniff(&fixtures::heic_header(16, 16)), Some(MediaKind::Heif));
    assert_eq!(sniff(&fixtures::mp4_minimal()), Some(MediaKind::Mp4));
    let mut mov = fixtures::mp4_minimal();
    mov[8..12].copy_from_slice(b"qt  ");
    assert_eq!(sniff(&mov), Some(MediaKind::Mov));
    for kind in MediaKind::ALL {
        assert_eq!(MediaKind::parse(kind.as_str()), Some(kind));
        assert_eq!(kind.is_video(), kind.content_type().starts_with("video/"));
    }
}

#[test]
fn refuses_what_is_not_media() {
    assert_eq!(sniff(b""), None);
    assert_eq!(sniff(b"this is text named photo.jpg\n"), None);
    assert_eq!(sniff(b"<html><body>not an image</body></html>"), None);
    // Truncated signatures.
    assert_eq!(sniff(&[0xFF, 0xD8]), None);
    assert_eq!(sniff(b"\x89PNG\r\n"), None);
    assert_eq!(sniff(b"RIFF\0\0\0\0WEB"), None);
    assert_eq!(sniff(b"GIF8"), None);
    assert_eq!(sniff(b"II*"), None);
    assert_eq!(sniff(b"\0\0\0\x18ftyp"), None);
    // AVIF shares HEIF's container but is not accepted.
    let mut avif = fixtures::heic_header(16, 16);
    avif[8..12].copy_from_slice(b"avif");
    assert_eq!(sniff(&avif), None);
    let mut mif1_avif = fixtures::heic_header(16, 16);
    mif1_avif[8..12].copy_from_slice(b"mif1");
    mif1_avif[16..20].copy_from_slice(b"avif");
    assert_eq!(sniff(&mif1_avif), None);
}

#[test]
fn header_dimensions_of_every_format() {
    let cases = [
        (MediaKind::Jpeg, fixtures::jpeg(123, 45)),
        (MediaKind::Png, fixtures::png(123, 45)),
        (MediaKind::Webp, fixtures::webp(123, 45)),
        (MediaKind::Gif, fixtures::gif(123, 45)),
        (MediaKind::Tiff, fixtures::tiff(123, 45)),
        (MediaKind::Heif, fixtures::heic_header(123, 45)),
        (
            MediaKind::Jpeg,
            fixtures::jpeg_with_metadata(123, 45, &meta()),
        ),
    ];
    for (kind, bytes) in cases {
        assert_eq!(sniff(&bytes), Some(kind));
        assert_eq!(header_dimensions(kind, &bytes), Some((123, 45)), "{kind}");
    }
    assert_eq!(
        header_dimensions(MediaKind::Mp4, &fixtures::mp4_minimal()),
        Some((640, 480))
    );
    assert_eq!(
        header_dimensions(MediaKind::Png, &fixtures::pixel_bomb_png(30_000, 30_000)),
        Some((30_000, 30_000))
    );
    assert_eq!(
        header_dimensions(MediaKind::Jpeg, &fixtures::truncated_jpeg()),
        None
    );
}

fn meta() -> FixtureMeta<'static> {
    FixtureMeta {
        orientation: Some(6),
        gps: Some((-33.8568, -151.2153)),
        taken_at: Some("2024:07:14 21:30:05"),
        offset: Some("+10:00"),
        make: Some("Fujifilm"),
        model: Some("X-T5"),
        lens: Some("XF16-55mmF2.8 R LM WR"),
        iso: Some(400),
        caption: Some("Opera House at dusk, from the ferry"),
        keywords: &["sydney", "harbour", "artist:Marina", "sydney"],
        creator: Some("Marina Ortiz"),
        copyright: Some("© 2024 Marina Ortiz"),
        title: Some("Sydney, blue hour"),
    }
}

#[test]
fn reads_every_embedded_field() {
    let jpeg = fixtures::jpeg_with_metadata(64, 48, &meta());
    let e = read_embedded(MediaKind::Jpeg, &jpeg);
    assert_eq!(e.exif.get("Make"), Some(&"Fujifilm".into()));
    assert_eq!(e.exif.get("Model"), Some(&"X-T5".into()));
    assert_eq!(
        e.exif.get("LensModel"),
        Some(&"XF16-55mmF2.8 R LM WR".into())
    );
    assert_eq!(e.exif.get("ISO"), Some(&400.into()));
    assert_eq!(e.exif.get("ExposureTime"), Some(&"1/250".into()));
    assert_eq!(e.exif.get("FNumber"), Some(&serde_json::json!(2.8)));
    assert_eq!(e.exif.get("FocalLength"), Some(&50.into()));
    assert_eq!(
        e.exif.get("DateTimeOriginal"),
        Some(&"2024:07:14 21:30:05".into())
    );
    assert_eq!(e.exif.get("Orientation"), Some(&6.into()));
    assert_eq!(e.orientation, Some(6));
    let (lat, lng) = e.geo.ok_or("no geo").unwrap_or((0.0, 0.0));
    assert!((lat + 33.8568).abs() < 1e-6, "{lat}");
    assert!((lng + 151.2153).abs() < 1e-6, "{lng}");
    assert_eq!(e.taken_at.as_deref(), Some("2024-07-14T21:30:05+10:00"));
    assert_eq!(e.title.as_deref(), Some("Sydney, blue hour"));
    assert_eq!(
        e.caption.as_deref(),
        Some("Opera House at dusk, from the ferry")
    );
    assert_eq!(e.keywords, ["sydney", "harbour", "artist:Marina"]);
    assert_eq!(
        e.iptc.get("caption").map(String::as_str),
        Some("Opera House at dusk, from the ferry")
    );
    assert_eq!(
        e.iptc.get("creator").map(String::as_str),
        Some("Marina Ortiz")
    );
    assert_eq!(
        e.iptc.get("copyright_notice").map(String::as_str),
        Some("© 2024 Marina Ortiz")
    );
}

#[test]
fn local_time_without_offset_and_northern_eastern_signs() {
    let m = FixtureMeta {
        gps: Some((48.8584, 2.2945)),
        taken_at: Some("2023:01:02 03:04:05"),
        title: None,
        ..FixtureMeta::default()
    };
    let e = read_embedded(MediaKind::Jpeg, &fixtures::jpeg_with_metadata(32, 32, &m));
    assert_eq!(e.taken_at.as_deref(), Some("2023-01-02T03:04:05"));
    let (lat, lng) = e.geo.unwrap_or((0.0, 0.0));
    assert!((lat - 48.8584).abs() < 1e-6 && (lng - 2.2945).abs() < 1e-6);
    assert_eq!(e.title, None);
    assert!(e.keywords.is_empty());
}

#[test]
fn plain_files_have_no_metadata() {
    for (kind, bytes) in [
        (MediaKind::Jpeg, fixtures::jpeg(16, 16)),
        (MediaKind::Png, fixtures::png(16, 16)),
        (MediaKind::Webp, fixtures::webp(16, 16)),
        (MediaKind::Gif, fixtures::gif(16, 16)),
        (MediaKind::Tiff, fixtures::tiff(16, 16)),
    ] {
        let e = read_embedded(kind, &bytes);
        assert_eq!(e.orientation, None, "{kind}");
        assert_eq!(e.geo, None);
        assert!(e.keywords.is_empty());
    }
}

fn sizes(r: &lightbox_media::Rendered) -> Vec<(String, u32, u32)> {
    r.versions
        .iter()
        .map(|v| (v.name.clone(), v.width, v.height))
        .collect()
}

fn specs(edges: &[(&str, u32)]) -> Vec<VersionSpec> {
    edges
        .iter()
        .map(|(n, e)| VersionSpec::new(*n, *e))
        .collect()
}

#[test]
fn versions_have_the_right_sizes_and_are_real_jpegs() -> TestResult {
    let jpeg = fixtures::jpeg(1200, 800);
    let r = render_bytes(
        MediaKind::Jpeg,
        &jpeg,
        0,
        &specs(&[("thumbnail", 320), ("small", 640), ("big", 5000)]),
        &RenderLimits::default(),
    )?;
    assert_eq!((r.width, r.height), (1200, 800));
    assert_eq!(
        sizes(&r),
        [
            ("thumbnail".into(), 320, 213),
            ("small".into(), 640, 427),
            // Never upscaled.
            ("big".into(), 1200, 800),
        ]
    );
    for v in &r.versions {
        assert_eq!(v.content_type, "image/jpeg");
        assert_eq!(sniff(&v.bytes), Some(MediaKind::Jpeg));
        assert_eq!(
            header_dimensions(MediaKind::Jpeg, &v.bytes),
            Some((v.width, v.height))
        );
    }
    Ok(())
}

#[test]
fn orientation_and_rotation_turn_the_versions() -> TestResult {
    let s = specs(&[("thumbnail", 200), ("same", 400)]);
    let lim = RenderLimits::default();
    let plain = fixtures::jpeg(400, 300);
    let six = fixtures::jpeg_with_metadata(
        400,
        300,
        &FixtureMeta {
            orientation: Some(6),
            ..FixtureMeta::default()
        },
    );
    // Orientation 6: 400×300 stored, 300×400 upright.
    let r = render_bytes(MediaKind::Jpeg, &six, 0, &s, &lim)?;
    assert_eq!((r.width, r.height), (300, 400));
    assert_eq!(
        sizes(&r),
        [("thumbnail".into(), 150, 200), ("same".into(), 300, 400)]
    );
    // Rotation 90 alone does the same.
    let r = render_bytes(MediaKind::Jpeg, &plain, 90, &s, &lim)?;
    assert_eq!((r.width, r.height), (300, 400));
    assert_eq!(sizes(&r)[1], ("same".into(), 300, 400));
    // Both: 6 then 90 more = 180 from stored, landscape again.
    let r = render_bytes(MediaKind::Jpeg, &six, 90, &s, &lim)?;
    assert_eq!((r.width, r.height), (400, 300));
    assert_eq!(sizes(&r)[1], ("same".into(), 400, 300));
    // Rotation 180 keeps the shape.
    let r = render_bytes(MediaKind::Jpeg, &plain, 180, &s, &lim)?;
    assert_eq!((r.width, r.height), (400, 300));
    // Anything but a right angle is refused.
    assert!(matches!(
        render_bytes(MediaKind::Jpeg, &plain, 45, &s, &lim),
        Err(RenderError::Unsupported(_))
    ));
    Ok(())
}

/// The rotated pixels are where they should be: a picture whose left half is
/// black and right half white, turned 90° clockwise, has its top black.
#[test]
fn rotation_moves_pixels_clockwise() -> TestResult {
    let (w, h) = (64u32, 32u32);
    let mut px = vec![0u8; (w * h * 3) as usize];
    for y in 0..h {
        for x in w / 2..w {
            let i = ((y * w + x) * 3) as usize;
            px[i..i + 3].copy_from_slice(&[255, 255, 255]);
        }
    }
    let img = image::RgbImage::from_raw(w, h, px).ok_or("buffer")?;
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut png, image::ImageFormat::Png)?;
    let r = render_bytes(
        MediaKind::Png,
        png.get_ref(),
        90,
        &specs(&[("v", 64)]),
        &RenderLimits::default(),
    )?;
    let v = &r.versions[0];
    assert_eq!((v.width, v.height), (32, 64));
    let out = image::load_from_memory(&v.bytes)?.into_rgb8();
    let top = out.get_pixel(16, 4).0[0];
    let bottom = out.get_pixel(16, 60).0[0];
    assert!(top < 60 && bottom > 200, "top {top} bottom {bottom}");
    Ok(())
}

#[test]
fn pixel_bomb_is_refused_before_decoding() -> TestResult {
    let bomb = fixtures::pixel_bomb_png(30_000, 30_000);
    assert!(bomb.len() < 4096, "{} bytes", bomb.len());
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bomb.png");
    std::fs::write(&path, &bomb)?;
    let started = std::time::Instant::now();
    let err = render_versions(
        MediaKind::Png,
        &path,
        0,
        &VersionSpec::defaults(),
        &RenderLimits::default(),
    );
    assert!(
        matches!(
            err,
            Err(RenderError::TooManyPixels {
                width: 30_000,
                height: 30_000
            })
        ),
        "{err:?}"
    );
    assert!(started.elapsed().as_secs() < 2);
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("30000×30000"), "{msg}");
    // A lower limit refuses smaller pictures the same way.
    let small = fixtures::jpeg(200, 200);
    assert!(matches!(
        render_bytes(
            MediaKind::Jpeg,
            &small,
            0,
            &VersionSpec::defaults(),
            &RenderLimits {
                max_pixels: 10_000,
                ..RenderLimits::default()
            }
        ),
        Err(RenderError::TooManyPixels { .. })
    ));
    Ok(())
}

#[test]
fn truncated_jpeg_is_an_error_not_a_panic() {
    let r = render_bytes(
        MediaKind::Jpeg,
        &fixtures::truncated_jpeg(),
        0,
        &VersionSpec::defaults(),
        &RenderLimits::default(),
    );
    assert!(matches!(r, Err(RenderError::Decode(_))), "{r:?}");
    // Cut in the middle of the scan: an error or a picture, never a panic.
    let _ = render_bytes(
        MediaKind::Jpeg,
        &fixtures::jpeg_cut_in_scan(),
        0,
        &VersionSpec::defaults(),
        &RenderLimits::default(),
    );
    // Garbage after a JPEG signature.
    let r = render_bytes(
        MediaKind::Jpeg,
        b"\xFF\xD8\xFF\xE0garbage",
        0,
        &VersionSpec::defaults(),
        &RenderLimits::default(),
    );
    assert!(r.is_err());
}

#[test]
fn other_formats_render() -> TestResult {
    let s = specs(&[("thumbnail", 100), ("small", 200)]);
    for (kind, bytes) in [
        (MediaKind::Png, fixtures::png(300, 200)),
        (MediaKind::Webp, fixtures::webp(300, 200)),
        (MediaKind::Gif, fixtures::gif(300, 200)),
        (MediaKind::Tiff, fixtures::tiff(300, 200)),
    ] {
        let r = render_bytes(kind, &bytes, 0, &s, &RenderLimits::default())?;
        assert_eq!((r.width, r.height), (300, 200), "{kind}");
        assert_eq!(
            sizes(&r),
            [("thumbnail".into(), 100, 67), ("small".into(), 200, 133)],
            "{kind}"
        );
        for v in &r.versions {
            let sniffed = sniff(&v.bytes).ok_or("unsniffable version")?;
            assert_eq!(sniffed.content_type(), v.content_type);
            let decoded = image::load_from_memory(&v.bytes)?;
            assert_eq!((decoded.width(), decoded.height()), (v.width, v.height));
        }
    }
    Ok(())
}

#[test]
fn transparency_is_kept_as_webp() -> TestResult {
    let r = render_bytes(
        MediaKind::Png,
        &fixtures::png_with_alpha(200, 100),
        0,
        &specs(&[("small", 100)]),
        &RenderLimits::default(),
    )?;
    assert_eq!(r.versions[0].content_type, "image/webp");
    let img = image::load_from_memory(&r.versions[0].bytes)?.into_rgba8();
    assert!(img.get_pixel(95, 25).0[3] < 40);
    Ok(())
}

#[test]
fn heif_is_sniffed_but_not_rendered() {
    let r = render_bytes(
        MediaKind::Heif,
        &fixtures::heic_header(64, 64),
        0,
        &VersionSpec::defaults(),
        &RenderLimits::default(),
    );
    assert!(matches!(r, Err(RenderError::Unsupported(_))), "{r:?}");
}

#[test]
fn probes_the_minimal_mp4() -> TestResult {
    let info = probe_video_bytes(&fixtures::mp4_minimal());
    assert_eq!((info.width, info.height), (Some(640), Some(480)));
    assert_eq!(info.duration_secs, Some(2.5));
    assert_eq!(info.taken_at.as_deref(), Some("2024-07-14T19:30:05Z"));
    assert_eq!(info.geo, Some((48.8584, 2.2945)));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, fixtures::mp4_minimal())?;
    assert_eq!(lightbox_media::probe_video(&path), info);
    assert_eq!(
        lightbox_media::probe_video(&dir.path().join("missing.mp4")),
        Default::default()
    );
    Ok(())
}
