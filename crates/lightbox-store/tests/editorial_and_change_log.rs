//! Editorial data (keyword counts and the vocabulary, crops, credit lines,
//! metadata profiles) and the change log on both engines, against real
//! databases: every filter and order of the vocabulary, the counts kept in
//! step by adds, removals, renames and deletes, id lists, upserts and
//! defaults. PostgreSQL runs on the server of `LIGHTBOX_TEST_POSTGRES_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use lightbox_store::change_log::{self, Change};
use lightbox_store::editorial::{self, CreditRow, CropRow, ProfileRow, VocabularyQuery};
use lightbox_store::images::{self, ImageRow};
use lightbox_store::{Conn, Engine, accounts};
use lightbox_testkit::fresh_store;

const NOW: i64 = 1_704_067_200 * 1_000_000;

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

async fn image(conn: &mut Conn, account_id: &str, id: &str) {
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
        uploaded_by: None,
        uploaded_by_token: None,
        versions_state: "ready".into(),
        versions_error: None,
    };
    images::insert(conn, &row).await.unwrap();
}

/// Whole keywords split at the first colon, as the core splits them.
fn keywords(list: &[&str]) -> Vec<(String, Option<String>, String)> {
    list.iter()
        .map(|k| match k.split_once(':') {
            Some((ns, v)) => ((*k).to_owned(), Some(ns.to_owned()), v.to_owned()),
            None => ((*k).to_owned(), None, (*k).to_owned()),
        })
        .collect()
}

async fn tag(conn: &mut Conn, account_id: &str, image_id: &str, list: &[&str]) -> usize {
    let image = images::find(conn, account_id, image_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no image {image_id}"));
    images::add_keywords(conn, &image, &keywords(list))
        .await
        .unwrap()
}

async fn vocabulary(
    conn: &mut Conn,
    namespace: Option<&str>,
    prefix: Option<&str>,
    by_count: bool,
    limit: i64,
    offset: i64,
) -> Vec<(String, i64)> {
    let q = VocabularyQuery {
        namespace: namespace.map(str::to_owned),
        folded_prefix: prefix.map(str::to_owned),
        by_count,
    };
    editorial::vocabulary(conn, "acc-a", &q, limit, offset)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.keyword, r.count))
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

