//! Sets: the tree, members in display order with their visibility, and
//! snapshots. A member is live at `$1` (now) when
//! `m.activation_time <= $1 OR (m.activation_time IS NULL AND m.hidden = FALSE)`;
//! the statements that count or list live members write that out.

use lightbox_store_rows::sets::{MemberRow, SetRow, SnapshotRow};

use crate::Connection;
use lightbox_store_rows::Timestamp;

pub async fn insert(conn: &mut Connection, row: &SetRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sets (id, account_id, parent_id, name, description, colour, set_type, position, lead_image_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        row.id,
        row.account_id,
        row.parent_id,
        row.name,
        row.description,
        row.colour,
        row.set_type,
        row.position,
        row.lead_image_id,
        row.created_at,
        row.updated_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the set's own fields (not its members).
pub async fn update_fields(conn: &mut Connection, row: &SetRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sets SET parent_id = $2, name = $3, description = $4, colour = $5, set_type = $6,
         position = $7, lead_image_id = $8, updated_at = $9 WHERE id = $1",
        row.id,
        row.parent_id,
        row.name,
        row.description,
        row.colour,
        row.set_type,
        row.position,
        row.lead_image_id,
        row.updated_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stamps `updated_at` (taking the row lock); answers how many sets changed
/// (0 or 1).
pub async fn lock(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE sets SET updated_at = $3 WHERE id = $1 AND account_id = $2",
        id,
        account_id,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// The highest position at the top level, -1 if none. (Two statements,
/// not one with `parent_id IS NULL OR parent_id = $2`: that form cannot
/// use the siblings index, and scanned every set of the account under the
/// write lock at each creation.)
pub async fn last_top_position(conn: &mut Connection, account_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(position), -1) AS "max!" FROM sets
         WHERE account_id = $1 AND parent_id IS NULL"#,
        account_id,
    )
    .fetch_one(conn)
    .await
}

/// The highest position under `parent_id`, -1 if none.
pub async fn last_child_position(
    conn: &mut Connection,
    account_id: &str,
    parent_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(position), -1) AS "max!" FROM sets
         WHERE account_id = $1 AND parent_id = $2"#,
        account_id,
        parent_id,
    )
    .fetch_one(conn)
    .await
}

/// A set of the account, with its counts at `now`.
pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
    now: Timestamp,
) -> sqlx::Result<Option<SetRow>> {
    sqlx::query_as!(
        SetRow,
        r#"SELECT s.id AS "id!", s.account_id, s.parent_id, s.name, s.description, s.colour,
    s.set_type, s.position, s.lead_image_id, s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM sets c WHERE c.account_id = s.account_id AND c.parent_id = s.id)
        AS "child_count!",
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id) AS "image_count!",
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id
        AND (m.activation_time <= $1 OR (m.activation_time IS NULL AND m.hidden = FALSE)))
        AS "live_image_count!"
    FROM sets s WHERE s.id = $2 AND s.account_id = $3"#,
        now,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// Is there such a set in the account?
pub async fn exists(conn: &mut Connection, account_id: &str, id: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "SELECT 1 AS one FROM sets WHERE id = $1 AND account_id = $2",
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// The parent of a set of the account: `None` when there is no such set,
/// `Some(None)` at the top level.
pub async fn parent_of(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar!(
        "SELECT parent_id FROM sets WHERE id = $1 AND account_id = $2",
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// Siblings in arranged order, with their counts at `now`; `limit` rows
/// from `offset`.
pub async fn list_children(
    conn: &mut Connection,
    account_id: &str,
    parent_id: Option<&str>,
    now: Timestamp,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<SetRow>> {
    sqlx::query_as!(
        SetRow,
        r#"SELECT s.id AS "id!", s.account_id, s.parent_id, s.name, s.description, s.colour,
    s.set_type, s.position, s.lead_image_id, s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM sets c WHERE c.account_id = s.account_id AND c.parent_id = s.id)
        AS "child_count!",
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id) AS "image_count!",
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id
        AND (m.activation_time <= $1 OR (m.activation_time IS NULL AND m.hidden = FALSE)))
        AS "live_image_count!"
    FROM sets s
    WHERE s.account_id = $2 AND ((s.parent_id IS NULL AND CAST($3 AS TEXT) IS NULL) OR s.parent_id = $3)
    ORDER BY s.position, s.created_at, s.id LIMIT $4 OFFSET $5"#,
        now,
        account_id,
        parent_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// Every set of the account, siblings in arranged order, with their counts
/// at `now`.
pub async fn list_all(
    conn: &mut Connection,
    account_id: &str,
    now: Timestamp,
) -> sqlx::Result<Vec<SetRow>> {
    sqlx::query_as!(
        SetRow,
        r#"SELECT s.id AS "id!", s.account_id, s.parent_id, s.name, s.description, s.colour,
    s.set_type, s.position, s.lead_image_id, s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM sets c WHERE c.account_id = s.account_id AND c.parent_id = s.id)
        AS "child_count!",
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id) AS "image_count!",
    (SELECT COUNT(*) FROM set_images m WHERE m.set_id = s.id
        AND (m.activation_time <= $1 OR (m.activation_time IS NULL AND m.hidden = FALSE)))
        AS "live_image_count!"
    FROM sets s WHERE s.account_id = $2 ORDER BY s.position, s.created_at, s.id"#,
        now,
        account_id,
    )
    .fetch_all(conn)
    .await
}

/// Ids of the siblings under `parent_id`, in arranged order.
pub async fn sibling_ids(
    conn: &mut Connection,
    account_id: &str,
    parent_id: Option<&str>,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM sets
         WHERE account_id = $1 AND ((parent_id IS NULL AND CAST($2 AS TEXT) IS NULL) OR parent_id = $2)
         ORDER BY position, created_at, id"#,
        account_id,
        parent_id,
    )
    .fetch_all(conn)
    .await
}

