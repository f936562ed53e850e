//! The HTTP API of Lightbox: the axum router, the layers every request
//! passes through, the error wire shape and the OpenAPI document.
//!
//! Route declarations are the single source of truth: each handler's
//! `#[utoipa::path]` names its path, method, shapes and required scope; the
//! router, the enforcement (`access`) and `/openapi.v1.yaml` are all built
//! from them.
#![forbid(unsafe_code)]

pub mod access;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod routes;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::routing::get;
use ipnet::IpNet;
use lightbox_core::Core;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{LicenseBuilder, OpenApi, ServerBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::AccessTable;

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Server-wide cap on a request body; a token's own cap can only lower it.
    pub max_body_bytes: u64,
    /// The base URL clients reach this server at (for the OpenAPI `servers`).
    pub public_url: String,
    /// The blob store, checked by `/readyz`.
    pub blobs: Option<lightbox_media::BlobStore>,
    /// `/readyz` tells a local, unproxied caller the cause (`serve
    /// --readyz-detail`); off, the cause is only in the log.
    pub readyz_detail: bool,
    /// Which parts this process serves (`serve --role`): the `/v1` API, the
    /// image processor (`POST /upload`), media (`/media/…`). Signed
    /// download links (`/download/…`) are served by API and media nodes.
    pub serve_api: bool,
    pub serve_processor: bool,
    pub serve_media: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            max_body_bytes: 10 * 1024 * 1024,
            public_url: "http://127.0.0.1:8080".to_owned(),
            blobs: None,
            readyz_detail: false,
            serve_api: true,
            serve_processor: true,
            serve_media: true,
        }
    }
}

pub struct Docs {
    pub openapi_yaml: String,
    pub llms: String,
    pub llms_full: String,
}

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub settings: Arc<ApiSettings>,
    pub access: Arc<AccessTable>,
    pub docs: Arc<Docs>,
    pub metrics: PrometheusHandle,
}

/// The `/v1` routes with their OpenAPI declarations.
fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::me::get_me))
        .routes(routes!(routes::sets::create_set, routes::sets::list_sets))
        .routes(routes!(routes::sets::get_set, routes::sets::update_set))
        .routes(routes!(routes::sets::get_tree))
        .routes(routes!(routes::sets::reorder_sets))
        .routes(routes!(
            routes::sets::list_set_images,
            routes::sets::add_set_images,
            routes::sets::remove_set_images
        ))
        .routes(routes!(routes::sets::order_set_images))
        .routes(routes!(routes::sets::set_visibility))
        .routes(routes!(routes::sets::list_snapshots))
        .routes(routes!(routes::sets::restore_set))
        .routes(routes!(
            routes::websites::list_websites,
            routes::websites::create_website
        ))
        .routes(routes!(
            routes::websites::get_website,
            routes::websites::update_website,
            routes::websites::delete_website
        ))
        .routes(routes!(routes::websites::list_press_members))
        .routes(routes!(routes::websites::update_press_member))
        .routes(routes!(routes::websites::list_website_downloads))
        .routes(routes!(
            routes::webhooks::list_webhooks,
            routes::webhooks::create_webhook
        ))
        .routes(routes!(
            routes::webhooks::get_webhook,
            routes::webhooks::update_webhook,
            routes::webhooks::delete_webhook
        ))
        .routes(routes!(routes::webhooks::rotate_webhook_secret))
        .routes(routes!(routes::webhooks::test_webhook))
        .routes(routes!(routes::webhooks::list_webhook_deliveries))
        .routes(routes!(routes::webhooks::redeliver_webhook_delivery))
        .routes(routes!(routes::operations::get_operation))
        .routes(routes!(routes::auth::sign_in))
        .routes(routes!(routes::auth::mfa))
        .routes(routes!(routes::auth::token))
        .routes(routes!(routes::auth::sign_out))
        .routes(routes!(
            routes::auth::list_sessions,
            routes::auth::end_other_sessions
        ))
        .routes(routes!(routes::auth::end_session))
        .routes(routes!(routes::auth::change_password))
        .routes(routes!(routes::auth::mfa_setup))
        .routes(routes!(routes::auth::mfa_enable))
        .routes(routes!(routes::auth::mfa_disable))
        .routes(routes!(
            routes::service_tokens::list_service_tokens,
            routes::service_tokens::create_service_token
        ))
        .routes(routes!(routes::service_tokens::revoke_service_token))
        .routes(routes!(routes::uploads::create_upload))
        .routes(routes!(routes::images::list_images))
        .routes(routes!(
            routes::images::get_image,
            routes::images::update_image,
            routes::images::delete_image
        ))
        .routes(routes!(routes::images::get_versions))
        .routes(routes!(routes::images::list_version_profiles))
        .routes(routes!(routes::images::get_facets))
        .routes(routes!(
            routes::keywords::add_keywords,
            routes::keywords::remove_keyword
        ))
        .routes(routes!(routes::keywords::rename_keyword))
        .routes(routes!(routes::keywords::list_keywords))
        .routes(routes!(routes::keywords::list_namespaces))
        .routes(routes!(routes::enrichment::put_metadata))
        .routes(routes!(routes::enrichment::list_metadata_profiles))
        .routes(routes!(routes::enrichment::put_rating))
        .routes(routes!(
            routes::enrichment::put_crop,
            routes::enrichment::delete_crop
        ))
        .routes(routes!(routes::enrichment::put_alt_text))
        .routes(routes!(
            routes::enrichment::add_credit,
            routes::enrichment::remove_credit
        ))
        .routes(routes!(routes::enrichment::extract_metadata))
        .routes(routes!(routes::operations::batch))
        .routes(routes!(routes::downloads::create_download))
        .routes(routes!(
            routes::archives::create_archive,
            routes::archives::list_archives
        ))
}

