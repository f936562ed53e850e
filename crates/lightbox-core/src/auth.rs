//! Authenticating a presented credential, cheaply.
//!
//! Cost per request: the checksum (pure), one SHA-256, one cache hit and
//! one atomic load. The cache holds a token's row (and its account's
//! switch) for at most `cache_ttl`, and only while the auth epoch it was
//! read under is still this node's current one: every revocation-like
//! write moves the epoch, each node follows it (see [`crate::revocation`])
//! and the revoker waits until every live node has, so a revocation bites
//! on every node's next request whatever `cache_ttl` is. `cache_ttl = 0`
//! reads the database on every request.
//!
//! `last_used_at`/`last_used_ip` are collected in memory and written in one
//! batch every `last_used_flush` instead of a database write per request.

use lightbox_store::Timestamp;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use ipnet::IpNet;
use lightbox_auth::opaque::{OpaqueKind, OpaqueSecret};
use lightbox_auth::{ServiceTokenSecret, TokenFormatError, hashes_equal};
use lightbox_store::service_tokens::{self, TokenWithAccount};
use lightbox_store::{Store, sessions};

use crate::accounts::AccountRef;
use crate::clock::Clock;
use crate::error::{CoreError, ErrorKind};
use crate::scope::{Access, Scope};
use crate::sessions::UserRef;
use crate::tokens::ServiceTokenView;
use crate::users::Role;

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a service token's row is trusted from memory.
    pub cache_ttl: Duration,
    pub last_used_flush: Duration,
    /// Signed-in users: lifetimes, limits, hashing.
    pub sessions: crate::sessions::SessionSettings,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_millis(100),
            last_used_flush: Duration::from_secs(10),
            sessions: crate::sessions::SessionSettings::default(),
        }
    }
}

/// A signed-in person's access token, as checked.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UserCredential {
    #[serde(flatten)]
    pub user: UserRef,
    pub role: Role,
}

/// The device session an access token was issued under.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionRef {
    pub uuid: String,
    #[schema(example = "Jane's iPhone")]
    pub name: String,
}

/// What kind of credential made the call.
#[derive(Debug, Clone)]
pub enum Credential {
    Service(ServiceTokenView),
    User {
        user: UserCredential,
        session: SessionRef,
    },
}

/// The caller, once its credential checked out.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: AccountRef,
    pub api_enabled: bool,
    pub credential: Credential,
    pub allowed_ips: Vec<IpNet>,
    pub max_request_bytes: Option<u64>,
    /// A rendering of this principal made once and reused while it stays
    /// cached (the API keeps `/v1/me`'s body and ETag here).
    pub rendered: std::sync::OnceLock<(Vec<u8>, String)>,
}

