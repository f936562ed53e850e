//! Signing keys of download links.

use lightbox_store_rows::signing_keys::SigningKeyRow;

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// The active keys, newest (the signer) first.
pub async fn active(conn: &mut Connection) -> sqlx::Result<Vec<SigningKeyRow>> {
    sqlx::query_as!(
        SigningKeyRow,
        "SELECT kid, secret, created_at, retired_at FROM signing_keys
         WHERE retired_at IS NULL ORDER BY kid DESC",
    )
    .fetch_all(conn)
    .await
}

/// Every key, retired ones included, newest first.
pub async fn all(conn: &mut Connection) -> sqlx::Result<Vec<SigningKeyRow>> {
    sqlx::query_as!(
        SigningKeyRow,
        "SELECT kid, secret, created_at, retired_at FROM signing_keys ORDER BY kid DESC",
    )
    .fetch_all(conn)
    .await
}

/// The highest kid so far, if any.
pub async fn last_kid(conn: &mut Connection) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(r#"SELECT MAX(kid) AS "kid: i64" FROM signing_keys"#)
        .fetch_one(conn)
        .await
}

pub async fn insert(
    conn: &mut Connection,
    kid: i64,
    secret: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3)",
        kid,
        secret,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Retires a key: it verifies no more, and its secret is forgotten.
pub async fn retire(conn: &mut Connection, kid: i64, now: Timestamp) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE signing_keys SET retired_at = $1, secret = '' WHERE kid = $2",
        now,
        kid,
    )
    .execute(conn)
    .await?;
    Ok(())
}
