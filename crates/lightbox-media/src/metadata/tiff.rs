//! A minimal, bounds-checked TIFF IFD reader: enough to find a tag's value
//! (image size, the XMP packet in tag 700, IPTC in tag 33723) without the
//! Exif parser. Classic TIFF only (not BigTIFF).

#[derive(Clone, Copy)]
pub(crate) struct Tiff<'a> {
    data: &'a [u8],
    little: bool,
}

/// One IFD entry: tag, type and the 4 value-or-offset bytes' position.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub tag: u16,
    pub typ: u16,
    pub value_at: usize,
}

impl<'a> Tiff<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Option<Self> {
        let little = match data.get(0..4)? {
            b"II*\0" => true,
            b"MM\0*" => false,
            _ => return None,
        };
        Some(Tiff { data, little })
    }

    pub(crate) fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    pub(crate) fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// Offset of IFD0.
    pub(crate) fn first_ifd(&self) -> Option<usize> {
        usize::try_from(self.u32_at(4)?).ok()
    }

    /// The entries of the IFD at `ifd` (at most 1024).
    pub(crate) fn entries(&self, ifd: usize) -> impl Iterator<Item = Entry> + '_ {
        let count = self.u16_at(ifd).unwrap_or(0).min(1024);
        (0..usize::from(count)).filter_map(move |i| {
            let at = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
            Some(Entry {
                tag: self.u16_at(at)?,
                typ: self.u16_at(at + 2)?,
                value_at: at + 8,
            })
        })
    }

    pub(crate) fn find(&self, ifd: usize, tag: u16) -> Option<Entry> {
        self.entries(ifd).find(|e| e.tag == tag)
    }

    /// A SHORT or LONG tag's first value.
    pub(crate) fn tag_u32(&self, ifd: usize, tag: u16) -> Option<u32> {
        let e = self.find(ifd, tag)?;
        match e.typ {
            3 => self.u16_at(e.value_at).map(u32::from),
            4 => self.u32_at(e.value_at),
            _ => None,
        }
    }
}
