//! Service tokens at rest.

use lightbox_store_rows::service_tokens::{ServiceTokenRow, TokenWithAccount};

use crate::Connection;
use lightbox_store_rows::Timestamp;

pub async fn insert(conn: &mut Connection, row: &ServiceTokenRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO service_tokens (id, account_id, name, token_hash, last4, scopes, allowed_ips,
            max_request_bytes, expires_at, revoked_at, last_used_at, last_used_ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        row.id,
        row.account_id,
        row.name,
        row.token_hash,
        row.last4,
        row.scopes,
        row.allowed_ips,
        row.max_request_bytes,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        row.last_used_ip,
        row.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A presented token by its hash (the only secret-derived lookup), with
/// its account.
pub async fn find_by_hash(
    conn: &mut Connection,
    token_hash: &str,
) -> sqlx::Result<Option<TokenWithAccount>> {
    let row = sqlx::query!(
        r#"SELECT t.id AS "id!", t.account_id, t.name, t.token_hash, t.last4, t.scopes,
                  t.allowed_ips, t.max_request_bytes, t.expires_at, t.revoked_at,
                  t.last_used_at, t.last_used_ip, t.created_at,
                  a.unique_id AS account_unique_id, a.name AS account_name,
                  a.api_enabled AS "account_api_enabled: bool"
           FROM service_tokens t JOIN accounts a ON a.id = t.account_id
           WHERE t.token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| TokenWithAccount {
        token: ServiceTokenRow {
            id: r.id,
            account_id: r.account_id,
            name: r.name,
            token_hash: r.token_hash,
            last4: r.last4,
            scopes: r.scopes,
            allowed_ips: r.allowed_ips,
            max_request_bytes: r.max_request_bytes,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip,
            created_at: r.created_at,
        },
        account_unique_id: r.account_unique_id,
        account_name: r.account_name,
        account_api_enabled: r.account_api_enabled,
    }))
}

pub async fn list_for_account(
    conn: &mut Connection,
    account_id: &str,
) -> sqlx::Result<Vec<ServiceTokenRow>> {
    sqlx::query_as!(
        ServiceTokenRow,
        r#"SELECT id AS "id!", account_id, name, token_hash, last4, scopes, allowed_ips,
                  max_request_bytes, expires_at, revoked_at, last_used_at, last_used_ip,
                  created_at
           FROM service_tokens WHERE account_id = $1 ORDER BY created_at, id"#,
        account_id,
    )
    .fetch_all(conn)
    .await
}

pub async fn find(conn: &mut Connection, id: &str) -> sqlx::Result<Option<ServiceTokenRow>> {
    sqlx::query_as!(
        ServiceTokenRow,
        r#"SELECT id AS "id!", account_id, name, token_hash, last4, scopes, allowed_ips,
                  max_request_bytes, expires_at, revoked_at, last_used_at, last_used_ip,
                  created_at
           FROM service_tokens WHERE id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Marks a token revoked (revoking twice keeps the first time); answers its
/// hash, or `None` when there is no such token.
pub async fn revoke(
    conn: &mut Connection,
    id: &str,
    now: Timestamp,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "UPDATE service_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2
         RETURNING token_hash",
        now,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Writes a last-use time, never moving it backwards (several nodes flush).
pub async fn record_last_used(
    conn: &mut Connection,
    id: &str,
    at: Timestamp,
    ip: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE service_tokens SET last_used_at = $1, last_used_ip = $2
         WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $1)",
        at,
        ip,
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}
