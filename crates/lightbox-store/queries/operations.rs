//! Operations.

use lightbox_store_rows::operations::OperationRow;

use crate::Connection;
use lightbox_store_rows::{JsonText, Timestamp};

pub async fn insert(conn: &mut Connection, row: &OperationRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO operations (id, account_id, kind, status, image_public_uuids, set_public_uuid,
            result, error, created_at, updated_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        row.id,
        row.account_id,
        row.kind,
        row.status,
        row.image_public_uuids,
        row.set_public_uuid,
        row.result,
        row.error,
        row.created_at,
        row.updated_at,
        row.finished_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An operation of this account.
pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<OperationRow>> {
    sqlx::query_as!(
        OperationRow,
        r#"SELECT id AS "id!", account_id, kind, status, image_public_uuids, set_public_uuid,
                  result, error, created_at, updated_at, finished_at
           FROM operations WHERE id = $1 AND account_id = $2"#,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// An operation of any account.
pub async fn find_any_account(
    conn: &mut Connection,
    id: &str,
) -> sqlx::Result<Option<OperationRow>> {
    sqlx::query_as!(
        OperationRow,
        r#"SELECT id AS "id!", account_id, kind, status, image_public_uuids, set_public_uuid,
                  result, error, created_at, updated_at, finished_at
           FROM operations WHERE id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Moves an operation to a status; a `None` result keeps the stored one,
/// `finished` sets `finished_at` to `now`.
pub async fn set_status(
    conn: &mut Connection,
    id: &str,
    status: &str,
    result: Option<&JsonText>,
    error: Option<&JsonText>,
    now: Timestamp,
    finished: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE operations SET status = $1, result = COALESCE($2, result), error = $3, updated_at = $4,
                finished_at = CASE WHEN $5 THEN $4 ELSE finished_at END
         WHERE id = $6",
        status,
        result,
        error,
        now,
        finished,
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}
