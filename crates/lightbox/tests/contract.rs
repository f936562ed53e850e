//! The API contract as an outside client meets it: one JSON value per body,
//! the rule in `detail`, bodies a client sends out of habit, the documented
//! Operation shapes, strict query strings on every route, and the client
//! address behind a trusted proxy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_media::fixtures;
use lightbox_testkit::{Env, Reply, Server, both_engines, finished_operation, uploaded};
use serde_json::{Value, json};

/// A write with a raw body (not necessarily one JSON value).
async fn raw(
    server: &Server,
    method: &str,
    token: &str,
    path: &str,
    key: &str,
    body: &'static str,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    Reply::from(
        server
            .http
            .request(method, server.at(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await,
    )
    .await
}

both_engines!(a_body_is_one_json_value, |env: Env| async move {
    let (server, token) = env.account_server("acme", &[]).await;
    let image = uploaded(&server, &token, "a.jpg", fixtures::jpeg(64, 48)).await;
    let path = format!("/v1/images/{image}");
    for (n, body) in [
        r#"{"title":"x"}{"title":"y"}"#,
        r#"{"title":"x"} {"title":"y"}"#,
        r#"{"title":"x"}garbage"#,
        r#"{"title":"x"}]"#,
        r#"{"title":"x"} 5"#,
    ]
    .into_iter()
    .enumerate()
    {
        let e = raw(&server, "PATCH", &token, &path, &format!("t{n}"), body)
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "body", "{body}: {e}");
    }
    let e = raw(
        &server,
        "POST",
        &token,
        "/v1/sets",
        "s1",
        r#"{"name":"a"}{"name":"b"}"#,
    )
    .await
    .error(400, "validation");
    assert_eq!(e["field"], "body");
    // Nothing was applied.
    let img = server.get(&token, &path).await.json();
    assert_ne!(img["title"], "x", "{img}");
    assert_ne!(img["title"], "y", "{img}");
    assert_eq!(server.get(&token, "/v1/sets").await.json(), json!([]));
    // Whitespace after the value is fine.
    let ok = raw(
        &server,
        "PATCH",
        &token,
        &path,
        "ws",
        "{\"title\":\"x\"} \r\n\t ",
    )
    .await;
    assert_eq!(ok.status, 202, "{}", ok.text);
    assert_eq!(server.get(&token, &path).await.json()["title"], "x");
    Ok(())
});

both_engines!(
    every_validation_error_names_its_rule_in_detail,
    |env: Env| async move {
        let (server, token) = env.account_server("acme", &[]).await;
        let image = uploaded(&server, &token, "a.jpg", fixtures::jpeg(64, 48)).await;
        let path = format!("/v1/images/{image}");
        // The hosted service's own example.
        let e = server
            .patch_json(&token, &path, "long", &json!({"title": "t".repeat(192)}))
            .await
            .error(400, "validation");
        assert_eq!(e["detail"], "title must be at most 191 characters", "{e}");
        assert_eq!(e["field"], "title");
        let sets = |key: &'static str, body: Value| {
            let (server, token) = (&server, &token);
            async move { server.post(token, "/v1/sets", Some(key), &body).await }
        };
        let no_key = server
            .post(&token, "/v1/sets", None, &json!({"name": "x"}))
            .await;
        let cases: Vec<(&str, Reply)> = vec![
            (
                "unknown field",
                sets("a", json!({"name": "x", "bogus": 1})).await,
            ),
            ("wrong type", sets("b", json!({"name": 5})).await),
            (
                "too long",
                sets("c", json!({"name": "n".repeat(192)})).await,
            ),
            (
                "bad choice",
                sets("d", json!({"name": "x", "colour": "mauve"})).await,
            ),
            ("missing field", sets("e", json!({})).await),
            (
                "out of range",
                server
                    .write(
                        "PUT",
                        &token,
                        &format!("{path}/rating"),
                        "f",
                        Some(&json!({"rating": 6})),
                    )
                    .await,
            ),
            (
                "bad query value",
                server.get(&token, "/v1/sets?limit=0").await,
            ),
            (
                "unknown query parameter",
                server.get(&token, "/v1/sets?limt=5").await,
            ),
            ("missing Idempotency-Key", no_key),
            (
                "broken JSON",
                raw(&server, "POST", &token, "/v1/sets", "g", "{\"name\":").await,
            ),
        ];
        for (what, reply) in cases {
            let e = reply.error(400, "validation");
            let detail = e["detail"].as_str().unwrap_or_default();
            assert!(!detail.is_empty(), "{what}: no rule in detail: {e}");
            assert!(
                e["field"].as_str().is_some_and(|f| !f.is_empty()),
                "{what}: {e}"
            );
            let message = e["message"].as_str().unwrap();
            assert!(message.ends_with('.'), "{what}: a sentence: {e}");
        }
        // Nothing was created by any of them.
        assert_eq!(server.get(&token, "/v1/sets").await.json(), json!([]));
        Ok(())
    }
);

