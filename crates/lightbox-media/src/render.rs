//! Versions: the resized, upright, sRGB 8-bit JPEGs (or WebPs) served in place
//! of an original.
//!
//! Blocking CPU work; the server runs [`render_versions`] in `spawn_blocking`.
//! One job uses one core: the JPEG decoder, the resizer and the encoders all
//! run on the calling thread. All of it is pure Rust: building needs no
//! system package.
//!
//! How a 24-megapixel JPEG stays fast and small in memory:
//! - the pixel count is checked from the header before anything is decoded;
//! - JPEGs are decoded with DCT-domain scaling ("shrink-on-load", the
//!   `jpeg-decoder` crate): a 6000×4000 original whose largest version is
//!   2560 wide is decoded straight to 3000×2000, a quarter of the pixels;
//! - the original is read as it is decoded, never whole: what follows the
//!   picture in the file is not read at all;
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

use std::io::{BufRead, Read, Seek, SeekFrom};
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
    /// Most bytes the decoded picture may need before it is resized (default
    /// [`DECODE_MEMORY`]). JPEGs (decoded scaled) and PNGs (reduced row by row)
    /// stay far under it at any size; a format decoded whole over it is refused.
    pub max_decode_bytes: u64,
}

/// The decode budget that keeps a version job under 256 MB in all: the
/// decoded picture, its first resize and the encoders' buffers.
pub const DECODE_MEMORY: u64 = 160 << 20;

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_pixels: 200_000_000,
            max_decode_bytes: DECODE_MEMORY,
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

impl RenderLimits {
    /// Err(TooLargeToDecode) when decoding this picture whole would take more
    /// than the decode budget; `head` is the file's first bytes.
    pub fn check_memory(&self, kind: MediaKind, head: &[u8]) -> Result<(), RenderError> {
        let Some((w, h)) = sniff::header_dimensions(kind, head) else {
            return Ok(());
        };
        let pixels = u64::from(w) * u64::from(h);
        let needed = match kind {
            // Decoded scaled, or reduced as the rows arrive.
            MediaKind::Jpeg => match sniff::jpeg_frame(head) {
                Some(f) if f.progressive => {
                    progressive_jpeg_memory(pixels, f.samples_per_64_pixels)
                }
                _ => 0,
            },
            MediaKind::Png if head.get(28) == Some(&0) => 0,
            // Decoded whole, as up to 16-bit RGBA, then converted to 8-bit.
            MediaKind::Png | MediaKind::Webp | MediaKind::Tiff | MediaKind::Gif => pixels * 8,
            MediaKind::Heif => return self.check_heif_memory(w, h),
            // Posters: ffmpeg scales as it decodes one frame.
            MediaKind::Mp4 | MediaKind::Mov => 0,
        };
        self.within(w, h, needed, self.max_decode_bytes)
    }

    /// heif-convert decodes the whole picture in its own process (measured:
    /// 94 MB for 12 MP, about 8 bytes a pixel) while this one only reduces
    /// the PNG it writes. The child may use the job's 256 MiB less the 32 MiB
    /// this process holds meanwhile: 1.4 × the decode budget (224 MiB by
    /// default, HEIFs up to about 29 MP).
    pub fn check_heif_memory(&self, w: u32, h: u32) -> Result<(), RenderError> {
        let needed = u64::from(w) * u64::from(h) * 8;
        self.within(w, h, needed, self.max_decode_bytes.saturating_mul(7) / 5)
    }

    fn within(&self, w: u32, h: u32, needed: u64, budget: u64) -> Result<(), RenderError> {
        if needed > budget {
            return Err(RenderError::TooLargeToDecode {
                width: w,
                height: h,
                needed_mib: needed >> 20,
                budget_mib: budget >> 20,
            });
        }
        Ok(())
    }
}

/// What a progressive JPEG's decoder holds: every coefficient (2 bytes a
/// sample) until the last scan.
fn progressive_jpeg_memory(pixels: u64, samples_per_64_pixels: u32) -> u64 {
    pixels * u64::from(samples_per_64_pixels) * 2 / 64
}

