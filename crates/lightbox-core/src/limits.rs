//! Sign-in and MFA rate limits, checked before any password is hashed.
//!
//! Two counters per attempt, both in the database (shared by every process
//! on it, kept across restarts):
//! - per client IP (IPv6 by /64, which one host usually holds whole): a
//!   bucket of failed attempts, burst 10, refilling one a minute;
//! - per login: growing delays after a few failures (1 s, 2 s, 4 s … up to
//!   60 s), never a lock-out, so an attacker cannot shut the real user out
//!   for longer than a minute at a time.
//!
//! An attempt is counted as a failure *before* the work (so a burst of
//! parallel guesses cannot slip past) and refunded when it succeeds.

use lightbox_store::Timestamp;
use std::net::IpAddr;

use lightbox_auth::rate_limit::{Backoff, Bucket, retry_after_secs};
use lightbox_store::rate_limits;

use crate::Core;
use crate::auth::canonical_ip;
use crate::error::CoreError;

#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub per_ip: Bucket,
    pub per_login: Backoff,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            per_ip: Bucket {
                burst: 10,
                interval_micros: 60 * 1_000_000,
            },
            per_login: Backoff::default(),
        }
    }
}

/// A reserved attempt; settle it with [`succeeded`], [`refund_ip`] or
/// [`undo`] (or leave it counted as a failure).
#[derive(Debug)]
pub struct Attempt {
    ip_key: String,
    /// `<login>|<ip key>`: the pair a refusal or a known address is about.
    login_ip: String,
    login: String,
    /// The login's state before this attempt, for [`undo`].
    login_before: rate_limits::LimitState,
}

