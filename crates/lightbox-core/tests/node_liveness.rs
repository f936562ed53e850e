//! Node liveness for instant revocation is told by the database's clock:
//! heartbeats are stamped by it and a revoker asks it what "now" is, so a
//! node whose own clock runs late still counts as live and is waited for
//! (both engines).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::Micros;
use lightbox_store::Timestamp;
use lightbox_store::nodes;
use lightbox_testkit::{Engine, fresh_store};

const SECOND: i64 = 1_000_000;

async fn liveness_uses_the_database_clock(engine: Engine) {
    let store = fresh_store(engine, 16).await;
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
    let an_hour = 3_600 * SECOND;
    // An instant minus a span: an interval on PostgreSQL, microseconds on
    // SQLite.
    let an_hour_earlier = match engine {
        Engine::Sqlite => format!("heartbeat_at - {an_hour}"),
        Engine::Postgres => format!("heartbeat_at - {an_hour} * INTERVAL '1 microsecond'"),
    };
    tx.execute_text(&format!(
        "UPDATE nodes SET heartbeat_at = {an_hour_earlier} WHERE id = 'gone'"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    let now = nodes::now(&mut conn).await.unwrap().micros();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    assert!((now - wall).abs() < 5 * SECOND, "db now {now}, wall {wall}");
    // Beating within the last minute: every node but "gone", each stamped
    // by the database's clock.
    let live = nodes::live(&mut conn, Timestamp(now - 60 * SECOND))
        .await
        .unwrap();
    let mut live_ids: Vec<&str> = live.iter().map(|n| n.id.as_str()).collect();
    live_ids.sort_unstable();
    assert_eq!(live_ids, ["acked", "late"]);
    for node in &live {
        assert!(
            (now - node.heartbeat_at.micros()).abs() < 5 * SECOND,
            "{}: heartbeat {:?}, db now {now}",
            node.id,
            node.heartbeat_at
        );
    }
    // Waited for: live and behind. Not: acked, or silent.
    let behind = nodes::behind(&mut conn, epoch + 1, Timestamp(now - 5 * SECOND))
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
    assert_eq!(
        nodes::purge_silent(&mut tx, Micros(600 * SECOND))
            .await
            .unwrap(),
        1
    );
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
    liveness_uses_the_database_clock(Engine::Sqlite).await;
}

#[tokio::test]
async fn liveness_uses_the_database_clock_postgres() {
    liveness_uses_the_database_clock(Engine::Postgres).await;
}
