//! The database layer: one `Store` over SQLite (embedded default) or
//! PostgreSQL, chosen by the database URL.
//!
//! How it is laid out (one layer, four crates in this folder):
//! - `queries/`: every statement, written once as `sqlx::query!`, and
//!   compiled twice — as `engines/sqlite` (`lightbox-store-sqlite`) and
//!   `engines/postgres` (`lightbox-store-postgres`) — so each is checked
//!   against both schemas (the query data in each engine's `.sqlx/`, made by
//!   `prepare-queries`; CI checks it is current). A statement an engine says
//!   better its own way (`= ANY($1)` or `json_each` for a list,
//!   `FOR NO KEY UPDATE`, `SKIP LOCKED`) is written twice side by side in
//!   `sqlite_only!`/`postgres_only!`.
//! - `rows/` (`lightbox-store-rows`): the rows both engines decode into.
//! - this crate: `Store`, `Conn`, `Tx` and one module per table group, whose
//!   functions pick the engine (`on_engine!`) and turn errors into
//!   [`StoreError`]. Only the image list builds its text at run time
//!   (`image_list.rs`, on the small statement layer of `sql.rs`, which the
//!   `testing` feature's raw statements use too); PostgreSQL's `NOTIFY` of
//!   a revocation is sent as is (`nodes::bump`).
//!
//! Each engine stores a value its own way and the rows read them alike
//! (`lightbox-store-rows`, `types.rs`): instants timestamptz / INTEGER Unix
//! microseconds, JSON jsonb / TEXT, flags BOOLEAN / 0-1 INTEGER compared
//! with TRUE/FALSE; ids are TEXT on both and `$n` placeholders serve both;
//! the engine-specific parts are named: migrations
//! (one folder per engine, same numbers), how a write transaction begins
//! (`BEGIN IMMEDIATE` on SQLite so writers queue instead of failing), and
//! the statements written per engine.
//!
//! Modules take a `&mut Conn` (a transaction or a pooled connection) so that
//! the core can compose several of them into one transaction.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod archives;
pub mod change_log;
pub mod editorial;
pub mod idempotency;
pub mod image_list;
pub mod images;
pub mod jobs;
pub mod nodes;
pub mod operations;
pub mod press;
pub mod rate_limits;
pub mod server_keys;
pub mod service_tokens;
pub mod sessions;
pub mod sets;
pub mod signing_keys;
pub(crate) mod sql;
pub mod users;
pub mod webhooks;
pub mod websites;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

pub use lightbox_store_rows::{JsonText, Micros, Timestamp};
pub use sql::Conn;

/// A write transaction: the store functions take it as a [`Conn`]. Commit
/// it, or drop it (which rolls back).
#[derive(Debug)]
pub struct Tx(Conn, Option<tokio::sync::OwnedMutexGuard<()>>);

impl Tx {
    pub async fn commit(self) -> Result<()> {
        let Tx(conn, _turn) = self;
        Ok(conn.commit().await?)
    }
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database was migrated by a newer Lightbox: an older binary must
    /// not write to a schema it does not know (a rollback, or an old node
    /// left behind in a rolling upgrade).
    #[error(
        "this database was upgraded by a newer version of Lightbox (its migration {version} \
         is unknown to this one): run that version or a newer one"
    )]
    NewerSchema { version: i64 },
    #[error("unsupported database URL ({0}): use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("cannot connect to the database at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// A caller asked for what only another component can answer (a set
    /// filter of an image list is the search index's): a bug, never
    /// answered with a wrong result.
    #[error("the database cannot answer this: {0}")]
    Unanswerable(&'static str),
}

