//! The admin console, served under `/admin`: server-rendered HTML pages
//! (maud) over the same use-cases the API calls, a stylesheet and one small
//! script served by the binary itself — no external requests, no Node at
//! runtime, and every page works without the script (it only adds the copy
//! button).
//!
//! ```text
//! /admin/sign-in ─ password ─▶ (two-factor on) /admin/sign-in/code ─▶ console cookie
//! /admin/library, /admin/library/{image}                  everyone signed in
//! /admin/sets (+ new), /admin/sets/{set} (settings, order,
//!   lead, visibility, snapshots)                           everyone signed in (the
//!                                                          use-cases decide)
//! /admin/library/{image}/edit                              everyone signed in (the
//!                                                          use-cases decide per image)
//! /admin/library/bulk (+ /ids for its script)              everyone signed in (the
//!                                                          use-cases decide per image)
//! /admin/upload (+ /ticket, /status for its script)         everyone signed in
//! /admin/keywords (+ /rename), /admin/operations/{op}      everyone signed in
//! /admin/account (sessions, two-factor)                    everyone signed in
//! /admin/websites (list, "View")                           everyone signed in
//! /admin/websites/new, …/{website}, …/{website}/delete     roles that change websites (not `user`)
//! /admin/websites/{website}/press, …/press/{member},
//!   …/{website}/downloads (press websites only)             the same roles
//! /admin/settings/api, …/api/tokens, /admin/users          account admins
//! /admin/settings/api/webhooks (+ /new, /{hook}, /{hook}/delete)
//!                                                          account admins
//! /admin/metadata-profiles (+ /{profile}), …/users/{u}/metadata-profile
//!                                                          account admins
//! ```
//! Every form posts a CSRF token ([`session`]); every answer carries a
//! strict Content-Security-Policy ([`security_headers`]).
#![forbid(unsafe_code)]
// A refusal here is a whole rendered page (a `Response`), as axum rejections are.
#![allow(clippy::result_large_err)]

mod assets;
mod form;
mod page;
mod pages;
mod session;
pub mod site;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use ipnet::IpNet;
use lightbox_core::Core;

#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Peers whose `X-Forwarded-For` is believed (as for the API).
    pub trusted_proxies: Vec<IpNet>,
    /// The console is reached over HTTPS: cookies get `Secure`.
    pub secure_cookies: bool,
    /// Where thumbnails and previews are loaded from, when not this origin
    /// (`--media-url`): allowed by the Content-Security-Policy.
    pub media_origin: Option<String>,
    /// Where the upload page sends files (the ticket's `upload_url`):
    /// allowed by the Content-Security-Policy.
    pub processor_origin: Option<String>,
    /// This node is also the image processor: the upload form without
    /// script may stream files here (never through an API-only node).
    pub serves_processor: bool,
}

#[derive(Clone)]
pub struct WebState {
    pub core: Core,
    pub settings: Arc<WebSettings>,
    csp: Arc<HeaderValue>,
}