/// Moves one set to `position` unless it is there already.
pub async fn set_position(
    conn: &mut Connection,
    id: &str,
    position: i64,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sets SET position = $2, updated_at = $3 WHERE id = $1 AND position <> $2",
        id,
        position,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

// --- members ------------------------------------------------------------------

/// Every member in display order, with its visibility.
pub async fn members(conn: &mut Connection, set_id: &str) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as!(
        MemberRow,
        r#"SELECT image_id, position, hidden AS "hidden: bool", activation_time FROM set_images
         WHERE set_id = $1
         ORDER BY position, created_at, image_id"#,
        set_id,
    )
    .fetch_all(conn)
    .await
}

/// Is the image in the set?
pub async fn members_include(
    conn: &mut Connection,
    set_id: &str,
    image_id: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "SELECT 1 AS one FROM set_images WHERE set_id = $1 AND image_id = $2",
        set_id,
        image_id,
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// A page of member ids in display order.
pub async fn member_ids(
    conn: &mut Connection,
    set_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT m.image_id FROM set_images m WHERE m.set_id = $1
         ORDER BY m.position, m.created_at, m.image_id LIMIT $2 OFFSET $3",
        set_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// A page of the ids of members live at `now`, in display order.
pub async fn live_member_ids(
    conn: &mut Connection,
    now: Timestamp,
    set_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT m.image_id FROM set_images m WHERE m.set_id = $2
         AND (m.activation_time <= $1 OR (m.activation_time IS NULL AND m.hidden = FALSE))
         ORDER BY m.position, m.created_at, m.image_id LIMIT $3 OFFSET $4",
        now,
        set_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// Clears the lead image when it is no longer a member.
pub async fn clear_stray_lead(conn: &mut Connection, set_id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sets SET lead_image_id = NULL WHERE id = $1 AND lead_image_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM set_images m WHERE m.set_id = $1 AND m.image_id = sets.lead_image_id)",
        set_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets `hidden` and `activation_time` of every member; answers how many
/// rows changed.
pub async fn set_visibility_all(
    conn: &mut Connection,
    set_id: &str,
    hidden: bool,
    activation_time: Option<Timestamp>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE set_images SET hidden = $2, activation_time = $3 WHERE set_id = $1",
        set_id,
        hidden,
        activation_time,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

sqlite_only! {
    /// Inserts members at the given positions with their visibility, the
    /// rows as one JSON array that `json_each` reads; members already in
    /// the set are left as they are.
    pub async fn insert_members(
        conn: &mut Connection,
        set_id: &str,
        members: &[(i64, MemberRow)],
        now: Timestamp,
    ) -> sqlx::Result<()> {
        let rows: Vec<serde_json::Value> = members
            .iter()
            .map(|(position, m)| {
                serde_json::json!({
                    "image_id": m.image_id,
                    "position": position,
                    "hidden": m.hidden,
                    "activation_time": m.activation_time.map(Timestamp::micros),
                })
            })
            .collect();
        // `WHERE true`: an upsert after `INSERT … SELECT … FROM` needs a
        // WHERE clause, or SQLite reads its ON as a join's.
        sqlx::query!(
            "INSERT INTO set_images (set_id, image_id, position, created_at, hidden, activation_time)
             SELECT $1, json_extract(r.value, '$.image_id'), json_extract(r.value, '$.position'), $2,
                    json_extract(r.value, '$.hidden'), json_extract(r.value, '$.activation_time')
             FROM json_each($3) r WHERE true
             ON CONFLICT (set_id, image_id) DO NOTHING",
            set_id,
            now,
            serde_json::Value::from(rows).to_string(),
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Moves members to new positions: `(image_id, position)` pairs, as one
    /// JSON array that `json_each` reads.
    pub async fn set_member_positions(
        conn: &mut Connection,
        set_id: &str,
        positions: &[(String, i64)],
    ) -> sqlx::Result<()> {
        let pairs: Vec<serde_json::Value> = positions
            .iter()
            .map(|(id, position)| serde_json::json!({ "image_id": id, "position": position }))
            .collect();
        // MATERIALIZED: read once and then looked up member by member on
        // the primary key; inlined, SQLite would rescan the JSON array for
        // every member of the set.
        sqlx::query!(
            "WITH v(image_id, pos) AS MATERIALIZED (
                 SELECT json_extract(r.value, '$.image_id'), json_extract(r.value, '$.position')
                 FROM json_each($2) r)
             UPDATE set_images SET position = v.pos FROM v
             WHERE set_images.set_id = $1 AND set_images.image_id = v.image_id",
            set_id,
            serde_json::Value::from(pairs).to_string(),
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Removes these images from the set; answers how many were members.
    pub async fn delete_members(conn: &mut Connection, set_id: &str, image_ids: &[String]) -> sqlx::Result<u64> {
        Ok(sqlx::query!(
            "DELETE FROM set_images WHERE set_id = $1 AND image_id IN (SELECT value FROM json_each($2))",
            set_id,
            crate::json_list(image_ids),
        )
        .execute(conn)
        .await?
        .rows_affected())
    }

    /// Sets `hidden` and `activation_time` of these members; answers how
    /// many rows changed.
    pub async fn set_visibility(
        conn: &mut Connection,
        set_id: &str,
        image_ids: &[String],
        hidden: bool,
        activation_time: Option<Timestamp>,
    ) -> sqlx::Result<u64> {
        Ok(sqlx::query!(
            "UPDATE set_images SET hidden = $2, activation_time = $3
             WHERE set_id = $1 AND image_id IN (SELECT value FROM json_each($4))",
            set_id,
            hidden,
            activation_time,
            crate::json_list(image_ids),
        )
        .execute(conn)
        .await?
        .rows_affected())
    }

    /// Which of these ids are images of the account. `account_id || ''`
    /// keeps SQLite on the primary key (see `images::find_many`).
    pub async fn existing_images(conn: &mut Connection, account_id: &str, ids: &[String]) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM images
               WHERE id IN (SELECT value FROM json_each($2)) AND account_id || '' = $1"#,
            account_id,
            crate::json_list(ids),
        )
        .fetch_all(conn)
        .await
    }

    /// Of these ids, the images that exist: (id, account, uploader).
    pub async fn uploaders(conn: &mut Connection, ids: &[String]) -> sqlx::Result<Vec<(String, String, Option<String>)>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", account_id, uploaded_by FROM images
               WHERE id IN (SELECT value FROM json_each($1))"#,
            crate::json_list(ids),
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.account_id, r.uploaded_by)).collect())
    }
}

postgres_only! {
    /// Inserts members at the given positions with their visibility, each
    /// column as one array (`UNNEST`); members already in the set are left
    /// as they are.
    pub async fn insert_members(
        conn: &mut Connection,
        set_id: &str,
        members: &[(i64, MemberRow)],
        now: Timestamp,
    ) -> sqlx::Result<()> {
        let image_ids: Vec<String> = members.iter().map(|(_, m)| m.image_id.clone()).collect();
        let positions: Vec<i64> = members.iter().map(|(position, _)| *position).collect();
        let hidden: Vec<bool> = members.iter().map(|(_, m)| m.hidden).collect();
        let activation_times: Vec<Option<Timestamp>> =
            members.iter().map(|(_, m)| m.activation_time).collect();
        sqlx::query!(
            "INSERT INTO set_images (set_id, image_id, position, created_at, hidden, activation_time)
             SELECT $1, r.image_id, r.position, $2, r.hidden, r.activation_time
             FROM UNNEST($3::text[], $4::bigint[], $5::boolean[], $6::timestamptz[])
                 AS r(image_id, position, hidden, activation_time)
             ON CONFLICT (set_id, image_id) DO NOTHING",
            set_id,
            now,
            &image_ids,
            &positions,
            &hidden,
            &activation_times as _,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Moves members to new positions: `(image_id, position)` pairs, each
    /// column as one array (`UNNEST`).
    pub async fn set_member_positions(
        conn: &mut Connection,
        set_id: &str,
        positions: &[(String, i64)],
    ) -> sqlx::Result<()> {
        let image_ids: Vec<String> = positions.iter().map(|(id, _)| id.clone()).collect();
        let positions: Vec<i64> = positions.iter().map(|(_, position)| *position).collect();
        sqlx::query!(
            "UPDATE set_images SET position = v.pos
             FROM UNNEST($2::text[], $3::bigint[]) AS v(image_id, pos)
             WHERE set_images.set_id = $1 AND set_images.image_id = v.image_id",
            set_id,
            &image_ids,
            &positions,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Removes these images from the set; answers how many were members.
    pub async fn delete_members(conn: &mut Connection, set_id: &str, image_ids: &[String]) -> sqlx::Result<u64> {
        Ok(sqlx::query!(
            "DELETE FROM set_images WHERE set_id = $1 AND image_id = ANY($2)",
            set_id,
            image_ids,
        )
        .execute(conn)
        .await?
        .rows_affected())
    }

    /// Sets `hidden` and `activation_time` of these members; answers how
    /// many rows changed.
    pub async fn set_visibility(
        conn: &mut Connection,
        set_id: &str,
        image_ids: &[String],
        hidden: bool,
        activation_time: Option<Timestamp>,
    ) -> sqlx::Result<u64> {
        Ok(sqlx::query!(
            "UPDATE set_images SET hidden = $2, activation_time = $3
             WHERE set_id = $1 AND image_id = ANY($4)",
            set_id,
            hidden,
            activation_time,
            image_ids,
        )
        .execute(conn)
        .await?
        .rows_affected())
    }

    /// Which of these ids are images of the account.
    pub async fn existing_images(conn: &mut Connection, account_id: &str, ids: &[String]) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            "SELECT id FROM images WHERE id = ANY($2) AND account_id = $1",
            account_id,
            ids,
        )
        .fetch_all(conn)
        .await
    }

    /// Of these ids, the images that exist: (id, account, uploader).
    pub async fn uploaders(conn: &mut Connection, ids: &[String]) -> sqlx::Result<Vec<(String, String, Option<String>)>> {
        let rows = sqlx::query!(
            "SELECT id, account_id, uploaded_by FROM images WHERE id = ANY($1)",
            ids,
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.account_id, r.uploaded_by)).collect())
    }
}

// --- snapshots ----------------------------------------------------------------

pub async fn insert_snapshot(conn: &mut Connection, row: &SnapshotRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO set_snapshots (id, set_id, account_id, reason, operation_id, image_count, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        row.id,
        row.set_id,
        row.account_id,
        row.reason,
        row.operation_id,
        row.image_count,
        row.state,
        row.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes all but the newest `keep` snapshots of the set.
pub async fn prune_snapshots(conn: &mut Connection, set_id: &str, keep: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM set_snapshots WHERE set_id = $1 AND id NOT IN
         (SELECT id FROM set_snapshots WHERE set_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
        set_id,
        keep,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Newest first, without their (large) state.
pub async fn list_snapshots(
    conn: &mut Connection,
    set_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<SnapshotRow>> {
    sqlx::query_as!(
        SnapshotRow,
        r#"SELECT id AS "id!", set_id, account_id, reason, operation_id, image_count,
                  '' AS "state!", created_at
           FROM set_snapshots WHERE set_id = $1 ORDER BY created_at DESC, id DESC
           LIMIT $2 OFFSET $3"#,
        set_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// A snapshot of the set, with its state.
pub async fn find_snapshot(
    conn: &mut Connection,
    set_id: &str,
    id: &str,
) -> sqlx::Result<Option<SnapshotRow>> {
    sqlx::query_as!(
        SnapshotRow,
        r#"SELECT id AS "id!", set_id, account_id, reason, operation_id, image_count, state,
                  created_at
           FROM set_snapshots WHERE set_id = $1 AND id = $2"#,
        set_id,
        id,
    )
    .fetch_optional(conn)
    .await
}
