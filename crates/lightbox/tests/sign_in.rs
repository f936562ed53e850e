//! Signed-in users over real HTTP, on both engines: passwords, TOTP,
//! device sessions, rotating refresh tokens, rate limits, roles.
//!
//! Servers run with `--debug-clock`: time stands still until the test
//! moves it, so every lifetime and window is checked to the second.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_auth::totp::{self, TotpAlgorithm};
use lightbox_testkit::{Env, Reply, Server, both_engines, secret_of};
use serde_json::{Value, json};

const PASSWORD: &str = "tangerine-bicycle-Orbit-42";

fn device(name: &str) -> Value {
    json!({"name": name, "platform": "linux", "app_version": "1.0"})
}

async fn post_public(server: &Server, path: &str, body: &Value, xff: Option<&str>) -> Reply {
    let mut req = server.http.post(server.at(path)).json(body);
    if let Some(ip) = xff {
        req = req.header("X-Forwarded-For", ip);
    }
    Reply::from(req.send().await).await
}

async fn sign_in(server: &Server, login: &str, password: &str) -> Reply {
    sign_in_from(server, login, password, None).await
}

async fn sign_in_from(server: &Server, login: &str, password: &str, xff: Option<&str>) -> Reply {
    post_public(
        server,
        "/v1/auth/sign_in",
        &json!({"login": login, "password": password, "device": device("test device")}),
        xff,
    )
    .await
}

/// `n` wrong-password sign-ins from `ip`, each for another login
/// (`<prefix><i>@example.com`), each answered 401.
async fn failures_from(server: &Server, ip: &str, prefix: &str, n: usize) {
    for i in 0..n {
        sign_in_from(
            server,
            &format!("{prefix}{i}@example.com"),
            "wrong-password-1",
            Some(ip),
        )
        .await
        .error(401, "unauthorized");
    }
}

/// `n` wrong-password sign-ins for `login`, each from another address
/// (`198.51.100.<first + i>`), each answered 401.
async fn failures_for(server: &Server, login: &str, first: usize, n: usize) {
    for i in 0..n {
        let ip = format!("198.51.100.{}", first + i);
        sign_in_from(server, login, "wrong-password-1", Some(&ip))
            .await
            .error(401, "unauthorized");
    }
}

async fn exchange(server: &Server, refresh: &str, account: &str) -> Reply {
    post_public(
        server,
        "/v1/auth/token",
        &json!({"refresh_token": refresh, "account_uuid": account}),
        None,
    )
    .await
}

