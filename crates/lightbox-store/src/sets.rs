//! Sets: named, nestable groups of images — the tree, membership in display
//! order, per-member visibility, and the snapshots taken before every
//! rearrangement.
//!
//! Liveness is a function of the stored row and the reading time, never a
//! flag a sweeper flips: a member is live when its `activation_time` has
//! come, or when it has none and is not hidden (the statements that count
//! or list live members write that rule out). Every count and list that
//! says "live" takes `now` from its caller.
//!
//! Bulk inserts and moves go in chunks of [`CHUNK`] rows, each chunk one
//! statement whose columns are bound as lists (arrays unnested on
//! PostgreSQL, one JSON array read by `json_each` on SQLite), so a
//! 10,000-image change is a few statements of one prepared text; lists of
//! ids are one argument, whatever their length.

pub use lightbox_store_rows::sets::{MemberRow, SetRow, SnapshotRow};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// Rows per bulk statement (each statement binds its rows as one list per
/// column, so this bounds a statement's size, not its bind count).
pub const CHUNK: usize = 2_000;

pub async fn insert(conn: &mut Conn, row: &SetRow) -> Result<()> {
    Ok(on_engine!(conn, sets::insert(row))?)
}

/// Writes the set's own fields (not its members).
pub async fn update_fields(conn: &mut Conn, row: &SetRow) -> Result<()> {
    Ok(on_engine!(conn, sets::update_fields(row))?)
}

/// Takes the set's row lock for the rest of the transaction (and stamps
/// `updated_at`): concurrent rearrangements of one set run one after the
/// other, each on what the previous committed. False if there is no such set.
pub async fn lock(conn: &mut Conn, account_id: &str, id: &str, now: Timestamp) -> Result<bool> {
    let changed = on_engine!(conn, sets::lock(account_id, id, now))?;
    Ok(changed == 1)
}

/// The position after the last sibling under `parent_id` (top level if None).
pub async fn next_position(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
) -> Result<i64> {
    let max = match parent_id {
        None => on_engine!(conn, sets::last_top_position(account_id))?,
        Some(parent) => on_engine!(conn, sets::last_child_position(account_id, parent))?,
    };
    Ok(max + 1)
}

