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
use lightbox_store::webhooks::{self as store, AttemptOutcome, WebhookDeliveryRow};
use tokio::sync::watch;
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
/// Deliveries claimed, and sent side by side, per round.
const CLAIM_BATCH: i64 = 64;
const PARALLEL_SENDS: usize = 32;
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
    hook: &lightbox_store::webhooks::WebhookRow,
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

/// What one attempt came to, to be recorded with the others of its round.
struct Finished {
    delivery: String,
    webhook: String,
    /// Whether it counts toward the subscription's failure clock (pings
    /// do not), and whether that clock runs now.
    counts: bool,
    was_failing: bool,
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

/// Sends one claimed delivery; none when it is gone meanwhile (deleted).
async fn send_one(
    core: &Core,
    transport: &dyn WebhookTransport,
    delivery: WebhookDeliveryRow,
) -> Result<Option<Finished>, CoreError> {
    let (event, hook) = {
        let mut conn = core.store.read().await?;
        let event = store::find_event(&mut conn, &delivery.event_id).await?;
        let hook = match &event {
            Some(e) => store::find(&mut conn, &e.account_id, &delivery.webhook_id).await?,
            None => None,
        };
        (event, hook)
    };
    let now = core.now();
    let (Some(event), Some(hook)) = (event, hook) else {
        // Deleted meanwhile (the cascade takes the delivery too).
        return Ok(None);
    };
    let mut finished = Finished {
        delivery: delivery.id.clone(),
        webhook: hook.id.clone(),
        counts: event.event_type != "ping",
        was_failing: hook.failing_since.is_some(),
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
        return Ok(Some(finished));
    }
    let body = event.body.clone().unwrap_or_default();
    let stamp = now.div_euclid(1_000_000);
    // A secret that cannot be opened (the server key changed) will not
    // open on a later attempt either.
    let Ok(signature) = signatures(core, &hook, &event.id, stamp, &body, now) else {
        finished.error = Some("The signing secret could not be read; rotate it.".to_owned());
        return Ok(Some(finished));
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
        finished.next_attempt_at = next_attempt(delivery.attempts, now);
        finished.status = if finished.next_attempt_at.is_some() {
            "pending"
        } else {
            "failed"
        };
    }
    Ok(Some(finished))
}

/// Records a round's attempts in one transaction (not one each: the
/// database's writer is shared with every API write), with each
/// subscription's failure clock — and disables one failing for 5 days.
async fn record_round(core: &Core, node: &str, round: &[Finished]) -> Result<(), CoreError> {
    if round.is_empty() {
        return Ok(());
    }
    let mut tx = core.store.begin_write().await?;
    for f in round {
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
    // Per subscription: delivered once this round clears its clock; else
    // a failure starts it (and may end in disabling).
    let mut seen: Vec<&str> = Vec::new();
    for f in round.iter().filter(|f| f.counts) {
        if seen.contains(&f.webhook.as_str()) {
            continue;
        }
        seen.push(&f.webhook);
        let mine = || round.iter().filter(|g| g.counts && g.webhook == f.webhook);
        if mine().any(Finished::delivered) {
            if f.was_failing {
                store::clear_failing(&mut tx, &f.webhook).await?;
            }
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

/// Claims the deliveries due now and sends them, side by side. Answers how
/// many were claimed.
pub async fn deliver_due(core: &Core, node: &str) -> Result<usize, CoreError> {
    let Some(transport) = core.webhooks.transport.clone() else {
        return Ok(0);
    };
    let now = core.now();
    let claimed = {
        let mut tx = core.store.begin_write().await?;
        let rows = store::claim_deliveries(
            &mut tx,
            node,
            Timestamp(now),
            Timestamp(now + CLAIM_MICROS),
            CLAIM_BATCH,
        )
        .await?;
        tx.commit().await?;
        rows
    };
    let count = claimed.len();
    let round: Vec<Finished> = futures::stream::iter(claimed)
        .map(|delivery| {
            let transport = transport.clone();
            async move {
                let id = delivery.id.clone();
                match send_one(core, transport.as_ref(), delivery).await {
                    Ok(finished) => finished,
                    // Left claimed: tried again when the claim runs out.
                    Err(e) => {
                        tracing::warn!(delivery = %id, error = %e, "webhook delivery");
                        None
                    }
                }
            }
        })
        .buffer_unordered(PARALLEL_SENDS)
        .filter_map(std::future::ready)
        .collect()
        .await;
    record_round(core, node, &round).await?;
    Ok(count)
}

/// How long an idle sender waits before it looks again (events recorded
/// on other nodes; this node's wake it at once).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Starts this node's webhook sender; it stops when `shutdown` turns true,
/// after the deliveries in flight.
pub fn spawn(core: Core, node: String, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let core = Arc::new(core);
        while !*shutdown.borrow() {
            let mut busy = false;
            match super::events::dispatch_due(&core).await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "webhook dispatch"),
            }
            match deliver_due(&core, &node).await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "webhook delivery"),
            }
            if busy {
                continue;
            }
            // Nothing taken though something is overdue (an event that
            // failed to dispatch): look again after the idle wait, not at once.
            let wait = match until_next_due(&core).await {
                Some(wait) if !wait.is_zero() => wait.min(IDLE_POLL),
                _ => IDLE_POLL,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = core.webhooks.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    })
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
