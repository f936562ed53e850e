//! People who sign in, and their role in each account.

use sqlx::FromRow;

use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub disabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert(conn: &mut Conn, row: &UserRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, login, name, password_hash, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.login)
    .bind(&row.name)
    .bind(&row.password_hash)
    .bind(row.disabled)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a user by uuid or login.
pub async fn find(conn: &mut Conn, id_or_login: &str) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as::<_, UserRow>(
        "SELECT id, login, name, password_hash, disabled, created_at, updated_at
         FROM users WHERE id = $1 OR login = $1",
    )
    .bind(id_or_login)
    .fetch_optional(conn)
    .await?)
}

/// Adds the user to the account, or changes the role of an existing member.
pub async fn upsert_membership(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO memberships (account_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(account_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
