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

/// A write a batch can run, declared once: its route (method and path
/// template, the same the route's `#[utoipa::path]` declares, so its scope
/// and role come from that one declaration: `access` reads it) and how an
/// item's body becomes the checked [`Edit`] — through the same core
/// constructor the route's own handler calls. A unit test checks every
/// entry is a mounted route of the OpenAPI document.
struct Batchable {
    method: &'static str,
    path: &'static str,
    /// The resource the path names (`""` when it names none) and the
    /// item's body → the edit.
    edit: fn(&str, ItemBody<'_>) -> Result<Edit, CoreError>,
}

const fn batchable(
    method: &'static str,
    path: &'static str,
    edit: fn(&str, ItemBody<'_>) -> Result<Edit, CoreError>,
) -> Batchable {
    Batchable { method, path, edit }
}

/// Every write a batch can run.
const BATCHABLE: &[Batchable] = &[
    batchable("PATCH", "/v1/images/{public_uuid}", |id, b| {
        Edit::patch(id, b.required()?)
    }),
    batchable("DELETE", "/v1/images/{public_uuid}", |id, b| {
        b.none()?;
        Edit::delete(id)
    }),
    batchable("POST", "/v1/images/{public_uuid}/keywords", |id, b| {
        Edit::add_keywords(id, b.required()?)
    }),
    batchable("DELETE", "/v1/images/{public_uuid}/keywords", |id, b| {
        Edit::remove_keyword(id, b.required()?)
    }),
    batchable("POST", "/v1/keywords/rename", |_, b| {
        Edit::rename_keyword(b.required()?)
    }),
    batchable("PUT", "/v1/images/{public_uuid}/metadata", |id, b| {
        Edit::metadata(id, &b.required()?)
    }),
    batchable("PUT", "/v1/images/{public_uuid}/rating", |id, b| {
        Edit::rating(id, b.required()?)
    }),
    batchable("PUT", "/v1/images/{public_uuid}/crop", |id, b| {
        Edit::crop(id, b.required()?)
    }),
    batchable("DELETE", "/v1/images/{public_uuid}/crop", |id, b| {
        Edit::clear_crop(id, b.optional()?)
    }),
    batchable("PUT", "/v1/images/{public_uuid}/alt_text", |id, b| {
        Edit::alt_text(id, b.required()?)
    }),
    batchable("POST", "/v1/images/{public_uuid}/credits", |id, b| {
        Edit::add_credit(id, b.required()?)
    }),
    batchable("DELETE", "/v1/images/{public_uuid}/credits", |id, b| {
        Edit::remove_credit(id, b.required()?)
    }),
    batchable(
        "POST",
        "/v1/images/{public_uuid}/extract_metadata",
        |id, b| {
            // As on its own route: no body, `null` or `{}`.
            b.optional::<EmptyObject>()?;
            Edit::extract_metadata(id)
        },
    ),
    batchable("POST", "/v1/sets/{public_uuid}/images", |id, b| {
        Ok(Edit::arrange(id, Arrangement::add(b.required()?)?))
    }),
    batchable("DELETE", "/v1/sets/{public_uuid}/images", |id, b| {
        Ok(Edit::arrange(id, Arrangement::remove(b.required()?)?))
    }),
    batchable("PATCH", "/v1/sets/{public_uuid}/order", |id, b| {
        Ok(Edit::arrange(id, Arrangement::order(b.required()?)?))
    }),
    batchable("PATCH", "/v1/sets/{public_uuid}/visibility", |id, b| {
        Ok(Edit::arrange(id, Arrangement::visibility(b.required()?)?))
    }),
];

/// The entry `method path` matches, and the id its `{…}` segment names
/// (`""` for a path without one).
fn batchable_route(method: &str, path: &str) -> Option<(&'static Batchable, String)> {
    BATCHABLE
        .iter()
        .filter(|r| r.method == method)
        .find_map(|route| {
            let mut id = String::new();
            let mut given = path.split('/');
            for part in route.path.split('/') {
                let segment = given.next()?;
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                    id = segment.to_owned();
                } else if part != segment {
                    return None;
                }
            }
            given.next().is_none().then_some((route, id))
        })
}

fn item_error(n: usize, part: &str, message: String) -> CoreError {
    CoreError::validation(
        format!("operations[{n}].{part}"),
        format!("operations[{n}]: {message}"),
    )
}

/// A batch item's body, read as its route's own extractor reads a request's
/// (`Write`, `WriteKey`, `WriteMaybe`). Errors name fields inside the body;
/// [`edits::at_item`] places them under `operations[n].body`.
#[derive(Clone, Copy)]
struct ItemBody<'a>(&'a Option<Value>);

