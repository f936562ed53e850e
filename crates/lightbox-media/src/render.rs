//! Versions: the resized, upright, sRGB 8-bit JPEGs (or WebPs) served in place
//! of an original.
//!
//! Blocking CPU work; the server runs [`render_versions`] in `spawn_blocking`.
//! One job uses one core: libjpeg-turbo, the resizer and the encoders all run
//! on the calling thread.
//!
//! How a 24-megapixel JPEG stays fast and small in memory:
//! - the pixel count is checked from the header before anything is decoded;
//! - JPEGs are decoded by libjpeg-turbo with DCT-domain scaling
//!   ("shrink-on-load"): a 6000×4000 original whose largest version is 2560
//!   wide is decoded straight to 3000×2000, a quarter of the pixels;
//! - versions are made largest first, each from the previous one (a resize
//!   costs in proportion to its source, so 2560 → 1280 → 640 → 320 is far
//!   cheaper than four resizes of the full picture);
//! - orientation and rotation are applied to each small version, not to the
//!   big decoded picture.
//!
//! Colour: pixels leave in sRGB. An embedded ICC profile that is not sRGB
//! (Adobe RGB, Display P3, ProPhoto…) is converted with `moxcms` (pure Rust)
//! before resizing; versions carry no profile (sRGB implied).
//!
//! Format: JPEG (quality 82, 4:2:0, optimised Huffman tables, baseline) for
//! photographs. For PNG, GIF and WebP originals (graphics, screenshots,
//! transparency) a lossless WebP is also encoded and kept when it is smaller,
//! and always when the picture has transparency (JPEG cannot keep it).
//! Lossless WebP of a photograph is 3–6× the JPEG's size, and a lossy WebP
//! encoder would mean libwebp (C); see docs/performance.md for the figures.

use std::io::Read;
use std::path::Path;

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, metadata::Orientation};

use crate::metadata;
use crate::sniff::{self, MediaKind};

/// One version to build: its name and the length of its long edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSpec {
    pub name: String,
    pub long_edge: u32,
}

impl VersionSpec {
    pub fn new(name: impl Into<String>, long_edge: u32) -> Self {
        VersionSpec {
            name: name.into(),
            long_edge,
        }
    }

    /// thumbnail 320, small 640, medium 1280, large 2560 (the default profile).
    pub fn defaults() -> Vec<VersionSpec> {
        vec![
            VersionSpec::new("thumbnail", 320),
            VersionSpec::new("small", 640),
            VersionSpec::new("medium", 1280),
            VersionSpec::new("large", 2560),
        ]
    }
}

/// One built version.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedVersion {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// `image/jpeg` or `image/webp`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for RenderedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedVersion")
            .field("name", &self.name)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Every version of one original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Of the upright original, after orientation and rotation.
    pub width: u32,
    pub height: u32,
    /// In the order of the specs.
    pub versions: Vec<RenderedVersion>,
}

/// What a render may take on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Largest width × height decoded (default 200 000 000).
    pub max_pixels: u64,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_pixels: 200_000_000,
        }
    }
}

impl RenderLimits {
    /// Err(TooManyPixels) when `width × height` is over the limit.
    pub fn check(&self, width: u32, height: u32) -> Result<(), RenderError> {
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(RenderError::TooManyPixels { width, height });
        }
        Ok(())
    }
}

/// Why versions could not be built. `Display` is the reason shown to people.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the image is {width}×{height} pixels, more than this server decodes")]
    TooManyPixels { width: u32, height: u32 },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("the file could not be decoded: {0}")]
    Decode(String),
    #[error("the version could not be encoded: {0}")]
    Encode(String),
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// JPEG quality of versions.
pub const JPEG_QUALITY: i32 = 82;

/// Decoded pixels, 8-bit RGB (3 channels) or RGBA (4), as stored (before orientation).
pub(crate) struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

/// Builds every version from the original file at `path`: honours the EXIF
/// orientation and then the extra clockwise `rotation` (0/90/180/270), never
/// upscales, outputs sRGB 8-bit. GIF: the first frame. The pixel count is
/// checked against `limits` before any pixel is decoded.
pub fn render_versions(
    kind: MediaKind,
    path: &Path,
    rotation: u16,
    specs: &[VersionSpec],
    limits: &RenderLimits,
) -> Result<Rendered, RenderError> {
    if kind.is_video() {
        return Err(RenderError::Unsupported(
            "videos are rendered by render_video_versions".into(),
        ));
    }
    let mut file = std::fs::File::open(path)?;
    let mut data = Vec::new();
    (&mut file)
        .take(metadata::HEAD_LEN as u64)
        .read_to_end(&mut data)?;
    if let Some((w, h)) = sniff::header_dimensions(kind, &data) {
        limits.check(w, h)?;
    }
    if kind == MediaKind::Heif {
        drop(file);
        return crate::heif::render_heif_versions(path, rotation, specs, limits);
    }
    file.read_to_end(&mut data)?;
    render_bytes(kind, &data, rotation, specs, limits)
}

