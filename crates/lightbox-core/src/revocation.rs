//! Instant revocation across nodes.
//!
//! Nodes cache checked service tokens (see [`crate::auth`]). A write that
//! must void cached principals — a token revoked, an account's API switch
//! changed — moves the database's auth epoch in its own transaction
//! ([`bump`]). Every serving node registers in `nodes` before it accepts
//! requests, follows the epoch ([`start`]: PostgreSQL `LISTEN` plus a slow
//! poll, or on SQLite a cheap poll every 10 ms), voids its cache when the
//! epoch moves and then writes the epoch it applied. After committing, the
//! revoker waits until every live node has acked ([`reach_every_node`]),
//! at most [`WAIT_AT_MOST`], and names any node that did not answer.

use lightbox_store::Micros;
use std::time::Duration;

use lightbox_store::nodes::{self, EpochSignal};
use lightbox_store::{Conn, Engine};
use tokio::sync::watch;

use crate::error::CoreError;
use crate::{Core, ids};

/// A node whose last heartbeat is older than this is not waited for.
pub const LIVE_WITHIN: Duration = Duration::from_secs(5);
/// How long a revoker waits for every live node to ack.
pub const WAIT_AT_MOST: Duration = Duration::from_secs(5);
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a revoker looks whether the nodes have acked.
const ACK_POLL: Duration = Duration::from_millis(5);
/// SQLite has no notifications: the counter is read this often.
const SQLITE_POLL: Duration = Duration::from_millis(10);
/// PostgreSQL: the poll beside `LISTEN`, for notifications lost while the
/// listening connection was down.
const POSTGRES_POLL: Duration = Duration::from_secs(1);
/// Rows of nodes silent this long are removed when a node starts.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Moves the auth epoch inside the caller's write transaction; hand the
/// returned epoch to [`reach_every_node`] once the transaction committed.
pub(crate) async fn bump(tx: &mut Conn) -> Result<i64, CoreError> {
    Ok(nodes::bump(tx).await?)
}

/// After a bump committed: voids this process's cache at once, acks for
/// this node, and waits until every other live node acked `epoch` too,
/// bounded by [`WAIT_AT_MOST`]. Returns the nodes that did not answer in
/// time (empty when the change is in force everywhere).
pub async fn reach_every_node(core: &Core, epoch: i64) -> Result<Vec<String>, CoreError> {
    core.auth.advance_epoch(epoch);
    if let Some(id) = core.auth.node_id() {
        let mut tx = core.store.begin_write().await?;
        nodes::heartbeat(&mut tx, id, epoch).await?;
        tx.commit().await?;
    }
    let deadline = tokio::time::Instant::now() + WAIT_AT_MOST;
    // Live when the change committed, by the database's clock (the one every
    // heartbeat is written with): a node that falls silent while we wait
    // is still named, not silently dropped.
    let live_since = {
        let mut conn = core.store.read().await?;
        nodes::now(&mut conn).await? - micros(LIVE_WITHIN)
    };
    loop {
        let behind = {
            let mut conn = core.store.read().await?;
            nodes::behind(&mut conn, epoch, live_since).await?
        };
        if behind.is_empty() {
            return Ok(Vec::new());
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(behind.into_iter().map(|n| n.name).collect());
        }
        tokio::time::sleep(ACK_POLL).await;
    }
}

/// The names of the serving nodes alive now (a heartbeat within
/// [`LIVE_WITHIN`] by the database's clock).
pub async fn running_nodes(core: &Core) -> Result<Vec<String>, CoreError> {
    let mut conn = core.store.read().await?;
    let since = nodes::now(&mut conn).await? - micros(LIVE_WITHIN);
    Ok(nodes::live(&mut conn, since)
        .await?
        .into_iter()
        .map(|n| n.name)
        .collect())
}

/// The sentence a revoker shows for nodes that did not ack in time.
pub fn unanswered_message(unanswered: &[String]) -> Option<String> {
    (!unanswered.is_empty()).then(|| {
        format!(
            "Not confirmed within {} s by node(s) {}; they refuse it once they catch up (or stop).",
            WAIT_AT_MOST.as_secs(),
            unanswered.join(", ")
        )
    })
}

/// Registers this process as a serving node (before it accepts requests,
/// so no revocation can miss it) and spawns the task that follows the
/// epoch, beats the heart and unregisters when `stop` turns true.
pub async fn start(
    core: &Core,
    database_url: &str,
    name: &str,
    stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, CoreError> {
    let id = ids::new_public_uuid();
    let epoch = {
        let mut tx = core.store.begin_write().await?;
        nodes::purge_silent(&mut tx, Micros(micros(FORGET_AFTER))).await?;
        let epoch = nodes::epoch(&mut tx).await?;
        nodes::register(&mut tx, &id, name, epoch).await?;
        tx.commit().await?;
        epoch
    };
    core.auth.confirm_epoch(epoch);
    core.auth.set_node_id(id);
    let signal = match core.store.engine() {
        Engine::Postgres => listen(database_url).await,
        Engine::Sqlite => None,
    };
    Ok(tokio::spawn(follow(
        core.clone(),
        database_url.to_owned(),
        name.to_owned(),
        signal,
        stop,
    )))
}

async fn listen(database_url: &str) -> Option<EpochSignal> {
    match EpochSignal::connect(database_url).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN for revocations; polling every second");
            None
        }
    }
}

async fn follow(
    core: Core,
    database_url: String,
    name: String,
    mut signal: Option<EpochSignal>,
    mut stop: watch::Receiver<bool>,
) {
    let poll = match core.store.engine() {
        Engine::Postgres => POSTGRES_POLL,
        Engine::Sqlite => SQLITE_POLL,
    };
    let mut last_beat = tokio::time::Instant::now();
    while !*stop.borrow() {
        let woken = async {
            match signal.as_mut() {
                Some(s) => s.next().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(poll) => {}
            ok = woken => {
                if !ok {
                    // Lost bumps are caught by the poll; listen again later.
                    signal = None;
                }
            }
        }
        let beat_due = last_beat.elapsed() >= HEARTBEAT;
        match step(&core, &name, beat_due).await {
            Ok(()) if beat_due => last_beat = tokio::time::Instant::now(),
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "following the auth epoch"),
        }
        if beat_due && signal.is_none() && core.store.engine() == Engine::Postgres {
            signal = listen(&database_url).await;
        }
    }
    if let Some(id) = core.auth.node_id() {
        let gone = async {
            let mut tx = core.store.begin_write().await?;
            nodes::unregister(&mut tx, id).await?;
            tx.commit().await?;
            Ok::<(), CoreError>(())
        };
        if let Err(e) = gone.await {
            tracing::warn!(error = %e, node = %name, "could not unregister the node");
        }
    }
}

/// Reads the epoch; when it moved, voids the cache and acks at once.
async fn step(core: &Core, name: &str, beat_due: bool) -> Result<(), CoreError> {
    let epoch = {
        let mut conn = core.store.read().await?;
        nodes::epoch(&mut conn).await?
    };
    let before = core.auth.epoch();
    core.auth.confirm_epoch(epoch);
    let moved = core.auth.epoch() > before;
    if !(moved || beat_due) {
        return Ok(());
    }
    let Some(id) = core.auth.node_id() else {
        return Ok(());
    };
    let mut tx = core.store.begin_write().await?;
    if !nodes::heartbeat(&mut tx, id, core.auth.epoch()).await? {
        // Our row was purged (silent too long): come back.
        nodes::register(&mut tx, id, name, core.auth.epoch()).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}
