//! The API's conventions, used by every endpoint: errors, strict validation,
//! paging, ETags, idempotency, operations; and the first sets endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_testkit::{Env, Reply, both_engines};
use serde_json::{Value, json};

both_engines!(strict_validation_names_the_field, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    let post = |key: &'static str, body: Value| {
        let server = &server;
        let token = &token;
        async move { server.post(token, "/v1/sets", Some(key), &body).await }
    };
    let e = post("a", json!({"name": "x", "hidden": true}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "hidden");
    let e = post("b", json!({"name": 5})).await.error(400, "validation");
    assert_eq!(e["field"], "name");
    let e = post("c", json!({"name": "x", "colour": "mauve"}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "colour");
    let e = post("d", json!({"name": "x", "type": "album"}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "type");
    let e = post("e", json!({"name": "x".repeat(192)}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "name");
    assert_eq!(
        post("e2", json!({"name": "é".repeat(191)})).await.status,
        202,
        "191 characters, not bytes"
    );
    let e = post("f", json!({"name": "   "}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "name");
    let e = post("g", json!({"description": "no name"}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "name");
    let e = post(
        "h",
        json!({"name": "x", "parent_public_uuid": "not-a-uuid"}),
    )
    .await
    .error(400, "validation");
    assert_eq!(e["field"], "parent_public_uuid");
    let e = post("i", json!(["name"])).await.error(400, "validation");
    assert_eq!(e["field"], "body");
    let raw = Reply::from(
        server
            .http
            .post(server.at("/v1/sets"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "j")
            .header("Content-Type", "application/json")
            .body("{\"name\":")
            .send()
            .await,
    )
    .await;
    assert_eq!(raw.error(400, "validation")["field"], "body");
    let form = Reply::from(
        server
            .http
            .post(server.at("/v1/sets"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "k")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("name=x")
            .send()
            .await,
    )
    .await;
    form.error(415, "unsupported_media_type");
    // Nothing was created by any refused request.
    let sets = server.get(&token, "/v1/sets").await.json();
    assert_eq!(sets.as_array().unwrap().len(), 1);
    // Unknown and repeated query parameters.
    assert_eq!(
        server
            .get(&token, "/v1/sets?limt=5")
            .await
            .error(400, "validation")["field"],
        "limt"
    );
    assert_eq!(
        server
            .get(&token, "/v1/sets?limit=5&limit=6")
            .await
            .error(400, "validation")["field"],
        "limit"
    );
    Ok(())
});

both_engines!(paging_bounds_and_headers, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    for i in 0..5 {
        let r = server
            .post(
                &token,
                "/v1/sets",
                Some(&format!("k{i}")),
                &json!({"name": format!("set {i}")}),
            )
            .await;
        assert_eq!(r.status, 202);
    }
    let page = server.get(&token, "/v1/sets?limit=2").await;
    assert_eq!(page.header("x-has-more").as_deref(), Some("true"));
    assert_eq!(page.header("x-next-offset").as_deref(), Some("2"));
    let names: Vec<String> = page
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["set 0", "set 1"], "arranged (creation) order");
    let page = server.get(&token, "/v1/sets?limit=2&offset=2").await;
    assert_eq!(page.json()[0]["name"], "set 2");
    assert_eq!(page.json()[0]["position"], 2);
    assert_eq!(page.header("x-next-offset").as_deref(), Some("4"));
    let last = server.get(&token, "/v1/sets?limit=2&offset=4").await;
    assert_eq!(last.header("x-has-more").as_deref(), Some("false"));
    assert_eq!(last.header("x-next-offset"), None);
    assert_eq!(last.json().as_array().unwrap().len(), 1);
    let beyond = server.get(&token, "/v1/sets?offset=100").await;
    assert_eq!(beyond.json(), json!([]));
    assert_eq!(
        server
            .get(&token, "/v1/sets")
            .await
            .header("x-has-more")
            .as_deref(),
        Some("false")
    );
    for bad in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "limit=",
        "limit=1.5",
    ] {
        assert_eq!(
            server
                .get(&token, &format!("/v1/sets?{bad}"))
                .await
                .error(400, "validation")["field"],
            "limit",
            "{bad}"
        );
    }
    for bad in ["offset=-1", "offset=x"] {
        assert_eq!(
            server
                .get(&token, &format!("/v1/sets?{bad}"))
                .await
                .error(400, "validation")["field"],
            "offset",
            "{bad}"
        );
    }
    assert_eq!(server.get(&token, "/v1/sets?limit=200").await.status, 200);
    assert_eq!(
        server
            .get(&token, "/v1/sets?limit=1")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    Ok(())
});

both_engines!(etag_and_304_on_every_get, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    let op = server
        .post(&token, "/v1/sets", Some("k"), &json!({"name": "a"}))
        .await
        .json();
    let set = op["set_public_uuid"].as_str().unwrap().to_owned();
    for path in [
        "/v1/me".to_owned(),
        "/v1/sets".to_owned(),
        format!("/v1/sets/{set}"),
        format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
    ] {
        let first = server.get(&token, &path).await;
        assert_eq!(first.status, 200, "{path}");
        let tag = first
            .header("etag")
            .unwrap_or_else(|| panic!("no ETag on {path}"));
        let again = Reply::from(
            server
                .http
                .get(server.at(&path))
                .bearer_auth(&token)
                .header("If-None-Match", &tag)
                .send()
                .await,
        )
        .await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.text.is_empty());
        assert_eq!(again.header("etag"), Some(tag.clone()));
        let stale = Reply::from(
            server
                .http
                .get(server.at(&path))
                .bearer_auth(&token)
                .header("If-None-Match", "\"old\"")
                .send()
                .await,
        )
        .await;
        assert_eq!(stale.status, 200);
    }
    // A change gives a new tag.
    let before = server.get(&token, "/v1/sets").await.header("etag");
    server
        .post(&token, "/v1/sets", Some("k2"), &json!({"name": "b"}))
        .await;
    let after = Reply::from(
        server
            .http
            .get(server.at("/v1/sets"))
            .bearer_auth(&token)
            .header("If-None-Match", before.clone().unwrap())
            .send()
            .await,
    )
    .await;
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), before);
    for path in ["/openapi.v1.yaml", "/llms.txt", "/llms-full.txt"] {
        let r = Reply::from(server.http.get(server.at(path)).send().await).await;
        assert!(r.header("etag").is_some(), "{path}");
    }
    Ok(())
});

