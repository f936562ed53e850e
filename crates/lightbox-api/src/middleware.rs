//! Layers every request passes through, outermost first:
//! `observe` (request id, metrics, log) → routing → `authorize` (/v1 only:
//! credential → API switch → IP allow-list → scope → body-size cap) →
//! `etag` (GET: `ETag`, `304` on `If-None-Match`) → handler.

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;
use ipnet::IpNet;
use lightbox_core::{CoreError, ErrorKind};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, REQUEST_ID, error};
use crate::extract::{Caller, ClientIp, Query, too_large};
use lightbox_core::scope::Access;

/// Gives the request an id (echoed as `X-Request-Id` and in error bodies),
/// and records `lightbox_http_requests_total` and the latency histogram by
/// route template and status.
pub async fn observe(req: Request, next: Next) -> Response {
    let id = request_id();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record(
        route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// A process-unique request id: a random prefix fixed at start-up and a
/// counter. Unique across nodes and restarts (the prefix), and costs no
/// system call per request.
fn request_id() -> String {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let uuid = uuid::Uuid::new_v4();
        let bytes = uuid.as_bytes();
        u64::from_le_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        ])
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}{n:016x}")
}

/// Metric handles per route, then (method, status), registered once: the
/// recorder's key building and lookup stay off the hot path, and a lookup
/// allocates nothing (routes are few, so the maps stay small).
fn record(route: &str, method: &Method, status: u16, seconds: f64) {
    type PerRoute = DashMap<(Method, u16), (metrics::Counter, metrics::Histogram)>;
    static HANDLES: OnceLock<DashMap<String, PerRoute>> = OnceLock::new();
    let by_route = HANDLES.get_or_init(DashMap::new);
    if let Some(per_route) = by_route.get(route)
        && let Some(h) = per_route.get(&(method.clone(), status))
    {
        h.0.increment(1);
        h.1.record(seconds);
        return;
    }
    let counter = metrics::counter!("lightbox_http_requests_total", "method" => method.to_string(), "route" => route.to_owned(), "status" => status.to_string());
    let histogram = metrics::histogram!("lightbox_http_request_duration_seconds", "method" => method.to_string(), "route" => route.to_owned());
    counter.increment(1);
    histogram.record(seconds);
    by_route
        .entry(route.to_owned())
        .or_default()
        .insert((method.clone(), status), (counter, histogram));
}

/// The client's address (see [`lightbox_core::auth::client_ip`]).
pub fn client_ip(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[IpNet],
) -> Result<IpAddr, CoreError> {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(HeaderValue::as_bytes);
    lightbox_core::auth::client_ip(peer, forwarded, trusted)
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Enforces the route's declared access, in the documented order, and caps
/// the body while it streams.
/// For `/v1` it also does the ETag work (see [`etag`]), saving a layer.
pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match admit(&state, &mut req).await {
        Ok(()) => etag(req, next).await,
        Err(e) => e.into_response(),
    }
}

