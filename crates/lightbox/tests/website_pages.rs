//! Website pages (api.md §10) over real HTTP, on SQLite with the folder
//! blob store and on PostgreSQL with a real S3-compatible server: what a
//! visitor sees is decided at the moment of the read. An embargo lifts at
//! its instant on every page kind, search, the feed and the sitemap, and no
//! page before it may be kept past it; hidden, private, other accounts' and
//! never-existing things are the same 404; host names serve only when the
//! operator allows them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use lightbox_media::fixtures;
use lightbox_testkit::{Env, Reply, Server, both_setups};
use serde_json::{Value, json};

static NEXT: AtomicU32 = AtomicU32::new(0);
const LIFT_SECS: u64 = 2;
const GHOST: &str = "00000000-0000-4000-8000-00000000abcd";

async fn create_set(server: &Server, token: &str, body: Value) -> String {
    let op = server.write_ok("POST", token, "/v1/sets", body).await;
    op["set_public_uuid"].as_str().unwrap().to_owned()
}

async fn upload(server: &Server, token: &str, title: &str, set: &str) -> String {
    server
        .upload_with(
            token,
            &json!({"filename": format!("{title}.jpg"), "title": title, "set_public_uuid": set}),
            // Distinct bytes per upload (identical ones are one image).
            fixtures::jpeg(40 + NEXT.fetch_add(1, Ordering::Relaxed), 32),
        )
        .await
}

/// A page: status, headers, body.
async fn visit(server: &Server, path: &str) -> Reply {
    Reply::from(server.http.get(server.at(path)).send().await).await
}

fn max_age(r: &Reply) -> i64 {
    let cc = r
        .headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    cc.split(',')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no max-age in {cc:?}"))
}

