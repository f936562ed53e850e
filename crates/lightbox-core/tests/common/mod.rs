//! Storage for core tests: a fresh SQLite file, or a fresh database on the
//! PostgreSQL server of `LIGHTBOX_TEST_POSTGRES_URL` (started by `.ci/run`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use lightbox_core::Store;
use sqlx::Connection;

pub fn unique() -> String {
    lightbox_core::ids::new_public_uuid().replace('-', "")
}

/// A migrated, empty store on `engine` ("sqlite" or "postgres").
pub async fn store(engine: &str) -> Store {
    let url = match engine {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("lightbox-core-test-{}", unique()));
            std::fs::create_dir_all(&dir).unwrap();
            Store::sqlite_url_for_dir(&dir)
        }
        _ => {
            let admin = std::env::var("LIGHTBOX_TEST_POSTGRES_URL")
                .expect("LIGHTBOX_TEST_POSTGRES_URL is not set: run `bash .ci/run`");
            let name = format!("lbc_{}", unique());
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let (scheme, rest) = admin.split_once("://").unwrap();
            format!("{scheme}://{}/{name}", rest.split('/').next().unwrap())
        }
    };
    let store = Store::connect(&url, 16).await.unwrap();
    store.migrate().await.unwrap();
    store
}
