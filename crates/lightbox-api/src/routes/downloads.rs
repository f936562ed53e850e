//! Signed downloads: `POST /v1/downloads` answers a short-lived signed link
//! (`200`, not an Operation: it changes nothing), and `GET
//! /download/{token}/{filename}` serves it — the link is the capability, so
//! that route is outside `/v1` and takes no credential, like `/media`.
//! The bytes stream from the blob store with single `Range`s honoured
//! ([`super::media::send_blob`]).

use std::fmt::Write as _;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use lightbox_core::ErrorKind;
use lightbox_core::downloads::{self, DownloadLink, NewDownload};

use super::media::{Blob, send_blob};
use crate::AppState;
use crate::error::{ApiError, ApiResult, error};
use crate::extract::{Caller, NoStore, StrictJson};

/// A signed link to one version of an image: the original (the only way to
/// it) or a public version. No `version`: the largest the caller may have.
/// The link lasts 10 minutes (the server may be set otherwise), needs no
/// credential, honours `Range`, and names the file in `Content-Disposition`.
/// A `user` role gets the original only of images it uploaded. Not an
/// Operation — nothing changes — so no `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/downloads",
    tag = "downloads",
    security(("bearer" = ["api.download"])),
    request_body(content = NewDownload, example = json!({"image_public_uuid": "0196f3a2-7c1e-7d4b-9a51-3f0e8b2c6d17", "version": "original"})),
    responses(
        (status = 200, description = "The signed link (`Cache-Control: no-store`). `expires_at` is Unix seconds. The link answers `403 forbidden` once expired or altered, `404` once the image is deleted or the version rebuilt (`detail: version_changed`)", body = DownloadLink),
        (status = 403, description = "`api_not_enabled`; or `forbidden`: IP not allowed, the scope in `detail` is missing, or `detail: own_images_only` (a `user` role asking for the original of an image it did not upload)", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`: no such image in this account", body = crate::error::ErrorEnvelope),
        (status = 409, description = "`conflict`: the version asked for (or, for a `user` role, any public version) is not built yet", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_download(
    State(state): State<AppState>,
    caller: Caller,
    StrictJson(body): StrictJson<NewDownload>,
) -> ApiResult<NoStore<Json<DownloadLink>>> {
    let link = downloads::create(&state.core, &caller.0, body).await?;
    Ok(NoStore(Json(link)))
}

/// `GET /download/{token}/{filename}`: a signed link, checked and served.
pub async fn get_download(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Path((token, name))) = path else {
        return ApiError::from(downloads::invalid_link()).into_response();
    };
    match serve(&state, &token, &name, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

fn gone() -> ApiError {
    error(ErrorKind::NotFound, "The file is not stored any more.")
}

async fn serve(
    state: &AppState,
    token: &str,
    name: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let file = downloads::open_link(&state.core, token, name).await?;
    let etag = format!("\"{}\"", file.etag);
    let response = Response::builder()
        // The URL is a capability: no shared cache may keep the answer, and
        // the browser need not either (a resumed download asks with Range).
        .header(header::CACHE_CONTROL, "private, no-store")
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(&file.filename),
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer");
    let blob = Blob {
        key: &file.blob_key,
        size: file.bytes,
        content_type: &file.content_type,
        etag: &etag,
    };
    send_blob(state, headers, &blob, response, gone).await
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): the quoted
/// name in printable ASCII for old clients (anything else, and `"`, `\`
/// and `%`, become `_`), and the exact name percent-encoded in UTF-8 for
/// the rest. `filename` is already safe (no path, no control characters).
pub(crate) fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if (' '..='~').contains(&c) && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(filename.len());
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        assert_eq!(
            content_disposition("DSC_0042.jpg"),
            "attachment; filename=\"DSC_0042.jpg\"; filename*=UTF-8''DSC_0042.jpg"
        );
        assert_eq!(
            content_disposition("Zürich 50% off.jpg"),
            "attachment; filename=\"Z_rich 50_ off.jpg\"; filename*=UTF-8''Z%C3%BCrich%2050%25%20off.jpg"
        );
        assert_eq!(
            content_disposition("東京.jpg"),
            "attachment; filename=\"__.jpg\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.jpg"
        );
        // Whatever the name, the header is a valid header value.
        for name in ["a\"b", "a\\b", "ü\u{7f}", "x;y=z"] {
            let value = content_disposition(name);
            assert!(axum::http::HeaderValue::from_str(&value).is_ok(), "{value}");
            assert_eq!(value.matches('"').count(), 2, "{value}");
        }
    }
}
