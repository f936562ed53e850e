//! Webhooks (api.md §11) over real HTTP to real receivers on loopback, on
//! SQLite with the folder blob store and on PostgreSQL with a real
//! S3-compatible server: subscriptions and their secret, each event from
//! its real cause received once with a signature checked by an independent
//! HMAC (ring's, not the server's), retries on the documented ladder under
//! the debug clock with the same `webhook-id`, failure and disabling, the
//! address guard, redirects not followed, and who may manage them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lightbox_media::fixtures;
use lightbox_testkit::{
    Env, Server, both_setups, eventually, finished_operation, idempotency_key, post_file,
};
use serde_json::{Value, json};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Value,
    raw: Vec<u8>,
    /// When it arrived (the receiver's wall clock, the server's too).
    at: time::OffsetDateTime,
}

/// A webhook receiver on loopback: records what it gets and answers the
/// status it is told (204 to begin with).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    answer: Arc<AtomicU16>,
    /// Milliseconds it waits before answering (a slow receiver).
    delay_ms: Arc<AtomicU64>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answer = Arc::new(AtomicU16::new(204));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (g, a, d) = (got.clone(), answer.clone(), delay_ms.clone());
        let followed = got.clone();
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let (g, a, d) = (g.clone(), a.clone(), d.clone());
                    async move {
                        let header = |n: &str| {
                            headers
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        g.lock().unwrap().push(Received {
                            id: header("webhook-id"),
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            raw: body.to_vec(),
                            at: time::OffsetDateTime::now_utc(),
                        });
                        let wait = d.load(Ordering::SeqCst);
                        if wait > 0 {
                            tokio::time::sleep(Duration::from_millis(wait)).await;
                        }
                        let status = a.load(Ordering::SeqCst);
                        let mut response = axum::response::Response::new(axum::body::Body::from(
                            "receiver says hello",
                        ));
                        *response.status_mut() = StatusCode::from_u16(status).unwrap();
                        if status == 302 {
                            response
                                .headers_mut()
                                .insert("location", "/elsewhere".parse().unwrap());
                        }
                        response
                    }
                }),
            )
            .route(
                "/elsewhere",
                // Counted like any request: a followed redirect shows.
                axum::routing::post(move || {
                    let followed = followed.clone();
                    async move {
                        followed.lock().unwrap().push(Received {
                            id: "redirect followed".to_owned(),
                            timestamp: String::new(),
                            signature: String::new(),
                            body: json!({"type": "redirect followed"}),
                            raw: Vec::new(),
                            at: time::OffsetDateTime::now_utc(),
                        });
                        StatusCode::OK
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            got,
            answer,
            delay_ms,
        }
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn of_type(&self, event_type: &str) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| r.body["type"] == event_type)
            .collect()
    }

    /// Waits up to 10 s for the first request of `event_type` that `pick`
    /// accepts.
    async fn wait_for(&self, event_type: &str, pick: impl Fn(&Value) -> bool) -> Received {
        eventually(10, || async {
            self.of_type(event_type)
                .into_iter()
                .find(|r| pick(&r.body["data"]))
        })
        .await
        .unwrap_or_else(|| panic!("no {event_type} received; got {:#?}", self.all()))
    }
}

/// The Standard Webhooks signature, computed with ring (independent of the
/// server's HMAC): one of the space-separated `v1,` signatures must match.
fn verify(secret: &str, r: &Received) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut signed = format!("{}.{}.", r.id, r.timestamp).into_bytes();
    signed.extend_from_slice(&r.raw);
    let expected = format!("v1,{}", STANDARD.encode(ring::hmac::sign(&key, &signed)));
    assert!(
        r.signature.split(' ').any(|s| s == expected),
        "signature {:?} does not verify (expected {expected})",
        r.signature
    );
    assert!(r.id.starts_with("msg_"), "{}", r.id);
    assert!(r.body["timestamp"].is_string(), "{}", r.body);
}