async fn keywords_and_vocabulary(engine: Engine) {
    let store = fresh_store(engine, 2).await;
    let mut tx = store.begin_write().await.unwrap();
    let conn: &mut Conn = &mut tx;
    account(conn, "acc-a").await;
    account(conn, "acc-b").await;
    for id in ["img-1", "img-2", "img-3"] {
        image(conn, "acc-a", id).await;
    }
    image(conn, "acc-b", "other-1").await;

    assert_eq!(
        tag(
            conn,
            "acc-a",
            "img-1",
            &["sky", "Artist:Marina", "artist:Bob", "place:Oslo"]
        )
        .await,
        4
    );
    assert_eq!(
        tag(conn, "acc-a", "img-2", &["sky", "artist:Bob", "zebra"]).await,
        3
    );
    // Another account's keywords are never counted or listed here.
    tag(conn, "acc-b", "other-1", &["sky", "artist:Bob"]).await;

    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "sky")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-b", "sky")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "none")
            .await
            .unwrap(),
        0
    );

    // Every filter and both orders.
    let all_by_keyword = [
        ("artist:Bob", 2),
        ("Artist:Marina", 1),
        ("place:Oslo", 1),
        ("sky", 2),
        ("zebra", 1),
    ];
    let all_by_count = [
        ("artist:Bob", 2),
        ("sky", 2),
        ("Artist:Marina", 1),
        ("place:Oslo", 1),
        ("zebra", 1),
    ];
    assert_eq!(
        vocabulary(conn, None, None, false, 100, 0).await,
        pairs(&all_by_keyword)
    );
    assert_eq!(
        vocabulary(conn, None, None, true, 100, 0).await,
        pairs(&all_by_count)
    );
    assert_eq!(
        vocabulary(conn, None, None, false, 2, 1).await,
        pairs(&all_by_keyword[1..3])
    );
    assert_eq!(
        vocabulary(conn, None, None, true, 2, 3).await,
        pairs(&all_by_count[3..5])
    );
    // A namespace is matched as written.
    assert_eq!(
        vocabulary(conn, Some("artist"), None, false, 100, 0).await,
        pairs(&[("artist:Bob", 2)])
    );
    assert_eq!(
        vocabulary(conn, Some("Artist"), None, true, 100, 0).await,
        pairs(&[("Artist:Marina", 1)])
    );
    // A prefix folds case, of the whole keyword.
    assert_eq!(
        vocabulary(conn, None, Some("ar"), false, 100, 0).await,
        pairs(&[("artist:Bob", 2), ("Artist:Marina", 1)])
    );
    assert_eq!(
        vocabulary(conn, None, Some("s"), true, 100, 0).await,
        pairs(&[("sky", 2)])
    );
    assert_eq!(
        vocabulary(conn, None, Some("q"), true, 100, 0).await,
        pairs(&[])
    );
    // With a namespace, the prefix is the value's.
    assert_eq!(
        vocabulary(conn, Some("artist"), Some("b"), false, 100, 0).await,
        pairs(&[("artist:Bob", 2)])
    );
    assert_eq!(
        vocabulary(conn, Some("Artist"), Some("m"), true, 100, 0).await,
        pairs(&[("Artist:Marina", 1)])
    );
    assert_eq!(
        vocabulary(conn, Some("artist"), Some("m"), true, 100, 0).await,
        pairs(&[])
    );

    let namespaces: Vec<(String, i64, i64)> = editorial::namespaces(conn, "acc-a", 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.namespace, r.keywords, r.uses))
        .collect();
    assert_eq!(
        namespaces,
        vec![
            ("Artist".to_owned(), 1, 1),
            ("artist".to_owned(), 1, 2),
            ("place".to_owned(), 1, 1),
        ]
    );
    let page: Vec<String> = editorial::namespaces(conn, "acc-a", 1, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.namespace)
        .collect();
    assert_eq!(page, vec!["artist".to_owned()]);

    // Images with a keyword, paged by id.
    assert_eq!(
        editorial::images_with_keyword(conn, "acc-a", "sky", "", 10)
            .await
            .unwrap(),
        vec!["img-1".to_owned(), "img-2".to_owned()]
    );
    assert_eq!(
        editorial::images_with_keyword(conn, "acc-a", "sky", "img-1", 10)
            .await
            .unwrap(),
        vec!["img-2".to_owned()]
    );
    assert_eq!(
        editorial::images_with_keyword(conn, "acc-a", "sky", "", 1)
            .await
            .unwrap(),
        vec!["img-1".to_owned()]
    );

    // Removal: the count drops, and a count that reaches 0 is gone.
    assert!(
        editorial::remove_keyword(conn, "acc-a", "img-1", "sky")
            .await
            .unwrap()
    );
    assert!(
        !editorial::remove_keyword(conn, "acc-a", "img-1", "sky")
            .await
            .unwrap()
    );
    // Not the account's image: nothing removed.
    assert!(
        !editorial::remove_keyword(conn, "acc-b", "img-2", "sky")
            .await
            .unwrap()
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "sky")
            .await
            .unwrap(),
        1
    );
    assert!(
        editorial::remove_keyword(conn, "acc-a", "img-1", "place:Oslo")
            .await
            .unwrap()
    );
    assert_eq!(
        editorial::namespaces(conn, "acc-a", 100, 0)
            .await
            .unwrap()
            .len(),
        2
    );

    // Renaming: to a new keyword, keeping its place.
    assert!(
        editorial::rename_keyword(
            conn,
            "acc-a",
            "img-2",
            "zebra",
            ("animal:Zebra", Some("animal"), "Zebra")
        )
        .await
        .unwrap()
    );
    let kept: Vec<String> = images::keywords_of(conn, &["img-2".to_owned()])
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.keyword)
        .collect();
    assert_eq!(kept, vec!["sky", "artist:Bob", "animal:Zebra"]);
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "zebra")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "animal:Zebra")
            .await
            .unwrap(),
        1
    );
    // To a keyword the image already has: `from` just goes.
    assert!(
        editorial::rename_keyword(
            conn,
            "acc-a",
            "img-1",
            "Artist:Marina",
            ("artist:Bob", Some("artist"), "Bob")
        )
        .await
        .unwrap()
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "Artist:Marina")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "artist:Bob")
            .await
            .unwrap(),
        2
    );
    // An image without `from`.
    assert!(
        !editorial::rename_keyword(conn, "acc-a", "img-3", "sky", ("sea", None, "sea"))
            .await
            .unwrap()
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-a", "sea")
            .await
            .unwrap(),
        0
    );

    // Deleting an image takes its keywords out of the counts.
    assert!(images::delete(conn, "acc-a", "img-2").await.unwrap());
    assert_eq!(
        vocabulary(conn, None, None, false, 100, 0).await,
        pairs(&[("artist:Bob", 1)])
    );
    assert_eq!(
        editorial::keyword_count(conn, "acc-b", "sky")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
}

