//! Images: `GET /v1/images` (filtered, newest first), one image, its
//! versions, `PATCH` and `DELETE`; `GET /v1/version_profiles`.

use axum::Json;
use axum::extract::{Path, State};
use lightbox_core::facets::{self, FacetEntry};
use lightbox_core::image_filters::ImageFilter;
use lightbox_core::images::{self, Image, ImagePatch, Version};
use lightbox_core::media::{VersionProfile, default_profile};
use lightbox_core::operations::Operation;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, Page, Paged, Query, Write, WriteKey};

/// The orders `GET /v1/images` offers (documentation of `sort`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageSort {
    Newest,
    Oldest,
    Taken,
    Relevance,
}

/// The library, newest first (best match first with `query`); every filter
/// stacks (AND).
#[utoipa::path(
    get,
    path = "/v1/images",
    tag = "images",
    security(("bearer" = ["api.images.read"])),
    params(
        ("query" = Option<String>, Query, description = "Full-text search over titles, descriptions, keywords, filenames, dates (`2026`, `2026-07`, `2026-07-14`, `july`) and IPTC/camera metadata; case- and accent-insensitive. Syntax: `word` (should match; with no `+` clause at least one must), `+word` (must), `-word` (must not), `\"exact phrase\"`, `prefix*`. At most 1000 characters and 50 clauses", min_length = 1, max_length = 1000, example = "+concert \"main stage\" -rehearsal mari*"),
        ("keyword" = Option<String>, Query, description = "Images with this keyword: the whole form `axis:value`, or a bare value (with `namespace`, within that axis)", min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$", example = "artist:Marina"),
        ("namespace" = Option<String>, Query, description = "With `keyword`: the axis the bare value is in; alone: images with any keyword in this axis", min_length = 1, max_length = 255, pattern = r"^[^:\x00-\x1F\x7F-\x9F]*[^:\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^:\x00-\x1F\x7F-\x9F]*$"),
        ("rating" = Option<i64>, Query, description = "Exactly this rating, 0-5", minimum = 0, maximum = 5),
        ("min_rating" = Option<i64>, Query, description = "At least this rating, 0-5", minimum = 0, maximum = 5),
        ("exif_property" = Option<String>, Query, description = "Images whose Exif has this property", min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$", example = "Model"),
        ("exif_value" = Option<String>, Query, description = "With `exif_property`: the property's value", max_length = 255, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "X-T5"),
        ("created_at_from" = Option<String>, Query, format = DateTime, description = "Uploaded at or after (RFC 3339; `YYYY-MM-DD` is taken too)"),
        ("created_at_to" = Option<String>, Query, format = DateTime, description = "Uploaded at or before (a bare date includes that whole day)"),
        ("updated_at_from" = Option<String>, Query, format = DateTime, description = "Changed at or after"),
        ("updated_at_to" = Option<String>, Query, format = DateTime, description = "Changed at or before"),
        ("creation_date_from" = Option<String>, Query, format = DateTime, description = "Taken at or after"),
        ("creation_date_to" = Option<String>, Query, format = DateTime, description = "Taken at or before"),
        ("has_video" = Option<bool>, Query, description = "`true` for videos only, `false` for stills only"),
        ("has_geo" = Option<bool>, Query, description = "`true`: with a location; `false`: without"),
        ("bbox" = Option<String>, Query, description = "`west,south,east,north` in degrees (south ≤ north); west > east crosses the antimeridian", pattern = r"^-?(180(\.0+)?|(1[0-7]\d|\d{1,2})(\.\d+)?),-?(90(\.0+)?|[1-8]?\d(\.\d+)?),-?(180(\.0+)?|(1[0-7]\d|\d{1,2})(\.\d+)?),-?(90(\.0+)?|[1-8]?\d(\.\d+)?)$", example = "2.25,48.81,2.42,48.90"),
        ("set_public_uuid" = Option<uuid::Uuid>, Query, description = "Images in this set"),
        ("live" = Option<bool>, Query, description = "With `set_public_uuid`: `true` only the images live in the set at this moment (not hidden, or their activation time has come), `false` only those not live"),
        ("sort" = inline(Option<ImageSort>), Query, description = "`newest` (default without `query`: uploaded last first), `oldest`, `taken` (taken last first), or `relevance` (default with `query`; needs `query`)"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of images", body = Vec<Image>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
    )
)]
pub async fn list_images(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Page<Image>> {
    let paging = query.paging()?;
    let filter = ImageFilter::from_query(|name| query.get(name))?;
    Ok(Page::new(
        images::list(
            &state.core,
            &caller.0.account.uuid,
            &filter,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// Everything about one image: keywords, rating, metadata, sets, and every
/// version with its URL.
#[utoipa::path(
    get,
    path = "/v1/images/{public_uuid}",
    tag = "images",
    security(("bearer" = ["api.images.read"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    responses(
        (status = 200, description = "The image", body = Image),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn get_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
) -> ApiResult<Json<Image>> {
    Ok(Json(
        images::get(&state.core, &caller.0.account.uuid, &public_uuid).await?,
    ))
}

/// The image's versions only (the private original included, without URL).
#[utoipa::path(
    get,
    path = "/v1/images/{public_uuid}/versions",
    tag = "images",
    security(("bearer" = ["api.images.read"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    responses(
        (status = 200, description = "The versions", body = Vec<Version>),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn get_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(public_uuid): Path<String>,
) -> ApiResult<Json<Vec<Version>>> {
    let image = images::get(&state.core, &caller.0.account.uuid, &public_uuid).await?;
    Ok(Json(image.versions))
}

/// Edit `title`, `description`, `creation_date` or `rotation`. A rotation
/// change rebuilds the versions: the Operation ends when they are built.
#[utoipa::path(
    patch,
    path = "/v1/images/{public_uuid}",
    tag = "images",
    security(("bearer" = ["api.images.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = ImagePatch, example = json!({"title": "Headliner, encore", "rotation": 90})),
    responses(
        (status = 202, description = "Accepted; the Operation", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn update_image(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<ImagePatch>,
) -> ApiResult<Accepted<Operation>> {
    let op = images::update(
        &state.core,
        &write.caller.0,
        &write.ctx,
        &public_uuid,
        write.body,
    )
    .await?;
    Ok(Accepted(op))
}

/// Delete the image: its row, versions and (when no other image shares it)
/// its original.
#[utoipa::path(
    delete,
    path = "/v1/images/{public_uuid}",
    tag = "images",
    security(("bearer" = ["api.images.delete"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role deletes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn delete_image(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: WriteKey,
) -> ApiResult<Accepted<Operation>> {
    let op = images::delete(&state.core, &write.caller.0, &write.ctx, &public_uuid).await?;
    Ok(Accepted(op))
}

/// The account's version profiles: the sizes built for every image.
#[utoipa::path(
    get,
    path = "/v1/version_profiles",
    tag = "images",
    security(("bearer" = ["api.images.read"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses((status = 200, description = "A page of the profiles", body = Vec<VersionProfile>, headers(
        ("X-Has-More" = String, description = "`true` when more follow"),
        ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
    ))),
)]
pub async fn list_version_profiles(
    _caller: Caller,
    Paged(paging): Paged,
) -> ApiResult<Page<VersionProfile>> {
    Ok(Page::of(vec![default_profile()], paging))
}

/// Counts over the filtered library: the filters of `GET /v1/images`
/// (`query` included), and per requested field the top 100 values by count.
#[utoipa::path(
    get,
    path = "/v1/facets",
    tag = "images",
    security(("bearer" = ["api.images.read"])),
    params(
        ("fields" = Option<String>, Query, description = "Comma list of `rating`, `namespace`, `keyword`, `keyword:<namespace>`, `exif:<property>`, `creation_year`, `creation_month`, `has_geo`, `has_video`, `set` (at most 20; default `rating,namespace,creation_year,has_geo,has_video`)", example = "rating,keyword:artist,exif:Model,creation_year"),
        ("query" = Option<String>, Query, description = "As for `GET /v1/images`", min_length = 1, max_length = 1000),
        ("keyword" = Option<String>, Query, description = "As for `GET /v1/images`", min_length = 1, max_length = 255),
        ("namespace" = Option<String>, Query, description = "As for `GET /v1/images`", min_length = 1, max_length = 255),
        ("rating" = Option<i64>, Query, description = "As for `GET /v1/images`", minimum = 0, maximum = 5),
        ("min_rating" = Option<i64>, Query, description = "As for `GET /v1/images`", minimum = 0, maximum = 5),
        ("exif_property" = Option<String>, Query, description = "As for `GET /v1/images`", min_length = 1, max_length = 255),
        ("exif_value" = Option<String>, Query, description = "As for `GET /v1/images`", max_length = 255),
        ("created_at_from" = Option<String>, Query, format = DateTime, description = "As for `GET /v1/images`"),
        ("created_at_to" = Option<String>, Query, format = DateTime, description = "As for `GET /v1/images`"),
        ("updated_at_from" = Option<String>, Query, format = DateTime, description = "As for `GET /v1/images`"),
        ("updated_at_to" = Option<String>, Query, format = DateTime, description = "As for `GET /v1/images`"),
        ("creation_date_from" = Option<String>, Query, format = DateTime, description = "As for `GET /v1/images`"),
        ("creation_date_to" = Option<String>, Query, format = DateTime, description = "As for `GET /v1/images`"),
        ("has_video" = Option<bool>, Query, description = "As for `GET /v1/images`"),
        ("has_geo" = Option<bool>, Query, description = "As for `GET /v1/images`"),
        ("bbox" = Option<String>, Query, description = "As for `GET /v1/images`"),
        ("set_public_uuid" = Option<uuid::Uuid>, Query, description = "As for `GET /v1/images`"),
        ("live" = Option<bool>, Query, description = "As for `GET /v1/images` (needs `set_public_uuid`)"),
    ),
    responses(
        (status = 200, description = "Per field, values with counts (most first, then by value)", body = std::collections::BTreeMap<String, Vec<FacetEntry>>, example = json!({"rating": [{"value": 0, "count": 812}, {"value": 5, "count": 41}], "has_geo": [{"value": true, "count": 700}, {"value": false, "count": 153}]})),
    )
)]
pub async fn get_facets(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<std::collections::BTreeMap<String, Vec<FacetEntry>>>> {
    let fields = facets::parse_fields(query.get("fields"))?;
    let filter = ImageFilter::from_query(|name| query.get(name))?;
    Ok(Json(
        facets::count(&state.core, &caller.0.account.uuid, &filter, fields).await?,
    ))
}
