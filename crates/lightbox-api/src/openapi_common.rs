//! Adds what every operation shares to the generated document, from one
//! place: the error responses each route can give (by the order of checks),
//! the headers the server always sends (`X-Request-Id`, `ETag`/`304` on
//! GETs, `WWW-Authenticate` on 401), the `Idempotency-Key` header on writes,
//! and the rules the schema derives cannot state: ids are UUIDs (`op-<uuid>`
//! for operations) and free text has no control characters.

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
            .build(),
    )
}

fn header(description: &str) -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
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
                if let Some((_, _, values)) = INTEGER_CHOICES
                    .iter()
                    .find(|(s, p, _)| *s == name.as_str() && *p == property.as_str())
                    && let RefOr::T(Schema::Object(number)) = schema
                {
                    number.enum_values = Some(values.iter().map(|v| (*v).into()).collect());
                    number.minimum = None;
                    number.maximum = None;
                    number.multiple_of = None;
                }
                match (text_rule(name, property), schema) {
                    (Some(rule), RefOr::T(Schema::Object(text))) => rule.apply(text),
                    // A list of texts: the rule is each item's.
                    (Some(rule), RefOr::T(Schema::Array(list))) => {
                        if let ArrayItems::RefOrSchema(items) = &mut list.items
                            && let RefOr::T(Schema::Object(item)) = items.as_mut()
                        {
                            rule.apply(item);
                        }
                    }
                    _ => {}
                }
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
            // `/v1/auth/*` act on the caller's own credentials, and an
            // upload ticket or a download link changes nothing: not
            // Operations, no Idempotency-Key (docs/api-decisions.md).
            let operation = write
                && !path.starts_with("/v1/auth/")
                && path != "/v1/uploads"
                && path != "/v1/downloads";
            if operation {
                op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::True)
                        .description(Some("1-255 printable ASCII characters. The same key and request replay the original Operation; the same key with another request is 409."))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255)).pattern(Some("^[\\x20-\\x7E]+$"))))
                        .build(),
                ));
            } else if !write {
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
            if !write {
                responses.entry("304".to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description("Not modified: `If-None-Match` holds the current ETag")
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
            if operation {
                add("409", "`idempotency_key_conflict`");
            }
            if write {
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
            add(
                "503",
                if operation {
                    "`unavailable`: the database is not answering, or the write kept crossing other writes (nothing applied); the message says whether it may have been applied. Retry after `Retry-After` seconds with the same Idempotency-Key"
                } else {
                    "`unavailable`: the database is not answering; retry after `Retry-After` seconds"
                },
            );
            for (code, response) in responses.iter_mut() {
                if let RefOr::T(r) = response {
                    add_headers(code, !write, r);
                }
            }
        }
    }
}

/// The headers the server sends, declared required where it always sends
/// them, so a client (or schemathesis) can rely on them.
fn add_headers(code: &str, get: bool, response: &mut utoipa::openapi::Response) {
    let headers = &mut response.headers;
    let error = code.starts_with('4') || code.starts_with('5');
    headers.insert(
        "X-Request-Id".to_owned(),
        required(header(if error {
            "Identifies this request in the server's logs; equals `error.request_id`"
        } else {
            "Identifies this request in the server's logs"
        })),
    );
    if get && (code == "200" || code == "304") {
        headers.insert(
            "ETag".to_owned(),
            required(header("Strong tag of the body; send it in If-None-Match")),
        );
    }
    // Lists: always sent, and only these two values.
    if let Some(has_more) = headers.get_mut("X-Has-More") {
        let mut flag = header("`true` when more follow (then `X-Next-Offset` is sent)");
        flag.schema = Some(RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["true", "false"]))
                .build(),
        )));
        *has_more = required(flag);
    }
    if code == "401" {
        headers.insert("WWW-Authenticate".to_owned(), required(header("`Bearer`")));
    }
    if code == "429" || code == "503" {
        headers.insert(
            "Retry-After".to_owned(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    ))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            ),
        );
    }
}

/// utoipa's `Header` has no `required` field; it serializes extensions
/// flattened, so the keyword goes there.
fn required(mut header: utoipa::openapi::Header) -> RefOr<utoipa::openapi::Header> {
    header
        .extensions
        .get_or_insert_with(Default::default)
        .insert("required".to_owned(), serde_json::Value::Bool(true));
    RefOr::T(header)
}

