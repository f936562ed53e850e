//! Lightbox media: where photographers' files live and how they are read
//! back.
//!
//! - `blob` (default feature `blob`): the blob store (a folder or any S3-compatible store).
//! - [`sniff`]: what a file really is, and its pixel size from the header.
//! - [`metadata`]: Exif, IPTC IIM and XMP embedded in images.
//! - [`render`]: the versions (resized, upright, sRGB JPEG/WebP) of an image.
//! - [`video`]: MP4/MOV container metadata and poster frames (via `ffmpeg`).
//! - `zip` (feature `blob`): ZIP archives streamed from and to the blob store.
//! - `fixtures` (feature `fixtures`): real media files generated in code, for tests.
#![forbid(unsafe_code)]

#[cfg(feature = "blob")]
pub mod blob;
mod bmff;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod heif;
pub mod metadata;
pub mod render;
pub mod sniff;
pub mod video;
#[cfg(feature = "blob")]
pub mod zip;

#[cfg(feature = "blob")]
pub use blob::{
    BlobError, BlobLocation, BlobStore, BlobWriter, S3Connection, StagedOriginal, StoredOriginal,
};
pub use metadata::{Embedded, read_embedded};
pub use render::{
    RenderError, RenderLimits, Rendered, RenderedVersion, VersionSpec, render_bytes,
    render_versions,
};
pub use sniff::{MediaKind, header_dimensions, sniff};
pub use video::{
    TempFile, VideoInfo, ffmpeg_available, probe_video, probe_video_bytes, render_video_versions,
};
#[cfg(feature = "blob")]
pub use zip::{
    ArchiveEntry, ArchiveError, ArchiveOptions, ArchiveWritten, entry_names, write_archive,
};
