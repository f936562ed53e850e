//! The change log.

use lightbox_store_rows::change_log::{Change, ChangeRow};

use crate::Connection;

/// Appends one change.
pub async fn append(conn: &mut Connection, change: &Change<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO change_log (account_id, entity, entity_id, action, operation_id, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        change.account_id,
        change.entity,
        change.entity_id,
        change.action,
        change.operation_id,
        change.at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The highest sequence number so far (0 when empty).
pub async fn head(conn: &mut Connection) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT COALESCE(MAX(seq), 0) AS "seq!: i64" FROM change_log"#)
        .fetch_one(conn)
        .await
}

/// Up to `limit` changes after `seq`, in order.
pub async fn since(conn: &mut Connection, seq: i64, limit: i64) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as!(
        ChangeRow,
        "SELECT seq, account_id, entity, entity_id, at FROM change_log
         WHERE seq > $1 ORDER BY seq LIMIT $2",
        seq,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// How many changes have a `seq` in `(lo, hi]`.
pub async fn count_between(conn: &mut Connection, lo: i64, hi: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM change_log WHERE seq > $1 AND seq <= $2"#,
        lo,
        hi,
    )
    .fetch_one(conn)
    .await
}
