//! ZIP archives of originals, streamed from the blob store to the blob
//! store with flat memory, whatever the archive's size.
//!
//! # Format
//!
//! - Every entry is *stored* (method 0): photos and videos are compressed
//!   already, so deflate would cost CPU for nothing.
//! - The CRC-32 is computed while the entry streams through (`crc32fast`),
//!   so it cannot be in the local header, which goes out first and is never
//!   rewritten (the sink is a multipart upload: no seeking back). Each
//!   entry therefore sets flag bit 3 and is followed by a *data descriptor*
//!   (with its `PK\x07\x08` signature) holding CRC and sizes; per the
//!   specification (APPNOTE 4.4.4) the local header's CRC and sizes are
//!   zero. The central directory carries everything, as readers expect.
//! - Flag bit 11: names are UTF-8.
//! - Times: the DOS date and time of `modified` in UTC (clamped to
//!   1980–2107), plus an extended-timestamp field (`UT`, 0x5455) with the
//!   exact Unix time, which Info-ZIP, 7-Zip and libarchive prefer (a DOS time
//!   has no zone).
//! - Made by "Unix" with mode `0644`, so extracted files get ordinary
//!   permissions.
//! - ZIP64 only when needed: an entry of 4 GiB or more gets a zip64 extra
//!   field in its local header (sizes 0, as above) and an 8-byte data
//!   descriptor — sizes are known before the entry starts, so this is decided
//!   up front; a size or an offset of 4 GiB or more gets a zip64 extra field
//!   in the central directory; 65,535 entries or more, or a central
//!   directory beyond 4 GiB, get the zip64 end of central directory record
//!   and locator. [`ArchiveOptions::force_zip64`] writes all of them always
//!   (for tests).
//!
//! # Memory and speed
//!
//! Data moves chunk by chunk: blobs are read through [`BlobStore::stream`]
//! (1 MiB at a time from a folder, read ahead) and handed on without
//! copying; headers and small network chunks are gathered in a 1 MiB buffer;
//! the destination takes parts of 8 MiB, at most two in flight.
//! Per archive that is ≈ 30 MiB plus ~100 bytes per entry for the central
//! directory. The next entry's blob is opened while the current one streams
//! (on S3 each object costs a round trip).
//!
//! # Failures
//!
//! A blob whose length differs from its entry's `size`, a missing blob, or
//! any store error aborts the upload: nothing is left under the
//! destination key. So does dropping the future (a cancelled job). A crash
//! of the whole process can leave an unfinished multipart upload (S3: use a
//! lifecycle rule that aborts them) or a hidden staging file
//! `<key>#<n>` beside the key (a folder store).
//!
//! # Entry names ([`entry_names`])
//!
//! Names come from the originals' filenames, made safe to extract anywhere
//! and unique:
//! 1. Only the last path component is kept (split on `/` and `\`); `.` and
//!    `..` as that component leave nothing. A drive prefix (`C:`) goes too.
//! 2. Control characters (NUL, C0, DEL, C1) and bidirectional-text controls
//!    (which can disguise an extension: `photo\u{202E}gpj.exe`) are removed.
//! 3. Characters Windows refuses in a filename (`< > : " | ? *`) become `_`.
//! 4. Leading dots and spaces are removed: a dotfile is hidden once
//!    extracted on Unix and would look like a missing photo. Trailing dots
//!    and spaces are removed too (Windows drops them, so `a.jpg.` would
//!    collide with `a.jpg`).
//! 5. Windows device names (`CON`, `NUL`, `COM1`, … with any extension) get
//!    a leading `_`.
//! 6. Nothing left → `image`.
//! 7. At most 200 bytes: the stem is cut on a character boundary and the
//!    extension (up to 16 bytes after the last dot) kept.
//! 8. Unique ignoring case (`IMG.JPG` and `img.jpg` would overwrite each
//!    other on macOS and Windows): the first holder of a name keeps it; a
//!    later one gets ` (2)`, ` (3)`, … before the extension, never a
//!    number that makes the name of another original in the list (`a.jpg`,
//!    `a.jpg`, `a (2).jpg` → `a.jpg`, `a (3).jpg`, `a (2).jpg`). Case is
//!    folded with Unicode lowercase; canonically equivalent spellings (é as
//!    one or two code points) are not folded.

use std::collections::{HashMap, HashSet};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::blob::{BlobError, BlobStore, BlobWriter};

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// The name inside the archive (see [`entry_names`]); 1 to 65,535 bytes.
    pub name: String,
    /// Where its bytes are in the source store.
    pub blob_key: String,
    /// Its length in bytes; a blob of any other length fails the archive.
    pub size: u64,
    /// Last modified, Unix seconds (for the entry's timestamp).
    pub modified: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveOptions {
    /// Write the ZIP64 records even where the sizes do not need them.
    pub force_zip64: bool,
}

/// What [`write_archive`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveWritten {
    /// Size of the archive.
    pub bytes: u64,
    pub entries: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("entry {index}: a name must be 1 to 65535 bytes")]
    BadName { index: usize },
    /// `actual` is where reading stopped: the whole blob when it was short,
    /// or the first byte past `expected` when it was long.
    #[error("entry {name:?}: blob {key} is not {expected} bytes long (read {actual})")]
    SizeMismatch {
        name: String,
        key: String,
        expected: u64,
        actual: u64,
    },
    #[error("entry {name:?}: reading blob {key}: {source}")]
    Read {
        name: String,
        key: String,
        source: BlobError,
    },
    #[error("writing the archive: {0}")]
    Write(BlobError),
}

