//! Errors an operator can act on: a database or blob store that cannot be
//! reached is named with its cause and address within seconds, at start-up
//! and in `/readyz`; a database that goes away while serving gives `503`
//! in the error envelope, and the server recovers by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lightbox_testkit::{Engine, Env, TestResult};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

/// A port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let port = l.local_addr().map(|a| a.port()).unwrap_or(1);
    drop(l);
    port
}

async fn run(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, Duration) {
    let started = Instant::now();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(lightbox_testkit::bin())
            .args(args)
            .envs(envs.iter().copied())
            .env("LIGHTBOX_LOG", "warn")
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("lightbox {args:?} did not end within 60 s"))
    .unwrap_or_else(|e| panic!("cannot run lightbox: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_database_that_refuses_is_named_with_its_cause_at_once() -> TestResult {
    let port = closed_port().await;
    let dir = tempfile_dir();
    let url = format!("postgres://lightbox:secret-pw@127.0.0.1:{port}/library");
    for command in [vec!["migrate"], vec!["serve", "--listen", "127.0.0.1:0"]] {
        let mut args = command.clone();
        args.extend(["--data-dir", &dir, "--database-url", &url]);
        let (code, stderr, took) = run(&args, &[]).await;
        assert_eq!(code, 1, "{command:?}: {stderr}");
        assert!(
            stderr.contains(&format!("127.0.0.1:{port}")),
            "{command:?} names the address: {stderr}"
        );
        assert!(
            stderr.to_lowercase().contains("refused"),
            "{command:?} says the cause: {stderr}"
        );
        assert!(!stderr.contains("secret-pw"), "no password: {stderr}");
        assert!(took < Duration::from_secs(10), "{command:?} took {took:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_blob_store_that_refuses_is_named_with_its_cause_at_once() -> TestResult {
    let port = closed_port().await;
    let dir = tempfile_dir();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (code, stderr, took) = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &dir,
            "--blob-store",
            "s3://library/lb",
            "--s3-endpoint",
            &endpoint,
        ],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    Ok(())
}

fn tempfile_dir() -> String {
    lightbox_testkit::scratch_dir("operator")
        .display()
        .to_string()
}

/// A TCP relay to PostgreSQL that the test can cut (closing every
/// connection and refusing new ones) and restore on the same port.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (up2, gen2) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    // Down: the connection is dropped at once.
                    continue;
                }
                let target = target.clone();
                let (up3, gen3) = (up2.clone(), gen2.clone());
                let born = gen3.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let relay = tokio::io::copy_bidirectional(&mut client, &mut server);
                    tokio::pin!(relay);
                    loop {
                        tokio::select! {
                            _ = &mut relay => return,
                            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                                if !up3.load(Ordering::SeqCst) || gen3.load(Ordering::SeqCst) != born {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Relay {
            port,
            up,
            generation,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// PostgreSQL only: SQLite is a file inside the data folder.
#[tokio::test]
async fn a_database_gone_while_serving_gives_503_and_the_server_recovers() -> TestResult {
    let mut env = Env::new(Engine::Postgres).await;
    let direct = env.database_url.clone().unwrap_or_default();
    env.account("gone").await;
    let token = env.token("gone", "all", &[]).await;
    // host:port of the real server, and the URL through the relay.
    let (scheme, rest) = direct.split_once("://").unwrap_or(("postgres", &direct));
    let (authority, db) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let relay = Relay::start(hostport.to_owned()).await;
    let at = if userinfo.is_empty() {
        String::new()
    } else {
        format!("{userinfo}@")
    };
    env.database_url = Some(format!("{scheme}://{at}127.0.0.1:{}/{db}", relay.port));
    let server = env.serve(&["--readyz-detail"]).await;
    // Without the flag, /readyz never names the cause, even to a local caller.
    let plain = env.serve(&[]).await;
    assert_eq!(server.get(&token, "/v1/sets").await.status, 200);

    relay.cut();
    // The relay drops its connections within 20 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let reply = server.get(&token, "/v1/sets").await;
    let error = reply.error(503, "unavailable");
    assert!(
        error["message"].as_str().unwrap_or("").contains("database"),
        "{error}"
    );
    assert!(reply.header("retry-after").is_some(), "Retry-After");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let ready = server.http.get(server.at("/readyz")).send().await?;
    assert_eq!(ready.status(), 503);
    let text = ready.text().await?;
    assert!(
        text.contains("database unavailable")
            && text.contains(&format!("127.0.0.1:{}", relay.port)),
        "{text}"
    );
    // Through a proxy (or from another machine), or from a server not
    // started with --readyz-detail, the cause stays in the log: no host,
    // port or path of the deployment.
    for (proxy_header, value) in [
        ("X-Forwarded-For", "203.0.113.9"),
        ("Via", "1.1 nginx"),
        ("X-Real-IP", "203.0.113.9"),
    ] {
        let proxied = server
            .http
            .get(server.at("/readyz"))
            .header(proxy_header, value)
            .send()
            .await?;
        assert_eq!(proxied.status(), 503);
        let text = proxied.text().await?;
        assert!(
            text.starts_with("database unavailable")
                && !text.contains("127.0.0.1")
                && !text.contains(&relay.port.to_string()),
            "{proxy_header}: {text}"
        );
    }
    let undetailed = plain.http.get(plain.at("/readyz")).send().await?;
    assert_eq!(undetailed.status(), 503);
    let text = undetailed.text().await?;
    assert!(
        text.starts_with("database unavailable") && !text.contains(&relay.port.to_string()),
        "{text}"
    );

    relay.restore();
    let back = lightbox_testkit::eventually(20, || async {
        (server.get(&token, "/v1/sets").await.status == 200).then_some(())
    })
    .await;
    assert!(back.is_some(), "the server did not recover");
    let ready = server.http.get(server.at("/readyz")).send().await?;
    assert_eq!(ready.status(), 200);
    Ok(())
}
