//! The job queue under contention, on both engines: many workers, each job
//! run exactly once; failures retried then failed with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::Timestamp;
use lightbox_testkit::{Engine, fresh_store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lightbox_core::jobs::{
    self, Job, JobFailure, JobFuture, JobPayload, JobRegistry, WorkerSettings,
};
use lightbox_core::writes::{self, Begun, JobSpec, WorkDone, WriteContext};
use lightbox_core::{
    Core, CoreError, ErrorKind, SystemClock, accounts, auth::AuthSettings, operations,
};
use serde_json::json;

async fn core(engine: Engine) -> Core {
    Core::new(
        fresh_store(engine, 16).await,
        Arc::new(SystemClock),
        AuthSettings::default(),
    )
}

/// Counts runs per payload id; fails while `fail_first` says so.
#[derive(Clone, Default)]
struct Counting {
    runs: Arc<Mutex<HashMap<u64, u32>>>,
    always_fail: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CountPayload {
    id: u64,
}

impl JobPayload for CountPayload {
    const KIND: &'static str = "test.count";
}

impl Job for Counting {
    type Payload = CountPayload;
    fn run(&self, _core: Core, payload: CountPayload) -> JobFuture {
        let runs = self.runs.clone();
        let fail = self.always_fail;
        Box::pin(async move {
            let id = payload.id;
            *runs.lock().unwrap().entry(id).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
            if fail {
                return Err(JobFailure {
                    error: CoreError::new(ErrorKind::Internal, "the thing broke"),
                    retryable: true,
                });
            }
            Ok(json!({ "id": id }))
        })
    }
}

async fn enqueue(core: &Core, account: &str, id: u64, max_attempts: i64) -> String {
    let ctx = WriteContext {
        account_id: account.to_owned(),
        idempotency_key: format!("job-{id}"),
        request_hash: String::new(),
    };
    let Begun::Fresh(write) = writes::begin(core, &ctx).await.unwrap() else {
        panic!("fresh key")
    };
    let op = write
        .finish(WorkDone {
            kind: "test.count",
            status: operations::OperationStatus::Queued,
            result: json!({}),
            image_public_uuids: vec![],
            set_public_uuid: None,
            jobs: vec![JobSpec::of(&CountPayload { id }, max_attempts, None).unwrap()],
            changes: vec![],
        })
        .await
        .unwrap();
    op.uuid
}

async fn many_workers_run_each_job_once(engine: Engine) {
    let core = core(engine).await;
    let account = accounts::create(&core, "Q", "q").await.unwrap();
    let mut ops = Vec::new();
    for id in 0..60 {
        ops.push(enqueue(&core, &account.uuid, id, 3).await);
    }
    let handler = Counting::default();
    let mut registry = JobRegistry::default();
    registry.add(handler.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Two "nodes" of four workers each, sharing one database.
    let settings = WorkerSettings {
        workers: 4,
        poll: Duration::from_millis(5),
        lease: Duration::from_secs(30),
        node: "a".to_owned(),
    };
    let mut handles = jobs::spawn(
        core.clone(),
        registry.clone(),
        settings.clone(),
        stop_rx.clone(),
    );
    handles.extend(jobs::spawn(
        core.clone(),
        registry,
        WorkerSettings {
            node: "b".to_owned(),
            ..settings
        },
        stop_rx,
    ));
    for _ in 0..300 {
        if handler.runs.lock().unwrap().len() == 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_tx.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    let runs = handler.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 60, "every job ran");
    assert!(runs.values().all(|&n| n == 1), "no job ran twice: {runs:?}");
    for op in ops {
        let op = operations::get(&core, &account.uuid, &op).await.unwrap();
        assert_eq!(op.status, operations::OperationStatus::Succeeded);
    }
}

async fn failing_job_is_retried_then_failed(engine: Engine) {
    let core = core(engine).await;
    let account = accounts::create(&core, "Q", "q").await.unwrap();
    let op = enqueue(&core, &account.uuid, 7, 2).await;
    let handler = Counting {
        always_fail: true,
        ..Counting::default()
    };
    let mut registry = JobRegistry::default();
    registry.add(handler.clone());
    let settings = WorkerSettings::default();
    assert!(
        jobs::run_one(&core, &registry, &settings, "w")
            .await
            .unwrap()
    );
    let first = operations::get(&core, &account.uuid, &op).await.unwrap();
    assert_eq!(
        first.status,
        operations::OperationStatus::Queued,
        "retried later"
    );
    // Not ready yet: backed off.
    assert!(
        !jobs::run_one(&core, &registry, &settings, "w")
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        jobs::run_one(&core, &registry, &settings, "w")
            .await
            .unwrap()
    );
    let last = operations::get(&core, &account.uuid, &op).await.unwrap();
    assert_eq!(last.status, operations::OperationStatus::Failed);
    assert_eq!(last.error.unwrap().message, "the thing broke");
    assert_eq!(handler.runs.lock().unwrap()[&7], 2);
}

async fn unknown_kind_fails_instead_of_looping(engine: Engine) {
    let core = core(engine).await;
    let account = accounts::create(&core, "Q", "q").await.unwrap();
    let op = enqueue(&core, &account.uuid, 1, 3).await;
    let registry = JobRegistry::default();
    assert!(
        jobs::run_one(&core, &registry, &WorkerSettings::default(), "w")
            .await
            .unwrap()
    );
    let op = operations::get(&core, &account.uuid, &op).await.unwrap();
    assert_eq!(op.status, operations::OperationStatus::Failed);
    assert!(op.error.unwrap().message.contains("test.count"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_workers_run_each_job_once_sqlite() {
    many_workers_run_each_job_once(Engine::Sqlite).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_workers_run_each_job_once_postgres() {
    many_workers_run_each_job_once(Engine::Postgres).await;
}
#[tokio::test]
async fn failing_job_is_retried_then_failed_sqlite() {
    failing_job_is_retried_then_failed(Engine::Sqlite).await;
}
#[tokio::test]
async fn failing_job_is_retried_then_failed_postgres() {
    failing_job_is_retried_then_failed(Engine::Postgres).await;
}
#[tokio::test]
async fn unknown_kind_fails_instead_of_looping_sqlite() {
    unknown_kind_fails_instead_of_looping(Engine::Sqlite).await;
}
#[tokio::test]
async fn unknown_kind_fails_instead_of_looping_postgres() {
    unknown_kind_fails_instead_of_looping(Engine::Postgres).await;
}

/// A node whose clock runs an hour ahead does not take back a job another
/// node still holds: the lease is judged by the database's clock. A job
/// whose worker fell silent is still taken back.
async fn a_node_running_ahead_takes_back_only_silent_jobs(engine: Engine) {
    struct Ahead;
    impl lightbox_core::Clock for Ahead {
        fn now_micros(&self) -> i64 {
            SystemClock.now_micros() + 3_600_000_000
        }
    }
    let db = fresh_store(engine, 16).await;
    let core = Core::new(db.clone(), Arc::new(SystemClock), AuthSettings::default());
    let ahead = Core::new(db.clone(), Arc::new(Ahead), AuthSettings::default());
    let account = accounts::create(&core, "L", "l").await.unwrap();
    let op = enqueue(&core, &account.uuid, 1, 3).await;
    // Worker "a" claims the job (and its lease starts) on the right clock.
    let mut tx = db.begin_write().await.unwrap();
    let job = lightbox_store::jobs::claim(
        &mut tx,
        "a",
        Timestamp(lightbox_core::Clock::now_micros(&SystemClock)),
    )
    .await
    .unwrap()
    .expect("a job to claim");
    tx.commit().await.unwrap();
    let lease = Duration::from_secs(30);
    assert_eq!(jobs::recover_stale(&ahead, lease).await.unwrap(), 0);
    // Once its worker is silent past the lease, it is taken back.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        jobs::recover_stale(&core, Duration::from_millis(5))
            .await
            .unwrap(),
        1,
        "job {} of {op}",
        job.id
    );
}
#[tokio::test]
async fn a_node_running_ahead_takes_back_only_silent_jobs_sqlite() {
    a_node_running_ahead_takes_back_only_silent_jobs(Engine::Sqlite).await;
}
#[tokio::test]
async fn a_node_running_ahead_takes_back_only_silent_jobs_postgres() {
    a_node_running_ahead_takes_back_only_silent_jobs(Engine::Postgres).await;
}
