//! ZIP archives of images.

use lightbox_store_rows::archives::ArchiveRow;

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// Inserts an archive; `originals_by` takes the column's default (`'*'`).
pub async fn insert(conn: &mut Connection, row: &ArchiveRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO archives (id, account_id, operation_id, filename, status, blob_key, bytes,
            image_count, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        row.id,
        row.account_id,
        row.operation_id,
        row.filename,
        row.status,
        row.blob_key,
        row.bytes,
        row.image_count,
        row.created_by,
        row.created_at,
        row.expires_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An archive of this account.
pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<ArchiveRow>> {
    sqlx::query_as!(
        ArchiveRow,
        r#"SELECT id AS "id!", account_id, operation_id, filename, status, blob_key, bytes,
                  image_count, created_by, created_at, expires_at, originals_by
           FROM archives WHERE id = $1 AND account_id = $2"#,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// Ready archives not expired at `now`, newest first; with `originals_of`,
/// only those holding no originals or only that user's.
pub async fn list_ready(
    conn: &mut Connection,
    account_id: &str,
    now: Timestamp,
    originals_of: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<ArchiveRow>> {
    sqlx::query_as!(
        ArchiveRow,
        r#"SELECT id AS "id!", account_id, operation_id, filename, status, blob_key, bytes,
                  image_count, created_by, created_at, expires_at, originals_by
           FROM archives WHERE account_id = $1 AND status = 'ready' AND expires_at > $2
           AND (CAST($3 AS TEXT) IS NULL OR originals_by = '' OR originals_by = $3)
           ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"#,
        account_id,
        now,
        originals_of,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// Records the outcome of a build.
pub async fn finish(
    conn: &mut Connection,
    id: &str,
    status: &str,
    bytes: Option<i64>,
    image_count: i64,
    originals_by: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE archives SET status = $2, bytes = $3, image_count = $4, originals_by = $5
         WHERE id = $1",
        id,
        status,
        bytes,
        image_count,
        originals_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Connection, id: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM archives WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Archives expired before `now` (any account), oldest first.
pub async fn expired(
    conn: &mut Connection,
    now: Timestamp,
    limit: i64,
) -> sqlx::Result<Vec<ArchiveRow>> {
    sqlx::query_as!(
        ArchiveRow,
        r#"SELECT id AS "id!", account_id, operation_id, filename, status, blob_key, bytes,
                  image_count, created_by, created_at, expires_at, originals_by
           FROM archives WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2"#,
        now,
        limit,
    )
    .fetch_all(conn)
    .await
}
