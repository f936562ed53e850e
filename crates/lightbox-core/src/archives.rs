//! ZIP archives: `POST /v1/archives` queues a build; the job streams every
//! image into a stored (uncompressed — JPEGs do not shrink) ZIP written
//! straight to the blob store, reporting `done`/`total` on the Operation;
//! `GET /v1/archives` lists the ready ones with a signed link. Each archive
//! is kept [`DEFAULT_LIFETIME`] (7 days; `--archive-lifetime`); a job scheduled for that moment deletes it,
//! and reads never show an expired one even if that job is late.

use lightbox_store::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lightbox_store::archives::{self as store, ArchiveRow};
use lightbox_store::images as image_store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::clock::format_rfc3339;
use crate::downloads::{self, LinkTarget};
use crate::error::{CoreError, ErrorKind};
use crate::jobs::{Job, JobFailure, JobFuture, JobPayload};
use crate::operations::{Operation, OperationStatus};
use crate::set_arrangement::id_set;
use crate::writes::{self, Begun, JobSpec, WorkDone, WriteContext};
use crate::{Core, ids, validate};

/// Most images in one archive.
pub const MAX_IMAGES: usize = 10_000;
/// How long an archive is kept unless the server says otherwise
/// (`--archive-lifetime`).
pub const DEFAULT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);
pub const BUILD_JOB: &str = "archive.build";
pub const EXPIRE_JOB: &str = "archive.expire";
/// Longest `filename`, in characters (before `.zip`).
pub const FILENAME_MAX: usize = 200;

/// `POST /v1/archives` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArchive {
    /// 1-10,000 images of the account (one listed twice is taken once); the
    /// archive keeps this order.
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 10000)]
    pub image_public_uuids: Vec<String>,
    /// Absent: each image's original (or, where the caller may not have
    /// originals, its largest version). A profile (`GET /v1/version_profiles`):
    /// each image's largest version of that profile.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub version_profile_uuid: Option<String>,
    /// The archive's file name; `.zip` is added. No `/`, `\` or control
    /// characters; 1-200 characters. Default `images-<date>`.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^/\\\x00-\x1f\x7f-\x9f]*[^/\\\s\x00-\x1f\x7f-\x9f][^/\\\x00-\x1f\x7f-\x9f]*$"
    )]
    pub filename: Option<String>,
}

/// A ready archive.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Archive {
    pub uuid: String,
    #[schema(example = "press-kit.zip")]
    pub filename: String,
    /// A signed link that anyone holding it can download until `expires_at`.
    pub url: String,
    pub bytes: i64,
    pub image_count: i64,
    pub created_at: String,
    pub expires_at: String,
}

fn archive_not_found(id: &str) -> CoreError {
    CoreError::new(ErrorKind::NotFound, format!("No archive {id}."))
}

/// `name` made into the archive's file name: trimmed, `.zip` added once.
fn zip_filename(name: Option<&str>, now: i64) -> Result<String, CoreError> {
    let Some(name) = name else {
        let day = format_rfc3339(now);
        return Ok(format!("images-{}.zip", &day[..10]));
    };
    let name = validate::required_text("filename", name, FILENAME_MAX)?;
    if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(CoreError::validation(
            "filename",
            "filename must not contain '/', '\\' or control characters.",
        ));
    }
    if name.to_ascii_lowercase().ends_with(".zip") {
        Ok(name)
    } else {
        Ok(format!("{name}.zip"))
    }
}

/// Queues an archive of the images; the Operation reports `done`/`total`
/// and, when it succeeds, `result.archive`.
pub async fn create(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    input: NewArchive,
) -> Result<Operation, CoreError> {
    let (input, filename) = checked(core, input)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return visible_operation(core, principal, op).await,
        Begun::Fresh(write) => write,
    };
    let owner = ArchiveOwner {
        created_by: principal.user().map(|(u, _)| u.user.uuid.clone()),
        originals_of: downloads::originals_scope(principal),
    };
    let (_, done) = queue(core, &mut write, owner, input, filename).await?;
    write.finish(done).await
}

