//! Sessions of the admin console (`/admin`).
//!
//! A console sign-in is an ordinary device session (platform `web`): it
//! uses the same password, TOTP and rate-limit rules as the API, is listed
//! with the user's other sessions and ends the same ways (sign-out, "end
//! all", a disabled user, a changed password or MFA). The browser holds a
//! console token (`dpg_cs_…`) in a cookie; it is stored hashed beside the
//! session's access tokens, so every request checks it against its session,
//! user, membership and account. It is a kind of its own, so it is never
//! accepted as an API bearer token, and it works while the account's API
//! switch is off (the console is where the switch is turned on).
//!
//! Forms carry a CSRF token derived from the console token: a page from
//! another site cannot read the cookie, so it cannot make the token.

use lightbox_store::Timestamp;
use std::time::Duration;

use lightbox_auth::hashes_equal;
use lightbox_auth::opaque::{OpaqueKind, OpaqueSecret};
use lightbox_store::sessions as store;

use crate::Core;
use crate::accounts::AccountRef;
use crate::auth::{Credential, Principal, SessionRef, UserCredential};
use crate::error::CoreError;
use crate::sessions::{SignedIn, UserRef};
use crate::users::Role;

/// How long a console sign-in lasts (never past its device session).
pub const CONSOLE_TTL: Duration = Duration::from_secs(12 * 3600);

/// Domain separation of the CSRF token from everything else hashed.
const CSRF_CONTEXT: &str = "lightbox console csrf v1\0";

/// The signed-in person behind a console request.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub user: UserRef,
    pub role: Role,
    pub session: SessionRef,
    pub account: AccountRef,
    pub api_enabled: bool,
    /// The form token of this console session.
    pub csrf: String,
}

impl ConsoleUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The same person as an API principal, for use-cases that take one.
    pub fn principal(&self) -> Principal {
        Principal {
            account: self.account.clone(),
            api_enabled: self.api_enabled,
            credential: Credential::User {
                user: UserCredential {
                    user: self.user.clone(),
                    role: self.role,
                },
                session: self.session.clone(),
            },
            allowed_ips: Vec::new(),
            max_request_bytes: None,
            rendered: std::sync::OnceLock::new(),
        }
    }

    /// True when a submitted form token is this session's.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        hashes_equal(&self.csrf, submitted)
    }
}

/// The form token of a console token.
pub fn csrf_token(console_token: &str) -> String {
    lightbox_auth::hash_token(&format!("{CSRF_CONTEXT}{console_token}"))
}

/// Compares a value the browser sent with the one expected, in constant
/// time (the pre-sign-in value).
pub fn sent_value_matches(expected: &str, sent: &str) -> bool {
    hashes_equal(expected, sent)
}

/// A form's fingerprint for its idempotency key: the same key with other
/// options is a conflict, not a replay.
pub fn form_fingerprint(parts: &[&str]) -> String {
    lightbox_auth::hash_token(&parts.join("\0"))
}

/// The idempotency key of a console write. `·` is a byte the API refuses in
/// `Idempotency-Key` (printable ASCII only), so no API client can claim a
/// console key first and make the console's write answer 409.
pub fn idempotency_key(name: &str) -> String {
    format!("console\u{b7}{name}")
}

fn signed_out() -> CoreError {
    CoreError::unauthorized("Your console session has ended; sign in again.")
}

/// A new console token for a finished sign-in, on the account asked for
/// (else the first the user administers, else the first). A user with no
/// account gets no console: the device session just made is ended again.
pub async fn open(
    core: &Core,
    signed_in: &SignedIn,
    account_uuid: Option<&str>,
) -> Result<(String, i64), CoreError> {
    let opened = issue(core, signed_in, account_uuid).await;
    if let Err(e) = &opened
        && e.kind.http_status() >= 500
    {
        // The password (and code) were right, but no console came of it:
        // the device session just made must not linger unseen.
        let ended = crate::sessions::end_session(
            core,
            &signed_in.user.uuid,
            &signed_in.device_session_uuid,
            "console_failed",
        )
        .await;
        if let Err(e) = ended {
            tracing::warn!(error = %e.message, "a sign-in's device session could not be ended");
        }
    }
    opened
}

async fn issue(
    core: &Core,
    signed_in: &SignedIn,
    account_uuid: Option<&str>,
) -> Result<(String, i64), CoreError> {
    let accounts = &signed_in.accounts;
    let chosen = account_uuid
        .and_then(|id| accounts.iter().find(|a| a.uuid == id))
        .or_else(|| accounts.iter().find(|a| a.role == Role::Admin))
        .or_else(|| accounts.first());
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    let session = store::find_session(&mut tx, &signed_in.device_session_uuid)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > Timestamp(now))
        .ok_or_else(signed_out)?;
    let Some(account) = chosen else {
        store::revoke_session(&mut tx, &session.id, Timestamp(now), "no_account").await?;
        tx.commit().await?;
        return Err(CoreError::forbidden(
            "You are not a member of any account yet; ask an account admin to add you.",
        )
        .with_detail("not_a_member"));
    };
    let secret = OpaqueSecret::generate(OpaqueKind::Console).map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        CoreError::internal()
    })?;
    let ttl = i64::try_from(CONSOLE_TTL.as_micros()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl).min(session.expires_at.micros());
    store::insert_access(
        &mut tx,
        &store::AccessTokenRow {
            token_hash: secret.hash(),
            session_id: session.id.clone(),
            account_id: account.uuid.clone(),
            issued_at: Timestamp(now),
            expires_at: Timestamp(expires_at),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((secret.as_str().to_owned(), expires_at))
}

/// Checks a console cookie against its session, user, membership and
/// account (on every request: nothing is cached, so a sign-out anywhere
/// bites at once).
pub async fn authenticate(core: &Core, cookie: &str) -> Result<ConsoleUser, CoreError> {
    let secret = OpaqueSecret::parse(OpaqueKind::Console, cookie).map_err(|_| signed_out())?;
    let grant = {
        let mut conn = core.store.read().await?;
        store::find_access_grant(&mut conn, &secret.hash())
            .await?
            .ok_or_else(signed_out)?
    };
    let now = core.now();
    let ended = grant.session_revoked_at.is_some()
        || grant.session_expires_at <= Timestamp(now)
        || grant.token_expires_at <= Timestamp(now)
        || grant.user_disabled;
    if ended {
        return Err(signed_out());
    }
    let role = grant
        .role
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(signed_out)?;
    Ok(ConsoleUser {
        user: UserRef {
            uuid: grant.user_id,
            name: grant.user_name,
            login: grant.user_login,
        },
        role,
        session: SessionRef {
            uuid: grant.session_id,
            name: grant.session_name,
        },
        account: AccountRef {
            uuid: grant.account_id,
            name: grant.account_name,
            unique_id: grant.account_unique_id,
        },
        api_enabled: grant.account_api_enabled,
        csrf: csrf_token(cookie),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_keys_are_keys_the_api_refuses() {
        let key = idempotency_key("revoke-00000000-0000-4000-8000-000000000000");
        assert!(crate::writes::validate_idempotency_key(Some(&key)).is_err());
        assert!(crate::writes::validate_idempotency_key(Some("console-revoke-x")).is_ok());
    }
}
