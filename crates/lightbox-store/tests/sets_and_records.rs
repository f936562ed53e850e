//! Sets, archives, operations and idempotency records on both engines,
//! against real databases: bulk member writes over more than one chunk, id
//! lists, liveness, the tree's top level (a parent of NULL), snapshots, and
//! the optional arguments of archive lists and operation updates.
//! PostgreSQL runs on the server of `LIGHTBOX_TEST_POSTGRES_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use std::collections::HashSet;

use lightbox_store::archives::{self, ArchiveRow};
use lightbox_store::images::{self, ImageRow};
use lightbox_store::operations::{self, OperationRow};
use lightbox_store::sets::{self, MemberRow, SetRow, SnapshotRow};
use lightbox_store::{Conn, Engine, accounts, idempotency};
use lightbox_testkit::fresh_store;

const NOW: i64 = 1_704_067_200 * 1_000_000;
/// More members than one bulk statement takes.
const MEMBERS: usize = sets::CHUNK + 500;

fn image_id(n: usize) -> String {
    format!("img-{n:05}")
}

async fn account(conn: &mut Conn, id: &str) {
    accounts::insert(
        conn,
        &accounts::AccountRow {
            id: id.to_owned(),
            unique_id: format!("u-{id}"),
            name: id.to_owned(),
            api_enabled: true,
            created_at: Timestamp(NOW),
            updated_at: Timestamp(NOW),
        },
    )
    .await
    .unwrap();
}

async fn image(conn: &mut Conn, account_id: &str, id: &str, uploaded_by: Option<&str>) {
    let row = ImageRow {
        id: id.to_owned(),
        account_id: account_id.to_owned(),
        filename: format!("{id}.jpg"),
        title: String::new(),
        description: String::new(),
        creation_date: None,
        created_at: Timestamp(NOW),
        updated_at: Timestamp(NOW),
        rotation: 0,
        rating: 0,
        alt_text: String::new(),
        is_video: false,
        media_kind: "image".into(),
        content_type: "image/jpeg".into(),
        width: Some(10),
        height: Some(10),
        bytes: 100,
        sha256: format!("{id:0>64}"),
        original_key: format!("originals/{id}"),
        lat: None,
        lng: None,
        exif: "{}".into(),
        metadata: "{}".into(),
        uploaded_by: uploaded_by.map(str::to_owned),
        uploaded_by_token: None,
        versions_state: "ready".into(),
        versions_error: None,
    };
    images::insert(conn, &row).await.unwrap();
}

fn set_row(id: &str, parent_id: Option<&str>, position: i64) -> SetRow {
    SetRow {
        id: id.to_owned(),
        account_id: "acc-a".to_owned(),
        parent_id: parent_id.map(str::to_owned),
        name: id.to_owned(),
        description: String::new(),
        colour: String::new(),
        set_type: "folder".to_owned(),
        position,
        lead_image_id: None,
        created_at: Timestamp(NOW),
        updated_at: Timestamp(NOW),
        child_count: 0,
        image_count: 0,
        live_image_count: 0,
    }
}

/// Member `n`'s visibility: live, hidden until a time to come, hidden, or
/// shown, in turn.
fn visibility(n: usize) -> (bool, Option<i64>) {
    match n % 4 {
        0 => (true, Some(NOW - 1)),
        1 => (false, Some(NOW + 1_000)),
        2 => (true, None),
        _ => (false, None),
    }
}

fn live(m: &MemberRow) -> bool {
    match m.activation_time {
        Some(at) => at <= Timestamp(NOW),
        None => !m.hidden,
    }
}