/// The request checked before anything is touched: the image set, the
/// profile, the file name.
pub(crate) fn checked(core: &Core, input: NewArchive) -> Result<(NewArchive, String), CoreError> {
    let mut input = input;
    input.image_public_uuids = id_set("image_public_uuids", input.image_public_uuids)?;
    if let Some(profile) = &input.version_profile_uuid {
        validate::uuid("version_profile_uuid", profile)?;
        if profile != crate::media::DEFAULT_PROFILE_UUID {
            return Err(CoreError::new(
                ErrorKind::NotFound,
                format!("No version profile {profile}."),
            )
            .with_field("version_profile_uuid"));
        }
    }
    let filename = zip_filename(input.filename.as_deref(), core.now())?;
    Ok((input, filename))
}

/// For whom an archive is built: the user who asked (none for a service
/// token or a press member) and whose originals it may hold
/// ([`downloads::originals_scope`]).
pub(crate) struct ArchiveOwner {
    pub created_by: Option<String>,
    pub originals_of: Value,
}

/// Within a write: the archive's row and its build job. Answers the
/// archive's id and the work to finish the write with (the caller may add
/// to the transaction first).
pub(crate) async fn queue(
    core: &Core,
    write: &mut writes::PendingWrite,
    owner: ArchiveOwner,
    input: NewArchive,
    filename: String,
) -> Result<(String, WorkDone), CoreError> {
    let lifetime = crate::media::settings(core)?.archive_lifetime;
    let account = write.account_id().to_owned();
    let now = write.now();
    let found: std::collections::HashSet<String> =
        lightbox_store::sets::existing_images(write.tx(), &account, &input.image_public_uuids)
            .await?
            .into_iter()
            .collect();
    if let Some((n, missing)) = input
        .image_public_uuids
        .iter()
        .enumerate()
        .find(|(_, id)| !found.contains(*id))
    {
        return Err(
            CoreError::new(ErrorKind::ImageNotFound, format!("No image {missing}."))
                .with_field(format!("image_public_uuids[{n}]")),
        );
    }
    let id = ids::new_public_uuid();
    let op_id = write.operation_id().to_owned();
    let row = ArchiveRow {
        id: id.clone(),
        account_id: account.clone(),
        operation_id: op_id.clone(),
        filename,
        status: "building".to_owned(),
        blob_key: format!("archives/{id}.zip"),
        bytes: None,
        image_count: input.image_public_uuids.len() as i64,
        created_by: owner.created_by,
        created_at: Timestamp(now),
        expires_at: Timestamp(
            now.saturating_add(i64::try_from(lifetime.as_micros()).unwrap_or(i64::MAX / 2)),
        ),
        // Decided by the build; until then, fail closed.
        originals_by: ANYONES.to_owned(),
    };
    store::insert(write.tx(), &row).await?;
    let total = input.image_public_uuids.len();
    let done = WorkDone {
        kind: BUILD_JOB,
        status: OperationStatus::Queued,
        result: json!({ "archive_uuid": id, "done": 0, "total": total }),
        image_public_uuids: input.image_public_uuids.clone(),
        set_public_uuid: None,
        jobs: vec![JobSpec::of(
            &BuildPayload {
                operation: op_id.clone(),
                account: account.clone(),
                archive: id.clone(),
                images: input.image_public_uuids.clone(),
                profile: input.version_profile_uuid.clone(),
                originals_of: owner.originals_of,
            },
            3,
            None,
        )?],
        changes: vec![],
    };
    Ok((id, done))
}

async fn archive_object(core: &Core, row: &ArchiveRow) -> Result<Archive, CoreError> {
    // The link lives as long as the archive.
    let link = downloads::sign_link_until(
        core,
        &row.account_id,
        LinkTarget::Archive {
            archive: row.id.clone(),
        },
        &row.filename,
        row.expires_at.micros().div_euclid(1_000_000),
    )
    .await?;
    Ok(Archive {
        uuid: row.id.clone(),
        filename: row.filename.clone(),
        url: link.url,
        bytes: row.bytes.unwrap_or(0),
        image_count: row.image_count,
        created_at: format_rfc3339(row.created_at),
        expires_at: format_rfc3339(row.expires_at),
    })
}

