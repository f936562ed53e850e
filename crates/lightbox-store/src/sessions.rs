//! Signed-in devices: device sessions, their refresh-token chains, the
//! access tokens issued under them, MFA challenges and recovery codes.
//! Only SHA-256 hashes of tokens and codes are stored.

use sqlx::{AssertSqlSafe, FromRow};

use crate::sql;
use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct DeviceSessionRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub platform: String,
    pub app_version: String,
    pub device_id: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub last_ip: Option<String>,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

macro_rules! session_columns {
    () => {
        "s.id, s.user_id, s.name, s.platform, s.app_version, s.device_id, s.created_at,
         s.last_used_at, s.last_ip, s.expires_at, s.revoked_at, s.revoked_reason"
    };
}

pub async fn insert_session(conn: &mut Conn, row: &DeviceSessionRow) -> Result<()> {
    sql::query(
        "INSERT INTO device_sessions (id, user_id, name, platform, app_version, device_id,
            created_at, last_used_at, last_ip, expires_at, revoked_at, revoked_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&row.id)
    .bind(&row.user_id)
    .bind(&row.name)
    .bind(&row.platform)
    .bind(&row.app_version)
    .bind(&row.device_id)
    .bind(row.created_at)
    .bind(row.last_used_at)
    .bind(&row.last_ip)
    .bind(row.expires_at)
    .bind(row.revoked_at)
    .bind(&row.revoked_reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_session(conn: &mut Conn, id: &str) -> Result<Option<DeviceSessionRow>> {
    Ok(sql::query_as::<DeviceSessionRow>(concat!(
        "SELECT ",
        session_columns!(),
        " FROM device_sessions s WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// A user's sessions that are neither revoked nor past their absolute end,
/// newest first.
pub async fn live_sessions(
    conn: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<Vec<DeviceSessionRow>> {
    Ok(sql::query_as::<DeviceSessionRow>(concat!(
        "SELECT ",
        session_columns!(),
        " FROM device_sessions s
          WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
          ORDER BY s.created_at DESC, s.id DESC"
    ))
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

pub async fn touch_session(conn: &mut Conn, id: &str, now: i64, ip: Option<&str>) -> Result<()> {
    sql::query("UPDATE device_sessions SET last_used_at = $2, last_ip = COALESCE($3, last_ip) WHERE id = $1")
        .bind(id)
        .bind(now)
        .bind(ip)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends one session (idempotent); true if it was live.
pub async fn revoke_session(conn: &mut Conn, id: &str, now: i64, reason: &str) -> Result<bool> {
    let done = sql::query(
        "UPDATE device_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every live session of a user except `keep`; returns how many.
pub async fn revoke_user_sessions(
    conn: &mut Conn,
    user_id: &str,
    keep: Option<&str>,
    now: i64,
    reason: &str,
) -> Result<u64> {
    let done = sql::query(
        "UPDATE device_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL AND id <> $4",
    )
    .bind(user_id)
    .bind(now)
    .bind(reason)
    .bind(keep.unwrap_or(""))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Ends the live session a user has on a client-chosen device id (signing
/// in again on one device replaces its session).
pub async fn revoke_device(
    conn: &mut Conn,
    user_id: &str,
    device_id: &str,
    now: i64,
) -> Result<u64> {
    let done = sql::query(
        "UPDATE device_sessions SET revoked_at = $3, revoked_reason = 'replaced'
         WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(device_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

#[derive(Debug, Clone, FromRow)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub generation: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_refresh(conn: &mut Conn, row: &RefreshTokenRow) -> Result<()> {
    sql::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, generation, issued_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.token_hash)
    .bind(&row.session_id)
    .bind(row.generation)
    .bind(row.issued_at)
    .bind(row.expires_at)
    .bind(row.used_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_refresh(conn: &mut Conn, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
    Ok(sql::query_as::<RefreshTokenRow>(
        "SELECT token_hash, session_id, generation, issued_at, expires_at, used_at
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// The newest link of a session's chain.
pub async fn newest_refresh(conn: &mut Conn, session_id: &str) -> Result<Option<RefreshTokenRow>> {
    Ok(sql::query_as::<RefreshTokenRow>(
        "SELECT token_hash, session_id, generation, issued_at, expires_at, used_at
         FROM refresh_tokens WHERE session_id = $1 ORDER BY generation DESC LIMIT 1",
    )
    .bind(session_id)
    .fetch_optional(conn)
    .await?)
}

/// Marks a refresh token spent. Exactly one of several concurrent callers
/// gets `true`: the row changes only while `used_at` is still null (on
/// PostgreSQL the losers wait on the row lock, then see it set).
pub async fn spend_refresh(conn: &mut Conn, token_hash: &str, now: i64) -> Result<bool> {
    let done = sql::query(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, FromRow)]
pub struct AccessTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub account_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

pub async fn insert_access(conn: &mut Conn, row: &AccessTokenRow) -> Result<()> {
    sql::query(
        "INSERT INTO access_tokens (token_hash, session_id, account_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&row.token_hash)
    .bind(&row.session_id)
    .bind(&row.account_id)
    .bind(row.issued_at)
    .bind(row.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Everything authenticating an access token needs, in one read: the token,
/// its session, the user, the user's role in the token's account, and the
/// account. `role` is null when the membership has since been removed.
#[derive(Debug, Clone, FromRow)]
pub struct AccessTokenGrant {
    pub token_expires_at: i64,
    pub session_id: String,
    pub session_name: String,
    pub session_expires_at: i64,
    pub session_revoked_at: Option<i64>,
    pub user_id: String,
    pub user_login: String,
    pub user_name: String,
    pub user_disabled: i64,
    pub role: Option<String>,
    pub account_id: String,
    pub account_unique_id: String,
    pub account_name: String,
    pub account_api_enabled: i64,
}

pub async fn find_access_grant(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<AccessTokenGrant>> {
    Ok(sql::query_as::<AccessTokenGrant>(
        "SELECT t.expires_at AS token_expires_at, s.id AS session_id, s.name AS session_name,
                s.expires_at AS session_expires_at, s.revoked_at AS session_revoked_at,
                u.id AS user_id, u.login AS user_login, u.name AS user_name,
                u.disabled AS user_disabled, m.role AS role,
                a.id AS account_id, a.unique_id AS account_unique_id, a.name AS account_name,
                a.api_enabled AS account_api_enabled
         FROM access_tokens t
         JOIN device_sessions s ON s.id = t.session_id
         JOIN users u ON u.id = s.user_id
         JOIN accounts a ON a.id = t.account_id
         LEFT JOIN memberships m ON m.account_id = t.account_id AND m.user_id = u.id
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct MfaChallengeRow {
    pub token_hash: String,
    pub user_id: String,
    /// JSON of the device that signed in.
    pub device: String,
    pub attempts: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub created_at: i64,
}

pub async fn insert_challenge(conn: &mut Conn, row: &MfaChallengeRow) -> Result<()> {
    sql::query(
        "INSERT INTO mfa_challenges (token_hash, user_id, device, attempts, expires_at, used_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.token_hash)
    .bind(&row.user_id)
    .bind(&row.device)
    .bind(row.attempts)
    .bind(row.expires_at)
    .bind(row.used_at)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_challenge(conn: &mut Conn, token_hash: &str) -> Result<Option<MfaChallengeRow>> {
    Ok(sql::query_as::<MfaChallengeRow>(CHALLENGE)
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

const CHALLENGE: &str =
    "SELECT token_hash, user_id, device, attempts, expires_at, used_at, created_at
     FROM mfa_challenges WHERE token_hash = $1";

/// Reads a challenge inside a write transaction, taking its row lock so
/// attempts are counted one at a time.
pub async fn lock_challenge(conn: &mut Conn, token_hash: &str) -> Result<Option<MfaChallengeRow>> {
    let sql = format!("{CHALLENGE}{}", sql::row_lock(conn.engine()));
    Ok(sql::query_as::<MfaChallengeRow>(AssertSqlSafe(sql))
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

/// Drops a user's pending MFA challenges (the password or two-factor
/// setup they were issued under has changed).
pub async fn delete_user_challenges(conn: &mut Conn, user_id: &str) -> Result<u64> {
    Ok(sql::query("DELETE FROM mfa_challenges WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn count_challenge_failure(conn: &mut Conn, token_hash: &str) -> Result<()> {
    sql::query("UPDATE mfa_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn use_challenge(conn: &mut Conn, token_hash: &str, now: i64) -> Result<bool> {
    let done = sql::query(
        "UPDATE mfa_challenges SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn replace_recovery_codes(
    conn: &mut Conn,
    user_id: &str,
    code_hashes: &[String],
    now: i64,
) -> Result<()> {
    sql::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for hash in code_hashes {
        sql::query(
            "INSERT INTO recovery_codes (user_id, code_hash, used_at, created_at) VALUES ($1, $2, NULL, $3)",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Spends an unused recovery code; false if there is no such unused code.
pub async fn use_recovery_code(
    conn: &mut Conn,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool> {
    let done = sql::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(code_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unused_recovery_codes(conn: &mut Conn, user_id: &str) -> Result<i64> {
    let (n,): (i64,) =
        sql::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

/// Deletes what can no longer be used: expired access tokens and MFA
/// challenges, and sessions ended or expired more than `keep_micros` ago
/// (their chains and tokens go with them). Returns rows deleted.
pub async fn purge(conn: &mut Conn, now: i64, keep_micros: i64) -> Result<u64> {
    let mut n = 0;
    n += sql::query("DELETE FROM access_tokens WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // Spent links expired long ago: presenting one is "unknown" rather than
    // "reused", which no longer matters once it could not be used anyway.
    n += sql::query("DELETE FROM refresh_tokens WHERE used_at IS NOT NULL AND expires_at <= $1")
        .bind(now - keep_micros)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    n += sql::query("DELETE FROM mfa_challenges WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let cutoff = now - keep_micros;
    for sql in [
        "DELETE FROM access_tokens WHERE session_id IN (SELECT id FROM device_sessions WHERE COALESCE(revoked_at, expires_at) <= $1)",
        "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM device_sessions WHERE COALESCE(revoked_at, expires_at) <= $1)",
        "DELETE FROM device_sessions WHERE COALESCE(revoked_at, expires_at) <= $1",
    ] {
        n += sql::query(sql)
            .bind(cutoff)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(n)
}
