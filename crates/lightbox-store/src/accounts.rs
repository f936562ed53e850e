//! Accounts: the tenant boundary. Everything else belongs to one.

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Result, flag};

#[derive(Debug, Clone, FromRow)]
pub struct AccountRow {
    pub id: String,
    pub unique_id: String,
    pub name: String,
    pub api_enabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AccountRow {
    pub fn api_enabled(&self) -> bool {
        flag(self.api_enabled)
    }
}

pub async fn insert(conn: &mut Conn, row: &AccountRow) -> Result<()> {
    sql::query(
        "INSERT INTO accounts (id, unique_id, name, api_enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.id)
    .bind(&row.unique_id)
    .bind(&row.name)
    .bind(row.api_enabled)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds an account by its uuid or its `unique_id`.
pub async fn find(conn: &mut Conn, id_or_unique_id: &str) -> Result<Option<AccountRow>> {
    Ok(sql::query_as::<AccountRow>(
        "SELECT id, unique_id, name, api_enabled, created_at, updated_at
         FROM accounts WHERE id = $1 OR unique_id = $1",
    )
    .bind(id_or_unique_id)
    .fetch_optional(conn)
    .await?)
}

/// Switches API access; returns false when no such account exists.
pub async fn set_api_enabled(conn: &mut Conn, id: &str, enabled: bool, now: i64) -> Result<bool> {
    let done = sql::query("UPDATE accounts SET api_enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(enabled))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
