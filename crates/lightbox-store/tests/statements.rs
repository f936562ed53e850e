//! The statement layer on each engine's own driver, on both engines: a list
//! bound as one argument matches exactly its texts whatever they hold and
//! however many; a row lock makes a second writer wait (PostgreSQL); a
//! transaction whose connection was swapped cannot report a commit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::Timestamp;
use std::time::Duration;

use lightbox_store::{Engine, images, rate_limits};
use lightbox_testkit::fresh_store;

/// Texts an id list must carry unchanged: quotes, a backslash, JSON's
/// specials, non-ASCII, SQL wildcards, an empty string.
const ODD_IDS: &[&str] = &[
    "plain",
    "it's",
    r"back\slash",
    "\"quoted\" [1,2]",
    "ünï 雪 🎞",
    "100%_",
    "",
];

async fn id_lists_match_exactly_their_texts(engine: Engine) {
    let store = fresh_store(engine, 2).await;
    let mut tx = store.begin_write().await.unwrap();
    for (n, id) in ODD_IDS.iter().enumerate() {
        let id = id.replace('\'', "''");
        tx.execute_text(&format!(
            "INSERT INTO users (id, login, name, created_at, updated_at)
             SELECT '{id}', 'login{n}', 'name {n}', now, now FROM database_clock"
        ))
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();

    // Every odd id, a missing one, and a near miss of each (wildcards and
    // case do not match).
    let mut asked: Vec<String> = ODD_IDS.iter().map(|s| s.to_string()).collect();
    asked.extend(["missing", "100%", "PLAIN", "it"].map(String::from));
    let mut names = images::user_names(&mut conn, &asked).await.unwrap();
    names.sort();
    let mut expected: Vec<(String, String)> = ODD_IDS
        .iter()
        .enumerate()
        .map(|(n, id)| (id.to_string(), format!("name {n}")))
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    // A long list is still one argument: 70,000 ids, two of them real —
    // more than PostgreSQL's 65,535 bind parameters, so a statement with
    // one placeholder per id could not even be sent.
    let mut long: Vec<String> = (0..70_000).map(|n| format!("nobody-{n}")).collect();
    long[7_777] = "plain".to_owned();
    long[69_999] = "it's".to_owned();
    let mut names = images::user_names(&mut conn, &long).await.unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            ("it's".to_owned(), "name 1".to_owned()),
            ("plain".to_owned(), "name 0".to_owned())
        ]
    );

    // PostgreSQL: both lengths ran as one prepared statement on this
    // connection (a text per length would defeat the statement cache).
    if engine == Engine::Postgres {
        let prepared = conn
            .fetch_texts(
                "SELECT statement FROM pg_prepared_statements
                 WHERE statement LIKE '%FROM users WHERE%'",
            )
            .await
            .unwrap();
        assert_eq!(prepared.len(), 1, "{prepared:?}");
    }
}

#[tokio::test]
async fn id_lists_match_exactly_their_texts_sqlite() {
    id_lists_match_exactly_their_texts(Engine::Sqlite).await;
}

#[tokio::test]
async fn id_lists_match_exactly_their_texts_postgres() {
    id_lists_match_exactly_their_texts(Engine::Postgres).await;
}

/// PostgreSQL: a limit row locked by one transaction makes another that
/// locks it wait until the first commits, and then read what it wrote.
/// (SQLite's write transactions exclude each other whole.)
#[tokio::test]
async fn a_locked_row_waits_for_its_holder_postgres() {
    let store = fresh_store(Engine::Postgres, 4).await;
    // The row exists already: the wait below is the lock's, not that of an
    // insert not yet committed.
    let mut made = store.begin_write().await.unwrap();
    rate_limits::lock(&mut made, "login:ann", Timestamp(0))
        .await
        .unwrap();
    made.commit().await.unwrap();
    let mut first = store.begin_write().await.unwrap();
    let state = rate_limits::lock(&mut first, "login:ann", Timestamp(1))
        .await
        .unwrap();
    assert_eq!(state.failures, 0);

    let second = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tx = store.begin_write().await.unwrap();
            let state = rate_limits::lock(&mut tx, "login:ann", Timestamp(2))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            state.failures
        }
    });
    // Wait until the second backend is blocked on a lock (not a guess at
    // how long it takes to get there), then check it has not gone on.
    let mut watcher = store.read().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = watcher
            .fetch_texts(
                "SELECT pid::text FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await
            .unwrap();
        if !waiting.is_empty() {
            break;
        }
        assert!(
            !second.is_finished(),
            "the second lock did not wait for the first"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second writer never waited on a lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !second.is_finished(),
        "the second lock did not wait for the first"
    );
    // Written only now, while the second waits: it must read this.
    first
        .execute_text("UPDATE rate_limits SET failures = 3 WHERE limit_key = 'login:ann'")
        .await
        .unwrap();
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), 3, "the second saw the first's write");
}

/// A `Tx` whose connection was swapped for a pooled one cannot report a
/// commit that did not happen: committing it is an error that says why.
async fn a_swapped_transaction_cannot_commit(engine: Engine) {
    let store = fresh_store(engine, 4).await;
    let mut tx = store.begin_write().await.unwrap();
    tx.execute_text(
        "INSERT INTO users (id, login, name, created_at, updated_at)
         SELECT 'swapped', 'swapped', 'Swapped', now, now FROM database_clock",
    )
    .await
    .unwrap();
    *tx = store.read().await.unwrap();
    let error = tx
        .commit()
        .await
        .expect_err("a swapped Tx reported a commit");
    assert!(
        error.to_string().contains("holds no transaction"),
        "{error}"
    );
}

#[tokio::test]
async fn a_swapped_transaction_cannot_commit_sqlite() {
    a_swapped_transaction_cannot_commit(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_swapped_transaction_cannot_commit_postgres() {
    a_swapped_transaction_cannot_commit(Engine::Postgres).await;
}
