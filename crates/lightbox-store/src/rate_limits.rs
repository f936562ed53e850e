//! Rate-limit counters in the database, so every process on one database
//! shares them and they outlive restarts. The policy (what a counter means)
//! lives in `lightbox-auth::rate_limit`; this module only reads and writes
//! a key's state under its row lock.

use sqlx::{AssertSqlSafe, FromRow};

use crate::sql;
use crate::{Conn, Result};

#[derive(Debug, Clone, Default, FromRow)]
pub struct LimitState {
    /// GCRA theoretical arrival time (Unix µs), if the key was ever used.
    pub tat: Option<i64>,
    pub failures: i64,
    pub blocked_until: Option<i64>,
}

/// Reads a key's state inside a write transaction, creating the row and
/// holding its lock until commit (SQLite: the write lock is already held).
pub async fn lock(conn: &mut Conn, key: &str, now: i64) -> Result<LimitState> {
    sql::query(
        "INSERT INTO rate_limits (limit_key, tat, failures, blocked_until, updated_at)
         VALUES ($1, NULL, 0, NULL, $2) ON CONFLICT (limit_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let sql = format!(
        "SELECT tat, failures, blocked_until FROM rate_limits WHERE limit_key = $1{}",
        sql::row_lock(conn.engine())
    );
    Ok(sql::query_as::<LimitState>(AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await?
        .unwrap_or_default())
}

/// Reads a key's state without locking (for a cheap early refusal).
pub async fn peek(conn: &mut Conn, key: &str) -> Result<Option<LimitState>> {
    Ok(sql::query_as::<LimitState>(
        "SELECT tat, failures, blocked_until FROM rate_limits WHERE limit_key = $1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

pub async fn store(conn: &mut Conn, key: &str, state: &LimitState, now: i64) -> Result<()> {
    sql::query(
        "UPDATE rate_limits SET tat = $2, failures = $3, blocked_until = $4, updated_at = $5
         WHERE limit_key = $1",
    )
    .bind(key)
    .bind(state.tat)
    .bind(state.failures)
    .bind(state.blocked_until)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops counters idle for longer than `idle_micros` (they are back at
/// their resting state by then).
pub async fn purge(conn: &mut Conn, now: i64, idle_micros: i64) -> Result<u64> {
    Ok(sql::query("DELETE FROM rate_limits WHERE updated_at < $1 AND (blocked_until IS NULL OR blocked_until < $2) AND (tat IS NULL OR tat < $2)")
        .bind(now - idle_micros)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected())
}