/// Signs in (no MFA) and gets an access token: (access, refresh, account uuid).
async fn signed_in(server: &Server, login: &str) -> (String, String, String) {
    let r = sign_in(server, login, PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let account = body["accounts"][0]["uuid"].as_str().unwrap().to_owned();
    let r = exchange(server, body["refresh_token"].as_str().unwrap(), &account).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let grant = r.json();
    (
        grant["access_token"].as_str().unwrap().to_owned(),
        grant["refresh_token"].as_str().unwrap().to_owned(),
        account,
    )
}

/// Argon2 computations the server has run (`lightbox_password_hashes_total`).
async fn password_hashes(server: &Server) -> u64 {
    let text = server
        .http
        .get(server.at("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("lightbox_password_hashes_total "))
        .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
}

async fn code_now(server: &Server, secret: &[u8]) -> String {
    totp::code_at(
        secret,
        TotpAlgorithm::Sha1,
        server.debug_clock_now().await,
        6,
    )
}

/// The error object without its request id (which differs per request).
fn error_sans_id(r: &Reply) -> Value {
    let mut e = r.json()["error"].clone();
    e.as_object_mut().unwrap().remove("request_id");
    e
}

both_engines!(
    password_sign_in_token_me_and_sign_out,
    |env: Env| async move {
        env.account("acme").await;
        let user = env
            .user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let server = env.serve(&["--debug-clock"]).await;

        let r = sign_in(&server, "Jane@Example.com", PASSWORD).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        assert_eq!(body["mfa_required"], false);
        let refresh = body["refresh_token"].as_str().unwrap();
        assert!(
            refresh.starts_with("dpg_rt_") && refresh.len() > 40,
            "{refresh}"
        );
        assert_eq!(body["user"]["uuid"], user.as_str());
        assert_eq!(body["user"]["login"], "jane@example.com");
        assert_eq!(body["accounts"][0]["unique_id"], "acme");
        assert_eq!(body["accounts"][0]["role"], "admin");
        let session = body["device_session_uuid"].as_str().unwrap().to_owned();
        let account = body["accounts"][0]["uuid"].as_str().unwrap().to_owned();

        let r = exchange(&server, refresh, &account).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let grant = r.json();
        assert_eq!(grant["token_type"], "Bearer");
        assert_eq!(grant["expires_in"], 900);
        assert_eq!(grant["account"]["unique_id"], "acme");
        assert_ne!(grant["refresh_token"], refresh, "rotated");
        let access = grant["access_token"].as_str().unwrap();
        assert!(access.starts_with("dpg_at_"));

        let me = server.get(access, "/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.text);
        let me = me.json();
        assert_eq!(me["user"]["login"], "jane@example.com");
        assert_eq!(me["user"]["role"], "admin");
        assert_eq!(me["device_session"]["uuid"], session.as_str());
        assert_eq!(me["device_session"]["name"], "test device");
        assert!(me.get("service_token").is_none());
        let caps: Vec<&str> = me["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(caps.contains(&"api.sets.write") && caps.contains(&"manage.service_tokens"));

        // A user token works on the library like a service token.
        let r = server
            .post(access, "/v1/sets", Some("k1"), &json!({"name": "By Jane"}))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);

        let sessions = server.get(access, "/v1/auth/sessions").await;
        assert_eq!(sessions.status, 200, "{}", sessions.text);
        let list = sessions.json();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["uuid"], session.as_str());
        assert_eq!(list[0]["current"], true);

        let r = server
            .post(access, "/v1/auth/sign_out", None, &json!({}))
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        server
            .get(access, "/v1/me")
            .await
            .error(401, "unauthorized");
        exchange(&server, grant["refresh_token"].as_str().unwrap(), &account)
            .await
            .error(401, "unauthorized");
        Ok(())
    }
);

both_engines!(
    wrong_password_and_unknown_login_answer_alike,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "user").await;
        env.cli(&[
            "user",
            "create",
            "--login",
            "nopass@example.com",
            "--name",
            "N",
        ])
        .await;
        let server = env
            .serve(&["--debug-clock", "--trusted-proxy", "127.0.0.1"])
            .await;
        let wrong = sign_in_from(
            &server,
            "jane@example.com",
            "not-her-password",
            Some("10.0.0.1"),
        )
        .await;
        let unknown = sign_in_from(
            &server,
            "nobody@example.com",
            "not-her-password",
            Some("10.0.0.2"),
        )
        .await;
        let no_password = sign_in_from(
            &server,
            "nopass@example.com",
            "whatever-it-is",
            Some("10.0.0.3"),
        )
        .await;
        wrong.error(401, "unauthorized");
        assert_eq!(error_sans_id(&wrong), error_sans_id(&unknown));
        assert_eq!(error_sans_id(&wrong), error_sans_id(&no_password));
        assert_eq!(
            wrong.header("www-authenticate"),
            unknown.header("www-authenticate")
        );

        // Bad input is a 400 naming the field, before any work.
        let r = post_public(
            &server,
            "/v1/auth/sign_in",
            &json!({"login": "a", "password": "b"}),
            None,
        )
        .await;
        assert_eq!(r.error(400, "validation")["field"], "device");
        let r = post_public(
            &server,
            "/v1/auth/sign_in",
            &json!({"login": "a", "password": "b", "device": device("d"), "remember": true}),
            None,
        )
        .await;
        assert_eq!(r.error(400, "validation")["field"], "remember");
        let long = "x".repeat(1025);
        let r = sign_in(&server, "jane@example.com", &long).await;
        assert_eq!(r.error(400, "validation")["field"], "password");
        let r = post_public(
            &server,
            "/v1/auth/sign_in",
            &json!({"login": "a", "password": "b", "device": {"name": "", "platform": "ios"}}),
            None,
        )
        .await;
        assert_eq!(r.error(400, "validation")["field"], "device.name");
        Ok(())
    }
);

both_engines!(
    refresh_chain_then_reuse_ends_the_session,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let server = env.serve(&["--debug-clock"]).await;
        let r = sign_in(&server, "jane@example.com", PASSWORD).await;
        let body = r.json();
        let account = body["accounts"][0]["uuid"].as_str().unwrap().to_owned();
        // chain[0] is the sign-in's token; five rotations make chain[1..=5].
        let mut chain = vec![body["refresh_token"].as_str().unwrap().to_owned()];
        let mut access = String::new();
        for _ in 0..5 {
            let r = exchange(&server, chain.last().unwrap(), &account).await;
            assert_eq!(r.status, 200, "{}", r.text);
            chain.push(r.json()["refresh_token"].as_str().unwrap().to_owned());
            access = r.json()["access_token"].as_str().unwrap().to_owned();
        }
        assert_eq!(server.get(&access, "/v1/me").await.status, 200);
        // Token #2 shows up again: leaked. The whole session ends.
        let r = exchange(&server, &chain[1], &account).await;
        assert_eq!(
            r.error(401, "unauthorized")["detail"],
            "refresh_token_reused"
        );
        exchange(&server, &chain[5], &account)
            .await
            .error(401, "unauthorized");
        server
            .get(&access, "/v1/me")
            .await
            .error(401, "unauthorized");
        Ok(())
    }
);