async fn subscribe(server: &Server, token: &str, url: &str, events: Value) -> (String, String) {
    let op = server
        .write_ok(
            "POST",
            token,
            "/v1/webhooks",
            json!({"url": url, "events": events, "description": "Newsroom CMS"}),
        )
        .await;
    let id = op["result"]["webhook"]["public_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = op["result"]["secret"].as_str().unwrap().to_owned();
    (id, secret)
}

async fn deliveries(server: &Server, token: &str, hook: &str) -> Vec<Value> {
    let r = server
        .get(token, &format!("/v1/webhooks/{hook}/deliveries"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json().as_array().unwrap().clone()
}

/// The subscription's newest delivery once `done` holds for it.
async fn newest_delivery_where(
    server: &Server,
    token: &str,
    hook: &str,
    done: impl Fn(&Value) -> bool,
) -> Option<Value> {
    eventually(20, || async {
        let log = deliveries(server, token, hook).await;
        log.first().filter(|d| done(d)).cloned()
    })
    .await
}

/// Whether `item` shows its attempt `n` recorded — not merely claimed (a
/// claim counts the attempt before it is sent): an outcome is there, and
/// it is not the one `before` (the same delivery after attempt n − 1) had.
fn recorded(item: &Value, n: i64, before: Option<&Value>) -> bool {
    let outcome = |d: &Value| {
        (
            d["status"].clone(),
            d["next_attempt_at"].clone(),
            d["last_error"].clone(),
            d["last_status_code"].clone(),
        )
    };
    item["attempts"] == n
        && (item["last_error"].is_string() || item["last_status_code"].is_number())
        && before.is_none_or(|b| outcome(b) != outcome(item))
}

const SCOPES: &str = "api.images.read,api.images.write,api.images.delete,api.ratings.write,api.sets.write,api.upload,api.download,api.webhooks";

both_setups!(
    each_event_comes_from_its_cause_once_and_signed,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;
        let server = env.serve(&["--webhook-allow-private"]).await;

        // Created: the secret in the answer and its replay, never later.
        let key = idempotency_key();
        let body = json!({"url": receiver.url, "events": ["*"]});
        let first = server
            .write("POST", &token, "/v1/webhooks", &key, Some(&body))
            .await;
        assert_eq!(first.status, 202, "{}", first.text);
        assert_eq!(first.header("cache-control").as_deref(), Some("no-store"));
        let op = first.json();
        let secret = op["result"]["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
        let hook = op["result"]["webhook"].clone();
        let id = hook["public_uuid"].as_str().unwrap().to_owned();
        assert_eq!(hook["url"], receiver.url);
        assert_eq!(hook["events"], json!(["*"]));
        assert_eq!(hook["enabled"], true);
        assert_eq!(hook["disabled_reason"], Value::Null);
        let replay = server
            .write("POST", &token, "/v1/webhooks", &key, Some(&body))
            .await
            .json();
        assert_eq!(replay["result"]["secret"], secret.as_str());
        let later = server
            .get(
                &token,
                &format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
            )
            .await;
        assert!(!later.text.contains(&secret), "{}", later.text);
        let listed = server.get(&token, "/v1/webhooks").await.json();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(!listed.to_string().contains("whsec_"));
        let one = server
            .get(&token, &format!("/v1/webhooks/{id}"))
            .await
            .json();
        assert_eq!(one, hook);

        // ping, by the test call.
        server
            .write_ok("POST", &token, &format!("/v1/webhooks/{id}/test"), None)
            .await;
        let ping = receiver.wait_for("ping", |_| true).await;
        verify(&secret, &ping);

        // set.created, from creating a set.
        let set = server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Main stage"}))
            .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let created = receiver
            .wait_for("set.created", |d| d["public_uuid"] == set.as_str())
            .await;
        verify(&secret, &created);
        assert_eq!(created.body["data"]["name"], "Main stage");

        // image.created once its versions are ready, from an upload.
        let image = server
            .upload(&token, "stage.jpg", fixtures::jpeg(64, 48))
            .await;
        let born = receiver
            .wait_for("image.created", |d| d["public_uuid"] == image.as_str())
            .await;
        verify(&secret, &born);
        assert!(
            born.body["data"]["versions"]
                .as_array()
                .is_some_and(|v| !v.is_empty()),
            "{}",
            born.body
        );

        // set.images_added, from adding it to the set.
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{set}/images"),
                json!({"image_public_uuids": [image]}),
            )
            .await;
        let added = receiver
            .wait_for("set.images_added", |d| d["set_public_uuid"] == set.as_str())
            .await;
        verify(&secret, &added);
        assert_eq!(added.body["data"]["image_public_uuids"], json!([image]));

        // image.updated, from a rating; and only what the filter asks for.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/webhooks/{id}"),
                json!({"events": ["image.updated"]}),
            )
            .await;
        server
            .write_ok(
                "PUT",
                &token,
                &format!("/v1/images/{image}/rating"),
                json!({"rating": 4}),
            )
            .await;
        let rated = receiver
            .wait_for("image.updated", |d| d["rating"] == 4)
            .await;
        verify(&secret, &rated);
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Not told"}))
            .await;

        // image.deleted, from deleting it (the filter widened again).
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/webhooks/{id}"),
                json!({"events": ["image.deleted", "operation.succeeded"]}),
            )
            .await;
        let deleted_op = server
            .write_ok("DELETE", &token, &format!("/v1/images/{image}"), None)
            .await;
        let gone = receiver
            .wait_for("image.deleted", |d| d["public_uuid"] == image.as_str())
            .await;
        verify(&secret, &gone);
        let succeeded = receiver
            .wait_for("operation.succeeded", |d| d["uuid"] == deleted_op["uuid"])
            .await;
        verify(&secret, &succeeded);

        // The rest, every type again (the filter "*").
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/webhooks/{id}"),
                json!({"events": ["*"]}),
            )
            .await;
        // set.updated, from renaming the set.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/sets/{set}"),
                json!({"name": "Main stage (Friday)"}),
            )
            .await;
        let renamed = receiver
            .wait_for("set.updated", |d| d["name"] == "Main stage (Friday)")
            .await;
        verify(&secret, &renamed);
        // archive.ready, from a ZIP of a new image.
        let photo = server
            .upload(&token, "crowd.jpg", fixtures::jpeg(80, 60))
            .await;
        receiver
            .wait_for("image.created", |d| d["public_uuid"] == photo.as_str())
            .await;
        let zipped = server
            .write_ok(
                "POST",
                &token,
                "/v1/archives",
                json!({"image_public_uuids": [photo]}),
            )
            .await;
        let ready = receiver.wait_for("archive.ready", |_| true).await;
        verify(&secret, &ready);
        let built = finished_operation(&server, &token, zipped["uuid"].as_str().unwrap()).await;
        // The archive as the API reads it, but its download link (a
        // capability of a credential with api.download) is left out.
        let mut archive = built["result"]["archive"].clone();
        assert!(archive["url"].is_string(), "{built}");
        archive["url"] = Value::Null;
        assert_eq!(ready.body["data"], archive, "{built}");
        // set.images_removed, from taking it out of the set again.
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{set}/images"),
                json!({"image_public_uuids": [photo]}),
            )
            .await;
        server
            .write_ok(
                "DELETE",
                &token,
                &format!("/v1/sets/{set}/images"),
                json!({"image_public_uuids": [photo]}),
            )
            .await;
        let removed = receiver
            .wait_for("set.images_removed", |d| {
                d["set_public_uuid"] == set.as_str()
            })
            .await;
        verify(&secret, &removed);
        assert_eq!(removed.body["data"]["image_public_uuids"], json!([photo]));
        // operation.failed, from an upload whose versions cannot be made.
        let ticket = server
            .post(&token, "/v1/uploads", None, &json!({"filename": "cut.jpg"}))
            .await;
        let cut = post_file(&server, &ticket.json(), fixtures::truncated_jpeg()).await;
        assert_eq!(cut.status, 201, "{}", cut.text);
        let cut_op = cut.json()["operation_uuid"].as_str().unwrap().to_owned();
        let failed = receiver
            .wait_for("operation.failed", |d| d["uuid"] == cut_op.as_str())
            .await;
        verify(&secret, &failed);
        assert_eq!(failed.body["data"]["status"], "failed");
        assert!(
            receiver
                .of_type("image.created")
                .iter()
                .all(|r| r.body["data"]["public_uuid"] != cut.json()["image_public_uuid"]),
            "an image without versions is not told created"
        );

        // Every event was received once, and the log says delivered.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let all = receiver.all();
        let mut ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "an event was received twice: {all:#?}");
        assert!(
            receiver
                .of_type("set.created")
                .iter()
                .all(|r| r.body["data"]["name"] != "Not told"),
            "an event outside the filter was sent"
        );
        let log = deliveries(&server, &token, &id).await;
        assert_eq!(log.len(), all.len(), "{log:#?}");
        for item in &log {
            assert_eq!(item["status"], "delivered", "{item}");
            assert_eq!(item["attempts"], 1, "{item}");
            assert_eq!(item["last_status_code"], 204, "{item}");
            assert_eq!(item["next_attempt_at"], Value::Null, "{item}");
        }
        Ok(())
    }
);

