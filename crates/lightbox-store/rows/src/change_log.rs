//! The change log: one row per changed entity, appended by every write.

use crate::Timestamp;

/// A change to append (`seq` is given by the database).
pub struct Change<'a> {
    pub account_id: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub operation_id: Option<&'a str>,
    pub at: Timestamp,
}

/// A change as derived state (search index, caches) reads it back.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub seq: i64,
    pub account_id: String,
    pub entity: String,
    pub entity_id: String,
    pub at: Timestamp,
}
