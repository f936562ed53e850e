//! Signed-in devices: device sessions, their refresh-token chains, the
//! access tokens issued under them, MFA challenges and recovery codes.
//! Only SHA-256 hashes of tokens and codes are stored.

pub use lightbox_store_rows::sessions::{
    AccessTokenGrant, AccessTokenRow, DeviceSessionRow, MfaChallengeRow, RefreshTokenRow,
};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert_session(conn: &mut Conn, row: &DeviceSessionRow) -> Result<()> {
    Ok(on_engine!(conn, sessions::insert_session(row))?)
}

pub async fn find_session(conn: &mut Conn, id: &str) -> Result<Option<DeviceSessionRow>> {
    Ok(on_engine!(conn, sessions::find_session(id))?)
}

/// A user's sessions that are neither revoked nor past their absolute end,
/// newest first.
pub async fn live_sessions(
    conn: &mut Conn,
    user_id: &str,
    now: Timestamp,
) -> Result<Vec<DeviceSessionRow>> {
    Ok(on_engine!(conn, sessions::live_sessions(user_id, now))?)
}

pub async fn touch_session(
    conn: &mut Conn,
    id: &str,
    now: Timestamp,
    ip: Option<&str>,
) -> Result<()> {
    Ok(on_engine!(conn, sessions::touch_session(id, now, ip))?)
}

/// Ends one session (idempotent); true if it was live.
pub async fn revoke_session(
    conn: &mut Conn,
    id: &str,
    now: Timestamp,
    reason: &str,
) -> Result<bool> {
    let changed = on_engine!(conn, sessions::revoke_session(id, now, reason))?;
    Ok(changed > 0)
}

/// Ends every live session of a user except `keep`; returns how many.
pub async fn revoke_user_sessions(
    conn: &mut Conn,
    user_id: &str,
    keep: Option<&str>,
    now: Timestamp,
    reason: &str,
) -> Result<u64> {
    let keep = keep.unwrap_or("");
    Ok(on_engine!(
        conn,
        sessions::revoke_user_sessions(user_id, now, reason, keep)
    )?)
}

/// Ends the live session a user has on a client-chosen device id (signing
/// in again on one device replaces its session).
pub async fn revoke_device(
    conn: &mut Conn,
    user_id: &str,
    device_id: &str,
    now: Timestamp,
) -> Result<u64> {
    Ok(on_engine!(
        conn,
        sessions::revoke_device(user_id, device_id, now)
    )?)
}

pub async fn insert_refresh(conn: &mut Conn, row: &RefreshTokenRow) -> Result<()> {
    Ok(on_engine!(conn, sessions::insert_refresh(row))?)
}

pub async fn find_refresh(conn: &mut Conn, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
    Ok(on_engine!(conn, sessions::find_refresh(token_hash))?)
}

/// The newest link of a session's chain.
pub async fn newest_refresh(conn: &mut Conn, session_id: &str) -> Result<Option<RefreshTokenRow>> {
    Ok(on_engine!(conn, sessions::newest_refresh(session_id))?)
}

/// Marks a refresh token spent. Exactly one of several concurrent callers
/// gets `true`: the row changes only while `used_at` is still null (on
/// PostgreSQL the losers wait on the row lock, then see it set).
pub async fn spend_refresh(conn: &mut Conn, token_hash: &str, now: Timestamp) -> Result<bool> {
    let changed = on_engine!(conn, sessions::spend_refresh(token_hash, now))?;
    Ok(changed == 1)
}

pub async fn insert_access(conn: &mut Conn, row: &AccessTokenRow) -> Result<()> {
    Ok(on_engine!(conn, sessions::insert_access(row))?)
}

pub async fn find_access_grant(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<AccessTokenGrant>> {
    Ok(on_engine!(conn, sessions::find_access_grant(token_hash))?)
}

pub async fn insert_challenge(conn: &mut Conn, row: &MfaChallengeRow) -> Result<()> {
    Ok(on_engine!(conn, sessions::insert_challenge(row))?)
}

pub async fn find_challenge(conn: &mut Conn, token_hash: &str) -> Result<Option<MfaChallengeRow>> {
    Ok(on_engine!(conn, sessions::find_challenge(token_hash))?)
}

/// Reads a challenge inside a write transaction, taking its row lock so
/// attempts are counted one at a time.
pub async fn lock_challenge(conn: &mut Conn, token_hash: &str) -> Result<Option<MfaChallengeRow>> {
    Ok(on_engine!(conn, sessions::lock_challenge(token_hash))?)
}

/// Drops a user's pending MFA challenges (the password or two-factor
/// setup they were issued under has changed).
pub async fn delete_user_challenges(conn: &mut Conn, user_id: &str) -> Result<u64> {
    Ok(on_engine!(conn, sessions::delete_user_challenges(user_id))?)
}

pub async fn count_challenge_failure(conn: &mut Conn, token_hash: &str) -> Result<()> {
    Ok(on_engine!(
        conn,
        sessions::count_challenge_failure(token_hash)
    )?)
}

pub async fn use_challenge(conn: &mut Conn, token_hash: &str, now: Timestamp) -> Result<bool> {
    let changed = on_engine!(conn, sessions::use_challenge(token_hash, now))?;
    Ok(changed == 1)
}

pub async fn replace_recovery_codes(
    conn: &mut Conn,
    user_id: &str,
    code_hashes: &[String],
    now: Timestamp,
) -> Result<()> {
    on_engine!(conn, sessions::delete_recovery_codes(user_id))?;
    for hash in code_hashes {
        on_engine!(conn, sessions::insert_recovery_code(user_id, hash, now))?;
    }
    Ok(())
}

/// Spends an unused recovery code; false if there is no such unused code.
pub async fn use_recovery_code(
    conn: &mut Conn,
    user_id: &str,
    code_hash: &str,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_engine!(conn, sessions::use_recovery_code(user_id, code_hash, now))?;
    Ok(changed == 1)
}

pub async fn unused_recovery_codes(conn: &mut Conn, user_id: &str) -> Result<i64> {
    Ok(on_engine!(conn, sessions::unused_recovery_codes(user_id))?)
}

/// Deletes what can no longer be used: expired access tokens and MFA
/// challenges, and sessions ended or expired more than `keep_micros` ago
/// (their chains and tokens go with them). Returns rows deleted.
pub async fn purge(conn: &mut Conn, now: Timestamp, keep_micros: i64) -> Result<u64> {
    let mut n = 0;
    n += on_engine!(conn, sessions::purge_access_tokens(now))?;
    // Spent links expired long ago: presenting one is "unknown" rather than
    // "reused", which no longer matters once it could not be used anyway.
    n += on_engine!(conn, sessions::purge_spent_refresh(now - keep_micros))?;
    n += on_engine!(conn, sessions::purge_challenges(now))?;
    let cutoff = now - keep_micros;
    n += on_engine!(conn, sessions::purge_ended_access_tokens(cutoff))?;
    n += on_engine!(conn, sessions::purge_ended_refresh(cutoff))?;
    n += on_engine!(conn, sessions::purge_ended_sessions(cutoff))?;
    Ok(n)
}