impl Principal {
    /// What the credential may do: a service token's scopes; every scope
    /// for a signed-in member (its role limits *which* images it may change).
    pub fn scopes(&self) -> &[Scope] {
        match &self.credential {
            Credential::Service(token) => &token.scopes,
            Credential::User { .. } => &Scope::ALL,
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes().contains(&scope)
    }

    /// The service token, when one made the call.
    pub fn service_token(&self) -> Option<&ServiceTokenView> {
        match &self.credential {
            Credential::Service(t) => Some(t),
            Credential::User { .. } => None,
        }
    }

    /// The signed-in user and session, when a person's token made the call.
    pub fn user(&self) -> Option<(&UserCredential, &SessionRef)> {
        match &self.credential {
            Credential::User { user, session } => Some((user, session)),
            Credential::Service(_) => None,
        }
    }

    /// The role, for a person's token.
    pub fn role(&self) -> Option<Role> {
        self.user().map(|(u, _)| u.role)
    }

    /// True if `ip` may use this credential (an empty list allows any).
    pub fn ip_allowed(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.allowed_ips.is_empty() || self.allowed_ips.iter().any(|net| net.contains(&ip))
    }

    /// Checks a route's declared access; `Err` names the missing scope.
    pub fn check_access(&self, access: Access) -> Result<(), CoreError> {
        match access {
            Access::Public | Access::AnyCredential => Ok(()),
            Access::Scope(scope) if self.has_scope(scope) => Ok(()),
            Access::Scope(scope) => Err(CoreError::forbidden(format!(
                "This token lacks the scope {} that this call needs.",
                scope.as_str()
            ))
            .with_detail(scope.as_str())),
            Access::SignedIn if self.user().is_some() => Ok(()),
            Access::SignedIn => Err(CoreError::forbidden(
                "This call needs a signed-in user's access token, not a service token.",
            )
            .with_detail("user_token_required")),
            Access::AccountAdmin if self.role() == Some(Role::Admin) => Ok(()),
            Access::AccountAdmin => Err(CoreError::forbidden(
                "Only an account admin's access token can do this (not a service token, not the user role).",
            )
            .with_detail("admin_required")),
        }
    }

    /// Capability names for `/v1/me`: the scopes, plus what the role allows.
    pub fn capabilities(&self) -> Vec<String> {
        let mut caps: Vec<String> = self
            .scopes()
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        match self.role() {
            Some(Role::Admin) => caps.extend(
                ["manage.service_tokens", "manage.users", "manage.settings"].map(str::to_owned),
            ),
            Some(Role::User) => caps.push("own_images_only".to_owned()),
            None => {}
        }
        caps
    }
}

/// True when `ip` is one of the configured trusted proxies.
pub fn is_trusted_proxy(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = canonical_ip(ip);
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client's address: the socket peer, or — only when the peer is a
/// configured trusted proxy — the right-most `X-Forwarded-For` hop that is
/// not a trusted proxy (header values in order, each a comma list of raw
/// bytes). Hops left of it were written by the client and are never read.
/// That hop malformed (or every hop empty) is a `400`, never the proxy's own
/// address: falling back to it would let anyone in that a token allows for
/// the proxy's network.
pub fn client_ip<'a>(
    peer: IpAddr,
    x_forwarded_for: impl Iterator<Item = &'a [u8]>,
    trusted: &[IpNet],
) -> Result<IpAddr, CoreError> {
    let is_trusted = |ip: &IpAddr| is_trusted_proxy(*ip, trusted);
    if !is_trusted(&peer) {
        return Ok(peer);
    }
    let values: Vec<&[u8]> = x_forwarded_for.collect();
    let mut client = peer;
    for hop in values.iter().rev().flat_map(|v| v.rsplit(|b| *b == b',')) {
        client = forwarded_hop(hop).ok_or_else(|| {
            CoreError::validation(
                "X-Forwarded-For",
                "X-Forwarded-For must list IP addresses; the client's entry is not one.",
            )
        })?;
        if !is_trusted(&client) {
            break;
        }
    }
    Ok(client)
}

/// One `X-Forwarded-For` entry: an address, optionally with a port
/// (`203.0.113.9:5555`, `[2001:db8::1]:443`) as some proxies write it.
fn forwarded_hop(hop: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(hop).ok()?.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// `::ffff:1.2.3.4` is the IPv4 address 1.2.3.4 for allow-list purposes.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// A checked token as the cache keeps it: the principal is built once per
/// read, not per request; revocation and expiry stay checkable per request.
struct Cached {
    principal: Arc<Principal>,
    account_id: String,
    token_hash: String,
    revoked: bool,
    expires_at: Option<i64>,
    fetched: Instant,
    /// The auth epoch this node was at before the row was read: the entry
    /// is void once the epoch moves, even if it was stored after the move.
    epoch: i64,
}

impl Cached {
    fn from_row(row: &TokenWithAccount, epoch: i64) -> Result<Self, CoreError> {
        Ok(Self {
            principal: Arc::new(principal_from_row(row)?),
            account_id: row.token.account_id.clone(),
            token_hash: row.token.token_hash.clone(),
            revoked: row.token.revoked_at.is_some(),
            expires_at: row.token.expires_at.map(Timestamp::micros),
            fetched: Instant::now(),
            epoch,
        })
    }
}

pub struct Authenticator {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
    cache: DashMap<String, Cached>,
    last_used: DashMap<String, (i64, IpAddr)>,
    /// The newest auth epoch this node has applied.
    epoch: AtomicI64,
    /// This process's id in `nodes`, once it registered as a serving node.
    node_id: OnceLock<String>,
    /// When (ms after `origin`) a registered node last read the epoch.
    confirmed_ms: AtomicU64,
    origin: Instant,
}

/// A registered node that could not read the epoch for this long (cut off
/// from the database, frozen) stops trusting its cache: a revocation it
/// missed cannot outlive the revoker's bounded wait.
const EPOCH_CONFIRMED_WITHIN_MS: u64 = 3000;

impl Authenticator {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: AuthSettings) -> Self {
        Self {
            store,
            clock,
            settings,
            cache: DashMap::new(),
            last_used: DashMap::new(),
            epoch: AtomicI64::new(0),
            node_id: OnceLock::new(),
            confirmed_ms: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks a bearer credential: format and checksum first (no I/O), then
    /// the stored hash, revocation and expiry.
    pub async fn authenticate(&self, presented: &str) -> Result<Arc<Principal>, CoreError> {
        if lightbox_auth::opaque::kind_of(presented) == Some(OpaqueKind::Access) {
            return self.authenticate_user(presented).await.map(Arc::new);
        }
        let secret = ServiceTokenSecret::parse(presented).map_err(|e| match e {
            TokenFormatError::Malformed => {
                CoreError::unauthorized("The bearer token is not a valid Lightbox token.")
            }
            TokenFormatError::BadChecksum => CoreError::unauthorized(
                "The bearer token's checksum does not match; it was mistyped or altered.",
            ),
        })?;
        let hash = secret.hash();
        let unknown = || CoreError::unauthorized("Unknown token.");
        let now = self.clock.now_micros();
        let check = |c: &Cached| -> Result<Arc<Principal>, CoreError> {
            if !hashes_equal(&c.token_hash, &hash) {
                return Err(unknown());
            }
            if c.revoked {
                return Err(CoreError::unauthorized("This token has been revoked."));
            }
            if c.expires_at.is_some_and(|exp| now >= exp) {
                return Err(CoreError::unauthorized("This token has expired."));
            }
            Ok(c.principal.clone())
        };
        let epoch = self.epoch.load(Ordering::Acquire);
        if let Some(entry) = self.cache.get(&hash)
            && entry.epoch == epoch
            && entry.fetched.elapsed() < self.settings.cache_ttl
            && self.epoch_confirmed()
        {
            return check(&entry);
        }
        let row = {
            let mut conn = self.store.read().await?;
            service_tokens::find_by_hash(&mut conn, &hash)
                .await?
                .ok_or_else(unknown)?
        };
        let cached = Cached::from_row(&row, epoch)?;
        let result = check(&cached);
        if !self.settings.cache_ttl.is_zero() {
            self.cache.insert(hash.clone(), cached);
        }
        result
    }

    /// A person's access token, checked against its device session, user,
    /// membership and account on every request (never cached), so a
    /// sign-out, a reuse revocation or a disabled user bites at once on
    /// every node.
    async fn authenticate_user(&self, presented: &str) -> Result<Principal, CoreError> {
        let secret = OpaqueSecret::parse(OpaqueKind::Access, presented).map_err(|_| {
            CoreError::unauthorized("The bearer token is not a valid Lightbox token.")
        })?;
        let grant = {
            let mut conn = self.store.read().await?;
            sessions::find_access_grant(&mut conn, &secret.hash())
                .await?
                .ok_or_else(|| CoreError::unauthorized("Unknown token."))?
        };
        let now = self.clock.now_micros();
        if grant.session_revoked_at.is_some() || grant.session_expires_at <= Timestamp(now) {
            return Err(CoreError::unauthorized(
                "This device session has ended; sign in again.",
            ));
        }
        if grant.token_expires_at <= Timestamp(now) {
            return Err(CoreError::unauthorized(
                "This access token has expired; refresh it.",
            ));
        }
        if grant.user_disabled {
            return Err(CoreError::unauthorized("This user is disabled."));
        }
        let role = grant.role.as_deref().and_then(Role::parse).ok_or_else(|| {
            CoreError::unauthorized("You are no longer a member of this account.")
        })?;
        Ok(Principal {
            account: AccountRef {
                uuid: grant.account_id,
                name: grant.account_name,
                unique_id: grant.account_unique_id,
            },
            api_enabled: grant.account_api_enabled,
            credential: Credential::User {
                user: UserCredential {
                    user: UserRef {
                        uuid: grant.user_id,
                        name: grant.user_name,
                        login: grant.user_login,
                    },
                    role,
                },
                session: SessionRef {
                    uuid: grant.session_id,
                    name: grant.session_name,
                },
            },
            allowed_ips: Vec::new(),
            max_request_bytes: None,
            rendered: std::sync::OnceLock::new(),
        })
    }

    /// The newest auth epoch this node has applied.
    pub fn epoch(&self) -> i64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Applies a newer auth epoch: every cached principal read before it is
    /// void from now on. Returns false when `epoch` is not newer.
    pub fn advance_epoch(&self, epoch: i64) -> bool {
        if self.epoch.fetch_max(epoch, Ordering::AcqRel) >= epoch {
            return false;
        }
        // Void already (older epoch); dropped to free the memory.
        self.cache.retain(|_, cached| cached.epoch >= epoch);
        true
    }

    /// A registered node read the epoch from the database just now.
    pub fn confirm_epoch(&self, epoch: i64) {
        self.advance_epoch(epoch);
        self.confirmed_ms
            .store(self.ms_since_origin(), Ordering::Release);
    }

    /// True unless this is a registered node that lost track of the epoch.
    fn epoch_confirmed(&self) -> bool {
        self.node_id.get().is_none()
            || self
                .ms_since_origin()
                .saturating_sub(self.confirmed_ms.load(Ordering::Acquire))
                <= EPOCH_CONFIRMED_WITHIN_MS
    }

    fn ms_since_origin(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// This process's id among the serving nodes, once registered.
    pub fn node_id(&self) -> Option<&str> {
        self.node_id.get().map(String::as_str)
    }

    pub(crate) fn set_node_id(&self, id: String) {
        let _ = self.node_id.set(id);
    }

    /// Drops a token from the cache (after this process revoked it).
    pub fn forget(&self, token_hash: &str) {
        self.cache.remove(token_hash);
    }

    /// Drops every cached token of an account (after its switch changed).
    pub fn forget_account(&self, account_id: &str) {
        self.cache
            .retain(|_, cached| cached.account_id != account_id);
    }

    /// Notes a use; written to the database by [`Self::flush_last_used`].
    pub fn note_use(&self, token_id: &str, ip: IpAddr) {
        let use_ = (self.clock.now_micros(), canonical_ip(ip));
        // Update in place when present: no allocation on the hot path.
        match self.last_used.get_mut(token_id) {
            Some(mut entry) => *entry = use_,
            None => {
                self.last_used.insert(token_id.to_owned(), use_);
            }
        }
    }

    /// The in-memory last use of a token, if any since the last flush.
    pub fn pending_last_use(&self, token_id: &str) -> Option<(i64, String)> {
        self.last_used.get(token_id).map(|v| (v.0, v.1.to_string()))
    }

    /// Writes collected last-use times; returns how many tokens were written.
    pub async fn flush_last_used(&self) -> Result<usize, CoreError> {
        let pending: Vec<(String, (i64, IpAddr))> = self
            .last_used
            .iter()
            .map(|e| (e.key().clone(), *e.value()))
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.begin_write().await?;
        for (id, (at, ip)) in &pending {
            service_tokens::record_last_used(&mut tx, id, Timestamp(*at), &ip.to_string()).await?;
        }
        tx.commit().await?;
        for (id, (at, _)) in &pending {
            // Keep a newer use that arrived during the write.
            self.last_used.remove_if(id, |_, (t, _)| t == at);
        }
        Ok(pending.len())
    }
}

fn principal_from_row(row: &TokenWithAccount) -> Result<Principal, CoreError> {
    let token = ServiceTokenView::from_row(&row.token, None)?;
    let allowed_ips = token
        .allowed_ips
        .iter()
        .map(|s| s.parse::<IpNet>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CoreError::new(ErrorKind::Internal, "stored IP allow-list is invalid"))?;
    Ok(Principal {
        account: AccountRef {
            uuid: row.token.account_id.clone(),
            name: row.account_name.clone(),
            unique_id: row.account_unique_id.clone(),
        },
        api_enabled: row.account_api_enabled,
        max_request_bytes: token.max_request_bytes,
        allowed_ips,
        credential: Credential::Service(token),
        rendered: std::sync::OnceLock::new(),
    })
}
