//! Website pages in a real browser (Debian's headless Chromium): axe-core
//! finds no accessibility violation on any page kind (every page a test
//! pictures is checked, `Browser::check_page`), on both setups, with
//! screenshots at desktop and phone width under `target/screenshots/`;
//! Lighthouse 12.2.3 (mobile) scores Performance, Accessibility, Best
//! Practices and SEO at least 95 on the home, set and image pages; and a
//! press member's whole way, from registering to being revoked, in the
//! browser beside an admin in the console.
//!
//! axe-core and Lighthouse come from npm: `.ci/run` installs
//! `.ci/web-quality/package.json` into `$CARGO_TARGET_DIR/tools/web-quality`
//! (or set `LIGHTBOX_TEST_WEB_QUALITY` to a folder holding `node_modules`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;

use std::time::Duration;

use browser::{Browser, web_quality};
use lightbox_media::fixtures;
use lightbox_testkit::{Env, Server, both_setups};
use serde_json::{Value, json};

struct Gallery {
    server: Server,
    account: String,
    token: String,
    /// The press website's id.
    press: String,
    /// A gallery set's id, and the photographs' ids.
    friday: String,
    images: Vec<String>,
    /// Paths of a home, a set, an image, a search, and a not-found page;
    /// a press website's sign-in and registration pages.
    pages: Vec<(&'static str, String)>,
    /// The press website's pages its approved member sees.
    press_pages: Vec<(&'static str, String)>,
}

const PRESS_PASSWORD: &str = "ink-stained wretch of the press corps";

/// A press member of the website `slug` (ada@example.com), registered
/// through its form and approved through the API.
async fn press_member(server: &Server, token: &str, website: &str, slug: &str) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(server.at(&format!("/w/{slug}/register")))
        .send()
        .await
        .unwrap();
    let form_cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let pre = form_cookie.split_once('=').unwrap().1.to_owned();
    let r = http
        .post(server.at(&format!("/w/{slug}/register")))
        .header("cookie", &form_cookie)
        .form(&[
            ("pre", pre.as_str()),
            ("name", "Ada Reporter"),
            ("outlet", "The Daily Example"),
            ("email", "ada@example.com"),
            ("password", PRESS_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let members = server
        .get(token, &format!("/v1/websites/{website}/press_members"))
        .await
        .json();
    let member = members[0]["uuid"].as_str().unwrap();
    server
        .write_ok(
            "PATCH",
            token,
            &format!("/v1/websites/{website}/press_members/{member}"),
            json!({"status": "approved"}),
        )
        .await;
}

async fn create_set(server: &Server, token: &str, body: Value) -> String {
    let op = server.write_ok("POST", token, "/v1/sets", body).await;
    op["set_public_uuid"].as_str().unwrap().to_owned()
}

/// A festival website with two galleries of real photographs, every
/// version rendered.
async fn gallery(env: &Env) -> Gallery {
    gallery_served_with(env, &[]).await
}

/// [`gallery`] on a server started with `extra` flags.
async fn gallery_served_with(env: &Env, extra: &[&str]) -> Gallery {
    let account = env.account("gallery").await;
    let token = env.token(&account, "all", &[]).await;
    let server = env.serve(extra).await;
    let root = create_set(
        &server,
        &token,
        json!({"name": "Festival 2026", "type": "folder"}),
    )
    .await;
    let friday = create_set(
        &server,
        &token,
        json!({"name": "Friday night", "description": "The opening night on the main stage.",
               "parent_public_uuid": root}),
    )
    .await;
    let portraits = create_set(
        &server,
        &token,
        json!({"name": "Portraits", "parent_public_uuid": root}),
    )
    .await;
    let shots = [
        (1200, 800, "Crowd at the main stage", &friday),
        (800, 1200, "Singer in blue light", &friday),
        (1000, 1000, "Drummer, from above", &friday),
        (1200, 675, "Fireworks over the lake", &friday),
        (810, 1215, "Guitarist backstage", &portraits),
        (1000, 750, "Violinist at sound check", &portraits),
    ];
    let mut images = Vec::new();
    for (i, (w, h, title, set)) in shots.iter().enumerate() {
        let id = server
            .upload_with(
                &token,
                &json!({"filename": format!("shot-{i}.jpg"), "title": title,
                        "description": format!("{title}, photographed on the festival's first night."),
                        "set_public_uuid": set}),
                fixtures::jpeg(*w, *h),
            )
            .await;
        server
            .write_ok(
                "PUT",
                &token,
                &format!("/v1/images/{id}/alt_text"),
                json!({"alt_text": format!("{title}: a photograph from the festival")}),
            )
            .await;
        images.push(id);
    }
    // Every version rendered (the pages show only ready ones).
    for id in &images {
        let ready = lightbox_testkit::eventually(60, || async {
            let image = server.get(&token, &format!("/v1/images/{id}")).await.json();
            image["versions"]
                .as_array()
                .is_some_and(|v| v.iter().filter(|v| v["ready"] == true).count() >= 4)
                .then_some(())
        })
        .await;
        assert!(ready.is_some(), "versions of {id} never got ready");
    }
    server
        .write_ok(
            "POST",
            &token,
            "/v1/websites",
            json!({"name": "Festival", "slug": "festival", "root_set_public_uuid": root,
                   "title": "Festival 2026", "intro": "Every stage, every night: the festival's photographs.",
                   "accent": "#9a3412", "logo_image_public_uuid": images[2]}),
        )
        .await;
    let press = server
        .write_ok(
            "POST",
            &token,
            "/v1/websites",
            json!({"name": "Festival press", "type": "press", "slug": "festival-press",
                   "root_set_public_uuid": root, "title": "Festival 2026 — press",
                   "accent": "#1d4ed8", "downloads": "original"}),
        )
        .await;
    let press = press["result"]["website"]["public_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    press_member(&server, &token, &press, "festival-press").await;
    let press_pages = vec![
        ("press-home", "/w/festival-press/".to_owned()),
        ("press-set", format!("/w/festival-press/s/{friday}")),
        ("press-image", format!("/w/festival-press/i/{}", images[0])),
        ("press-account", "/w/festival-press/account".to_owned()),
    ];
    let pages = vec![
        ("home", "/w/festival/".to_owned()),
        ("set", format!("/w/festival/s/{friday}")),
        ("image", format!("/w/festival/i/{}", images[0])),
        ("search", "/w/festival/search?q=singer".to_owned()),
        (
            "not-found",
            "/w/festival/i/00000000-0000-4000-8000-000000000000".to_owned(),
        ),
        ("press-sign-in", "/w/festival-press/sign-in".to_owned()),
        ("press-register", "/w/festival-press/register".to_owned()),
    ];
    Gallery {
        server,
        account,
        token,
        press,
        friday,
        images,
        pages,
        press_pages,
    }
}

both_setups!(
    website_pages_pass_axe_at_desktop_and_phone_width,
    |env: Env| async move {
        let g = gallery(&env).await;
        let b = Browser::start("website", env.engine).await;
        let signed_in = g.press_pages.iter().map(|(n, p)| (*n, p.clone(), true));
        let pages: Vec<(&str, String, bool)> = g
            .pages
            .iter()
            .map(|(n, p)| (*n, p.clone(), false))
            .chain(signed_in)
            .collect();
        for (width, height, size) in [(1280, 900, "desktop"), (390, 844, "phone")] {
            b.resize(width, height).await;
            for (name, path, press) in &pages {
                b.goto(&g.server.at(path)).await;
                if *press && b.path().await.contains("/sign-in") {
                    // Signed in the way a member does: the website's form.
                    b.fill("#email", "ada@example.com").await;
                    b.fill("#password", PRESS_PASSWORD).await;
                    b.click("form.press button[type=submit]").await;
                    b.goto(&g.server.at(path)).await;
                    assert!(!b.path().await.contains("/sign-in"), "signed in");
                }
                // Labels, one h1, no foreign request and axe-core, then the picture.
                b.shot(&format!("{name}-{size}")).await;
            }
        }
        b.close().await;
        Ok(())
    }
);

/// Lighthouse's four category scores (0–100) for a page, mobile.
async fn lighthouse(quality: &std::path::Path, url: &str) -> Value {
    let chromium =
        std::env::var("LIGHTBOX_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new("node")
            .arg(quality.join("node_modules/lighthouse/cli/index.js"))
            .arg(url)
            .args([
                "--quiet",
                "--output=json",
                "--output-path=stdout",
                "--only-categories=performance,accessibility,best-practices,seo",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
            ])
            .env("CHROME_PATH", chromium)
            .output(),
    )
    .await
    .expect("lighthouse took over 3 minutes")
    .expect("run node (Debian's nodejs; .ci/run installs it)");
    assert!(
        out.status.success(),
        "lighthouse {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut scores = serde_json::Map::new();
    for (id, category) in report["categories"].as_object().unwrap() {
        let score = category["score"].as_f64().unwrap_or(0.0);
        scores.insert(id.clone(), json!((score * 100.0).round() as i64));
    }
    // The audits that cost points, to say why a score is low.
    let failing: Vec<String> = report["audits"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, a)| a["score"].as_f64().is_some_and(|s| s < 0.9))
        .map(|(id, a)| format!("{id}: {}", a["displayValue"].as_str().unwrap_or("")))
        .collect();
    json!({"scores": scores, "failing": failing})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighthouse_scores_95_on_home_set_and_image_pages() -> lightbox_testkit::TestResult {
    let quality = web_quality();
    let env = Env::new(lightbox_testkit::Engine::Sqlite).await;
    let g = gallery(&env).await;
    const CATEGORIES: [&str; 4] = ["performance", "accessibility", "best-practices", "seo"];
    let below = |result: &Value| {
        CATEGORIES
            .iter()
            .any(|c| result["scores"][*c].as_i64().unwrap_or(0) < 95)
    };
    for (name, path) in g.pages.iter().take(3) {
        let mut runs = vec![lighthouse(&quality, &g.server.at(path)).await];
        // The performance score moves with the machine's load (other tests
        // run beside this one): a low first run is measured twice more and
        // the median of the three counts, as Lighthouse's own guidance on
        // variability says. The other categories do not vary.
        if below(&runs[0]) {
            for _ in 0..2 {
                runs.push(lighthouse(&quality, &g.server.at(path)).await);
            }
        }
        for category in CATEGORIES {
            let mut scores: Vec<i64> = runs
                .iter()
                .map(|r| r["scores"][category].as_i64().unwrap_or(0))
                .collect();
            scores.sort_unstable();
            let median = scores[scores.len() / 2];
            assert!(
                median >= 95,
                "Lighthouse {category} on the {name} page is {median} (runs: {scores:?}): {:#}",
                runs[0]
            );
        }
        println!("lighthouse {name}: {}", runs[0]["scores"]);
    }
    Ok(())
}

/// How many rows the press website's download log has (`GET …/downloads`).
async fn logged(g: &Gallery) -> Vec<Value> {
    let log = g
        .server
        .get(&g.token, &format!("/v1/websites/{}/downloads", g.press))
        .await
        .json();
    log.as_array().cloned().unwrap_or_default()
}

both_setups!(
    a_press_member_registers_is_approved_signs_in_with_totp_downloads_and_is_revoked,
    |env: Env| async move {
        // The debug clock: each sign-in step takes a code of its own.
        let g = gallery_served_with(&env, &["--debug-clock"]).await;
        const ADMIN_PASSWORD: &str = "correct horse battery staple 42";
        env.user("boss@example.com", ADMIN_PASSWORD, &g.account, "admin")
            .await;
        let b = Browser::start("press-flow", env.engine).await;
        let site = |path: &str| g.server.at(&format!("/w/festival-press{path}"));

        // Registers on the website's own form.
        b.goto(&site("/")).await;
        assert!(b.path().await.starts_with("/w/festival-press/sign-in"));
        b.click_text("Register").await;
        b.fill("#name", "Bea Columnist").await;
        b.fill("#outlet", "The Evening Example").await;
        b.fill("#email", "bea@example.com").await;
        b.fill("#password", PRESS_PASSWORD).await;
        b.follow("form.press button[type=submit]").await;
        assert!(
            b.main_text().await.contains("approve"),
            "{}",
            b.main_text().await
        );
        b.shot("press-registered").await;
        // Not in before an admin says so.
        b.goto(&site("/sign-in")).await;
        b.fill("#email", "bea@example.com").await;
        b.fill("#password", PRESS_PASSWORD).await;
        b.follow("form.press button[type=submit]").await;
        assert!(b.path().await.contains("/sign-in"), "{}", b.path().await);

        // An admin approves in the console (the same browser: the console's
        // cookie is scoped to /admin, the website's to its own path).
        b.goto(&g.server.at("/admin/sign-in")).await;
        b.fill("#login", "boss@example.com").await;
        b.fill("#password", ADMIN_PASSWORD).await;
        b.follow("form button[type=submit]").await;
        b.goto(&g.server.at(&format!("/admin/websites/{}/press", g.press)))
            .await;
        assert!(
            b.text("#press-members")
                .await
                .contains("The Evening Example")
        );
        b.click_text("Approve").await;
        assert!(
            b.text(".notice").await.contains("Bea Columnist approved."),
            "{}",
            b.main_text().await
        );

        // Signs in with the password, then turns two-factor on.
        b.goto(&site("/sign-in")).await;
        b.fill("#email", "bea@example.com").await;
        b.fill("#password", PRESS_PASSWORD).await;
        b.follow("form.press button[type=submit]").await;
        assert_eq!(b.path().await, "/w/festival-press/");
        b.goto(&site("/account")).await;
        b.fill("#password", PRESS_PASSWORD).await;
        b.click_text("Continue").await;
        let uri = b
            .find("a[href^='otpauth://']")
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let secret = lightbox_testkit::secret_of(&uri);
        let code = |at: u64| {
            lightbox_auth::totp::code_at(&secret, lightbox_auth::totp::TotpAlgorithm::Sha1, at, 6)
        };
        b.fill("#code", &code(g.server.debug_clock_now().await))
            .await;
        b.click_text("Turn on").await;
        assert!(
            b.main_text().await.contains("Two-factor sign-in is on"),
            "{}",
            b.main_text().await
        );
        b.shot("press-two-factor-on").await;

        // Signs out, and back in: password and code.
        b.click_text("Sign out").await;
        b.goto(&site(&format!("/i/{}", g.images[0]))).await;
        assert!(b.path().await.starts_with("/w/festival-press/sign-in"));
        b.fill("#email", "bea@example.com").await;
        b.fill("#password", PRESS_PASSWORD).await;
        b.follow("form.press button[type=submit]").await;
        assert!(b.path().await.contains("/sign-in"), "the code is needed");
        let later = g.server.advance_debug_clock(30).await;
        b.fill("#password", PRESS_PASSWORD).await;
        b.fill("#code", &code(later)).await;
        b.follow("form.press button[type=submit]").await;
        assert_eq!(
            b.path().await,
            format!("/w/festival-press/i/{}", g.images[0]),
            "back on the photo she wanted"
        );

        // Downloads an original from the image page: logged at once.
        assert!(logged(&g).await.is_empty());
        b.press("Original (1200 × 800)").await;
        let log = lightbox_testkit::eventually(20, || async {
            let log = logged(&g).await;
            (log.len() == 1).then_some(log)
        })
        .await
        .expect("the original's download is logged");
        assert_eq!(log[0]["version"], "original", "{log:?}");
        assert_eq!(log[0]["image_public_uuid"], g.images[0].as_str());

        // A ZIP of two photos ticked on a set page, with its progress page.
        b.goto(&site(&format!("/s/{}", g.friday))).await;
        for image in &g.images[1..3] {
            b.click(&format!("input[name=image][value='{image}']"))
                .await;
        }
        b.click_text("ZIP of the selected originals").await;
        assert!(b.path().await.starts_with("/w/festival-press/zip/"));
        // The page refreshes itself until the ZIP is ready.
        let ready = lightbox_testkit::eventually(60, || async {
            b.main_text().await.contains("Ready").then_some(())
        })
        .await;
        assert!(ready.is_some(), "{}", b.main_text().await);
        b.shot("press-zip-ready").await;
        let link = b
            .find("a[download]")
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let zip = g.server.http.get(&link).send().await.unwrap();
        assert_eq!(zip.status(), 200);
        assert!(zip.bytes().await.unwrap().starts_with(b"PK"), "a ZIP");

        // The console's download log shows both.
        let log = logged(&g).await;
        assert_eq!(log.len(), 3, "the original, then a row per zipped photo");
        b.goto(
            &g.server
                .at(&format!("/admin/websites/{}/downloads", g.press)),
        )
        .await;
        let table = b.text("#downloads tbody").await;
        assert_eq!(table.matches("Bea Columnist").count(), 3, "{table}");
        assert_eq!(table.matches("original").count(), 3, "{table}");
        b.shot("press-download-log").await;

        // Revoked in the console: her very next request is refused.
        b.goto(&g.server.at(&format!(
            "/admin/websites/{}/press?status=approved",
            g.press
        )))
        .await;
        b.follow("button[aria-label='Revoke Bea Columnist']").await;
        assert!(
            b.text(".notice").await.contains("Bea Columnist revoked."),
            "{}",
            b.main_text().await
        );
        b.goto(&site(&format!("/i/{}", g.images[0]))).await;
        assert!(
            b.path().await.starts_with("/w/festival-press/sign-in"),
            "{}",
            b.path().await
        );
        b.close().await;
        Ok(())
    }
);