both_engines!(
    idempotency_same_request_same_operation,
    |env: Env| async move {
        let (server, token) = env.account_server("acme", &[]).await;
        let missing = server
            .post(&token, "/v1/sets", None, &json!({"name": "a"}))
            .await
            .error(400, "validation");
        assert_eq!(missing["field"], "Idempotency-Key");
        let long = "k".repeat(256);
        assert_eq!(
            server
                .post(&token, "/v1/sets", Some(&long), &json!({"name": "a"}))
                .await
                .error(400, "validation")["field"],
            "Idempotency-Key"
        );
        let first = server
            .post(
                &token,
                "/v1/sets",
                Some("key-1"),
                &json!({"name": "a", "colour": "red"}),
            )
            .await;
        assert_eq!(first.status, 202);
        // The same request spelled differently (key order, whitespace) is the same request.
        let same = Reply::from(
            server
                .http
                .post(server.at("/v1/sets"))
                .bearer_auth(&token)
                .header("Idempotency-Key", "key-1")
                .header("Content-Type", "application/json")
                .body("{ \"colour\" : \"red\",\n \"name\":\"a\" }")
                .send()
                .await,
        )
        .await;
        assert_eq!(same.status, 202);
        assert_eq!(same.json()["uuid"], first.json()["uuid"]);
        assert_eq!(
            same.json()["set_public_uuid"],
            first.json()["set_public_uuid"]
        );
        let e = server
            .post(&token, "/v1/sets", Some("key-1"), &json!({"name": "b"}))
            .await
            .error(409, "idempotency_key_conflict");
        assert_eq!(e["field"], "Idempotency-Key");
        // Another path with the same key is another request, too.
        let sets = server.get(&token, "/v1/sets").await.json();
        assert_eq!(sets.as_array().unwrap().len(), 1, "work done once: {sets}");
        // A refused write does not use up its key.
        server
            .post(&token, "/v1/sets", Some("key-2"), &json!({"name": ""}))
            .await
            .error(400, "validation");
        assert_eq!(
            server
                .post(&token, "/v1/sets", Some("key-2"), &json!({"name": "fixed"}))
                .await
                .status,
            202
        );
        Ok(())
    }
);

