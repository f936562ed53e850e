//! Webhook delivery under load (issue 19), driven by bench/webhooks.sh:
//!
//! ```text
//! webhook-load BASE_URL TOKEN SERVER_PID
//!   EVENTS=10000 RATE=500 BACKLOG=EVENTS (environment)
//! ```
//!
//! A receiver on loopback records the first arrival of every delivery (by
//! the set name in its body) and how often each `webhook-id` came. Phase 1:
//! EVENTS set creations paced at RATE per second, open loop (each request
//! starts at its time whatever the others are doing), each a `set.created`
//! event; latency = arrival at the receiver − the moment the creating
//! request was sent (an upper bound of commit → received: the commit happens
//! inside that request). Phase 2: the receiver answers 503 ("down") while
//! BACKLOG more are made; once each has failed its first attempt, it comes
//! back and the server's debug clock moves 10 minutes on (the retries of a
//! receiver down for 10 minutes all fall due); drain rate = BACKLOG / (last
//! arrival − clock moved). The server's RSS is sampled every 0.5 s.
//! Prints markdown on stdout; progress on stderr.
//!
//! One thread: generating 500 requests/s and receiving as many takes a
//! sliver of a core, leaving the rest of the machine to the server.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::time::Instant;

type Http = Client<HttpConnector, Full<Bytes>>;
type Fail = Box<dyn std::error::Error>;

/// What the receiver saw.
#[derive(Default)]
struct Received {
    /// Set name → first arrival.
    arrivals: Mutex<HashMap<String, Instant>>,
    /// `webhook-id` → requests with it.
    ids: Mutex<HashMap<String, u32>>,
    /// Requests answered 503 while "down".
    refused: AtomicU64,
    /// Sets told of (first arrivals).
    firsts: AtomicU64,
    down: AtomicBool,
}

impl Received {
    fn arrivals(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.arrivals.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn receive(
    seen: Arc<Received>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let id = request
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let now = Instant::now();
    let mut answer = Response::new(Full::new(Bytes::new()));
    if seen.down.load(Ordering::SeqCst) {
        seen.refused.fetch_add(1, Ordering::SeqCst);
        *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return Ok(answer);
    }
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let name = event["data"]["name"].as_str().unwrap_or_default().to_owned();
    if let std::collections::hash_map::Entry::Vacant(first) = seen.arrivals().entry(name) {
        first.insert(now);
        seen.firsts.fetch_add(1, Ordering::SeqCst);
    }
    *seen
        .ids
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_default() += 1;
    *answer.status_mut() = StatusCode::NO_CONTENT;
    Ok(answer)
}

/// Starts the receiver; answers its URL.
async fn start_receiver(seen: Arc<Received>) -> Result<String, Fail> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| receive(seen.clone(), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(url)
}

struct Api {
    http: Http,
    base: String,
    token: String,
    /// Makes every Idempotency-Key of this run new.
    run: u128,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: &str, key: &str) -> Result<(), String> {
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .header("idempotency-key", format!("{}-{key}", self.run))
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| e.to_string())?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let answer = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if status.as_u16() >= 300 {
            return Err(format!(
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&answer[..answer.len().min(300)])
            ));
        }
        Ok(())
    }
}

/// What a run of set creations came to.
struct Made {
    /// Set name → when its request was sent.
    sent: HashMap<String, Instant>,
    /// Each request's time to its answer, ms, sorted.
    answered_ms: Vec<f64>,
    seconds: f64,
}

