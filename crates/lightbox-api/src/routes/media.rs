//! Media serving: public versions at `/media/{image}/{version}/{tag}.{ext}`,
//! the URLs image objects carry. The tag names the content, so an answer
//! never changes and is cached for a year (`immutable`); `ETag`,
//! `If-None-Match` and single `Range`s are honoured. Originals are never
//! served here (only through signed downloads).
//!
//! Not behind the `/v1` layers: no credential (the URL is the capability,
//! as on the hosted service's media host), and bodies stream from the blob
//! store without being buffered for an ETag.

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
    let media = state.core.media.clone().ok_or_else(CoreError::internal)?;
    let etag = format!("\"{}\"", version.etag);
    let size = u64::try_from(version.bytes).unwrap_or(0);
    let mut response = Response::builder()
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::ETAG, &etag)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, &version.content_type);
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
            .body(Body::empty())
            .map_err(|_| CoreError::internal().into());
    }
    let range = match parse_range(headers, size) {
        Ok(range) => range,
        Err(()) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .map_err(|_| CoreError::internal().into());
        }
    };
    let blob_error = |e: lightbox_media::BlobError| -> ApiError {
        match e {
            lightbox_media::BlobError::NotFound(_) => not_found(),
            other => {
                tracing::error!(error = %other, "reading a version failed");
                CoreError::internal().into()
            }
        }
    };
    let body = match range {
        Some((first, last)) => {
            let bytes = media
                .blobs
                .get_range(&version.blob_key, first..last + 1)
                .await
                .map_err(blob_error)?;
            response = response
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {first}-{last}/{size}"),
                )
                .header(header::CONTENT_LENGTH, bytes.len());
            Body::from(bytes)
        }
        None => {
            let stream = media
                .blobs
                .get(&version.blob_key)
                .await
                .map_err(blob_error)?;
            response = response.header(header::CONTENT_LENGTH, size);
            Body::from_stream(stream.map(|c| c.map_err(std::io::Error::other)))
        }
    };
    response
        .body(body)
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
