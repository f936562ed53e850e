//! Background work: workers that claim jobs from the database queue, keep a
//! heartbeat, and end the job's Operation; and a recoverer that takes back
//! jobs whose worker vanished (crash, kill -9, lost node).
//!
//! A job is at-least-once: a handler must be safe to run again after a crash
//! (it re-derives its output from the database and the originals).

use lightbox_store::Micros;
use lightbox_store::Timestamp;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use lightbox_store::jobs::{self, JobRow};
use lightbox_store::operations as op_store;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Core;
use crate::error::{CoreError, ErrorKind};
use crate::operations::{OperationError, OperationStatus};

pub type JobFuture = Pin<Box<dyn Future<Output = Result<Value, JobFailure>> + Send>>;

/// Why a job did not succeed, and whether trying again could help.
#[derive(Debug)]
pub struct JobFailure {
    pub error: CoreError,
    pub retryable: bool,
}

impl JobFailure {
    /// Trying again may help (the database or the blob store was away).
    pub fn retry(error: impl Into<CoreError>) -> Self {
        Self {
            error: error.into(),
            retryable: true,
        }
    }

    /// Trying again cannot help.
    pub fn give_up(error: impl Into<CoreError>) -> Self {
        Self {
            error: error.into(),
            retryable: false,
        }
    }
}

/// What the workers call: a job of one kind, given its stored payload.
trait JobHandler: Send + Sync + 'static {
    fn run(&self, core: Core, payload: Value) -> JobFuture;
}

/// One job kind's payload: the write that queues the job stores it and the
/// handler reads it back — one struct for both, so they cannot disagree.
/// A field added later must be an `Option`: jobs queued by an older binary
/// must still read. A field that limits what the job may touch (whose
/// images, whose originals) must never default to "no limit" when missing:
/// `#[serde(deserialize_with = "Option::deserialize")]` makes a missing key
/// an error while `null` still reads.
pub trait JobPayload: Serialize + DeserializeOwned + Send + 'static {
    /// The job kind, as stored in the queue.
    const KIND: &'static str;
}

/// A kind of job: the payload it reads (which names the kind) and its work.
pub trait Job: Send + Sync + 'static {
    type Payload: JobPayload;
    fn run(&self, core: Core, payload: Self::Payload) -> JobFuture;
}

/// Reads a queued payload. One that does not parse can never succeed: a
/// permanent failure. What is wrong goes to the log; the Operation, which
/// clients read, only names the kind.
pub fn read_payload<P: JobPayload>(payload: Value) -> Result<P, JobFailure> {
    serde_json::from_value(payload).map_err(|e| {
        tracing::error!(kind = P::KIND, error = %e, "a queued job's payload does not read");
        JobFailure::give_up(CoreError::new(
            ErrorKind::Internal,
            format!("The {} job's payload is invalid.", P::KIND),
        ))
    })
}

/// A [`Job`] as the workers run it: the payload read, then the work.
struct Typed<J>(J);

impl<J: Job> JobHandler for Typed<J> {
    fn run(&self, core: Core, payload: Value) -> JobFuture {
        match read_payload::<J::Payload>(payload) {
            Ok(payload) => self.0.run(core, payload),
            Err(failure) => Box::pin(async move { Err(failure) }),
        }
    }
}

#[derive(Clone, Default)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
}

impl JobRegistry {
    /// Runs `job` for its payload's kind.
    pub fn add<J: Job>(&mut self, job: J) {
        self.register(J::Payload::KIND, Typed(job));
    }

    fn register(&mut self, kind: &'static str, handler: impl JobHandler) {
        self.handlers.insert(kind, Arc::new(handler));
    }
    fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub workers: usize,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// A running job whose heartbeat is older than this is taken back.
    pub lease: Duration,
    /// Tag of this process in `locked_by`.
    pub node: String,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            poll: Duration::from_millis(200),
            lease: Duration::from_secs(30),
            node: "node".to_owned(),
        }
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Starts the workers and the recoverer. They stop claiming new work when
/// `shutdown` turns true; the returned handles end once in-flight jobs end.
pub fn spawn(
    core: Core,
    registry: JobRegistry,
    settings: WorkerSettings,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for n in 0..settings.workers {
        let worker = format!("{}/{}/{n}", settings.node, std::process::id());
        handles.push(tokio::spawn(worker_loop(
            core.clone(),
            registry.clone(),
            settings.clone(),
            worker,
            shutdown.clone(),
        )));
    }
    handles.push(tokio::spawn(recover_loop(core, settings, shutdown)));
    handles
}