/// Why versions could not be built. `Display` is the reason shown to people.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the image is {width}×{height} pixels, more than this server decodes")]
    TooManyPixels { width: u32, height: u32 },
    #[error(
        "decoding this {width}×{height} picture would take {needed_mib} MiB, more than the {budget_mib} MiB a version job may use (a baseline JPEG or a non-interlaced PNG of the same size is fine)"
    )]
    TooLargeToDecode {
        width: u32,
        height: u32,
        needed_mib: u64,
        budget_mib: u64,
    },
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
pub const JPEG_QUALITY: u8 = 82;

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
    let mut head = Vec::new();
    (&mut file)
        .take(metadata::HEAD_LEN as u64)
        .read_to_end(&mut head)?;
    if let Some((w, h)) = sniff::header_dimensions(kind, &head) {
        limits.check(w, h)?;
    }
    if kind == MediaKind::Heif {
        drop(file);
        // The `meta` box may follow a large `mdat`, past the head: then it is
        // found by seeking. Without dimensions nothing is handed to a decoder.
        let (w, h) = sniff::header_dimensions(kind, &head)
            .or_else(|| crate::heif::file_dimensions(path))
            .ok_or_else(|| {
                RenderError::Decode("the HEIF file names no image size; it was not decoded".into())
            })?;
        limits.check(w, h)?;
        limits.check_heif_memory(w, h)?;
        return crate::heif::render_heif_versions(path, rotation, specs, limits);
    }
    // The decoders read the file as they go and stop where the picture ends:
    // bytes after it (padding, a second gigabyte) are never read into memory.
    file.seek(SeekFrom::Start(0))?;
    render_from(
        kind,
        std::io::BufReader::with_capacity(1 << 16, file),
        &head,
        rotation,
        specs,
        limits,
    )
}

/// [`render_versions`] over bytes in memory.
pub fn render_bytes(
    kind: MediaKind,
    data: &[u8],
    rotation: u16,
    specs: &[VersionSpec],
    limits: &RenderLimits,
) -> Result<Rendered, RenderError> {
    let head = &data[..data.len().min(metadata::HEAD_LEN)];
    render_from(
        kind,
        std::io::Cursor::new(data),
        head,
        rotation,
        specs,
        limits,
    )
}