both_engines!(
    twenty_concurrent_refreshes_have_one_winner,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        // Strict (the documented default): one winner; the others are reuse.
        let server = env.serve(&["--debug-clock"]).await;
        let body = sign_in(&server, "jane@example.com", PASSWORD).await.json();
        let account = body["accounts"][0]["uuid"].as_str().unwrap().to_owned();
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        let replies = futures_join(&server, &refresh, &account, 20).await;
        let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
        assert_eq!(
            winners.len(),
            1,
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(replies.iter().all(|r| r.status == 200 || r.status == 401));
        server.stop().await;

        // With a grace window: every concurrent caller gets the same successor.
        let server = env
            .serve(&["--debug-clock", "--refresh-grace", "10s"])
            .await;
        let body = sign_in(&server, "jane@example.com", PASSWORD).await.json();
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        let replies = futures_join(&server, &refresh, &account, 20).await;
        assert!(
            replies.iter().all(|r| r.status == 200),
            "{:?}",
            replies.iter().map(|r| &r.text).collect::<Vec<_>>()
        );
        let successors: std::collections::HashSet<String> = replies
            .iter()
            .map(|r| r.json()["refresh_token"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(successors.len(), 1, "one successor");
        let next = successors.into_iter().next().unwrap();
        assert_eq!(
            server
                .get(
                    replies[0].json()["access_token"].as_str().unwrap(),
                    "/v1/me"
                )
                .await
                .status,
            200
        );
        // Within the window, a token older than the immediately previous one
        // still ends the session.
        let body = sign_in(&server, "jane@example.com", PASSWORD).await.json();
        let first = body["refresh_token"].as_str().unwrap().to_owned();
        let second = exchange(&server, &first, &account).await.json()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let third = exchange(&server, &second, &account).await.json()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = exchange(&server, &first, &account).await;
        assert_eq!(
            r.error(401, "unauthorized")["detail"],
            "refresh_token_reused"
        );
        exchange(&server, &third, &account)
            .await
            .error(401, "unauthorized");
        // After the window the old token is reuse again.
        server.advance_debug_clock(11).await;
        let r = exchange(&server, &refresh, &account).await;
        assert_eq!(
            r.error(401, "unauthorized")["detail"],
            "refresh_token_reused"
        );
        exchange(&server, &next, &account)
            .await
            .error(401, "unauthorized");
        Ok(())
    }
);

async fn futures_join(server: &Server, refresh: &str, account: &str, n: usize) -> Vec<Reply> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let http = server.http.clone();
        let url = server.at("/v1/auth/token");
        let body = json!({"refresh_token": refresh, "account_uuid": account});
        tasks.push(tokio::spawn(async move {
            Reply::from(http.post(url).json(&body).send().await).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

both_engines!(two_factor_sign_in, |env: Env| async move {
    env.account("acme").await;
    env.user("jane@example.com", PASSWORD, "acme", "admin")
        .await;
    let (code, uri, err) = env
        .cli_raw(&["user", "mfa", "enable", "jane@example.com"])
        .await;
    assert_eq!(code, 0, "{err}");
    let uri = uri.trim();
    assert!(
        uri.starts_with("otpauth://totp/Lightbox:jane%40example.com?"),
        "{uri}"
    );
    assert!(
        uri.contains("issuer=Lightbox") && uri.contains("digits=6") && uri.contains("period=30")
    );
    let secret = secret_of(uri);
    let recovery: Vec<String> = err
        .lines()
        .map(str::trim)
        .filter(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
        .map(str::to_owned)
        .collect();
    assert_eq!(recovery.len(), 10, "{err}");
    let server = env.serve(&["--debug-clock"]).await;

    let start = |server: &Server| {
        let server_http = server.http.clone();
        let url = server.at("/v1/auth/sign_in");
        async move {
            let r = Reply::from(
                server_http
                    .post(url)
                    .json(&json!({"login": "jane@example.com", "password": PASSWORD, "device": device("phone")}))
                    .send()
                    .await,
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let body = r.json();
            assert_eq!(body["mfa_required"], true);
            assert_eq!(body["expires_in"], 300);
            assert!(body.get("refresh_token").is_none());
            body["mfa_token"].as_str().unwrap().to_owned()
        }
    };
    let mfa = |token: &str, code: &str| {
        let body = json!({"mfa_token": token, "code": code});
        let http = server.http.clone();
        let url = server.at("/v1/auth/mfa");
        async move { Reply::from(http.post(url).json(&body).send().await).await }
    };

    // Wrong code, then the right one.
    let token = start(&server).await;
    assert!(token.starts_with("dpg_mfa_"));
    let now_code = code_now(&server, &secret).await;
    let wrong = if now_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    mfa(&token, wrong).await.error(401, "unauthorized");
    let r = mfa(&token, &now_code).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["mfa_required"], false);
    assert!(
        r.json()["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("dpg_rt_")
    );
    // The mfa_token is single-use.
    mfa(&token, &now_code).await.error(401, "unauthorized");

    // The same code again (a new sign-in, same 30 s step): replay refused.
    let token = start(&server).await;
    mfa(&token, &now_code).await.error(401, "unauthorized");
    // The next step's code is fine (±1 step).
    server.advance_debug_clock(30).await;
    let next = code_now(&server, &secret).await;
    assert_eq!(mfa(&token, &next).await.status, 200);

    // A recovery code works once.
    let token = start(&server).await;
    assert_eq!(mfa(&token, &recovery[0].to_uppercase()).await.status, 200);
    let token = start(&server).await;
    mfa(&token, &recovery[0]).await.error(401, "unauthorized");

    // Expired after 5 minutes.
    server.advance_debug_clock(60).await;
    let token = start(&server).await;
    server.advance_debug_clock(301).await;
    let code = code_now(&server, &secret).await;
    mfa(&token, &code).await.error(401, "unauthorized");

    // At most 5 wrong codes: the right one after them is refused.
    server.advance_debug_clock(60).await;
    let token = start(&server).await;
    for _ in 0..5 {
        mfa(&token, "999999x").await.error(401, "unauthorized");
    }
    let code = code_now(&server, &secret).await;
    mfa(&token, &code).await.error(401, "unauthorized");
    Ok(())
});

both_engines!(
    sign_in_rate_limits_per_ip_and_per_login,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "user").await;
        let server = env
            .serve(&["--debug-clock", "--trusted-proxy", "127.0.0.1"])
            .await;

        // Per IP: 10 failures (different logins), then 429 with the exact wait.
        failures_from(&server, "192.0.2.7", "x", 10).await;
        let r = sign_in_from(
            &server,
            "x@example.com",
            "wrong-password-1",
            Some("192.0.2.7"),
        )
        .await;
        assert_eq!(r.error(429, "rate_limited")["detail"], "ip");
        assert_eq!(r.header("retry-after").as_deref(), Some("60"));
        // Even the right password waits: the limit is checked before hashing.
        let r = sign_in_from(&server, "jane@example.com", PASSWORD, Some("192.0.2.7")).await;
        r.error(429, "rate_limited");
        server.advance_debug_clock(59).await;
        let r = sign_in_from(
            &server,
            "x@example.com",
            "wrong-password-1",
            Some("192.0.2.7"),
        )
        .await;
        assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        server.advance_debug_clock(1).await;
        sign_in_from(
            &server,
            "x@example.com",
            "wrong-password-1",
            Some("192.0.2.7"),
        )
        .await
        .error(401, "unauthorized");
        // Another address is not affected.
        assert_eq!(
            sign_in_from(&server, "jane@example.com", PASSWORD, Some("192.0.2.8"))
                .await
                .status,
            200
        );

        // Per login: 5 free failures, then growing delays (1 s, 2 s, …), from any address.
        failures_for(&server, "jane@example.com", 0, 6).await;
        let hashes = password_hashes(&server).await;
        let r = sign_in_from(&server, "jane@example.com", PASSWORD, Some("198.51.100.50")).await;
        assert_eq!(r.error(429, "rate_limited")["detail"], "login");
        assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        assert_eq!(
            password_hashes(&server).await,
            hashes,
            "refused before any hashing"
        );
        server.advance_debug_clock(1).await;
        sign_in_from(
            &server,
            "jane@example.com",
            "wrong-password-1",
            Some("198.51.100.51"),
        )
        .await
        .error(401, "unauthorized");
        let r = sign_in_from(&server, "jane@example.com", PASSWORD, Some("198.51.100.52")).await;
        assert_eq!(r.header("retry-after").as_deref(), Some("2"));
        // Never a lock-out: after the wait the real user gets in, and the
        // failures are forgotten.
        server.advance_debug_clock(2).await;
        assert_eq!(
            sign_in_from(&server, "jane@example.com", PASSWORD, Some("198.51.100.53"))
                .await
                .status,
            200
        );
        sign_in_from(
            &server,
            "jane@example.com",
            "wrong-password-1",
            Some("198.51.100.54"),
        )
        .await
        .error(401, "unauthorized");
        assert_eq!(
            sign_in_from(&server, "jane@example.com", PASSWORD, Some("198.51.100.55"))
                .await
                .status,
            200
        );
        // Blocked for new addresses again, but not from the address where
        // Jane signed in before: someone hammering her login elsewhere does
        // not lock her out at home.
        failures_for(&server, "jane@example.com", 70, 6).await;
        let r = sign_in_from(&server, "jane@example.com", PASSWORD, Some("198.51.100.80")).await;
        assert_eq!(r.error(429, "rate_limited")["detail"], "login");
        assert_eq!(
            sign_in_from(&server, "jane@example.com", PASSWORD, Some("192.0.2.8"))
                .await
                .status,
            200
        );
        Ok(())
    }
);

both_engines!(
    two_servers_share_limits_and_see_sign_out_at_once,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let a = env.serve(&["--trusted-proxy", "127.0.0.1"]).await;
        let b = env.serve(&["--trusted-proxy", "127.0.0.1"]).await;
        failures_from(&a, "203.0.113.9", "y", 10).await;
        let r = sign_in_from(&b, "y@example.com", "wrong-password-1", Some("203.0.113.9")).await;
        r.error(429, "rate_limited");
        let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&secs), "{secs}");

        // Per login too: five failures on one server, the delay on the other.
        failures_for(&a, "jane@example.com", 0, 6).await;
        let r = sign_in_from(&b, "jane@example.com", PASSWORD, Some("198.51.100.9")).await;
        assert_eq!(r.error(429, "rate_limited")["detail"], "login");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (access, _, _) = signed_in(&a, "jane@example.com").await;
        assert_eq!(b.get(&access, "/v1/me").await.status, 200);
        let r = a.post(&access, "/v1/auth/sign_out", None, &json!({})).await;
        assert_eq!(r.status, 204);
        // The very next request on the other server is refused.
        b.get(&access, "/v1/me").await.error(401, "unauthorized");
        Ok(())
    }
);

both_engines!(
    only_admin_user_tokens_manage_service_tokens,
    |env: Env| async move {
        env.account("acme").await;
        env.user("admin@example.com", PASSWORD, "acme", "admin")
            .await;
        env.user("editor@example.com", PASSWORD, "acme", "user")
            .await;
        let service = env.token("acme", "all", &[]).await;
        let server = env.serve(&["--debug-clock"]).await;
        let (admin, _, _) = signed_in(&server, "admin@example.com").await;
        let (editor, _, _) = signed_in(&server, "editor@example.com").await;

        let body = json!({"name": "CI upload", "scopes": ["api.images.read", "api.upload"], "allowed_ips": ["127.0.0.1"]});
        for (who, token) in [("service token", &service), ("user role", &editor)] {
            let r = server.get(token, "/v1/service_tokens").await;
            assert_eq!(
                r.error(403, "forbidden")["detail"],
                "admin_required",
                "{who}"
            );
            let r = server
                .post(token, "/v1/service_tokens", Some("k"), &body)
                .await;
            r.error(403, "forbidden");
            let r = Reply::from(
                server
                    .http
                    .delete(server.at(&format!("/v1/service_tokens/{}", uuid::Uuid::new_v4())))
                    .bearer_auth(token)
                    .header("Idempotency-Key", "d")
                    .send()
                    .await,
            )
            .await;
            r.error(403, "forbidden");
        }
        // The user role reads and writes the library.
        assert_eq!(server.get(&editor, "/v1/sets").await.status, 200);
        let me = server.get(&editor, "/v1/me").await.json();
        assert_eq!(me["user"]["role"], "user");
        let caps = me["capabilities"].as_array().unwrap();
        assert!(caps.contains(&json!("own_images_only")));
        assert!(!caps.contains(&json!("manage.service_tokens")));

        // The admin creates one: the secret once, in the answer.
        server
            .post(&admin, "/v1/service_tokens", None, &body)
            .await
            .error(400, "validation");
        let r = server
            .post(&admin, "/v1/service_tokens", Some("create-1"), &body)
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let op = r.json();
        assert_eq!(op["status"], "succeeded");
        let secret = op["result"]["token"].as_str().unwrap().to_owned();
        let uuid = op["result"]["service_token"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("dpg_api_live_"));
        let me = server.get(&secret, "/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.json()["service_token"]["uuid"], uuid.as_str());
        // Replayed: the same Operation, without the secret.
        let again = server
            .post(&admin, "/v1/service_tokens", Some("create-1"), &body)
            .await;
        assert_eq!(again.status, 202);
        assert_eq!(again.json()["uuid"], op["uuid"]);
        assert!(again.json()["result"].get("token").is_none());
        let polled = server
            .get(
                &admin,
                &format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
            )
            .await;
        assert!(!polled.text.contains(&secret), "the secret is never stored");
        // Bad options are refused, naming the field.
        let r = server
            .post(
                &admin,
                "/v1/service_tokens",
                Some("create-2"),
                &json!({"name": "x", "scopes": ["api.everything"]}),
            )
            .await;
        r.error(400, "validation");
        let r = server
            .post(
                &admin,
                "/v1/service_tokens",
                Some("create-3"),
                &json!({"name": "x", "scopes": ["api.upload"], "allowed_ips": ["nope"]}),
            )
            .await;
        assert_eq!(r.error(400, "validation")["field"], "allowed_ips[0]");
        let list = server.get(&admin, "/v1/service_tokens").await;
        assert_eq!(list.status, 200);
        assert!(
            list.json()
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["uuid"] == uuid.as_str())
        );
        assert!(!list.text.contains(&secret));

        // Revoked: refused from the next request on.
        let del = |key: &'static str, id: String| {
            let http = server.http.clone();
            let url = server.at(&format!("/v1/service_tokens/{id}"));
            let admin = admin.clone();
            async move {
                Reply::from(
                    http.delete(url)
                        .bearer_auth(admin)
                        .header("Idempotency-Key", key)
                        .send()
                        .await,
                )
                .await
            }
        };
        let r = del("revoke-1", uuid.clone()).await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert!(r.json()["result"]["service_token"]["revoked_at"].is_string());
        server
            .get(&secret, "/v1/me")
            .await
            .error(401, "unauthorized");
        del("revoke-2", uuid::Uuid::new_v4().to_string())
            .await
            .error(404, "not_found");
        Ok(())
    }
);

both_engines!(
    lifetimes_of_access_refresh_and_session,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let server = env.serve(&["--debug-clock", "--session-max", "40d"]).await;
        let (access, refresh, account) = signed_in(&server, "jane@example.com").await;
        // Access token: 15 minutes.
        server.advance_debug_clock(899).await;
        assert_eq!(server.get(&access, "/v1/me").await.status, 200);
        server.advance_debug_clock(1).await;
        server
            .get(&access, "/v1/me")
            .await
            .error(401, "unauthorized");
        // Refresh token: 30 days from issue.
        server.advance_debug_clock(30 * 86400 - 900 - 1).await;
        let r = exchange(&server, &refresh, &account).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let refresh = r.json()["refresh_token"].as_str().unwrap().to_owned();
        server.advance_debug_clock(30 * 86400).await;
        exchange(&server, &refresh, &account)
            .await
            .error(401, "unauthorized");

        // Session: at most --session-max (40 days here) however often it refreshes.
        let (_, mut refresh, _) = signed_in(&server, "jane@example.com").await;
        for _ in 0..3 {
            server.advance_debug_clock(13 * 86400).await;
            let r = exchange(&server, &refresh, &account).await;
            assert_eq!(r.status, 200, "{}", r.text);
            refresh = r.json()["refresh_token"].as_str().unwrap().to_owned();
        }
        server.advance_debug_clock(86400 + 1).await;
        exchange(&server, &refresh, &account)
            .await
            .error(401, "unauthorized");
        Ok(())
    }
);

