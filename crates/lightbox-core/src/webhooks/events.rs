//! Events: recorded by the write that causes them, in its transaction (an
//! outbox — a crash after the commit loses none), then dispatched: their
//! body made once and one delivery queued per subscription that wants them.

use futures::StreamExt;
use lightbox_store::sets::MemberRow;
use lightbox_store::webhooks::{self as store, WebhookEventRow, WebhookRow};
use lightbox_store::{Conn, Timestamp};
use serde_json::{Value, json};

use super::delivery::{Claimed, claim_until};
use crate::clock::format_rfc3339_precise;
use crate::error::CoreError;
use crate::writes::WorkDone;
use crate::{Core, ids};

/// A new event id (the `webhook-id` of every attempt).
fn new_event_id() -> String {
    format!("msg_{}", ids::new_public_uuid().replace('-', ""))
}

/// One event a write causes: its type and what it is about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewEvent {
    pub event_type: &'static str,
    pub subject: Value,
}

/// Arrangements of a set's membership: their images' and the set's own
/// changes are told as `set.images_added|removed`, not as updates.
fn membership_event(kind: &str) -> Option<&'static str> {
    match kind {
        "set.images.add" => Some("set.images_added"),
        "set.images.remove" => Some("set.images_removed"),
        _ => None,
    }
}

/// The events a finished piece of work causes (pure: tested below).
pub(crate) fn events_of_work(operation_id: &str, done: &WorkDone) -> Vec<NewEvent> {
    let mut out = Vec::new();
    let membership = membership_event(done.kind);
    // A set arrangement's images change only by the set's (their sets field).
    let arrangement = done.kind.starts_with("set.") && done.kind != "set.update";
    for (entity, id, action) in &done.changes {
        let event_type = match (*entity, *action) {
            ("image", "update") if !arrangement => "image.updated",
            ("image", "delete") => "image.deleted",
            ("set", "create") => "set.created",
            ("set", "update") if membership.is_none() => "set.updated",
            ("set", "delete") => "set.deleted",
            _ => continue,
        };
        let subject = json!({ "public_uuid": id });
        let event = NewEvent {
            event_type,
            subject,
        };
        if !out.contains(&event) {
            out.push(event);
        }
    }
    let finished = match done.status {
        crate::operations::OperationStatus::Succeeded => Some(true),
        crate::operations::OperationStatus::Failed => Some(false),
        _ => None,
    };
    if let Some(succeeded) = finished {
        out.extend(events_of_ending(
            operation_id,
            done.kind,
            succeeded,
            &done.image_public_uuids,
            done.set_public_uuid.as_deref(),
        ));
    }
    out
}

/// The events an Operation that ends causes: `operation.succeeded|failed`,
/// `image.created` when an upload's versions are ready, and
/// `set.images_added|removed` when a set's membership changed (inline, or
/// by a job for a large change).
pub(crate) fn events_of_ending(
    operation_id: &str,
    kind: &str,
    succeeded: bool,
    images: &[String],
    set: Option<&str>,
) -> Vec<NewEvent> {
    // Managing webhooks is not told to webhooks (a test would ping twice).
    if kind.starts_with("webhook.") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let (true, Some(event_type), Some(set)) = (succeeded, membership_event(kind), set) {
        out.push(NewEvent {
            event_type,
            subject: json!({ "set_public_uuid": set, "image_public_uuids": images }),
        });
    }
    if succeeded && kind == "image.upload" {
        out.extend(images.iter().map(|id| NewEvent {
            event_type: "image.created",
            subject: json!({ "public_uuid": id }),
        }));
        // An upload into a set joined it (shown) when it was stored; it is
        // told once its versions are ready, like the image itself.
        if let Some(set) = set {
            let subject = json!({ "set_public_uuid": set, "image_public_uuids": images });
            out.push(NewEvent {
                event_type: "set.images_added",
                subject: subject.clone(),
            });
            out.push(NewEvent {
                event_type: "set.images_live",
                subject,
            });
        }
    }
    if succeeded && kind == crate::archives::BUILD_JOB {
        out.push(NewEvent {
            event_type: "archive.ready",
            subject: json!({ "operation_id": operation_id }),
        });
    }
    out.push(NewEvent {
        event_type: if succeeded {
            "operation.succeeded"
        } else {
            "operation.failed"
        },
        subject: json!({ "operation_id": operation_id }),
    });
    out
}

