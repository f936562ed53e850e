//! Statements on each engine's own driver: one SQL text, bound and run on
//! whichever connection the store opened (SQLite or PostgreSQL).
//!
//! Why not sqlx's `Any` driver: it converts every argument and every row
//! value through its own value type, is lenient where the engines are not
//! (an `INT4` read as `i64`), and hides the native connection, so an
//! engine's better form (`= ANY($1)`, `LISTEN/NOTIFY`) had no way in. Here a
//! statement keeps its arguments as a few plain kinds and binds them on the
//! native driver; rows are decoded natively by `FromRow`.

use std::borrow::Cow;

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

    /// Runs statements that take no arguments, given as text (tests that
    /// set up what no API can, such as a node silent for an hour).
    #[doc(hidden)]
    pub async fn execute_text(&mut self, sql: &str) -> crate::Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(query(sql)
            .persistent(false)
            .execute(self)
            .await?
            .rows_affected())
    }

    /// The first column of each row of a query given as text, read as text
    /// (tests that check what a dump would show).
    #[doc(hidden)]
    pub async fn fetch_texts(&mut self, sql: &str) -> crate::Result<Vec<String>> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let rows: Vec<(String,)> = query_as::<(String,)>(sql).fetch_all(self).await?;
        Ok(rows.into_iter().map(|(text,)| text).collect())
    }

    /// Commits the transaction this connection holds (a pooled connection
    /// has none: nothing to do).
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self.0 {
            Held::SqliteTx(t) => t.commit().await,
            Held::PostgresTx(t) => t.commit().await,
            Held::Sqlite(_) | Held::Postgres(_) => Ok(()),
        }
    }

    pub(crate) async fn rollback(self) -> sqlx::Result<()> {
        match self.0 {
            Held::SqliteTx(t) => t.rollback().await,
            Held::PostgresTx(t) => t.rollback().await,
            Held::Sqlite(_) | Held::Postgres(_) => Ok(()),
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({})", self.engine().name())
    }
}

/// One argument, in the few kinds the schema uses. Nulls keep their kind:
/// PostgreSQL types a parameter by what is bound.
#[derive(Debug, Clone)]
pub(crate) enum Value<'q> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<Cow<'q, str>>),
    Bool(Option<bool>),
    Blob(Option<Cow<'q, [u8]>>),
}

/// What a statement can bind.
pub(crate) trait Bind<'q> {
    fn value(self) -> Value<'q>;
}

macro_rules! bind_as {
    ($kind:ident, $($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl<'q> Bind<'q> for $t {
            fn value(self) -> Value<'q> {
                let $v = self;
                Value::$kind($e)
            }
        }
    )*};
}

bind_as!(Int,
    i64 => |v| Some(v),
    Option<i64> => |v| v,
    &i64 => |v| Some(*v),
    &Option<i64> => |v| *v,
    i32 => |v| Some(i64::from(v)),
    u32 => |v| Some(i64::from(v)),
);
bind_as!(Real,
    f64 => |v| Some(v),
    Option<f64> => |v| v,
    &f64 => |v| Some(*v),
    &Option<f64> => |v| *v,
);
bind_as!(Bool,
    bool => |v| Some(v),
    Option<bool> => |v| v,
);
bind_as!(Text,
    &'q str => |v| Some(Cow::Borrowed(v)),
    &'q String => |v| Some(Cow::Borrowed(v.as_str())),
    String => |v| Some(Cow::Owned(v)),
    Option<&'q str> => |v| v.map(Cow::Borrowed),
    Option<String> => |v| v.map(Cow::Owned),
    &'q Option<String> => |v| v.as_deref().map(Cow::Borrowed),
    Cow<'q, str> => |v| Some(v),
);
bind_as!(Blob,
    &'q [u8] => |v| Some(Cow::Borrowed(v)),
    &'q Vec<u8> => |v| Some(Cow::Borrowed(v.as_slice())),
    Vec<u8> => |v| Some(Cow::Owned(v)),
    Option<Vec<u8>> => |v| v.map(Cow::Owned),
);

impl<'q> Bind<'q> for Value<'q> {
    fn value(self) -> Value<'q> {
        self
    }
}

/// Adds the values to an engine's argument list (the same code for both:
/// a macro, because each engine's `Encode` bounds are its own).
macro_rules! arguments {
    ($args:ty, $values:expr) => {{
        let mut args = <$args>::default();
        for value in $values {
            match value {
                Value::Int(v) => args.add(v),
                Value::Real(v) => args.add(v),
                Value::Text(v) => args.add(v.as_deref()),
                Value::Bool(v) => args.add(v),
                Value::Blob(v) => args.add(v.as_deref()),
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

/// A statement and its arguments, run on either engine.
pub(crate) struct Statement<'q> {
    sql: SqlStr,
    args: Vec<Value<'q>>,
    persistent: bool,
}

/// What running a statement changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
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
    pub(crate) fn bind(mut self, value: impl Bind<'q>) -> Self {
        self.args.push(value.value());
        self
    }

    /// Whether the prepared statement is kept in the connection's cache
    /// (off for texts built per request, which would only churn it).
    pub(crate) fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    pub(crate) async fn execute(self, conn: &mut Conn) -> sqlx::Result<Done> {
        let rows_affected = match conn.native() {
            Native::Sqlite(c) => sqlx::query_with(self.sql, sqlite_arguments(self.args)?)
                .persistent(self.persistent)
                .execute(c)
                .await?
                .rows_affected(),
            Native::Postgres(c) => sqlx::query_with(self.sql, postgres_arguments(self.args)?)
                .persistent(self.persistent)
                .execute(c)
                .await?
                .rows_affected(),
        };
        Ok(Done { rows_affected })
    }
}

/// A statement whose rows decode as `T`.
pub(crate) struct QueryAs<'q, T> {
    statement: Statement<'q>,
    row: std::marker::PhantomData<fn() -> T>,
}

impl<'q, T: Record> QueryAs<'q, T> {
    pub(crate) fn bind(mut self, value: impl Bind<'q>) -> Self {
        self.statement = self.statement.bind(value);
        self
    }

    pub(crate) async fn fetch_all(self, conn: &mut Conn) -> sqlx::Result<Vec<T>> {
        let Statement {
            sql,
            args,
            persistent,
        } = self.statement;
        match conn.native() {
            Native::Sqlite(c) => {
                sqlx::query_as_with(sql, sqlite_arguments(args)?)
                    .persistent(persistent)
                    .fetch_all(c)
                    .await
            }
            Native::Postgres(c) => {
                sqlx::query_as_with(sql, postgres_arguments(args)?)
                    .persistent(persistent)
                    .fetch_all(c)
                    .await
            }
        }
    }

    pub(crate) async fn fetch_optional(self, conn: &mut Conn) -> sqlx::Result<Option<T>> {
        let Statement {
            sql,
            args,
            persistent,
        } = self.statement;
        match conn.native() {
            Native::Sqlite(c) => {
                sqlx::query_as_with(sql, sqlite_arguments(args)?)
                    .persistent(persistent)
                    .fetch_optional(c)
                    .await
            }
            Native::Postgres(c) => {
                sqlx::query_as_with(sql, postgres_arguments(args)?)
                    .persistent(persistent)
                    .fetch_optional(c)
                    .await
            }
        }
    }

    pub(crate) async fn fetch_one(self, conn: &mut Conn) -> sqlx::Result<T> {
        self.fetch_optional(conn)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}
