//! The job queue, in the database so an accepted write is never lost.
//!
//! A worker claims one queued job at a time (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`, so many workers on many nodes never claim the same job; SQLite:
//! the claim is one statement under the single write lock), keeps a
//! heartbeat while it runs, and finishes it only while it still holds it.
//! A job whose heartbeat stops (the process died) is requeued, or failed
//! with a reason once it has used up its attempts.

pub use lightbox_store_rows::jobs::JobRow;

use crate::sql::on_engine;
use crate::{Conn, JsonText, Micros, Result, Timestamp};

pub struct NewJob<'a> {
    pub operation_id: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub max_attempts: i64,
    pub run_after: Timestamp,
}

pub async fn enqueue(conn: &mut Conn, job: &NewJob<'_>, now: Timestamp) -> Result<i64> {
    Ok(on_engine!(
        conn,
        jobs::enqueue(
            job.operation_id,
            job.kind,
            &JsonText::from(job.payload),
            job.max_attempts,
            job.run_after,
            now
        )
    )?)
}

/// Claims the oldest ready job for `worker`, or `None` when there is none.
/// The lease (`heartbeat_at`) is kept by the database's clock, one clock
/// for every node: a node whose clock runs ahead would otherwise take back
/// the jobs of the others while they still beat.
pub async fn claim(conn: &mut Conn, worker: &str, now: Timestamp) -> Result<Option<JobRow>> {
    Ok(on_engine!(conn, jobs::claim(worker, now))?)
}

/// Refreshes the heartbeat of a job this worker holds (database clock).
pub async fn heartbeat(conn: &mut Conn, job_id: i64, worker: &str) -> Result<bool> {
    Ok(on_engine!(conn, jobs::heartbeat(job_id, worker))? == 1)
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
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, jobs::finish(job_id, worker, status, error, now))? == 1)
}

/// Puts a held job back in the queue to run again after `run_after`.
pub async fn retry_later(
    conn: &mut Conn,
    job_id: i64,
    worker: &str,
    error: &str,
    run_after: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(
        conn,
        jobs::retry_later(job_id, worker, error, run_after, now)
    )? == 1)
}

/// Running jobs whose last heartbeat is more than `lease` µs ago, by the
/// database's clock.
pub async fn stale(conn: &mut Conn, lease: Micros) -> Result<Vec<JobRow>> {
    Ok(on_engine!(conn, jobs::stale(lease))?)
}

/// Takes back a stale job: `queued` again, or `failed` when no attempts are
/// left. Guarded so a job whose worker came back in time is left alone.
pub async fn take_back(
    conn: &mut Conn,
    job_id: i64,
    lease: Micros,
    requeue: bool,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    let status = if requeue { "queued" } else { "failed" };
    Ok(on_engine!(conn, jobs::take_back(job_id, lease, status, reason, now))? == 1)
}

/// Counts jobs by status (for metrics and tests).
pub async fn count_by_status(conn: &mut Conn, status: &str) -> Result<i64> {
    Ok(on_engine!(conn, jobs::count_by_status(status))?)
}
