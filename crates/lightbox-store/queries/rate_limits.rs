//! Rate-limit counters.

use lightbox_store_rows::rate_limits::LimitState;

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// Makes the key's row if there is none (at rest).
pub async fn insert_if_absent(
    conn: &mut Connection,
    key: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO rate_limits (limit_key, tat, failures, blocked_until, updated_at)
         VALUES ($1, NULL, 0, NULL, $2) ON CONFLICT (limit_key) DO NOTHING",
        key,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

sqlite_only! {
    /// The key's state; the write transaction's lock already excludes every
    /// other writer.
    pub async fn read_locked(conn: &mut Connection, key: &str) -> sqlx::Result<Option<LimitState>> {
        sqlx::query_as!(
            LimitState,
            "SELECT tat, failures, blocked_until FROM rate_limits WHERE limit_key = $1",
            key,
        )
        .fetch_optional(conn)
        .await
    }
}

postgres_only! {
    /// The key's state, its row locked until the transaction ends.
    pub async fn read_locked(conn: &mut Connection, key: &str) -> sqlx::Result<Option<LimitState>> {
        sqlx::query_as!(
            LimitState,
            "SELECT tat, failures, blocked_until FROM rate_limits WHERE limit_key = $1
             FOR NO KEY UPDATE",
            key,
        )
        .fetch_optional(conn)
        .await
    }
}

/// The key's state, without a lock.
pub async fn peek(conn: &mut Connection, key: &str) -> sqlx::Result<Option<LimitState>> {
    sqlx::query_as!(
        LimitState,
        "SELECT tat, failures, blocked_until FROM rate_limits WHERE limit_key = $1",
        key,
    )
    .fetch_optional(conn)
    .await
}

pub async fn store(
    conn: &mut Connection,
    key: &str,
    state: &LimitState,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE rate_limits SET tat = $2, failures = $3, blocked_until = $4, updated_at = $5
         WHERE limit_key = $1",
        key,
        state.tat,
        state.failures,
        state.blocked_until,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the counters last written before `idle_since` that are at rest
/// by `now`; answers how many.
pub async fn purge(
    conn: &mut Connection,
    idle_since: Timestamp,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM rate_limits WHERE updated_at < $1
         AND (blocked_until IS NULL OR blocked_until < $2) AND (tat IS NULL OR tat < $2)",
        idle_since,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
