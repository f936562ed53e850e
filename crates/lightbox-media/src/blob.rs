//! The blob store: where originals and versions live, behind
//! `object_store` — a folder under the data dir by default, or any
//! S3-compatible store (`s3://bucket/prefix`).
//!
//! Originals are immutable and content-addressed: `originals/<aa>/<bb>/<sha256>`.
//! An upload streams to a temporary key (`tmp/<uuid>`) in parts while it is
//! hashed — never the whole file in memory — and is then copied to its
//! content address (the same bytes under the same name, so a concurrent
//! duplicate can only write what is already there) and the temporary key
//! removed. An upload cut off halfway leaves at most a `tmp/` object, which
//! [`BlobStore::sweep_tmp`] collects.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

/// Part size of streamed uploads (S3 needs ≥ 5 MiB but the last).
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once: memory per upload ≈ (this + 1) × `PART_BYTES`.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no such blob: {0}")]
    NotFound(String),
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the upload stream failed: {0}")]
    Source(String),
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    #[error("blob store settings: {0}")]
    Config(String),
}

impl BlobError {
    fn from_store(e: object_store::Error, key: &str) -> Self {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound(key.to_owned()),
            other => BlobError::Store(other),
        }
    }
}

/// Where blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A folder (created if missing).
    Dir(PathBuf),
    /// An S3-compatible bucket, under an optional key prefix.
    S3(S3Settings),
}

#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    /// e.g. `http://127.0.0.1:9000` for a local server; AWS when empty.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    // The secret key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl BlobLocation {
    /// Parses `--blob-store`: `file:///path`, a plain path, or
    /// `s3://bucket[/prefix]` (the S3 connection details come separately).
    pub fn parse(spec: &str, s3: S3Connection) -> Result<Self, BlobError> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BlobError::Config(format!(
                    "{spec:?}: name the bucket, as in s3://bucket/prefix"
                )));
            }
            return Ok(BlobLocation::S3(S3Settings {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint: s3.endpoint,
                region: s3.region.unwrap_or_else(|| "us-east-1".to_owned()),
                access_key_id: s3.access_key_id,
                secret_access_key: s3.secret_access_key,
            }));
        }
        let path = spec.strip_prefix("file://").unwrap_or(spec);
        if path.is_empty() || spec.contains("://") && !spec.starts_with("file://") {
            return Err(BlobError::Config(format!(
                "{spec:?}: use file:///path, a path, or s3://bucket/prefix"
            )));
        }
        Ok(BlobLocation::Dir(PathBuf::from(path)))
    }

    /// For logs and `/readyz`: no credentials.
    pub fn describe(&self) -> String {
        match self {
            BlobLocation::Dir(path) => format!("file://{}", path.display()),
            BlobLocation::S3(s3) => {
                let at = s3.endpoint.as_deref().unwrap_or("AWS");
                format!("s3://{}/{} at {at}", s3.bucket, s3.prefix)
            }
        }
    }
}

