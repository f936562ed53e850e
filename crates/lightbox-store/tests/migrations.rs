//! Migrations on both engines: a database a newer Lightbox migrated (it
//! holds a migration this version does not know) is refused with a clear
//! reason, never written to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::{Engine, StoreError};
use lightbox_testkit::fresh_store;

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
