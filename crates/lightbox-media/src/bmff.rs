//! A tiny ISO base media file format (ISO/IEC 14496-12) box walker, shared by
//! HEIF (dimensions, Exif/XMP items) and MP4/MOV (duration, size, place, time).
//! Every read is bounds-checked; a box that claims more bytes than the slice
//! holds is handed out cut at the slice's end.

/// One box: its four-character type and its payload (after the header).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BmffBox<'a> {
    pub kind: [u8; 4],
    pub payload: &'a [u8],
}

/// The boxes of one level.
pub(crate) struct Boxes<'a> {
    data: &'a [u8],
    pos: usize,
}

pub(crate) fn boxes(data: &[u8]) -> Boxes<'_> {
    Boxes { data, pos: 0 }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = BmffBox<'a>;

    fn next(&mut self) -> Option<BmffBox<'a>> {
        let rest = self.data.get(self.pos..)?;
        let size32 = u32::from_be_bytes(rest.get(0..4)?.try_into().ok()?);
        let kind: [u8; 4] = rest.get(4..8)?.try_into().ok()?;
        let (header, size) = match size32 {
            0 => (8usize, rest.len() as u64),
            1 => (
                16usize,
                u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?),
            ),
            n => (8usize, u64::from(n)),
        };
        if size < header as u64 {
            self.pos = self.data.len();
            return None;
        }
        let end = usize::try_from(size).unwrap_or(usize::MAX).min(rest.len());
        let payload = rest.get(header..end).unwrap_or(&[]);
        self.pos = self.pos.saturating_add(end).max(self.pos + header);
        if end < usize::try_from(size).unwrap_or(usize::MAX) {
            // Cut short: nothing follows.
            self.pos = self.data.len();
        }
        Some(BmffBox { kind, payload })
    }
}

/// The first child box of type `kind`.
pub(crate) fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<BmffBox<'a>> {
    boxes(data).find(|b| &b.kind == kind)
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
pub(crate) fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Reads an unsigned big-endian integer of `n` (0, 2, 4 or 8) bytes.
fn be_n(b: &[u8], at: usize, n: usize) -> Option<u64> {
    match n {
        0 => Some(0),
        2 => be16(b, at).map(u64::from),
        4 => be32(b, at).map(u64::from),
        8 => be64(b, at),
        _ => None,
    }
}

/// The largest `ispe` (image spatial extent) property of a HEIF file: the
/// size of the full image (a grid's tiles have smaller ones).
pub(crate) fn heif_dimensions(file: &[u8]) -> Option<(u32, u32)> {
    heif_meta_dimensions(find(file, b"meta")?.payload)
}

/// [`heif_dimensions`] from the payload of the `meta` box.
pub(crate) fn heif_meta_dimensions(meta: &[u8]) -> Option<(u32, u32)> {
    let meta_children = meta.get(4..)?; // full box: version + flags
    let iprp = find(meta_children, b"iprp")?;
    let ipco = find(iprp.payload, b"ipco")?;
    boxes(ipco.payload)
        .filter(|b| &b.kind == b"ispe")
        .filter_map(|b| Some((be32(b.payload, 4)?, be32(b.payload, 8)?)))
        .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h))
}

/// The bytes of the first HEIF item of type `item_type` (`Exif`, or `mime`
/// with content type `application/rdf+xml` for XMP) when they lie inside
/// `file`; construction method 0 (file offsets) only.
pub(crate) fn heif_item<'a>(file: &'a [u8], item_type: &[u8; 4]) -> Option<&'a [u8]> {
    let meta = find(file, b"meta")?;
    let children = meta.payload.get(4..)?;
    let iinf = find(children, b"iinf")?;
    let version = *iinf.payload.first()?;
    let entries = iinf.payload.get(if version == 0 { 6 } else { 8 }..)?;
    let mut item_id = None;
    for infe in boxes(entries).filter(|b| &b.kind == b"infe") {
        let p = infe.payload;
        let v = *p.first()?;
        if v < 2 {
            continue;
        }
        let (id, at) = if v == 2 {
            (u32::from(be16(p, 4)?), 8)
        } else {
            (be32(p, 4)?, 10)
        };
        let kind = p.get(at..at + 4)?;
        if kind == item_type {
            if item_type == b"mime" {
                // name\0 content_type\0
                let rest = p.get(at + 4..)?;
                let mut parts = rest.split(|c| *c == 0);
                let _name = parts.next();
                if parts.next() != Some(b"application/rdf+xml".as_slice()) {
                    continue;
                }
            }
            item_id = Some(id);
            break;
        }
    }
    let item_id = item_id?;
    let iloc = find(children, b"iloc")?;
    let p = iloc.payload;
    let version = *p.first()?;
    let sizes = be16(p, 4)?;
    let offset_size = usize::from(sizes >> 12);
    let length_size = usize::from((sizes >> 8) & 0xf);
    let base_offset_size = usize::from((sizes >> 4) & 0xf);
    let index_size = if version >= 1 {
        usize::from(sizes & 0xf)
    } else {
        0
    };
    let mut at = 6;
    let count = if version < 2 {
        let c = u32::from(be16(p, at)?);
        at += 2;
        c
    } else {
        let c = be32(p, at)?;
        at += 4;
        c
    };
    for _ in 0..count.min(4096) {
        let id = if version < 2 {
            let v = u32::from(be16(p, at)?);
            at += 2;
            v
        } else {
            let v = be32(p, at)?;
            at += 4;
            v
        };
        let method = if version >= 1 {
            let m = be16(p, at)? & 0xf;
            at += 2;
            m
        } else {
            0
        };
        at += 2; // data_reference_index
        let base = be_n(p, at, base_offset_size)?;
        at += base_offset_size;
        let extents = be16(p, at)?;
        at += 2;
        let mut first = None;
        for _ in 0..extents {
            at += index_size;
            let off = be_n(p, at, offset_size)?;
            at += offset_size;
            let len = be_n(p, at, length_size)?;
            at += length_size;
            first.get_or_insert((off, len));
        }
        if id == item_id {
            if method != 0 {
                return None;
            }
            let (off, len) = first?;
            let start = usize::try_from(base.checked_add(off)?).ok()?;
            let len = usize::try_from(len).ok()?;
            let end = if len == 0 {
                file.len()
            } else {
                start.checked_add(len)?
            };
            return file.get(start..end);
        }
    }
    None
}
