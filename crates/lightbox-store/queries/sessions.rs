//! Signed-in devices: sessions, refresh chains, access tokens, MFA
//! challenges and recovery codes (hashes only).

use lightbox_store_rows::sessions::{
    AccessTokenGrant, AccessTokenRow, DeviceSessionRow, MfaChallengeRow, RefreshTokenRow,
};

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// Inserts a device session.
pub async fn insert_session(conn: &mut Connection, row: &DeviceSessionRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO device_sessions (id, user_id, name, platform, app_version, device_id,
            created_at, last_used_at, last_ip, expires_at, revoked_at, revoked_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        row.id,
        row.user_id,
        row.name,
        row.platform,
        row.app_version,
        row.device_id,
        row.created_at,
        row.last_used_at,
        row.last_ip,
        row.expires_at,
        row.revoked_at,
        row.revoked_reason,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A session by id.
pub async fn find_session(
    conn: &mut Connection,
    id: &str,
) -> sqlx::Result<Option<DeviceSessionRow>> {
    sqlx::query_as!(
        DeviceSessionRow,
        r#"SELECT s.id AS "id!", s.user_id, s.name, s.platform, s.app_version, s.device_id,
                  s.created_at, s.last_used_at, s.last_ip, s.expires_at, s.revoked_at,
                  s.revoked_reason
           FROM device_sessions s WHERE s.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A user's unrevoked sessions ending after `now`, newest first.
pub async fn live_sessions(
    conn: &mut Connection,
    user_id: &str,
    now: Timestamp,
) -> sqlx::Result<Vec<DeviceSessionRow>> {
    sqlx::query_as!(
        DeviceSessionRow,
        r#"SELECT s.id AS "id!", s.user_id, s.name, s.platform, s.app_version, s.device_id,
                  s.created_at, s.last_used_at, s.last_ip, s.expires_at, s.revoked_at,
                  s.revoked_reason
           FROM device_sessions s
           WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           ORDER BY s.created_at DESC, s.id DESC"#,
        user_id,
        now,
    )
    .fetch_all(conn)
    .await
}

/// Records a session's last use (and address, when known).
pub async fn touch_session(
    conn: &mut Connection,
    id: &str,
    now: Timestamp,
    ip: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE device_sessions SET last_used_at = $2, last_ip = COALESCE($3, last_ip)
         WHERE id = $1",
        id,
        now,
        ip,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a session if it is not yet revoked; answers rows changed.
pub async fn revoke_session(
    conn: &mut Connection,
    id: &str,
    now: Timestamp,
    reason: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE device_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE id = $1 AND revoked_at IS NULL",
        id,
        now,
        reason,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Revokes a user's unrevoked sessions other than `keep`; answers rows changed.
pub async fn revoke_user_sessions(
    conn: &mut Connection,
    user_id: &str,
    now: Timestamp,
    reason: &str,
    keep: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE device_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL AND id <> $4",
        user_id,
        now,
        reason,
        keep,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Revokes a user's unrevoked sessions on a device id as replaced; answers rows changed.
pub async fn revoke_device(
    conn: &mut Connection,
    user_id: &str,
    device_id: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE device_sessions SET revoked_at = $3, revoked_reason = 'replaced'
         WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL",
        user_id,
        device_id,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Inserts a link of a refresh chain.
pub async fn insert_refresh(conn: &mut Connection, row: &RefreshTokenRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO refresh_tokens (token_hash, session_id, generation, issued_at, expires_at,
            used_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        row.token_hash,
        row.session_id,
        row.generation,
        row.issued_at,
        row.expires_at,
        row.used_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A refresh token by its hash.
pub async fn find_refresh(
    conn: &mut Connection,
    token_hash: &str,
) -> sqlx::Result<Option<RefreshTokenRow>> {
    sqlx::query_as!(
        RefreshTokenRow,
        r#"SELECT token_hash AS "token_hash!", session_id, generation, issued_at, expires_at,
                  used_at
           FROM refresh_tokens WHERE token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(conn)
    .await
}

/// The highest generation of a session's chain.
pub async fn newest_refresh(
    conn: &mut Connection,
    session_id: &str,
) -> sqlx::Result<Option<RefreshTokenRow>> {
    sqlx::query_as!(
        RefreshTokenRow,
        r#"SELECT token_hash AS "token_hash!", session_id, generation, issued_at, expires_at,
                  used_at
           FROM refresh_tokens WHERE session_id = $1 ORDER BY generation DESC LIMIT 1"#,
        session_id,
    )
    .fetch_optional(conn)
    .await
}

/// Marks a refresh token used if it is not yet; answers rows changed.
pub async fn spend_refresh(
    conn: &mut Connection,
    token_hash: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
        token_hash,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Inserts an access token.
pub async fn insert_access(conn: &mut Connection, row: &AccessTokenRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO access_tokens (token_hash, session_id, account_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        row.token_hash,
        row.session_id,
        row.account_id,
        row.issued_at,
        row.expires_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An access token by its hash, with its session, user, role and account.
pub async fn find_access_grant(
    conn: &mut Connection,
    token_hash: &str,
) -> sqlx::Result<Option<AccessTokenGrant>> {
    sqlx::query_as!(
        AccessTokenGrant,
        r#"SELECT t.expires_at AS token_expires_at, s.id AS "session_id!",
                  s.name AS session_name, s.expires_at AS session_expires_at,
                  s.revoked_at AS session_revoked_at,
                  u.id AS "user_id!", u.login AS user_login, u.name AS user_name,
                  u.disabled AS "user_disabled: bool", m.role AS "role?",
                  a.id AS "account_id!", a.unique_id AS account_unique_id,
                  a.name AS account_name, a.api_enabled AS "account_api_enabled: bool"
           FROM access_tokens t
           JOIN device_sessions s ON s.id = t.session_id
           JOIN users u ON u.id = s.user_id
           JOIN accounts a ON a.id = t.account_id
           LEFT JOIN memberships m ON m.account_id = t.account_id AND m.user_id = u.id
           WHERE t.token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(conn)
    .await
}

/// Inserts an MFA challenge.
pub async fn insert_challenge(conn: &mut Connection, row: &MfaChallengeRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO mfa_challenges (token_hash, user_id, device, attempts, expires_at, used_at,
            created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        row.token_hash,
        row.user_id,
        row.device,
        row.attempts,
        row.expires_at,
        row.used_at,
        row.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An MFA challenge by its hash.
pub async fn find_challenge(
    conn: &mut Connection,
    token_hash: &str,
) -> sqlx::Result<Option<MfaChallengeRow>> {
    sqlx::query_as!(
        MfaChallengeRow,
        r#"SELECT token_hash AS "token_hash!", user_id, device, attempts, expires_at, used_at,
                  created_at
           FROM mfa_challenges WHERE token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(conn)
    .await
}

sqlite_only! {
    /// An MFA challenge by its hash; the write transaction already excludes
    /// every other writer.
    pub async fn lock_challenge(
        conn: &mut Connection,
        token_hash: &str,
    ) -> sqlx::Result<Option<MfaChallengeRow>> {
        sqlx::query_as!(
            MfaChallengeRow,
            r#"SELECT token_hash AS "token_hash!", user_id, device, attempts, expires_at, used_at,
                      created_at
               FROM mfa_challenges WHERE token_hash = $1"#,
            token_hash,
        )
        .fetch_optional(conn)
        .await
    }
}

postgres_only! {
    /// An MFA challenge by its hash, its row locked until the transaction ends.
    pub async fn lock_challenge(
        conn: &mut Connection,
        token_hash: &str,
    ) -> sqlx::Result<Option<MfaChallengeRow>> {
        sqlx::query_as!(
            MfaChallengeRow,
            r#"SELECT token_hash AS "token_hash!", user_id, device, attempts, expires_at, used_at,
                      created_at
               FROM mfa_challenges WHERE token_hash = $1
               FOR NO KEY UPDATE"#,
            token_hash,
        )
        .fetch_optional(conn)
        .await
    }
}

/// Deletes a user's MFA challenges; answers how many.
pub async fn delete_user_challenges(conn: &mut Connection, user_id: &str) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM mfa_challenges WHERE user_id = $1", user_id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Counts one more failed attempt on a challenge.
pub async fn count_challenge_failure(conn: &mut Connection, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE token_hash = $1",
        token_hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a challenge used if it is not yet; answers rows changed.
pub async fn use_challenge(
    conn: &mut Connection,
    token_hash: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE mfa_challenges SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
        token_hash,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes every recovery code of a user.
pub async fn delete_recovery_codes(conn: &mut Connection, user_id: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts an unused recovery code.
pub async fn insert_recovery_code(
    conn: &mut Connection,
    user_id: &str,
    code_hash: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO recovery_codes (user_id, code_hash, used_at, created_at)
         VALUES ($1, $2, NULL, $3)",
        user_id,
        code_hash,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a user's recovery code used if it is not yet; answers rows changed.
pub async fn use_recovery_code(
    conn: &mut Connection,
    user_id: &str,
    code_hash: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        user_id,
        code_hash,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// How many recovery codes of a user are unused.
pub async fn unused_recovery_codes(conn: &mut Connection, user_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM recovery_codes
           WHERE user_id = $1 AND used_at IS NULL"#,
        user_id,
    )
    .fetch_one(conn)
    .await
}

/// Deletes access tokens expired by `now`; answers how many.
pub async fn purge_access_tokens(conn: &mut Connection, now: Timestamp) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM access_tokens WHERE expires_at <= $1", now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Deletes used refresh tokens expired by `cutoff`; answers how many.
pub async fn purge_spent_refresh(conn: &mut Connection, cutoff: Timestamp) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM refresh_tokens WHERE used_at IS NOT NULL AND expires_at <= $1",
        cutoff,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes MFA challenges expired by `now`; answers how many.
pub async fn purge_challenges(conn: &mut Connection, now: Timestamp) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM mfa_challenges WHERE expires_at <= $1", now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Deletes the access tokens of sessions ended by `cutoff`; answers how many.
pub async fn purge_ended_access_tokens(
    conn: &mut Connection,
    cutoff: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM access_tokens WHERE session_id IN
            (SELECT id FROM device_sessions WHERE COALESCE(revoked_at, expires_at) <= $1)",
        cutoff,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes the refresh chains of sessions ended by `cutoff`; answers how many.
pub async fn purge_ended_refresh(conn: &mut Connection, cutoff: Timestamp) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM refresh_tokens WHERE session_id IN
            (SELECT id FROM device_sessions WHERE COALESCE(revoked_at, expires_at) <= $1)",
        cutoff,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes sessions ended by `cutoff`; answers how many.
pub async fn purge_ended_sessions(conn: &mut Connection, cutoff: Timestamp) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM device_sessions WHERE COALESCE(revoked_at, expires_at) <= $1",
        cutoff,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