/// Records `events` of the account in the write's transaction — when the
/// account has an enabled subscription (else nobody would be told).
/// Answers whether any was recorded.
pub(crate) async fn record(
    conn: &mut Conn,
    account_id: &str,
    events: Vec<NewEvent>,
    now: i64,
) -> Result<bool, CoreError> {
    if events.is_empty() || !store::any_enabled(conn, account_id).await? {
        return Ok(false);
    }
    for event in events {
        let row = WebhookEventRow {
            id: new_event_id(),
            account_id: account_id.to_owned(),
            event_type: event.event_type.to_owned(),
            subject: event.subject.to_string(),
            body: None,
            due_at: Timestamp(now),
            dedupe_key: None,
            created_at: Timestamp(now),
        };
        store::record_event(conn, &row).await?;
    }
    Ok(true)
}

/// Records the events of an Operation a job ended (`succeeded` or not).
pub(crate) async fn record_ending(
    conn: &mut Conn,
    operation_id: &str,
    succeeded: bool,
    now: i64,
) -> Result<bool, CoreError> {
    let Some(op) = lightbox_store::operations::find_any_account(conn, operation_id).await? else {
        return Ok(false);
    };
    let images: Vec<String> =
        serde_json::from_str(op.image_public_uuids.as_str()).unwrap_or_default();
    let events = events_of_ending(
        &op.id,
        &op.kind,
        succeeded,
        &images,
        op.set_public_uuid.as_deref(),
    );
    record(conn, &op.account_id, events, now).await
}

/// Records a `ping` for one subscription; answers its event id.
pub(crate) async fn record_ping(
    conn: &mut Conn,
    account_id: &str,
    webhook_id: &str,
    now: i64,
) -> Result<String, CoreError> {
    let row = WebhookEventRow {
        id: new_event_id(),
        account_id: account_id.to_owned(),
        event_type: "ping".to_owned(),
        subject: json!({ "webhook_public_uuid": webhook_id }).to_string(),
        body: None,
        due_at: Timestamp(now),
        dedupe_key: None,
        created_at: Timestamp(now),
    };
    store::record_event(conn, &row).await?;
    Ok(row.id)
}

/// When a member is live: always (hidden false, no time), from its
/// activation time (hidden or not), or never (hidden, no time) — as search
/// and the websites read it.
fn live_from(m: &MemberRow) -> Option<i64> {
    match (m.activation_time, m.hidden) {
        (Some(at), _) => Some(at.micros()),
        (None, false) => Some(i64::MIN),
        (None, true) => None,
    }
}

/// What a set change makes live: images live now that were not (in the
/// set's order), and the future instants newly scheduled.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct GoingLive {
    pub now: Vec<String>,
    pub scheduled: Vec<i64>,
}

pub(crate) fn going_live(before: &[MemberRow], after: &[MemberRow], now: i64) -> GoingLive {
    let was: std::collections::HashMap<&str, Option<i64>> = before
        .iter()
        .map(|m| (m.image_id.as_str(), live_from(m)))
        .collect();
    let mut out = GoingLive::default();
    for m in after {
        let old = was.get(m.image_id.as_str()).copied().flatten();
        match live_from(m) {
            // Live now, and not a moment ago.
            Some(t) if t <= now && old.is_none_or(|o| o > now) => out.now.push(m.image_id.clone()),
            // Live from a future instant it did not have before.
            Some(t) if t > now && old != Some(t) && !out.scheduled.contains(&t) => {
                out.scheduled.push(t)
            }
            _ => {}
        }
    }
    out
}

/// The dedupe key of a set's scheduled go-live at `at`.
fn live_key(set_id: &str, at: i64) -> String {
    format!("set.images_live:{set_id}:{at}")
}

/// Records `set.images_live` for a set change, in its transaction: now for
/// images it made live (when the account has a subscription), and at each
/// newly scheduled activation instant — whatever the subscriptions are
/// then, since one may be made before the instant. A scheduled event reads
/// at that instant which images go live at it, so an embargo moved or
/// lifted meanwhile tells nothing early, and nothing twice.
pub(crate) async fn record_live(
    conn: &mut Conn,
    account_id: &str,
    set_id: &str,
    before: &[MemberRow],
    now: i64,
) -> Result<(), CoreError> {
    let after = lightbox_store::sets::members(conn, set_id).await?;
    let live = going_live(before, &after, now);
    if !live.now.is_empty() {
        let event = NewEvent {
            event_type: "set.images_live",
            subject: json!({ "set_public_uuid": set_id, "image_public_uuids": live.now }),
        };
        record(conn, account_id, vec![event], now).await?;
    }
    for at in live.scheduled {
        let row = WebhookEventRow {
            id: new_event_id(),
            account_id: account_id.to_owned(),
            event_type: "set.images_live".to_owned(),
            subject: json!({ "set_public_uuid": set_id, "live_at": at }).to_string(),
            body: None,
            due_at: Timestamp(at),
            dedupe_key: Some(live_key(set_id, at)),
            created_at: Timestamp(now),
        };
        store::record_event(conn, &row).await?;
    }
    Ok(())
}