both_engines!(
    disabling_a_user_and_changing_passwords_end_sessions,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let server = env.serve(&["--debug-clock"]).await;
        let (first, _, _) = signed_in(&server, "jane@example.com").await;
        let (second, _, _) = signed_in(&server, "jane@example.com").await;

        // Password change: rules, current password, other sessions end.
        let change = |token: &str, current: &str, new: &str| {
            let http = server.http.clone();
            let url = server.at("/v1/auth/password");
            let token = token.to_owned();
            let body = json!({"current_password": current, "new_password": new});
            async move { Reply::from(http.post(url).bearer_auth(token).json(&body).send().await).await }
        };
        let r = change(&second, PASSWORD, "password1").await;
        assert_eq!(r.error(400, "validation")["field"], "new_password");
        let r = change(&second, PASSWORD, "jane@example.com1").await;
        r.error(400, "validation");
        let r = change(&second, "not-the-password", "quartz-Lantern-meadow-88").await;
        assert_eq!(r.error(400, "validation")["field"], "current_password");
        let r = change(&second, PASSWORD, "quartz-Lantern-meadow-88").await;
        assert_eq!(r.status, 204, "{}", r.text);
        server
            .get(&first, "/v1/me")
            .await
            .error(401, "unauthorized");
        assert_eq!(server.get(&second, "/v1/me").await.status, 200);
        sign_in(&server, "jane@example.com", PASSWORD)
            .await
            .error(401, "unauthorized");
        assert_eq!(
            sign_in(&server, "jane@example.com", "quartz-Lantern-meadow-88")
                .await
                .status,
            200
        );

        // Disabled: every session ends at once; sign-in answers like a wrong password.
        env.cli(&["user", "disable", "jane@example.com"]).await;
        server
            .get(&second, "/v1/me")
            .await
            .error(401, "unauthorized");
        sign_in(&server, "jane@example.com", "quartz-Lantern-meadow-88")
            .await
            .error(401, "unauthorized");
        env.cli(&["user", "enable", "jane@example.com"]).await;
        assert_eq!(
            sign_in(&server, "jane@example.com", "quartz-Lantern-meadow-88")
                .await
                .status,
            200
        );

        // Weak passwords are refused by the CLI too.
        let (code, _, err) = env
            .cli_stdin(
                &[
                    "user",
                    "create",
                    "--login",
                    "bob@example.com",
                    "--name",
                    "Bob",
                    "--password-stdin",
                ],
                "12345678\n",
            )
            .await;
        assert_eq!(code, 1, "{err}");
        Ok(())
    }
);