fn crop(image_id: &str, ratio: &str, x: i64) -> CropRow {
    CropRow {
        image_id: image_id.to_owned(),
        aspect_ratio: ratio.to_owned(),
        x,
        y: 2,
        width: 30,
        height: 40,
    }
}

fn credit(id: &str, image_id: &str, name: &str) -> CreditRow {
    CreditRow {
        id: id.to_owned(),
        image_id: image_id.to_owned(),
        role: "Photo".to_owned(),
        name: name.to_owned(),
    }
}

fn profile(id: &str, name: &str, fields: &str, at: i64) -> ProfileRow {
    ProfileRow {
        id: id.to_owned(),
        account_id: "acc-a".to_owned(),
        name: name.to_owned(),
        fields: JsonText(fields.to_owned()),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

async fn crops_credits_profiles(engine: Engine) {
    let store = fresh_store(engine, 2).await;
    let mut tx = store.begin_write().await.unwrap();
    let conn: &mut Conn = &mut tx;
    account(conn, "acc-a").await;
    account(conn, "acc-b").await;
    for id in ["img-1", "img-2", "img-3"] {
        image(conn, "acc-a", id).await;
    }

    // Crops: one per image and ratio, replaced in place.
    editorial::put_crop(conn, &crop("img-1", "1:1", 1))
        .await
        .unwrap();
    editorial::put_crop(conn, &crop("img-1", "16:9", 2))
        .await
        .unwrap();
    editorial::put_crop(conn, &crop("img-2", "1:1", 3))
        .await
        .unwrap();
    editorial::put_crop(conn, &crop("img-1", "1:1", 9))
        .await
        .unwrap();
    assert_eq!(editorial::crops_of(conn, &[]).await.unwrap(), vec![]);
    let ids = vec!["img-2".to_owned(), "img-1".to_owned(), "img-3".to_owned()];
    assert_eq!(
        editorial::crops_of(conn, &ids).await.unwrap(),
        vec![
            crop("img-1", "16:9", 2),
            crop("img-1", "1:1", 9),
            crop("img-2", "1:1", 3)
        ]
    );
    assert_eq!(
        editorial::delete_crops(conn, "img-1", Some("4:3"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        editorial::delete_crops(conn, "img-1", Some("1:1"))
            .await
            .unwrap(),
        1
    );
    editorial::put_crop(conn, &crop("img-1", "4:3", 5))
        .await
        .unwrap();
    assert_eq!(
        editorial::delete_crops(conn, "img-1", None).await.unwrap(),
        2
    );
    assert_eq!(
        editorial::crops_of(conn, &ids).await.unwrap(),
        vec![crop("img-2", "1:1", 3)]
    );

    // Credit lines, in the order they were added.
    assert_eq!(
        editorial::add_credit(conn, &credit("c-3", "img-1", "Jane"), Timestamp(NOW))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        editorial::add_credit(conn, &credit("c-1", "img-1", "Joe"), Timestamp(NOW))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        editorial::add_credit(conn, &credit("c-2", "img-2", "Ann"), Timestamp(NOW))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        editorial::add_credit(conn, &credit("c-0", "img-1", "Kim"), Timestamp(NOW))
            .await
            .unwrap(),
        3
    );
    let credits = |rows: Vec<CreditRow>| -> Vec<(String, String, String)> {
        rows.into_iter()
            .map(|c| (c.id, c.image_id, c.name))
            .collect()
    };
    let t = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert!(editorial::credits_of(conn, &[]).await.unwrap().is_empty());
    assert_eq!(
        credits(editorial::credits_of(conn, &ids).await.unwrap()),
        vec![
            t("c-3", "img-1", "Jane"),
            t("c-1", "img-1", "Joe"),
            t("c-0", "img-1", "Kim"),
            t("c-2", "img-2", "Ann"),
        ]
    );
    assert!(
        editorial::delete_credit(conn, "img-1", "c-1")
            .await
            .unwrap()
    );
    assert!(
        !editorial::delete_credit(conn, "img-2", "c-3")
            .await
            .unwrap()
    );
    // After a removal, the next one still goes last.
    editorial::add_credit(conn, &credit("c-4", "img-1", "Lee"), Timestamp(NOW))
        .await
        .unwrap();
    assert_eq!(
        credits(
            editorial::credits_of(conn, &["img-1".to_owned()])
                .await
                .unwrap()
        ),
        vec![
            t("c-3", "img-1", "Jane"),
            t("c-0", "img-1", "Kim"),
            t("c-4", "img-1", "Lee"),
        ]
    );

    // Metadata profiles: an upsert by name keeps the first id and time.
    let made = editorial::upsert_profile(conn, &profile("p-1", "News", "{}", NOW))
        .await
        .unwrap();
    assert_eq!((made.id.as_str(), made.fields.as_str()), ("p-1", "{}"));
    let replaced = editorial::upsert_profile(
        conn,
        &profile("p-9", "News", r#"{"city": "Oslo"}"#, NOW + 5),
    )
    .await
    .unwrap();
    assert_eq!(replaced.id, "p-1");
    assert_eq!(replaced.fields.as_str(), r#"{"city": "Oslo"}"#);
    assert_eq!(
        (replaced.created_at, replaced.updated_at),
        (Timestamp(NOW), Timestamp(NOW + 5))
    );
    // A profile named like another's id: by id first.
    editorial::upsert_profile(conn, &profile("p-2", "p-1", "{}", NOW))
        .await
        .unwrap();
    editorial::upsert_profile(conn, &profile("p-3", "Archive", "{}", NOW))
        .await
        .unwrap();
    let names: Vec<String> = editorial::profiles(conn, "acc-a")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, vec!["Archive", "News", "p-1"]);
    assert!(editorial::profiles(conn, "acc-b").await.unwrap().is_empty());
    let found = |p: Option<ProfileRow>| p.map(|p| p.id);
    assert_eq!(
        found(editorial::find_profile(conn, "acc-a", "p-1").await.unwrap()),
        Some("p-1".to_owned())
    );
    assert_eq!(
        found(
            editorial::find_profile(conn, "acc-a", "Archive")
                .await
                .unwrap()
        ),
        Some("p-3".to_owned())
    );
    assert_eq!(
        found(editorial::find_profile(conn, "acc-b", "p-1").await.unwrap()),
        None
    );

    // Defaults of members.
    conn.execute_text(
        "INSERT INTO users (id, login, name, created_at, updated_at)
         SELECT 'user-1', 'one', 'One', now, now FROM database_clock
         UNION ALL SELECT 'user-2', 'two', 'Two', now, now FROM database_clock",
    )
    .await
    .unwrap();
    conn.execute_text(
        "INSERT INTO memberships (account_id, user_id, role, created_at)
         SELECT 'acc-a', 'user-1', 'editor', now FROM database_clock
         UNION ALL SELECT 'acc-a', 'user-2', 'editor', now FROM database_clock",
    )
    .await
    .unwrap();
    assert_eq!(
        found(
            editorial::default_profile(conn, "acc-a", "user-1")
                .await
                .unwrap()
        ),
        None
    );
    for user in ["user-2", "user-1"] {
        assert!(
            editorial::set_default_profile(conn, "acc-a", user, Some("p-1"))
                .await
                .unwrap()
        );
    }
    assert!(
        !editorial::set_default_profile(conn, "acc-b", "user-1", Some("p-1"))
            .await
            .unwrap()
    );
    assert_eq!(
        found(
            editorial::default_profile(conn, "acc-a", "user-1")
                .await
                .unwrap()
        ),
        Some("p-1".to_owned())
    );
    assert_eq!(
        editorial::profile_members(conn, "p-1").await.unwrap(),
        vec!["user-1".to_owned(), "user-2".to_owned()]
    );
    assert!(
        editorial::set_default_profile(conn, "acc-a", "user-2", None)
            .await
            .unwrap()
    );
    assert_eq!(
        editorial::profile_members(conn, "p-1").await.unwrap(),
        vec!["user-1".to_owned()]
    );
    // Deleting a profile clears it as a default.
    assert!(
        !editorial::delete_profile(conn, "acc-b", "p-1")
            .await
            .unwrap()
    );
    assert!(
        editorial::delete_profile(conn, "acc-a", "p-1")
            .await
            .unwrap()
    );
    assert!(
        !editorial::delete_profile(conn, "acc-a", "p-1")
            .await
            .unwrap()
    );
    assert!(
        editorial::profile_members(conn, "p-1")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        found(
            editorial::default_profile(conn, "acc-a", "user-1")
                .await
                .unwrap()
        ),
        None
    );
    tx.commit().await.unwrap();
}

async fn change_log_in_order(engine: Engine) {
    let store = fresh_store(engine, 2).await;
    let mut tx = store.begin_write().await.unwrap();
    let conn: &mut Conn = &mut tx;
    assert_eq!(change_log::head(conn).await.unwrap(), 0);
    assert!(change_log::since(conn, 0, 10).await.unwrap().is_empty());
    for (n, operation_id) in [None, Some("op-1"), None, None].into_iter().enumerate() {
        let entity_id = format!("img-{n}");
        change_log::append(
            conn,
            &Change {
                account_id: "acc-a",
                entity: "image",
                entity_id: &entity_id,
                action: "update",
                operation_id,
                at: Timestamp(NOW + n as i64),
            },
        )
        .await
        .unwrap();
    }
    let head = change_log::head(conn).await.unwrap();
    let all = change_log::since(conn, 0, 10).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[3].seq, head);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        all.iter().map(|c| c.entity_id.as_str()).collect::<Vec<_>>(),
        vec!["img-0", "img-1", "img-2", "img-3"]
    );
    assert_eq!(
        (
            all[1].account_id.as_str(),
            all[1].entity.as_str(),
            all[1].at
        ),
        ("acc-a", "image", Timestamp(NOW + 1))
    );
    let later = change_log::since(conn, all[1].seq, 1).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].seq, all[2].seq);
    assert_eq!(
        change_log::count_between(conn, all[0].seq, head)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        change_log::count_between(conn, head, head + 10)
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn keywords_and_vocabulary_sqlite() {
    keywords_and_vocabulary(Engine::Sqlite).await;
}

#[tokio::test]
async fn keywords_and_vocabulary_postgres() {
    keywords_and_vocabulary(Engine::Postgres).await;
}

#[tokio::test]
async fn crops_credits_profiles_sqlite() {
    crops_credits_profiles(Engine::Sqlite).await;
}

#[tokio::test]
async fn crops_credits_profiles_postgres() {
    crops_credits_profiles(Engine::Postgres).await;
}

#[tokio::test]
async fn change_log_in_order_sqlite() {
    change_log_in_order(Engine::Sqlite).await;
}

#[tokio::test]
async fn change_log_in_order_postgres() {
    change_log_in_order(Engine::Postgres).await;
}
