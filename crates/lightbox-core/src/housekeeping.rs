//! Housekeeping the server runs every hour: forgets what can no longer be
//! used, and collects what a crash left behind. Each part runs on its own,
//! so one failing (the blob store away) does not stop the others; the
//! report says what each did, or why it could not, for the log.

use lightbox_store::Timestamp;
use std::time::Duration;

use crate::Core;

/// Interrupted uploads' `tmp/` objects are collected after a day, far
/// longer than any upload in flight.
const TMP_UPLOAD_AGE: Duration = Duration::from_secs(24 * 3600);
/// Blobs whose deletion a crash cut off, noted an hour ago or more.
const GARBAGE_AGE_MICROS: i64 = 3600 * 1_000_000;

/// How many rows or blobs a part removed, or its cause of failure.
pub type Part = Result<u64, String>;

/// What one round did.
#[derive(Debug)]
pub struct Report {
    /// Idempotency keys past their 24 hours.
    pub idempotency_keys: Part,
    /// `tmp/` objects of uploads cut off by a crash (no blob store: 0).
    pub interrupted_uploads: Part,
    /// Used upload tickets past their expiry (they can never come back).
    pub upload_tickets: Part,
    /// Unreferenced blobs collected.
    pub garbage_blobs: Part,
    /// Ended sessions, spent tokens and idle rate-limit counters.
    pub session_rows: Part,
    /// Webhook events (and their delivery log) past their 30 days.
    pub webhook_events: Part,
}

/// Runs every part once.
pub async fn hourly(core: &Core) -> Report {
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    Report {
        idempotency_keys: forget_expired_idempotency_keys(core)
            .await
            .map_err(|e| e.to_string()),
        interrupted_uploads: sweep_interrupted_uploads(core).await,
        upload_tickets: purge_used_tickets(core).await.map_err(|e| e.to_string()),
        garbage_blobs: crate::versions::sweep_garbage(core, GARBAGE_AGE_MICROS)
            .await
            .map(count)
            .map_err(|e| e.to_string()),
        session_rows: purge_sessions(core).await,
        webhook_events: prune_webhook_events(core).await.map_err(|e| e.to_string()),
    }
}

/// How long sent events and their delivery log are kept.
pub const WEBHOOK_EVENT_RETENTION_MICROS: i64 = 30 * 86_400 * 1_000_000;

/// Sent events past their retention, with their deliveries; an event with a
/// delivery still pending stays until it ends.
async fn prune_webhook_events(core: &Core) -> lightbox_store::Result<u64> {
    let before = core.now() - WEBHOOK_EVENT_RETENTION_MICROS;
    let mut tx = core.store.begin_write().await?;
    let n = lightbox_store::webhooks::prune_events(&mut tx, Timestamp(before)).await?;
    tx.commit().await?;
    Ok(n)
}

/// Users' ended sessions and counters, and press members' ended sign-ins.
async fn purge_sessions(core: &Core) -> Part {
    // Both run whatever the other did.
    let users = crate::sessions::purge(core).await;
    let press = crate::press::forget_ended_sessions(core).await;
    match (users, press) {
        (Ok(u), Ok(p)) => Ok(u.saturating_add(p)),
        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
    }
}

async fn forget_expired_idempotency_keys(core: &Core) -> lightbox_store::Result<u64> {
    let before = core.now() - crate::writes::IDEMPOTENCY_RETENTION_MICROS;
    let mut tx = core.store.begin_write().await?;
    let n = lightbox_store::idempotency::purge(&mut tx, Timestamp(before)).await?;
    tx.commit().await?;
    Ok(n)
}

async fn purge_used_tickets(core: &Core) -> lightbox_store::Result<u64> {
    let mut tx = core.store.begin_write().await?;
    let n = lightbox_store::images::purge_tickets(&mut tx, Timestamp(core.now())).await?;
    tx.commit().await?;
    Ok(n)
}

async fn sweep_interrupted_uploads(core: &Core) -> Part {
    let Some(media) = &core.media else {
        return Ok(0);
    };
    match media.blobs.sweep_tmp(TMP_UPLOAD_AGE).await {
        Ok(n) => Ok(u64::try_from(n).unwrap_or(u64::MAX)),
        Err(e) => Err(e.to_string()),
    }
}