fn rfc3339(unix_secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

both_setups!(
    an_embargo_lifts_at_its_instant_on_every_page,
    |env: Env| async move {
        let account = env.account("pages").await;
        let token = env.token(&account, "all", &[]).await;
        let server = env
            .serve(&["--debug-clock", "--website-host", "photos.example.org"])
            .await;
        let festival = create_set(
            &server,
            &token,
            json!({"name": "Festival", "type": "folder"}),
        )
        .await;
        let day = create_set(
            &server,
            &token,
            json!({"name": "Friday", "parent_public_uuid": festival}),
        )
        .await;
        let internal = create_set(
            &server,
            &token,
            json!({"name": "Internal only", "type": "private", "parent_public_uuid": festival}),
        )
        .await;
        let under_private = create_set(
            &server,
            &token,
            json!({"name": "Under private", "parent_public_uuid": internal}),
        )
        .await;
        let live = upload(&server, &token, "alphaword", &day).await;
        let embargoed = upload(&server, &token, "bravoword", &day).await;
        let hidden = upload(&server, &token, "charlieword", &day).await;
        let private = upload(&server, &token, "deltaword", &internal).await;
        let deep = upload(&server, &token, "echoword", &under_private).await;
        // A gallery whose only image is the embargoed one, and a press-only
        // gallery: neither is announced on a public website.
        let awards = create_set(
            &server,
            &token,
            json!({"name": "Award winners", "parent_public_uuid": festival}),
        )
        .await;
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{awards}/images"),
                json!({"image_public_uuids": [embargoed]}),
            )
            .await;
        let press_only = create_set(
            &server,
            &token,
            json!({"name": "Press only", "type": "press", "parent_public_uuid": festival}),
        )
        .await;
        let for_press = upload(&server, &token, "hotelword", &press_only).await;
        // A keyword no page shows: searching for it must not find the image.
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/images/{live}/keywords"),
                json!({"keywords": ["client:secretword"]}),
            )
            .await;
        let other_account = env.account("pages-other").await;
        let other_token = env.token(&other_account, "all", &[]).await;
        let other_set = create_set(&server, &other_token, json!({"name": "Theirs"})).await;
        let theirs = upload(&server, &other_token, "foxtrotword", &other_set).await;

        let vis = format!("/v1/sets/{day}/visibility");
        server
            .write_ok(
                "PATCH",
                &token,
                &vis,
                json!({"hidden": true, "image_public_uuids": [hidden]}),
            )
            .await;
        let lift = server.debug_clock_now().await + LIFT_SECS;
        for set in [&day, &awards] {
            server
                .write_ok(
                    "PATCH",
                    &token,
                    &format!("/v1/sets/{set}/visibility"),
                    json!({"hidden": true, "activation_time": rfc3339(lift), "image_public_uuids": [embargoed]}),
                )
                .await;
        }
        let website = server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Festival", "slug": "fest", "hostname": "photos.example.org",
                       "root_set_public_uuid": festival, "intro": "Every stage, every night."}),
            )
            .await;
        assert_eq!(
            website["result"]["website"]["url"],
            "http://photos.example.org/"
        );
        // The search index has the images before the test reads (so "not
        // live yet" cannot be mistaken for "not indexed yet").
        let indexed = lightbox_testkit::eventually(10, || async {
            let r = server
                .get(&token, "/v1/images?query=alphaword")
                .await
                .json();
            (r.as_array().map(Vec::len) == Some(1)).then_some(())
        })
        .await;
        assert!(indexed.is_some(), "the index never had the images");

        let w = "/w/fest";
        let pages_before = [
            format!("{w}/"),
            format!("{w}/s/{day}"),
            format!("{w}/search?q=bravoword"),
            format!("{w}/feed.atom"),
            format!("{w}/sitemap.xml"),
            format!("{w}/i/{live}"),
        ];
        for path in &pages_before {
            let r = visit(&server, path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert!(
                !r.text.contains(&embargoed),
                "{path} shows the embargoed image early"
            );
            // (A search page repeats what was searched for.)
            assert!(
                path.contains("/search") || !r.text.contains("bravoword"),
                "{path} names the embargoed image early"
            );
            assert!(
                !r.text.contains("Award winners") && !r.text.contains(&awards),
                "{path} announces a gallery with nothing live yet"
            );
            assert!(
                !r.text.contains("Press only") && !r.text.contains(&for_press),
                "{path} shows a press set on a public website"
            );
            assert!(
                !r.text.contains("Internal only"),
                "{path} shows a private set"
            );
            assert!(
                max_age(&r) <= LIFT_SECS as i64,
                "{path} may be kept past the lift: {:?}",
                r.headers.get("cache-control")
            );
        }
        let set_page = visit(&server, &format!("{w}/s/{day}")).await;
        assert!(set_page.text.contains(&live), "{}", set_page.text);
        let home = visit(&server, &format!("{w}/")).await;
        assert!(home.text.contains("Friday") && home.text.contains("Every stage, every night."));
        let found = visit(&server, &format!("{w}/search?q=alphaword")).await;
        assert!(found.text.contains(&live), "search finds the live image");

        // Everything not shown is the same 404 as what never existed.
        let missing = visit(&server, &format!("{w}/i/{GHOST}")).await;
        assert_eq!(missing.status, 404);
        assert_eq!(
            missing.headers.get("cache-control").unwrap(),
            "no-store",
            "a 404 is never kept"
        );
        for path in [
            format!("{w}/i/{embargoed}"),
            format!("{w}/i/{hidden}"),
            format!("{w}/i/{private}"),
            format!("{w}/i/{deep}"),
            format!("{w}/i/{theirs}"),
            format!("{w}/i/not-a-uuid"),
            format!("{w}/s/{internal}"),
            format!("{w}/s/{under_private}"),
            format!("{w}/s/{other_set}"),
            format!("{w}/s/{GHOST}"),
            format!("{w}/s/{awards}"),
            format!("{w}/s/{press_only}"),
            format!("{w}/i/{for_press}"),
            format!("{w}/nothing-here"),
            format!("{w}/s/{day}?page=2"),
        ] {
            let r = visit(&server, &path).await;
            assert_eq!(r.status, 404, "{path}");
            assert_eq!(
                r.text, missing.text,
                "{path} differs from a page that never existed"
            );
            for header in [
                "content-type",
                "cache-control",
                "etag",
                "content-security-policy",
            ] {
                assert_eq!(
                    r.headers.get(header),
                    missing.headers.get(header),
                    "{path}: {header} differs from a page that never existed"
                );
            }
        }
        for word in [
            "charlieword",
            "deltaword",
            "echoword",
            "foxtrotword",
            "hotelword",
            "secretword",
        ] {
            let r = visit(&server, &format!("{w}/search?q={word}")).await;
            assert_eq!(r.status, 200);
            assert!(r.text.contains("No photos match."), "search shows {word}");
        }

        // The instant comes: every page shows it, and nothing is due to
        // change any more, so pages may be kept the full minute.
        server.advance_debug_clock(LIFT_SECS).await;
        for path in [
            format!("{w}/"),
            format!("{w}/s/{day}"),
            format!("{w}/s/{awards}"),
            format!("{w}/search?q=bravoword"),
            format!("{w}/feed.atom"),
            format!("{w}/sitemap.xml"),
            format!("{w}/i/{embargoed}"),
        ] {
            let r = visit(&server, &path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert!(
                r.text.contains(&embargoed) || (path.ends_with('/') && r.text.contains(&awards)),
                "{path} does not show the image at its instant"
            );
            assert_eq!(max_age(&r), 60, "{path}");
        }
        let image = visit(&server, &format!("{w}/i/{embargoed}")).await;
        assert!(image.text.contains("<h1>bravoword</h1>"), "{}", image.text);
        assert!(image.text.contains("og:title"), "OpenGraph tags");

        // A change shows at the next request (pages are not kept on the
        // server past a write): hidden again in Friday, it leaves its page.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/sets/{day}/visibility"),
                json!({"hidden": true, "activation_time": null, "image_public_uuids": [embargoed]}),
            )
            .await;
        let r = visit(&server, &format!("{w}/s/{day}")).await;
        assert!(
            !r.text.contains(&embargoed),
            "a page kept on the server after a change"
        );

        // An unchanged page answers 304 to its ETag (a page with no image:
        // versions still being made would change the others).
        let stable = visit(&server, &format!("{w}/search?q=nomatchword")).await;
        let etag = stable
            .headers
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let again = Reply::from(
            server
                .http
                .get(server.at(&format!("{w}/search?q=nomatchword")))
                .header("If-None-Match", &etag)
                .send()
                .await,
        )
        .await;
        assert_eq!(again.status, 304);

        // At its allowed host name the website is at `/`; another host's `/`
        // is not a website, and the API is still the API there.
        let at_host = |path: &str, host: &str| {
            server
                .http
                .get(server.at(path))
                .header("Host", host.to_owned())
                .send()
        };
        let r = Reply::from(at_host(&format!("/i/{embargoed}"), "photos.example.org").await).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("bravoword"));
        let r = Reply::from(at_host("/", "PHOTOS.example.org:8080").await).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.text.contains("Award winners"),
            "the home page at the host name"
        );
        // Another account's website is not shown under this host name.
        let r = Reply::from(at_host("/w/fest/", "photos.example.org").await).await;
        assert_eq!(r.status, 404, "/w/ at a website's own host name");
        let r = Reply::from(at_host(&format!("/i/{embargoed}"), "other.example.org").await).await;
        assert_ne!(
            r.status, 200,
            "a host name the operator did not allow serves no website"
        );
        let r = Reply::from(
            server
                .http
                .get(server.at("/v1/me"))
                .header("Host", "photos.example.org")
                .bearer_auth(&token)
                .send()
                .await,
        )
        .await;
        assert_eq!(
            r.status, 200,
            "the API still answers at the website's host: {}",
            r.text
        );
        // A deleted image is the same 404.
        server
            .write_ok("DELETE", &token, &format!("/v1/images/{live}"), None)
            .await;
        let r = visit(&server, &format!("{w}/i/{live}")).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.text, missing.text);
        Ok(())
    }
);

