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

/// Ready when the database and the blob store answer. The cause and the
/// address (never a password) are told only to a caller on this machine
/// that came through no proxy — an operator's `curl` — since they name
/// hosts and paths; anyone else reads which part is down, and the log.
pub async fn readyz(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
) -> impl IntoResponse {
    let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    let local = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| lightbox_core::auth::canonical_ip(c.0.ip()).is_loopback())
        && !headers.contains_key("x-forwarded-for")
        && !headers.contains_key(header::FORWARDED);
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
    if let Err(e) = state.core.store.ping().await {
        tracing::warn!(error = %e, "not ready: database");
        return unavailable("database", e.to_string());
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