/// Small pieces (headers, network chunks) are gathered up to this much
/// before they go to the destination.
const SINK_BUFFER: usize = 1024 * 1024;
/// Chunks at least this big go to the destination as they are (no copy).
const PASS_THROUGH: usize = 256 * 1024;

/// Limit of the 2- and 4-byte fields; a value here means "see ZIP64".
const U16_FULL: u64 = 0xFFFF;
const U32_FULL: u64 = 0xFFFF_FFFF;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const END: u32 = 0x0605_4b50;

/// Bit 3 (CRC and sizes in a data descriptor) | bit 11 (UTF-8 names).
const FLAGS: u16 = 0x0808;
/// Version needed to extract: 2.0 (stored, data descriptor), 4.5 (ZIP64).
const VERSION_PLAIN: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// Made by: Unix (3) « 8 | spec version 4.5.
const MADE_BY: u16 = (3 << 8) | 45;
/// Regular file, rw-r--r--, in the high half of the external attributes.
const EXTERNAL_ATTRS: u32 = 0o100_644 << 16;

const ZIP64_EXTRA: u16 = 0x0001;
const TIMESTAMP_EXTRA: u16 = 0x5455;

/// Streams every entry's blob from `blobs` into a ZIP archive written to
/// `dest_key` in `out` (which may be the same store); see the module doc
/// for the format. `progress(done)` is called after each entry with the
/// number of entries written so far. On any error nothing is left under
/// `dest_key`.
pub async fn write_archive(
    blobs: &BlobStore,
    out: &BlobStore,
    dest_key: &str,
    entries: &[ArchiveEntry],
    options: ArchiveOptions,
    mut progress: impl FnMut(usize) + Send,
) -> Result<ArchiveWritten, ArchiveError> {
    if let Some(index) = entries
        .iter()
        .position(|e| e.name.is_empty() || e.name.len() > U16_FULL as usize)
    {
        return Err(ArchiveError::BadName { index });
    }
    let mut sink = Sink::new(out.writer(dest_key).await.map_err(ArchiveError::Write)?);
    match write_entries(blobs, &mut sink, entries, options, &mut progress).await {
        Ok(()) => {
            let bytes = sink.finish().await.map_err(ArchiveError::Write)?;
            Ok(ArchiveWritten {
                bytes,
                entries: entries.len(),
            })
        }
        Err(e) => {
            sink.writer.abort().await;
            Err(e)
        }
    }
}

/// What the central directory needs of an entry once it is written.
struct Written {
    offset: u64,
    crc: u32,
}

async fn write_entries(
    blobs: &BlobStore,
    sink: &mut Sink,
    entries: &[ArchiveEntry],
    options: ArchiveOptions,
    progress: &mut (impl FnMut(usize) + Send),
) -> Result<(), ArchiveError> {
    let force = options.force_zip64;
    let open = |entry: &ArchiveEntry| {
        let key = entry.blob_key.clone();
        let name = entry.name.clone();
        async move {
            blobs
                .stream(&key, None)
                .await
                .map_err(|source| ArchiveError::Read { name, key, source })
        }
    };
    let mut written = Vec::with_capacity(entries.len());
    let mut next = match entries.first() {
        Some(first) => Some(open(first).await?),
        None => None,
    };
    for (index, entry) in entries.iter().enumerate() {
        let Some(blob) = next.take() else { break };
        let offset = sink.offset;
        let copy = copy_entry(sink, entry, blob, force);
        // Open the next blob while this one streams.
        let (crc, following) = match entries.get(index + 1) {
            Some(following) => {
                let (crc, opened) = futures::future::try_join(copy, open(following)).await?;
                (crc, Some(opened))
            }
            None => (copy.await?, None),
        };
        next = following;
        written.push(Written { offset, crc });
        progress(index + 1);
    }
    let cd_offset = sink.offset;
    for (entry, w) in entries.iter().zip(&written) {
        sink.put_slice(&central_header(entry, w, force)).await?;
    }
    let cd_size = sink.offset - cd_offset;
    sink.put_slice(&end_records(
        entries.len() as u64,
        cd_size,
        cd_offset,
        sink.offset,
        force,
    ))
    .await
}

/// Writes one entry (local header, the blob's bytes, data descriptor);
/// returns its CRC-32.
async fn copy_entry(
    sink: &mut Sink,
    entry: &ArchiveEntry,
    mut blob: BoxStream<'static, Result<Bytes, BlobError>>,
    force: bool,
) -> Result<u32, ArchiveError> {
    let zip64 = force || entry.size >= U32_FULL;
    sink.put_slice(&local_header(entry, zip64)).await?;
    let mismatch = |actual| ArchiveError::SizeMismatch {
        name: entry.name.clone(),
        key: entry.blob_key.clone(),
        expected: entry.size,
        actual,
    };
    let mut crc = crc32fast::Hasher::new();
    let mut read: u64 = 0;
    while let Some(chunk) = blob.next().await {
        let chunk = chunk.map_err(|source| ArchiveError::Read {
            name: entry.name.clone(),
            key: entry.blob_key.clone(),
            source,
        })?;
        read += chunk.len() as u64;
        if read > entry.size {
            return Err(mismatch(read));
        }
        crc.update(&chunk);
        sink.put_bytes(chunk).await?;
    }
    if read != entry.size {
        return Err(mismatch(read));
    }
    let crc = crc.finalize();
    let mut d = Vec::with_capacity(24);
    put32(&mut d, DATA_DESCRIPTOR);
    put32(&mut d, crc);
    if zip64 {
        put64(&mut d, read);
        put64(&mut d, read);
    } else {
        put32(&mut d, read as u32);
        put32(&mut d, read as u32);
    }
    sink.put_slice(&d).await?;
    Ok(crc)
}

