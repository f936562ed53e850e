//! The job queue on a live server: crash recovery, attempts, roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_testkit::{Env, both_engines, eventually};
use serde_json::Value;

async fn op_status(server: &lightbox_testkit::Server, token: &str, op: &str) -> Value {
    server
        .get(token, &format!("/v1/operations/{op}"))
        .await
        .json()
}

/// Polls the operation until it has `status`; returns it, or None after `secs`.
async fn wait_for(
    server: &lightbox_testkit::Server,
    token: &str,
    op: &str,
    status: &str,
    secs: u64,
) -> Option<Value> {
    eventually(secs, || async {
        let current = op_status(server, token, op).await;
        (current["status"] == status).then_some(current)
    })
    .await
}

both_engines!(
    a_job_cut_off_by_a_crash_is_resumed_after_restart,
    |env: Env| async move {
        env.account("acme").await;
        let token = env.token("acme", "all", &[]).await;
        let flags = ["--diagnostic-jobs", "--job-lease-secs", "2"];
        let server = env.serve(&flags).await;
        let op = env
            .cli(&[
                "debug",
                "sleep-job",
                "--account",
                "acme",
                "--millis",
                "3000",
            ])
            .await;
        let running = wait_for(&server, &token, &op, "running", 10).await;
        assert!(running.is_some(), "the job started");
        server.crash().await;
        // After the crash the database still says running; a new server takes it back once the lease lapses.
        let server = env.serve(&flags).await;
        let done = wait_for(&server, &token, &op, "succeeded", 30)
            .await
            .expect("the job finished after the restart");
        assert_eq!(done["result"]["slept_ms"], 3000);
        assert_eq!(done["type"], "diagnostic.sleep");
        assert!(done["finished_at"].as_str().is_some());
        Ok(())
    }
);

both_engines!(
    a_job_out_of_attempts_fails_with_a_reason,
    |env: Env| async move {
        env.account("acme").await;
        let token = env.token("acme", "all", &[]).await;
        let flags = ["--diagnostic-jobs", "--job-lease-secs", "1"];
        let server = env.serve(&flags).await;
        let op = env
            .cli(&[
                "debug",
                "sleep-job",
                "--account",
                "acme",
                "--millis",
                "60000",
                "--max-attempts",
                "1",
            ])
            .await;
        assert!(
            wait_for(&server, &token, &op, "running", 10)
                .await
                .is_some()
        );
        server.crash().await;
        let server = env.serve(&flags).await;
        let failed = wait_for(&server, &token, &op, "failed", 20)
            .await
            .expect("the operation ended failed, not running forever");
        assert_eq!(failed["error"]["detail"], "worker_lost");
        assert!(
            failed["error"]["message"]
                .as_str()
                .unwrap()
                .contains("stopped responding"),
            "{failed}"
        );
        Ok(())
    }
);

both_engines!(
    queued_work_waits_for_a_worker_and_survives_a_clean_stop,
    |env: Env| async move {
        env.account("acme").await;
        let token = env.token("acme", "all", &[]).await;
        // Accepted while no server runs at all.
        let op = env
            .cli(&["debug", "sleep-job", "--account", "acme", "--millis", "10"])
            .await;
        // An API-only node does not run jobs.
        let api = env.serve(&["--role", "api", "--diagnostic-jobs"]).await;
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        assert_eq!(op_status(&api, &token, &op).await["status"], "queued");
        assert_eq!(api.stop().await, Some(0), "SIGTERM stops cleanly");
        let all = env.serve(&["--diagnostic-jobs"]).await;
        let done = wait_for(&all, &token, &op, "succeeded", 10).await;
        assert!(done.is_some());
        Ok(())
    }
);