both_engines!(
    sessions_are_listed_and_ended_one_by_one,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        env.user("bob@example.com", PASSWORD, "acme", "admin").await;
        let server = env.serve(&["--debug-clock"]).await;
        let (phone, _, _) = signed_in(&server, "jane@example.com").await;
        let (laptop, _, _) = signed_in(&server, "jane@example.com").await;
        let (bob, _, _) = signed_in(&server, "bob@example.com").await;
        let list = server.get(&laptop, "/v1/auth/sessions").await.json();
        assert_eq!(list.as_array().unwrap().len(), 2);
        let phone_session = server.get(&phone, "/v1/me").await.json()["device_session"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let delete = |token: &str, id: &str| {
            let http = server.http.clone();
            let url = server.at(&format!("/v1/auth/sessions/{id}"));
            let token = token.to_owned();
            async move { Reply::from(http.delete(url).bearer_auth(token).send().await).await }
        };
        // Not Bob's to end.
        delete(&bob, &phone_session).await.error(404, "not_found");
        assert_eq!(delete(&laptop, &phone_session).await.status, 204);
        server
            .get(&phone, "/v1/me")
            .await
            .error(401, "unauthorized");
        assert_eq!(server.get(&laptop, "/v1/me").await.status, 200);
        delete(&laptop, &phone_session)
            .await
            .error(404, "not_found");
        delete(&laptop, "not-a-uuid").await.error(404, "not_found");

        // Signing in again with the same device_id replaces that device's session.
        let with_id = json!({"login": "bob@example.com", "password": PASSWORD,
            "device": {"name": "Bob's phone", "platform": "ios", "device_id": "bob-phone-1"}});
        let r1 = post_public(&server, "/v1/auth/sign_in", &with_id, None)
            .await
            .json();
        let r2 = post_public(&server, "/v1/auth/sign_in", &with_id, None)
            .await
            .json();
        let account = r1["accounts"][0]["uuid"].as_str().unwrap().to_owned();
        exchange(&server, r1["refresh_token"].as_str().unwrap(), &account)
            .await
            .error(401, "unauthorized");
        assert_eq!(
            exchange(&server, r2["refresh_token"].as_str().unwrap(), &account)
                .await
                .status,
            200
        );
        // A service token has no sessions.
        let service = env.token("acme", "all", &[]).await;
        server
            .get(&service, "/v1/auth/sessions")
            .await
            .error(403, "forbidden");
        Ok(())
    }
);

