//! `GET/POST /v1/service_tokens`, `DELETE /v1/service_tokens/{uuid}`: an
//! account admin's access token manages the account's service tokens (a
//! service token never can: a token cannot mint tokens).

use axum::extract::{Path, State};
use lightbox_core::clock::parse_request_time;
use lightbox_core::operations::Operation;
use lightbox_core::scope::Scope;
use lightbox_core::tokens::{self, NewServiceToken, ServiceTokenView};
use lightbox_core::{CoreError, tokens::list};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, NoStore, Page, Paged, Write, WriteKey};

/// The account's service tokens (revoked ones included, marked), oldest first.
#[utoipa::path(
    get,
    path = "/v1/service_tokens",
    tag = "service_tokens",
    security(("bearer" = ["role:admin"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses((status = 200, description = "A page of tokens (never their secrets)", body = Vec<ServiceTokenView>, headers(
        ("X-Has-More" = String, description = "`true` when more follow"),
        ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
    )))
)]
pub async fn list_service_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Paged(paging): Paged,
) -> ApiResult<Page<ServiceTokenView>> {
    let all = list(&state.core, &caller.0.account.uuid).await?;
    Ok(Page::of(all, paging))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceTokenRequest {
    /// 1–200 characters.
    #[schema(example = "My integration")]
    pub name: String,
    /// At least one; only scopes the caller holds.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// RFC 3339 or `YYYY-MM-DD`, in the future; omitted or null: no expiry.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// IP addresses or CIDR blocks; empty or omitted: any address.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    /// Largest request body, in bytes (at least 1).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub max_request_bytes: Option<u64>,
}

/// Creates a service token. A write: `202` with an Operation that is
/// already `succeeded`; `result.service_token` describes the token and
/// `result.token` holds its secret — in this answer only. The secret is
/// never stored, so replaying the request (same Idempotency-Key) answers
/// the Operation without `result.token`.
#[utoipa::path(
    post,
    path = "/v1/service_tokens",
    tag = "service_tokens",
    security(("bearer" = ["role:admin"])),
    request_body(content = NewServiceTokenRequest, example = json!({"name": "My integration", "scopes": ["api.images.read", "api.upload"], "expires_at": "2027-01-01", "allowed_ips": ["203.0.113.0/24"]})),
    responses(
        (status = 202, description = "Created; the Operation (with the secret, once)", body = Operation, links(
            ("revoke" = (operation_id = "revoke_service_token", parameters(("uuid" = "$response.body#/result/service_token/uuid")), description = "Revoke the new token")),
        )),
        (status = 409, description = "`idempotency_key_conflict`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_service_token(
    State(state): State<AppState>,
    write: Write<NewServiceTokenRequest>,
) -> ApiResult<NoStore<Accepted<Operation>>> {
    let body = write.body;
    let expires_at = body
        .expires_at
        .as_deref()
        .map(|t| {
            parse_request_time(t).ok_or_else(|| {
                CoreError::validation("expires_at", "expires_at must be RFC 3339 or YYYY-MM-DD.")
            })
        })
        .transpose()?;
    let new = NewServiceToken {
        name: body.name,
        scopes: body.scopes,
        expires_at,
        allowed_ips: body.allowed_ips,
        max_request_bytes: body.max_request_bytes,
    };
    let (mut op, secret) =
        tokens::create_by_admin(&state.core, &write.ctx, write.caller.0.scopes(), new).await?;
    if let (Some(secret), Some(result)) = (secret, op.result.as_object_mut()) {
        result.insert(
            "token".to_owned(),
            serde_json::Value::String(secret.as_str().to_owned()),
        );
    }
    Ok(NoStore(Accepted(op)))
}

/// Revokes a service token of the account: refused from the next request on.
#[utoipa::path(
    delete,
    path = "/v1/service_tokens/{uuid}",
    tag = "service_tokens",
    security(("bearer" = ["role:admin"])),
    params(("uuid" = uuid::Uuid, Path, description = "The token's uuid")),
    responses(
        (status = 202, description = "Revoked; the Operation", body = Operation),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn revoke_service_token(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    write: WriteKey,
) -> ApiResult<Accepted<Operation>> {
    let op = tokens::revoke_by_admin(&state.core, &write.ctx, &uuid).await?;
    Ok(Accepted(op))
}
