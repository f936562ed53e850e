//! Credentials through the core: password hashes are upgraded at sign-in
//! when the parameters change (both engines), the hashing pool is bounded,
//! and no credential grants a scope it does not hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_testkit::{Engine, fresh_store};
use std::net::IpAddr;
use std::sync::Arc;

use lightbox_auth::password::PasswordParams;
use lightbox_core::auth::AuthSettings;
use lightbox_core::clock::ManualClock;
use lightbox_core::passwords::{HashingSettings, PasswordHasher};
use lightbox_core::sessions::{self, DeviceInfo, SignInOutcome};
use lightbox_core::{Core, ErrorKind, Store, accounts, users};

const PASSWORD: &str = "tangerine-bicycle-Orbit-42";

fn core_with(store: &Store, params: PasswordParams) -> Core {
    let mut settings = AuthSettings::default();
    settings.sessions.hashing.params = params;
    Core::new(
        store.clone(),
        Arc::new(ManualClock::new(1_800_000_000_000_000)),
        settings,
    )
}

async fn stored_hash(core: &Core, login: &str) -> String {
    users::find(core, login)
        .await
        .unwrap()
        .password_hash
        .unwrap()
}

async fn rehashes_when_parameters_change(engine: Engine) {
    let store = fresh_store(engine, 16).await;
    let weak = PasswordParams {
        memory_kib: 8192,
        iterations: 1,
        parallelism: 1,
    };
    let old = core_with(&store, weak);
    let account = accounts::create(&old, "Acme", "acme").await.unwrap();
    users::create(&old, "jane@example.com", "Jane", Some(PASSWORD))
        .await
        .unwrap();
    users::add_to_account(&old, "jane@example.com", &account.uuid, users::Role::User)
        .await
        .unwrap();
    assert!(
        stored_hash(&old, "jane@example.com")
            .await
            .starts_with("$argon2id$v=19$m=8192,t=1,p=1$")
    );

    // The same database under today's parameters: the next sign-in upgrades it.
    let current = core_with(&store, PasswordParams::default());
    let device = DeviceInfo {
        name: "phone".to_owned(),
        platform: "ios".to_owned(),
        app_version: String::new(),
        device_id: None,
    };
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let outcome = sessions::sign_in(&current, ip, "jane@example.com", PASSWORD, device.clone())
        .await
        .unwrap();
    assert!(matches!(outcome, SignInOutcome::SignedIn(_)));
    let upgraded = stored_hash(&current, "jane@example.com").await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    // And it still signs in, without another rewrite.
    sessions::sign_in(&current, ip, "jane@example.com", PASSWORD, device)
        .await
        .unwrap();
    assert_eq!(stored_hash(&current, "jane@example.com").await, upgraded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rehashes_when_parameters_change_sqlite() {
    rehashes_when_parameters_change(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rehashes_when_parameters_change_postgres() {
    rehashes_when_parameters_change(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hashing_pool_turns_away_what_it_cannot_queue() {
    let hasher = Arc::new(PasswordHasher::new(HashingSettings {
        params: PasswordParams::default(),
        concurrency: 1,
        max_waiting: 2,
    }));
    let phc = hasher.hash(PASSWORD).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let hasher = hasher.clone();
        let phc = phc.clone();
        tasks.push(tokio::spawn(async move {
            hasher.verify(PASSWORD, Some(&phc)).await
        }));
    }
    let (mut ok, mut busy) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(true) => ok += 1,
            Err(e) if e.kind == ErrorKind::RateLimited => {
                assert_eq!(e.detail.as_deref(), Some("busy"));
                assert_eq!(e.retry_after, Some(1));
                busy += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // One running plus two waiting at most; the rest are told to retry.
    assert!(ok >= 3, "{ok} verified");
    assert!(busy >= 1, "{busy} turned away");
    assert_eq!(ok + busy, 12);
    // Unknown logins cost a real verification and are never accepted.
    assert!(!hasher.verify(PASSWORD, None).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_grants_a_scope_it_does_not_hold() {
    use lightbox_core::scope::Scope;
    use lightbox_core::tokens::{self, NewServiceToken};
    use lightbox_core::writes::WriteContext;
    let store = fresh_store(Engine::Sqlite, 16).await;
    let core = core_with(&store, PasswordParams::default());
    let account = accounts::create(&core, "Acme", "acme").await.unwrap();
    let ctx = WriteContext {
        account_id: account.uuid.clone(),
        idempotency_key: "k".to_owned(),
        request_hash: "h".to_owned(),
    };
    let new = |scopes: Vec<Scope>| NewServiceToken {
        name: "t".to_owned(),
        scopes,
        ..NewServiceToken::default()
    };
    let held = [Scope::ImagesRead, Scope::SetsWrite];
    let refused = tokens::create_by_admin(
        &core,
        &ctx,
        &held,
        new(vec![Scope::ImagesRead, Scope::Upload]),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    assert_eq!(refused.detail.as_deref(), Some("api.upload"));
    assert_eq!(refused.field.as_deref(), Some("scopes"));
    assert!(
        tokens::list(&core, "acme").await.unwrap().is_empty(),
        "nothing stored"
    );
    let (op, secret) = tokens::create_by_admin(&core, &ctx, &held, new(vec![Scope::SetsWrite]))
        .await
        .unwrap();
    assert!(secret.is_some());
    assert_eq!(
        op.result["service_token"]["scopes"],
        serde_json::json!(["api.sets.write"])
    );
}
