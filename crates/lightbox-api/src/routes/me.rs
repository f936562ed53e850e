//! `GET /v1/me`: who the credential is and what it can do.

use axum::Json;
use lightbox_core::accounts::AccountRef;
use lightbox_core::tokens::ServiceTokenView;
use serde::Serialize;

use crate::error::ApiResult;
use crate::extract::Caller;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub account: AccountRef,
    /// The service token making the call, with its options.
    pub service_token: ServiceTokenView,
    /// The scopes this credential can use right now.
    #[schema(example = json!(["api.images.read", "api.upload"]))]
    pub capabilities: Vec<String>,
}

/// The calling credential, its account and its live capabilities.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me))
)]
pub async fn get_me(caller: Caller) -> ApiResult<Json<Me>> {
    let p = &caller.0;
    Ok(Json(Me {
        account: p.account.clone(),
        service_token: p.token.clone(),
        capabilities: p.capabilities(),
    }))
}
