//! `lightbox serve` and `lightbox demo`: wire the store, the core, the job
//! workers and the HTTP API together, and stop cleanly on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lightbox_api::ApiSettings;
use lightbox_core::auth::AuthSettings;
use lightbox_core::clock::ManualClock;
use lightbox_core::jobs::{self, JobRegistry, WorkerSettings};
use lightbox_core::keywords::RenameJob;
use lightbox_core::media::MediaSettings;
use lightbox_core::search::SearchService;
use lightbox_core::versions::VersionsJob;
use lightbox_core::{Clock, Core, SystemClock};
use tokio::sync::watch;

use crate::Failure;
use crate::config::{Role, Serve, Storage};

/// Marker: seed demo data and print the URL and a token.
pub struct Demo;

pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LIGHTBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn serve(storage: Storage, settings: Serve, demo: Option<Demo>) -> Result<(), Failure> {
    let store = lightbox_core::Store::connect(&storage.database_url, 16).await?;
    store.migrate().await?;
    let mut auth = AuthSettings {
        cache_ttl: settings.auth_cache_ttl,
        ..AuthSettings::default()
    };
    auth.sessions.refresh_grace = settings.refresh_grace;
    auth.sessions.session_max = settings.session_max;
    if let Some(n) = settings.hash_concurrency {
        auth.sessions.hashing.concurrency = n;
    }
    // Tests move a standing clock through /_debug/clock; nothing else may.
    let debug_clock = settings
        .debug_clock
        .then(|| Arc::new(ManualClock::new(SystemClock.now_micros())));
    let clock: Arc<dyn Clock> = match &debug_clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let core = Core::new(store, clock, auth).with_secret_keys(crate::admin::secret_keys(&storage)?);
    let sealed = lightbox_core::secrets::check_and_seal(&core)
        .await
        .map_err(Failure)?;
    if sealed > 0 {
        tracing::info!(sealed, "two-factor secrets stored in clear are sealed now");
    }
    let data_dir = storage.data_dir.clone();
    let blobs = lightbox_media::BlobStore::open(&storage.blobs)
        .map_err(|e| Failure(format!("blob store {}: {e}", storage.blobs.describe())))?;
    blobs
        .check()
        .await
        .map_err(|e| Failure(format!("blob store {}: {e}", blobs.describe())))?;
    if let Err(e) = core.sessions.hasher.warm_up().await {
        tracing::warn!(error = %e, "could not prepare the password hasher");
    }

    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", settings.listen)))?;
    let addr = listener.local_addr()?;
    let base_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    // Scratch copies a killed worker left behind (builds write nothing else here).
    let work_dir = data_dir.join("work");
    if let Ok(entries) = std::fs::read_dir(&work_dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("build-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let mut media = MediaSettings::new(blobs.clone(), &base_url, work_dir);
    media.max_upload_bytes = settings.max_upload_bytes;
    media.max_pixels = settings.max_pixels;
    media.download_link_ttl = settings.download_link_ttl;
    media.archive_lifetime = settings.archive_lifetime;
    if let Some(url) = &settings.processor_url {
        media.processor_url = url.trim_end_matches('/').to_owned();
    }
    if let Some(url) = &settings.media_url {
        media.media_url = url.trim_end_matches('/').to_owned();
    }
    let core = core
        .with_media(media)
        .with_public_url(&base_url)
        .with_website_hosts(lightbox_core::websites::WebsiteHosts::new(
            &settings.website_hosts,
        ))
        .with_webhooks(lightbox_core::webhooks::WebhookSettings {
            allow_private: settings.webhook_allow_private,
            transport: Some(std::sync::Arc::new(
                crate::webhook_sender::HttpTransport::new()
                    .map_err(|e| Failure(format!("cannot make the webhook client: {e}")))?,
            )),
            ..Default::default()
        });

    // stdout carries the base URL (first line) so scripts can find a port-0 server.
    say(&base_url);
    if demo.is_some() {
        let seeded = crate::demo::seed(&core).await?;
        let (token, password, admin) = (&seeded.token, &seeded.password, crate::demo::ADMIN);
        say(&format!("{token}\n{admin}\n{password}"));
        let mut message = format!(
            "\nLightbox demo is running.\n  base URL: {base_url}\n  token:    {token}\n  admin:    {admin} / {password}\n"
        );
        for website in &seeded.websites {
            let kind = match website.website_type {
                lightbox_core::websites::WebsiteType::Public => "public",
                lightbox_core::websites::WebsiteType::Press => "press",
            };
            message.push_str(&format!("  website:  {} ({kind})\n", website.url));
            if website.website_type == lightbox_core::websites::WebsiteType::Press {
                message.push_str(&format!(
                    "            register at {}register, then approve yourself in the console (Websites → Press members)\n",
                    website.url
                ));
            }
        }
        if let Some((live_at, title)) = &seeded.embargo {
            message.push_str(&format!("  embargo:  \"{title}\" goes live at {live_at}\n"));
        }
        if !lightbox_media::ffmpeg_available() {
            message.push_str(
                "  note:     ffmpeg is not installed, so the demo's video has no poster frame (install ffmpeg and upload it again to see one)\n",
            );
        }
        message.push_str(&format!(
            "  try:      curl -H \"Authorization: Bearer {token}\" {base_url}/v1/me\n"
        ));
        eprintln!("{message}");
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut background = Vec::new();
    // API nodes keep a local search index that follows the change log.
    let core = if matches!(settings.role, Role::All | Role::Api) {
        let (search, fresh) = SearchService::open_for_server(&data_dir.join("search"))?;
        let core = core.with_search(search.clone());
        if fresh {
            let (core, search) = (core.clone(), search.clone());
            background.push(tokio::spawn(async move {
                let started = std::time::Instant::now();
                match search.rebuild(&core).await {
                    Ok(n) => tracing::info!(
                        images = n,
                        secs = started.elapsed().as_secs_f64(),
                        "search index built"
                    ),
                    Err(e) => tracing::error!(error = %e, "building the search index failed"),
                }
            }));
        }
        background.push(tokio::spawn(
            search.follow_loop(core.clone(), stop_rx.clone()),
        ));
        core
    } else {
        core
    };
    if matches!(settings.role, Role::All | Role::Worker) {
        let mut registry = JobRegistry::default();
        // Each job's kind is its payload type's.
        registry.add(VersionsJob);
        registry.add(RenameJob);
        registry.add(lightbox_core::set_arrangement::ArrangeJob);
        registry.add(lightbox_core::archives::BuildJob);
        registry.add(lightbox_core::archives::ExpireJob);
        if settings.diagnostic_jobs {
            registry.add(jobs::diagnostic::SleepJob);
        }
        let worker_settings = WorkerSettings {
            workers: settings.workers,
            lease: settings.job_lease,
            node: hostname(),
            ..WorkerSettings::default()
        };
        background.extend(jobs::spawn(
            core.clone(),
            registry,
            worker_settings,
            stop_rx.clone(),
        ));
        background.push(lightbox_core::webhooks::delivery::spawn(
            core.clone(),
            format!("{}/{}/webhooks", hostname(), std::process::id()),
            stop_rx.clone(),
        ));
    }
    background.push(tokio::spawn(housekeeping(core.clone(), stop_rx.clone())));
    background.push(tokio::spawn(metrics_upkeep(stop_rx.clone())));
    // Registered before the first request, so no revocation can miss it.
    let node_name = format!("{} pid {} ({base_url})", hostname(), std::process::id());
    let node =
        lightbox_core::revocation::start(&core, &storage.database_url, &node_name, stop_rx.clone())
            .await
            .map_err(|e| Failure(format!("cannot register this node: {}", e.message)))?;
    background.push(node);

    let api = ApiSettings {
        trusted_proxies: settings.trusted_proxies.clone(),
        max_body_bytes: settings.max_request_bytes,
        public_url: base_url.clone(),
        blobs: Some(blobs.clone()),
        readyz_detail: settings.readyz_detail,
        serve_api: matches!(settings.role, Role::All | Role::Api),
        serve_processor: matches!(settings.role, Role::All | Role::Processor),
        serve_media: matches!(settings.role, Role::All | Role::Media),
    };
    let serve_console = api.serve_api;
    let serves_processor = api.serve_processor;
    // Where tickets send files (the public URL unless --processor-url).
    let processor_origin = settings
        .processor_url
        .as_deref()
        .unwrap_or(&base_url)
        .to_owned();
    let mut app = lightbox_api::app(core.clone(), api).map_err(Failure)?;
    if serve_console {
        // The admin console lives beside the API (same sign-in rules).
        let media_origin = settings.media_url.as_deref().and_then(origin_of);
        app = app.merge(
            lightbox_web::router(
                core.clone(),
                lightbox_web::WebSettings {
                    trusted_proxies: settings.trusted_proxies.clone(),
                    secure_cookies: base_url.starts_with("https://"),
                    media_origin,
                    processor_origin: origin_of(&processor_origin),
                    serves_processor,
                },
            )
            // Request ids and per-route metrics, as on the API.
            .layer(axum::middleware::from_fn(lightbox_api::middleware::observe)),
        );
        // Websites: under /w/<slug>/, and at the host names the operator
        // allows (checked before any other route).
        let sites = lightbox_web::site::Sites::new(
            core.clone(),
            settings.trusted_proxies.clone(),
            base_url.starts_with("https://"),
        );
        app = app
            .merge(
                lightbox_web::site::router(sites.clone())
                    .layer(axum::middleware::from_fn(lightbox_api::middleware::observe)),
            )
            .layer(axum::middleware::from_fn_with_state(
                sites,
                lightbox_web::site::at_own_host,
            ));
    }
    if let Some(clock) = debug_clock {
        tracing::warn!(
            "--debug-clock: the clock stands still and POST /_debug/clock moves it (tests only)"
        );
        app = app.merge(debug_clock_routes(clock));
    }
    tracing::info!(%addr, engine = core.engine().name(), blobs = blobs.describe(), role = ?settings.role, "Lightbox listening on {base_url}");

    let mut stop_signal = stop_rx.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop_signal.changed().await;
    });
    let server = tokio::spawn(async move { server.await });

    shutdown_signal().await;
    tracing::info!("stopping: no new requests or jobs; finishing in-flight work (at most 10 s)");
    let _ = stop_tx.send(true);
    // In-flight requests and jobs get a bounded grace period; a job cut off
    // here is taken back by the next worker once its lease lapses.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = server.await;
        for handle in background {
            let _ = handle.await;
        }
    })
    .await;
    if let Err(e) = core.auth.flush_last_used().await {
        tracing::warn!(error = %e, "could not write last-used times");
    }
    core.close().await;
    Ok(())
}

