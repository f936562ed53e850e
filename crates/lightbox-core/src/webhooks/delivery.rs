//! Sending: the workers claim due deliveries (one node each), sign and send
//! them through the binary's [`WebhookTransport`], and record what came of
//! it — delivered on a 2xx, else tried again later on a growing ladder for
//! about three days, then `failed`. A subscription that has failed
//! everything for five days is disabled with the reason.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lightbox_store::Timestamp;
use lightbox_store::webhooks::{self as store, AttemptOutcome, WebhookEventRow, WebhookRow};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use super::target::{TargetRefused, Url};
use crate::Core;
use crate::error::CoreError;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One `POST` of a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// What one `POST` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered (any status), with the start of its body.
    Answered { status: u16, body: String },
    /// The target leads to an address webhooks may not reach.
    Refused(TargetRefused),
    /// No answer: refused connection, timeout, a body cut short…
    Failed(String),
}

/// How webhooks leave this node (the binary's HTTP client): it resolves the
/// host, refuses non-public addresses unless allowed, connects to the
/// address it checked, follows no redirect and gives up after 10 s.
pub trait WebhookTransport: Send + Sync + 'static {
    /// Whether a target would be reached (at creation: its host resolves,
    /// to allowed addresses only).
    fn check<'a>(
        &'a self,
        url: &'a Url,
        allow_private: bool,
    ) -> BoxFuture<'a, Result<(), TargetRefused>>;
    fn send(&self, attempt: Attempt, allow_private: bool) -> BoxFuture<'_, AttemptResult>;
}

/// Delays before the 2nd, 3rd, … attempt: about three days in all.
pub const RETRY_DELAYS_SECS: [i64; 8] = [5, 60, 600, 3600, 6 * 3600, 12 * 3600, 86_400, 86_400];
/// A subscription that has failed everything this long is disabled.
pub const DISABLE_AFTER_MICROS: i64 = 5 * 86_400 * 1_000_000;
/// How long a node's claim on a delivery holds (a node that dies mid-send
/// loses it then, and another sends again with the same event id).
const CLAIM_MICROS: i64 = 60 * 1_000_000;
/// Deliveries claimed at once (retries), and sent side by side.
const CLAIM_BATCH: i64 = 64;
const PARALLEL_SENDS: usize = 64;
const HALF_THE_SENDS: u32 = 32;
/// What the delivery log keeps of a request or an answer.
pub const LOG_BYTES: usize = 4096;

/// When to try again after `attempts` failed attempts; None: give up.
pub fn next_attempt(attempts: i64, now: i64) -> Option<i64> {
    let index = usize::try_from(attempts.max(1) - 1).ok()?;
    RETRY_DELAYS_SECS
        .get(index)
        .map(|secs| now + secs * 1_000_000)
}