/// [`render_versions`] over bytes in memory.
pub fn render_bytes(
    kind: MediaKind,
    data: &[u8],
    rotation: u16,
    specs: &[VersionSpec],
    limits: &RenderLimits,
) -> Result<Rendered, RenderError> {
    let rotation = match rotation % 360 {
        r @ (0 | 90 | 180 | 270) => r,
        other => {
            return Err(RenderError::Unsupported(format!(
                "rotation {other} (only 0, 90, 180 or 270)"
            )));
        }
    };
    if let Some((w, h)) = sniff::header_dimensions(kind, data) {
        limits.check(w, h)?;
    }
    let head = &data[..data.len().min(metadata::HEAD_LEN)];
    let orientation = metadata::read_embedded(kind, head).orientation.unwrap_or(1);
    let wanted = specs.iter().map(|s| s.long_edge).max().unwrap_or(0);
    let (pixels, full) = decode(kind, data, wanted, limits)?;
    let icc = metadata::icc_profile(kind, head);
    let mut pixels = pixels;
    if let Some(icc) = icc {
        to_srgb(&mut pixels, &icc);
    }
    build_versions(pixels, full, orientation, rotation, specs, kind)
}

/// Whether the pixels are transposed (width and height swapped) by this orientation + rotation.
fn transposes(orientation: u16, rotation: u16) -> bool {
    matches!(orientation, 5..=8) ^ matches!(rotation, 90 | 270)
}

pub(crate) fn build_versions(
    pixels: Pixels,
    full: (u32, u32),
    orientation: u16,
    rotation: u16,
    specs: &[VersionSpec],
    kind: MediaKind,
) -> Result<Rendered, RenderError> {
    let swap = transposes(orientation, rotation);
    let (uw, uh) = if swap { (full.1, full.0) } else { full };
    let upright_long = uw.max(uh).max(1);
    let try_webp = matches!(kind, MediaKind::Png | MediaKind::Gif | MediaKind::Webp);
    let has_alpha = pixels.channels == 4;

    // Largest first, each from the one before.
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(specs.get(*i).map_or(0, |s| s.long_edge)));
    let mut out: Vec<Option<RenderedVersion>> = vec![None; specs.len()];
    let mut resizer = fr::Resizer::new();
    let mut source = pixels;
    for i in order {
        let Some(spec) = specs.get(i) else { continue };
        let long = spec.long_edge.clamp(1, upright_long);
        let (tw, th) = fit(uw, uh, long);
        let (sw, sh) = if swap { (th, tw) } else { (tw, th) };
        if (sw, sh) != (source.width, source.height) {
            source = resize(&mut resizer, &source, sw, sh)?;
        }
        let upright = orient(&source, orientation, rotation)?;
        let (w, h) = (upright.width, upright.height);
        let (content_type, bytes) = encode(&upright, try_webp, has_alpha)?;
        out[i] = Some(RenderedVersion {
            name: spec.name.clone(),
            width: w,
            height: h,
            content_type,
            bytes,
        });
    }
    Ok(Rendered {
        width: uw,
        height: uh,
        versions: out.into_iter().flatten().collect(),
    })
}

/// The size of a picture `w × h` whose long edge becomes `long` (never 0).
pub fn fit(w: u32, h: u32, long: u32) -> (u32, u32) {
    let (w64, h64, l64) = (u64::from(w.max(1)), u64::from(h.max(1)), u64::from(long));
    let (nw, nh) = if w64 >= h64 {
        (l64, (h64 * l64 + w64 / 2) / w64)
    } else {
        ((w64 * l64 + h64 / 2) / h64, l64)
    };
    (
        u32::try_from(nw.max(1)).unwrap_or(u32::MAX),
        u32::try_from(nh.max(1)).unwrap_or(u32::MAX),
    )
}

fn decode(
    kind: MediaKind,
    data: &[u8],
    wanted_long: u32,
    limits: &RenderLimits,
) -> Result<(Pixels, (u32, u32)), RenderError> {
    match kind {
        MediaKind::Jpeg => match decode_jpeg_turbo(data, wanted_long, limits) {
            Ok(p) => Ok(p),
            Err(e @ RenderError::TooManyPixels { .. }) => Err(e),
            // libjpeg-turbo treats warnings (a few corrupt bytes) as errors, and
            // does not do CMYK: the pure-Rust decoder is more forgiving.
            Err(turbo) => decode_generic(kind, data, limits).map_err(|e| match e {
                RenderError::Decode(_) => turbo,
                other => other,
            }),
        },
        MediaKind::Png | MediaKind::Webp | MediaKind::Tiff | MediaKind::Gif => {
            decode_generic(kind, data, limits)
        }
        MediaKind::Heif => Err(RenderError::Unsupported(
            "HEIC/HEIF images cannot be decoded by this server yet".into(),
        )),
        MediaKind::Mp4 | MediaKind::Mov => Err(RenderError::Unsupported(
            "videos are rendered by render_video_versions".into(),
        )),
    }
}