/// `scheme://host[:port]` of a URL (for the console's Content-Security-Policy).
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

/// Writes last-use times every 10 s; once an hour, core's housekeeping
/// (expired keys and tickets, interrupted uploads, uncollected blobs, ended
/// sessions), each part logged.
async fn housekeeping(core: Core, mut stop: watch::Receiver<bool>) {
    let every = core.auth.settings().last_used_flush;
    let mut ticks: u64 = 0;
    while !*stop.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = core.auth.flush_last_used().await {
            tracing::warn!(error = %e, "could not write last-used times");
        }
        ticks += 1;
        if ticks % 360 == 1 {
            log_housekeeping(lightbox_core::housekeeping::hourly(&core).await);
        }
    }
}

fn log_housekeeping(report: lightbox_core::housekeeping::Report) {
    fn log(part: lightbox_core::housekeeping::Part, done: &str, failed: &str) {
        match part {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "{done}"),
            Err(cause) => tracing::warn!(error = %cause, "{failed}"),
        }
    }
    log(
        report.idempotency_keys,
        "forgot expired idempotency keys",
        "idempotency purge",
    );
    log(
        report.interrupted_uploads,
        "swept interrupted uploads",
        "blob sweep",
    );
    log(
        report.upload_tickets,
        "purged used upload tickets",
        "upload ticket purge",
    );
    log(
        report.garbage_blobs,
        "collected unreferenced blobs",
        "blob collection",
    );
    log(
        report.session_rows,
        "purged ended sessions, spent tokens and idle limits",
        "session purge",
    );
    log(
        report.webhook_events,
        "pruned sent webhook events past 30 days",
        "webhook event prune",
    );
}