/// The console's routes, to merge into the server's router.
pub fn router(core: Core, settings: WebSettings) -> Router {
    let media = settings.media_origin.as_deref().unwrap_or_default();
    let processor = settings.processor_origin.as_deref().unwrap_or_default();
    let csp = format!(
        "default-src 'none'; img-src 'self' data: {media}; style-src 'self'; script-src 'self'; \
         connect-src 'self' {processor}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let csp = HeaderValue::from_str(&csp).unwrap_or_else(|_| {
        // Only a media origin with characters a header cannot carry gets here.
        tracing::error!(media, processor, "the media or processor origin cannot go into the console's Content-Security-Policy; images or uploads through it will not work");
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    });
    let state = WebState {
        core,
        settings: Arc::new(settings),
        csp: Arc::new(csp),
    };
    use pages::{
        account, bulk, edit, keywords, library, metadata_profiles, operations, press, sets,
        settings as api_settings, sign_in, tokens, upload, users, webhooks, websites,
    };
    Router::new()
        .route("/admin", get(library::home))
        .route("/admin/", get(library::home))
        .route("/admin/assets/{file}", get(assets::serve))
        .route("/admin/sign-in", get(sign_in::form).post(sign_in::password))
        .route("/admin/sign-in/code", post(sign_in::code))
        .route("/admin/sign-out", post(sign_in::sign_out))
        .route("/admin/account", get(account::page))
        .route(
            "/admin/account/sessions/end-others",
            post(account::end_others),
        )
        .route("/admin/account/sessions/{uuid}/end", post(account::end_one))
        .route("/admin/account/two-factor/start", post(account::mfa_start))
        .route(
            "/admin/account/two-factor/confirm",
            post(account::mfa_confirm),
        )
        .route("/admin/account/two-factor/off", post(account::mfa_off))
        .route(
            "/admin/settings/api",
            get(api_settings::page).post(api_settings::switch),
        )
        .route(
            "/admin/settings/api/tokens",
            get(tokens::list).post(tokens::create),
        )
        .route("/admin/settings/api/tokens/new", get(tokens::new_form))
        .route(
            "/admin/settings/api/tokens/{uuid}/revoke",
            get(tokens::confirm_revoke).post(tokens::revoke),
        )
        .route(
            "/admin/settings/api/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/settings/api/webhooks/new", get(webhooks::new_form))
        .route(
            "/admin/settings/api/webhooks/{uuid}",
            get(webhooks::show).post(webhooks::change),
        )
        .route(
            "/admin/settings/api/webhooks/{uuid}/delete",
            get(webhooks::confirm_delete).post(webhooks::delete),
        )
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/new", get(users::new_form))
        .route("/admin/users/{uuid}/role", post(users::role))
        .route("/admin/users/{uuid}/access", post(users::access))
        .route(
            "/admin/users/{uuid}/metadata-profile",
            post(metadata_profiles::default_for),
        )
        .route(
            "/admin/metadata-profiles",
            get(metadata_profiles::list).post(metadata_profiles::create),
        )
        .route(
            "/admin/metadata-profiles/{uuid}",
            get(metadata_profiles::show).post(metadata_profiles::change),
        )
        .route("/admin/library", get(library::grid))
        .route("/admin/library/bulk", post(bulk::apply))
        .route("/admin/library/bulk/ids", get(bulk::matching))
        .route("/admin/library/{uuid}", get(library::image))
        .route(
            "/admin/library/{uuid}/edit",
            get(edit::page).post(edit::save),
        )
        .route("/admin/library/{uuid}/download", post(library::download))
        .route("/admin/sets", get(sets::list).post(sets::create))
        .route("/admin/sets/reorder", post(sets::reorder))
        .route("/admin/sets/{uuid}", get(sets::show).post(sets::change))
        .route(
            "/admin/upload",
            // Files stream through, each under its ticket's size cap.
            get(upload::form)
                .post(upload::plain)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/admin/upload/ticket", post(upload::ticket))
        .route("/admin/keywords", get(keywords::list))
        .route(
            "/admin/keywords/rename",
            get(keywords::rename_form).post(keywords::rename),
        )
        .route("/admin/operations/{uuid}", get(operations::page))
        .route("/admin/upload/status", get(upload::status))
        .route(
            "/admin/websites",
            get(websites::list).post(websites::create),
        )
        .route("/admin/websites/new", get(websites::new_form))
        .route(
            "/admin/websites/{uuid}",
            get(websites::edit_form).post(websites::update),
        )
        .route(
            "/admin/websites/{uuid}/delete",
            get(websites::confirm_delete).post(websites::delete),
        )
        .route("/admin/websites/{uuid}/press", get(press::members))
        .route("/admin/websites/{uuid}/press/{member}", post(press::decide))
        .route("/admin/websites/{uuid}/downloads", get(press::downloads))
        // Not a fallback: the server's router has its own (the API's 404).
        .route(
            "/admin/{*rest}",
            get(page::not_found_page).post(page::not_found_page),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// Headers on every console answer: what the page may load (only this
/// server), no framing, no caching of pages that may show secrets.
async fn security_headers(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/admin/assets/");
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, (*state.csp).clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
