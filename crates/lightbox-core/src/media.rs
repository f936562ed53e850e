//! What the image use-cases need beyond the database: the blob store, the
//! limits, the URLs clients reach uploads and media at, and the version
//! profile.

use std::path::PathBuf;

use lightbox_media::BlobStore;
use serde::Serialize;

use crate::Core;
use crate::error::CoreError;

/// Default largest upload (2 GiB).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Default pixel limit (200 megapixels): larger images are refused unread.
pub const DEFAULT_MAX_PIXELS: u64 = 200_000_000;

pub struct MediaSettings {
    pub blobs: BlobStore,
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    /// Base URL of the image processor (`upload_url` = this + `/upload`).
    pub processor_url: String,
    /// Base URL media is served under when the account sets none.
    pub media_url: String,
    /// Local scratch space for version builds.
    pub work_dir: PathBuf,
    /// The upload-ticket key, read from the database once.
    pub(crate) ticket_key: tokio::sync::OnceCell<Vec<u8>>,
    /// How long a download link lasts (`--download-link-ttl`).
    pub download_link_ttl: std::time::Duration,
    /// How long a ZIP archive is kept (`--archive-lifetime`).
    pub archive_lifetime: std::time::Duration,
    /// The download-link signing keys, read from the database and kept briefly.
    pub(crate) link_keys: crate::downloads::KeyRing,
}

impl MediaSettings {
    pub fn new(blobs: BlobStore, public_url: &str, work_dir: PathBuf) -> Self {
        let base = public_url.trim_end_matches('/').to_owned();
        Self {
            blobs,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_pixels: DEFAULT_MAX_PIXELS,
            processor_url: base.clone(),
            media_url: base,
            work_dir,
            ticket_key: tokio::sync::OnceCell::new(),
            download_link_ttl: crate::downloads::DEFAULT_LINK_TTL,
            archive_lifetime: crate::archives::DEFAULT_LIFETIME,
            link_keys: crate::downloads::KeyRing::default(),
        }
    }
}

/// One public version of a profile.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionSize {
    #[schema(example = "thumbnail")]
    pub name: &'static str,
    /// Longest edge in pixels; smaller originals are never upscaled.
    #[schema(example = 320)]
    pub long_edge: u32,
}

/// A version profile: the sizes built for every image.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionProfile {
    pub uuid: &'static str,
    #[schema(example = "Default")]
    pub name: &'static str,
    pub default: bool,
    pub versions: Vec<VersionSize>,
}

/// The built-in profile's stable uuid.
pub const DEFAULT_PROFILE_UUID: &str = "00000000-0000-4000-8000-000000000001";

pub const DEFAULT_SIZES: [VersionSize; 4] = [
    VersionSize {
        name: "thumbnail",
        long_edge: 320,
    },
    VersionSize {
        name: "small",
        long_edge: 640,
    },
    VersionSize {
        name: "medium",
        long_edge: 1280,
    },
    VersionSize {
        name: "large",
        long_edge: 2560,
    },
];

pub fn default_profile() -> VersionProfile {
    VersionProfile {
        uuid: DEFAULT_PROFILE_UUID,
        name: "Default",
        default: true,
        versions: DEFAULT_SIZES.to_vec(),
    }
}

/// The size of a version of a `width`×`height` image with long edge `edge`
/// (never larger than the original), as the renderer will make it.
pub fn fitted(width: i64, height: i64, edge: u32) -> (i64, i64) {
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return (width, height);
    };
    if w.max(h) <= edge {
        return (width, height);
    }
    let (w, h) = lightbox_media::render::fit(w, h, edge);
    (i64::from(w), i64::from(h))
}

/// The media settings, which every image use-case needs (a server always
/// has them; a tool that only manages accounts does not).
pub(crate) fn settings(core: &Core) -> Result<&MediaSettings, CoreError> {
    core.media.as_deref().ok_or_else(|| {
        tracing::error!("image use-case called without a blob store configured");
        CoreError::internal()
    })
}
