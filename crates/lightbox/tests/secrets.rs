//! Two-factor secrets at rest: sealed under the secret key file, never in
//! the database in clear; clear ones of an older version sealed at start;
//! `lightbox secret-key rotate`; a wrong key file refused with a clear
//! reason. Real servers and the real command line, on both engines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_auth::totp::{self, TotpAlgorithm};
use lightbox_testkit::{Env, Reply, Server, both_engines, secret_of};
use serde_json::json;

const PASSWORD: &str = "tangerine-bicycle-Orbit-42";
const LOGIN: &str = "jane@example.com";

/// Reads (or, with `set`, writes) a user's `totp_secret` column straight in
/// the database, as a dump would show it.
async fn column(env: &Env, set: Option<&str>) -> String {
    column_named(env, "totp_secret", set).await
}

async fn column_named(env: &Env, name: &str, set: Option<&str>) -> String {
    if let Some(value) = set {
        env.sql(&format!(
            "UPDATE users SET {name} = '{value}' WHERE login = '{LOGIN}'"
        ))
        .await;
    }
    let values = env
        .sql_texts(&format!("SELECT {name} FROM users WHERE login = '{LOGIN}'"))
        .await;
    values.into_iter().next().expect("the user's row")
}

/// Two-factor on through the CLI; returns the raw secret.
async fn enable(env: &Env) -> Vec<u8> {
    env.account("acme").await;
    env.user(LOGIN, PASSWORD, "acme", "admin").await;
    secret_of(&env.cli(&["user", "mfa", "enable", LOGIN]).await)
}

