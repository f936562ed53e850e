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
mod press;

use std::hash::{Hash, Hasher};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine as _;
use ipnet::IpNet;
use lightbox_core::press::SignedMember;
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

/// The websites of a server: the core, the pages it has rendered, and what
/// press sign-ins need to know about the connection.
#[derive(Clone)]
pub struct Sites {
    core: Core,
    cache: Arc<PageCache>,
    /// Peers whose `X-Forwarded-For` is believed (as for the API).
    trusted_proxies: Arc<Vec<IpNet>>,
    /// Served over HTTPS: press cookies get `Secure`.
    secure_cookies: bool,
}

impl Sites {
    pub fn new(core: Core, trusted_proxies: Vec<IpNet>, secure_cookies: bool) -> Self {
        Self {
            core,
            cache: Arc::default(),
            trusted_proxies: Arc::new(trusted_proxies),
            secure_cookies,
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
        .route("/w/{slug}/{*rest}", get(slug_page).post(slug_page))
        .with_state(sites)
}

/// Pages as rendered, for the requests that follow within a second: a page
/// is used again only while nothing was written on this node since, and
/// never at or after its next activation instant (the first request after
/// it renders anew). Writes on other nodes (and the command line's) show
/// within the second. The count of writes is the node's, not the
/// account's: any write empties every website's pages (simple and safe;
/// per account is the next step if busy multi-tenant nodes need it).
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
    /// A request is rendering it anew: the others keep getting this one
    /// meanwhile, within the grace.
    renewing: bool,
}

impl PageCache {
    const TTL: Duration = Duration::from_millis(750);
    /// How long past the TTL a page is still sent while it is rendered
    /// anew: a page is at most TTL + GRACE (1 s) older than its data.
    const GRACE: Duration = Duration::from_millis(250);
    /// Bytes of pages kept at most, and the largest page kept.
    const MAX_BYTES: usize = 64 << 20;
    const MAX_PAGE_BYTES: usize = 512 << 10;
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
        let age = hit.made.elapsed();
        if age < Self::TTL {
            return Some((hit.page.clone(), hit.fresh_until));
        }
        // Past the TTL: one request renders anew; the others get this page
        // for at most the grace (a render that fails or is dropped then
        // leaves the page to whoever comes next).
        if hit.renewing || age >= Self::TTL + Self::GRACE {
            if age >= Self::TTL + Self::GRACE {
                return None;
            }
            return Some((hit.page.clone(), hit.fresh_until));
        }
        hit.renewing = true;
        None
    }

