//! Press websites (api.md §10): people register on a press website, an
//! admin approves (or refuses, or later revokes) them, and approved members
//! sign in on the website and download what its `downloads` setting allows,
//! each download written to the website's log.
//!
//! ```text
//! register(name, outlet, email, password) ─▶ pending ─┬─ approved ─▶ revoked ─▶ approved …
//!                                                    └─ refused ──▶ approved
//! sign_in(email, password[, TOTP code]) ─▶ approved? ─▶ press session (12 h, token hashed)
//! every request: token ─▶ session live ∧ member approved ∧ same website
//! download(image, version) ─▶ shown on the website now? ─▶ allowed version? ─▶ log row + signed link
//! ```
//! A press member is not an account member and holds no API credential: a
//! session opens only its own website's pages, and a revocation (or a
//! refusal) ends every session of the member in the same transaction, so
//! the member's next request is refused. Passwords follow the users' rules
//! and hashing; sign-ins the users' rate limits, under a login of their own
//! (`press:<website>:<email>`), so a press address never shares a counter
//! with an account user's login.

use std::net::IpAddr;
use std::time::Duration;

use lightbox_auth::opaque::{OpaqueKind, OpaqueSecret};
use lightbox_auth::totp;
use lightbox_store::Timestamp;
use lightbox_store::press::{self as store, PressMemberRow, WebsiteDownloadRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::clock::format_rfc3339;
use crate::downloads::{DownloadLink, VersionName};
use crate::error::{CoreError, ErrorKind};
use crate::operations::{Operation, OperationStatus};
use crate::users::Role;
use crate::website_pages::Site;
use crate::websites::Downloads;
use crate::writes::{self, Begun, WorkDone, WriteContext};
use crate::{Core, ids, limits, validate};

/// How long a press sign-in lasts.
pub const PRESS_SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
const NAME_MAX: usize = 200;
const EMAIL_MAX: usize = 254;
/// Domain separation of the press forms' CSRF token.
const CSRF_CONTEXT: &str = "lightbox press csrf v1\0";
/// Whose TOTP secret a sealed value is (never a user's id).
pub(crate) fn secret_owner(member_id: &str) -> String {
    format!("press:{member_id}")
}

/// Where a press member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PressStatus {
    Pending,
    Approved,
    Refused,
    Revoked,
}

impl PressStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Revoked => "revoked",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Refused, Self::Revoked]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A person registered on a press website, as admins see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PressMember {
    pub uuid: String,
    #[schema(example = "Ada Reporter")]
    pub name: String,
    #[schema(example = "The Daily Example")]
    pub outlet: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub status: PressStatus,
    /// Signs in with an authenticator code as well as the password.
    pub two_factor: bool,
    pub created_at: String,
    pub updated_at: String,
    /// When an admin last decided (approved, refused or revoked).
    pub decided_at: Option<String>,
}

impl PressMember {
    fn of(row: &PressMemberRow) -> Self {
        Self {
            uuid: row.id.clone(),
            name: row.name.clone(),
            outlet: row.outlet.clone(),
            email: row.email.clone(),
            status: PressStatus::parse(&row.status).unwrap_or(PressStatus::Pending),
            two_factor: row.totp_secret.is_some(),
            created_at: format_rfc3339(row.created_at.micros()),
            updated_at: format_rfc3339(row.updated_at.micros()),
            decided_at: row.decided_at.map(|t| format_rfc3339(t.micros())),
        }
    }
}

/// An admin's decision about a press member (`pending` is where
/// registrations start, never a decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PressDecision {
    Approved,
    Refused,
    Revoked,
}

impl PressDecision {
    pub fn status(self) -> PressStatus {
        match self {
            Self::Approved => PressStatus::Approved,
            Self::Refused => PressStatus::Refused,
            Self::Revoked => PressStatus::Revoked,
        }
    }
}

/// `PATCH /v1/websites/{id}/press_members/{uuid}` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PressMemberPatch {
    pub status: PressDecision,
}

/// One download a website handed out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebsiteDownload {
    pub uuid: String,
    /// The press member's uuid (kept after they are gone).
    pub press_member_uuid: Option<String>,
    #[schema(example = "Ada Reporter")]
    pub name: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub image_public_uuid: String,
    /// `large` or `original`.
    #[schema(example = "large")]
    pub version: String,
    /// The ZIP it was handed out in; `null` for a single download.
    pub archive_uuid: Option<String>,
    /// The client's address.
    #[schema(example = "203.0.113.7")]
    pub address: String,
    pub created_at: String,
}

