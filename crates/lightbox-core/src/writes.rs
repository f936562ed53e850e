//! The one path every write takes: idempotency key, transaction, Operation.
//!
//! ```text
//! begin(key, fingerprint) ─┬─ key seen, same request      → Replay(original Operation)
//!                          ├─ key seen, other request     → 409 idempotency_key_conflict
//!                          └─ new: BEGIN; claim key       → Fresh(PendingWrite)
//! PendingWrite: the use-case changes rows in the same transaction, then
//! finish(done): INSERT Operation (+ jobs, + change log); COMMIT.
//! ```
//! The claim is an INSERT on the (account, key) primary key, so two
//! concurrent requests with one key collide in the database: one does the
//! work, the other waits for it and replays its Operation. A write that fails
//! validation rolls back, key included, so the client may retry the key.

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use lightbox_store::change_log::{self, Change};
use lightbox_store::jobs::{self, NewJob};
use lightbox_store::operations::{self as op_store, OperationRow};
use lightbox_store::{Conn, Tx, idempotency};
use serde_json::Value;

use crate::Core;
use crate::error::{CoreError, ErrorKind};
use crate::ids;
use crate::jobs::JobPayload;
use crate::operations::{Operation, OperationStatus};

/// How long a key is remembered.
pub const IDEMPOTENCY_RETENTION_MICROS: i64 = 24 * 3600 * 1_000_000;

/// Checks an `Idempotency-Key`: 1–255 printable ASCII characters.
pub fn validate_idempotency_key(key: Option<&str>) -> Result<String, CoreError> {
    let key = key.ok_or_else(|| {
        CoreError::validation(
            "Idempotency-Key",
            "Every write needs an Idempotency-Key header.",
        )
    })?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(CoreError::validation(
            "Idempotency-Key",
            "The Idempotency-Key must be 1-255 printable ASCII characters.",
        ));
    }
    Ok(key.to_owned())
}

/// Who writes, under which key, and the request's fingerprint
/// (method + path + canonical body, hashed by the caller).
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub account_id: String,
    pub idempotency_key: String,
    pub request_hash: String,
}

pub enum Begun {
    /// The same request was already done: answer with its Operation.
    Replay(Operation),
    Fresh(PendingWrite),
}

pub struct PendingWrite {
    tx: Tx,
    operation_id: String,
    account_id: String,
    now: i64,
    /// An Idempotency-Key guards it (what a lost COMMIT's `503` may advise).
    keyed: bool,
    /// This node's count of committed writes, bumped on commit.
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Webhook events were recorded: wake this node's sender on commit.
    events: bool,
    webhooks: std::sync::Arc<crate::webhooks::WebhookSettings>,
}

/// A job to run after the write commits, made from its typed payload.
pub struct JobSpec {
    kind: &'static str,
    payload: Value,
    max_attempts: i64,
    /// Not before this time (µs); None: at once.
    run_after: Option<i64>,
}

impl JobSpec {
    pub fn of<P: JobPayload>(
        payload: &P,
        max_attempts: i64,
        run_after: Option<i64>,
    ) -> Result<JobSpec, CoreError> {
        Ok(JobSpec {
            kind: P::KIND,
            payload: serde_json::to_value(payload).map_err(|_| CoreError::internal())?,
            max_attempts,
            run_after,
        })
    }
}

/// What a use-case did inside its transaction.
pub struct WorkDone {
    pub kind: &'static str,
    pub status: OperationStatus,
    pub result: Value,
    pub image_public_uuids: Vec<String>,
    pub set_public_uuid: Option<String>,
    pub jobs: Vec<JobSpec>,
    /// (entity, entity id, action) for the change log.
    pub changes: Vec<(&'static str, String, &'static str)>,
}

impl WorkDone {
    /// Work that succeeded at once, about no image or set (settings and
    /// the like).
    pub fn succeeded(
        kind: &'static str,
        result: Value,
        changes: Vec<(&'static str, String, &'static str)>,
    ) -> Self {
        Self {
            kind,
            status: OperationStatus::Succeeded,
            result,
            image_public_uuids: vec![],
            set_public_uuid: None,
            jobs: vec![],
            changes,
        }
    }
}

/// The Operation this request's Idempotency-Key already made, if any: for
/// a use-case that would otherwise do slow work (ask the resolver) before
/// [`begin`] answers the replay.
pub async fn replayed(core: &Core, ctx: &WriteContext) -> Result<Option<Operation>, CoreError> {
    let not_before = core.now() - IDEMPOTENCY_RETENTION_MICROS;
    let mut conn = core.store.read().await?;
    match idempotency::find(
        &mut conn,
        &ctx.account_id,
        &ctx.idempotency_key,
        Timestamp(not_before),
    )
    .await?
    {
        Some(rec) => replay(&mut conn, ctx, &rec.request_hash, &rec.operation_id)
            .await
            .map(Some),
        None => Ok(None),
    }
}