    /// Forgets a page that could not be rendered as a `200` any more.
    fn forget(&self, key: &str) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.remove(key);
        }
    }

    /// Keeps a page read at `read` (its age counts from the read, not
    /// from the end of the render).
    fn put(&self, key: String, page: Finished, fresh_until: i64, changes: u64, read: Instant) {
        if page.body.len() > Self::MAX_PAGE_BYTES {
            return;
        }
        if let Ok(mut pages) = self.pages.lock() {
            let bytes: usize = pages.values().map(|p| p.page.body.len()).sum();
            if pages.len() >= Self::MAX_PAGES || bytes + page.body.len() > Self::MAX_BYTES {
                // Old pages go first; if that is not enough, all of them.
                pages.retain(|_, p| p.made.elapsed() < Self::TTL);
                let bytes: usize = pages.values().map(|p| p.page.body.len()).sum();
                if pages.len() >= Self::MAX_PAGES / 2 || bytes + page.body.len() > Self::MAX_BYTES {
                    pages.clear();
                }
            }
            pages.insert(
                key,
                CachedPage {
                    page,
                    fresh_until,
                    changes,
                    made: read,
                    renewing: false,
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

async fn slug_home(State(sites): State<Sites>, Path(slug): Path<String>, req: Request) -> Response {
    by_slug(&sites, &slug, "", req).await
}

async fn slug_page(
    State(sites): State<Sites>,
    Path((slug, rest)): Path<(String, String)>,
    req: Request,
) -> Response {
    by_slug(&sites, &slug, &rest, req).await
}

/// The cache key of a page: the website's address, the page, and only the
/// query parameters it reads (other parameters cannot multiply entries).
/// Search pages are not kept: their queries are the visitors'.
fn cache_key(address: &str, page: Option<&Page>, uri: &Uri) -> Option<String> {
    let page = page?;
    let number = || {
        Query::<Vec<(String, String)>>::try_from_uri(uri)
            .ok()
            .and_then(|q| q.0.into_iter().find(|(k, _)| k == "page"))
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    Some(match page {
        Page::Search => return None,
        Page::Set(id) => format!("{address} s/{id} {}", number()),
        other => format!("{address} {other:?}"),
    })
}

async fn by_slug(sites: &Sites, slug: &str, rest: &str, req: Request) -> Response {
    let core = &sites.core;
    let page = Page::of(rest);
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let read = Instant::now();
    let now = core.now();
    let changes = core.changes.load(Ordering::Acquire);
    // Only public pages are ever kept (press answers are never put).
    let key = cache_key(&format!("slug {slug}"), page.as_ref(), req.uri()).filter(|_| reads);
    if let Some(key) = &key
        && let Some((hit, fresh_until)) = sites.cache.get(key, now, changes)
    {
        return hit.send(max_age(core, fresh_until), req.headers());
    }
    let site = Site::by_slug(core, slug, now).await;
    let prefix = format!("/w/{}", crate::form::url_encode(slug));
    if let Ok(Some(site)) = &site
        && site.website.website_type == WebsiteType::Press
    {
        let press_req = press::PressRequest {
            sites,
            site,
            prefix: &prefix,
            rest,
            now,
        };
        return press::serve(press_req, req).await;
    }
    if !reads {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let (page, fresh_until) = match &site {
        Ok(Some(site)) => answer(core, site, &prefix, page, None, now, req.uri()).await,
        Ok(None) => (Finished::of(pages::no_website()), None),
        Err(e) => (Finished::of(pages::failed(e)), None),
    };
    let response = page.send(fresh_until.map_or(0, |t| max_age(core, t)), req.headers());
    if let Some(key) = key {
        match fresh_until {
            Some(t) => sites.cache.put(key, page, t, changes, read),
            None => sites.cache.forget(&key),
        }
    }
    response
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
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix('/').unwrap_or_default();
    let page = Page::of(rest);
    let press_path = press::PressPath::of(rest).is_some();
    let slug_path = path == "/w" || path.starts_with("/w/");
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if !(press_path || reads && (page.is_some() || slug_path)) {
        return next.run(req).await;
    }
    let read = Instant::now();
    let now = core.now();
    let changes = core.changes.load(Ordering::Acquire);
    let key = cache_key(&format!("host {host}"), page.as_ref(), req.uri()).filter(|_| reads);
    if let Some(key) = &key
        && let Some((hit, fresh_until)) = sites.cache.get(key, now, changes)
    {
        return hit.send(max_age(core, fresh_until), req.headers());
    }
    let site = match Site::by_hostname(core, &host, now).await {
        Ok(Some(site)) => site,
        Ok(None) => {
            if let Some(key) = &key {
                sites.cache.forget(key);
            }
            return next.run(req).await;
        }
        Err(e) => {
            if let Some(key) = &key {
                sites.cache.forget(key);
            }
            return respond(pages::failed(&e), 0, req.headers());
        }
    };
    if site.website.website_type == WebsiteType::Press {
        let press_req = press::PressRequest {
            sites: &sites,
            site: &site,
            prefix: "",
            rest,
            now,
        };
        return press::serve(press_req, req).await;
    }
    if !reads {
        // A public website has no forms: the server answers as it would.
        return next.run(req).await;
    }
    let (parts, _) = req.into_parts();
    let (page, fresh_until) = answer(core, &site, "", page, None, now, &parts.uri).await;
    let response = page.send(fresh_until.map_or(0, |t| max_age(core, t)), &parts.headers);
    if let Some(key) = key {
        match fresh_until {
            Some(t) => sites.cache.put(key, page, t, changes, read),
            None => sites.cache.forget(&key),
        }
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
/// A press website's pages are answered only for a signed-in `member`
/// (and have no feed or sitemap).
async fn answer(
    core: &Core,
    site: &Site,
    prefix: &str,
    page: Option<Page>,
    member: Option<&SignedMember>,
    now: i64,
    uri: &Uri,
) -> (Finished, Option<i64>) {
    let not_found = || (Finished::of(pages::not_found(site, prefix)), None);
    let failed = |e: &CoreError| (Finished::of(pages::failed(e)), None);
    let Some(page) = page else {
        return not_found();
    };
    let press = site.website.website_type == WebsiteType::Press;
    if press && (member.is_none() || matches!(page, Page::Feed | Page::Sitemap)) {
        return not_found();
    }
    let query: Vec<(String, String)> = Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
    let rendered = match page {
        Page::Home => pages::home(core, site, prefix, member, now).await,
        Page::Set(id) => pages::set(core, site, prefix, member, &id, &query, now).await,
        Page::Image(id) => pages::image(core, site, prefix, member, &id, now).await,
        Page::Search => pages::search(core, site, prefix, member, &query).await,
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
    // A press download form is answered with a redirect to a signed link
    // where media is served (an image origin): browsers hold redirects
    // after a form to `form-action` too.
    let img = img.join(" ");
    format!(
        "default-src 'none'; img-src {img}; style-src {style}; connect-src 'self'; \
         form-action {img}; frame-ancestors 'none'; base-uri 'none'"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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

    fn page(body: &str) -> Finished {
        Finished::of(Rendered {
            body: body.to_owned(),
            content_type: "text/html; charset=utf-8",
            status: StatusCode::OK,
            style: None,
            img_origins: Vec::new(),
        })
    }

    #[test]
    fn the_page_cache_never_outlives_an_instant_a_write_or_a_second() {
        let cache = PageCache::default();
        let body = |hit: Option<(Finished, i64)>| hit.map(|(f, _)| f.body);
        cache.put("k".into(), page("one"), 1_000, 7, Instant::now());
        assert_eq!(body(cache.get("k", 999, 7)), Some(Bytes::from("one")));
        // At the next activation instant, or after a write: rendered anew.
        assert_eq!(body(cache.get("k", 1_000, 7)), None);
        assert_eq!(body(cache.get("k", 999, 8)), None);
        // Past the TTL one request renews; the others get the page within
        // the grace only.
        let old = Instant::now() - PageCache::TTL - Duration::from_millis(10);
        cache.put("k".into(), page("two"), 1_000, 7, old);
        assert_eq!(body(cache.get("k", 0, 7)), None, "the renewer");
        assert_eq!(
            body(cache.get("k", 0, 7)),
            Some(Bytes::from("two")),
            "within the grace"
        );
        let older = Instant::now() - PageCache::TTL - PageCache::GRACE;
        cache.put("k".into(), page("three"), 1_000, 7, older);
        assert_eq!(body(cache.get("k", 0, 7)), None);
        assert_eq!(body(cache.get("k", 0, 7)), None, "never past TTL + grace");
        // A page that is no longer a 200 is forgotten.
        cache.put("k".into(), page("four"), 1_000, 7, Instant::now());
        cache.forget("k");
        assert_eq!(body(cache.get("k", 0, 7)), None);
    }

    #[test]
    fn cache_keys_read_only_what_the_page_reads() {
        let uri = |u: &str| u.parse::<Uri>().unwrap();
        let set = Page::Set("abc".into());
        assert_eq!(
            cache_key("slug x", Some(&set), &uri("/w/x/s/abc?page=2&utm=1")),
            cache_key("slug x", Some(&set), &uri("/w/x/s/abc?utm=2&page=2"))
        );
        assert_ne!(
            cache_key("slug x", Some(&set), &uri("/w/x/s/abc?page=2")),
            cache_key("slug x", Some(&set), &uri("/w/x/s/abc?page=3"))
        );
        assert_eq!(
            cache_key("slug x", Some(&Page::Sitemap), &uri("/w/x/sitemap.xml?a=1")),
            cache_key("slug x", Some(&Page::Sitemap), &uri("/w/x/sitemap.xml?a=2"))
        );
        assert_eq!(
            cache_key("slug x", Some(&Page::Search), &uri("/w/x/search?q=a")),
            None
        );
    }

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(host_name("photos.example.org:8443"), "photos.example.org");
        assert_eq!(host_name("photos.example.org"), "photos.example.org");
        assert_eq!(host_name("[::1]:80"), "[::1]:80");
    }
}
