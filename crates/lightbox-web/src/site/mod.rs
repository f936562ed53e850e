//! Websites (api.md §10): the public and press galleries, server-rendered
//! from what [`lightbox_core::website_pages`] decides a visitor may see at
//! the moment of the request.
//!
//! ```text
//! <public URL>/w/<slug>/…            any website, under its slug
//! https://<hostname>/…               a website whose host name the operator allows
//!   /  /s/<set>  /i/<image>  /search?q=  /feed.atom  /sitemap.xml  /robots.txt
//! ```
//! Caching: a page says for how long it may be kept (`Cache-Control:
//! public, max-age`) and never past the next activation instant of any set
//! the website shows, so neither a browser nor a CDN can show an embargoed
//! image late or keep a page that misses one. Whatever is not shown answers
//! the same 404 page as what never existed.

mod pages;

use std::hash::{Hash, Hasher};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine as _;
use lightbox_core::website_pages::Site;
use lightbox_core::websites::WebsiteType;
use sha2::Digest as _;

use lightbox_core::Core;

/// One kind of website page, from the path under the website's root.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Page {
    Home,
    Set(String),
    Image(String),
    Search,
    Feed,
    Sitemap,
    Robots,
    Icon,
}

impl Page {
    /// The page at `rest` (the path under the website's root, without the
    /// leading `/`); `None` when the website has no such page.
    fn of(rest: &str) -> Option<Self> {
        Some(match rest {
            "" => Self::Home,
            "search" => Self::Search,
            "feed.atom" => Self::Feed,
            "sitemap.xml" => Self::Sitemap,
            "robots.txt" => Self::Robots,
            "favicon.svg" => Self::Icon,
            _ => match rest.split_once('/') {
                Some(("s", id)) if !id.is_empty() && !id.contains('/') => Self::Set(id.to_owned()),
                Some(("i", id)) if !id.is_empty() && !id.contains('/') => {
                    Self::Image(id.to_owned())
                }
                _ => return None,
            },
        })
    }
}

/// The routes of websites under their slug, to merge into the server's
/// router. Websites at their own host names are answered by
/// [`at_own_host`], layered over the whole server.
pub fn router(core: Core) -> Router {
    Router::new()
        .route("/robots.txt", get(server_robots))
        .route("/w/{slug}", get(slug_root))
        .route("/w/{slug}/", get(slug_home))
        .route("/w/{slug}/{*rest}", get(slug_page))
        .with_state(core)
}

/// The server's own `/robots.txt`: websites may be indexed, the console
/// and the API not (a website at its own host name has its own).
async fn server_robots() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        "User-agent: *\nAllow: /w/\nAllow: /media/\nDisallow: /\n",
    )
        .into_response()
}

async fn slug_root(Path(slug): Path<String>) -> Response {
    Redirect::permanent(&format!("/w/{}/", crate::form::url_encode(&slug))).into_response()
}

async fn slug_home(
    State(core): State<Core>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    by_slug(&core, &slug, Some(Page::Home), &uri, &headers).await
}

