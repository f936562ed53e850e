//! `GET /v1/operations/{uuid}`: poll a write's Operation;
//! `POST /v1/operations/batch`: up to 50 writes in one all-or-nothing request.

use axum::Json;
use axum::extract::{Path, State};
use lightbox_core::CoreError;
use lightbox_core::edits::{self, BATCH_MAX, BatchOutcome, Edit};
use lightbox_core::operations::{self, Operation};
use lightbox_core::set_arrangement::Arrangement;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, EmptyObject, Write, parse_json};

/// An Operation of the caller's account. Readable by any credential of the
/// account; use `If-None-Match` to poll cheaply (304 while unchanged). An
/// `archive.build`'s `result.archive.url` is `null` for a credential without
/// `api.download`, or a `user` member not allowed every original in it.
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
    let op = operations::get(&state.core, &caller.0.account.uuid, &uuid).await?;
    Ok(Json(
        lightbox_core::archives::visible_operation(&state.core, &caller.0, op).await?,
    ))
}

/// `POST /v1/operations/batch`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1–50 writes, run in this order.
    #[schema(min_items = 1, max_items = 50)]
    pub operations: Vec<BatchItem>,
}

/// One write of a batch: what its own request would be.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    #[schema(example = "PUT")]
    pub method: String,
    /// An image edit's path (`/v1/images/{id}`, `…/keywords`, `…/metadata`,
    /// `…/rating`, `…/crop`, `…/alt_text`, `…/credits`,
    /// `…/extract_metadata`), `/v1/keywords/rename`, or a set's membership,
    /// order or visibility (`/v1/sets/{id}/images`, `…/order`, `…/visibility`).
    #[schema(example = "/v1/images/0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f/rating")]
    pub path: String,
    /// The body that write takes (left out for those without one).
    #[schema(value_type = Option<Object>, example = json!({"rating": 5}))]
    pub body: Option<Value>,
}

/// The writes a batch can hold: (method, route template, image-path?).
const BATCHABLE: &[(&str, &str)] = &[
    ("PATCH", "/v1/images/{public_uuid}"),
    ("DELETE", "/v1/images/{public_uuid}"),
    ("POST", "/v1/images/{public_uuid}/keywords"),
    ("DELETE", "/v1/images/{public_uuid}/keywords"),
    ("POST", "/v1/keywords/rename"),
    ("PUT", "/v1/images/{public_uuid}/metadata"),
    ("PUT", "/v1/images/{public_uuid}/rating"),
    ("PUT", "/v1/images/{public_uuid}/crop"),
    ("DELETE", "/v1/images/{public_uuid}/crop"),
    ("PUT", "/v1/images/{public_uuid}/alt_text"),
    ("POST", "/v1/images/{public_uuid}/credits"),
    ("DELETE", "/v1/images/{public_uuid}/credits"),
    ("POST", "/v1/images/{public_uuid}/extract_metadata"),
    ("POST", "/v1/sets/{public_uuid}/images"),
    ("DELETE", "/v1/sets/{public_uuid}/images"),
    ("PATCH", "/v1/sets/{public_uuid}/order"),
    ("PATCH", "/v1/sets/{public_uuid}/visibility"),
];

/// The route template a concrete path matches, and its image (or set) id.
fn route_of(path: &str) -> Option<(String, String)> {
    if path == "/v1/keywords/rename" {
        return Some((path.to_owned(), String::new()));
    }
    let (base, rest) = ["/v1/images/", "/v1/sets/"]
        .into_iter()
        .find_map(|base| path.strip_prefix(base).map(|rest| (base, rest)))?;
    let (id, tail) = match rest.split_once('/') {
        Some((id, tail)) => (id, format!("/{tail}")),
        None => (rest, String::new()),
    };
    if id.is_empty() || tail.matches('/').count() > 1 {
        return None;
    }
    Some((format!("{base}{{public_uuid}}{tail}"), id.to_owned()))
}

fn item_error(n: usize, part: &str, message: String) -> CoreError {
    CoreError::validation(
        format!("operations[{n}].{part}"),
        format!("operations[{n}]: {message}"),
    )
}

/// A child's body parsed as strictly as its own request's would be.
fn body<T: DeserializeOwned>(n: usize, body: &Option<Value>) -> Result<T, CoreError> {
    let Some(value) = body else {
        return Err(item_error(
            n,
            "body",
            "this write needs a JSON body.".to_owned(),
        ));
    };
    let bytes = serde_json::to_vec(value).map_err(|_| CoreError::internal())?;
    parse_json(&bytes).map_err(|e| edits::at_item(n, e.error))
}

fn no_body(n: usize, body: &Option<Value>) -> Result<(), CoreError> {
    match body {
        None | Some(Value::Null) => Ok(()),
        Some(_) => Err(item_error(
            n,
            "body",
            "this write takes no body.".to_owned(),
        )),
    }
}