both_engines!(
    twenty_concurrent_duplicates_make_one_operation,
    |env: Env| async move {
        let (server, token) = env.account_server("acme", &[]).await;
        let body = json!({"name": "concurrent", "description": "twenty at once"});
        let mut handles = Vec::new();
        for _ in 0..20 {
            let http = server.http.clone();
            let url = server.at("/v1/sets");
            let token = token.clone();
            let body = body.clone();
            handles.push(tokio::spawn(async move {
                Reply::from(
                    http.post(url)
                        .bearer_auth(token)
                        .header("Idempotency-Key", "same-key")
                        .json(&body)
                        .send()
                        .await,
                )
                .await
            }));
        }
        let mut uuids = std::collections::BTreeSet::new();
        for h in handles {
            let r = h.await?;
            assert_eq!(r.status, 202, "{}", r.text);
            uuids.insert(r.json()["uuid"].as_str().unwrap().to_owned());
        }
        assert_eq!(uuids.len(), 1, "one Operation: {uuids:?}");
        let sets = server.get(&token, "/v1/sets").await.json();
        assert_eq!(sets.as_array().unwrap().len(), 1, "one set: {sets}");
        Ok(())
    }
);

both_engines!(operations_and_sets_read_back, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    let op = server.post(&token, "/v1/sets", Some("p"), &json!({"name": "Festival", "description": "All of it", "colour": "green", "type": "folder"})).await;
    assert_eq!(op.status, 202);
    let op = op.json();
    assert!(op["uuid"].as_str().unwrap().starts_with("op-"));
    assert_eq!(op["status"], "succeeded");
    assert_eq!(op["type"], "set.create");
    assert_eq!(op["image_public_uuids"], json!([]));
    assert!(op["finished_at"].as_str().is_some());
    let parent = op["set_public_uuid"].as_str().unwrap().to_owned();
    assert_eq!(op["result"]["set"]["public_uuid"], parent.as_str());
    let polled = server
        .get(
            &token,
            &format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
        )
        .await
        .json();
    assert_eq!(polled, op);
    for (i, name) in ["Day 1", "Day 2", "Day 3"].iter().enumerate() {
        server
            .post(
                &token,
                "/v1/sets",
                Some(&format!("c{i}")),
                &json!({"name": name, "parent_public_uuid": parent}),
            )
            .await;
    }
    let set = server
        .get(&token, &format!("/v1/sets/{parent}"))
        .await
        .json();
    assert_eq!(set["name"], "Festival");
    assert_eq!(set["description"], "All of it");
    assert_eq!(set["colour"], "green");
    assert_eq!(set["type"], "folder");
    assert_eq!(set["child_count"], 3);
    assert_eq!(set["parent_public_uuid"], Value::Null);
    assert_eq!(set["website"], Value::Null);
    for key in [
        "image_count",
        "live_image_count",
        "position",
        "lead_image_public_uuid",
        "created_at",
        "updated_at",
    ] {
        assert!(set.get(key).is_some(), "{key}");
    }
    let children = server
        .get(&token, &format!("/v1/sets?parent_public_uuid={parent}"))
        .await
        .json();
    let names: Vec<&str> = children
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Day 1", "Day 2", "Day 3"]);
    assert!(
        children
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["parent_public_uuid"] == parent.as_str())
    );
    // Defaults.
    let plain = server
        .post(&token, "/v1/sets", Some("plain"), &json!({"name": "Plain"}))
        .await
        .json();
    assert_eq!(plain["result"]["set"]["colour"], "none");
    assert_eq!(plain["result"]["set"]["type"], "gallery");
    // Not found.
    server
        .get(&token, "/v1/sets/01a21e25-0000-7000-8000-000000000000")
        .await
        .error(404, "set_not_found");
    server
        .get(&token, "/v1/sets/nope")
        .await
        .error(404, "set_not_found");
    server
        .get(
            &token,
            "/v1/operations/op-01a21e25-0000-7000-8000-000000000000",
        )
        .await
        .error(404, "operation_not_found");
    server
        .get(&token, "/v1/operations/whatever")
        .await
        .error(404, "operation_not_found");
    let e = server
        .post(
            &token,
            "/v1/sets",
            Some("orphan"),
            &json!({"name": "x", "parent_public_uuid": "01a21e25-0000-7000-8000-000000000000"}),
        )
        .await
        .error(404, "set_not_found");
    assert_eq!(e["field"], "parent_public_uuid");
    Ok(())
});

