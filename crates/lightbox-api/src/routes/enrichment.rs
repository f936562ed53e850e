//! Enrichment of one image: IPTC metadata (and the account's metadata
//! profiles), rating, crops, alt text, credit lines, and copying what the
//! file itself says into the editable fields.

use axum::extract::{Path, State};
use lightbox_core::edits::{
    self, AltTextBody, CreditBody, CreditRemoveBody, Crop, CropClearBody, Edit, MetadataPatch,
    RatingBody,
};
use lightbox_core::metadata_profiles::{self, MetadataProfile};
use lightbox_core::operations::Operation;
use lightbox_core::writes::WriteContext;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, EmptyObject, Page, Paged, Write, WriteMaybe};

/// Runs one checked edit and answers `202` with its Operation.
pub(crate) async fn accepted(
    state: &AppState,
    caller: &Caller,
    ctx: &WriteContext,
    edit: Edit,
) -> ApiResult<Accepted<Operation>> {
    let op = edits::run(&state.core, &caller.0, ctx, edit).await?;
    Ok(Accepted(op))
}

/// Change some IPTC fields: a field left out stays; `null` or `""` clears it.
#[utoipa::path(
    put,
    path = "/v1/images/{public_uuid}/metadata",
    tag = "metadata",
    security(("bearer" = ["api.metadata.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = MetadataPatch, example = json!({"creator": "Jane Doe", "copyright_notice": "© 2026 Festival AG", "copyright_marked": true, "city": null})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`; `result.metadata` is the new set)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn put_metadata(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<MetadataPatch>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::metadata(&public_uuid, &write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// The account's metadata profiles (made with `lightbox metadata-profile`).
/// A member's default profile fills the IPTC fields its uploads leave empty.
#[utoipa::path(
    get,
    path = "/v1/metadata_profiles",
    tag = "metadata",
    security(("bearer" = ["api.images.read"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses((status = 200, description = "A page of the profiles, by name", body = Vec<MetadataProfile>, headers(
        ("X-Has-More" = String, description = "`true` when more follow"),
        ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
    ))),
)]
pub async fn list_metadata_profiles(
    State(state): State<AppState>,
    caller: Caller,
    Paged(paging): Paged,
) -> ApiResult<Page<MetadataProfile>> {
    let all = metadata_profiles::list(&state.core, &caller.0.account.uuid).await?;
    Ok(Page::of(all, paging))
}

/// Set the rating, 0 (none) to 5.
#[utoipa::path(
    put,
    path = "/v1/images/{public_uuid}/rating",
    tag = "metadata",
    security(("bearer" = ["api.ratings.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = RatingBody, example = json!({"rating": 4})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn put_rating(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<RatingBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::rating(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Set the crop for one aspect ratio: whole pixels of the upright image,
/// inside it, and within one pixel of the named ratio. Replaces that
/// ratio's crop. A later rotation turns the crops with the image.
#[utoipa::path(
    put,
    path = "/v1/images/{public_uuid}/crop",
    tag = "metadata",
    security(("bearer" = ["api.metadata.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = Crop, example = json!({"aspect_ratio": "16:9", "x": 0, "y": 120, "width": 1920, "height": 1080})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`conflict`: the image's size is not known yet", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn put_crop(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<Crop>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::crop(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Clear the crop of one aspect ratio, or (without a body) every crop.
#[utoipa::path(
    delete,
    path = "/v1/images/{public_uuid}/crop",
    tag = "metadata",
    security(("bearer" = ["api.metadata.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = Option<CropClearBody>, description = "Optional: which aspect ratio", example = json!({"aspect_ratio": "16:9"})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`; `result.removed` counts the crops cleared)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn delete_crop(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteMaybe<CropClearBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::clear_crop(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Set the alt text (at most 1000 characters; `""` clears it).
#[utoipa::path(
    put,
    path = "/v1/images/{public_uuid}/alt_text",
    tag = "metadata",
    security(("bearer" = ["api.metadata.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = AltTextBody, example = json!({"alt_text": "The singer on the main stage, arms raised"})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn put_alt_text(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<AltTextBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::alt_text(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Add a credit line (`result.credit` carries its `uuid`); at most 50.
#[utoipa::path(
    post,
    path = "/v1/images/{public_uuid}/credits",
    tag = "metadata",
    security(("bearer" = ["api.metadata.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = CreditBody, example = json!({"role": "Photo", "name": "Jane Doe"})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`conflict`: the image has 50 credit lines", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn add_credit(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<CreditBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::add_credit(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Remove a credit line.
#[utoipa::path(
    delete,
    path = "/v1/images/{public_uuid}/credits",
    tag = "metadata",
    security(("bearer" = ["api.metadata.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = CreditRemoveBody, example = json!({"credit_uuid": "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f"})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`, or `not_found`: no such credit line on the image", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn remove_credit(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<CreditRemoveBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::remove_credit(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Copy what the file itself says into the editable fields: its caption
/// (→ `description`), keywords (added) and date taken (→ `creation_date`),
/// and IPTC fields the image has empty. `result` lists what was copied.
#[utoipa::path(
    post,
    path = "/v1/images/{public_uuid}/extract_metadata",
    tag = "metadata",
    security(("bearer" = ["api.images.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = Option<EmptyObject>, description = "None, or an empty object `{}`"),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn extract_metadata(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteMaybe<EmptyObject>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::extract_metadata(&public_uuid)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}
