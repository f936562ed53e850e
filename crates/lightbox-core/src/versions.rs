//! Version building (a job per image) and blob collection.
//!
//! The job re-derives everything from the database row and the original, so
//! running it again after a crash is harmless: it fetches the original to a
//! scratch file, renders every size of the profile (EXIF orientation, then
//! the image's `rotation`), stores each under a key that names its content,
//! and swaps the version rows in one transaction. Replaced blobs are noted
//! as garbage in that transaction and collected after it.

use futures::StreamExt;
use lightbox_media::TempFile;
use lightbox_media::render::{RenderError, RenderLimits, Rendered, VersionSpec};
use lightbox_media::sniff::MediaKind;
use lightbox_store::Timestamp;
use lightbox_store::images::{self as store, GarbageState, VersionRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::Core;
use crate::error::{CoreError, ErrorKind};
use crate::jobs::{Job, JobFailure, JobFuture, JobPayload};
use crate::media::DEFAULT_SIZES;

/// Builds the versions of the image named in the payload.
pub struct VersionsJob;

/// What a queued version build reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct VersionsPayload {
    pub image_public_uuid: String,
    /// The rotation that asked for the rebuild (kept for the record; the
    /// build reads the image's current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<i64>,
}

impl JobPayload for VersionsPayload {
    const KIND: &'static str = crate::uploads::VERSIONS_JOB;
}

impl Job for VersionsJob {
    type Payload = VersionsPayload;
    fn run(&self, core: Core, payload: VersionsPayload) -> JobFuture {
        Box::pin(async move { build(&core, &payload.image_public_uuid).await })
    }
}

/// The original itself cannot be made into versions: trying again cannot help.
fn fail(message: String) -> JobFailure {
    JobFailure::give_up(CoreError::new(ErrorKind::Validation, message).with_field("file"))
}

