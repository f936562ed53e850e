use crate::{JsonText, Timestamp};

/// An operation: the record every write answers with, and what polling
/// reads.
#[derive(Debug, Clone)]
pub struct OperationRow {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub status: String,
    /// JSON array.
    pub image_public_uuids: JsonText,
    pub set_public_uuid: Option<String>,
    /// JSON object.
    pub result: JsonText,
    /// JSON error object when failed.
    pub error: Option<JsonText>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}