fn decode_jpeg_turbo(
    data: &[u8],
    wanted_long: u32,
    limits: &RenderLimits,
) -> Result<(Pixels, (u32, u32)), RenderError> {
    let derr = |e: turbojpeg::Error| RenderError::Decode(e.to_string());
    let mut d = turbojpeg::Decompressor::new().map_err(derr)?;
    let header = d.read_header(data).map_err(derr)?;
    let (w, h) = (
        u32::try_from(header.width).unwrap_or(u32::MAX),
        u32::try_from(header.height).unwrap_or(u32::MAX),
    );
    limits.check(w, h)?;
    if matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    ) {
        return Err(RenderError::Decode("CMYK JPEG".into()));
    }
    let long = header.width.max(header.height);
    let mut factor = turbojpeg::ScalingFactor::ONE;
    if !header.is_lossless {
        let mut factors: Vec<_> = turbojpeg::Decompressor::supported_scaling_factors()
            .into_iter()
            .filter(|f| f.num() <= f.denom())
            .collect();
        factors.sort_by(|a, b| (a.num() * b.denom()).cmp(&(b.num() * a.denom())));
        if let Some(f) = factors
            .into_iter()
            .find(|f| f.scale(long) >= wanted_long as usize)
        {
            factor = f;
        }
    }
    d.set_scaling_factor(factor).map_err(derr)?;
    let scaled = header.scaled(factor);
    let (sw, sh) = (scaled.width, scaled.height);
    let mut pixels = vec![
        0u8;
        sw.checked_mul(sh)
            .and_then(|n| n.checked_mul(3))
            .unwrap_or(0)
    ];
    let image = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: sw,
        pitch: sw * 3,
        height: sh,
        format: turbojpeg::PixelFormat::RGB,
    };
    d.decompress(data, image).map_err(derr)?;
    Ok((
        Pixels {
            width: u32::try_from(sw).unwrap_or(0),
            height: u32::try_from(sh).unwrap_or(0),
            channels: 3,
            data: pixels,
        },
        (w, h),
    ))
}

fn decode_generic(
    kind: MediaKind,
    data: &[u8],
    limits: &RenderLimits,
) -> Result<(Pixels, (u32, u32)), RenderError> {
    let format = match kind {
        MediaKind::Jpeg => image::ImageFormat::Jpeg,
        MediaKind::Png => image::ImageFormat::Png,
        MediaKind::Webp => image::ImageFormat::WebP,
        MediaKind::Tiff => image::ImageFormat::Tiff,
        MediaKind::Gif => image::ImageFormat::Gif,
        other => return Err(RenderError::Unsupported(format!("decoding {other}"))),
    };
    let derr = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => RenderError::Decode(format!("over the limits: {l}")),
        image::ImageError::Unsupported(u) => RenderError::Unsupported(u.to_string()),
        other => RenderError::Decode(other.to_string()),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(data), format);
    let mut lim = image::Limits::default();
    // The pixel limit is checked below from the decoder's header; this bounds
    // everything else (16-bit RGBA of the largest accepted picture).
    lim.max_alloc = Some(limits.max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(lim);
    let decoder = reader.into_decoder().map_err(derr)?;
    let (w, h) = decoder.dimensions();
    limits.check(w, h)?;
    let img = DynamicImage::from_decoder(decoder).map_err(derr)?;
    let pixels = if img.color().has_alpha() {
        let rgba = img.into_rgba8();
        if rgba.pixels().all(|p| p.0[3] == 255) {
            let rgb = DynamicImage::ImageRgba8(rgba).into_rgb8();
            Pixels {
                width: w,
                height: h,
                channels: 3,
                data: rgb.into_raw(),
            }
        } else {
            Pixels {
                width: w,
                height: h,
                channels: 4,
                data: rgba.into_raw(),
            }
        }
    } else {
        Pixels {
            width: w,
            height: h,
            channels: 3,
            data: img.into_rgb8().into_raw(),
        }
    };
    Ok((pixels, (w, h)))
}

