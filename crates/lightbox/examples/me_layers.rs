//! Where the time of `GET /v1/me` goes: serves the real `get_me` handler
//! behind a chosen subset of Lightbox's real layers, so `bench/me-layers.sh`
//! can measure each layer's cost against `bare_axum`.
//!
//! ```text
//! me_layers <listen> <data dir | database URL> <token> <stack>
//! ```
//!
//! `<stack>` is `app` (the whole `lightbox_api::app`, as `lightbox serve`
//! builds it, without the job workers and housekeeping), or a comma list of
//! layers, added inside out in this order whatever the order written:
//!
//! - `caller`: no credential check; the token is checked once at start-up
//!   and its principal put in every request (so `get_me` can run alone);
//! - `authorize`: the real credential check (cache, IP list, scope, body cap)
//!   and, since 7f75d4d, the ETag of `/v1` answers;
//! - `etag`: the `ETag` layer (buffers the body, SHA-256 over it);
//! - `mna`: the 405 reshaping layer;
//! - `observe`: request id, task-local, metrics.
//!
//! `authorize,observe` is the stack `/v1/me` has in `app` (since 95bbe87 `/v1`
//! answers a wrong method in `authorize`, and since 7f75d4d `authorize` also
//! does the ETag; `mna` and `etag` wrap only the public routes).
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use lightbox_api::access::AccessTable;
use lightbox_api::extract::Caller;
use lightbox_api::{ApiSettings, AppState, Docs, middleware};
use lightbox_core::auth::AuthSettings;
use lightbox_core::{Core, Store, SystemClock};

type Failure = Box<dyn Error + Send + Sync>;

const LAYERS: [&str; 5] = ["caller", "authorize", "etag", "mna", "observe"];

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, storage, token, stack] = args.as_slice() else {
        return Err("usage: me_layers <listen> <data dir | database URL> <token> <stack>".into());
    };
    let layers: Vec<&str> = stack.split(',').map(str::trim).collect();
    if stack != "app" {
        if let Some(unknown) = layers.iter().find(|l| !LAYERS.contains(l)) {
            return Err(format!("unknown layer {unknown:?}; know {LAYERS:?} or `app`").into());
        }
        if layers.contains(&"caller") == layers.contains(&"authorize") {
            return Err("give exactly one of `caller` and `authorize`".into());
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(listen, storage, token, stack == "app", &layers))
}

async fn serve(
    listen: &str,
    storage: &str,
    token: &str,
    whole_app: bool,
    layers: &[&str],
) -> Result<(), Failure> {
    let url = if storage.contains(':') {
        storage.to_owned()
    } else {
        Store::sqlite_url_for_dir(Path::new(storage))
    };
    let store = Store::connect(&url, 16).await?;
    store.migrate().await?;
    let core = Core::new(store, Arc::new(SystemClock), AuthSettings::default());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let public_url = format!("http://{}", listener.local_addr()?);
    let settings = ApiSettings {
        public_url: public_url.clone(),
        ..ApiSettings::default()
    };

    let app = if whole_app {
        lightbox_api::app(core, settings)?
    } else {
        let access = AccessTable::from_openapi(&lightbox_api::openapi(&public_url))
            .map_err(|missing| format!("routes without access: {missing:?}"))?;
        let state = AppState {
            core: core.clone(),
            settings: Arc::new(settings),
            access: Arc::new(access),
            docs: Arc::new(Docs {
                openapi_yaml: String::new(),
                llms: String::new(),
                llms_full: String::new(),
            }),
            metrics: lightbox_api::metrics_handle(),
        };
        let mut router: Router<AppState> =
            Router::new().route("/v1/me", get(lightbox_api::routes::me::get_me));
        if layers.contains(&"etag") {
            router = router.layer(axum::middleware::from_fn(middleware::etag));
        }
        if layers.contains(&"authorize") {
            router = router.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                middleware::authorize,
            ));
        }
        if layers.contains(&"caller") {
            let principal = core.auth.authenticate(token).await?;
            router = router.layer(Extension(Caller(principal)));
        }
        if layers.contains(&"mna") {
            router = router.layer(axum::middleware::from_fn(middleware::method_not_allowed));
        }
        if layers.contains(&"observe") {
            router = router.layer(axum::middleware::from_fn(middleware::observe));
        }
        router.with_state(state)
    };

    // Like `lightbox serve`: the base URL on stdout, first line.
    println!("{public_url}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
