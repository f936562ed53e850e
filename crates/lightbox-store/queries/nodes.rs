//! Serving nodes and the auth epoch. Times here are the database's clock
//! (the `database_clock` view, migration 0011).

use lightbox_store_rows::nodes::NodeRow;

use crate::Connection;
use lightbox_store_rows::{Micros, Timestamp};

/// The current epoch.
pub async fn epoch(conn: &mut Connection) -> sqlx::Result<i64> {
    sqlx::query_scalar!("SELECT epoch FROM auth_epoch WHERE id = 1")
        .fetch_one(conn)
        .await
}

/// Moves the epoch on; answers the new one.
pub async fn bump(conn: &mut Connection) -> sqlx::Result<i64> {
    sqlx::query_scalar!("UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
        .fetch_one(conn)
        .await
}

/// The database's clock now (Unix microseconds).
pub async fn now(conn: &mut Connection) -> sqlx::Result<Timestamp> {
    sqlx::query_scalar!(r#"SELECT now AS "now!: Timestamp" FROM database_clock"#)
        .fetch_one(conn)
        .await
}

/// Registers a node, or renews it under the same id.
pub async fn register(
    conn: &mut Connection,
    id: &str,
    name: &str,
    acked_epoch: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO nodes (id, name, started_at, heartbeat_at, acked_epoch)
         SELECT $1, $2, now, now, $3 FROM database_clock WHERE true
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at, acked_epoch = excluded.acked_epoch",
        id,
        name,
        acked_epoch,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A heartbeat; the acked epoch never moves back. Answers the rows changed.
pub async fn heartbeat(conn: &mut Connection, id: &str, acked_epoch: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE nodes SET heartbeat_at = (SELECT now FROM database_clock),
            acked_epoch = CASE WHEN acked_epoch < $1 THEN $1 ELSE acked_epoch END
         WHERE id = $2",
        acked_epoch,
        id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn unregister(conn: &mut Connection, id: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM nodes WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets nodes silent for longer than `micros`; answers how many.
pub async fn purge_silent(conn: &mut Connection, micros: Micros) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM nodes WHERE heartbeat_at < (SELECT now FROM database_clock) - CAST($1 AS INTERVAL)",
        micros,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Live nodes that have not yet acked `epoch`.
pub async fn behind(
    conn: &mut Connection,
    epoch: i64,
    live_since: Timestamp,
) -> sqlx::Result<Vec<NodeRow>> {
    sqlx::query_as!(
        NodeRow,
        r#"SELECT id AS "id!", name, started_at, heartbeat_at, acked_epoch FROM nodes
           WHERE acked_epoch < $1 AND heartbeat_at >= $2 ORDER BY id"#,
        epoch,
        live_since,
    )
    .fetch_all(conn)
    .await
}

/// Nodes with a heartbeat at or after `live_since`.
pub async fn live(conn: &mut Connection, live_since: Timestamp) -> sqlx::Result<Vec<NodeRow>> {
    sqlx::query_as!(
        NodeRow,
        r#"SELECT id AS "id!", name, started_at, heartbeat_at, acked_epoch FROM nodes
           WHERE heartbeat_at >= $1 ORDER BY name"#,
        live_since,
    )
    .fetch_all(conn)
    .await
}
