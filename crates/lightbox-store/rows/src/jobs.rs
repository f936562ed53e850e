use crate::JsonText;

/// A job of the queue, as a worker claims it.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub operation_id: String,
    pub kind: String,
    pub payload: JsonText,
    pub attempts: i64,
    pub max_attempts: i64,
}
