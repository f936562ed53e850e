/// An operation: the record every write answers with, and what polling
/// reads.
#[derive(Debug, Clone)]
pub struct OperationRow {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub status: String,
    /// JSON array.
    pub image_public_uuids: String,
    pub set_public_uuid: Option<String>,
    /// JSON object.
    pub result: String,
    /// JSON error object when failed.
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}
