//! People who sign in, and their role in each account.

use lightbox_store_rows::users::{MembershipRow, UserRow};

use crate::Connection;
use lightbox_store_rows::Timestamp;

/// Inserts a user (two-factor off).
pub async fn insert(conn: &mut Connection, row: &UserRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO users (id, login, name, password_hash, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        row.id,
        row.login,
        row.name,
        row.password_hash,
        row.disabled,
        row.created_at,
        row.updated_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A user by login only.
pub async fn find_by_login(conn: &mut Connection, login: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id!", login, name, password_hash, disabled AS "disabled: bool", created_at,
                  updated_at,
                  totp_secret, totp_pending_secret, totp_last_step
           FROM users WHERE login = $1"#,
        login,
    )
    .fetch_optional(conn)
    .await
}

/// Touches the user if still enabled with this password hash; answers rows changed.
pub async fn lock_if_unchanged(
    conn: &mut Connection,
    user_id: &str,
    password_hash: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE users SET updated_at = updated_at
         WHERE id = $1 AND disabled = FALSE AND password_hash = $2",
        user_id,
        password_hash,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Replaces the password hash if it is still `old`; answers rows changed.
pub async fn rehash_password(
    conn: &mut Connection,
    user_id: &str,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        user_id,
        old,
        new,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Stores a TOTP secret being enrolled.
pub async fn set_pending_totp(
    conn: &mut Connection,
    user_id: &str,
    pending: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET totp_pending_secret = $2, updated_at = $3 WHERE id = $1",
        user_id,
        pending,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A user by uuid or login.
pub async fn find(conn: &mut Connection, id_or_login: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id!", login, name, password_hash, disabled AS "disabled: bool", created_at,
                  updated_at,
                  totp_secret, totp_pending_secret, totp_last_step
           FROM users WHERE id = $1 OR login = $1"#,
        id_or_login,
    )
    .fetch_optional(conn)
    .await
}

/// Adds a membership, or changes the role of an existing one.
pub async fn upsert_membership(
    conn: &mut Connection,
    account_id: &str,
    user_id: &str,
    role: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO memberships (account_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, user_id) DO UPDATE SET role = excluded.role",
        account_id,
        user_id,
        role,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the password hash.
pub async fn set_password(
    conn: &mut Connection,
    user_id: &str,
    phc: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        user_id,
        phc,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the disabled flag.
pub async fn set_disabled(
    conn: &mut Connection,
    user_id: &str,
    disabled: bool,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1",
        user_id,
        disabled,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the enrolled and pending TOTP secrets, forgetting the last step.
pub async fn set_totp(
    conn: &mut Connection,
    user_id: &str,
    secret: Option<&str>,
    pending: Option<&str>,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET totp_secret = $2, totp_pending_secret = $3, totp_last_step = NULL,
         updated_at = $4 WHERE id = $1",
        user_id,
        secret,
        pending,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a TOTP step if it is later than the last one; answers rows changed.
pub async fn accept_totp_step(
    conn: &mut Connection,
    user_id: &str,
    step: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE users SET totp_last_step = $2
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        user_id,
        step,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// The accounts a user belongs to, by account name.
pub async fn memberships(conn: &mut Connection, user_id: &str) -> sqlx::Result<Vec<MembershipRow>> {
    sqlx::query_as!(
        MembershipRow,
        r#"SELECT a.id AS "account_id!", a.name AS account_name,
                  a.unique_id AS account_unique_id, a.api_enabled AS "account_api_enabled: bool",
                  m.role AS role
           FROM memberships m JOIN accounts a ON a.id = m.account_id
           WHERE m.user_id = $1 ORDER BY a.name, a.id"#,
        user_id,
    )
    .fetch_all(conn)
    .await
}

/// An account's members and their roles, by login.
pub async fn list_for_account(
    conn: &mut Connection,
    account_id: &str,
) -> sqlx::Result<Vec<(UserRow, String)>> {
    let rows = sqlx::query!(
        r#"SELECT u.id AS "id!", u.login, u.name, u.password_hash, u.disabled AS "disabled: bool",
                  u.created_at,
                  u.updated_at, u.totp_secret, u.totp_pending_secret, u.totp_last_step, m.role
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.account_id = $1 ORDER BY u.login"#,
        account_id,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let user = UserRow {
                id: r.id,
                login: r.login,
                name: r.name,
                password_hash: r.password_hash,
                disabled: r.disabled,
                created_at: r.created_at,
                updated_at: r.updated_at,
                totp_secret: r.totp_secret,
                totp_pending_secret: r.totp_pending_secret,
                totp_last_step: r.totp_last_step,
            };
            (user, r.role)
        })
        .collect())
}

/// Every stored TOTP secret: (user id, enrolled, pending), by user id.
pub async fn list_totp_secrets(
    conn: &mut Connection,
) -> sqlx::Result<Vec<(String, Option<String>, Option<String>)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", totp_secret, totp_pending_secret FROM users
           WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL ORDER BY id"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.totp_secret, r.totp_pending_secret))
        .collect())
}

/// Replaces the enrolled TOTP secret if it is still `old`; answers rows changed.
pub async fn reseal_totp_secret(
    conn: &mut Connection,
    user_id: &str,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE users SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2",
        user_id,
        old,
        new,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Replaces the pending TOTP secret if it is still `old`; answers rows changed.
pub async fn reseal_pending_totp_secret(
    conn: &mut Connection,
    user_id: &str,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE users SET totp_pending_secret = $3 WHERE id = $1 AND totp_pending_secret = $2",
        user_id,
        old,
        new,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
