//! The change log: every write appends one row per changed entity in the
//! same transaction, so derived state (search index, caches) can follow it.

use crate::sql;
use crate::{Conn, Result};

pub struct Change<'a> {
    pub account_id: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub operation_id: Option<&'a str>,
    pub at: i64,
}

pub async fn append(conn: &mut Conn, change: &Change<'_>) -> Result<()> {
    sql::query(
        "INSERT INTO change_log (account_id, entity, entity_id, action, operation_id, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(change.account_id)
    .bind(change.entity)
    .bind(change.entity_id)
    .bind(change.action)
    .bind(change.operation_id)
    .bind(change.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The highest sequence number written so far (0 when empty).
pub async fn head(conn: &mut Conn) -> Result<i64> {
    let (seq,): (i64,) = sql::query_as("SELECT COALESCE(MAX(seq), 0) FROM change_log")
        .fetch_one(conn)
        .await?;
    Ok(seq)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub seq: i64,
    pub account_id: String,
    pub entity: String,
    pub entity_id: String,
    pub at: i64,
}

/// Up to `limit` changes after `seq`, in order.
pub async fn since(conn: &mut Conn, seq: i64, limit: i64) -> Result<Vec<ChangeRow>> {
    Ok(sql::query_as(
        "SELECT seq, account_id, entity, entity_id, at FROM change_log
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// How many changes have a `seq` in `(lo, hi]`.
pub async fn count_between(conn: &mut Conn, lo: i64, hi: i64) -> Result<i64> {
    let (n,): (i64,) =
        sql::query_as("SELECT COUNT(*) FROM change_log WHERE seq > $1 AND seq <= $2")
            .bind(lo)
            .bind(hi)
            .fetch_one(conn)
            .await?;
    Ok(n)
}