/// The versions of the picture `source` holds; `head` is its first
/// [`metadata::HEAD_LEN`] bytes (header, orientation, colour profile).
fn render_from<R: BufRead + Seek>(
    kind: MediaKind,
    source: R,
    head: &[u8],
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
    if let Some((w, h)) = sniff::header_dimensions(kind, head) {
        limits.check(w, h)?;
    }
    limits.check_memory(kind, head)?;
    let orientation = metadata::read_embedded(kind, head).orientation.unwrap_or(1);
    let wanted = specs.iter().map(|s| s.long_edge).max().unwrap_or(0);
    // A JPEG frame header past the head was not checked for memory yet.
    let jpeg_checked = sniff::jpeg_frame(head).is_some();
    let (pixels, full) = decode(kind, source, wanted, jpeg_checked, limits)?;
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

fn decode<R: BufRead + Seek>(
    kind: MediaKind,
    mut source: R,
    wanted_long: u32,
    jpeg_checked: bool,
    limits: &RenderLimits,
) -> Result<(Pixels, (u32, u32)), RenderError> {
    match kind {
        MediaKind::Jpeg => match decode_jpeg_scaled(&mut source, wanted_long, jpeg_checked, limits)
        {
            Ok(p) => Ok(p),
            Err(e @ (RenderError::TooManyPixels { .. } | RenderError::TooLargeToDecode { .. })) => {
                Err(e)
            }
            // A few corrupt bytes, arithmetic coding, 16-bit lossless: the
            // image crate's decoder is more forgiving. It reads the whole
            // stream, so it gets the picture's bytes only, up to a bound.
            Err(first) => {
                source.seek(SeekFrom::Start(0))?;
                let mut bytes = Vec::new();
                source.take(WHOLE_READ_MAX_BYTES).read_to_end(&mut bytes)?;
                fallback_jpeg_fits(&bytes, limits)?;
                decode_generic(kind, std::io::Cursor::new(bytes), limits).map_err(|e| match e {
                    RenderError::Decode(_) => first,
                    other => other,
                })
            }
        },
        MediaKind::Png => decode_png_reduced(source, wanted_long, limits),
        MediaKind::Webp | MediaKind::Tiff | MediaKind::Gif => decode_generic(kind, source, limits),
        MediaKind::Heif => Err(RenderError::Unsupported(
            "HEIC/HEIF images cannot be decoded by this server yet".into(),
        )),
        MediaKind::Mp4 | MediaKind::Mov => Err(RenderError::Unsupported(
            "videos are rendered by render_video_versions".into(),
        )),
    }
}

/// Weighs what the fallback JPEG decoder will hold at once: the file's bytes
/// (read whole), every coefficient of a progressive picture until its last
/// scan, the decoded picture and its conversion. Over the decode budget →
/// refused before decoding. A frame header it cannot find is left to the
/// decoder (which checks the size again, more loosely).
fn fallback_jpeg_fits(bytes: &[u8], limits: &RenderLimits) -> Result<(), RenderError> {
    let Some(frame) = sniff::jpeg_frame(bytes) else {
        return Ok(());
    };
    let (w, h) = (frame.width, frame.height);
    limits.check(w, h)?;
    let pixels = u64::from(w) * u64::from(h);
    let coefficients = if frame.progressive {
        progressive_jpeg_memory(pixels, frame.samples_per_64_pixels)
    } else {
        0
    };
    // Decoded RGB (3 bytes a pixel) and its copy into the picture we keep.
    let needed = bytes.len() as u64 + coefficients + pixels * 6;
    limits.within(w, h, needed, limits.max_decode_bytes)
}

/// The most bytes of a file a decoder that reads its input (or a chunk of
/// it) whole is given: the fallback JPEG decoder, WebP, GIF. A camera file is
/// far smaller.
const WHOLE_READ_MAX_BYTES: u64 = 64 << 20;

/// A reader that fails once a decoder reads or seeks past `bound` bytes of
/// the file, naming the bound (an early end would read as a corrupt file).
struct BoundedInput<R> {
    inner: R,
    pos: u64,
    bound: u64,
}

impl<R> BoundedInput<R> {
    fn new(inner: R, bound: u64) -> Self {
        BoundedInput {
            inner,
            pos: 0,
            bound,
        }
    }

    fn past_bound(&self) -> std::io::Error {
        std::io::Error::other(format!(
            "the picture's data runs past {} MiB, more than a version job reads",
            self.bound >> 20
        ))
    }
}

impl<R: Read> Read for BoundedInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let left = self.bound.saturating_sub(self.pos);
        if left == 0 {
            return Err(self.past_bound());
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for BoundedInput<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = self.inner.seek(to)?;
        self.pos = pos;
        Ok(pos)
    }
}

