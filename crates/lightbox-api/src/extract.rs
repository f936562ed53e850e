//! Request extractors shared by every handler: the caller, strict JSON
//! bodies, writes (Idempotency-Key + fingerprint), paging, strict queries.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use lightbox_core::auth::Principal;
use lightbox_core::writes::{WriteContext, validate_idempotency_key};
use lightbox_core::{CoreError, ErrorKind};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, error};

/// The authenticated caller, put in the request by the `authorize` layer.
#[derive(Clone)]
pub struct Caller(pub std::sync::Arc<Principal>);

/// The client's address as `authorize` worked it out (trusted proxies
/// considered); on every `/v1` request.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .ok_or_else(|| CoreError::internal().into())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "handler reached without a caller; route not behind authorize");
            ApiError::from(CoreError::internal())
        })
    }
}

/// Reads the whole body, honouring the size cap set by `authorize`
/// (`http_body_util::Limited`): going over it is a 413, mid-stream.
pub async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(err) = source {
                if err.is::<http_body_util::LengthLimitError>() {
                    return Err(too_large());
                }
                source = err.source();
            }
            Err(
                error(ErrorKind::Validation, "The request body could not be read.")
                    .error
                    .with_field("body")
                    .into(),
            )
        }
    }
}

pub fn too_large() -> ApiError {
    CoreError::payload_too_large().into()
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => Ok(()),
        Some(ct)
            if ct
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")) =>
        {
            Ok(())
        }
        Some(ct) => Err(CoreError::new(
            ErrorKind::UnsupportedMediaType,
            format!("Send JSON (Content-Type: application/json), not {ct:?}."),
        )
        .with_field("Content-Type")
        .into()),
    }
}

/// Parses JSON strictly: unknown fields, wrong types and `"true"` for a
/// boolean are `400 validation` naming the field (a JSON path like
/// `operations[3].body.rating`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(CoreError::validation("body", "A JSON object body is required.").into());
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = inner.to_string();
        // serde reports an unknown field at its parent; name the field itself.
        let named = text
            .strip_prefix("unknown field `")
            .or_else(|| text.strip_prefix("missing field `"));
        let field = match named.and_then(|rest| rest.split('`').next()) {
            Some(unknown) if path == "." => unknown.to_owned(),
            Some(unknown) if path == unknown || path.ends_with(&format!(".{unknown}")) => path,
            Some(unknown) => format!("{path}.{unknown}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        // Broken JSON is the body's fault, wherever the parser stopped.
        let (field, message) = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => (
                "body".to_owned(),
                format!("The body is not valid JSON: {text}."),
            ),
            _ => (
                field.clone(),
                format!("{field}: {}.", strip_position(&text)),
            ),
        };
        ApiError::from(CoreError::validation(field, message))
    })?;
    // One value per body: `{…}{…}` or trailing garbage would otherwise be
    // applied as if only the first value had been sent.
    de.end().map_err(|e| {
        CoreError::validation(
            "body",
            format!(
                "The body must hold one JSON value and nothing after it but whitespace: {}.",
                e
            ),
        )
    })?;
    Ok(value)
}

fn strip_position(text: &str) -> &str {
    text.find(" at line ").map_or(text, |i| &text[..i])
}

/// A strict JSON body.
pub struct StrictJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        check_content_type(req.headers())?;
        let bytes = read_body(req.into_body()).await?;
        parse_json(&bytes).map(StrictJson)
    }
}

/// A write: the caller, its validated Idempotency-Key, the request's
/// fingerprint, and the strictly parsed body.
pub struct Write<T> {
    pub caller: Caller,
    pub ctx: WriteContext,
    pub body: T,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Write<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        check_content_type(&parts.headers)?;
        let bytes = read_body(body).await?;
        let key = parts
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let key = validate_idempotency_key(key)?;
        let parsed: T = parse_json(&bytes)?;
        let request_hash = fingerprint(&parts.method, parts.uri.path(), &bytes);
        let ctx = WriteContext {
            account_id: caller.0.account.uuid.clone(),
            idempotency_key: key,
            request_hash,
        };
        Ok(Write {
            caller,
            ctx,
            body: parsed,
        })
    }
}

/// A write whose JSON body is optional (`DELETE …/crop`): no body, or an
/// empty one, is `None`; a body is parsed as strictly as [`Write`]'s.
pub struct WriteMaybe<T> {
    pub caller: Caller,
    pub ctx: WriteContext,
    pub body: Option<T>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for WriteMaybe<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let bytes = read_body(body).await?;
        let key = parts
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let key = validate_idempotency_key(key)?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            check_content_type(&parts.headers)?;
            // The OpenAPI declares these bodies optional and nullable: JSON
            // `null` is the same as no body.
            parse_json::<Option<T>>(&bytes)?
        };
        let ctx = WriteContext {
            account_id: caller.0.account.uuid.clone(),
            idempotency_key: key,
            request_hash: fingerprint(&parts.method, parts.uri.path(), &bytes),
        };
        Ok(WriteMaybe { caller, ctx, body })
    }
}

/// The body of a call that takes none, as some clients send it anyway: `{}`
/// (or `null`, read as no body). Anything inside it is refused naming the
/// key; any other JSON is refused.
#[derive(Debug, utoipa::ToSchema)]
#[schema(example = json!({}))]
// Read by utoipa only (the Deserialize below is by hand): the schema says
// `additionalProperties: false`, as the server refuses any key.
#[serde(deny_unknown_fields)]
pub struct EmptyObject {}

