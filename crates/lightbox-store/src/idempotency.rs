//! Idempotency records: (account, key) → the request's fingerprint and the
//! Operation it produced. The primary key makes concurrent duplicates
//! collide in the database, so exactly one of them does the work.

use crate::sql;
use crate::{Conn, Result};

pub struct IdempotencyRecord {
    pub request_hash: String,
    pub operation_id: String,
    pub created_at: i64,
}

/// The live record for this key, ignoring ones older than `not_before`.
pub async fn find(
    conn: &mut Conn,
    account_id: &str,
    key: &str,
    not_before: i64,
) -> Result<Option<IdempotencyRecord>> {
    let row: Option<(String, String, i64)> = sql::query_as(
        "SELECT request_hash, operation_id, created_at FROM idempotency_keys
         WHERE account_id = $1 AND idem_key = $2 AND created_at >= $3",
    )
    .bind(account_id)
    .bind(key)
    .bind(not_before)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(request_hash, operation_id, created_at)| IdempotencyRecord {
            request_hash,
            operation_id,
            created_at,
        },
    ))
}

/// Claims the key inside the write's transaction. A unique violation means a
/// concurrent request with the same key won; the caller re-reads its record.
/// An expired record under the same key is replaced.
pub async fn claim(
    conn: &mut Conn,
    account_id: &str,
    key: &str,
    request_hash: &str,
    operation_id: &str,
    now: i64,
    not_before: i64,
) -> Result<()> {
    sql::query(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2 AND created_at < $3",
    )
    .bind(account_id)
    .bind(key)
    .bind(not_before)
    .execute(&mut *conn)
    .await?;
    sql::query(
        "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, operation_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(key)
    .bind(request_hash)
    .bind(operation_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes records older than `before`; returns how many went.
pub async fn purge(conn: &mut Conn, before: i64) -> Result<u64> {
    let done = sql::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
