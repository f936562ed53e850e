//! The `user` role over real HTTP (spec §2.2): its writes reach only the
//! images it uploaded — set membership, order and visibility included —, it
//! downloads originals and archives holding originals only of its own
//! uploads, and what it uploads reveals nothing of other accounts — on
//! SQLite with the folder blob store and on PostgreSQL with a real
//! S3-compatible server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use lightbox_media::fixtures;
use lightbox_testkit::{
    Env, Server, both_setups, finished_operation, idempotency_key, post_file, sha256_hex, uploaded,
};
use serde_json::{Value, json};

/// Uploads so far: each gets its own picture size.
static SIZES: AtomicU64 = AtomicU64::new(0);

/// An account `fest` with an all-scopes service token, an admin member and
/// two `user` members (ann, bob); a server. Returns (server, token, admin,
/// ann, bob) — the last three access tokens.
async fn setup(env: &Env) -> (Server, String, String, String, String) {
    env.account("fest").await;
    let token = env.token("fest", "all", &[]).await;
    let server = env.serve(&[]).await;
    let admin = env
        .member(&server, "fest", "root@example.com", "admin")
        .await;
    let ann = env.member(&server, "fest", "ann@example.com", "user").await;
    let bob = env.member(&server, "fest", "bob@example.com", "user").await;
    (server, token, admin, ann, bob)
}