both_setups!(
    a_failing_receiver_is_retried_on_the_ladder_with_the_same_id_then_given_up,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        receiver.answer.store(500, Ordering::SeqCst);
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;
        let server = env
            .serve(&["--webhook-allow-private", "--debug-clock"])
            .await;
        let (id, secret) = subscribe(&server, &token, &receiver.url, json!(["set.created"])).await;
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Retried"}))
            .await;
        let first = receiver.wait_for("set.created", |_| true).await;
        // Pending, with the answer and the next attempt 5 s on.
        let pending = newest_delivery_where(&server, &token, &id, |d| recorded(d, 1, None))
            .await
            .expect("the failed attempt is logged");
        assert_eq!(pending["last_status_code"], 500);
        assert_eq!(pending["status"], "pending");
        assert_eq!(pending["attempts"], 1);
        assert!(pending["next_attempt_at"].is_string(), "{pending}");
        // Not before its time.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(receiver.all().len(), 1);

        // 5 s on: tried again, same id and body; now it is answered 200.
        receiver.answer.store(200, Ordering::SeqCst);
        server.advance_debug_clock(5).await;
        let second = eventually(10, || async {
            let all = receiver.all();
            (all.len() == 2).then(|| all[1].clone())
        })
        .await
        .expect("a second attempt");
        assert_eq!(second.id, first.id);
        assert_eq!(second.raw, first.raw);
        verify(&secret, &second);
        let done = newest_delivery_where(&server, &token, &id, |d| d["status"] == "delivered")
            .await
            .expect("delivered");
        assert_eq!(done["attempts"], 2);
        assert_eq!(done["last_status_code"], 200);

        // A receiver that never answers: tried for 2.8 days on
        // the ladder (5 s, 1 min, 10 min, 1 h, 6 h, 12 h, 24 h, 24 h),
        // then failed; then, after five days of failing, disabled.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let (dead, _) = subscribe(
            &server,
            &token,
            &format!("http://{closed}/hook"),
            json!(["set.created"]),
        )
        .await;
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Unheard"}))
            .await;
        let attempts_are = |n: i64, before: Option<Value>| {
            let (server, token, dead) = (&server, &token, &dead);
            async move {
                newest_delivery_where(server, token, dead, |d| recorded(d, n, before.as_ref()))
                    .await
                    .unwrap_or_else(|| panic!("attempt {n} never came"))
            }
        };
        let mut item = attempts_are(1, None).await;
        assert!(
            item["last_error"]
                .as_str()
                .unwrap()
                .contains("could not be reached"),
            "{item}"
        );
        for (n, delay) in [5u64, 60, 600, 3600, 6 * 3600, 12 * 3600, 86_400, 86_400]
            .into_iter()
            .enumerate()
        {
            assert_eq!(item["status"], "pending", "{item}");
            server.advance_debug_clock(delay).await;
            item = attempts_are(n as i64 + 2, Some(item)).await;
        }
        assert_eq!(item["status"], "failed", "{item}");
        assert_eq!(item["next_attempt_at"], Value::Null);
        let hook = server
            .get(&token, &format!("/v1/webhooks/{dead}"))
            .await
            .json();
        assert_eq!(hook["enabled"], true, "2.8 days of failing is not 5");

        // Day 5 and more: the next failure disables it, with the reason.
        server.advance_debug_clock(3 * 86_400).await;
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Still unheard"}))
            .await;
        let disabled = eventually(10, || async {
            let hook = server
                .get(&token, &format!("/v1/webhooks/{dead}"))
                .await
                .json();
            (hook["enabled"] == false).then_some(hook)
        })
        .await
        .expect("disabled after 5 days of failures");
        assert!(
            disabled["disabled_reason"]
                .as_str()
                .unwrap()
                .contains("5 days"),
            "{disabled}"
        );

        // By hand: redelivered (pending again, its attempts anew).
        let failed_id = item["id"].as_str().unwrap();
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/webhooks/{dead}/deliveries/{failed_id}/redeliver"),
                None,
            )
            .await;
        let log = deliveries(&server, &token, &dead).await;
        let again = log.iter().find(|d| d["id"] == failed_id).unwrap();
        assert_ne!(again["attempts"], 9, "{again}");
        // Enabling clears the reason.
        server
            .write_ok(
                "PATCH",
                &token,
                &format!("/v1/webhooks/{dead}"),
                json!({"enabled": true}),
            )
            .await;
        let hook = server
            .get(&token, &format!("/v1/webhooks/{dead}"))
            .await
            .json();
        assert_eq!(
            (hook["enabled"].clone(), hook["disabled_reason"].clone()),
            (json!(true), Value::Null)
        );
        Ok(())
    }
);

