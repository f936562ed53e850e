//! Adds what every operation shares to the generated document, from one
//! place: the error responses each route can give (by the order of checks),
//! `X-Request-Id`, `ETag`/`304` on GETs, and the `Idempotency-Key` header on
//! writes.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder,
    Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ErrorEnvelope;

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                    .build(),
            )
            .header("X-Request-Id", header("Equals `error.request_id`"))
            .build(),
    )
}

fn header(description: &str) -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

fn string_header(description: &str) -> RefOr<utoipa::openapi::Header> {
    RefOr::T(header(description))
}

pub fn add(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(ErrorEnvelope::name().into_owned(), ErrorEnvelope::schema());
    let mut schemas = Vec::new();
    <ErrorEnvelope as ToSchema>::schemas(&mut schemas);
    for (name, schema) in schemas {
        components.schemas.insert(name, schema);
    }
    for (name, schema) in components.schemas.iter_mut() {
        if let RefOr::T(Schema::Object(object)) = schema {
            for (property, schema) in object.properties.iter_mut() {
                mark_id(name, property, schema);
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let is_v1 = path.starts_with("/v1/");
        let ops: [(&str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let write = method != "get";
            if write {
                op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::True)
                        .description(Some("1-255 printable ASCII characters. The same key and request replay the original Operation; the same key with another request is 409."))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255)).pattern(Some("^[\\x20-\\x7E]+$"))))
                        .build(),
                ));
            } else {
                op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(
                    ParameterBuilder::new()
                        .name("If-None-Match")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("An ETag from an earlier answer; when still current the answer is an empty 304."))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                ));
            }
            let responses = &mut op.responses.responses;
            for (code, response) in responses.iter_mut() {
                if let RefOr::T(r) = response {
                    r.headers.insert(
                        "X-Request-Id".to_owned(),
                        string_header("Identifies this request in the server's logs"),
                    );
                    if !write && code == "200" {
                        r.headers.insert(
                            "ETag".to_owned(),
                            string_header("Strong tag of the body; send it in If-None-Match"),
                        );
                    }
                }
            }
            if !write {
                responses.entry("304".to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description("Not modified: `If-None-Match` holds the current ETag")
                            .header("ETag", header("The current tag"))
                            .build(),
                    )
                });
            }
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_owned())
                    .or_insert_with(|| error_response(description));
            };
            add(
                "400",
                "`validation`: a bad field, header or query parameter; `field` names it",
            );
            if is_v1 {
                add(
                    "401",
                    "`unauthorized`: missing, malformed, unknown, expired or revoked token",
                );
                add(
                    "403",
                    "`api_not_enabled` (the account's API switch is off) or `forbidden` (IP not allowed, or the scope in `detail` is missing)",
                );
                add("429", "`rate_limited`");
            }
            if write {
                add("409", "`idempotency_key_conflict`");
                add(
                    "413",
                    "`payload_too_large`: the body is over the token's or the server's cap",
                );
                add("415", "`unsupported_media_type`: send application/json");
            }
            add(
                "500",
                "`internal`: the server failed; the request id finds it in the log",
            );
        }
    }
}

/// Operation ids (`op-<uuid>`), as the server checks them.
pub(crate) const OPERATION_ID_PATTERN: &str = "^op-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The id convention of the contract, stated once for every schema: a
/// property `uuid` or `…_uuid` is a UUID string (`…_uuids`: a list of
/// them), except an Operation's own `uuid`, which is `op-<uuid>`. Declaring
/// it lets clients and fuzzers know that other strings are refused.
fn mark_id(schema_name: &str, property: &str, schema: &mut RefOr<Schema>) {
    let is_id = property == "uuid" || property.ends_with("_uuid");
    match schema {
        RefOr::T(Schema::Object(object)) if is_id && schema_name == "Operation" && property == "uuid" => {
            object.pattern = Some(OPERATION_ID_PATTERN.to_owned());
        }
        RefOr::T(Schema::Object(object)) if is_id => object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)),
        RefOr::T(Schema::Array(array)) if property.ends_with("_uuids") => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items
                && let RefOr::T(Schema::Object(item)) = items.as_mut()
            {
                item.format = Some(SchemaFormat::KnownFormat(KnownFormat::Uuid));
            }
        }
        _ => {}
    }
}