/// Refusals already decided, key → refused until (Unix µs). A refusal
/// stands until its time whatever else happens (a bucket only refills with
/// time), so answering it again from memory is exact on this node, and a
/// flood costs a map lookup instead of a write transaction. The database
/// stays the judge of every attempt that might pass. (A success on another
/// node that gives a token back is seen here only once the cached time is up.)
#[derive(Default)]
pub struct Refusals(dashmap::DashMap<String, (i64, &'static str)>);

/// Entries kept at most; beyond it expired ones are dropped, then new ones
/// are not cached (the database still refuses them).
const REFUSALS_MAX: usize = 100_000;

impl Refusals {
    fn check(&self, key: &str, now: i64) -> Result<(), CoreError> {
        match self.0.get(key).map(|e| *e.value()) {
            Some((until, what)) if until > now => Err(refused(what, until - now)),
            _ => Ok(()),
        }
    }

    fn note(&self, key: String, until: i64, what: &'static str, now: i64) {
        if self.0.len() >= REFUSALS_MAX {
            self.0.retain(|_, (t, _)| *t > now);
            if self.0.len() >= REFUSALS_MAX {
                return;
            }
        }
        self.0.insert(key, (until, what));
    }

    fn forget_login(&self, login_ip: &str, ip_key: &str) {
        self.0.remove(login_ip);
        self.0.remove(ip_key);
    }
}

fn refused(what: &'static str, wait: i64) -> CoreError {
    let message = if what == "ip" {
        "Too many failed attempts from this address; wait before trying again."
    } else {
        "Too many failed attempts for this login; wait before trying again."
    };
    CoreError::rate_limited(retry_after_secs(wait), message).with_detail(what)
}

impl Attempt {
    fn login_key(&self) -> String {
        login_key(&self.login)
    }
    fn known_key(&self) -> String {
        known_key(&self.login_ip)
    }
}

fn login_key(login: &str) -> String {
    format!("login:{login}")
}

fn known_key(login_ip: &str) -> String {
    format!("known:{login_ip}")
}

/// How long an address stays "known" for a login after a full sign-in.
const KNOWN_FOR_MICROS: i64 = 30 * 24 * 3600 * 1_000_000;

fn ip_key(ip: IpAddr) -> String {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Counts an attempt from `ip` on `login` as failed, or refuses it with
/// `429` and the exact `Retry-After` when a limit is reached.
///
/// The per-login delay does not apply from an address where this login
/// completed a sign-in in the last 30 days: someone hammering a login from
/// elsewhere cannot keep its owner out at home or at the office.
pub async fn reserve(
    core: &Core,
    settings: &LimitSettings,
    ip: IpAddr,
    login: &str,
) -> Result<Attempt, CoreError> {
    let login = login.to_lowercase();
    let ip_key = ip_key(ip);
    let now = core.now();
    let refusals = &core.sessions.refusals;
    let login_ip = format!("{login}|{ip_key}");
    refusals.check(&ip_key, now)?;
    refusals.check(&login_ip, now)?;
    let mut tx = core.store.begin_write().await?;
    let mut ip_state = rate_limits::lock(&mut tx, &ip_key, Timestamp(now)).await?;
    match settings
        .per_ip
        .take(ip_state.tat.map(Timestamp::micros), now)
    {
        Ok(tat) => ip_state.tat = Some(Timestamp(tat)),
        Err(wait) => {
            refusals.note(ip_key, now + wait, "ip", now);
            return Err(refused("ip", wait));
        }
    }
    let known = rate_limits::peek(&mut tx, &known_key(&login_ip))
        .await?
        .and_then(|k| k.blocked_until)
        .is_some_and(|until| until > Timestamp(now));
    let login_key = login_key(&login);
    let mut login_state = rate_limits::lock(&mut tx, &login_key, Timestamp(now)).await?;
    let login_before = login_state.clone();
    if !known
        && let Some(until) = login_state
            .blocked_until
            .filter(|until| *until > Timestamp(now))
    {
        refusals.note(login_ip, until.micros(), "login", now);
        return Err(refused("login", (until - now).micros()));
    }
    let failures = u32::try_from(login_state.failures.saturating_add(1)).unwrap_or(u32::MAX);
    login_state.failures = i64::from(failures);
    login_state.blocked_until = Some(Timestamp(now + settings.per_login.delay_after(failures)));
    rate_limits::store(&mut tx, &ip_key, &ip_state, Timestamp(now)).await?;
    rate_limits::store(&mut tx, &login_key, &login_state, Timestamp(now)).await?;
    tx.commit().await?;
    Ok(Attempt {
        ip_key,
        login_ip,
        login,
        login_before,
    })
}

async fn give_ip_back(
    tx: &mut lightbox_store::Conn,
    settings: &LimitSettings,
    attempt: &Attempt,
    now: i64,
) -> Result<(), CoreError> {
    let mut ip_state = rate_limits::lock(tx, &attempt.ip_key, Timestamp(now)).await?;
    if let Some(tat) = ip_state.tat {
        ip_state.tat = Some(Timestamp(settings.per_ip.give_back(tat.micros(), now)));
    }
    rate_limits::store(tx, &attempt.ip_key, &ip_state, Timestamp(now)).await?;
    Ok(())
}

/// [`succeeded`] after the change it guarded committed: a failure to
/// settle the counters is logged, not the caller's error (what the person
/// asked for is done).
pub async fn settle(core: &Core, attempt: &Attempt, what: &str) {
    if let Err(e) = succeeded(core, &core.sessions.settings.limits, attempt).await {
        tracing::warn!(error = %e, what, "could not settle the rate-limit counters");
    }
}

/// A complete sign-in: the address gets its token back, the login's
/// failures are forgotten, and the address becomes known for the login.
pub async fn succeeded(
    core: &Core,
    settings: &LimitSettings,
    attempt: &Attempt,
) -> Result<(), CoreError> {
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    give_ip_back(&mut tx, settings, attempt, now).await?;
    let login_key = attempt.login_key();
    rate_limits::lock(&mut tx, &login_key, Timestamp(now)).await?;
    rate_limits::store(&mut tx, &login_key, &Default::default(), Timestamp(now)).await?;
    let known = rate_limits::LimitState {
        blocked_until: Some(Timestamp(now + KNOWN_FOR_MICROS)),
        ..Default::default()
    };
    let known_key = attempt.known_key();
    rate_limits::lock(&mut tx, &known_key, Timestamp(now)).await?;
    rate_limits::store(&mut tx, &known_key, &known, Timestamp(now)).await?;
    tx.commit().await?;
    core.sessions
        .refusals
        .forget_login(&attempt.login_ip, &attempt.ip_key);
    Ok(())
}

/// A right password with a second factor still due: the address gets its
/// token back, but the login's count stands until the second factor is
/// right — a known password must not buy fresh code guesses.
pub async fn refund_ip(
    core: &Core,
    settings: &LimitSettings,
    attempt: &Attempt,
) -> Result<(), CoreError> {
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    give_ip_back(&mut tx, settings, attempt, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The attempt was never judged (the server was too busy): as if it had
/// not happened.
pub async fn undo(
    core: &Core,
    settings: &LimitSettings,
    attempt: &Attempt,
) -> Result<(), CoreError> {
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    give_ip_back(&mut tx, settings, attempt, now).await?;
    let login_key = attempt.login_key();
    let mut login = rate_limits::lock(&mut tx, &login_key, Timestamp(now)).await?;
    login.failures = (login.failures - 1).max(attempt.login_before.failures);
    login.blocked_until = attempt.login_before.blocked_until;
    rate_limits::store(&mut tx, &login_key, &login, Timestamp(now)).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(ip_key(mapped), "ip:192.0.2.7");
    }
}
