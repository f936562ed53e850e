//! People who sign in, and their role in each account.

use sqlx::FromRow;

use crate::sql;
use crate::{Conn, Result};

#[derive(Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub disabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Base32 TOTP secret when two-factor sign-in is on.
    pub totp_secret: Option<String>,
    /// A secret being enrolled, not yet confirmed with a code.
    pub totp_pending_secret: Option<String>,
    /// The last TOTP step accepted (a code is accepted once).
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for UserRow {
    // Never print the password hash or the TOTP secrets by accident.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("disabled", &self.disabled)
            .field("two_factor", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

macro_rules! user_columns {
    () => {
        "id, login, name, password_hash, disabled, created_at, updated_at, totp_secret,
         totp_pending_secret, totp_last_step"
    };
}

pub async fn insert(conn: &mut Conn, row: &UserRow) -> Result<()> {
    sql::query(
        "INSERT INTO users (id, login, name, password_hash, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.login)
    .bind(&row.name)
    .bind(&row.password_hash)
    .bind(row.disabled)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a user by login only (sign-in: a uuid is not a login).
pub async fn find_by_login(conn: &mut Conn, login: &str) -> Result<Option<UserRow>> {
    Ok(sql::query_as::<UserRow>(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE login = $1"
    ))
    .bind(login)
    .fetch_optional(conn)
    .await?)
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
    let done = sql::query(
        "UPDATE users SET updated_at = updated_at
         WHERE id = $1 AND disabled = 0 AND password_hash = $2",
    )
    .bind(user_id)
    .bind(password_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a password hash only if it is still `old` (a rehash must not
/// undo a password change made meanwhile).
pub async fn rehash_password(conn: &mut Conn, user_id: &str, old: &str, new: &str) -> Result<bool> {
    let done =
        sql::query("UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2")
            .bind(user_id)
            .bind(old)
            .bind(new)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a secret being enrolled; the enrolled one stays as it is.
pub async fn set_pending_totp(
    conn: &mut Conn,
    user_id: &str,
    pending: &str,
    now: i64,
) -> Result<()> {
    sql::query("UPDATE users SET totp_pending_secret = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(pending)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Finds a user by uuid or login.
pub async fn find(conn: &mut Conn, id_or_login: &str) -> Result<Option<UserRow>> {
    Ok(sql::query_as::<UserRow>(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1 OR login = $1"
    ))
    .bind(id_or_login)
    .fetch_optional(conn)
    .await?)
}

/// Adds the user to the account, or changes the role of an existing member.
pub async fn upsert_membership(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<()> {
    sql::query(
        "INSERT INTO memberships (account_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(account_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_password(conn: &mut Conn, user_id: &str, phc: &str, now: i64) -> Result<()> {
    sql::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(phc)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_disabled(conn: &mut Conn, user_id: &str, disabled: bool, now: i64) -> Result<()> {
    sql::query("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(i64::from(disabled))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the enrolled TOTP secret (null: two-factor off) and the pending one.
pub async fn set_totp(
    conn: &mut Conn,
    user_id: &str,
    secret: Option<&str>,
    pending: Option<&str>,
    now: i64,
) -> Result<()> {
    sql::query(
        "UPDATE users SET totp_secret = $2, totp_pending_secret = $3, totp_last_step = NULL,
         updated_at = $4 WHERE id = $1",
    )
    .bind(user_id)
    .bind(secret)
    .bind(pending)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an accepted TOTP step; false when this or a later step was
/// already accepted (a replayed code), decided atomically in the database.
pub async fn accept_totp_step(conn: &mut Conn, user_id: &str, step: i64) -> Result<bool> {
    let done = sql::query(
        "UPDATE users SET totp_last_step = $2
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(user_id)
    .bind(step)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    pub account_id: String,
    pub account_name: String,
    pub account_unique_id: String,
    pub account_api_enabled: i64,
    pub role: String,
}

/// The accounts a user belongs to, by account name.
pub async fn memberships(conn: &mut Conn, user_id: &str) -> Result<Vec<MembershipRow>> {
    Ok(sql::query_as::<MembershipRow>(
        "SELECT a.id AS account_id, a.name AS account_name, a.unique_id AS account_unique_id,
                a.api_enabled AS account_api_enabled, m.role AS role
         FROM memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.user_id = $1 ORDER BY a.name, a.id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

pub async fn list_for_account(conn: &mut Conn, account_id: &str) -> Result<Vec<(UserRow, String)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        role: String,
    }
    let rows = sql::query_as::<Row>(
        "SELECT u.id, u.login, u.name, u.password_hash, u.disabled, u.created_at, u.updated_at,
                u.totp_secret, u.totp_pending_secret, u.totp_last_step, m.role
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.account_id = $1 ORDER BY u.login",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user, r.role)).collect())
}

/// Every stored TOTP secret: (user id, enrolled, pending), for sealing and
/// re-sealing them under the secret key file.
pub async fn list_totp_secrets(
    conn: &mut Conn,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    Ok(sql::query_as(
        "SELECT id, totp_secret, totp_pending_secret FROM users
         WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
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
    let sql = if pending {
        "UPDATE users SET totp_pending_secret = $3 WHERE id = $1 AND totp_pending_secret = $2"
    } else {
        "UPDATE users SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2"
    };
    let done = sql::query(sql)
        .bind(user_id)
        .bind(old)
        .bind(new)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
