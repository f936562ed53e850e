//! Sets: `POST /v1/sets`, `GET /v1/sets`, `GET /v1/sets/{public_uuid}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lightbox_core::operations::Operation;
use lightbox_core::sets::{self, NewSet, Set};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, Page, Query, Write};

/// Create a set. Answers `202` with an Operation that is already
/// `succeeded`; its `result.set` is the new set.
#[utoipa::path(
    post,
    path = "/v1/sets",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    request_body(content = NewSet, example = json!({"name": "Main stage — Saturday", "colour": "blue", "type": "gallery"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation, links(
            ("poll" = (operation_id = "get_operation", parameters(("uuid" = "$response.body#/uuid")), description = "Poll the Operation")),
            ("set" = (operation_id = "get_set", parameters(("public_uuid" = "$response.body#/set_public_uuid")), description = "The new set")),
            ("children" = (operation_id = "list_sets", parameters(("parent_public_uuid" = "$response.body#/set_public_uuid")), description = "The new set's children")),
        )),
        (status = 404, description = "`set_not_found`: the parent does not exist", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`idempotency_key_conflict`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_set(
    State(state): State<AppState>,
    write: Write<NewSet>,
) -> ApiResult<(StatusCode, Json<Operation>)> {
    let op = sets::create(&state.core, &write.ctx, write.body).await?;
    Ok((StatusCode::ACCEPTED, Json(op)))
}

/// Top-level sets, or the children of `parent_public_uuid`, in arranged order.
#[utoipa::path(
    get,
    path = "/v1/sets",
    tag = "sets",
    security(("bearer" = ["api.images.read"])),
    params(
        ("parent_public_uuid" = Option<uuid::Uuid>, Query, description = "List this set's children instead of the top level"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of sets", body = Vec<Set>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
        (status = 404, description = "`set_not_found`: no such parent", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_sets(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Page<Set>> {
    query.only(&["parent_public_uuid", "limit", "offset"])?;
    let paging = query.paging()?;
    let (items, has_more) = sets::list(
        &state.core,
        &caller.0.account.uuid,
        query.get("parent_public_uuid"),
        paging.limit,
        paging.offset,
    )
    .await?;
    Ok(Page {
        items,
        has_more,
        paging,
    })
}

/// One set, with its counts.
#[utoipa::path(
    get,
    path = "/v1/sets/{public_uuid}",
    tag = "sets",
    security(("bearer" = ["api.images.read"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    responses(
        (status = 200, description = "The set", body = Set, links(
            ("children" = (operation_id = "list_sets", parameters(("parent_public_uuid" = "$response.body#/public_uuid")), description = "The set's children")),
        )),
        (status = 404, description = "`set_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn get_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
) -> ApiResult<Json<Set>> {
    Ok(Json(
        sets::get(&state.core, &caller.0.account.uuid, &public_uuid).await?,
    ))
}
