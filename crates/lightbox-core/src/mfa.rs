//! Two-factor sign-in (TOTP, RFC 6238) for a user: enrol, confirm, disable,
//! and the recovery codes.
//!
//! Enrolment is two steps so a user is never locked out by a secret their
//! authenticator did not take: `begin` (current password) stores a pending
//! secret and shows it; `confirm` (a code from the authenticator) switches
//! two-factor on, shows ten single-use recovery codes once, and ends the
//! user's other sessions. `disable` needs the current password and also
//! ends the other sessions. While two-factor is on, replacing (`begin`) or
//! disabling it also needs a current code or an unused recovery code.
//! Operators can switch it on in one step (`lightbox user mfa enable`).

use lightbox_store::Timestamp;
use std::net::IpAddr;

use lightbox_auth::{recovery, totp};
use lightbox_store::sessions as session_store;
use lightbox_store::users::{self as user_store, UserRow};
use serde::Serialize;

use crate::error::CoreError;
use crate::{Core, secrets, sessions, users};

pub const ISSUER: &str = "Lightbox";
pub const RECOVERY_CODES: usize = 10;

// No `Debug`: it holds a secret that must never reach a log.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Base32, for typing into an authenticator.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// For a QR code.
    #[schema(
        example = "otpauth://totp/Lightbox:jane%40example.com?secret=…&issuer=Lightbox&algorithm=SHA1&digits=6&period=30"
    )]
    pub otpauth_uri: String,
}

// No `Debug`: it holds a secret that must never reach a log.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once; each can stand in for an
    /// authenticator code.
    pub recovery_codes: Vec<String>,
}

fn fresh_secret() -> Result<Vec<u8>, CoreError> {
    totp::generate_secret().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        CoreError::internal()
    })
}

fn enrolment(login: &str, secret: &[u8]) -> Enrolment {
    Enrolment {
        secret: totp::base32(secret),
        otpauth_uri: totp::otpauth_uri(ISSUER, login, secret),
    }
}

async fn store_recovery_codes(
    core: &Core,
    conn: &mut lightbox_store::Conn,
    user_id: &str,
) -> Result<Vec<String>, CoreError> {
    let codes = recovery::generate_codes(RECOVERY_CODES).map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        CoreError::internal()
    })?;
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery::normalize(c))
        .map(|c| lightbox_auth::hash_token(&c))
        .collect();
    session_store::replace_recovery_codes(conn, user_id, &hashes, Timestamp(core.now())).await?;
    Ok(codes)
}

/// The enrolment awaiting its code, shown again (after a wrong code).
pub fn pending_enrolment(core: &Core, user: &UserRow) -> Option<Enrolment> {
    let stored = user.totp_pending_secret.as_deref()?;
    let secret = secrets::totp_secret(core, &user.id, stored).ok()?;
    Some(enrolment(&user.login, &secret))
}

/// With two-factor on, changing it takes the second factor too: a stolen
/// password and access token must not replace or remove it. A missing code
/// is refused before anything is counted.
fn code_due<'a>(user: &UserRow, code: Option<&'a str>) -> Result<Option<&'a str>, CoreError> {
    if user.totp_secret.is_none() {
        return Ok(None);
    }
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > 64 => Err(CoreError::validation(
            "code",
            "code must be at most 64 characters.",
        )),
        Some(c) => Ok(Some(c)),
        None => Err(CoreError::validation(
            "code",
            "Two-factor sign-in is on: give a current code from the authenticator or an unused recovery code.",
        )),
    }
}

/// Spends `code` (a TOTP step or a recovery code) inside the change's
/// transaction, so a refused change spends nothing.
async fn spend_code(
    core: &Core,
    conn: &mut lightbox_store::Conn,
    user: &UserRow,
    code: &str,
) -> Result<(), CoreError> {
    sessions::check_second_factor(core, conn, user, code, core.now())
        .await?
        .map_err(|_| CoreError::validation("code", "The code is wrong or was already used."))
}

/// Step 1: after the current password (and, to replace an active
/// authenticator, a current code or a recovery code), a pending secret to
/// scan.
pub async fn begin(
    core: &Core,
    ip: IpAddr,
    user_id: &str,
    password: &str,
    code: Option<&str>,
) -> Result<Enrolment, CoreError> {
    let user = users::find(core, user_id).await?;
    let code = code_due(&user, code)?;
    let attempt = users::check_password(core, ip, &user, password, "password").await?;
    let secret = fresh_secret()?;
    let mut tx = core.store.begin_write().await?;
    if let Some(code) = code {
        spend_code(core, &mut tx, &user, code).await?;
    }
    let sealed = core.secrets.seal(&user.id, &totp::base32(&secret))?;
    user_store::set_pending_totp(&mut tx, &user.id, &sealed, Timestamp(core.now())).await?;
    tx.commit().await?;
    crate::limits::settle(core, &attempt, "a two-factor change").await;
    Ok(enrolment(&user.login, &secret))
}

