use crate::Timestamp;

/// A serving node, as it last registered and beat.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub started_at: Timestamp,
    pub heartbeat_at: Timestamp,
    pub acked_epoch: i64,
}
