//! Server-side secrets.

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// Stores `fresh` as the key `name` unless there is one already.
pub async fn insert_if_absent(
    conn: &mut Connection,
    name: &str,
    fresh: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO server_keys (name, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
        name,
        fresh,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The key named `name`.
pub async fn get(conn: &mut Connection, name: &str) -> sqlx::Result<String> {
    sqlx::query_scalar!("SELECT secret FROM server_keys WHERE name = $1", name)
        .fetch_one(conn)
        .await
}
