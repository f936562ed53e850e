//! Node liveness for instant revocation is told by the database's clock:
//! heartbeats are stamped by it and a revoker asks it what "now" is, so a
//! node whose own clock runs late still counts as live and is waited for
//! (both engines).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::store;
use lightbox_core::lightbox_store::nodes;

const SECOND: i64 = 1_000_000;

async fn liveness_uses_the_database_clock(engine: &str) {
    let store = store(engine).await;
    let mut tx = store.begin_write().await.unwrap();
    let epoch = nodes::epoch(&mut tx).await.unwrap();
    nodes::register(&mut tx, "late", "a node whose clock runs late", epoch)
        .await
        .unwrap();
    nodes::register(&mut tx, "acked", "a node that acked", epoch + 1)
        .await
        .unwrap();
    // "gone" fell silent an hour ago (by the database's clock).
    nodes::register(&mut tx, "gone", "a silent node", epoch)
        .await
        .unwrap();
    sqlx::query("UPDATE nodes SET heartbeat_at = heartbeat_at - $1 WHERE id = 'gone'")
        .bind(3_600 * SECOND)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    let now = nodes::now(&mut conn).await.unwrap();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    assert!((now - wall).abs() < 5 * SECOND, "db now {now}, wall {wall}");
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, heartbeat_at FROM nodes WHERE id <> 'gone' ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    for (id, at) in &rows {
        assert!(
            (now - at).abs() < 5 * SECOND,
            "{id}: heartbeat {at}, db now {now}"
        );
    }
    // Waited for: live and behind. Not: acked, or silent.
    let behind = nodes::behind(&mut conn, epoch + 1, now - 5 * SECOND)
        .await
        .unwrap();
    let ids: Vec<&str> = behind.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["late"]);
    drop(conn);

    // A heartbeat renews by the database's clock and acks; the silent node
    // is forgotten after its time.
    let mut tx = store.begin_write().await.unwrap();
    assert!(nodes::heartbeat(&mut tx, "late", epoch + 1).await.unwrap());
    assert!(!nodes::heartbeat(&mut tx, "never", epoch + 1).await.unwrap());
    assert_eq!(nodes::purge_silent(&mut tx, 600 * SECOND).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    let now = nodes::now(&mut conn).await.unwrap();
    assert!(
        nodes::behind(&mut conn, epoch + 1, now - 5 * SECOND)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn liveness_uses_the_database_clock_sqlite() {
    liveness_uses_the_database_clock("sqlite").await;
}

#[tokio::test]
async fn liveness_uses_the_database_clock_postgres() {
    liveness_uses_the_database_clock("postgres").await;
}
