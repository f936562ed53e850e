//! HEIC/HEIF stills (iPhone photos): no pure-Rust decoder exists, so the
//! pixels come from libheif's `heif-convert` (Debian `libheif-examples`)
//! when it is installed — as video posters come from `ffmpeg`. It applies
//! the container's rotation and mirroring itself and writes a PNG (no Exif
//! orientation to apply twice), which then goes the PNG way.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::render::{RenderError, RenderLimits, Rendered, VersionSpec};
use crate::sniff::MediaKind;
use crate::video::{TempFile, run_tool, tool_available};

/// How long one conversion may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Whether `heif-convert` is on the PATH.
pub fn heif_convert_available() -> bool {
    // Lists its decoders and exits 0 when it can decode at all.
    tool_available("heif-convert", "--list-decoders")
}

/// The largest image size a HEIF file's `meta` box declares, wherever the
/// box is in the file.
pub fn file_dimensions(path: &Path) -> Option<(u32, u32)> {
    /// A `meta` box holds item info and properties, not pixels.
    const MAX_META: u64 = 16 << 20;
    let meta = crate::video::top_level_box(path, b"meta", MAX_META)?;
    crate::bmff::heif_meta_dimensions(&meta).filter(|(w, h)| *w > 0 && *h > 0)
}

/// Versions of the HEIC/HEIF still at `path` (its primary image), or
/// `Err(Unsupported("heif-convert is not installed"))`. The pixel limit was
/// checked on the header by the caller.
pub fn render_heif_versions(
    path: &Path,
    rotation: u16,
    specs: &[VersionSpec],
    limits: &RenderLimits,
) -> Result<Rendered, RenderError> {
    if !heif_convert_available() {
        return Err(RenderError::Unsupported(
            "HEIC/HEIF needs heif-convert (Debian package libheif-examples), which is not installed"
                .into(),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "heif".to_owned());
    // Beside the original (the caller's scratch folder), so a sweep of that
    // folder collects it after a crash.
    let png =
        TempFile(path.with_file_name(format!("{name}-{}.png", uuid::Uuid::new_v4().simple())));
    let mut convert = Command::new("heif-convert");
    convert.arg(path).arg(&png.0);
    run_tool(convert, "heif-convert", TIMEOUT)?;
    crate::render::render_versions(MediaKind::Png, &png.0, rotation, specs, limits)
}