/// Step 2: a code from the authenticator switches two-factor on. Wrong
/// codes count against the sign-in limits (a stolen access token must not
/// buy unlimited guesses).
pub async fn confirm(
    core: &Core,
    ip: IpAddr,
    user_id: &str,
    keep_session: Option<&str>,
    code: &str,
) -> Result<RecoveryCodes, CoreError> {
    let user = users::find(core, user_id).await?;
    let stored = user
        .totp_pending_secret
        .as_deref()
        .ok_or_else(|| CoreError::validation("code", "Start two-factor enrolment first."))?;
    let pending = secrets::totp_secret(core, &user.id, stored)?;
    let limits = &core.sessions.settings.limits;
    let attempt = crate::limits::reserve(core, limits, ip, &user.login).await?;
    let now_secs = u64::try_from(core.now() / 1_000_000).unwrap_or(0);
    let step = totp::verify(&pending, code, now_secs, None).ok_or_else(|| {
        CoreError::validation(
            "code",
            "The code is wrong; check the authenticator's clock.",
        )
    })?;
    crate::limits::succeeded(core, limits, &attempt).await?;
    switch_on(core, &user.id, &pending, Some(step), keep_session).await
}

/// Two-factor on with `secret` (its `used_step` spent already), ten new
/// recovery codes, and every session of the user but `keep` ended — in one
/// transaction.
async fn switch_on(
    core: &Core,
    user_id: &str,
    secret: &[u8],
    used_step: Option<u64>,
    keep: Option<&str>,
) -> Result<RecoveryCodes, CoreError> {
    let sealed = core.secrets.seal(user_id, &totp::base32(secret))?;
    let mut tx = core.store.begin_write().await?;
    user_store::set_totp(&mut tx, user_id, Some(&sealed), None, Timestamp(core.now())).await?;
    if let Some(step) = used_step {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        user_store::accept_totp_step(&mut tx, user_id, step).await?;
    }
    let codes = store_recovery_codes(core, &mut tx, user_id).await?;
    sessions::end_user_sessions(core, &mut tx, user_id, keep, "mfa_changed").await?;
    tx.commit().await?;
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// Two-factor off, recovery codes gone, every session but `keep` ended.
async fn switch_off(
    conn: &mut lightbox_store::Conn,
    core: &Core,
    user_id: &str,
    keep: Option<&str>,
) -> Result<(), CoreError> {
    user_store::set_totp(conn, user_id, None, None, Timestamp(core.now())).await?;
    session_store::replace_recovery_codes(conn, user_id, &[], Timestamp(core.now())).await?;
    sessions::end_user_sessions(core, conn, user_id, keep, "mfa_changed").await?;
    Ok(())
}

/// Switches two-factor off (current password and a current code or an
/// unused recovery code required); other sessions end.
pub async fn disable(
    core: &Core,
    ip: IpAddr,
    user_id: &str,
    keep_session: Option<&str>,
    password: &str,
    code: Option<&str>,
) -> Result<(), CoreError> {
    let user = users::find(core, user_id).await?;
    let code = code_due(&user, code)?;
    let attempt = users::check_password(core, ip, &user, password, "password").await?;
    let mut tx = core.store.begin_write().await?;
    if let Some(code) = code {
        spend_code(core, &mut tx, &user, code).await?;
    }
    switch_off(&mut tx, core, &user.id, keep_session).await?;
    tx.commit().await?;
    crate::limits::settle(core, &attempt, "a two-factor change").await;
    Ok(())
}

/// The operator's one step (CLI): two-factor on now, with a new secret and
/// new recovery codes; every session of the user ends.
pub async fn enable_by_operator(
    core: &Core,
    user: &str,
) -> Result<(Enrolment, RecoveryCodes), CoreError> {
    let user = users::find(core, user).await?;
    let secret = fresh_secret()?;
    let codes = switch_on(core, &user.id, &secret, None, None).await?;
    Ok((enrolment(&user.login, &secret), codes))
}

/// Switches two-factor off as an operator (a user who lost everything).
pub async fn disable_by_operator(core: &Core, user: &str) -> Result<(), CoreError> {
    let user = users::find(core, user).await?;
    let mut tx = core.store.begin_write().await?;
    switch_off(&mut tx, core, &user.id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// The TOTP time step `code` proves for a sealed secret, when it is right
/// for now (±1 step) and later than the last step used; not yet spent (the
/// caller records the step where the owner's row lives). Users' and press
/// members' codes alike.
pub(crate) fn verified_step(
    core: &Core,
    owner: &str,
    sealed_secret: &str,
    last_step: Option<i64>,
    code: &str,
    now: i64,
) -> Result<Option<i64>, CoreError> {
    let secret = crate::secrets::totp_secret(core, owner, sealed_secret)?;
    let now_secs = u64::try_from(now.div_euclid(1_000_000)).unwrap_or(0);
    let last = last_step.and_then(|s| u64::try_from(s).ok());
    Ok(totp::verify(&secret, code, now_secs, last)
        .map(|step| i64::try_from(step).unwrap_or(i64::MAX)))
}
