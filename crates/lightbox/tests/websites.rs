//! Websites in the API (api.md §10) over real HTTP, on SQLite with the
//! folder blob store and on PostgreSQL with a real S3-compatible server:
//! create / read / list / change / delete, the documented defaults and
//! rules (slug, host name, accent, downloads), addresses unique across
//! accounts, other accounts' websites are 404, the `user` role changes
//! none, and a set's `website` field names its nearest root's website.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_testkit::{Env, Server, both_setups, idempotency_key};
use serde_json::{Value, json};

struct Festival {
    server: Server,
    token: String,
    /// Festival ⊃ Saturday ⊃ Stage; Archive beside it.
    festival: String,
    saturday: String,
    stage: String,
    archive: String,
}

async fn create_set(server: &Server, token: &str, body: Value) -> String {
    let op = server.write_ok("POST", token, "/v1/sets", body).await;
    op["set_public_uuid"].as_str().unwrap().to_owned()
}

async fn festival(env: &Env, unique_id: &str) -> Festival {
    let account = env.account(unique_id).await;
    let token = env
        .token(
            &account,
            "api.images.read,api.sets.write,api.upload,api.images.delete",
            &[],
        )
        .await;
    // The operator lets websites have any host name.
    let server = env.serve(&["--website-host", "*"]).await;
    let festival = create_set(
        &server,
        &token,
        json!({"name": "Festival", "type": "folder"}),
    )
    .await;
    let saturday = create_set(
        &server,
        &token,
        json!({"name": "Saturday", "parent_public_uuid": festival}),
    )
    .await;
    let stage = create_set(
        &server,
        &token,
        json!({"name": "Main stage", "parent_public_uuid": saturday}),
    )
    .await;
    let archive = create_set(&server, &token, json!({"name": "Archive"})).await;
    Festival {
        server,
        token,
        festival,
        saturday,
        stage,
        archive,
    }
}

async fn create(f: &Festival, body: Value) -> Value {
    let op = f
        .server
        .write_ok("POST", &f.token, "/v1/websites", body)
        .await;
    op["result"]["website"].clone()
}

