//! Service-token rules over real HTTP, on both engines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lightbox_testkit::{Env, Server, both_engines};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_engines!(
    me_shows_the_token_and_its_capabilities,
    |env: Env| async move {
        env.account("acme").await;
        let token = env
            .token(
                "acme",
                "api.images.read,api.upload",
                &[
                    "--allow-ip",
                    "127.0.0.0/8",
                    "--max-request-bytes",
                    "4096",
                    "--expires-in",
                    "30d",
                ],
            )
            .await;
        assert!(
            token.starts_with("dpg_api_live_") && token.len() == 62,
            "{token}"
        );
        let server = env.serve(&[]).await;
        let r = server.get(&token, "/v1/me").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let me = r.json();
        assert_eq!(me["account"]["unique_id"], "acme");
        assert_eq!(
            me["service_token"]["scopes"],
            json!(["api.images.read", "api.upload"])
        );
        assert_eq!(me["capabilities"], json!(["api.images.read", "api.upload"]));
        assert_eq!(me["service_token"]["allowed_ips"], json!(["127.0.0.0/8"]));
        assert_eq!(me["service_token"]["max_request_bytes"], 4096);
        assert!(me["service_token"]["expires_at"].as_str().is_some());
        let display = me["service_token"]["display"].as_str().unwrap();
        assert!(
            display.starts_with("dpg_api_live_…") && display.ends_with(&token[58..]),
            "{display}"
        );
        assert!(!r.text.contains(&token), "the secret is never shown again");
        Ok(())
    }
);

both_engines!(bad_credentials_are_401, |env: Env| async move {
    env.account("acme").await;
    let token = env.token("acme", "all", &[]).await;
    let server = env.serve(&[]).await;
    // missing
    let r = lightbox_testkit::Reply::from(server.http.get(server.at("/v1/me")).send().await).await;
    r.error(401, "unauthorized");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    // malformed
    server
        .get("not-a-token", "/v1/me")
        .await
        .error(401, "unauthorized");
    server
        .get(&token[..40], "/v1/me")
        .await
        .error(401, "unauthorized");
    // wrong checksum: one character of the secret changed
    let mut chars: Vec<char> = token.chars().collect();
    chars[20] = if chars[20] == 'x' { 'y' } else { 'x' };
    let altered: String = chars.into_iter().collect();
    let e = server
        .get(&altered, "/v1/me")
        .await
        .error(401, "unauthorized");
    assert!(e["message"].as_str().unwrap().contains("checksum"), "{e}");
    // well-formed, valid checksum, but unknown here
    let other = Env::new(env.engine).await;
    other.account("elsewhere").await;
    let stranger = other.token("elsewhere", "all", &[]).await;
    server
        .get(&stranger, "/v1/me")
        .await
        .error(401, "unauthorized");
    // and the real one works
    assert_eq!(server.get(&token, "/v1/me").await.status, 200);
    Ok(())
});

both_engines!(expired_token_is_401, |env: Env| async move {
    env.account("acme").await;
    let token = env.token("acme", "all", &["--expires-in", "2s"]).await;
    let server = env.serve(&[]).await;
    assert_eq!(server.get(&token, "/v1/me").await.status, 200);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let e = server
        .get(&token, "/v1/me")
        .await
        .error(401, "unauthorized");
    assert!(e["message"].as_str().unwrap().contains("expired"));
    Ok(())
});

both_engines!(
    revoked_token_is_401_on_the_next_request,
    |env: Env| async move {
        env.account("acme").await;
        let token = env.token("acme", "all", &[]).await;
        let listed: serde_json::Value = serde_json::from_str(
            &env.cli(&["token", "list", "--account", "acme", "--json"])
                .await,
        )?;
        let uuid = listed[0]["uuid"].as_str().unwrap().to_owned();
        // Strict mode: no cache, so a revocation from another process (the CLI)
        // bites on the very next request.
        let strict = env.serve(&["--auth-cache-ttl-ms", "0"]).await;
        // Default mode: a token is re-read at most 100 ms after it was checked.
        let cached = env.serve(&[]).await;
        assert_eq!(strict.get(&token, "/v1/me").await.status, 200);
        assert_eq!(cached.get(&token, "/v1/me").await.status, 200);
        env.cli(&["token", "revoke", &uuid]).await;
        let e = strict
            .get(&token, "/v1/me")
            .await
            .error(401, "unauthorized");
        assert!(e["message"].as_str().unwrap().contains("revoked"));
        tokio::time::sleep(Duration::from_millis(150)).await;
        cached
            .get(&token, "/v1/me")
            .await
            .error(401, "unauthorized");
        let listed: serde_json::Value = serde_json::from_str(
            &env.cli(&["token", "list", "--account", "acme", "--json"])
                .await,
        )?;
        assert!(listed[0]["revoked_at"].as_str().is_some());
        Ok(())
    }
);

