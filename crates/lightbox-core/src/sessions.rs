//! Signing in people: password (and TOTP), device sessions, rotating
//! refresh tokens, 15-minute access tokens, sign-out.
//!
//! ```text
//! sign_in(login, password, device) ─┬─ two-factor on → mfa_token (5 min, single use, 5 tries)
//!                                    │                  complete_mfa(mfa_token, code) ─┐
//!                                    └─ otherwise ──────────────────────────────────────┴→ device session + refresh token #1
//! exchange(refresh #n, account) → access token (15 min) + refresh #n+1   (#n is spent)
//! exchange(spent #k)            → 401, and the whole device session ends (leak assumed)
//! ```
//! Refresh tokens are opaque 256-bit secrets, stored hashed. A successor is
//! derived from its predecessor with a server key (HMAC), so the optional
//! grace window can hand the *same* successor back to a client that re-sends
//! the immediately previous token, without any token stored in clear.

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use std::net::IpAddr;
use std::time::Duration;

use lightbox_auth::opaque::{self, OpaqueKind, OpaqueSecret};
use lightbox_auth::recovery;
use lightbox_store::Conn;
use lightbox_store::sessions::{self as store, DeviceSessionRow, MfaChallengeRow, RefreshTokenRow};
use lightbox_store::users::{self as user_store, UserRow};
use serde::{Deserialize, Serialize};

use crate::accounts::AccountRef;
use crate::clock::format_rfc3339;
use crate::error::{CoreError, ErrorKind};
use crate::limits::{self, LimitSettings};
use crate::passwords::{HashingSettings, PasswordHasher};
use crate::users::Role;
use crate::{Core, ids, validate};

const MICROS: i64 = 1_000_000;

#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub access_ttl: Duration,
    /// A refresh token's life from issue (idle limit of a session).
    pub refresh_ttl: Duration,
    /// A device session's absolute limit.
    pub session_max: Duration,
    /// Window in which the immediately previous refresh token, re-sent,
    /// gets the same successor back (0 = strict, as documented).
    pub refresh_grace: Duration,
    pub mfa_ttl: Duration,
    pub mfa_max_attempts: i64,
    pub limits: LimitSettings,
    pub hashing: HashingSettings,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            session_max: Duration::from_secs(90 * 24 * 3600),
            refresh_grace: Duration::ZERO,
            mfa_ttl: Duration::from_secs(300),
            mfa_max_attempts: 5,
            limits: LimitSettings::default(),
            hashing: HashingSettings::default(),
        }
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A new link of a session's refresh chain: 30 days (`refresh_ttl`) from
/// issue, never past the session's absolute end.
fn refresh_link(
    settings: &SessionSettings,
    token: &OpaqueSecret,
    session: &DeviceSessionRow,
    generation: i64,
    now: i64,
) -> RefreshTokenRow {
    RefreshTokenRow {
        token_hash: token.hash(),
        session_id: session.id.clone(),
        generation,
        issued_at: Timestamp(now),
        expires_at: Timestamp(
            now.saturating_add(micros(settings.refresh_ttl))
                .min(session.expires_at.micros()),
        ),
        used_at: None,
    }
}

/// The sign-in machinery a [`Core`] carries.
pub struct SessionService {
    pub settings: SessionSettings,
    pub hasher: PasswordHasher,
    successor_key: tokio::sync::OnceCell<Vec<u8>>,
    /// Refusals this node has already decided, by limit key, until when
    /// (see `limits`): a flood is refused from memory, not the database.
    pub(crate) refusals: limits::Refusals,
}

impl SessionService {
    pub fn new(settings: SessionSettings) -> Self {
        Self {
            hasher: PasswordHasher::new(settings.hashing.clone()),
            settings,
            successor_key: tokio::sync::OnceCell::new(),
            refusals: limits::Refusals::default(),
        }
    }
}

