//! What a file really is, from its first bytes.
//!
//! The filename and the client's `Content-Type` are never trusted: an upload
//! is accepted only when its leading bytes carry the magic number of one of
//! the kinds below. ISO-BMFF files (HEIC/HEIF, MP4, MOV) are told apart by the
//! brands of their `ftyp` box; AVIF shares HEIF's container and is refused.
//!
//! [`header_dimensions`] reads the pixel size from the header alone, so that a
//! decompression bomb (a small file claiming 30000×30000 pixels) is refused
//! before anything is stored or decoded.

use crate::bmff;

/// The kinds of media Lightbox accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Jpeg,
    Png,
    Webp,
    Tiff,
    Heif,
    Gif,
    Mp4,
    Mov,
}

impl MediaKind {
    /// Every kind, in a stable order.
    pub const ALL: [MediaKind; 8] = [
        MediaKind::Jpeg,
        MediaKind::Png,
        MediaKind::Webp,
        MediaKind::Tiff,
        MediaKind::Heif,
        MediaKind::Gif,
        MediaKind::Mp4,
        MediaKind::Mov,
    ];

    /// The MIME type served for an original of this kind.
    pub fn content_type(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Png => "image/png",
            MediaKind::Webp => "image/webp",
            MediaKind::Tiff => "image/tiff",
            MediaKind::Heif => "image/heic",
            MediaKind::Gif => "image/gif",
            MediaKind::Mp4 => "video/mp4",
            MediaKind::Mov => "video/quicktime",
        }
    }

    /// True for MP4 and MOV.
    pub fn is_video(self) -> bool {
        matches!(self, MediaKind::Mp4 | MediaKind::Mov)
    }

    /// A short lowercase name: `jpeg`, `png`, `webp`, `tiff`, `heif`, `gif`, `mp4`, `mov`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "jpeg",
            MediaKind::Png => "png",
            MediaKind::Webp => "webp",
            MediaKind::Tiff => "tiff",
            MediaKind::Heif => "heif",
            MediaKind::Gif => "gif",
            MediaKind::Mp4 => "mp4",
            MediaKind::Mov => "mov",
        }
    }

    /// The inverse of [`MediaKind::as_str`] (also accepts `jpg`, `tif`, `heic`, `quicktime`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "jpeg" | "jpg" => MediaKind::Jpeg,
            "png" => MediaKind::Png,
            "webp" => MediaKind::Webp,
            "tiff" | "tif" => MediaKind::Tiff,
            "heif" | "heic" => MediaKind::Heif,
            "gif" => MediaKind::Gif,
            "mp4" => MediaKind::Mp4,
            "mov" | "quicktime" => MediaKind::Mov,
            _ => return None,
        })
    }
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many leading bytes [`sniff`] needs at most to decide (more does no harm).
pub const SNIFF_LEN: usize = 4096;

/// Sniffs the real type from the first bytes: magic numbers, and the `ftyp`
/// brands of ISO-BMFF files. `None` for anything not accepted (including
/// AVIF, text, empty input and truncated signatures).
pub fn sniff(head: &[u8]) -> Option<MediaKind> {
    if head.len() >= 3 && head[..3] == [0xFF, 0xD8, 0xFF] {
        return Some(MediaKind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaKind::Png);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Some(MediaKind::Webp);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(MediaKind::Gif);
    }
    if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        return Some(MediaKind::Tiff);
    }
    sniff_bmff(head)
}

fn sniff_bmff(head: &[u8]) -> Option<MediaKind> {
    let size = u32::from_be_bytes(head.get(0..4)?.try_into().ok()?) as usize;
    let kind = head.get(4..8)?;
    if kind != b"ftyp" {
        // Old QuickTime files may start straight with a movie atom.
        return match kind {
            b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot" if size >= 8 || size == 1 => {
                // One more well-formed box header after a small first one makes it believable.
                if kind == b"moov" || kind == b"mdat" {
                    Some(MediaKind::Mov)
                } else {
                    let next = head.get(size + 4..size + 8)?;
                    matches!(next, b"moov" | b"mdat" | b"wide" | b"free" | b"ftyp")
                        .then_some(MediaKind::Mov)
                }
            }
            _ => None,
        };
    }
    if !(16..=4096).contains(&size) || !size.is_multiple_of(4) {
        return None;
    }
    let major = head.get(8..12)?;
    // Compatible brands as far as the head holds them.
    let end = size.min(head.len());
    let compat: Vec<&[u8]> = head.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    let has = |b: &[u8]| compat.contains(&b);

    const HEIF_MAJOR: [&[u8]; 8] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ];
    const MP4: [&[u8]; 18] = [
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41",
        b"mp42", b"mp71", b"avc1", b"M4V ", b"f4v ", b"mmp4", b"MSNV", b"XAVC",
    ];
    if major == b"avif" || major == b"avis" {
        return None;
    }
    if HEIF_MAJOR.contains(&major) {
        return Some(MediaKind::Heif);
    }
    if major == b"mif1" || major == b"msf1" {
        if has(b"avif") || has(b"avis") {
            return None;
        }
        return Some(MediaKind::Heif);
    }
    if major == b"qt  " {
        return Some(MediaKind::Mov);
    }
    if MP4.contains(&major) || major.starts_with(b"3gp") || major.starts_with(b"3g2") {
        return Some(MediaKind::Mp4);
    }
    // An unknown major brand: decide from the compatible ones.
    if has(b"avif") || has(b"avis") {
        return None;
    }
    if HEIF_MAJOR.iter().any(|b| has(b)) || has(b"mif1") {
        return Some(MediaKind::Heif);
    }
    if has(b"qt  ") {
        return Some(MediaKind::Mov);
    }
    if MP4.iter().any(|b| has(b)) {
        return Some(MediaKind::Mp4);
    }
    None
}

