//! The command line contract (../shared/spec/cli.md): outputs, exit codes,
//! flags ↔ environment ↔ TOML file, and `demo`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use lightbox_testkit::{Engine, Env, bin, both_engines};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

both_engines!(
    admin_commands_print_ids_and_fail_with_one_line,
    |env: Env| async move {
        let uuid = env
            .cli(&[
                "account",
                "create",
                "--name",
                "My Festival",
                "--unique-id",
                "myfest",
            ])
            .await;
        assert_eq!(uuid.len(), 36, "stdout is just the uuid: {uuid:?}");
        let (code, out, err) = env
            .cli_raw(&[
                "account",
                "create",
                "--name",
                "Again",
                "--unique-id",
                "myfest",
            ])
            .await;
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert_eq!(err.trim().lines().count(), 1, "one-line reason: {err}");
        assert!(err.contains("already exists"));
        let (code, _, err) = env
            .cli_raw(&["account", "api-access", "nobody", "on"])
            .await;
        assert_eq!(code, 1, "{err}");
        let (code, _, _) = env
            .cli_raw(&["account", "api-access", "myfest", "maybe"])
            .await;
        assert_eq!(code, 2, "bad usage");
        let (code, _, _) = env.cli_raw(&["frobnicate"]).await;
        assert_eq!(code, 2);
        let user = env
            .cli(&[
                "user",
                "create",
                "--login",
                "Jane@Example.com",
                "--name",
                "Jane",
            ])
            .await;
        assert_eq!(user.len(), 36);
        env.cli(&[
            "user",
            "add-to-account",
            "jane@example.com",
            "myfest",
            "--role",
            "admin",
        ])
        .await;
        env.cli(&["user", "add-to-account", &user, &uuid, "--role", "user"])
            .await;
        let (code, _, _) = env
            .cli_raw(&[
                "user",
                "add-to-account",
                "ghost@example.com",
                "myfest",
                "--role",
                "user",
            ])
            .await;
        assert_eq!(code, 1);
        env.cli(&["migrate"]).await;
        Ok(())
    }
);