/// The device a person signs in on, as the app describes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Shown in the session list, e.g. "Jane's iPhone". 1–100 characters.
    #[schema(example = "Jane's iPhone")]
    pub name: String,
    /// e.g. `ios`, `android`, `web`, `macos`, `windows`, `linux`, `cli`. 1–32 characters.
    #[schema(example = "ios")]
    pub platform: String,
    /// 0–32 characters.
    #[schema(example = "3.2.0", max_length = 32)]
    #[serde(default)]
    pub app_version: String,
    /// A stable id the app chooses; signing in again with it replaces that
    /// device's previous session. 1–200 characters.
    #[serde(default)]
    pub device_id: Option<String>,
}

impl DeviceInfo {
    fn validated(self) -> Result<Self, CoreError> {
        Ok(Self {
            name: validate::required_text("device.name", &self.name, 100)?,
            platform: validate::required_text("device.platform", &self.platform, 32)?,
            app_version: validate::optional_text(
                "device.app_version",
                self.app_version.trim(),
                32,
            )?,
            device_id: self
                .device_id
                .map(|d| validate::required_text("device.device_id", &d, 200))
                .transpose()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub uuid: String,
    #[schema(example = "Jane")]
    pub name: String,
    #[schema(example = "jane@example.com")]
    pub login: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountWithRole {
    pub uuid: String,
    pub name: String,
    pub unique_id: String,
    pub role: Role,
}

/// A finished sign-in: the device session and its first refresh token.
// No `Debug`: it holds a secret that must never reach a log.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// Always `false` here.
    pub mfa_required: bool,
    #[schema(example = "dpg_rt_…")]
    pub refresh_token: String,
    pub device_session_uuid: String,
    pub user: UserRef,
    /// The accounts the user can work on.
    pub accounts: Vec<AccountWithRole>,
}

/// A password accepted, a second factor awaited.
// No `Debug`: it holds a secret that must never reach a log.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct MfaRequired {
    /// Always `true` here.
    pub mfa_required: bool,
    #[schema(example = "dpg_mfa_…")]
    pub mfa_token: String,
    /// Seconds the `mfa_token` stays valid.
    #[schema(example = 300)]
    pub expires_in: u64,
}

// No `Debug`: it holds a secret that must never reach a log.
#[derive(Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SignInOutcome {
    MfaRequired(MfaRequired),
    SignedIn(SignedIn),
}

/// `POST /v1/auth/token`'s answer.
// No `Debug`: it holds a secret that must never reach a log.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct TokenGrant {
    #[schema(example = "dpg_at_…")]
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    #[schema(example = 900)]
    pub expires_in: u64,
    pub expires_at: String,
    /// The next refresh token; the one just sent is spent.
    #[schema(example = "dpg_rt_…")]
    pub refresh_token: String,
    pub account: AccountRef,
}

/// A device session as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub uuid: String,
    pub name: String,
    pub platform: String,
    pub app_version: String,
    pub device_id: Option<String>,
    pub created_at: String,
    /// Sign-in or the last token refresh.
    pub last_used_at: String,
    pub last_ip: Option<String>,
    /// The absolute end of the session.
    pub expires_at: String,
    /// True for the session of the token making the call.
    pub current: bool,
}

fn wrong_credentials() -> CoreError {
    CoreError::unauthorized("The login or password is wrong.")
}

fn random_failure(e: impl std::fmt::Display) -> CoreError {
    tracing::error!(error = %e, "no randomness");
    CoreError::internal()
}

fn user_ref(user: &UserRow) -> UserRef {
    UserRef {
        uuid: user.id.clone(),
        name: user.name.clone(),
        login: user.login.clone(),
    }
}

