use crate::Timestamp;

/// An idempotency record: the request's fingerprint and the Operation it
/// produced, under (account, key).
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub operation_id: String,
    pub created_at: Timestamp,
}
