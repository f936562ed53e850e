//! Housekeeping the server runs every hour: forgets what can no longer be
//! used, and collects what a crash left behind. Each part runs on its own,
//! so one failing (the blob store away) does not stop the others; the
//! report says what each did.

use std::time::Duration;

use crate::{Core, CoreError};

/// Interrupted uploads' `tmp/` objects are collected after a day, far
/// longer than any upload in flight.
const TMP_UPLOAD_AGE: Duration = Duration::from_secs(24 * 3600);
/// Blobs whose deletion a crash cut off, noted an hour ago or more.
const GARBAGE_AGE_MICROS: i64 = 3600 * 1_000_000;

/// What one round did: a count per part, or why the part failed.
#[derive(Debug)]
pub struct Report {
    /// Idempotency keys past their 24 hours.
    pub idempotency_keys: Result<u64, CoreError>,
    /// `tmp/` objects of uploads cut off by a crash (no blob store: 0).
    pub interrupted_uploads: Result<usize, CoreError>,
    /// Used upload tickets past their expiry (they can never come back).
    pub upload_tickets: Result<u64, CoreError>,
    /// Unreferenced blobs collected.
    pub garbage_blobs: Result<usize, CoreError>,
    /// Ended sessions, spent tokens and idle rate-limit counters.
    pub session_rows: Result<u64, CoreError>,
}

/// Runs every part once.
pub async fn hourly(core: &Core) -> Report {
    Report {
        idempotency_keys: forget_expired_idempotency_keys(core).await,
        interrupted_uploads: sweep_interrupted_uploads(core).await,
        upload_tickets: purge_used_tickets(core).await,
        garbage_blobs: crate::versions::sweep_garbage(core, GARBAGE_AGE_MICROS).await,
        session_rows: crate::sessions::purge(core).await,
    }
}

async fn forget_expired_idempotency_keys(core: &Core) -> Result<u64, CoreError> {
    let before = core.now() - crate::writes::IDEMPOTENCY_RETENTION_MICROS;
    let mut tx = core.store.begin_write().await?;
    let n = lightbox_store::idempotency::purge(&mut tx, before).await?;
    tx.commit().await?;
    Ok(n)
}

async fn purge_used_tickets(core: &Core) -> Result<u64, CoreError> {
    let mut tx = core.store.begin_write().await?;
    let n = lightbox_store::images::purge_tickets(&mut tx, core.now()).await?;
    tx.commit().await?;
    Ok(n)
}

async fn sweep_interrupted_uploads(core: &Core) -> Result<usize, CoreError> {
    let Some(media) = &core.media else {
        return Ok(0);
    };
    media.blobs.sweep_tmp(TMP_UPLOAD_AGE).await.map_err(|e| {
        tracing::warn!(error = %e, "blob sweep");
        CoreError::new(
            crate::ErrorKind::Unavailable,
            format!("The blob store could not be swept: {e}"),
        )
    })
}
