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

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use lightbox_core::{Core, CoreError};

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

/// The websites of a server: the core, and the pages it has rendered.
#[derive(Clone)]
pub struct Sites {
    core: Core,
    cache: Arc<PageCache>,
}

impl Sites {
    pub fn new(core: Core) -> Self {
        Self {
            core,
            cache: Arc::default(),
        }
    }
}

/// The routes of websites under their slug, to merge into the server's
/// router. Websites at their own host names are answered by
/// [`at_own_host`], layered over the whole server.
pub fn router(sites: Sites) -> Router {
    Router::new()
        .route("/robots.txt", get(server_robots))
        .route("/w/{slug}", get(slug_root))
        .route("/w/{slug}/", get(slug_home))
        .route("/w/{slug}/{*rest}", get(slug_page))
        .with_state(sites)
}

/// Pages as rendered, for the requests that follow within [`PageCache::TTL`]:
/// a page is used again only while nothing was written on this node since,
/// and never at or after its next activation instant (the first request
/// after it renders anew). Writes on other nodes show within the TTL.
#[derive(Default)]
struct PageCache {
    pages: Mutex<HashMap<String, CachedPage>>,
}

struct CachedPage {
    page: Finished,
    /// The next activation instant (µs) of what the page could show.
    fresh_until: i64,
    /// This node's write count when it was rendered.
    changes: u64,
    made: Instant,
    /// A request is rendering it anew (since then): the others keep
    /// getting this one meanwhile, if only its age is against it.
    renewing: Option<Instant>,
}

impl PageCache {
    const TTL: Duration = Duration::from_secs(1);
    /// A renewal that has not come back by then (it failed) is left to
    /// the next request.
    const RENEW_LIMIT: Duration = Duration::from_secs(5);
    /// Pages kept at most (then all are dropped: they are a second old).
    const MAX_PAGES: usize = 2_000;

    /// A page to send, or `None`: the caller renders it (and `put`s it).
    /// A page only older than the TTL is still sent while one request
    /// renders it anew, so that a busy page is rendered once a second, not
    /// by every request arriving meanwhile; a page past its instant or
    /// older than a write on this node is never sent.
    fn get(&self, key: &str, now: i64, changes: u64) -> Option<(Finished, i64)> {
        let mut pages = self.pages.lock().ok()?;
        let hit = pages.get_mut(key)?;
        if now >= hit.fresh_until || hit.changes != changes {
            return None;
        }
        let young = hit.made.elapsed() < Self::TTL;
        let renewing = hit
            .renewing
            .is_some_and(|since| since.elapsed() < Self::RENEW_LIMIT);
        if !young && !renewing {
            hit.renewing = Some(Instant::now());
            return None;
        }
        Some((hit.page.clone(), hit.fresh_until))
    }

    fn put(&self, key: String, page: Finished, fresh_until: i64, changes: u64) {
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= Self::MAX_PAGES {
                pages.clear();
            }
            pages.insert(
                key,
                CachedPage {
                    page,
                    fresh_until,
                    changes,
                    made: Instant::now(),
                    renewing: None,
                },
            );
        }
    }
}

/// Whole seconds from now until `fresh_until`, rounded down: a page is
/// never kept past the instant.
fn max_age(core: &Core, fresh_until: i64) -> i64 {
    ((fresh_until - core.now()) / 1_000_000).max(0)
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
    State(sites): State<Sites>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    by_slug(&sites, &slug, Some(Page::Home), &uri, &headers).await
}

