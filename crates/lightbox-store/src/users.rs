//! People who sign in, and their role in each account.

pub use lightbox_store_rows::users::{MembershipRow, UserRow};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &UserRow) -> Result<()> {
    Ok(on_engine!(conn, users::insert(row))?)
}

/// Finds a user by login only (sign-in: a uuid is not a login).
pub async fn find_by_login(conn: &mut Conn, login: &str) -> Result<Option<UserRow>> {
    Ok(on_engine!(conn, users::find_by_login(login))?)
}

/// Takes the user's row lock inside a write transaction if the user is
/// still enabled and still has `password_hash`; false otherwise. A sign-in
/// checked against a password that has just been changed (or a user just
/// disabled) thereby fails instead of opening a session the change missed.
pub async fn lock_if_unchanged(
    conn: &mut Conn,
    user_id: &str,
    password_hash: &str,
) -> Result<bool> {
    let changed = on_engine!(conn, users::lock_if_unchanged(user_id, password_hash))?;
    Ok(changed == 1)
}

/// Replaces a password hash only if it is still `old` (a rehash must not
/// undo a password change made meanwhile).
pub async fn rehash_password(conn: &mut Conn, user_id: &str, old: &str, new: &str) -> Result<bool> {
    let changed = on_engine!(conn, users::rehash_password(user_id, old, new))?;
    Ok(changed == 1)
}

/// Stores a secret being enrolled; the enrolled one stays as it is.
pub async fn set_pending_totp(
    conn: &mut Conn,
    user_id: &str,
    pending: &str,
    now: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        users::set_pending_totp(user_id, pending, now)
    )?)
}

/// Finds a user by uuid or login.
pub async fn find(conn: &mut Conn, id_or_login: &str) -> Result<Option<UserRow>> {
    Ok(on_engine!(conn, users::find(id_or_login))?)
}

/// Adds the user to the account, or changes the role of an existing member.
pub async fn upsert_membership(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
    role: &str,
    now: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        users::upsert_membership(account_id, user_id, role, now)
    )?)
}

pub async fn set_password(conn: &mut Conn, user_id: &str, phc: &str, now: Timestamp) -> Result<()> {
    Ok(on_engine!(conn, users::set_password(user_id, phc, now))?)
}

pub async fn set_disabled(
    conn: &mut Conn,
    user_id: &str,
    disabled: bool,
    now: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        users::set_disabled(user_id, disabled, now)
    )?)
}

/// Sets the enrolled TOTP secret (null: two-factor off) and the pending one.
pub async fn set_totp(
    conn: &mut Conn,
    user_id: &str,
    secret: Option<&str>,
    pending: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        users::set_totp(user_id, secret, pending, now)
    )?)
}

/// Records an accepted TOTP step; false when this or a later step was
/// already accepted (a replayed code), decided atomically in the database.
pub async fn accept_totp_step(conn: &mut Conn, user_id: &str, step: i64) -> Result<bool> {
    let changed = on_engine!(conn, users::accept_totp_step(user_id, step))?;
    Ok(changed == 1)
}

/// The accounts a user belongs to, by account name.
pub async fn memberships(conn: &mut Conn, user_id: &str) -> Result<Vec<MembershipRow>> {
    Ok(on_engine!(conn, users::memberships(user_id))?)
}

pub async fn list_for_account(conn: &mut Conn, account_id: &str) -> Result<Vec<(UserRow, String)>> {
    Ok(on_engine!(conn, users::list_for_account(account_id))?)
}

/// Every stored TOTP secret: (user id, enrolled, pending), for sealing and
/// re-sealing them under the secret key file.
pub async fn list_totp_secrets(
    conn: &mut Conn,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    Ok(on_engine!(conn, users::list_totp_secrets())?)
}

/// Replaces a stored TOTP secret (`pending` picks the column) if it is
/// still `old`; false when it changed meanwhile.
pub async fn reseal_totp(
    conn: &mut Conn,
    user_id: &str,
    pending: bool,
    old: &str,
    new: &str,
) -> Result<bool> {
    let changed = if pending {
        on_engine!(conn, users::reseal_pending_totp_secret(user_id, old, new))?
    } else {
        on_engine!(conn, users::reseal_totp_secret(user_id, old, new))?
    };
    Ok(changed == 1)
}
