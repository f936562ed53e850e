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
//!
//! Big derived blobs (archives) are written in parts straight to their key
//! through a [`BlobWriter`]: a multipart upload on S3, a staging file beside
//! the key in a folder. Nothing appears under the key until
//! [`BlobWriter::finish`]; an error, [`BlobWriter::abort`] or a drop leaves
//! nothing there. (Not via `tmp/` and a copy: S3 copies one object of at
//! most 5 GiB, and an archive can be bigger.)

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, GetResultPayload, ObjectStore, ObjectStoreExt, WriteMultipart,
};
use sha2::{Digest, Sha256};

/// Part size of streamed uploads (S3 needs ≥ 5 MiB but the last).
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once: memory per upload ≈ (this + 1) × `PART_BYTES`.
const PARTS_IN_FLIGHT: usize = 2;
/// Bytes read from a folder store per blocking call while streaming out
/// (`object_store`'s own stream reads 8 KiB per call, which costs a thread
/// hand-off every 8 KiB of a 2 GiB download).
const READ_CHUNK: u64 = 1024 * 1024;

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
    #[error("reading a blob failed: {0}")]
    Io(#[from] std::io::Error),
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
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !bucket_ok {
                return Err(BlobError::Config(format!(
                    "{spec:?}: name the bucket (3-63 lowercase letters, digits, '-', '.'), as in s3://bucket/prefix"
                )));
            }
            let prefix = prefix.trim_matches('/');
            // Plain segments only, so keys come back exactly as they went in.
            let prefix_ok = prefix.is_empty()
                || prefix.split('/').all(|seg| {
                    !seg.is_empty()
                        && seg != "."
                        && seg != ".."
                        && seg
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                });
            if !prefix_ok {
                return Err(BlobError::Config(format!(
                    "{spec:?}: the prefix may hold letters, digits, '-', '_', '.' and single '/' between parts"
                )));
            }
            if s3.access_key_id.is_some() != s3.secret_access_key.is_some() {
                return Err(BlobError::Config(
                    "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".to_owned(),
                ));
            }
            return Ok(BlobLocation::S3(S3Settings {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
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
                let at = s3
                    .endpoint
                    .as_deref()
                    .map_or("AWS".to_owned(), without_userinfo);
                format!("s3://{}/{} at {at}", s3.bucket, s3.prefix)
            }
        }
    }
}

/// S3 connection details from flags and environment.
#[derive(Clone, Default)]
pub struct S3Connection {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Connection {
    // The secret key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Connection")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An endpoint without any `user:password@` part, for logs.
fn without_userinfo(endpoint: &str) -> String {
    match (endpoint.find("://"), endpoint.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &endpoint[..scheme + 3], &endpoint[at + 1..])
        }
        _ => endpoint.to_owned(),
    }
}

/// An original streamed to `tmp/` and hashed, not yet at its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedOriginal {
    pub tmp_key: String,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    /// The content address it will be published at.
    pub key: String,
}

/// An original as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOriginal {
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub key: String,
    /// The same bytes were already stored (by any account: never tell a
    /// client; they were copied over all the same).
    pub duplicate: bool,
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The same store without retries, for [`BlobStore::check`]: a refused
    /// connection is reported with its cause at once, not retried into a
    /// timeout that hides it.
    probe: Arc<dyn ObjectStore>,
    /// Key prefix inside the bucket (S3); empty for a folder.
    prefix: String,
    /// The folder, for a folder store (its staging files are swept by hand).
    root: Option<PathBuf>,
    describe: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The content address of an original; `None` unless `sha256` is 64