/// Signs in with the authenticator code of a step no sign-in used yet (the
/// debug clock moved on first); returns the `/v1/auth/mfa` answer.
async fn sign_in_with_code(server: &Server, secret: &[u8], advance_secs: u64) -> Reply {
    let now = server.advance_debug_clock(advance_secs).await;
    let device = json!({"name": "test", "platform": "linux"});
    let body = json!({"login": LOGIN, "password": PASSWORD, "device": device});
    let r = Reply::from(
        server
            .http
            .post(server.at("/v1/auth/sign_in"))
            .json(&body)
            .send()
            .await,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mfa_token = r.json()["mfa_token"].as_str().unwrap().to_owned();
    let code = totp::code_at(secret, TotpAlgorithm::Sha1, now, 6);
    let body = json!({"mfa_token": mfa_token, "code": code});
    Reply::from(
        server
            .http
            .post(server.at("/v1/auth/mfa"))
            .json(&body)
            .send()
            .await,
    )
    .await
}

both_engines!(
    totp_secrets_are_sealed_at_rest_and_survive_a_rotation,
    |env: Env| async move {
        let secret = enable(&env).await;
        let base32 = totp::base32(&secret);
        // The dump holds a sealed value, not the secret.
        let stored = column(&env, None).await;
        assert!(stored.starts_with("sk1."), "{stored}");
        assert!(!stored.contains(&base32), "{stored}");
        // The key file was made in the data dir, for its owner only.
        let key_file = env.dir.join("secret.key");
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file)?.permissions());
        assert_eq!(mode & 0o777, 0o600);
        let old_id = stored.split('.').nth(1).unwrap().to_owned();

        let server = env.serve(&["--debug-clock"]).await;
        let r = sign_in_with_code(&server, &secret, 30).await;
        assert_eq!(r.status, 200, "{}", r.text);

        // With a server running on PostgreSQL (which other machines could
        // share) the rotation refuses, naming it, until told that every
        // server reads this file; nothing is changed by the refusal.
        let rotate = if env.engine == lightbox_testkit::Engine::Postgres {
            let (code, _, err) = env.cli_raw(&["secret-key", "rotate"]).await;
            assert_ne!(code, 0, "{err}");
            assert!(
                err.contains("1 server(s) are running")
                    && err.contains("--servers-share-this-file"),
                "{err}"
            );
            assert!(
                column(&env, None)
                    .await
                    .starts_with(&format!("sk1.{old_id}."))
            );
            vec!["secret-key", "rotate", "--servers-share-this-file"]
        } else {
            vec!["secret-key", "rotate"]
        };
        // Rotate while the server runs: it follows the new file.
        let new_id = env.cli(&rotate).await;
        assert_ne!(new_id, old_id);
        let stored = column(&env, None).await;
        assert!(stored.starts_with(&format!("sk1.{new_id}.")), "{stored}");
        assert!(!stored.contains(&base32));
        let file = std::fs::read_to_string(&key_file)?;
        assert_eq!(
            file.lines().filter(|l| !l.starts_with('#')).count(),
            1,
            "only the new key is left: {file}"
        );
        let r = sign_in_with_code(&server, &secret, 60).await;
        assert_eq!(r.status, 200, "{}", r.text);
        server.stop().await;

        // And after a restart (its clock starts again from now: go past
        // the steps already used).
        let server = env.serve(&["--debug-clock"]).await;
        let r = sign_in_with_code(&server, &secret, 300).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // A secret being enrolled through the API is sealed too.
        let body = r.json();
        let grant = server
            .http
            .post(server.at("/v1/auth/token"))
            .json(&json!({
                "refresh_token": body["refresh_token"],
                "account_uuid": body["accounts"][0]["uuid"],
            }))
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?;
        let access = grant["access_token"].as_str().unwrap();
        let now = server.advance_debug_clock(30).await;
        let code = totp::code_at(&secret, TotpAlgorithm::Sha1, now, 6);
        let r = server
            .post(
                access,
                "/v1/auth/mfa/setup",
                None,
                &json!({"password": PASSWORD, "code": code}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let pending = r.json()["secret"].as_str().unwrap().to_owned();
        let stored = column_named(&env, "totp_pending_secret", None).await;
        assert!(stored.starts_with(&format!("sk1.{new_id}.")), "{stored}");
        assert!(!stored.contains(&pending), "{stored}");
        Ok(())
    }
);

both_engines!(
    clear_secrets_of_an_older_version_are_sealed_at_start,
    |env: Env| async move {
        let secret = enable(&env).await;
        let base32 = totp::base32(&secret);
        // As a version before sealing stored it.
        assert_eq!(column(&env, Some(&base32)).await, base32);
        let server = env.serve(&["--debug-clock"]).await;
        let stored = column(&env, None).await;
        assert!(stored.starts_with("sk1."), "{stored}");
        assert!(!stored.contains(&base32));
        let r = sign_in_with_code(&server, &secret, 30).await;
        assert_eq!(r.status, 200, "{}", r.text);
        Ok(())
    }
);

both_engines!(a_wrong_key_file_is_a_clear_error, |env: Env| async move {
    enable(&env).await;
    // Another key (a new file made where the right one should be).
    let other = env.dir.join("other.key");
    let other_arg = other.display().to_string();
    let (code, _, err) = env
        .cli_raw(&["migrate", "--secret-key-file", &other_arg])
        .await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("sealed with secret key") && err.contains(&other_arg),
        "{err}"
    );
    // The server does not start either.
    let mut server = tokio::process::Command::new(lightbox_testkit::bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(env.storage_args())
        .args(["--secret-key-file", &other_arg])
        .env("LIGHTBOX_LOG", "warn")
        .output()
        .await?;
    assert_eq!(server.status.code(), Some(1));
    let err = String::from_utf8_lossy(&std::mem::take(&mut server.stderr)).into_owned();
    assert!(err.contains("sealed with secret key"), "{err}");
    // A file that is not a key file at all.
    std::fs::write(&other, "not a key\n")?;
    let (code, _, err) = env
        .cli_raw(&["migrate", "--secret-key-file", &other_arg])
        .await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a Lightbox secret key"), "{err}");
    // The right one still works.
    env.cli(&["migrate"]).await;
    Ok(())
});