/// How long opening the first connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl StoreError {
    /// The database cannot be reached (refused, gone, timed out, pool
    /// closed): the request may succeed later, unlike a bad query.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Db(
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ) | StoreError::Unreachable { .. }
        )
    }

    /// PostgreSQL aborted the transaction because it crossed another one
    /// (deadlock `40P01`, serialization failure `40001`): nothing of it was
    /// applied, and running it again is safe.
    pub fn is_crossed_write(&self) -> bool {
        match self {
            StoreError::Db(e) => e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|code| code == "40P01" || code == "40001"),
            _ => false,
        }
    }

    /// A unique constraint refused the write (a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(e) => e
                .as_database_error()
                .is_some_and(|d| d.is_unique_violation()),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// The URL without its password, for messages.
    address: std::sync::Arc<str>,
    /// SQLite's writers of this process take turns here, first come first
    /// served, before `BEGIN IMMEDIATE`: SQLite's own busy handler makes a
    /// waiting writer sleep in growing steps (up to 100 ms) however soon
    /// the lock frees, which under a steady write load turns a 1 ms wait
    /// into tens or hundreds. Other processes (the CLI) still meet
    /// `busy_timeout`.
    write_turns: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// How long a writer waits for its turn before it goes to SQLite's lock
/// without one (then `busy_timeout` again, so 30 s at worst): a turn is
/// never a new way to hang. A transaction dropped without a commit frees
/// its turn a moment before sqlx's rollback runs; the next writer then
/// meets the busy handler briefly, as before turns.
const WRITE_TURN_WAIT: Duration = Duration::from_secs(15);