both_engines!(another_accounts_objects_are_404, |env: Env| async move {
    env.account("a").await;
    env.account("b").await;
    let ta = env.token("a", "all", &[]).await;
    let tb = env.token("b", "all", &[]).await;
    let server = env.serve(&[]).await;
    let op = server
        .post(&ta, "/v1/sets", Some("k1"), &json!({"name": "A's set"}))
        .await
        .json();
    let set = op["set_public_uuid"].as_str().unwrap();
    let op_id = op["uuid"].as_str().unwrap();
    assert_eq!(
        server.get(&ta, &format!("/v1/sets/{set}")).await.status,
        200
    );
    server
        .get(&tb, &format!("/v1/sets/{set}"))
        .await
        .error(404, "set_not_found");
    server
        .get(&tb, &format!("/v1/operations/{op_id}"))
        .await
        .error(404, "operation_not_found");
    server
        .get(&tb, &format!("/v1/sets?parent_public_uuid={set}"))
        .await
        .error(404, "set_not_found");
    server
        .post(
            &tb,
            "/v1/sets",
            Some("k2"),
            &json!({"name": "child", "parent_public_uuid": set}),
        )
        .await
        .error(404, "set_not_found");
    let listed = server.get(&tb, "/v1/sets").await.json();
    assert_eq!(listed, json!([]));
    // Idempotency keys are per account: b may use "k1" for its own write.
    let op_b = server
        .post(&tb, "/v1/sets", Some("k1"), &json!({"name": "A's set"}))
        .await;
    assert_eq!(op_b.status, 202);
    assert_ne!(op_b.json()["uuid"], op["uuid"]);
    Ok(())
});

both_engines!(
    ip_allow_list_v4_v6_and_forwarded_for,
    |env: Env| async move {
        env.account("acme").await;
        let loopback = env.token("acme", "all", &["--allow-ip", "127.0.0.1"]).await;
        let elsewhere = env
            .token(
                "acme",
                "all",
                &["--allow-ip", "10.0.0.0/8", "--allow-ip", "2001:db8::/32"],
            )
            .await;
        let office = env
            .token("acme", "all", &["--allow-ip", "203.0.113.0/24"])
            .await;
        let v6 = env.token("acme", "all", &["--allow-ip", "::1/128"]).await;
        let server = env.serve(&[]).await;
        assert_eq!(server.get(&loopback, "/v1/me").await.status, 200);
        let e = server
            .get(&elsewhere, "/v1/me")
            .await
            .error(403, "forbidden");
        assert!(e["message"].as_str().unwrap().contains("127.0.0.1"));
        // A spoofed X-Forwarded-For from a peer that is not a trusted proxy is ignored.
        let spoofed = lightbox_testkit::Reply::from(
            server
                .http
                .get(server.at("/v1/me"))
                .bearer_auth(&office)
                .header("X-Forwarded-For", "203.0.113.9")
                .send()
                .await,
        )
        .await;
        spoofed.error(403, "forbidden");
        server.get(&v6, "/v1/me").await.error(403, "forbidden");
        // Behind a trusted proxy (loopback here) the forwarded address counts.
        let proxied = env.serve(&["--trusted-proxy", "127.0.0.1/32"]).await;
        let via = |token: &str, xff: &str| {
            proxied
                .http
                .get(proxied.at("/v1/me"))
                .bearer_auth(token)
                .header("X-Forwarded-For", xff)
                .send()
        };
        assert_eq!(
            lightbox_testkit::Reply::from(via(&office, "203.0.113.9").await)
                .await
                .status,
            200
        );
        // The client can prepend anything; only the hop the proxy saw counts.
        lightbox_testkit::Reply::from(via(&office, "198.51.100.7, 203.0.113.9").await)
            .await
            .status
            .eq(&200)
            .then_some(())
            .expect("rightmost hop counts");
        lightbox_testkit::Reply::from(via(&office, "203.0.113.9, 198.51.100.7").await)
            .await
            .error(403, "forbidden");
        // IPv6: a server on ::1.
        let server6 = Server::start(&env, "[::1]:0", &[]).await;
        assert_eq!(server6.get(&v6, "/v1/me").await.status, 200);
        server6
            .get(&elsewhere, "/v1/me")
            .await
            .error(403, "forbidden");
        server6
            .get(&loopback, "/v1/me")
            .await
            .error(403, "forbidden");
        Ok(())
    }
);

