//! XMP: an RDF/XML packet (`<x:xmpmeta>…`) from a JPEG APP1, a PNG iTXt chunk,
//! a WebP `XMP ` chunk, a TIFF's tag 700 or a HEIF `mime` item. Namespaces are
//! resolved (prefixes are free in XML); simple properties may be written as
//! attributes or elements, arrays (`rdf:Alt`/`rdf:Bag`/`rdf:Seq`) as `rdf:li`.

use std::collections::BTreeMap;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::{MAX_KEYWORDS, MAX_TEXT, clean_text};

const DC: &[u8] = b"http://purl.org/dc/elements/1.1/";
const PHOTOSHOP: &[u8] = b"http://ns.adobe.com/photoshop/1.0/";
const IPTC_CORE: &[u8] = b"http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/";
const RIGHTS: &[u8] = b"http://ns.adobe.com/xap/1.0/rights/";
const EXIF: &[u8] = b"http://ns.adobe.com/exif/1.0/";
const TIFF: &[u8] = b"http://ns.adobe.com/tiff/1.0/";

/// What Lightbox takes from an XMP packet.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct XmpData {
    /// `title`, `caption` and the IPTC Core keys (headline, creator, …, contact_url).
    pub fields: BTreeMap<&'static str, String>,
    /// dc:subject, deduplicated, in order.
    pub keywords: Vec<String>,
    /// photoshop:DateCreated or exif:DateTimeOriginal, normalised.
    pub date_created: Option<String>,
    /// exif:GPSLatitude/GPSLongitude.
    pub geo: Option<(f64, f64)>,
    /// tiff:Orientation.
    pub orientation: Option<u16>,
}

/// Largest packet parsed.
const MAX_PACKET: usize = 4 << 20;
/// Deepest nesting followed.
const MAX_DEPTH: usize = 64;

fn property(ns: &[u8], local: &[u8]) -> Option<&'static str> {
    Some(match (ns, local) {
        (DC, b"title") => "title",
        (DC, b"description") => "caption",
        (DC, b"subject") => "keywords",
        (DC, b"creator") => "creator",
        (DC, b"rights") => "copyright_notice",
        (PHOTOSHOP, b"Headline") => "headline",
        (PHOTOSHOP, b"Credit") => "credit_line",
        (PHOTOSHOP, b"Source") => "source",
        (PHOTOSHOP, b"Instructions") => "instructions",
        (PHOTOSHOP, b"TransmissionReference") => "job_id",
        (PHOTOSHOP, b"City") => "city",
        (PHOTOSHOP, b"State") => "state",
        (PHOTOSHOP, b"Country") => "country",
        (PHOTOSHOP, b"AuthorsPosition") => "creator_job_title",
        (PHOTOSHOP, b"DateCreated") => "date",
        (IPTC_CORE, b"CountryCode") => "country_code",
        (IPTC_CORE, b"Location") => "location",
        (IPTC_CORE, b"CiEmailWork") => "contact_email",
        (IPTC_CORE, b"CiTelWork") => "contact_phone",
        (IPTC_CORE, b"CiUrlWork") => "contact_url",
        (RIGHTS, b"UsageTerms") => "usage_terms",
        (EXIF, b"DateTimeOriginal") => "exif_date",
        (EXIF, b"GPSLatitude") => "gps_lat",
        (EXIF, b"GPSLongitude") => "gps_lng",
        (TIFF, b"Orientation") => "orientation",
        _ => return None,
    })
}