both_engines!(
    enrolling_and_disabling_two_factor_through_the_api,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let server = env.serve(&["--debug-clock"]).await;
        let (other, _, _) = signed_in(&server, "jane@example.com").await;
        let (me, _, _) = signed_in(&server, "jane@example.com").await;
        let call = |path: &str, body: Value| {
            let http = server.http.clone();
            let url = server.at(path);
            let me = me.clone();
            async move { Reply::from(http.post(url).bearer_auth(me).json(&body).send().await).await }
        };
        call(
            "/v1/auth/mfa/setup",
            json!({"password": "wrong-password-1"}),
        )
        .await
        .error(400, "validation");
        let r = call("/v1/auth/mfa/setup", json!({"password": PASSWORD})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let secret = secret_of(r.json()["otpauth_uri"].as_str().unwrap());
        assert_eq!(totp::base32(&secret), r.json()["secret"].as_str().unwrap());
        // Not on until confirmed: sign-in still needs no code.
        assert_eq!(
            sign_in(&server, "jane@example.com", PASSWORD).await.json()["mfa_required"],
            false
        );
        call("/v1/auth/mfa/enable", json!({"code": "000000x"}))
            .await
            .error(400, "validation");
        let code = code_now(&server, &secret).await;
        let r = call("/v1/auth/mfa/enable", json!({"code": code})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["recovery_codes"].as_array().unwrap().len(), 10);
        // Other sessions ended; this one goes on.
        server
            .get(&other, "/v1/me")
            .await
            .error(401, "unauthorized");
        assert_eq!(server.get(&me, "/v1/me").await.status, 200);
        assert_eq!(
            sign_in(&server, "jane@example.com", PASSWORD).await.json()["mfa_required"],
            true
        );
        let (third, _, _) = {
            let r = sign_in(&server, "jane@example.com", PASSWORD).await.json();
            let token = r["mfa_token"].as_str().unwrap().to_owned();
            server.advance_debug_clock(30).await;
            let code = code_now(&server, &secret).await;
            let r = post_public(
                &server,
                "/v1/auth/mfa",
                &json!({"mfa_token": token, "code": code}),
                None,
            )
            .await
            .json();
            let account = r["accounts"][0]["uuid"].as_str().unwrap().to_owned();
            let g = exchange(&server, r["refresh_token"].as_str().unwrap(), &account)
                .await
                .json();
            (g["access_token"].as_str().unwrap().to_owned(), (), ())
        };
        assert_eq!(server.get(&third, "/v1/me").await.status, 200);
        // On: switching it off takes a current code too.
        let e = call("/v1/auth/mfa/disable", json!({"password": PASSWORD}))
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "code");
        server.advance_debug_clock(30).await;
        let code = code_now(&server, &secret).await;
        let body = json!({"password": PASSWORD, "code": code});
        let r = call("/v1/auth/mfa/disable", body).await;
        assert_eq!(r.status, 204, "{}", r.text);
        server
            .get(&third, "/v1/me")
            .await
            .error(401, "unauthorized");
        assert_eq!(
            sign_in(&server, "jane@example.com", PASSWORD).await.json()["mfa_required"],
            false
        );
        Ok(())
    }
);

