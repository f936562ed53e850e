//! Serving nodes and the auth epoch: how a revocation reaches every node's
//! auth cache at once (see migration 0010).

use sqlx::FromRow;

use crate::sql::{self, Native};
use crate::{Conn, Engine, Result};

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
    let (epoch,): (i64,) = sql::query_as("SELECT epoch FROM auth_epoch WHERE id = 1")
        .fetch_one(conn)
        .await?;
    Ok(epoch)
}

/// Moves the epoch on inside the caller's write transaction and returns the
/// new one; on PostgreSQL the listening nodes are told when it commits.
pub async fn bump(conn: &mut Conn) -> Result<i64> {
    let (epoch,): (i64,) =
        sql::query_as("UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
            .fetch_one(&mut *conn)
            .await?;
    if let Native::Postgres(conn) = conn.native() {
        // Delivered at commit, never for a rolled-back bump.
        sqlx::raw_sql(NOTIFY).execute(conn).await?;
    }
    Ok(epoch)
}

/// The database's clock in microseconds since 1970. Node liveness is told
/// by this one clock, not by each node's own: a node whose clock runs late
/// would otherwise look silent to the others, and a revocation would not
/// wait for it.
pub(crate) fn db_now(conn: &Conn) -> &'static str {
    if conn.engine() == Engine::Postgres {
        "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
    } else {
        "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"
    }
}

/// The database's clock now (microseconds), see [`db_now`].
pub async fn now(conn: &mut Conn) -> Result<i64> {
    let sql = format!("SELECT {}", db_now(conn));
    let (now,): (i64,) = sql::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_one(conn)
        .await?;
    Ok(now)
}

/// Registers a node (or renews it, after a restart under the same id),
/// started and beating now by the database's clock.
pub async fn register(conn: &mut Conn, id: &str, name: &str, acked_epoch: i64) -> Result<()> {
    let sql = format!(
        "INSERT INTO nodes (id, name, started_at, heartbeat_at, acked_epoch)
         VALUES ($1, $2, {now}, {now}, $3)
         ON CONFLICT (id) DO UPDATE SET name = $2, started_at = {now}, heartbeat_at = {now},
            acked_epoch = $3",
        now = db_now(conn)
    );
    sql::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(name)
        .bind(acked_epoch)
        .execute(conn)
        .await?;
    Ok(())
}

/// A heartbeat (the database's time), with the newest epoch the node has
/// applied. The acked epoch never moves back (a late heartbeat cannot undo
/// a newer ack).
pub async fn heartbeat(conn: &mut Conn, id: &str, acked_epoch: i64) -> Result<bool> {
    let sql = format!(
        "UPDATE nodes SET heartbeat_at = {},
            acked_epoch = CASE WHEN acked_epoch < $1 THEN $1 ELSE acked_epoch END
         WHERE id = $2",
        db_now(conn)
    );
    let done = sql::query(sqlx::AssertSqlSafe(sql))
        .bind(acked_epoch)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unregister(conn: &mut Conn, id: &str) -> Result<()> {
    sql::query("DELETE FROM nodes WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets nodes silent for longer than `micros` by the database's clock
/// (crashed without unregistering).
pub async fn purge_silent(conn: &mut Conn, micros: i64) -> Result<u64> {
    let sql = format!(
        "DELETE FROM nodes WHERE heartbeat_at < {} - $1",
        db_now(conn)
    );
    let done = sql::query(sqlx::AssertSqlSafe(sql))
        .bind(micros)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Live nodes (a heartbeat at or after `live_since`, a time of the
/// database's clock: see [`now`]) that have not yet acked `epoch`.
pub async fn behind(conn: &mut Conn, epoch: i64, live_since: i64) -> Result<Vec<NodeRow>> {
    Ok(sql::query_as::<NodeRow>(
        "SELECT id, name, started_at, heartbeat_at, acked_epoch FROM nodes
         WHERE acked_epoch < $1 AND heartbeat_at >= $2 ORDER BY id",
    )
    .bind(epoch)
    .bind(live_since)
    .fetch_all(conn)
    .await?)
}

/// Nodes with a heartbeat at or after `live_since` (the database's clock).
pub async fn live(conn: &mut Conn, live_since: i64) -> Result<Vec<NodeRow>> {
    Ok(sql::query_as::<NodeRow>(
        "SELECT id, name, started_at, heartbeat_at, acked_epoch FROM nodes
         WHERE heartbeat_at >= $1 ORDER BY name",
    )
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