pub async fn find(
    conn: &mut Conn,
    account_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<Option<SetRow>> {
    Ok(on_engine!(conn, sets::find(account_id, id, now))?)
}

/// Is there such a set in the account?
pub async fn exists(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    Ok(on_engine!(conn, sets::exists(account_id, id))?)
}

/// The parent of a set of the account (`Ok(None)` at the top level or when
/// there is no such set).
pub async fn parent_of(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<String>> {
    Ok(on_engine!(conn, sets::parent_of(account_id, id))?.flatten())
}

/// Siblings in arranged order; `limit` rows from `offset`.
pub async fn list_children(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
    now: Timestamp,
    limit: i64,
    offset: i64,
) -> Result<Vec<SetRow>> {
    Ok(on_engine!(
        conn,
        sets::list_children(account_id, parent_id, now, limit, offset)
    )?)
}

/// Every set of the account, siblings in arranged order (for the tree).
pub async fn list_all(conn: &mut Conn, account_id: &str, now: Timestamp) -> Result<Vec<SetRow>> {
    Ok(on_engine!(conn, sets::list_all(account_id, now))?)
}

/// Ids of the siblings under `parent_id`, in arranged order.
pub async fn sibling_ids(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
) -> Result<Vec<String>> {
    Ok(on_engine!(conn, sets::sibling_ids(account_id, parent_id))?)
}

/// Gives each set the position of its index in `ordered`.
pub async fn set_sibling_positions(
    conn: &mut Conn,
    ordered: &[String],
    now: Timestamp,
) -> Result<()> {
    for (position, id) in ordered.iter().enumerate() {
        on_engine!(conn, sets::set_position(id, position as i64, now))?;
    }
    Ok(())
}

// --- members ------------------------------------------------------------------

/// Every member in display order, with its visibility.
pub async fn members(conn: &mut Conn, set_id: &str) -> Result<Vec<MemberRow>> {
    Ok(on_engine!(conn, sets::members(set_id))?)
}

/// Is the image in the set?
pub async fn members_include(conn: &mut Conn, set_id: &str, image_id: &str) -> Result<bool> {
    Ok(on_engine!(conn, sets::members_include(set_id, image_id))?)
}

/// A page of member ids in display order; only the live ones at `live_at`
/// when given.
pub async fn member_ids(
    conn: &mut Conn,
    set_id: &str,
    live_at: Option<Timestamp>,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    Ok(match live_at {
        Some(now) => on_engine!(conn, sets::live_member_ids(now, set_id, limit, offset))?,
        None => on_engine!(conn, sets::member_ids(set_id, limit, offset))?,
    })
}

/// Inserts members at the given positions with their visibility; members
/// already in the set are left as they are.
pub async fn insert_members(
    conn: &mut Conn,
    set_id: &str,
    members: &[(i64, MemberRow)],
    now: Timestamp,
) -> Result<()> {
    for chunk in members.chunks(CHUNK) {
        on_engine!(conn, sets::insert_members(set_id, chunk, now))?;
    }
    Ok(())
}

/// Removes these images from the set; how many were members.
pub async fn delete_members(conn: &mut Conn, set_id: &str, image_ids: &[String]) -> Result<u64> {
    Ok(on_engine!(conn, sets::delete_members(set_id, image_ids))?)
}

/// Clears the lead image when it is no longer a member.
pub async fn clear_stray_lead(conn: &mut Conn, set_id: &str) -> Result<()> {
    Ok(on_engine!(conn, sets::clear_stray_lead(set_id))?)
}

/// Moves members to new positions: `(image_id, position)` pairs.
pub async fn set_member_positions(
    conn: &mut Conn,
    set_id: &str,
    positions: &[(String, i64)],
) -> Result<()> {
    for chunk in positions.chunks(CHUNK) {
        on_engine!(conn, sets::set_member_positions(set_id, chunk))?;
    }
    Ok(())
}

/// Sets `hidden` and `activation_time` of these members (every member when
/// `image_ids` is None); how many rows changed.
pub async fn set_visibility(
    conn: &mut Conn,
    set_id: &str,
    image_ids: Option<&[String]>,
    hidden: bool,
    activation_time: Option<Timestamp>,
) -> Result<u64> {
    Ok(match image_ids {
        None => on_engine!(
            conn,
            sets::set_visibility_all(set_id, hidden, activation_time)
        )?,
        Some(image_ids) => on_engine!(
            conn,
            sets::set_visibility(set_id, image_ids, hidden, activation_time)
        )?,
    })
}

/// Which of these ids are images of the account.
pub async fn existing_images(
    conn: &mut Conn,
    account_id: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    Ok(on_engine!(conn, sets::existing_images(account_id, ids))?)
}

/// Of `ids`, the images that exist and are not `user`'s own uploads in the
/// account (service-token uploads, no uploader, another account's
/// included): what a `user` role may not rearrange. An id no image has any
/// more (deleted since the set was read) is nobody's and left out, so a
/// concurrent delete does not read as someone else's image.
pub async fn not_uploaded_by(
    conn: &mut Conn,
    account_id: &str,
    user: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let rows = on_engine!(conn, sets::uploaders(ids))?;
    Ok(rows
        .into_iter()
        .filter(|(_, account, uploader)| account != account_id || uploader.as_deref() != Some(user))
        .map(|(id, _, _)| id)
        .collect())
}

// --- snapshots ----------------------------------------------------------------

pub async fn insert_snapshot(conn: &mut Conn, row: &SnapshotRow) -> Result<()> {
    Ok(on_engine!(conn, sets::insert_snapshot(row))?)
}

/// Deletes all but the newest `keep` snapshots of the set.
pub async fn prune_snapshots(conn: &mut Conn, set_id: &str, keep: i64) -> Result<()> {
    Ok(on_engine!(conn, sets::prune_snapshots(set_id, keep))?)
}

/// Newest first, without their (large) state.
pub async fn list_snapshots(
    conn: &mut Conn,
    set_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<SnapshotRow>> {
    Ok(on_engine!(
        conn,
        sets::list_snapshots(set_id, limit, offset)
    )?)
}

pub async fn find_snapshot(conn: &mut Conn, set_id: &str, id: &str) -> Result<Option<SnapshotRow>> {
    Ok(on_engine!(conn, sets::find_snapshot(set_id, id))?)
}
