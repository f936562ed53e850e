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

/// A started `lightbox demo`: what it printed on stdout, and its start
/// message on stderr.
struct Demo {
    child: tokio::process::Child,
    url: String,
    token: String,
    password: String,
    message: String,
}

/// Starts `lightbox demo` and reads what it prints.
async fn start_demo(dir: &std::path::Path) -> Demo {
    let mut child = Command::new(bin())
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env_remove("LIGHTBOX_DATABASE_URL")
        .env("LIGHTBOX_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // stderr is drained for as long as the server runs (a full pipe would stop it).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = err_lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    let url = next().await;
    let token = next().await;
    assert_eq!(next().await, "admin@demo.example");
    let password = next().await;
    let mut message = String::new();
    while !message.contains("  try:") {
        let line = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("stderr ended before the start message: {message}"));
        message.push_str(&line);
        message.push('\n');
    }
    Demo {
        child,
        url,
        token,
        password,
        message,
    }
}

/// What a demo start made, to compare with the next start's.
#[derive(Debug, PartialEq)]
struct DemoLibrary {
    sets: Vec<String>,
    images: Vec<String>,
    websites: Vec<String>,
}

fn ids_of(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["public_uuid"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn flatten_tree(nodes: &Value, out: &mut Vec<Value>) {
    for node in nodes.as_array().unwrap() {
        out.push(node.clone());
        flatten_tree(&node["children"], out);
    }
}

#[tokio::test]
async fn demo_prints_a_working_all_scope_token() -> lightbox_testkit::TestResult {
    let env = Env::new(Engine::Sqlite).await;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut first: Option<DemoLibrary> = None;
    for round in 0..2 {
        let started = std::time::Instant::now();
        let Demo {
            mut child,
            url,
            token,
            password,
            message,
        } = start_demo(&env.dir).await;
        eprintln!("round {round}: the demo started in {:?}", started.elapsed());
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
        let get = async |path: &str| -> Value {
            let r = http
                .get(format!("{url}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "round {round}: {path}");
            r.json().await.unwrap()
        };
        let me = get("/v1/me").await;
        assert_eq!(
            me["capabilities"].as_array().unwrap().len(),
            10,
            "round {round}: {me}"
        );

        // The set tree: Festival ⊃ Friday, Saturday ⊃ Main stage, Portraits;
        // a press set and a private one beside it.
        let top = get("/v1/sets").await;
        let names: Vec<&str> = top
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Festival", "Press kit", "Internal"],
            "round {round}"
        );
        assert_eq!(top[0]["child_count"], 3, "{top}");
        assert_eq!(top[2]["type"], "private", "{top}");
        let mut sets = Vec::new();
        flatten_tree(&get("/v1/sets/tree").await, &mut sets);
        assert_eq!(sets.len(), 7, "round {round}: {sets:?}");
        let set = |name: &str| sets.iter().find(|s| s["name"] == name).unwrap().clone();
        assert_eq!(
            set("Main stage")["parent_public_uuid"],
            set("Saturday")["public_uuid"]
        );
        assert_eq!(set("Internal")["image_count"], 2);

        // Photographs of different sizes and orientations, one a PNG, each
        // described.
        let images = get("/v1/images?limit=200").await;
        let images = images.as_array().unwrap();
        assert!(
            (12..=16).contains(&images.len()),
            "round {round}: {}",
            images.len()
        );
        let sizes: std::collections::BTreeSet<(i64, i64)> = images
            .iter()
            .map(|i| (i["width"].as_i64().unwrap(), i["height"].as_i64().unwrap()))
            .collect();
        assert!(sizes.len() >= 3, "{sizes:?}");
        assert!(sizes.iter().any(|(w, h)| w > h), "{sizes:?}");
        assert!(sizes.iter().any(|(w, h)| w < h), "{sizes:?}");
        assert!(sizes.iter().any(|(w, h)| w == h), "{sizes:?}");
        assert_eq!(
            images
                .iter()
                .filter(|i| i["content_type"] == "image/png")
                .count(),
            1
        );
        let titles: std::collections::BTreeSet<&str> = images
            .iter()
            .map(|i| i["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles.len(), images.len(), "every title differs");
        for image in images {
            assert!(
                !image["description"].as_str().unwrap().is_empty(),
                "{image}"
            );
            assert!(!image["alt_text"].as_str().unwrap().is_empty(), "{image}");
            assert!(!image["keywords"].as_array().unwrap().is_empty(), "{image}");
            assert_eq!(image["credits"][0]["role"], "Photo", "{image}");
            assert!(
                image["metadata"]["copyright_notice"]
                    .as_str()
                    .unwrap()
                    .starts_with('©'),
                "{image}"
            );
        }
        assert!(images.iter().any(|i| i["rating"] == 5));
        // One short video among them, its size read from its container.
        let videos: Vec<&Value> = images.iter().filter(|i| i["is_video"] == true).collect();
        assert_eq!(videos.len(), 1, "round {round}");
        assert_eq!(videos[0]["content_type"], "video/mp4", "{}", videos[0]);
        assert_eq!(
            (videos[0]["width"].as_i64(), videos[0]["height"].as_i64()),
            (Some(640), Some(360)),
            "{}",
            videos[0]
        );

        // One image of the main stage is hidden until a few minutes from now.
        let embargoed: Vec<&Value> = images
            .iter()
            .flat_map(|i| i["sets"].as_array().unwrap())
            .filter(|s| s["activation_time"].is_string())
            .collect();
        assert_eq!(embargoed.len(), 1, "round {round}");
        assert_eq!(embargoed[0]["hidden"], true);
        assert_eq!(embargoed[0]["name"], "Main stage");
        let main_stage = set("Main stage");
        assert_eq!(
            main_stage["live_image_count"].as_i64().unwrap(),
            main_stage["image_count"].as_i64().unwrap() - 1,
            "the activation time is still to come: {main_stage}"
        );
        assert!(
            message.contains(&format!(
                "goes live at {}",
                embargoed[0]["activation_time"].as_str().unwrap()
            )),
            "{message}"
        );

        // A public website over the festival, a press one over the press kit.
        let websites = get("/v1/websites").await;
        let list = websites.as_array().unwrap();
        assert_eq!(list.len(), 2, "round {round}: {websites}");
        assert_eq!(list[0]["slug"], "festival");
        assert_eq!(list[0]["type"], "public");
        assert_eq!(
            list[0]["root_set_public_uuid"],
            set("Festival")["public_uuid"]
        );
        assert_eq!(list[1]["slug"], "festival-press");
        assert_eq!(list[1]["type"], "press");
        assert_eq!(list[1]["downloads"], "large");
        for website in list {
            let address = website["url"].as_str().unwrap();
            assert!(address.starts_with(&url), "{address}");
            assert!(message.contains(address), "{message}");
        }

        // A restart reuses everything.
        let library = DemoLibrary {
            sets: ids_of(&Value::Array(sets.clone())),
            images: ids_of(&Value::Array(images.clone())),
            websites: ids_of(&websites),
        };
        match &first {
            None => first = Some(library),
            Some(first) => assert_eq!(first, &library, "demo data is seeded once"),
        }
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