impl WebsiteDownload {
    fn of(row: &WebsiteDownloadRow) -> Self {
        Self {
            uuid: row.id.clone(),
            press_member_uuid: row.member_id.clone(),
            name: row.member_name.clone(),
            email: row.member_email.clone(),
            image_public_uuid: row.image_id.clone(),
            version: row.version.clone(),
            archive_uuid: row.archive_id.clone(),
            address: row.address.clone(),
            created_at: format_rfc3339(row.created_at.micros()),
        }
    }
}

/// A registration form.
#[derive(Debug, Clone)]
pub struct Registration {
    pub name: String,
    pub outlet: String,
    pub email: String,
    pub password: String,
}

/// The approved member behind a press request.
#[derive(Debug, Clone)]
pub struct SignedMember {
    pub uuid: String,
    pub name: String,
    pub email: String,
    pub two_factor: bool,
    /// The token the forms of this sign-in carry.
    pub csrf: String,
    /// This sign-in (its token's hash), kept when the member's others end.
    session: String,
}

impl SignedMember {
    fn of(row: &PressMemberRow, token: &str) -> Self {
        Self {
            uuid: row.id.clone(),
            name: row.name.clone(),
            email: row.email.clone(),
            two_factor: row.totp_secret.is_some(),
            csrf: csrf_token(token),
            session: OpaqueSecret::parse(OpaqueKind::Press, token)
                .map(|s| s.hash())
                .unwrap_or_default(),
        }
    }

    pub fn csrf_matches(&self, sent: &str) -> bool {
        crate::console::sent_value_matches(&self.csrf, sent)
    }
}

/// The form token of a press session token.
fn csrf_token(token: &str) -> String {
    lightbox_auth::hash_token(&format!("{CSRF_CONTEXT}{token}"))
}

/// A lower-cased e-mail address: one `@`, something on each side, a dot
/// in the domain, no spaces or control characters.
fn check_email(value: &str) -> Result<String, CoreError> {
    let email = validate::required_text("email", value, EMAIL_MAX)?.to_lowercase();
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(|c| {
                    // Nothing that could carry a header or a second
                    // address into a `mailto:` link.
                    c.is_whitespace() || c.is_control() || "?&%#/\\<>\"'(),;:[]".contains(c)
                })
        }
        None => false,
    };
    if !ok {
        return Err(CoreError::validation(
            "email",
            "email must be an address like name@example.com.",
        ));
    }
    Ok(email)
}

fn press_only(site: &Site) -> Result<(), CoreError> {
    if site.website.website_type != crate::websites::WebsiteType::Press {
        return Err(CoreError::new(ErrorKind::NotFound, "Not found."));
    }
    Ok(())
}

fn login_key(site: &Site, email: &str) -> String {
    format!("press:{}:{email}", site.website.public_uuid)
}

/// Registers a person on a press website as `pending`. An address already
/// registered there answers the same (nothing changes, and the form does
/// not tell whether the address was known).
pub async fn register(
    core: &Core,
    site: &Site,
    ip: IpAddr,
    form: Registration,
) -> Result<(), CoreError> {
    press_only(site)?;
    let name = validate::required_text("name", &form.name, NAME_MAX)?;
    let outlet = validate::required_text("outlet", &form.outlet, NAME_MAX)?;
    let email = check_email(&form.email)?;
    if form.password.chars().count() > 256 {
        return Err(CoreError::validation(
            "password",
            "password must be at most 256 characters.",
        ));
    }
    // Every registration counts against the client address like a failed
    // sign-in, checked before any work (the strength check, the hash): a
    // flood is refused `429`, new addresses or not, and a known address
    // costs the same as a new one.
    let limits_settings = &core.sessions.settings.limits;
    limits::reserve(core, limits_settings, ip, &login_key(site, &email)).await?;
    let hasher = &core.sessions.hasher;
    hasher
        .check_rules(&form.password, &[&name, &email, &outlet], "password")
        .await?;
    let hash = hasher.hash(&form.password).await?;
    let now = Timestamp(core.now());
    let row = PressMemberRow {
        id: ids::new_public_uuid(),
        website_id: site.website.public_uuid.clone(),
        name,
        outlet,
        email,
        password_hash: hash,
        status: PressStatus::Pending.as_str().to_owned(),
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: now,
        updated_at: now,
        decided_at: None,
    };
    let mut tx = core.store.begin_write().await?;
    // False for an address already registered: the same answer.
    if store::insert_member(&mut tx, &row).await? {
        let event = crate::webhooks::events::NewEvent {
            event_type: "press_member.registered",
            subject: serde_json::json!({ "website_public_uuid": row.website_id, "uuid": row.id }),
        };
        let events =
            crate::webhooks::events::record(&mut tx, site.account_id(), vec![event], now.micros())
                .await?;
        tx.commit().await?;
        if events {
            core.webhooks.wake.notify_one();
        }
        return Ok(());
    }
    tx.commit().await?;
    Ok(())
}