both_setups!(
    host_names_need_the_operator_and_press_websites_need_a_sign_in,
    |env: Env| async move {
        let account = env.account("hosts").await;
        let token = env.token(&account, "all", &[]).await;
        // No --website-host: host names are not served.
        let server = env.serve(&[]).await;
        let root = create_set(&server, &token, json!({"name": "Press room"})).await;
        let image = upload(&server, &token, "golfword", &root).await;
        let made = server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Squat", "slug": "squat", "hostname": "www.example.com",
                       "root_set_public_uuid": root}),
            )
            .await;
        let url = made["result"]["website"]["url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            url.ends_with("/w/squat/"),
            "not served at a host name the operator did not allow: {url}"
        );
        let r = Reply::from(
            server
                .http
                .get(server.at("/"))
                .header("Host", "www.example.com")
                .send()
                .await,
        )
        .await;
        assert!(
            !r.text.contains("Squat"),
            "served at a host name nobody allowed"
        );
        let r = visit(&server, "/w/squat/").await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains(&image));
        // A folder with no photos of its own shows the lead of the first
        // gallery under it, and how many galleries it holds.
        let weekend = create_set(
            &server,
            &token,
            json!({"name": "Weekend", "type": "folder", "parent_public_uuid": root}),
        )
        .await;
        let sunday = create_set(
            &server,
            &token,
            json!({"name": "Sunday", "parent_public_uuid": weekend}),
        )
        .await;
        let sunday_image = upload(&server, &token, "sundayword", &sunday).await;
        let ready = lightbox_testkit::eventually(30, || async {
            let r = visit(&server, "/w/squat/").await;
            (r.text.contains("1 gallery") && r.text.contains(&format!("/media/{sunday_image}/")))
                .then_some(())
        })
        .await;
        assert!(
            ready.is_some(),
            "{}",
            visit(&server, "/w/squat/").await.text
        );

        // A press website shows nothing to someone not signed in: every
        // page leads to its sign-in page.
        server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Press", "type": "press", "slug": "press", "root_set_public_uuid": root}),
            )
            .await;
        for path in [
            "/w/press/",
            &format!("/w/press/i/{image}"),
            "/w/press/feed.atom",
        ] {
            let r = visit(&server, path).await;
            assert_eq!(r.status, 200, "{path}");
            assert!(r.text.contains("Sign in"), "{path}: {}", r.text);
            // The sign-in page names where the visitor was going (any
            // address, existing or not), never what is there.
            assert!(
                !r.text.contains("golfword") && !r.text.contains("<img"),
                "{path} shows a press image"
            );
        }
        // No website at this slug.
        assert_eq!(visit(&server, "/w/nobody/").await.status, 404);
        Ok(())
    }
);