impl<'de> serde::Deserialize<'de> for EmptyObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map =
            <serde_json::Map<String, serde_json::Value> as serde::Deserialize>::deserialize(d)?;
        match map.keys().next() {
            None => Ok(EmptyObject {}),
            Some(key) => Err(serde::de::Error::unknown_field(key, &[])),
        }
    }
}

/// Runs a use-case to its end even if the client goes away. A dropped
/// request future would otherwise stop it between statements: a counted
/// attempt never settled, or (sqlx) a pooled connection left inside a
/// transaction. Sign-ins and token exchanges go through here.
pub async fn detached<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, CoreError>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "a detached use-case failed");
            Err(CoreError::internal().into())
        }
    }
}

/// An answer that carries a secret (tokens, TOTP secrets, recovery codes):
/// `Cache-Control: no-store`, so no cache or history keeps it.
pub struct NoStore<T>(pub T);

impl<T: IntoResponse> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

/// A write without a body (`DELETE`): the caller, its validated
/// Idempotency-Key and the request's fingerprint. A body is refused.
pub struct WriteKey {
    pub caller: Caller,
    pub ctx: WriteContext,
}

impl<S: Send + Sync> FromRequest<S> for WriteKey {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let bytes = read_body(body).await?;
        if !bytes.is_empty() {
            return Err(CoreError::validation("body", "This call takes no body.").into());
        }
        let key = parts
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let key = validate_idempotency_key(key)?;
        let ctx = WriteContext {
            account_id: caller.0.account.uuid.clone(),
            idempotency_key: key,
            request_hash: fingerprint(&parts.method, parts.uri.path(), &bytes),
        };
        Ok(WriteKey { caller, ctx })
    }
}

/// method + path + canonical JSON (keys sorted, whitespace dropped), hashed:
/// the same request always has the same fingerprint however it is spelled.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let digest = Sha256::new()
        .chain_update(method.as_str())
        .chain_update(b" ")
        .chain_update(path)
        .chain_update(b"\n")
        .chain_update(canonical)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Query parameters, strictly: each known once, unknown ones refused.
pub struct Query(pub BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Query::parse(parts.uri.query().unwrap_or(""))
    }
}

/// The `limit` and `offset` of a list ([`Query::paging`]). Which other
/// parameters a route takes is its OpenAPI declaration's to say, and the
/// middleware refuses any other (`middleware::strict_query`), so a handler
/// does not list them again.
pub struct Paged(pub Paging);

impl<S: Send + Sync> FromRequestParts<S> for Paged {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Paged(
            Query::parse(parts.uri.query().unwrap_or(""))?.paging()?,
        ))
    }
}

impl Query {
    /// Parses a query string; a parameter given twice is refused.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded_pairs(query) {
            if map.insert(k.clone(), v).is_some() {
                return Err(CoreError::validation(
                    k.clone(),
                    format!("The query parameter {k} is given more than once."),
                )
                .into());
            }
        }
        Ok(Query(map))
    }
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Query {
    /// Refuses parameters this endpoint does not know.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) if known.is_empty() => Err(CoreError::validation(
                unknown.clone(),
                format!("Unknown query parameter {unknown}; this endpoint takes none."),
            )
            .into()),
            Some(unknown) => Err(CoreError::validation(
                unknown.clone(),
                format!(
                    "Unknown query parameter {unknown}; this endpoint takes: {}.",
                    known.join(", ")
                ),
            )
            .into()),
            None => Ok(()),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `limit` (1..=200, default 50) and `offset` (≥ 0, default 0).
    pub fn paging(&self) -> Result<Paging, ApiError> {
        let limit = match self.get("limit") {
            None => 50,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => {
                    return Err(CoreError::validation(
                        "limit",
                        "limit must be an integer from 1 to 200.",
                    )
                    .into());
                }
            },
        };
        let offset = match self.get("offset") {
            None => 0,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => {
                    return Err(CoreError::validation(
                        "offset",
                        "offset must be an integer of 0 or more.",
                    )
                    .into());
                }
            },
        };
        Ok(Paging { limit, offset })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub limit: i64,
    pub offset: i64,
}

/// A write's answer: `202 Accepted` with its Operation (or a batch's
/// outcome) as JSON.
pub struct Accepted<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Accepted<T> {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::ACCEPTED, axum::Json(self.0)).into_response()
    }
}

/// A page of a list: a bare JSON array plus `X-Has-More` / `X-Next-Offset`.
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    pub paging: Paging,
}

impl<T> Page<T> {
    /// The page a use-case cut: its items and whether more follow.
    pub fn new((items, has_more): (Vec<T>, bool), paging: Paging) -> Self {
        Self {
            items,
            has_more,
            paging,
        }
    }

    /// One page cut from a whole (short) list held in memory.
    pub fn of(all: Vec<T>, paging: Paging) -> Self {
        let start = usize::try_from(paging.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(paging.limit).unwrap_or(0);
        let has_more = all.len() > start.saturating_add(limit);
        let items = all.into_iter().skip(start).take(limit).collect();
        Self {
            items,
            has_more,
            paging,
        }
    }
}

impl<T: serde::Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let next = self.paging.offset + self.items.len() as i64;
        let mut response = axum::Json(self.items).into_response();
        let headers = response.headers_mut();
        headers.insert(
            "x-has-more",
            axum::http::HeaderValue::from_static(if self.has_more { "true" } else { "false" }),
        );
        if self.has_more {
            headers.insert("x-next-offset", next.into());
        }
        response
    }
}
