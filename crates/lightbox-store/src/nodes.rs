//! Serving nodes and the auth epoch: how a revocation reaches every node's
//! auth cache at once (see migration 0010).

use sqlx::FromRow;

use crate::{Conn, Result};

/// The PostgreSQL channel a bump notifies.
const CHANNEL: &str = "lightbox_auth_epoch";
const NOTIFY: &str = "NOTIFY lightbox_auth_epoch";

#[derive(Debug, Clone, FromRow)]
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub acked_epoch: i64,
}

/// The current epoch.
pub async fn epoch(conn: &mut Conn) -> Result<i64> {
    let (epoch,): (i64,) = sqlx::query_as("SELECT epoch FROM auth_epoch WHERE id = 1")
        .fetch_one(conn)
        .await?;
    Ok(epoch)
}

/// Moves the epoch on inside the caller's write transaction and returns the
/// new one; on PostgreSQL the listening nodes are told when it commits.
pub async fn bump(conn: &mut Conn) -> Result<i64> {
    let (epoch,): (i64,) =
        sqlx::query_as("UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
            .fetch_one(&mut *conn)
            .await?;
    if conn.backend_name() == "PostgreSQL" {
        // Delivered at commit, never for a rolled-back bump.
        sqlx::raw_sql(NOTIFY).execute(conn).await?;
    }
    Ok(epoch)
}

/// Registers a node (or renews it, after a restart under the same id).
pub async fn register(conn: &mut Conn, row: &NodeRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO nodes (id, name, started_at, heartbeat_at, acked_epoch)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = $2, started_at = $3, heartbeat_at = $4,
            acked_epoch = $5",
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(row.started_at)
    .bind(row.heartbeat_at)
    .bind(row.acked_epoch)
    .execute(conn)
    .await?;
    Ok(())
}

/// A heartbeat, with the newest epoch the node has applied. The acked
/// epoch never moves back (a late heartbeat cannot undo a newer ack).
pub async fn heartbeat(conn: &mut Conn, id: &str, now: i64, acked_epoch: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE nodes SET heartbeat_at = $1,
            acked_epoch = CASE WHEN acked_epoch < $2 THEN $2 ELSE acked_epoch END
         WHERE id = $3",
    )
    .bind(now)
    .bind(acked_epoch)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unregister(conn: &mut Conn, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM nodes WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets nodes silent since `before` (crashed without unregistering).
pub async fn purge_silent(conn: &mut Conn, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM nodes WHERE heartbeat_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Live nodes (a heartbeat at or after `live_since`) that have not yet
/// acked `epoch`.
pub async fn behind(conn: &mut Conn, epoch: i64, live_since: i64) -> Result<Vec<NodeRow>> {
    Ok(sqlx::query_as::<_, NodeRow>(
        "SELECT id, name, started_at, heartbeat_at, acked_epoch FROM nodes
         WHERE acked_epoch < $1 AND heartbeat_at >= $2 ORDER BY id",
    )
    .bind(epoch)
    .bind(live_since)
    .fetch_all(conn)
    .await?)
}

/// PostgreSQL: a wake-up each time a bump commits. Notifications sent while
/// the connection is down are lost, so callers poll slowly beside it.
pub struct EpochSignal(sqlx::postgres::PgListener);

impl EpochSignal {
    pub async fn connect(database_url: &str) -> Result<Self> {
        let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self(listener))
    }

    /// Waits for the next bump (an error when the connection broke; the
    /// listener reconnects on the next call).
    pub async fn next(&mut self) -> Result<()> {
        self.0.recv().await?;
        Ok(())
    }
}