fn local_header(entry: &ArchiveEntry, zip64: bool) -> Vec<u8> {
    let (time, date) = dos_datetime(entry.modified);
    let mut extra = Vec::with_capacity(29);
    if zip64 {
        // Both sizes, zero: they follow in the data descriptor.
        put16(&mut extra, ZIP64_EXTRA);
        put16(&mut extra, 16);
        put64(&mut extra, 0);
        put64(&mut extra, 0);
    }
    put_timestamp(&mut extra, entry.modified);
    let size_field = if zip64 { U32_FULL as u32 } else { 0 };
    let mut h = Vec::with_capacity(30 + entry.name.len() + extra.len());
    put32(&mut h, LOCAL_HEADER);
    put16(&mut h, if zip64 { VERSION_ZIP64 } else { VERSION_PLAIN });
    put16(&mut h, FLAGS);
    put16(&mut h, 0); // stored
    put16(&mut h, time);
    put16(&mut h, date);
    put32(&mut h, 0); // CRC-32: in the data descriptor
    put32(&mut h, size_field);
    put32(&mut h, size_field);
    put16(&mut h, entry.name.len() as u16);
    put16(&mut h, extra.len() as u16);
    h.extend_from_slice(entry.name.as_bytes());
    h.extend_from_slice(&extra);
    h
}

fn central_header(entry: &ArchiveEntry, w: &Written, force: bool) -> Vec<u8> {
    let (time, date) = dos_datetime(entry.modified);
    let big_size = force || entry.size >= U32_FULL;
    let big_offset = force || w.offset >= U32_FULL;
    let mut extra = Vec::with_capacity(37);
    if big_size || big_offset {
        // Only the fields whose header value is 0xFFFFFFFF, in this order.
        let fields = if big_size { 16 } else { 0 } + if big_offset { 8 } else { 0 };
        put16(&mut extra, ZIP64_EXTRA);
        put16(&mut extra, fields);
        if big_size {
            put64(&mut extra, entry.size); // uncompressed
            put64(&mut extra, entry.size); // compressed
        }
        if big_offset {
            put64(&mut extra, w.offset);
        }
    }
    put_timestamp(&mut extra, entry.modified);
    let mut h = Vec::with_capacity(46 + entry.name.len() + extra.len());
    put32(&mut h, CENTRAL_HEADER);
    put16(&mut h, MADE_BY);
    put16(
        &mut h,
        if big_size || big_offset {
            VERSION_ZIP64
        } else {
            VERSION_PLAIN
        },
    );
    put16(&mut h, FLAGS);
    put16(&mut h, 0); // stored
    put16(&mut h, time);
    put16(&mut h, date);
    put32(&mut h, w.crc);
    let size = if big_size { U32_FULL } else { entry.size } as u32;
    put32(&mut h, size);
    put32(&mut h, size);
    put16(&mut h, entry.name.len() as u16);
    put16(&mut h, extra.len() as u16);
    put16(&mut h, 0); // comment length
    put16(&mut h, 0); // disk number
    put16(&mut h, 0); // internal attributes
    put32(&mut h, EXTERNAL_ATTRS);
    put32(&mut h, if big_offset { U32_FULL } else { w.offset } as u32);
    h.extend_from_slice(entry.name.as_bytes());
    h.extend_from_slice(&extra);
    h
}

/// The end of central directory record, preceded by the ZIP64 record and
/// locator when a count, size or offset needs them (or `force`).
fn end_records(count: u64, cd_size: u64, cd_offset: u64, at: u64, force: bool) -> Vec<u8> {
    let big_count = force || count >= U16_FULL;
    let big_size = force || cd_size >= U32_FULL;
    let big_offset = force || cd_offset >= U32_FULL;
    let mut r = Vec::with_capacity(98);
    if big_count || big_size || big_offset {
        put32(&mut r, ZIP64_END);
        put64(&mut r, 44); // size of the rest of this record
        put16(&mut r, MADE_BY);
        put16(&mut r, VERSION_ZIP64);
        put32(&mut r, 0); // this disk
        put32(&mut r, 0); // disk of the central directory
        put64(&mut r, count); // entries on this disk
        put64(&mut r, count); // entries in all
        put64(&mut r, cd_size);
        put64(&mut r, cd_offset);
        put32(&mut r, ZIP64_LOCATOR);
        put32(&mut r, 0); // disk of the ZIP64 record
        put64(&mut r, at); // where the ZIP64 record starts
        put32(&mut r, 1); // disks in all
    }
    let count16 = if big_count { U16_FULL } else { count } as u16;
    put32(&mut r, END);
    put16(&mut r, 0); // this disk
    put16(&mut r, 0); // disk of the central directory
    put16(&mut r, count16);
    put16(&mut r, count16);
    put32(&mut r, if big_size { U32_FULL } else { cd_size } as u32);
    put32(&mut r, if big_offset { U32_FULL } else { cd_offset } as u32);
    put16(&mut r, 0); // comment length
    r
}