impl ItemBody<'_> {
    /// A body the write needs, parsed as strictly as its own request's.
    fn required<T: DeserializeOwned>(self) -> Result<T, CoreError> {
        let Some(value) = self.0 else {
            return Err(CoreError::validation(
                "body",
                "this write needs a JSON body.",
            ));
        };
        let bytes = serde_json::to_vec(value).map_err(|_| CoreError::internal())?;
        parse_json(&bytes).map_err(|e| e.error)
    }

    /// A write without a body: none, or `null`.
    fn none(self) -> Result<(), CoreError> {
        match self.0 {
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(CoreError::validation("body", "this write takes no body.")),
        }
    }

    /// A body the write may take: none or `null` is `None`.
    fn optional<T: DeserializeOwned>(self) -> Result<Option<T>, CoreError> {
        match self.0 {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.required().map(Some),
        }
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
        let Some((route, id)) = batchable_route(&method, &item.path) else {
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
            .get(route.method, route.path)
            .ok_or_else(CoreError::internal)?;
        principal
            .check_access(access)
            .map_err(|e| e.with_field(format!("operations[{n}].path")))?;
        routes.push((route, id));
    }
    let mut checked = Vec::with_capacity(items.len());
    for (n, (item, (route, id))) in items.iter().zip(&routes).enumerate() {
        checked.push((route.edit)(id, ItemBody(&item.body)).map_err(|e| edits::at_item(n, e))?);
    }
    let outcome = edits::run_batch(&state.core, principal, &write.ctx, checked).await?;
    Ok(Accepted(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every write a batch runs is a mounted route whose declaration gives
    /// its access (so a batch item is checked as its own request would be),
    /// and no two entries claim the same route.
    #[test]
    fn every_batchable_write_is_a_declared_route() {
        let table = crate::access::AccessTable::from_openapi(&crate::openapi("http://127.0.0.1"))
            .unwrap_or_else(|problems| panic!("{problems:?}"));
        for (n, route) in BATCHABLE.iter().enumerate() {
            assert!(
                table.get(route.method, route.path).is_some(),
                "{} {} is not a declared route",
                route.method,
                route.path
            );
            assert!(
                !BATCHABLE[..n]
                    .iter()
                    .any(|r| r.method == route.method && r.path == route.path),
                "{} {} listed twice",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn item_paths_match_their_route_and_nothing_else() {
        let image = "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f";
        let (route, id) = batchable_route("PUT", &format!("/v1/images/{image}/rating"))
            .unwrap_or_else(|| panic!("no match"));
        assert_eq!(
            (route.path, id.as_str()),
            ("/v1/images/{public_uuid}/rating", image)
        );
        let (route, id) = batchable_route("PATCH", &format!("/v1/images/{image}"))
            .unwrap_or_else(|| panic!("no match"));
        assert_eq!(
            (route.path, id.as_str()),
            ("/v1/images/{public_uuid}", image)
        );
        let (route, id) =
            batchable_route("POST", "/v1/keywords/rename").unwrap_or_else(|| panic!("no match"));
        assert_eq!((route.path, id.as_str()), ("/v1/keywords/rename", ""));
        for (method, path) in [
            ("GET", format!("/v1/images/{image}")),
            ("PUT", format!("/v1/images/{image}")),
            ("PUT", "/v1/images//rating".to_owned()),
            ("PUT", format!("/v1/images/{image}/rating/")),
            ("PUT", format!("/v1/images/{image}/rating/x")),
            ("PUT", format!("/v1/images/{image}/ratings")),
            ("PUT", format!("v1/images/{image}/rating")),
            ("POST", "/v1/keywords/rename/".to_owned()),
            ("POST", format!("/v1/sets/{image}/restore")),
            ("PUT", format!("/v1/images/{image}/../rating")),
            ("PUT", format!("/v1/images/{image}%2Frating")),
            ("PUT", format!("/v1/Images/{image}/rating")),
            ("PUT", format!("/v1/images/{image}/RATING")),
            ("PATCH", format!("/v1/images/{image}/")),
            ("POST", "/v1/sets//images".to_owned()),
        ] {
            assert!(batchable_route(method, &path).is_none(), "{method} {path}");
        }
    }

    /// An item's body is read as the route's own request body is: what
    /// each kind of route takes, and where a refusal points.
    #[test]
    fn item_bodies_read_as_their_routes_read_them() {
        let image = "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f";
        let edit = |method: &str, tail: &str, body: Option<Value>| {
            let (route, id) = batchable_route(method, &format!("/v1/images/{image}{tail}"))
                .unwrap_or_else(|| panic!("{method} {tail}: no route"));
            (route.edit)(&id, ItemBody(&body)).map_err(|e| edits::at_item(4, e))
        };
        let field = |result: Result<Edit, CoreError>| match result {
            Ok(edit) => panic!("accepted: {edit:?}"),
            Err(e) => (e.field.unwrap_or_default(), e.message),
        };
        // No body: none or `null`; anything else is refused at the body.
        assert!(edit("DELETE", "", None).is_ok());
        assert!(edit("DELETE", "", Some(Value::Null)).is_ok());
        assert_eq!(
            field(edit("DELETE", "", Some(serde_json::json!({})))),
            (
                "operations[4].body".to_owned(),
                "operations[4]: this write takes no body.".to_owned()
            )
        );
        // An optional body: none, `null`, or one that reads.
        for body in [
            None,
            Some(Value::Null),
            Some(serde_json::json!({"aspect_ratio": "4:3"})),
        ] {
            assert!(edit("DELETE", "/crop", body.clone()).is_ok(), "{body:?}");
        }
        assert_eq!(
            field(edit(
                "DELETE",
                "/crop",
                Some(serde_json::json!({"aspect_ratio": "wide"}))
            ))
            .0,
            "operations[4].body.aspect_ratio"
        );
        assert!(edit("POST", "/extract_metadata", Some(serde_json::json!({}))).is_ok());
        assert!(
            edit(
                "POST",
                "/extract_metadata",
                Some(serde_json::json!({"x": 1}))
            )
            .is_err()
        );
        // A needed body: missing, or a field that does not read.
        assert_eq!(
            field(edit("PUT", "/rating", None)),
            (
                "operations[4].body".to_owned(),
                "operations[4]: this write needs a JSON body.".to_owned()
            )
        );
        assert_eq!(
            field(edit(
                "PUT",
                "/rating",
                Some(serde_json::json!({"rating": 9}))
            ))
            .0,
            "operations[4].body.rating"
        );
        assert!(edit("PATCH", "", Some(serde_json::json!({"title": "Encore"}))).is_ok());
        assert!(edit("PATCH", "", Some(serde_json::json!({"titel": "Encore"}))).is_err());
        // The path's image is checked as the route checks it.
        let (route, _) = batchable_route("PUT", &format!("/v1/images/{image}/rating"))
            .unwrap_or_else(|| panic!("no route"));
        let body = Some(serde_json::json!({"rating": 3}));
        let e = (route.edit)("not-a-uuid", ItemBody(&body)).map_err(|e| edits::at_item(4, e));
        assert_eq!(field(e).0, "operations[4].path");
    }
}
