//! Spec §2.1: an expired or revoked token is refused "at once, on every
//! node". Two `serve` processes share one database and cache checked
//! tokens for ten minutes, so only the epoch each revocation moves (and
//! the revoker's wait for every node's ack) can make the other node refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_testkit::{Env, Server, both_engines};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
/// Far longer than the test: a stale cache entry would answer 200.
const CACHE: [&str; 2] = ["--auth-cache-ttl-ms", "600000"];

/// `/v1/me` answers 200 on every node (and so sits in each node's cache).
async fn warm(nodes: &[&Server], token: &str) -> Value {
    let mut body = Value::Null;
    for node in nodes {
        let r = node.me(token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        body = r.json();
    }
    body
}

fn token_uuid(me: &Value) -> String {
    me["service_token"]["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("no service_token.uuid: {me}"))
        .to_owned()
}

both_engines!(
    revocations_bite_on_every_node_at_once,
    |env: Env| async move {
        env.account("fest").await;
        env.user("root@example.com", PASSWORD, "fest", "admin")
            .await;
        env.user("ann@example.com", PASSWORD, "fest", "user").await;
        env.user("bob@example.com", PASSWORD, "fest", "user").await;
        let by_cli = env.token("fest", "all", &[]).await;
        let by_api = env.token("fest", "all", &[]).await;
        let bystander = env.token("fest", "all", &[]).await;
        let a = env.serve(&CACHE).await;
        let b = env.serve(&CACHE).await;
        let nodes = [&a, &b];
        let admin = a.access_token("root@example.com", PASSWORD).await;
        let ann = b.access_token("ann@example.com", PASSWORD).await;
        let bob = a.access_token("bob@example.com", PASSWORD).await;
        let cli_uuid = token_uuid(&warm(&nodes, &by_cli).await);
        let api_uuid = token_uuid(&warm(&nodes, &by_api).await);
        warm(&nodes, &bystander).await;

        // The CLI's revoke returns only once both nodes refuse the token.
        let (code, _, err) = env.cli_raw(&["token", "revoke", &cli_uuid]).await;
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("warning"), "every node answered: {err}");
        for node in nodes {
            node.me(&by_cli).await.error(401, "unauthorized");
            // Only that token: the others stay cached and valid.
            assert_eq!(node.me(&bystander).await.status, 200);
        }

        // The API's revoke on node A: once its Operation reports succeeded,
        // node B refuses too.
        let r = a
            .delete(&admin, &format!("/v1/service_tokens/{api_uuid}"), "rev-1")
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let op = r.json();
        assert_eq!(op["status"], "succeeded", "{op}");
        assert!(
            !op["result"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("Not confirmed"),
            "{op}"
        );
        b.get(&by_api, "/v1/me").await.error(401, "unauthorized");
        a.get(&by_api, "/v1/me").await.error(401, "unauthorized");

        // The API switch: cached principals carry it, both ways.
        env.cli(&["account", "api-access", "fest", "off"]).await;
        for node in nodes {
            node.me(&bystander).await.error(403, "api_not_enabled");
            node.me(&admin).await.error(403, "api_not_enabled");
        }
        env.cli(&["account", "api-access", "fest", "on"]).await;
        for node in nodes {
            assert_eq!(node.me(&bystander).await.status, 200);
        }

        // User tokens are never cached: a disabled user and an ended
        // session are refused everywhere at once.
        warm(&nodes, &ann).await;
        warm(&nodes, &bob).await;
        env.cli(&["user", "disable", "ann@example.com"]).await;
        for node in nodes {
            node.me(&ann).await.error(401, "unauthorized");
        }
        let session = a.me(&bob).await.json()["device_session"]["uuid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let r = a
            .http
            .delete(a.at(&format!("/v1/auth/sessions/{session}")))
            .bearer_auth(&bob)
            .send()
            .await?;
        assert_eq!(r.status(), 204);
        b.me(&bob).await.error(401, "unauthorized");
        assert_eq!(b.me(&admin).await.status, 200);

        // A node that stopped cleanly is not waited for.
        b.stop().await;
        let (code, _, err) = env.cli_raw(&["account", "api-access", "fest", "off"]).await;
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("warning"), "{err}");
        a.me(&bystander).await.error(403, "api_not_enabled");
        Ok(())
    }
);

both_engines!(
    a_silent_node_is_named_not_waited_for_forever,
    |env: Env| async move {
        env.account("fest").await;
        env.user("root@example.com", PASSWORD, "fest", "admin")
            .await;
        let token = env.token("fest", "all", &[]).await;
        let other = env.token("fest", "all", &[]).await;
        let a = env.serve(&CACHE).await;
        let b = env.serve(&CACHE).await;
        let admin = a.access_token("root@example.com", PASSWORD).await;
        let uuid = token_uuid(&warm(&[&a, &b], &token).await);
        let other_uuid = token_uuid(&warm(&[&a, &b], &other).await);
        // Frozen (SIGSTOP): alive by its last heartbeat, answering nothing.
        let pid = b.child.id().unwrap_or_default().to_string();
        let stopped = tokio::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .await?;
        assert!(stopped.success());
        // Both at once, while the frozen node still counts as live; the
        // API's revoke says so in the Operation, as stored.
        let started = std::time::Instant::now();
        let path = format!("/v1/service_tokens/{other_uuid}");
        let args = ["token", "revoke", uuid.as_str()];
        let ((code, _, err), r) =
            tokio::join!(env.cli_raw(&args), a.delete(&admin, &path, "rev-1"));
        let took = started.elapsed();
        let _ = tokio::process::Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .await?;
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("warning") && err.contains(&b.url),
            "names the silent node: {err}"
        );
        assert!(took < std::time::Duration::from_secs(15), "{took:?}");
        assert_eq!(r.status, 202, "{}", r.text);
        let op = r.json();
        assert_eq!(op["status"], "succeeded", "{op}");
        let message = op["result"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&b.url), "{op}");
        let polled = a
            .get(
                &admin,
                &format!("/v1/operations/{}", op["uuid"].as_str().unwrap()),
            )
            .await;
        assert_eq!(
            polled.json()["result"]["message"],
            message,
            "{}",
            polled.text
        );
        a.me(&token).await.error(401, "unauthorized");
        // Once it runs again it catches up.
        let caught_up = lightbox_testkit::eventually(5, || async {
            (b.me(&token).await.status == 401 && b.me(&other).await.status == 401).then_some(())
        })
        .await;
        assert!(caught_up.is_some(), "the woken node refuses the token");
        Ok(())
    }
);
