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
const CLAIM_BATCH: i64 = 32;
const PARALLEL_SENDS: usize = 16;
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

/// Sends one claimed delivery and records the outcome.
async fn send_one(
    core: &Core,
    transport: &dyn WebhookTransport,
    node: &str,
    delivery: WebhookDeliveryRow,
) -> Result<(), CoreError> {
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
        return Ok(());
    };
    let body = event.body.clone().unwrap_or_default();
    let stamp = now.div_euclid(1_000_000);
    let mut outcome = AttemptOutcome {
        status: "pending",
        status_code: None,
        error: None,
        request: "",
        response: None,
        next_attempt_at: None,
        now: Timestamp(now),
    };
    let request_log;
    let error_text;
    let response_log;
    let delivered;
    if !hook.enabled && event.event_type != "ping" {
        error_text = "The subscription is disabled.".to_owned();
        request_log = String::new();
        outcome.status = "failed";
        outcome.error = Some(&error_text);
        outcome.request = &request_log;
        store_outcome(core, node, &delivery, &outcome).await?;
        return Ok(());
    }
    let attempt = Attempt {
        url: hook.url.clone(),
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("webhook-id", event.id.clone()),
            ("webhook-timestamp", stamp.to_string()),
            (
                "webhook-signature",
                signatures(core, &hook, &event.id, stamp, &body, now)?,
            ),
        ],
        body: body.clone(),
    };
    request_log = truncate(&format!(
        "POST {}\nwebhook-id: {}\nwebhook-timestamp: {stamp}\n\n{body}",
        hook.url, event.id
    ));
    let result = transport.send(attempt, core.webhooks.allow_private).await;
    let now = core.now();
    outcome.now = Timestamp(now);
    match result {
        AttemptResult::Answered { status, body } => {
            outcome.status_code = Some(i64::from(status));
            response_log = truncate(&format!("{status}\n\n{body}"));
            delivered = (200..300).contains(&status);
            error_text = if delivered {
                String::new()
            } else {
                format!("The receiver answered {status}.")
            };
        }
        AttemptResult::Refused(refused) => {
            response_log = String::new();
            delivered = false;
            error_text = refused.to_string();
        }
        AttemptResult::Failed(why) => {
            response_log = String::new();
            delivered = false;
            error_text = why;
        }
    }
    outcome.request = &request_log;
    outcome.response = (!response_log.is_empty()).then_some(response_log.as_str());
    if delivered {
        outcome.status = "delivered";
    } else {
        outcome.error = Some(&error_text);
        outcome.next_attempt_at = next_attempt(delivery.attempts, now).map(Timestamp);
        outcome.status = if outcome.next_attempt_at.is_some() {
            "pending"
        } else {
            "failed"
        };
    }
    store_outcome(core, node, &delivery, &outcome).await?;
    let mut tx = core.store.begin_write().await?;
    if delivered {
        store::clear_failing(&mut tx, &hook.id).await?;
    } else if event.event_type != "ping" {
        store::mark_failing(&mut tx, &hook.id, Timestamp(now)).await?;
        let reason = format!(
            "Every delivery failed for 5 days (the last: {error_text}). Fix the receiver, then enable the webhook again."
        );
        if store::disable_failing(
            &mut tx,
            &hook.id,
            Timestamp(now - DISABLE_AFTER_MICROS),
            &reason,
            Timestamp(now),
        )
        .await?
        {
            tracing::warn!(webhook = %hook.id, "webhook disabled after 5 days of failures");
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn store_outcome(
    core: &Core,
    node: &str,
    delivery: &WebhookDeliveryRow,
    outcome: &AttemptOutcome<'_>,
) -> Result<(), CoreError> {
    let mut tx = core.store.begin_write().await?;
    let held = store::record_attempt(&mut tx, &delivery.id, node, outcome).await?;
    tx.commit().await?;
    if !held {
        tracing::warn!(delivery = %delivery.id, "a webhook delivery's claim ran out while it was sent");
    }
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
    futures::stream::iter(claimed)
        .for_each_concurrent(PARALLEL_SENDS, |delivery| {
            let transport = transport.clone();
            async move {
                let id = delivery.id.clone();
                if let Err(e) = send_one(core, transport.as_ref(), node, delivery).await {
                    tracing::warn!(delivery = %id, error = %e, "webhook delivery");
                }
            }
        })
        .await;
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
            let wait = until_next_due(&core)
                .await
                .unwrap_or(IDLE_POLL)
                .min(IDLE_POLL);
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
