//! Webhooks (api.md §11): an account's subscriptions, the events its writes
//! record in their own transaction ([`events`]), and their delivery by the
//! workers ([`delivery`]), signed as the Standard Webhooks specification
//! says. Sending is the binary's ([`WebhookTransport`]): this crate speaks
//! no HTTP.

pub mod delivery;
pub mod events;
pub mod target;

use std::sync::Arc;

use lightbox_store::webhooks::{self as store, WebhookDeliveryRow, WebhookRow};
use lightbox_store::{Conn, JsonText, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::clock::format_rfc3339;
use crate::error::{CoreError, ErrorKind};
use crate::operations::Operation;
use crate::users::Role;
use crate::writes::{self, Begun, WorkDone, WriteContext};
use crate::{Core, ids, validate};

pub use delivery::{Attempt, AttemptResult, WebhookTransport};
pub use target::TargetRefused;

pub const DESCRIPTION_MAX: usize = 500;
pub const URL_MAX: usize = 2048;
/// Subscriptions an account may have.
pub const MAX_PER_ACCOUNT: i64 = 20;
/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP_MICROS: i64 = 24 * 3600 * 1_000_000;

/// Every event type a subscription may ask for (api.md §11).
pub const EVENT_TYPES: [&str; 15] = [
    "image.created",
    "image.updated",
    "image.deleted",
    "set.created",
    "set.updated",
    "set.deleted",
    "set.images_added",
    "set.images_removed",
    "set.images_live",
    "operation.succeeded",
    "operation.failed",
    "archive.ready",
    "service_token.expiring",
    "press_member.registered",
    "ping",
];

/// How this node sends webhooks, and whether private targets are allowed
/// (`--webhook-allow-private`).
pub struct WebhookSettings {
    pub allow_private: bool,
    pub transport: Option<Arc<dyn WebhookTransport>>,
    /// Woken when this node records an event, so it is sent at once.
    pub wake: tokio::sync::Notify,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            transport: None,
            wake: tokio::sync::Notify::new(),
        }
    }
}

/// A subscription as the API reads it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    #[schema(value_type = uuid::Uuid)]
    pub public_uuid: String,
    pub url: String,
    /// Event types, or `["*"]` for every one.
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    /// Why the server disabled it (5 days of failed deliveries); null when
    /// enabled or disabled by hand.
    pub disabled_reason: Option<String>,
    pub created_at: String,
}

impl Webhook {
    fn from_row(row: &WebhookRow) -> Self {
        Self {
            public_uuid: row.id.clone(),
            url: row.url.clone(),
            events: events_of(row),
            description: row.description.clone(),
            enabled: row.enabled,
            disabled_reason: row.disabled_reason.clone(),
            created_at: format_rfc3339(row.created_at),
        }
    }
}

/// A subscription's event types as stored.
pub(crate) fn events_of(row: &WebhookRow) -> Vec<String> {
    serde_json::from_str(row.events.as_str()).unwrap_or_default()
}

/// `POST /v1/webhooks` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://…` (or `http://…`) that answers a `POST` with a 2xx.
    #[schema(example = "https://cms.example.org/hooks/lightbox", max_length = 2048)]
    pub url: String,
    /// Event types (see api.md §11), or `["*"]`.
    #[schema(example = json!(["set.images_live", "image.created"]), min_items = 1)]
    pub events: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// `PATCH /v1/webhooks/{public_uuid}`: any of these; absent fields stay.
/// Enabling a subscription the server disabled clears its reason.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// A deliveries list item.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    /// The event id (the `webhook-id` header of every attempt).
    pub event_id: String,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// What was sent last, truncated.
    pub last_request: Option<String>,
    /// What the receiver answered last, truncated.
    pub last_response: Option<String>,
}

impl Delivery {
    fn from_row(row: &WebhookDeliveryRow) -> Self {
        Self {
            id: row.id.clone(),
            event_type: row.event_type.clone(),
            status: row.status.clone(),
            attempts: row.attempts,
            last_status_code: row.last_status_code,
            next_attempt_at: (row.status == "pending")
                .then(|| row.next_attempt_at.map(format_rfc3339))
                .flatten(),
            created_at: format_rfc3339(row.created_at),
            event_id: row.event_id.clone(),
            last_error: row.last_error.clone(),
            last_request: row.last_request.clone(),
            last_response: row.last_response.clone(),
        }
    }
}