/// Pixel dimensions read from header bytes only (never decodes pixels).
/// `None` when the head does not contain them.
pub fn header_dimensions(kind: MediaKind, head: &[u8]) -> Option<(u32, u32)> {
    let dims = match kind {
        MediaKind::Jpeg => jpeg_dimensions(head),
        MediaKind::Png => png_dimensions(head),
        MediaKind::Gif => gif_dimensions(head),
        MediaKind::Webp => webp_dimensions(head),
        MediaKind::Tiff => tiff_dimensions(head),
        MediaKind::Heif => bmff::heif_dimensions(head),
        MediaKind::Mp4 | MediaKind::Mov => {
            let info = crate::video::probe_video_bytes(head);
            info.width.zip(info.height)
        }
    }?;
    (dims.0 > 0 && dims.1 > 0).then_some(dims)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn jpeg_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let (i, _) = jpeg_frame_header(b)?;
    frame_size(b, i)
}

/// Width and height of the frame header at `i` (height comes first).
fn frame_size(b: &[u8], i: usize) -> Option<(u32, u32)> {
    Some((u32::from(be16(b, i + 7)?), u32::from(be16(b, i + 5)?)))
}

/// Where the frame header (SOFn) of a JPEG whose head is `b` starts, and its
/// marker; None when it is not in `b` (or the stream is not a JPEG).
fn jpeg_frame_header(b: &[u8]) -> Option<(usize, u8)> {
    if b.get(0..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2usize;
    loop {
        // Skip fill bytes before a marker.
        while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = be16(b, i + 2)? as usize;
        if len < 2 {
            return None;
        }
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return Some((i, marker));
        }
        i = i.checked_add(2 + len)?;
    }
}

/// What a JPEG's frame header says about decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegFrame {
    /// Progressive (or lossless/arithmetic) coding: the decoder keeps every
    /// coefficient of the picture until the last scan.
    pub progressive: bool,
    /// Samples per 64 pixels, over all components (4:2:0 → 96, 4:4:4 → 192).
    pub samples_per_64_pixels: u32,
    pub width: u32,
    pub height: u32,
}

/// The frame header of a JPEG whose head is `b`, when it is in `b`.
pub fn jpeg_frame(b: &[u8]) -> Option<JpegFrame> {
    let (i, marker) = jpeg_frame_header(b)?;
    let count = usize::from(*b.get(i + 9)?);
    let factors: Vec<(u32, u32)> = (0..count)
        .map(|c| {
            let f = *b.get(i + 11 + 3 * c)?;
            Some((u32::from(f >> 4).max(1), u32::from(f & 15).max(1)))
        })
        .collect::<Option<_>>()?;
    let hmax = factors.iter().map(|f| f.0).max()?;
    let vmax = factors.iter().map(|f| f.1).max()?;
    let samples = factors
        .iter()
        .map(|(h, v)| 64 * h * v / (hmax * vmax))
        .sum();
    let (width, height) = frame_size(b, i)?;
    Some(JpegFrame {
        progressive: !matches!(marker, 0xC0 | 0xC1),
        samples_per_64_pixels: samples,
        width,
        height,
    })
}

fn png_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if !b.starts_with(b"\x89PNG\r\n\x1a\n") || b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn gif_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    Some((u32::from(le16(b, 6)?), u32::from(le16(b, 8)?)))
}

fn webp_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(0..4)? != b"RIFF" || b.get(8..12)? != b"WEBP" {
        return None;
    }
    let le24 = |at: usize| -> Option<u32> {
        let s = b.get(at..at + 3)?;
        Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
    };
    match b.get(12..16)? {
        b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
        b"VP8 " => {
            if b.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            Some((
                u32::from(le16(b, 26)? & 0x3fff),
                u32::from(le16(b, 28)? & 0x3fff),
            ))
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2f {
                return None;
            }
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        _ => None,
    }
}

fn tiff_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let tiff = crate::metadata::tiff::Tiff::new(b)?;
    let ifd = tiff.first_ifd()?;
    let w = tiff.tag_u32(ifd, 256)?;
    let h = tiff.tag_u32(ifd, 257)?;
    Some((w, h))
}