#[derive(Default)]
struct Collector {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Collector {
    fn add(&mut self, prop: &'static str, value: &str) {
        let Some(v) = clean_text(value, MAX_TEXT) else {
            return;
        };
        let list = self.values.entry(prop).or_default();
        if list.len() < MAX_KEYWORDS {
            list.push(v);
        }
    }
}

/// Reads the fields Lightbox uses from an XMP packet. Never panics; whatever
/// was read before a syntax error is kept.
pub fn parse(packet: &[u8]) -> XmpData {
    let packet = &packet[..packet.len().min(MAX_PACKET)];
    // Packets may carry a BOM, padding or trailing NULs.
    let text = String::from_utf8_lossy(packet);
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = NsReader::from_str(text);
    let mut c = Collector::default();
    // The property in effect for each open element.
    let mut stack: Vec<Option<&'static str>> = Vec::new();
    let mut buf = String::new();
    let mut steps = 0usize;
    loop {
        steps += 1;
        if steps > 1_000_000 {
            break;
        }
        let Ok((ns, event)) = reader.read_resolved_event() else {
            break;
        };
        let ns_bytes: Option<Vec<u8>> = match ns {
            ResolveResult::Bound(n) => Some(n.0.to_vec()),
            _ => None,
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let own = ns_bytes
                    .as_deref()
                    .and_then(|n| property(n, e.local_name().as_ref()));
                let inherited = stack.last().copied().flatten();
                for attr in e.attributes().with_checks(false).flatten() {
                    let (ans, local) = reader.resolver().resolve_attribute(attr.key);
                    let ResolveResult::Bound(ans) = ans else {
                        continue;
                    };
                    if let Some(p) = property(ans.0, local.as_ref())
                        && let Ok(v) = attr.normalized_value(quick_xml::XmlVersion::default())
                    {
                        c.add(p, &v);
                    }
                }
                buf.clear();
                if !is_empty {
                    if stack.len() >= MAX_DEPTH {
                        break;
                    }
                    stack.push(own.or(inherited));
                }
            }
            Event::End(_) => {
                if let Some(Some(p)) = stack.pop()
                    && !buf.trim().is_empty()
                {
                    c.add(p, &buf);
                }
                buf.clear();
            }
            Event::Text(t) => {
                if stack.last().copied().flatten().is_some()
                    && buf.len() < MAX_TEXT
                    && let Ok(s) = t.decode()
                {
                    buf.push_str(&s);
                }
            }
            Event::CData(t)
                if stack.last().copied().flatten().is_some() && buf.len() < MAX_TEXT =>
            {
                buf.push_str(&String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r)
                if stack.last().copied().flatten().is_some() && buf.len() < MAX_TEXT =>
            {
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    buf.push(ch);
                } else if let Ok(name) = r.decode()
                    && let Some(s) = quick_xml::escape::resolve_predefined_entity(&name)
                {
                    buf.push_str(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    finish(c)
}

fn finish(c: Collector) -> XmpData {
    let mut out = XmpData::default();
    let first = |k: &str| c.values.get(k).and_then(|v| v.first());
    if let (Some(lat), Some(lng)) = (first("gps_lat"), first("gps_lng")) {
        out.geo = xmp_gps(lat, lng);
    }
    for (prop, values) in c.values {
        match prop {
            "keywords" => {
                for v in values {
                    super::push_keyword(&mut out.keywords, v);
                }
            }
            "creator" => {
                let mut joined = String::new();
                for v in values {
                    if !joined.is_empty() {
                        joined.push_str("; ");
                    }
                    joined.push_str(&v);
                    if joined.len() > MAX_TEXT {
                        break;
                    }
                }
                if let Some(j) = clean_text(&joined, MAX_TEXT) {
                    out.fields.insert("creator", j);
                }
            }
            "date" | "exif_date" => {
                if let Some(d) = values.first().and_then(|d| xmp_date(d))
                    && (prop == "date" || out.date_created.is_none())
                {
                    out.date_created = Some(d);
                }
            }
            "orientation" => {
                out.orientation = values
                    .first()
                    .and_then(|v| v.trim().parse::<u16>().ok())
                    .filter(|o| (1..=8).contains(o));
            }
            "gps_lat" | "gps_lng" => {}
            _ => {
                if let Some(v) = values.into_iter().next() {
                    out.fields.insert(prop, v);
                }
            }
        }
    }
    out
}

/// XMP's `DDD,MM.mmN` pair → (lat, lng).
pub(crate) fn xmp_gps(lat: &str, lng: &str) -> Option<(f64, f64)> {
    super::valid_geo(
        xmp_coordinate(lat, b'N', b'S')?,
        xmp_coordinate(lng, b'E', b'W')?,
    )
}

/// `51,30.5N` or `51,30,30N` → 51.508…; `S`/`W` negative.
fn xmp_coordinate(s: &str, pos: u8, neg: u8) -> Option<f64> {
    let s = s.trim();
    let last = *s.as_bytes().last()?;
    let sign = match last.to_ascii_uppercase() {
        c if c == pos => 1.0,
        c if c == neg => -1.0,
        _ => return None,
    };
    let body = s.get(..s.len() - 1)?;
    let mut parts = body.split(',');
    let deg: f64 = parts.next()?.trim().parse().ok()?;
    let min: f64 = parts.next().map_or(Ok(0.0), |m| m.trim().parse()).ok()?;
    let sec: f64 = parts.next().map_or(Ok(0.0), |m| m.trim().parse()).ok()?;
    if parts.next().is_some() {
        return None;
    }
    let v = sign * (deg + min / 60.0 + sec / 3600.0);
    v.is_finite().then_some(v)
}

/// `2024-07-14`, `2024-07-14T21:30`, `2024-07-14T21:30:05.25+02:00` → normalised
/// (seconds added, fractions dropped). None when not a date.
pub fn xmp_date(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if y == 0 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let date = format!("{y:04}-{mo:02}-{d:02}");
    if b.len() == 10 {
        return Some(date);
    }
    if b.get(10) != Some(&b'T') {
        return Some(date);
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    if b.get(13) != Some(&b':') || h > 23 || mi > 59 {
        return Some(date);
    }
    let mut i = 16;
    let mut sec = 0;
    if b.get(16) == Some(&b':') {
        sec = num(17..19).filter(|s| *s <= 60)?;
        i = 19;
        if b.get(19) == Some(&b'.') {
            i = 20;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    let mut out = format!("{date}T{h:02}:{mi:02}:{sec:02}");
    let zone = s.get(i..).unwrap_or("");
    if zone == "Z" {
        out.push('Z');
    } else if zone.len() == 6
        && matches!(zone.as_bytes()[0], b'+' | b'-')
        && zone.as_bytes()[3] == b':'
        && zone[1..3]
            .bytes()
            .chain(zone[4..6].bytes())
            .all(|c| c.is_ascii_digit())
    {
        out.push_str(zone);
    }
    Some(out)
}