/// Converts the pixels to sRGB when `icc` is an RGB profile other than sRGB.
/// A profile that cannot be read is ignored (the pixels are taken as sRGB).
fn to_srgb(p: &mut Pixels, icc: &[u8]) {
    if icc.windows(4).any(|w| w == b"sRGB") {
        return;
    }
    let Ok(profile) = moxcms::ColorProfile::new_from_slice(icc) else {
        return;
    };
    if profile.color_space != moxcms::DataColorSpace::Rgb {
        return;
    }
    let layout = if p.channels == 4 {
        moxcms::Layout::Rgba
    } else {
        moxcms::Layout::Rgb
    };
    let srgb = moxcms::ColorProfile::new_srgb();
    let Ok(t) =
        profile.create_transform_8bit(layout, &srgb, layout, moxcms::TransformOptions::default())
    else {
        return;
    };
    let row = p.width as usize * usize::from(p.channels);
    if row == 0 {
        return;
    }
    let mut out = vec![0u8; row];
    for line in p.data.chunks_exact_mut(row) {
        if t.transform(line, &mut out).is_ok() {
            line.copy_from_slice(&out);
        }
    }
}

fn resize(resizer: &mut fr::Resizer, src: &Pixels, w: u32, h: u32) -> Result<Pixels, RenderError> {
    let rerr = |e: &dyn std::fmt::Display| RenderError::Encode(format!("resize: {e}"));
    let pt = if src.channels == 4 {
        fr::PixelType::U8x4
    } else {
        fr::PixelType::U8x3
    };
    let src_img =
        fr::images::ImageRef::new(src.width, src.height, &src.data, pt).map_err(|e| rerr(&e))?;
    let mut dst = fr::images::Image::new(w, h, pt);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    resizer
        .resize(&src_img, &mut dst, &options)
        .map_err(|e| rerr(&e))?;
    Ok(Pixels {
        width: w,
        height: h,
        channels: src.channels,
        data: dst.into_vec(),
    })
}

/// Applies the EXIF orientation and then the clockwise rotation (copying).
fn orient(p: &Pixels, orientation: u16, rotation: u16) -> Result<Pixels, RenderError> {
    let o = u8::try_from(orientation)
        .ok()
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let r = match rotation {
        90 => Orientation::Rotate90,
        180 => Orientation::Rotate180,
        270 => Orientation::Rotate270,
        _ => Orientation::NoTransforms,
    };
    if o == Orientation::NoTransforms && r == Orientation::NoTransforms {
        return Ok(Pixels {
            width: p.width,
            height: p.height,
            channels: p.channels,
            data: p.data.clone(),
        });
    }
    let bad = || RenderError::Encode("pixel buffer of the wrong size".into());
    let mut img = if p.channels == 4 {
        DynamicImage::ImageRgba8(
            image::RgbaImage::from_raw(p.width, p.height, p.data.clone()).ok_or_else(bad)?,
        )
    } else {
        DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(p.width, p.height, p.data.clone()).ok_or_else(bad)?,
        )
    };
    img.apply_orientation(o);
    img.apply_orientation(r);
    Ok(Pixels {
        width: img.width(),
        height: img.height(),
        channels: p.channels,
        data: img.into_bytes(),
    })
}

fn encode(
    p: &Pixels,
    try_webp: bool,
    has_alpha: bool,
) -> Result<(&'static str, Vec<u8>), RenderError> {
    if has_alpha && p.channels == 4 {
        return Ok(("image/webp", encode_webp_lossless(p)?));
    }
    let jpeg = encode_jpeg(p)?;
    if try_webp {
        let webp = encode_webp_lossless(p)?;
        if webp.len() < jpeg.len() {
            return Ok(("image/webp", webp));
        }
    }
    Ok(("image/jpeg", jpeg))
}

pub(crate) fn encode_jpeg(p: &Pixels) -> Result<Vec<u8>, RenderError> {
    let eerr = |e: turbojpeg::Error| RenderError::Encode(e.to_string());
    let flattened;
    let (data, format) = if p.channels == 4 {
        // JPEG has no alpha: onto white.
        flattened = p
            .data
            .chunks_exact(4)
            .flat_map(|px| {
                let a = u16::from(px[3]);
                let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
                [over(px[0]), over(px[1]), over(px[2])]
            })
            .collect::<Vec<u8>>();
        (flattened.as_slice(), turbojpeg::PixelFormat::RGB)
    } else {
        (p.data.as_slice(), turbojpeg::PixelFormat::RGB)
    };
    let mut c = turbojpeg::Compressor::new().map_err(eerr)?;
    c.set_quality(JPEG_QUALITY).map_err(eerr)?;
    c.set_subsamp(turbojpeg::Subsamp::Sub2x2).map_err(eerr)?;
    c.set_optimize(true).map_err(eerr)?;
    let w = p.width as usize;
    c.compress_to_vec(turbojpeg::Image {
        pixels: data,
        width: w,
        pitch: w * 3,
        height: p.height as usize,
        format,
    })
    .map_err(eerr)
}

fn encode_webp_lossless(p: &Pixels) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    let color = if p.channels == 4 {
        image::ExtendedColorType::Rgba8
    } else {
        image::ExtendedColorType::Rgb8
    };
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(&p.data, p.width, p.height, color)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}