/// The account's archive `id` with its signed link, once it is ready and
/// until it expires; `None` before, after, or when there is no such one.
pub(crate) async fn ready_archive(
    core: &Core,
    account_id: &str,
    id: &str,
) -> Result<Option<Archive>, CoreError> {
    let row = {
        let mut conn = core.store.read().await?;
        store::find(&mut conn, account_id, id).await?
    };
    match row {
        Some(row) if row.status == "ready" && row.expires_at > Timestamp(core.now()) => {
            Ok(Some(archive_object(core, &row).await?))
        }
        _ => Ok(None),
    }
}

/// `originals_by` of an archive holding originals of several uploaders (or
/// of uploads made by service tokens).
const ANYONES: &str = "*";

/// The `originals_by` a `user` caller needs to see an archive: its uuid
/// (`''`, no originals, is open to all). `None`: it may see every archive.
fn originals_filter(principal: &Principal) -> Option<String> {
    match downloads::originals_scope(principal) {
        Value::Null => None,
        Value::String(user) => Some(user),
        // Fail closed: a shape no archive row carries.
        _ => Some(ANYONES.repeat(2)),
    }
}

/// May the caller have this archive's link: `api.download`, and every
/// original in it one it may download itself.
fn may_have(principal: &Principal, row: &ArchiveRow) -> bool {
    principal.has_scope(crate::scope::Scope::Download)
        && match originals_filter(principal) {
            None => true,
            Some(user) => row.originals_by.is_empty() || row.originals_by == user,
        }
}

/// The Operation as this caller may see it: an `archive.build`'s
/// `result.archive.url` is a capability, so it becomes `null` for a
/// credential that may not have the archive (spec §2.2, roles).
pub async fn visible_operation(
    core: &Core,
    principal: &Principal,
    mut op: Operation,
) -> Result<Operation, CoreError> {
    if op.kind != BUILD_JOB {
        return Ok(op);
    }
    let Some(archive) = op.result.get_mut("archive").and_then(Value::as_object_mut) else {
        return Ok(op);
    };
    let id = archive
        .get("uuid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let row = {
        let mut conn = core.store.read().await?;
        store::find(&mut conn, &principal.account.uuid, id).await?
    };
    if !row.is_some_and(|row| may_have(principal, &row)) {
        archive.insert("url".to_owned(), Value::Null);
    }
    Ok(op)
}

/// Ready, unexpired archives of the account the caller may have, newest
/// first.
pub async fn list(
    core: &Core,
    principal: &Principal,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Archive>, bool), CoreError> {
    let filter = originals_filter(principal);
    let rows = {
        let mut conn = core.store.read().await?;
        store::list_ready(
            &mut conn,
            &principal.account.uuid,
            Timestamp(core.now()),
            filter.as_deref(),
            limit + 1,
            offset,
        )
        .await?
    };
    let (rows, more) = crate::cut_page(rows, limit);
    let mut archives = Vec::with_capacity(rows.len());
    for row in &rows {
        archives.push(archive_object(core, row).await?);
    }
    Ok((archives, more))
}

/// What a signed archive link serves: the ready, unexpired archive's blob.
pub async fn ready_blob(
    core: &Core,
    account_id: &str,
    id: &str,
) -> Result<(String, u64), CoreError> {
    let mut conn = core.store.read().await?;
    let row = store::find(&mut conn, account_id, id)
        .await?
        .filter(|r| r.status == "ready" && r.expires_at > Timestamp(core.now()))
        .ok_or_else(|| archive_not_found(id))?;
    Ok((
        row.blob_key,
        u64::try_from(row.bytes.unwrap_or(0)).unwrap_or(0),
    ))
}

// --- the jobs -------------------------------------------------------------------------

/// Builds one archive (see the module doc).
pub struct BuildJob;

/// What a queued archive build reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct BuildPayload {
    pub operation: String,
    pub account: String,
    pub archive: String,
    pub images: Vec<String>,
    /// A version profile: versions instead of originals.
    pub profile: Option<String>,
    /// Whose originals the caller may have ([`downloads::originals_scope`]);
    /// `null` is anyone's, so a payload without the key does not read.
    #[serde(deserialize_with = "Value::deserialize")]
    pub originals_of: Value,
}

