//! Lightbox's test kit: what the integration tests of the workspace share.
//!
//! - [`Env`]: a fresh, empty storage per test (SQLite folder, or a fresh
//!   PostgreSQL database; optionally a fresh S3 bucket), and the real
//!   `lightbox` command line on it.
//! - [`Server`]: a real `lightbox serve` process on 127.0.0.1, and a small
//!   typed client for the API on it ([`Reply`] is one response, read whole).
//! - [`fresh_postgres_database`] / [`fresh_store`]: a fresh database for
//!   tests that open the store directly (core, store).
//! - [`both_engines!`] / [`both_setups!`]: one test body, a test per engine.
//!
//! PostgreSQL tests need `LIGHTBOX_TEST_POSTGRES_URL` (an admin URL; `.ci/run`
//! starts a server and sets it); S3 tests need `LIGHTBOX_TEST_S3_ENDPOINT`.
//! They fail, loudly, when it is missing: a skipped engine is not a tested
//! engine.
// A test kit panics on purpose: a failed step of a test is a failed test,
// and `unwrap_or_else(|e| panic!(..))` is used where the message helps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The database engine a test runs on: the store's own, so a test can
/// compare it with `Store::engine()`.
pub use lightbox_store::Engine;

/// A fresh, empty storage for one test.
pub struct Env {
    pub engine: Engine,
    pub dir: PathBuf,
    pub database_url: Option<String>,
    /// (endpoint, bucket) when blobs go to the S3-compatible test server.
    pub s3: Option<(String, String)>,
}

/// The `lightbox` binary under test. `env!("CARGO_BIN_EXE_lightbox")` only
/// exists when compiling the `lightbox` crate's own tests, so the kit looks
/// it up when run: the variable if the runner sets it, else beside the test
/// executable (`target/<profile>/deps/..` → `target/<profile>/lightbox`).
pub fn bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        for var in ["CARGO_BIN_EXE_lightbox", "NEXTEST_BIN_EXE_lightbox"] {
            if let Ok(path) = std::env::var(var)
                && std::path::Path::new(&path).is_file()
            {
                return path;
            }
        }
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .unwrap_or_else(|| panic!("no target dir above {}", exe.display()));
        let path = profile_dir.join(format!("lightbox{}", std::env::consts::EXE_SUFFIX));
        assert!(
            path.is_file(),
            "the lightbox binary is not at {}: run the tests of the `lightbox` crate (cargo builds it for them)",
            path.display()
        );
        path.display().to_string()
    })
}

