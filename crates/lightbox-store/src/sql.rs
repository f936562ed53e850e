//! The store's connections, and the statements whose text is built at run
//! time.
//!
//! [`Conn`] is a pooled or a transaction's connection of either engine;
//! [`on_engine!`] runs a function of the compiled statements
//! (`queries/`, checked per engine by `sqlx::query!`) on the engine it holds.
//!
//! [`query_as`] is for the few statements whose text cannot be written
//! ahead (today: the image list's filters, `image_list.rs`, and the raw
//! statements of the `testing` feature): one SQL text bound and run on
//! whichever engine's own driver the connection holds, its arguments kept
//! as a few plain kinds. They are checked only by the tests.

use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Arguments, FromRow, SqlSafeStr, SqlStr};

use crate::Engine;

/// A connection of the store: pooled for reads, or the connection of a
/// write transaction ([`crate::Tx`] derefs to it). Store functions take
/// `&mut Conn`, so the core can compose several of them in one transaction.
pub struct Conn(Held);

enum Held {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    SqliteTx(sqlx::Transaction<'static, sqlx::Sqlite>),
    PostgresTx(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs one function of the compiled statements (`queries/`, built once per
/// engine as `lightbox-store-sqlite` and `lightbox-store-postgres`) on the
/// engine of `$conn`: `on_engine!(conn, accounts::find(id))` calls
/// `accounts::find(native_conn, id)` of that engine's crate.
macro_rules! on_engine {
    ($conn:expr, $module:ident :: $function:ident ( $($arg:expr),* $(,)? )) => {
        match $conn.native() {
            $crate::sql::Native::Sqlite(c) => {
                lightbox_store_sqlite::$module::$function(c, $($arg),*).await
            }
            $crate::sql::Native::Postgres(c) => {
                lightbox_store_postgres::$module::$function(c, $($arg),*).await
            }
        }
    };
}
pub(crate) use on_engine;

/// The native connection under a [`Conn`].
pub(crate) enum Native<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn {
    pub(crate) fn sqlite(conn: sqlx::pool::PoolConnection<sqlx::Sqlite>) -> Self {
        Conn(Held::Sqlite(conn))
    }

    pub(crate) fn postgres(conn: sqlx::pool::PoolConnection<sqlx::Postgres>) -> Self {
        Conn(Held::Postgres(conn))
    }

    pub(crate) fn sqlite_tx(tx: sqlx::Transaction<'static, sqlx::Sqlite>) -> Self {
        Conn(Held::SqliteTx(tx))
    }

    pub(crate) fn postgres_tx(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> Self {
        Conn(Held::PostgresTx(tx))
    }

    pub fn engine(&self) -> Engine {
        match &self.0 {
            Held::Sqlite(_) | Held::SqliteTx(_) => Engine::Sqlite,
            Held::Postgres(_) | Held::PostgresTx(_) => Engine::Postgres,
        }
    }

    pub(crate) fn native(&mut self) -> Native<'_> {
        match &mut self.0 {
            Held::Sqlite(c) => Native::Sqlite(c),
            Held::SqliteTx(t) => Native::Sqlite(t),
            Held::Postgres(c) => Native::Postgres(c),
            Held::PostgresTx(t) => Native::Postgres(t),
        }
    }

    /// Runs one statement that takes no arguments, given as text (tests
    /// that set up what no API can, such as a node silent for an hour).
    /// Only with the `testing` feature, which only tests turn on.
    #[cfg(feature = "testing")]
    pub async fn execute_text(&mut self, sql: &str) -> crate::Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(query(sql).persistent(false).execute(self).await?)
    }

    /// The first column of each row of a query given as text, read as text
    /// (tests that check what a dump would show). Only with the `testing`
    /// feature.
    #[cfg(feature = "testing")]
    pub async fn fetch_texts(&mut self, sql: &str) -> crate::Result<Vec<String>> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let mut rows = query_as::<(String,)>(sql);
        rows.statement = rows.statement.persistent(false);
        let rows: Vec<(String,)> = rows.fetch_all(self).await?;
        Ok(rows.into_iter().map(|(text,)| text).collect())
    }

    /// Commits the transaction this connection holds. A pooled connection
    /// holds none (a `Tx` whose connection was swapped for one): that is an
    /// error, never a commit that did not happen reported as done.
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self.0 {
            Held::SqliteTx(t) => t.commit().await,
            Held::PostgresTx(t) => t.commit().await,
            Held::Sqlite(_) | Held::Postgres(_) => Err(sqlx::Error::Protocol(
                "commit on a connection that holds no transaction".to_owned(),
            )),
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({})", self.engine().name())
    }
}

/// One argument of a runtime statement, in the few kinds the image list
/// binds (none binds a flag or a null: flags are TRUE/FALSE literals).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'q> {
    Int(i64),
    /// An instant: a timestamptz on PostgreSQL, Unix microseconds on SQLite.
    Time(lightbox_store_rows::Timestamp),
    Real(f64),
    Text(&'q str),
}

/// Adds the values to an engine's argument list (the same code for both:
/// a macro, because each engine's `Encode` bounds are its own).
macro_rules! arguments {
    ($args:ty, $values:expr) => {{
        let mut args = <$args>::default();
        for value in $values {
            match value {
                Value::Int(v) => args.add(v),
                Value::Time(v) => args.add(v),
                Value::Real(v) => args.add(v),
                Value::Text(v) => args.add(v),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        args
    }};
}

fn sqlite_arguments(values: Vec<Value<'_>>) -> sqlx::Result<SqliteArguments> {
    Ok(arguments!(SqliteArguments, values))
}

fn postgres_arguments(values: Vec<Value<'_>>) -> sqlx::Result<PgArguments> {
    Ok(arguments!(PgArguments, values))
}

/// Builds the engine's own query from a [`Statement`] (`$build`: sqlx's
/// `query_with` or `query_as_with`) and runs `$run` with it and the native
/// connection: the same code for both engines, a macro because their types
/// differ.
macro_rules! on_native {
    ($conn:expr, $statement:expr, $build:ident, |$query:ident, $c:ident| $run:expr) => {{
        let Statement {
            sql,
            args,
            persistent,
        } = $statement;
        match $conn.native() {
            Native::Sqlite($c) => {
                let $query = sqlx::$build(sql, sqlite_arguments(args)?).persistent(persistent);
                $run
            }
            Native::Postgres($c) => {
                let $query = sqlx::$build(sql, postgres_arguments(args)?).persistent(persistent);
                $run
            }
        }
    }};
}

/// A statement and its arguments, run on either engine.
pub(crate) struct Statement<'q> {
    sql: SqlStr,
    args: Vec<Value<'q>>,
    persistent: bool,
}

/// A row type both engines decode (`#[derive(FromRow)]` and tuples are).
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

pub(crate) fn query<'q>(sql: impl SqlSafeStr) -> Statement<'q> {
    Statement {
        sql: sql.into_sql_str(),
        args: Vec::new(),
        persistent: true,
    }
}

pub(crate) fn query_as<'q, T: Record>(sql: impl SqlSafeStr) -> QueryAs<'q, T> {
    QueryAs {
        statement: query(sql),
        row: std::marker::PhantomData,
    }
}

impl<'q> Statement<'q> {
    pub(crate) fn bind(mut self, value: Value<'q>) -> Self {
        self.args.push(value);
        self
    }

    /// Whether the prepared statement is kept in the connection's cache
    /// (off for texts built per request, which would only churn it).
    #[cfg(feature = "testing")]
    pub(crate) fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// Runs the statement; answers how many rows it changed.
    #[cfg(feature = "testing")]
    pub(crate) async fn execute(self, conn: &mut Conn) -> sqlx::Result<u64> {
        Ok(on_native!(conn, self, query_with, |query, c| {
            query.execute(c).await?.rows_affected()
        }))
    }
}

/// A statement whose rows decode as `T`.
pub(crate) struct QueryAs<'q, T> {
    statement: Statement<'q>,
    row: std::marker::PhantomData<fn() -> T>,
}

impl<'q, T: Record> QueryAs<'q, T> {
    pub(crate) fn bind(mut self, value: Value<'q>) -> Self {
        self.statement = self.statement.bind(value);
        self
    }

    pub(crate) async fn fetch_all(self, conn: &mut Conn) -> sqlx::Result<Vec<T>> {
        on_native!(conn, self.statement, query_as_with, |query, c| query
            .fetch_all(c)
            .await)
    }
}
