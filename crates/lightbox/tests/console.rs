//! The admin console end to end, in a real browser (headless Chromium from
//! Debian's packages, driven through chromedriver), against a real server on
//! both engines. Each test saves screenshots of the pages it visits under
//! `target/screenshots/`, after checking every page for labels, foreign
//! requests, one `h1` and no sideways scrolling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;

use std::time::{SystemTime, UNIX_EPOCH};

use browser::Browser;
use lightbox_auth::totp::{self, TotpAlgorithm};
use lightbox_testkit::{Env, Reply, Server, both_engines, finished_operation, secret_of, uploaded};
use serde_json::{Value, json};

const PASSWORD: &str = "tangerine-bicycle-Orbit-42";
const PHONE: (u32, u32) = (390, 844);

fn code_now(secret: &[u8]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp::code_at(secret, TotpAlgorithm::Sha1, now, 6)
}

/// Signs in through the form; `code` answers the two-factor step.
async fn sign_in(b: &Browser, server: &Server, login: &str, password: &str, code: Option<String>) {
    b.goto(&server.at("/admin")).await;
    assert!(
        b.path().await.starts_with("/admin/sign-in"),
        "{}",
        b.path().await
    );
    b.fill("#login", login).await;
    b.fill("#password", password).await;
    b.follow("form button[type=submit]").await;
    if let Some(code) = code {
        b.find("#code").await;
        b.shot("sign-in-code").await;
        b.fill("#code", &code).await;
        b.follow("form button[type=submit]").await;
    }
    b.find("nav[aria-label=Main]").await;
    assert_eq!(b.path().await, "/admin/library");
}

/// A uuid no row has, for routes that name one.
const NOBODY: &str = "00000000-0000-4000-8000-000000000000";

/// Every form only an account admin may send.
const ADMIN_FORMS: [&str; 9] = [
    "/admin/settings/api",
    "/admin/settings/api/tokens",
    "/admin/settings/api/tokens/{uuid}/revoke",
    "/admin/settings/api/webhooks",
    "/admin/settings/api/webhooks/{uuid}",
    "/admin/settings/api/webhooks/{uuid}/delete",
    "/admin/users",
    "/admin/users/{uuid}/role",
    "/admin/users/{uuid}/access",
];

/// Every other form a signed-in person sends.
const MEMBER_FORMS: [&str; 13] = [
    "/admin/sign-out",
    "/admin/account/sessions/end-others",
    "/admin/account/sessions/{uuid}/end",
    "/admin/account/two-factor/start",
    "/admin/account/two-factor/confirm",
    "/admin/account/two-factor/off",
    "/admin/library/{uuid}/download",
    "/admin/upload/ticket",
    "/admin/library/bulk",
    "/admin/keywords/rename",
    "/admin/library/{uuid}/edit",
    "/admin/sets",
    "/admin/sets/{uuid}",
];

/// The website forms (roles that change websites; `user` is refused).
const WEBSITE_FORMS: [&str; 3] = [
    "/admin/websites",
    "/admin/websites/{uuid}",
    "/admin/websites/{uuid}/delete",
];

/// A press website's console forms (roles that see press members).
const PRESS_FORMS: [&str; 1] = ["/admin/websites/{uuid}/press/{uuid}"];

/// The CSRF token with its first digit changed: certainly another token.
fn altered(csrf: &str) -> String {
    let first = if csrf.starts_with('0') { "1" } else { "0" };
    format!("{first}{}", &csrf[1..])
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A console form posted beside the browser with its cookie.
async fn post_form(server: &Server, cookie: &str, path: &str, form: &[(&str, &str)]) -> Reply {
    Reply::from(
        no_redirects()
            .post(server.at(path))
            .header("Cookie", format!("lightbox_console={cookie}"))
            .form(form)
            .send()
            .await,
    )
    .await
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let mark = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&mark)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + mark.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Signs in through the console's forms without a browser (`code` answers
/// the two-factor step); returns the console cookie's value.
async fn console_cookie(
    server: &Server,
    login: &str,
    password: &str,
    code: Option<&str>,
) -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let jar = format!("lightbox_sign_in={nonce}");
    let client = no_redirects();
    let send = |path: &str, form: Vec<(&str, String)>| {
        client
            .post(server.at(path))
            .header("Cookie", &jar)
            .form(&form)
            .send()
    };
    let mut r = Reply::from(
        send(
            "/admin/sign-in",
            vec![
                ("pre", nonce.clone()),
                ("login", login.to_owned()),
                ("password", password.to_owned()),
            ],
        )
        .await,
    )
    .await;
    if let Some(code) = code {
        assert_eq!(r.status, 200, "{}", r.text);
        let mfa_token = hidden(&r.text, "mfa_token");
        r = Reply::from(
            send(
                "/admin/sign-in/code",
                vec![
                    ("pre", nonce.clone()),
                    ("mfa_token", mfa_token),
                    ("code", code.to_owned()),
                ],
            )
            .await,
        )
        .await;
    }
    assert_eq!(r.status, 303, "{}", r.text);
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next()?.strip_prefix("lightbox_console="))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no console cookie: {:?}", r.headers))
}

both_engines!(
    admin_signs_in_with_totp_switches_the_api_on_and_manages_a_token,
    |env: Env| async move {
        env.account("acme").await;
        env.cli(&["account", "api-access", "acme", "off"]).await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let uri = env
            .cli(&["user", "mfa", "enable", "boss@example.com"])
            .await;
        let secret = secret_of(&uri);
        let cli_token = env.token("acme", "api.images.read", &[]).await;
        let server = env.serve(&[]).await;
        let b = Browser::start("admin", env.engine).await;

        // Sign-in: password, then the authenticator code.
        b.goto(&server.at("/admin/settings/api")).await;
        assert_eq!(b.path().await, "/admin/sign-in?next=/admin/settings/api");
        b.shot("sign-in").await;
        b.fill("#login", "boss@example.com").await;
        b.fill("#password", "not-the-password-at-all").await;
        b.follow("form button[type=submit]").await;
        assert!(
            b.text(".problem")
                .await
                .contains("login or password is wrong")
        );
        assert_eq!(b.value("#login").await, "boss@example.com");
        b.fill("#password", PASSWORD).await;
        b.follow("form button[type=submit]").await;
        b.fill("#code", "000000").await;
        b.follow("form button[type=submit]").await;
        assert!(
            b.text(".problem").await.contains("code is wrong"),
            "{}",
            b.main_text().await
        );
        b.fill("#code", &code_now(&secret)).await;
        b.shot("sign-in-code").await;
        b.follow("form button[type=submit]").await;
        // Back where the visitor was going.
        b.find("#api_access").await;
        assert_eq!(b.path().await, "/admin/settings/api");
        let cookie = b.client.get_named_cookie("lightbox_console").await.unwrap();
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(format!("{:?}", cookie.same_site()), "Some(Lax)");
        assert_eq!(cookie.path(), Some("/admin"));

        // Settings → API → Settings: the switch.
        assert!(!b.checked("#api_access").await);
        b.shot("settings-api-off").await;
        server.me(&cli_token).await.error(403, "api_not_enabled");
        b.click("#api_access").await;
        b.click_text("Save").await;
        assert_eq!(b.text(".notice").await, "API access is on.");
        assert!(b.checked("#api_access").await);
        b.shot("settings-api-on").await;
        assert_eq!(server.me(&cli_token).await.status, 200);

        // Settings → API → API Tokens: create, read-only scopes pre-selected.
        b.click_text("API Tokens").await;
        assert_eq!(b.path().await, "/admin/settings/api/tokens");
        b.click_text("New token").await;
        assert!(b.checked("#scope-api\\.images\\.read").await);
        assert!(b.checked("#scope-api\\.download").await);
        assert!(!b.checked("#scope-api\\.sets\\.write").await);
        assert!(!b.checked("#scope-api\\.images\\.delete").await);
        assert!(b.checked("#expiry-90d").await);
        b.fill("#name", "Press bot").await;
        b.click("#scope-api\\.sets\\.write").await;
        b.click("#scope-api\\.download").await;
        b.click("#expiry-30d").await;
        b.fill("#allowed_ips", "not-an-address").await;
        b.shot("token-new").await;
        b.click_text("Create token").await;
        // Refused, nothing made, the form kept as typed.
        assert!(b.text(".problem").await.contains("not an IP address"));
        assert_eq!(b.value("#name").await, "Press bot");
        assert!(b.checked("#scope-api\\.sets\\.write").await);
        assert!(!b.checked("#scope-api\\.download").await);
        assert!(b.checked("#expiry-30d").await);
        b.fill("#allowed_ips", "127.0.0.1\n::1").await;
        b.fill("#max_mib", "5").await;
        b.click_text("Create token").await;
        let token = b.value("#new-token").await;
        assert!(token.starts_with("dpg_api_live_"), "{token}");
        assert!(b.main_text().await.contains("shown only this once"));
        b.shot("token-created").await;

        // Copy it, and paste it somewhere else on the console.
        b.press("Copy token").await;
        lightbox_testkit::eventually(5, || async {
            (b.text("#new-token-status").await == "Copied to the clipboard.").then_some(())
        })
        .await
        .expect("the copy button reports the copy");
        b.goto(&server.at("/admin/library")).await;
        let search = b.find("#query").await;
        search.click().await.unwrap();
        search
            .send_keys(&format!("{}v", fantoccini::key::Key::Control))
            .await
            .unwrap();
        assert_eq!(
            b.value("#query").await,
            token,
            "the clipboard holds the token"
        );

        // The token works, with exactly the options chosen.
        let r = server.me(&token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let t = &r.json()["service_token"];
        assert_eq!(t["name"], "Press bot");
        assert_eq!(t["scopes"], json!(["api.images.read", "api.sets.write"]));
        assert_eq!(t["allowed_ips"], json!(["127.0.0.1/32", "::1/128"]));
        assert_eq!(t["max_request_bytes"], 5 * 1024 * 1024);
        let expires = t["expires_at"].as_str().unwrap().to_owned();

        // Listed without its secret.
        b.goto(&server.at("/admin/settings/api/tokens")).await;
        let listed = b.text("#tokens").await;
        assert!(listed.contains("Press bot"));
        assert!(listed.contains(&format!("dpg_api_live_…{}", &token[token.len() - 4..])));
        assert!(
            !b.js("return document.body.innerHTML")
                .await
                .as_str()
                .unwrap()
                .contains(&token)
        );
        assert!(listed.contains(&expires[..10]), "{listed}");
        assert!(listed.contains("127.0.0.1/32, ::1/128"));
        assert!(listed.contains("5 MiB"));
        b.shot("tokens").await;
        b.resize(PHONE.0, PHONE.1).await;
        b.shot("tokens-phone").await;
        b.resize(1280, 900).await;

        // Revoke, after a confirmation; refused at once.
        b.follow("a[aria-label='Revoke Press bot']").await;
        assert!(b.main_text().await.contains("cannot be undone"));
        b.shot("token-revoke").await;
        assert_eq!(server.me(&token).await.status, 200, "not before confirming");
        b.click_text("Revoke token").await;
        assert!(b.text(".notice").await.contains("revoked"));
        server.me(&token).await.error(401, "unauthorized");
        assert!(b.text("#tokens").await.contains("revoked"));

        // Sign out: the cookie is gone and so is the session.
        let cookie = b.console_cookie().await.unwrap();
        b.click_text("Sign out").await;
        assert!(b.path().await.starts_with("/admin/sign-in"));
        assert!(b.console_cookie().await.is_none());
        let r = post_form(
            &server,
            &cookie,
            "/admin/settings/api",
            &[("submitted", "1")],
        )
        .await;
        assert_eq!(r.status, 303, "an ended session is sent to sign in");
        b.close().await;
        Ok(())
    }
);

both_engines!(a_user_role_sees_no_settings, |env: Env| async move {
    env.account("acme").await;
    env.user("ed@example.com", PASSWORD, "acme", "user").await;
    let server = env.serve(&[]).await;
    let b = Browser::start("user-role", env.engine).await;
    sign_in(&b, &server, "ed@example.com", PASSWORD, None).await;
    let nav = b.text("nav[aria-label=Main]").await;
    assert!(nav.contains("Library") && nav.contains("Sets"), "{nav}");
    assert!(
        !nav.contains("Settings") && !nav.contains("Users") && !nav.contains("API Tokens"),
        "{nav}"
    );
    for path in [
        "/admin/settings/api",
        "/admin/settings/api/tokens",
        "/admin/settings/api/tokens/new",
        "/admin/settings/api/webhooks",
        "/admin/settings/api/webhooks/new",
        "/admin/users",
    ] {
        b.goto(&server.at(path)).await;
        assert_eq!(b.text("h1").await, "Not allowed", "{path}");
        assert!(b.main_text().await.contains("Only account admins"));
    }
    b.shot("settings-refused").await;
    // Not by a hand-made form either, even with the right CSRF token.
    b.goto(&server.at("/admin/account")).await;
    let csrf = b.value("input[name=csrf]").await;
    let cookie = b.console_cookie().await.unwrap();
    for path in ADMIN_FORMS {
        let path = path.replace("{uuid}", NOBODY);
        let r = post_form(
            &server,
            &cookie,
            &path,
            &[("csrf", &csrf), ("submitted", "1"), ("role", "admin")],
        )
        .await;
        assert_eq!(r.status, 403, "{path}");
        assert!(r.text.contains("Only account admins"), "{path}");
    }
    let token = env.token("acme", "api.images.read", &[]).await;
    assert_eq!(server.me(&token).await.status, 200, "the API stayed on");
    b.close().await;
    Ok(())
});

both_engines!(
    forms_without_the_csrf_token_change_nothing,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "api.images.read", &[]).await;
        let server = env.serve(&[]).await;
        let b = Browser::start("csrf", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        let cookie = b.console_cookie().await.unwrap();
        b.goto(&server.at("/admin/account")).await;
        let csrf = b.value("input[name=csrf]").await;
        let tokens_before = env
            .cli(&["token", "list", "--account", "acme", "--json"])
            .await;
        let create = [
            ("idem", "6f1c1d3e-8c1b-4a57-9a4e-2d3c4b5a6978"),
            ("name", "sneaky"),
            ("scopes", "api.images.read"),
            ("expiry", "never"),
        ];
        for bad in [None, Some("0".repeat(64)), Some(altered(&csrf))] {
            let mut off = vec![("submitted", "1")];
            let mut make = create.to_vec();
            if let Some(bad) = &bad {
                off.push(("csrf", bad));
                make.push(("csrf", bad));
            }
            let r = post_form(&server, &cookie, "/admin/settings/api", &off).await;
            assert_eq!(r.status, 403, "{bad:?}");
            assert!(r.text.contains("nothing was changed"));
            let r = post_form(&server, &cookie, "/admin/settings/api/tokens", &make).await;
            assert_eq!(r.status, 403, "{bad:?}");
            let r = post_form(&server, &cookie, "/admin/sign-out", &off).await;
            assert_eq!(r.status, 403, "{bad:?}");
        }
        // Every form, without its token: refused before anything runs.
        for path in ADMIN_FORMS
            .iter()
            .chain(&MEMBER_FORMS)
            .chain(&WEBSITE_FORMS)
            .chain(&PRESS_FORMS)
        {
            let path = path.replace("{uuid}", NOBODY);
            for form in [
                vec![("submitted", "1")],
                vec![("csrf", altered(&csrf).leak() as &str)],
            ] {
                let r = post_form(&server, &cookie, &path, &form).await;
                assert_eq!(r.status, 403, "{path} {form:?}");
                assert!(r.text.contains("nothing was changed"), "{path}");
            }
        }
        assert_eq!(server.me(&token).await.status, 200, "the API is still on");
        assert_eq!(
            env.cli(&["token", "list", "--account", "acme", "--json"])
                .await,
            tokens_before,
            "no token was made"
        );
        b.goto(&server.at("/admin/account")).await;
        assert_eq!(b.text("h1").await, "My account", "still signed in");
        // The right token works (the refusals above were for the token alone).
        let r = post_form(
            &server,
            &cookie,
            "/admin/settings/api",
            &[("csrf", &csrf), ("submitted", "1")],
        )
        .await;
        assert_eq!(r.status, 303);
        server.me(&token).await.error(403, "api_not_enabled");
        // Sign-in forms need the value of their own cookie too.
        let r = Reply::from(
            server
                .http
                .post(server.at("/admin/sign-in"))
                .form(&[("login", "boss@example.com"), ("password", PASSWORD)])
                .send()
                .await,
        )
        .await;
        assert_eq!(r.status, 403);
        assert!(
            r.header("set-cookie")
                .is_none_or(|c| !c.contains("lightbox_console"))
        );
        assert!(
            r.header("set-cookie")
                .is_some_and(|c| !c.contains("Secure")),
            "plain HTTP: no Secure cookie (the browser would drop it)"
        );

        // A token form sent twice (a double click, a reload) makes one token.
        let idem = "0b7e4a8c-1f52-4d3a-9c6e-5a4b3c2d1e0f";
        let twice = [
            ("csrf", csrf.as_str()),
            ("idem", idem),
            ("name", "sent twice"),
            ("scopes", "api.images.read"),
            ("expiry", "90d"),
        ];
        let first = post_form(&server, &cookie, "/admin/settings/api/tokens", &twice).await;
        assert_eq!(first.status, 200);
        assert!(
            first.text.contains("shown only this once"),
            "{}",
            first.text
        );
        let again = post_form(&server, &cookie, "/admin/settings/api/tokens", &twice).await;
        assert_eq!(again.status, 200);
        assert!(again.text.contains("already sent"), "{}", again.text);
        let listed = env
            .cli(&["token", "list", "--account", "acme", "--json"])
            .await;
        assert_eq!(listed.matches("sent twice").count(), 1, "{listed}");
        // The same key with other choices is not the same form.
        let mut other = twice.to_vec();
        other[4] = ("expiry", "30d");
        let r = post_form(&server, &cookie, "/admin/settings/api/tokens", &other).await;
        assert_eq!(r.status, 409, "{}", r.text);
        b.close().await;
        Ok(())
    }
);