/// Folds raw histogram samples into their buckets every 5 s. Without it the
/// samples pile up (≈ 20 bytes a request) until someone scrapes `/metrics`.
async fn metrics_upkeep(mut stop: watch::Receiver<bool>) {
    let handle = lightbox_api::metrics_handle();
    while !*stop.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
            _ = stop.changed() => return,
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned())
}

/// A line for scripts on stdout. A reader that went away (closed pipe) is
/// no reason for a server to stop, so write errors are ignored.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `GET /_debug/clock` → the server's now (Unix seconds);
/// `POST /_debug/clock?advance_secs=N` moves it forward. Mounted only with
/// the hidden `--debug-clock` flag (tests), and even then answers only
/// loopback peers and never moves time backwards.
fn debug_clock_routes(clock: Arc<ManualClock>) -> axum::Router {
    use axum::extract::{ConnectInfo, Query};
    use axum::http::StatusCode;
    use axum::routing::get;
    fn loopback(peer: &SocketAddr) -> bool {
        lightbox_core::auth::canonical_ip(peer.ip()).is_loopback()
    }
    let read = clock.clone();
    axum::Router::new().route(
        "/_debug/clock",
        get(move |ConnectInfo(peer): ConnectInfo<SocketAddr>| {
            let clock = read.clone();
            async move {
                if !loopback(&peer) {
                    return (StatusCode::FORBIDDEN, String::new());
                }
                (StatusCode::OK, (clock.now_micros() / 1_000_000).to_string())
            }
        })
        .post(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  Query(q): Query<std::collections::HashMap<String, i64>>| {
                let clock = clock.clone();
                async move {
                    let secs = q.get("advance_secs").copied().unwrap_or(0);
                    if !loopback(&peer) || !(0..=10 * 365 * 86_400).contains(&secs) {
                        return (StatusCode::FORBIDDEN, String::new());
                    }
                    clock.advance_secs(secs);
                    (StatusCode::OK, (clock.now_micros() / 1_000_000).to_string())
                }
            },
        ),
    )
}
