use crate::Timestamp;

/// The state of one rate-limit key.
#[derive(Debug, Clone, Default)]
pub struct LimitState {
    /// GCRA theoretical arrival time (Unix µs), if the key was ever used.
    pub tat: Option<Timestamp>,
    pub failures: i64,
    pub blocked_until: Option<Timestamp>,
}