/// lowercase hex digits (a key never carries anything else).
pub fn original_key(sha256: &str) -> Option<String> {
    let ok = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then(|| format!("originals/{}/{}/{sha256}", &sha256[0..2], &sha256[2..4]))
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

/// Streams bytes `range` of a local file in [`READ_CHUNK`] pieces, each read
/// on the blocking pool; the next piece is read while the consumer sends the
/// last, so at most two pieces are held. A file that ends early is an error
/// (a short body must not pass for a whole one).
fn read_ahead(
    file: std::fs::File,
    range: Range<u64>,
) -> BoxStream<'static, Result<Bytes, BlobError>> {
    use std::io::{Read, Seek, SeekFrom};
    type Pending = tokio::task::JoinHandle<std::io::Result<(std::fs::File, Bytes)>>;
    fn read(mut file: std::fs::File, want: u64, seek: Option<u64>) -> Pending {
        tokio::task::spawn_blocking(move || {
            if let Some(at) = seek {
                file.seek(SeekFrom::Start(at))?;
            }
            let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
            (&mut file).take(want).read_to_end(&mut buf)?;
            Ok((file, Bytes::from(buf)))
        })
    }
    let left = range.end.saturating_sub(range.start);
    let first = (left > 0).then(|| read(file, left.min(READ_CHUNK), Some(range.start)));
    futures::stream::unfold((first, left), |(pending, left)| async move {
        let outcome = match pending?.await {
            Ok(outcome) => outcome,
            Err(e) => Err(std::io::Error::other(e)),
        };
        match outcome {
            Ok((_, chunk)) if chunk.is_empty() => Some((
                Err(BlobError::Io(std::io::ErrorKind::UnexpectedEof.into())),
                (None, 0),
            )),
            Ok((file, chunk)) => {
                let left = left.saturating_sub(chunk.len() as u64);
                let next = (left > 0).then(|| read(file, left.min(READ_CHUNK), None));
                Some((Ok(chunk), (next, left)))
            }
            Err(e) => Some((Err(BlobError::Io(e)), (None, 0))),
        }
    })
    .boxed()
}

