use crate::Timestamp;

/// A ZIP archive of images: `building` → `ready` (or `failed`); the ZIP
/// itself is a blob under `blob_key`.
#[derive(Debug, Clone)]
pub struct ArchiveRow {
    pub id: String,
    pub account_id: String,
    pub operation_id: String,
    pub filename: String,
    pub status: String,
    pub blob_key: String,
    pub bytes: Option<i64>,
    pub image_count: i64,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Whose originals it holds: `''` none, a user uuid only that user's
    /// uploads, `'*'` anyone's (also while building).
    pub originals_by: String,
}