both_engines!(errors_everywhere_have_the_envelope, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    Reply::from(
        server
            .http
            .get(server.at("/v1/nothing-here"))
            .bearer_auth(&token)
            .send()
            .await,
    )
    .await
    .error(404, "not_found");
    let r = Reply::from(
        server
            .http
            .delete(server.at("/v1/sets"))
            .bearer_auth(&token)
            .send()
            .await,
    )
    .await;
    assert_eq!(r.status, 405);
    assert!(r.json()["error"]["request_id"].as_str().is_some());
    // Every answer carries a request id, success too.
    assert!(
        server
            .get(&token, "/v1/me")
            .await
            .header("x-request-id")
            .is_some()
    );
    Ok(())
});

both_engines!(
    every_route_declares_and_enforces_its_access,
    |env: Env| async move {
        env.account("acme").await;
        // Tokens with one scope each: every route gets one whose scope it
        // does not require.
        let download_only = env.token("acme", "api.download", &[]).await;
        let read_only = env.token("acme", "api.images.read", &[]).await;
        let server = env.serve(&[]).await;
        let yaml = Reply::from(server.http.get(server.at("/openapi.v1.yaml")).send().await).await;
        assert_eq!(yaml.status, 200);
        let doc: Value = yaml_serde::from_str(&yaml.text)?;
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true)
        );
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let requirement = &op["security"][0];
                let concrete = path
                    .replace("{public_uuid}", "01a21e25-0000-7000-8000-000000000000")
                    .replace("{uuid}", "op-01a21e25-0000-7000-8000-000000000000")
                    .replace("{member_uuid}", "01a21e25-0000-7000-8000-000000000001")
                    .replace("{delivery_id}", "01a21e25-0000-7000-8000-000000000002");
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
                if requirement.as_object().is_some_and(|o| o.is_empty()) {
                    // Declared public: it takes its credential in the body, so an
                    // empty body is a validation error, never a 401 for the header.
                    assert!(path.starts_with("/v1/auth/"), "{method} {path} is public");
                    let r = Reply::from(
                        server
                            .http
                            .request(m, server.at(&concrete))
                            .json(&json!({}))
                            .send()
                            .await,
                    )
                    .await;
                    r.error(400, "validation");
                    checked += 1;
                    continue;
                }
                let scopes = requirement["bearer"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} declares no access"));
                let anonymous = Reply::from(
                    server
                        .http
                        .request(m.clone(), server.at(&concrete))
                        .send()
                        .await,
                )
                .await;
                anonymous.error(401, "unauthorized");
                if let Some(scope) = scopes.first().and_then(Value::as_str) {
                    let unrelated = if scope == "api.download" {
                        &read_only
                    } else {
                        &download_only
                    };
                    let r = Reply::from(
                        server
                            .http
                            .request(m, server.at(&concrete))
                            .bearer_auth(unrelated)
                            .header("Idempotency-Key", "x")
                            .json(&json!({}))
                            .send()
                            .await,
                    )
                    .await;
                    let expected = match scope {
                        "role:admin" => "admin_required",
                        "role:signed-in" => "user_token_required",
                        scope => scope,
                    };
                    assert_eq!(
                        r.error(403, "forbidden")["detail"],
                        expected,
                        "{method} {path}"
                    );
                }
                assert!(
                    op["responses"].get("401").is_some() && op["responses"].get("403").is_some(),
                    "{method} {path} documents 401/403"
                );
                checked += 1;
            }
        }
        assert!(checked >= 5, "walked {checked} routes");
        Ok(())
    }
);

