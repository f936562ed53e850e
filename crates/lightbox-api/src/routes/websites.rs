//! Websites (api.md §10): list, read, create, change and delete the public
//! and press galleries over the account's set trees.

use axum::Json;
use axum::extract::{Path, State};
use lightbox_core::CoreError;
use lightbox_core::operations::Operation;
use lightbox_core::press::{self, PressMember, PressMemberPatch, PressStatus, WebsiteDownload};
use lightbox_core::websites::{self, NewWebsite, Website, WebsitePatch};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, Page, Query, Write, WriteKey};

/// The account's websites, oldest first.
#[utoipa::path(
    get,
    path = "/v1/websites",
    tag = "websites",
    security(("bearer" = ["api.images.read"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of websites", body = Vec<Website>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
    )
)]
pub async fn list_websites(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Page<Website>> {
    let paging = query.paging()?;
    Ok(Page::new(
        websites::list(
            &state.core,
            &caller.0.account.uuid,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// One website.
#[utoipa::path(
    get,
    path = "/v1/websites/{public_uuid}",
    tag = "websites",
    security(("bearer" = ["api.images.read"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The website's public uuid")),
    responses(
        (status = 200, description = "The website", body = Website),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn get_website(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
) -> ApiResult<Json<Website>> {
    Ok(Json(
        websites::get(&state.core, &caller.0.account.uuid, &public_uuid).await?,
    ))
}

/// Create a website over a set tree. Already `succeeded`;
/// `result.website` is the new website. Not for the `user` role.
#[utoipa::path(
    post,
    path = "/v1/websites",
    tag = "websites",
    security(("bearer" = ["api.sets.write"])),
    request_body(content = NewWebsite, example = json!({
        "name": "Port Eliot 2026 — press",
        "type": "press",
        "slug": "port-eliot-2026-press",
        "root_set_public_uuid": "0190c3a2-7b1e-7c4d-9a2f-3e5d6c7b8a90",
        "title": "Port Eliot Festival 2026 — press photos",
        "accent": "#c2410c"
    })),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`: a slug, host name or accent not in the documented form, an empty name or title, an unknown field", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: the `user` role changes no website", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found` (the root set) or `image_not_found` (the logo)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`conflict`: another website has the slug or host name; or `idempotency_key_conflict`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_website(
    State(state): State<AppState>,
    write: Write<NewWebsite>,
) -> ApiResult<Accepted<Operation>> {
    let op = websites::create(&state.core, &write.ctx, &write.caller.0, write.body).await?;
    Ok(Accepted(op))
}

/// Change any of a website's settings. Already `succeeded`;
/// `result.website` is the website.
#[utoipa::path(
    patch,
    path = "/v1/websites/{public_uuid}",
    tag = "websites",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The website's public uuid")),
    request_body(content = WebsitePatch, example = json!({"intro": "Photos from the main stage, updated every evening.", "downloads": "original"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: the `user` role changes no website", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`not_found` (the website), `set_not_found` (the new root) or `image_not_found` (the logo)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`conflict`: another website has the slug or host name", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn update_website(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<WebsitePatch>,
) -> ApiResult<Accepted<Operation>> {
    let op = websites::update(
        &state.core,
        &write.ctx,
        &write.caller.0,
        &public_uuid,
        write.body,
    )
    .await?;
    Ok(Accepted(op))
}

/// Delete a website; its sets and images stay. Already `succeeded`.
#[utoipa::path(
    delete,
    path = "/v1/websites/{public_uuid}",
    tag = "websites",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The website's public uuid")),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 403, description = "`forbidden`: the `user` role changes no website", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn delete_website(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteKey,
) -> ApiResult<Accepted<Operation>> {
    let op = websites::delete(&state.core, &write.ctx, &write.caller.0, &public_uuid).await?;
    Ok(Accepted(op))
}

/// A press website's registered people, oldest first (admins and service
/// tokens; not the `user` role).
#[utoipa::path(
    get,
    path = "/v1/websites/{public_uuid}/press_members",
    tag = "websites",
    security(("bearer" = ["api.images.read"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The website's public uuid"),
        ("status" = Option<PressStatus>, Query, description = "Only members of this status"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of press members", body = Vec<PressMember>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        ), example = json!([{
            "uuid": "0190c3a2-7b1e-7c4d-9a2f-3e5d6c7b8a91",
            "name": "Ada Reporter",
            "outlet": "The Daily Example",
            "email": "ada@example.com",
            "status": "pending",
            "two_factor": false,
            "created_at": "2026-07-14T09:00:00Z",
            "updated_at": "2026-07-14T09:00:00Z",
            "decided_at": null
        }])),
        (status = 400, description = "`validation`: an unknown status", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: the `user` role sees no press members", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`not_found` (the website)", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_press_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
    query: Query,
) -> ApiResult<Page<PressMember>> {
    let paging = query.paging()?;
    let status = match query.get("status") {
        None => None,
        Some(text) => Some(
            serde_json::from_value::<PressStatus>(serde_json::Value::String(text.to_owned()))
                .map_err(|_| {
                    CoreError::validation(
                        "status",
                        "status must be pending, approved, refused or revoked.",
                    )
                })?,
        ),
    };
    Ok(Page::new(
        press::list_members(
            &state.core,
            &caller.0,
            &public_uuid,
            status,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// Approve, refuse or revoke a press member. Refusing or revoking ends
/// their sign-ins at once: their next request on the website is refused.
/// Already `succeeded`; `result.press_member` is the member.
#[utoipa::path(
    patch,
    path = "/v1/websites/{public_uuid}/press_members/{member_uuid}",
    tag = "websites",
    security(("bearer" = ["api.sets.write"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The website's public uuid"),
        ("member_uuid" = uuid::Uuid, Path, description = "The press member's uuid"),
    ),
    request_body(content = PressMemberPatch, example = json!({"status": "approved"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`: a status other than approved, refused or revoked", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: the `user` role decides no press member", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`not_found` (the website or the member)", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn update_press_member(
    State(state): State<AppState>,
    Path((public_uuid, member_uuid)): Path<(String, String)>,
    write: Write<PressMemberPatch>,
) -> ApiResult<Accepted<Operation>> {
    let op = press::decide(
        &state.core,
        &write.ctx,
        &write.caller.0,
        &public_uuid,
        &member_uuid,
        write.body,
    )
    .await?;
    Ok(Accepted(op))
}

/// Every download the website handed out, newest first: who, which image
/// and version, when, from which address (admins and service tokens).
#[utoipa::path(
    get,
    path = "/v1/websites/{public_uuid}/downloads",
    tag = "websites",
    security(("bearer" = ["api.images.read"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The website's public uuid"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of the download log", body = Vec<WebsiteDownload>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        ), example = json!([{
            "uuid": "0190c3a2-7b1e-7c4d-9a2f-3e5d6c7b8a92",
            "press_member_uuid": "0190c3a2-7b1e-7c4d-9a2f-3e5d6c7b8a91",
            "name": "Ada Reporter",
            "email": "ada@example.com",
            "image_public_uuid": "0190c3a2-7b1e-7c4d-9a2f-3e5d6c7b8a93",
            "version": "original",
            "archive_uuid": null,
            "address": "203.0.113.7",
            "created_at": "2026-07-14T10:30:00Z"
        }])),
        (status = 403, description = "`forbidden`: the `user` role sees no download log", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`not_found` (the website)", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_website_downloads(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
    query: Query,
) -> ApiResult<Page<WebsiteDownload>> {
    let paging = query.paging()?;
    Ok(Page::new(
        press::list_downloads(
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
