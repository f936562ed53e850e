//! Sets, their members and the snapshots taken before rearrangements.

use crate::{JsonText, Timestamp};

/// A set with its counts (children, members, members live at the reading
/// time).
#[derive(Debug, Clone)]
pub struct SetRow {
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub description: String,
    pub colour: String,
    pub set_type: String,
    pub position: i64,
    pub lead_image_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub child_count: i64,
    pub image_count: i64,
    pub live_image_count: i64,
}

/// A member of a set with its visibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub image_id: String,
    /// Where it stands (read only; inserts take the position separately).
    pub position: i64,
    pub hidden: bool,
    pub activation_time: Option<Timestamp>,
}

/// A snapshot of a set's members, taken before a rearrangement.
#[derive(Debug, Clone)]
pub struct SnapshotRow {
    pub id: String,
    pub set_id: String,
    pub account_id: String,
    pub reason: String,
    pub operation_id: Option<String>,
    pub image_count: i64,
    pub state: JsonText,
    pub created_at: Timestamp,
}