fn truncate(text: &str) -> String {
    // PostgreSQL's text takes no NUL (a binary answer's bytes).
    let text = &text.replace('\0', "\u{fffd}");
    if text.len() <= LOG_BYTES {
        return text.to_owned();
    }
    let mut end = LOG_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The signatures of a body: the current secret's, and the previous one's
/// while it still signs.
fn signatures(
    core: &Core,
    hook: &WebhookRow,
    event_id: &str,
    stamp: i64,
    body: &str,
    now: i64,
) -> Result<String, CoreError> {
    let mut out = Vec::new();
    let mut sealed = vec![hook.secret.as_str()];
    if let (Some(previous), Some(until)) = (&hook.previous_secret, hook.previous_until)
        && until.0 > now
    {
        sealed.push(previous.as_str());
    }
    for stored in sealed {
        let secret = super::open_secret(core, &hook.id, stored)?;
        let signature =
            lightbox_auth::webhook::signature(&secret, event_id, stamp, body.as_bytes())
                .ok_or_else(CoreError::internal)?;
        out.push(signature);
    }
    Ok(out.join(" "))
}

/// What one attempt came to, to be recorded with the others finished beside it.
struct Finished {
    delivery: String,
    webhook: String,
    /// Whether it counts toward the subscription's failure clock (pings
    /// do not).
    counts: bool,
    status: &'static str,
    status_code: Option<i64>,
    error: Option<String>,
    request: String,
    response: Option<String>,
    next_attempt_at: Option<i64>,
    now: i64,
}

impl Finished {
    fn delivered(&self) -> bool {
        self.status == "delivered"
    }
}

/// A delivery this node holds a claim on, with what sending it needs.
pub(super) struct Claimed {
    pub delivery_id: String,
    /// Attempts counted so far, this one included.
    pub attempts: i64,
    /// The event, its body frozen.
    pub event: WebhookEventRow,
    pub hook: WebhookRow,
    /// When this node's claim runs out (µs).
    pub until: i64,
}

/// Sends one claimed delivery: what it came to, to be recorded.
async fn send_one(core: &Core, transport: &dyn WebhookTransport, claimed: Claimed) -> Finished {
    let Claimed {
        delivery_id,
        attempts,
        event,
        hook,
        until: _,
    } = claimed;
    let now = core.now();
    let mut finished = Finished {
        delivery: delivery_id,
        webhook: hook.id.clone(),
        counts: event.event_type != "ping",
        status: "failed",
        status_code: None,
        error: None,
        request: String::new(),
        response: None,
        next_attempt_at: None,
        now,
    };
    if !hook.enabled && event.event_type != "ping" {
        finished.counts = false;
        finished.error = Some("The subscription is disabled.".to_owned());
        return finished;
    }
    let body = event.body.unwrap_or_default();
    let stamp = now.div_euclid(1_000_000);
    // A secret that cannot be opened (the server key changed) will not
    // open on a later attempt either.
    let Ok(signature) = signatures(core, &hook, &event.id, stamp, &body, now) else {
        finished.error = Some("The signing secret could not be read; rotate it.".to_owned());
        return finished;
    };
    let attempt = Attempt {
        url: hook.url.clone(),
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("webhook-id", event.id.clone()),
            ("webhook-timestamp", stamp.to_string()),
            ("webhook-signature", signature),
        ],
        body: body.clone(),
    };
    finished.request = truncate(&format!(
        "POST {}\nwebhook-id: {}\nwebhook-timestamp: {stamp}\n\n{body}",
        hook.url, event.id
    ));
    let result = transport.send(attempt, core.webhooks.allow_private).await;
    let now = core.now();
    finished.now = now;
    let delivered = match result {
        AttemptResult::Answered { status, body } => {
            finished.status_code = Some(i64::from(status));
            finished.response = Some(truncate(&format!("{status}\n\n{body}")));
            let ok = (200..300).contains(&status);
            if !ok {
                finished.error = Some(format!("The receiver answered {status}."));
            }
            ok
        }
        AttemptResult::Refused(refused) => {
            finished.error = Some(refused.to_string());
            false
        }
        AttemptResult::Failed(why) => {
            finished.error = Some(why);
            false
        }
    };
    if delivered {
        finished.status = "delivered";
    } else {
        finished.next_attempt_at = next_attempt(attempts, now);
        finished.status = if finished.next_attempt_at.is_some() {
            "pending"
        } else {
            "failed"
        };
    }
    finished
}

