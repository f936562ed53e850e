//! Embedded metadata: Exif (camera, exposure, GPS, time, orientation), IPTC
//! IIM and XMP (title, caption, keywords, creator, rights, place), read from
//! the leading bytes of a file.
//!
//! Every parser here is a pure function over bytes that never panics and
//! allocates at most in proportion to its (capped) input: strings are cut at
//! [`MAX_TEXT`] bytes and keyword lists at [`MAX_KEYWORDS`]. The fuzz targets
//! in `fuzz/` run each of them.
//!
//! Precedence when several blocks give a field: IPTC, then XMP, then Exif for
//! text (title, caption, keywords, creator, copyright); Exif, then XMP, then
//! IPTC for technical fields (orientation, place, time taken).

pub mod exif;
pub mod iptc;
pub(crate) mod tiff;
pub mod xmp;

use std::collections::BTreeMap;

use crate::bmff;
use crate::sniff::MediaKind;

/// Longest string kept (bytes, cut at a character boundary).
pub const MAX_TEXT: usize = 8 * 1024;
/// Most keywords kept.
pub const MAX_KEYWORDS: usize = 1000;
/// How much of a file's head [`read_embedded`] looks at.
pub const HEAD_LEN: usize = 1 << 20;

/// Metadata embedded in an image file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Embedded {
    /// Make, Model, LensModel, ISO, ExposureTime ("1/250"), FNumber, FocalLength,
    /// DateTimeOriginal, Orientation, … (string or number values).
    pub exif: BTreeMap<String, serde_json::Value>,
    /// EXIF orientation 1..=8.
    pub orientation: Option<u16>,
    /// (lat, lng) from the GPS IFD (or XMP), signed, validated ranges.
    pub geo: Option<(f64, f64)>,
    /// DateTimeOriginal as RFC 3339 if the offset is known, else `YYYY-MM-DDTHH:MM:SS` (local).
    pub taken_at: Option<String>,
    /// IPTC ObjectName / XMP dc:title / headline.
    pub title: Option<String>,
    /// IPTC Caption-Abstract / XMP dc:description / Exif ImageDescription.
    pub caption: Option<String>,
    /// IPTC Keywords / XMP dc:subject, deduplicated, order kept.
    pub keywords: Vec<String>,
    /// The IPTC Core keys the API uses (only those found): headline, caption, creator,
    /// creator_job_title, credit_line, source, copyright_notice, usage_terms, instructions,
    /// job_id, city, state, country, country_code, location, contact_email, contact_phone,
    /// contact_url.
    pub iptc: BTreeMap<&'static str, String>,
}

/// The raw blocks found in a file's head.
#[derive(Debug, Default)]
pub(crate) struct Blocks<'a> {
    pub exif: Option<&'a [u8]>,
    pub xmp: Option<std::borrow::Cow<'a, [u8]>>,
    pub iim: Option<std::borrow::Cow<'a, [u8]>>,
    pub icc: Option<Vec<u8>>,
}

/// Reads Exif, IPTC IIM and XMP from the leading bytes of a file (up to
/// [`HEAD_LEN`] are looked at). Never panics; missing or broken blocks give
/// empty fields.
pub fn read_embedded(kind: MediaKind, head: &[u8]) -> Embedded {
    let head = &head[..head.len().min(HEAD_LEN)];
    let blocks = find_blocks(kind, head);
    let exif_data = match (kind, blocks.exif) {
        (MediaKind::Tiff, _) => exif::parse(head),
        (_, Some(tiff)) => exif::parse(tiff),
        _ => exif::ExifData::default(),
    };
    let xmp_bytes = blocks.xmp.as_deref().or(exif_data.xmp.as_deref());
    let xmp_data = xmp_bytes.map(xmp::parse).unwrap_or_default();
    let iim = blocks.iim.as_deref().or(exif_data.iptc.as_deref());
    let iptc_data = iim.map(iptc::parse).unwrap_or_default();
    merge(exif_data, iptc_data, xmp_data)
}

fn merge(e: exif::ExifData, i: iptc::IptcData, x: xmp::XmpData) -> Embedded {
    let mut out = Embedded {
        exif: e.fields,
        ..Embedded::default()
    };
    // Text: IPTC, then XMP.
    for key in [
        "headline",
        "caption",
        "creator",
        "creator_job_title",
        "credit_line",
        "source",
        "copyright_notice",
        "usage_terms",
        "instructions",
        "job_id",
        "city",
        "state",
        "country",
        "country_code",
        "location",
        "contact_email",
        "contact_phone",
        "contact_url",
    ] {
        if let Some(v) = i.fields.get(key).or_else(|| x.fields.get(key)) {
            out.iptc.insert(key, v.clone());
        }
    }
    let description = e.description.filter(|d| !is_boilerplate(d));
    if !out.iptc.contains_key("caption")
        && let Some(d) = &description
    {
        out.iptc.insert("caption", d.clone());
    }
    if !out.iptc.contains_key("creator")
        && let Some(a) = e.artist
    {
        out.iptc.insert("creator", a);
    }
    if !out.iptc.contains_key("copyright_notice")
        && let Some(c) = e.copyright
    {
        out.iptc.insert("copyright_notice", c);
    }
    out.title = i
        .title
        .or_else(|| x.fields.get("title").cloned())
        .or_else(|| out.iptc.get("headline").cloned());
    out.caption = out.iptc.get("caption").cloned();
    out.keywords = i.keywords;
    for k in x.keywords {
        push_keyword(&mut out.keywords, k);
    }
    // Technical: Exif, then XMP, then IPTC.
    out.orientation = e.orientation.or(x.orientation);
    out.geo = e.geo.or(x.geo);
    out.taken_at = e.taken_at.or(x.date_created).or(i.date_created);
    out
}

