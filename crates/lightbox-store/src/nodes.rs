//! Serving nodes and the auth epoch: how a revocation reaches every node's
//! auth cache at once (see migration 0010).

pub use lightbox_store_rows::nodes::NodeRow;

use crate::sql::{Native, on_engine};
use crate::{Conn, Micros, Result, Timestamp};

/// The PostgreSQL channel a bump notifies.
const CHANNEL: &str = "lightbox_auth_epoch";
const NOTIFY: &str = "NOTIFY lightbox_auth_epoch";

/// The current epoch.
pub async fn epoch(conn: &mut Conn) -> Result<i64> {
    Ok(on_engine!(conn, nodes::epoch())?)
}

/// Moves the epoch on inside the caller's write transaction and returns the
/// new one; on PostgreSQL the listening nodes are told when it commits.
pub async fn bump(conn: &mut Conn) -> Result<i64> {
    let epoch = on_engine!(conn, nodes::bump())?;
    if let Native::Postgres(conn) = conn.native() {
        // Delivered at commit, never for a rolled-back bump.
        sqlx::raw_sql(NOTIFY).execute(conn).await?;
    }
    Ok(epoch)
}

/// The database's clock now, in microseconds since 1970. Node liveness is
/// told by this one clock, not by each node's own: a node whose clock runs
/// late would otherwise look silent to the others, and a revocation would
/// not wait for it. Every statement here that needs the time reads the same
/// clock (the `database_clock` view of migration 0011).
pub async fn now(conn: &mut Conn) -> Result<Timestamp> {
    Ok(on_engine!(conn, nodes::now())?)
}

/// Registers a node (or renews it, after a restart under the same id),
/// started and beating now by the database's clock.
pub async fn register(conn: &mut Conn, id: &str, name: &str, acked_epoch: i64) -> Result<()> {
    Ok(on_engine!(conn, nodes::register(id, name, acked_epoch))?)
}

/// A heartbeat (the database's time), with the newest epoch the node has
/// applied. The acked epoch never moves back (a late heartbeat cannot undo
/// a newer ack).
pub async fn heartbeat(conn: &mut Conn, id: &str, acked_epoch: i64) -> Result<bool> {
    Ok(on_engine!(conn, nodes::heartbeat(id, acked_epoch))? == 1)
}

pub async fn unregister(conn: &mut Conn, id: &str) -> Result<()> {
    Ok(on_engine!(conn, nodes::unregister(id))?)
}

/// Forgets nodes silent for longer than `micros` by the database's clock
/// (crashed without unregistering).
pub async fn purge_silent(conn: &mut Conn, micros: Micros) -> Result<u64> {
    Ok(on_engine!(conn, nodes::purge_silent(micros))?)
}

/// Live nodes (a heartbeat at or after `live_since`, a time of the
/// database's clock: see [`now`]) that have not yet acked `epoch`.
pub async fn behind(conn: &mut Conn, epoch: i64, live_since: Timestamp) -> Result<Vec<NodeRow>> {
    Ok(on_engine!(conn, nodes::behind(epoch, live_since))?)
}

/// Nodes with a heartbeat at or after `live_since` (the database's clock).
pub async fn live(conn: &mut Conn, live_since: Timestamp) -> Result<Vec<NodeRow>> {
    Ok(on_engine!(conn, nodes::live(live_since))?)
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