/// Records finished attempts in one transaction (not one each: the
/// database's writer is shared with every API write), with each
/// subscription's failure clock — and disables one failing for 5 days.
async fn record_batch(core: &Core, node: &str, batch: &[Finished]) -> Result<(), CoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut tx = core.store.begin_write().await?;
    for f in batch {
        let outcome = AttemptOutcome {
            status: f.status,
            status_code: f.status_code,
            error: f.error.as_deref(),
            request: &f.request,
            response: f.response.as_deref(),
            next_attempt_at: f.next_attempt_at.map(Timestamp),
            now: Timestamp(f.now),
        };
        if !store::record_attempt(&mut tx, &f.delivery, node, &outcome).await? {
            tracing::warn!(delivery = %f.delivery, "a webhook delivery's claim ran out while it was sent");
        }
    }
    // Per subscription: delivered once this batch clears its clock; else
    // a failure starts it (and may end in disabling).
    let mut seen: Vec<&str> = Vec::new();
    for f in batch.iter().filter(|f| f.counts) {
        if seen.contains(&f.webhook.as_str()) {
            continue;
        }
        seen.push(&f.webhook);
        let mine = || batch.iter().filter(|g| g.counts && g.webhook == f.webhook);
        if mine().any(Finished::delivered) {
            // Whatever the row said at dispatch: a failure recorded since
            // (another batch) is cleared too.
            store::clear_failing(&mut tx, &f.webhook).await?;
            continue;
        }
        let last = mine().next_back().unwrap_or(f);
        store::mark_failing(&mut tx, &f.webhook, Timestamp(last.now)).await?;
        let reason = format!(
            "Every delivery failed for 5 days (the last: {}). Fix the receiver, then enable the webhook again.",
            last.error.as_deref().unwrap_or("no answer")
        );
        if store::disable_failing(
            &mut tx,
            &f.webhook,
            Timestamp(last.now - DISABLE_AFTER_MICROS),
            &reason,
            Timestamp(last.now),
        )
        .await?
        {
            tracing::warn!(webhook = %f.webhook, "webhook disabled after 5 days of failures");
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Claims up to `limit` deliveries due by now (retries, redeliveries, and
/// those a node that died held), with what sending them needs.
async fn claim_due(core: &Core, node: &str, limit: i64) -> Result<Vec<Claimed>, CoreError> {
    let now = core.now();
    let until = now + CLAIM_MICROS;
    let rows = {
        let mut tx = core.store.begin_write().await?;
        let rows =
            store::claim_deliveries(&mut tx, node, Timestamp(now), Timestamp(until), limit).await?;
        tx.commit().await?;
        rows
    };
    // Read side by side; one deleted meanwhile is left out (the cascade
    // takes its delivery too).
    let loaded: Vec<Result<Option<Claimed>, CoreError>> = futures::stream::iter(rows)
        .map(|delivery| async move {
            let mut conn = core.store.read().await?;
            let Some(event) = store::find_event(&mut conn, &delivery.event_id).await? else {
                return Ok(None);
            };
            let hook = store::find(&mut conn, &event.account_id, &delivery.webhook_id).await?;
            Ok(hook.map(|hook| Claimed {
                delivery_id: delivery.id,
                attempts: delivery.attempts,
                event,
                hook,
                until,
            }))
        })
        .buffered(READS_AT_ONCE)
        .collect()
        .await;
    let mut out = Vec::with_capacity(loaded.len());
    for claimed in loaded {
        out.extend(claimed?);
    }
    Ok(out)
}

/// Claimed deliveries read at once (their events and subscriptions).
const READS_AT_ONCE: usize = 8;

/// The end of a claim this node takes now.
pub(super) fn claim_until(core: &Core) -> Timestamp {
    Timestamp(core.now() + CLAIM_MICROS)
}

/// A claim with less than this left is not sent on: the send (10 s at
/// most) and its record could outlive it, and another node — or this one —
/// could send it again meanwhile. It is left to run out and be claimed anew.
const SEND_MARGIN_MICROS: i64 = 20 * 1_000_000;

/// How long an idle sender waits before it looks again (events recorded
/// on other nodes, retries falling due; this node's events wake it at once).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Finished attempts recorded per transaction, at most.
const RECORD_BATCH: usize = 256;

/// Starts this node's webhook sender; it stops when `shutdown` turns true,
/// once the sends in flight end and their outcomes are recorded (claimed
/// deliveries not yet sent are claimed anew after their claim runs out).
///
/// Three stages, so no delivery waits for another: the feeder dispatches
/// events as they are committed (each delivery claimed in the dispatching
/// transaction) and claims retries as they fall due; every claimed
/// delivery is sent on its own task (at most [`PARALLEL_SENDS`] at once);
/// the recorder writes what the sends came to, as many as have finished
/// in one transaction.
pub fn spawn(core: Core, node: String, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(transport) = core.webhooks.transport.clone() else {
            return;
        };
        let core = Arc::new(core);
        let (finished_tx, finished_rx) = mpsc::channel(RECORD_BATCH * 4);
        let recorder = tokio::spawn(record_finished(core.clone(), node.clone(), finished_rx));
        let sends = Arc::new(Semaphore::new(PARALLEL_SENDS));
        feed(&core, &node, &transport, &sends, &finished_tx, shutdown).await;
        // Every send holds a permit: all back means all sent.
        let all = u32::try_from(PARALLEL_SENDS).unwrap_or(u32::MAX);
        drop(sends.acquire_many(all).await);
        drop(finished_tx);
        if let Err(e) = recorder.await {
            tracing::warn!(error = %e, "webhook recorder");
        }
    })
}

/// The feeder: dispatch and claim, and hand each delivery to a send task.
async fn feed(
    core: &Arc<Core>,
    node: &str,
    transport: &Arc<dyn WebhookTransport>,
    sends: &Arc<Semaphore>,
    finished: &mpsc::Sender<Finished>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_claim: Option<tokio::time::Instant> = None;
    while !*shutdown.borrow() {
        let mut busy = false;
        let mut ready = Vec::new();
        match super::events::dispatch_due(core, node).await {
            Ok(claimed) => {
                busy |= !claimed.is_empty();
                ready.extend(claimed);
            }
            Err(e) => tracing::warn!(error = %e, "webhook dispatch"),
        }
        // Retries are due seconds apart: looked for when idle, or again as
        // soon as half the sends are free while a backlog fills whole
        // batches (not one claim per freed send).
        if last_claim.is_none() {
            tokio::select! {
                permits = sends.acquire_many(HALF_THE_SENDS) => drop(permits),
                _ = shutdown.changed() => {}
            }
        }
        let free = i64::try_from(sends.available_permits()).unwrap_or(0);
        if free > 0 && last_claim.is_none_or(|at| at.elapsed() >= IDLE_POLL) {
            last_claim = Some(tokio::time::Instant::now());
            let limit = free.min(CLAIM_BATCH);
            match claim_due(core, node, limit).await {
                Ok(claimed) => {
                    if i64::try_from(claimed.len()).unwrap_or(0) == limit {
                        last_claim = None;
                        busy = true;
                    }
                    ready.extend(claimed);
                }
                Err(e) => tracing::warn!(error = %e, "webhook delivery"),
            }
        }
        for claimed in ready {
            // Waits while PARALLEL_SENDS are in flight. Stopping: what is
            // claimed and not sent is claimed anew once its claim runs out.
            let permit = tokio::select! {
                permit = sends.clone().acquire_owned() => permit,
                _ = shutdown.changed() => return,
            };
            let Ok(permit) = permit else {
                return;
            };
            if *shutdown.borrow() {
                return;
            }
            if claimed.until - core.now() < SEND_MARGIN_MICROS {
                tracing::debug!(delivery = %claimed.delivery_id, "webhook claim too near its end to send");
                continue;
            }
            let (core, transport, finished) = (core.clone(), transport.clone(), finished.clone());
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let done = send_one(&core, transport.as_ref(), claimed).await;
                let sent = started.elapsed();
                if sent > Duration::from_millis(50) {
                    tracing::debug!(ms = sent.as_secs_f64() * 1e3, "a slow webhook send");
                }
                // The recorder is gone only at shutdown: the claim runs
                // out and the delivery is sent again.
                let _ = finished.send(done).await;
                drop(permit);
            });
        }
        if busy {
            continue;
        }
        // Nothing taken though something is overdue (an event that
        // failed to dispatch): look again after the idle wait, not at once.
        let wait = match until_next_due(core).await {
            Some(wait) if !wait.is_zero() => wait.min(IDLE_POLL),
            _ => IDLE_POLL,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = core.webhooks.wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The recorder: what the sends came to, as many as are waiting in one
/// transaction. A failed write leaves them claimed: sent again (same
/// event id) once the claims run out.
async fn record_finished(core: Arc<Core>, node: String, mut rx: mpsc::Receiver<Finished>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let started = std::time::Instant::now();
        if let Err(e) = record_batch(&core, &node, &batch).await {
            // One outcome the database refuses must not take the others
            // with it: each on its own, then.
            tracing::warn!(error = %e, count = batch.len(), "webhook outcomes: recorded one by one");
            if batch.len() > 1 {
                for one in &batch {
                    let single = std::slice::from_ref(one);
                    if let Err(e) = record_batch(&core, &node, single).await {
                        tracing::warn!(error = %e, delivery = %one.delivery, "webhook outcome not recorded");
                    }
                }
            }
        }
        tracing::debug!(
            count = batch.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "webhook outcomes recorded"
        );
        batch.clear();
    }
}

/// How long until the next scheduled event falls due.
async fn until_next_due(core: &Core) -> Option<Duration> {
    let mut conn = core.store.read().await.ok()?;
    let next = store::next_due(&mut conn).await.ok()??;
    let micros = (next.0 - core.now()).max(0);
    Some(Duration::from_micros(u64::try_from(micros).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_climb_for_about_three_days_then_stop() {
        let mut at = 0;
        for attempts in 1..=8 {
            at = next_attempt(attempts, at).unwrap_or_else(|| panic!("attempt {attempts}"));
        }
        assert_eq!(next_attempt(1, 0), Some(5_000_000));
        assert_eq!(next_attempt(9, 0), None);
        let days = at as f64 / 86_400e6;
        assert!((2.75..3.0).contains(&days), "{days}");
    }

    #[test]
    fn the_log_keeps_the_start_of_long_text_on_a_character_boundary() {
        let long = "é".repeat(LOG_BYTES);
        let kept = truncate(&long);
        assert!(kept.len() <= LOG_BYTES + "…".len());
        assert!(kept.ends_with('…'));
        assert_eq!(truncate("short"), "short");
    }
}