async fn build(core: &Core, id: &str) -> Result<Value, JobFailure> {
    let media = crate::media::settings(core).map_err(JobFailure::retry)?;
    let row = {
        let mut conn = core.store.read().await.map_err(JobFailure::retry)?;
        store::find_any(&mut conn, id)
            .await
            .map_err(JobFailure::retry)?
    };
    let Some(row) = row else {
        // Deleted since: nothing to build.
        return Ok(json!({ "image_public_uuid": id, "deleted": true }));
    };
    let kind = MediaKind::parse(&row.media_kind)
        .ok_or_else(|| fail(format!("unknown stored type {}", row.media_kind)))?;
    // Fetch the original to a scratch file (decoders want a file or memory;
    // a file keeps large originals out of memory).
    tokio::fs::create_dir_all(&media.work_dir)
        .await
        .map_err(|e| JobFailure::retry(io_error(e)))?;
    let scratch = TempFile(
        media
            .work_dir
            .join(format!("build-{}", uuid::Uuid::new_v4())),
    );
    {
        let mut file = tokio::fs::File::create(&scratch.0)
            .await
            .map_err(|e| JobFailure::retry(io_error(e)))?;
        let mut stream =
            Box::pin(media.blobs.get(&row.original_key).await.map_err(|e| {
                JobFailure::retry(CoreError::new(ErrorKind::Internal, e.to_string()))
            })?);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                JobFailure::retry(CoreError::new(ErrorKind::Internal, e.to_string()))
            })?;
            file.write_all(&chunk)
                .await
                .map_err(|e| JobFailure::retry(io_error(e)))?;
        }
        file.flush()
            .await
            .map_err(|e| JobFailure::retry(io_error(e)))?;
    }
    let specs: Vec<VersionSpec> = DEFAULT_SIZES
        .iter()
        .map(|s| VersionSpec {
            name: s.name.to_owned(),
            long_edge: s.long_edge,
        })
        .collect();
    let limits = RenderLimits {
        max_pixels: media.max_pixels,
        ..RenderLimits::default()
    };
    let path = scratch.0.clone();
    let rotation = u16::try_from(row.rotation).unwrap_or(0);
    let rendered: Result<Rendered, RenderError> = tokio::task::spawn_blocking(move || {
        if kind.is_video() {
            lightbox_media::video::render_video_versions(&path, rotation, &specs, &limits)
        } else {
            lightbox_media::render::render_versions(kind, &path, rotation, &specs, &limits)
        }
    })
    .await
    .map_err(|e| JobFailure::retry(CoreError::new(ErrorKind::Internal, e.to_string())))?;
    drop(scratch);
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => {
            let reason = e.to_string();
            record_failure(core, id, &reason).await?;
            return Err(fail(format!("The versions could not be built: {reason}")));
        }
    };
    // Store each version under a key naming its content.
    let now = core.now();
    let named: Vec<(String, String, _)> = rendered
        .versions
        .into_iter()
        .map(|v| {
            let digest = Sha256::digest(&v.bytes);
            let etag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            let ext = crate::images::version_extension(v.content_type);
            let key = format!("versions/{id}/{}-{etag}.{ext}", v.name);
            (key, etag, v)
        })
        .collect();
    // Keys are content-named, so a rebuild (rotation 0 → 90 → 0) can reuse
    // a key the collector is deleting: claim each first, as uploads do.
    claim_keys(core, named.iter().map(|(key, _, _)| key.as_str())).await?;
    let mut rows = Vec::with_capacity(named.len());
    for (key, etag, v) in named {
        let bytes = i64::try_from(v.bytes.len()).unwrap_or(i64::MAX);
        media
            .blobs
            .put(&key, bytes::Bytes::from(v.bytes))
            .await
            .map_err(|e| JobFailure::retry(CoreError::new(ErrorKind::Internal, e.to_string())))?;
        rows.push(VersionRow {
            image_id: id.to_owned(),
            name: v.name,
            width: i64::from(v.width),
            height: i64::from(v.height),
            content_type: v.content_type.to_owned(),
            bytes,
            etag,
            blob_key: key,
            created_at: Timestamp(now),
        });
    }
    let replaced = swap_versions(core, &row, &rows, (rendered.width, rendered.height))
        .await
        .map_err(JobFailure::retry)?;
    collect(core, &replaced).await;
    Ok(json!({
        "image_public_uuid": id,
        "versions": rows.iter().map(|r| &r.name).collect::<Vec<_>>(),
    }))
}

/// Puts the new version rows in place, unless the image changed (rotation)
/// or went while rendering — then the new blobs are the garbage.
async fn swap_versions(
    core: &Core,
    rendered_from: &store::ImageRow,
    rows: &[VersionRow],
    size: (u32, u32),
) -> Result<Vec<String>, CoreError> {
    let mut tx = core.store.begin_write().await?;
    let now = core.now();
    // Under the image's row lock: a concurrent rotation change or delete
    // either committed before (seen below) or waits for this swap.
    store::lock_image(&mut tx, &rendered_from.account_id, &rendered_from.id).await?;
    let current = store::find_any(&mut tx, &rendered_from.id).await?;
    let still_same = current.as_ref().is_some_and(|c| {
        c.rotation == rendered_from.rotation && c.original_key == rendered_from.original_key
    });
    let mut garbage = Vec::new();
    if still_same {
        for row in rows {
            if let Some(old) = store::put_version(&mut tx, row).await? {
                store::note_garbage(&mut tx, &old, Timestamp(now)).await?;
                garbage.push(old);
            }
        }
        // The rows hold the new blobs now; the claims may go (an old key
        // noted above that equals a new one is kept: it is in use).
        for row in rows {
            if !garbage.contains(&row.blob_key) {
                store::forget_garbage(&mut tx, &row.blob_key).await?;
            }
        }
        store::set_versions_state(
            &mut tx,
            &rendered_from.id,
            "ready",
            None,
            Some((i64::from(size.0), i64::from(size.1))),
        )
        .await?;
    } else {
        for row in rows {
            // The claim becomes a plain note: collected at once.
            store::forget_garbage(&mut tx, &row.blob_key).await?;
            store::note_garbage(&mut tx, &row.blob_key, Timestamp(now)).await?;
            garbage.push(row.blob_key.clone());
        }
    }
    tx.commit().await?;
    // New versions change pages' srcset.
    core.note_change();
    Ok(garbage)
}