both_setups!(
    private_targets_are_refused_and_redirects_not_followed,
    |env: Env| async move {
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;
        let server = env.serve(&[]).await;
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]:9/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00::1]/hook",
            "http://localhost:9/hook",
            "http://[::ffff:127.0.0.1]/hook",
        ] {
            let e = server
                .write_refused(
                    "POST",
                    &token,
                    "/v1/webhooks",
                    json!({"url": url, "events": ["*"]}),
                    (400, "validation"),
                    Some("url"),
                )
                .await;
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .contains("--webhook-allow-private"),
                "{url}: {e}"
            );
            // Where a name leads is not told (internal DNS stays unmapped).
            let message = e["message"].as_str().unwrap();
            assert!(
                !message.contains("127.0.0.1") && !message.contains("::1"),
                "{url}: {e}"
            );
        }
        for (body, field) in [
            (json!({"url": "ftp://example.org/", "events": ["*"]}), "url"),
            (
                json!({"url": "https://u:p@example.org/", "events": ["*"]}),
                "url",
            ),
            (
                json!({"url": "https://example.org/", "events": []}),
                "events",
            ),
            (
                json!({"url": "https://example.org/", "events": ["image.made"]}),
                "events",
            ),
            (
                json!({"url": "https://example.org/", "events": ["*", "ping"]}),
                "events",
            ),
            (
                json!({"url": "https://example.org/", "events": ["*"], "secret": "x"}),
                "secret",
            ),
        ] {
            server
                .write_refused(
                    "POST",
                    &token,
                    "/v1/webhooks",
                    body,
                    (400, "validation"),
                    Some(field),
                )
                .await;
        }
        assert_eq!(server.get(&token, "/v1/webhooks").await.json(), json!([]));

        // With the flag: a loopback receiver is allowed; a 302 it answers
        // is not followed (and counts as a failure).
        let receiver = Receiver::start().await;
        receiver.answer.store(302, Ordering::SeqCst);
        server.stop().await;
        // The debug clock: its retry 5 s on waits for this test, however
        // slow the machine.
        let server = env
            .serve(&["--webhook-allow-private", "--debug-clock"])
            .await;
        let (id, _) = subscribe(&server, &token, &receiver.url, json!(["set.created"])).await;
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Moved"}))
            .await;
        let item = newest_delivery_where(&server, &token, &id, |d| recorded(d, 1, None))
            .await
            .expect("attempted");
        assert_eq!(item["last_status_code"], 302);
        assert_eq!(item["status"], "pending");

        // The same subscription, on a server without the flag: refused at
        // delivery too (the address is checked on every attempt).
        server.stop().await;
        let server = env.serve(&["--debug-clock"]).await;
        server.advance_debug_clock(5).await;
        let item = newest_delivery_where(&server, &token, &id, |d| recorded(d, 2, Some(&item)))
            .await
            .expect("attempted again");
        assert!(
            item["last_error"].as_str().unwrap().contains("non-public"),
            "{item}"
        );
        assert_eq!(
            receiver.all().len(),
            1,
            "the refused attempt reached the receiver"
        );
        Ok(())
    }
);