/// Camera firmware fills ImageDescription with its own name; that is no caption.
fn is_boilerplate(d: &str) -> bool {
    const JUNK: [&str; 8] = [
        "OLYMPUS DIGITAL CAMERA",
        "SONY DSC",
        "DIGITAL CAMERA",
        "KONICA MINOLTA DIGITAL CAMERA",
        "SAMSUNG",
        "DEFAULT",
        "EXIF_JPEG_PICTURE",
        "LEICA",
    ];
    let t = d.trim().to_ascii_uppercase();
    JUNK.contains(&t.as_str()) || t.starts_with("MINOLTA DIGITAL CAMERA")
}

pub(crate) fn find_blocks(kind: MediaKind, head: &[u8]) -> Blocks<'_> {
    match kind {
        MediaKind::Jpeg => jpeg_blocks(head),
        MediaKind::Png => png_blocks(head),
        MediaKind::Webp => webp_blocks(head),
        MediaKind::Heif => heif_blocks(head),
        MediaKind::Tiff | MediaKind::Gif | MediaKind::Mp4 | MediaKind::Mov => Blocks::default(),
    }
}

const XMP_APP1: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const ICC_APP2: &[u8] = b"ICC_PROFILE\0";

fn jpeg_blocks(b: &[u8]) -> Blocks<'_> {
    let mut out = Blocks::default();
    if !b.starts_with(&[0xFF, 0xD8]) {
        return out;
    }
    let mut iim: Vec<u8> = Vec::new();
    let mut icc: Vec<(u8, &[u8])> = Vec::new();
    let mut i = 2usize;
    while let (Some(&ff), Some(&marker)) = (b.get(i), b.get(i + 1)) {
        if ff != 0xFF {
            break;
        }
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        if matches!(marker, 0xD9 | 0xDA) {
            break;
        }
        let Some(len) = b
            .get(i + 2..i + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            break;
        };
        if len < 2 {
            break;
        }
        let end = (i + 2 + len).min(b.len());
        let payload = b.get(i + 4..end).unwrap_or(&[]);
        match marker {
            0xE1 => {
                if let Some(t) = payload.strip_prefix(b"Exif\0\0") {
                    out.exif.get_or_insert(t);
                } else if let Some(x) = payload.strip_prefix(XMP_APP1) {
                    out.xmp.get_or_insert(x.into());
                }
            }
            0xED => {
                if let Some(p) = iptc::from_photoshop(payload)
                    && iim.len() + p.len() <= 1 << 20
                {
                    iim.extend_from_slice(p);
                }
            }
            0xE2 => {
                if let Some(rest) = payload.strip_prefix(ICC_APP2)
                    && rest.len() >= 2
                    && icc.len() < 256
                {
                    icc.push((rest[0], &rest[2..]));
                }
            }
            _ => {}
        }
        i += 2 + len;
    }
    if !iim.is_empty() {
        out.iim = Some(iim.into());
    }
    if !icc.is_empty() {
        icc.sort_by_key(|(seq, _)| *seq);
        out.icc = Some(
            icc.into_iter()
                .flat_map(|(_, d)| d.iter().copied())
                .collect(),
        );
    }
    out
}

