//! Webhooks (api.md §11): subscriptions, their delivery log, a test ping
//! and redelivery by hand. Scope `api.webhooks`; not the `user` role.

use axum::Json;
use axum::extract::{Path, State};
use lightbox_core::operations::Operation;
use lightbox_core::webhooks::{self, Delivery, NewWebhook, Webhook, WebhookPatch, WebhookSecret};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, NoStore, Page, Query, Write, WriteKey};

/// Puts a new secret into the Operation's `result.secret` (this answer only).
fn with_secret(mut op: Operation, secret: Option<WebhookSecret>) -> Operation {
    if let (Some(secret), Some(result)) = (secret, op.result.as_object_mut()) {
        result.insert(
            "secret".to_owned(),
            serde_json::Value::String(secret.as_str().to_owned()),
        );
    }
    op
}

/// The account's webhook subscriptions, oldest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of subscriptions (never their secrets)", body = Vec<Webhook>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
        (status = 403, description = "`forbidden`: the `user` role manages no webhook", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Page<Webhook>> {
    let paging = query.paging()?;
    Ok(Page::new(
        webhooks::list(&state.core, &caller.0, paging.limit, paging.offset).await?,
        paging,
    ))
}

/// Subscribe a URL to events. Already `succeeded`; `result.webhook` is the
/// subscription and `result.secret` (`whsec_…`) its signing secret — in
/// this answer and its replay only.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    request_body(content = NewWebhook, example = json!({
        "url": "https://cms.example.org/hooks/lightbox",
        "events": ["set.images_live", "image.created"],
        "description": "Newsroom CMS"
    })),
    responses(
        (status = 202, description = "Created; the Operation (with the secret)", body = Operation),
        (status = 400, description = "`validation`: `url` not http(s), carrying credentials, or leading to a non-public address; an unknown event type", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: the `user` role manages no webhook", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`idempotency_key_conflict`; `conflict` (detail `webhook_limit`): the account has its 20 webhooks already", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    write: Write<NewWebhook>,
) -> ApiResult<NoStore<Accepted<Operation>>> {
    let (op, secret) =
        webhooks::create(&state.core, &write.ctx, &write.caller.0, write.body).await?;
    Ok(NoStore(Accepted(with_secret(op, secret))))
}

/// One subscription.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{public_uuid}",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid")),
    responses(
        (status = 200, description = "The subscription", body = Webhook),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(
        webhooks::get(&state.core, &caller.0, &public_uuid).await?,
    ))
}

/// Change a subscription's url, events, description or `enabled`.
/// Already `succeeded`; `result.webhook` is the subscription.
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{public_uuid}",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid")),
    request_body(content = WebhookPatch, example = json!({"enabled": true})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn update_webhook(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<WebhookPatch>,
) -> ApiResult<Accepted<Operation>> {
    let op = webhooks::update(
        &state.core,
        &write.ctx,
        &write.caller.0,
        &public_uuid,
        write.body,
    )
    .await?;
    Ok(Accepted(op))
}

/// Delete a subscription and its delivery log. Already `succeeded`.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{public_uuid}",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid")),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteKey,
) -> ApiResult<Accepted<Operation>> {
    let op = webhooks::delete(&state.core, &write.ctx, &write.caller.0, &public_uuid).await?;
    Ok(Accepted(op))
}

/// A new signing secret (`result.secret`, in this answer only); the old
/// one keeps signing beside it for 24 hours.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{public_uuid}/rotate_secret",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid")),
    responses(
        (status = 202, description = "Rotated; the Operation (with the new secret)", body = Operation),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteKey,
) -> ApiResult<NoStore<Accepted<Operation>>> {
    let (op, secret) =
        webhooks::rotate_secret(&state.core, &write.ctx, &write.caller.0, &public_uuid).await?;
    Ok(NoStore(Accepted(with_secret(op, secret))))
}

/// Send `ping` to this subscription (whatever events it asks for).
#[utoipa::path(
    post,
    path = "/v1/webhooks/{public_uuid}/test",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid")),
    responses(
        (status = 202, description = "Queued; the Operation (`result.event_id`)", body = Operation),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn test_webhook(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteKey,
) -> ApiResult<Accepted<Operation>> {
    let op = webhooks::test(&state.core, &write.ctx, &write.caller.0, &public_uuid).await?;
    Ok(Accepted(op))
}

/// A subscription's deliveries, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{public_uuid}/deliveries",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = Vec<Delivery>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
    query: Query,
) -> ApiResult<Page<Delivery>> {
    let paging = query.paging()?;
    Ok(Page::new(
        webhooks::deliveries(
            &state.core,
            &caller.0,
            &public_uuid,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// Send a delivery again now: same event id and body, its retries anew.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{public_uuid}/deliveries/{delivery_id}/redeliver",
    tag = "webhooks",
    security(("bearer" = ["api.webhooks"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The subscription's public uuid"),
        ("delivery_id" = uuid::Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Queued; the Operation", body = Operation),
        (status = 404, description = "`not_found`: no such subscription or delivery", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn redeliver_webhook_delivery(
    State(state): State<AppState>,
    Path((public_uuid, delivery_id)): Path<(String, String)>,
    write: WriteKey,
) -> ApiResult<Accepted<Operation>> {
    let op = webhooks::redeliver(
        &state.core,
        &write.ctx,
        &write.caller.0,
        &public_uuid,
        &delivery_id,
    )
    .await?;
    Ok(Accepted(op))
}