/// Step 1: login and password.
pub async fn sign_in(
    core: &Core,
    ip: IpAddr,
    login: &str,
    password: &str,
    device: DeviceInfo,
) -> Result<SignInOutcome, CoreError> {
    let login = validate::required_text("login", login, 320)?.to_lowercase();
    if password.is_empty() || password.chars().count() > 1024 {
        return Err(CoreError::validation(
            "password",
            "password must be 1-1024 characters.",
        ));
    }
    let device = device.validated()?;
    let service = &core.sessions;
    let limits_settings = &service.settings.limits;
    let attempt = limits::reserve(core, limits_settings, ip, &login).await?;
    let user = {
        let mut conn = core.store.read().await?;
        user_store::find_by_login(&mut conn, &login).await?
    };
    // A disabled user, or one without a password, answers like an unknown
    // login after the same work.
    let stored = user
        .as_ref()
        .filter(|u| !u.disabled)
        .and_then(|u| u.password_hash.clone());
    let verdict = service.hasher.verify(password, stored.as_deref()).await;
    let (Some(user), Some(stored)) = (user, stored) else {
        return match verdict {
            Err(e) => undone(core, limits_settings, &attempt, e).await,
            Ok(_) => Err(wrong_credentials()),
        };
    };
    match verdict {
        Err(e) => return undone(core, limits_settings, &attempt, e).await,
        Ok(false) => return Err(wrong_credentials()),
        Ok(true) => {}
    }
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    // Under the user's row lock: the password just checked is still the
    // password, and the user still enabled (a change racing this sign-in
    // either sees the new session and ends it, or makes this one fail).
    if !user_store::lock_if_unchanged(&mut tx, &user.id, &stored).await? {
        return Err(wrong_credentials());
    }
    let outcome = if user.totp_secret.is_some() {
        let secret = OpaqueSecret::generate(OpaqueKind::Mfa).map_err(random_failure)?;
        let row = MfaChallengeRow {
            token_hash: secret.hash(),
            user_id: user.id.clone(),
            device: JsonText(serde_json::to_string(&device).map_err(|_| CoreError::internal())?),
            attempts: 0,
            expires_at: Timestamp(now + micros(service.settings.mfa_ttl)),
            used_at: None,
            created_at: Timestamp(now),
        };
        store::insert_challenge(&mut tx, &row).await?;
        SignInOutcome::MfaRequired(MfaRequired {
            mfa_required: true,
            mfa_token: secret.as_str().to_owned(),
            expires_in: service.settings.mfa_ttl.as_secs(),
        })
    } else {
        SignInOutcome::SignedIn(open_session(core, &mut tx, &user, &device, ip).await?)
    };
    tx.commit().await?;
    // Settled after the commit; a failure here must not fail a sign-in
    // that already happened.
    let settled = match outcome {
        // A known password does not buy fresh code guesses: the login's
        // count stands until the second factor is right.
        SignInOutcome::MfaRequired(_) => limits::refund_ip(core, limits_settings, &attempt).await,
        SignInOutcome::SignedIn(_) => limits::succeeded(core, limits_settings, &attempt).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "could not settle a sign-in's rate-limit counters");
    }
    if service.hasher.needs_rehash(&stored) {
        rehash(core, &user.id, &stored, password).await;
    }
    Ok(outcome)
}

/// The attempt was never judged (hashing was saturated): uncount it and
/// pass the refusal on.
async fn undone<T>(
    core: &Core,
    settings: &LimitSettings,
    attempt: &limits::Attempt,
    e: CoreError,
) -> Result<T, CoreError> {
    limits::undo(core, settings, attempt).await?;
    Err(e)
}

/// Upgrades a stored hash to today's parameters, unless the password
/// changed meanwhile. Best effort: the sign-in has succeeded either way.
async fn rehash(core: &Core, user_id: &str, old: &str, password: &str) {
    let fresh = match core.sessions.hasher.hash(password).await {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::warn!(error = %e, "could not rehash a password");
            return;
        }
    };
    let done = async {
        let mut tx = core.store.begin_write().await?;
        user_store::rehash_password(&mut tx, user_id, old, &fresh).await?;
        tx.commit().await?;
        Ok::<(), lightbox_store::StoreError>(())
    };
    if let Err(e) = done.await {
        tracing::warn!(error = %e, "could not store a rehashed password");
    }
}

