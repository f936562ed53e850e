//! Uploads: `POST /v1/uploads` seals the image's details into a ticket, and
//! the image processor (`POST /upload`, the ticket's `upload_url`) takes the
//! `multipart/form-data` post: the ticket field first, then the file, which
//! streams to the blob store while hashed — never whole in memory.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{ConnectInfo, FromRequest, Multipart, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lightbox_core::CoreError;
use lightbox_core::multipart_budget::MultipartBudget;
use lightbox_core::uploads::{self, NewUpload, UploadAnswer, UploadTicket};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, NoStore, StrictJson, too_large};

/// Seal the image's details into a ticket for the image processor. The
/// ticket lasts 15 minutes, works once, and is bound to this account, this
/// credential, these details and the size cap. Not an Operation: nothing is
/// written until the file arrives (no `Idempotency-Key`).
#[utoipa::path(
    post,
    path = "/v1/uploads",
    tag = "uploads",
    security(("bearer" = ["api.upload"])),
    request_body(content = NewUpload, example = json!({"filename": "DSC_0042.jpg", "title": "Headliner", "keywords": ["artist:Marina", "stage:Main"]})),
    responses(
        (status = 201, description = "The ticket: post `fields` unchanged, then the file in the part named `file_field`, as multipart/form-data to `upload_url`", body = UploadTicket),
        (status = 404, description = "`set_not_found`: no such `set_public_uuid`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_upload(
    State(state): State<AppState>,
    caller: Caller,
    StrictJson(body): StrictJson<NewUpload>,
) -> ApiResult<(StatusCode, NoStore<Json<UploadTicket>>)> {
    let ticket = uploads::create_ticket(&state.core, &caller.0, body).await?;
    Ok((StatusCode::CREATED, NoStore(Json(ticket))))
}

/// Largest ticket field read (a ticket is well under 8 KiB).
const TICKET_FIELD_MAX: usize = 64 * 1024;

fn form_error(message: &str) -> ApiError {
    CoreError::validation("file", message).into()
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    form_error(&format!(
        "The multipart/form-data body could not be read: {e}"
    ))
}

async fn read_ticket(mut field: Field<'_>, budget: &MultipartBudget) -> Result<String, ApiError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        budget.read(chunk.len());
        text.extend_from_slice(&chunk);
        if text.len() > TICKET_FIELD_MAX {
            return Err(CoreError::validation("ticket", "The ticket field is too long.").into());
        }
    }
    String::from_utf8(text)
        .map_err(|_| CoreError::validation("ticket", "The ticket field is not text.").into())
}

/// The image processor: verifies the ticket, sniffs and checks the head of
/// the file, streams the whole file to the blob store while hashing it, and
/// records the image. `201` with the new image, `200` for a duplicate (the
/// account already has these exact bytes) or a ticket used before (the same
/// answer again).
pub async fn process_upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let ip =
        match crate::middleware::client_ip(peer.ip(), &headers, &state.settings.trusted_proxies) {
            Ok(ip) => ip,
            Err(e) => return ApiError::from(e).into_response(),
        };
    // The parser's buffer for part headers is bounded by the budget.
    let budget = MultipartBudget::new();
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::from_stream(budget.guard(body.into_data_stream()));
    let form =
        Multipart::from_request(axum::extract::Request::from_parts(parts, body), &state).await;
    let mut form = match form {
        Ok(form) => form,
        Err(e) => {
            return ApiError::from(
                CoreError::new(
                    lightbox_core::ErrorKind::UnsupportedMediaType,
                    format!("Send multipart/form-data (the ticket's fields, then the file): {e}"),
                )
                .with_field("Content-Type"),
            )
            .into_response();
        }
    };
    let processed = match process(&state, &mut form, &budget, ip).await {
        Err(_) if budget.exceeded() => Err(MultipartBudget::refusal().into()),
        other => other,
    };
    match processed {
        Ok(answer) => {
            let status = if answer.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(answer)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn process(
    state: &AppState,
    form: &mut Multipart,
    budget: &MultipartBudget,
    ip: std::net::IpAddr,
) -> Result<UploadAnswer, ApiError> {
    let core = &state.core;
    let mut ticket: Option<String> = None;
    let file = loop {
        let Some(field) = form.next_field().await.map_err(multipart_error)? else {
            return Err(form_error(
                "The form has no part named \"file\": send the ticket's fields, then the file.",
            ));
        };
        match field.name() {
            Some("ticket") if ticket.is_some() => {
                return Err(CoreError::validation("ticket", "Send the ticket once.").into());
            }
            Some("ticket") => ticket = Some(read_ticket(field, budget).await?),
            Some("file") => break field,
            Some(other) => {
                return Err(CoreError::validation(
                    other,
                    "Unknown form field: send the ticket's fields unchanged, then the file.",
                )
                .into());
            }
            None => return Err(form_error("A form part has no name.")),
        }
    };
    let Some(ticket) = ticket else {
        return Err(CoreError::validation(
            "ticket",
            "The ticket field must come before the file (send the ticket's fields first).",
        )
        .into());
    };
    let claims = uploads::open_ticket(core, &ticket, ip).await?;
    if let Some(answer) = uploads::replay(core, &claims).await? {
        return Ok(answer);
    }
    Ok(uploads::receive(core, claims, budget.counted(file)).await?)
}

/// The processor answers pages of any origin: the ticket is the whole
/// credential (no cookie is read), so a console or an app served from
/// another host than the processor (`--processor-url`) can send files and
/// read the answer.
pub async fn any_origin(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(req).await;
    response.headers_mut().insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    response
}

/// The CORS preflight a browser sends before a cross-origin upload that
/// reports its progress: POST with any headers a multipart form needs.
pub async fn preflight() -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}