impl BlobStore {
    pub fn open(location: &BlobLocation) -> Result<Self, BlobError> {
        let describe = location.describe();
        match location {
            BlobLocation::Dir(path) => {
                std::fs::create_dir_all(path).map_err(|e| {
                    BlobError::Config(format!("cannot create {}: {e}", path.display()))
                })?;
                let store: Arc<dyn ObjectStore> =
                    Arc::new(LocalFileSystem::new_with_prefix(path)?.with_automatic_cleanup(true));
                Ok(Self {
                    probe: store.clone(),
                    store,
                    prefix: String::new(),
                    root: Some(path.clone()),
                    describe,
                })
            }
            BlobLocation::S3(s3) => {
                // From the environment first (session tokens, web identity,
                // container credentials), then what was configured.
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.to_ascii_lowercase().starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                let probe = builder
                    .clone()
                    .with_retry(object_store::RetryConfig {
                        max_retries: 0,
                        ..Default::default()
                    })
                    .with_client_options(
                        object_store::ClientOptions::new()
                            .with_connect_timeout(std::time::Duration::from_secs(3))
                            .with_timeout(std::time::Duration::from_secs(5)),
                    )
                    // The client options above replaced this one.
                    .with_allow_http(
                        s3.endpoint
                            .as_deref()
                            .is_some_and(|e| e.to_ascii_lowercase().starts_with("http://")),
                    );
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    probe: Arc::new(probe.build()?),
                    prefix: s3.prefix.clone(),
                    root: None,
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
        source: S,
        max_bytes: u64,
    ) -> Result<StoredOriginal, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let staged = self.stage_original(source, max_bytes).await?;
        self.publish_original(&staged).await
    }

    /// The first half of [`put_original`](Self::put_original): streams the
    /// bytes to `tmp/` while hashing them. The caller can then claim the
    /// content address (e.g. in its database) before publishing there.
    pub async fn stage_original<S, E>(
        &self,
        mut source: S,
        max_bytes: u64,
    ) -> Result<StagedOriginal, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_key = format!("tmp/{}", uuid::Uuid::new_v4());
        let mut writer = self.writer(&tmp_key).await?;
        // SHA-256 runs on its own thread beside the network and the writes
        // (a 2 GiB original is over a second of hashing); the channel holds
        // a bounded number of chunks, so memory stays flat if it lags.
        let (to_hasher, mut chunks) = tokio::sync::mpsc::channel::<Bytes>(64);
        let hashing = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            while let Some(chunk) = chunks.blocking_recv() {
                hasher.update(&chunk);
            }
            hasher.finalize()
        });
        let mut size: u64 = 0;
        let streamed: Result<(), BlobError> = async {
            while let Some(chunk) = source.next().await {
                let chunk = chunk.map_err(|e| BlobError::Source(e.to_string()))?;
                size = size.saturating_add(chunk.len() as u64);
                if size > max_bytes {
                    return Err(BlobError::TooLarge(max_bytes));
                }
                to_hasher
                    .send(chunk.clone())
                    .await
                    .map_err(|_| BlobError::Config("the hashing thread stopped".to_owned()))?;
                writer.write(chunk).await?;
            }
            Ok(())
        }
        .await;
        drop(to_hasher);
        if let Err(e) = streamed {
            writer.abort().await;
            return Err(e);
        }
        writer.finish().await?;
        let digest = hashing
            .await
            .map_err(|e| BlobError::Config(format!("the hashing thread failed: {e}")))?;
        let sha256 = hex(&digest);
        let key =
            original_key(&sha256).ok_or_else(|| BlobError::Config("bad digest".to_owned()))?;
        Ok(StagedOriginal {
            tmp_key,
            sha256,
            size,
            key,
        })
    }

    /// The second half: puts the staged bytes at their content address
    /// (always: see below) and removes the staging copy.
    pub async fn publish_original(
        &self,
        staged: &StagedOriginal,
    ) -> Result<StoredOriginal, BlobError> {
        let tmp = self.path(&staged.tmp_key);
        let target = self.path(&staged.key);
        let duplicate = match self.store.head(&target).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => {
                self.delete_quietly(&tmp).await;
                return Err(e.into());
            }
        };
        // Copied even when the address holds these bytes already (the same
        // bytes, so nothing changes): addresses are shared by all accounts,
        // and skipping the copy would let an upload's timing tell whether
        // another account stored the same file.
        if let Err(e) = self.store.copy(&tmp, &target).await {
            self.delete_quietly(&tmp).await;
            return Err(e.into());
        }
        self.delete_quietly(&tmp).await;
        Ok(StoredOriginal {
            sha256: staged.sha256.clone(),
            size: staged.size,
            key: staged.key.clone(),
            duplicate,
        })
    }

    /// Drops a staged original that will not be published.
    pub async fn discard_staged(&self, staged: &StagedOriginal) {
        self.delete_quietly(&self.path(&staged.tmp_key)).await;
    }

    async fn delete_quietly(&self, path: &Path) -> bool {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => true,
            Err(e) => {
                tracing::warn!(error = %e, key = %path, "could not delete a temporary blob; the sweep will collect it");
                false
            }
        }
    }

    /// Stores a small derived blob (a version) whole.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store.put(&self.path(key), bytes.into()).await?;
        Ok(())
    }

    /// Starts writing a blob at `key` in parts, with flat memory however
    /// big it grows (for archives). The blob appears under `key` only when
    /// [`BlobWriter::finish`] succeeds.
    pub async fn writer(&self, key: &str) -> Result<BlobWriter, BlobError> {
        let upload = self.store.put_multipart(&self.path(key)).await?;
        Ok(BlobWriter {
            guard: UploadGuard(Some(WriteMultipart::new_with_chunk_size(
                upload, PART_BYTES,
            ))),
            key: key.to_owned(),
            written: 0,
        })
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

    /// A blob, or bytes `range` of it (end exclusive, within the blob), as
    /// a stream of chunks — never whole in memory, whatever the size. From a
    /// folder, 1 MiB chunks are read on the blocking pool, the next read
    /// under way while the last chunk is sent; from S3, the response body
    /// streams as it arrives.
    pub async fn stream(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&self.path(key), options)
            .await
            .map_err(|e| BlobError::from_store(e, key))?;
        let range = result.range.clone();
        Ok(match result.payload {
            GetResultPayload::File(file, _) => read_ahead(file, range),
            GetResultPayload::Stream(s) => s.map(|c| c.map_err(BlobError::Store)).boxed(),
        })
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
        if let Some(root) = &self.root {
            // A folder's multipart staging files (`tmp/<uuid>#<n>`) are
            // hidden from listings and refused by `delete`: walk the folder.
            let dir = root.join("tmp");
            return tokio::task::spawn_blocking(move || sweep_dir(&dir, cutoff))
                .await
                .map_err(|e| BlobError::Config(format!("sweep: {e}")))?;
        }
        let mut listing = self.store.list(Some(&self.path("tmp")));
        let mut stale = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if std::time::SystemTime::from(meta.last_modified) < cutoff {
                stale.push(meta.location);
            }
        }
        let mut swept = 0;
        for path in &stale {
            swept += usize::from(self.delete_quietly(path).await);
        }
        Ok(swept)
    }

    /// Readiness: the folder exists, or the bucket answers a one-level
    /// listing — within 5 s (the store's own retries could take minutes).
    pub async fn check(&self) -> Result<(), BlobError> {
        if let Some(root) = &self.root
            && !tokio::fs::metadata(root).await.is_ok_and(|m| m.is_dir())
        {
            return Err(BlobError::Config(format!(
                "{} is not a folder",
                root.display()
            )));
        }
        let originals = self.path("originals");
        let probe = self.probe.list_with_delimiter(Some(&originals));
        match tokio::time::timeout(std::time::Duration::from_secs(5), probe).await {
            Ok(Ok(_)) => Ok(()),
            // The whole chain: the cause ("Connection refused", "dns error")
            // sits a few sources below "error sending request".
            Ok(Err(e)) => Err(BlobError::Config(error_chain(&e))),
            Err(_) => Err(BlobError::Config("no answer within 5 s".to_owned())),
        }
    }
}