both_engines!(
    api_switch_off_beats_scope_and_is_checked_after_the_credential,
    |env: Env| async move {
        env.cli(&["account", "create", "--name", "Off", "--unique-id", "off"])
            .await;
        let narrow = env
            .token("off", "api.upload", &["--allow-ip", "10.0.0.0/8"])
            .await;
        let server = env.serve(&["--auth-cache-ttl-ms", "0"]).await;
        // switch off: api_not_enabled, even though IP and scope would also fail
        server
            .post(&narrow, "/v1/sets", Some("k"), &json!({"name": "x"}))
            .await
            .error(403, "api_not_enabled");
        server
            .get(&narrow, "/v1/me")
            .await
            .error(403, "api_not_enabled");
        // a bad credential is still 401 first
        server
            .get("dpg_api_live_nope", "/v1/me")
            .await
            .error(401, "unauthorized");
        env.cli(&["account", "api-access", "off", "on"]).await;
        // now the IP allow-list, then the scope
        server.get(&narrow, "/v1/me").await.error(403, "forbidden");
        let narrow_here = env.token("off", "api.upload", &[]).await;
        let e = server
            .post(&narrow_here, "/v1/sets", Some("k"), &json!({"name": "x"}))
            .await
            .error(403, "forbidden");
        assert_eq!(e["detail"], "api.sets.write");
        assert_eq!(server.get(&narrow_here, "/v1/me").await.status, 200);
        Ok(())
    }
);

/// Writes raw HTTP/1.1 and reads the status line, with a deadline.
async fn raw_status(server: &Server, head: &str, body_parts: &[&[u8]]) -> u16 {
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    for part in body_parts {
        // The server may answer and close before we finish: that is the point.
        if stream.write_all(part).await.is_err() {
            break;
        }
    }
    // The connection stays open: an answer must not wait for the client to finish.
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("no answer within 10 s while the body was still open")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"))
}

both_engines!(
    body_over_the_token_cap_is_413_while_streaming,
    |env: Env| async move {
        env.account("acme").await;
        let token = env
            .token("acme", "all", &["--max-request-bytes", "1000"])
            .await;
        let server = env.serve(&[]).await;
        let big = json!({"name": "x".repeat(2000)});
        // With Content-Length: refused from the header alone.
        let r = server.post(&token, "/v1/sets", Some("k1"), &big).await;
        r.error(413, "payload_too_large");
        let declared = format!(
            "POST /v1/sets HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nIdempotency-Key: k2\r\nContent-Length: 1000000\r\n\r\n"
        );
        // Only 10 bytes of a declared megabyte are sent, and the connection stays open.
        assert_eq!(
            raw_status(&server, &declared, &[b"{\"name\":\"x"]).await,
            413
        );
        // Chunked, no Content-Length: refused once the cap is crossed, while the
        // body is still open (the last chunk is never sent).
        let chunked = |key: &str| {
            format!(
                "POST /v1/sets HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nIdempotency-Key: {key}\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
        };
        let chunk = format!("{:x}\r\n{}\r\n", 1500, "y".repeat(1500));
        assert_eq!(
            raw_status(&server, &chunked("k3"), &[chunk.as_bytes()]).await,
            413
        );
        // Under the cap, chunked works.
        let small = br#"{"name":"small"}"#;
        let ok_chunk = format!(
            "{:x}\r\n{}\r\n0\r\n\r\n",
            small.len(),
            String::from_utf8_lossy(small)
        );
        assert_eq!(
            raw_status(&server, &chunked("k4"), &[ok_chunk.as_bytes()]).await,
            202
        );
        // Nothing from the refused requests was stored.
        let sets = server.get(&token, "/v1/sets").await.json();
        assert_eq!(sets.as_array().unwrap().len(), 1, "{sets}");
        assert_eq!(sets[0]["name"], "small");
        Ok(())
    }
);

both_engines!(
    server_wide_cap_applies_without_a_token_cap,
    |env: Env| async move {
        env.account("acme").await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&["--max-request-bytes", "300"]).await;
        server
            .post(
                &token,
                "/v1/sets",
                Some("k"),
                &json!({"name": "n", "description": "d".repeat(400)}),
            )
            .await
            .error(413, "payload_too_large");
        Ok(())
    }
);

both_engines!(
    last_use_is_recorded_without_a_write_per_request,
    |env: Env| async move {
        env.account("acme").await;
        let token = env.token("acme", "all", &[]).await;
        let server = env.serve(&[]).await;
        for _ in 0..5 {
            assert_eq!(server.get(&token, "/v1/me").await.status, 200);
        }
        // Kept in memory (flushed every 10 s and at shutdown), so not yet stored:
        let listed: serde_json::Value = serde_json::from_str(
            &env.cli(&["token", "list", "--account", "acme", "--json"])
                .await,
        )?;
        assert!(listed[0]["last_used_at"].is_null(), "{listed}");
        // A clean stop writes it.
        assert_eq!(server.stop().await, Some(0));
        let listed: serde_json::Value = serde_json::from_str(
            &env.cli(&["token", "list", "--account", "acme", "--json"])
                .await,
        )?;
        assert!(listed[0]["last_used_at"].as_str().is_some(), "{listed}");
        assert_eq!(listed[0]["last_used_ip"], "127.0.0.1");
        Ok(())
    }
);