async fn sets_members_and_snapshots(engine: Engine) {
    let store = fresh_store(engine, 2).await;
    let mut tx = store.begin_write().await.unwrap();
    let conn: &mut Conn = &mut tx;
    account(conn, "acc-a").await;
    account(conn, "acc-b").await;
    conn.execute_text(
        "INSERT INTO users (id, login, name, created_at, updated_at)
         SELECT 'user-1', 'one', 'One', now, now FROM database_clock",
    )
    .await
    .unwrap();
    for n in 0..MEMBERS {
        let uploader = (n < 2).then_some("user-1");
        image(conn, "acc-a", &image_id(n), uploader).await;
    }
    image(conn, "acc-b", "other-0", Some("user-1")).await;

    // The tree: a top-level set and a child of it.
    assert_eq!(sets::next_position(conn, "acc-a", None).await.unwrap(), 0);
    sets::insert(conn, &set_row("set-top", None, 0))
        .await
        .unwrap();
    sets::insert(conn, &set_row("set-child", Some("set-top"), 0))
        .await
        .unwrap();
    assert_eq!(sets::next_position(conn, "acc-a", None).await.unwrap(), 1);
    assert_eq!(
        sets::next_position(conn, "acc-a", Some("set-top"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        sets::next_position(conn, "acc-a", Some("nothing"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sets::parent_of(conn, "acc-a", "set-child").await.unwrap(),
        Some("set-top".to_owned())
    );
    assert_eq!(
        sets::parent_of(conn, "acc-a", "set-top").await.unwrap(),
        None
    );
    assert_eq!(
        sets::parent_of(conn, "acc-b", "set-child").await.unwrap(),
        None
    );
    assert!(sets::exists(conn, "acc-a", "set-top").await.unwrap());
    assert!(!sets::exists(conn, "acc-b", "set-top").await.unwrap());
    assert_eq!(
        sets::sibling_ids(conn, "acc-a", None).await.unwrap(),
        ["set-top"]
    );
    assert_eq!(
        sets::sibling_ids(conn, "acc-a", Some("set-top"))
            .await
            .unwrap(),
        ["set-child"]
    );
    let top = sets::list_children(conn, "acc-a", None, Timestamp(NOW), 10, 0)
        .await
        .unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!((top[0].id.as_str(), top[0].child_count), ("set-top", 1));
    assert_eq!(
        sets::list_all(conn, "acc-a", Timestamp(NOW))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        sets::lock(conn, "acc-a", "set-top", Timestamp(NOW + 1))
            .await
            .unwrap()
    );
    assert!(
        !sets::lock(conn, "acc-b", "set-top", Timestamp(NOW + 1))
            .await
            .unwrap()
    );

    // Members over more than one chunk; one repeated with another position,
    // in the same call and in a later one: the first insert stands.
    let mut wanted: Vec<(i64, MemberRow)> = (0..MEMBERS)
        .map(|n| {
            let (hidden, activation_time) = visibility(n);
            let member = MemberRow {
                image_id: image_id(n),
                position: 0,
                hidden,
                activation_time: activation_time.map(Timestamp),
            };
            (n as i64, member)
        })
        .collect();
    let mut again = wanted[3].clone();
    again.0 = 9_999;
    wanted.push(again.clone());
    sets::insert_members(conn, "set-top", &wanted, Timestamp(NOW))
        .await
        .unwrap();
    sets::insert_members(conn, "set-top", &[again], Timestamp(NOW))
        .await
        .unwrap();
    let members = sets::members(conn, "set-top").await.unwrap();
    let expected: Vec<MemberRow> = wanted[..MEMBERS]
        .iter()
        .map(|(position, m)| MemberRow {
            position: *position,
            ..m.clone()
        })
        .collect();
    assert_eq!(members, expected);
    assert!(
        sets::members_include(conn, "set-top", &image_id(7))
            .await
            .unwrap()
    );
    assert!(
        !sets::members_include(conn, "set-child", &image_id(7))
            .await
            .unwrap()
    );

    // Counts and pages: all members, and the live ones at NOW.
    let live_ids: Vec<String> = members
        .iter()
        .filter(|m| live(m))
        .map(|m| m.image_id.clone())
        .collect();
    let set = sets::find(conn, "acc-a", "set-top", Timestamp(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.image_count, MEMBERS as i64);
    assert_eq!(set.live_image_count, live_ids.len() as i64);
    assert!(
        sets::find(conn, "acc-b", "set-top", Timestamp(NOW))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sets::member_ids(conn, "set-top", None, 3, 2).await.unwrap(),
        [image_id(2), image_id(3), image_id(4)]
    );
    assert_eq!(
        sets::member_ids(conn, "set-top", Some(Timestamp(NOW)), 3, 1)
            .await
            .unwrap(),
        live_ids[1..4]
    );

    // Reversed over more than one chunk.
    let reversed: Vec<(String, i64)> = (0..MEMBERS)
        .map(|n| (image_id(n), (MEMBERS - 1 - n) as i64))
        .collect();
    sets::set_member_positions(conn, "set-top", &reversed)
        .await
        .unwrap();
    let order = sets::member_ids(conn, "set-top", None, 2, 0).await.unwrap();
    assert_eq!(order, [image_id(MEMBERS - 1), image_id(MEMBERS - 2)]);

    // Visibility of some members (a missing id changes nothing), then of all.
    let some = [image_id(0), image_id(1), "missing".to_owned()];
    let changed = sets::set_visibility(conn, "set-top", Some(&some), true, None)
        .await
        .unwrap();
    assert_eq!(changed, 2);
    let changed = sets::set_visibility(conn, "set-top", None, false, Some(Timestamp(NOW + 5)))
        .await
        .unwrap();
    assert_eq!(changed, MEMBERS as u64);
    let set = sets::find(conn, "acc-a", "set-top", Timestamp(NOW + 5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.live_image_count, MEMBERS as i64);

    // The lead goes with its member.
    let mut top = set_row("set-top", None, 0);
    top.lead_image_id = Some(image_id(0));
    sets::update_fields(conn, &top).await.unwrap();
    let gone = [image_id(0), "missing".to_owned()];
    assert_eq!(
        sets::delete_members(conn, "set-top", &gone).await.unwrap(),
        1
    );
    sets::clear_stray_lead(conn, "set-top").await.unwrap();
    let set = sets::find(conn, "acc-a", "set-top", Timestamp(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.lead_image_id, None);
    assert_eq!(set.image_count, MEMBERS as i64 - 1);

    // Images by id list: the account's, and who uploaded them.
    let asked = [
        image_id(1),
        image_id(2),
        "other-0".to_owned(),
        "missing".to_owned(),
    ];
    let existing = sets::existing_images(conn, "acc-a", &asked).await.unwrap();
    let existing: HashSet<String> = existing.into_iter().collect();
    assert_eq!(existing, HashSet::from([image_id(1), image_id(2)]));
    let foreign = sets::not_uploaded_by(conn, "acc-a", "user-1", &asked)
        .await
        .unwrap();
    let foreign: HashSet<String> = foreign.into_iter().collect();
    assert_eq!(foreign, HashSet::from([image_id(2), "other-0".to_owned()]));

    // Sibling positions.
    sets::insert(conn, &set_row("set-second", None, 1))
        .await
        .unwrap();
    let ordered = ["set-second".to_owned(), "set-top".to_owned()];
    sets::set_sibling_positions(conn, &ordered, Timestamp(NOW + 2))
        .await
        .unwrap();
    assert_eq!(
        sets::sibling_ids(conn, "acc-a", None).await.unwrap(),
        ordered
    );

    // Snapshots: the newest two kept, listed without their state.
    for n in 0..3 {
        let row = SnapshotRow {
            id: format!("snap-{n}"),
            set_id: "set-top".to_owned(),
            account_id: "acc-a".to_owned(),
            reason: "test".to_owned(),
            operation_id: (n == 1).then(|| "op".to_owned()),
            image_count: n,
            state: JsonText(format!("[{n}]")),
            created_at: Timestamp(NOW + n),
        };
        sets::insert_snapshot(conn, &row).await.unwrap();
    }
    sets::prune_snapshots(conn, "set-top", 2).await.unwrap();
    let listed = sets::list_snapshots(conn, "set-top", 10, 0).await.unwrap();
    let listed: Vec<(&str, &str)> = listed
        .iter()
        .map(|s| (s.id.as_str(), s.state.as_str()))
        .collect();
    assert_eq!(listed, [("snap-2", ""), ("snap-1", "")]);
    let found = sets::find_snapshot(conn, "set-top", "snap-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.state.as_str(), found.operation_id.as_deref()),
        ("[1]", Some("op"))
    );
    assert!(
        sets::find_snapshot(conn, "set-top", "snap-0")
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
}

async fn archives_operations_idempotency(engine: Engine) {
    let store = fresh_store(engine, 2).await;
    let mut conn = store.read().await.unwrap();
    let conn = &mut conn;
    account(conn, "acc-a").await;

    // Operations: a result of None keeps the stored one; only a final
    // status stamps finished_at.
    let op = OperationRow {
        id: "op-1".to_owned(),
        account_id: "acc-a".to_owned(),
        kind: "test".to_owned(),
        status: "queued".to_owned(),
        image_public_uuids: JsonText("[]".to_owned()),
        set_public_uuid: None,
        // Written as PostgreSQL gives a jsonb back, so both engines read the
        // same text.
        result: JsonText("{\"done\": 0}".to_owned()),
        error: None,
        created_at: Timestamp(NOW),
        updated_at: Timestamp(NOW),
        finished_at: None,
    };
    operations::insert(conn, &op).await.unwrap();
    operations::set_status(
        conn,
        "op-1",
        "running",
        None,
        None,
        Timestamp(NOW + 1),
        false,
    )
    .await
    .unwrap();
    let row = operations::find(conn, "acc-a", "op-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            row.result.as_str(),
            row.updated_at,
            row.finished_at
        ),
        ("running", "{\"done\": 0}", Timestamp(NOW + 1), None)
    );
    operations::set_status(
        conn,
        "op-1",
        "failed",
        Some("{}"),
        Some("{\"e\": 1}"),
        Timestamp(NOW + 2),
        true,
    )
    .await
    .unwrap();
    let row = operations::find_any_account(conn, "op-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.result.as_str(),
            row.error.as_ref().map(JsonText::as_str),
            row.finished_at
        ),
        ("{}", Some("{\"e\": 1}"), Some(Timestamp(NOW + 2)))
    );
    assert!(
        operations::find(conn, "acc-b", "op-1")
            .await
            .unwrap()
            .is_none()
    );

    // Archives: whose originals each holds decides who lists it.
    for (n, originals_by) in ["", "user-1", "*", "building"].iter().enumerate() {
        let row = ArchiveRow {
            id: format!("arch-{n}"),
            account_id: "acc-a".to_owned(),
            operation_id: "op-1".to_owned(),
            filename: "a.zip".to_owned(),
            status: "building".to_owned(),
            blob_key: format!("archives/{n}.zip"),
            bytes: None,
            image_count: 1,
            created_by: None,
            created_at: Timestamp(NOW + n as i64),
            expires_at: Timestamp(NOW + 100),
            originals_by: String::new(),
        };
        archives::insert(conn, &row).await.unwrap();
        if *originals_by != "building" {
            archives::finish(conn, &row.id, "ready", Some(7), 1, originals_by)
                .await
                .unwrap();
        }
    }
    let building = archives::find(conn, "acc-a", "arch-3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            building.status.as_str(),
            building.originals_by.as_str(),
            building.bytes
        ),
        ("building", "*", None)
    );
    let ids = |rows: Vec<ArchiveRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = archives::list_ready(conn, "acc-a", Timestamp(NOW), None, 10, 0)
        .await
        .unwrap();
    assert_eq!(ids(all), ["arch-2", "arch-1", "arch-0"]);
    let mine = archives::list_ready(conn, "acc-a", Timestamp(NOW), Some("user-1"), 10, 0)
        .await
        .unwrap();
    assert_eq!(ids(mine), ["arch-1", "arch-0"]);
    let theirs = archives::list_ready(conn, "acc-a", Timestamp(NOW), Some("user-2"), 10, 0)
        .await
        .unwrap();
    assert_eq!(ids(theirs), ["arch-0"]);
    assert!(
        archives::list_ready(conn, "acc-a", Timestamp(NOW + 100), None, 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        archives::expired(conn, Timestamp(NOW + 100), 10)
            .await
            .unwrap()
            .len(),
        4
    );
    archives::delete(conn, "arch-0").await.unwrap();
    assert!(
        archives::find(conn, "acc-a", "arch-0")
            .await
            .unwrap()
            .is_none()
    );

    // Idempotency: a live key collides; an expired one is replaced.
    idempotency::claim(
        conn,
        "acc-a",
        "key",
        "h1",
        "op-1",
        Timestamp(NOW),
        Timestamp(NOW - 10),
    )
    .await
    .unwrap();
    assert!(
        idempotency::claim(
            conn,
            "acc-a",
            "key",
            "h2",
            "op-2",
            Timestamp(NOW + 1),
            Timestamp(NOW - 10)
        )
        .await
        .is_err()
    );
    let record = idempotency::find(conn, "acc-a", "key", Timestamp(NOW - 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.request_hash.as_str(),
            record.operation_id.as_str(),
            record.created_at
        ),
        ("h1", "op-1", Timestamp(NOW))
    );
    assert!(
        idempotency::find(conn, "acc-a", "key", Timestamp(NOW + 1))
            .await
            .unwrap()
            .is_none()
    );
    idempotency::claim(
        conn,
        "acc-a",
        "key",
        "h3",
        "op-3",
        Timestamp(NOW + 20),
        Timestamp(NOW + 10),
    )
    .await
    .unwrap();
    let record = idempotency::find(conn, "acc-a", "key", Timestamp(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.request_hash, "h3");
    assert_eq!(
        idempotency::purge(conn, Timestamp(NOW + 21)).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn sets_members_and_snapshots_sqlite() {
    sets_members_and_snapshots(Engine::Sqlite).await;
}

#[tokio::test]
async fn sets_members_and_snapshots_postgres() {
    sets_members_and_snapshots(Engine::Postgres).await;
}

#[tokio::test]
async fn archives_operations_idempotency_sqlite() {
    archives_operations_idempotency(Engine::Sqlite).await;
}

#[tokio::test]
async fn archives_operations_idempotency_postgres() {
    archives_operations_idempotency(Engine::Postgres).await;
}
