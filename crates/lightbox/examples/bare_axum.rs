//! The baseline for `bench/me-vs-bare.sh`: a bare axum server with one route,
//! `GET /v1/me`, answering a fixed JSON body — the bytes a real Lightbox
//! server answered, read from a file — with none of Lightbox's layers
//! (no credential check, request id, metrics, ETag or error shaping).
//!
//! It runs on the same runtime as `lightbox serve` (tokio multi-thread,
//! `enable_all`) and is served the same way (`axum::serve` with
//! connect-info), so the difference measured is Lightbox's own work.
//!
//! ```text
//! cargo run --release -p lightbox --example bare_axum -- 127.0.0.1:18081 me.json
//! ```
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

type Failure = Box<dyn Error + Send + Sync>;

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(body_path)) = (args.next(), args.next()) else {
        return Err("usage: bare_axum <listen address> <file with the JSON body>".into());
    };
    let body = Bytes::from(std::fs::read(&body_path).map_err(|e| format!("{body_path}: {e}"))?);
    serde_json::from_slice::<serde_json::Value>(&body)
        .map_err(|e| format!("{body_path} is not JSON: {e}"))?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(listen, body))
}

async fn serve(listen: String, body: Bytes) -> Result<(), Failure> {
    let app = Router::new().route(
        "/v1/me",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    // Like `lightbox serve`: the base URL on stdout, first line.
    println!("http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