impl JobPayload for BuildPayload {
    const KIND: &'static str = BUILD_JOB;
}

impl Job for BuildJob {
    type Payload = BuildPayload;
    fn run(&self, core: Core, payload: BuildPayload) -> JobFuture {
        Box::pin(async move { build(&core, payload).await })
    }
}

async fn build(core: &Core, payload: BuildPayload) -> Result<Value, JobFailure> {
    let (operation, account, id) = (
        payload.operation.as_str(),
        payload.account.as_str(),
        payload.archive.as_str(),
    );
    let images = &payload.images;
    let profile = payload.profile.is_some();
    let originals_of = &payload.originals_of;
    let media = core
        .media
        .clone()
        .ok_or_else(|| JobFailure::give_up(CoreError::internal()))?;
    let row = {
        let mut conn = core.store.read().await.map_err(JobFailure::retry)?;
        store::find(&mut conn, account, id)
            .await
            .map_err(JobFailure::retry)?
            .ok_or_else(|| JobFailure::give_up(archive_not_found(id)))?
    };
    // Work out each entry: the blob it streams from, its size and name;
    // and whose originals go in.
    let mut sources = Vec::with_capacity(images.len());
    let mut owners = std::collections::BTreeSet::new();
    for chunk in images.chunks(1_000) {
        let mut conn = core.store.read().await.map_err(JobFailure::retry)?;
        let rows = image_store::find_many(&mut conn, account, chunk)
            .await
            .map_err(JobFailure::retry)?;
        let versions = image_store::versions_of(&mut conn, chunk)
            .await
            .map_err(JobFailure::retry)?;
        let mut by_id: std::collections::HashMap<String, _> =
            rows.into_iter().map(|r| (r.id.clone(), r)).collect();
        for image in chunk {
            // Deleted since the request: left out (counted in `skipped`).
            let Some(row) = by_id.remove(image) else {
                continue;
            };
            let own: Vec<_> = versions.iter().filter(|v| v.image_id == *image).collect();
            let original = !profile && downloads::may_have_original(originals_of, &row);
            let source = if original {
                owners.insert(row.uploaded_by.clone());
                Some((
                    row.original_key.clone(),
                    row.bytes,
                    row.filename.clone(),
                    row.created_at,
                ))
            } else {
                // The largest public version there is.
                own.iter().max_by_key(|v| v.width * v.height).map(|v| {
                    let stem = row
                        .filename
                        .rsplit_once('.')
                        .map_or(row.filename.as_str(), |(s, _)| s);
                    let ext = crate::images::version_extension(&v.content_type);
                    (
                        v.blob_key.clone(),
                        v.bytes,
                        format!("{stem}.{ext}"),
                        row.created_at,
                    )
                })
            };
            if let Some(source) = source {
                sources.push(source);
            }
        }
    }
    let total = images.len();
    let names =
        lightbox_media::zip::entry_names(&sources.iter().map(|s| s.2.as_str()).collect::<Vec<_>>());
    let entries: Vec<lightbox_media::zip::ArchiveEntry> = sources
        .iter()
        .zip(names)
        .map(
            |((key, bytes, _, created), name)| lightbox_media::zip::ArchiveEntry {
                name,
                blob_key: key.clone(),
                size: u64::try_from(*bytes).unwrap_or(0),
                modified: created.micros() / 1_000_000,
            },
        )
        .collect();
    let skipped = total - entries.len();
    let originals_by = match owners.iter().collect::<Vec<_>>().as_slice() {
        [] => String::new(),
        [Some(user)] => user.clone(),
        _ => ANYONES.to_owned(),
    };

    // Progress: the writer counts entries; a ticker copies the count to the
    // Operation twice a second.
    let done = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (core, done, operation, id) = (
            core.clone(),
            done.clone(),
            operation.to_owned(),
            id.to_owned(),
        );
        tokio::spawn(async move {
            let mut last = usize::MAX;
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let now_done = done.load(Ordering::Relaxed);
                if now_done != last {
                    last = now_done;
                    let progress = json!({ "archive_uuid": id, "done": now_done, "total": total });
                    let _ = crate::operations::report_progress(&core, &operation, &progress).await;
                }
            }
        })
    };
    let counter = done.clone();
    let written = lightbox_media::zip::write_archive(
        &media.blobs,
        &media.blobs,
        &row.blob_key,
        &entries,
        lightbox_media::zip::ArchiveOptions::default(),
        move |n| counter.store(n, Ordering::Relaxed),
    )
    .await;
    ticker.abort();
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, archive = id, "building an archive failed");
            if let Ok(mut tx) = core.store.begin_write().await {
                let _ = store::finish(&mut tx, id, "failed", None, 0, ANYONES).await;
                let _ = tx.commit().await;
            }
            return Err(JobFailure::give_up(CoreError::new(
                ErrorKind::Internal,
                "Building the archive failed; it has been logged.",
            )));
        }
    };
    let bytes = i64::try_from(written.bytes).unwrap_or(i64::MAX);
    let count = entries.len() as i64;
    // Ready, and its deletion scheduled (an Operation of its own, run at
    // the expiry), in one transaction.
    let mut write = writes::begin_unkeyed(core, account)
        .await
        .map_err(JobFailure::retry)?;
    store::finish(write.tx(), id, "ready", Some(bytes), count, &originals_by)
        .await
        .map_err(JobFailure::retry)?;
    write
        .finish(WorkDone {
            kind: EXPIRE_JOB,
            status: OperationStatus::Queued,
            result: json!({ "archive_uuid": id }),
            image_public_uuids: vec![],
            set_public_uuid: None,
            jobs: vec![
                JobSpec::of(
                    &ExpirePayload {
                        account: account.to_owned(),
                        archive: id.to_owned(),
                    },
                    10,
                    Some(row.expires_at.micros()),
                )
                .map_err(JobFailure::retry)?,
            ],
            changes: vec![],
        })
        .await
        .map_err(JobFailure::retry)?;
    let mut ready = row.clone();
    ready.status = "ready".to_owned();
    ready.bytes = Some(bytes);
    ready.image_count = count;
    ready.originals_by = originals_by;
    let archive = archive_object(core, &ready)
        .await
        .map_err(JobFailure::give_up)?;
    Ok(
        json!({ "archive_uuid": id, "archive": archive, "done": total, "total": total, "skipped": skipped }),
    )
}

