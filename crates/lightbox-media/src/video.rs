//! Videos (MP4, MOV): container metadata from the `moov` box (our own small
//! box reader, no codec), and a poster frame through the `ffmpeg` binary when
//! it is installed.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bmff::{self, be32, be64};
use crate::render::{RenderError, RenderLimits, Rendered, VersionSpec};
use crate::sniff::MediaKind;

/// What a video's container says about it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct VideoInfo {
    /// Display size (after the track's rotation matrix).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    /// RFC 3339: Apple's `creationdate` (local time with offset), else the
    /// movie header's creation time (UTC).
    pub taken_at: Option<String>,
    /// (lat, lng) from `©xyz` or Apple's ISO 6709 location.
    pub geo: Option<(f64, f64)>,
}

/// Largest `moov` box read from a file.
const MAX_MOOV: u64 = 64 << 20;

/// Reads the container metadata of the video at `path`. Never panics; fields
/// it cannot find are None.
pub fn probe_video(path: &Path) -> VideoInfo {
    probe_file(path).unwrap_or_default()
}

fn probe_file(path: &Path) -> Option<VideoInfo> {
    top_level_box(path, b"moov", MAX_MOOV).map(|moov| parse_moov(&moov))
}

/// The payload (at most `max` bytes) of the first top-level box of type
/// `kind` in the ISO-BMFF file at `path`, found by seeking from box header
/// to box header: a box behind gigabytes of media data costs a few reads.
pub(crate) fn top_level_box(path: &Path, kind: &[u8; 4], max: u64) -> Option<Vec<u8>> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut pos = 0u64;
    for _ in 0..1024 {
        if pos.checked_add(8)? > len {
            return None;
        }
        f.seek(SeekFrom::Start(pos)).ok()?;
        let mut h = [0u8; 16];
        let got = f.read(&mut h).ok()?;
        if got < 8 {
            return None;
        }
        let size32 = be32(&h, 0)?;
        let (header, size) = match size32 {
            0 => (8, len - pos),
            1 if got >= 16 => (16, be64(&h, 8)?),
            1 => return None,
            n => (8, u64::from(n)),
        };
        if size < header {
            return None;
        }
        if &h[4..8] == kind {
            let body = (size - header).min(max);
            f.seek(SeekFrom::Start(pos + header)).ok()?;
            let mut payload = Vec::new();
            f.take(body).read_to_end(&mut payload).ok()?;
            return Some(payload);
        }
        pos = pos.checked_add(size)?;
    }
    None
}

/// [`probe_video`] over bytes (a whole file or its head; a `moov` box cut
/// short gives what it holds). Never panics.
pub fn probe_video_bytes(data: &[u8]) -> VideoInfo {
    bmff::boxes(data)
        .take(1024)
        .find(|b| &b.kind == b"moov")
        .map(|m| parse_moov(m.payload))
        .unwrap_or_default()
}

fn parse_moov(moov: &[u8]) -> VideoInfo {
    let mut info = VideoInfo::default();
    let mut creation_utc = None;
    for b in bmff::boxes(moov).take(4096) {
        match &b.kind {
            b"mvhd" => {
                let p = b.payload;
                let (created, timescale, duration) = match p.first() {
                    Some(1) => (be64(p, 4), be32(p, 20), be64(p, 24)),
                    Some(0) => (
                        be32(p, 4).map(u64::from),
                        be32(p, 12),
                        be32(p, 16).map(u64::from),
                    ),
                    _ => (None, None, None),
                };
                if let (Some(ts), Some(d)) = (timescale, duration)
                    && ts > 0
                    && d > 0
                    && d != u64::from(u32::MAX)
                    && d != u64::MAX
                {
                    let secs = d as f64 / f64::from(ts);
                    if secs.is_finite() {
                        info.duration_secs = Some(secs);
                    }
                }
                creation_utc = created.and_then(mac_time);
            }
            b"trak" if info.width.is_none() => {
                if let Some((w, h)) = track_size(b.payload) {
                    info.width = Some(w);
                    info.height = Some(h);
                }
            }
            b"udta" => {
                if let Some(xyz) = bmff::find(b.payload, &[0xA9, b'x', b'y', b'z']) {
                    // u16 length, u16 language, text
                    let text = xyz.payload.get(4..).unwrap_or(&[]);
                    if info.geo.is_none() {
                        info.geo = iso6709(&String::from_utf8_lossy(text));
                    }
                }
                if let Some(meta) = bmff::find(b.payload, b"meta") {
                    apple_meta(meta.payload, &mut info);
                }
            }
            b"meta" => apple_meta(b.payload, &mut info),
            _ => {}
        }
    }
    if info.taken_at.is_none() {
        info.taken_at = creation_utc;
    }
    info
}