/// An access token of a user with two-factor on (the code of the next step,
/// so no step is spent twice).
async fn signed_in_with_code(server: &Server, login: &str, secret: &[u8]) -> String {
    let r = sign_in(server, login, PASSWORD).await.json();
    let mfa_token = r["mfa_token"].as_str().unwrap().to_owned();
    server.advance_debug_clock(30).await;
    let code = code_now(server, secret).await;
    let body = json!({"mfa_token": mfa_token, "code": code});
    let r = post_public(server, "/v1/auth/mfa", &body, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = r.json();
    let account = r["accounts"][0]["uuid"].as_str().unwrap();
    let grant = exchange(server, r["refresh_token"].as_str().unwrap(), account).await;
    grant.json()["access_token"].as_str().unwrap().to_owned()
}

both_engines!(
    replacing_or_disabling_an_active_second_factor_needs_a_code,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let (_, uri, err) = env
            .cli_raw(&["user", "mfa", "enable", "jane@example.com"])
            .await;
        let secret = secret_of(uri.trim());
        let recovery: Vec<String> = err
            .lines()
            .map(str::trim)
            .filter(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
            .map(str::to_owned)
            .collect();
        assert_eq!(recovery.len(), 10, "{err}");
        let server = env.serve(&["--debug-clock"]).await;
        let me = signed_in_with_code(&server, "jane@example.com", &secret).await;
        let call = |path: &str, body: Value| {
            let http = server.http.clone();
            let url = server.at(path);
            let me = me.clone();
            async move { Reply::from(http.post(url).bearer_auth(me).json(&body).send().await).await }
        };
        // The password and a live access token are not enough: no code, an
        // empty one, a wrong one, or the code just spent signing in.
        let spent = code_now(&server, &secret).await;
        for path in ["/v1/auth/mfa/setup", "/v1/auth/mfa/disable"] {
            for code in [None, Some(""), Some("000000"), Some(spent.as_str())] {
                let mut body = json!({"password": PASSWORD});
                if let Some(code) = code {
                    body["code"] = json!(code);
                }
                let e = call(path, body).await.error(400, "validation");
                assert_eq!(e["field"], "code", "{path} {code:?}");
            }
            // A wrong password is judged first; the code is not spent.
            server.advance_debug_clock(30).await;
            let code = code_now(&server, &secret).await;
            let body = json!({"password": "wrong-password-1", "code": code});
            let e = call(path, body).await.error(400, "validation");
            assert_eq!(e["field"], "password");
        }
        // Nothing changed: still on with the old secret, this session alive.
        assert_eq!(server.get(&me, "/v1/me").await.status, 200);
        let again = signed_in_with_code(&server, "jane@example.com", &secret).await;
        assert_eq!(server.get(&again, "/v1/me").await.status, 200);

        // Replacing with a current code: a new secret, on once confirmed.
        server.advance_debug_clock(30).await;
        let code = code_now(&server, &secret).await;
        let r = call(
            "/v1/auth/mfa/setup",
            json!({"password": PASSWORD, "code": code}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let fresh = secret_of(r.json()["otpauth_uri"].as_str().unwrap());
        let code = code_now(&server, &fresh).await;
        let r = call("/v1/auth/mfa/enable", json!({"code": code})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let fresh_recovery: Vec<String> = r.json()["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        // The old recovery codes went with the old secret.
        let body = json!({"password": PASSWORD, "code": recovery[1]});
        let e = call("/v1/auth/mfa/disable", body)
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "code");
        // Disabling with an unused recovery code of the new set.
        let body = json!({"password": PASSWORD, "code": fresh_recovery[0]});
        let r = call("/v1/auth/mfa/disable", body).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(
            sign_in(&server, "jane@example.com", PASSWORD).await.json()["mfa_required"],
            false
        );
        // Off: setting up again needs only the password.
        let r = call("/v1/auth/mfa/setup", json!({"password": PASSWORD})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        Ok(())
    }
);

both_engines!(
    second_factor_guesses_are_limited_per_login_and_judged_once,
    |env: Env| async move {
        env.account("acme").await;
        env.user("jane@example.com", PASSWORD, "acme", "admin")
            .await;
        let (_, uri, _) = env
            .cli_raw(&["user", "mfa", "enable", "jane@example.com"])
            .await;
        let secret = secret_of(uri.trim());
        let server = env
            .serve(&["--debug-clock", "--trusted-proxy", "127.0.0.1"])
            .await;
        let mfa_token = |ip: String| {
            let http = server.http.clone();
            let url = server.at("/v1/auth/sign_in");
            async move {
                let r = Reply::from(
                    http.post(url)
                        .header("X-Forwarded-For", ip)
                        .json(&json!({"login": "jane@example.com", "password": PASSWORD, "device": device("d")}))
                        .send()
                        .await,
                )
                .await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.json()["mfa_token"].as_str().unwrap().to_owned()
            }
        };
        let mfa = |token: String, code: String, ip: String| {
            let http = server.http.clone();
            let url = server.at("/v1/auth/mfa");
            async move {
                Reply::from(
                    http.post(url)
                        .header("X-Forwarded-For", ip)
                        .json(&json!({"mfa_token": token, "code": code}))
                        .send()
                        .await,
                )
                .await
            }
        };

        // Concurrent uses of one mfa_token with the right code: one sign-in.
        let token = mfa_token("192.0.2.1".to_owned()).await;
        let code = code_now(&server, &secret).await;
        let tasks: Vec<_> = (0..6)
            .map(|_| tokio::spawn(mfa(token.clone(), code.clone(), "192.0.2.1".to_owned())))
            .collect();
        let mut ok = 0;
        for t in tasks {
            let r = t.await.unwrap();
            // Losers are failures (401), or refused by the login's delay
            // once their provisional failures add up (429).
            assert!(matches!(r.status, 200 | 401 | 429), "{}", r.text);
            ok += usize::from(r.status == 200);
        }
        assert_eq!(ok, 1, "one mfa_token, one sign-in");
        // Two tokens, one code, at once: the code is accepted once.
        server.advance_debug_clock(30).await;
        // (From the address that just completed a sign-in: known, so the
        // failures the losers above counted do not delay it.)
        let (t1, t2) = (
            mfa_token("192.0.2.1".to_owned()).await,
            mfa_token("192.0.2.1".to_owned()).await,
        );
        let code = code_now(&server, &secret).await;
        let (a, b) = tokio::join!(
            mfa(t1, code.clone(), "192.0.2.1".to_owned()),
            mfa(t2, code.clone(), "192.0.2.1".to_owned())
        );
        assert_eq!(
            [a.status, b.status].iter().filter(|s| **s == 200).count(),
            1,
            "{} / {}",
            a.text,
            b.text
        );

        // Knowing the password does not buy fresh code guesses: a correct
        // password leaves the login's count standing until a code is right.
        server.advance_debug_clock(120).await;
        let token = mfa_token("198.51.100.1".to_owned()).await;
        // Five wrong codes kill the mfa_token (or the login's delay stops
        // them sooner, if earlier failures still count).
        for i in 0..5 {
            let r = mfa(
                token.clone(),
                "000000x".to_owned(),
                format!("198.51.100.{}", 10 + i),
            )
            .await;
            if r.status == 429 {
                assert_eq!(r.error(429, "rate_limited")["detail"], "login");
                break;
            }
            r.error(401, "unauthorized");
        }
        // A new sign-in with the right password does not reset the count:
        // no fresh round of guesses.
        let r = Reply::from(
            server
                .http
                .post(server.at("/v1/auth/sign_in"))
                .header("X-Forwarded-For", "198.51.100.30")
                .json(&json!({"login": "jane@example.com", "password": PASSWORD, "device": device("d")}))
                .send()
                .await,
        )
        .await;
        assert_eq!(r.error(429, "rate_limited")["detail"], "login");
        Ok(())
    }
);
