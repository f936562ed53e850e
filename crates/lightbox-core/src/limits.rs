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

/// A reserved attempt; settle it with [`succeeded`].
#[derive(Debug)]
pub struct Attempt {
    ip_key: String,
    login_key: String,
}

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
/// `429` and the exact `Retry-After` when either limit is reached.
pub async fn reserve(
    core: &Core,
    settings: &LimitSettings,
    ip: IpAddr,
    login: &str,
) -> Result<Attempt, CoreError> {
    let attempt = Attempt {
        ip_key: ip_key(ip),
        login_key: format!("login:{}", login.to_lowercase()),
    };
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    let mut ip_state = rate_limits::lock(&mut tx, &attempt.ip_key, now).await?;
    match settings.per_ip.take(ip_state.tat, now) {
        Ok(tat) => ip_state.tat = Some(tat),
        Err(wait) => {
            return Err(CoreError::rate_limited(
                retry_after_secs(wait),
                "Too many failed attempts from this address; wait before trying again.",
            )
            .with_detail("ip"));
        }
    }
    let mut login_state = rate_limits::lock(&mut tx, &attempt.login_key, now).await?;
    if let Some(until) = login_state.blocked_until.filter(|until| *until > now) {
        return Err(CoreError::rate_limited(
            retry_after_secs(until - now),
            "Too many failed attempts for this login; wait before trying again.",
        )
        .with_detail("login"));
    }
    let failures = u32::try_from(login_state.failures.saturating_add(1)).unwrap_or(u32::MAX);
    login_state.failures = i64::from(failures);
    login_state.blocked_until = Some(now + settings.per_login.delay_after(failures));
    rate_limits::store(&mut tx, &attempt.ip_key, &ip_state, now).await?;
    rate_limits::store(&mut tx, &attempt.login_key, &login_state, now).await?;
    tx.commit()
        .await
        .map_err(lightbox_store::StoreError::from)?;
    Ok(attempt)
}

/// The attempt succeeded: give the IP its token back and clear the login's
/// failures.
pub async fn succeeded(
    core: &Core,
    settings: &LimitSettings,
    attempt: Attempt,
) -> Result<(), CoreError> {
    let now = core.now();
    let mut tx = core.store.begin_write().await?;
    let mut ip_state = rate_limits::lock(&mut tx, &attempt.ip_key, now).await?;
    if let Some(tat) = ip_state.tat {
        ip_state.tat = Some(settings.per_ip.give_back(tat, now));
    }
    rate_limits::store(&mut tx, &attempt.ip_key, &ip_state, now).await?;
    let cleared = rate_limits::LimitState::default();
    rate_limits::lock(&mut tx, &attempt.login_key, now).await?;
    rate_limits::store(&mut tx, &attempt.login_key, &cleared, now).await?;
    tx.commit()
        .await
        .map_err(lightbox_store::StoreError::from)?;
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