async fn slug_page(
    State(core): State<Core>,
    Path((slug, rest)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    by_slug(&core, &slug, Page::of(&rest), &uri, &headers).await
}

async fn by_slug(
    core: &Core,
    slug: &str,
    page: Option<Page>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let now = core.now();
    match Site::by_slug(core, slug, now).await {
        Ok(Some(site)) => {
            let prefix = format!("/w/{}", crate::form::url_encode(slug));
            answer(core, &site, &prefix, page, now, uri, headers).await
        }
        Ok(None) => respond(pages::no_website(), 0, headers),
        Err(e) => respond(pages::failed(&e), 0, headers),
    }
}

/// Middleware over the whole server: a GET of a website page path at a
/// host name the operator allows, that a website has, is that website's
/// (and `/w/…` there is not found: another account's website must not
/// appear under this one's address). Anything else — the API, `/media`,
/// the console, a host name no website has — goes on.
pub async fn at_own_host(State(core): State<Core>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .map(|h| host_name(h).trim_end_matches('.').to_ascii_lowercase());
    let Some(host) = host.filter(|h| core.website_hosts.allows(h) && !own_host(&core, h)) else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    let page = path.strip_prefix('/').and_then(Page::of);
    let slug_path = path == "/w" || path.starts_with("/w/");
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if !reads || (page.is_none() && !slug_path) {
        return next.run(req).await;
    }
    let now = core.now();
    let site = match Site::by_hostname(&core, &host, now).await {
        Ok(Some(site)) => site,
        Ok(None) => return next.run(req).await,
        Err(e) => return respond(pages::failed(&e), 0, req.headers()),
    };
    let (parts, _) = req.into_parts();
    answer(&core, &site, "", page, now, &parts.uri, &parts.headers).await
}

/// The server's own host name (its public URL's): never a website's.
fn own_host(core: &Core, host: &str) -> bool {
    let url = &*core.public_url;
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    host_name(authority).eq_ignore_ascii_case(host)
}

/// `photos.example.org:8443` → `photos.example.org` (an IPv6 literal keeps
/// its brackets and is never a website's host name).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host;
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Renders one page of one website as it is at `now`, with its caching
/// headers.
async fn answer(
    core: &Core,
    site: &Site,
    prefix: &str,
    page: Option<Page>,
    now: i64,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let Some(page) = page else {
        return respond(pages::not_found(site, prefix), 0, headers);
    };
    if site.website.website_type == WebsiteType::Press {
        // Crawlers read a refused robots.txt as "everything allowed".
        if page == Page::Robots {
            return respond(pages::robots_none(), 0, headers);
        }
        return respond(pages::press_only(site, prefix), 0, headers);
    }
    let query: Vec<(String, String)> = Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
    let rendered = match page {
        Page::Home => pages::home(core, site, prefix, now).await,
        Page::Set(id) => pages::set(core, site, prefix, &id, &query, now).await,
        Page::Image(id) => pages::image(core, site, prefix, &id, now).await,
        Page::Search => pages::search(core, site, prefix, &query).await,
        Page::Feed => pages::feed(core, site, now).await,
        Page::Sitemap => pages::sitemap(core, site, now).await,
        Page::Robots => Ok(pages::robots(site)),
        Page::Icon => Ok(pages::icon(site)),
    };
    let rendered = match rendered {
        Ok(Some(r)) => r,
        Ok(None) => return respond(pages::not_found(site, prefix), 0, headers),
        Err(e) => return respond(pages::failed(&e), 0, headers),
    };
    let fresh_until = match site.fresh_until(core, now).await {
        Ok(t) => t,
        Err(e) => return respond(pages::failed(&e), 0, headers),
    };
    // Counted from the moment the answer leaves (not the read), in whole
    // seconds rounded down: never kept past the instant.
    let max_age = ((fresh_until - core.now()) / 1_000_000).max(0);
    respond(rendered, max_age, headers)
}

/// A rendered page: its body, content type, and the image origins its
/// Content-Security-Policy must allow.
pub(crate) struct Rendered {
    body: String,
    content_type: &'static str,
    status: StatusCode,
    /// Inline `<style>` text, allowed by its hash.
    style: Option<String>,
    img_origins: Vec<String>,
}

fn respond(r: Rendered, max_age: i64, request: &HeaderMap) -> Response {
    let etag = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        r.body.hash(&mut h);
        format!("W/\"{:016x}\"", h.finish())
    };
    let cache = if r.status == StatusCode::OK {
        format!("public, max-age={max_age}")
    } else {
        "no-store".to_owned()
    };
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches && r.status == StatusCode::OK {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (r.status, r.body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&cache) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    // A policy that cannot be a header falls back to the strictest, never
    // to none.
    let csp = HeaderValue::from_str(&policy(r.style.as_deref(), &r.img_origins))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    response
}

/// The page may load only its own inline style (by hash) and images from
/// this origin and the media origins it uses; no script at all.
/// `connect-src 'self'` is for tools that fetch from inside the page (a
/// crawler auditing `/robots.txt`); with no script, nothing else uses it.
fn policy(style: Option<&str>, img_origins: &[String]) -> String {
    let style = style.map_or_else(
        || "'none'".to_owned(),
        |css| {
            let digest = sha2::Sha256::digest(css.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        },
    );
    let mut img = vec!["'self'".to_owned()];
    for origin in img_origins {
        // Only what a header can carry, and no directive separators.
        if !origin.contains([';', ',', ' ', '\'']) && !img.contains(origin) {
            img.push(origin.clone());
        }
    }
    format!(
        "default-src 'none'; img-src {}; style-src {style}; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        img.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_pages() {
        assert_eq!(Page::of(""), Some(Page::Home));
        assert_eq!(Page::of("s/abc"), Some(Page::Set("abc".into())));
        assert_eq!(Page::of("i/abc"), Some(Page::Image("abc".into())));
        assert_eq!(Page::of("feed.atom"), Some(Page::Feed));
        assert_eq!(Page::of("s/"), None);
        assert_eq!(Page::of("s/a/b"), None);
        assert_eq!(Page::of("v1/images"), None);
        assert_eq!(Page::of("admin"), None);
    }

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(host_name("photos.example.org:8443"), "photos.example.org");
        assert_eq!(host_name("photos.example.org"), "photos.example.org");
        assert_eq!(host_name("[::1]:80"), "[::1]:80");
    }
}