/// A new signing secret: `whsec_` and base64 of 32 random bytes.
pub struct WebhookSecret(String);

impl WebhookSecret {
    fn generate() -> Result<Self, CoreError> {
        lightbox_auth::webhook::new_secret().map(Self).map_err(|e| {
            tracing::error!(error = %e, "no randomness");
            CoreError::internal()
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose secret a sealed value is.
pub(crate) fn secret_owner(webhook_id: &str) -> String {
    format!("webhook:{webhook_id}")
}

pub(crate) fn open_secret(
    core: &Core,
    webhook_id: &str,
    sealed: &str,
) -> Result<String, CoreError> {
    core.secrets.open(&secret_owner(webhook_id), sealed)
}

fn seal_secret(core: &Core, webhook_id: &str, secret: &WebhookSecret) -> Result<String, CoreError> {
    core.secrets
        .seal(&secret_owner(webhook_id), secret.as_str())
}

fn not_found(id: &str) -> CoreError {
    CoreError::new(ErrorKind::NotFound, format!("No webhook {id}.")).with_detail("webhook")
}

fn webhook_id(id: &str) -> Result<String, CoreError> {
    if ids::is_uuid(id) {
        Ok(id.to_owned())
    } else {
        Err(not_found(id))
    }
}

/// Subscriptions see every event of the account: an account setting, which
/// a `user` member does not change.
fn may_manage(principal: &Principal) -> Result<(), CoreError> {
    if principal.role() == Some(Role::User) {
        return Err(CoreError::forbidden("Your role does not manage webhooks.")
            .with_detail("role_not_allowed"));
    }
    Ok(())
}

fn check_events(events: &[String]) -> Result<Vec<String>, CoreError> {
    if events.is_empty() {
        return Err(CoreError::validation(
            "events",
            "Name at least one event type, or [\"*\"] for every one.",
        ));
    }
    if events.iter().any(|e| e == "*") {
        if events.len() > 1 {
            return Err(CoreError::validation(
                "events",
                "\"*\" stands for every event type: send it alone.",
            ));
        }
        return Ok(vec!["*".to_owned()]);
    }
    let mut out: Vec<String> = Vec::new();
    for event in events {
        if !EVENT_TYPES.contains(&event.as_str()) {
            return Err(CoreError::validation(
                "events",
                format!(
                    "There is no event type {event:?}; the types are: {}.",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

/// Checks a target URL: its form here, where it leads by the transport
/// (a private address is refused unless the server allows them).
async fn check_url(core: &Core, url: &str) -> Result<String, CoreError> {
    let parsed = target::parse(url).map_err(|r| CoreError::validation("url", r.to_string()))?;
    if let Some(transport) = &core.webhooks.transport {
        // A resolver that never answers does not hold the request open.
        let checked = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            transport.check(&parsed, core.webhooks.allow_private),
        )
        .await
        .unwrap_or_else(|_| {
            Err(TargetRefused::Unresolved(
                parsed.host_str().unwrap_or_default().to_owned(),
            ))
        });
        checked.map_err(|r| CoreError::validation("url", r.to_string()))?;
    }
    Ok(parsed.to_string())
}

/// Creates a subscription. The secret is answered beside the Operation:
/// by this call, and by its replay while the secret has not been rotated.
pub async fn create(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    input: NewWebhook,
) -> Result<(Operation, Option<WebhookSecret>), CoreError> {
    may_manage(principal)?;
    let events = check_events(&input.events)?;
    let description = validate::optional_text(
        "description",
        input.description.as_deref().unwrap_or(""),
        DESCRIPTION_MAX,
    )?;
    // A replay answers what the first call did, whatever the resolver
    // says of the host now.
    if let Some(op) = writes::replayed(core, ctx).await? {
        let secret = replayed_secret(core, &ctx.account_id, &op).await?;
        return Ok((op, secret));
    }
    // Last: it may ask the resolver.
    let url = check_url(core, &input.url).await?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => {
            let secret = replayed_secret(core, &ctx.account_id, &op).await?;
            return Ok((op, secret));
        }
        Begun::Fresh(write) => write,
    };
    // Each subscription is one more POST per event (and one more receiver
    // that may hold the senders up): a bounded number per account.
    let account_id = write.account_id().to_owned();
    if store::list(write.tx(), &account_id, MAX_PER_ACCOUNT, 0)
        .await?
        .len() as i64
        >= MAX_PER_ACCOUNT
    {
        return Err(CoreError::new(
            ErrorKind::Conflict,
            format!("An account has at most {MAX_PER_ACCOUNT} webhooks; delete one first."),
        )
        .with_detail("webhook_limit"));
    }
    let id = ids::new_public_uuid();
    let secret = WebhookSecret::generate()?;
    let now = Timestamp(write.now());
    let row = WebhookRow {
        id: id.clone(),
        account_id: write.account_id().to_owned(),
        url,
        events: JsonText(serde_json::to_string(&events).map_err(|_| CoreError::internal())?),
        description,
        enabled: input.enabled.unwrap_or(true),
        disabled_reason: None,
        secret: seal_secret(core, &id, &secret)?,
        previous_secret: None,
        previous_until: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(write.tx(), &row).await?;
    let op = write
        .finish(WorkDone::succeeded(
            "webhook.create",
            json!({ "message": "Webhook created.", "webhook": Webhook::from_row(&row) }),
            vec![("webhook", id, "create")],
        ))
        .await?;
    Ok((op, Some(secret)))
}

/// The secret a replayed create answers: the subscription's, unless it was
/// rotated or deleted since (then none).
async fn replayed_secret(
    core: &Core,
    account_id: &str,
    op: &Operation,
) -> Result<Option<WebhookSecret>, CoreError> {
    let Some(id) = op
        .result
        .pointer("/webhook/public_uuid")
        .and_then(|v| v.as_str())
    else {
        return Ok(None);
    };
    let mut conn = core.store.read().await?;
    let Some(row) = store::find(&mut conn, account_id, id).await? else {
        return Ok(None);
    };
    if row.previous_secret.is_some() {
        return Ok(None);
    }
    Ok(Some(WebhookSecret(open_secret(
        core,
        &row.id,
        &row.secret,
    )?)))
}

/// The account's subscription `id`: another account's is the same `404`
/// as one that never existed.
async fn find_own(conn: &mut Conn, account_id: &str, id: &str) -> Result<WebhookRow, CoreError> {
    store::find(conn, account_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn get(core: &Core, principal: &Principal, id: &str) -> Result<Webhook, CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let mut conn = core.store.read().await?;
    let row = find_own(&mut conn, &principal.account.uuid, &id).await?;
    Ok(Webhook::from_row(&row))
}

/// One page of the account's subscriptions, oldest first, and whether more
/// follow.
pub async fn list(
    core: &Core,
    principal: &Principal,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Webhook>, bool), CoreError> {
    may_manage(principal)?;
    let mut conn = core.store.read().await?;
    let rows = store::list(&mut conn, &principal.account.uuid, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((rows.iter().map(Webhook::from_row).collect(), more))
}

pub async fn update(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
    patch: WebhookPatch,
) -> Result<Operation, CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let events = patch.events.as_deref().map(check_events).transpose()?;
    let description = patch
        .description
        .as_deref()
        .map(|d| validate::optional_text("description", d, DESCRIPTION_MAX))
        .transpose()?;
    let url = match &patch.url {
        Some(url) => {
            if let Some(op) = writes::replayed(core, ctx).await? {
                return Ok(op); // as the first call did, whatever the resolver says now
            }
            Some(check_url(core, url).await?)
        }
        None => None,
    };
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    let mut row = store::find_for_update(write.tx(), &account, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if let Some(url) = url {
        row.url = url;
    }
    if let Some(events) = events {
        row.events = JsonText(serde_json::to_string(&events).map_err(|_| CoreError::internal())?);
    }
    if let Some(description) = description {
        row.description = description;
    }
    if let Some(enabled) = patch.enabled {
        if enabled && !row.enabled {
            // Enabled again: its failures so far no longer count.
            row.disabled_reason = None;
            row.failing_since = None;
        }
        row.enabled = enabled;
    }
    row.updated_at = Timestamp(write.now());
    if !store::update(write.tx(), &row).await? {
        return Err(not_found(&id));
    }
    write
        .finish(WorkDone::succeeded(
            "webhook.update",
            json!({ "message": "Webhook changed.", "webhook": Webhook::from_row(&row) }),
            vec![("webhook", id, "update")],
        ))
        .await
}

pub async fn delete(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
) -> Result<Operation, CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    if !store::delete(write.tx(), &account, &id).await? {
        return Err(not_found(&id));
    }
    write
        .finish(WorkDone::succeeded(
            "webhook.delete",
            json!({ "message": "Webhook deleted.", "webhook_public_uuid": id }),
            vec![("webhook", id, "delete")],
        ))
        .await
}

/// A new secret; the old one keeps signing beside it for 24 hours. The
/// new secret is answered by this call only.
pub async fn rotate_secret(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
) -> Result<(Operation, Option<WebhookSecret>), CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok((op, None)),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    let secret = WebhookSecret::generate()?;
    let sealed = seal_secret(core, &id, &secret)?;
    let now = write.now();
    if !store::rotate_secret(
        write.tx(),
        &account,
        &id,
        &sealed,
        Timestamp(now + ROTATION_OVERLAP_MICROS),
        Timestamp(now),
    )
    .await?
    {
        return Err(not_found(&id));
    }
    let row = find_own(write.tx(), &account, &id).await?;
    let op = write
        .finish(WorkDone::succeeded("webhook.rotate_secret", json!({
                "message": "A new secret signs every delivery; the old one signs beside it for 24 hours.",
                "webhook": Webhook::from_row(&row),
                "previous_secret_expires_at": format_rfc3339(now + ROTATION_OVERLAP_MICROS),
            }), vec![("webhook", id, "update")]))
        .await?;
    Ok((op, Some(secret)))
}

/// Sends `ping` to this subscription (whatever its events filter).
pub async fn test(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
) -> Result<Operation, CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    find_own(write.tx(), &account, &id).await?;
    let now = write.now();
    let event_id = events::record_ping(write.tx(), &account, &id, now).await?;
    let op = write
        .finish(WorkDone::succeeded(
            "webhook.test",
            json!({ "message": "A ping is on its way.", "event_id": event_id }),
            vec![],
        ))
        .await?;
    core.webhooks.wake.notify_one();
    Ok(op)
}

/// One page of a subscription's deliveries, newest first.
pub async fn deliveries(
    core: &Core,
    principal: &Principal,
    id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Delivery>, bool), CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let mut conn = core.store.read().await?;
    find_own(&mut conn, &principal.account.uuid, &id).await?;
    let rows = store::list_deliveries(&mut conn, &id, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((rows.iter().map(Delivery::from_row).collect(), more))
}

/// Sends a delivery again, now, with its event id and body unchanged.
pub async fn redeliver(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
    delivery_id: &str,
) -> Result<Operation, CoreError> {
    may_manage(principal)?;
    let id = webhook_id(id)?;
    let delivery_missing = || {
        CoreError::new(ErrorKind::NotFound, format!("No delivery {delivery_id}."))
            .with_detail("delivery")
    };
    if !ids::is_uuid(delivery_id) {
        return Err(delivery_missing());
    }
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    find_own(write.tx(), &account, &id).await?;
    let now = write.now();
    if !store::redeliver(write.tx(), &id, delivery_id, Timestamp(now)).await? {
        // There, but a node is sending it right now: its outcome is not
        // overwritten (nor the event sent twice at once).
        if store::find_delivery(write.tx(), &id, delivery_id)
            .await?
            .is_some()
        {
            return Err(CoreError::new(
                ErrorKind::Conflict,
                "The delivery is being sent right now; redeliver it once this attempt ends.",
            )
            .with_detail("delivery_in_flight"));
        }
        return Err(delivery_missing());
    }
    let op = write
        .finish(WorkDone::succeeded(
            "webhook.redeliver",
            json!({ "message": "The delivery is sent again.", "delivery_id": delivery_id }),
            vec![],
        ))
        .await?;
    core.webhooks.wake.notify_one();
    Ok(op)
}
