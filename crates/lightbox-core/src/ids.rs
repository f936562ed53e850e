//! Identifiers. Public ids are UUID v7 strings (time-ordered, so indexes
//! stay compact); operations carry the `op-` prefix of the hosted service.

use uuid::Uuid;

pub fn new_public_uuid() -> String {
    Uuid::now_v7().to_string()
}

pub fn new_operation_id() -> String {
    format!("op-{}", Uuid::now_v7())
}

/// True for a canonical (hyphenated, lowercase or uppercase) UUID string.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && Uuid::try_parse(text).is_ok()
}

/// `op-<uuid>`.
pub fn is_operation_id(text: &str) -> bool {
    text.strip_prefix("op-").is_some_and(is_uuid)
}
