use crate::Timestamp;

/// A signing key of download links. Key ids count up from 1.
#[derive(Debug, Clone)]
pub struct SigningKeyRow {
    pub kid: i64,
    /// Empty once retired.
    pub secret: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}