fn png_blocks(b: &[u8]) -> Blocks<'_> {
    let mut out = Blocks::default();
    if !b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return out;
    }
    let mut i = 8usize;
    let (mut xmp_tried, mut icc_tried) = (false, false);
    while let Some(len) = b
        .get(i..i + 4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
    {
        let Some(kind) = b.get(i + 4..i + 8) else {
            break;
        };
        let start = i + 8;
        let Some(end) = start.checked_add(len) else {
            break;
        };
        let Some(data) = b.get(start..end) else {
            break;
        };
        match kind {
            b"eXIf" => {
                out.exif.get_or_insert(data);
            }
            // Only the first of each is inflated (at most 4 MiB each): a head
            // full of small compressed chunks costs two inflates, not hundreds.
            b"iTXt" if !xmp_tried && data.starts_with(XMP_KEYWORD) => {
                xmp_tried = true;
                out.xmp = itxt_xmp(data);
            }
            b"iCCP" if !icc_tried => {
                icc_tried = true;
                // name\0 method zlib-data
                if let Some(pos) = data.iter().position(|c| *c == 0)
                    && let Some(z) = data.get(pos + 2..)
                {
                    out.icc = inflate(z);
                }
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        i = end + 4;
    }
    out
}

const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp\0";

fn itxt_xmp(data: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    let rest = data.strip_prefix(XMP_KEYWORD)?;
    let compressed = *rest.first()? == 1;
    let rest = rest.get(2..)?;
    // language tag \0 translated keyword \0 text
    let p1 = rest.iter().position(|c| *c == 0)?;
    let rest = rest.get(p1 + 1..)?;
    let p2 = rest.iter().position(|c| *c == 0)?;
    let text = rest.get(p2 + 1..)?;
    if compressed {
        inflate(text).map(Into::into)
    } else {
        Some(text.into())
    }
}

/// zlib-inflates at most 4 MiB.
fn inflate(z: &[u8]) -> Option<Vec<u8>> {
    #[cfg(test)]
    tests::INFLATES.with(|n| n.set(n.get() + 1));
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(z, 4 << 20).ok()
}

fn webp_blocks(b: &[u8]) -> Blocks<'_> {
    let mut out = Blocks::default();
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WEBP") {
        return out;
    }
    let mut i = 12usize;
    while let (Some(kind), Some(len)) = (
        b.get(i..i + 4),
        b.get(i + 4..i + 8)
            .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize),
    ) {
        let start = i + 8;
        let Some(end) = start.checked_add(len) else {
            break;
        };
        let data = b.get(start..end.min(b.len())).unwrap_or(&[]);
        match kind {
            b"EXIF" => {
                out.exif.get_or_insert(data);
            }
            b"XMP " => {
                out.xmp.get_or_insert(data.into());
            }
            b"ICCP" => out.icc = Some(data.to_vec()),
            _ => {}
        }
        if end >= b.len() {
            break;
        }
        i = end + (len % 2);
    }
    out
}

fn heif_blocks(b: &[u8]) -> Blocks<'_> {
    let mut out = Blocks::default();
    if let Some(item) = bmff::heif_item(b, b"Exif") {
        // A 4-byte offset to the TIFF header, then the Exif data.
        let offset = bmff::be32(item, 0).and_then(|o| usize::try_from(o).ok());
        out.exif = offset
            .and_then(|o| item.get(4usize.checked_add(o)?..))
            .map(|t| t.strip_prefix(b"Exif\0\0").unwrap_or(t));
    }
    if let Some(x) = bmff::heif_item(b, b"mime") {
        out.xmp = Some(x.into());
    }
    out
}

/// The embedded ICC profile of an image, when its head holds one.
pub(crate) fn icc_profile(kind: MediaKind, head: &[u8]) -> Option<Vec<u8>> {
    find_blocks(kind, head).icc
}

/// Text of unknown encoding: UTF-8 when valid, else Latin-1.
pub(crate) fn decode_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.iter().map(|c| char::from(*c)).collect(),
    }
}

/// Trims, drops NULs and control characters (keeps newlines and tabs), cuts at
/// `max` bytes on a character boundary; None when nothing is left.
pub(crate) fn clean_text(s: &str, max: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(max));
    for ch in s
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .chars()
    {
        if ch.is_control() && ch != '\n' && ch != '\t' {
            continue;
        }
        if out.len() + ch.len_utf8() > max {
            break;
        }
        out.push(ch);
    }
    let trimmed = out.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == out.len() {
        Some(out)
    } else {
        Some(trimmed.to_owned())
    }
}

/// Adds a keyword unless already present (case-sensitive) or the list is full.
pub(crate) fn push_keyword(list: &mut Vec<String>, k: String) {
    if list.len() < MAX_KEYWORDS && !list.contains(&k) {
        list.push(k);
    }
}

/// A position in range, finite, and not the (0, 0) "no fix" placeholder.
pub(crate) fn valid_geo(lat: f64, lng: f64) -> Option<(f64, f64)> {
    let ok = lat.is_finite()
        && lng.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lng)
        && !(lat == 0.0 && lng == 0.0);
    ok.then_some((lat, lng))
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        pub(super) static INFLATES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32fast::hash(&[kind.as_slice(), data].concat()).to_be_bytes());
    }

    /// A head packed with compressed XMP and colour-profile chunks costs
    /// two inflates (the first of each), whatever their number.
    #[test]
    fn only_the_first_compressed_xmp_and_profile_are_inflated() {
        let xmp = miniz_oxide::deflate::compress_to_vec_zlib(b"<x:xmpmeta/>", 6);
        let mut itxt = b"XML:com.adobe.xmp\0\x01\x00\0\0".to_vec();
        itxt.extend_from_slice(&xmp);
        let mut iccp = b"icc\0\0".to_vec();
        iccp.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(&[0u8; 4096], 6));
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        for _ in 0..500 {
            chunk(&mut png, b"iTXt", &itxt);
            chunk(&mut png, b"iCCP", &iccp);
        }
        INFLATES.with(|n| n.set(0));
        let blocks = png_blocks(&png);
        assert_eq!(blocks.xmp.as_deref(), Some(b"<x:xmpmeta/>".as_slice()));
        assert_eq!(blocks.icc.as_deref().map(<[u8]>::len), Some(4096));
        assert_eq!(INFLATES.with(|n| n.get()), 2);
    }
}