/// The extended timestamp field (modification time only), when the time
/// fits its signed 32 bits.
fn put_timestamp(extra: &mut Vec<u8>, modified: i64) {
    if let Ok(secs) = i32::try_from(modified) {
        put16(extra, TIMESTAMP_EXTRA);
        put16(extra, 5);
        extra.push(1); // flags: modification time present
        extra.extend_from_slice(&secs.to_le_bytes());
    }
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// (time, date) in MS-DOS form for Unix seconds, in UTC, clamped to the
/// years DOS dates can hold (1980–2107).
fn dos_datetime(unix: i64) -> (u16, u16) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if year < 1980 {
        return (0, (1 << 5) | 1); // 1980-01-01 00:00:00
    }
    if year > 2107 {
        return ((23 << 11) | (59 << 5) | 29, (127 << 9) | (12 << 5) | 31);
    }
    let time = ((secs / 3600) << 11) | ((secs % 3600 / 60) << 5) | ((secs % 60) / 2);
    let date = ((year - 1980) << 9) | (i64::from(month) << 5) | i64::from(day);
    (time as u16, date as u16)
}

/// (year, month, day) of a day count since 1970-01-01 in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The destination: counts the offset, gathers small pieces into large
/// writes.
struct Sink {
    writer: BlobWriter,
    buf: BytesMut,
    offset: u64,
}

impl Sink {
    fn new(writer: BlobWriter) -> Self {
        Self {
            writer,
            buf: BytesMut::with_capacity(SINK_BUFFER),
            offset: 0,
        }
    }

    async fn put_slice(&mut self, data: &[u8]) -> Result<(), ArchiveError> {
        self.offset += data.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SINK_BUFFER {
            self.flush().await?;
        }
        Ok(())
    }

    async fn put_bytes(&mut self, data: Bytes) -> Result<(), ArchiveError> {
        if data.len() < PASS_THROUGH {
            return self.put_slice(&data).await;
        }
        self.flush().await?;
        self.offset += data.len() as u64;
        self.writer.write(data).await.map_err(ArchiveError::Write)
    }

    async fn flush(&mut self) -> Result<(), ArchiveError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buf, BytesMut::with_capacity(SINK_BUFFER));
        self.writer
            .write(full.freeze())
            .await
            .map_err(ArchiveError::Write)
    }

    async fn finish(mut self) -> Result<u64, BlobError> {
        let full = std::mem::take(&mut self.buf);
        if !full.is_empty() {
            self.writer.write(full.freeze()).await?;
        }
        self.writer.finish().await
    }
}

/// Longest entry name, in bytes.
const MAX_NAME: usize = 200;
/// Longest extension kept whole when a name is cut (the dot included).
const MAX_EXTENSION: usize = 17;

/// Safe, unique entry names for originals' filenames, in order (rules in
/// the module doc). An original without a filename can be passed as `""`.
pub fn entry_names<S: AsRef<str>>(originals: &[S]) -> Vec<String> {
    let clean: Vec<String> = originals.iter().map(|o| clean_name(o.as_ref())).collect();
    // Every name some original asks for: a number is never added onto one
    // of these, so a later original still gets its own name.
    let wanted: HashSet<String> = clean.iter().map(|n| n.to_lowercase()).collect();
    let mut taken: HashSet<String> = HashSet::with_capacity(clean.len());
    // Per name, the number to try next (so 10,000 `image.jpg` stay linear).
    let mut next_number: HashMap<String, u64> = HashMap::new();
    clean
        .into_iter()
        .map(|name| {
            let folded = name.to_lowercase();
            if taken.insert(folded.clone()) {
                return name;
            }
            let (stem, ext) = split_extension(&name);
            let number = next_number.entry(folded).or_insert(2);
            loop {
                let suffix = format!(" ({number})");
                *number += 1;
                let stem = cut(stem, MAX_NAME - ext.len() - suffix.len());
                let candidate = format!("{stem}{suffix}{ext}");
                let folded = candidate.to_lowercase();
                if !wanted.contains(&folded) && taken.insert(folded) {
                    return candidate;
                }
            }
        })
        .collect()
}

/// Rules 1–7 of the module doc, for one name.
fn clean_name(original: &str) -> String {
    let last = original.rsplit(['/', '\\']).next().unwrap_or("");
    let last = strip_drive(last);
    let mut name: String = last
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    name = name
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_owned();
    if name.is_empty() {
        return "image".to_owned();
    }
    if is_windows_device(&name) {
        name.insert(0, '_');
    }
    if name.len() > MAX_NAME {
        let (stem, ext) = split_extension(&name);
        let stem = cut(stem, MAX_NAME - ext.len());
        // A cut can end the name on a dot or space again.
        name = format!("{stem}{ext}")
            .trim_end_matches(['.', ' '])
            .to_owned();
    }
    name
}

/// `C:name` → `name` (a drive-relative path on Windows).
fn strip_drive(name: &str) -> &str {
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        &name[2..]
    } else {
        name
    }
}

/// Embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069)
/// and the marks U+200E, U+200F, U+061C.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`, alone or
/// before any extension, in any case.
fn is_windows_device(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or("").trim_end();
    let upper = base.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" => true,
        _ => {
            let b = upper.as_bytes();
            b.len() == 4
                && (upper.starts_with("COM") || upper.starts_with("LPT"))
                && b[3].is_ascii_digit()
        }
    }
}

/// (stem, extension with its dot); no extension unless there is a stem
/// before the last dot and at most 16 bytes after it.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= MAX_EXTENSION && name.len() - dot > 1 => {
            name.split_at(dot)
        }
        _ => (name, ""),
    }
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::blob::{BlobLocation, S3Connection};
    use std::path::Path;
    use std::process::Command;

    /// An independent check of an archive, from the specification rather
    /// than from this module: Python's `zipfile` reads every entry (CRC
    /// checked) and compares it with the expected file; then a sequential
    /// walk checks each local header, the data descriptor after the data,
    /// that entries follow each other without gaps, the timestamps, and the
    /// ZIP64 records (present exactly when forced, in these small archives).
    const CHECK: &str = r#"