pub async fn begin(core: &Core, ctx: &WriteContext) -> Result<Begun, CoreError> {
    // Three rounds cover: read miss → claim collides with a concurrent
    // winner → read its record. More means something is badly wrong.
    for _ in 0..3 {
        let now = core.now();
        let not_before = now - IDEMPOTENCY_RETENTION_MICROS;
        if let Some(op) = replayed(core, ctx).await? {
            return Ok(Begun::Replay(op));
        }
        let mut tx = core.store.begin_write().await?;
        let operation_id = ids::new_operation_id();
        match idempotency::claim(
            &mut tx,
            &ctx.account_id,
            &ctx.idempotency_key,
            &ctx.request_hash,
            &operation_id,
            Timestamp(now),
            Timestamp(not_before),
        )
        .await
        {
            Ok(()) => {
                return Ok(Begun::Fresh(PendingWrite {
                    tx,
                    operation_id,
                    account_id: ctx.account_id.clone(),
                    now,
                    keyed: true,
                    changes: core.changes.clone(),
                    events: false,
                    webhooks: core.webhooks.clone(),
                }));
            }
            Err(e) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CoreError::new(
        ErrorKind::Conflict,
        "This Idempotency-Key is busy; retry the request.",
    ))
}

/// How many times a write that crossed another one is run in all.
const CROSSED_WRITE_ATTEMPTS: u32 = 4;

/// Runs `attempt` (a whole write: begin … finish) again when PostgreSQL
/// aborted it for crossing another write. Writes lock rows in one order
/// where they can (sets, then images, then keyword counts, each sorted), but
/// some orders are the database's own (a foreign key's `SET NULL`, a batch's
/// items), so a deadlock stays possible; its victim applied nothing, so
/// running it again is the cure. The pause grows and is jittered, so the two
/// writers do not meet again.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, CoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CoreError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.kind == ErrorKind::CrossedWrite && tries < CROSSED_WRITE_ATTEMPTS => {
                // Jitter from the clock's nanoseconds: enough to part two writers.
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos() % 20));
                let pause = 10 * u64::from(tries) + jitter;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                tries += 1;
            }
            done => return done,
        }
    }
}

/// A write that no Idempotency-Key guards (the caller has its own once-only
/// rule, e.g. an upload ticket): a transaction and an Operation id.
pub async fn begin_unkeyed(core: &Core, account_id: &str) -> Result<PendingWrite, CoreError> {
    let tx = core.store.begin_write().await?;
    Ok(PendingWrite {
        tx,
        operation_id: ids::new_operation_id(),
        account_id: account_id.to_owned(),
        now: core.now(),
        keyed: false,
        changes: core.changes.clone(),
        events: false,
        webhooks: core.webhooks.clone(),
    })
}

async fn replay(
    conn: &mut Conn,
    ctx: &WriteContext,
    request_hash: &str,
    operation_id: &str,
) -> Result<Operation, CoreError> {
    if request_hash != ctx.request_hash {
        return Err(CoreError::new(
            ErrorKind::IdempotencyKeyConflict,
            "This Idempotency-Key was already used for a different request.",
        )
        .with_field("Idempotency-Key"));
    }
    let row = op_store::find(conn, &ctx.account_id, operation_id)
        .await?
        .ok_or_else(CoreError::internal)?;
    Operation::from_row(&row)
}