async fn slug_page(
    State(sites): State<Sites>,
    Path((slug, rest)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    by_slug(&sites, &slug, Page::of(&rest), &uri, &headers).await
}

async fn by_slug(
    sites: &Sites,
    slug: &str,
    page: Option<Page>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let core = &sites.core;
    let now = core.now();
    let changes = core.changes.load(Ordering::Acquire);
    let key = format!("slug {slug} {uri}");
    if let Some((hit, fresh_until)) = sites.cache.get(&key, now, changes) {
        return hit.send(max_age(core, fresh_until), headers);
    }
    match Site::by_slug(core, slug, now).await {
        Ok(Some(site)) => {
            let prefix = format!("/w/{}", crate::form::url_encode(slug));
            let (page, fresh_until) = answer(core, &site, &prefix, page, now, uri).await;
            let response = page.send(fresh_until.map_or(0, |t| max_age(core, t)), headers);
            if let Some(t) = fresh_until {
                sites.cache.put(key, page, t, changes);
            }
            response
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
pub async fn at_own_host(State(sites): State<Sites>, req: Request, next: Next) -> Response {
    let core = &sites.core;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .map(|h| host_name(h).trim_end_matches('.').to_ascii_lowercase());
    let Some(host) = host.filter(|h| core.website_hosts.allows(h) && !own_host(core, h)) else {
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
    let changes = core.changes.load(Ordering::Acquire);
    let key = format!("host {host} {}", req.uri());
    if let Some((hit, fresh_until)) = sites.cache.get(&key, now, changes) {
        return hit.send(max_age(core, fresh_until), req.headers());
    }
    let site = match Site::by_hostname(core, &host, now).await {
        Ok(Some(site)) => site,
        Ok(None) => return next.run(req).await,
        Err(e) => return respond(pages::failed(&e), 0, req.headers()),
    };
    let (parts, _) = req.into_parts();
    let (page, fresh_until) = answer(core, &site, "", page, now, &parts.uri).await;
    let response = page.send(fresh_until.map_or(0, |t| max_age(core, t)), &parts.headers);
    if let Some(t) = fresh_until {
        sites.cache.put(key, page, t, changes);
    }
    response
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

/// Renders one page of one website as it is at `now`; with a `200`, until
/// when it may be kept (the next activation instant, at most a minute).
async fn answer(
    core: &Core,
    site: &Site,
    prefix: &str,
    page: Option<Page>,
    now: i64,
    uri: &Uri,
) -> (Finished, Option<i64>) {
    let not_found = || (Finished::of(pages::not_found(site, prefix)), None);
    let failed = |e: &CoreError| (Finished::of(pages::failed(e)), None);
    let Some(page) = page else {
        return not_found();
    };
    if site.website.website_type == WebsiteType::Press {
        // Crawlers read a refused robots.txt as "everything allowed".
        if page == Page::Robots {
            return (Finished::of(pages::robots_none()), None);
        }
        return (Finished::of(pages::press_only(site, prefix)), None);
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
        Ok(None) => return not_found(),
        Err(e) => return failed(&e),
    };
    if rendered.status != StatusCode::OK {
        return (Finished::of(rendered), None);
    }
    match site.fresh_until(core, now).await {
        Ok(t) => (Finished::of(rendered), Some(t)),
        Err(e) => failed(&e),
    }
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

/// A page ready to send any number of times: its body and the headers
/// that do not depend on the moment.
#[derive(Clone)]
struct Finished {
    body: Bytes,
    status: StatusCode,
    content_type: &'static str,
    etag: HeaderValue,
    csp: HeaderValue,
}

impl Finished {
    fn of(r: Rendered) -> Self {
        let etag = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            r.body.hash(&mut h);
            format!("W/\"{:016x}\"", h.finish())
        };
        // A policy that cannot be a header falls back to the strictest,
        // never to none.
        let csp = HeaderValue::from_str(&policy(r.style.as_deref(), &r.img_origins))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
        Self {
            body: Bytes::from(r.body),
            status: r.status,
            content_type: r.content_type,
            etag: HeaderValue::from_str(&etag)
                .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\"")),
            csp,
        }
    }

    /// The answer, kept by browsers and CDNs for `max_age` seconds (a `200`;
    /// anything else is never kept).
    fn send(&self, max_age: i64, request: &HeaderMap) -> Response {
        let ok = self.status == StatusCode::OK;
        let matches = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim().as_bytes() == self.etag.as_bytes() || t.trim() == "*")
            });
        let mut response = if matches && ok {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (self.status, self.body.clone()).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        let cache = if ok {
            HeaderValue::from_str(&format!("public, max-age={max_age}"))
                .unwrap_or_else(|_| HeaderValue::from_static("no-cache"))
        } else {
            HeaderValue::from_static("no-store")
        };
        headers.insert(header::CACHE_CONTROL, cache);
        headers.insert(header::ETAG, self.etag.clone());
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
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
}

fn respond(r: Rendered, max_age: i64, request: &HeaderMap) -> Response {
    Finished::of(r).send(max_age, request)
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