/// Width and height of a video track (tkhd, 16.16 fixed), swapped when its
/// matrix turns it by 90°.
fn track_size(trak: &[u8]) -> Option<(u32, u32)> {
    let tkhd = bmff::find(trak, b"tkhd")?.payload;
    let base = match tkhd.first()? {
        0 => 40,
        1 => 52,
        _ => return None,
    };
    let a = be32(tkhd, base)? as i32;
    let b = be32(tkhd, base + 4)? as i32;
    let w = be32(tkhd, base + 36)? >> 16;
    let h = be32(tkhd, base + 40)? >> 16;
    if w == 0 || h == 0 {
        return None;
    }
    Some(if a == 0 && b != 0 { (h, w) } else { (w, h) })
}

/// QuickTime `meta` (keys + ilst): com.apple.quicktime.location.ISO6709 and
/// com.apple.quicktime.creationdate.
fn apple_meta(meta: &[u8], info: &mut VideoInfo) {
    // QuickTime's meta is a plain box, ISO's a full box (4 more bytes).
    let meta = if meta.get(4..8) == Some(b"hdlr") {
        meta
    } else {
        meta.get(4..).unwrap_or(&[])
    };
    let Some(keys) = bmff::find(meta, b"keys") else {
        return;
    };
    let Some(ilst) = bmff::find(meta, b"ilst") else {
        return;
    };
    let mut names: Vec<&[u8]> = Vec::new();
    let entries = keys.payload.get(8..).unwrap_or(&[]);
    let mut at = 0usize;
    while names.len() < 1024 {
        let Some(size) = be32(entries, at).map(|s| s as usize) else {
            break;
        };
        if size < 8 {
            break;
        }
        let Some(name) = entries.get(at + 8..at.saturating_add(size)) else {
            break;
        };
        names.push(name);
        at += size;
    }
    for item in bmff::boxes(ilst.payload).take(1024) {
        let index = u32::from_be_bytes(item.kind) as usize;
        let Some(name) = index.checked_sub(1).and_then(|i| names.get(i)) else {
            continue;
        };
        let Some(data) = bmff::find(item.payload, b"data") else {
            continue;
        };
        let value = String::from_utf8_lossy(data.payload.get(8..).unwrap_or(&[]));
        match *name {
            b"com.apple.quicktime.location.ISO6709" => {
                if let Some(g) = iso6709(&value) {
                    info.geo = Some(g);
                }
            }
            b"com.apple.quicktime.creationdate" => {
                if let Some(d) = apple_date(&value) {
                    info.taken_at = Some(d);
                }
            }
            _ => {}
        }
    }
}

/// `+37.3318-122.0312+010.000/` → (37.3318, -122.0312).
fn iso6709(s: &str) -> Option<(f64, f64)> {
    let s = s.trim().trim_end_matches('/');
    let b = s.as_bytes();
    if !matches!(b.first(), Some(b'+' | b'-')) {
        return None;
    }
    let second = b
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, c)| matches!(c, b'+' | b'-'))
        .map(|(i, _)| i)?;
    let third = b
        .iter()
        .enumerate()
        .skip(second + 1)
        .find(|(_, c)| matches!(c, b'+' | b'-'))
        .map_or(b.len(), |(i, _)| i);
    let lat: f64 = s.get(..second)?.parse().ok()?;
    let lng: f64 = s.get(second..third)?.parse().ok()?;
    crate::metadata::valid_geo(lat, lng)
}

/// `2024-07-14T21:30:05+0200` → `2024-07-14T21:30:05+02:00`.
fn apple_date(s: &str) -> Option<String> {
    let s = s.trim();
    let (main, zone) = if s.len() == 24 && s.is_char_boundary(19) {
        (&s[..19], &s[19..])
    } else {
        (s, "")
    };
    let zone = if zone.len() == 5 && zone.is_ascii() {
        format!("{}:{}", &zone[..3], &zone[3..])
    } else {
        zone.to_owned()
    };
    crate::metadata::xmp::xmp_date(&format!("{main}{zone}"))
}