both_engines!(
    extract_metadata_takes_no_body_or_an_empty_object,
    |env: Env| async move {
        let (server, token) = env.account_server("acme", &[]).await;
        let image = uploaded(&server, &token, "a.jpg", fixtures::jpeg(64, 48)).await;
        let path = format!("/v1/images/{image}/extract_metadata");
        let none = server.write("POST", &token, &path, "none", None).await;
        assert_eq!(none.status, 202, "{}", none.text);
        let empty = raw(&server, "POST", &token, &path, "empty", "{}").await;
        assert_eq!(empty.status, 202, "{}", empty.text);
        assert_eq!(empty.json()["status"], "succeeded", "{}", empty.text);
        let spaced = raw(&server, "POST", &token, &path, "spaced", " { } \n").await;
        assert_eq!(spaced.status, 202, "{}", spaced.text);
        // The OpenAPI declares the body nullable: `null` is no body.
        let null = raw(&server, "POST", &token, &path, "null", "null").await;
        assert_eq!(null.status, 202, "{}", null.text);
        for (n, body) in [r#"{"x":1}"#, "[]", "5", r#""""#, "{}{}", "{"]
            .into_iter()
            .enumerate()
        {
            raw(&server, "POST", &token, &path, &format!("bad{n}"), body)
                .await
                .error(400, "validation");
        }
        let e = raw(&server, "POST", &token, &path, "field", r#"{"read":true}"#)
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "read", "{e}");
        Ok(())
    }
);

/// Every Operation's `result` carries a readable message.
fn has_message(op: &Value) {
    let message = op["result"]["message"].as_str().unwrap_or_default();
    assert!(message.ends_with('.') && message.len() > 3, "{op}");
}

both_engines!(
    operations_match_the_documented_shape,
    |env: Env| async move {
        let (server, token) = env.account_server("acme", &[]).await;
        let image = uploaded(&server, &token, "a.jpg", fixtures::jpeg(64, 48)).await;
        let other = uploaded(&server, &token, "b.jpg", fixtures::jpeg(65, 48)).await;
        let path = format!("/v1/images/{image}");
        // The guide's example for PATCH /v1/images/{id}, exactly.
        let r = server
            .patch_json(&token, &path, "p1", &json!({"title": "Stage"}))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let op = r.json();
        assert!(op["uuid"].as_str().unwrap().starts_with("op-"));
        assert_eq!(op["status"], "succeeded");
        assert_eq!(op["type"], "update");
        assert_eq!(op["image_public_uuids"], json!([image]));
        assert_eq!(op["result"], json!({"message": "Updated successfully."}));
        let polled = server
            .get(
                &token,
                &format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
            )
            .await
            .json();
        assert_eq!(polled["type"], "update");
        assert_eq!(
            polled["result"],
            json!({"message": "Updated successfully."})
        );
        // A rotation ends when the versions are built; same type, same result.
        let r = server
            .patch_json(&token, &path, "p2", &json!({"rotation": 90}))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        has_message(&r.json());
        let done = finished_operation(&server, &token, r.json()["uuid"].as_str().unwrap()).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["type"], "update");
        assert_eq!(done["result"]["message"], "Updated successfully.", "{done}");

        // Every other kind keeps its result fields and gains a message.
        let set = server
            .post(&token, "/v1/sets", Some("s1"), &json!({"name": "Press"}))
            .await
            .json();
        has_message(&set);
        assert_eq!(set["result"]["set"]["name"], "Press", "{set}");
        let set_id = set["set_public_uuid"].as_str().unwrap().to_owned();
        let writes: Vec<(&str, String, Option<Value>)> = vec![
            (
                "POST",
                format!("{path}/keywords"),
                Some(json!({"keywords": ["a:b"]})),
            ),
            (
                "DELETE",
                format!("{path}/keywords"),
                Some(json!({"keyword": "a:b"})),
            ),
            ("PUT", format!("{path}/rating"), Some(json!({"rating": 4}))),
            (
                "PUT",
                format!("{path}/metadata"),
                Some(json!({"creator": "Jane"})),
            ),
            (
                "PUT",
                format!("{path}/alt_text"),
                Some(json!({"alt_text": "A stage"})),
            ),
            (
                "POST",
                format!("{path}/credits"),
                Some(json!({"role": "Photo", "name": "Jo"})),
            ),
            ("POST", format!("{path}/extract_metadata"), None),
            ("DELETE", format!("{path}/crop"), None),
            (
                "PATCH",
                format!("/v1/sets/{set_id}"),
                Some(json!({"colour": "red"})),
            ),
            (
                "POST",
                format!("/v1/sets/{set_id}/images"),
                Some(json!({"image_public_uuids": [image, other]})),
            ),
            (
                "PATCH",
                format!("/v1/sets/{set_id}/order"),
                Some(json!({"image_public_uuids": [other, image]})),
            ),
            (
                "PATCH",
                format!("/v1/sets/{set_id}/visibility"),
                Some(json!({"hidden": true})),
            ),
            (
                "DELETE",
                format!("/v1/sets/{set_id}/images"),
                Some(json!({"image_public_uuids": [other]})),
            ),
            (
                "POST",
                "/v1/keywords/rename".to_owned(),
                Some(json!({"from": "x:y", "to": "x:z"})),
            ),
            (
                "POST",
                "/v1/archives".to_owned(),
                Some(json!({"image_public_uuids": [image]})),
            ),
            ("DELETE", format!("/v1/images/{other}"), None),
        ];
        for (n, (method, path, body)) in writes.into_iter().enumerate() {
            let r = server
                .write(method, &token, &path, &format!("w{n}"), body.as_ref())
                .await;
            assert_eq!(r.status, 202, "{method} {path}: {}", r.text);
            has_message(&r.json());
            let done =
                finished_operation(&server, &token, r.json()["uuid"].as_str().unwrap()).await;
            assert_eq!(done["status"], "succeeded", "{method} {path}: {done}");
            has_message(&done);
        }
        // A batch: the summary and every child.
        let r = server
            .post(
                &token,
                "/v1/operations/batch",
                Some("b1"),
                &json!({"operations": [
                    {"method": "PUT", "path": format!("{path}/rating"), "body": {"rating": 5}},
                    {"method": "PATCH", "path": path, "body": {"title": "Crowd"}},
                ]}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let batch = r.json();
        has_message(&batch["summary"]);
        assert_eq!(
            batch["summary"]["result"]["operations"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        for child in batch["operations"].as_array().unwrap() {
            has_message(child);
        }
        assert_eq!(batch["operations"][1]["type"], "update");
        assert_eq!(
            batch["operations"][1]["result"],
            json!({"message": "Updated successfully."})
        );
        // The upload's own Operation, and a failed one.
        let ticket = server
            .post(&token, "/v1/uploads", None, &json!({"filename": "c.jpg"}))
            .await;
        let up = lightbox_testkit::post_file(&server, &ticket.json(), fixtures::jpeg(66, 48)).await;
        let op = finished_operation(
            &server,
            &token,
            up.json()["operation_uuid"].as_str().unwrap(),
        )
        .await;
        has_message(&op);
        // Service tokens: an admin's write; result.token stays.
        env.user(
            "admin@acme.example",
            "correct horse battery",
            "acme",
            "admin",
        )
        .await;
        let at = server
            .access_token("admin@acme.example", "correct horse battery")
            .await;
        let r = server
            .post(
                &at,
                "/v1/service_tokens",
                Some("t1"),
                &json!({"name": "CI", "scopes": ["api.upload"]}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let made = r.json();
        has_message(&made);
        assert!(
            made["result"]["token"]
                .as_str()
                .unwrap()
                .starts_with("dpg_api_live_")
        );
        let revoked = server
            .delete(
                &at,
                &format!(
                    "/v1/service_tokens/{}",
                    made["result"]["service_token"]["uuid"].as_str().unwrap()
                ),
                "t2",
            )
            .await;
        assert_eq!(revoked.status, 202, "{}", revoked.text);
        has_message(&revoked.json());
        Ok(())
    }
);

both_engines!(
    unknown_query_parameters_are_refused_everywhere,
    |env: Env| async move {
        let (server, token) = env.account_server("acme", &[]).await;
        let image = uploaded(&server, &token, "a.jpg", fixtures::jpeg(64, 48)).await;
        let set = server
            .post(&token, "/v1/sets", Some("s1"), &json!({"name": "Press"}))
            .await
            .json();
        let set_id = set["set_public_uuid"].as_str().unwrap().to_owned();
        let op = set["uuid"].as_str().unwrap().to_owned();
        for path in [
            "/v1/me?limit=999".to_owned(),
            format!("/v1/images/{image}?limit=999"),
            format!("/v1/images/{image}/versions?x=1"),
            format!("/v1/sets/{set_id}?expand=all"),
            format!("/v1/operations/{op}?limit=1"),
            "/v1/sets/tree?depth=1".to_owned(),
            "/v1/metadata_profiles?limt=1".to_owned(),
            "/v1/version_profiles?x=1".to_owned(),
            "/v1/keywords/namespaces?prefix=a".to_owned(),
        ] {
            let e = server.get(&token, &path).await.error(400, "validation");
            let expected = path
                .split_once('?')
                .and_then(|(_, q)| q.split('=').next())
                .unwrap();
            assert_eq!(e["field"], expected, "{path}: {e}");
        }
        // Writes too: nothing is done.
        let e = server
            .post(
                &token,
                "/v1/sets?dry_run=true",
                Some("s2"),
                &json!({"name": "Other"}),
            )
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "dry_run");
        let e = server
            .patch_json(
                &token,
                &format!("/v1/images/{image}?force=1"),
                "p1",
                &json!({"title": "New"}),
            )
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "force");
        assert_eq!(
            server
                .get(&token, "/v1/sets")
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_ne!(
            server
                .get(&token, &format!("/v1/images/{image}"))
                .await
                .json()["title"],
            "New"
        );
        // A parameter given twice.
        let e = server
            .get(&token, "/v1/sets?limit=1&limit=2")
            .await
            .error(400, "validation");
        assert_eq!(e["field"], "limit");
        // Sign-in takes none either.
        let e = Reply::from(
        server
            .http
            .post(server.at("/v1/auth/sign_in?remember=1"))
            .json(&json!({"login": "x@example.com", "password": "y", "device": {"name": "t", "platform": "linux"}}))
            .send()
            .await,
    )
    .await
    .error(400, "validation");
        assert_eq!(e["field"], "remember");
        // Media URLs still carry their own parameters' absence without fuss.
        let versions = server
            .get(&token, &format!("/v1/images/{image}/versions"))
            .await
            .json();
        let url = versions
            .as_array()
            .unwrap()
            .iter()
            .find_map(|v| v["url"].as_str())
            .unwrap()
            .to_owned();
        assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);

        // metadata_profiles is paged like every list.
        for name in ["Press", "Studio", "Archive"] {
            env.cli(&[
                "metadata-profile",
                "save",
                "--account",
                "acme",
                "--name",
                name,
                "--field",
                "creator=Staff",
            ])
            .await;
        }
        let page = server.get(&token, "/v1/metadata_profiles?limit=2").await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.json().as_array().unwrap().len(), 2);
        assert_eq!(page.header("x-has-more").as_deref(), Some("true"));
        assert_eq!(page.header("x-next-offset").as_deref(), Some("2"));
        let rest = server
            .get(&token, "/v1/metadata_profiles?limit=2&offset=2")
            .await;
        assert_eq!(rest.json().as_array().unwrap().len(), 1);
        assert_eq!(rest.header("x-has-more").as_deref(), Some("false"));
        server
            .get(&token, "/v1/metadata_profiles?limit=201")
            .await
            .error(400, "validation");
        let profiles = server.get(&token, "/v1/version_profiles?limit=1").await;
        assert_eq!(profiles.status, 200, "{}", profiles.text);
        assert_eq!(profiles.header("x-has-more").as_deref(), Some("false"));
        Ok(())
    }
);

both_engines!(
    forwarded_for_never_falls_back_to_the_proxy,
    |env: Env| async move {
        env.account("acme").await;
        let inside = env
            .token("acme", "all", &["--allow-ip", "127.0.0.0/8"])
            .await;
        let server = env.serve(&["--trusted-proxy", "127.0.0.1"]).await;
        let via = |xff: &'static [u8]| {
            let value = reqwest::header::HeaderValue::from_bytes(xff).unwrap();
            let req = server
                .http
                .get(server.at("/v1/me"))
                .bearer_auth(&inside)
                .header("X-Forwarded-For", value);
            async move { Reply::from(req.send().await).await }
        };
        // A junk entry to the left of the real client: the client counts.
        let e = via(b"junk, 203.0.113.9").await.error(403, "forbidden");
        assert_eq!(e["detail"], "ip_not_allowed", "{e}");
        via(b"\xff\xfe, 203.0.113.9").await.error(403, "forbidden");
        // The client hop itself is junk: refused, never the proxy's address.
        for bad in [
            &b"junk"[..],
            b"203.0.113.9, junk",
            b"",
            b"1.2.3.4.5",
            b"\xff",
        ] {
            let e = via(bad).await.error(400, "validation");
            assert_eq!(e["field"], "X-Forwarded-For", "{e}");
        }
        // A valid chain works; trusted hops on the right are skipped.
        for good in [
            &b"127.0.0.9"[..],
            b"junk, 198.51.100.1, 127.0.0.9",
            b"127.0.0.9, 127.0.0.1",
            b"127.0.0.9:5555",
        ] {
            let r = via(good).await;
            assert_eq!(
                r.status,
                200,
                "{}: {}",
                String::from_utf8_lossy(good),
                r.text
            );
        }
        // Sign-in's rate limits use the same address.
        let sign_in = Reply::from(
            server
                .http
                .post(server.at("/v1/auth/sign_in"))
                .header("X-Forwarded-For", "junk")
                .json(&json!({"login": "x@example.com", "password": "y", "device": {"name": "t", "platform": "linux"}}))
                .send()
                .await,
        )
        .await;
        assert_eq!(sign_in.error(400, "validation")["field"], "X-Forwarded-For");
        // So does the image processor.
        let ticket = server
            .post(&inside, "/v1/uploads", None, &json!({"filename": "a.jpg"}))
            .await
            .json();
        let post = |xff: &'static str| {
            let mut form = reqwest::multipart::Form::new();
            for (name, value) in ticket["fields"].as_object().unwrap() {
                form = form.text(name.clone(), value.as_str().unwrap().to_owned());
            }
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(fixtures::jpeg(64, 48)).file_name("a.jpg"),
            );
            let req = server
                .http
                .post(ticket["upload_url"].as_str().unwrap())
                .header("X-Forwarded-For", xff)
                .multipart(form);
            async move { Reply::from(req.send().await).await }
        };
        let e = post("junk").await.error(400, "validation");
        assert_eq!(e["field"], "X-Forwarded-For");
        let e = post("junk, 203.0.113.9").await.error(403, "forbidden");
        assert_eq!(e["detail"], "ip_not_allowed");
        let ok = post("junk, 127.0.0.9").await;
        assert_eq!(ok.status, 201, "{}", ok.text);
        Ok(())
    }
);