async fn admit(state: &AppState, req: &mut Request) -> Result<(), ApiError> {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(access) = state.access.get(req.method().as_str(), &route) else {
        if state.access.has_path(&route) {
            // axum's method router answers this one with 405 after us.
            let mut e: ApiError = CoreError::new(
                ErrorKind::NotFound,
                "This endpoint does not take that method.",
            )
            .into();
            e.status = Some(StatusCode::METHOD_NOT_ALLOWED);
            return Err(e);
        }
        tracing::error!(route, "route has no access declaration; refusing");
        return Err(CoreError::internal().into());
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let ip = client_ip(peer, req.headers(), &state.settings.trusted_proxies);
    if access == Access::Public {
        // The call carries its credential in its body; only the size cap
        // applies, and the address its rate limits count.
        req.extensions_mut().insert(ClientIp(ip?));
        cap_body(req, state.settings.max_body_bytes)?;
        return strict_query(state, req, &route);
    }
    // 1. credential
    let token = bearer(req).ok_or_else(|| {
        error(
            ErrorKind::Unauthorized,
            "Send a token: Authorization: Bearer <token>.",
        )
    })?;
    let principal = state.core.auth.authenticate(token).await?;
    // 2. API switch, right after the credential
    if !principal.api_enabled {
        return Err(error(
            ErrorKind::ApiNotEnabled,
            "API access is switched off for this account (Settings → API → Settings).",
        ));
    }
    // 3. IP allow-list (an unreadable client address is refused here)
    let ip = ip?;
    req.extensions_mut().insert(ClientIp(ip));
    if !principal.ip_allowed(ip) {
        return Err(
            CoreError::forbidden(format!("This token may not be used from {ip}."))
                .with_detail("ip_not_allowed")
                .into(),
        );
    }
    // 4. scope
    principal.check_access(access)?;
    if let Some(token) = principal.service_token() {
        state.core.auth.note_use(&token.uuid, ip);
    }
    // 5. size
    let cap = principal
        .max_request_bytes
        .unwrap_or(u64::MAX)
        .min(state.settings.max_body_bytes);
    req.extensions_mut().insert(Caller(principal));
    cap_body(req, cap)?;
    // 6. validation: query parameters the route does not declare
    strict_query(state, req, &route)
}

/// Refuses a query parameter the route's OpenAPI declaration does not list,
/// or one given twice, on every `/v1` route (the same rule and message as
/// [`Query::only`]), so a typo never silently gets the default answer.
fn strict_query(state: &AppState, req: &Request, route: &str) -> Result<(), ApiError> {
    let Some(query) = req.uri().query() else {
        return Ok(());
    };
    let known: Vec<&str> = state
        .access
        .query_params(req.method().as_str(), route)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    Query::parse(query)?.only(&known)
}

/// Refuses a body over `cap` by its Content-Length at once, else stops
/// reading it at the cap.
fn cap_body(req: &mut Request, cap: u64) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(too_large());
    }
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let body = std::mem::replace(req.body_mut(), Body::empty());
    *req.body_mut() = Body::new(http_body_util::Limited::new(body, cap));
    Ok(())
}

/// Tags every successful GET with a strong `ETag` over its body and answers
/// `304` when `If-None-Match` carries the current tag.
pub async fn etag(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(req).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A handler that knows its tag already (from a cache) sets it; only
    // bodies without one are buffered and hashed here.
    let (tag, body) = match parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
    {
        Some(tag) => (tag.to_owned(), body),
        None => {
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return ApiError::from(CoreError::internal()).into_response();
            };
            let tag = body_tag(&bytes);
            if let Ok(value) = HeaderValue::from_str(&tag) {
                parts.headers.insert(header::ETAG, value);
            }
            (tag, Body::from(bytes))
        }
    };
    let matches = if_none_match.is_some_and(|inm| {
        inm.split(',')
            .map(str::trim)
            .any(|t| t == tag || t == "*" || t.strip_prefix("W/") == Some(tag.as_str()))
    });
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, body)
}

/// `"<first 128 bits of SHA-256, hex>"`.
pub fn body_tag(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in &digest[..16] {
        tag.push(char::from(HEX[usize::from(b >> 4)]));
        tag.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    tag.push('"');
    tag
}

/// 404 for paths no route matches, in the error shape.
pub async fn not_found() -> ApiError {
    error(ErrorKind::NotFound, "No such endpoint.")
}

/// Wraps axum's bare 405 in the error shape.
pub async fn method_not_allowed(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && response.headers().get(header::CONTENT_TYPE).is_none()
    {
        let allow = response.headers().get(header::ALLOW).cloned();
        let mut e = ApiError::from(CoreError::new(
            ErrorKind::NotFound,
            "This endpoint does not take that method.",
        ));
        e.status = Some(StatusCode::METHOD_NOT_ALLOWED);
        let mut r = e.into_response();
        if let Some(allow) = allow {
            r.headers_mut().insert(header::ALLOW, allow);
        }
        return r;
    }
    response
}