/// `count` set creations at `rate` per second, open loop.
async fn make_sets(api: &Arc<Api>, prefix: &str, count: usize, rate: f64) -> Result<Made, Fail> {
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = tokio::task::JoinSet::new();
    let mut made = Made {
        sent: HashMap::with_capacity(count),
        answered_ms: Vec::with_capacity(count),
        seconds: 0.0,
    };
    let mut keep = |(name, at, took): (String, Instant, Duration)| {
        made.sent.insert(name, at);
        made.answered_ms.push(took.as_secs_f64() * 1e3);
    };
    for n in 0..count {
        tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / rate)).await;
        let api = api.clone();
        let name = format!("{prefix} {n}");
        tasks.spawn(async move {
            let sent = Instant::now();
            let body = serde_json::json!({ "name": name }).to_string();
            api.call("POST", "/v1/sets", &body, &name)
                .await
                .map(|()| (name, sent, sent.elapsed()))
        });
        // Collect what finished, so the set of tasks stays small.
        while let Some(done) = tasks.try_join_next() {
            keep(done??);
        }
    }
    while let Some(done) = tasks.join_next().await {
        keep(done??);
    }
    if made.sent.len() != count {
        return Err(format!("{} of {count} sets made", made.sent.len()).into());
    }
    made.answered_ms.sort_by(f64::total_cmp);
    made.seconds = start.elapsed().as_secs_f64();
    Ok(made)
}

async fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) -> Result<(), Fail> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("timed out waiting for {what}").into())
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = (p / 100.0 * (sorted.len().saturating_sub(1)) as f64).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Fail> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, token, pid] = args.as_slice() else {
        return Err("usage: webhook-load BASE_URL TOKEN SERVER_PID".into());
    };
    let pid: u32 = pid.parse()?;
    let events: usize = env_or("EVENTS", 10_000);
    let rate: f64 = env_or("RATE", 500.0);
    let backlog: usize = env_or("BACKLOG", events);

    let seen = Arc::new(Received::default());
    let receiver = start_receiver(seen.clone()).await?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let api = Arc::new(Api {
        http: Client::builder(TokioExecutor::new()).build(connector),
        base: base.trim_end_matches('/').to_owned(),
        token: token.clone(),
        run: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos(),
    });
    let hook = serde_json::json!({ "url": receiver, "events": ["set.created"] }).to_string();
    api.call("POST", "/v1/webhooks", &hook, "webhook").await?;

    // The server's RSS, every 0.5 s.
    let rss = Arc::new(Mutex::new(Vec::<(f64, f64)>::new()));
    let began = Instant::now();
    let sampler = {
        let rss = rss.clone();
        tokio::spawn(async move {
            loop {
                let at = began.elapsed().as_secs_f64();
                rss.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((at, rss_mib(pid)));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let rss_start = rss_mib(pid);

    // Phase 1: steady load.
    eprintln!("== phase 1: {events} events at {rate}/s");
    let made = make_sets(&api, "Live", events, rate).await?;
    let (sent, elapsed) = (&made.sent, made.seconds);
    let phase1_end = began.elapsed().as_secs_f64();
    // Not fatal: a run that falls behind still tells how far.
    let phase1_missing = match wait_for("phase 1 deliveries", 120, || {
        seen.firsts.load(Ordering::SeqCst) >= events as u64
    })
    .await
    {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("== {e}");
            events.saturating_sub(seen.firsts.load(Ordering::SeqCst) as usize)
        }
    };
    let mut latencies: Vec<f64> = {
        let arrivals = seen.arrivals();
        sent.iter()
            .filter_map(|(n, t)| Some(arrivals.get(n)?.duration_since(*t).as_secs_f64() * 1e3))
            .collect()
    };
    latencies.sort_by(f64::total_cmp);
    // Latency by the minute its request was sent (a long run: does it hold?).
    let by_minute: Vec<String> = {
        let arrivals = seen.arrivals();
        let first = sent.values().min().copied().unwrap_or(began);
        let mut minutes: Vec<Vec<f64>> = Vec::new();
        for (n, t) in sent {
            let Some(at) = arrivals.get(n) else { continue };
            let minute = (t.duration_since(first).as_secs() / 60) as usize;
            if minutes.len() <= minute {
                minutes.resize(minute + 1, Vec::new());
            }
            minutes[minute].push(at.duration_since(*t).as_secs_f64() * 1e3);
        }
        minutes
            .iter_mut()
            .filter(|m| !m.is_empty())
            .map(|m| {
                m.sort_by(f64::total_cmp);
                format!("{:.0}/{:.0}", percentile(m, 50.0), percentile(m, 99.0))
            })
            .collect()
    };
    let rss_after_load = rss_mib(pid);

    // Phase 2: the receiver is down while BACKLOG more are made.
    eprintln!("== phase 2: receiver down, {backlog} more");
    seen.down.store(true, Ordering::SeqCst);
    let sent_down = make_sets(&api, "Backlog", backlog, rate).await?.sent;
    wait_for("every first attempt refused", 300, || {
        seen.refused.load(Ordering::SeqCst) >= backlog as u64
    })
    .await?;
    let rss_backlog = rss_mib(pid);
    seen.down.store(false, Ordering::SeqCst);
    let moved = Instant::now();
    api.call("POST", "/_debug/clock?advance_secs=600", "", "clock")
        .await?;
    wait_for("the backlog", 600, || {
        seen.firsts.load(Ordering::SeqCst) >= (events + backlog) as u64
    })
    .await?;
    let drained = {
        let arrivals = seen.arrivals();
        sent_down
            .keys()
            .filter_map(|n| arrivals.get(n))
            .max()
            .map_or(0.0, |last| last.duration_since(moved).as_secs_f64())
    };
    sampler.abort();
    let twice = seen
        .ids
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .filter(|&&v| v > 1)
        .count();
    let rss = rss.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let max_rss = rss.iter().map(|r| r.1).fold(0.0, f64::max);
    let end_rss = rss.last().map_or(0.0, |r| r.1);
    // RSS through phase 1, at each tenth of it.
    let tenths: Vec<String> = (1..=10)
        .filter_map(|k| {
            let at = phase1_end * f64::from(k) / 10.0;
            rss.iter().rev().find(|r| r.0 <= at).map(|r| format!("{:.0}", r.1))
        })
        .collect();

    println!("| figure | value | target |");
    println!("|---|---|---|");
    println!(
        "| events (phase 1) | {events} in {elapsed:.1} s ({:.0}/s offered) | 10,000 at 500/s |",
        events as f64 / elapsed
    );
    println!(
        "| POST /v1/sets answered p50 / p99 | {:.1} / {:.1} ms | |",
        percentile(&made.answered_ms, 50.0),
        percentile(&made.answered_ms, 99.0)
    );
    println!(
        "| commit → received min (of {}) | {:.1} ms | |",
        latencies.len(),
        percentile(&latencies, 0.0)
    );
    println!(
        "| commit → received p50 | {:.1} ms | ≤ 50 ms |",
        percentile(&latencies, 50.0)
    );
    println!(
        "| commit → received p90 | {:.1} ms | |",
        percentile(&latencies, 90.0)
    );
    println!(
        "| commit → received p99 | {:.1} ms | ≤ 500 ms |",
        percentile(&latencies, 99.0)
    );
    println!(
        "| commit → received max | {:.1} ms | |",
        percentile(&latencies, 100.0)
    );
    println!(
        "| backlog drained | {backlog} in {drained:.2} s = {:.0} events/s | ≥ 1,000/s |",
        backlog as f64 / drained
    );
    println!("| delivered twice | {twice} | 0 without a crash |");
    if phase1_missing > 0 {
        println!("| phase 1 not received within 2 min of its end | {phase1_missing} | 0 |");
    }
    println!(
        "| server RSS | start {rss_start:.1} MiB, after load {rss_after_load:.1} MiB, backlog {rss_backlog:.1} MiB, max {max_rss:.1} MiB, end {end_rss:.1} MiB | flat |"
    );
    println!(
        "| server RSS through phase 1, each tenth (MiB) | {} | flat |",
        tenths.join(", ")
    );
    if by_minute.len() > 1 {
        println!(
            "| commit → received p50/p99 by minute of phase 1 (ms) | {} | |",
            by_minute.join(", ")
        );
    }
    Ok(())
}