both_engines!(
    users_sessions_and_two_factor_enrolment,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let server = env.serve(&[]).await;
        let b = Browser::start("users", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;

        // Create a user: a weak password is refused and nothing is made.
        b.click_text("Users").await;
        b.click_text("New user").await;
        b.fill("#name", "Ed Editor").await;
        b.fill("#login", "ed@example.com").await;
        b.fill("#password", "password").await;
        b.shot("user-new").await;
        b.click_text("Create user").await;
        assert!(b.exists(".problem").await, "{}", b.main_text().await);
        assert_eq!(b.value("#login").await, "ed@example.com");
        b.fill("#password", "Quiet-Harbour-Lantern-77").await;
        b.click_text("Create user").await;
        assert!(b.text(".notice").await.contains("created"));
        assert!(b.text("#users").await.contains("ed@example.com"));
        let ed = server
            .access_token("ed@example.com", "Quiet-Harbour-Lantern-77")
            .await;
        assert_eq!(server.me(&ed).await.json()["user"]["role"], "user");

        // Change the role; disable (the user's sessions end at once); enable.
        let row = "//tr[td[normalize-space()='ed@example.com']]";
        let select = b
            .client
            .find(fantoccini::Locator::XPath(&format!("{row}//select")))
            .await
            .unwrap();
        select.select_by_value("admin").await.unwrap();
        b.follow("button[aria-label='Change the role of ed@example.com']")
            .await;
        assert!(b.text(".notice").await.contains("role was changed"));
        assert_eq!(server.me(&ed).await.json()["user"]["role"], "admin");
        b.follow("button[aria-label='Disable ed@example.com']")
            .await;
        assert!(b.text(".notice").await.contains("disabled"));
        server.me(&ed).await.error(401, "unauthorized");
        b.shot("users").await;
        b.follow("button[aria-label='Enable ed@example.com']").await;
        assert!(b.text(".notice").await.contains("sign in again"));
        // An admin cannot lock themself out.
        assert!(
            !b.exists("button[aria-label='Disable boss@example.com']")
                .await
        );

        // My sessions: another device, ended from here.
        let other = server.access_token("boss@example.com", PASSWORD).await;
        b.click_text("Test User").await;
        assert_eq!(b.path().await, "/admin/account");
        let sessions = b.text("main table").await;
        assert!(sessions.contains("this browser"), "{sessions}");
        assert_eq!(
            b.js("return document.querySelectorAll('main table tbody tr').length")
                .await,
            json!(2)
        );
        b.shot("account").await;
        b.click_text("End").await;
        assert!(b.text(".notice").await.contains("ended"));
        server.me(&other).await.error(401, "unauthorized");
        let other = server.access_token("boss@example.com", PASSWORD).await;
        b.goto(&server.at("/admin/account")).await;
        b.click_text("End all other sessions").await;
        server.me(&other).await.error(401, "unauthorized");
        assert_eq!(
            b.text("h1").await,
            "My account",
            "this browser stays signed in"
        );

        // Two-factor: a wrong password, then the QR code, a wrong code, the right one.
        b.fill("#start-password", "wrong-password-here").await;
        b.click_text("Set up two-factor sign-in").await;
        assert!(b.text(".problem").await.contains("password is wrong"));
        b.fill("#start-password", PASSWORD).await;
        b.click_text("Set up two-factor sign-in").await;
        assert!(
            b.exists("figure.qr svg").await,
            "a QR code drawn by the server"
        );
        let shown = b.text("#totp-secret").await;
        let secret = totp::from_base32(&shown).unwrap();
        b.shot("two-factor-setup").await;
        b.fill("#code", "123456").await;
        b.click_text("Switch two-factor on").await;
        assert!(b.text(".problem").await.contains("code is wrong"));
        assert_eq!(
            b.text("#totp-secret").await,
            shown,
            "the same secret, to try again"
        );
        b.fill("#code", &code_now(&secret)).await;
        b.click_text("Switch two-factor on").await;
        let codes: Vec<String> = b
            .text("#recovery-codes")
            .await
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        assert_eq!(codes.len(), 10, "{codes:?}");
        b.shot("two-factor-codes").await;
        b.click_text("I have saved them").await;
        assert!(b.main_text().await.contains("On"));

        // The next sign-in asks for a code; a recovery code answers it once.
        b.click_text("Sign out").await;
        sign_in(
            &b,
            &server,
            "boss@example.com",
            PASSWORD,
            Some(codes[0].clone()),
        )
        .await;
        // …and only once.
        b.click_text("Sign out").await;
        b.goto(&server.at("/admin")).await;
        b.fill("#login", "boss@example.com").await;
        b.fill("#password", PASSWORD).await;
        b.follow("form button[type=submit]").await;
        b.fill("#code", &codes[0]).await;
        b.follow("form button[type=submit]").await;
        assert!(
            b.text(".problem").await.contains("code is wrong"),
            "{}",
            b.main_text().await
        );
        b.fill("#code", &codes[1]).await;
        b.follow("form button[type=submit]").await;
        assert_eq!(b.path().await, "/admin/library");
        b.close().await;
        Ok(())
    }
);

/// A write that must succeed; its finished Operation.
async fn write(server: &Server, token: &str, method: &str, path: &str, body: Value) -> Value {
    let key = uuid::Uuid::new_v4().to_string();
    let r = server.write(method, token, path, &key, Some(&body)).await;
    assert_eq!(r.status, 202, "{method} {path}: {}", r.text);
    let op = r.json();
    let op = if op["status"] == "succeeded" {
        op
    } else {
        finished_operation(server, token, op["uuid"].as_str().unwrap()).await
    };
    assert_eq!(op["status"], "succeeded", "{method} {path}: {op}");
    op
}

