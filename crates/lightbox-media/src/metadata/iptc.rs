//! IPTC IIM (the "legacy" IPTC block): record 2 datasets, as found in a JPEG's
//! `APP13 Photoshop 3.0` segment (image resource `8BIM` 0x0404) or a TIFF's
//! tag 33723. Text is UTF-8 when declared (1:90 `ESC % G`) or valid, else
//! Latin-1.

use std::collections::BTreeMap;

use super::{MAX_KEYWORDS, MAX_TEXT, clean_text};

/// What Lightbox takes from an IIM block.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IptcData {
    /// IPTC Core keys: headline, caption, creator, creator_job_title, credit_line, source,
    /// copyright_notice, instructions, job_id, city, state, country, country_code, location.
    pub fields: BTreeMap<&'static str, String>,
    /// 2:05 Object Name.
    pub title: Option<String>,
    /// 2:25 Keywords, deduplicated, in order.
    pub keywords: Vec<String>,
    /// 2:55 Date Created + 2:60 Time Created, as `YYYY-MM-DD[THH:MM:SS[±HH:MM]]`.
    pub date_created: Option<String>,
}

/// The IIM bytes inside a Photoshop image-resource block (the payload of a
/// JPEG APP13 segment after `Photoshop 3.0\0`, or the block itself).
pub fn from_photoshop(block: &[u8]) -> Option<&[u8]> {
    let mut b = block.strip_prefix(b"Photoshop 3.0\0").unwrap_or(block);
    while b.len() >= 12 {
        if &b[0..4] != b"8BIM" {
            return None;
        }
        let id = u16::from_be_bytes([b[4], b[5]]);
        // Pascal name, padded so that length byte + name is even.
        let name_len = usize::from(b[6]);
        let mut at = 6 + name_len + 1;
        if (name_len + 1) % 2 == 1 {
            at += 1;
        }
        let size = u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?);
        let size = usize::try_from(size).ok()?;
        let data_start = at + 4;
        let data_end = data_start.checked_add(size)?;
        if id == 0x0404 {
            return b.get(data_start..data_end.min(b.len()));
        }
        let next = data_end.checked_add(size % 2)?;
        b = b.get(next..)?;
    }
    None
}

/// Reads record-2 datasets from IIM bytes. Never panics.
pub fn parse(iim: &[u8]) -> IptcData {
    let mut out = IptcData::default();
    let mut utf8 = false;
    let mut raw: Vec<(u8, u8, &[u8])> = Vec::new();
    let mut i = 0usize;
    while i + 5 <= iim.len() && raw.len() < 4096 {
        if iim[i] != 0x1C {
            // Some writers pad; stop at the first non-tag byte.
            break;
        }
        let record = iim[i + 1];
        let dataset = iim[i + 2];
        let len_field = u16::from_be_bytes([iim[i + 3], iim[i + 4]]);
        let (len, header) = if len_field & 0x8000 != 0 {
            // Extended dataset: the low bits give the byte count of the length.
            let n = usize::from(len_field & 0x7fff);
            if n == 0 || n > 4 {
                break;
            }
            let Some(bytes) = iim.get(i + 5..i + 5 + n) else {
                break;
            };
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, 5 + n)
        } else {
            (usize::from(len_field), 5)
        };
        let start = i + header;
        let Some(end) = start.checked_add(len) else {
            break;
        };
        let Some(value) = iim.get(start..end) else {
            break;
        };
        if record == 1 && dataset == 90 && value.starts_with(b"\x1b%G") {
            utf8 = true;
        }
        raw.push((record, dataset, value));
        i = end;
    }
    let text = |v: &[u8]| -> Option<String> {
        let s = if utf8 {
            String::from_utf8_lossy(v).into_owned()
        } else {
            super::decode_text(v)
        };
        clean_text(&s, MAX_TEXT)
    };
    let mut date = None;
    let mut time = None;
    for (record, dataset, value) in raw {
        if record != 2 {
            continue;
        }
        let key = match dataset {
            5 => {
                if out.title.is_none() {
                    out.title = text(value);
                }
                continue;
            }
            25 => {
                if let Some(k) = text(value) {
                    super::push_keyword(&mut out.keywords, k);
                }
                if out.keywords.len() >= MAX_KEYWORDS {
                    continue;
                }
                continue;
            }
            55 => {
                date = text(value);
                continue;
            }
            60 => {
                time = text(value);
                continue;
            }
            105 => "headline",
            120 => "caption",
            80 => "creator",
            85 => "creator_job_title",
            110 => "credit_line",
            115 => "source",
            116 => "copyright_notice",
            40 => "instructions",
            103 => "job_id",
            90 => "city",
            95 => "state",
            101 => "country",
            100 => "country_code",
            92 => "location",
            _ => continue,
        };
        if let Some(v) = text(value) {
            // Repeated datasets (several creators): joined.
            out.fields
                .entry(key)
                .and_modify(|old| {
                    if old.len() + v.len() < MAX_TEXT {
                        old.push_str("; ");
                        old.push_str(&v);
                    }
                })
                .or_insert(v);
        }
    }
    out.date_created = date.and_then(|d| iim_date(&d, time.as_deref()));
    out
}

/// `20240714` + `213005+0200` → `2024-07-14T21:30:05+02:00`.
fn iim_date(d: &str, t: Option<&str>) -> Option<String> {
    let d = d.as_bytes();
    if d.len() != 8 || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s = std::str::from_utf8(d).ok()?;
    let (y, m, day) = (&s[0..4], &s[4..6], &s[6..8]);
    if y == "0000" || !("01"..="12").contains(&m) || !("01"..="31").contains(&day) {
        return None;
    }
    let date = format!("{y}-{m}-{day}");
    let Some(t) = t else {
        return Some(date);
    };
    let tb = t.as_bytes();
    if tb.len() < 6 || !tb[..6].iter().all(u8::is_ascii_digit) {
        return Some(date);
    }
    let (h, mi, sec) = (&t[0..2], &t[2..4], &t[4..6]);
    if h > "23" || mi > "59" || sec > "60" {
        return Some(date);
    }
    let mut out = format!("{date}T{h}:{mi}:{sec}");
    if tb.len() == 11 && matches!(tb[6], b'+' | b'-') && tb[7..].iter().all(u8::is_ascii_digit) {
        out.push_str(&format!("{}{}:{}", &t[6..7], &t[7..9], &t[9..11]));
    }
    Some(out)
}
