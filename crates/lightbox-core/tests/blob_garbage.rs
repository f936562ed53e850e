//! Blob collection: what a delete (or a crash between its commit and the
//! blob deletion) notes as garbage is removed later — unless a row still
//! references it — on both engines, with a real folder blob store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::Timestamp;
use lightbox_testkit::{Engine, fresh_store};
use std::sync::Arc;

use lightbox_core::auth::AuthSettings;
use lightbox_core::clock::ManualClock;
use lightbox_core::media::MediaSettings;
use lightbox_core::{Core, accounts, versions};
use lightbox_media::{BlobLocation, BlobStore};
use lightbox_store::Store;
use lightbox_store::images::{self as store, ImageRow, VersionRow};

/// The core, its clock and blob store, and its database (the test writes
/// rows no use-case would).
async fn core(engine: Engine) -> (Core, Arc<ManualClock>, BlobStore, Store) {
    let store = fresh_store(engine, 16).await;
    let dir = lightbox_testkit::scratch_dir("gc");
    let blobs = BlobStore::open(&BlobLocation::Dir(dir.join("blobs"))).unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000_000));
    let core = Core::new(store.clone(), clock.clone(), AuthSettings::default()).with_media(
        MediaSettings::new(blobs.clone(), "http://127.0.0.1", dir.join("work")),
    );
    (core, clock, blobs, store)
}

async fn exists(blobs: &BlobStore, key: &str) -> bool {
    blobs.size(key).await.is_ok()
}