/// How long before a service token expires `service_token.expiring` is sent.
pub const TOKEN_WARNING_MICROS: i64 = 7 * 86_400 * 1_000_000;

/// Schedules `service_token.expiring` for a new token, in the transaction
/// that stores it: 7 days before it expires (none for a token made to
/// last a week or less — its maker knows). Recorded whatever the
/// subscriptions are now; at that instant it is told only if the token is
/// still unrevoked with the same expiry.
pub(crate) async fn record_token_expiring(
    conn: &mut Conn,
    token: &lightbox_store::service_tokens::ServiceTokenRow,
    now: i64,
) -> Result<(), CoreError> {
    let Some(expires) = token.expires_at else {
        return Ok(());
    };
    let due = expires.micros().saturating_sub(TOKEN_WARNING_MICROS);
    if due <= now {
        return Ok(());
    }
    let row = WebhookEventRow {
        id: new_event_id(),
        account_id: token.account_id.clone(),
        event_type: "service_token.expiring".to_owned(),
        subject: json!({ "public_uuid": token.id, "expires_at": expires.micros() }).to_string(),
        body: None,
        due_at: Timestamp(due),
        dedupe_key: Some(format!("service_token.expiring:{}", token.id)),
        created_at: Timestamp(now),
    };
    store::record_event(conn, &row).await?;
    Ok(())
}

/// The token a `service_token.expiring` tells, as the API lists it; none
/// when it was revoked (or its expiry changed) meanwhile.
async fn expiring_token(
    core: &Core,
    event: &WebhookEventRow,
    subject: &Value,
) -> Result<Option<Value>, CoreError> {
    let (Some(id), Some(expires)) = (
        subject.get("public_uuid").and_then(Value::as_str),
        subject.get("expires_at").and_then(Value::as_i64),
    ) else {
        return Ok(None);
    };
    let mut conn = core.store.read().await?;
    let Some(row) = lightbox_store::service_tokens::find(&mut conn, id).await? else {
        return Ok(None);
    };
    if row.account_id != event.account_id
        || row.revoked_at.is_some()
        || row.expires_at != Some(Timestamp(expires))
    {
        return Ok(None);
    }
    let view = crate::tokens::ServiceTokenView::from_row(&row, None)?;
    Ok(serde_json::to_value(view).ok())
}

/// The images a `set.images_live` tells, read when it is dispatched: of a
/// scheduled go-live, those of the set whose activation time is still that
/// instant; else those it names that are live in the set now. None left
/// (the embargo moved, the set or its images went): nothing to tell.
async fn live_images(core: &Core, subject: &Value, now: i64) -> Result<Option<Value>, CoreError> {
    let Some(set) = subject.get("set_public_uuid").and_then(Value::as_str) else {
        return Ok(None);
    };
    let at = subject.get("live_at").and_then(Value::as_i64);
    let named: Vec<&str> = subject
        .get("image_public_uuids")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut conn = core.store.read().await?;
    let images: Vec<String> = lightbox_store::sets::members(&mut conn, set)
        .await?
        .into_iter()
        .filter(|m| match at {
            Some(at) => m.activation_time == Some(Timestamp(at)),
            None => named.contains(&m.image_id.as_str()) && live_from(m).is_some_and(|t| t <= now),
        })
        .map(|m| m.image_id)
        .collect();
    Ok((!images.is_empty())
        .then(|| json!({ "set_public_uuid": set, "image_public_uuids": images })))
}

/// Whether a subscription wants an event type.
pub(crate) fn wants(row: &WebhookRow, event_type: &str) -> bool {
    super::events_of(row)
        .iter()
        .any(|e| e == "*" || e == event_type)
}

/// An archive's download link is a capability of the credential that may
/// download it; a webhook is not one (a token with `api.webhooks` alone
/// must not get it), so the link leaves the body as `null`.
fn without_link(archive: Option<&mut Value>) {
    if let Some(object) = archive.and_then(Value::as_object_mut)
        && object.contains_key("url")
    {
        object.insert("url".to_owned(), Value::Null);
    }
}

