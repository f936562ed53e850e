//! Sets: named, nestable groups of images — the tree, membership in display
//! order, per-member visibility, and the snapshots taken before every
//! rearrangement.
//!
//! Liveness is a function of the stored row and the reading time, never a
//! flag a sweeper flips: a member is live when its `activation_time` has
//! come, or when it has none and is not hidden ([`LIVE`]). Every count and
//! list that says "live" takes `now` from its caller.
//!
//! Bulk inserts and moves go in chunks of [`CHUNK`] rows so that a
//! 10,000-image change stays within both engines' bind-parameter limits;
//! lists of ids are one argument ([`sql::one_of`]), whatever their length.

use sqlx::{AssertSqlSafe, FromRow};

use crate::sql;
use crate::{Conn, Result};

/// Rows per bulk statement (≤ 3 binds a row, well under SQLite's 32,766).
pub const CHUNK: usize = 2_000;

/// The liveness rule, over a `set_images` row aliased `m`; `$1` is now.
macro_rules! live {
    () => {
        "(m.activation_time <= $1 OR (m.activation_time IS NULL AND m.hidden = 0))"
    };
}

#[derive(Debug, Clone, FromRow)]
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
    pub created_at: i64,
    pub updated_at: i64,
    pub child_count: i64,
    pub image_count: i64,
    pub live_image_count: i64,
}

/// Every select binds `$1` = now (for the live count).
macro_rules! select {
    () => {
        concat!(
            "SELECT s.id, s.account_id, s.parent_id, s.name, s.description, s.colour, s.set_type,
    s.position, s.lead_image_id, s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM sets c WHERE c.parent_id = s.id) AS child_count,
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id) AS image_count,
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id AND ",
            live!(),
            ") AS live_image_count
    FROM sets s "
        )
    };
}

