//! Users and their membership (role) in accounts. Passwords, sign-in and
//! devices build on this.

use lightbox_store::users::{self, UserRow};
use serde::Serialize;

use crate::error::{CoreError, ErrorKind};
use crate::{Core, accounts, ids, validate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

pub async fn create(core: &Core, login: &str, name: &str) -> Result<User, CoreError> {
    let login = validate::required_text("login", login, 320)?;
    let name = validate::required_text("name", name, 200)?;
    let now = core.now();
    let row = UserRow {
        id: ids::new_public_uuid(),
        login: login.to_lowercase(),
        name,
        password_hash: None,
        disabled: 0,
        created_at: now,
        updated_at: now,
    };
    let mut tx = core.store.begin_write().await?;
    if users::find(&mut tx, &row.login).await?.is_some() {
        return Err(CoreError::new(
            ErrorKind::Conflict,
            format!("A user with login {:?} already exists.", row.login),
        )
        .with_field("login"));
    }
    users::insert(&mut tx, &row).await?;
    tx.commit()
        .await
        .map_err(lightbox_store::StoreError::from)?;
    Ok(User {
        uuid: row.id,
        login: row.login,
        name: row.name,
    })
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
    users::upsert_membership(&mut tx, &account.uuid, &user.id, role.as_str(), core.now()).await?;
    tx.commit()
        .await
        .map_err(lightbox_store::StoreError::from)?;
    Ok(())
}