fn challenge_gone() -> CoreError {
    CoreError::unauthorized(
        "This sign-in step has expired, was used, or had too many wrong codes; sign in again.",
    )
}

/// Step 2 for users with two-factor on: the `mfa_token` and a current
/// authenticator code (or one of the user's recovery codes).
pub async fn complete_mfa(
    core: &Core,
    ip: IpAddr,
    mfa_token: &str,
    code: &str,
) -> Result<SignedIn, CoreError> {
    if code.chars().count() > 64 {
        return Err(CoreError::validation(
            "code",
            "code must be at most 64 characters.",
        ));
    }
    let secret = OpaqueSecret::parse(OpaqueKind::Mfa, mfa_token)
        .map_err(|_| CoreError::unauthorized("The mfa_token is not a valid Lightbox token."))?;
    let hash = secret.hash();
    let service = &core.sessions;
    let (challenge, user) = {
        let mut conn = core.store.read().await?;
        let challenge = live_challenge(
            store::find_challenge(&mut conn, &hash).await?,
            core.now(),
            service.settings.mfa_max_attempts,
        )?;
        let user = user_store::find(&mut conn, &challenge.user_id)
            .await?
            .ok_or_else(challenge_gone)?;
        (challenge, user)
    };
    let attempt = limits::reserve(core, &service.settings.limits, ip, &user.login).await?;
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    // Re-read under the lock: two codes sent at once are judged one by one.
    let challenge = live_challenge(
        store::lock_challenge(&mut tx, &challenge.token_hash).await?,
        now,
        service.settings.mfa_max_attempts,
    )?;
    let user = user_store::find(&mut tx, &user.id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(challenge_gone)?;
    let verdict = check_second_factor(core, &mut tx, &user, code, now).await?;
    if let Err(e) = verdict {
        store::count_challenge_failure(&mut tx, &challenge.token_hash).await?;
        tx.commit().await?;
        return Err(e);
    }
    if !store::use_challenge(&mut tx, &challenge.token_hash, Timestamp(now)).await? {
        return Err(challenge_gone());
    }
    let device: DeviceInfo =
        serde_json::from_str(challenge.device.as_str()).map_err(|_| CoreError::internal())?;
    let signed_in = open_session(core, &mut tx, &user, &device, ip).await?;
    tx.commit().await?;
    limits::settle(core, &attempt, "a sign-in").await;
    Ok(signed_in)
}

fn live_challenge(
    row: Option<MfaChallengeRow>,
    now: i64,
    max_attempts: i64,
) -> Result<MfaChallengeRow, CoreError> {
    row.filter(|c| {
        c.used_at.is_none() && c.expires_at > Timestamp(now) && c.attempts < max_attempts
    })
    .ok_or_else(challenge_gone)
}

/// A TOTP code (accepted once per step) or an unused recovery code.
/// The outer `Err` is a database failure; the inner one a wrong code.
pub(crate) async fn check_second_factor(
    core: &Core,
    conn: &mut Conn,
    user: &UserRow,
    code: &str,
    now: i64,
) -> Result<Result<(), CoreError>, CoreError> {
    let wrong = || CoreError::unauthorized("The code is wrong or was already used.");
    let Some(stored) = user.totp_secret.as_deref() else {
        return Ok(Err(wrong()));
    };
    let step = crate::mfa::verified_step(core, &user.id, stored, user.totp_last_step, code, now)?;
    if let Some(step) = step {
        return Ok(
            if user_store::accept_totp_step(conn, &user.id, step).await? {
                Ok(())
            } else {
                Err(wrong())
            },
        );
    }
    if let Some(normal) = recovery::normalize(code) {
        let hash = lightbox_auth::hash_token(&normal);
        if store::use_recovery_code(conn, &user.id, &hash, Timestamp(now)).await? {
            return Ok(Ok(()));
        }
    }
    Ok(Err(wrong()))
}

/// Creates the device session and its first refresh token.
async fn open_session(
    core: &Core,
    conn: &mut Conn,
    user: &UserRow,
    device: &DeviceInfo,
    ip: IpAddr,
) -> Result<SignedIn, CoreError> {
    let settings = &core.sessions.settings;
    let now = core.now();
    if let Some(device_id) = &device.device_id {
        store::revoke_device(conn, &user.id, device_id, Timestamp(now)).await?;
    }
    let session = DeviceSessionRow {
        id: ids::new_public_uuid(),
        user_id: user.id.clone(),
        name: device.name.clone(),
        platform: device.platform.clone(),
        app_version: device.app_version.clone(),
        device_id: device.device_id.clone(),
        created_at: Timestamp(now),
        last_used_at: Timestamp(now),
        last_ip: Some(crate::auth::canonical_ip(ip).to_string()),
        expires_at: Timestamp(now.saturating_add(micros(settings.session_max))),
        revoked_at: None,
        revoked_reason: None,
    };
    store::insert_session(conn, &session).await?;
    let refresh = OpaqueSecret::generate(OpaqueKind::Refresh).map_err(random_failure)?;
    store::insert_refresh(conn, &refresh_link(settings, &refresh, &session, 1, now)).await?;
    let accounts = user_store::memberships(conn, &user.id)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(AccountWithRole {
                role: Role::parse(&m.role)?,
                uuid: m.account_id,
                name: m.account_name,
                unique_id: m.account_unique_id,
            })
        })
        .collect();
    Ok(SignedIn {
        mfa_required: false,
        refresh_token: refresh.as_str().to_owned(),
        device_session_uuid: session.id,
        user: user_ref(user),
        accounts,
    })
}

