//! ZIP archives of images: one row per archive, `building` → `ready` (or
//! `failed`); the ZIP itself is a blob under `blob_key`.

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct ArchiveRow {
    pub id: String,
    pub account_id: String,
    pub operation_id: String,
    pub filename: String,
    pub status: String,
    pub blob_key: String,
    pub bytes: Option<i64>,
    pub image_count: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// Whose originals it holds: `''` none, a user uuid only that user's
    /// uploads, `'*'` anyone's (also while building).
    pub originals_by: String,
}

const COLUMNS: &str = "id, account_id, operation_id, filename, status, blob_key, bytes, image_count, created_by, created_at, expires_at, originals_by";

pub async fn insert(conn: &mut Conn, row: &ArchiveRow) -> Result<()> {
    sql::query(
        "INSERT INTO archives (id, account_id, operation_id, filename, status, blob_key, bytes, image_count, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.operation_id)
    .bind(&row.filename)
    .bind(&row.status)
    .bind(&row.blob_key)
    .bind(row.bytes)
    .bind(row.image_count)
    .bind(&row.created_by)
    .bind(row.created_at)
    .bind(row.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<ArchiveRow>> {
    let sql = format!("SELECT {COLUMNS} FROM archives WHERE id = $1 AND account_id = $2");
    Ok(sql::query_as::<ArchiveRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(account_id)
        .fetch_optional(conn)
        .await?)
}

/// Ready archives not expired at `now`, newest first; with `originals_of`,
/// only those holding no originals or only that user's.
pub async fn list_ready(
    conn: &mut Conn,
    account_id: &str,
    now: i64,
    originals_of: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ArchiveRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM archives WHERE account_id = $1 AND status = 'ready' AND expires_at > $2
         AND ($3 IS NULL OR originals_by = '' OR originals_by = $3)
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
    );
    Ok(sql::query_as::<ArchiveRow>(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .bind(now)
        .bind(originals_of)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?)
}

/// Records the outcome of a build: `ready` with its size and whose
/// originals it holds, or `failed`.
pub async fn finish(
    conn: &mut Conn,
    id: &str,
    status: &str,
    bytes: Option<i64>,
    image_count: i64,
    originals_by: &str,
) -> Result<()> {
    sql::query(
        "UPDATE archives SET status = $2, bytes = $3, image_count = $4, originals_by = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(bytes)
    .bind(image_count)
    .bind(originals_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, id: &str) -> Result<()> {
    sql::query("DELETE FROM archives WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Archives expired before `now` (any account), oldest first.
pub async fn expired(conn: &mut Conn, now: i64, limit: i64) -> Result<Vec<ArchiveRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM archives WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2"
    );
    Ok(sql::query_as::<ArchiveRow>(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}
