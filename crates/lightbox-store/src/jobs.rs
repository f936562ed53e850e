//! The job queue, in the database so an accepted write is never lost.
//!
//! A worker claims one queued job at a time (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`, so many workers on many nodes never claim the same job; SQLite:
//! the claim is one statement under the single write lock), keeps a
//! heartbeat while it runs, and finishes it only while it still holds it.
//! A job whose heartbeat stops (the process died) is requeued, or failed
//! with a reason once it has used up its attempts.

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Engine, Result};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub operation_id: String,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

pub struct NewJob<'a> {
    pub operation_id: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub max_attempts: i64,
    pub run_after: i64,
}

pub async fn enqueue(conn: &mut Conn, job: &NewJob<'_>, now: i64) -> Result<i64> {
    let (id,): (i64,) = sql::query_as(
        "INSERT INTO jobs (operation_id, kind, payload, status, attempts, max_attempts, run_after, created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) RETURNING id",
    )
    .bind(job.operation_id)
    .bind(job.kind)
    .bind(job.payload)
    .bind(job.max_attempts)
    .bind(job.run_after)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Claims the oldest ready job for `worker`, or `None` when there is none.
/// The lease (`heartbeat_at`) is kept by the database's clock, one clock
/// for every node: a node whose clock runs ahead would otherwise take back
/// the jobs of the others while they still beat.
pub async fn claim(
    conn: &mut Conn,
    engine: Engine,
    worker: &str,
    now: i64,
) -> Result<Option<JobRow>> {
    let lock = match engine {
        Engine::Postgres => "FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_by = $1, heartbeat_at = {db_now}, attempts = attempts + 1, updated_at = $2
         WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $2
                     ORDER BY run_after, id LIMIT 1 {lock})
         RETURNING id, operation_id, kind, payload, attempts, max_attempts",
        db_now = crate::nodes::db_now(conn)
    );
    Ok(sql::query_as::<JobRow>(sqlx::AssertSqlSafe(sql))
        .bind(worker)
        .bind(now)
        .fetch_optional(conn)
        .await?)
}

/// Refreshes the heartbeat of a job this worker holds (database clock).
pub async fn heartbeat(conn: &mut Conn, job_id: i64, worker: &str) -> Result<bool> {
    let sql = format!(
        "UPDATE jobs SET heartbeat_at = {} WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        crate::nodes::db_now(conn)
    );
    let done = sql::query(sqlx::AssertSqlSafe(sql))
        .bind(job_id)
        .bind(worker)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a job this worker still holds. Returns false if it lost the job
/// (its heartbeat lapsed and it was taken back), in which case the caller
/// must not touch the operation.
pub async fn finish(
    conn: &mut Conn,
    job_id: i64,
    worker: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = sql::query(
        "UPDATE jobs SET status = $1, last_error = $2, updated_at = $3, locked_by = NULL
         WHERE id = $4 AND locked_by = $5 AND status = 'running'",
    )
    .bind(status)
    .bind(error)
    .bind(now)
    .bind(job_id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts a held job back in the queue to run again after `run_after`.
pub async fn retry_later(
    conn: &mut Conn,
    job_id: i64,
    worker: &str,
    error: &str,
    run_after: i64,
    now: i64,
) -> Result<bool> {
    let done = sql::query(
        "UPDATE jobs SET status = 'queued', last_error = $1, run_after = $2, updated_at = $3, locked_by = NULL
         WHERE id = $4 AND locked_by = $5 AND status = 'running'",
    )
    .bind(error)
    .bind(run_after)
    .bind(now)
    .bind(job_id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Running jobs whose last heartbeat is more than `lease` µs ago, by the
/// database's clock.
pub async fn stale(conn: &mut Conn, lease: i64) -> Result<Vec<JobRow>> {
    let sql = format!(
        "SELECT id, operation_id, kind, payload, attempts, max_attempts FROM jobs
         WHERE status = 'running' AND heartbeat_at < {} - $1 ORDER BY id",
        crate::nodes::db_now(conn)
    );
    Ok(sql::query_as::<JobRow>(sqlx::AssertSqlSafe(sql))
        .bind(lease)
        .fetch_all(conn)
        .await?)
}

/// Takes back a stale job: `queued` again, or `failed` when no attempts are
/// left. Guarded so a job whose worker came back in time is left alone.
pub async fn take_back(
    conn: &mut Conn,
    job_id: i64,
    lease: i64,
    requeue: bool,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let status = if requeue { "queued" } else { "failed" };
    let sql = format!(
        "UPDATE jobs SET status = $1, locked_by = NULL, last_error = $2, updated_at = $3, run_after = $3
         WHERE id = $4 AND status = 'running' AND heartbeat_at < {} - $5",
        crate::nodes::db_now(conn)
    );
    let done = sql::query(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(reason)
        .bind(now)
        .bind(job_id)
        .bind(lease)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts jobs by status (for metrics and tests).
pub async fn count_by_status(conn: &mut Conn, status: &str) -> Result<i64> {
    let (n,): (i64,) = sql::query_as("SELECT COUNT(*) FROM jobs WHERE status = $1")
        .bind(status)
        .fetch_one(conn)
        .await?;
    Ok(n)
}