async fn successor_key(core: &Core) -> Result<&[u8], CoreError> {
    crate::server_keys::get(core, &core.sessions.successor_key, "refresh_successor").await
}

/// True when `successor` is the session's newest, unspent refresh token:
/// the presented token is the immediately previous one.
async fn successor_is_newest(
    conn: &mut Conn,
    session_id: &str,
    successor: &OpaqueSecret,
) -> Result<bool, CoreError> {
    Ok(store::newest_refresh(conn, session_id)
        .await?
        .is_some_and(|n| {
            n.used_at.is_none() && lightbox_auth::hashes_equal(&n.token_hash, &successor.hash())
        }))
}

/// A spent refresh token came back: end the whole device session (its
/// chain and every access token issued under it) and refuse.
async fn reuse_detected<T>(
    mut tx: lightbox_store::Tx,
    session_id: &str,
    now: i64,
) -> Result<T, CoreError> {
    store::revoke_session(&mut tx, session_id, Timestamp(now), "refresh_token_reused").await?;
    tx.commit().await?;
    tracing::warn!(session = %session_id, "a spent refresh token was presented; session ended");
    Err(CoreError::unauthorized(
        "This refresh token was already used. The device session has been ended as a precaution; sign in again.",
    )
    .with_detail("refresh_token_reused"))
}

fn session_ended() -> CoreError {
    CoreError::unauthorized("This device session has ended; sign in again.")
}