async fn collects_only_unreferenced_blobs(engine: Engine) {
    let (core, clock, blobs, db) = core(engine).await;
    let account = accounts::create(&core, "Fest", "fest").await.unwrap();
    let image = ImageRow {
        id: lightbox_core::ids::new_public_uuid(),
        account_id: account.uuid.clone(),
        filename: "a.jpg".into(),
        title: String::new(),
        description: String::new(),
        creation_date: None,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
        rotation: 0,
        rating: 0,
        alt_text: String::new(),
        is_video: false,
        media_kind: "jpeg".into(),
        content_type: "image/jpeg".into(),
        width: None,
        height: None,
        bytes: 3,
        sha256: "ab".repeat(32),
        original_key: "originals/kept".into(),
        lat: None,
        lng: None,
        exif: "{}".into(),
        metadata: "{}".into(),
        uploaded_by: None,
        uploaded_by_token: None,
        versions_state: "ready".into(),
        versions_error: None,
    };
    for key in [
        "originals/kept",
        "versions/kept.jpg",
        "versions/orphan.jpg",
        "versions/young.jpg",
    ] {
        blobs
            .put(key, bytes::Bytes::from_static(b"abc"))
            .await
            .unwrap();
    }
    let mut tx = db.begin_write().await.unwrap();
    store::insert(&mut tx, &image).await.unwrap();
    store::put_version(
        &mut tx,
        &VersionRow {
            image_id: image.id.clone(),
            name: "thumbnail".into(),
            width: 1,
            height: 1,
            content_type: "image/jpeg".into(),
            bytes: 3,
            etag: "00".into(),
            blob_key: "versions/kept.jpg".into(),
            created_at: Timestamp(1),
        },
    )
    .await
    .unwrap();
    // As a delete leaves them when the process dies right after its commit.
    let old = core.now() - 2 * 3600 * 1_000_000;
    for key in ["originals/kept", "versions/kept.jpg", "versions/orphan.jpg"] {
        store::note_garbage(&mut tx, key, Timestamp(old))
            .await
            .unwrap();
    }
    store::note_garbage(&mut tx, "versions/young.jpg", Timestamp(core.now()))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let hour = 3600 * 1_000_000;
    assert_eq!(versions::sweep_garbage(&core, hour).await.unwrap(), 3);
    assert!(
        !exists(&blobs, "versions/orphan.jpg").await,
        "unreferenced: collected"
    );
    assert!(
        exists(&blobs, "originals/kept").await,
        "an image's original stays"
    );
    assert!(
        exists(&blobs, "versions/kept.jpg").await,
        "a version row's blob stays"
    );
    assert!(
        exists(&blobs, "versions/young.jpg").await,
        "too recent to sweep"
    );
    let mut conn = db.read().await.unwrap();
    let left = store::garbage_before(&mut conn, Timestamp(i64::MAX), 10)
        .await
        .unwrap();
    assert_eq!(
        left,
        ["versions/young.jpg"],
        "collected and referenced notes are gone"
    );
    drop(conn);
    clock.advance_secs(2 * 3600);
    assert_eq!(versions::sweep_garbage(&core, hour).await.unwrap(), 1);
    assert!(!exists(&blobs, "versions/young.jpg").await);

    // An upload's pin: left alone while it lasts, collected after (a crash
    // between publishing an original and committing its image).
    blobs
        .put("originals/pinned", bytes::Bytes::from_static(b"abc"))
        .await
        .unwrap();
    let mut tx = db.begin_write().await.unwrap();
    let now = core.now();
    assert!(
        store::pin_garbage(
            &mut tx,
            "originals/pinned",
            Timestamp(now - 2 * hour),
            Timestamp(now + hour)
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    versions::sweep_garbage(&core, hour).await.unwrap();
    assert!(exists(&blobs, "originals/pinned").await, "pinned: kept");
    clock.advance_secs(2 * 3600);
    versions::sweep_garbage(&core, hour).await.unwrap();
    assert!(
        !exists(&blobs, "originals/pinned").await,
        "pin expired, unreferenced: collected"
    );
    // While the collector is deleting a blob, an upload cannot pin it.
    let mut tx = db.begin_write().await.unwrap();
    store::note_garbage(&mut tx, "originals/going", Timestamp(0))
        .await
        .unwrap();
    store::mark_deleting(&mut tx, "originals/going")
        .await
        .unwrap();
    assert!(
        !store::pin_garbage(
            &mut tx,
            "originals/going",
            Timestamp(core.now()),
            Timestamp(core.now() + hour)
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn sqlite_collects_only_unreferenced_blobs() {
    collects_only_unreferenced_blobs(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_collects_only_unreferenced_blobs() {
    collects_only_unreferenced_blobs(Engine::Postgres).await;
}

/// A delete that failed (or a crash after the decision) leaves the note
/// marked `deleting`; if a row uses the key again before the next sweep (a
/// rebuild 0 → 90 → 0 makes the same content-named key), the sweep must
/// re-check and keep the blob.
async fn a_failed_delete_is_rechecked_before_retrying(engine: Engine) {
    let (core, _clock, blobs, db) = core(engine).await;
    let account = accounts::create(&core, "Fest", "fest").await.unwrap();
    let image = ImageRow {
        id: lightbox_core::ids::new_public_uuid(),
        account_id: account.uuid.clone(),
        filename: "a.jpg".into(),
        title: String::new(),
        description: String::new(),
        creation_date: None,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
        rotation: 0,
        rating: 0,
        alt_text: String::new(),
        is_video: false,
        media_kind: "jpeg".into(),
        content_type: "image/jpeg".into(),
        width: None,
        height: None,
        bytes: 3,
        sha256: "cd".repeat(32),
        original_key: "originals/o".into(),
        lat: None,
        lng: None,
        exif: "{}".into(),
        metadata: "{}".into(),
        uploaded_by: None,
        uploaded_by_token: None,
        versions_state: "ready".into(),
        versions_error: None,
    };
    let key = format!("versions/{}/thumbnail-00.jpg", image.id);
    blobs
        .put(&key, bytes::Bytes::from_static(b"abc"))
        .await
        .unwrap();
    // The rotation to 90 replaced the version: its key noted, the
    // collector decided to delete it, and the delete failed.
    let mut tx = db.begin_write().await.unwrap();
    store::insert(&mut tx, &image).await.unwrap();
    store::note_garbage(&mut tx, &key, Timestamp(0))
        .await
        .unwrap();
    store::mark_deleting(&mut tx, &key).await.unwrap();
    // The rotation back to 0 makes the same version again: a row uses it.
    store::put_version(
        &mut tx,
        &VersionRow {
            image_id: image.id.clone(),
            name: "thumbnail".into(),
            width: 1,
            height: 1,
            content_type: "image/jpeg".into(),
            bytes: 3,
            etag: "00".into(),
            blob_key: key.clone(),
            created_at: Timestamp(1),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(versions::sweep_garbage(&core, 0).await.unwrap(), 1);
    assert!(exists(&blobs, &key).await, "a blob in use again is kept");
    let mut conn = db.read().await.unwrap();
    assert!(
        store::garbage_before(&mut conn, Timestamp(i64::MAX), 10)
            .await
            .unwrap()
            .is_empty(),
        "the note is gone"
    );
}

#[tokio::test]
async fn sqlite_a_failed_delete_is_rechecked_before_retrying() {
    a_failed_delete_is_rechecked_before_retrying(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_failed_delete_is_rechecked_before_retrying() {
    a_failed_delete_is_rechecked_before_retrying(Engine::Postgres).await;
}