both_engines!(
    library_grid_image_page_and_set_tree,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let fixtures = lightbox_media::fixtures::jpeg;
        let original = fixtures(640, 480);
        let stage = uploaded(&server, &token, "main-stage.jpg", original.clone()).await;
        let crowd = uploaded(&server, &token, "crowd.jpg", fixtures(480, 640)).await;
        let _quiet = uploaded(&server, &token, "backstage.jpg", fixtures(500, 500)).await;
        write(
            &server,
            &token,
            "POST",
            &format!("/v1/images/{stage}/keywords"),
            json!({"keywords": ["artist:Marina", "stage"]}),
        )
        .await;
        write(
            &server,
            &token,
            "PUT",
            &format!("/v1/images/{stage}/rating"),
            json!({"rating": 5}),
        )
        .await;
        let day = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Day 1"}),
        )
        .await;
        let day_id = day["set_public_uuid"].as_str().unwrap().to_owned();
        write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Main stage", "parent_public_uuid": day_id}),
        )
        .await;
        write(
            &server,
            &token,
            "POST",
            &format!("/v1/sets/{day_id}/images"),
            json!({"image_public_uuids": [stage, crowd]}),
        )
        .await;

        let b = Browser::start("library", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        // The grid: three thumbnails that really load.
        let loaded = lightbox_testkit::eventually(10, || async {
        let n = b
            .js("return [...document.querySelectorAll('#images img')].filter(i => i.complete && i.naturalWidth > 0).length")
            .await;
        (n == json!(3)).then_some(())
    })
    .await;
        assert!(
            loaded.is_some(),
            "three thumbnails load: {}",
            b.main_text().await
        );
        b.shot("library").await;
        b.resize(PHONE.0, PHONE.1).await;
        b.shot("library-phone").await;
        b.resize(1280, 900).await;

        // Filters and search, as the API's.
        b.fill("#query", "marina").await;
        b.click_text("Show").await;
        assert_eq!(
            b.js("return document.querySelectorAll('#images li').length")
                .await,
            json!(1)
        );
        assert!(b.text("#images").await.contains("main-stage.jpg"));
        b.goto(&server.at("/admin/library?min_rating=4")).await;
        assert_eq!(
            b.js("return document.querySelectorAll('#images li').length")
                .await,
            json!(1)
        );
        b.goto(&server.at("/admin/library?created_at_from=yesterday"))
            .await;
        assert!(
            b.text(".problem").await.contains("created_at_from"),
            "{}",
            b.main_text().await
        );
        b.shot("library-bad-filter").await;

        // The image page: metadata, keywords, sets, versions.
        b.goto(&server.at("/admin/library")).await;
        b.follow(&format!("a[href='/admin/library/{stage}']")).await;
        assert_eq!(b.text("h1").await, "main-stage.jpg");
        assert!(b.text("#keywords").await.contains("artist:Marina"));
        assert!(b.text("#sets").await.contains("Day 1"));
        let versions = b.text("#versions").await;
        assert!(
            versions.contains("thumbnail") && versions.contains("original"),
            "{versions}"
        );
        assert!(b.text("#facts").await.contains("5 of 5"));
        b.shot("image").await;
        // Download: a signed link to the original, the uploaded bytes.
        let cookie = b.console_cookie().await.unwrap();
        let csrf = b.value("input[name=csrf]").await;
        let path = format!("/admin/library/{stage}/download");
        let r = post_form(&server, &cookie, &path, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, 303, "{}", r.text);
        let link = r.header("location").unwrap();
        assert!(link.contains("/download/"), "{link}");
        let got = server
            .http
            .get(&link)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.to_vec(), original);
        assert_eq!(post_form(&server, &cookie, &path, &[]).await.status, 403);

        // The set tree, and a set's images through the same grid.
        b.click_text("Sets").await;
        let tree = b.text("#set-tree").await;
        assert!(
            tree.contains("Day 1") && tree.contains("Main stage") && tree.contains("2 images"),
            "{tree}"
        );
        assert!(
            b.exists("#set-tree li ul li").await,
            "Main stage is nested under Day 1"
        );
        b.shot("sets").await;
        b.follow("a[aria-label='Images of Day 1']").await;
        assert_eq!(
            b.js("return document.querySelectorAll('#images li').length")
                .await,
            json!(2)
        );
        b.close().await;
        Ok(())
    }
);

both_engines!(
    cookies_redirects_and_request_ids_behind_https,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        // Behind an HTTPS proxy: the public URL says so, the socket is plain.
        let server = env.serve_behind("https://photos.example.com", &[]).await;
        let client = no_redirects();
        let page = Reply::from(client.get(server.at("/admin/sign-in")).send().await).await;
        assert_eq!(page.status, 200);
        assert!(
            page.header("x-request-id").is_some(),
            "observed like the API"
        );
        let nonce_cookie = page.header("set-cookie").unwrap();
        for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/admin/sign-in"] {
            assert!(nonce_cookie.contains(part), "{nonce_cookie}");
        }
        let nonce = nonce_cookie
            .split(';')
            .next()
            .and_then(|p| p.strip_prefix("lightbox_sign_in="))
            .unwrap()
            .to_owned();
        assert!(page.text.contains(&nonce), "the form echoes the cookie");

        // A `next` a Location header cannot carry goes to the library.
        for next in [
            "/admin\n",
            "/admin/\r\nSet-Cookie: a=b",
            "//evil.example",
            "https://evil.example",
        ] {
            let r = Reply::from(
                client
                    .post(server.at("/admin/sign-in"))
                    .header("Cookie", format!("lightbox_sign_in={nonce}"))
                    .form(&[
                        ("pre", nonce.as_str()),
                        ("next", next),
                        ("login", "boss@example.com"),
                        ("password", PASSWORD),
                    ])
                    .send()
                    .await,
            )
            .await;
            assert_eq!(r.status, 303, "{next:?}");
            assert_eq!(
                r.header("location").as_deref(),
                Some("/admin/library"),
                "{next:?}"
            );
            let cookies: Vec<&str> = r
                .headers
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let console = cookies
                .iter()
                .find(|c| c.starts_with("lightbox_console=dpg_cs_"))
                .unwrap_or_else(|| panic!("{cookies:?}"));
            for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/admin"] {
                assert!(console.contains(part), "{console}");
            }
        }

        // A form sent after the session ended: sign in again, then the
        // console's start (a redirect cannot re-send the form).
        let r = post_form(
            &server,
            "dpg_cs_notatokenatall",
            "/admin/account/sessions/end-others",
            &[("csrf", "x")],
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            r.header("location").as_deref(),
            Some("/admin/sign-in?next=/admin")
        );
        let r = Reply::from(
            client
                .get(server.at("/admin/library?keyword=a b"))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            r.header("location").as_deref(),
            Some("/admin/sign-in?next=/admin/library%3Fkeyword%3Da%2520b")
        );
        Ok(())
    }
);

both_engines!(
    api_clients_cannot_claim_the_consoles_idempotency_keys,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let leaked = env.token("acme", "all", &[]).await;
        let listed: Value = serde_json::from_str(
            &env.cli(&["token", "list", "--account", "acme", "--json"])
                .await,
        )?;
        let uuid = listed[0]["uuid"].as_str().unwrap().to_owned();
        let server = env.serve(&["--auth-cache-ttl-ms", "0"]).await;
        // The leaked token writes first under the keys the console used for
        // its revoke and for a token form.
        let idem = uuid::Uuid::new_v4().to_string();
        for key in [
            format!("console-revoke-{uuid}"),
            format!("console-token-{idem}"),
        ] {
            let body = json!({"name": format!("squat {key}")});
            let r = server
                .write("POST", &leaked, "/v1/sets", &key, Some(&body))
                .await;
            assert_eq!(r.status, 202, "{}", r.text);
        }
        let cookie = console_cookie(&server, "boss@example.com", PASSWORD, None).await;
        let csrf = lightbox_core::console::csrf_token(&cookie);
        let make = [
            ("csrf", csrf.as_str()),
            ("idem", idem.as_str()),
            ("name", "made anyway"),
            ("scopes", "api.images.read"),
            ("expiry", "90d"),
        ];
        let r = post_form(&server, &cookie, "/admin/settings/api/tokens", &make).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("shown only this once"), "{}", r.text);
        // The admin's Revoke still revokes, and sent twice is the same revoke.
        let path = format!("/admin/settings/api/tokens/{uuid}/revoke");
        for _ in 0..2 {
            let r = post_form(&server, &cookie, &path, &[("csrf", &csrf)]).await;
            assert_eq!(r.status, 303, "{}", r.text);
            assert_eq!(
                r.header("location").as_deref(),
                Some("/admin/settings/api/tokens?done=revoked")
            );
        }
        server.me(&leaked).await.error(401, "unauthorized");
        Ok(())
    }
);

both_engines!(
    changing_two_factor_in_the_console_needs_a_code,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let (_, uri, err) = env
            .cli_raw(&["user", "mfa", "enable", "boss@example.com"])
            .await;
        let secret = secret_of(uri.trim());
        let recovery: Vec<&str> = err
            .lines()
            .map(str::trim)
            .filter(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
            .collect();
        assert_eq!(recovery.len(), 10, "{err}");
        let server = env.serve(&[]).await;
        let code = code_now(&secret);
        let cookie = console_cookie(&server, "boss@example.com", PASSWORD, Some(&code)).await;
        let csrf = lightbox_core::console::csrf_token(&cookie);
        let account_page = || async {
            let r = Reply::from(
                no_redirects()
                    .get(server.at("/admin/account"))
                    .header("Cookie", format!("lightbox_console={cookie}"))
                    .send()
                    .await,
            )
            .await;
            assert_eq!(r.status, 200);
            r.text
        };
        // The password alone (or with the code just spent) changes nothing.
        for path in [
            "/admin/account/two-factor/start",
            "/admin/account/two-factor/off",
        ] {
            for code in ["", "000000", code.as_str()] {
                let form = [
                    ("csrf", csrf.as_str()),
                    ("password", PASSWORD),
                    ("code", code),
                ];
                let r = post_form(&server, &cookie, path, &form).await;
                assert_eq!(r.status, 400, "{path} {code:?}: {}", r.text);
                assert!(
                    r.text.contains("give a current code") || r.text.contains("code is wrong"),
                    "{}",
                    r.text
                );
                assert!(r.text.contains("Switch two-factor off"), "still on");
            }
        }
        // With a recovery code: a new authenticator to scan…
        let form = [
            ("csrf", csrf.as_str()),
            ("password", PASSWORD),
            ("code", recovery[0]),
        ];
        let r = post_form(&server, &cookie, "/admin/account/two-factor/start", &form).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("totp-secret"), "{}", r.text);
        // …and, with another, two-factor off; a spent one no longer works.
        for (code, status) in [(recovery[0], 400), (recovery[1], 303)] {
            let form = [
                ("csrf", csrf.as_str()),
                ("password", PASSWORD),
                ("code", code),
            ];
            let r = post_form(&server, &cookie, "/admin/account/two-factor/off", &form).await;
            assert_eq!(r.status, status, "{code}: {}", r.text);
        }
        assert!(account_page().await.contains("Set up two-factor sign-in"));
        Ok(())
    }
);

/// The account's websites as the API lists them.
async fn websites_of(server: &Server, token: &str) -> Vec<Value> {
    let r = server.get(token, "/v1/websites").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json().as_array().unwrap().clone()
}

/// A console page read beside the browser with its cookie.
async fn get_page(server: &Server, cookie: &str, path: &str) -> Reply {
    Reply::from(
        no_redirects()
            .get(server.at(path))
            .header("Cookie", format!("lightbox_console={cookie}"))
            .send()
            .await,
    )
    .await
}