async fn worker_loop(
    core: Core,
    registry: JobRegistry,
    settings: WorkerSettings,
    worker: String,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match run_one(&core, &registry, &settings, &worker).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "job worker"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Claims and runs one job. `Ok(false)` when the queue had nothing ready.
pub async fn run_one(
    core: &Core,
    registry: &JobRegistry,
    settings: &WorkerSettings,
    worker: &str,
) -> Result<bool, CoreError> {
    let job = {
        let mut tx = core.store.begin_write().await?;
        let Some(job) = jobs::claim(&mut tx, worker, Timestamp(core.now())).await? else {
            return Ok(false);
        };
        op_store::set_status(
            &mut tx,
            &job.operation_id,
            OperationStatus::Running.as_str(),
            None,
            None,
            Timestamp(core.now()),
            false,
        )
        .await?;
        tx.commit().await?;
        job
    };
    tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job started");
    let outcome = match registry.get(&job.kind) {
        None => Err(JobFailure::give_up(CoreError::new(
            crate::ErrorKind::Internal,
            format!("No worker here handles jobs of kind {}.", job.kind),
        ))),
        Some(handler) => {
            let payload: Value = serde_json::from_str(job.payload.as_str()).unwrap_or(Value::Null);
            let heartbeat = tokio::spawn(heartbeat_loop(
                core.clone(),
                job.id,
                worker.to_owned(),
                settings.lease / 3,
            ));
            let result = handler.run(core.clone(), payload).await;
            heartbeat.abort();
            result
        }
    };
    finish_job(core, &job, worker, outcome).await?;
    Ok(true)
}

async fn heartbeat_loop(core: Core, job_id: i64, worker: String, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let beat = async {
            let mut tx = core.store.begin_write().await?;
            let held = jobs::heartbeat(&mut tx, job_id, &worker).await?;
            tx.commit().await?;
            Ok::<bool, lightbox_store::StoreError>(held)
        };
        match beat.await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(error = %e, job = job_id, "heartbeat"),
        }
    }
}

async fn finish_job(
    core: &Core,
    job: &JobRow,
    worker: &str,
    outcome: Result<Value, JobFailure>,
) -> Result<(), CoreError> {
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    match outcome {
        Ok(result) => {
            if jobs::finish(&mut tx, job.id, worker, "succeeded", None, Timestamp(now)).await? {
                op_store::set_status(
                    &mut tx,
                    &job.operation_id,
                    "succeeded",
                    Some(&result.to_string()),
                    None,
                    Timestamp(now),
                    true,
                )
                .await?;
                crate::webhooks::events::record_ending(&mut tx, &job.operation_id, true, now)
                    .await?;
            }
        }
        Err(failure) if failure.retryable && job.attempts < job.max_attempts => {
            // Back off 2^attempts seconds, at most a minute.
            let delay = 1_000_000i64 << job.attempts.clamp(0, 6);
            if jobs::retry_later(
                &mut tx,
                job.id,
                worker,
                &failure.error.message,
                Timestamp(now + delay),
                Timestamp(now),
            )
            .await?
            {
                requeue_operation(&mut tx, &job.operation_id, now).await?;
            }
        }
        Err(failure) => {
            if jobs::finish(
                &mut tx,
                job.id,
                worker,
                "failed",
                Some(&failure.error.message),
                Timestamp(now),
            )
            .await?
            {
                let error = OperationError::from(&failure.error);
                fail_operation(&mut tx, &job.operation_id, &error, now).await?;
            }
        }
    }
    tx.commit().await?;
    // Events the job's end recorded go out at once from here.
    core.webhooks.wake.notify_one();
    Ok(())
}

/// Puts an operation back to `queued`: its job will run again.
async fn requeue_operation(
    tx: &mut lightbox_store::Conn,
    operation_id: &str,
    now: i64,
) -> Result<(), CoreError> {
    op_store::set_status(
        tx,
        operation_id,
        "queued",
        None,
        None,
        Timestamp(now),
        false,
    )
    .await?;
    Ok(())
}

/// Ends an operation `failed` with the error object clients will read.
async fn fail_operation(
    tx: &mut lightbox_store::Conn,
    operation_id: &str,
    error: &OperationError,
    now: i64,
) -> Result<(), CoreError> {
    let error = serde_json::to_string(error).unwrap_or_default();
    op_store::set_status(
        tx,
        operation_id,
        "failed",
        None,
        Some(&error),
        Timestamp(now),
        true,
    )
    .await?;
    crate::webhooks::events::record_ending(tx, operation_id, false, now).await?;
    Ok(())
}

