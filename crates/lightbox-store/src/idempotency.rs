//! Idempotency records: (account, key) → the request's fingerprint and the
//! Operation it produced. The primary key makes concurrent duplicates
//! collide in the database, so exactly one of them does the work.

pub use lightbox_store_rows::idempotency::IdempotencyRecord;

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// The live record for this key, ignoring ones older than `not_before`.
pub async fn find(
    conn: &mut Conn,
    account_id: &str,
    key: &str,
    not_before: Timestamp,
) -> Result<Option<IdempotencyRecord>> {
    Ok(on_engine!(
        conn,
        idempotency::find(account_id, key, not_before)
    )?)
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
    now: Timestamp,
    not_before: Timestamp,
) -> Result<()> {
    on_engine!(
        conn,
        idempotency::delete_expired(account_id, key, not_before)
    )?;
    Ok(on_engine!(
        conn,
        idempotency::insert(account_id, key, request_hash, operation_id, now)
    )?)
}

/// Deletes records older than `before`; returns how many went.
pub async fn purge(conn: &mut Conn, before: Timestamp) -> Result<u64> {
    Ok(on_engine!(conn, idempotency::purge(before))?)
}
