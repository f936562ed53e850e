//! The wire shape of every error, and the request id that ties an error to
//! the server's log line.
//!
//! `{"error":{"code","message","detail","field","request_id"}}`, where
//! `request_id` equals the `X-Request-Id` response header. The id lives in a
//! task-local set by the outermost middleware, so any code that turns an
//! error into a response finds it without threading it through.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lightbox_core::{CoreError, ErrorKind};
use serde::Serialize;

tokio::task_local! {
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation`.
    #[schema(example = "validation")]
    pub code: String,
    /// For people; may change wording between versions.
    #[schema(example = "title must be at most 191 characters.")]
    pub message: String,
    /// `validation`: the rule broken; `forbidden`: e.g. the missing scope;
    /// `rate_limited`: what is limited.
    #[schema(example = "title must be at most 191 characters")]
    pub detail: Option<String>,
    /// The offending field, header or parameter.
    #[schema(example = "title")]
    pub field: Option<String>,
    /// Equals the `X-Request-Id` response header.
    pub request_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// A handler's error. Wraps the domain error; only this type becomes a
/// response, so every error on the wire has the same shape.
#[derive(Debug)]
pub struct ApiError {
    pub error: CoreError,
    /// `Retry-After` seconds, for 429.
    pub retry_after: Option<u64>,
    /// Overrides the status the kind implies (405 for a wrong method).
    pub status: Option<StatusCode>,
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        Self {
            retry_after: error.retry_after,
            error,
            status: None,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn status_for(kind: ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| status_for(self.error.kind));
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.error.kind.code().to_owned(),
                message: self.error.message,
                detail: self.error.detail,
                field: self.error.field,
                request_id: current_request_id(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read: the connection cannot carry
            // another request, so say so (a client would otherwise reuse it
            // and see its next request fail).
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

pub fn error(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    CoreError::new(kind, message).into()
}