both_engines!(
    websites_are_made_changed_and_deleted_in_the_console,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let festival = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Festival"}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let press_kit = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Press <kit> & co", "parent_public_uuid": festival}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();

        let b = Browser::start("websites", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        b.click_text("Websites").await;
        assert_eq!(b.path().await, "/admin/websites");
        assert!(b.main_text().await.contains("No websites yet."));
        b.shot("websites-empty").await;
        b.click_text("New website").await;
        // The root choice: every set, nested ones indented, names as text.
        let options = b
            .js("return [...document.querySelectorAll('#root_set_public_uuid option')].map(o => [o.value, o.textContent])")
            .await;
        assert_eq!(
            options,
            json!([
                ["", "Choose a set"],
                [festival, "Festival"],
                [press_kit, "\u{a0}\u{a0}\u{a0}Press <kit> & co"],
            ])
        );
        assert_eq!(b.value("#accent").await, "#1d4ed8");
        assert_eq!(b.value("#downloads").await, "", "the type's default");
        b.fill("#name", "Festival press").await;
        b.fill("#slug", "Festival Press!").await;
        b.find("#type")
            .await
            .select_by_value("press")
            .await
            .unwrap();
        b.find("#root_set_public_uuid")
            .await
            .select_by_value(&press_kit)
            .await
            .unwrap();
        b.fill("#intro", "Photos for the press.").await;
        b.js("document.querySelector('#accent').value = '#c2410c'; return null;")
            .await;
        b.shot("website-new").await;
        b.click_text("Create website").await;
        // Refused beside the field, the form kept as typed, nothing made.
        assert!(
            b.text("#slug-problem").await.contains("slug must be 1-63"),
            "{}",
            b.main_text().await
        );
        assert_eq!(
            b.find("#slug")
                .await
                .attr("aria-describedby")
                .await
                .unwrap()
                .as_deref(),
            Some("slug-hint slug-problem")
        );
        assert_eq!(b.value("#name").await, "Festival press");
        assert_eq!(b.value("#slug").await, "Festival Press!");
        assert_eq!(b.value("#type").await, "press");
        assert_eq!(b.value("#root_set_public_uuid").await, press_kit);
        assert_eq!(b.value("#intro").await, "Photos for the press.");
        assert_eq!(b.value("#accent").await, "#c2410c");
        b.shot("website-refused").await;
        assert!(websites_of(&server, &token).await.is_empty());
        b.fill("#slug", "festival-press").await;
        b.click_text("Create website").await;
        assert!(b.text(".notice").await.contains("created"));

        // Made by the same use-case as the API: the type's default downloads.
        let all = websites_of(&server, &token).await;
        assert_eq!(all.len(), 1, "{all:?}");
        let w = &all[0];
        assert_eq!(w["name"], "Festival press");
        assert_eq!(w["type"], "press");
        assert_eq!(w["slug"], "festival-press");
        assert_eq!(w["hostname"], Value::Null);
        assert_eq!(w["root_set_public_uuid"], press_kit.as_str());
        assert_eq!(w["title"], "Festival press", "no title: the name");
        assert_eq!(w["intro"], "Photos for the press.");
        assert_eq!(w["accent"], "#c2410c");
        assert_eq!(w["downloads"], "large");
        let id = w["public_uuid"].as_str().unwrap().to_owned();
        let url = w["url"].as_str().unwrap().to_owned();

        // Listed, with a link to the live site.
        let row = b.text("#websites").await;
        for part in [
            "Festival press",
            "press",
            "/w/festival-press/",
            "Press <kit> & co",
            "large",
        ] {
            assert!(row.contains(part), "{part}: {row}");
        }
        let view = b
            .find("a[aria-label='View Festival press']")
            .await
            .attr("href")
            .await
            .unwrap();
        assert_eq!(view.as_deref(), Some(url.as_str()));
        let live = Reply::from(server.http.get(&url).send().await).await;
        // The live press website: its sign-in page, for approved members.
        assert_eq!(live.status, 200, "{url}: {}", live.text);
        assert!(
            live.text.contains("approved press members") && live.text.contains("Sign in"),
            "{}",
            live.text
        );
        b.shot("websites").await;
        b.resize(PHONE.0, PHONE.1).await;
        b.shot("websites-phone").await;
        b.resize(1280, 900).await;
        // A press website's people: someone registers, an admin approves.
        let mut ada = Visitor {
            server: &server,
            cookies: Vec::new(),
        };
        let r = ada.get("/w/festival-press/register").await;
        let pre = hidden(&r.text, "pre");
        let r = ada
            .post(
                "/w/festival-press/register",
                &[
                    ("pre", &pre),
                    ("name", "Ada Reporter"),
                    ("outlet", "The Daily Example"),
                    ("email", "ada@example.com"),
                    ("password", PRESS_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        b.follow("a[aria-label='Press members of Festival press']")
            .await;
        assert_eq!(b.path().await, format!("/admin/websites/{id}/press"));
        let table = b.text("#press-members").await;
        assert!(table.contains("The Daily Example"), "{table}");
        b.shot("press-members").await;
        b.resize(PHONE.0, PHONE.1).await;
        b.shot("press-members-phone").await;
        b.resize(1280, 900).await;
        b.click_text("Approve").await;
        assert!(
            b.text(".notice").await.contains("Ada Reporter approved."),
            "{}",
            b.main_text().await
        );
        assert!(b.main_text().await.contains("No pending press members."));
        b.shot("press-member-approved").await;
        b.click_text("Download log").await;
        assert_eq!(b.path().await, format!("/admin/websites/{id}/downloads"));
        assert!(b.main_text().await.contains("Nothing downloaded yet."));
        b.shot("download-log-empty").await;
        b.goto(&server.at("/admin/websites")).await;

        // Change it: the same form, filled in.
        b.follow("a[aria-label='Edit Festival press']").await;
        assert_eq!(b.path().await, format!("/admin/websites/{id}"));
        assert_eq!(b.value("#slug").await, "festival-press");
        assert_eq!(b.value("#downloads").await, "large");
        assert_eq!(b.value("#accent").await, "#c2410c");
        b.fill("#title", "Festival 2026 — press photos").await;
        b.fill("#hostname", "press.festival.example").await;
        b.find("#downloads")
            .await
            .select_by_value("original")
            .await
            .unwrap();
        b.find("#root_set_public_uuid")
            .await
            .select_by_value(&festival)
            .await
            .unwrap();
        b.shot("website-edit").await;
        b.click_text("Save website").await;
        assert!(b.text(".notice").await.contains("saved"));
        let w = &websites_of(&server, &token).await[0];
        assert_eq!(w["title"], "Festival 2026 — press photos");
        assert_eq!(w["hostname"], "press.festival.example");
        assert_eq!(w["downloads"], "original");
        assert_eq!(w["root_set_public_uuid"], festival.as_str());
        assert_eq!(w["name"], "Festival press", "unchanged");
        assert_eq!(w["intro"], "Photos for the press.", "unchanged");
        // A refused change changes nothing and keeps what was typed.
        b.follow("a[aria-label='Edit Festival press']").await;
        b.fill("#slug", "-bad-").await;
        b.fill("#hostname", "").await;
        b.click_text("Save website").await;
        assert!(b.text("#slug-problem").await.contains("slug must be 1-63"));
        assert_eq!(b.value("#hostname").await, "");
        assert_eq!(websites_of(&server, &token).await[0], *w);

        // Delete, after a confirmation.
        b.goto(&server.at("/admin/websites")).await;
        b.follow("a[aria-label='Delete Festival press']").await;
        assert!(b.main_text().await.contains("cannot be undone"));
        b.shot("website-delete").await;
        assert_eq!(
            websites_of(&server, &token).await.len(),
            1,
            "not before confirming"
        );
        b.click_text("Delete website").await;
        assert!(b.text(".notice").await.contains("deleted"));
        assert!(websites_of(&server, &token).await.is_empty());
        let r = server.get(&token, &format!("/v1/sets/{festival}")).await;
        assert_eq!(r.status, 200, "its sets stay");
        b.close().await;
        Ok(())
    }
);

both_engines!(
    website_forms_need_the_role_and_the_csrf_token,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        env.user("ed@example.com", PASSWORD, "acme", "user").await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let set = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Festival"}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let made = write(
            &server,
            &token,
            "POST",
            "/v1/websites",
            json!({"name": "Festival", "slug": "festival", "root_set_public_uuid": set}),
        )
        .await;
        let id = made["result"]["website"]["public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = websites_of(&server, &token).await;
        let form = |csrf: &str, slug: &str| {
            vec![
                ("csrf".to_owned(), csrf.to_owned()),
                ("idem".to_owned(), uuid::Uuid::new_v4().to_string()),
                ("name".to_owned(), "Sneaky".to_owned()),
                ("type".to_owned(), "public".to_owned()),
                ("slug".to_owned(), slug.to_owned()),
                ("root_set_public_uuid".to_owned(), set.clone()),
                ("accent".to_owned(), "#000000".to_owned()),
                ("downloads".to_owned(), "original".to_owned()),
            ]
        };
        let send = |cookie: String, path: String, form: Vec<(String, String)>| {
            let server = &server;
            async move {
                let pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                post_form(server, &cookie, &path, &pairs).await
            }
        };
        let paths = [
            "/admin/websites".to_owned(),
            format!("/admin/websites/{id}"),
            format!("/admin/websites/{id}/delete"),
        ];

        // A `user` member reads the list, without the buttons…
        let ed = console_cookie(&server, "ed@example.com", PASSWORD, None).await;
        let ed_csrf = lightbox_core::console::csrf_token(&ed);
        let list = get_page(&server, &ed, "/admin/websites").await;
        assert_eq!(list.status, 200);
        assert!(list.text.contains("/w/festival/"), "{}", list.text);
        assert!(list.text.contains(">View<"), "{}", list.text);
        assert!(!list.text.contains("New website"), "{}", list.text);
        assert!(!list.text.contains("Delete…"), "{}", list.text);
        assert!(!list.text.contains(&format!("/admin/websites/{id}")));
        // …and cannot open the forms or send them, even with its CSRF token.
        for path in [
            "/admin/websites/new".to_owned(),
            format!("/admin/websites/{id}"),
            format!("/admin/websites/{id}/delete"),
        ] {
            let r = get_page(&server, &ed, &path).await;
            assert_eq!(r.status, 403, "{path}");
            assert!(
                r.text
                    .contains("does not create, change or delete websites")
            );
        }
        for path in &paths {
            let r = send(ed.clone(), path.clone(), form(&ed_csrf, "sneaky")).await;
            assert_eq!(r.status, 403, "{path}: {}", r.text);
            assert!(
                r.text
                    .contains("does not create, change or delete websites")
            );
        }

        // An admin's forms without the right CSRF token change nothing.
        let boss = console_cookie(&server, "boss@example.com", PASSWORD, None).await;
        let csrf = lightbox_core::console::csrf_token(&boss);
        for path in &paths {
            for bad in ["", "0", &altered(&csrf)] {
                let r = send(boss.clone(), path.clone(), form(bad, "sneaky")).await;
                assert_eq!(r.status, 403, "{path} {bad:?}");
                assert!(r.text.contains("nothing was changed"), "{path}");
            }
        }
        assert_eq!(websites_of(&server, &token).await, before);

        // A taken address is refused beside the field (409), nothing made.
        let r = send(boss.clone(), paths[0].clone(), form(&csrf, "festival")).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(r.text.contains("id=\"slug-problem\""), "{}", r.text);
        assert!(r.text.contains("taken by another website"), "{}", r.text);
        assert_eq!(websites_of(&server, &token).await, before);

        // The same form sent twice makes one website.
        let twice = form(&csrf, "twice");
        for _ in 0..2 {
            let r = send(boss.clone(), paths[0].clone(), twice.clone()).await;
            assert_eq!(r.status, 303, "{}", r.text);
            assert_eq!(
                r.header("location").as_deref(),
                Some("/admin/websites?done=created")
            );
        }
        let all = websites_of(&server, &token).await;
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[1]["slug"], "twice");
        assert_eq!(all[1]["downloads"], "original");
        // A page of another account's (or no) website is not found.
        let r = get_page(&server, &boss, &format!("/admin/websites/{NOBODY}")).await;
        assert_eq!(r.status, 404);
        // The right token and role: deleted, and again is the same delete.
        for _ in 0..2 {
            let r = send(
                boss.clone(),
                paths[2].clone(),
                vec![("csrf".into(), csrf.clone())],
            )
            .await;
            assert_eq!(r.status, 303, "{}", r.text);
        }
        let all = websites_of(&server, &token).await;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0]["slug"], "twice");
        Ok(())
    }
);

/// A visitor of the websites (no console cookie): keeps the cookies the
/// website sets, shows redirects instead of following them.
struct Visitor<'a> {
    server: &'a Server,
    cookies: Vec<(String, String)>,
}

impl Visitor<'_> {
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

    fn jar(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> Reply {
        let r = Reply::from(
            no_redirects()
                .get(self.server.at(path))
                .header("Cookie", self.jar())
                .send()
                .await,
        )
        .await;
        self.keep(&r);
        r
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let r = Reply::from(
            no_redirects()
                .post(self.server.at(path))
                .header("Cookie", self.jar())
                .form(form)
                .send()
                .await,
        )
        .await;
        self.keep(&r);
        r
    }
}

const PRESS_PASSWORD: &str = "ink-stained wretch of the press corps";

