//! `GET /v1/operations/{uuid}`: poll a write's Operation.

use axum::Json;
use axum::extract::Path;
use lightbox_core::operations::{self, Operation};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Caller;

/// An Operation of the caller's account. Readable by any credential of the
/// account; use `If-None-Match` to poll cheaply (304 while unchanged).
#[utoipa::path(
    get,
    path = "/v1/operations/{uuid}",
    tag = "operations",
    security(("bearer" = [])),
    // pattern: openapi_common::OPERATION_ID_PATTERN (the macro takes only a literal)
    params(("uuid" = String, Path, description = "Operation id, `op-…`", pattern = "^op-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", example = "op-0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f")),
    responses(
        (status = 200, description = "The Operation", body = Operation),
        (status = 404, description = "`operation_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn get_operation(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
) -> ApiResult<Json<Operation>> {
    Ok(Json(
        operations::get(&state.core, &caller.0.account.uuid, &uuid).await?,
    ))
}
