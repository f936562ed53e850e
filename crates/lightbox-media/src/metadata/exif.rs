//! Exif: the camera's technical record, from a TIFF structure (the payload of
//! a JPEG `APP1 Exif\0\0` segment, a PNG `eXIf` chunk, a WebP `EXIF` chunk, or
//! a TIFF file's own header). Parsed by `kamadak-exif` (pure Rust, fuzzed
//! here too); this module picks the fields Lightbox shows and normalises them.

use std::collections::BTreeMap;

use exif::{In, Tag, Value};
use serde_json::Value as Json;

use super::{MAX_TEXT, clean_text};

/// What Lightbox takes from an Exif block.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExifData {
    /// Make, Model, LensModel, ISO, ExposureTime ("1/250"), FNumber, FocalLength, …
    pub fields: BTreeMap<String, Json>,
    /// 1..=8.
    pub orientation: Option<u16>,
    /// (lat, lng), signed, in range.
    pub geo: Option<(f64, f64)>,
    /// DateTimeOriginal as RFC 3339 when OffsetTimeOriginal is known, else local `YYYY-MM-DDTHH:MM:SS`.
    pub taken_at: Option<String>,
    pub description: Option<String>,
    pub artist: Option<String>,
    pub copyright: Option<String>,
    /// TIFF tag 700 (an XMP packet), when present in IFD0.
    pub xmp: Option<Vec<u8>>,
    /// TIFF tag 33723 (IPTC IIM), when present in IFD0.
    pub iptc: Option<Vec<u8>>,
}

/// The input cap: a JPEG APP1 holds at most 64 KiB, a TIFF head is what the caller passes.
const MAX_INPUT: usize = 4 << 20;

/// Reads the Exif fields from a TIFF structure (starting `II*\0` or `MM\0*`;
/// a leading `Exif\0\0` is skipped). Never panics; empty on any error.
pub fn parse(tiff: &[u8]) -> ExifData {
    let tiff = tiff.strip_prefix(b"Exif\0\0").unwrap_or(tiff);
    if tiff.len() < 8 || tiff.len() > MAX_INPUT {
        return ExifData::default();
    }
    let exif = match exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|e| e.distill_partial_result(|_| {}))
    {
        Ok(exif) => exif,
        Err(_) => return ExifData::default(),
    };
    let get = |tag: Tag| exif.get_field(tag, In::PRIMARY).map(|f| &f.value);
    let mut out = ExifData::default();

    for (tag, name) in [
        (Tag::Make, "Make"),
        (Tag::Model, "Model"),
        (Tag::LensMake, "LensMake"),
        (Tag::LensModel, "LensModel"),
        (Tag::Software, "Software"),
        (Tag::DateTimeOriginal, "DateTimeOriginal"),
        (Tag::OffsetTimeOriginal, "OffsetTimeOriginal"),
        (Tag::BodySerialNumber, "BodySerialNumber"),
    ] {
        if let Some(s) = get(tag).and_then(ascii) {
            out.fields.insert(name.to_owned(), Json::String(s));
        }
    }
    for (tag, name) in [
        (Tag::PhotographicSensitivity, "ISO"),
        (Tag::FocalLengthIn35mmFilm, "FocalLengthIn35mmFilm"),
        (Tag::ExposureProgram, "ExposureProgram"),
        (Tag::MeteringMode, "MeteringMode"),
        (Tag::Flash, "Flash"),
        (Tag::WhiteBalance, "WhiteBalance"),
        (Tag::PixelXDimension, "PixelXDimension"),
        (Tag::PixelYDimension, "PixelYDimension"),
    ] {
        if let Some(n) = get(tag).and_then(|v| v.get_uint(0)) {
            out.fields.insert(name.to_owned(), Json::from(n));
        }
    }
    for (tag, name) in [
        (Tag::FNumber, "FNumber"),
        (Tag::FocalLength, "FocalLength"),
        (Tag::ExposureBiasValue, "ExposureBiasValue"),
    ] {
        if let Some(n) = get(tag).and_then(real).and_then(json_number) {
            out.fields.insert(name.to_owned(), n);
        }
    }
    if let Some(Value::Rational(r)) = get(Tag::ExposureTime)
        && let Some(r) = r.first()
        && r.num > 0
        && r.denom > 0
    {
        let text = if r.num >= r.denom {
            format_number(f64::from(r.num) / f64::from(r.denom))
        } else if r.denom % r.num == 0 {
            format!("1/{}", r.denom / r.num)
        } else {
            format!("1/{}", format_number(f64::from(r.denom) / f64::from(r.num)))
        };
        out.fields
            .insert("ExposureTime".to_owned(), Json::String(text));
    }
    if let Some(o) = get(Tag::Orientation).and_then(|v| v.get_uint(0))
        && (1..=8).contains(&o)
    {
        out.orientation = u16::try_from(o).ok();
        out.fields.insert("Orientation".to_owned(), Json::from(o));
    }
    out.geo = gps(&exif);
    if let Some(dt) = get(Tag::DateTimeOriginal)
        .or_else(|| get(Tag::DateTimeDigitized))
        .and_then(ascii)
    {
        let offset = get(Tag::OffsetTimeOriginal).and_then(ascii);
        out.taken_at = exif_datetime(&dt, offset.as_deref());
    }
    out.description = get(Tag::ImageDescription).and_then(ascii);
    out.artist = get(Tag::Artist).and_then(ascii);
    out.copyright = get(Tag::Copyright).and_then(ascii);
    let raw = |tag: u16| -> Option<Vec<u8>> {
        let f = exif.get_field(Tag(exif::Context::Tiff, tag), In::PRIMARY)?;
        match &f.value {
            Value::Byte(b) | Value::Undefined(b, _) => Some(b.clone()),
            Value::Ascii(parts) => Some(parts.concat()),
            Value::Long(words) if tag == 33723 => {
                // IPTC is often (wrongly) typed LONG; the bytes are the file's.
                let little = exif.little_endian();
                Some(
                    words
                        .iter()
                        .flat_map(|w| {
                            if little {
                                w.to_le_bytes()
                            } else {
                                w.to_be_bytes()
                            }
                        })
                        .collect(),
                )
            }
            _ => None,
        }
    };
    out.xmp = raw(700);
    out.iptc = raw(33723);
    out
}

