//! Users and their membership (role) in accounts. Passwords, sign-in and
//! devices build on this.

use lightbox_store::Timestamp;
use lightbox_store::users::{self, UserRow};
use serde::Serialize;

use crate::error::{CoreError, ErrorKind};
use crate::{Core, accounts, ids, sessions, validate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub uuid: String,
    pub login: String,
    pub name: String,
}

/// Creates a user; without a password the user cannot sign in until one
/// is set.
pub async fn create(
    core: &Core,
    login: &str,
    name: &str,
    password: Option<&str>,
) -> Result<User, CoreError> {
    let login = validate::required_text("login", login, 320)?.to_lowercase();
    let name = validate::required_text("name", name, 200)?;
    let password_hash = match password {
        Some(p) => Some(new_password_hash(core, p, &[&login, &name], "password").await?),
        None => None,
    };
    let row = insert_user(core, login, name, password_hash, None).await?;
    Ok(User {
        uuid: row.id,
        login: row.login,
        name: row.name,
    })
}

/// Stores a new user (and, with `member`, their role in an account) in one
/// transaction. A login taken — also by a concurrent create that won the
/// race — is a 409 on `login`.
async fn insert_user(
    core: &Core,
    login: String,
    name: String,
    password_hash: Option<String>,
    member: Option<(&str, Role)>,
) -> Result<UserRow, CoreError> {
    let taken = |login: &str| {
        CoreError::new(
            ErrorKind::Conflict,
            format!("A user with login {login:?} already exists."),
        )
        .with_field("login")
    };
    let now = core.now();
    let row = UserRow {
        id: ids::new_public_uuid(),
        login,
        name,
        password_hash,
        disabled: false,
        created_at: Timestamp(now),
        updated_at: Timestamp(now),
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
    };
    let mut tx = core.store.begin_write().await?;
    if users::find(&mut tx, &row.login).await?.is_some() {
        return Err(taken(&row.login));
    }
    match users::insert(&mut tx, &row).await {
        Err(e) if e.is_unique_violation() => return Err(taken(&row.login)),
        other => other?,
    }
    if let Some((account_id, role)) = member {
        users::upsert_membership(&mut tx, account_id, &row.id, role.as_str(), Timestamp(now))
            .await?;
    }
    match tx.commit().await {
        Err(e) if e.is_unique_violation() => Err(taken(&row.login)),
        other => other.map(|()| row).map_err(CoreError::from),
    }
}