both_engines!(token_commands, |env: Env| async move {
    env.account("myfest").await;
    let (code, out, err) = env
        .cli_raw(&[
            "token",
            "create",
            "--account",
            "myfest",
            "--name",
            "x",
            "--scopes",
            "api.images.read,api.everything",
        ])
        .await;
    assert_eq!(code, 1);
    assert!(out.is_empty() && err.contains("api.everything"), "{err}");
    for bad in [
        vec!["--expires-in", "soon"],
        vec!["--allow-ip", "300.1.1.1"],
        vec!["--expires-at", "2001-01-01"],
        vec!["--max-request-bytes", "0"],
    ] {
        let mut args = vec![
            "token",
            "create",
            "--account",
            "myfest",
            "--name",
            "x",
            "--scopes",
            "all",
        ];
        args.extend(bad.iter().copied());
        let (code, out, err) = env.cli_raw(&args).await;
        assert_eq!(code, 1, "{bad:?}: {err}");
        assert!(out.is_empty());
    }
    let (code, token, err) = env
        .cli_raw(&[
            "token",
            "create",
            "--account",
            "myfest",
            "--name",
            "CI",
            "--scopes",
            "api.upload,api.images.read",
            "--allow-ip",
            "203.0.113.7",
            "--allow-ip",
            "2001:db8::/32",
            "--expires-at",
            "2099-01-01T00:00:00Z",
            "--max-request-bytes",
            "1048576",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    let token = token.trim();
    assert!(
        token.starts_with("dpg_api_live_") && !token.contains('\n'),
        "only the token on stdout: {token:?}"
    );
    let list: Value = serde_json::from_str(
        &env.cli(&["token", "list", "--account", "myfest", "--json"])
            .await,
    )?;
    let t = &list[0];
    assert_eq!(t["name"], "CI");
    assert_eq!(
        t["scopes"],
        serde_json::json!(["api.images.read", "api.upload"])
    );
    assert_eq!(
        t["allowed_ips"],
        serde_json::json!(["203.0.113.7/32", "2001:db8::/32"])
    );
    assert_eq!(t["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(t["max_request_bytes"], 1048576);
    assert_eq!(
        t["display"],
        format!("dpg_api_live_…{}", &token[token.len() - 4..])
    );
    let table = env.cli(&["token", "list", "--account", "myfest"]).await;
    assert!(table.contains("CI") && !table.contains(token), "{table}");
    let uuid = t["uuid"].as_str().unwrap();
    env.cli(&["token", "revoke", uuid]).await;
    let (code, _, _) = env
        .cli_raw(&["token", "revoke", "01a21e25-0000-7000-8000-000000000000"])
        .await;
    assert_eq!(code, 1);
    Ok(())
});

#[tokio::test]
async fn settings_come_from_flags_then_env_then_file() -> lightbox_testkit::TestResult {
    let base = lightbox_testkit::scratch_dir("cfg");
    let (file_dir, env_dir, flag_dir) = (base.join("file"), base.join("env"), base.join("flag"));
    std::fs::create_dir_all(&base)?;
    let config = base.join("lightbox.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n",
            file_dir.display().to_string()
        ),
    )?;
    let run = |args: Vec<String>, env_dir: Option<&std::path::Path>| {
        let mut cmd = Command::new(bin());
        cmd.args(&args)
            .env_remove("LIGHTBOX_DATA_DIR")
            .env_remove("LIGHTBOX_DATABASE_URL");
        if let Some(dir) = env_dir {
            cmd.env("LIGHTBOX_DATA_DIR", dir);
        }
        async move { cmd.output().await.unwrap() }
    };
    let c = config.display().to_string();
    let create = |id: &str| {
        vec![
            "--config".to_owned(),
            c.clone(),
            "account".to_owned(),
            "create".to_owned(),
            "--name".to_owned(),
            id.to_owned(),
            "--unique-id".to_owned(),
            id.to_owned(),
        ]
    };
    assert!(run(create("fromfile"), None).await.status.success());
    assert!(file_dir.join("lightbox.db").exists(), "file setting used");
    assert!(
        run(create("fromenv"), Some(&env_dir))
            .await
            .status
            .success()
    );
    assert!(env_dir.join("lightbox.db").exists(), "env beats file");
    let mut args = create("fromflag");
    args.extend(["--data-dir".to_owned(), flag_dir.display().to_string()]);
    assert!(run(args, Some(&env_dir)).await.status.success());
    assert!(flag_dir.join("lightbox.db").exists(), "flag beats env");
    // An unknown key in the file is an error, not a silent default.
    std::fs::write(&config, "data_dri = \"/tmp/x\"\n")?;
    let out = run(create("typo"), None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("data_dri"));
    let _ = std::fs::remove_dir_all(&base);
    Ok(())
}

/// Starts `lightbox demo`; returns (child, base URL, token).
async fn start_demo(dir: &std::path::Path) -> (tokio::process::Child, String, String, String) {
    let mut child = Command::new(bin())
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env_remove("LIGHTBOX_DATABASE_URL")
        .env("LIGHTBOX_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    let token = next().await;
    assert_eq!(next().await, "admin@demo.example");
    let password = next().await;
    (child, url, token, password)
}

#[tokio::test]
async fn demo_prints_a_working_all_scope_token() -> lightbox_testkit::TestResult {
    let env = Env::new(Engine::Sqlite).await;
    let http = reqwest::Client::builder().no_proxy().build()?;
    for round in 0..2 {
        let (mut child, url, token, password) = start_demo(&env.dir).await;
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        // The printed admin password signs in (a new one each start).
        let signed_in = http
            .post(format!("{url}/v1/auth/sign_in"))
            .json(
                &serde_json::json!({"login": "admin@demo.example", "password": password,
                "device": {"name": "test", "platform": "cli"}}),
            )
            .send()
            .await?;
        assert_eq!(signed_in.status(), 200, "round {round}");
        let me: Value = http
            .get(format!("{url}/v1/me"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(
            me["capabilities"].as_array().unwrap().len(),
            9,
            "round {round}: {me}"
        );
        let sets: Value = http
            .get(format!("{url}/v1/sets"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(
            sets.as_array().unwrap().len(),
            1,
            "round {round}: demo data is seeded once: {sets}"
        );
        assert_eq!(sets[0]["child_count"], 2);
        child.kill().await?;
    }
    Ok(())
}

/// `serve` on an S3-compatible blob store: ready when the store answers;
/// a store that cannot be reached stops the start with a clear reason.
#[tokio::test]
async fn serve_uses_the_s3_blob_store_and_refuses_a_missing_one() -> lightbox_testkit::TestResult {
    let env = Env::new(Engine::Sqlite).await;
    let (endpoint, bucket) = lightbox_testkit::fresh_s3_bucket().await;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let serve = |blob: String, s3: String| {
        let mut cmd = Command::new(bin());
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--blob-store",
            &blob,
            "--s3-endpoint",
            &s3,
        ])
        .args(env.storage_args())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("LIGHTBOX_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        cmd
    };
    let mut child = serve(format!("s3://{bucket}/festival"), endpoint.clone()).spawn()?;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await??
        .unwrap();
    let ready = http.get(format!("{url}/readyz")).send().await?;
    assert_eq!(ready.status(), 200);
    child.kill().await?;

    // A bucket that does not exist: exit 1, and the reason names the store.
    let out = serve(
        format!("s3://no-such-bucket-{}/x", uuid::Uuid::new_v4().simple()),
        endpoint,
    )
    .output()
    .await?;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("blob store s3://no-such-bucket-"), "{err}");
    // A malformed location is bad usage of the flag.
    let (code, _, err) = env.cli_raw(&["migrate", "--blob-store", "s3://"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--blob-store"), "{err}");
    Ok(())
}