/// Seconds since 1904-01-01 (UTC) → RFC 3339; None for 0 and dates before 1971.
fn mac_time(t: u64) -> Option<String> {
    const MAC_TO_UNIX: u64 = 2_082_844_800;
    let unix = t.checked_sub(MAC_TO_UNIX)?;
    if !(365 * 86_400..=253_402_300_799).contains(&unix) {
        return None;
    }
    let days = i64::try_from(unix / 86_400).ok()?;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ))
}

/// Howard Hinnant's days → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether an `ffmpeg` binary answers on the PATH.
pub fn ffmpeg_available() -> bool {
    tool_available("ffmpeg", "-version")
}

/// How long ffmpeg may take for a poster frame.
const FFMPEG_TIMEOUT: Duration = Duration::from_secs(120);

/// The poster frame (first frame, already turned upright by ffmpeg) of the
/// video at `path`, then the same versions as [`crate::render_versions`].
/// `Err(Unsupported("ffmpeg is not installed"))` without ffmpeg.
pub fn render_video_versions(
    path: &Path,
    rotation: u16,
    specs: &[VersionSpec],
    limits: &RenderLimits,
) -> Result<Rendered, RenderError> {
    if !ffmpeg_available() {
        return Err(RenderError::Unsupported("ffmpeg is not installed".into()));
    }
    let info = probe_video(path);
    if let (Some(w), Some(h)) = (info.width, info.height) {
        limits.check(w, h)?;
    }
    let poster = TempFile(std::env::temp_dir().join(format!(
        "lightbox-poster-{}.jpg",
        uuid::Uuid::new_v4().simple()
    )));
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-an",
            "-f",
            "image2",
            "-c:v",
            "mjpeg",
            "-q:v",
            "2",
        ])
        .arg(&poster.0);
    run_tool(ffmpeg, "ffmpeg", FFMPEG_TIMEOUT)?;
    crate::render::render_versions(MediaKind::Jpeg, &poster.0, rotation, specs, limits)
}

/// Runs an external converter with a time limit; its first error line
/// becomes the failure's reason.
pub(crate) fn run_tool(
    mut command: Command,
    name: &str,
    timeout: Duration,
) -> Result<(), RenderError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read stderr as it comes (keeping its start for the reason): a chatty
    // tool writing into a full pipe nobody reads would stall until the timeout.
    let stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut e) = stderr {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = e.read(&mut buf) {
                let room = STDERR_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
        kept
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            // Not joined: a process the tool started may still hold the
            // pipe open; the reader ends by itself when the last one closes.
            drop(drain);
            return Err(RenderError::Decode(format!("{name} took too long")));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let kept = drain.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&kept);
        let err = err.lines().next().unwrap_or("failed").to_owned();
        return Err(RenderError::Decode(format!("{name}: {err}")));
    }
    Ok(())
}

/// How much of a tool's stderr is kept for the error message.
const STDERR_KEPT: usize = 4096;

/// Whether `program` answers on the PATH (`program arg` exits 0).
pub(crate) fn tool_available(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A scratch file removed when dropped, however the work using it ends.
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    /// A tool that writes far more to stderr than a pipe holds (64 KiB)
    /// ends with its own failure, not a stall until the time limit.
    #[test]
    fn a_chatty_tool_is_drained_and_its_first_line_kept() {
        let script = "echo 'bad clip: no video stream' >&2; head -c 4000000 /dev/zero | tr '\\0' x >&2; exit 3";
        match run_tool(sh(script), "tool", Duration::from_secs(60)) {
            Err(RenderError::Decode(reason)) => {
                assert_eq!(reason, "tool: bad clip: no video stream")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Past its time limit the tool is killed and the job goes on, even
    /// when a process it started keeps the stderr pipe open.
    #[test]
    fn a_tool_past_its_limit_is_stopped_even_if_its_child_holds_stderr() {
        let dir = std::env::temp_dir().join(format!("lightbox-tool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("child.pid");
        let script = format!(
            "sleep 300 & echo $! > '{}'; exec sleep 300",
            pid_file.display()
        );
        let started = Instant::now();
        let outcome = run_tool(sh(&script), "tool", Duration::from_millis(500));
        let took = started.elapsed();
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let _ = std::fs::remove_dir_all(&dir);
        match outcome {
            Err(RenderError::Decode(reason)) => assert_eq!(reason, "tool took too long"),
            other => panic!("{other:?}"),
        }
        // Not held until the grandchild's 300 s are up.
        assert!(took < Duration::from_secs(60), "{took:?}");
    }
}