/// Operation ids (`op-<uuid>`), as the server checks them.
pub(crate) const OPERATION_ID_PATTERN: &str =
    "^op-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The id convention of the contract, stated once for every schema: a
/// property `uuid` or `…_uuid` is a UUID string (`…_uuids`: a list of
/// them), except an Operation's own `uuid` and any `operation_uuid`,
/// which are `op-<uuid>`. Declaring
/// it lets clients and fuzzers know that other strings are refused.
fn mark_id(schema_name: &str, property: &str, schema: &mut RefOr<Schema>) {
    let is_id = property == "uuid" || property.ends_with("_uuid");
    match schema {
        RefOr::T(Schema::Object(object))
            if is_id
                && ((schema_name == "Operation" && property == "uuid")
                    || property == "operation_uuid") =>
        {
            object.pattern = Some(OPERATION_ID_PATTERN.to_owned());
        }
        RefOr::T(Schema::Object(object)) if is_id => {
            object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))
        }
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

/// Integer fields that take a fixed set of values (a derive states ranges
/// only).
const INTEGER_CHOICES: &[(&str, &str, &[i64])] = &[
    ("ImagePatch", "rotation", &[0, 90, 180, 270]),
    ("RatingBody", "rating", &[0, 1, 2, 3, 4, 5]),
];

/// How `lightbox_core::validate` checks a free-text request field.
#[derive(Debug, Clone, Copy)]
enum TextRule {
    /// `required_text`: trimmed, then 1..=max characters.
    Required(usize),
    /// `optional_text`: at most max characters (the derive states the max).
    Optional,
    /// `required_text` without `/`, `\` or any control character (a file's
    /// name, not a path).
    FileName(usize),
    /// `keywords::parse`: at most 255 characters as sent, no control
    /// characters, and text on both sides of the first colon if any.
    Keyword,
    /// A keyword namespace: as [`TextRule::Keyword`], without a colon.
    Namespace,
}

/// The request fields the core checks with its text rules. Its schema derive
/// cannot state them (they need a `pattern`), so they are added here; a test
/// fails when a named field disappears.
const TEXT_FIELDS: &[(&str, &str, TextRule)] = &[
    (
        "NewSet",
        "name",
        TextRule::Required(lightbox_core::sets::NAME_MAX),
    ),
    ("NewSet", "description", TextRule::Optional),
    (
        "NewWebsite",
        "name",
        TextRule::Required(lightbox_core::websites::NAME_MAX),
    ),
    (
        "NewWebsite",
        "title",
        TextRule::Required(lightbox_core::websites::NAME_MAX),
    ),
    ("NewWebsite", "intro", TextRule::Optional),
    (
        "WebsitePatch",
        "name",
        TextRule::Required(lightbox_core::websites::NAME_MAX),
    ),
    (
        "WebsitePatch",
        "title",
        TextRule::Required(lightbox_core::websites::NAME_MAX),
    ),
    ("WebsitePatch", "intro", TextRule::Optional),
    ("SignInRequest", "login", TextRule::Required(320)),
    ("DeviceInfo", "name", TextRule::Required(100)),
    ("DeviceInfo", "platform", TextRule::Required(32)),
    ("DeviceInfo", "app_version", TextRule::Optional),
    ("DeviceInfo", "device_id", TextRule::Required(200)),
    ("NewServiceTokenRequest", "name", TextRule::Required(200)),
    (
        "NewUpload",
        "filename",
        TextRule::FileName(lightbox_core::uploads::FILENAME_MAX),
    ),
    ("NewUpload", "title", TextRule::Optional),
    ("NewUpload", "description", TextRule::Optional),
    ("NewUpload", "keywords", TextRule::Keyword),
    ("ImagePatch", "title", TextRule::Optional),
    ("ImagePatch", "description", TextRule::Optional),
    ("KeywordsBody", "keywords", TextRule::Keyword),
    ("KeywordRemoveBody", "keyword", TextRule::Keyword),
    ("KeywordRemoveBody", "namespace", TextRule::Namespace),
    ("RenameBody", "from", TextRule::Keyword),
    ("RenameBody", "to", TextRule::Keyword),
    ("AltTextBody", "alt_text", TextRule::Optional),
    ("CreditBody", "role", TextRule::Required(100)),
    ("CreditBody", "name", TextRule::Required(255)),
    ("MetadataPatch", "headline", TextRule::Optional),
    ("MetadataPatch", "caption", TextRule::Optional),
    ("MetadataPatch", "creator", TextRule::Optional),
    ("MetadataPatch", "creator_job_title", TextRule::Optional),
    ("MetadataPatch", "credit_line", TextRule::Optional),
    ("MetadataPatch", "source", TextRule::Optional),
    ("MetadataPatch", "copyright_notice", TextRule::Optional),
    ("MetadataPatch", "usage_terms", TextRule::Optional),
    ("MetadataPatch", "instructions", TextRule::Optional),
    ("MetadataPatch", "job_id", TextRule::Optional),
    ("MetadataPatch", "city", TextRule::Optional),
    ("MetadataPatch", "state", TextRule::Optional),
    ("MetadataPatch", "country", TextRule::Optional),
    ("MetadataPatch", "location", TextRule::Optional),
    ("MetadataPatch", "contact_phone", TextRule::Optional),
    ("MetadataPatch", "contact_url", TextRule::Optional),
];