/// An event's `data`: the object as the API reads it now (a gone object:
/// its id alone), or the subject itself for membership events.
async fn data_of(core: &Core, event: &WebhookEventRow, subject: &Value) -> Value {
    let account = event.account_id.as_str();
    let id = |key: &str| subject.get(key).and_then(Value::as_str).map(str::to_owned);
    let found = match event.event_type.as_str() {
        "image.created" | "image.updated" => match id("public_uuid") {
            Some(id) => crate::images::get(core, account, &id)
                .await
                .ok()
                .and_then(|i| serde_json::to_value(i).ok()),
            None => None,
        },
        "set.created" | "set.updated" => match id("public_uuid") {
            Some(id) => crate::sets::get(core, account, &id)
                .await
                .ok()
                .and_then(|s| serde_json::to_value(s).ok()),
            None => None,
        },
        "operation.succeeded" | "operation.failed" => match id("operation_id") {
            Some(id) => crate::operations::get(core, account, &id)
                .await
                .ok()
                .and_then(|mut o| {
                    without_link(o.result.get_mut("archive"));
                    serde_json::to_value(o).ok()
                }),
            None => None,
        },
        "archive.ready" => match id("operation_id") {
            Some(id) => crate::operations::get(core, account, &id)
                .await
                .ok()
                .and_then(|mut o| {
                    let mut archive = o.result.get_mut("archive").map(Value::take);
                    without_link(archive.as_mut());
                    archive
                }),
            None => None,
        },
        _ => None,
    };
    found.unwrap_or_else(|| subject.clone())
}

/// The exact body an event is sent with; none when a scheduled go-live
/// has nothing left to tell.
async fn body_of(core: &Core, event: &WebhookEventRow) -> Result<Option<String>, CoreError> {
    let subject: Value = serde_json::from_str(&event.subject).unwrap_or(Value::Null);
    let data = match event.event_type.as_str() {
        "set.images_live" => live_images(core, &subject, core.now()).await?,
        "service_token.expiring" => expiring_token(core, event, &subject).await?,
        // Gone before it was told (deleted website): its ids.
        "press_member.registered" => Some(
            crate::press::registered_data(core, &event.account_id, &subject)
                .await?
                .unwrap_or_else(|| subject.clone()),
        ),
        _ => Some(data_of(core, event, &subject).await),
    };
    let Some(data) = data else {
        return Ok(None);
    };
    Ok(Some(
        json!({
            "type": event.event_type,
            "timestamp": format_rfc3339_precise(event.due_at),
            "data": data,
        })
        .to_string(),
    ))
}

/// How many events one dispatch round takes.
const DISPATCH_BATCH: i64 = 200;
/// Bodies made at once (each a few reads on the read pool).
const BODIES_AT_ONCE: usize = 8;

