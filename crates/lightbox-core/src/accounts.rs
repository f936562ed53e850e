//! Accounts: create, find, and the API access switch.

use lightbox_store::Timestamp;
use lightbox_store::accounts::{self, AccountRow};
use serde::Serialize;

use crate::error::{CoreError, ErrorKind};
use crate::{Core, ids, revocation, validate};

/// How an account appears inside other objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountRef {
    #[schema(example = "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f")]
    pub uuid: String,
    #[schema(example = "My Festival")]
    pub name: String,
    #[schema(example = "myfest")]
    pub unique_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub uuid: String,
    pub name: String,
    pub unique_id: String,
    pub api_enabled: bool,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Self {
            api_enabled: row.api_enabled,
            uuid: row.id,
            name: row.name,
            unique_id: row.unique_id,
        }
    }
}

pub async fn create(core: &Core, name: &str, unique_id: &str) -> Result<Account, CoreError> {
    let name = validate::required_text("name", name, 200)?;
    validate::slug("unique_id", unique_id)?;
    let now = core.now();
    let row = AccountRow {
        id: ids::new_public_uuid(),
        unique_id: unique_id.to_owned(),
        name,
        api_enabled: false,
        created_at: Timestamp(now),
        updated_at: Timestamp(now),
    };
    let mut tx = core.store.begin_write().await?;
    if accounts::find(&mut tx, unique_id).await?.is_some() {
        return Err(CoreError::new(
            ErrorKind::Conflict,
            format!("An account with unique id {unique_id:?} already exists."),
        )
        .with_field("unique_id"));
    }
    accounts::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Finds an account by uuid or unique id.
pub async fn find(core: &Core, id_or_unique_id: &str) -> Result<Account, CoreError> {
    let mut conn = core.store.read().await?;
    accounts::find(&mut conn, id_or_unique_id)
        .await?
        .map(Account::from)
        .ok_or_else(|| {
            CoreError::new(
                ErrorKind::NotFound,
                format!("No account {id_or_unique_id:?}."),
            )
        })
}

/// Turns the API switch on or off; returns once every live node applies it
/// (nodes that did not answer in time are logged).
pub async fn set_api_access(
    core: &Core,
    id_or_unique_id: &str,
    enabled: bool,
) -> Result<Account, CoreError> {
    let (account, unanswered) = set_api_access_everywhere(core, id_or_unique_id, enabled).await?;
    if let Some(message) = revocation::unanswered_message(&unanswered) {
        tracing::warn!(account = %account.uuid, "API switch: {message}");
    }
    Ok(account)
}

/// [`set_api_access`], also returning the live nodes that did not apply the
/// change within [`revocation::WAIT_AT_MOST`].
pub async fn set_api_access_everywhere(
    core: &Core,
    id_or_unique_id: &str,
    enabled: bool,
) -> Result<(Account, Vec<String>), CoreError> {
    let account = find(core, id_or_unique_id).await?;
    let mut tx = core.store.begin_write().await?;
    accounts::set_api_enabled(&mut tx, &account.uuid, enabled, Timestamp(core.now())).await?;
    // Cached principals carry the switch.
    let epoch = revocation::bump(&mut tx).await?;
    tx.commit().await?;
    core.auth.forget_account(&account.uuid);
    let unanswered = revocation::reach_every_node(core, epoch).await?;
    let account = Account {
        api_enabled: enabled,
        ..account
    };
    Ok((account, unanswered))
}
