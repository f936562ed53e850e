//! Signing keys of download links, shared by every process on the database
//! (a link signed by one node is checked by another). Key ids count up from
//! 1; the newest active key signs, every active key verifies. Rotation adds
//! one and retires all but the two newest (see migration 0005).

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Result};

/// How many keys stay active after a rotation: the new signer and the one
/// before it (links it signed keep working until they expire).
pub const ACTIVE_KEYS: usize = 2;

#[derive(Debug, Clone, FromRow)]
pub struct SigningKeyRow {
    pub kid: i64,
    /// Empty once retired.
    pub secret: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// The active keys, newest (the signer) first.
pub async fn active(conn: &mut Conn) -> Result<Vec<SigningKeyRow>> {
    Ok(sql::query_as::<SigningKeyRow>(
        "SELECT kid, secret, created_at, retired_at FROM signing_keys
         WHERE retired_at IS NULL ORDER BY kid DESC",
    )
    .fetch_all(conn)
    .await?)
}

/// Every key, retired ones included, newest first.
pub async fn all(conn: &mut Conn) -> Result<Vec<SigningKeyRow>> {
    Ok(sql::query_as::<SigningKeyRow>(
        "SELECT kid, secret, created_at, retired_at FROM signing_keys ORDER BY kid DESC",
    )
    .fetch_all(conn)
    .await?)
}

/// Adds `secret` as the next key (the new signer) and retires every active
/// key but the [`ACTIVE_KEYS`] newest; answers the new kid and the retired
/// ones. Run it in a write transaction: a concurrent rotation that picked
/// the same kid fails on the primary key instead of interleaving.
pub async fn rotate(conn: &mut Conn, secret: &str, now: i64) -> Result<(i64, Vec<i64>)> {
    let (last,): (Option<i64>,) = sql::query_as("SELECT MAX(kid) FROM signing_keys")
        .fetch_one(&mut *conn)
        .await?;
    let kid = last.unwrap_or(0) + 1;
    sql::query("INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3)")
        .bind(kid)
        .bind(secret)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let mut retired = Vec::new();
    for key in active(conn).await?.into_iter().skip(ACTIVE_KEYS) {
        sql::query("UPDATE signing_keys SET retired_at = $1, secret = '' WHERE kid = $2")
            .bind(now)
            .bind(key.kid)
            .execute(&mut *conn)
            .await?;
        retired.push(key.kid);
    }
    Ok((kid, retired))
}
