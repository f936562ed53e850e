//! Rate-limit counters in the database, so every process on one database
//! shares them and they outlive restarts. The policy (what a counter means)
//! lives in `lightbox-auth::rate_limit`; this module only reads and writes
//! a key's state under its row lock.

pub use lightbox_store_rows::rate_limits::LimitState;

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// Reads a key's state inside a write transaction, creating the row and
/// holding its lock until commit (SQLite: the write lock is already held).
pub async fn lock(conn: &mut Conn, key: &str, now: Timestamp) -> Result<LimitState> {
    on_engine!(conn, rate_limits::insert_if_absent(key, now))?;
    Ok(on_engine!(conn, rate_limits::read_locked(key))?.unwrap_or_default())
}

/// Reads a key's state without locking (for a cheap early refusal).
pub async fn peek(conn: &mut Conn, key: &str) -> Result<Option<LimitState>> {
    Ok(on_engine!(conn, rate_limits::peek(key))?)
}

pub async fn store(conn: &mut Conn, key: &str, state: &LimitState, now: Timestamp) -> Result<()> {
    Ok(on_engine!(conn, rate_limits::store(key, state, now))?)
}

/// Drops counters idle for longer than `idle_micros` (they are back at
/// their resting state by then).
pub async fn purge(conn: &mut Conn, now: Timestamp, idle_micros: i64) -> Result<u64> {
    Ok(on_engine!(
        conn,
        rate_limits::purge(now - idle_micros, now)
    )?)
}
