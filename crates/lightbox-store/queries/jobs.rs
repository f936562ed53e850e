//! The job queue. Leases (`heartbeat_at`) are kept by the database's clock
//! (the `database_clock` view, migration 0011).

use lightbox_store_rows::jobs::JobRow;

use crate::Connection;
use lightbox_store_rows::{JsonText, Micros, Timestamp};

/// Queues a job; answers its id.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    conn: &mut Connection,
    operation_id: &str,
    kind: &str,
    payload: &JsonText,
    max_attempts: i64,
    run_after: Timestamp,
    now: Timestamp,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO jobs (operation_id, kind, payload, status, attempts, max_attempts, run_after,
            created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) RETURNING id AS \"id!\"",
        operation_id,
        kind,
        payload,
        max_attempts,
        run_after,
        now,
    )
    .fetch_one(conn)
    .await
}

sqlite_only! {
    /// Claims the oldest ready job: one statement under the single write lock.
    pub async fn claim(conn: &mut Connection, worker: &str, now: Timestamp) -> sqlx::Result<Option<JobRow>> {
        sqlx::query_as!(
            JobRow,
            r#"UPDATE jobs SET status = 'running', locked_by = $1,
                  heartbeat_at = (SELECT now FROM database_clock), attempts = attempts + 1,
                  updated_at = $2
               WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $2
                           ORDER BY run_after, id LIMIT 1)
               RETURNING id AS "id!", operation_id, kind, payload, attempts, max_attempts"#,
            worker,
            now,
        )
        .fetch_optional(conn)
        .await
    }
}

postgres_only! {
    /// Claims the oldest ready job; `SKIP LOCKED`, so workers on many nodes
    /// never claim the same one.
    pub async fn claim(conn: &mut Connection, worker: &str, now: Timestamp) -> sqlx::Result<Option<JobRow>> {
        sqlx::query_as!(
            JobRow,
            r#"UPDATE jobs SET status = 'running', locked_by = $1,
                  heartbeat_at = (SELECT now FROM database_clock), attempts = attempts + 1,
                  updated_at = $2
               WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $2
                           ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING id AS "id!", operation_id, kind, payload, attempts, max_attempts"#,
            worker,
            now,
        )
        .fetch_optional(conn)
        .await
    }
}

/// Refreshes the heartbeat of a job `worker` holds; answers the rows changed.
pub async fn heartbeat(conn: &mut Connection, job_id: i64, worker: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE jobs SET heartbeat_at = (SELECT now FROM database_clock)
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        job_id,
        worker,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Ends a job `worker` still holds; answers the rows changed.
pub async fn finish(
    conn: &mut Connection,
    job_id: i64,
    worker: &str,
    status: &str,
    error: Option<&str>,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE jobs SET status = $1, last_error = $2, updated_at = $3, locked_by = NULL
         WHERE id = $4 AND locked_by = $5 AND status = 'running'",
        status,
        error,
        now,
        job_id,
        worker,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Puts a held job back in the queue; answers the rows changed.
pub async fn retry_later(
    conn: &mut Connection,
    job_id: i64,
    worker: &str,
    error: &str,
    run_after: Timestamp,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE jobs SET status = 'queued', last_error = $1, run_after = $2, updated_at = $3,
            locked_by = NULL
         WHERE id = $4 AND locked_by = $5 AND status = 'running'",
        error,
        run_after,
        now,
        job_id,
        worker,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Running jobs whose last heartbeat is more than `lease` µs ago.
pub async fn stale(conn: &mut Connection, lease: Micros) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as!(
        JobRow,
        r#"SELECT id AS "id!", operation_id, kind, payload, attempts, max_attempts FROM jobs
           WHERE status = 'running' AND heartbeat_at < (SELECT now FROM database_clock) - CAST($1 AS INTERVAL)
           ORDER BY id"#,
        lease,
    )
    .fetch_all(conn)
    .await
}

/// Takes back a stale job (to `status`); answers the rows changed.
pub async fn take_back(
    conn: &mut Connection,
    job_id: i64,
    lease: Micros,
    status: &str,
    reason: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE jobs SET status = $1, locked_by = NULL, last_error = $2, updated_at = $3,
            run_after = $3
         WHERE id = $4 AND status = 'running'
           AND heartbeat_at < (SELECT now FROM database_clock) - CAST($5 AS INTERVAL)",
        status,
        reason,
        now,
        job_id,
        lease,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// How many jobs have `status`.
pub async fn count_by_status(conn: &mut Connection, status: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM jobs WHERE status = $1"#,
        status
    )
    .fetch_one(conn)
    .await
}
