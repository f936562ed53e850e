//! Accounts.

use lightbox_store_rows::accounts::AccountRow;

use crate::Connection;
use lightbox_store_rows::Timestamp;

pub async fn insert(conn: &mut Connection, row: &AccountRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO accounts (id, unique_id, name, api_enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        row.id,
        row.unique_id,
        row.name,
        row.api_enabled,
        row.created_at,
        row.updated_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An account by its uuid or its `unique_id`.
pub async fn find(
    conn: &mut Connection,
    id_or_unique_id: &str,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        r#"SELECT id AS "id!", unique_id, name, api_enabled AS "api_enabled: bool", created_at,
                  updated_at
           FROM accounts WHERE id = $1 OR unique_id = $1"#,
        id_or_unique_id,
    )
    .fetch_optional(conn)
    .await
}

/// Answers how many accounts changed (0 or 1).
pub async fn set_api_enabled(
    conn: &mut Connection,
    id: &str,
    enabled: bool,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE accounts SET api_enabled = $1, updated_at = $2 WHERE id = $3",
        enabled,
        now,
        id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
