//! Service tokens at rest: the SHA-256 of the token, never the token.

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct ServiceTokenRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub token_hash: String,
    pub last4: String,
    /// JSON array of scope names.
    pub scopes: String,
    /// JSON array of IP addresses / CIDR blocks; empty = any address.
    pub allowed_ips: String,
    pub max_request_bytes: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub created_at: i64,
}

/// What authentication needs in one read: the token and its account.
#[derive(Debug, Clone, FromRow)]
pub struct TokenWithAccount {
    #[sqlx(flatten)]
    pub token: ServiceTokenRow,
    pub account_unique_id: String,
    pub account_name: String,
    pub account_api_enabled: i64,
}

// A macro, not a const, so `concat!` can build whole static SQL strings.
macro_rules! columns {
    () => {
        "t.id, t.account_id, t.name, t.token_hash, t.last4, t.scopes, t.allowed_ips,
    t.max_request_bytes, t.expires_at, t.revoked_at, t.last_used_at, t.last_used_ip, t.created_at"
    };
}

pub async fn insert(conn: &mut Conn, row: &ServiceTokenRow) -> Result<()> {
    sql::query(
        "INSERT INTO service_tokens (id, account_id, name, token_hash, last4, scopes, allowed_ips,
            max_request_bytes, expires_at, revoked_at, last_used_at, last_used_ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.name)
    .bind(&row.token_hash)
    .bind(&row.last4)
    .bind(&row.scopes)
    .bind(&row.allowed_ips)
    .bind(row.max_request_bytes)
    .bind(row.expires_at)
    .bind(row.revoked_at)
    .bind(row.last_used_at)
    .bind(&row.last_used_ip)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Looks a presented token up by its hash (the only secret-derived lookup).
pub async fn find_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<TokenWithAccount>> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        ", a.unique_id AS account_unique_id, a.name AS account_name, a.api_enabled AS account_api_enabled
         FROM service_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1"
    );
    Ok(sql::query_as::<TokenWithAccount>(SQL)
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

pub async fn list_for_account(conn: &mut Conn, account_id: &str) -> Result<Vec<ServiceTokenRow>> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM service_tokens t WHERE t.account_id = $1 ORDER BY t.created_at, t.id"
    );
    Ok(sql::query_as::<ServiceTokenRow>(SQL)
        .bind(account_id)
        .fetch_all(conn)
        .await?)
}

pub async fn find(conn: &mut Conn, id: &str) -> Result<Option<ServiceTokenRow>> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM service_tokens t WHERE t.id = $1"
    );
    Ok(sql::query_as::<ServiceTokenRow>(SQL)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Marks a token revoked. Returns its hash so caches can drop it, or `None`
/// when there is no such token (revoking twice keeps the first time).
pub async fn revoke(conn: &mut Conn, id: &str, now: i64) -> Result<Option<String>> {
    let row: Option<(String,)> = sql::query_as(
        "UPDATE service_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING token_hash",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(h,)| h))
}

/// Writes the last-use times collected in memory, in one statement per token,
/// never moving a time backwards (several nodes may flush).
pub async fn record_last_used(conn: &mut Conn, id: &str, at: i64, ip: &str) -> Result<()> {
    sql::query(
        "UPDATE service_tokens SET last_used_at = $1, last_used_ip = $2
         WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $1)",
    )
    .bind(at)
    .bind(ip)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
