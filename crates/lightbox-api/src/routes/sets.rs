//! Sets: the tree, one set, its images in display order; and the writes —
//! create, rename / recolour / lead image / re-parent, membership, image
//! order, sibling reorder, visibility (publishing), snapshots and restore.

use axum::Json;
use axum::extract::{Path, State};
use lightbox_core::images::Image;
use lightbox_core::operations::Operation;
use lightbox_core::sets::{
    self, Arrangement, MembersBody, NewSet, OrderBody, RestoreBody, Set, SetNode, SetPatch,
    SiblingOrder, Snapshot, VisibilityBody,
};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, Page, Paged, Query, Write};

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
) -> ApiResult<Accepted<Operation>> {
    let op = sets::create(&state.core, &write.ctx, write.body).await?;
    Ok(Accepted(op))
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
    let paging = query.paging()?;
    Ok(Page::new(
        sets::list(
            &state.core,
            &caller.0.account.uuid,
            query.get("parent_public_uuid"),
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
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

/// Every set of the account as a tree, siblings in arranged order.
#[utoipa::path(
    get,
    path = "/v1/sets/tree",
    tag = "sets",
    security(("bearer" = ["api.images.read"])),
    responses((status = 200, description = "The top-level sets, each with its `children`", body = Vec<SetNode>))
)]
pub async fn get_tree(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SetNode>>> {
    Ok(Json(sets::tree(&state.core, &caller.0.account.uuid).await?))
}

/// Rename, recolour, retype, set the lead image, or re-parent (which
/// snapshots the set first). Already `succeeded`; `result.set` is the set.
#[utoipa::path(
    patch,
    path = "/v1/sets/{public_uuid}",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    request_body(content = SetPatch, example = json!({"name": "Main stage — Sunday", "colour": "green"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`: e.g. a cycle (re-parenting under itself or a descendant), a lead image not in the set", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`: the set or the new parent", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn update_set(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<SetPatch>,
) -> ApiResult<Accepted<Operation>> {
    let op = sets::update(&state.core, &write.ctx, &public_uuid, write.body).await?;
    Ok(Accepted(op))
}

/// The set's images in display order, with everything an image object
/// carries (its `sets` entries show `hidden` and `activation_time`).
#[utoipa::path(
    get,
    path = "/v1/sets/{public_uuid}/images",
    tag = "sets",
    security(("bearer" = ["api.images.read"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid"),
        ("live" = Option<bool>, Query, description = "`true`: only the images live at this moment (not hidden, or their activation time has come)"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of images", body = Vec<Image>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
        (status = 404, description = "`set_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_set_images(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
    query: Query,
) -> ApiResult<Page<Image>> {
    let paging = query.paging()?;
    let live = query
        .get("live")
        .map(|t| lightbox_core::image_filters::boolean("live", t))
        .transpose()?
        .unwrap_or(false);
    Ok(Page::new(
        sets::images(
            &state.core,
            &caller.0.account.uuid,
            &public_uuid,
            live,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// Add images to the set (at the end, in the order given; ones already in
/// it stay where they are). More than 1,000 images run as a job.
#[utoipa::path(
    post,
    path = "/v1/sets/{public_uuid}/images",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    request_body(content = MembersBody, example = json!({"image_public_uuids": ["0b9d3c62-6f1e-4a8e-9a57-1c0f6f0d2b11"]})),
    responses(
        (status = 202, description = "Accepted; the Operation (`succeeded`, or `queued` for more than 1,000 images; `result.added`)", body = Operation),
        (status = 403, description = "`own_images_only`: a `user` member changes the membership, order and visibility of its own images only; nothing applied", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`, or `image_not_found` naming the image", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn add_set_images(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<MembersBody>,
) -> ApiResult<Accepted<Operation>> {
    let change = Arrangement::add(write.body)?;
    arranged(&state, &write.caller.0, &write.ctx, &public_uuid, change).await
}

/// Remove images from the set (ones not in it are counted in
/// `result.not_in_set`). More than 1,000 images run as a job.
#[utoipa::path(
    delete,
    path = "/v1/sets/{public_uuid}/images",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    request_body(content = MembersBody, example = json!({"image_public_uuids": ["0b9d3c62-6f1e-4a8e-9a57-1c0f6f0d2b11"]})),
    responses(
        (status = 202, description = "Accepted; the Operation (`result.removed`)", body = Operation),
        (status = 403, description = "`own_images_only`: a `user` member changes the membership, order and visibility of its own images only; nothing applied", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn remove_set_images(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<MembersBody>,
) -> ApiResult<Accepted<Operation>> {
    let change = Arrangement::remove(write.body)?;
    arranged(&state, &write.caller.0, &write.ctx, &public_uuid, change).await
}

/// Reorder the set's images: a full permutation, or `move` some images
/// `before`/`after` another. Concurrent reorders apply one after the other;
/// a permutation that no longer matches the members is refused.
#[utoipa::path(
    patch,
    path = "/v1/sets/{public_uuid}/order",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    request_body(content = OrderBody, example = json!({"move": ["0b9d3c62-6f1e-4a8e-9a57-1c0f6f0d2b11"], "before": "6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`: not a permutation of the members, an image not in the set, both or neither forms", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`own_images_only`: a `user` member changes the membership, order and visibility of its own images only; nothing applied", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn order_set_images(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<OrderBody>,
) -> ApiResult<Accepted<Operation>> {
    let change = Arrangement::order(write.body)?;
    arranged(&state, &write.caller.0, &write.ctx, &public_uuid, change).await
}

/// Hide or show images of the set, or embargo them until `activation_time`:
/// they go live at exactly that instant (decided when read, never late).
#[utoipa::path(
    patch,
    path = "/v1/sets/{public_uuid}/visibility",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    request_body(content = VisibilityBody, example = json!({"hidden": true, "activation_time": "2026-07-14T20:00:00Z"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`: `hidden` not a boolean, a bad time, an image not in the set", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`own_images_only`: a `user` member changes the membership, order and visibility of its own images only; nothing applied", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn set_visibility(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<VisibilityBody>,
) -> ApiResult<Accepted<Operation>> {
    let change = Arrangement::visibility(write.body)?;
    arranged(&state, &write.caller.0, &write.ctx, &public_uuid, change).await
}

/// Put the set back as a snapshot had it: members, order, visibility, lead
/// image, parent and children order (images deleted since stay gone). The
/// set is snapshotted first, so a restore can be undone.
#[utoipa::path(
    post,
    path = "/v1/sets/{public_uuid}/restore",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid")),
    request_body(content = RestoreBody, example = json!({"snapshot_uuid": "3f2b8c1d-5e6a-4b7c-8d9e-0f1a2b3c4d5e"})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 403, description = "`own_images_only`: a `user` member changes the membership, order and visibility of its own images only; nothing applied", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`, `snapshot_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn restore_set(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<RestoreBody>,
) -> ApiResult<Accepted<Operation>> {
    let change = Arrangement::restore(write.body)?;
    arranged(&state, &write.caller.0, &write.ctx, &public_uuid, change).await
}

async fn arranged(
    state: &AppState,
    principal: &lightbox_core::auth::Principal,
    ctx: &lightbox_core::writes::WriteContext,
    public_uuid: &str,
    change: Arrangement,
) -> ApiResult<Accepted<Operation>> {
    let op = sets::arrange(&state.core, principal, ctx, public_uuid, change).await?;
    Ok(Accepted(op))
}

/// The set's snapshots, newest first (the newest 50 are kept).
#[utoipa::path(
    get,
    path = "/v1/sets/{public_uuid}/snapshots",
    tag = "sets",
    security(("bearer" = ["api.images.read"])),
    params(
        ("public_uuid" = uuid::Uuid, Path, description = "The set's public uuid"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of snapshots", body = Vec<Snapshot>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
        (status = 404, description = "`set_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn list_snapshots(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
    Paged(paging): Paged,
) -> ApiResult<Page<Snapshot>> {
    Ok(Page::new(
        sets::snapshots(
            &state.core,
            &caller.0.account.uuid,
            &public_uuid,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// Reorder siblings: a full permutation of the children of
/// `parent_public_uuid` (null: the top level). Snapshots the parent first.
#[utoipa::path(
    patch,
    path = "/v1/sets/reorder",
    tag = "sets",
    security(("bearer" = ["api.sets.write"])),
    request_body(content = SiblingOrder, example = json!({"parent_public_uuid": null, "set_public_uuids": ["6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa", "0b9d3c62-6f1e-4a8e-9a57-1c0f6f0d2b11"]})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 400, description = "`validation`: not a permutation of the siblings", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`set_not_found`: no such parent", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn reorder_sets(
    State(state): State<AppState>,
    write: Write<SiblingOrder>,
) -> ApiResult<Accepted<Operation>> {
    let op = sets::reorder(&state.core, &write.ctx, write.body).await?;
    Ok(Accepted(op))
}