async fn recover_loop(core: Core, settings: WorkerSettings, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(e) = recover_stale(&core, settings.lease).await {
            tracing::warn!(error = %e, "job recovery");
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.lease / 2) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Takes back running jobs whose heartbeat is older than `lease`: queued
/// again if attempts remain, else failed with the reason. Returns how many.
pub async fn recover_stale(core: &Core, lease: Duration) -> Result<usize, CoreError> {
    // The lease is judged by the database's clock (see `jobs::claim`).
    let now = core.now();
    let lease = micros(lease);
    let stale = {
        let mut conn = core.store.read().await?;
        jobs::stale(&mut conn, Micros(lease)).await?
    };
    let mut taken = 0;
    for job in stale {
        let requeue = job.attempts < job.max_attempts;
        let reason = format!(
            "The worker running this job stopped responding (attempt {} of {}).",
            job.attempts, job.max_attempts
        );
        let mut tx = core.store.begin_write().await?;
        if jobs::take_back(
            &mut tx,
            job.id,
            Micros(lease),
            requeue,
            &reason,
            Timestamp(now),
        )
        .await?
        {
            if requeue {
                requeue_operation(&mut tx, &job.operation_id, now).await?;
            } else {
                let error = OperationError {
                    code: "internal".to_owned(),
                    message: reason.clone(),
                    detail: Some("worker_lost".to_owned()),
                    field: None,
                };
                fail_operation(&mut tx, &job.operation_id, &error, now).await?;
            }
            taken += 1;
            tracing::warn!(
                job = job.id,
                requeue,
                "took back a job whose worker stopped"
            );
        }
        tx.commit().await?;
    }
    Ok(taken)
}

/// A job that only waits: lets operators and tests check that the queue,
/// heartbeats and crash recovery work on a live server. Registered only
/// when diagnostics are switched on.
pub mod diagnostic {
    use super::*;
    use crate::writes::{Begun, JobSpec, WorkDone, WriteContext};

    pub const KIND: &str = "diagnostic.sleep";

    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct SleepPayload {
        pub millis: u64,
    }

    impl JobPayload for SleepPayload {
        const KIND: &'static str = KIND;
    }

    pub struct SleepJob;

    impl Job for SleepJob {
        type Payload = SleepPayload;
        fn run(&self, _core: Core, payload: SleepPayload) -> JobFuture {
            Box::pin(async move {
                let millis = payload.millis.min(600_000);
                tokio::time::sleep(Duration::from_millis(millis)).await;
                Ok(json!({ "slept_ms": millis }))
            })
        }
    }

    /// Enqueues a sleep job as a queued Operation; returns the operation id.
    pub async fn enqueue(
        core: &Core,
        ctx: &WriteContext,
        millis: u64,
        max_attempts: i64,
    ) -> Result<String, CoreError> {
        let write = match crate::writes::begin(core, ctx).await? {
            Begun::Replay(op) => return Ok(op.uuid),
            Begun::Fresh(write) => write,
        };
        let op = write
            .finish(WorkDone {
                kind: KIND,
                status: OperationStatus::Queued,
                result: json!({}),
                image_public_uuids: vec![],
                set_public_uuid: None,
                jobs: vec![JobSpec::of(&SleepPayload { millis }, max_attempts, None)?],
                changes: vec![],
            })
            .await?;
        Ok(op.uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archives::{BuildPayload, ExpirePayload};
    use crate::keywords::RenamePayload;
    use crate::set_arrangement::{ArrangePayload, Arrangement};
    use crate::versions::VersionsPayload;

    fn read<P: JobPayload>(payload: Value) -> P {
        read_payload(payload).unwrap_or_else(|f| panic!("{}", f.error))
    }

    /// Jobs queued by the binary before payloads were typed (the shapes it
    /// wrote, `null`s included) are still run by this one.
    #[test]
    fn payloads_queued_before_still_read() {
        let rename: RenamePayload = read(json!({
            "operation": "op-1", "account": "acc", "from": "artist:A", "to": "artist:B",
            "images": null, "only_uploaded_by": null,
        }));
        assert_eq!((rename.from.as_str(), rename.images), ("artist:A", None));
        let rename: RenamePayload = read(json!({
            "operation": "op-1", "account": "acc", "from": "a", "to": "b",
            "images": ["i1", "i2"], "only_uploaded_by": "u1",
        }));
        assert_eq!(rename.images, Some(vec!["i1".to_owned(), "i2".to_owned()]));
        assert_eq!(rename.only_uploaded_by.as_deref(), Some("u1"));

        let arrange: ArrangePayload = read(json!({
            "operation": "op-2", "account": "acc", "set": "s1",
            "change": { "kind": "move", "images": ["i1"], "anchor": "i2", "after": true },
            "only_uploaded_by": null,
        }));
        assert_eq!(
            arrange.change,
            Arrangement::Move {
                images: vec!["i1".to_owned()],
                anchor: "i2".to_owned(),
                after: true
            }
        );
        let arrange: ArrangePayload = read(json!({
            "operation": "op-2", "account": "acc", "set": "s1",
            "change": {
                "kind": "visibility", "images": null, "hidden": false,
                "activation_time": 1_752_523_200_000_000_i64,
            },
            "only_uploaded_by": "u1",
        }));
        assert_eq!(
            arrange.change,
            Arrangement::Visibility {
                images: None,
                hidden: false,
                activation_time: Some(1_752_523_200_000_000),
            }
        );

        let build: BuildPayload = read(json!({
            "operation": "op-3", "account": "acc", "archive": "ar1", "images": ["i1"],
            "profile": null, "originals_of": "u1",
        }));
        assert_eq!((build.profile, build.originals_of), (None, json!("u1")));
        let expire: ExpirePayload = read(json!({ "account": "acc", "archive": "ar1" }));
        assert_eq!(expire.archive, "ar1");

        let versions: VersionsPayload = read(json!({ "image_public_uuid": "i1" }));
        assert_eq!(
            (versions.image_public_uuid.as_str(), versions.rotation),
            ("i1", None)
        );
        let versions: VersionsPayload = read(json!({ "image_public_uuid": "i1", "rotation": 90 }));
        assert_eq!(versions.rotation, Some(90));
        let sleep: diagnostic::SleepPayload = read(json!({ "millis": 5 }));
        assert_eq!(sleep.millis, 5);
    }

    /// A payload that does not read fails for good, naming its kind and
    /// what is wrong — never run with blanks, as an empty account or a
    /// rename's image list read as "every image" would be.
    #[test]
    fn a_payload_that_does_not_read_fails_for_good() {
        let failure = match read_payload::<ExpirePayload>(json!({ "account": "acc" })) {
            Ok(p) => panic!("read: {p:?}"),
            Err(f) => f,
        };
        assert!(!failure.retryable);
        assert_eq!(failure.error.kind, ErrorKind::Internal);
        // Clients read it on the Operation: the kind, not the parser's words.
        assert_eq!(
            failure.error.message,
            "The archive.expire job's payload is invalid."
        );
        let wrong_list = json!({
            "operation": "op-1", "account": "acc", "from": "a", "to": "b",
            "images": "all", "only_uploaded_by": null,
        });
        match read_payload::<RenamePayload>(wrong_list) {
            Ok(p) => panic!("read: {p:?}"),
            Err(f) => assert!(!f.retryable),
        }
    }

    /// A limit on what a job may touch is never widened by a missing key:
    /// `null` means no limit only when it was written.
    #[test]
    fn a_missing_limit_does_not_read_as_no_limit() {
        // Read with serde itself: its error names the missing key.
        fn missing<P: JobPayload + std::fmt::Debug>(payload: Value, key: &str) {
            match serde_json::from_value::<P>(payload) {
                Ok(p) => panic!("read without {key}: {p:?}"),
                Err(e) => assert!(
                    e.to_string().contains(&format!("missing field `{key}`")),
                    "{e}"
                ),
            }
        }
        let rename = json!({
            "operation": "op-1", "account": "acc", "from": "a", "to": "b", "images": null,
        });
        missing::<RenamePayload>(rename, "only_uploaded_by");
        let arrange = json!({
            "operation": "op-2", "account": "acc", "set": "s1",
            "change": { "kind": "add", "images": ["i1"] },
        });
        missing::<ArrangePayload>(arrange, "only_uploaded_by");
        let build = json!({
            "operation": "op-3", "account": "acc", "archive": "ar1", "images": ["i1"],
            "profile": null,
        });
        missing::<BuildPayload>(build, "originals_of");
        let build_for_anyone: BuildPayload = read(json!({
            "operation": "op-3", "account": "acc", "archive": "ar1", "images": ["i1"],
            "profile": null, "originals_of": null,
        }));
        assert_eq!(build_for_anyone.originals_of, Value::Null);
    }
}
