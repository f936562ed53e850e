//! Service tokens at rest: the SHA-256 of the token, never the token.

pub use lightbox_store_rows::service_tokens::{ServiceTokenRow, TokenWithAccount};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &ServiceTokenRow) -> Result<()> {
    Ok(on_engine!(conn, service_tokens::insert(row))?)
}

/// Looks a presented token up by its hash (the only secret-derived lookup).
pub async fn find_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<TokenWithAccount>> {
    Ok(on_engine!(conn, service_tokens::find_by_hash(token_hash))?)
}

pub async fn list_for_account(conn: &mut Conn, account_id: &str) -> Result<Vec<ServiceTokenRow>> {
    Ok(on_engine!(
        conn,
        service_tokens::list_for_account(account_id)
    )?)
}

pub async fn find(conn: &mut Conn, id: &str) -> Result<Option<ServiceTokenRow>> {
    Ok(on_engine!(conn, service_tokens::find(id))?)
}

/// Marks a token revoked. Returns its hash so caches can drop it, or `None`
/// when there is no such token (revoking twice keeps the first time).
pub async fn revoke(conn: &mut Conn, id: &str, now: Timestamp) -> Result<Option<String>> {
    Ok(on_engine!(conn, service_tokens::revoke(id, now))?)
}

/// Writes the last-use times collected in memory, in one statement per token,
/// never moving a time backwards (several nodes may flush).
pub async fn record_last_used(conn: &mut Conn, id: &str, at: Timestamp, ip: &str) -> Result<()> {
    Ok(on_engine!(
        conn,
        service_tokens::record_last_used(id, at, ip)
    )?)
}