fn text_rule(schema: &str, property: &str) -> Option<TextRule> {
    TEXT_FIELDS
        .iter()
        .find(|(s, p, _)| *s == schema && *p == property)
        .map(|(_, _, rule)| *rule)
}

/// Characters a text may hold anywhere: no control characters (Unicode Cc)
/// except tab, line feed and carriage return.
const TEXT_CHAR: &str = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]";
/// What trimming removes (Unicode White_Space, as Rust's `str::trim`).
const TRIMMED_CHAR: &str =
    r"[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// A text character that trimming keeps at an end.
const SOLID_CHAR: &str = r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

impl TextRule {
    fn apply(self, schema: &mut utoipa::openapi::schema::Object) {
        match self {
            TextRule::Optional => schema.pattern = Some(format!("^{TEXT_CHAR}*$")),
            TextRule::Required(max) => {
                // The length counts after trimming, so it lives in the
                // pattern; a maxLength would refuse padded names the server
                // takes.
                let inner = max.saturating_sub(2);
                schema.pattern = Some(format!(
                    "^{TRIMMED_CHAR}*{SOLID_CHAR}(?:{TEXT_CHAR}{{0,{inner}}}{SOLID_CHAR})?{TRIMMED_CHAR}*$"
                ));
                schema.max_length = None;
                schema.min_length = Some(1);
            }
            TextRule::FileName(max) => {
                let inner = max.saturating_sub(2);
                let solid = SOLID_CHAR.replace("[^", r"[^/\\");
                // No control character at all (tabs and line breaks included).
                let text = r"[^/\\\x00-\x1F\x7F-\x9F]";
                schema.pattern = Some(format!(
                    "^{TRIMMED_CHAR}*{solid}(?:{text}{{0,{inner}}}{solid})?{TRIMMED_CHAR}*$"
                ));
                schema.max_length = None;
                schema.min_length = Some(1);
            }
            TextRule::Keyword => {
                // No control character at all (tab and newline included).
                let any = r"[^\x00-\x1F\x7F-\x9F]";
                let any_but_colon = r"[^:\x00-\x1F\x7F-\x9F]";
                let solid_but_colon = SOLID_CHAR.replace("[^", "[^:");
                schema.pattern = Some(format!(
                    "^{any_but_colon}*{solid_but_colon}{any_but_colon}*(?::{any}*{SOLID_CHAR}{any}*)?$"
                ));
                schema.min_length = Some(1);
                schema.max_length = Some(lightbox_core::keywords::KEYWORD_MAX);
            }
            TextRule::Namespace => {
                let any_but_colon = r"[^:\x00-\x1F\x7F-\x9F]";
                let solid_but_colon = SOLID_CHAR.replace("[^", "[^:");
                schema.pattern = Some(format!(
                    "^{any_but_colon}*{solid_but_colon}{any_but_colon}*$"
                ));
                schema.min_length = Some(1);
                schema.max_length = Some(lightbox_core::keywords::KEYWORD_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_rule_names_a_documented_field() {
        let doc = serde_json::to_value(crate::openapi("http://127.0.0.1")).unwrap_or_default();
        for (schema, property, _) in TEXT_FIELDS {
            let field = &doc["components"]["schemas"][schema]["properties"][property];
            // A list of texts carries the rule on its items.
            let field = if field["items"].is_object() {
                &field["items"]
            } else {
                field
            };
            assert!(
                field["pattern"].is_string(),
                "{schema}.{property} is not in the document"
            );
        }
    }
}
