//! Lightbox's domain: the types (ids, scopes, operations, sets) and the
//! use-cases that the API, the command line and the web console all call.
//!
//! No HTTP and no SQL live here. A use-case checks its input, asks
//! `lightbox-store` for rows inside one transaction, and returns domain
//! values or a [`CoreError`] whose `code` is the wire error code.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod archives;
pub mod auth;
pub mod clock;
pub mod console;
pub mod downloads;
pub mod edits;
pub mod error;
pub mod facets;
pub mod housekeeping;
pub mod ids;
pub mod image_filters;
pub mod images;
pub mod jobs;
pub mod keywords;
pub mod limits;
pub mod media;
pub mod metadata_profiles;
pub mod mfa;
pub mod multipart_budget;
pub mod operations;
pub mod passwords;
pub mod press;
pub mod revocation;
pub mod scope;
pub mod search;
pub mod secrets;
pub mod server_keys;
pub mod sessions;
pub mod set_arrangement;
pub mod sets;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod validate;
pub mod versions;
pub mod webhooks;
pub mod website_pages;
pub mod websites;
pub mod writes;

use std::sync::Arc;

/// A page read as `limit + 1` rows: the first `limit`, and whether more follow.
pub(crate) fn cut_page<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}

pub use clock::{Clock, SystemClock};
pub use error::{CoreError, ErrorKind};
pub use lightbox_store::{Engine, Store};
pub use scope::Scope;

/// Everything a use-case needs, cheap to clone.
#[derive(Clone)]
pub struct Core {
    /// Private: every read and write goes through a use-case of this crate.
    pub(crate) store: Store,
    pub clock: Arc<dyn Clock>,
    pub auth: Arc<auth::Authenticator>,
    pub sessions: Arc<sessions::SessionService>,
    /// Blob store and media settings; images need them.
    pub media: Option<Arc<media::MediaSettings>>,
    /// This node's search index (API nodes).
    pub search: Option<Arc<search::SearchService>>,
    /// The key file sealing TOTP secrets (a random in-memory key until
    /// `with_secret_keys`).
    pub secrets: Arc<secrets::SecretKeys>,
    /// The server's public base URL, no trailing `/` (websites' addresses).
    pub public_url: Arc<str>,
    /// The host names websites may be served at (operator's allow-list).
    pub website_hosts: Arc<websites::WebsiteHosts>,
    /// Writes this node has committed (what a cache of pages built from the
    /// data compares to know it is out of date).
    pub changes: Arc<std::sync::atomic::AtomicU64>,
    /// How this node sends webhooks (none: it records events, others send).
    pub webhooks: Arc<webhooks::WebhookSettings>,
}

impl Core {
    pub fn new(store: Store, clock: Arc<dyn Clock>, auth_settings: auth::AuthSettings) -> Self {
        let sessions = Arc::new(sessions::SessionService::new(
            auth_settings.sessions.clone(),
        ));
        let auth = Arc::new(auth::Authenticator::new(
            store.clone(),
            clock.clone(),
            auth_settings,
        ));
        Self {
            store,
            clock,
            auth,
            sessions,
            media: None,
            search: None,
            secrets: Arc::new(secrets::SecretKeys::in_memory()),
            public_url: Arc::from("http://127.0.0.1:8080"),
            website_hosts: Arc::default(),
            changes: Arc::default(),
            webhooks: Arc::default(),
        }
    }

    /// The server's public base URL (the binary's `--public-url`).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// Notes a committed write that changes what pages show (pages built
    /// before it are out of date). Writes through [`writes`] note
    /// themselves.
    pub(crate) fn note_change(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Sends webhooks with these settings (the binary's transport).
    pub fn with_webhooks(mut self, settings: webhooks::WebhookSettings) -> Self {
        self.webhooks = Arc::new(settings);
        self
    }

    /// Serves websites at these host names (the binary's `--website-host`).
    pub fn with_website_hosts(mut self, hosts: websites::WebsiteHosts) -> Self {
        self.website_hosts = Arc::new(hosts);
        self
    }

    /// Seals TOTP secrets with these keys (the binary's key file).
    pub fn with_secret_keys(mut self, keys: secrets::SecretKeys) -> Self {
        self.secrets = Arc::new(keys);
        self
    }

    /// Adds this node's search index (API nodes).
    pub fn with_search(mut self, search: Arc<search::SearchService>) -> Self {
        self.search = Some(search);
        self
    }

    /// The search index, caught up with every committed write.
    pub async fn synced_search(&self) -> Result<&search::SearchService, CoreError> {
        let search = self.search.as_deref().ok_or_else(|| {
            CoreError::new(
                ErrorKind::Internal,
                "This server has no search index (it does not serve the API).",
            )
        })?;
        search.sync(self).await?;
        Ok(search)
    }

    /// Adds the blob store and media settings (the server does; tools that
    /// only touch accounts and tokens need not).
    pub fn with_media(mut self, media: media::MediaSettings) -> Self {
        self.media = Some(Arc::new(media));
        self
    }

    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// The database engine this core runs on.
    pub fn engine(&self) -> Engine {
        self.store.engine()
    }

    /// Whether the database answers; the error names its address and the
    /// cause (for `/readyz` and the log).
    pub async fn database_ready(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| e.to_string())
    }

    /// Closes the database's connections (at shutdown).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
