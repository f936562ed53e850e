//! Webhooks (api.md §11): subscriptions, the events writes record in their
//! own transaction (the outbox), and one delivery per event and
//! subscription, claimed by one node at a time.

pub use lightbox_store_rows::webhooks::{
    AttemptOutcome, WebhookDeliveryRow, WebhookEventRow, WebhookRow,
};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &WebhookRow) -> Result<()> {
    Ok(on_engine!(conn, webhooks::insert(row))?)
}

/// Writes url, events, description, enabled, disabled reason and failure
/// state; false when the account has no such subscription.
pub async fn update(conn: &mut Conn, row: &WebhookRow) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::update(row))? > 0)
}

/// A new sealed secret; the current one signs beside it until `until`.
pub async fn rotate_secret(
    conn: &mut Conn,
    account_id: &str,
    id: &str,
    sealed: &str,
    until: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(
        conn,
        webhooks::rotate_secret(account_id, id, sealed, until, now)
    )? > 0)
}

pub async fn delete(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::delete(account_id, id))? > 0)
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<WebhookRow>> {
    Ok(on_engine!(conn, webhooks::find(account_id, id))?)
}

/// [`find`], locked for a change until the transaction ends.
pub async fn find_for_update(
    conn: &mut Conn,
    account_id: &str,
    id: &str,
) -> Result<Option<WebhookRow>> {
    Ok(on_engine!(conn, webhooks::find_for_update(account_id, id))?)
}

/// A page of the account's subscriptions, oldest first.
pub async fn list(
    conn: &mut Conn,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<WebhookRow>> {
    Ok(on_engine!(conn, webhooks::list(account_id, limit, offset))?)
}

pub async fn enabled_of(conn: &mut Conn, account_id: &str) -> Result<Vec<WebhookRow>> {
    Ok(on_engine!(conn, webhooks::enabled_of(account_id))?)
}

pub async fn any_enabled(conn: &mut Conn, account_id: &str) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::any_enabled(account_id))?)
}

pub async fn mark_failing(conn: &mut Conn, id: &str, now: Timestamp) -> Result<()> {
    Ok(on_engine!(conn, webhooks::mark_failing(id, now))?)
}

pub async fn clear_failing(conn: &mut Conn, id: &str) -> Result<()> {
    Ok(on_engine!(conn, webhooks::clear_failing(id))?)
}

/// Disables the subscription if it has failed since `since` or earlier.
pub async fn disable_failing(
    conn: &mut Conn,
    id: &str,
    since: Timestamp,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::disable_failing(id, since, reason, now))? > 0)
}

pub async fn list_secrets(conn: &mut Conn) -> Result<Vec<(String, String, Option<String>)>> {
    Ok(on_engine!(conn, webhooks::list_secrets())?)
}

pub async fn reseal(
    conn: &mut Conn,
    id: &str,
    previous: bool,
    old: &str,
    new: &str,
) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::reseal(id, previous, old, new))? > 0)
}

/// Records an event; false when its `dedupe_key` was recorded before.
pub async fn record_event(conn: &mut Conn, row: &WebhookEventRow) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::record_event(row))?)
}

pub async fn due_events(
    conn: &mut Conn,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<WebhookEventRow>> {
    Ok(on_engine!(conn, webhooks::due_events(now, limit))?)
}

pub async fn next_due(conn: &mut Conn) -> Result<Option<Timestamp>> {
    Ok(on_engine!(conn, webhooks::next_due())?)
}

/// Marks the event dispatched with its body; false when another node did.
pub async fn claim_dispatch(conn: &mut Conn, id: &str, body: Option<&str>) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::claim_dispatch(id, body))?)
}

pub async fn find_event(conn: &mut Conn, id: &str) -> Result<Option<WebhookEventRow>> {
    Ok(on_engine!(conn, webhooks::find_event(id))?)
}

/// Queues one delivery, claimed by `node` (which sends it) until `until`.
#[allow(clippy::too_many_arguments)]
pub async fn insert_delivery(
    conn: &mut Conn,
    id: &str,
    webhook_id: &str,
    event_id: &str,
    event_type: &str,
    node: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        webhooks::insert_delivery(id, webhook_id, event_id, event_type, node, now, until)
    )?)
}

/// Claims up to `limit` due deliveries for `node` until `until`.
pub async fn claim_deliveries(
    conn: &mut Conn,
    node: &str,
    now: Timestamp,
    until: Timestamp,
    limit: i64,
) -> Result<Vec<WebhookDeliveryRow>> {
    Ok(on_engine!(
        conn,
        webhooks::claim_deliveries(node, now, until, limit)
    )?)
}

/// Records an attempt's outcome; false when `node` no longer held it.
pub async fn record_attempt(
    conn: &mut Conn,
    id: &str,
    node: &str,
    outcome: &AttemptOutcome<'_>,
) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::record_attempt(id, node, outcome))? > 0)
}

pub async fn list_deliveries(
    conn: &mut Conn,
    webhook_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<WebhookDeliveryRow>> {
    Ok(on_engine!(
        conn,
        webhooks::list_deliveries(webhook_id, limit, offset)
    )?)
}

pub async fn find_delivery(
    conn: &mut Conn,
    webhook_id: &str,
    id: &str,
) -> Result<Option<WebhookDeliveryRow>> {
    Ok(on_engine!(conn, webhooks::find_delivery(webhook_id, id))?)
}

pub async fn redeliver(
    conn: &mut Conn,
    webhook_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, webhooks::redeliver(webhook_id, id, now))? > 0)
}

/// Forgets dispatched events older than `before` with nothing pending.
pub async fn prune_events(conn: &mut Conn, before: Timestamp) -> Result<u64> {
    Ok(on_engine!(conn, webhooks::prune_events(before))?)
}
