//! The blob store on both backends: a folder, and a real S3-compatible
//! server (moto's server mode, started by `.ci/run`; its URL in
//! `LIGHTBOX_TEST_S3_ENDPOINT`). Every test runs on each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use futures::StreamExt;
use lightbox_media::blob::{BlobError, BlobLocation, BlobStore, S3Connection, original_key};
use sha2::{Digest, Sha256};

/// Where a store's leftovers would be, looked at from outside the store's
/// own API (which hides them): a folder's `tmp/` files (multipart staging
/// files included), a bucket's unfinished multipart uploads and `tmp/` keys.
enum Backend {
    /// The folder, removed when the backend is dropped.
    Dir(FolderGuard),
    S3 {
        endpoint: String,
        bucket: String,
    },
}

impl Backend {
    async fn leftovers(&self) -> usize {
        match self {
            Backend::Dir(FolderGuard(root)) => {
                std::fs::read_dir(root.join("tmp")).map_or(0, |d| d.count())
            }
            Backend::S3 { endpoint, bucket } => {
                let uploads = get_text(&format!("{endpoint}/{bucket}?uploads")).await;
                let objects = get_text(&format!(
                    "{endpoint}/{bucket}?list-type=2&prefix=lightbox/tmp/"
                ))
                .await;
                uploads.matches("<Upload>").count() + objects.matches("<Contents>").count()
            }
        }
    }
}

/// Removes a test's folder store when the test is done with it.
struct FolderGuard(std::path::PathBuf);

impl Drop for FolderGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get_text(url: &str) -> String {
    http().get(url).send().await.unwrap().text().await.unwrap()
}

/// A fresh, empty store of each kind: a temp folder, and a new bucket on
/// the S3 server (under a key prefix, as deployments use).
async fn stores() -> Vec<(BlobStore, Backend)> {
    let dir = std::env::temp_dir().join(format!("lightbox-blob-{}", uuid::Uuid::new_v4()));
    let mut out = vec![(
        BlobStore::open(&BlobLocation::Dir(dir.clone())).unwrap(),
        Backend::Dir(FolderGuard(dir)),
    )];
    let endpoint = std::env::var("LIGHTBOX_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!("LIGHTBOX_TEST_S3_ENDPOINT is not set: run the suite with `bash .ci/run`, which starts an S3 server")
    });
    let bucket = format!("lbt-{}", uuid::Uuid::new_v4().simple());
    let created = http()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    let location = BlobLocation::parse(
        &format!("s3://{bucket}/lightbox"),
        S3Connection {
            endpoint: Some(endpoint.clone()),
            region: Some("us-east-1".to_owned()),
            access_key_id: Some("test".to_owned()),
            secret_access_key: Some("test".to_owned()),
        },
    )
    .unwrap();
    out.push((
        BlobStore::open(&location).unwrap(),
        Backend::S3 { endpoint, bucket },
    ));
    out
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut data = vec![0u8; n];
    getrandom::fill(&mut data).unwrap();
    data
}

