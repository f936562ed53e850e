//! Media serving: public versions at `/media/{image}/{version}/{tag}.{ext}`,
//! the URLs image objects carry. The tag names the content, so an answer
//! never changes and is cached for a year (`immutable`); `ETag`,
//! `If-None-Match` and single `Range`s are honoured. Originals are never
//! served here (only through signed downloads).
//!
//! Not behind the `/v1` layers: no credential (the URL is the capability,
//! as on the hosted service's media host), and bodies stream from the blob
//! store without being buffered for an ETag. [`send_blob`] is shared with
//! signed downloads (`routes::downloads`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lightbox_core::{CoreError, ErrorKind};

use crate::AppState;
use crate::error::{ApiError, error};

fn not_found() -> ApiError {
    error(ErrorKind::NotFound, "No such media.")
}

/// A single `bytes=a-b` / `a-` / `-n` range within `size`; `Err` when it
/// cannot be satisfied, `Ok(None)` when absent or not understood (the whole
/// body is sent, as RFC 9110 allows).
fn parse_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let Ok(n) = end.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size.saturating_sub(1))
    } else {
        let Ok(first) = start.parse::<u64>() else {
            return Ok(None);
        };
        let last = if end.is_empty() {
            size.saturating_sub(1)
        } else {
            match end.parse::<u64>() {
                Ok(last) if last >= first => last.min(size.saturating_sub(1)),
                _ => return Ok(None),
            }
        };
        (first, last)
    };
    if size == 0 || range.0 >= size {
        return Err(());
    }
    Ok(Some(range))
}

pub async fn get_media(
    State(state): State<AppState>,
    Path((image, name, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match serve(&state, &image, &name, &file, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn serve(
    state: &AppState,
    image: &str,
    name: &str,
    file: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Some((tag, ext)) = file.split_once('.') else {
        return Err(not_found());
    };
    let version = lightbox_core::images::public_version(&state.core, image, name, tag)
        .await?
        .filter(|v| lightbox_core::images::version_extension(&v.content_type) == ext)
        .ok_or_else(not_found)?;
    let etag = format!("\"{}\"", version.etag);
    let response =
        Response::builder().header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| {
            inm.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    if fresh {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, &etag)
            .body(Body::empty())
            .map_err(|_| CoreError::internal().into());
    }
    let blob = Blob {
        key: &version.blob_key,
        size: u64::try_from(version.bytes).unwrap_or(0),
        content_type: &version.content_type,
        etag: &etag,
    };
    send_blob(state, headers, &blob, response, not_found).await
}

/// A blob to send and what describes it.
pub(crate) struct Blob<'a> {
    pub key: &'a str,
    pub size: u64,
    pub content_type: &'a str,
    /// A strong entity tag, quoted.
    pub etag: &'a str,
}

/// Sends a blob straight from the blob store, streamed (never buffered,
/// whatever its size), on top of the caller's `response` headers: `ETag`,
/// `Accept-Ranges`, `Content-Type`, `Content-Length`; `200` with the whole
/// blob, or `206` with `Content-Range` for one satisfiable `Range` (unless
/// an `If-Range` names another tag — then the whole blob, as RFC 9110
/// says); a range starting past the end → `416` with `Content-Range:
/// bytes */size`. A blob that is not there (any more) → `gone()`.
pub(crate) async fn send_blob(
    state: &AppState,
    headers: &HeaderMap,
    blob: &Blob<'_>,
    response: axum::http::response::Builder,
    gone: fn() -> ApiError,
) -> Result<Response, ApiError> {
    let media = state.core.media.clone().ok_or_else(CoreError::internal)?;
    let size = blob.size;
    let response = response
        .header(header::ETAG, blob.etag)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, blob.content_type);
    // If-Range with another tag (or a date: there is no Last-Modified to
    // match) asks for the whole, current body.
    let range_applies = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().is_ok_and(|t| t.trim() == blob.etag));
    let range = if range_applies {
        match parse_range(headers, size) {
            Ok(range) => range,
            Err(()) => {
                // Without the caller's headers: a cacheable 416 must not
                // stand in for the file.
                return Response::builder()
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                    .body(Body::empty())
                    .map_err(|_| CoreError::internal().into());
            }
        }
    } else {
        None
    };
    let blob_error = |e: lightbox_media::BlobError| -> ApiError {
        match e {
            lightbox_media::BlobError::NotFound(_) => gone(),
            other => {
                tracing::error!(error = %other, key = blob.key, "reading a blob failed");
                CoreError::internal().into()
            }
        }
    };
    let (response, stream) = match range {
        Some((first, last)) => (
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {first}-{last}/{size}"),
                )
                .header(header::CONTENT_LENGTH, last - first + 1),
            media
                .blobs
                .stream(blob.key, Some(first..last + 1))
                .await
                .map_err(blob_error)?,
        ),
        None if size == 0 => (
            response.header(header::CONTENT_LENGTH, 0),
            futures::stream::empty().boxed(),
        ),
        None => (
            response.header(header::CONTENT_LENGTH, size),
            media
                .blobs
                .stream(blob.key, None)
                .await
                .map_err(blob_error)?,
        ),
    };
    response
        .body(Body::from_stream(
            stream.map(|c| c.map_err(std::io::Error::other)),
        ))
        .map_err(|_| CoreError::internal().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).map_err(|_| ())?);
        parse_range(&headers, size)
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=-0", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
        assert_eq!(range("bytes=9-1", 100), Ok(None));
    }
}
