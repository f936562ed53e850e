//! Signed downloads over real HTTP: `POST /v1/downloads` and the links it
//! hands out — the original byte for byte, every public version, `Range`,
//! `Content-Disposition`, tampered, expired and retired-key links, a
//! version rebuilt after the link was made, scopes and roles — on SQLite
//! with the folder blob store and on PostgreSQL with a real S3-compatible
//! server, with real image files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_media::fixtures;
use lightbox_testkit::{
    Env, Reply, Server, both_setups, eventually, finished_operation, idempotency_key, post_file,
    sha256_hex, uploaded,
};
use serde_json::{Value, json};

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap())
        .unwrap()
}

/// `POST /v1/downloads` (no Idempotency-Key: it is not an Operation).
async fn ask(server: &Server, token: &str, body: Value) -> Reply {
    server.post(token, "/v1/downloads", None, &body).await
}

/// A link that must be granted; the link object.
async fn link(server: &Server, token: &str, body: Value) -> Value {
    let r = ask(server, token, body.clone()).await;
    assert_eq!(r.status, 200, "{body}: {}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    r.json()
}

/// GETs a link with no credential and optional extra headers.
async fn fetch(
    server: &Server,
    url: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = server.http.get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// GETs a link that must be refused; the error object.
async fn refused(server: &Server, url: &str, status: u16, code: &str) -> Value {
    let r = Reply::from(server.http.get(url).send().await).await;
    r.error(status, code)
}

/// The link with its token changed by `change`.
fn with_token(url: &str, change: impl Fn(&str) -> String) -> String {
    let (head, name) = url.rsplit_once('/').unwrap();
    let (base, token) = head.rsplit_once('/').unwrap();
    format!("{base}/{}/{name}", change(token))
}

fn flip(c: char) -> char {
    if c == 'A' { 'B' } else { 'A' }
}

both_setups!(
    original_and_versions_stream_with_ranges,
    |env: Env| async move {
        let (server, token) = env.account_server("fest", &[]).await;
        let bytes = fixtures::jpeg(1500, 1000);
        let id = uploaded(&server, &token, "DSC_0042.jpg", bytes.clone()).await;

        // No version: the largest the caller may have, the original.
        let before = unix_now();
        let original = link(&server, &token, json!({"image_public_uuid": id})).await;
        assert_eq!(original["version"], "original");
        assert_eq!(original["access"], "private");
        assert_eq!(original["filename"], "DSC_0042.jpg");
        assert_eq!(original["content_type"], "image/jpeg");
        assert_eq!(original["bytes"], bytes.len());
        let expires_at = original["expires_at"].as_i64().expect("integer expires_at");
        assert!(
            (before + 595..=unix_now() + 605).contains(&expires_at),
            "{expires_at} is not about now + 600"
        );
        let url = original["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/download/", server.url)),
            "{url}"
        );
        assert!(url.ends_with("/DSC_0042.jpg"), "{url}");
        assert_eq!(
            link(
                &server,
                &token,
                json!({"image_public_uuid": id, "version": "original"})
            )
            .await["version"],
            "original"
        );

        // The original, byte for byte, with no credential.
        let (status, headers, body) = fetch(&server, url, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
        assert_eq!(header(&headers, "content-type"), "image/jpeg");
        assert_eq!(header(&headers, "content-length"), bytes.len().to_string());
        assert_eq!(header(&headers, "accept-ranges"), "bytes");
        assert_eq!(header(&headers, "cache-control"), "private, no-store");
        assert_eq!(
            header(&headers, "content-disposition"),
            "attachment; filename=\"DSC_0042.jpg\"; filename*=UTF-8''DSC_0042.jpg"
        );
        let etag = header(&headers, "etag").to_owned();
        assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));
        assert!(header(&headers, "x-request-id").len() > 8);
        // The same link serves again while it lasts.
        assert_eq!(fetch(&server, url, &[]).await.0, 200);

        // Ranges: a part (206), from an offset, the tail; past the end: 416.
        let n = bytes.len();
        let (status, headers, body) = fetch(&server, url, &[("Range", "bytes=0-99")]).await;
        assert_eq!(status, 206);
        assert_eq!(header(&headers, "content-range"), format!("bytes 0-99/{n}"));
        assert_eq!(header(&headers, "content-length"), "100");
        assert_eq!(body, bytes[..100]);
        let (status, headers, body) = fetch(&server, url, &[("Range", "bytes=1000-")]).await;
        assert_eq!(status, 206);
        assert_eq!(
            header(&headers, "content-range"),
            format!("bytes 1000-{}/{n}", n - 1)
        );
        assert_eq!(body, bytes[1000..]);
        let (status, _, body) = fetch(&server, url, &[("Range", "bytes=-10")]).await;
        assert_eq!(status, 206);
        assert_eq!(body, bytes[n - 10..]);
        let past = format!("bytes={n}-");
        let (status, headers, body) = fetch(&server, url, &[("Range", past.as_str())]).await;
        assert_eq!(status, 416);
        assert_eq!(header(&headers, "content-range"), format!("bytes */{n}"));
        assert!(body.is_empty());
        // If-Range: the current tag keeps the range; another gives the whole.
        let (status, _, body) = fetch(
            &server,
            url,
            &[("Range", "bytes=0-9"), ("If-Range", etag.as_str())],
        )
        .await;
        assert_eq!((status, body.len()), (206, 10));
        let (status, _, body) = fetch(
            &server,
            url,
            &[("Range", "bytes=0-9"), ("If-Range", "\"other\"")],
        )
        .await;
        assert_eq!((status, body.len()), (200, n));

        // Every public version: the bytes the media URL serves.
        let image = server.get(&token, &format!("/v1/images/{id}")).await.json();
        for version in image["versions"].as_array().unwrap() {
            let name = version["name"].as_str().unwrap();
            if name == "original" {
                assert!(version["url"].is_null());
                continue;
            }
            let l = link(
                &server,
                &token,
                json!({"image_public_uuid": id, "version": name}),
            )
            .await;
            assert_eq!(l["access"], "public", "{l}");
            assert_eq!(l["version"], name);
            assert_eq!(l["filename"], format!("DSC_0042-{name}.jpg"));
            assert_eq!(l["bytes"], version["bytes"]);
            let (status, headers, body) = fetch(&server, l["url"].as_str().unwrap(), &[]).await;
            assert_eq!(status, 200, "{name}");
            let (_, _, public) = fetch(&server, version["url"].as_str().unwrap(), &[]).await;
            assert_eq!(sha256_hex(&body), sha256_hex(&public), "{name}");
            assert_eq!(
                header(&headers, "content-disposition"),
                format!(
                    "attachment; filename=\"DSC_0042-{name}.jpg\"; filename*=UTF-8''DSC_0042-{name}.jpg"
                )
            );
            let (status, _, part) = fetch(
                &server,
                l["url"].as_str().unwrap(),
                &[("Range", "bytes=5-14")],
            )
            .await;
            assert_eq!(status, 206);
            assert_eq!(part, public[5..15]);
        }
        // The original never on the public media route.
        let tag = &sha256_hex(&bytes)[..16];
        let (status, _, _) = fetch(
            &server,
            &server.at(&format!("/media/{id}/original/{tag}.jpg")),
            &[],
        )
        .await;
        assert_eq!(status, 404);
        Ok(())
    }
);