/// Builds an archive as `token`; the finished Operation as its builder sees it.
async fn archive(server: &Server, token: &str, body: Value) -> Value {
    let r = server
        .write(
            "POST",
            token,
            "/v1/archives",
            &idempotency_key(),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let op = finished_operation(server, token, r.json()["uuid"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    op
}

/// The uuids of the archives `token` is shown.
async fn listed(server: &Server, token: &str) -> Vec<String> {
    let r = server.get(token, "/v1/archives").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert!(a["url"].as_str().is_some_and(|u| u.starts_with("http")));
            a["uuid"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// `result.archive.url` of the Operation as `token` reads it.
async fn link_in_operation(server: &Server, token: &str, op: &Value) -> Value {
    let r = server
        .get(
            token,
            &format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let seen = r.json();
    // Everything but the link is the same.
    assert_eq!(
        seen["result"]["archive"]["uuid"],
        op["result"]["archive"]["uuid"]
    );
    seen["result"]["archive"]["url"].clone()
}

both_setups!(
    archives_are_shown_only_to_who_may_have_every_original,
    |env: Env| async move {
        let (server, token, admin, ann, bob) = setup(&env).await;
        let reader = env.token("fest", "api.images.read", &[]).await;
        let theirs = uploaded(&server, &token, "theirs.jpg", fixtures::jpeg(300, 200)).await;
        let mine = uploaded(&server, &ann, "mine.jpg", fixtures::jpeg(301, 200)).await;

        // Built by a service token and by an admin: originals of others.
        let by_token = archive(
            &server,
            &token,
            json!({"image_public_uuids": [theirs, mine]}),
        )
        .await;
        let by_admin = archive(
            &server,
            &admin,
            json!({"image_public_uuids": [mine, theirs]}),
        )
        .await;
        // Built by ann: its own original, the other image's public version.
        let by_ann = archive(&server, &ann, json!({"image_public_uuids": [theirs, mine]})).await;
        // Public versions only (a profile): anyone with api.download.
        let public = archive(
            &server,
            &token,
            json!({"image_public_uuids": [theirs, mine],
                   "version_profile_uuid": "00000000-0000-4000-8000-000000000001"}),
        )
        .await;
        let id = |op: &Value| op["result"]["archive"]["uuid"].as_str().unwrap().to_owned();

        let mut everything = vec![id(&by_token), id(&by_admin), id(&by_ann), id(&public)];
        everything.sort();
        for full in [&token, &admin] {
            let mut seen = listed(&server, full).await;
            seen.sort();
            assert_eq!(seen, everything);
        }
        let mut seen = listed(&server, &ann).await;
        seen.sort();
        let mut expected = vec![id(&by_ann), id(&public)];
        expected.sort();
        assert_eq!(seen, expected, "ann sees only what it may download whole");
        // Bob uploaded nothing: only the public one.
        assert_eq!(listed(&server, &bob).await, vec![id(&public)]);

        // The Operation hands the link only to who may have the archive.
        for (op, who, allowed) in [
            (&by_token, &ann, false),
            (&by_admin, &ann, false),
            (&by_admin, &bob, false),
            (&by_ann, &bob, false),
            (&by_ann, &ann, true),
            (&by_ann, &admin, true),
            (&by_token, &admin, true),
            (&public, &bob, true),
            (&public, &reader, false),
            (&by_token, &reader, false),
        ] {
            let url = link_in_operation(&server, who, op).await;
            if allowed {
                assert_eq!(url, op["result"]["archive"]["url"]);
            } else {
                assert_eq!(url, Value::Null, "{op}");
            }
        }
        // Nor does a replay of the admin's request (keys are per account).
        let body = json!({"image_public_uuids": [theirs]});
        let r = server
            .write("POST", &admin, "/v1/archives", "shared-key", Some(&body))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let op = finished_operation(&server, &admin, r.json()["uuid"].as_str().unwrap()).await;
        assert!(op["result"]["archive"]["url"].is_string(), "{op}");
        let r = server
            .write("POST", &ann, "/v1/archives", "shared-key", Some(&body))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert_eq!(r.json()["uuid"], op["uuid"]);
        assert_eq!(r.json()["result"]["archive"]["url"], Value::Null);
        Ok(())
    }
);

/// Uploads a distinct small JPEG as `token`, without waiting for versions.
async fn upload(server: &Server, token: &str, name: &str) -> String {
    // A new size each time: byte-identical uploads would be duplicates.
    let n = SIZES.fetch_add(1, Ordering::SeqCst) as u32;
    server
        .upload(token, name, fixtures::jpeg(40 + n % 400, 30))
        .await
}

/// The set's members in order, each with its visibility in the set.
async fn arrangement(server: &Server, token: &str, set: &str) -> Vec<(String, Value, Value)> {
    let r = server
        .get(token, &format!("/v1/sets/{set}/images?limit=200"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|image| {
            let entry = image["sets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["public_uuid"] == set)
                .unwrap()
                .clone();
            (
                image["public_uuid"].as_str().unwrap().to_owned(),
                entry["hidden"].clone(),
                entry["activation_time"].clone(),
            )
        })
        .collect()
}

both_setups!(
    a_user_rearranges_only_its_own_images_in_sets,
    |env: Env| async move {
        let (server, token, admin, ann, bob) = setup(&env).await;
        let theirs = upload(&server, &token, "theirs.jpg").await;
        let bobs = upload(&server, &bob, "bobs.jpg").await;
        let bobs_other = upload(&server, &bob, "bobs-other.jpg").await;
        let a1 = upload(&server, &ann, "a1.jpg").await;
        let a2 = upload(&server, &ann, "a2.jpg").await;
        let op = server
            .write_ok("POST", &admin, "/v1/sets", json!({"name": "Festival"}))
            .await;
        let set = op["set_public_uuid"].as_str().unwrap().to_owned();
        let images = format!("/v1/sets/{set}/images");
        let order = format!("/v1/sets/{set}/order");
        let visibility = format!("/v1/sets/{set}/visibility");
        server
            .write_ok(
                "POST",
                &admin,
                &images,
                json!({"image_public_uuids": [bobs, theirs, a1]}),
            )
            .await;
        // Bob embargoes his image until next year.
        let embargo = server.write_ok("PATCH", &bob, &visibility, json!({"image_public_uuids": [bobs], "hidden": true, "activation_time": "2099-01-01T00:00:00Z"}))
        .await;

        // Every refusal: 403 own_images_only naming the image, nothing applied.
        let refusals = [
            (
                "POST",
                &images,
                json!({"image_public_uuids": [a2, bobs_other]}),
                "image_public_uuids[1]",
            ),
            (
                "DELETE",
                &images,
                json!({"image_public_uuids": [a1, bobs]}),
                "image_public_uuids[1]",
            ),
            (
                "DELETE",
                &images,
                json!({"image_public_uuids": [theirs]}),
                "image_public_uuids[0]",
            ),
            // Releasing bob's embargo early, by name or set-wide.
            (
                "PATCH",
                &visibility,
                json!({"image_public_uuids": [a1, bobs], "hidden": false}),
                "image_public_uuids[1]",
            ),
            (
                "PATCH",
                &visibility,
                json!({"hidden": false}),
                "image_public_uuids",
            ),
            (
                "PATCH",
                &visibility,
                json!({"image_public_uuids": [theirs], "hidden": true}),
                "image_public_uuids[0]",
            ),
            // Moving others' images among themselves.
            (
                "PATCH",
                &order,
                json!({"move": [theirs], "before": bobs}),
                "move[0]",
            ),
            (
                "PATCH",
                &order,
                json!({"image_public_uuids": [a1, theirs, bobs]}),
                "image_public_uuids[1]",
            ),
        ];
        for (method, path, body, field) in &refusals {
            let before = arrangement(&server, &admin, &set).await;
            let r = server
                .write(method, &ann, path, &idempotency_key(), Some(body))
                .await;
            let e = r.error(403, "forbidden");
            assert_eq!(e["detail"], "own_images_only", "{method} {path} {body}");
            assert_eq!(e["field"], *field, "{method} {path} {body}");
            assert_eq!(arrangement(&server, &admin, &set).await, before, "{body}");
        }
        // Bob's image is still embargoed.
        let r = server
            .get(&admin, &format!("/v1/sets/{set}/images?live=true"))
            .await;
        assert!(!r.text.contains(&bobs), "{}", r.text);

        // Its own images: add, hide, move past others (a full order that
        // only moves its own), remove.
        server
            .write_ok(
                "POST",
                &ann,
                &images,
                json!({"image_public_uuids": [a2, a1]}),
            )
            .await;
        server
            .write_ok(
                "PATCH",
                &ann,
                &visibility,
                json!({"image_public_uuids": [a1, a2], "hidden": true}),
            )
            .await;
        server
            .write_ok("PATCH", &ann, &order, json!({"move": [a2], "before": bobs}))
            .await;
        server
            .write_ok(
                "PATCH",
                &ann,
                &order,
                json!({"image_public_uuids": [bobs, a1, theirs, a2]}),
            )
            .await;
        let ids: Vec<String> = arrangement(&server, &admin, &set)
            .await
            .into_iter()
            .map(|m| m.0)
            .collect();
        assert_eq!(
            ids,
            vec![bobs.clone(), a1.clone(), theirs.clone(), a2.clone()]
        );
        // A visibility request that changes nothing of the others' passes.
        server.write_ok("PATCH", &ann, &visibility, json!({"image_public_uuids": [a1, bobs], "hidden": true, "activation_time": "2099-01-01T00:00:00Z"})).await;
        server
            .write_ok("DELETE", &ann, &images, json!({"image_public_uuids": [a2]}))
            .await;

        // Restore: refused when it would change others' images (before bob's
        // embargo), fine when only its own differ (before its removal).
        let snapshots = server
            .get(&admin, &format!("/v1/sets/{set}/snapshots"))
            .await
            .json();
        let of = |op: &Value| {
            snapshots
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["operation_uuid"] == op["uuid"])
                .unwrap()["uuid"]
                .clone()
        };
        let before = arrangement(&server, &admin, &set).await;
        let r = server
            .write(
                "POST",
                &ann,
                &format!("/v1/sets/{set}/restore"),
                &idempotency_key(),
                Some(&json!({"snapshot_uuid": of(&embargo)})),
            )
            .await;
        let e = r.error(403, "forbidden");
        assert_eq!(
            (e["detail"].as_str(), e["field"].as_str()),
            (Some("own_images_only"), Some("snapshot_uuid"))
        );
        assert_eq!(arrangement(&server, &admin, &set).await, before);
        let newest = snapshots[0]["uuid"].clone();
        server
            .write_ok(
                "POST",
                &ann,
                &format!("/v1/sets/{set}/restore"),
                json!({"snapshot_uuid": newest}),
            )
            .await;
        let ids: Vec<String> = arrangement(&server, &admin, &set)
            .await
            .into_iter()
            .map(|m| m.0)
            .collect();
        assert_eq!(
            ids,
            vec![bobs.clone(), a1.clone(), theirs.clone(), a2.clone()]
        );

        // An admin and a service token reach every image.
        server
            .write_ok("PATCH", &admin, &visibility, json!({"hidden": false}))
            .await;
        server
            .write_ok(
                "PATCH",
                &token,
                &order,
                json!({"move": [theirs], "before": bobs}),
            )
            .await;
        let r = server
            .get(
                &admin,
                &format!("/v1/sets/{set}/images?live=true&limit=200"),
            )
            .await;
        assert!(r.text.contains(&bobs), "{}", r.text);
        Ok(())
    }
);

/// The image's rating and the sets it is in.
async fn rating_and_sets(server: &Server, token: &str, id: &str) -> (Value, Vec<Value>) {
    let image = server.get(token, &format!("/v1/images/{id}")).await.json();
    let sets = image["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["public_uuid"].clone())
        .collect();
    (image["rating"].clone(), sets)
}

both_setups!(
    a_batch_moves_images_between_sets_per_role,
    |env: Env| async move {
        let (server, _token, admin, ann, bob) = setup(&env).await;
        let rater = env
            .token("fest", "api.images.read,api.ratings.write", &[])
            .await;
        let mine = upload(&server, &ann, "mine.jpg").await;
        let bobs = upload(&server, &bob, "bobs.jpg").await;
        let mut sets = Vec::new();
        for name in ["Day one", "Day two"] {
            let op = server
                .write_ok("POST", &admin, "/v1/sets", json!({"name": name}))
                .await;
            sets.push(op["set_public_uuid"].as_str().unwrap().to_owned());
        }
        let (one, two) = (&sets[0], &sets[1]);
        server
            .write_ok(
                "POST",
                &admin,
                &format!("/v1/sets/{one}/images"),
                json!({"image_public_uuids": [mine, bobs]}),
            )
            .await;

        // The guide's example: keywords, a rating and a move between sets.
        let r = server.batch(&ann, json!([
                {"method": "PUT", "path": format!("/v1/images/{mine}/rating"), "body": {"rating": 4}},
                {"method": "POST", "path": format!("/v1/images/{mine}/keywords"), "body": {"keywords": ["stage:Main"]}},
                {"method": "DELETE", "path": format!("/v1/sets/{one}/images"), "body": {"image_public_uuids": [mine]}},
                {"method": "POST", "path": format!("/v1/sets/{two}/images"), "body": {"image_public_uuids": [mine]}},
                {"method": "PATCH", "path": format!("/v1/sets/{two}/visibility"), "body": {"image_public_uuids": [mine], "hidden": true}},
                {"method": "PATCH", "path": format!("/v1/sets/{two}/order"), "body": {"image_public_uuids": [mine]}},
            ]))
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let outcome = r.json();
        let kinds: Vec<&str> = outcome["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                assert_eq!(o["status"], "succeeded", "{o}");
                o["type"].as_str().unwrap()
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "rating.update",
                "keywords.add",
                "set.images.remove",
                "set.images.add",
                "set.visibility",
                "set.order"
            ]
        );
        assert_eq!(outcome["operations"][3]["set_public_uuid"], *two);
        assert_eq!(
            rating_and_sets(&server, &admin, &mine).await,
            (json!(4), vec![json!(two)])
        );
        let members = arrangement(&server, &admin, two).await;
        assert_eq!(members, vec![(mine.clone(), json!(true), Value::Null)]);

        // One item touching another's image: 403 naming it, nothing applied.
        let r = server.batch(&ann, json!([
                {"method": "PUT", "path": format!("/v1/images/{mine}/rating"), "body": {"rating": 1}},
                {"method": "POST", "path": format!("/v1/sets/{two}/images"), "body": {"image_public_uuids": [bobs]}},
            ]))
        .await;
        let e = r.error(403, "forbidden");
        assert_eq!(e["detail"], "own_images_only");
        assert_eq!(e["field"], "operations[1].body.image_public_uuids[0]");
        let r = server.batch(&ann, json!([
                {"method": "PUT", "path": format!("/v1/images/{mine}/rating"), "body": {"rating": 1}},
                {"method": "DELETE", "path": format!("/v1/sets/{one}/images"), "body": {"image_public_uuids": [bobs]}},
            ]))
        .await;
        assert_eq!(r.error(403, "forbidden")["detail"], "own_images_only");
        assert_eq!(
            rating_and_sets(&server, &admin, &mine).await,
            (json!(4), vec![json!(two)])
        );
        assert_eq!(
            rating_and_sets(&server, &admin, &bobs).await.1,
            vec![json!(one)]
        );

        // Each item needs its own scope; bodies and sets are checked as alone.
        let r = server.batch(&rater, json!([
                {"method": "PUT", "path": format!("/v1/images/{mine}/rating"), "body": {"rating": 2}},
                {"method": "POST", "path": format!("/v1/sets/{two}/images"), "body": {"image_public_uuids": [mine]}},
            ]))
        .await;
        let e = r.error(403, "forbidden");
        assert_eq!(
            (e["detail"].as_str(), e["field"].as_str()),
            (Some("api.sets.write"), Some("operations[1].path"))
        );
        let r = server.batch(&admin, json!([{"method": "PATCH", "path": format!("/v1/sets/{two}/order"), "body": {"move": []}}]))
        .await;
        assert_eq!(
            r.error(400, "validation")["field"],
            "operations[0].body.move"
        );
        let r = server.batch(&admin, json!([{"method": "POST", "path": "/v1/sets/00000000-0000-4000-8000-000000000009/images", "body": {"image_public_uuids": [mine]}}]))
        .await;
        assert_eq!(r.error(404, "set_not_found")["field"], "operations[0].path");
        // An admin moves anyone's images.
        let r = server.batch(&admin, json!([
                {"method": "DELETE", "path": format!("/v1/sets/{one}/images"), "body": {"image_public_uuids": [bobs]}},
                {"method": "POST", "path": format!("/v1/sets/{two}/images"), "body": {"image_public_uuids": [bobs]}},
            ]))
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert_eq!(
            rating_and_sets(&server, &admin, &bobs).await.1,
            vec![json!(two)]
        );
        Ok(())
    }
);

both_setups!(
    an_upload_ticket_dies_with_the_credential_that_made_it,
    |env: Env| async move {
        let (server, token, _admin, ann, bob) = setup(&env).await;
        let carl = env
            .member(&server, "fest", "carl@example.com", "user")
            .await;
        let ticket = |who: String| {
            let server = &server;
            async move {
                let r = server
                    .post(&who, "/v1/uploads", None, &json!({"filename": "late.jpg"}))
                    .await;
                assert_eq!(r.status, 201, "{}", r.text);
                r.json()
            }
        };
        let (for_ann, for_bob, for_carl) = (
            ticket(ann.clone()).await,
            ticket(bob.clone()).await,
            ticket(carl.clone()).await,
        );
        let images = || async { server.get(&token, "/v1/images").await.text };
        let before = (images().await, env.blob_keys("originals/").await);

        // Carl signs out: his device session ends, and with it the ticket.
        let r = server
            .http
            .post(server.at("/v1/auth/sign_out"))
            .bearer_auth(&carl)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = post_file(&server, &for_carl, fixtures::jpeg(90, 60)).await;
        assert_eq!(r.error(401, "unauthorized")["detail"], "ticket_revoked");
        // Bob is disabled.
        env.cli(&["user", "disable", "bob@example.com"]).await;
        let r = post_file(&server, &for_bob, fixtures::jpeg(91, 60)).await;
        assert_eq!(r.error(401, "unauthorized")["detail"], "ticket_revoked");
        // Ann is removed from the account (there is no command for it yet).
        env.sql(
            "DELETE FROM memberships WHERE user_id IN (SELECT id FROM users WHERE login = 'ann@example.com')",
        )
        .await;
        let r = post_file(&server, &for_ann, fixtures::jpeg(92, 60)).await;
        assert_eq!(r.error(403, "forbidden")["detail"], "not_a_member");
        // Nothing stored.
        assert_eq!((images().await, env.blob_keys("originals/").await), before);
        Ok(())
    }
);

both_setups!(
    a_member_removed_while_the_file_arrives_gets_nothing_kept,
    |env: Env| async move {
        let (server, token, _admin, ann, _bob) = setup(&env).await;
        let r = server
            .post(&ann, "/v1/uploads", None, &json!({"filename": "slow.jpg"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let ticket = r.json();
        let images = || async { server.get(&token, "/v1/images").await.text };
        let before = (images().await, env.blob_keys("originals/").await);
        // The file arrives in two parts; Ann leaves the account in between.
        let bytes = fixtures::jpeg(93, 60);
        let (first, rest) = bytes.split_at(bytes.len() / 2);
        let (send, receive) =
            futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
        send.unbounded_send(Ok(first.to_vec())).unwrap();
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in ticket["fields"].as_object().unwrap() {
            form = form.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        form = form.part(
            ticket["file_field"].as_str().unwrap().to_owned(),
            reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(receive))
                .file_name("slow.jpg"),
        );
        let url = ticket["upload_url"].as_str().unwrap().to_owned();
        let upload = tokio::spawn({
            let http = server.http.clone();
            async move {
                lightbox_testkit::Reply::from(http.post(url).multipart(form).send().await).await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        env.sql(
            "DELETE FROM memberships WHERE user_id IN (SELECT id FROM users WHERE login = 'ann@example.com')",
        )
        .await;
        send.unbounded_send(Ok(rest.to_vec())).unwrap();
        drop(send);
        let r = upload.await.unwrap();
        assert_eq!(r.error(403, "forbidden")["detail"], "not_a_member");
        assert_eq!((images().await, env.blob_keys("originals/").await), before);
        Ok(())
    }
);

/// What identifies one write of a blob: the file's inode (folder store) or
/// the object's LastModified (S3).
async fn stored_stamp(env: &Env, key: &str) -> String {
    match &env.s3 {
        None => {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(env.dir.join("blobs").join(key)).unwrap();
            format!("{}:{}", meta.ino(), meta.mtime_nsec())
        }
        Some((endpoint, bucket)) => {
            let text = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("{endpoint}/{bucket}?list-type=2&prefix=lb/{key}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            text.split("<LastModified>")
                .nth(1)
                .and_then(|t| t.split("</LastModified>").next())
                .unwrap_or_else(|| panic!("no {key} in {text}"))
                .to_owned()
        }
    }
}

/// Posts a file with a fresh ticket; (status, body with the ids blanked).
async fn answer_of(server: &Server, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let ticket = server
        .post(token, "/v1/uploads", None, &json!({"filename": "same.jpg"}))
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    let r = post_file(server, &ticket.json(), bytes).await;
    let mut body = r.json();
    for id in ["image_public_uuid", "transaction_uuid", "operation_uuid"] {
        if body[id].is_string() {
            body[id] = json!("…");
        }
    }
    (r.status, body)
}

both_setups!(
    an_upload_tells_nothing_of_other_accounts_files,
    |env: Env| async move {
        env.account("fest").await;
        env.account("other").await;
        let fest = env.token("fest", "all", &[]).await;
        let other = env.token("other", "all", &[]).await;
        let server = env.serve(&[]).await;
        let shared = fixtures::jpeg(321, 123);
        let key = format!(
            "originals/{0}/{1}/{2}",
            &sha256_hex(&shared)[..2],
            &sha256_hex(&shared)[2..4],
            sha256_hex(&shared)
        );

        // Fest stores the bytes first.
        let (status, _) = answer_of(&server, &fest, shared.clone()).await;
        assert_eq!(status, 201);
        let first = stored_stamp(&env, &key).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

        // Other's upload of the same bytes answers as a new file does...
        let same = answer_of(&server, &other, shared.clone()).await;
        let new = answer_of(&server, &other, fixtures::jpeg(322, 123)).await;
        assert_eq!(same, new);
        assert_eq!(same.0, 201);
        assert_eq!(same.1["duplicate"], false);
        assert_eq!(same.1["operation_uuid"], "…");
        // ...and does the same work: the bytes are written to their address
        // again, not skipped because fest has them.
        assert_ne!(
            stored_stamp(&env, &key).await,
            first,
            "the original was not written again"
        );
        assert_eq!(env.blob_keys("tmp/").await, Vec::<String>::new());

        // Its own duplicate is still a duplicate.
        let again = answer_of(&server, &other, shared.clone()).await;
        assert_eq!(again.0, 200);
        assert_eq!(again.1["duplicate"], true);
        let images = server.get(&other, "/v1/images").await.json();
        assert_eq!(images.as_array().map(Vec::len), Some(2));
        Ok(())
    }
);