pub async fn insert(conn: &mut Conn, row: &SetRow) -> Result<()> {
    sql::query(
        "INSERT INTO sets (id, account_id, parent_id, name, description, colour, set_type, position, lead_image_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.parent_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.colour)
    .bind(&row.set_type)
    .bind(row.position)
    .bind(&row.lead_image_id)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the set's own fields (not its members).
pub async fn update_fields(conn: &mut Conn, row: &SetRow) -> Result<()> {
    sql::query(
        "UPDATE sets SET parent_id = $2, name = $3, description = $4, colour = $5, set_type = $6,
         position = $7, lead_image_id = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(&row.id)
    .bind(&row.parent_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.colour)
    .bind(&row.set_type)
    .bind(row.position)
    .bind(&row.lead_image_id)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the set's row lock for the rest of the transaction (and stamps
/// `updated_at`): concurrent rearrangements of one set run one after the
/// other, each on what the previous committed. False if there is no such set.
pub async fn lock(conn: &mut Conn, account_id: &str, id: &str, now: i64) -> Result<bool> {
    let done = sql::query("UPDATE sets SET updated_at = $3 WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The position after the last sibling under `parent_id` (top level if None).
pub async fn next_position(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
) -> Result<i64> {
    let (max,): (i64,) = sql::query_as(
        "SELECT COALESCE(MAX(position), -1) FROM sets
         WHERE account_id = $1 AND ((parent_id IS NULL AND $2 IS NULL) OR parent_id = $2)",
    )
    .bind(account_id)
    .bind(parent_id)
    .fetch_one(conn)
    .await?;
    Ok(max + 1)
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str, now: i64) -> Result<Option<SetRow>> {
    const SQL: &str = concat!(select!(), "WHERE s.id = $2 AND s.account_id = $3");
    Ok(sql::query_as::<SetRow>(SQL)
        .bind(now)
        .bind(id)
        .bind(account_id)
        .fetch_optional(conn)
        .await?)
}

/// Is there such a set in the account?
pub async fn exists(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    Ok(
        sql::query_as::<(i32,)>("SELECT 1 FROM sets WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// The parent of a set of the account (`Ok(None)` at the top level or when
/// there is no such set).
pub async fn parent_of(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sql::query_as("SELECT parent_id FROM sets WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|r| r.0))
}

/// Siblings in arranged order; `limit` rows from `offset`.
pub async fn list_children(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
    now: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<SetRow>> {
    const SQL: &str = concat!(
        select!(),
        "WHERE s.account_id = $2 AND ((s.parent_id IS NULL AND $3 IS NULL) OR s.parent_id = $3)
         ORDER BY s.position, s.created_at, s.id LIMIT $4 OFFSET $5"
    );
    Ok(sql::query_as::<SetRow>(SQL)
        .bind(now)
        .bind(account_id)
        .bind(parent_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?)
}

/// Every set of the account, siblings in arranged order (for the tree).
pub async fn list_all(conn: &mut Conn, account_id: &str, now: i64) -> Result<Vec<SetRow>> {
    const SQL: &str = concat!(
        select!(),
        "WHERE s.account_id = $2 ORDER BY s.position, s.created_at, s.id"
    );
    Ok(sql::query_as::<SetRow>(SQL)
        .bind(now)
        .bind(account_id)
        .fetch_all(conn)
        .await?)
}

/// Ids of the siblings under `parent_id`, in arranged order.
pub async fn sibling_ids(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sql::query_as(
        "SELECT id FROM sets WHERE account_id = $1 AND ((parent_id IS NULL AND $2 IS NULL) OR parent_id = $2)
         ORDER BY position, created_at, id",
    )
    .bind(account_id)
    .bind(parent_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Gives each set the position of its index in `ordered`.
pub async fn set_sibling_positions(conn: &mut Conn, ordered: &[String], now: i64) -> Result<()> {
    for (position, id) in ordered.iter().enumerate() {
        sql::query(
            "UPDATE sets SET position = $2, updated_at = $3 WHERE id = $1 AND position <> $2",
        )
        .bind(id)
        .bind(position as i64)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// --- members ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct MemberRow {
    pub image_id: String,
    /// Where it stands (read only; inserts take the position separately).
    pub position: i64,
    pub hidden: i64,
    pub activation_time: Option<i64>,
}

/// Every member in display order, with its visibility.
pub async fn members(conn: &mut Conn, set_id: &str) -> Result<Vec<MemberRow>> {
    Ok(sql::query_as::<MemberRow>(
        "SELECT image_id, position, hidden, activation_time FROM set_images WHERE set_id = $1
         ORDER BY position, created_at, image_id",
    )
    .bind(set_id)
    .fetch_all(conn)
    .await?)
}

/// Is the image in the set?
pub async fn members_include(conn: &mut Conn, set_id: &str, image_id: &str) -> Result<bool> {
    Ok(
        sql::query_as::<(i32,)>("SELECT 1 FROM set_images WHERE set_id = $1 AND image_id = $2")
            .bind(set_id)
            .bind(image_id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// A page of member ids in display order; only the live ones at `live_at`
/// when given.
pub async fn member_ids(
    conn: &mut Conn,
    set_id: &str,
    live_at: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    const ALL: &str = "SELECT m.image_id FROM set_images m WHERE m.set_id = $1
         ORDER BY m.position, m.created_at, m.image_id LIMIT $2 OFFSET $3";
    const LIVE: &str = concat!(
        "SELECT m.image_id FROM set_images m WHERE m.set_id = $2 AND ",
        live!(),
        " ORDER BY m.position, m.created_at, m.image_id LIMIT $3 OFFSET $4"
    );
    let query = match live_at {
        Some(now) => sql::query_as::<(String,)>(LIVE).bind(now),
        None => sql::query_as::<(String,)>(ALL),
    };
    let rows = query
        .bind(set_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Inserts members at the given positions with their visibility; members
/// already in the set are left as they are.
pub async fn insert_members(
    conn: &mut Conn,
    set_id: &str,
    members: &[(i64, MemberRow)],
    now: i64,
) -> Result<()> {
    for chunk in members.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|n| {
                let b = 3 + n * 4;
                format!(
                    "($1, ${}, ${}, $2, ${}, CAST(${} AS BIGINT))",
                    b,
                    b + 1,
                    b + 2,
                    b + 3
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO set_images (set_id, image_id, position, created_at, hidden, activation_time)
             VALUES {} ON CONFLICT (set_id, image_id) DO NOTHING",
            values.join(", ")
        );
        let mut query = sql::query(AssertSqlSafe(sql)).bind(set_id).bind(now);
        for (position, m) in chunk {
            query = query
                .bind(&m.image_id)
                .bind(*position)
                .bind(m.hidden)
                .bind(m.activation_time);
        }
        query.persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes these images from the set; how many were members.
pub async fn delete_members(conn: &mut Conn, set_id: &str, image_ids: &[String]) -> Result<u64> {
    let sql = format!(
        "DELETE FROM set_images WHERE set_id = $1 AND {}",
        sql::one_of(conn.engine(), "image_id", 2)
    );
    Ok(sql::query(AssertSqlSafe(sql))
        .bind(set_id)
        .bind(sql::TextList(image_ids))
        .execute(conn)
        .await?
        .rows_affected())
}

/// Clears the lead image when it is no longer a member.
pub async fn clear_stray_lead(conn: &mut Conn, set_id: &str) -> Result<()> {
    sql::query(
        "UPDATE sets SET lead_image_id = NULL WHERE id = $1 AND lead_image_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM set_images m WHERE m.set_id = $1 AND m.image_id = sets.lead_image_id)",
    )
    .bind(set_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves members to new positions: `(image_id, position)` pairs.
pub async fn set_member_positions(
    conn: &mut Conn,
    set_id: &str,
    positions: &[(String, i64)],
) -> Result<()> {
    for chunk in positions.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|n| {
                format!(
                    "(CAST(${} AS TEXT), CAST(${} AS BIGINT))",
                    2 + n * 2,
                    3 + n * 2
                )
            })
            .collect();
        // A CTE names the VALUES columns the same way on both engines.
        let sql = format!(
            "WITH v(image_id, pos) AS (VALUES {})
             UPDATE set_images SET position = v.pos FROM v
             WHERE set_images.set_id = $1 AND set_images.image_id = v.image_id",
            values.join(", ")
        );
        let mut query = sql::query(AssertSqlSafe(sql)).bind(set_id);
        for (id, position) in chunk {
            query = query.bind(id).bind(*position);
        }
        query.persistent(false).execute(&mut *conn).await?;
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
    activation_time: Option<i64>,
) -> Result<u64> {
    let hidden = i64::from(hidden);
    let Some(image_ids) = image_ids else {
        let done =
            sql::query("UPDATE set_images SET hidden = $2, activation_time = $3 WHERE set_id = $1")
                .bind(set_id)
                .bind(hidden)
                .bind(activation_time)
                .execute(conn)
                .await?;
        return Ok(done.rows_affected());
    };
    let sql = format!(
        "UPDATE set_images SET hidden = $2, activation_time = $3 WHERE set_id = $1 AND {}",
        sql::one_of(conn.engine(), "image_id", 4)
    );
    Ok(sql::query(AssertSqlSafe(sql))
        .bind(set_id)
        .bind(hidden)
        .bind(activation_time)
        .bind(sql::TextList(image_ids))
        .execute(conn)
        .await?
        .rows_affected())
}

/// Which of these ids are images of the account.
pub async fn existing_images(
    conn: &mut Conn,
    account_id: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    // `account_id || ''` keeps SQLite on the primary key (see images::find_many).
    let sql = format!(
        "SELECT id FROM images WHERE {} AND account_id || '' = $1",
        sql::one_of(conn.engine(), "id", 2)
    );
    let rows = sql::query_as::<(String,)>(AssertSqlSafe(sql))
        .bind(account_id)
        .bind(sql::TextList(ids))
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
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
    let sql = format!(
        "SELECT id, account_id, uploaded_by FROM images WHERE {}",
        sql::one_of(conn.engine(), "id", 1)
    );
    let rows = sql::query_as::<(String, String, Option<String>)>(AssertSqlSafe(sql))
        .bind(sql::TextList(ids))
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, account, uploader)| account != account_id || uploader.as_deref() != Some(user))
        .map(|(id, _, _)| id)
        .collect())
}

// --- snapshots ----------------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct SnapshotRow {
    pub id: String,
    pub set_id: String,
    pub account_id: String,
    pub reason: String,
    pub operation_id: Option<String>,
    pub image_count: i64,
    pub state: String,
    pub created_at: i64,
}

pub async fn insert_snapshot(conn: &mut Conn, row: &SnapshotRow) -> Result<()> {
    sql::query(
        "INSERT INTO set_snapshots (id, set_id, account_id, reason, operation_id, image_count, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&row.id)
    .bind(&row.set_id)
    .bind(&row.account_id)
    .bind(&row.reason)
    .bind(&row.operation_id)
    .bind(row.image_count)
    .bind(&row.state)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes all but the newest `keep` snapshots of the set.
pub async fn prune_snapshots(conn: &mut Conn, set_id: &str, keep: i64) -> Result<()> {
    sql::query(
        "DELETE FROM set_snapshots WHERE set_id = $1 AND id NOT IN
         (SELECT id FROM set_snapshots WHERE set_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
    )
    .bind(set_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// Newest first, without their (large) state.
pub async fn list_snapshots(
    conn: &mut Conn,
    set_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<SnapshotRow>> {
    Ok(sql::query_as::<SnapshotRow>(
        "SELECT id, set_id, account_id, reason, operation_id, image_count, '' AS state, created_at
         FROM set_snapshots WHERE set_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(set_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?)
}

pub async fn find_snapshot(conn: &mut Conn, set_id: &str, id: &str) -> Result<Option<SnapshotRow>> {
    Ok(sql::query_as::<SnapshotRow>(
        "SELECT id, set_id, account_id, reason, operation_id, image_count, state, created_at
         FROM set_snapshots WHERE set_id = $1 AND id = $2",
    )
    .bind(set_id)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}