/// `POST /v1/auth/token`: spends a refresh token for an access token to one
/// account and the next refresh token.
pub async fn exchange(
    core: &Core,
    ip: IpAddr,
    refresh_token: &str,
    account_uuid: &str,
) -> Result<TokenGrant, CoreError> {
    validate::uuid("account_uuid", account_uuid)?;
    let presented = OpaqueSecret::parse(OpaqueKind::Refresh, refresh_token).map_err(|_| {
        CoreError::unauthorized("The refresh_token is not a valid Lightbox refresh token.")
    })?;
    let hash = presented.hash();
    let settings = &core.sessions.settings;
    let grace = micros(settings.refresh_grace);
    // Only a grace window needs the server key (read before the write
    // transaction: making it on first use is a write of its own).
    let key = match grace {
        0 => None,
        _ => Some(successor_key(core).await?),
    };
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    let row = store::find_refresh(&mut tx, &hash)
        .await?
        .ok_or_else(|| CoreError::unauthorized("Unknown refresh token."))?;
    let session = store::find_session(&mut tx, &row.session_id)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > Timestamp(now))
        .ok_or_else(session_ended)?;
    let user = user_store::find(&mut tx, &session.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(session_ended)?;
    // The successor: derived from the token (so the grace window can hand
    // the same one back without storing it), or, with no window, random —
    // then even the database and an old token together do not give it.
    let successor = match key {
        Some(key) => opaque::derive_successor(key, &presented),
        None => OpaqueSecret::generate(OpaqueKind::Refresh).map_err(random_failure)?,
    };
    // A spent token is judged first, whatever account it asks for.
    let reissue = match row.used_at {
        None => false,
        Some(used) => {
            let in_grace = grace > 0
                && now - used.micros() <= grace
                && successor_is_newest(&mut tx, &session.id, &successor).await?;
            if !in_grace {
                return reuse_detected(tx, &session.id, now).await;
            }
            true
        }
    };
    if !reissue && row.expires_at <= Timestamp(now) {
        return Err(CoreError::unauthorized(
            "This refresh token has expired; sign in again.",
        ));
    }
    // Which account, checked before an unspent token is spent, so a wrong
    // account_uuid costs the client nothing.
    let membership = user_store::memberships(&mut tx, &user.id)
        .await?
        .into_iter()
        .find(|m| m.account_id == account_uuid)
        .ok_or_else(|| {
            CoreError::forbidden("You are not a member of that account.")
                .with_detail("not_a_member")
                .with_field("account_uuid")
        })?;
    if !membership.account_api_enabled {
        return Err(CoreError::new(
            ErrorKind::ApiNotEnabled,
            "API access is switched off for this account (Settings → API → Settings).",
        ));
    }
    if !reissue {
        if !store::spend_refresh(&mut tx, &hash, Timestamp(now)).await? {
            // Spent between our read and our write (PostgreSQL: a concurrent
            // refresh committed first): the same judgement as above.
            let in_grace =
                grace > 0 && successor_is_newest(&mut tx, &session.id, &successor).await?;
            if !in_grace {
                return reuse_detected(tx, &session.id, now).await;
            }
        } else {
            let link = refresh_link(settings, &successor, &session, row.generation + 1, now);
            store::insert_refresh(&mut tx, &link).await?;
        }
    }
    let access = OpaqueSecret::generate(OpaqueKind::Access).map_err(random_failure)?;
    let expires_at = now.saturating_add(micros(settings.access_ttl));
    store::insert_access(
        &mut tx,
        &store::AccessTokenRow {
            token_hash: access.hash(),
            session_id: session.id.clone(),
            account_id: membership.account_id.clone(),
            issued_at: Timestamp(now),
            expires_at: Timestamp(expires_at),
        },
    )
    .await?;
    let ip = crate::auth::canonical_ip(ip).to_string();
    store::touch_session(&mut tx, &session.id, Timestamp(now), Some(&ip)).await?;
    tx.commit().await?;
    Ok(TokenGrant {
        access_token: access.as_str().to_owned(),
        token_type: "Bearer".to_owned(),
        expires_in: settings.access_ttl.as_secs(),
        expires_at: format_rfc3339(expires_at),
        refresh_token: successor.as_str().to_owned(),
        account: AccountRef {
            uuid: membership.account_id,
            name: membership.account_name,
            unique_id: membership.account_unique_id,
        },
    })
}

