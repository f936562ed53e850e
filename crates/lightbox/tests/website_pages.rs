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
    host_names_need_the_operator_and_press_websites_show_nothing_yet,
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

        // A press website shows nothing to someone not signed in.
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
            assert_eq!(r.status, 403, "{path}");
            assert!(!r.text.contains(&image), "{path} shows a press image");
        }
        // No website at this slug.
        assert_eq!(visit(&server, "/w/nobody/").await.status, 404);
        Ok(())
    }
);
