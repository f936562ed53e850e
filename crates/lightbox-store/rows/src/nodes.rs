/// A serving node, as it last registered and beat.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub acked_epoch: i64,
}