both_setups!(
    only_admins_and_the_scope_manage_webhooks_of_their_own_account,
    |env: Env| async move {
        let account = env.account("fest").await;
        let other = env.account("other").await;
        let token = env.token(&account, SCOPES, &[]).await;
        let without = env
            .token(&account, "api.images.read,api.sets.write", &[])
            .await;
        let stranger = env.token(&other, SCOPES, &[]).await;
        let server = env.serve(&["--webhook-allow-private"]).await;
        let receiver = Receiver::start().await;
        let (id, _) = subscribe(&server, &token, &receiver.url, json!(["*"])).await;

        let e = server
            .get(&without, "/v1/webhooks")
            .await
            .error(403, "forbidden");
        assert_eq!(e["detail"], "api.webhooks");
        let user = env.member(&server, &account, "pat", "user").await;
        server
            .get(&user, "/v1/webhooks")
            .await
            .error(403, "forbidden");
        server
            .write_refused(
                "POST",
                &user,
                "/v1/webhooks",
                json!({"url": receiver.url, "events": ["*"]}),
                (403, "forbidden"),
                None,
            )
            .await;
        let admin = env.member(&server, &account, "ada", "admin").await;
        assert_eq!(server.get(&admin, "/v1/webhooks").await.status, 200);

        // Another account's subscription does not exist for this one.
        assert_eq!(
            server.get(&stranger, "/v1/webhooks").await.json(),
            json!([])
        );
        for path in [
            format!("/v1/webhooks/{id}"),
            format!("/v1/webhooks/{id}/deliveries"),
        ] {
            server.get(&stranger, &path).await.error(404, "not_found");
        }
        for path in [
            format!("/v1/webhooks/{id}/test"),
            format!("/v1/webhooks/{id}/rotate_secret"),
        ] {
            server
                .write("POST", &stranger, &path, &idempotency_key(), None)
                .await
                .error(404, "not_found");
        }
        let r = server
            .delete(&stranger, &format!("/v1/webhooks/{id}"), &idempotency_key())
            .await;
        r.error(404, "not_found");
        // Its events do not reach the other account's receiver either.
        server
            .write_ok("POST", &stranger, "/v1/sets", json!({"name": "Theirs"}))
            .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(
            receiver.of_type("set.created").is_empty(),
            "{:#?}",
            receiver.all()
        );

        // Rotation: the new secret signs, the old one beside it.
        let op = server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/webhooks/{id}/rotate_secret"),
                None,
            )
            .await;
        let new_secret = op["result"]["secret"].as_str().unwrap().to_owned();
        server
            .write_ok("POST", &token, &format!("/v1/webhooks/{id}/test"), None)
            .await;
        let ping = receiver.wait_for("ping", |_| true).await;
        verify(&new_secret, &ping);
        assert_eq!(ping.signature.split(' ').count(), 2, "{}", ping.signature);

        // Deleted: gone, and its log with it.
        server
            .write_ok("DELETE", &token, &format!("/v1/webhooks/{id}"), None)
            .await;
        server
            .get(&token, &format!("/v1/webhooks/{id}"))
            .await
            .error(404, "not_found");
        Ok(())
    }
);

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