/// S3 connection details from flags and environment.
#[derive(Debug, Clone, Default)]
pub struct S3Connection {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// An original as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOriginal {
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub key: String,
    /// The same bytes were already stored (nothing new was kept).
    pub duplicate: bool,
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Key prefix inside the bucket (S3); empty for a folder.
    prefix: String,
    describe: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The content address of an original.
pub fn original_key(sha256: &str) -> String {
    let a = sha256.get(0..2).unwrap_or("00");
    let b = sha256.get(2..4).unwrap_or("00");
    format!("originals/{a}/{b}/{sha256}")
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

impl BlobStore {
    pub fn open(location: &BlobLocation) -> Result<Self, BlobError> {
        let describe = location.describe();
        match location {
            BlobLocation::Dir(path) => {
                std::fs::create_dir_all(path).map_err(|e| {
                    BlobError::Config(format!("cannot create {}: {e}", path.display()))
                })?;
                let store = LocalFileSystem::new_with_prefix(path)?.with_automatic_cleanup(true);
                Ok(Self {
                    store: Arc::new(store),
                    prefix: String::new(),
                    describe,
                })
            }
            BlobLocation::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    prefix: s3.prefix.clone(),
                    describe,
                })
            }
        }
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Streams an original in, hashing as it goes; at most `max_bytes`
    /// (more is refused, and nothing is kept). Memory stays at a few parts
    /// whatever the size.
    pub async fn put_original<S, E>(
        &self,
        mut source: S,
        max_bytes: u64,
    ) -> Result<StoredOriginal, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_key = format!("tmp/{}", uuid::Uuid::new_v4());
        let tmp = self.path(&tmp_key);
        let upload = self.store.put_multipart(&tmp).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let streamed: Result<(), BlobError> = async {
            while let Some(chunk) = source.next().await {
                let chunk = chunk.map_err(|e| BlobError::Source(e.to_string()))?;
                size = size.saturating_add(chunk.len() as u64);
                if size > max_bytes {
                    return Err(BlobError::TooLarge(max_bytes));
                }
                hasher.update(&chunk);
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        if let Err(e) = streamed {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, key = tmp_key, "could not abort an upload; the sweep will collect it");
            }
            return Err(e);
        }
        writer.finish().await?;
        let sha256 = hex(&hasher.finalize());
        let key = original_key(&sha256);
        let target = self.path(&key);
        let duplicate = match self.store.head(&target).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => {
                self.delete_quietly(&tmp).await;
                return Err(e.into());
            }
        };
        if !duplicate && let Err(e) = self.store.copy(&tmp, &target).await {
            self.delete_quietly(&tmp).await;
            return Err(e.into());
        }
        self.delete_quietly(&tmp).await;
        Ok(StoredOriginal {
            sha256,
            size,
            key,
            duplicate,
        })
    }

    async fn delete_quietly(&self, path: &Path) {
        if let Err(e) = self.store.delete(path).await
            && !matches!(e, object_store::Error::NotFound { .. })
        {
            tracing::warn!(error = %e, key = %path, "could not delete a temporary blob; the sweep will collect it");
        }
    }

    /// Stores a small derived blob (a version) whole.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store.put(&self.path(key), bytes.into()).await?;
        Ok(())
    }

    /// The size of a blob.
    pub async fn size(&self, key: &str) -> Result<u64, BlobError> {
        self.store
            .head(&self.path(key))
            .await
            .map(|m| m.size)
            .map_err(|e| BlobError::from_store(e, key))
    }

    /// A whole blob, as a stream of chunks (never read whole into memory).
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<impl Stream<Item = Result<Bytes, BlobError>> + Send + use<>, BlobError> {
        let result = self
            .store
            .get(&self.path(key))
            .await
            .map_err(|e| BlobError::from_store(e, key))?;
        Ok(result.into_stream().map(|c| c.map_err(BlobError::Store)))
    }

    /// Bytes `range` of a blob.
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, BlobError> {
        self.store
            .get_range(&self.path(key), range)
            .await
            .map_err(|e| BlobError::from_store(e, key))
    }

    /// Deletes a blob; deleting one that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Keys under `prefix` (e.g. `originals/`), for collecting orphans.
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, BlobError> {
        let base = self.path(prefix.trim_end_matches('/'));
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&base));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let key = meta.location.to_string();
            out.push((
                key.strip_prefix(&strip).unwrap_or(&key).to_owned(),
                meta.size,
            ));
        }
        Ok(out)
    }

    /// Deletes `tmp/` objects older than `older_than` (uploads cut off
    /// halfway); returns how many. Younger ones may be uploads in flight.
    pub async fn sweep_tmp(&self, older_than: std::time::Duration) -> Result<usize, BlobError> {
        let cutoff = std::time::SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(std::time::UNIX_EPOCH);
        let mut listing = self.store.list(Some(&self.path("tmp")));
        let mut stale = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if std::time::SystemTime::from(meta.last_modified) < cutoff {
                stale.push(meta.location);
            }
        }
        for path in &stale {
            self.delete_quietly(path).await;
        }
        Ok(stale.len())
    }

    /// Readiness: the store answers (a listing of one key).
    pub async fn check(&self) -> Result<(), BlobError> {
        let mut listing = self.store.list(Some(&self.path("originals")));
        match listing.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() -> Result<(), BlobError> {
        let none = S3Connection::default;
        assert_eq!(
            BlobLocation::parse("/var/lib/lb", none())?,
            BlobLocation::Dir("/var/lib/lb".into())
        );
        assert_eq!(
            BlobLocation::parse("file:///var/lib/lb", none())?,
            BlobLocation::Dir("/var/lib/lb".into())
        );
        let BlobLocation::S3(s3) = BlobLocation::parse(
            "s3://photos/festival/2026/",
            S3Connection {
                endpoint: Some("http://127.0.0.1:9000".into()),
                ..S3Connection::default()
            },
        )?
        else {
            panic!("not s3");
        };
        assert_eq!(s3.bucket, "photos");
        assert_eq!(s3.prefix, "festival/2026");
        assert_eq!(s3.region, "us-east-1");
        assert!(BlobLocation::parse("s3://", none()).is_err());
        assert!(BlobLocation::parse("gs://bucket", none()).is_err());
        Ok(())
    }

    #[test]
    fn originals_are_content_addressed() {
        let sha = "ab12cd34ef";
        assert_eq!(original_key(sha), "originals/ab/12/ab12cd34ef");
    }
}
