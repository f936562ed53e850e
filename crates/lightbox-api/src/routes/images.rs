//! Images: `GET /v1/images` (filtered, newest first), one image, its
//! versions, `PATCH` and `DELETE`; `GET /v1/version_profiles`.

use axum::Json;
use axum::extract::{Path, State};
use lightbox_core::facets::{self, FacetEntry};
use lightbox_core::image_filters::{FILTER_PARAMS, FilterParam, ImageFilter, ParamKind};
use lightbox_core::images::{self, Image, ImagePatch, Version};
use lightbox_core::media::{VersionProfile, default_profile};
use lightbox_core::operations::Operation;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Required};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, Page, Paged, Query, Write, WriteKey};

/// The filter parameters of `GET /v1/images`, as the document lists them:
/// built from the core's one list ([`FILTER_PARAMS`]), so the document, the
/// strict-query check (which reads the document) and the parser agree.
pub struct ImageListParams;

impl utoipa::IntoParams for ImageListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        FILTER_PARAMS
            .iter()
            .map(|p| filter_parameter(p, p.description.to_owned(), true))
            .collect()
    }
}

/// The same filters on `GET /v1/facets` (which does not sort), described
/// by reference to `GET /v1/images`.
pub struct FacetFilterParams;

impl utoipa::IntoParams for FacetFilterParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        FILTER_PARAMS
            .iter()
            .filter(|p| p.kind != ParamKind::Sort)
            .map(|p| {
                let description = match p.needs {
                    Some(needed) => format!("As for `GET /v1/images` (needs `{needed}`)"),
                    None => "As for `GET /v1/images`".to_owned(),
                };
                filter_parameter(p, description, false)
            })
            .collect()
    }
}

/// One filter parameter in the document; `full` adds its pattern and
/// example (the list's own description; the facets refer to it).
fn filter_parameter(p: &FilterParam, description: String, full: bool) -> Parameter {
    let object = ObjectBuilder::new;
    let schema: RefOr<Schema> = match p.kind {
        ParamKind::Text { min, max, pattern } => object()
            .schema_type(Type::String)
            .min_length(min)
            .max_length(max)
            .pattern(pattern.filter(|_| full))
            .into(),
        ParamKind::Integer { min, max } => object()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
            .into(),
        ParamKind::Boolean => object().schema_type(Type::Boolean).into(),
        ParamKind::DateTime => object()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into(),
        ParamKind::Uuid => object()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .into(),
        ParamKind::Sort => <ImageSort as utoipa::PartialSchema>::schema(),
    };
    ParameterBuilder::new()
        .name(p.name)
        .parameter_in(ParameterIn::Query)
        .description(Some(description))
        .required(Required::False)
        .schema(Some(schema))
        .example(
            p.example
                .filter(|_| full)
                .map(|e| serde_json::Value::String(e.to_owned())),
        )
        .build()
}

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
        ImageListParams,
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
        FacetFilterParams,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide for agents names every filter (`…_from/_to` as a pair), so
    /// a filter added to the list cannot be left out of it.
    #[test]
    fn llms_txt_names_every_filter() {
        let guide = include_str!("../llms.txt");
        for p in FILTER_PARAMS {
            let shown = match p.name.strip_suffix("_from").or(p.name.strip_suffix("_to")) {
                Some(base) => format!("`{base}_from/_to`"),
                None => format!("`{}", p.name),
            };
            // The name whole: `live` must not pass on `live_image_count`.
            let named = guide.match_indices(&shown).any(|(at, found)| {
                !guide[at + found.len()..]
                    .starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric())
            });
            assert!(named, "llms.txt does not name {shown}");
        }
    }

    /// Every filter is in the document of both routes that take them, with
    /// its pattern and example on the list's own (facets refer to it).
    #[test]
    fn both_routes_document_every_filter() {
        use utoipa::IntoParams;
        let list = ImageListParams::into_params(|| None);
        let facets = FacetFilterParams::into_params(|| None);
        assert_eq!(list.len(), FILTER_PARAMS.len());
        for p in FILTER_PARAMS {
            assert!(list.iter().any(|q| q.name == p.name), "{}", p.name);
            if p.kind != ParamKind::Sort {
                assert!(facets.iter().any(|q| q.name == p.name), "{}", p.name);
            }
        }
        let facets_json = serde_json::to_value(&facets).unwrap_or_else(|e| panic!("facets: {e}"));
        assert!(
            !facets_json.to_string().contains("example"),
            "{facets_json}"
        );
        assert!(
            !facets_json.to_string().contains("pattern"),
            "{facets_json}"
        );
        // The list's own carry them: the keyword's pattern, the query's example.
        let list_json = serde_json::to_value(&list).unwrap_or_else(|e| panic!("list: {e}"));
        let keyword = list_json
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == "keyword"))
            .unwrap_or_else(|| panic!("no keyword parameter"));
        assert!(keyword["schema"]["pattern"].is_string(), "{keyword}");
        assert_eq!(keyword["example"], "artist:Marina");
        assert!(
            !facets.iter().any(|q| q.name == "sort"),
            "facets do not sort"
        );
    }
}
