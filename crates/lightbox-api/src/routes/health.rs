//! `/healthz` (the process answers), `/readyz` (and its database and blob
//! store do),
//! `/metrics` (Prometheus text).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::AppState;

pub async fn healthz() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    // The cause and the address (never a password): what an operator
    // needs to act, at the endpoint they look at.
    if let Err(e) = state.core.store.ping().await {
        tracing::warn!(error = %e, "not ready: database");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            text,
            format!("database unavailable: {e}\n"),
        );
    }
    if let Some(blobs) = &state.settings.blobs
        && let Err(e) = blobs.check().await
    {
        tracing::warn!(error = %e, store = blobs.describe(), "not ready: blob store");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            text,
            format!("blob store unavailable: {} ({e})\n", blobs.describe()),
        );
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
