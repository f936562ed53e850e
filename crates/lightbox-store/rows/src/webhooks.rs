//! Webhooks (api.md §11): subscriptions, the events writes record, and
//! their deliveries.

use crate::{JsonText, Timestamp};

/// A subscription. `secret` and `previous_secret` are sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub events: JsonText,
    pub description: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<Timestamp>,
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An event as a write records it (`body` is written when it is dispatched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEventRow {
    pub id: String,
    pub account_id: String,
    pub event_type: String,
    pub subject: String,
    pub body: Option<String>,
    pub due_at: Timestamp,
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
}

/// One event's delivery to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_request: Option<String>,
    pub last_response: Option<String>,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What one attempt at a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome<'a> {
    /// `pending` (to be tried again at `next_attempt_at`), `delivered`, `failed`.
    pub status: &'a str,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub request: &'a str,
    pub response: Option<&'a str>,
    pub next_attempt_at: Option<Timestamp>,
    pub now: Timestamp,
}
