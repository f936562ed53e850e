//! Press websites (api.md §10): the people registered on a press website,
//! their sign-ins (token hashes only) and the log of every download.

pub use lightbox_store_rows::press::{PressMemberRow, WebsiteDownloadRow};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// False when the address is already registered on the website.
pub async fn insert_member(conn: &mut Conn, row: &PressMemberRow) -> Result<bool> {
    Ok(on_engine!(conn, press::insert_member(row))? > 0)
}

pub async fn find_member_by_email(
    conn: &mut Conn,
    website_id: &str,
    email: &str,
) -> Result<Option<PressMemberRow>> {
    Ok(on_engine!(
        conn,
        press::find_member_by_email(website_id, email)
    )?)
}

pub async fn find_member(
    conn: &mut Conn,
    website_id: &str,
    id: &str,
) -> Result<Option<PressMemberRow>> {
    Ok(on_engine!(conn, press::find_member(website_id, id))?)
}

/// A page of a website's members, oldest first; `status` empty for all.
pub async fn list_members(
    conn: &mut Conn,
    website_id: &str,
    status: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<PressMemberRow>> {
    Ok(on_engine!(
        conn,
        press::list_members(website_id, status, limit, offset)
    )?)
}

/// False when the website has no such member.
pub async fn set_status(
    conn: &mut Conn,
    website_id: &str,
    id: &str,
    status: &str,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, press::set_status(website_id, id, status, now))? > 0)
}

pub async fn set_totp_pending(
    conn: &mut Conn,
    id: &str,
    secret: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, press::set_totp_pending(id, secret, now))? > 0)
}

/// Two-factor on with `secret` (which must still be the pending one) or,
/// with None, off; false when the pending secret changed meanwhile.
pub async fn set_totp(
    conn: &mut Conn,
    id: &str,
    secret: Option<&str>,
    step: Option<i64>,
    now: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, press::set_totp(id, secret, step, now))? > 0)
}

/// False when the step (or a later one) was already used.
pub async fn accept_totp_step(conn: &mut Conn, id: &str, step: i64) -> Result<bool> {
    Ok(on_engine!(conn, press::accept_totp_step(id, step))? > 0)
}

pub async fn insert_session(
    conn: &mut Conn,
    token_hash: &str,
    member_id: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        press::insert_session(token_hash, member_id, created_at, expires_at)
    )?)
}

/// The approved member of the website signed in with this token hash.
pub async fn signed_in_member(
    conn: &mut Conn,
    website_id: &str,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<PressMemberRow>> {
    Ok(on_engine!(
        conn,
        press::signed_in_member(website_id, token_hash, now)
    )?)
}

pub async fn delete_session(conn: &mut Conn, token_hash: &str) -> Result<()> {
    Ok(on_engine!(conn, press::delete_session(token_hash))?)
}

pub async fn delete_sessions_of(conn: &mut Conn, member_id: &str) -> Result<()> {
    Ok(on_engine!(conn, press::delete_sessions_of(member_id))?)
}

pub async fn delete_expired_sessions(conn: &mut Conn, now: Timestamp) -> Result<u64> {
    Ok(on_engine!(conn, press::delete_expired_sessions(now))?)
}

pub async fn insert_download(conn: &mut Conn, row: &WebsiteDownloadRow) -> Result<()> {
    Ok(on_engine!(conn, press::insert_download(row))?)
}

/// A page of a website's download log, newest first.
pub async fn list_downloads(
    conn: &mut Conn,
    website_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<WebsiteDownloadRow>> {
    Ok(on_engine!(
        conn,
        press::list_downloads(website_id, limit, offset)
    )?)
}

/// Whether the member was handed this archive on the website.
pub async fn member_has_archive(
    conn: &mut Conn,
    website_id: &str,
    member_id: &str,
    archive_id: &str,
) -> Result<bool> {
    Ok(on_engine!(
        conn,
        press::member_has_archive(website_id, member_id, archive_id)
    )?)
}

/// Ends every sign-in of a member but `keep` (a token hash).
pub async fn delete_other_sessions(conn: &mut Conn, member_id: &str, keep: &str) -> Result<()> {
    Ok(on_engine!(
        conn,
        press::delete_other_sessions(member_id, keep)
    )?)
}

/// Ends every press sign-in on a website.
pub async fn delete_sessions_of_website(conn: &mut Conn, website_id: &str) -> Result<()> {
    Ok(on_engine!(
        conn,
        press::delete_sessions_of_website(website_id)
    )?)
}

/// How many ZIPs a member asked for since `since`.
pub async fn zips_since(conn: &mut Conn, member_id: &str, since: Timestamp) -> Result<i64> {
    Ok(on_engine!(conn, press::zips_since(member_id, since))?)
}

/// Takes the member's row for this transaction (what follows is judged one
/// request at a time).
pub async fn lock_member(conn: &mut Conn, id: &str, now: Timestamp) -> Result<bool> {
    Ok(on_engine!(conn, press::lock_member(id, now))? > 0)
}

/// Members with a stored TOTP secret: id, secret, pending secret.
pub async fn list_totp_secrets(
    conn: &mut Conn,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    Ok(on_engine!(conn, press::list_totp_secrets())?)
}

/// Replaces a member's stored TOTP secret (`pending` picks the column) if
/// it is still `old`; false when it changed meanwhile.
pub async fn reseal_totp(
    conn: &mut Conn,
    id: &str,
    pending: bool,
    old: &str,
    new: &str,
) -> Result<bool> {
    let changed = if pending {
        on_engine!(conn, press::reseal_pending_totp_secret(id, old, new))?
    } else {
        on_engine!(conn, press::reseal_totp_secret(id, old, new))?
    };
    Ok(changed == 1)
}