both_engines!(
    every_route_refuses_an_unknown_query_parameter,
    |env: Env| async move {
        // Walked from the document itself, so a route added later is
        // covered: a typo in a parameter is never silently ignored.
        let (server, token) = env.account_server("acme", &[]).await;
        let yaml = Reply::from(server.http.get(server.at("/openapi.v1.yaml")).send().await).await;
        let doc: Value = yaml_serde::from_str(&yaml.text)?;
        let (mut refused, mut signed_in_only) = (0, 0);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let concrete = path
                    .replace("{public_uuid}", "01a21e25-0000-7000-8000-000000000000")
                    .replace("{uuid}", "op-01a21e25-0000-7000-8000-000000000000")
                    .replace("{member_uuid}", "01a21e25-0000-7000-8000-000000000001")
                    .replace("{delivery_id}", "01a21e25-0000-7000-8000-000000000002");
                assert!(
                    !concrete.contains('{'),
                    "{method} {path}: fill its parameter"
                );
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
                let r = Reply::from(
                    server
                        .http
                        .request(m, server.at(&format!("{concrete}?zz_unknown=1")))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", lightbox_testkit::idempotency_key())
                        .json(&json!({}))
                        .send()
                        .await,
                )
                .await;
                let scope = op["security"][0]["bearer"][0].as_str().unwrap_or_default();
                if scope.starts_with("role:") {
                    // A service token is refused before its query is read.
                    r.error(403, "forbidden");
                    signed_in_only += 1;
                    continue;
                }
                let e = r.error(400, "validation");
                assert_eq!(e["field"], "zz_unknown", "{method} {path}: {e}");
                refused += 1;
            }
        }
        assert!(
            refused >= 40 && signed_in_only >= 1,
            "walked {refused} + {signed_in_only} routes"
        );
        Ok(())
    }
);

both_engines!(docs_health_and_metrics, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    let get = |path: &'static str| {
        let server = &server;
        async move { Reply::from(server.http.get(server.at(path)).send().await).await }
    };
    assert_eq!(get("/healthz").await.status, 200);
    assert_eq!(get("/readyz").await.status, 200);
    let llms = get("/llms.txt").await;
    assert!(llms.text.contains("Idempotency-Key") && llms.text.contains("dpg_api_live_"));
    let full = get("/llms-full.txt").await;
    assert!(full.text.starts_with(&llms.text[..100]));
    assert!(full.text.contains("`POST /v1/sets` — scope api.sets.write"));
    assert!(full.text.contains("openapi: 3.1"));
    server.get(&token, "/v1/me").await;
    server.get(&token, "/v1/sets?limit=0").await;
    let metrics = get("/metrics").await.text;
    assert!(
        metrics
            .contains(r#"lightbox_http_requests_total{method="GET",route="/v1/me",status="200"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="/v1/sets",status="400""#),
        "{metrics}"
    );
    assert!(
        metrics.contains("lightbox_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    Ok(())
});