/// A registration as `press_member.registered` tells it: the member as
/// admins list them, and its website (none when either went).
pub(crate) async fn registered_data(
    core: &Core,
    account_id: &str,
    subject: &serde_json::Value,
) -> Result<Option<serde_json::Value>, CoreError> {
    let field = |key: &str| subject.get(key).and_then(serde_json::Value::as_str);
    let (Some(website), Some(member)) = (field("website_public_uuid"), field("uuid")) else {
        return Ok(None);
    };
    let mut conn = core.store.read().await?;
    if lightbox_store::websites::find(&mut conn, account_id, website)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let Some(row) = store::find_member(&mut conn, website, member).await? else {
        return Ok(None);
    };
    let mut data =
        serde_json::to_value(PressMember::of(&row)).map_err(|_| CoreError::internal())?;
    if let Some(object) = data.as_object_mut() {
        object.insert("website_public_uuid".to_owned(), website.into());
    }
    Ok(Some(data))
}

fn wrong_credentials() -> CoreError {
    CoreError::unauthorized("The e-mail address or the password is wrong.")
}

/// A finished press sign-in: the cookie's token and whom it signs in.
pub struct PressSignIn {
    pub token: String,
    pub member: SignedMember,
}

/// Signs an approved member in with their password (and, when they turned
/// it on, a current authenticator code). A pending, refused or revoked
/// member is told so only after the right password.
pub async fn sign_in(
    core: &Core,
    site: &Site,
    ip: IpAddr,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> Result<PressSignIn, CoreError> {
    press_only(site)?;
    let email = validate::required_text("email", email, EMAIL_MAX)?.to_lowercase();
    if password.is_empty() || password.chars().count() > 1024 {
        return Err(CoreError::validation(
            "password",
            "password must be 1-1024 characters.",
        ));
    }
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    if code.is_some_and(|c| c.chars().count() > 64) {
        return Err(CoreError::validation(
            "code",
            "code must be at most 64 characters.",
        ));
    }
    let limits_settings = &core.sessions.settings.limits;
    let attempt = limits::reserve(core, limits_settings, ip, &login_key(site, &email)).await?;
    let member = {
        let mut conn = core.store.read().await?;
        store::find_member_by_email(&mut conn, &site.website.public_uuid, &email).await?
    };
    let verdict = core
        .sessions
        .hasher
        .verify(password, member.as_ref().map(|m| m.password_hash.as_str()))
        .await;
    match verdict {
        Err(e) => {
            limits::undo(core, limits_settings, &attempt).await?;
            return Err(e);
        }
        Ok(false) => return Err(wrong_credentials()),
        Ok(true) => {}
    }
    let Some(member) = member else {
        return Err(wrong_credentials());
    };
    match PressStatus::parse(&member.status) {
        Some(PressStatus::Approved) => {}
        Some(PressStatus::Pending) => {
            return Err(CoreError::forbidden(
                "Your registration is waiting for an administrator of this website; you can sign in once it is approved.",
            )
            .with_detail("press_pending"));
        }
        _ => {
            return Err(CoreError::forbidden(
                "This website does not give you access. Ask its administrators if you think this is wrong.",
            )
            .with_detail("press_not_approved"));
        }
    }
    if member.totp_secret.is_some() && code.is_none() {
        // A known password does not buy fresh code guesses: the login's
        // count stands until the code is right.
        if let Err(e) = limits::refund_ip(core, limits_settings, &attempt).await {
            tracing::warn!(error = %e, "could not settle a sign-in's rate-limit counters");
        }
        return Err(CoreError::validation(
            "code",
            "You turned on two-factor sign-in: enter the current code from your authenticator app.",
        ));
    }
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    if let Some(code) = code.filter(|_| member.totp_secret.is_some())
        && !second_factor(core, &mut tx, &member, code, now).await?
    {
        return Err(
            CoreError::unauthorized("The code is wrong or was already used.").with_field("code"),
        );
    }
    let secret = OpaqueSecret::generate(OpaqueKind::Press).map_err(|_| CoreError::internal())?;
    let ttl = i64::try_from(PRESS_SESSION_TTL.as_micros()).unwrap_or(i64::MAX);
    store::insert_session(
        &mut tx,
        &secret.hash(),
        &member.id,
        Timestamp(now),
        Timestamp(now.saturating_add(ttl)),
    )
    .await?;
    tx.commit().await?;
    limits::settle(core, &attempt, "a press sign-in").await;
    let token = secret.as_str().to_owned();
    Ok(PressSignIn {
        member: SignedMember::of(&member, &token),
        token,
    })
}

/// A current TOTP code, each step accepted once.
async fn second_factor(
    core: &Core,
    conn: &mut lightbox_store::Conn,
    member: &PressMemberRow,
    code: &str,
    now: i64,
) -> Result<bool, CoreError> {
    let Some(stored) = member.totp_secret.as_deref() else {
        return Ok(false);
    };
    let owner = secret_owner(&member.id);
    let step = crate::mfa::verified_step(core, &owner, stored, member.totp_last_step, code, now)?;
    match step {
        Some(step) => Ok(store::accept_totp_step(conn, &member.id, step).await?),
        None => Ok(false),
    }
}

/// The approved member signed in on this website with `token`; `None`
/// for anything else (no such sign-in, ended, another website's, a member
/// no longer approved).
pub async fn authenticate(
    core: &Core,
    site: &Site,
    token: &str,
) -> Result<Option<SignedMember>, CoreError> {
    let Ok(secret) = OpaqueSecret::parse(OpaqueKind::Press, token) else {
        return Ok(None);
    };
    let mut conn = core.store.read().await?;
    let member = store::signed_in_member(
        &mut conn,
        &site.website.public_uuid,
        &secret.hash(),
        Timestamp(core.now()),
    )
    .await?;
    Ok(member.map(|m| SignedMember::of(&m, token)))
}

/// Ends this sign-in.
pub async fn sign_out(core: &Core, token: &str) -> Result<(), CoreError> {
    let Ok(secret) = OpaqueSecret::parse(OpaqueKind::Press, token) else {
        return Ok(());
    };
    let mut tx = core.store.begin_write().await?;
    store::delete_session(&mut tx, &secret.hash()).await?;
    tx.commit().await?;
    Ok(())
}

async fn member_row(core: &Core, site: &Site, uuid: &str) -> Result<PressMemberRow, CoreError> {
    let mut conn = core.store.read().await?;
    store::find_member(&mut conn, &site.website.public_uuid, uuid)
        .await?
        .ok_or_else(CoreError::internal)
}

// --- two-factor, on the website ---------------------------------------------

/// A secret to scan, awaiting its first code.
pub struct PressEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Step 1 of turning two-factor on: the current password, then a new
/// pending secret to scan (replacing one not confirmed).
pub async fn begin_two_factor(
    core: &Core,
    site: &Site,
    member: &SignedMember,
    ip: IpAddr,
    password: &str,
) -> Result<PressEnrolment, CoreError> {
    let row = member_row(core, site, &member.uuid).await?;
    if row.totp_secret.is_some() {
        // Replacing the authenticator would get round the code that
        // turning it off takes.
        return Err(CoreError::validation(
            "password",
            "Two-factor sign-in is already on: turn it off first (that takes a current code).",
        ));
    }
    let attempt = check_password(core, site, ip, &row, password).await?;
    limits::settle(core, &attempt, "a press member's change").await;
    let secret = totp::generate_secret().map_err(|_| CoreError::internal())?;
    let base32 = totp::base32(&secret);
    let sealed = core.secrets.seal(&secret_owner(&row.id), &base32)?;
    let mut tx = core.store.begin_write().await?;
    store::set_totp_pending(&mut tx, &row.id, Some(&sealed), Timestamp(core.now())).await?;
    tx.commit().await?;
    Ok(PressEnrolment {
        otpauth_uri: totp::otpauth_uri(&site.website.title, &row.email, &secret),
        secret: base32,
    })
}

/// The enrolment awaiting its code, shown again after a wrong code.
pub async fn pending_two_factor(
    core: &Core,
    site: &Site,
    member: &SignedMember,
) -> Result<Option<PressEnrolment>, CoreError> {
    let row = member_row(core, site, &member.uuid).await?;
    let Some(stored) = row.totp_pending_secret.as_deref() else {
        return Ok(None);
    };
    let secret = crate::secrets::totp_secret(core, &secret_owner(&row.id), stored)?;
    Ok(Some(PressEnrolment {
        secret: totp::base32(&secret),
        otpauth_uri: totp::otpauth_uri(&site.website.title, &row.email, &secret),
    }))
}

/// Step 2: a code from the authenticator switches two-factor on and ends
/// the member's other sign-ins.
pub async fn confirm_two_factor(
    core: &Core,
    site: &Site,
    member: &SignedMember,
    ip: IpAddr,
    code: &str,
) -> Result<(), CoreError> {
    let row = member_row(core, site, &member.uuid).await?;
    let Some(stored) = row.totp_pending_secret.clone() else {
        return Err(CoreError::validation(
            "code",
            "Start again: no authenticator is waiting for its first code.",
        ));
    };
    // Code guesses count like sign-in attempts, settled once one is right.
    let limits_settings = &core.sessions.settings.limits;
    let attempt = limits::reserve(core, limits_settings, ip, &login_key(site, &row.email)).await?;
    let secret = crate::secrets::totp_secret(core, &secret_owner(&row.id), &stored)?;
    let now = core.now();
    let now_secs = u64::try_from(now.div_euclid(1_000_000)).unwrap_or(0);
    let Some(step) = totp::verify(&secret, code.trim(), now_secs, None) else {
        return Err(CoreError::validation(
            "code",
            "The code is wrong: check the authenticator's clock and try the newest code.",
        ));
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let mut tx = core.store.begin_write().await?;
    if !store::set_totp(&mut tx, &row.id, Some(&stored), Some(step), Timestamp(now)).await? {
        return Err(CoreError::validation(
            "code",
            "Start again: the authenticator changed meanwhile.",
        ));
    }
    // A sign-in someone else holds ends with the change.
    store::delete_other_sessions(&mut tx, &row.id, &member.session).await?;
    tx.commit().await?;
    limits::settle(core, &attempt, "a press member's change").await;
    Ok(())
}

/// Turns two-factor off: the password and a current code.
pub async fn disable_two_factor(
    core: &Core,
    site: &Site,
    member: &SignedMember,
    ip: IpAddr,
    password: &str,
    code: &str,
) -> Result<(), CoreError> {
    let row = member_row(core, site, &member.uuid).await?;
    // Counted as a failure until both the password and the code are right:
    // a wrong code costs an attempt like a wrong password.
    let attempt = check_password(core, site, ip, &row, password).await?;
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    if !second_factor(core, &mut tx, &row, code.trim(), now).await? {
        return Err(CoreError::validation(
            "code",
            "The code is wrong or was already used.",
        ));
    }
    store::set_totp(&mut tx, &row.id, None, None, Timestamp(now)).await?;
    store::delete_other_sessions(&mut tx, &row.id, &member.session).await?;
    tx.commit().await?;
    limits::settle(core, &attempt, "a press member's change").await;
    Ok(())
}

/// The member's current password, under the sign-in rate limits: the
/// attempt stays counted until the caller settles it (everything else the
/// change needs was right too).
async fn check_password(
    core: &Core,
    site: &Site,
    ip: IpAddr,
    row: &PressMemberRow,
    password: &str,
) -> Result<limits::Attempt, CoreError> {
    if password.is_empty() || password.chars().count() > 1024 {
        return Err(CoreError::validation(
            "password",
            "Enter your current password.",
        ));
    }
    let limits_settings = &core.sessions.settings.limits;
    let attempt = limits::reserve(core, limits_settings, ip, &login_key(site, &row.email)).await?;
    match core
        .sessions
        .hasher
        .verify(password, Some(&row.password_hash))
        .await
    {
        Err(e) => {
            limits::undo(core, limits_settings, &attempt).await?;
            Err(e)
        }
        Ok(false) => Err(CoreError::validation("password", "The password is wrong.")),
        Ok(true) => Ok(attempt),
    }
}

// --- downloads -----------------------------------------------------------------

/// May this website hand out `version`?
fn version_allowed(downloads: Downloads, version: VersionName) -> bool {
    match version {
        VersionName::Large => downloads != Downloads::None,
        VersionName::Original => downloads == Downloads::Original,
        _ => false,
    }
}

/// A signed link to `version` of an image the website shows now, for a
/// signed-in member; the download is logged first. Anything the website
/// does not show is the same `404` as an image that never existed.
pub async fn download(
    core: &Core,
    site: &Site,
    member: &SignedMember,
    image_id: &str,
    version: VersionName,
    ip: IpAddr,
) -> Result<DownloadLink, CoreError> {
    press_only(site)?;
    if !version_allowed(site.website.downloads, version) {
        return Err(
            CoreError::forbidden("This website does not offer that download.")
                .with_detail("download_not_offered"),
        );
    }
    let now = core.now();
    if !site.shows(core, image_id, now).await? {
        return Err(CoreError::new(ErrorKind::NotFound, "Not found."));
    }
    let link =
        crate::downloads::link_to_version(core, site.account_id(), image_id, version).await?;
    let row = WebsiteDownloadRow {
        id: ids::new_public_uuid(),
        website_id: site.website.public_uuid.clone(),
        member_id: Some(member.uuid.clone()),
        member_name: member.name.clone(),
        member_email: member.email.clone(),
        image_id: image_id.to_owned(),
        version: version.as_str().to_owned(),
        archive_id: None,
        address: crate::auth::canonical_ip(ip).to_string(),
        created_at: Timestamp(now),
    };
    let mut tx = core.store.begin_write().await?;
    store::insert_download(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(link)
}

/// Most photos in one ZIP of a press website.
pub const ZIP_MAX: usize = 500;
/// ZIPs a member may ask for in an hour (each is built and kept for days).
pub const ZIPS_PER_HOUR: i64 = 10;

/// Queues a ZIP of photos the website shows now, for a signed-in member,
/// through the archive machinery: large versions, or originals where the
/// website offers them and the member asked. Each photo is written to the
/// download log with the archive, in the same transaction. Answers the
/// archive's uuid.
pub async fn zip(
    core: &Core,
    site: &Site,
    member: &SignedMember,
    image_ids: Vec<String>,
    version: VersionName,
    ip: IpAddr,
) -> Result<String, CoreError> {
    press_only(site)?;
    if !version_allowed(site.website.downloads, version) {
        return Err(
            CoreError::forbidden("This website does not offer that download.")
                .with_detail("download_not_offered"),
        );
    }
    let too_many = || {
        CoreError::validation(
            "image",
            format!("Select at most {ZIP_MAX} photos for one ZIP."),
        )
    };
    // Bounded before any other work: a form may repeat a field at will.
    if image_ids.len() > ZIP_MAX * 2 {
        return Err(too_many());
    }
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<String> = image_ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    if ids.is_empty() {
        return Err(CoreError::validation("image", "Select at least one photo."));
    }
    if ids.len() > ZIP_MAX {
        return Err(too_many());
    }
    let now = core.now();
    for id in &ids {
        if !site.shows(core, id, now).await? {
            return Err(CoreError::new(ErrorKind::NotFound, "Not found."));
        }
    }
    let day = format_rfc3339(now);
    let input = crate::archives::NewArchive {
        image_public_uuids: ids.clone(),
        version_profile_uuid: (version != VersionName::Original)
            .then(|| crate::media::DEFAULT_PROFILE_UUID.to_owned()),
        filename: Some(format!(
            "{}-{}",
            site.website.slug,
            day.get(..10).unwrap_or("photos")
        )),
    };
    let (input, filename) = crate::archives::checked(core, input)?;
    let key = format!("press\u{b7}{}", ids::new_public_uuid());
    let ctx = WriteContext {
        account_id: site.account_id().to_owned(),
        request_hash: lightbox_auth::hash_token(&key),
        idempotency_key: key,
    };
    let mut write = match writes::begin(core, &ctx).await? {
        Begun::Fresh(write) => write,
        // A fresh random key is never a replay.
        Begun::Replay(_) => return Err(CoreError::internal()),
    };
    let owner = crate::archives::ArchiveOwner {
        created_by: None,
        // Originals only when the website offers them (checked above); a
        // profile (large) build reads no original.
        originals_of: serde_json::Value::Null,
    };
    // Counted under the member's row lock, inside the write: parallel
    // requests are judged one after the other.
    store::lock_member(write.tx(), &member.uuid, Timestamp(now)).await?;
    let hour_ago = Timestamp(now - 3_600_000_000);
    if store::zips_since(write.tx(), &member.uuid, hour_ago).await? >= ZIPS_PER_HOUR {
        return Err(CoreError::new(
            ErrorKind::RateLimited,
            format!(
                "At most {ZIPS_PER_HOUR} ZIPs an hour; download the ones you have, or try again later."
            ),
        ));
    }
    let (archive, done) = crate::archives::queue(core, &mut write, owner, input, filename).await?;
    let address = crate::auth::canonical_ip(ip).to_string();
    for id in &ids {
        let row = WebsiteDownloadRow {
            id: ids::new_public_uuid(),
            website_id: site.website.public_uuid.clone(),
            member_id: Some(member.uuid.clone()),
            member_name: member.name.clone(),
            member_email: member.email.clone(),
            image_id: id.clone(),
            version: version.as_str().to_owned(),
            archive_id: Some(archive.clone()),
            address: address.clone(),
            created_at: Timestamp(now),
        };
        store::insert_download(write.tx(), &row).await?;
    }
    write.finish(done).await?;
    Ok(archive)
}

/// How a member's ZIP is coming along.
pub struct ZipProgress {
    pub done: i64,
    pub total: i64,
    pub failed: bool,
    /// Once built: the signed link and its file name.
    pub ready: Option<(String, String)>,
}

/// The progress of a ZIP this member was handed on this website; `None`
/// for any other archive.
pub async fn zip_progress(
    core: &Core,
    site: &Site,
    member: &SignedMember,
    archive_id: &str,
) -> Result<Option<ZipProgress>, CoreError> {
    if !ids::is_uuid(archive_id) {
        return Ok(None);
    }
    let row = {
        let mut conn = core.store.read().await?;
        if !store::member_has_archive(
            &mut conn,
            &site.website.public_uuid,
            &member.uuid,
            archive_id,
        )
        .await?
        {
            return Ok(None);
        }
        lightbox_store::archives::find(&mut conn, site.account_id(), archive_id).await?
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let op = crate::operations::get(core, site.account_id(), &row.operation_id).await?;
    let count = |k: &str| op.result.get(k).and_then(serde_json::Value::as_i64);
    let ready = crate::archives::ready_archive(core, site.account_id(), archive_id)
        .await?
        .map(|a| (a.url, a.filename));
    Ok(Some(ZipProgress {
        done: count("done").unwrap_or(if ready.is_some() { row.image_count } else { 0 }),
        total: count("total").unwrap_or(row.image_count),
        failed: op.status == OperationStatus::Failed || row.status == "failed",
        ready,
    }))
}

// --- what admins see and decide --------------------------------------------------

/// Press members' personal data and decisions are for admins (and service
/// tokens), not the `user` role.
fn may_manage(principal: &Principal) -> Result<(), CoreError> {
    if principal.role() == Some(Role::User) {
        return Err(CoreError::forbidden(
            "Your role does not see or decide press members and their downloads.",
        )
        .with_detail("role_not_allowed"));
    }
    Ok(())
}

/// The account's website `id`, or its `404`.
async fn website_of(
    conn: &mut lightbox_store::Conn,
    account_id: &str,
    id: &str,
) -> Result<lightbox_store::websites::WebsiteRow, CoreError> {
    let not_found = || CoreError::new(ErrorKind::NotFound, format!("No website {id}."));
    if !ids::is_uuid(id) {
        return Err(not_found());
    }
    lightbox_store::websites::find(conn, account_id, id)
        .await?
        .ok_or_else(not_found)
}

/// A page of a website's press members, oldest first, optionally only
/// those of one status; plus whether more follow.
pub async fn list_members(
    core: &Core,
    principal: &Principal,
    website_id: &str,
    status: Option<PressStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PressMember>, bool), CoreError> {
    may_manage(principal)?;
    let mut conn = core.store.read().await?;
    let website = website_of(&mut conn, &principal.account.uuid, website_id).await?;
    let rows = store::list_members(
        &mut conn,
        &website.id,
        status.map_or("", PressStatus::as_str),
        limit + 1,
        offset,
    )
    .await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((rows.iter().map(PressMember::of).collect(), more))
}

/// One press member of a website, as [`list_members`] shows them (for
/// naming the member a decision was about).
pub async fn get_member(
    core: &Core,
    principal: &Principal,
    website_id: &str,
    member_id: &str,
) -> Result<PressMember, CoreError> {
    may_manage(principal)?;
    let not_found = || CoreError::new(ErrorKind::NotFound, format!("No press member {member_id}."));
    let mut conn = core.store.read().await?;
    let website = website_of(&mut conn, &principal.account.uuid, website_id).await?;
    if !ids::is_uuid(member_id) {
        return Err(not_found());
    }
    let row = store::find_member(&mut conn, &website.id, member_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(PressMember::of(&row))
}

/// Approves, refuses or revokes a press member. Refusing or revoking ends
/// the member's sign-ins in the same transaction.
pub async fn decide(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    website_id: &str,
    member_id: &str,
    patch: PressMemberPatch,
) -> Result<Operation, CoreError> {
    writes::retrying(|| decide_once(core, ctx, principal, website_id, member_id, patch.clone()))
        .await
}

async fn decide_once(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    website_id: &str,
    member_id: &str,
    patch: PressMemberPatch,
) -> Result<Operation, CoreError> {
    may_manage(principal)?;
    let status = patch.status.status();
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    let website = website_of(write.tx(), &account, website_id).await?;
    let member_not_found =
        || CoreError::new(ErrorKind::NotFound, format!("No press member {member_id}."));
    if !ids::is_uuid(member_id) {
        return Err(member_not_found());
    }
    let now = Timestamp(write.now());
    if !store::set_status(write.tx(), &website.id, member_id, status.as_str(), now).await? {
        return Err(member_not_found());
    }
    if status != PressStatus::Approved {
        store::delete_sessions_of(write.tx(), member_id).await?;
    }
    let row = store::find_member(write.tx(), &website.id, member_id)
        .await?
        .ok_or_else(member_not_found)?;
    let member = PressMember::of(&row);
    write
        .finish(WorkDone {
            kind: "press_member.update",
            status: OperationStatus::Succeeded,
            result: json!({ "message": "Press member updated.", "press_member": member }),
            image_public_uuids: vec![],
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![("press_member", row.id.clone(), "update")],
        })
        .await
}

/// A page of a website's download log, newest first; plus whether more
/// follow.
pub async fn list_downloads(
    core: &Core,
    principal: &Principal,
    website_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WebsiteDownload>, bool), CoreError> {
    may_manage(principal)?;
    let mut conn = core.store.read().await?;
    let website = website_of(&mut conn, &principal.account.uuid, website_id).await?;
    let rows = store::list_downloads(&mut conn, &website.id, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((rows.iter().map(WebsiteDownload::of).collect(), more))
}

/// Forgets press sign-ins that have ended (housekeeping).
pub async fn forget_ended_sessions(core: &Core) -> Result<u64, CoreError> {
    let mut tx = core.store.begin_write().await?;
    let n = store::delete_expired_sessions(&mut tx, Timestamp(core.now())).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_lower_cased() {
        assert_eq!(
            check_email(" Ada@Example.COM ").ok().as_deref(),
            Some("ada@example.com")
        );
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "ada@.com",
            "a@b@c.com",
            "a@b.co?bcc=spy%40evil.com",
            "a@b.co&subject=x",
            "\"a\"@b.co",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn websites_hand_out_only_what_they_offer() {
        assert!(!version_allowed(Downloads::None, VersionName::Large));
        assert!(version_allowed(Downloads::Large, VersionName::Large));
        assert!(!version_allowed(Downloads::Large, VersionName::Original));
        assert!(version_allowed(Downloads::Original, VersionName::Original));
        assert!(!version_allowed(
            Downloads::Original,
            VersionName::Thumbnail
        ));
    }

    #[test]
    fn statuses_read_back() {
        for s in [
            PressStatus::Pending,
            PressStatus::Approved,
            PressStatus::Refused,
            PressStatus::Revoked,
        ] {
            assert_eq!(PressStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(PressStatus::parse("APPROVED"), None);
    }
}