import json, struct, sys, time, zipfile
archive, manifest, force = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
expected = json.load(open(manifest))
data = open(archive, "rb").read()

def extras(b):
    out, i = {}, 0
    while i < len(b):
        tag, size = struct.unpack("<HH", b[i:i + 4])
        out[tag] = b[i + 4:i + 4 + size]
        i += 4 + size
    assert i == len(b), "extra fields overrun"
    return out

def dos(secs):
    t = time.gmtime(secs)
    if t.tm_year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec // 2 * 2)

with zipfile.ZipFile(archive) as zf:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == [e["name"] for e in expected], names
    assert zf.testzip() is None
    for info, e in zip(infos, expected):
        want = open(e["path"], "rb").read()
        assert zf.read(info) == want, info.filename
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.flag_bits & 0x808 == 0x808, hex(info.flag_bits)
        assert info.file_size == info.compress_size == len(want)
        assert info.date_time == dos(e["modified"]), (info.date_time, e["modified"])
        x = extras(info.extra)
        assert (1 in x) == force, x
        if -2**31 <= e["modified"] < 2**31:
            assert struct.unpack("<Bi", x[0x5455]) == (1, e["modified"])
        else:
            assert 0x5455 not in x
        assert info.external_attr >> 16 == 0o100644

pos = 0
for info in infos:
    assert info.header_offset == pos, (info.header_offset, pos)
    sig, ver, flags, method, t, d, crc, cs, us, nl, el = struct.unpack("<IHHHHHIIIHH", data[pos:pos + 30])
    assert sig == 0x04034B50 and flags == 0x808 and method == 0 and crc == 0
    assert data[pos + 30:pos + 30 + nl].decode("utf-8") == info.filename
    x = extras(data[pos + 30 + nl:pos + 30 + nl + el])
    z64 = 1 in x
    assert z64 == force
    if z64:
        assert cs == us == 0xFFFFFFFF and x[1] == bytes(16) and ver == 45
    else:
        assert cs == us == 0 and ver == 20
    end = pos + 30 + nl + el + info.file_size
    if z64:
        sig, dcrc, dcs, dus = struct.unpack("<IIQQ", data[end:end + 24])
        pos = end + 24
    else:
        sig, dcrc, dcs, dus = struct.unpack("<IIII", data[end:end + 16])
        pos = end + 16
    assert sig == 0x08074B50 and dcrc == info.CRC and dcs == dus == info.file_size