/// Ends a device session (sign-out); its access tokens stop at once.
pub async fn end_session(
    core: &Core,
    user_id: &str,
    session_uuid: &str,
    reason: &str,
) -> Result<(), CoreError> {
    let not_found =
        || CoreError::new(ErrorKind::NotFound, "No such device session.").with_detail("session");
    if !ids::is_uuid(session_uuid) {
        return Err(not_found());
    }
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    let session = store::find_session(&mut tx, session_uuid)
        .await?
        .filter(|s| s.user_id == user_id && s.revoked_at.is_none() && s.expires_at > Timestamp(now))
        .ok_or_else(not_found)?;
    store::revoke_session(&mut tx, &session.id, Timestamp(now), reason).await?;
    tx.commit().await?;
    Ok(())
}

/// "Sign out everywhere else": ends every session of the user but `keep`.
pub async fn end_other_sessions(core: &Core, user_id: &str, keep: &str) -> Result<u64, CoreError> {
    let mut tx = core.store.begin_write().await?;
    let n = store::revoke_user_sessions(
        &mut tx,
        user_id,
        Some(keep),
        Timestamp(core.now()),
        "ended_by_user",
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Ends every session of a user (but `keep`); returns how many ended.
pub async fn end_user_sessions(
    core: &Core,
    conn: &mut Conn,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
) -> Result<u64, CoreError> {
    // Challenges first: on PostgreSQL this waits for an MFA step in flight,
    // whose new session the revocation below then sees.
    store::delete_user_challenges(conn, user_id).await?;
    Ok(store::revoke_user_sessions(conn, user_id, keep, Timestamp(core.now()), reason).await?)
}

pub async fn list_sessions(
    core: &Core,
    user_id: &str,
    current: &str,
) -> Result<Vec<SessionView>, CoreError> {
    let mut conn = core.store.read().await?;
    let rows = store::live_sessions(&mut conn, user_id, Timestamp(core.now())).await?;
    Ok(rows
        .into_iter()
        .map(|s| SessionView {
            current: s.id == current,
            uuid: s.id,
            name: s.name,
            platform: s.platform,
            app_version: s.app_version,
            device_id: s.device_id,
            created_at: format_rfc3339(s.created_at),
            last_used_at: format_rfc3339(s.last_used_at),
            last_ip: s.last_ip,
            expires_at: format_rfc3339(s.expires_at),
        })
        .collect())
}

/// Deletes what can no longer be used (expired access tokens and MFA
/// challenges; sessions ended more than 30 days ago, with their chains;
/// rate-limit counters idle for a day). Returns rows deleted.
pub async fn purge(core: &Core) -> Result<u64, CoreError> {
    const KEEP_ENDED: i64 = 30 * 24 * 3600 * MICROS;
    const LIMIT_IDLE: i64 = 24 * 3600 * MICROS;
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    let mut n = store::purge(&mut tx, Timestamp(now), KEEP_ENDED).await?;
    n += lightbox_store::rate_limits::purge(&mut tx, Timestamp(now), LIMIT_IDLE).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600 * MICROS;

    fn session(expires_at: i64) -> DeviceSessionRow {
        DeviceSessionRow {
            id: "6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa".to_owned(),
            user_id: "u".to_owned(),
            name: "Jane's iPhone".to_owned(),
            platform: "ios".to_owned(),
            app_version: String::new(),
            device_id: None,
            created_at: Timestamp(0),
            last_used_at: Timestamp(0),
            last_ip: None,
            expires_at: Timestamp(expires_at),
            revoked_at: None,
            revoked_reason: None,
        }
    }

    fn challenge(attempts: i64, expires_at: i64, used_at: Option<i64>) -> MfaChallengeRow {
        MfaChallengeRow {
            token_hash: "h".to_owned(),
            user_id: "u".to_owned(),
            device: JsonText("{}".to_owned()),
            attempts,
            expires_at: Timestamp(expires_at),
            used_at: used_at.map(Timestamp),
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn a_refresh_link_lives_thirty_days_but_never_past_its_session() {
        let settings = SessionSettings::default();
        let token =
            OpaqueSecret::generate(OpaqueKind::Refresh).unwrap_or_else(|e| panic!("random: {e}"));
        let now = 1_000 * DAY;
        let link = refresh_link(&settings, &token, &session(now + 90 * DAY), 7, now);
        assert_eq!(link.expires_at, Timestamp(now + 30 * DAY));
        assert_eq!(
            (link.generation, link.issued_at, link.used_at),
            (7, Timestamp(now), None)
        );
        // Stored hashed, never in clear.
        assert_eq!(link.token_hash, token.hash());
        assert_ne!(link.token_hash, token.as_str());
        // Ten days left in the session: the link ends with it.
        let link = refresh_link(&settings, &token, &session(now + 10 * DAY), 8, now);
        assert_eq!(link.expires_at, Timestamp(now + 10 * DAY));
        // An unbounded setting saturates instead of wrapping into the past.
        let forever = SessionSettings {
            refresh_ttl: Duration::MAX,
            ..SessionSettings::default()
        };
        let link = refresh_link(&forever, &token, &session(i64::MAX), 1, now);
        assert_eq!(link.expires_at, Timestamp(i64::MAX));
        assert_eq!(micros(Duration::MAX), i64::MAX);
    }

    #[test]
    fn a_second_factor_step_is_single_use_short_lived_and_counted() {
        let now = 1_000 * DAY;
        let max = SessionSettings::default().mfa_max_attempts;
        assert!(live_challenge(Some(challenge(0, now + 1, None)), now, max).is_ok());
        assert!(live_challenge(Some(challenge(max - 1, now + 1, None)), now, max).is_ok());
        for (why, row) in [
            ("unknown", None),
            ("used", Some(challenge(0, now + 1, Some(now - 1)))),
            ("expired at this instant", Some(challenge(0, now, None))),
            ("expired", Some(challenge(0, now - 1, None))),
            ("too many codes", Some(challenge(max, now + 1, None))),
        ] {
            match live_challenge(row, now, max) {
                Ok(_) => panic!("{why}: accepted"),
                Err(e) => assert_eq!(e.kind, ErrorKind::Unauthorized, "{why}"),
            }
        }
    }

    #[test]
    fn a_device_is_described_within_limits() {
        let device = |name: &str, platform: &str, app_version: &str, device_id: Option<&str>| {
            DeviceInfo {
                name: name.to_owned(),
                platform: platform.to_owned(),
                app_version: app_version.to_owned(),
                device_id: device_id.map(str::to_owned),
            }
            .validated()
        };
        let ok = device(" Jane's iPhone ", "ios", " 3.2.0 ", Some("abc"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                ok.name.as_str(),
                ok.app_version.as_str(),
                ok.device_id.as_deref()
            ),
            ("Jane's iPhone", "3.2.0", Some("abc"))
        );
        assert!(
            device("n", "cli", "", None).is_ok(),
            "the app version may be empty"
        );
        let long = "x".repeat(101);
        for (d, field) in [
            (device(" ", "ios", "", None), "device.name"),
            (device(&long, "ios", "", None), "device.name"),
            (device("n", "", "", None), "device.platform"),
            (device("n", &"p".repeat(33), "", None), "device.platform"),
            (
                device("n", "ios", &"9".repeat(33), None),
                "device.app_version",
            ),
            (device("n", "ios", "", Some("")), "device.device_id"),
            (device("n\u{0}", "ios", "", None), "device.name"),
        ] {
            match d {
                Ok(v) => panic!("{field}: accepted {v:?}"),
                Err(e) => assert_eq!(e.field.as_deref(), Some(field)),
            }
        }
    }
}