async fn get(f: &Festival, path: &str) -> Value {
    let r = f.server.get(&f.token, path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.json()
}

both_setups!(
    websites_are_created_read_listed_changed_and_deleted,
    |env: Env| async move {
        let f = festival(&env, "web").await;
        let public = create(
        &f,
        json!({"name": "Festival — public", "slug": "festival-2026", "root_set_public_uuid": f.festival}),
    )
    .await;
        // The documented defaults.
        assert_eq!(public["type"], "public", "{public}");
        assert_eq!(public["title"], "Festival — public", "{public}");
        assert_eq!(public["intro"], "", "{public}");
        assert_eq!(public["accent"], "#1d4ed8", "{public}");
        assert_eq!(public["downloads"], "none", "{public}");
        assert_eq!(public["hostname"], Value::Null, "{public}");
        assert_eq!(public["logo_image_public_uuid"], Value::Null, "{public}");
        assert_eq!(
            public["root_set_public_uuid"],
            f.festival.as_str(),
            "{public}"
        );
        let url = public["url"].as_str().unwrap();
        assert!(url.ends_with("/w/festival-2026/"), "{url}");
        let id = public["public_uuid"].as_str().unwrap().to_owned();
        assert_eq!(get(&f, &format!("/v1/websites/{id}")).await, public);

        let press = create(
            &f,
            json!({"name": "Press", "type": "press", "slug": "festival-press",
               "hostname": "press.festival.example", "root_set_public_uuid": f.saturday,
               "accent": "#C2410C", "intro": "Photos for the press.\nUpdated nightly."}),
        )
        .await;
        assert_eq!(press["downloads"], "large", "{press}");
        assert_eq!(press["accent"], "#c2410c", "stored lowercase: {press}");
        let scheme = url.split("://").next().unwrap();
        assert_eq!(
            press["url"],
            format!("{scheme}://press.festival.example/"),
            "{press}"
        );
        let press_id = press["public_uuid"].as_str().unwrap().to_owned();

        // Listed oldest first, paged.
        let r = f.server.get(&f.token, "/v1/websites?limit=1").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-has-more").as_deref(), Some("true"));
        assert_eq!(r.json()[0]["public_uuid"], id.as_str());
        let all = get(&f, "/v1/websites").await;
        let ids: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["public_uuid"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str(), press_id.as_str()]);

        // Each set names its nearest root's website.
        let website_of = |set: Value| set["website"].clone();
        assert_eq!(
            website_of(get(&f, &format!("/v1/sets/{}", f.festival)).await),
            json!({"public_uuid": id, "name": "Festival — public", "type": "public", "url": public["url"]})
        );
        assert_eq!(
            website_of(get(&f, &format!("/v1/sets/{}", f.stage)).await)["public_uuid"],
            press_id.as_str()
        );
        assert_eq!(
            website_of(get(&f, &format!("/v1/sets/{}", f.archive)).await),
            Value::Null
        );
        let tree = get(&f, "/v1/sets/tree").await;
        let festival_node = tree
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["public_uuid"] == f.festival.as_str())
            .unwrap()
            .clone();
        assert_eq!(
            festival_node["website"]["public_uuid"],
            id.as_str(),
            "{tree}"
        );
        assert_eq!(
            festival_node["children"][0]["website"]["public_uuid"],
            press_id.as_str(),
            "{tree}"
        );
        let children = get(&f, &format!("/v1/sets?parent_public_uuid={}", f.saturday)).await;
        assert_eq!(
            children[0]["website"]["public_uuid"],
            press_id.as_str(),
            "{children}"
        );

        // Changed: absent fields stay, null clears, the new values are kept.
        let op = f
            .server
            .write_ok(
                "PATCH",
                &f.token,
                &format!("/v1/websites/{press_id}"),
                json!({"hostname": null, "downloads": "original", "title": "Press room",
                   "root_set_public_uuid": f.stage}),
            )
            .await;
        let changed = &op["result"]["website"];
        assert_eq!(changed["hostname"], Value::Null, "{changed}");
        assert_eq!(changed["downloads"], "original", "{changed}");
        assert_eq!(changed["title"], "Press room", "{changed}");
        assert_eq!(changed["name"], "Press", "{changed}");
        assert_eq!(changed["accent"], "#c2410c", "{changed}");
        assert!(
            changed["url"]
                .as_str()
                .unwrap()
                .ends_with("/w/festival-press/"),
            "{changed}"
        );
        assert_eq!(&get(&f, &format!("/v1/websites/{press_id}")).await, changed);
        // Saturday is now under the public website only.
        assert_eq!(
            website_of(get(&f, &format!("/v1/sets/{}", f.saturday)).await)["public_uuid"],
            id.as_str()
        );

        // Deleted: gone, the sets stay.
        f.server
            .write_ok(
                "DELETE",
                &f.token,
                &format!("/v1/websites/{press_id}"),
                None,
            )
            .await;
        let r = f
            .server
            .get(&f.token, &format!("/v1/websites/{press_id}"))
            .await;
        r.error(404, "not_found");
        assert_eq!(
            website_of(get(&f, &format!("/v1/sets/{}", f.stage)).await)["public_uuid"],
            id.as_str()
        );
        let r = f
            .server
            .delete(
                &f.token,
                &format!("/v1/websites/{press_id}"),
                &idempotency_key(),
            )
            .await;
        r.error(404, "not_found");
        Ok(())
    }
);