impl PendingWrite {
    /// The transaction to make the write's changes in.
    pub(crate) fn tx(&mut self) -> &mut Conn {
        &mut self.tx
    }

    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The write's single timestamp.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Commits the changes without recording an Operation.
    pub async fn commit_without_operation(self) -> Result<(), CoreError> {
        let keyed = self.keyed;
        self.tx
            .commit()
            .await
            .map_err(|e| commit_failed(e, keyed))?;
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Records the Operation, its jobs and change-log rows, and commits.
    pub async fn finish(mut self, done: WorkDone) -> Result<Operation, CoreError> {
        let id = self.operation_id.clone();
        let op = self.record(id, done).await?;
        let keyed = self.keyed;
        self.tx
            .commit()
            .await
            .map_err(|e| commit_failed(e, keyed))?;
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        if self.events {
            self.webhooks.wake.notify_one();
        }
        Ok(op)
    }

    /// A new Operation id for a child of this write (a batch item), whose
    /// jobs can name it before [`PendingWrite::record_child`].
    pub fn child_operation_id(&self) -> String {
        ids::new_operation_id()
    }

    /// Records a child Operation (a batch item) with its jobs and change-log
    /// rows in this transaction; it commits with the parent.
    pub async fn record_child(
        &mut self,
        operation_id: String,
        done: WorkDone,
    ) -> Result<Operation, CoreError> {
        self.record(operation_id, done).await
    }

    async fn record(
        &mut self,
        operation_id: String,
        done: WorkDone,
    ) -> Result<Operation, CoreError> {
        let finished = matches!(
            done.status,
            OperationStatus::Succeeded | OperationStatus::Failed
        );
        let row = OperationRow {
            id: operation_id,
            account_id: self.account_id.clone(),
            kind: done.kind.to_owned(),
            status: done.status.as_str().to_owned(),
            image_public_uuids: JsonText(
                serde_json::to_string(&done.image_public_uuids).unwrap_or_else(|_| "[]".to_owned()),
            ),
            set_public_uuid: done.set_public_uuid.clone(),
            result: JsonText(done.result.to_string()),
            error: None,
            created_at: Timestamp(self.now),
            updated_at: Timestamp(self.now),
            finished_at: finished.then_some(Timestamp(self.now)),
        };
        op_store::insert(&mut self.tx, &row).await?;
        for job in &done.jobs {
            let payload = job.payload.to_string();
            let new = NewJob {
                operation_id: &row.id,
                kind: job.kind,
                payload: &payload,
                max_attempts: job.max_attempts,
                run_after: Timestamp(job.run_after.unwrap_or(self.now)),
            };
            jobs::enqueue(&mut self.tx, &new, Timestamp(self.now)).await?;
        }
        for (entity, entity_id, action) in &done.changes {
            let change = Change {
                account_id: &self.account_id,
                entity,
                entity_id,
                action,
                operation_id: Some(&row.id),
                at: Timestamp(self.now),
            };
            change_log::append(&mut self.tx, &change).await?;
        }
        let events = crate::webhooks::events::events_of_work(&row.id, &done);
        self.events |=
            crate::webhooks::events::record(&mut self.tx, &self.account_id, events, self.now)
                .await?;
        Operation::from_row(&row)
    }
}

/// A COMMIT the database did not answer may have been applied or not: the
/// `503` says so (not "nothing was written") and how to find out safely.
/// A write no key guards (an upload's processing) is told to read back first.
fn commit_failed(e: impl Into<lightbox_store::StoreError>, keyed: bool) -> CoreError {
    let e: lightbox_store::StoreError = e.into();
    let unknown = e.is_unavailable();
    let mut error = CoreError::from(e);
    if unknown {
        let advice = if keyed {
            "Send it again with the same Idempotency-Key (it is applied at most once), or read it back."
        } else {
            "Read it back before sending it again (an upload: look for the image; its ticket is used at most once)."
        };
        error.message = format!(
            "The database stopped answering while this write was being committed: it may or may not have been applied. {advice}"
        );
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job is queued with its payload type's kind and that payload,
    /// which its handler reads back unchanged.
    #[test]
    fn a_job_spec_carries_its_payloads_kind_and_fields() {
        let payload = crate::archives::ExpirePayload {
            account: "acc".to_owned(),
            archive: "ar1".to_owned(),
        };
        let spec = JobSpec::of(&payload, 10, Some(42)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.kind, crate::archives::EXPIRE_JOB);
        assert_eq!((spec.max_attempts, spec.run_after), (10, Some(42)));
        let back: crate::archives::ExpirePayload =
            crate::jobs::read_payload(spec.payload).unwrap_or_else(|f| panic!("{}", f.error));
        assert_eq!(
            (back.account.as_str(), back.archive.as_str()),
            ("acc", "ar1")
        );
    }

    fn lost() -> lightbox_store::StoreError {
        lightbox_store::StoreError::Db(sqlx::Error::PoolTimedOut)
    }

    #[test]
    fn a_lost_commit_says_the_outcome_is_unknown_and_what_is_safe() {
        let keyed = commit_failed(lost(), true);
        assert_eq!(keyed.kind, ErrorKind::Unavailable);
        assert!(keyed.message.contains("may or may not have been applied"));
        assert!(keyed.message.contains("same Idempotency-Key"));
        let unkeyed = commit_failed(lost(), false);
        assert!(unkeyed.message.contains("may or may not have been applied"));
        assert!(
            !unkeyed.message.contains("Idempotency-Key"),
            "{}",
            unkeyed.message
        );
        assert!(unkeyed.message.contains("Read it back"));
    }
}
