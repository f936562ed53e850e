//! The `user` role over real HTTP (spec §2.2): its writes reach only the
//! images it uploaded — set membership, order and visibility included —, it
//! downloads originals and archives holding originals only of its own
//! uploads, and what it uploads reveals nothing of other accounts — on
//! SQLite with the folder blob store and on PostgreSQL with a real
//! S3-compatible server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{Env, Server, finished_operation, uploaded};
use lightbox_media::fixtures;
use serde_json::{Value, json};

static KEYS: AtomicU64 = AtomicU64::new(0);

fn key() -> String {
    format!("r-{}", KEYS.fetch_add(1, Ordering::SeqCst))
}

const PASSWORD: &str = "correct horse battery staple";

/// An account `fest` with an all-scopes service token, an admin member and
/// two `user` members (ann, bob); a server. Returns (server, token, admin,
/// ann, bob) — the last three access tokens.
async fn setup(env: &Env) -> (Server, String, String, String, String) {
    env.account("fest").await;
    let token = env.token("fest", "all", &[]).await;
    env.user("root@example.com", PASSWORD, "fest", "admin")
        .await;
    env.user("ann@example.com", PASSWORD, "fest", "user").await;
    env.user("bob@example.com", PASSWORD, "fest", "user").await;
    let server = env.serve(&[]).await;
    let admin = server.access_token("root@example.com", PASSWORD).await;
    let ann = server.access_token("ann@example.com", PASSWORD).await;
    let bob = server.access_token("bob@example.com", PASSWORD).await;
    (server, token, admin, ann, bob)
}

/// Builds an archive as `token`; the finished Operation as its builder sees it.
async fn archive(server: &Server, token: &str, body: Value) -> Value {
    let r = server
        .write("POST", token, "/v1/archives", &key(), Some(&body))
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