sig, _, _, n1, n2, cds, cdo, cl = struct.unpack("<IHHHHIIH", data[-22:])
assert sig == 0x06054B50 and cl == 0
if force:
    assert (n1, n2, cds, cdo) == (0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    lsig, _, at, disks = struct.unpack("<IIQI", data[-42:-22])
    assert lsig == 0x07064B50 and disks == 1
    rsig, rsize, _, rver, _, _, c1, c2, cds, cdo = struct.unpack("<IQHHIIQQQQ", data[at:at + 56])
    assert rsig == 0x06064B50 and rsize == 44 and rver == 45
    assert c1 == c2 == len(infos) and at == cdo + cds and at + 56 == len(data) - 42
else:
    assert n1 == n2 == len(infos) and data[-42:-38] != b"PK\x06\x07"
    assert cdo + cds == len(data) - 22
assert cdo == pos, (cdo, pos)
print("ok")
"#;

    fn random_bytes(n: usize) -> Vec<u8> {
        let mut data = vec![0u8; n];
        getrandom::fill(&mut data).unwrap();
        data
    }

    fn folder_store(dir: &Path) -> BlobStore {
        BlobStore::open(&BlobLocation::Dir(dir.to_path_buf())).unwrap()
    }

    /// Stores `files` (original name, bytes, modified) in `store` and
    /// returns the archive entries with their expected bytes.
    async fn put_files(
        store: &BlobStore,
        files: &[(&str, Vec<u8>, i64)],
    ) -> Vec<(ArchiveEntry, Vec<u8>)> {
        let originals: Vec<&str> = files.iter().map(|f| f.0).collect();
        let names = entry_names(&originals);
        let mut out = Vec::new();
        for (i, ((_, data, modified), name)) in files.iter().zip(names).enumerate() {
            let key = format!("originals/test/{i}");
            store.put(&key, Bytes::from(data.clone())).await.unwrap();
            out.push((
                ArchiveEntry {
                    name,
                    blob_key: key,
                    size: data.len() as u64,
                    modified: *modified,
                },
                data.clone(),
            ));
        }
        out
    }

    /// Checks `archive` (a file) with Python and `unzip -t`.
    fn check_archive(archive: &Path, expected: &[(ArchiveEntry, Vec<u8>)], force: bool) {
        let dir = tempfile::tempdir().unwrap();
        let manifest: Vec<serde_json::Value> = expected
            .iter()
            .enumerate()
            .map(|(i, (entry, data))| {
                let path = dir.path().join(i.to_string());
                std::fs::write(&path, data).unwrap();
                serde_json::json!({"name": entry.name, "path": path, "modified": entry.modified})
            })
            .collect();
        let manifest_path = dir.path().join("manifest.json");
        std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        let python = Command::new("python3")
            .arg("-c")
            .arg(CHECK)
            .arg(archive)
            .arg(&manifest_path)
            .arg(if force { "1" } else { "0" })
            .output()
            .unwrap();
        assert!(
            python.status.success() && python.stdout == b"ok\n",
            "python: {}{}",
            String::from_utf8_lossy(&python.stdout),
            String::from_utf8_lossy(&python.stderr)
        );
        if expected.is_empty() {
            return; // `unzip -t` calls an empty archive an error
        }
        let unzip = Command::new("unzip")
            .arg("-t")
            .arg(archive)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&unzip.stdout);
        assert!(
            unzip.status.success() && said.contains("No errors detected"),
            "unzip -t: {said}{}",
            String::from_utf8_lossy(&unzip.stderr)
        );
    }

    /// Files of every awkward kind: a multi-part one, an empty one, names
    /// that clash (also with a later original), escape or carry a drive,
    /// unicode, a small one (gathered in the buffer), old and new times.
    fn awkward_files() -> Vec<(&'static str, Vec<u8>, i64)> {
        vec![
            (
                "IMG_0001.JPG",
                random_bytes(9 * 1024 * 1024 + 17),
                1_709_214_331,
            ),
            ("empty.jpg", Vec::new(), 1_600_000_000),
            ("img_0001.jpg", random_bytes(5000), 1_600_000_001),
            ("../../etc/passwd", random_bytes(300), 0),
            ("C:\\x\\y.jpg", random_bytes(70_000), 4_102_444_799),
            ("été 📷.jpg", random_bytes(1000), 1_234_567_890),
            ("IMG_0001 (2).JPG", random_bytes(300_000), 1_700_000_000),
        ]
    }

    const AWKWARD_NAMES: [&str; 7] = [
        "IMG_0001.JPG",
        "empty.jpg",
        "img_0001 (3).jpg",
        "passwd",
        "y.jpg",
        "été 📷.jpg",
        "IMG_0001 (2).JPG",
    ];

    async fn archive_reads_back(force_zip64: bool) {
        let dir = tempfile::tempdir().unwrap();
        let store = folder_store(dir.path());
        let expected = put_files(&store, &awkward_files()).await;
        let names: Vec<&str> = expected.iter().map(|(e, _)| e.name.as_str()).collect();
        assert_eq!(names, AWKWARD_NAMES);
        let entries: Vec<ArchiveEntry> = expected.iter().map(|(e, _)| e.clone()).collect();
        let mut seen = Vec::new();
        let written = write_archive(
            &store,
            &store,
            "archives/a.zip",
            &entries,
            ArchiveOptions { force_zip64 },
            |done| seen.push(done),
        )
        .await
        .unwrap();
        assert_eq!(seen, (1..=entries.len()).collect::<Vec<_>>());
        assert_eq!(written.entries, entries.len());
        let path = dir.path().join("archives/a.zip");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), written.bytes);
        check_archive(&path, &expected, force_zip64);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_archive_reads_back_entry_by_entry() {
        archive_reads_back(false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_zip64_archive_reads_back_entry_by_entry() {
        archive_reads_back(true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_empty_archive_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let store = folder_store(dir.path());
        for force_zip64 in [false, true] {
            let written = write_archive(
                &store,
                &store,
                "archives/empty.zip",
                &[],
                ArchiveOptions { force_zip64 },
                |_| {},
            )
            .await
            .unwrap();
            assert_eq!(written.bytes, if force_zip64 { 22 + 56 + 20 } else { 22 });
            check_archive(&dir.path().join("archives/empty.zip"), &[], force_zip64);
        }
    }

    /// Files in `dir` and below (staging files included).
    fn files_under(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    stack.push(entry.path());
                } else {
                    out.push(entry.path().display().to_string());
                }
            }
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_blob_of_another_length_or_a_missing_one_fails_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = folder_store(dir.path());
        let good = put_files(&store, &awkward_files()).await;
        let good: Vec<ArchiveEntry> = good.into_iter().map(|(e, _)| e).collect();
        // The big first entry: a whole part is out before the error.
        for (index, delta) in [(0, 1i64), (0, -1), (2, 1), (2, -1), (1, 1)] {
            let mut entries = good.clone();
            let want = entries[index].size.checked_add_signed(delta).unwrap();
            entries[index].size = want;
            let result = write_archive(
                &store,
                &store,
                "archives/bad.zip",
                &entries,
                ArchiveOptions::default(),
                |_| {},
            )
            .await;
            match result {
                Err(ArchiveError::SizeMismatch {
                    expected, actual, ..
                }) => {
                    assert_eq!(expected, want);
                    assert_ne!(actual, expected);
                }
                other => panic!("{index} {delta}: {other:?}"),
            }
            assert!(matches!(
                store.size("archives/bad.zip").await,
                Err(BlobError::NotFound(_))
            ));
            assert_eq!(
                files_under(&dir.path().join("archives")),
                Vec::<String>::new()
            );
        }
        let mut entries = good.clone();
        entries[3].blob_key = "originals/test/missing".to_owned();
        let result = write_archive(
            &store,
            &store,
            "archives/bad.zip",
            &entries,
            ArchiveOptions::default(),
            |_| {},
        )
        .await;
        assert!(
            matches!(
                result,
                Err(ArchiveError::Read {
                    source: BlobError::NotFound(_),
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(
            files_under(&dir.path().join("archives")),
            Vec::<String>::new()
        );
        let mut entries = good;
        entries[1].name = String::new();
        let result = write_archive(
            &store,
            &store,
            "archives/bad.zip",
            &entries,
            ArchiveOptions::default(),
            |_| {},
        )
        .await;
        assert!(matches!(result, Err(ArchiveError::BadName { index: 1 })));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_archive_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = folder_store(dir.path());
        let entries: Vec<ArchiveEntry> = put_files(&store, &awkward_files())
            .await
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        let (tell, first_done) = tokio::sync::oneshot::channel();
        let mut tell = Some(tell);
        let archive = write_archive(
            &store,
            &store,
            "archives/cancelled.zip",
            &entries,
            ArchiveOptions::default(),
            move |_| {
                if let Some(tell) = tell.take() {
                    let _ = tell.send(());
                }
            },
        );
        // The job is dropped once the first entry (a whole part) is out.
        tokio::select! {
            biased;
            _ = first_done => {}
            _ = archive => panic!("finished before it was cancelled"),
        }
        // The staging file is removed on the blocking pool, soon after.
        for _ in 0..100 {
            if files_under(&dir.path().join("archives")).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(
            files_under(&dir.path().join("archives")),
            Vec::<String>::new()
        );
        assert!(store.size("archives/cancelled.zip").await.is_err());
    }

    /// Against the S3-compatible test server when `LIGHTBOX_TEST_S3_ENDPOINT`
    /// is set: an archive of several parts from and to a bucket, and a
    /// failed one that leaves neither an object nor an unfinished upload.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_archive_on_s3_spans_parts() {
        let Ok(endpoint) = std::env::var("LIGHTBOX_TEST_S3_ENDPOINT") else {
            eprintln!("skipped: LIGHTBOX_TEST_S3_ENDPOINT is not set (no S3 server)");
            return;
        };
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let bucket = format!("lbt-{}", uuid::Uuid::new_v4().simple());
        let created = http
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
        let location = BlobLocation::parse(
            &format!("s3://{bucket}/lightbox"),
            S3Connection {
                endpoint: Some(endpoint.clone()),
                region: Some("us-east-1".to_owned()),
                access_key_id: Some("test".to_owned()),
                secret_access_key: Some("test".to_owned()),
            },
        )
        .unwrap();
        let store = BlobStore::open(&location).unwrap();
        let mut files = awkward_files();
        files.push(("more.jpg", random_bytes(8 * 1024 * 1024), 1_700_000_000));
        let expected = put_files(&store, &files).await;
        let entries: Vec<ArchiveEntry> = expected.iter().map(|(e, _)| e.clone()).collect();
        let written = write_archive(
            &store,
            &store,
            "archives/s3.zip",
            &entries,
            ArchiveOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
        assert!(written.bytes > 2 * 8 * 1024 * 1024, "{}", written.bytes);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s3.zip");
        let mut file = std::fs::File::create(&path).unwrap();
        let mut stream = store.stream("archives/s3.zip", None).await.unwrap();
        while let Some(chunk) = stream.next().await {
            std::io::Write::write_all(&mut file, &chunk.unwrap()).unwrap();
        }
        drop(file);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), written.bytes);
        check_archive(&path, &expected, false);

        let mut bad = entries;
        bad[6].size += 1; // after more than a part has gone up
        let result = write_archive(
            &store,
            &store,
            "archives/bad.zip",
            &bad,
            ArchiveOptions::default(),
            |_| {},
        )
        .await;
        assert!(
            matches!(result, Err(ArchiveError::SizeMismatch { .. })),
            "{result:?}"
        );
        assert!(matches!(
            store.size("archives/bad.zip").await,
            Err(BlobError::NotFound(_))
        ));
        let uploads = http
            .get(format!("{endpoint}/{bucket}?uploads"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(uploads.matches("<Upload>").count(), 0, "{uploads}");
    }

    #[test]
    fn names_keep_the_last_component_and_lose_what_is_unsafe() {
        let cases = [
            ("photo.jpg", "photo.jpg"),
            ("../../etc/passwd", "passwd"),
            ("a/b\\c.jpg", "c.jpg"),
            ("C:\\x\\y.jpg", "y.jpg"),
            ("C:y.jpg", "y.jpg"),
            ("dir/", "image"),
            ("..", "image"),
            ("a/..", "image"),
            (".", "image"),
            ("", "image"),
            ("\0\u{1}\u{7f}\u{85}", "image"),
            ("a\0b\nc.jpg", "abc.jpg"),
            ("photo\u{202E}gpj.exe", "photogpj.exe"),
            (".hidden.jpg", "hidden.jpg"),
            ("...jpg", "jpg"),
            ("  spaced .jpg. ", "spaced .jpg"),
            ("what?<x>|\"y\"*.jpg", "what__x___y__.jpg"),
            ("12:30.jpg", "12_30.jpg"),
            ("con.jpg", "_con.jpg"),
            ("LPT1", "_LPT1"),
            ("console.jpg", "console.jpg"),
            ("Été à Paris 📷.JPG", "Été à Paris 📷.JPG"),
        ];
        for (original, want) in cases {
            assert_eq!(entry_names(&[original]), [want], "{original:?}");
        }
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.jpeg", "é".repeat(150)); // 300 + 5 bytes
        let [name] = <[String; 1]>::try_from(entry_names(&[&long])).unwrap();
        assert!(name.len() <= 200 && name.len() >= 199, "{}", name.len());
        assert!(name.ends_with("é.jpeg"));
        let names = entry_names(&[long.as_str(), long.as_str()]);
        assert!(names[1].len() <= 200 && names[1].ends_with("é (2).jpeg"));
        assert_ne!(names[0].to_lowercase(), names[1].to_lowercase());
        // An "extension" too long to be one is not kept whole.
        let odd = format!("a.{}", "x".repeat(300));
        assert_eq!(entry_names(&[&odd])[0].len(), 200);
        assert_eq!(entry_names(&[&"x".repeat(250)])[0], "x".repeat(200));
    }

    #[test]
    fn names_are_unique_ignoring_case_and_never_take_a_later_original() {
        assert_eq!(
            entry_names(&["a.jpg", "A.JPG", "a.jpg"]),
            ["a.jpg", "A (2).JPG", "a (3).jpg"]
        );
        assert_eq!(
            entry_names(&["a.jpg", "a.jpg", "a (2).jpg"]),
            ["a.jpg", "a (3).jpg", "a (2).jpg"]
        );
        assert_eq!(
            entry_names(&["x/a.jpg", "y/a.jpg", "", ""]),
            ["a.jpg", "a (2).jpg", "image", "image (2)"]
        );
        assert_eq!(entry_names(&["a (2)", "a (2)"]), ["a (2)", "a (2) (2)"]);
        // Many of one name stay fast and distinct.
        let many = vec!["image.jpg"; 10_000];
        let names = entry_names(&many);
        let distinct: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(distinct.len(), 10_000);
        assert_eq!(names[9_999], "image (10000).jpg");
    }

    /// Offsets and counts beyond the 16/32-bit fields, without writing 4 GiB
    /// (the archive tests above cover the forced layout end to end).
    #[test]
    fn zip64_fields_appear_only_where_needed() {
        let entry = ArchiveEntry {
            name: "a.jpg".to_owned(),
            blob_key: "k".to_owned(),
            size: 100,
            modified: 1_700_000_000,
        };
        let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        // Small size, far offset: only the offset moves to the zip64 field.
        let far = Written {
            offset: 5_000_000_000,
            crc: 7,
        };
        let h = central_header(&entry, &far, false);
        assert_eq!(u16_at(&h, 6), 45);
        assert_eq!((u32_at(&h, 20), u32_at(&h, 24)), (100, 100));
        assert_eq!(u32_at(&h, 42), 0xFFFF_FFFF);
        let extra = &h[46 + 5..];
        assert_eq!((u16_at(extra, 0), u16_at(extra, 2)), (1, 8));
        assert_eq!(u64_at(extra, 4), 5_000_000_000);
        assert_eq!(u16_at(extra, 12), 0x5455);
        // Near offset, small size: no zip64 field at all.
        let near = Written { offset: 10, crc: 7 };
        let h = central_header(&entry, &near, false);
        assert_eq!((u16_at(&h, 6), u32_at(&h, 42)), (20, 10));
        assert_eq!(u16_at(&h, 46 + 5), 0x5455);
        // A 5 GB entry: zip64 local header (sizes follow), both sizes in
        // the central zip64 field.
        let big = ArchiveEntry {
            size: 5_000_000_000,
            ..entry.clone()
        };
        let l = local_header(&big, big.size >= U32_FULL);
        assert_eq!((u32_at(&l, 18), u32_at(&l, 22)), (0xFFFF_FFFF, 0xFFFF_FFFF));
        assert_eq!((u16_at(&l, 30 + 5), u16_at(&l, 32 + 5)), (1, 16));
        let h = central_header(&big, &near, false);
        let extra = &h[46 + 5..];
        assert_eq!((u16_at(extra, 0), u16_at(extra, 2)), (1, 16));
        assert_eq!((u64_at(extra, 4), u64_at(extra, 12)), (big.size, big.size));
        // 70,000 entries, central directory beyond 4 GiB: the zip64 end
        // records, and sentinels in the classic one where values overflow.
        let at = 5_000_000_000 + 9_000_000;
        let r = end_records(70_000, 9_000_000, 5_000_000_000, at, false);
        assert_eq!(r.len(), 56 + 20 + 22);
        assert_eq!(u32_at(&r, 0), ZIP64_END);
        assert_eq!((u64_at(&r, 24), u64_at(&r, 32)), (70_000, 70_000));
        assert_eq!((u64_at(&r, 40), u64_at(&r, 48)), (9_000_000, 5_000_000_000));
        assert_eq!((u32_at(&r, 56), u64_at(&r, 64)), (ZIP64_LOCATOR, at));
        let end = &r[76..];
        assert_eq!((u16_at(end, 8), u16_at(end, 10)), (0xFFFF, 0xFFFF));
        assert_eq!((u32_at(end, 12), u32_at(end, 16)), (9_000_000, 0xFFFF_FFFF));
        // Small: the classic record alone.
        let r = end_records(3, 200, 1000, 1200, false);
        assert_eq!(r.len(), 22);
        assert_eq!(
            (u16_at(&r, 10), u32_at(&r, 12), u32_at(&r, 16)),
            (3, 200, 1000)
        );
    }

    #[test]
    fn dos_times_are_utc_and_clamped() {
        // 2024-02-29 13:45:31 UTC (seconds are kept in twos).
        let (time, date) = dos_datetime(1_709_214_331);
        assert_eq!(date, (44 << 9) | (2 << 5) | 29);
        assert_eq!(time, (13 << 11) | (45 << 5) | 15);
        assert_eq!(dos_datetime(0), (0, (1 << 5) | 1));
        assert_eq!(dos_datetime(-1), (0, (1 << 5) | 1));
        assert_eq!(dos_datetime(i64::from(u32::MAX) * 2).1 >> 9, 127);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