/// How long a build owns the keys of its new versions before its rows
/// commit (after that, a crash's leftovers are collected).
const CLAIM_MICROS: i64 = 3600 * 1_000_000;

/// Pins a garbage note on each key (committed) so the collector leaves the
/// blobs alone until the rows naming them commit; a key the collector is
/// deleting right now makes the build try again later.
async fn claim_keys<'k>(
    core: &Core,
    keys: impl Iterator<Item = &'k str>,
) -> Result<(), JobFailure> {
    let now = core.now();
    let mut tx = core.store.begin_write().await.map_err(JobFailure::retry)?;
    for key in keys {
        if !store::pin_garbage(&mut tx, key, Timestamp(now), Timestamp(now + CLAIM_MICROS))
            .await
            .map_err(JobFailure::retry)?
        {
            return Err(JobFailure::retry(CoreError::new(
                ErrorKind::Conflict,
                format!("{key} is being deleted; the build tries again"),
            )));
        }
    }
    tx.commit().await.map_err(JobFailure::retry)
}

async fn record_failure(core: &Core, id: &str, reason: &str) -> Result<(), JobFailure> {
    let work = async {
        let mut tx = core.store.begin_write().await?;
        store::set_versions_state(&mut tx, id, "failed", Some(reason), None).await?;
        tx.commit().await?;
        Ok::<(), lightbox_store::StoreError>(())
    };
    work.await.map_err(JobFailure::retry)
}

fn io_error(e: std::io::Error) -> CoreError {
    CoreError::new(ErrorKind::Internal, format!("scratch file: {e}"))
}

/// Deletes these blobs if nothing references them any more, each under its
/// garbage note's row lock so an upload re-using an original cannot lose it.
/// Failures are logged and left for the next sweep.
pub async fn collect(core: &Core, keys: &[String]) {
    for key in keys {
        if let Err(e) = collect_one(core, key).await {
            tracing::warn!(key, error = %e, "blob collection left for later");
        }
    }
}

async fn collect_one(core: &Core, key: &str) -> Result<(), CoreError> {
    let Some(media) = core.media.as_deref() else {
        return Ok(());
    };
    // Decide under the note's lock, commit the decision, then delete the
    // blob with no transaction open (a slow store never holds writers up).
    {
        let mut tx = core.store.begin_write().await?;
        match store::lock_garbage(&mut tx, key, Timestamp(core.now())).await? {
            GarbageState::Gone | GarbageState::Pinned => return Ok(()),
            // Re-checked every time, also when an earlier attempt marked it
            // (a failed delete, a crash): a row may use the key again.
            GarbageState::Open { deleting } if store::blob_in_use(&mut tx, key).await? => {
                store::forget_garbage(&mut tx, key).await?;
                tx.commit().await?;
                if deleting && media.blobs.size(key).await.is_err() {
                    tracing::error!(key, "a blob in use was deleted by an earlier attempt");
                }
                return Ok(());
            }
            GarbageState::Open { .. } => store::mark_deleting(&mut tx, key).await?,
        }
        tx.commit().await?;
    }
    match media.blobs.delete(key).await {
        Ok(()) | Err(lightbox_media::BlobError::NotFound(_)) => {}
        Err(e) => return Err(CoreError::new(ErrorKind::Internal, e.to_string())),
    }
    let mut tx = core.store.begin_write().await?;
    store::forget_deleted(&mut tx, key).await?;
    tx.commit().await?;
    Ok(())
}

/// Housekeeping: collects garbage noted more than `min_age_micros` ago (what
/// a crash left between a commit and the blob deletion).
pub async fn sweep_garbage(core: &Core, min_age_micros: i64) -> Result<usize, CoreError> {
    let keys = {
        let mut conn = core.store.read().await?;
        store::garbage_before(&mut conn, Timestamp(core.now() - min_age_micros), 1000).await?
    };
    collect(core, &keys).await;
    Ok(keys.len())
}