/// A name no other test run uses (databases, buckets, folders).
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A new, empty folder for one test's files: `<temp>/lightbox-tests/<pid>/
/// <label>-<unique>`. A folder a test cannot remove itself (a store opened
/// directly, a panic) is removed by a later test process: the first call
/// in each process deletes the folders of processes that are gone, so runs
/// never pile up on the disk.
pub fn scratch_dir(label: &str) -> std::path::PathBuf {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    let root = std::env::temp_dir().join("lightbox-tests");
    SWEPT.call_once(|| sweep_dead_processes(&root));
    let dir = root
        .join(std::process::id().to_string())
        .join(format!("{label}-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Removes the per-process folders under `root` whose process has ended
/// (Linux: no `/proc/<pid>`; elsewhere nothing is removed).
fn sweep_dead_processes(root: &std::path::Path) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            // Best effort: another process may be sweeping the same folder.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Env {
    pub async fn new(engine: Engine) -> Env {
        let dir = scratch_dir("env");
        let database_url = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(fresh_postgres_database().await),
        };
        Env {
            engine,
            dir,
            database_url,
            s3: None,
        }
    }

    /// A fresh storage whose blobs live in a new bucket of the S3-compatible
    /// test server (`LIGHTBOX_TEST_S3_ENDPOINT`, started by `.ci/run`).
    pub async fn with_s3(engine: Engine) -> Env {
        let mut env = Env::new(engine).await;
        env.s3 = Some(fresh_s3_bucket().await);
        env
    }

    /// Keys of the blob store under `prefix` (the folder's files, or the
    /// bucket's objects), read from outside the server.
    pub async fn blob_keys(&self, prefix: &str) -> Vec<String> {
        match &self.s3 {
            None => {
                let root = self.dir.join("blobs");
                // Nothing stored yet: the folder is made at the first write.
                if !root.exists() {
                    return Vec::new();
                }
                let mut out = Vec::new();
                let mut stack = vec![root.clone()];
                while let Some(dir) = stack.pop() {
                    let entries = std::fs::read_dir(&dir)
                        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
                    for entry in entries {
                        let path = entry
                            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
                            .path();
                        if path.is_dir() {
                            stack.push(path);
                        } else if let Ok(rel) = path.strip_prefix(&root) {
                            let key = rel.to_string_lossy().replace('\\', "/");
                            if key.starts_with(prefix) {
                                out.push(key);
                            }
                        }
                    }
                }
                out.sort();
                out
            }
            Some((endpoint, bucket)) => {
                let url = format!("{endpoint}/{bucket}?list-type=2&prefix=lb/{prefix}");
                let response = reqwest::Client::builder()
                    .no_proxy()
                    .build()
                    .unwrap_or_else(|e| panic!("client: {e}"))
                    .get(url)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("list bucket: {e}"));
                let status = response.status();
                let text = response
                    .text()
                    .await
                    .unwrap_or_else(|e| panic!("list bucket: {e}"));
                assert!(status.is_success(), "list bucket: {status}: {text}");
                // One page is at most 1,000 keys; a test that stores more
                // must not be told a partial list is all there is.
                assert!(
                    !text.contains("<IsTruncated>true</IsTruncated>"),
                    "list bucket: more than one page of keys under {prefix}"
                );
                let mut out: Vec<String> = text
                    .split("<Key>")
                    .skip(1)
                    .filter_map(|part| part.split("</Key>").next())
                    .map(|k| k.trim_start_matches("lb/").to_owned())
                    .collect();
                out.sort();
                out
            }
        }
    }

    /// Copies image `source` `count` times straight in the database (new
    /// ids and SHA-256, same original): a large library without uploading
    /// it. Returns the new ids. The copies are not in the search index
    /// until something changes them.
    pub async fn clone_images(&self, source: &str, count: usize) -> Vec<String> {
        let salt = &unique()[..8];
        let ids: Vec<String> = (1..=count)
            .map(|i| format!("{salt}-0000-4000-8000-{i:012}"))
            .collect();
        // The id sequence, the row generator, the column list and n
        // microseconds (an instant plus a span), per engine.
        let (uuid, series, list_columns, micros) = match &self.database_url {
            None => (
                format!("printf('{salt}-0000-4000-8000-%012d', n.i)"),
                format!("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {count}) SELECT i FROM s) AS n"),
                "SELECT name FROM pragma_table_info('images') ORDER BY cid".to_owned(),
                "n.i",
            ),
            Some(_) => (
                format!("'{salt}-0000-4000-8000-' || lpad(n.i::text, 12, '0')"),
                format!("generate_series(1, {count}) AS n(i)"),
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'images' ORDER BY ordinal_position".to_owned(),
                "n.i * INTERVAL '1 microsecond'",
            ),
        };
        let names = self.sql_texts(&list_columns).await;

        let exprs: Vec<String> = names
            .iter()
            .map(|c| match c.as_str() {
                "id" => uuid.clone(),
                "sha256" => format!("{uuid} || src.sha256"),
                "created_at" | "updated_at" => format!("src.{c} + {micros}"),
                other => format!("src.{other}"),
            })
            .collect();
        let sql = format!(
            "INSERT INTO images ({}) SELECT {} FROM {series}, images src WHERE src.id = '{source}'",
            names.join(", "),
            exprs.join(", ")
        );
        self.sql(&sql).await;
        // The per-day upload counts the store keeps with every image it
        // adds (these bypass it): recounted for the account.
        let day = match &self.database_url {
            None => "created_at - ((created_at % 86400000000) + 86400000000) % 86400000000",
            Some(_) => "date_trunc('day', created_at, 'UTC')",
        };
        let account = format!("(SELECT account_id FROM images WHERE id = '{source}')");
        self.sql(&format!(
            "DELETE FROM image_upload_days WHERE account_id = {account}"
        ))
        .await;
        self.sql(&format!(
            "INSERT INTO image_upload_days (account_id, day, images) \
             SELECT account_id, {day}, COUNT(*) FROM images WHERE account_id = {account} \
             GROUP BY 1, 2"
        ))
        .await;
        ids
    }

    /// The test's database, opened beside the server: for what no API
    /// does (a large library made in one statement, a column as a dump
    /// shows it).
    pub async fn database(&self) -> lightbox_store::Store {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            // `mode=rw`: the server made it; a missing file is an error.
            None => format!(
                "sqlite://{}?mode=rw",
                self.dir.join("lightbox.db").display()
            ),
        };
        lightbox_store::Store::connect(&url, 1)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"))
    }

    /// Loads a dump (a `pg_dump --inserts` script, or SQLite's `iterdump`)
    /// into the test's empty database, as a library made by an earlier
    /// version would be found; the server then opens (and migrates) it.
    pub async fn restore(&self, dump: &str) {
        use sqlx::Connection;
        let dump = sqlx::AssertSqlSafe(dump.to_owned());
        match &self.database_url {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("connect {url}: {e}"));
                sqlx::raw_sql(dump)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("restore into {url}: {e}"));
                let _ = conn.close().await;
            }
            None => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    self.dir.join("lightbox.db").display()
                );
                let mut conn = sqlx::SqliteConnection::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("connect {url}: {e}"));
                // A dump lists tables by name, not by what references
                // what (as the `sqlite3` shell restores it).
                sqlx::raw_sql("PRAGMA foreign_keys = OFF")
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                sqlx::raw_sql(dump)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("restore into {url}: {e}"));
                let _ = conn.close().await;
            }
        }
    }

    /// Runs one statement straight on the test's database; rows changed.
    pub async fn sql(&self, statement: &str) -> u64 {
        let db = self.database().await;
        let mut conn = db.read().await.unwrap();
        let n = conn
            .execute_text(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        drop(conn);
        db.close().await;
        n
    }

    /// The first column of each row of a query on the test's database.
    pub async fn sql_texts(&self, query: &str) -> Vec<String> {
        let db = self.database().await;
        let mut conn = db.read().await.unwrap();
        let rows = conn
            .fetch_texts(query)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        drop(conn);
        db.close().await;
        rows
    }

    /// Storage flags for the CLI and the server.
    pub fn storage_args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_owned(), self.dir.display().to_string()];
        if let Some(url) = &self.database_url {
            args.push("--database-url".to_owned());
            args.push(url.clone());
        }
        if let Some((endpoint, bucket)) = &self.s3 {
            args.extend([
                "--blob-store".to_owned(),
                format!("s3://{bucket}/lb"),
                "--s3-endpoint".to_owned(),
                endpoint.clone(),
            ]);
        }
        args
    }

    /// Runs a CLI command; returns (exit code, stdout, stderr).
    pub async fn cli_raw(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(bin())
            .args(args)
            .args(self.storage_args())
            .env("LIGHTBOX_LOG", "warn")
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run lightbox: {e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs a CLI command with `input` on stdin; returns (exit code, stdout, stderr).
    pub async fn cli_stdin(&self, args: &[&str], input: &str) -> (i32, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = Command::new(bin())
            .args(args)
            .args(self.storage_args())
            .env("LIGHTBOX_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run lightbox: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input.as_bytes()).await;
        }
        let out = child
            .wait_with_output()
            .await
            .unwrap_or_else(|e| panic!("lightbox: {e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A user with a password and a role in `account`; returns its uuid.
    pub async fn user(&self, login: &str, password: &str, account: &str, role: &str) -> String {
        let (code, out, err) = self
            .cli_stdin(
                &[
                    "user",
                    "create",
                    "--login",
                    login,
                    "--name",
                    "Test User",
                    "--password-stdin",
                ],
                &format!("{password}\n"),
            )
            .await;
        assert_eq!(code, 0, "user create failed: {err}");
        self.cli(&["user", "add-to-account", login, account, "--role", role])
            .await;
        out.trim().to_owned()
    }

    /// Runs a CLI command that must succeed; returns stdout trimmed.
    pub async fn cli(&self, args: &[&str]) -> String {
        let (code, out, err) = self.cli_raw(args).await;
        assert_eq!(code, 0, "lightbox {args:?} failed: {err}");
        out.trim().to_owned()
    }

    /// An account with the API switched on; returns its unique id.
    pub async fn account(&self, unique_id: &str) -> String {
        self.cli(&[
            "account",
            "create",
            "--name",
            &format!("Account {unique_id}"),
            "--unique-id",
            unique_id,
        ])
        .await;
        self.cli(&["account", "api-access", unique_id, "on"]).await;
        unique_id.to_owned()
    }

    /// A token for `account` with `scopes` (comma list or `all`) and extra flags.
    pub async fn token(&self, account: &str, scopes: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "token",
            "create",
            "--account",
            account,
            "--name",
            "test token",
            "--scopes",
            scopes,
        ];
        args.extend_from_slice(extra);
        self.cli(&args).await
    }

    /// An account with the API on, an all-scope service token for it, and
    /// a server started with `extra`: where most API tests begin.
    pub async fn account_server(&self, unique_id: &str, extra: &[&str]) -> (Server, String) {
        self.account(unique_id).await;
        let token = self.token(unique_id, "all", &[]).await;
        (self.serve(extra).await, token)
    }

    /// A new user of `account` with `role`, signed in on `server`; returns
    /// its access token. Its password is [`MEMBER_PASSWORD`].
    pub async fn member(&self, server: &Server, account: &str, login: &str, role: &str) -> String {
        self.user(login, MEMBER_PASSWORD, account, role).await;
        server.access_token(login, MEMBER_PASSWORD).await
    }

    pub async fn serve(&self, extra: &[&str]) -> Server {
        Server::start(self, "127.0.0.1:0", extra).await
    }

    /// A server whose public URL (`--public-url`) is another, as behind a
    /// TLS-terminating proxy; the test reaches it on loopback directly.
    pub async fn serve_behind(&self, public_url: &str, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let mut args = vec!["--public-url", public_url];
        args.extend_from_slice(extra);
        let listen = format!("127.0.0.1:{port}");
        let mut server = Server::start_unready(self, &listen, &args).await;
        server.url = format!("http://{listen}");
        server.ready().await
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh, empty database on the PostgreSQL server of
/// `LIGHTBOX_TEST_POSTGRES_URL`; returns its URL (same server and user).
pub async fn fresh_postgres_database() -> String {
    let admin = std::env::var("LIGHTBOX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| panic!("LIGHTBOX_TEST_POSTGRES_URL is not set: run the suite with `bash .ci/run`, which starts PostgreSQL"));
    let name = format!("lbt_{}", unique());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("connect {admin}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("create db: {e}"));
    let _ = conn.close().await;
    // Same server and user, the new database.
    let (scheme, rest) = admin.split_once("://").unwrap_or(("postgres", &admin));
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}")
}

/// A fresh, migrated store on `engine` (a new SQLite folder, or a fresh
/// PostgreSQL database), opened directly: for tests below the server.
pub async fn fresh_store(engine: Engine, max_connections: u32) -> lightbox_store::Store {
    let url = match engine {
        Engine::Sqlite => {
            let dir = scratch_dir("store");
            lightbox_store::Store::sqlite_url_for_dir(&dir)
        }
        Engine::Postgres => fresh_postgres_database().await,
    };
    let store = lightbox_store::Store::connect(&url, max_connections)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate {url}: {e}"));
    store
}

/// A new bucket on the S3-compatible test server of
/// `LIGHTBOX_TEST_S3_ENDPOINT` (started by `.ci/run`); returns (endpoint, bucket).
pub async fn fresh_s3_bucket() -> (String, String) {
    let endpoint = std::env::var("LIGHTBOX_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!("LIGHTBOX_TEST_S3_ENDPOINT is not set: run the suite with `bash .ci/run`")
    });
    let bucket = format!("lbt-{}", unique());
    let made = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket: {e}"));
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    (endpoint, bucket)
}

/// A running `lightbox serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(env: &Env, listen: &str, extra: &[&str]) -> Server {
        Server::start_unready(env, listen, extra)
            .await
            .ready()
            .await
    }

    /// Started, its URL read from its first line of output.
    async fn start_unready(env: &Env, listen: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .arg("serve")
            .args(["--listen", listen])
            .args(env.storage_args())
            .args(extra)
            .env(
                "LIGHTBOX_LOG",
                std::env::var("LIGHTBOX_TEST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            // The S3-compatible test server takes any credentials.
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start lightbox: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("server did not print its URL within 60 s"))
            .unwrap_or_else(|e| panic!("reading server stdout: {e}"))
            .unwrap_or_else(|| panic!("server exited before printing its URL"));
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        Server { child, url, http }
    }

    /// Waits until `/readyz` answers 200.
    async fn ready(self) -> Server {
        let server = self;
        for _ in 0..100 {
            if let Ok(r) = server
                .http
                .get(format!("{}/readyz", server.url))
                .send()
                .await
                && r.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server at {} never became ready", server.url);
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        Reply::from(self.http.get(self.at(path)).bearer_auth(token).send().await).await
    }

    pub async fn post(&self, token: &str, path: &str, key: Option<&str>, body: &Value) -> Reply {
        let mut req = self.http.post(self.at(path)).bearer_auth(token).json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        Reply::from(req.send().await).await
    }

    /// A JSON `PATCH` with an Idempotency-Key.
    pub async fn patch_json(&self, token: &str, path: &str, key: &str, body: &Value) -> Reply {
        let req = self
            .http
            .patch(self.at(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body);
        Reply::from(req.send().await).await
    }

    /// Any write with an Idempotency-Key and (optionally) a JSON body.
    pub async fn write(
        &self,
        method: &str,
        token: &str,
        path: &str,
        key: &str,
        body: Option<&Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("method {method}: {e}"));
        let mut req = self
            .http
            .request(method, self.at(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        if let Some(body) = body {
            req = req.json(body);
        }
        Reply::from(req.send().await).await
    }

    /// A `DELETE` with an Idempotency-Key and no body.
    pub async fn delete(&self, token: &str, path: &str, key: &str) -> Reply {
        let req = self
            .http
            .delete(self.at(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        Reply::from(req.send().await).await
    }

    /// Signs in (no MFA) and returns an access token for the first account.
    pub async fn access_token(&self, login: &str, password: &str) -> String {
        let device = serde_json::json!({"name": "test", "platform": "linux", "app_version": "1"});
        let r = Reply::from(
            self.http
                .post(self.at("/v1/auth/sign_in"))
                .json(&serde_json::json!({"login": login, "password": password, "device": device}))
                .send()
                .await,
        )
        .await;
        assert_eq!(r.status, 200, "sign in: {}", r.text);
        let body = r.json();
        let r = Reply::from(
            self.http
                .post(self.at("/v1/auth/token"))
                .json(&serde_json::json!({
                    "refresh_token": body["refresh_token"],
                    "account_uuid": body["accounts"][0]["uuid"],
                }))
                .send()
                .await,
        )
        .await;
        assert_eq!(r.status, 200, "token: {}", r.text);
        r.json()["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit code.
    pub async fn stop(mut self) -> Option<i32> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .ok()?
            .ok()?
            .code()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub async fn crash(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(result: Result<reqwest::Response, reqwest::Error>) -> Reply {
        let response = result.unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the answer's body ({status}): {e}"));
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the documented error shape and code; returns the error object.
    pub fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got: {}",
            self.text
        );
        let body = self.json();
        let error = body
            .get("error")
            .cloned()
            .unwrap_or_else(|| panic!("no error object: {}", self.text));
        assert_eq!(error["code"], code, "{}", self.text);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            error.get("detail").is_some() && error.get("field").is_some(),
            "detail/field keys present: {}",
            self.text
        );
        assert_eq!(
            Some(error["request_id"].as_str().unwrap_or("").to_owned()),
            self.header("x-request-id"),
            "request_id = X-Request-Id"
        );
        error
    }
}

/// One test body, run once per engine.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> $crate::TestResult {
                let env = $crate::Env::new($crate::Engine::Sqlite).await;
                ($body)(env).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> $crate::TestResult {
                let env = $crate::Env::new($crate::Engine::Postgres).await;
                ($body)(env).await
            }
        }
    };
}

/// One test body, run on SQLite with the folder blob store and on
/// PostgreSQL with the S3-compatible blob store.
#[macro_export]
macro_rules! both_setups {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_folder() -> $crate::TestResult {
                let env = $crate::Env::new($crate::Engine::Sqlite).await;
                ($body)(env).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() -> $crate::TestResult {
                let env = $crate::Env::with_s3($crate::Engine::Postgres).await;
                ($body)(env).await
            }
        }
    };
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if let Some(v) = f().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Posts `bytes` to the image processor with an upload ticket's fields
/// (the answer of `POST /v1/uploads`); returns the processor's reply.
pub async fn post_file(server: &Server, ticket: &Value, bytes: Vec<u8>) -> Reply {
    let mut form = reqwest::multipart::Form::new();
    let fields = ticket["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("no fields in {ticket}"));
    for (name, value) in fields {
        form = form.text(name.clone(), value.as_str().unwrap_or_default().to_owned());
    }
    form = form.part(
        ticket["file_field"].as_str().unwrap_or("file").to_owned(),
        reqwest::multipart::Part::bytes(bytes).file_name("upload.bin"),
    );
    let url = ticket["upload_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no upload_url in {ticket}"));
    Reply::from(server.http.post(url).multipart(form).send().await).await
}

/// Waits until the Operation ends (`succeeded` or `failed`); returns it.
pub async fn finished_operation(server: &Server, token: &str, uuid: &str) -> Value {
    eventually(60, || async {
        let op = server
            .get(token, &format!("/v1/operations/{uuid}"))
            .await
            .json();
        matches!(op["status"].as_str(), Some("succeeded" | "failed")).then_some(op)
    })
    .await
    .unwrap_or_else(|| panic!("operation {uuid} never finished"))
}

/// Uploads `bytes` as `filename` and waits for its versions; returns the
/// image's uuid.
pub async fn uploaded(server: &Server, token: &str, filename: &str, bytes: Vec<u8>) -> String {
    let ticket = server
        .post(
            token,
            "/v1/uploads",
            None,
            &serde_json::json!({"filename": filename}),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    let r = post_file(server, &ticket.json(), bytes).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let answer = r.json();
    let op = finished_operation(server, token, answer["operation_uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    answer["image_public_uuid"].as_str().unwrap().to_owned()
}

/// The TOTP secret of an `otpauth://` URI.
pub fn secret_of(uri: &str) -> Vec<u8> {
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap_or_else(|| panic!("no secret in {uri}"));
    lightbox_auth::totp::from_base32(secret).unwrap()
}

/// The password of [`Env::member`]'s users: strong enough for the
/// server's password rules.
pub const MEMBER_PASSWORD: &str = "correct horse battery staple";

/// The SHA-256 of `bytes` in lower-case hex, as the API and blob keys show it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh Idempotency-Key: every write of the typed client gets its own,
/// so no two writes of a test replay each other by accident.
pub fn idempotency_key() -> String {
    static KEYS: AtomicU64 = AtomicU64::new(0);
    format!("kit-{}", KEYS.fetch_add(1, Ordering::SeqCst))
}

/// The typed client: the few API steps many tests take on the way to what
/// they check, each asserting that the step itself went through.
impl Server {
    /// `GET /v1/me`.
    pub async fn me(&self, token: &str) -> Reply {
        self.get(token, "/v1/me").await
    }

    /// Asks for an upload ticket with `details` (`{"filename": ..}` and
    /// more) and posts `bytes` to the processor; returns the new image's
    /// uuid, without waiting for its versions.
    pub async fn upload_with(&self, token: &str, details: &Value, bytes: Vec<u8>) -> String {
        let ticket = self.post(token, "/v1/uploads", None, details).await;
        assert_eq!(ticket.status, 201, "upload ticket: {}", ticket.text);
        let r = post_file(self, &ticket.json(), bytes).await;
        assert_eq!(r.status, 201, "upload: {}", r.text);
        r.json()["image_public_uuid"]
            .as_str()
            .unwrap_or_else(|| panic!("no image_public_uuid in {}", r.text))
            .to_owned()
    }

    /// [`Server::upload_with`] with only a filename.
    pub async fn upload(&self, token: &str, filename: &str, bytes: Vec<u8>) -> String {
        self.upload_with(token, &serde_json::json!({ "filename": filename }), bytes)
            .await
    }

    /// A write (fresh Idempotency-Key) that must be accepted (202); the
    /// Operation as the answer gives it, finished or not.
    pub async fn write_accepted(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: impl Into<Option<Value>>,
    ) -> Value {
        let body = body.into();
        let r = self
            .write(method, token, path, &idempotency_key(), body.as_ref())
            .await;
        assert_eq!(r.status, 202, "{method} {path} {body:?}: {}", r.text);
        r.json()
    }

    /// A write that must be accepted and succeed; its Operation once
    /// finished (waited for when the answer did not finish it).
    pub async fn write_ok(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: impl Into<Option<Value>>,
    ) -> Value {
        let op = self.write_accepted(method, token, path, body).await;
        let op = if op["status"] == "succeeded" {
            op
        } else {
            let uuid = op["uuid"]
                .as_str()
                .unwrap_or_else(|| panic!("no operation uuid in {op}"));
            finished_operation(self, token, uuid).await
        };
        assert_eq!(op["status"], "succeeded", "{method} {path}: {op}");
        op
    }

    /// A write refused with `status`/`code` (the documented error shape),
    /// naming `field` when given; returns the error object.
    pub async fn write_refused(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Value,
        (status, code): (u16, &str),
        field: Option<&str>,
    ) -> Value {
        let r = self
            .write(method, token, path, &idempotency_key(), Some(&body))
            .await;
        let e = r.error(status, code);
        if let Some(field) = field {
            assert_eq!(e["field"], field, "{method} {path} {body}: {e}");
        }
        e
    }

    /// `POST /v1/operations/batch` with these operations (fresh key).
    pub async fn batch(&self, token: &str, operations: Value) -> Reply {
        let body = serde_json::json!({ "operations": operations });
        self.write(
            "POST",
            token,
            "/v1/operations/batch",
            &idempotency_key(),
            Some(&body),
        )
        .await
    }

    /// The server's clock, in Unix seconds (`GET /_debug/clock`).
    pub async fn debug_clock_now(&self) -> u64 {
        let text = self
            .http
            .get(self.at("/_debug/clock"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("debug clock: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("debug clock: {e}"));
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("debug clock {text:?}: {e}"))
    }

    /// Moves the server's debug clock on by `secs`; returns its new time.
    pub async fn advance_debug_clock(&self, secs: u64) -> u64 {
        let r = self
            .http
            .post(self.at(&format!("/_debug/clock?advance_secs={secs}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("advance debug clock: {e}"));
        assert_eq!(r.status(), 200, "advance debug clock");
        self.debug_clock_now().await
    }
}
