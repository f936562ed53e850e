//! Idempotency records.

use lightbox_store_rows::idempotency::IdempotencyRecord;

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// The record for this key, unless it is older than `not_before`.
pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    key: &str,
    not_before: Timestamp,
) -> sqlx::Result<Option<IdempotencyRecord>> {
    sqlx::query_as!(
        IdempotencyRecord,
        "SELECT request_hash, operation_id, created_at FROM idempotency_keys
         WHERE account_id = $1 AND idem_key = $2 AND created_at >= $3",
        account_id,
        key,
        not_before,
    )
    .fetch_optional(conn)
    .await
}

/// Deletes the key's record when it is older than `not_before`.
pub async fn delete_expired(
    conn: &mut Connection,
    account_id: &str,
    key: &str,
    not_before: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2 AND created_at < $3",
        account_id,
        key,
        not_before,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a record (a unique violation when the key is taken).
pub async fn insert(
    conn: &mut Connection,
    account_id: &str,
    key: &str,
    request_hash: &str,
    operation_id: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, operation_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        account_id,
        key,
        request_hash,
        operation_id,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes records older than `before`; answers how many went.
pub async fn purge(conn: &mut Connection, before: Timestamp) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM idempotency_keys WHERE created_at < $1", before)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