both_setups!(tampered_unknown_and_forbidden, |env: Env| async move {
    let (server, token) = env.account_server("fest", &[]).await;
    let id = uploaded(&server, &token, "a.jpg", fixtures::jpeg(300, 200)).await;
    let l = link(&server, &token, json!({"image_public_uuid": id})).await;
    let url = l["url"].as_str().unwrap();
    assert_eq!(fetch(&server, url, &[]).await.0, 200);

    // Any change to the token or the file name: 403 forbidden.
    let payload_changed = with_token(url, |t| {
        let mut chars: Vec<char> = t.chars().collect();
        chars[30] = flip(chars[30]);
        chars.into_iter().collect()
    });
    let e = refused(&server, &payload_changed, 403, "forbidden").await;
    assert_eq!(e["detail"], "link_invalid", "{e}");
    assert!(e["message"].as_str().unwrap().contains("not valid"), "{e}");
    let signature_changed = with_token(url, |t| {
        let mut chars: Vec<char> = t.chars().collect();
        let last = chars.len() - 1;
        chars[last] = flip(chars[last]);
        chars.into_iter().collect()
    });
    let e = refused(&server, &signature_changed, 403, "forbidden").await;
    assert_eq!(e["detail"], "link_invalid");
    let cut = with_token(url, |t| t.split('.').next().unwrap().to_owned());
    refused(&server, &cut, 403, "forbidden").await;
    let garbage = with_token(url, |_| "not-a-link".to_owned());
    refused(&server, &garbage, 403, "forbidden").await;
    let renamed = format!("{}/b.jpg", url.rsplit_once('/').unwrap().0);
    let e = refused(&server, &renamed, 403, "forbidden").await;
    assert_eq!(e["detail"], "link_invalid");
    // A link re-pointed at another image (or given more time) keeps its
    // signature, which no longer matches.
    let other = uploaded(&server, &token, "b.jpg", fixtures::jpeg(301, 200)).await;
    for (from, to) in [
        (id.clone(), other.clone()),
        (
            format!("\"exp\":{}", l["expires_at"]),
            format!("\"exp\":{}", l["expires_at"].as_i64().unwrap() + 3600),
        ),
    ] {
        let forged = with_token(url, |t| {
            let (payload, signature) = t.split_once('.').unwrap();
            let text = String::from_utf8(base64url(payload)).unwrap();
            assert!(text.contains(&from), "{text}");
            format!(
                "{}.{signature}",
                base64url_encode(text.replace(&from, &to).as_bytes())
            )
        });
        let e = refused(&server, &forged, 403, "forbidden").await;
        assert_eq!(e["detail"], "link_invalid");
    }

    // Requests that are refused before any link is made.
    let e = ask(
        &server,
        &token,
        json!({"image_public_uuid": uuid::Uuid::new_v4().to_string()}),
    )
    .await
    .error(404, "image_not_found");
    assert!(e["message"].as_str().unwrap().starts_with("No image"));
    let e = ask(&server, &token, json!({"image_public_uuid": "nope"}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "image_public_uuid");
    let e = ask(
        &server,
        &token,
        json!({"image_public_uuid": id, "version": "huge"}),
    )
    .await
    .error(400, "validation");
    assert_eq!(e["field"], "version");
    let e = ask(&server, &token, json!({"image_public_uuid": id, "size": 1}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "size");
    let e = ask(&server, &token, json!({"version": "original"}))
        .await
        .error(400, "validation");
    assert_eq!(e["field"], "image_public_uuid");

    // A token without api.download: 403 naming the scope.
    let reader = env.token("fest", "api.images.read", &[]).await;
    let e = ask(&server, &reader, json!({"image_public_uuid": id}))
        .await
        .error(403, "forbidden");
    assert_eq!(e["detail"], "api.download");
    assert!(e["message"].as_str().unwrap().contains("api.download"));
    // No credential at all: 401.
    let r = Reply::from(
        server
            .http
            .post(server.at("/v1/downloads"))
            .json(&json!({"image_public_uuid": id}))
            .send()
            .await,
    )
    .await;
    r.error(401, "unauthorized");

    // Another account's image: 404, never 403.
    env.account("other").await;
    let stranger = env.token("other", "all", &[]).await;
    ask(&server, &stranger, json!({"image_public_uuid": id}))
        .await
        .error(404, "image_not_found");

    // A deleted image: its links answer 404.
    let r = server
        .delete(&token, &format!("/v1/images/{id}"), &idempotency_key())
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    refused(&server, url, 404, "image_not_found").await;

    // Documented: scope, no Idempotency-Key, the version choices.
    let yaml = Reply::from(server.http.get(server.at("/openapi.v1.yaml")).send().await).await;
    let doc: Value = yaml_serde::from_str(&yaml.text).unwrap();
    let op = &doc["paths"]["/v1/downloads"]["post"];
    assert_eq!(op["security"], json!([{"bearer": ["api.download"]}]));
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    assert!(
        !params.iter().any(|p| p["name"] == "Idempotency-Key"),
        "{params:?}"
    );
    assert!(op["responses"]["200"].is_object());
    let versions = &doc["components"]["schemas"]["VersionName"]["enum"];
    assert_eq!(
        versions,
        &json!(["thumbnail", "small", "medium", "large", "original"])
    );
    Ok(())
});

both_setups!(links_expire, |env: Env| async move {
    // A standing clock: the link lasts exactly 600 s of it.
    let (server, token) = env.account_server("fest", &["--debug-clock"]).await;
    let id = uploaded(&server, &token, "a.jpg", fixtures::jpeg(200, 100)).await;
    let now: i64 = Reply::from(server.http.get(server.at("/_debug/clock")).send().await)
        .await
        .text
        .trim()
        .parse()
        .unwrap();
    let l = link(&server, &token, json!({"image_public_uuid": id})).await;
    assert_eq!(l["expires_at"], now + 600);
    let url = l["url"].as_str().unwrap();
    let advance = |secs: i64| {
        let server = &server;
        async move {
            let r = server
                .http
                .post(server.at(&format!("/_debug/clock?advance_secs={secs}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    advance(599).await;
    assert_eq!(fetch(&server, url, &[]).await.0, 200);
    advance(1).await;
    let e = refused(&server, url, 403, "forbidden").await;
    assert_eq!(e["detail"], "link_expired");
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");
    // A range request is refused the same way.
    let r = Reply::from(
        server
            .http
            .get(url)
            .header("Range", "bytes=0-1")
            .send()
            .await,
    )
    .await;
    r.error(403, "forbidden");
    drop(server);

    // The lifetime is the server's to set.
    let server = env.serve(&["--download-link-ttl", "2s"]).await;
    let before = unix_now();
    let l = link(&server, &token, json!({"image_public_uuid": id})).await;
    let expires_at = l["expires_at"].as_i64().unwrap();
    assert!((before + 1..=unix_now() + 2).contains(&expires_at), "{l}");
    let url = l["url"].as_str().unwrap().to_owned();
    let expired = eventually(10, || async {
        let r = Reply::from(server.http.get(&url).send().await).await;
        (r.status == 403).then_some(r)
    })
    .await
    .expect("the link expires");
    assert_eq!(expired.error(403, "forbidden")["detail"], "link_expired");
    assert!(unix_now() >= expires_at);
    Ok(())
});

both_setups!(
    version_links_never_serve_rebuilt_bytes,
    |env: Env| async move {
        let (server, token) = env.account_server("fest", &[]).await;
        let bytes = fixtures::jpeg(800, 400);
        let id = uploaded(&server, &token, "wide.jpg", bytes.clone()).await;
        let small = link(
            &server,
            &token,
            json!({"image_public_uuid": id, "version": "small"}),
        )
        .await;
        let original = link(&server, &token, json!({"image_public_uuid": id})).await;
        let small_url = small["url"].as_str().unwrap();
        let (status, _, before) = fetch(&server, small_url, &[]).await;
        assert_eq!(status, 200);

        // A rotation rebuilds the versions.
        let r = server
            .patch_json(
                &token,
                &format!("/v1/images/{id}"),
                &idempotency_key(),
                &json!({"rotation": 90}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let op = finished_operation(&server, &token, r.json()["uuid"].as_str().unwrap()).await;
        assert_eq!(op["status"], "succeeded", "{op}");

        // The old link does not serve the new bytes.
        let e = refused(&server, small_url, 404, "not_found").await;
        assert_eq!(e["detail"], "version_changed");
        let e = refused(&server, small_url, 404, "not_found").await;
        assert!(e["message"].as_str().unwrap().contains("changed"), "{e}");
        // The original did not change: its link still works.
        let (status, _, body) = fetch(&server, original["url"].as_str().unwrap(), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
        // A new link serves the rebuilt version (upright: taller than wide).
        let fresh = link(
            &server,
            &token,
            json!({"image_public_uuid": id, "version": "small"}),
        )
        .await;
        assert_ne!(fresh["url"], small["url"]);
        let (status, _, after) = fetch(&server, fresh["url"].as_str().unwrap(), &[]).await;
        assert_eq!(status, 200);
        assert_ne!(sha256_hex(&after), sha256_hex(&before));
        let decoded = image::load_from_memory(&after).unwrap();
        assert!(decoded.height() > decoded.width());
        Ok(())
    }
);

both_setups!(
    signing_keys_rotate_without_breaking_live_links,
    |env: Env| async move {
        let (server, token) = env.account_server("fest", &[]).await;
        let id = uploaded(&server, &token, "a.jpg", fixtures::jpeg(200, 100)).await;
        let first = link(&server, &token, json!({"image_public_uuid": id})).await;
        let first = first["url"].as_str().unwrap().to_owned();
        let keys: Value = serde_json::from_str(&env.cli(&["signing-key", "list", "--json"]).await)?;
        assert_eq!(
            keys,
            json!([{"kid": 1, "state": "signing", "created_at": keys[0]["created_at"], "retired_at": null}])
        );

        // First rotation: key 2 signs, key 1 still verifies.
        assert_eq!(env.cli(&["signing-key", "rotate"]).await, "2");
        // The running server picks the new signer up without a restart.
        let second = eventually(10, || async {
            let l = link(&server, &token, json!({"image_public_uuid": id})).await;
            let url = l["url"].as_str().unwrap().to_owned();
            (url != first && kid_of(&url) == 2).then_some(url)
        })
        .await
        .expect("key 2 signs new links");
        assert_eq!(kid_of(&first), 1);
        assert_eq!(
            fetch(&server, &first, &[]).await.0,
            200,
            "key 1 still verifies"
        );
        assert_eq!(fetch(&server, &second, &[]).await.0, 200);

        // Second rotation: key 3 signs, key 2 verifies, key 1 is retired.
        assert_eq!(env.cli(&["signing-key", "rotate"]).await, "3");
        let e = eventually(10, || async {
            let r = Reply::from(server.http.get(&first).send().await).await;
            (r.status == 403).then(|| r.error(403, "forbidden"))
        })
        .await
        .expect("key 1's links are refused");
        assert_eq!(e["detail"], "link_key_retired");
        assert_eq!(
            fetch(&server, &second, &[]).await.0,
            200,
            "key 2 still verifies"
        );
        let keys: Value = serde_json::from_str(&env.cli(&["signing-key", "list", "--json"]).await)?;
        let states: Vec<(i64, &str)> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k["kid"].as_i64().unwrap(), k["state"].as_str().unwrap()))
            .collect();
        assert_eq!(states, [(3, "signing"), (2, "verifying"), (1, "retired")]);
        assert!(keys[2]["retired_at"].is_string());
        let table = env.cli(&["signing-key", "list"]).await;
        assert!(table.starts_with("KID"), "{table}");

        // A second server on the same database checks the first one's links.
        let other = env.serve(&[]).await;
        assert_eq!(fetch(&other, &second, &[]).await.0, 200);
        Ok(())
    }
);

/// The key id a link names (its token's payload is base64url JSON).
fn kid_of(url: &str) -> i64 {
    let (head, _) = url.rsplit_once('/').unwrap();
    let token = head.rsplit_once('/').unwrap().1;
    let payload = token.split('.').next().unwrap();
    let json = base64url(payload);
    serde_json::from_slice::<Value>(&json).unwrap()["kid"]
        .as_i64()
        .unwrap()
}

fn base64url(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = u32::try_from(ALPHABET.iter().position(|&a| a == c).unwrap()).unwrap();
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

both_setups!(
    user_role_downloads_per_its_permissions,
    |env: Env| async move {
        let (server, token) = env.account_server("fest", &[]).await;
        let ann = env.member(&server, "fest", "ann@example.com", "user").await;
        let theirs_bytes = fixtures::jpeg(1400, 700);
        let theirs = uploaded(&server, &token, "theirs.jpg", theirs_bytes).await;
        let mine_bytes = fixtures::jpeg(700, 350);
        let mine = uploaded(&server, &ann, "mine.jpg", mine_bytes.clone()).await;

        // Its own image: the original.
        let l = link(&server, &ann, json!({"image_public_uuid": mine})).await;
        assert_eq!(l["version"], "original");
        let (status, _, body) = fetch(&server, l["url"].as_str().unwrap(), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(sha256_hex(&body), sha256_hex(&mine_bytes));

        // Another's image: public versions only; no version = the largest built.
        let e = ask(
            &server,
            &ann,
            json!({"image_public_uuid": theirs, "version": "original"}),
        )
        .await
        .error(403, "forbidden");
        assert_eq!(e["detail"], "own_images_only");
        assert_eq!(e["field"], "version");
        let l = link(&server, &ann, json!({"image_public_uuid": theirs})).await;
        assert_eq!(l["access"], "public");
        assert_eq!(l["version"], "large");
        assert_eq!(l["filename"], "theirs-large.jpg");
        let (status, _, body) = fetch(&server, l["url"].as_str().unwrap(), &[]).await;
        assert_eq!(status, 200);
        let decoded = image::load_from_memory(&body).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (1400, 700));
        let l = link(
            &server,
            &ann,
            json!({"image_public_uuid": theirs, "version": "thumbnail"}),
        )
        .await;
        assert_eq!(fetch(&server, l["url"].as_str().unwrap(), &[]).await.0, 200);

        // An admin (and a service token) has every original.
        let bo = env.member(&server, "fest", "bo@example.com", "admin").await;
        assert_eq!(
            link(&server, &bo, json!({"image_public_uuid": mine})).await["version"],
            "original"
        );
        assert_eq!(
            link(&server, &token, json!({"image_public_uuid": mine})).await["version"],
            "original"
        );
        Ok(())
    }
);

both_setups!(content_disposition_names_are_safe, |env: Env| async move {
    let (server, token) = env.account_server("fest", &[]).await;
    let id = uploaded(
        &server,
        &token,
        " Zürich \"Finale\" 東京.jpg",
        fixtures::jpeg(200, 100),
    )
    .await;
    let l = link(&server, &token, json!({"image_public_uuid": id})).await;
    assert_eq!(l["filename"], "Zürich Finale 東京.jpg");
    let url = l["url"].as_str().unwrap();
    assert!(
        url.ends_with("/Z%C3%BCrich%20Finale%20%E6%9D%B1%E4%BA%AC.jpg"),
        "{url}"
    );
    let (status, headers, _) = fetch(&server, url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"Z_rich Finale __.jpg\"; filename*=UTF-8''Z%C3%BCrich%20Finale%20%E6%9D%B1%E4%BA%AC.jpg"
    );
    let l = link(
        &server,
        &token,
        json!({"image_public_uuid": id, "version": "small"}),
    )
    .await;
    assert_eq!(l["filename"], "Zürich Finale 東京-small.jpg");
    let (status, headers, _) = fetch(&server, l["url"].as_str().unwrap(), &[]).await;
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-disposition")
            .ends_with("filename*=UTF-8''Z%C3%BCrich%20Finale%20%E6%9D%B1%E4%BA%AC-small.jpg"),
        "{headers:?}"
    );
    Ok(())
});

both_setups!(
    links_are_served_by_api_and_media_nodes,
    |env: Env| async move {
        env.account("fest").await;
        let token = env.token("fest", "all", &[]).await;
        let api = env.serve(&["--role", "api"]).await;
        let processor = env.serve(&["--role", "processor"]).await;
        let media = env.serve(&["--role", "media"]).await;
        // The original is there as soon as the processor answers (no worker
        // needed: versions are not asked for).
        let bytes = fixtures::jpeg(120, 80);
        let ticket = api
            .post(
                &token,
                "/v1/uploads",
                None,
                &json!({"filename": "split.jpg"}),
            )
            .await;
        assert_eq!(ticket.status, 201, "{}", ticket.text);
        let mut ticket = ticket.json();
        ticket["upload_url"] = json!(processor.at("/upload"));
        let r = post_file(&processor, &ticket, bytes.clone()).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.json()["image_public_uuid"].as_str().unwrap().to_owned();

        // Without --media-url the API node's links point at itself.
        let l = link(&api, &token, json!({"image_public_uuid": id})).await;
        let url = l["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/download/", api.url)), "{url}");
        let (status, _, body) = fetch(&api, url, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
        // Any media node serves it too; the processor does not serve links.
        let path = url.strip_prefix(&api.url).unwrap();
        assert_eq!(fetch(&media, &media.at(path), &[]).await.0, 200);
        assert_eq!(fetch(&processor, &processor.at(path), &[]).await.0, 404);

        // With --media-url the links point at the media nodes.
        let media_url = media.url.clone();
        let api2 = env
            .serve(&["--role", "api", "--media-url", &media_url])
            .await;
        let l = link(&api2, &token, json!({"image_public_uuid": id})).await;
        let url = l["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{media_url}/download/")), "{url}");
        let (status, _, body) = fetch(&media, url, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
        Ok(())
    }
);