both_setups!(
    an_embargo_lifting_is_told_at_its_instant_never_before,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;
        let server = env.serve(&["--webhook-allow-private"]).await;
        let (_, secret) =
            subscribe(&server, &token, &receiver.url, json!(["set.images_live"])).await;
        let set = server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Headliner"}))
            .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut images = Vec::new();
        for (n, name) in ["a.jpg", "b.jpg", "c.jpg"].into_iter().enumerate() {
            let bytes = fixtures::jpeg(32 + n as u32, 24);
            images.push(server.upload(&token, name, bytes).await);
        }
        let (lifted, moved, shown) = (&images[0], &images[1], &images[2]);
        let visibility = format!("/v1/sets/{set}/visibility");
        // Two hidden just after joining (live for that moment: told or
        // not, by the time it is sent), one shown.
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{set}/images"),
                json!({"image_public_uuids": [lifted, moved]}),
            )
            .await;
        server
            .write_ok(
                "PATCH",
                &token,
                &visibility,
                json!({"image_public_uuids": [lifted, moved], "hidden": true, "activation_time": null}),
            )
            .await;
        // Added shown: live at once.
        server
            .write_ok(
                "POST",
                &token,
                &format!("/v1/sets/{set}/images"),
                json!({"image_public_uuids": [shown]}),
            )
            .await;
        let now_live = receiver
            .wait_for("set.images_live", |d| {
                d["image_public_uuids"] == json!([shown])
            })
            .await;
        verify(&secret, &now_live);

        // Both embargoed until 2 s from now; then one is moved an hour on.
        let embargoed_at = time::OffsetDateTime::now_utc();
        let instant = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
        let instant = instant.replace_nanosecond(0).unwrap();
        server
            .write_ok(
                "PATCH",
                &token,
                &visibility,
                json!({"image_public_uuids": [lifted, moved], "hidden": true,
                       "activation_time": rfc3339(instant)}),
            )
            .await;
        server
            .write_ok(
                "PATCH",
                &token,
                &visibility,
                json!({"image_public_uuids": [moved], "hidden": true,
                       "activation_time": rfc3339(instant + time::Duration::hours(1))}),
            )
            .await;
        let live = receiver
            .wait_for("set.images_live", |d| {
                d["image_public_uuids"] == json!([lifted])
            })
            .await;
        verify(&secret, &live);
        assert!(
            live.at >= instant,
            "told {} before the instant {}",
            rfc3339(live.at),
            rfc3339(instant)
        );
        let late = live.at - instant;
        assert!(late < time::Duration::seconds(1), "told {late} late");
        assert_eq!(live.body["data"]["set_public_uuid"], set.as_str());
        let told = time::OffsetDateTime::parse(
            live.body["timestamp"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(told, instant, "the event's timestamp is the instant");
        // The image is live for readers at that moment too.
        let read = server
            .get(
                &token,
                &format!("/v1/images?set_public_uuid={set}&live=true"),
            )
            .await;
        assert!(read.text.contains(lifted.as_str()), "{}", read.text);

        // Nothing else since the embargo: the moved one is not told early,
        // nothing twice.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let since: Vec<Received> = receiver
            .of_type("set.images_live")
            .into_iter()
            .filter(|r| {
                time::OffsetDateTime::parse(
                    r.body["timestamp"].as_str().unwrap(),
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap()
                    >= embargoed_at
            })
            .collect();
        assert_eq!(since.len(), 1, "{since:#?}");
        Ok(())
    }
);

both_setups!(
    token_expiry_and_press_registrations_are_told,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;
        env.user("editor", "correct horse battery staple", &account, "admin")
            .await;
        let server = env
            .serve(&["--webhook-allow-private", "--debug-clock"])
            .await;
        let admin = server
            .access_token("editor", "correct horse battery staple")
            .await;
        let (_, secret) = subscribe(
            &server,
            &token,
            &receiver.url,
            json!(["service_token.expiring", "press_member.registered"]),
        )
        .await;

        // Two tokens expiring in 8 and 9 days; the second is revoked.
        let now = server.debug_clock_now().await as i64;
        let day = 86_400;
        let at =
            |secs: i64| rfc3339(time::OffsetDateTime::from_unix_timestamp(now + secs).unwrap());
        let mut made = Vec::new();
        for (name, days) in [("Photo desk", 8), ("Old script", 9)] {
            let op = server
                .write_ok(
                    "POST",
                    &admin,
                    "/v1/service_tokens",
                    json!({"name": name, "scopes": ["api.images.read"],
                           "expires_at": at(days * day)}),
                )
                .await;
            made.push(
                op["result"]["service_token"]["uuid"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{op}"))
                    .to_owned(),
            );
        }
        let r = server
            .delete(
                &admin,
                &format!("/v1/service_tokens/{}", made[1]),
                &idempotency_key(),
            )
            .await;
        assert!(r.status < 300, "{}", r.text);
        // Not before 7 days ahead of the expiry.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(receiver.of_type("service_token.expiring").is_empty());
        server.advance_debug_clock(day as u64 + 5).await;
        let expiring = receiver.wait_for("service_token.expiring", |_| true).await;
        verify(&secret, &expiring);
        assert_eq!(expiring.body["data"]["uuid"], made[0].as_str());
        assert_eq!(expiring.body["data"]["name"], "Photo desk");
        assert_eq!(expiring.body["data"]["revoked_at"], Value::Null);
        server.advance_debug_clock(day as u64).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            receiver.of_type("service_token.expiring").len(),
            1,
            "the revoked token is not told"
        );

        // A press registration, through the website's own form.
        let root = server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Press room"}))
            .await["set_public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let website = server
            .write_ok(
                "POST",
                &token,
                "/v1/websites",
                json!({"name": "Press", "type": "press", "slug": "press",
                       "root_set_public_uuid": root}),
            )
            .await["result"]["website"]["public_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let page = http
            .get(format!("{}/w/press/register", server.url))
            .send()
            .await
            .unwrap();
        let cookies: Vec<String> = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
            .collect();
        let text = page.text().await.unwrap();
        let at = text
            .find("name=\"pre\" value=\"")
            .expect("the form's pre field");
        let pre = &text[at + 18..];
        let pre = &pre[..pre.find('"').unwrap()];
        let form = [
            ("pre", pre),
            ("name", "Ada Reporter"),
            ("outlet", "The Daily Example"),
            ("email", "ada@example.com"),
            ("password", "ink-stained wretch of the press corps"),
        ];
        for _ in 0..2 {
            let r = http
                .post(format!("{}/w/press/register", server.url))
                .header("cookie", cookies.join("; "))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let registered = receiver.wait_for("press_member.registered", |_| true).await;
        verify(&secret, &registered);
        let data = &registered.body["data"];
        assert_eq!(data["website_public_uuid"], website.as_str());
        assert_eq!(data["email"], "ada@example.com");
        assert_eq!(data["status"], "pending");
        assert!(!registered.raw.windows(6).any(|w| w == b"argon2"));
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            receiver.of_type("press_member.registered").len(),
            1,
            "registering again is not a new registration"
        );
        Ok(())
    }
);

const PASSWORD: &str = "tangerine-bicycle-Orbit-42";

both_setups!(
    an_admin_manages_webhooks_in_the_console,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        let account = env.account("acme").await;
        env.user("boss@example.com", PASSWORD, &account, "admin")
            .await;
        let token = env.token(&account, SCOPES, &[]).await;
        let server = env.serve(&["--webhook-allow-private"]).await;
        let b = browser::Browser::start("webhooks", env.engine).await;
        b.goto(&server.at("/admin")).await;
        b.fill("#login", "boss@example.com").await;
        b.fill("#password", PASSWORD).await;
        b.follow("form button[type=submit]").await;
        b.find("nav[aria-label=Main]").await;

        // Settings → API → Webhooks: none yet; a refused address keeps the form.
        b.click_text("Webhooks").await;
        assert_eq!(b.path().await, "/admin/settings/api/webhooks");
        assert!(b.main_text().await.contains("No webhooks yet"));
        b.click_text("New webhook").await;
        assert!(b.checked("#every").await);
        b.fill("#url", "ftp://cms.example.org/hooks").await;
        b.fill("#description", "Newsroom CMS").await;
        b.shot("webhook-new").await;
        b.click_text("Create webhook").await;
        let problem = b.text(".problem").await;
        assert!(problem.contains("http"), "{problem}");
        assert_eq!(b.value("#description").await, "Newsroom CMS");
        assert!(server.get(&token, "/v1/webhooks").await.json() == json!([]));

        // Made with a receiver: the secret once, then its page.
        b.fill("#url", &receiver.url).await;
        b.click("#every").await;
        b.click("#event-set\\.created").await;
        b.click_text("Create webhook").await;
        let secret = b.value("#new-secret").await;
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert!(b.main_text().await.contains("shown only this once"));
        b.shot("webhook-created").await;
        b.click_text("Done").await;
        let hook_path = b.path().await;
        let id = hook_path.rsplit('/').next().unwrap().to_owned();
        assert!(b.main_text().await.contains("set.created"));
        assert!(!b.main_text().await.contains(&secret));

        // A test: the ping arrives signed with that secret, and is logged.
        b.click_text("Send a test").await;
        assert!(b.text(".notice").await.contains("ping"));
        let ping = receiver.wait_for("ping", |_| true).await;
        verify(&secret, &ping);
        let logged = eventually(10, || async {
            b.goto(&server.at(&hook_path)).await;
            let text = b.text("#deliveries").await;
            text.contains("delivered").then_some(text)
        })
        .await
        .expect("the ping is logged as delivered");
        assert!(logged.contains("204"), "{logged}");
        b.click("#deliveries summary").await;
        assert!(
            b.text("#deliveries pre")
                .await
                .contains(&format!("webhook-id: {}", ping.id)),
            "the request is shown"
        );
        b.shot("webhook-deliveries").await;

        // Redeliver: the same event again, same id.
        b.click_text("Redeliver").await;
        let again = eventually(10, || async {
            let pings = receiver.of_type("ping");
            (pings.len() == 2).then(|| pings[1].clone())
        })
        .await
        .expect("redelivered");
        assert_eq!(again.id, ping.id);
        assert_eq!(again.raw, ping.raw);

        // Rotate: a new secret shown once; both sign for a day.
        b.click_text("Rotate secret").await;
        let rotated = b.value("#new-secret").await;
        assert_ne!(rotated, secret);
        b.click_text("Done").await;
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Told"}))
            .await;
        let told = receiver.wait_for("set.created", |_| true).await;
        verify(&rotated, &told);
        verify(&secret, &told);

        // Disable: nothing more is sent; enable again.
        b.click_text("Disable").await;
        assert!(b.text(".notice").await.contains("disabled"));
        assert_eq!(
            server
                .get(&token, &format!("/v1/webhooks/{id}"))
                .await
                .json()["enabled"],
            false
        );
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Not told"}))
            .await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(receiver.of_type("set.created").len(), 1);
        b.click_text("Enable").await;
        assert!(b.text(".notice").await.contains("enabled"));

        // Delete, after a confirmation page.
        b.click_text("Delete…").await;
        b.shot("webhook-delete").await;
        b.click_text("Delete webhook").await;
        assert_eq!(b.path().await, "/admin/settings/api/webhooks?done=deleted");
        assert_eq!(
            server
                .get(&token, &format!("/v1/webhooks/{id}"))
                .await
                .status,
            404
        );
        b.close().await;
        Ok(())
    }
);

both_setups!(
    a_crash_before_or_during_a_delivery_loses_nothing,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;

        // Committed by a node that sends nothing (the API role), which is
        // then killed: the events wait in the database.
        let api = env
            .serve(&["--role", "api", "--webhook-allow-private"])
            .await;
        let (hook, secret) = subscribe(&api, &token, &receiver.url, json!(["set.created"])).await;
        for name in ["Before the crash 1", "Before the crash 2"] {
            api.write_ok("POST", &token, "/v1/sets", json!({"name": name}))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(receiver.all().is_empty(), "the API role sends nothing");
        api.crash().await;

        // A whole node: both are sent after the restart.
        let server = env
            .serve(&["--webhook-allow-private", "--debug-clock"])
            .await;
        for name in ["Before the crash 1", "Before the crash 2"] {
            let got = receiver
                .wait_for("set.created", |d| d["name"] == name)
                .await;
            verify(&secret, &got);
        }

        // Killed while the receiver holds a delivery: sent again (same id)
        // once the dead node's claim on it has run out.
        receiver.delay_ms.store(30_000, Ordering::SeqCst);
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "In flight"}))
            .await;
        let first = receiver
            .wait_for("set.created", |d| d["name"] == "In flight")
            .await;
        server.crash().await;
        receiver.delay_ms.store(0, Ordering::SeqCst);
        let server = env
            .serve(&["--webhook-allow-private", "--debug-clock"])
            .await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            receiver.of_type("set.created").len(),
            3,
            "not again while the claim holds"
        );
        server.advance_debug_clock(61).await;
        let again = eventually(10, || async {
            let all = receiver.of_type("set.created");
            (all.len() == 4).then(|| all[3].clone())
        })
        .await
        .expect("sent again after the crash");
        assert_eq!(again.id, first.id);
        assert_eq!(again.raw, first.raw);
        verify(&secret, &again);
        let log = eventually(10, || async {
            let log = deliveries(&server, &token, &hook).await;
            log.iter()
                .all(|d| d["status"] == "delivered")
                .then_some(log)
        })
        .await
        .expect("every delivery ends delivered");
        assert_eq!(log.len(), 3, "{log:#?}");
        Ok(())
    }
);