/// A browser without script: no redirects followed, cookies kept by hand.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(server: &Server) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.url.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: &Reply) {
        for v in r.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !attrs.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        let r = Reply::from(
            self.http
                .get(format!("{}{path}", self.base))
                .header("cookie", self.cookie_header())
                .send()
                .await,
        )
        .await;
        self.keep(&r);
        r
    }

    async fn post<T: serde::Serialize + ?Sized>(&mut self, path: &str, form: &T) -> Reply {
        let r = Reply::from(
            self.http
                .post(format!("{}{path}", self.base))
                .header("cookie", self.cookie_header())
                .form(form)
                .send()
                .await,
        )
        .await;
        self.keep(&r);
        r
    }
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn location(r: &Reply) -> String {
    r.header("location")
        .unwrap_or_else(|| panic!("no Location ({}): {}", r.status, r.text))
}

const PRESS_PASSWORD: &str = "ink-stained wretch of the press corps";

both_setups!(
    press_members_register_are_approved_sign_in_download_and_are_revoked,
    |env: Env| async move {
        let account = env.account("press").await;
        let token = env.token(&account, "all", &[]).await;
        let server = env.serve(&["--debug-clock"]).await;
        let root = create_set(&server, &token, json!({"name": "Press room"})).await;
        let kit = create_set(
            &server,
            &token,
            json!({"name": "Press kit", "type": "press", "parent_public_uuid": root}),
        )
        .await;
        let image = upload(&server, &token, "kiloword", &kit).await;
        let elsewhere = create_set(&server, &token, json!({"name": "Elsewhere"})).await;
        let outside = upload(&server, &token, "limaword", &elsewhere).await;
        let made = server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Press", "type": "press", "slug": "press",
                       "root_set_public_uuid": root, "downloads": "original"}),
            )
            .await;
        let website = made["result"]["website"]["public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Other press", "type": "press", "slug": "other-press",
                       "root_set_public_uuid": root}),
            )
            .await;
        let members = |status: &'static str| {
            let server = &server;
            let token = &token;
            let website = &website;
            async move {
                let r = server
                    .get(
                        token,
                        &format!("/v1/websites/{website}/press_members?status={status}"),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.json().as_array().unwrap().clone()
            }
        };
        let mut browser = Browser::new(&server);

        // Signed out: every page leads to the sign-in page; robots.txt says
        // nothing may be crawled.
        for path in [
            "/w/press/",
            &format!("/w/press/i/{image}"),
            "/w/press/account",
        ] {
            let r = browser.get(path).await;
            assert_eq!(r.status, 303, "{path}");
            assert!(location(&r).starts_with("/w/press/sign-in"), "{path}");
            assert!(!r.text.contains(&image));
        }
        let r = browser.get("/w/press/robots.txt").await;
        assert!(r.text.contains("Disallow: /"), "{}", r.text);

        // Registration: the form's echoed value is needed, the password
        // rules hold, and nothing is stored until both pass.
        let r = browser.get("/w/press/register").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, no-store")
        );
        let pre = hidden(&r.text, "pre");
        let form = |pre: &'static str, password: &'static str| {
            vec![
                ("pre", pre),
                ("name", "Ada Reporter"),
                ("outlet", "The Daily Example"),
                ("email", "Ada@Example.com"),
                ("password", password),
            ]
        };
        let pre: &'static str = Box::leak(pre.into_boxed_str());
        let r = browser
            .post(
                "/w/press/register",
                &form("0123456789abcdef0123456789abcdef", PRESS_PASSWORD),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = browser
            .post("/w/press/register", &form(pre, "password"))
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(members("pending").await.is_empty());
        let r = browser
            .post("/w/press/register", &form(pre, PRESS_PASSWORD))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Thank you"));
        // Registering again answers the same and changes nothing.
        let r = browser
            .post("/w/press/register", &form(pre, PRESS_PASSWORD))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let pending = members("pending").await;
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0]["email"], "ada@example.com");
        assert_eq!(pending[0]["outlet"], "The Daily Example");
        assert_eq!(pending[0]["two_factor"], false);
        let member = pending[0]["uuid"].as_str().unwrap().to_owned();

        // Not before an admin approves.
        let sign_in = |code: &'static str, password: &'static str| {
            vec![
                ("pre", pre),
                ("next", ""),
                ("email", "ada@example.com"),
                ("password", password),
                ("code", code),
            ]
        };
        let r = browser
            .post("/w/press/sign-in", &sign_in("", PRESS_PASSWORD))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.text.contains("waiting"), "{}", r.text);
        let r = browser
            .post("/w/press/sign-in", &sign_in("", "wrong password entirely"))
            .await;
        assert_eq!(r.status, 401, "{}", r.text);

        // The user role neither sees nor decides press members.
        let user = env.member(&server, &account, "press-user", "user").await;
        let r = server
            .get(&user, &format!("/v1/websites/{website}/press_members"))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = server
            .get(&user, &format!("/v1/websites/{website}/downloads"))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = server
            .get(
                &token,
                &format!("/v1/websites/{website}/press_members?status=maybe"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        // Another account's token finds no such website.
        let other = env.account("press-other").await;
        let other_token = env.token(&other, "all", &[]).await;
        for path in ["press_members", "downloads"] {
            let r = server
                .get(&other_token, &format!("/v1/websites/{website}/{path}"))
                .await;
            assert_eq!(r.status, 404, "{path}: {}", r.text);
        }

        let op = server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/websites/{website}/press_members/{member}"),
                json!({"status": "approved"}),
            )
            .await;
        assert_eq!(op["result"]["press_member"]["status"], "approved", "{op}");

        // Signed in: the pages, never kept by a cache.
        let r = browser
            .post("/w/press/sign-in", &sign_in("", PRESS_PASSWORD))
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert_eq!(location(&r), "/w/press/");
        let set_cookie = r.header("set-cookie").unwrap();
        assert!(
            set_cookie.starts_with("lightbox_press=dpg_ps_"),
            "{set_cookie}"
        );
        assert!(set_cookie.contains("Path=/w/press/"), "{set_cookie}");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        let r = browser.get("/w/press/").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Press kit"), "{}", r.text);
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, no-store")
        );
        let r = browser.get(&format!("/w/press/i/{image}")).await;
        assert_eq!(r.status, 200);
        let csrf = hidden(&r.text, "csrf");
        assert!(r.text.contains("value=\"original\""), "{}", r.text);
        assert!(
            r.text.contains("value=\"large\""),
            "a Large button: {}",
            r.text
        );
        assert!(
            !r.text.contains("/large"),
            "the large version is a logged download, not in the page: {}",
            r.text
        );
        // Another press website does not take this sign-in.
        let r = browser.get("/w/other-press/").await;
        assert_eq!(r.status, 303);

        // Downloads: each one a form with the CSRF token, logged, then a
        // signed link that serves the bytes.
        let path = format!("/w/press/d/{image}");
        let r = browser.post(&path, &[("version", "original")]).await;
        assert_eq!(r.status, 403, "no CSRF token: {}", r.text);
        let r = browser
            .post(&path, &[("csrf", csrf.as_str()), ("version", "original")])
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let link = location(&r);
        assert!(link.contains("/download/"), "{link}");
        let file = server.http.get(&link).send().await.unwrap();
        assert_eq!(file.status(), 200);
        assert!(!file.bytes().await.unwrap().is_empty());
        let r = browser
            .post(&path, &[("csrf", csrf.as_str()), ("version", "huge")])
            .await;
        assert_eq!(r.status, 400, "an unknown version: {}", r.text);
        let r = browser
            .post(&path, &[("csrf", csrf.as_str()), ("version", "large")])
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = browser
            .post(
                &format!("/w/press/d/{outside}"),
                &[("csrf", csrf.as_str()), ("version", "large")],
            )
            .await;
        assert_eq!(
            r.status, 404,
            "an image the website does not show: {}",
            r.text
        );
        let log = server
            .get(&token, &format!("/v1/websites/{website}/downloads"))
            .await;
        assert_eq!(log.status, 200, "{}", log.text);
        let log = log.json();
        let versions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["large", "original"], "newest first: {log}");
        assert_eq!(log[0]["email"], "ada@example.com");
        assert_eq!(log[0]["image_public_uuid"], image.as_str());
        assert_eq!(log[0]["press_member_uuid"], member.as_str());
        assert_eq!(log[0]["archive_uuid"], Value::Null);

        // A ZIP of a selection on a set page: built by the archive jobs,
        // its progress on a page of its own, then its link; logged too.
        let r = browser.get(&format!("/w/press/s/{kit}")).await;
        assert!(r.text.contains("name=\"image\""), "{}", r.text);
        let r = browser
            .post(
                "/w/press/zip",
                &[("csrf", csrf.as_str()), ("version", "large")],
            )
            .await;
        assert_eq!(r.status, 400, "nothing selected: {}", r.text);
        let r = browser
            .post(
                "/w/press/zip",
                &[
                    ("csrf", csrf.as_str()),
                    ("image", outside.as_str()),
                    ("version", "large"),
                ],
            )
            .await;
        assert_eq!(
            r.status, 404,
            "a photo the website does not show: {}",
            r.text
        );
        let r = browser
            .post(
                "/w/press/zip",
                &[
                    ("csrf", csrf.as_str()),
                    ("image", image.as_str()),
                    ("version", "large"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let progress = location(&r);
        assert!(progress.starts_with("/w/press/zip/"), "{progress}");
        let archive = progress.trim_start_matches("/w/press/zip/").to_owned();
        let mut ready = None;
        for _ in 0..100 {
            let r = browser.get(&progress).await;
            assert_eq!(r.status, 200, "{}", r.text);
            if r.text.contains("Ready") {
                ready = Some(r.text);
                break;
            }
            assert!(r.text.contains("http-equiv=\"refresh\""), "{}", r.text);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let ready = ready.expect("the ZIP was built");
        let link_end = ready.find("\" download=\"").unwrap();
        let zip_url = &ready[ready[..link_end].rfind("href=\"").unwrap() + 6..link_end];
        let zip = server
            .http
            .get(zip_url.replace("&amp;", "&"))
            .send()
            .await
            .unwrap();
        assert_eq!(zip.status(), 200);
        assert!(zip.bytes().await.unwrap().starts_with(b"PK"), "a ZIP");
        let log = server
            .get(&token, &format!("/v1/websites/{website}/downloads"))
            .await
            .json();
        assert_eq!(log.as_array().unwrap().len(), 3, "{log}");
        assert_eq!(log[0]["archive_uuid"], archive.as_str(), "{log}");
        assert_eq!(log[0]["version"], "large");
        // Nobody else's ZIP, and not signed out.
        let mut stranger = Browser::new(&server);
        assert_eq!(stranger.get(&progress).await.status, 303);

        // Two-factor: turned on with a code, then needed at sign-in.
        let r = browser
            .post(
                "/w/press/account/two-factor",
                &[("csrf", csrf.as_str()), ("password", PRESS_PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let uri_at = r.text.find("otpauth://").unwrap();
        let uri = &r.text[uri_at..uri_at + r.text[uri_at..].find('"').unwrap()];
        let secret = lightbox_testkit::secret_of(&uri.replace("&amp;", "&"));
        let code = |at: u64| {
            lightbox_auth::totp::code_at(&secret, lightbox_auth::totp::TotpAlgorithm::Sha1, at, 6)
        };
        let r = browser
            .post(
                "/w/press/account/two-factor/confirm",
                &[("csrf", csrf.as_str()), ("code", "000000")],
            )
            .await;
        assert_eq!(r.status, 400, "a wrong code: {}", r.text);
        let now = server.debug_clock_now().await;
        let r = browser
            .post(
                "/w/press/account/two-factor/confirm",
                &[("csrf", csrf.as_str()), ("code", &code(now))],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Two-factor sign-in is on"), "{}", r.text);
        let r = browser
            .post(
                "/w/press/account/two-factor",
                &[("csrf", csrf.as_str()), ("password", PRESS_PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 400, "replacing the authenticator: {}", r.text);
        let r = browser
            .post("/w/press/sign-out", &[("csrf", csrf.as_str())])
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(browser.get("/w/press/").await.status, 303, "signed out");
        let r = browser.get("/w/press/sign-in").await;
        let pre = hidden(&r.text, "pre");
        let pre: &'static str = Box::leak(pre.into_boxed_str());
        let sign_in = |code: String| {
            vec![
                ("pre", pre.to_owned()),
                ("next", format!("i/{image}")),
                ("email", "ada@example.com".to_owned()),
                ("password", PRESS_PASSWORD.to_owned()),
                ("code", code),
            ]
        };
        let r = browser
            .post("/w/press/sign-in", &sign_in(String::new()))
            .await;
        assert_eq!(r.status, 400, "the code is needed now: {}", r.text);
        let later = server.advance_debug_clock(30).await;
        let pairs = sign_in(code(later));
        let r = browser.post("/w/press/sign-in", &pairs).await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert_eq!(
            location(&r),
            format!("/w/press/i/{image}"),
            "back where they were going"
        );
        // The same code again is refused (each step is taken once).
        let mut second = Browser::new(&server);
        second.cookies = vec![("lightbox_press_form".into(), pre.to_owned())];
        let r = second.post("/w/press/sign-in", &pairs).await;
        assert_eq!(r.status, 401, "a spent code: {}", r.text);
        assert_eq!(members("approved").await[0]["two_factor"], true);

        // A secret-key rotation re-seals press members' secrets as well: the
        // authenticator keeps working (the running server follows the file).
        let rotate: &[&str] = if env.engine == lightbox_testkit::Engine::Postgres {
            &["secret-key", "rotate", "--servers-share-this-file"]
        } else {
            &["secret-key", "rotate"]
        };
        let new_key = env.cli(rotate).await;
        let sealed = env
            .sql_texts("SELECT totp_secret FROM press_members WHERE totp_secret IS NOT NULL")
            .await;
        assert!(
            sealed.len() == 1 && sealed[0].starts_with(&format!("sk1.{new_key}.")),
            "{sealed:?}"
        );
        let later = server.advance_debug_clock(30).await;
        let mut rotated = Browser::new(&server);
        rotated.cookies = vec![("lightbox_press_form".into(), pre.to_owned())];
        let r = rotated
            .post("/w/press/sign-in", &sign_in(code(later)))
            .await;
        assert_eq!(r.status, 303, "after a key rotation: {}", r.text);

        // Revoked: the very next request is refused, and no new sign-in.
        assert_eq!(browser.get("/w/press/").await.status, 200);
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/websites/{website}/press_members/{member}"),
                json!({"status": "revoked"}),
            )
            .await;
        let r = browser.get("/w/press/").await;
        assert_eq!(r.status, 303, "a revoked member's next request: {}", r.text);
        let later = server.advance_debug_clock(30).await;
        let r = browser
            .post("/w/press/sign-in", &sign_in(code(later)))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(members("revoked").await.len(), 1);
        // A decision on an unknown member, or back to pending, is refused.
        let r = server
            .patch_json(
                &token,
                &format!("/v1/websites/{website}/press_members/{GHOST}"),
                &lightbox_testkit::idempotency_key(),
                &json!({"status": "approved"}),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = server
            .patch_json(
                &token,
                &format!("/v1/websites/{website}/press_members/{member}"),
                &lightbox_testkit::idempotency_key(),
                &json!({"status": "pending"}),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        // A public website has no registration.
        server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Public", "slug": "public", "root_set_public_uuid": root}),
            )
            .await;
        assert_eq!(visit(&server, "/w/public/register").await.status, 404);

        // A flood of registrations, a new address each time, is refused
        // before any work.
        let mut flood = Browser::new(&server);
        let r = flood.get("/w/press/register").await;
        let pre = hidden(&r.text, "pre");
        let pre = pre.as_str();
        let mut refused = false;
        for n in 0..30 {
            let email = format!("flood{n}@example.com");
            let r = flood
                .post(
                    "/w/press/register",
                    &[
                        ("pre", pre),
                        ("name", "Flood"),
                        ("outlet", "Flood"),
                        ("email", email.as_str()),
                        ("password", PRESS_PASSWORD),
                    ],
                )
                .await;
            if r.status == 429 {
                assert!(r.header("retry-after").is_some());
                refused = true;
                break;
            }
            assert_eq!(r.status, 200, "{}", r.text);
        }
        assert!(refused, "30 registrations from one address were all taken");
        Ok(())
    }
);