both_setups!(
    bad_websites_are_refused_and_change_nothing,
    |env: Env| async move {
        let f = festival(&env, "webbad").await;
        let ok = json!({"name": "Festival", "slug": "fest", "root_set_public_uuid": f.festival});
        let with = |field: &str, value: Value| {
            let mut body = ok.clone();
            body[field] = value;
            body
        };
        let refused = |body: Value, status: (u16, &'static str), field: &'static str| {
            let server = &f.server;
            let token = &f.token;
            async move {
                server
                    .write_refused("POST", token, "/v1/websites", body, status, Some(field))
                    .await;
            }
        };
        for slug in [
            "",
            "Fest",
            "-fest",
            "fest-",
            "fe st",
            "fest_1",
            "é",
            &"a".repeat(64),
        ] {
            refused(with("slug", json!(slug)), (400, "validation"), "slug").await;
        }
        for host in [
            "",
            "localhost",
            "Photos.example.org",
            "photos.example.org:8443",
            "https://photos.example.org",
            "photos.example.org.",
            "-a.example.org",
            "192.168.1.10",
            "photos..example.org",
        ] {
            refused(
                with("hostname", json!(host)),
                (400, "validation"),
                "hostname",
            )
            .await;
        }
        // The server's own host serves the console at its root.
        let own = f
            .server
            .url
            .split("://")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_owned();
        if own.contains('.') && !own.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            refused(
                with("hostname", json!(own)),
                (400, "validation"),
                "hostname",
            )
            .await;
        }
        for accent in ["red", "#fff", "#12345g", "1d4ed8", "#1d4ed80"] {
            refused(with("accent", json!(accent)), (400, "validation"), "accent").await;
        }
        refused(with("name", json!("  ")), (400, "validation"), "name").await;
        refused(with("title", json!("")), (400, "validation"), "title").await;
        refused(with("type", json!("secret")), (400, "validation"), "type").await;
        refused(
            with("downloads", json!("all")),
            (400, "validation"),
            "downloads",
        )
        .await;
        refused(with("unknown", json!(1)), (400, "validation"), "unknown").await;
        refused(
            with(
                "root_set_public_uuid",
                json!("00000000-0000-4000-8000-000000000000"),
            ),
            (404, "set_not_found"),
            "root_set_public_uuid",
        )
        .await;
        refused(
            with(
                "logo_image_public_uuid",
                json!("00000000-0000-4000-8000-000000000000"),
            ),
            (404, "image_not_found"),
            "logo_image_public_uuid",
        )
        .await;
        // Nothing was made.
        let r = f.server.get(&f.token, "/v1/websites").await;
        assert_eq!(r.json(), json!([]), "{}", r.text);

        // Addresses are unique across the server: another account's website
        // holds the slug and host name.
        let other = festival(&env, "webother").await;
        create(
            &other,
            json!({"name": "Other", "slug": "taken", "hostname": "taken.example.org",
               "root_set_public_uuid": other.festival}),
        )
        .await;
        refused(with("slug", json!("taken")), (409, "conflict"), "slug").await;
        refused(
            with("hostname", json!("taken.example.org")),
            (409, "conflict"),
            "hostname",
        )
        .await;
        let mine = create(&f, ok.clone()).await;
        let mine_id = mine["public_uuid"].as_str().unwrap();
        f.server
            .write_refused(
                "PATCH",
                &f.token,
                &format!("/v1/websites/{mine_id}"),
                json!({"slug": "taken"}),
                (409, "conflict"),
                Some("slug"),
            )
            .await;
        f.server
            .write_refused(
                "PATCH",
                &f.token,
                &format!("/v1/websites/{mine_id}"),
                json!({"root_set_public_uuid": other.festival}),
                (404, "set_not_found"),
                Some("root_set_public_uuid"),
            )
            .await;
        // Its own slug again is no conflict.
        f.server
            .write_ok(
                "PATCH",
                &f.token,
                &format!("/v1/websites/{mine_id}"),
                json!({"slug": "fest"}),
            )
            .await;
        // Nothing changed but the time of the change.
        let mut after = get(&f, &format!("/v1/websites/{mine_id}")).await;
        let mut before = mine.clone();
        after["updated_at"] = Value::Null;
        before["updated_at"] = Value::Null;
        assert_eq!(after, before);

        // Another account's website is not found, for reads and writes.
        let theirs = get(&other, "/v1/websites").await[0]["public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        f.server
            .get(&f.token, &format!("/v1/websites/{theirs}"))
            .await
            .error(404, "not_found");
        f.server
            .write_refused(
                "PATCH",
                &f.token,
                &format!("/v1/websites/{theirs}"),
                json!({"name": "Mine now"}),
                (404, "not_found"),
                None,
            )
            .await;
        f.server
            .delete(
                &f.token,
                &format!("/v1/websites/{theirs}"),
                &idempotency_key(),
            )
            .await
            .error(404, "not_found");
        f.server
            .get(&f.token, "/v1/websites/not-a-uuid")
            .await
            .error(404, "not_found");
        assert_eq!(get(&other, "/v1/websites").await[0]["name"], "Other");
        // Another account's set is not a set of this one.
        assert_eq!(
            get(&other, &format!("/v1/sets/{}", other.festival)).await["website"]["name"],
            "Other"
        );
        Ok(())
    }
);

both_setups!(scopes_and_roles_guard_websites, |env: Env| async move {
    let f = festival(&env, "webroles").await;
    let account = "webroles";
    let site = create(
        &f,
        json!({"name": "Festival", "slug": "roles", "root_set_public_uuid": f.festival}),
    )
    .await;
    let id = site["public_uuid"].as_str().unwrap();
    // Reading needs api.images.read; writing api.sets.write.
    let reader = env.token(account, "api.images.read", &[]).await;
    assert_eq!(f.server.get(&reader, "/v1/websites").await.status, 200);
    f.server
        .write_refused(
            "POST",
            &reader,
            "/v1/websites",
            json!({"name": "X", "slug": "x", "root_set_public_uuid": f.festival}),
            (403, "forbidden"),
            None,
        )
        .await;
    let writer = env.token(account, "api.sets.write", &[]).await;
    f.server
        .get(&writer, "/v1/websites")
        .await
        .error(403, "forbidden");
    // A person with the `user` role publishes nothing.
    env.user(
        "photographer@webroles.example",
        "correct horse battery staple 1",
        account,
        "user",
    )
    .await;
    let user = f
        .server
        .access_token(
            "photographer@webroles.example",
            "correct horse battery staple 1",
        )
        .await;
    assert_eq!(f.server.get(&user, "/v1/websites").await.status, 200);
    for (method, path, body) in [
        (
            "POST",
            "/v1/websites".to_owned(),
            json!({"name": "X", "slug": "by-user", "root_set_public_uuid": f.festival}),
        ),
        (
            "PATCH",
            format!("/v1/websites/{id}"),
            json!({"name": "Mine"}),
        ),
    ] {
        let e = f
            .server
            .write_refused(method, &user, &path, body, (403, "forbidden"), None)
            .await;
        assert_eq!(e["detail"], "role_not_allowed", "{e}");
    }
    f.server
        .delete(&user, &format!("/v1/websites/{id}"), &idempotency_key())
        .await
        .error(403, "forbidden");
    assert_eq!(get(&f, &format!("/v1/websites/{id}")).await, site);
    Ok(())
});

both_setups!(
    racing_creates_of_one_slug_make_one_website,
    |env: Env| async move {
        let f = festival(&env, "webrace").await;
        let body = json!({"name": "Race", "slug": "race", "hostname": "race.example.org",
                      "root_set_public_uuid": f.festival});
        let keys: Vec<String> = (0..8).map(|_| idempotency_key()).collect();
        let sends = keys.iter().map(|key| {
            f.server
                .write("POST", &f.token, "/v1/websites", key, Some(&body))
        });
        let mut made = 0;
        for r in futures::future::join_all(sends).await {
            match r.status {
                202 => made += 1,
                _ => {
                    let e = r.error(409, "conflict");
                    assert!(e["field"] == "slug" || e["field"] == "hostname", "{e}");
                }
            }
        }
        assert_eq!(made, 1, "exactly one of the racing creates wins");
        let all = get(&f, "/v1/websites").await;
        assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
        Ok(())
    }
);

both_setups!(
    website_writes_replay_race_validate_and_follow_the_logo,
    |env: Env| async move {
        let f = festival(&env, "weblife").await;
        let logo = f
            .server
            .upload(&f.token, "logo.jpg", lightbox_media::fixtures::jpeg(64, 48))
            .await;

        // A replay answers the first Operation and makes nothing more; the
        // same key with another body is a conflict.
        let body = json!({"name": "Replayed", "slug": "replayed", "root_set_public_uuid": f.festival,
                          "logo_image_public_uuid": logo});
        let key = idempotency_key();
        let first = f
            .server
            .write("POST", &f.token, "/v1/websites", &key, Some(&body))
            .await;
        assert_eq!(first.status, 202, "{}", first.text);
        let again = f
            .server
            .write("POST", &f.token, "/v1/websites", &key, Some(&body))
            .await;
        assert_eq!(again.status, 202, "{}", again.text);
        assert_eq!(first.json()["uuid"], again.json()["uuid"]);
        let mut other_body = body.clone();
        other_body["slug"] = json!("replayed-2");
        f.server
            .write("POST", &f.token, "/v1/websites", &key, Some(&other_body))
            .await
            .error(409, "idempotency_key_conflict");
        let all = get(&f, "/v1/websites").await;
        assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
        let website = first.json()["result"]["website"].clone();
        assert_eq!(
            website["logo_image_public_uuid"],
            logo.as_str(),
            "{website}"
        );
        let id = website["public_uuid"].as_str().unwrap().to_owned();
        let path = format!("/v1/websites/{id}");

        // A bad PATCH is refused, naming the field, and changes nothing.
        let bad = [
            (json!({"slug": "Not OK"}), "slug"),
            (json!({"slug": "-edge"}), "slug"),
            (json!({"hostname": "localhost"}), "hostname"),
            (json!({"hostname": "photos.example.org:8080"}), "hostname"),
            (json!({"accent": "blue"}), "accent"),
            (json!({"name": ""}), "name"),
            (json!({"title": " "}), "title"),
            (json!({"type": "secret"}), "type"),
            (json!({"downloads": "everything"}), "downloads"),
            (json!({"intro": "x".repeat(5001)}), "intro"),
        ];
        for (patch, field) in bad {
            f.server
                .write_refused(
                    "PATCH",
                    &f.token,
                    &path,
                    patch,
                    (400, "validation"),
                    Some(field),
                )
                .await;
        }
        let theirs = env.account("weblife-other").await;
        let their_token = env.token(&theirs, "api.upload", &[]).await;
        let their_image = f
            .server
            .upload(
                &their_token,
                "theirs.jpg",
                lightbox_media::fixtures::jpeg(32, 32),
            )
            .await;
        f.server
            .write_refused(
                "PATCH",
                &f.token,
                &path,
                json!({"logo_image_public_uuid": their_image}),
                (404, "image_not_found"),
                Some("logo_image_public_uuid"),
            )
            .await;
        let mut unchanged = get(&f, &path).await;
        unchanged["updated_at"] = Value::Null;
        let mut expected = website.clone();
        expected["updated_at"] = Value::Null;
        assert_eq!(unchanged, expected);

        // PATCHes of different fields at once all land: none undoes another.
        let patches = [
            json!({"name": "Renamed"}),
            json!({"title": "A title"}),
            json!({"intro": "An intro"}),
            json!({"accent": "#aa0000"}),
            json!({"downloads": "original"}),
            json!({"type": "press"}),
            json!({"slug": "raced"}),
            json!({"hostname": "raced.example.org"}),
        ];
        let keys: Vec<String> = patches.iter().map(|_| idempotency_key()).collect();
        let sends = patches
            .iter()
            .zip(&keys)
            .map(|(p, key)| f.server.write("PATCH", &f.token, &path, key, Some(p)));
        for r in futures::future::join_all(sends).await {
            assert_eq!(r.status, 202, "{}", r.text);
        }
        let after = get(&f, &path).await;
        for patch in &patches {
            let (field, value) = patch.as_object().unwrap().iter().next().unwrap();
            assert_eq!(&after[field], value, "{field} was lost: {after}");
        }

        // The logo goes away with its image; the website stays.
        f.server
            .write_ok("DELETE", &f.token, &format!("/v1/images/{logo}"), None)
            .await;
        let after = get(&f, &path).await;
        assert_eq!(after["logo_image_public_uuid"], Value::Null, "{after}");
        assert_eq!(after["name"], "Renamed", "{after}");
        Ok(())
    }
);