/// The OpenAPI document, complete (common errors, headers, security).
pub fn openapi(public_url: &str) -> OpenApi {
    let (_, doc) = v1_routes().split_for_parts();
    finish_openapi(doc, public_url)
}

fn finish_openapi(mut doc: OpenApi, public_url: &str) -> OpenApi {
    doc.info.title = "Lightbox API".to_owned();
    doc.info.version = "1".to_owned();
    doc.info.description = Some(include_str!("llms.txt").to_owned());
    // utoipa-axum fills these from its own crate metadata.
    doc.info.contact = None;
    doc.info.license = Some(
        LicenseBuilder::new()
            .name(env!("CARGO_PKG_LICENSE"))
            .identifier(Some(env!("CARGO_PKG_LICENSE")))
            .build(),
    );
    doc.servers = Some(vec![ServerBuilder::new().url(public_url).build()]);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        access::SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A service token `dpg_api_live_…`, or a signed-in user's access token `dpg_at_…` (from `POST /v1/auth/token`). The scopes listed on each operation are required; `role:admin` means an account admin's access token, `role:signed-in` any signed-in user's access token."))
                .build(),
        ),
    );
    openapi_common::add(&mut doc);
    doc
}

mod openapi_common;

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    METRICS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// Builds the whole application.
pub fn app(core: Core, settings: ApiSettings) -> Result<Router, String> {
    let (v1, doc) = v1_routes().split_for_parts();
    let doc = finish_openapi(doc, &settings.public_url);
    let access = AccessTable::from_openapi(&doc).map_err(|missing| {
        format!(
            "routes without an access declaration: {}",
            missing.join(", ")
        )
    })?;
    let openapi_yaml = doc
        .to_yaml()
        .map_err(|e| format!("OpenAPI document: {e}"))?;
    let llms = include_str!("llms.txt").to_owned();
    let llms_full = format!(
        "{llms}\n## Endpoints\n{}\n## OpenAPI document\n\n{openapi_yaml}",
        endpoint_list(&access)
    );
    let state = AppState {
        core,
        settings: Arc::new(settings),
        access: Arc::new(access),
        docs: Arc::new(Docs {
            openapi_yaml,
            llms,
            llms_full,
        }),
        metrics: metrics_handle(),
    };
    // `authorize` also tags GET answers (one layer instead of two on /v1).
    let v1 = v1.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::authorize,
    ));
    let public = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .route("/openapi.v1.yaml", get(routes::docs::openapi_yaml))
        .route("/llms.txt", get(routes::docs::llms_txt))
        .route("/llms-full.txt", get(routes::docs::llms_full_txt))
        .layer(axum::middleware::from_fn(middleware::etag))
        // /v1 answers a wrong method in `authorize`; these routes need the wrapper.
        .layer(axum::middleware::from_fn(middleware::method_not_allowed));
    let mut router = Router::new();
    if state.settings.serve_api {
        router = router.merge(v1);
    }
    if state.settings.serve_processor {
        // Its own size rule: the ticket's cap, enforced while the file streams.
        router = router.route(
            "/upload",
            axum::routing::post(routes::uploads::process_upload)
                .options(routes::uploads::preflight)
                .layer(axum::extract::DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(routes::uploads::any_origin))
                .layer(axum::middleware::from_fn(middleware::method_not_allowed)),
        );
    }
    if state.settings.serve_media {
        router = router.route(
            "/media/{image}/{version}/{file}",
            get(routes::media::get_media)
                .layer(axum::middleware::from_fn(middleware::method_not_allowed)),
        );
    }
    if state.settings.serve_media || state.settings.serve_api {
        // Signed download links: their URLs start with the media base URL,
        // which is the API node's own URL unless `--media-url` says
        // otherwise, so both kinds of node serve them.
        router = router.route(
            "/download/{token}/{filename}",
            get(routes::downloads::get_download)
                .layer(axum::middleware::from_fn(middleware::method_not_allowed)),
        );
    }
    Ok(router
        .merge(public)
        .fallback(middleware::not_found)
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state))
}

fn endpoint_list(access: &AccessTable) -> String {
    let mut lines: Vec<String> = access
        .routes()
        .map(|(method, path, a)| {
            use lightbox_core::scope::Access;
            let need = match a {
                Access::Public => "no credential (it is in the body)".to_owned(),
                Access::AnyCredential => "any credential".to_owned(),
                Access::Scope(s) => format!("scope {}", s.as_str()),
                Access::SignedIn => "a signed-in user's access token".to_owned(),
                Access::AccountAdmin => "an account admin's access token".to_owned(),
            };
            format!("- `{method} {path}` — {need}")
        })
        .collect();
    lines.sort();
    lines.join("\n")
}