/// Checks one item's body into an edit (no database).
fn edit_of(
    n: usize,
    method: &str,
    template: &str,
    image: &str,
    item: &BatchItem,
) -> Result<Edit, CoreError> {
    let at = |e: CoreError| edits::at_item(n, e);
    let b = &item.body;
    if let Some(tail) = template.strip_prefix("/v1/sets/{public_uuid}") {
        let change = match (method, tail) {
            ("POST", "/images") => Arrangement::add(body(n, b)?),
            ("DELETE", "/images") => Arrangement::remove(body(n, b)?),
            ("PATCH", "/order") => Arrangement::order(body(n, b)?),
            ("PATCH", "/visibility") => Arrangement::visibility(body(n, b)?),
            _ => {
                return Err(item_error(
                    n,
                    "path",
                    "a batch cannot run this write.".to_owned(),
                ));
            }
        };
        return Ok(Edit::arrange(image, change.map_err(at)?));
    }
    match (
        method,
        template.trim_start_matches("/v1/images/{public_uuid}"),
    ) {
        ("PATCH", "") => Edit::patch(image, body(n, b)?).map_err(at),
        ("DELETE", "") => {
            no_body(n, b)?;
            Edit::delete(image).map_err(at)
        }
        ("POST", "/keywords") => Edit::add_keywords(image, body(n, b)?).map_err(at),
        ("DELETE", "/keywords") => Edit::remove_keyword(image, body(n, b)?).map_err(at),
        ("POST", "/v1/keywords/rename") => Edit::rename_keyword(body(n, b)?).map_err(at),
        ("PUT", "/metadata") => Edit::metadata(image, &body(n, b)?).map_err(at),
        ("PUT", "/rating") => Edit::rating(image, body(n, b)?).map_err(at),
        ("PUT", "/crop") => Edit::crop(image, body(n, b)?).map_err(at),
        ("DELETE", "/crop") => {
            let clear = match b {
                None | Some(Value::Null) => None,
                Some(_) => Some(body(n, b)?),
            };
            Edit::clear_crop(image, clear).map_err(at)
        }
        ("PUT", "/alt_text") => Edit::alt_text(image, body(n, b)?).map_err(at),
        ("POST", "/credits") => Edit::add_credit(image, body(n, b)?).map_err(at),
        ("DELETE", "/credits") => Edit::remove_credit(image, body(n, b)?).map_err(at),
        ("POST", "/extract_metadata") => {
            // As on its own route: no body, `null` or `{}`.
            if !matches!(b, None | Some(Value::Null)) {
                body::<EmptyObject>(n, b)?;
            }
            Edit::extract_metadata(image).map_err(at)
        }
        _ => Err(item_error(
            n,
            "path",
            "a batch cannot run this write.".to_owned(),
        )),
    }
}

/// Up to 50 writes — image edits, keyword renames, and set membership,
/// order and visibility — in one request, all or nothing: each item is
/// checked against its own scope (as its own request would be), then every
/// body is checked, then all run in one transaction, each against the
/// caller's role (a `user` member: only its own images).
/// The first item that fails is named in `field` (`operations[3].body.rating`,
/// `operations[3].path`) and nothing is applied. Answers the summary
/// Operation and one child Operation per item, in order.
#[utoipa::path(
    post,
    path = "/v1/operations/batch",
    tag = "operations",
    security(("bearer" = [])),
    request_body(content = BatchRequest, example = json!({"operations": [
        {"method": "PUT", "path": "/v1/images/0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f/rating", "body": {"rating": 5}},
        {"method": "POST", "path": "/v1/images/0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f/keywords", "body": {"keywords": ["stage:Main"]}},
        {"method": "DELETE", "path": "/v1/sets/6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa/images", "body": {"image_public_uuids": ["0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f"]}},
        {"method": "POST", "path": "/v1/sets/0b9d3c62-6f1e-4a8e-9a57-1c0f6f0d2b11/images", "body": {"image_public_uuids": ["0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f"]}}
    ]})),
    responses(
        (status = 202, description = "Accepted: the summary and each item's Operation", body = BatchOutcome),
        (status = 400, description = "`validation`: 1 to 50 items; an item's path or body is bad (`field`: `operations[n].path`, `operations[n].body…`), or (`detail: batch_set_images`) the set items name over 1,000 images or rearrange sets of over 10,000 images in all; nothing applied", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: an item needs a scope the token lacks, or (`detail: own_images_only`) touches an image a `user` member did not upload (`field` names the item)", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`: an item's image (`field` names it)", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn batch(
    State(state): State<AppState>,
    write: Write<BatchRequest>,
) -> ApiResult<Accepted<BatchOutcome>> {
    let items = &write.body.operations;
    if items.is_empty() || items.len() > BATCH_MAX {
        return Err(CoreError::validation(
            "operations",
            format!("operations must hold 1 to {BATCH_MAX} writes."),
        )
        .into());
    }
    let principal = &write.caller.0;
    // Routes and scopes first (403 before 400, as for single requests).
    let mut routes = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let method = item.method.to_ascii_uppercase();
        if !["POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) || method != item.method {
            return Err(item_error(
                n,
                "method",
                "method must be POST, PUT, PATCH or DELETE.".to_owned(),
            )
            .into());
        }
        let Some((template, image)) = route_of(&item.path)
            .filter(|(t, _)| BATCHABLE.iter().any(|(m, p)| *m == method && p == t))
        else {
            return Err(item_error(
                n,
                "path",
                format!(
                    "{method} {} is not a write a batch can run (image edits, keyword renames, set membership, order and visibility).",
                    item.path
                ),
            )
            .into());
        };
        let access = state
            .access
            .get(&method, &template)
            .ok_or_else(CoreError::internal)?;
        principal
            .check_access(access)
            .map_err(|e| e.with_field(format!("operations[{n}].path")))?;
        routes.push((method, template, image));
    }
    let mut checked = Vec::with_capacity(items.len());
    for (n, (item, (method, template, image))) in items.iter().zip(&routes).enumerate() {
        checked.push(edit_of(n, method, template, image, item)?);
    }
    let outcome = edits::run_batch(&state.core, principal, &write.ctx, checked).await?;
    Ok(Accepted(outcome))
}