/// An error and its sources, each once, joined by ": ".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Deletes files under `dir` last modified before `cutoff`; returns how
/// many. A missing folder has nothing to sweep.
fn sweep_dir(dir: &std::path::Path, cutoff: std::time::SystemTime) -> Result<usize, BlobError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(BlobError::Config(format!("{}: {e}", dir.display()))),
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().is_ok_and(|m| m < cutoff);
        if meta.is_file() && old {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => swept += 1,
                Err(e) => {
                    tracing::warn!(error = %e, file = %entry.path().display(), "could not sweep")
                }
            }
        }
    }
    Ok(swept)
}

/// A blob being written in parts (see [`BlobStore::writer`]). At most
/// `PARTS_IN_FLIGHT` parts upload at once, so memory stays at a few parts
/// (≈ 24 MiB). Dropped unfinished, it aborts the upload.
pub struct BlobWriter {
    guard: UploadGuard,
    key: String,
    written: u64,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("key", &self.key)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// Appends `bytes` (kept without copying until their part is sent);
    /// waits while the parts in flight are at their limit.
    pub async fn write(&mut self, mut bytes: Bytes) -> Result<(), BlobError> {
        self.written += bytes.len() as u64;
        // At most one part per step, so parts in flight stay bounded
        // however large a chunk the caller hands over.
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(PART_BYTES));
            let writer = self.guard.writer()?;
            writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            writer.put(piece);
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Sends the last part and publishes the blob under its key; returns
    /// its size. On failure the upload is aborted (nothing under the key).
    pub async fn finish(mut self) -> Result<u64, BlobError> {
        self.guard.take()?.finish().await?;
        Ok(self.written)
    }

    /// Gives up: drops the parts sent (nothing appears under the key).
    pub async fn abort(mut self) {
        if let Ok(writer) = self.guard.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!(error = %e, key = self.key, "could not abort an upload; its parts or staging file may be left");
        }
    }
}

/// Holds an upload in progress; dropped unfinished (the request went away
/// mid-stream), it aborts the upload so no parts are left behind.
struct UploadGuard(Option<WriteMultipart>);

impl UploadGuard {
    fn writer(&mut self) -> Result<&mut WriteMultipart, BlobError> {
        self.0
            .as_mut()
            .ok_or_else(|| BlobError::Config("upload already finished".to_owned()))
    }

    fn take(&mut self) -> Result<WriteMultipart, BlobError> {
        self.0
            .take()
            .ok_or_else(|| BlobError::Config("upload already finished".to_owned()))
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = writer.abort().await {
                    tracing::warn!(error = %e, "could not abort a dropped upload");
                }
            });
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
        let sha = "ab12cd34ef000000000000000000000000000000000000000000000000000000";
        assert_eq!(
            original_key(sha).as_deref(),
            Some(
                "originals/ab/12/ab12cd34ef000000000000000000000000000000000000000000000000000000"
            )
        );
        assert_eq!(original_key("ab12"), None);
        assert_eq!(original_key(&"../".repeat(21)), None);
        assert_eq!(original_key(&"A".repeat(64)), None);
    }

    #[test]
    fn s3_locations_are_checked_and_never_print_secrets() {
        let conn = S3Connection {
            endpoint: Some("http://user:hunter2@127.0.0.1:9000".into()),
            access_key_id: Some("AKIA".into()),
            secret_access_key: Some("very-secret".into()),
            ..S3Connection::default()
        };
        assert!(!format!("{conn:?}").contains("very-secret"));
        let location =
            BlobLocation::parse("s3://photos/a/b", conn.clone()).map_err(|e| e.to_string());
        let Ok(location) = location else {
            panic!("{location:?}")
        };
        assert!(!format!("{location:?}").contains("very-secret"));
        assert!(
            !location.describe().contains("hunter2"),
            "{}",
            location.describe()
        );
        for bad in [
            "s3://Photos/x",
            "s3://ab",
            "s3://photos/a//b",
            "s3://photos/../x",
            "s3://photos/a~b",
        ] {
            assert!(BlobLocation::parse(bad, conn.clone()).is_err(), "{bad}");
        }
        let half = S3Connection {
            secret_access_key: None,
            ..conn
        };
        assert!(BlobLocation::parse("s3://photos/x", half).is_err());
    }
}
