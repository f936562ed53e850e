//! Press websites (api.md §10): members, sign-ins, the download log.

use lightbox_store_rows::Timestamp;
use lightbox_store_rows::press::{PressMemberRow, WebsiteDownloadRow};

use crate::Connection;

/// Adds a registration; 0 rows when the address is already registered on
/// the website.
pub async fn insert_member(conn: &mut Connection, row: &PressMemberRow) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO press_members (id, website_id, name, outlet, email, password_hash, status,
            totp_secret, totp_pending_secret, totp_last_step, created_at, updated_at, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (website_id, email) DO NOTHING",
        row.id,
        row.website_id,
        row.name,
        row.outlet,
        row.email,
        row.password_hash,
        row.status,
        row.totp_secret,
        row.totp_pending_secret,
        row.totp_last_step,
        row.created_at,
        row.updated_at,
        row.decided_at,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn find_member_by_email(
    conn: &mut Connection,
    website_id: &str,
    email: &str,
) -> sqlx::Result<Option<PressMemberRow>> {
    sqlx::query_as!(
        PressMemberRow,
        r#"SELECT id AS "id!", website_id, name, outlet, email, password_hash, status,
            totp_secret, totp_pending_secret, totp_last_step, created_at, updated_at, decided_at
         FROM press_members WHERE website_id = $1 AND email = $2"#,
        website_id,
        email,
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_member(
    conn: &mut Connection,
    website_id: &str,
    id: &str,
) -> sqlx::Result<Option<PressMemberRow>> {
    sqlx::query_as!(
        PressMemberRow,
        r#"SELECT id AS "id!", website_id, name, outlet, email, password_hash, status,
            totp_secret, totp_pending_secret, totp_last_step, created_at, updated_at, decided_at
         FROM press_members WHERE website_id = $1 AND id = $2"#,
        website_id,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A page of a website's members, oldest first; `status` empty for all.
pub async fn list_members(
    conn: &mut Connection,
    website_id: &str,
    status: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<PressMemberRow>> {
    sqlx::query_as!(
        PressMemberRow,
        r#"SELECT id AS "id!", website_id, name, outlet, email, password_hash, status,
            totp_secret, totp_pending_secret, totp_last_step, created_at, updated_at, decided_at
         FROM press_members WHERE website_id = $1 AND ($2 = '' OR status = $2)
         ORDER BY created_at, id LIMIT $3 OFFSET $4"#,
        website_id,
        status,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// An admin's decision; 0 rows when the website has no such member.
pub async fn set_status(
    conn: &mut Connection,
    website_id: &str,
    id: &str,
    status: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET status = $3, decided_at = $4, updated_at = $4
         WHERE website_id = $1 AND id = $2",
        website_id,
        id,
        status,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Stores (or clears) the secret awaiting its first code.
pub async fn set_totp_pending(
    conn: &mut Connection,
    id: &str,
    secret: Option<&str>,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET totp_pending_secret = $2, updated_at = $3 WHERE id = $1",
        id,
        secret,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Switches two-factor on with the pending secret (`secret` is it, so a
/// secret replaced meanwhile is not switched on) or, with `secret` None,
/// off.
pub async fn set_totp(
    conn: &mut Connection,
    id: &str,
    secret: Option<&str>,
    step: Option<i64>,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET totp_secret = $2, totp_pending_secret = NULL,
            totp_last_step = $3, updated_at = $4
         WHERE id = $1 AND (CAST($2 AS TEXT) IS NULL OR totp_pending_secret = $2)",
        id,
        secret,
        step,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Takes a TOTP step once: 0 rows when it (or a later one) was used.
pub async fn accept_totp_step(conn: &mut Connection, id: &str, step: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET totp_last_step = $2
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        id,
        step,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn insert_session(
    conn: &mut Connection,
    token_hash: &str,
    member_id: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO press_sessions (token_hash, member_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
        token_hash,
        member_id,
        created_at,
        expires_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The approved member of website `website_id` signed in with this token,
/// while the sign-in lasts.
pub async fn signed_in_member(
    conn: &mut Connection,
    website_id: &str,
    token_hash: &str,
    now: Timestamp,
) -> sqlx::Result<Option<PressMemberRow>> {
    sqlx::query_as!(
        PressMemberRow,
        r#"SELECT m.id AS "id!", m.website_id, m.name, m.outlet, m.email, m.password_hash,
            m.status, m.totp_secret, m.totp_pending_secret, m.totp_last_step, m.created_at,
            m.updated_at, m.decided_at
         FROM press_sessions s JOIN press_members m ON m.id = s.member_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND m.website_id = $3
           AND m.status = 'approved'"#,
        token_hash,
        now,
        website_id,
    )
    .fetch_optional(conn)
    .await
}

pub async fn delete_session(conn: &mut Connection, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM press_sessions WHERE token_hash = $1",
        token_hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every sign-in of a member (revoked, refused, two-factor changed).
pub async fn delete_sessions_of(conn: &mut Connection, member_id: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM press_sessions WHERE member_id = $1", member_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets sign-ins that have ended; answers how many.
pub async fn delete_expired_sessions(conn: &mut Connection, now: Timestamp) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM press_sessions WHERE expires_at <= $1", now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

pub async fn insert_download(conn: &mut Connection, row: &WebsiteDownloadRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO website_downloads (id, website_id, member_id, member_name, member_email,
            image_id, version, archive_id, address, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        row.id,
        row.website_id,
        row.member_id,
        row.member_name,
        row.member_email,
        row.image_id,
        row.version,
        row.archive_id,
        row.address,
        row.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of a website's download log, newest first.
pub async fn list_downloads(
    conn: &mut Connection,
    website_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<WebsiteDownloadRow>> {
    sqlx::query_as!(
        WebsiteDownloadRow,
        r#"SELECT id AS "id!", website_id, member_id, member_name, member_email, image_id,
            version, archive_id, address, created_at
         FROM website_downloads WHERE website_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
        website_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// Whether `member_id` was handed the archive `archive_id` on the website.
pub async fn member_has_archive(
    conn: &mut Connection,
    website_id: &str,
    member_id: &str,
    archive_id: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM website_downloads
         WHERE website_id = $1 AND member_id = $2 AND archive_id = $3"#,
        website_id,
        member_id,
        archive_id,
    )
    .fetch_one(conn)
    .await?
        > 0)
}

/// Ends every sign-in of a member but `keep` (a token hash).
pub async fn delete_other_sessions(
    conn: &mut Connection,
    member_id: &str,
    keep: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM press_sessions WHERE member_id = $1 AND token_hash <> $2",
        member_id,
        keep,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every press sign-in on a website (it stopped being a press one).
pub async fn delete_sessions_of_website(
    conn: &mut Connection,
    website_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM press_sessions WHERE member_id IN
            (SELECT id FROM press_members WHERE website_id = $1)",
        website_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many ZIPs a member asked for since `since`.
pub async fn zips_since(
    conn: &mut Connection,
    member_id: &str,
    since: Timestamp,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(DISTINCT archive_id) AS "n!: i64" FROM website_downloads
         WHERE member_id = $1 AND archive_id IS NOT NULL AND created_at > $2"#,
        member_id,
        since,
    )
    .fetch_one(conn)
    .await
}

/// Takes the member's row for this transaction.
pub async fn lock_member(conn: &mut Connection, id: &str, now: Timestamp) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET updated_at = $2 WHERE id = $1",
        id,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Every member with a stored TOTP secret (or one awaiting its first
/// code): id, secret, pending secret — for re-sealing under a new key.
pub async fn list_totp_secrets(
    conn: &mut Connection,
) -> sqlx::Result<Vec<(String, Option<String>, Option<String>)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", totp_secret, totp_pending_secret FROM press_members
           WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL ORDER BY id"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.totp_secret, r.totp_pending_secret))
        .collect())
}

pub async fn reseal_totp_secret(
    conn: &mut Connection,
    id: &str,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2",
        id,
        old,
        new,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn reseal_pending_totp_secret(
    conn: &mut Connection,
    id: &str,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE press_members SET totp_pending_secret = $3
         WHERE id = $1 AND totp_pending_secret = $2",
        id,
        old,
        new,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
