//! `/openapi.v1.yaml`, `/llms.txt`, `/llms-full.txt`: generated once at
//! start-up from the same route declarations the server enforces.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

pub async fn openapi_yaml(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        state.docs.openapi_yaml.clone(),
    )
}

pub async fn llms_txt(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.docs.llms.clone(),
    )
}

pub async fn llms_full_txt(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.docs.llms_full.clone(),
    )
}