both_setups!(two_nodes_send_each_event_once, |env: Env| async move {
    let receiver = Receiver::start().await;
    let account = env.account("fest").await;
    let token = env.token(&account, SCOPES, &[]).await;
    let a = env.serve(&["--webhook-allow-private"]).await;
    let b = env.serve(&["--webhook-allow-private"]).await;
    let (_, secret) = subscribe(&a, &token, &receiver.url, json!(["set.created"])).await;
    // Writes on both nodes, side by side; both dispatch and send.
    let writes = (0..40).map(|n| {
        let node = if n % 2 == 0 { &a } else { &b };
        let token = &token;
        async move {
            node.write_ok(
                "POST",
                token,
                "/v1/sets",
                json!({"name": format!("Set {n}")}),
            )
            .await
        }
    });
    futures::future::join_all(writes).await;
    eventually(20, || async {
        (receiver.of_type("set.created").len() >= 40).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("only {} arrived", receiver.all().len()));
    // Time for a second copy to show, if one were sent.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests = receiver.of_type("set.created");
    let mut ids: Vec<&str> = requests.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    eprintln!(
        "two nodes: {} requests for {} events",
        requests.len(),
        ids.len()
    );
    assert_eq!(ids.len(), 40, "every event arrived");
    assert_eq!(requests.len(), 40, "no event was sent twice");
    for r in receiver.of_type("set.created") {
        verify(&secret, &r);
    }

    // At most 20 subscriptions an account.
    for _ in 1..20 {
        subscribe(&b, &token, &receiver.url, json!(["ping"])).await;
    }
    b.write_refused(
        "POST",
        &token,
        "/v1/webhooks",
        json!({"url": receiver.url, "events": ["ping"]}),
        (409, "conflict"),
        None,
    )
    .await;
    Ok(())
});

both_setups!(
    a_receiver_that_answers_too_late_is_tried_again,
    |env: Env| async move {
        let receiver = Receiver::start().await;
        let account = env.account("fest").await;
        let token = env.token(&account, SCOPES, &[]).await;
        let server = env
            .serve(&["--webhook-allow-private", "--debug-clock"])
            .await;
        let (hook, secret) =
            subscribe(&server, &token, &receiver.url, json!(["set.created"])).await;
        // 11 s is past the 10 s the server waits for an answer.
        receiver.delay_ms.store(11_000, Ordering::SeqCst);
        server
            .write_ok("POST", &token, "/v1/sets", json!({"name": "Slow"}))
            .await;
        let first = receiver.wait_for("set.created", |_| true).await;
        let late = eventually(20, || async {
            let log = deliveries(&server, &token, &hook).await;
            (log[0]["attempts"] == 1 && log[0]["last_error"].is_string()).then(|| log[0].clone())
        })
        .await
        .expect("the late answer counts as a failure");
        assert_eq!(late["status"], "pending", "{late}");
        assert_eq!(late["last_status_code"], Value::Null, "{late}");
        assert!(
            late["last_error"].as_str().unwrap().contains("10 seconds"),
            "{late}"
        );
        receiver.delay_ms.store(0, Ordering::SeqCst);
        server.advance_debug_clock(5).await;
        let again = eventually(10, || async {
            let all = receiver.all();
            (all.len() == 2).then(|| all[1].clone())
        })
        .await
        .expect("tried again");
        assert_eq!(again.id, first.id);
        verify(&secret, &again);
        Ok(())
    }
);