/// The first string of an ASCII value, cleaned; None when empty.
fn ascii(v: &Value) -> Option<String> {
    match v {
        Value::Ascii(parts) => {
            let bytes = parts.iter().find(|p| !p.is_empty())?;
            clean_text(&super::decode_text(bytes), MAX_TEXT)
        }
        Value::Undefined(bytes, _) | Value::Byte(bytes) => {
            clean_text(&super::decode_text(bytes), MAX_TEXT)
        }
        _ => None,
    }
}

fn real(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Rational(r) => {
            let r = r.first()?;
            if r.denom == 0 {
                return None;
            }
            f64::from(r.num) / f64::from(r.denom)
        }
        Value::SRational(r) => {
            let r = r.first()?;
            if r.denom == 0 {
                return None;
            }
            f64::from(r.num) / f64::from(r.denom)
        }
        other => f64::from(other.get_uint(0)?),
    };
    x.is_finite().then_some(x)
}

/// Rounded to 2 decimals, as a JSON number.
fn json_number(x: f64) -> Option<Json> {
    let r = (x * 100.0).round() / 100.0;
    if r.fract() == 0.0 && r.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Some(Json::from(r as i64));
    }
    serde_json::Number::from_f64(r).map(Json::Number)
}

fn format_number(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn gps(exif: &exif::Exif) -> Option<(f64, f64)> {
    let dms = |tag: Tag| -> Option<f64> {
        let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else {
            return None;
        };
        let mut total = 0.0;
        for (i, div) in [1.0, 60.0, 3600.0].iter().enumerate() {
            match parts.get(i) {
                Some(r) if r.denom != 0 => total += f64::from(r.num) / f64::from(r.denom) / div,
                Some(_) => return None,
                None if i == 0 => return None,
                None => {}
            }
        }
        total.is_finite().then_some(total)
    };
    let reference = |tag: Tag| -> Option<u8> {
        match &exif.get_field(tag, In::PRIMARY)?.value {
            Value::Ascii(parts) => parts.first()?.first().map(u8::to_ascii_uppercase),
            _ => None,
        }
    };
    let mut lat = dms(Tag::GPSLatitude)?;
    let mut lng = dms(Tag::GPSLongitude)?;
    match reference(Tag::GPSLatitudeRef) {
        Some(b'S') => lat = -lat,
        Some(b'N') | None => {}
        Some(_) => return None,
    }
    match reference(Tag::GPSLongitudeRef) {
        Some(b'W') => lng = -lng,
        Some(b'E') | None => {}
        Some(_) => return None,
    }
    super::valid_geo(lat, lng)
}

/// `2024:07:14 21:30:05` (+ optional `+02:00`) → `2024-07-14T21:30:05+02:00`
/// or `2024-07-14T21:30:05`. None for anything malformed or all-zero.
pub fn exif_datetime(dt: &str, offset: Option<&str>) -> Option<String> {
    let b = dt.trim().as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = b.get(r)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !matches!(b[4], b':' | b'-')
        || !matches!(b[7], b':' | b'-')
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if y == 0 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let base = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    match offset.map(str::trim) {
        Some(o) if valid_offset(o) => Some(format!("{base}{o}")),
        Some("Z") => Some(format!("{base}Z")),
        _ => Some(base),
    }
}

fn valid_offset(o: &str) -> bool {
    let b = o.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit)
        && o[1..3].parse::<u8>().is_ok_and(|h| h <= 14)
        && o[4..6].parse::<u8>().is_ok_and(|m| m <= 59)
}
