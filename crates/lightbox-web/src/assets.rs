//! The console's stylesheet and scripts, compiled into the binary.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");
const UPLOAD_JS: &str = include_str!("../assets/upload.js");
const BULK_JS: &str = include_str!("../assets/bulk.js");
const SETS_JS: &str = include_str!("../assets/sets.js");

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        "upload.js" => (UPLOAD_JS, "text/javascript; charset=utf-8"),
        "bulk.js" => (BULK_JS, "text/javascript; charset=utf-8"),
        "sets.js" => (SETS_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