both_engines!(
    press_members_are_decided_and_downloads_logged_in_the_console,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        env.user("ed@example.com", PASSWORD, "acme", "user").await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let root = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Press room"}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let kit = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Press kit", "type": "press", "parent_public_uuid": root}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let image = server
            .upload_with(
                &token,
                &json!({"filename": "stage.jpg", "title": "Stage", "set_public_uuid": kit}),
                lightbox_media::fixtures::jpeg(64, 48),
            )
            .await;
        let made = write(
            &server,
            &token,
            "POST",
            "/v1/websites",
            json!({"name": "Festival press", "type": "press", "slug": "press",
                   "root_set_public_uuid": root, "downloads": "original"}),
        )
        .await;
        let id = made["result"]["website"]["public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let public = write(
            &server,
            &token,
            "POST",
            "/v1/websites",
            json!({"name": "Festival", "slug": "festival", "root_set_public_uuid": root}),
        )
        .await["result"]["website"]["public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let members = |status: &'static str| {
            let server = &server;
            let token = &token;
            let id = &id;
            async move {
                let r = server
                    .get(
                        token,
                        &format!("/v1/websites/{id}/press_members?status={status}"),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.json().as_array().unwrap().clone()
            }
        };

        // Ada registers through the website's own form.
        let mut ada = Visitor {
            server: &server,
            cookies: Vec::new(),
        };
        let r = ada.get("/w/press/register").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let pre = hidden(&r.text, "pre");
        let r = ada
            .post(
                "/w/press/register",
                &[
                    ("pre", &pre),
                    ("name", "Ada Reporter"),
                    ("outlet", "The Daily Example"),
                    ("email", "ada@example.com"),
                    ("password", PRESS_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let member = members("pending").await[0]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let decide = format!("/admin/websites/{id}/press/{member}");

        // The list links a press website's people and log, not a public one's.
        let boss = console_cookie(&server, "boss@example.com", PASSWORD, None).await;
        let csrf = lightbox_core::console::csrf_token(&boss);
        let list = get_page(&server, &boss, "/admin/websites").await;
        assert!(
            list.text
                .contains(&format!("href=\"/admin/websites/{id}/press\"")),
            "{}",
            list.text
        );
        assert!(
            list.text
                .contains(&format!("href=\"/admin/websites/{id}/downloads\""))
        );
        assert!(
            !list
                .text
                .contains(&format!("/admin/websites/{public}/press"))
        );
        let edit = get_page(&server, &boss, &format!("/admin/websites/{id}")).await;
        assert!(
            edit.text
                .contains(&format!("href=\"/admin/websites/{id}/press\""))
        );

        // Pending first: Ada, with Approve and Refuse.
        let page = get_page(&server, &boss, &format!("/admin/websites/{id}/press")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for part in [
            "Ada Reporter",
            "The Daily Example",
            "ada@example.com",
            ">pending<",
            "aria-label=\"Approve Ada Reporter\"",
            "aria-label=\"Refuse Ada Reporter\"",
            "<caption>",
            "<label for=\"status\">",
        ] {
            assert!(page.text.contains(part), "{part}: {}", page.text);
        }
        assert!(!page.text.contains("Revoke Ada Reporter"));
        assert!(!page.text.contains("rel=\"next\""), "one page");
        let idem = hidden(&page.text, "idem");
        let approve = |csrf: String, idem: String| {
            vec![
                ("csrf".to_owned(), csrf),
                ("idem".to_owned(), idem),
                ("status".to_owned(), "approved".to_owned()),
                ("shown".to_owned(), "pending".to_owned()),
            ]
        };
        let send = |cookie: &str, form: Vec<(String, String)>| {
            let server = &server;
            let cookie = cookie.to_owned();
            let decide = decide.clone();
            async move {
                let pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                post_form(server, &cookie, &decide, &pairs).await
            }
        };

        // Without the right CSRF token, or as a `user` member: nothing changes.
        for bad in ["", "0", &altered(&csrf)] {
            let r = send(&boss, approve(bad.to_owned(), idem.clone())).await;
            assert_eq!(r.status, 403, "{bad:?}");
            assert!(r.text.contains("nothing was changed"));
        }
        let ed = console_cookie(&server, "ed@example.com", PASSWORD, None).await;
        let ed_csrf = lightbox_core::console::csrf_token(&ed);
        let r = send(&ed, approve(ed_csrf, idem.clone())).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.text.contains("does not see or decide press members"));
        for path in [
            format!("/admin/websites/{id}/press"),
            format!("/admin/websites/{id}/downloads"),
        ] {
            let r = get_page(&server, &ed, &path).await;
            assert_eq!(r.status, 403, "{path}");
            assert!(r.text.contains("does not see or decide press members"));
            assert!(!r.text.contains("ada@example.com"));
        }
        let list = get_page(&server, &ed, "/admin/websites").await;
        assert!(!list.text.contains("/press\""), "{}", list.text);
        assert!(!list.text.contains("/downloads\""), "{}", list.text);
        assert_eq!(members("pending").await.len(), 1);

        // Approved: back to the list with a notice; the API agrees. The
        // same button again decides nothing new.
        for _ in 0..2 {
            let r = send(&boss, approve(csrf.clone(), idem.clone())).await;
            assert_eq!(r.status, 303, "{}", r.text);
            let back = r.header("location").unwrap();
            assert_eq!(
                back,
                format!("/admin/websites/{id}/press?status=pending&done=approved&member={member}")
            );
            let page = get_page(&server, &boss, &back).await;
            assert!(
                page.text.contains("Ada Reporter approved."),
                "{}",
                page.text
            );
            assert!(page.text.contains("No pending press members."));
        }
        let approved = members("approved").await;
        assert_eq!(approved.len(), 1, "{approved:?}");
        assert!(approved[0]["decided_at"].is_string());
        let page = get_page(
            &server,
            &boss,
            &format!("/admin/websites/{id}/press?status=all"),
        )
        .await;
        assert!(page.text.contains(">approved<"), "{}", page.text);
        assert!(page.text.contains("aria-label=\"Revoke Ada Reporter\""));
        assert!(!page.text.contains("aria-label=\"Approve Ada Reporter\""));
        let revoke_idem = hidden(&page.text, "idem");
        let r = get_page(
            &server,
            &boss,
            &format!("/admin/websites/{id}/press?status=maybe"),
        )
        .await;
        assert_eq!(r.status, 400);
        let r = get_page(
            &server,
            &boss,
            &format!("/admin/websites/{id}/press?status=all&offset=50"),
        )
        .await;
        assert!(r.text.contains("No more press members here."));
        assert!(r.text.contains("rel=\"prev\""));

        // Ada signs in on the website and downloads: the log shows it.
        let r = ada.get("/w/press/sign-in").await;
        let pre = hidden(&r.text, "pre");
        let r = ada
            .post(
                "/w/press/sign-in",
                &[
                    ("pre", &pre),
                    ("next", ""),
                    ("email", "ada@example.com"),
                    ("password", PRESS_PASSWORD),
                    ("code", ""),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = ada.get(&format!("/w/press/i/{image}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let site_csrf = hidden(&r.text, "csrf");
        let r = ada
            .post(
                &format!("/w/press/d/{image}"),
                &[("csrf", &site_csrf), ("version", "original")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let log = get_page(&server, &boss, &format!("/admin/websites/{id}/downloads")).await;
        assert_eq!(log.status, 200, "{}", log.text);
        for part in [
            "Ada Reporter",
            "ada@example.com",
            &format!("href=\"/admin/library/{image}\""),
            ">original<",
            "—",
            "127.0.0.1",
            "UTC",
        ] {
            assert!(log.text.contains(part), "{part}: {}", log.text);
        }
        let r = get_page(&server, &ed, &format!("/admin/websites/{id}/downloads")).await;
        assert_eq!(r.status, 403);

        // Revoked: Ada's next request on the website is refused.
        let r = send(
            &boss,
            vec![
                ("csrf".to_owned(), csrf.clone()),
                ("idem".to_owned(), revoke_idem),
                ("status".to_owned(), "revoked".to_owned()),
                ("shown".to_owned(), "all".to_owned()),
            ],
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let page = get_page(&server, &boss, &r.header("location").unwrap()).await;
        assert!(page.text.contains("Ada Reporter revoked."), "{}", page.text);
        assert!(page.text.contains("aria-label=\"Approve Ada Reporter\""));
        assert_eq!(members("revoked").await.len(), 1);
        assert_eq!(ada.get("/w/press/").await.status, 303, "signed out");

        // No member, and a public website's press pages, are not found.
        let r = post_form(
            &server,
            &boss,
            &format!("/admin/websites/{id}/press/{NOBODY}"),
            &[
                ("csrf", &csrf),
                ("idem", &uuid::Uuid::new_v4().to_string()),
                ("status", "approved"),
            ],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);
        for path in [
            format!("/admin/websites/{public}/press"),
            format!("/admin/websites/{public}/downloads"),
        ] {
            let r = get_page(&server, &boss, &path).await;
            assert_eq!(r.status, 404, "{path}");
            assert!(r.text.contains("Public websites have no press members"));
        }
        let r = post_form(
            &server,
            &boss,
            &format!("/admin/websites/{public}/press/{member}"),
            &[
                ("csrf", &csrf),
                ("idem", &uuid::Uuid::new_v4().to_string()),
                ("status", "approved"),
            ],
        )
        .await;
        assert_eq!(r.status, 404);
        assert_eq!(members("revoked").await.len(), 1, "unchanged");
        Ok(())
    }
);

/// The upload form as a browser without script sends it: `fields`, then
/// one real JPEG (`name`, `width` × 200 px).
async fn plain_upload(
    server: &Server,
    cookie: &str,
    fields: &[(&str, &str)],
    (name, width): (&str, u32),
) -> Reply {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let file = reqwest::multipart::Part::bytes(lightbox_media::fixtures::jpeg(width, 200))
        .file_name(name.to_owned());
    Reply::from(
        no_redirects()
            .post(server.at("/admin/upload"))
            .header("cookie", format!("lightbox_console={cookie}"))
            .multipart(form.part("file", file))
            .send()
            .await,
    )
    .await
}

lightbox_testkit::both_setups!(
    upload_many_files_with_progress_and_refusals_per_file,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let friday = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Friday"}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        // Twenty different real JPEGs, one already in the library, and a
        // text file, in a folder as a photographer has them.
        let folder = env.dir.join("to-upload");
        std::fs::create_dir_all(&folder).unwrap();
        let mut paths = Vec::new();
        for i in 0..20u32 {
            let path = folder.join(format!("DSC_{:04}.jpg", 100 + i));
            let bytes = lightbox_media::fixtures::jpeg(640 + 16 * i, 480 + 8 * i);
            std::fs::write(&path, bytes).unwrap();
            paths.push(path);
        }
        let known = lightbox_media::fixtures::jpeg(999, 666);
        let known_id = server.upload(&token, "earlier.jpg", known.clone()).await;
        let duplicate = folder.join("again.jpg");
        std::fs::write(&duplicate, known).unwrap();
        let text = folder.join("notes.txt");
        std::fs::write(&text, "not a picture at all\n".repeat(50)).unwrap();
        paths.push(duplicate);
        paths.push(text);
        let originals_before = env.blob_keys("originals/").await.len();

        let b = Browser::start("upload", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        b.click_text("Upload").await;
        assert_eq!(b.path().await, "/admin/upload");
        b.find("#set_public_uuid")
            .await
            .select_by_value(&friday)
            .await
            .unwrap();
        b.fill("#keywords", "festival:Brightwater, day:Friday")
            .await;
        b.assert_axe_passes("the upload page").await;
        b.shot("upload").await;
        // The file input is the drop target's own: choosing files starts them.
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        b.find("#file")
            .await
            .send_keys(&list.join("\n"))
            .await
            .unwrap();
        // The overall line moves on until every file has settled.
        let mut seen = std::collections::BTreeSet::new();
        let mut finished = String::new();
        for _ in 0..1200 {
            let text = b.text("#overall-text").await;
            if text.contains("finished") {
                finished = text;
                break;
            }
            seen.insert(text);
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(
            finished.starts_with("22 of 22 files"),
            "{finished} (seen: {seen:?})"
        );
        assert!(finished.contains("1 refused"), "{finished}");
        // Seen between the start and the end: some files settled, not all.
        let settled_then = |t: &String| {
            t.split(" of 22 files")
                .next()
                .and_then(|n| n.trim().parse::<u32>().ok())
        };
        assert!(
            seen.iter()
                .filter_map(settled_then)
                .any(|n| (1..22).contains(&n)),
            "progress was seen before the end: {seen:?}"
        );
        let rows = b.text("#files").await;
        assert!(
            rows.contains("Not a picture or video Lightbox takes"),
            "{rows}"
        );
        assert!(rows.contains("Already in the library"), "{rows}");
        assert!(b.exists("button[aria-label='Retry notes.txt']").await);
        // Versions appear in the page as they get ready, without a reload.
        let thumbs = lightbox_testkit::eventually(90, || async {
            let n = b
                .js("return document.querySelectorAll('#files img.thumb').length;")
                .await;
            (n == json!(20)).then_some(())
        })
        .await;
        assert!(thumbs.is_some(), "{}", b.text("#files").await);
        b.assert_axe_passes("the upload page after the uploads")
            .await;
        b.shot("upload-finished").await;

        // The API agrees: twenty new images in the set, with the keywords.
        let images = server
            .get(&token, &format!("/v1/sets/{friday}/images?limit=100"))
            .await
            .json();
        let images = images.as_array().unwrap();
        assert_eq!(images.len(), 20);
        for image in images {
            let keywords: Vec<&str> = image["keywords"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().or(k["keyword"].as_str()).unwrap())
                .collect();
            assert!(keywords.contains(&"festival:Brightwater"), "{keywords:?}");
            assert!(keywords.contains(&"day:Friday"), "{keywords:?}");
            assert!(image["public_uuid"] != known_id.as_str(), "{image}");
        }
        // Nothing kept for the refused and the duplicate: 20 new originals.
        assert_eq!(
            env.blob_keys("originals/").await.len(),
            originals_before + 20
        );
        let tmp_empty = lightbox_testkit::eventually(20, || async {
            env.blob_keys("tmp/").await.is_empty().then_some(())
        })
        .await;
        assert!(tmp_empty.is_some(), "staged copies are gone");

        // The form also works without the script: one file, posted as is.
        b.close().await;
        let cookie = console_cookie(&server, "boss@example.com", PASSWORD, None).await;
        let csrf = lightbox_core::console::csrf_token(&cookie);
        let r = plain_upload(
            &server,
            &cookie,
            &[
                ("csrf", &csrf),
                ("set_public_uuid", &friday),
                ("keywords", "plain:form"),
            ],
            ("plain.jpg", 320),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Added"), "{}", r.text);
        let r = plain_upload(
            &server,
            &cookie,
            &[("csrf", &altered(&csrf))],
            ("forged.jpg", 321),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let images = server.get(&token, "/v1/images?limit=100").await.json();
        let names: Vec<&str> = images
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["filename"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.len(),
            22,
            "the earlier one, 20 and the plain one: {names:?}"
        );
        assert!(!names.contains(&"forged.jpg"), "{names:?}");
        // A large refused file does not spoil the files after it.
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"not a picture\n".repeat(500_000))
                    .file_name("big-notes.txt"),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(lightbox_media::fixtures::jpeg(333, 200))
                    .file_name("after.jpg"),
            );
        let r = Reply::from(
            no_redirects()
                .post(server.at("/admin/upload"))
                .header("cookie", format!("lightbox_console={cookie}"))
                .multipart(form)
                .send()
                .await,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.text.contains("not an image or video Lightbox takes"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("Added"),
            "the file after the refused one: {}",
            r.text
        );
        // Part headers that never end are cut off (4 MiB ahead of what was
        // read), not held: refused, nothing kept.
        let boundary = "lightbox-test-boundary";
        let mut hostile = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"endless.jpg\"\r\nX-Pad: "
        )
        .into_bytes();
        hostile.extend(std::iter::repeat_n(b'a', 5 << 20));
        let sent = no_redirects()
            .post(server.at("/admin/upload"))
            .header("cookie", format!("lightbox_console={cookie}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(hostile)
            .send()
            .await;
        if let Ok(r) = sent {
            assert_eq!(r.status(), 400);
            let text = r.text().await.unwrap();
            assert!(text.contains("part headers are too long"), "{text}");
        }
        assert_eq!(
            server
                .get(&token, "/v1/images?limit=100")
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            23
        );
        // The console is not the API: with the account's API switched off,
        // a console upload still goes through; an API ticket does not.
        env.cli(&["account", "api-access", "acme", "off"]).await;
        let r = plain_upload(&server, &cookie, &[("csrf", &csrf)], ("api-off.jpg", 322)).await;
        assert!(r.text.contains("Added"), "{}", r.text);
        server
            .post(&token, "/v1/uploads", None, &json!({"filename": "x.jpg"}))
            .await
            .error(403, "api_not_enabled");
        Ok(())
    }
);

/// How many images `GET /v1/images?{query}` lists, page after page.
async fn count_images(server: &Server, token: &str, query: &str) -> usize {
    let mut n = 0;
    loop {
        let page = server
            .get(token, &format!("/v1/images?{query}&limit=200&offset={n}"))
            .await
            .json();
        let got = page.as_array().unwrap().len();
        n += got;
        if got < 200 {
            return n;
        }
    }
}

lightbox_testkit::both_setups!(
    bulk_changes_reach_every_image_a_filter_finds,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        // 300 small real JPEGs the filter finds, and 5 it does not.
        let upload = |i: u32, keyword: &'static str| {
            let (server, token) = (&server, &token);
            async move {
                server
                    .upload_with(
                        token,
                        &json!({"filename": format!("IMG_{i:04}.jpg"), "keywords": [keyword]}),
                        lightbox_media::fixtures::jpeg(40 + i, 30),
                    )
                    .await
            }
        };
        let mut picked = Vec::new();
        for chunk in (0..300u32).collect::<Vec<_>>().chunks(10) {
            let made =
                futures::future::join_all(chunk.iter().map(|i| upload(*i, "batch:one"))).await;
            picked.extend(made);
        }
        let mut others = Vec::new();
        for i in 300..305u32 {
            others.push(upload(i, "batch:two").await);
        }
        let shortlist = write(
            &server,
            &token,
            "POST",
            "/v1/sets",
            json!({"name": "Shortlist"}),
        )
        .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();

        let b = Browser::start("bulk", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        b.goto(&server.at("/admin/library?keyword=batch:one")).await;
        b.assert_axe_passes("the library grid with its bulk bar")
            .await;
        // Shift-click ticks a range; the count follows.
        let picks = b
            .client
            .find_all(fantoccini::Locator::Css("input.pick"))
            .await
            .unwrap();
        picks[0].click().await.unwrap();
        b.js(
            "const e = new MouseEvent('click', {bubbles: true, shiftKey: true});
              document.querySelectorAll('input.pick')[4].dispatchEvent(e); return null;",
        )
        .await;
        assert_eq!(b.text("#selected-count").await, "(5 ticked)");
        b.click("#select-all").await;
        assert_eq!(b.text("#selected-count").await, "(48 ticked)");
        b.shot("bulk-selected").await;

        // Every image the filter finds: a keyword, a rating, a set.
        b.click("input[name=scope][value=filter]").await;
        let steps: [(&str, &str, &str); 3] = [
            ("add_keywords", "#bulk-keywords", "picked:yes"),
            ("rating", "#bulk-rating", "4"),
            ("add_to_set", "#bulk-set", &shortlist),
        ];
        for (action, field, value) in steps {
            b.find("#bulk-action")
                .await
                .select_by_value(action)
                .await
                .unwrap();
            if field == "#bulk-keywords" {
                b.fill(field, value).await;
            } else {
                b.find(field).await.select_by_value(value).await.unwrap();
            }
            b.press("Apply").await;
            // The status says so when this change (not the one before) ends.
            assert!(!b.text("#bulk-status").await.contains("changed"));
            let done = lightbox_testkit::eventually(120, || async {
                let text = b.text("#bulk-status").await;
                text.contains("changed").then_some(text)
            })
            .await
            .unwrap_or_else(|| panic!("{action} never finished"));
            assert!(
                done.starts_with("300 of 300 images changed."),
                "{action}: {done}"
            );
        }
        b.shot("bulk-done").await;
        // A key on a tile rates that image (nothing ticked now).
        b.click("#select-all").await;
        assert_eq!(b.text("#selected-count").await, "(0 ticked)");
        let first = b.value("#images li input.pick").await;
        b.find("#images li a").await.send_keys("5").await.unwrap();
        let rated = lightbox_testkit::eventually(30, || async {
            let text = b.text("#bulk-status").await;
            text.starts_with("Rating 5: 1 of 1 images changed.")
                .then_some(())
        })
        .await;
        assert!(rated.is_some(), "{}", b.text("#bulk-status").await);
        assert!(b.text("#images li .stars").await.contains("★ 5"));
        let image = server
            .get(&token, &format!("/v1/images/{first}"))
            .await
            .json();
        assert_eq!(image["rating"], 5, "{image}");
        assert_eq!(
            count_images(&server, &token, "keyword=picked:yes&rating=4").await,
            299
        );
        // A ZIP of the ticked images, followed on its page to its link.
        b.click("#select-all").await;
        b.click("input[name=scope][value=selected]").await;
        b.find("#bulk-action")
            .await
            .select_by_value("zip")
            .await
            .unwrap();
        b.press("Apply").await;
        let on_page = lightbox_testkit::eventually(30, || async {
            b.path()
                .await
                .starts_with("/admin/operations/op-")
                .then_some(())
        })
        .await;
        assert!(on_page.is_some(), "{}", b.path().await);
        let built = lightbox_testkit::eventually(60, || async {
            b.text("#operation-status")
                .await
                .starts_with("Done.")
                .then_some(())
        })
        .await;
        assert!(built.is_some(), "{}", b.main_text().await);
        assert!(b.main_text().await.contains("48 images"));
        b.assert_axe_passes("a finished ZIP's page").await;
        b.shot("bulk-zip").await;
        let link = b
            .find("a[download]")
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let zip = server.http.get(&link).send().await?;
        assert_eq!(zip.status(), 200);
        assert!(zip.bytes().await?.starts_with(b"PK"), "a ZIP");
        assert_eq!(
            count_images(&server, &token, "keyword=picked:yes").await,
            300
        );

        let set = server
            .get(&token, &format!("/v1/sets/{shortlist}"))
            .await
            .json();
        assert_eq!(set["image_count"], 300, "{set}");
        for other in &others {
            let image = server
                .get(&token, &format!("/v1/images/{other}"))
                .await
                .json();
            assert_eq!(image["rating"], 0, "{image}");
            assert_eq!(image["keywords"].as_array().unwrap().len(), 1, "{image}");
        }
        b.close().await;

        // Without the script: one post, a summary page; a delete asks first.
        let cookie = console_cookie(&server, "boss@example.com", PASSWORD, None).await;
        let csrf = lightbox_core::console::csrf_token(&cookie);
        let idem = uuid::Uuid::new_v4().to_string();
        let form = vec![
            ("csrf", csrf.as_str()),
            ("idem", idem.as_str()),
            ("action", "delete"),
            ("scope", "selected"),
            ("image", others[0].as_str()),
            ("image", others[1].as_str()),
        ];
        let r = post_form(&server, &cookie, "/admin/library/bulk", &form).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Delete 2 images"), "{}", r.text);
        assert_eq!(
            server
                .get(&token, &format!("/v1/images/{}", others[0]))
                .await
                .status,
            200
        );
        let mut confirmed = form.clone();
        confirmed.push(("confirm", "yes"));
        let r = post_form(&server, &cookie, "/admin/library/bulk", &confirmed).await;
        assert!(r.text.contains("2 images deleted."), "{}", r.text);
        assert_eq!(
            server
                .get(&token, &format!("/v1/images/{}", others[0]))
                .await
                .status,
            404
        );
        // Sent again (a reload): the same answer, nothing else happens.
        let r = post_form(&server, &cookie, "/admin/library/bulk", &confirmed).await;
        assert!(r.text.contains("2 images deleted."), "{}", r.text);

        // A `user` member changes only its own images: the rest are named
        // as refused, its own is changed.
        env.user("ed@example.com", PASSWORD, "acme", "user").await;
        let ed = console_cookie(&server, "ed@example.com", PASSWORD, None).await;
        let ed_token = server.access_token("ed@example.com", PASSWORD).await;
        let own = server
            .upload(
                &ed_token,
                "mine.jpg",
                lightbox_media::fixtures::jpeg(77, 55),
            )
            .await;
        let ed_csrf = lightbox_core::console::csrf_token(&ed);
        let idem = uuid::Uuid::new_v4().to_string();
        let r = post_form(
            &server,
            &ed,
            "/admin/library/bulk",
            &[
                ("csrf", ed_csrf.as_str()),
                ("idem", idem.as_str()),
                ("action", "rating"),
                ("rating", "2"),
                ("scope", "selected"),
                ("image", others[2].as_str()),
                ("image", own.as_str()),
            ],
        )
        .await;
        assert!(r.text.contains("Rating set on 1 image."), "{}", r.text);
        assert!(r.text.contains("1 not changed"), "{}", r.text);
        assert!(
            r.text.contains("only the images you uploaded"),
            "{}",
            r.text
        );
        let mine = server
            .get(&token, &format!("/v1/images/{own}"))
            .await
            .json();
        assert_eq!(mine["rating"], 2);
        let theirs = server
            .get(&token, &format!("/v1/images/{}", others[2]))
            .await
            .json();
        assert_eq!(theirs["rating"], 0);
        Ok(())
    }
);

both_engines!(
    keywords_are_listed_with_counts_and_renamed_with_progress,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        for i in 0..12u32 {
            let keywords = if i < 8 {
                json!(["artist:Marina", "stage:Main"])
            } else {
                json!(["stage:Main"])
            };
            server
                .upload_with(
                    &token,
                    &json!({"filename": format!("k{i}.jpg"), "keywords": keywords}),
                    lightbox_media::fixtures::jpeg(50 + i, 40),
                )
                .await;
        }
        let b = Browser::start("keywords", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        b.click_text("Keywords").await;
        let table = b.text("#keywords tbody").await;
        let rows: Vec<&str> = table.lines().collect();
        assert!(
            rows[0].contains("Main") && rows[0].contains("12"),
            "{table}"
        );
        assert!(
            rows[1].contains("Marina") && rows[1].contains("8"),
            "{table}"
        );
        b.assert_axe_passes("the keywords page").await;
        b.shot("keywords").await;
        // Renamed across the library: a job, followed on its page.
        b.follow("a[aria-label='Rename artist:Marina']").await;
        assert_eq!(b.value("#from").await, "artist:Marina");
        b.fill("#to", "artist:Marina Sena").await;
        b.assert_axe_passes("the rename form").await;
        b.click_text("Rename").await;
        assert!(b.path().await.starts_with("/admin/operations/op-"));
        let finished = lightbox_testkit::eventually(60, || async {
            let text = b.text("#operation-status").await;
            text.starts_with("Done.").then_some(text)
        })
        .await
        .expect("the rename finished");
        assert_eq!(finished, "Done. 8 of 8 images.");
        b.shot("keyword-renamed").await;
        let listed = server.get(&token, "/v1/keywords?sort=count").await.json();
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keyword"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["stage:Main", "artist:Marina Sena"], "{listed}");
        // A bad new keyword: said on the form, nothing runs.
        b.goto(&server.at("/admin/keywords/rename?from=stage:Main"))
            .await;
        b.fill("#to", "   ").await;
        b.click_text("Rename").await;
        assert!(
            b.text(".problem").await.contains("to"),
            "{}",
            b.main_text().await
        );
        assert_eq!(b.value("#from").await, "stage:Main");
        b.close().await;
        Ok(())
    }
);

both_engines!(
    upload_page_sends_files_to_a_processor_on_another_origin,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        // The processor on its own port (another origin), the console on
        // an API node that names it.
        let processor = env.serve(&["--role", "processor"]).await;
        let api = env
            .serve(&["--role", "api", "--processor-url", &processor.url])
            .await;
        let preflight = api
            .http
            .request(reqwest::Method::OPTIONS, processor.at("/upload"))
            .header("origin", &api.url)
            .header("access-control-request-method", "POST")
            .send()
            .await?;
        assert_eq!(preflight.status(), 204);
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
        assert_eq!(preflight.headers()["access-control-allow-methods"], "POST");
        let folder = env.dir.join("to-upload");
        std::fs::create_dir_all(&folder).unwrap();
        let mut paths = Vec::new();
        for i in 0..2u32 {
            let path = folder.join(format!("far-{i}.jpg"));
            std::fs::write(&path, lightbox_media::fixtures::jpeg(300 + i, 200)).unwrap();
            paths.push(path.display().to_string());
        }
        let b = Browser::start("upload-far", env.engine).await;
        sign_in(&b, &api, "boss@example.com", PASSWORD, None).await;
        b.goto(&api.at("/admin/upload")).await;
        b.find("#file")
            .await
            .send_keys(&paths.join("\n"))
            .await
            .unwrap();
        let finished = lightbox_testkit::eventually(60, || async {
            let text = b.text("#overall-text").await;
            text.contains("finished").then_some(text)
        })
        .await
        .expect("the uploads finished");
        assert!(finished.starts_with("2 of 2 files"), "{finished}");
        assert!(!finished.contains("refused"), "{}", b.text("#files").await);
        let images = api.get(&token, "/v1/images").await.json();
        assert_eq!(images.as_array().unwrap().len(), 2, "{images}");
        b.close().await;
        Ok(())
    }
);

both_engines!(
    an_image_is_edited_field_by_field_and_refusals_change_nothing,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let id = server
            .upload_with(
                &token,
                &json!({"filename": "DSC_0042.jpg", "keywords": ["artist:Marina", "stage:Main"]}),
                lightbox_media::fixtures::jpeg(1600, 1000),
            )
            .await;
        // The image as stored, without its versions (a rotation rebuilds
        // them in the background).
        let get = || async {
            let mut image = server.get(&token, &format!("/v1/images/{id}")).await.json();
            image.as_object_mut().unwrap().remove("versions");
            image
        };
        let b = Browser::start("edit", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;
        b.goto(&server.at(&format!("/admin/library/{id}"))).await;
        b.click_text("Edit").await;
        assert_eq!(b.path().await, format!("/admin/library/{id}/edit"));

        // The details: one form, one write.
        b.fill("#title", "Marina opens the main stage").await;
        b.fill("#description", "Her first song, under magenta beams.")
            .await;
        b.fill("#alt_text", "A singer in pink light").await;
        b.fill("#creation_date", "2026-07-10 20:05:42").await;
        b.find("#rotation")
            .await
            .select_by_value("180")
            .await
            .unwrap();
        b.click("#rating-4").await;
        b.click_text("Save details").await;
        assert_eq!(b.text(".notice").await, "The details were saved.");
        let image = get().await;
        assert_eq!(image["title"], "Marina opens the main stage");
        assert_eq!(image["description"], "Her first song, under magenta beams.");
        assert_eq!(image["alt_text"], "A singer in pink light");
        assert_eq!(image["creation_date"], "2026-07-10T20:05:42Z");
        assert_eq!(image["rotation"], 180);
        assert_eq!(image["rating"], 4);
        assert!(
            b.checked("#rating-4").await,
            "the form shows what is stored"
        );

        // A date that is not one: said beside the form, what was typed
        // stays, nothing changes (the title typed with it neither).
        b.fill("#title", "Not saved").await;
        b.fill("#creation_date", "last tuesday").await;
        b.click_text("Save details").await;
        assert!(
            b.text(".problem").await.contains("creation_date"),
            "{}",
            b.main_text().await
        );
        assert_eq!(b.value("#creation_date").await, "last tuesday");
        assert_eq!(b.value("#title").await, "Not saved");
        assert_eq!(get().await, image, "nothing changed");

        // Keywords: add with the vocabulary's completion, remove one.
        b.goto(&server.at(&format!("/admin/library/{id}/edit")))
            .await;
        let offered = b
            .js("return [...document.querySelectorAll('#vocabulary option')].map(o => o.value);")
            .await;
        assert!(
            offered
                .as_array()
                .unwrap()
                .contains(&json!("artist:Marina")),
            "{offered}"
        );
        b.fill("#new_keywords", "day:Friday, crowd").await;
        b.click_text("Add").await;
        assert_eq!(b.text(".notice").await, "The keywords were added.");
        b.follow("button[aria-label='Remove stage:Main']").await;
        let kw: Vec<String> = get().await["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keyword"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kw.len(), 3, "{kw:?}");
        assert!(kw.contains(&"day:Friday".to_owned()) && !kw.contains(&"stage:Main".to_owned()));

        // A credit, the IPTC fields, a crop drawn over the picture.
        b.fill("#credit_role", "Photo").await;
        b.fill("#credit_name", "Ines Duarte").await;
        b.click_text("Add the credit").await;
        b.fill("#iptc-creator", "Ines Duarte").await;
        b.fill("#iptc-copyright_notice", "© 2026 Brightwater").await;
        b.click("#iptc-copyright_marked").await;
        b.click_text("Save IPTC").await;
        assert_eq!(b.text(".notice").await, "The IPTC fields were saved.");
        b.fill("#crop-aspect_ratio", "16:9").await;
        b.fill("#crop-width", "1600").await;
        b.fill("#crop-height", "900").await;
        b.click_text("Save the crop").await;
        assert_eq!(b.text(".notice").await, "The crop was saved.");
        assert!(
            b.exists("svg.crops rect").await,
            "the crop's frame is drawn"
        );
        b.shot("edit").await;
        let image = get().await;
        assert_eq!(image["credits"][0]["name"], "Ines Duarte", "{image}");
        assert_eq!(image["metadata"]["creator"], "Ines Duarte", "{image}");
        assert_eq!(image["metadata"]["copyright_notice"], "© 2026 Brightwater");
        assert_eq!(image["metadata"]["copyright_marked"], true);
        assert_eq!(image["crops"][0]["aspect_ratio"], "16:9", "{image}");
        assert_eq!(image["crops"][0]["height"], 900);
        // A crop outside the picture: refused, nothing changes.
        b.fill("#crop-aspect_ratio", "1:1").await;
        b.fill("#crop-x", "1000").await;
        b.fill("#crop-width", "1000").await;
        b.fill("#crop-height", "1000").await;
        b.click_text("Save the crop").await;
        assert!(b.exists(".problem").await, "{}", b.main_text().await);
        assert_eq!(get().await, image, "nothing changed");

        // A `user` member may not edit someone else's image.
        env.user("ed@example.com", PASSWORD, "acme", "user").await;
        let ed = console_cookie(&server, "ed@example.com", PASSWORD, None).await;
        let ed_csrf = lightbox_core::console::csrf_token(&ed);
        let idem = uuid::Uuid::new_v4().to_string();
        let r = post_form(
            &server,
            &ed,
            &format!("/admin/library/{id}/edit"),
            &[
                ("csrf", ed_csrf.as_str()),
                ("idem", idem.as_str()),
                ("part", "add_keywords"),
                ("keywords", "sneaky"),
            ],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(
            r.text.contains("only the images you uploaded"),
            "{}",
            r.text
        );
        assert_eq!(get().await, image, "nothing changed");
        b.close().await;
        Ok(())
    }
);

/// Makes the set `name` inside `parent` with the Sets page's form; its id.
async fn make_set_inside(b: &Browser, server: &Server, name: &str, parent: &str) -> String {
    b.goto(&server.at("/admin/sets")).await;
    b.fill("#name", name).await;
    b.find("#parent")
        .await
        .select_by_value(parent)
        .await
        .unwrap();
    b.click_text("Make the set").await;
    set_in_path(&b.path().await)
}

/// The set a `/admin/sets/{set}?…` path names.
fn set_in_path(path: &str) -> String {
    let rest = path.trim_start_matches("/admin/sets/");
    rest.split('?').next().unwrap_or(rest).to_owned()
}

both_engines!(
    sets_are_made_arranged_scheduled_and_restored_in_the_console,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let b = Browser::start("sets", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;

        // Two sets through the form, the second inside the first.
        b.click_text("Sets").await;
        b.fill("#name", "Festival").await;
        b.find("#type")
            .await
            .select_by_value("folder")
            .await
            .unwrap();
        b.click_text("Make the set").await;
        assert_eq!(b.text(".notice").await, "The set was made.");
        let festival = set_in_path(&b.path().await);
        let friday = make_set_inside(&b, &server, "Friday", &festival).await;
        let set = server
            .get(&token, &format!("/v1/sets/{friday}"))
            .await
            .json();
        assert_eq!(set["parent_public_uuid"], festival.as_str(), "{set}");
        // Renamed and recoloured on its page.
        b.fill("#name", "Friday night").await;
        b.find("#colour")
            .await
            .select_by_value("blue")
            .await
            .unwrap();
        b.click_text("Save the set").await;
        assert_eq!(b.text(".notice").await, "The set was saved.");
        let set = server
            .get(&token, &format!("/v1/sets/{friday}"))
            .await
            .json();
        assert_eq!(
            (set["name"].as_str(), set["colour"].as_str()),
            (Some("Friday night"), Some("blue"))
        );
        // A third set under Festival, moved before Friday with the keyboard.
        make_set_inside(&b, &server, "Saturday", &festival).await;
        assert_eq!(
            sibling_names(&server, &token, Some(&festival)).await,
            ["Friday night", "Saturday"]
        );
        b.goto(&server.at("/admin/sets")).await;
        assert!(!b.exists("button[aria-label='Move Saturday down']").await);
        b.keys_follow("button[aria-label='Move Saturday up']", "\u{E007}")
            .await;
        assert_eq!(
            b.text(".notice").await,
            "The set was moved among its siblings."
        );
        assert_eq!(
            sibling_names(&server, &token, Some(&festival)).await,
            ["Saturday", "Friday night"]
        );
        // The parent's snapshot says what a restore would put back.
        b.goto(&server.at(&format!("/admin/sets/{festival}"))).await;
        assert!(
            b.text("#snapshots tbody").await.contains("children order"),
            "{}",
            b.main_text().await
        );

        let mut ids = Vec::new();
        for (i, title) in ["One", "Two", "Three", "Four"].iter().enumerate() {
            ids.push(
                server
                    .upload_with(
                        &token,
                        &json!({"filename": format!("{title}.jpg"), "title": title, "set_public_uuid": friday}),
                        lightbox_media::fixtures::jpeg(60 + i as u32, 40),
                    )
                    .await,
            );
        }
        let order = || async {
            let list = server
                .get(&token, &format!("/v1/sets/{friday}/images"))
                .await
                .json();
            list.as_array()
                .unwrap()
                .iter()
                .map(|i| i["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(order().await, ["One", "Two", "Three", "Four"]);

        // With the keyboard only: focus "First" on Four and press Enter.
        b.goto(&server.at(&format!("/admin/sets/{friday}"))).await;
        b.js("window.__lightboxOldPage = true; return null;").await;
        b.find("button[aria-label='First: Four']")
            .await
            .send_keys("\u{E007}")
            .await
            .unwrap();
        let moved = lightbox_testkit::eventually(20, || async {
            (order().await == ["Four", "One", "Two", "Three"]).then_some(())
        })
        .await;
        assert!(moved.is_some(), "{:?}", order().await);
        // By dragging (the page's own drag and drop events, dispatched:
        // WebDriver cannot drag HTML5 draggables in headless Chromium).
        b.goto(&server.at(&format!("/admin/sets/{friday}"))).await;
        b.js("const rows = document.querySelectorAll('#set-images li');
              const dt = new DataTransfer();
              const fire = (el, type) => el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
              fire(rows[3], 'dragstart'); fire(rows[0], 'dragover'); fire(rows[0], 'drop');
              return null;")
            .await;
        let dragged = lightbox_testkit::eventually(20, || async {
            (order().await == ["Three", "Four", "One", "Two"]).then_some(())
        })
        .await;
        assert!(dragged.is_some(), "{:?}", order().await);

        // The snapshot before the drag says what restoring it would do.
        b.goto(&server.at(&format!("/admin/sets/{friday}"))).await;
        let snapshots = b.text("#snapshots tbody").await;
        let first_row = snapshots.lines().next().unwrap_or_default().to_owned();
        assert!(
            first_row.contains("move 1 image") && !first_row.contains("move 1 images"),
            "{snapshots}"
        );
        b.follow("#snapshots tbody tr:first-child button").await;
        assert_eq!(b.text(".notice").await, "The snapshot was restored.");
        assert_eq!(order().await, ["Four", "One", "Two", "Three"]);

        // Go live 5 s from now: the countdown runs, the image is live after.
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
        let typed = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        );
        b.click("input[aria-label='Tick One']").await;
        b.fill("#activation_time", &typed).await;
        b.click_text("Show (or go live at the time)").await;
        assert_eq!(b.text(".notice").await, "The visibility was changed.");
        let set = server
            .get(&token, &format!("/v1/sets/{friday}"))
            .await
            .json();
        assert_eq!(set["live_image_count"], 3, "{set}");
        let first = b.text("#countdown-left").await;
        assert!(first.contains(" s"), "{first}");
        b.shot("set-scheduled").await;
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let later = b.text("#countdown-left").await;
        assert_ne!(first, later, "the countdown moves");
        let live = lightbox_testkit::eventually(15, || async {
            let set = server
                .get(&token, &format!("/v1/sets/{friday}"))
                .await
                .json();
            (set["live_image_count"] == 4).then_some(())
        })
        .await;
        assert!(live.is_some(), "live after the instant");
        // A time that is not one: said beside the form, nothing changes.
        b.goto(&server.at(&format!("/admin/sets/{friday}"))).await;
        b.fill("#activation_time", "soon").await;
        b.click_text("Show (or go live at the time)").await;
        assert!(b.exists(".problem").await, "{}", b.main_text().await);
        b.close().await;
        Ok(())
    }
);

/// The set tree's order under `parent` (`None`: the top level), by name.
async fn sibling_names(server: &Server, token: &str, parent: Option<&str>) -> Vec<String> {
    let path = match parent {
        Some(p) => format!("/v1/sets?parent_public_uuid={p}"),
        None => "/v1/sets".to_owned(),
    };
    server
        .get(token, &path)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

both_engines!(
    metadata_profiles_are_made_assigned_and_chosen_per_upload,
    |env: Env| async move {
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        env.user("ines@example.com", PASSWORD, "acme", "user").await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let b = Browser::start("profiles", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;

        // Made on the page (there was only the command line before).
        b.click_text("Metadata profiles").await;
        assert!(b.exists("#no-profiles").await);
        b.fill("#name", "Festival press").await;
        b.fill("#iptc-creator", "Jane Doe").await;
        b.fill("#iptc-credit_line", "Brightwater Festival").await;
        b.click("#iptc-copyright_marked").await;
        b.click_text("Create the profile").await;
        assert_eq!(b.text(".notice").await, "The profile was created.");
        b.shot("metadata-profiles").await;
        // The same name again: refused beside the form, what was typed kept.
        b.fill("#name", "Festival press").await;
        b.fill("#iptc-creator", "Someone else").await;
        b.click_text("Create the profile").await;
        assert!(b.text(".problem").await.contains("already named"));
        assert_eq!(b.value("#iptc-creator").await, "Someone else");
        b.fill("#name", "Agency pool").await;
        b.fill("#iptc-creator", "Agency Pool").await;
        b.click_text("Create the profile").await;
        let profiles = server.get(&token, "/v1/metadata_profiles").await.json();
        let profiles = profiles.as_array().unwrap().clone();
        assert_eq!(profiles.len(), 2, "{profiles:?}");
        let uuid_of = |name: &str| {
            profiles
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["uuid"].as_str().unwrap().to_owned())
                .unwrap()
        };
        let (press, agency) = (uuid_of("Festival press"), uuid_of("Agency pool"));
        // Changed on its own page; an emptied field is no longer filled.
        b.click_text("Festival press").await;
        b.fill("#iptc-creator", "Jane Q. Doe").await;
        b.fill("#iptc-credit_line", "").await;
        b.shot("metadata-profile").await;
        b.click_text("Save the profile").await;
        assert!(
            b.text(".notice")
                .await
                .starts_with("The profile was saved.")
        );
        let fields = server.get(&token, "/v1/metadata_profiles").await.json();
        let saved = fields
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["uuid"] == press.as_str())
            .unwrap()["fields"]
            .clone();
        assert_eq!(
            saved,
            json!({"creator": "Jane Q. Doe", "copyright_marked": true})
        );

        // The admin's default, chosen on the Users page.
        b.click_text("Users").await;
        let boss_select = b
            .js("return document.querySelector('select[id^=profile-]').id;")
            .await;
        let boss_select = format!("#{}", boss_select.as_str().unwrap());
        b.find(&boss_select)
            .await
            .select_by_value(&press)
            .await
            .unwrap();
        b.follow(&format!("{boss_select} ~ button")).await;
        assert!(
            b.text(".notice")
                .await
                .starts_with("The default metadata profile was changed")
        );
        assert_eq!(b.value(&boss_select).await, press);

        // Upload, choosing per upload: the default, another one, none.
        let upload_one = |choice: String, width: u32| {
            let (b, env, server) = (&b, &env, &server);
            async move {
                b.goto(&server.at("/admin/upload")).await;
                b.find("#metadata_profile")
                    .await
                    .select_by_value(&choice)
                    .await
                    .unwrap();
                let path = env.dir.join(format!("p{width}.jpg"));
                std::fs::write(&path, lightbox_media::fixtures::jpeg(width, 90)).unwrap();
                b.keys("#file", &path.display().to_string()).await;
                let link = lightbox_testkit::eventually(60, || async {
                    let text = b.text("#overall-text").await;
                    text.contains("finished").then_some(())
                })
                .await;
                assert!(link.is_some(), "{}", b.text("#files").await);
                let href = b
                    .js("return document.querySelector('#files a').getAttribute('href');")
                    .await;
                href.as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned()
            }
        };
        let by_default = upload_one(String::new(), 120).await;
        let by_agency = upload_one(agency.clone(), 121).await;
        let by_none = upload_one("none".to_owned(), 122).await;
        let creator = |id: String| {
            let (server, token) = (&server, &token);
            async move {
                let image = server.get(token, &format!("/v1/images/{id}")).await.json();
                image["metadata"]["creator"].clone()
            }
        };
        assert_eq!(creator(by_default).await, "Jane Q. Doe");
        assert_eq!(creator(by_agency).await, "Agency Pool");
        assert_eq!(creator(by_none).await, Value::Null);

        // Deleting asks for the box; then members it was the default of
        // have none.
        let cookie = b.console_cookie().await.unwrap();
        let csrf = lightbox_core::console::csrf_token(&cookie);
        let unconfirmed = post_form(
            &server,
            &cookie,
            &format!("/admin/metadata-profiles/{press}"),
            &[("csrf", &csrf), ("action", "delete")],
        )
        .await;
        assert_eq!(unconfirmed.status, 400);
        assert!(
            unconfirmed.text.contains("Tick the box"),
            "{}",
            unconfirmed.text
        );
        b.goto(&server.at(&format!("/admin/metadata-profiles/{press}")))
            .await;
        b.click("#confirm").await;
        b.click_text("Delete the profile").await;
        assert!(
            b.text(".notice")
                .await
                .starts_with("The profile was deleted.")
        );
        let left = server.get(&token, "/v1/metadata_profiles").await.json();
        assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
        b.goto(&server.at("/admin/users")).await;
        assert_eq!(b.value(&boss_select).await, "");
        b.close().await;

        // Admins only: a `user` member is refused the pages and the writes.
        let member = console_cookie(&server, "ines@example.com", PASSWORD, None).await;
        let page = get_page(&server, &member, "/admin/metadata-profiles").await;
        assert_eq!(page.status, 403);
        let csrf = lightbox_core::console::csrf_token(&member);
        let refused = post_form(
            &server,
            &member,
            "/admin/metadata-profiles",
            &[("csrf", &csrf), ("name", "Mine")],
        )
        .await;
        assert_eq!(refused.status, 403);
        assert_eq!(
            server
                .get(&token, "/v1/metadata_profiles")
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        Ok(())
    }
);

both_engines!(
    the_daily_flows_work_with_the_keyboard_alone,
    |env: Env| async move {
        const ENTER: &str = "\u{E007}";
        env.account("acme").await;
        env.user("boss@example.com", PASSWORD, "acme", "admin")
            .await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        let b = Browser::start("keyboard", env.engine).await;
        sign_in(&b, &server, "boss@example.com", PASSWORD, None).await;

        // A set, typed and submitted with Enter.
        b.goto(&server.at("/admin/sets")).await;
        b.keys("#name", &format!("Shortlist{ENTER}")).await;
        let shortlist = lightbox_testkit::eventually(10, || async {
            let path = b.path().await;
            path.contains("done=created").then(|| set_in_path(&path))
        })
        .await
        .unwrap();

        // Upload: the file input takes the files (what a keyboard user's
        // picker gives it); the keywords are typed.
        b.goto(&server.at("/admin/upload")).await;
        b.keys("#keywords", "day:Friday").await;
        let mut paths = Vec::new();
        for (i, name) in ["A.jpg", "B.jpg", "C.jpg"].iter().enumerate() {
            let path = env.dir.join(name);
            std::fs::write(&path, lightbox_media::fixtures::jpeg(200 + i as u32, 100)).unwrap();
            paths.push(path.display().to_string());
        }
        b.keys("#file", &paths.join("\n")).await;
        let finished = lightbox_testkit::eventually(60, || async {
            let text = b.text("#overall-text").await;
            text.contains("finished").then_some(text)
        })
        .await
        .unwrap_or_default();
        assert!(finished.starts_with("3 of 3 files"), "{finished}");

        // Bulk: Space ticks two tiles, the action is chosen by typing its
        // name, Enter applies it.
        b.goto(&server.at("/admin/library?keyword=day:Friday"))
            .await;
        let picks = b
            .client
            .find_all(fantoccini::Locator::Css("input.pick"))
            .await
            .unwrap();
        assert_eq!(picks.len(), 3);
        picks[0].send_keys(" ").await.unwrap();
        picks[1].send_keys(" ").await.unwrap();
        assert_eq!(b.text("#selected-count").await, "(2 ticked)");
        b.keys("#bulk-action", "Add to").await;
        assert_eq!(b.value("#bulk-action").await, "add_to_set");
        b.keys("#bulk-set", "Shortlist").await;
        assert_eq!(b.value("#bulk-set").await, shortlist);
        b.keys("#bulk-bar button[type=submit]", ENTER).await;
        let added = lightbox_testkit::eventually(30, || async {
            let text = b.text("#bulk-status").await;
            text.contains("changed").then_some(text)
        })
        .await
        .unwrap_or_default();
        assert!(added.starts_with("2 of 2 images changed."), "{added}");

        // The set: Enter on "Last" for the first image; the order follows.
        let order = || async {
            server
                .get(&token, &format!("/v1/sets/{shortlist}/images"))
                .await
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["public_uuid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let before = order().await;
        assert_eq!(before.len(), 2);
        b.goto(&server.at(&format!("/admin/sets/{shortlist}")))
            .await;
        b.keys_follow(
            "#set-images li:first-child button[aria-label^='Last']",
            ENTER,
        )
        .await;
        assert_eq!(order().await, [before[1].clone(), before[0].clone()]);
        // Go live later: Space ticks, the time is typed, Enter on Show.
        b.keys("#set-images li:first-child input[type=checkbox]", " ")
            .await;
        b.keys("#activation_time", "2031-05-01 20:00:00").await;
        b.keys_follow("button[name=hidden][value=false]", ENTER)
            .await;
        assert_eq!(b.text(".notice").await, "The visibility was changed.");
        let image = server
            .get(&token, &format!("/v1/images/{}", before[1]))
            .await
            .json();
        let membership = image["sets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["public_uuid"] == shortlist.as_str())
            .cloned()
            .unwrap();
        assert_eq!(
            membership["activation_time"], "2031-05-01T20:00:00Z",
            "{membership}"
        );
        // Restore the snapshot taken before the move: Enter on its button.
        let row = b
            .js(
                "const rows = [...document.querySelectorAll('#snapshots tbody tr')];
                 return rows.findIndex((r) => r.textContent.includes('move 1 image')) + 1;",
            )
            .await;
        let row = row.as_u64().unwrap();
        assert!(row > 0, "{}", b.text("#snapshots tbody").await);
        b.keys_follow(
            &format!("#snapshots tbody tr:nth-child({row}) button"),
            ENTER,
        )
        .await;
        assert_eq!(b.text(".notice").await, "The snapshot was restored.");
        assert_eq!(order().await, before);

        // Edit an image: the title typed, Enter saves.
        b.goto(&server.at(&format!("/admin/library/{}/edit", before[0])))
            .await;
        b.fill("#title", "Typed by keyboard").await;
        b.keys_follow("#title", ENTER).await;
        let image = server
            .get(&token, &format!("/v1/images/{}", before[0]))
            .await
            .json();
        assert_eq!(image["title"], "Typed by keyboard", "{image}");
        b.close().await;
        Ok(())
    }
);
