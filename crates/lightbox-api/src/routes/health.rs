//! `/healthz` (the process answers), `/readyz` (and its database and blob
//! store do),
//! `/metrics` (Prometheus text).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::IntoResponse;

use crate::AppState;

pub async fn healthz() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
}

/// Headers a proxy adds; a request with any of them came through one.
const PROXY_HEADERS: [&str; 6] = [
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
    "via",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// Ready when the database and the blob store answer. The cause and the
/// address (never a password) name hosts and paths of the deployment, so
/// they are told only when the operator asked (`--readyz-detail`) and only
/// to a caller on this machine that came through no proxy — an operator's
/// `curl`. A same-host proxy that adds no header looks local, which is why
/// it is opt-in. Anyone else reads which part is down, and the log.
pub async fn readyz(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
) -> impl IntoResponse {
    let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| lightbox_core::auth::canonical_ip(c.0.ip()));
    let local = state.settings.readyz_detail
        && peer.is_some_and(|ip| {
            ip.is_loopback()
                && !lightbox_core::auth::is_trusted_proxy(ip, &state.settings.trusted_proxies)
        })
        && !PROXY_HEADERS.iter().any(|h| headers.contains_key(*h));
    let unavailable = |part: &str, detail: String| {
        let told = if local {
            detail
        } else {
            "the cause is in the server's log".to_owned()
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            text.clone(),
            format!("{part} unavailable: {told}\n"),
        )
    };
    if let Err(e) = state.core.database_ready().await {
        tracing::warn!(error = %e, "not ready: database");
        return unavailable("database", e);
    }
    if let Some(blobs) = &state.settings.blobs
        && let Err(e) = blobs.check().await
    {
        tracing::warn!(error = %e, store = blobs.describe(), "not ready: blob store");
        return unavailable("blob store", format!("{} ({e})", blobs.describe()));
    }
    (StatusCode::OK, text, "ready\n".to_owned())
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