/// Dispatches the events due by now: each one's body is made once, and a
/// delivery is queued for every enabled subscription of its account that
/// wants it (a `ping`: its own subscription), claimed by `node` in the same
/// transaction. Each event is dispatched by one node (the conditional
/// update). Answers the deliveries to send.
pub(super) async fn dispatch_due(core: &Core, node: &str) -> Result<Vec<Claimed>, CoreError> {
    let now = core.now();
    let due = {
        let mut conn = core.store.read().await?;
        store::due_events(&mut conn, Timestamp(now), DISPATCH_BATCH).await?
    };
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let started = std::time::Instant::now();
    // Made side by side (each reads the object it tells of); one event's
    // trouble holds back that event only (left for the next round), not the
    // others due with it.
    let due_count = due.len();
    let with_bodies: Vec<(WebhookEventRow, Result<Option<String>, ()>)> =
        futures::stream::iter(due)
            .map(|event| async move {
                let body = body_of(core, &event).await.map_err(|e| {
                    tracing::warn!(event = %event.id, error = %e, "webhook event not dispatched");
                });
                (event, body)
            })
            .buffered(BODIES_AT_ONCE)
            .collect()
            .await;
    let made = started.elapsed();
    let until = claim_until(core);
    let mut tx = core.store.begin_write().await?;
    let begun = started.elapsed();
    let mut claimed = Vec::new();
    let mut subscriptions: std::collections::HashMap<String, Vec<WebhookRow>> =
        std::collections::HashMap::new();
    for (event, body) in with_bodies {
        let Ok(body) = body else {
            continue;
        };
        if !store::claim_dispatch(&mut tx, &event.id, body.as_deref()).await? {
            continue;
        }
        if body.is_none() {
            continue;
        }
        let targets: Vec<WebhookRow> = if event.event_type == "ping" {
            let subject: Value = serde_json::from_str(&event.subject).unwrap_or(Value::Null);
            match subject.get("webhook_public_uuid").and_then(Value::as_str) {
                Some(id) => store::find(&mut tx, &event.account_id, id)
                    .await?
                    .into_iter()
                    .collect(),
                None => Vec::new(),
            }
        } else {
            if !subscriptions.contains_key(&event.account_id) {
                let rows = store::enabled_of(&mut tx, &event.account_id).await?;
                subscriptions.insert(event.account_id.clone(), rows);
            }
            subscriptions
                .get(&event.account_id)
                .map(|rows| {
                    rows.iter()
                        .filter(|r| wants(r, &event.event_type))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let event = WebhookEventRow { body, ..event };
        for hook in targets {
            let delivery_id = ids::new_public_uuid();
            store::insert_delivery(
                &mut tx,
                &delivery_id,
                &hook.id,
                &event.id,
                &event.event_type,
                node,
                Timestamp(now),
                until,
            )
            .await?;
            claimed.push(Claimed {
                delivery_id,
                attempts: 1,
                event: event.clone(),
                hook,
                until: until.0,
            });
        }
    }
    let written = started.elapsed();
    tx.commit().await?;
    tracing::debug!(
        events = due_count,
        begun_ms = begun.as_secs_f64() * 1e3,
        written_ms = written.as_secs_f64() * 1e3,
        deliveries = claimed.len(),
        bodies_ms = made.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "webhook events dispatched"
    );
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::OperationStatus;

    fn work(kind: &'static str, status: OperationStatus) -> WorkDone {
        WorkDone {
            kind,
            status,
            result: json!({}),
            image_public_uuids: vec!["i1".to_owned(), "i2".to_owned()],
            set_public_uuid: Some("s1".to_owned()),
            jobs: vec![],
            changes: vec![
                ("image", "i1".to_owned(), "update"),
                ("image", "i2".to_owned(), "update"),
                ("set", "s1".to_owned(), "update"),
            ],
        }
    }

    fn types(events: &[NewEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.event_type).collect()
    }

    #[test]
    fn adding_images_to_a_set_is_one_membership_event() {
        let events = events_of_work("op", &work("set.images.add", OperationStatus::Succeeded));
        assert_eq!(types(&events), ["set.images_added", "operation.succeeded"]);
        assert_eq!(
            events[0].subject,
            json!({"set_public_uuid": "s1", "image_public_uuids": ["i1", "i2"]})
        );
    }

    #[test]
    fn an_edit_tells_each_image_once_and_its_operation() {
        let mut done = work("update", OperationStatus::Queued);
        done.set_public_uuid = None;
        done.changes.pop();
        done.changes.push(("image", "i1".to_owned(), "update"));
        let events = events_of_work("op", &done);
        assert_eq!(types(&events), ["image.updated", "image.updated"]);
    }

    #[test]
    fn an_upload_is_created_when_it_ends_and_webhook_management_is_silent() {
        let ended = events_of_ending("op", "image.upload", true, &["i9".to_owned()], None);
        assert_eq!(types(&ended), ["image.created", "operation.succeeded"]);
        let failed = events_of_ending("op", "image.upload", false, &["i9".to_owned()], None);
        assert_eq!(types(&failed), ["operation.failed"]);
        assert!(events_of_ending("op", "webhook.test", true, &[], None).is_empty());
    }

    #[test]
    fn a_large_removal_that_a_job_ends_is_told_once_it_succeeded() {
        let images = ["i1".to_owned()];
        let ended = events_of_ending("op", "set.images.remove", true, &images, Some("s1"));
        assert_eq!(types(&ended), ["set.images_removed", "operation.succeeded"]);
        let failed = events_of_ending("op", "set.images.remove", false, &images, Some("s1"));
        assert_eq!(types(&failed), ["operation.failed"]);
    }

    fn member(id: &str, hidden: bool, at: Option<i64>) -> MemberRow {
        MemberRow {
            image_id: id.to_owned(),
            position: 0,
            hidden,
            activation_time: at.map(Timestamp),
        }
    }

    #[test]
    fn images_go_live_now_or_at_their_instant_once() {
        let now = 1_000;
        let before = [
            member("shown", false, None),
            member("hidden", true, None),
            member("embargoed", true, Some(5_000)),
            member("moved", true, Some(5_000)),
        ];
        let after = [
            member("shown", false, None),
            member("hidden", true, Some(900)),
            member("embargoed", true, Some(5_000)),
            member("moved", true, Some(7_000)),
            member("added", false, None),
        ];
        let live = going_live(&before, &after, now);
        assert_eq!(live.now, ["hidden", "added"]);
        assert_eq!(live.scheduled, [7_000]);
    }
}
