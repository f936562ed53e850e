use crate::Timestamp;

/// An account: the tenant boundary. Everything else belongs to one.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: String,
    pub unique_id: String,
    pub name: String,
    pub api_enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
