//! Metadata profiles: an account's reusable sets of IPTC fields ("master
//! profiles"). Made and assigned with the command line; listed by
//! `GET /v1/metadata_profiles`. A member's default profile fills the IPTC
//! fields its uploads leave empty (what the file or ticket says wins).

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use lightbox_store::editorial::{self, ProfileRow};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::format_rfc3339;
use crate::edits::{MetadataPatch, merge_metadata};
use crate::error::{CoreError, ErrorKind};
use crate::uploads::{ProfileChoice, Uploader};
use crate::{Core, ids, validate};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetadataProfile {
    pub uuid: String,
    #[schema(example = "Festival press")]
    pub name: String,
    /// The IPTC fields the profile sets.
    #[schema(value_type = Object, example = json!({"creator": "Jane Doe", "copyright_marked": true}))]
    pub fields: Value,
    /// Users whose uploads it fills (their default profile).
    pub default_for: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A profile by name or uuid (`404` when the account has none such).
pub async fn find(
    core: &Core,
    account_id: &str,
    profile: &str,
) -> Result<MetadataProfile, CoreError> {
    let row = {
        let mut conn = core.store.read().await?;
        existing(&mut conn, account_id, profile).await?
    };
    view(core, row).await
}

async fn view(core: &Core, row: ProfileRow) -> Result<MetadataProfile, CoreError> {
    let mut conn = core.store.read().await?;
    let default_for = editorial::profile_members(&mut conn, &row.id).await?;
    Ok(MetadataProfile {
        uuid: row.id,
        name: row.name,
        fields: serde_json::from_str(row.fields.as_str())
            .unwrap_or_else(|_| Value::Object(Map::new())),
        default_for,
        created_at: format_rfc3339(row.created_at),
        updated_at: format_rfc3339(row.updated_at),
    })
}

pub async fn list(core: &Core, account_id: &str) -> Result<Vec<MetadataProfile>, CoreError> {
    let rows = {
        let mut conn = core.store.read().await?;
        editorial::profiles(&mut conn, account_id).await?
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(core, row).await?);
    }
    Ok(out)
}

/// Creates the profile `name`, or replaces its fields. `fields` is a JSON
/// object of IPTC Core keys, checked like `PUT /v1/images/{id}/metadata`.
pub async fn save(
    core: &Core,
    account_id: &str,
    name: &str,
    fields: Value,
) -> Result<MetadataProfile, CoreError> {
    let name = validate::required_text("name", name, 100)?;
    let patch: MetadataPatch = serde_json::from_value(fields)
        .map_err(|e| CoreError::validation("fields", format!("fields: {e}")))?;
    let merged = merge_metadata("{}", &patch.check()?);
    let now = core.now();
    let row = {
        let mut tx = core.store.begin_write().await?;
        let row = editorial::upsert_profile(
            &mut tx,
            &ProfileRow {
                id: ids::new_public_uuid(),
                account_id: account_id.to_owned(),
                name,
                fields: JsonText(Value::Object(merged).to_string()),
                created_at: Timestamp(now),
                updated_at: Timestamp(now),
            },
        )
        .await?;
        tx.commit().await?;
        row
    };
    view(core, row).await
}

/// Creates the profile `name`; a name the account already uses is refused
/// (`409`), where [`save`] would replace that profile's fields.
pub async fn create(
    core: &Core,
    account_id: &str,
    name: &str,
    fields: Value,
) -> Result<MetadataProfile, CoreError> {
    let name = validate::required_text("name", name, 100)?;
    let taken = {
        let mut conn = core.store.read().await?;
        editorial::find_profile(&mut conn, account_id, &name).await?
    };
    if taken.is_some_and(|p| p.name == name) {
        return Err(CoreError::new(
            ErrorKind::Conflict,
            format!("A metadata profile is already named {name:?}: change that one, or choose another name."),
        )
        .with_field("name"));
    }
    save(core, account_id, &name, fields).await
}

/// The account's profile named (or with the uuid) `profile`, else `404`.
async fn existing(
    conn: &mut lightbox_store::Conn,
    account_id: &str,
    profile: &str,
) -> Result<ProfileRow, CoreError> {
    editorial::find_profile(conn, account_id, profile)
        .await?
        .ok_or_else(|| profile_not_found(profile))
}

fn profile_not_found(name: &str) -> CoreError {
    CoreError::new(
        ErrorKind::NotFound,
        format!("No metadata profile {name:?}."),
    )
}

/// Makes `profile` (a name or uuid; `None` for none) the member's default.
pub async fn set_default(
    core: &Core,
    account_id: &str,
    user_id: &str,
    profile: Option<&str>,
) -> Result<(), CoreError> {
    let mut tx = core.store.begin_write().await?;
    let profile_id = match profile {
        None => None,
        Some(name) => Some(existing(&mut tx, account_id, name).await?.id),
    };
    if !editorial::set_default_profile(&mut tx, account_id, user_id, profile_id.as_deref()).await? {
        return Err(CoreError::new(
            ErrorKind::NotFound,
            "That user is not a member of the account.",
        ));
    }
    tx.commit().await?;
    Ok(())
}

pub async fn delete(core: &Core, account_id: &str, profile: &str) -> Result<(), CoreError> {
    let mut tx = core.store.begin_write().await?;
    let row = existing(&mut tx, account_id, profile).await?;
    editorial::delete_profile(&mut tx, account_id, &row.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Fills the keys `metadata` lacks from the profile the upload chose, else
/// from the uploading member's default profile (tokens have none).
pub(crate) async fn fill_for_upload(
    conn: &mut lightbox_store::Conn,
    account_id: &str,
    by: &Uploader,
    choice: Option<&ProfileChoice>,
    metadata: &mut Map<String, Value>,
) -> Result<(), CoreError> {
    let profile = match (choice, by) {
        (Some(ProfileChoice::NoProfile), _) => None,
        // Deleted since the ticket was made: nothing, not another profile.
        (Some(ProfileChoice::Profile(id)), _) => {
            editorial::find_profile(conn, account_id, id).await?
        }
        (None, Uploader::User(user)) => editorial::default_profile(conn, account_id, user).await?,
        (None, Uploader::Token(_)) => None,
    };
    if let Some(profile) = profile {
        let fields: Map<String, Value> =
            serde_json::from_str(profile.fields.as_str()).unwrap_or_default();
        for (key, value) in fields {
            metadata.entry(key).or_insert(value);
        }
    }
    Ok(())
}