/// Each engine's own pool.
#[derive(Clone, Debug)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Opens one direct connection within [`CONNECT_TIMEOUT`]: the pool would
/// retry a refused or failing connection until its timeout and then report
/// only that it timed out; this says why (refused, unknown host, wrong
/// password, no such database, TLS required) and where, within seconds.
async fn try_connect<C: Connection>(options: &C::Options, url: &str) -> Result<()> {
    match tokio::time::timeout(CONNECT_TIMEOUT, C::connect_with(options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(StoreError::Unreachable {
            url: redact_url(url),
            cause: e.to_string(),
        }),
        Err(_) => Err(StoreError::Unreachable {
            url: redact_url(url),
            cause: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        }),
    }
}

impl Store {
    /// The embedded default: `<data_dir>/lightbox.db`.
    pub fn sqlite_url_for_dir(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("lightbox.db").display()
        )
    }

    /// Opens a pool. SQLite files are created if missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            // Only its scheme is repeated: a string that is not a URL we
            // know (libpq's `host=… password=…`) cannot be redacted safely.
            let scheme = url.split_once("://").map(|(scheme, _)| scheme).filter(|s| {
                s.len() <= 20 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+')
            });
            return Err(StoreError::UnsupportedUrl(match scheme {
                Some(scheme) => format!("scheme {scheme:?}"),
                None => "not a URL".to_owned(),
            }));
        };
        let mut url = url.to_owned();
        if engine == Engine::Sqlite && !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
        let pool = match engine {
            Engine::Sqlite => {
                // WAL lets readers run beside the one writer; busy_timeout
                // makes a second writer (another process, a CLI command)
                // wait, not fail.
                let options = SqliteConnectOptions::from_str(&url)?
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(15))
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .disable_statement_logging();
                try_connect::<sqlx::SqliteConnection>(&options, &url).await?;
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max_connections.max(1))
                        // A request waits this long for a connection before
                        // it answers 503 (every connection is busy).
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(options)
                        .await?,
                )
            }
            Engine::Postgres => {
                let options = PgConnectOptions::from_str(&url)?
                    .disable_statement_logging()
                    // Every statement here answers one request from an
                    // index in a few milliseconds: starting parallel
                    // workers costs more than it saves (a keyword- or
                    // Exif-driven image list: 15 → 5 ms at 1,000,000
                    // images, docs/performance.md) and takes cores from
                    // the requests beside it.
                    .options([("max_parallel_workers_per_gather", "0")]);
                try_connect::<sqlx::PgConnection>(&options, &url).await?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max_connections.max(1))
                        // A request waits this long for a connection before
                        // it answers 503 (the database is gone, or every
                        // connection is busy).
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(options)
                        .await?,
                )
            }
        };
        Ok(Self {
            pool,
            address: redact_url(&url).into(),
            write_turns: Default::default(),
        })
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies this engine's migrations. Safe to run from several processes.
    pub async fn migrate(&self) -> Result<()> {
        let ran = match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        match ran {
            Err(sqlx::migrate::MigrateError::VersionMissing(version)) => {
                Err(StoreError::NewerSchema { version })
            }
            other => Ok(other?),
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue on `busy_timeout` instead of
    /// one failing when it upgrades a read lock.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                let turn =
                    tokio::time::timeout(WRITE_TURN_WAIT, self.write_turns.clone().lock_owned())
                        .await
                        .ok();
                Tx(
                    Conn::sqlite_tx(pool.begin_with("BEGIN IMMEDIATE").await?),
                    turn,
                )
            }
            Pool::Postgres(pool) => Tx(Conn::postgres_tx(pool.begin().await?), None),
        })
    }

    /// A pooled connection for reads.
    pub async fn read(&self) -> Result<Conn> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Conn::sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => Conn::postgres(pool.acquire().await?),
        })
    }

    /// Cheap liveness check for `/readyz`; the error names the address and
    /// the cause.
    pub async fn ping(&self) -> Result<()> {
        let unreachable = |e: sqlx::Error| StoreError::Unreachable {
            url: self.address.to_string(),
            cause: e.to_string(),
        };
        match &self.pool {
            Pool::Sqlite(pool) => pool.acquire().await.map_err(unreachable)?.ping().await,
            Pool::Postgres(pool) => pool.acquire().await.map_err(unreachable)?.ping().await,
        }
        .map_err(unreachable)
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Hides the secrets of a URL before it reaches an error message, a log or
/// `/readyz`: the userinfo's password and the value of every query
/// parameter that carries one (`?password=`, `sslpassword=`, `sslkey=`…).
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &base[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => {
                    format!("{}://{user}:***@{}", &base[..scheme_end], &base[at + 1..])
                }
                None => base.to_owned(),
            }
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if is_secret_parameter(key) => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

fn is_secret_parameter(key: &str) -> bool {
    // Judged on the decoded key: `%70assword` is `password`.
    let key = percent_decoded(key).to_ascii_lowercase();
    ["pass", "secret", "token", "key", "auth", "cred"]
        .iter()
        .any(|word| key.contains(word))
}

/// `%XX` escapes decoded (invalid ones kept as they are).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=require&password=s3cret&PassWord=x"),
            "postgres://u@h/db?sslmode=require&password=***&PassWord=***"
        );
        assert_eq!(
            redact_url("postgres://u:p@h/db?sslpassword=k&application_name=lb"),
            "postgres://u:***@h/db?sslpassword=***&application_name=lb"
        );
        // A key spelled with escapes is the same key.
        assert_eq!(
            redact_url("postgres://h/db?%70assword=s3cret&p%61ss=x"),
            "postgres://h/db?%70assword=***&p%61ss=***"
        );
        // An `@` inside a query value is not the userinfo's.
        assert_eq!(
            redact_url("postgres://h/db?options=a@b&token=t"),
            "postgres://h/db?options=a@b&token=***"
        );
    }
}

#[cfg(test)]
mod unsupported_url_tests {
    use super::*;

    #[tokio::test]
    async fn an_unsupported_url_is_named_by_its_scheme_only() {
        let message = |url: &'static str| async move {
            match Store::connect(url, 1).await {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{url} connected"),
            }
        };
        let libpq = message("host=db.internal user=lb password=hunter2").await;
        assert!(
            libpq.contains("not a URL") && !libpq.contains("hunter2"),
            "{libpq}"
        );
        let mysql = message("mysql://lb:hunter2@db.internal/lb").await;
        assert!(
            mysql.contains("\"mysql\"") && !mysql.contains("hunter2"),
            "{mysql}"
        );
    }
}