pub async fn add_to_account(
    core: &Core,
    user: &str,
    account: &str,
    role: Role,
) -> Result<(), CoreError> {
    let account = accounts::find(core, account).await?;
    let mut tx = core.store.begin_write().await?;
    // Logins are stored lowercase and uuids are lowercase: one lookup covers both.
    let user = users::find(&mut tx, &user.to_lowercase())
        .await?
        .ok_or_else(|| CoreError::new(ErrorKind::NotFound, format!("No user {user:?}.")))?;
    users::upsert_membership(
        &mut tx,
        &account.uuid,
        &user.id,
        role.as_str(),
        Timestamp(core.now()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a new password's rules (length, strength against common and
/// breached patterns and the user's own details; `field` names it in a
/// refusal) and hashes it.
pub async fn new_password_hash(
    core: &Core,
    password: &str,
    user_inputs: &[&str],
    field: &str,
) -> Result<String, CoreError> {
    let hasher = &core.sessions.hasher;
    hasher.check_rules(password, user_inputs, field).await?;
    hasher.hash(password).await
}

/// Finds a user by uuid or login.
pub async fn find(core: &Core, user: &str) -> Result<UserRow, CoreError> {
    let mut conn = core.store.read().await?;
    users::find(&mut conn, &user.to_lowercase())
        .await?
        .ok_or_else(|| CoreError::new(ErrorKind::NotFound, format!("No user {user:?}.")))
}

/// Sets a password as an operator (the CLI); ends every session of the user.
pub async fn set_password(core: &Core, user: &str, password: &str) -> Result<(), CoreError> {
    let row = find(core, user).await?;
    let phc = new_password_hash(core, password, &[&row.login, &row.name], "password").await?;
    let mut tx = core.store.begin_write().await?;
    users::set_password(&mut tx, &row.id, &phc, Timestamp(core.now())).await?;
    sessions::end_user_sessions(core, &mut tx, &row.id, None, "password_changed").await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a signed-in user's current password, given in `field` (rate
/// limited like a sign-in, since it is one).
pub async fn confirm_password(
    core: &Core,
    ip: std::net::IpAddr,
    user: &UserRow,
    password: &str,
    field: &str,
) -> Result<(), CoreError> {
    let attempt = check_password(core, ip, user, password, field).await?;
    crate::limits::succeeded(core, &core.sessions.settings.limits, &attempt).await
}

/// Checks the current password and leaves the attempt counted: the caller
/// settles it once every proof it asks for was right.
pub async fn check_password(
    core: &Core,
    ip: std::net::IpAddr,
    user: &UserRow,
    password: &str,
    field: &str,
) -> Result<crate::limits::Attempt, CoreError> {
    let limits = &core.sessions.settings.limits;
    let attempt = crate::limits::reserve(core, limits, ip, &user.login).await?;
    let verdict = core
        .sessions
        .hasher
        .verify(password, user.password_hash.as_deref())
        .await;
    match verdict {
        Ok(true) => Ok(attempt),
        Ok(false) => Err(CoreError::validation(
            field,
            "The current password is wrong.",
        )),
        Err(e) => {
            crate::limits::undo(core, limits, &attempt).await?;
            Err(e)
        }
    }
}

/// A signed-in user changes their own password; every other session ends.
pub async fn change_password(
    core: &Core,
    ip: std::net::IpAddr,
    user_id: &str,
    keep_session: &str,
    current: &str,
    new: &str,
) -> Result<(), CoreError> {
    let row = find(core, user_id).await?;
    // The new password's rules first: a refusal costs no hashing.
    let hasher = &core.sessions.hasher;
    hasher
        .check_rules(new, &[&row.login, &row.name], "new_password")
        .await?;
    confirm_password(core, ip, &row, current, "current_password").await?;
    let phc = hasher.hash(new).await?;
    let mut tx = core.store.begin_write().await?;
    users::set_password(&mut tx, &row.id, &phc, Timestamp(core.now())).await?;
    sessions::end_user_sessions(
        core,
        &mut tx,
        &row.id,
        Some(keep_session),
        "password_changed",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (or re-enables) a user; disabling ends every session at once.
pub async fn set_disabled(core: &Core, user: &str, disabled: bool) -> Result<(), CoreError> {
    let row = find(core, user).await?;
    let mut tx = core.store.begin_write().await?;
    users::set_disabled(&mut tx, &row.id, disabled, Timestamp(core.now())).await?;
    if disabled {
        sessions::end_user_sessions(core, &mut tx, &row.id, None, "user_disabled").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A member of an account, as its admins see it.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub uuid: String,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub two_factor: bool,
    pub created_at: String,
}

/// The account's members, by login.
pub async fn list_members(core: &Core, account_id: &str) -> Result<Vec<Member>, CoreError> {
    let mut conn = core.store.read().await?;
    let rows = users::list_for_account(&mut conn, account_id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, role)| {
            Some(Member {
                role: Role::parse(&role)?,
                disabled: u.disabled,
                two_factor: u.totp_secret.is_some(),
                created_at: crate::clock::format_rfc3339(u.created_at),
                uuid: u.id,
                login: u.login,
                name: u.name,
            })
        })
        .collect())
}

/// An account admin creates a user with a password and adds it to the
/// account, in one transaction (a refused password or a taken login leaves
/// nothing behind).
pub async fn create_member(
    core: &Core,
    account_id: &str,
    login: &str,
    name: &str,
    password: &str,
    role: Role,
) -> Result<Member, CoreError> {
    let login = validate::required_text("login", login, 320)?.to_lowercase();
    let name = validate::required_text("name", name, 200)?;
    let password_hash = new_password_hash(core, password, &[&login, &name], "password").await?;
    let row = insert_user(
        core,
        login,
        name,
        Some(password_hash),
        Some((account_id, role)),
    )
    .await?;
    Ok(Member {
        uuid: row.id,
        login: row.login,
        name: row.name,
        role,
        disabled: false,
        two_factor: false,
        created_at: crate::clock::format_rfc3339(row.created_at),
    })
}

fn no_member() -> CoreError {
    CoreError::new(ErrorKind::NotFound, "No such user in this account.").with_detail("user")
}

/// A member of the account other than the acting admin (an admin cannot
/// demote or disable themself, so an account never loses its last admin
/// by accident).
async fn other_member(
    conn: &mut lightbox_store::Conn,
    account_id: &str,
    actor_id: &str,
    target: &str,
) -> Result<(UserRow, Vec<users::MembershipRow>), CoreError> {
    if !ids::is_uuid(target) {
        return Err(no_member());
    }
    let user = users::find(conn, target).await?.ok_or_else(no_member)?;
    let memberships = users::memberships(conn, &user.id).await?;
    if !memberships.iter().any(|m| m.account_id == account_id) {
        return Err(no_member());
    }
    if user.id == actor_id {
        return Err(CoreError::forbidden(
            "You cannot change your own role or disable yourself; ask another admin.",
        )
        .with_detail("self"));
    }
    Ok((user, memberships))
}

/// Changes a member's role; it takes effect on the member's next request.
pub async fn set_member_role(
    core: &Core,
    account_id: &str,
    actor_id: &str,
    target: &str,
    role: Role,
) -> Result<(), CoreError> {
    let mut tx = core.store.begin_write().await?;
    let (user, _) = other_member(&mut tx, account_id, actor_id, target).await?;
    users::upsert_membership(
        &mut tx,
        account_id,
        &user.id,
        role.as_str(),
        Timestamp(core.now()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (ending every session at once) or re-enables a member. A user
/// is one person across accounts, so an account admin may only disable
/// someone who works in no other account; an operator can always
/// (`lightbox user disable`).
pub async fn set_member_disabled(
    core: &Core,
    account_id: &str,
    actor_id: &str,
    target: &str,
    disabled: bool,
) -> Result<(), CoreError> {
    let mut tx = core.store.begin_write().await?;
    let (user, memberships) = other_member(&mut tx, account_id, actor_id, target).await?;
    if memberships.iter().any(|m| m.account_id != account_id) {
        return Err(CoreError::forbidden(
            "This user also works in other accounts; only an operator can disable them (lightbox user disable).",
        )
        .with_detail("other_accounts"));
    }
    users::set_disabled(&mut tx, &user.id, disabled, Timestamp(core.now())).await?;
    if disabled {
        sessions::end_user_sessions(core, &mut tx, &user.id, None, "user_disabled").await?;
    }
    tx.commit().await?;
    Ok(())
}