/// Decodes a JPEG straight to the smallest DCT scale (1, 1/2, 1/4 or 1/8)
/// whose long edge still covers `wanted_long` ("shrink-on-load"), reading the
/// stream only up to its end-of-image marker. `memory_checked`: the frame
/// header was in the head, so a progressive one was already weighed.
fn decode_jpeg_scaled<R: Read>(
    source: R,
    wanted_long: u32,
    memory_checked: bool,
    limits: &RenderLimits,
) -> Result<(Pixels, (u32, u32)), RenderError> {
    use jpeg_decoder::PixelFormat;
    let derr = |e: jpeg_decoder::Error| RenderError::Decode(e.to_string());
    let mut d = jpeg_decoder::Decoder::new(source);
    d.read_info().map_err(derr)?;
    let info = d
        .info()
        .ok_or_else(|| RenderError::Decode("no JPEG header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    limits.check(w, h)?;
    if !memory_checked && info.coding_process != jpeg_decoder::CodingProcess::DctSequential {
        // Sampling unknown here: taken as full, the most it can be
        // (64 samples per 64 pixels for each component).
        let samples = match info.pixel_format {
            PixelFormat::L8 | PixelFormat::L16 => 64,
            PixelFormat::CMYK32 => 256,
            PixelFormat::RGB24 => 192,
        };
        let needed = progressive_jpeg_memory(u64::from(w) * u64::from(h), samples);
        limits.within(w, h, needed, limits.max_decode_bytes)?;
    }
    if !matches!(info.pixel_format, PixelFormat::RGB24 | PixelFormat::L8) {
        // CMYK and 16-bit: the fallback converts them.
        return Err(RenderError::Decode(format!("{:?} JPEG", info.pixel_format)));
    }
    let wanted = u16::try_from(wanted_long.max(1)).unwrap_or(u16::MAX);
    // The decoder picks the smallest scale reaching the request on one axis.
    let request = if w >= h {
        (wanted, u16::MAX)
    } else {
        (u16::MAX, wanted)
    };
    let (sw, sh) = d.scale(request.0, request.1).map_err(derr)?;
    let raw = d.decode().map_err(derr)?;
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    let count = sw as usize * sh as usize;
    let data = match info.pixel_format {
        PixelFormat::L8 => {
            let grey = raw.get(..count).ok_or_else(short)?;
            grey.iter().flat_map(|&v| [v, v, v]).collect()
        }
        _ => {
            let mut rgb = raw;
            if rgb.len() < count * 3 {
                return Err(short());
            }
            rgb.truncate(count * 3);
            rgb
        }
    };
    Ok((
        Pixels {
            width: sw,
            height: sh,
            channels: 3,
            data,
        },
        (w, h),
    ))
}

/// Decodes a PNG row by row, averaging each `k × k` block of pixels as the
/// rows arrive (`k` as large as keeps the long edge ≥ `wanted_long`), so only
/// the reduced picture is ever held. Interlaced PNGs (their rows come in
/// seven passes) go through the whole-picture decoder.
fn decode_png_reduced<R: BufRead + Seek>(
    mut source: R,
    wanted_long: u32,
    limits: &RenderLimits,
) -> Result<(Pixels, (u32, u32)), RenderError> {
    let derr = |e: png::DecodingError| RenderError::Decode(e.to_string());
    // IHDR's interlace byte, peeked before the decoder takes the reader.
    if source.fill_buf()?.get(28).is_some_and(|&i| i != 0) {
        return decode_generic(MediaKind::Png, source, limits);
    }
    let mut decoder = png::Decoder::new_with_limits(
        source,
        png::Limits {
            bytes: PNG_CHUNK_MEMORY,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    // Text and colour profile were read from the head already.
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(derr)?;
    let (w, h) = (reader.info().width, reader.info().height);
    limits.check(w, h)?;
    if reader.info().interlaced {
        return Err(RenderError::Decode("interlaced".into()));
    }
    let (color, _) = reader.output_color_type();
    let (in_ch, has_alpha) = match color {
        png::ColorType::Grayscale => (1usize, false),
        png::ColorType::GrayscaleAlpha => (2, true),
        png::ColorType::Rgb => (3, false),
        png::ColorType::Rgba => (4, true),
        png::ColorType::Indexed => {
            return Err(RenderError::Decode("palette was not expanded".into()));
        }
    };
    let out_ch = if has_alpha { 4usize } else { 3 };
    let k = (w.max(h) / wanted_long.max(1)).max(1);
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    let row_len = ow as usize * out_ch;
    let mut data = Vec::with_capacity(row_len * oh as usize);
    let mut sums = vec![0u32; row_len];
    let mut counts = vec![0u32; ow as usize];
    let mut rows_in_band = 0u32;
    let mut y = 0u32;
    while let Some(row) = reader.next_row().map_err(derr)? {
        let px = row.data();
        for x in 0..w as usize {
            let Some(src) = px.get(x * in_ch..(x + 1) * in_ch) else {
                return Err(short());
            };
            let rgba = match in_ch {
                1 => [src[0], src[0], src[0], 255],
                2 => [src[0], src[0], src[0], src[1]],
                3 => [src[0], src[1], src[2], 255],
                _ => [src[0], src[1], src[2], src[3]],
            };
            let ox = x / k as usize;
            let at = ox * out_ch;
            for (c, v) in rgba.iter().take(out_ch).enumerate() {
                sums[at + c] += u32::from(*v);
            }
            counts[ox] += 1;
        }
        rows_in_band += 1;
        y += 1;
        if rows_in_band == k || y == h {
            flush_band(&mut data, &mut sums, &mut counts, out_ch);
            rows_in_band = 0;
        }
    }
    if data.len() != row_len * oh as usize {
        return Err(short());
    }
    let mut pixels = Pixels {
        width: ow,
        height: oh,
        channels: out_ch as u8,
        data,
    };
    if has_alpha && pixels.data.chunks_exact(4).all(|p| p[3] == 255) {
        pixels.data = pixels
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        pixels.channels = 3;
    }
    Ok((pixels, (w, h)))
}

/// Appends one output row: each accumulated block's average.
fn flush_band(data: &mut Vec<u8>, sums: &mut [u32], counts: &mut [u32], channels: usize) {
    for (block, n) in sums.chunks_exact_mut(channels).zip(counts.iter_mut()) {
        let n32 = (*n).max(1);
        data.extend(block.iter().map(|s| ((s + n32 / 2) / n32) as u8));
        block.fill(0);
        *n = 0;
    }
}

/// What the PNG decoder may hold besides rows (chunk buffers, palette).
const PNG_CHUNK_MEMORY: usize = 16 << 20;

fn short() -> RenderError {
    RenderError::Decode("the decoder returned fewer pixels than its header says".into())
}

fn decode_generic<R: BufRead + Seek>(
    kind: MediaKind,
    source: R,
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
    // Some of these decoders read a chunk or the rest of the stream whole
    // (WebP's VP8 chunk, a GIF's frame): a padded chunk must not become
    // gigabytes in memory. TIFF seeks to each strip, whose data may add up
    // to the decode budget (uncompressed, 16-bit).
    let input_bound = match kind {
        MediaKind::Tiff => limits.max_decode_bytes,
        _ => WHOLE_READ_MAX_BYTES,
    };
    let source = std::io::BufReader::new(BoundedInput::new(source, input_bound));
    let mut reader = image::ImageReader::with_format(source, format);
    let mut lim = image::Limits::default();
    // The pixel limit is checked below from the decoder's header; this bounds
    // everything else the decoders allocate.
    lim.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(lim);
    let decoder = reader.into_decoder().map_err(derr)?;
    let (w, h) = decoder.dimensions();
    limits.check(w, h)?;
    // The whole picture is held (and converted): within the decode budget.
    let per_pixel: u64 = if kind == MediaKind::Jpeg { 4 } else { 8 };
    let needed = u64::from(w) * u64::from(h) * per_pixel;
    limits.within(w, h, needed, limits.max_decode_bytes)?;
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
    let flattened;
    let data = if p.channels == 4 {
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
        flattened.as_slice()
    } else {
        p.data.as_slice()
    };
    encode_jpeg_rgb(data, p.width, p.height, JPEG_QUALITY)
}

/// Baseline JPEG of 8-bit RGB pixels: 4:2:0 with averaged chroma (as
/// libjpeg does), optimised Huffman tables.
pub(crate) fn encode_jpeg_rgb(
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
) -> Result<Vec<u8>, RenderError> {
    let eerr = |e: &dyn std::fmt::Display| RenderError::Encode(e.to_string());
    let (w, h) = (
        u16::try_from(width).map_err(|e| eerr(&e))?,
        u16::try_from(height).map_err(|e| eerr(&e))?,
    );
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder.set_optimized_huffman_tables(true);
    encoder
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| eerr(&e))?;
    Ok(out)
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