/// `data` as a stream of 64 KiB chunks, as a request body arrives.
fn chunks(
    data: &[u8],
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Unpin + use<> {
    let parts: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(parts)
}

async fn read_all(store: &BlobStore, key: &str) -> Vec<u8> {
    let mut stream = store.get(key).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn originals_stream_in_and_read_back_whole_and_by_range() {
    for (store, backend) in stores().await {
        // 20 MiB: several multipart parts.
        let data = random_bytes(20 * 1024 * 1024 + 12_345);
        let stored = store.put_original(chunks(&data), u64::MAX).await.unwrap();
        assert_eq!(stored.sha256, hex_sha256(&data), "{store:?}");
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(Some(stored.key.clone()), original_key(&stored.sha256));
        assert!(!stored.duplicate);
        assert_eq!(store.size(&stored.key).await.unwrap(), data.len() as u64);
        assert!(
            read_all(&store, &stored.key).await == data,
            "{store:?}: bytes differ"
        );
        let range = store
            .get_range(&stored.key, 1_000_000..1_000_100)
            .await
            .unwrap();
        assert_eq!(&range[..], &data[1_000_000..1_000_100]);
        // Nothing left in tmp/, nor half-done multipart uploads.
        assert_eq!(backend.leftovers().await, 0, "{store:?}");
        assert_eq!(store.list("originals").await.unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_are_kept_once() {
    for (store, backend) in stores().await {
        let data = random_bytes(300_000);
        let first = store.put_original(chunks(&data), u64::MAX).await.unwrap();
        let second = store.put_original(chunks(&data), u64::MAX).await.unwrap();
        assert!(!first.duplicate && second.duplicate, "{store:?}");
        assert_eq!(first.key, second.key);
        assert_eq!(store.list("originals").await.unwrap().len(), 1);
        assert_eq!(backend.leftovers().await, 0, "{store:?}");
        let other = store
            .put_original(chunks(&random_bytes(1000)), u64::MAX)
            .await
            .unwrap();
        assert_ne!(other.key, first.key);
        assert_eq!(store.list("originals").await.unwrap().len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_and_broken_uploads_keep_nothing() {
    for (store, backend) in stores().await {
        let data = random_bytes(12 * 1024 * 1024);
        let too_big = store.put_original(chunks(&data), 10 * 1024 * 1024).await;
        assert!(
            matches!(too_big, Err(BlobError::TooLarge(_))),
            "{store:?}: {too_big:?}"
        );
        // A body that fails halfway (the client went away).
        let mut parts: Vec<Result<Bytes, std::io::Error>> = data
            .chunks(1024 * 1024)
            .take(9)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        parts.push(Err(std::io::Error::other("connection reset")));
        let broken = store
            .put_original(futures::stream::iter(parts), u64::MAX)
            .await;
        assert!(
            matches!(broken, Err(BlobError::Source(_))),
            "{store:?}: {broken:?}"
        );
        assert!(
            store.list("originals").await.unwrap().is_empty(),
            "{store:?}"
        );
        assert_eq!(backend.leftovers().await, 0, "{store:?}");
        // The empty file is a file too.
        let empty = store.put_original(chunks(&[]), u64::MAX).await.unwrap();
        assert_eq!(empty.size, 0);
        assert_eq!(empty.sha256, hex_sha256(&[]));
        assert!(read_all(&store, &empty.key).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_and_sweeps() {
    for (store, backend) in stores().await {
        let stored = store
            .put_original(chunks(&random_bytes(5000)), u64::MAX)
            .await
            .unwrap();
        store.delete(&stored.key).await.unwrap();
        assert!(matches!(
            store.get(&stored.key).await,
            Err(BlobError::NotFound(_))
        ));
        assert!(matches!(
            store.size(&stored.key).await,
            Err(BlobError::NotFound(_))
        ));
        store.delete(&stored.key).await.unwrap();
        // A version is put whole and read back.
        store
            .put("versions/x/small.jpg", Bytes::from_static(b"jpeg bytes"))
            .await
            .unwrap();
        assert_eq!(
            read_all(&store, "versions/x/small.jpg").await,
            b"jpeg bytes"
        );
        // Left-overs of uploads cut off by a crash are swept once old enough:
        // a folder's multipart staging file (hidden from listings), a
        // bucket's tmp/ object.
        match &backend {
            Backend::Dir(FolderGuard(root)) => {
                std::fs::create_dir_all(root.join("tmp")).unwrap();
                std::fs::write(root.join("tmp").join("0192-left-over#1"), b"half").unwrap();
            }
            Backend::S3 { .. } => store
                .put("tmp/left-over", Bytes::from_static(b"half"))
                .await
                .unwrap(),
        }
        assert_eq!(backend.leftovers().await, 1);
        assert_eq!(
            store
                .sweep_tmp(std::time::Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(
            store
                .sweep_tmp(std::time::Duration::from_secs(1))
                .await
                .unwrap(),
            1
        );
        assert_eq!(backend.leftovers().await, 0, "{store:?}");
        store.check().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_dropped_halfway_leaves_nothing() {
    for (store, backend) in stores().await {
        // 9 MiB arrive (a part is on its way), then the client goes silent
        // and the request is dropped, as a disconnect or a timeout does.
        let data = random_bytes(9 * 1024 * 1024);
        let stalled = chunks(&data).chain(futures::stream::pending());
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            store.put_original(Box::pin(stalled), u64::MAX),
        )
        .await;
        assert!(
            cut.is_err(),
            "{store:?}: the upload should still be waiting"
        );
        let clean = async {
            for _ in 0..50 {
                if backend.leftovers().await == 0 {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            false
        };
        assert!(clean.await, "{store:?}: parts left behind");
        assert!(store.list("originals").await.unwrap().is_empty());
        // A chunk far larger than a part still goes through in bounded parts.
        let big = random_bytes(20 * 1024 * 1024);
        let one_chunk =
            futures::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(big.clone()))]);
        let stored = store.put_original(one_chunk, u64::MAX).await.unwrap();
        assert_eq!(stored.size, big.len() as u64);
        assert!(read_all(&store, &stored.key).await == big);
    }
}