/// Deletes an expired archive: its blob, then its row.
pub struct ExpireJob;

/// What a queued archive expiry reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExpirePayload {
    pub account: String,
    pub archive: String,
}

impl JobPayload for ExpirePayload {
    const KIND: &'static str = EXPIRE_JOB;
}

impl Job for ExpireJob {
    type Payload = ExpirePayload;
    fn run(&self, core: Core, payload: ExpirePayload) -> JobFuture {
        Box::pin(async move { expire(&core, payload).await })
    }
}

async fn expire(core: &Core, payload: ExpirePayload) -> Result<Value, JobFailure> {
    let (account, id) = (payload.account.as_str(), payload.archive.as_str());
    let row = {
        let mut conn = core.store.read().await.map_err(JobFailure::retry)?;
        store::find(&mut conn, account, id)
            .await
            .map_err(JobFailure::retry)?
    };
    let Some(row) = row else {
        return Ok(json!({ "archive_uuid": id, "deleted": false }));
    };
    if let Some(media) = &core.media {
        match media.blobs.delete(&row.blob_key).await {
            Ok(()) | Err(lightbox_media::BlobError::NotFound(_)) => {}
            Err(e) => {
                return Err(JobFailure::retry(CoreError::new(
                    ErrorKind::Internal,
                    e.to_string(),
                )));
            }
        }
    }
    let mut tx = core.store.begin_write().await.map_err(JobFailure::retry)?;
    store::delete(&mut tx, id)
        .await
        .map_err(JobFailure::retry)?;
    tx.commit().await.map_err(JobFailure::retry)?;
    Ok(json!({ "archive_uuid": id, "deleted": true }))
}
