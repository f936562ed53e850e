//! Migrations on both engines: a database a newer Lightbox migrated (it
//! holds a migration this version does not know) is refused with a clear
//! reason, never written to; PostgreSQL's conversion of BIGINT instants to
//! timestamptz (0013) keeps every microsecond.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::{Engine, StoreError, Timestamp};
use lightbox_testkit::{fresh_postgres_database, fresh_store};
use sqlx::Connection;

async fn a_database_from_a_newer_version_is_refused(engine: Engine) {
    let store = fresh_store(engine, 1).await;
    let checksum = match engine {
        Engine::Sqlite => "X'00'",
        Engine::Postgres => "decode('00', 'hex')",
    };
    let mut conn = store.read().await.unwrap();
    conn.execute_text(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from a newer version', TRUE, {checksum}, 0)"
    ))
    .await
    .unwrap();
    drop(conn);
    match store.migrate().await {
        Err(e @ StoreError::NewerSchema { version: 9999 }) => {
            let message = e.to_string();
            assert!(
                message.contains("newer version of Lightbox") && message.contains("9999"),
                "{message}"
            );
        }
        other => panic!("a newer schema was not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_sqlite() {
    a_database_from_a_newer_version_is_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_postgres() {
    a_database_from_a_newer_version_is_refused(Engine::Postgres).await;
}

/// Migration 0013 on a database at 0012 holding the instants an earlier
/// version could store: zero, negative, NULL, "never" (`i64::MAX`), and one
/// before the earliest PostgreSQL holds (the API took `-9999-01-01`), with
/// the session in another time zone. Each reads back as the same
/// microsecond through the store's own `Timestamp`, except the one too early,
/// which becomes the earliest instant PostgreSQL stores.
#[tokio::test]
async fn instants_become_timestamptz_to_the_microsecond_postgres() {
    let url = fresh_postgres_database().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (before, from_0013): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|p| p.file_name().and_then(|n| n.to_str()).unwrap_or("") < "0013");
    for file in before {
        let sql = std::fs::read_to_string(&file).unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::raw_sql(
        "SET TIME ZONE 'America/New_York';
         INSERT INTO blob_garbage (blob_key, created_at, pinned_until) VALUES
            ('zero', 0, NULL),
            ('before 1970', -5, 9223372036854775807),
            ('too early', -9223372036854775807, 1733318400123456)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let migration = std::fs::read_to_string(&from_0013[0]).unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(migration))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let rows: Vec<(String, Timestamp, Option<Timestamp>)> = sqlx::query_as(
        "SELECT blob_key, created_at, pinned_until FROM blob_garbage ORDER BY blob_key",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let earliest = -210_866_803_200_000_000;
    assert_eq!(
        rows,
        vec![
            (
                "before 1970".to_owned(),
                Timestamp(-5),
                Some(Timestamp(i64::MAX))
            ),
            (
                "too early".to_owned(),
                Timestamp(earliest),
                Some(Timestamp(1_733_318_400_123_456))
            ),
            ("zero".to_owned(), Timestamp(0), None),
        ]
    );
    // PostgreSQL agrees on the instants themselves.
    let shown: Vec<String> = sqlx::query_scalar(
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US BC')
         FROM blob_garbage ORDER BY blob_key",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        shown,
        [
            "1969-12-31 23:59:59.999995 AD",
            "4714-11-24 00:00:00.000000 BC",
            "1970-01-01 00:00:00.000000 AD"
        ]
    );
}
