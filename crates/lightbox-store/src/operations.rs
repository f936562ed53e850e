//! Operations: the record every write answers with, and what polling reads.

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct OperationRow {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub status: String,
    /// JSON array.
    pub image_public_uuids: String,
    pub set_public_uuid: Option<String>,
    /// JSON object.
    pub result: String,
    /// JSON error object when failed.
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

macro_rules! select {
    () => {
        "SELECT id, account_id, kind, status, image_public_uuids, set_public_uuid, result, error,
                created_at, updated_at, finished_at FROM operations "
    };
}

pub async fn insert(conn: &mut Conn, row: &OperationRow) -> Result<()> {
    sql::query(
        "INSERT INTO operations (id, account_id, kind, status, image_public_uuids, set_public_uuid,
            result, error, created_at, updated_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.kind)
    .bind(&row.status)
    .bind(&row.image_public_uuids)
    .bind(&row.set_public_uuid)
    .bind(&row.result)
    .bind(&row.error)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(row.finished_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An operation of this account (another account's is simply not found).
pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<OperationRow>> {
    const SQL: &str = concat!(select!(), "WHERE id = $1 AND account_id = $2");
    Ok(sql::query_as::<OperationRow>(SQL)
        .bind(id)
        .bind(account_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn find_any_account(conn: &mut Conn, id: &str) -> Result<Option<OperationRow>> {
    const SQL: &str = concat!(select!(), "WHERE id = $1");
    Ok(sql::query_as::<OperationRow>(SQL)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Moves an operation to a new status; `finished_at` is set for final ones.
pub async fn set_status(
    conn: &mut Conn,
    id: &str,
    status: &str,
    result: Option<&str>,
    error: Option<&str>,
    now: i64,
    finished: bool,
) -> Result<()> {
    sql::query(
        "UPDATE operations SET status = $1, result = COALESCE($2, result), error = $3, updated_at = $4,
                finished_at = CASE WHEN $5 = 1 THEN $4 ELSE finished_at END
         WHERE id = $6",
    )
    .bind(status)
    .bind(result)
    .bind(error)
    .bind(now)
    .bind(i64::from(finished))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
