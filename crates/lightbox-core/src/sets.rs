//! Sets (the flat part): create, list siblings in arranged order, read one.

use lightbox_store::sets::{self, SetRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::format_rfc3339;
use crate::error::{CoreError, ErrorKind};
use crate::operations::{Operation, OperationStatus};
use crate::writes::{self, Begun, WorkDone, WriteContext};
use crate::{Core, ids, validate};

pub const NAME_MAX: usize = 191;
pub const DESCRIPTION_MAX: usize = 5000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    #[default]
    None,
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    Pink,
    Grey,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SetType {
    #[default]
    Gallery,
    Folder,
    Press,
    Private,
}

fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn enum_parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// `POST /v1/sets` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSet {
    /// 1-191 characters.
    #[schema(example = "Main stage — Saturday", max_length = 191, min_length = 1)]
    pub name: String,
    /// Up to 5000 characters.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub colour: Option<Colour>,
    #[serde(rename = "type")]
    pub set_type: Option<SetType>,
    /// Nest the new set under this one (last among its children).
    pub parent_public_uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Set {
    pub public_uuid: String,
    pub name: String,
    pub description: String,
    pub colour: Colour,
    #[serde(rename = "type")]
    pub set_type: SetType,
    pub parent_public_uuid: Option<String>,
    /// Place among its siblings, from 0.
    pub position: i64,
    pub lead_image_public_uuid: Option<String>,
    pub image_count: i64,
    pub live_image_count: i64,
    pub child_count: i64,
    /// The website the set is published on (none yet).
    #[schema(value_type = Option<Object>)]
    pub website: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl Set {
    fn from_row(row: &SetRow) -> Result<Self, CoreError> {
        let corrupt = || {
            CoreError::new(
                ErrorKind::Internal,
                format!("stored set {} is invalid", row.id),
            )
        };
        Ok(Self {
            public_uuid: row.id.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            colour: enum_parse(&row.colour).ok_or_else(corrupt)?,
            set_type: enum_parse(&row.set_type).ok_or_else(corrupt)?,
            parent_public_uuid: row.parent_id.clone(),
            position: row.position,
            lead_image_public_uuid: None,
            image_count: 0,
            live_image_count: 0,
            child_count: row.child_count,
            website: None,
            created_at: format_rfc3339(row.created_at),
            updated_at: format_rfc3339(row.updated_at),
        })
    }
}

fn set_not_found(id: &str) -> CoreError {
    CoreError::new(ErrorKind::SetNotFound, format!("No set {id}."))
}

/// Creates a set; the Operation is `succeeded` in the answer.
pub async fn create(
    core: &Core,
    ctx: &WriteContext,
    input: NewSet,
) -> Result<Operation, CoreError> {
    // Validate everything before touching data.
    let name = validate::required_text("name", &input.name, NAME_MAX)?;
    let description = validate::optional_text(
        "description",
        input.description.as_deref().unwrap_or(""),
        DESCRIPTION_MAX,
    )?;
    if let Some(parent) = &input.parent_public_uuid {
        validate::uuid("parent_public_uuid", parent)?;
    }
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account_id = write.account_id().to_owned();
    let parent = input.parent_public_uuid.as_deref();
    if let Some(parent) = parent
        && sets::find(write.tx(), &account_id, parent).await?.is_none()
    {
        return Err(set_not_found(parent).with_field("parent_public_uuid"));
    }
    let position = sets::next_position(write.tx(), &account_id, parent).await?;
    let now = write.now();
    let row = SetRow {
        id: ids::new_public_uuid(),
        account_id,
        parent_id: parent.map(str::to_owned),
        name,
        description,
        colour: enum_text(&input.colour.unwrap_or_default()),
        set_type: enum_text(&input.set_type.unwrap_or_default()),
        position,
        created_at: now,
        updated_at: now,
        child_count: 0,
    };
    sets::insert(write.tx(), &row).await?;
    let set = Set::from_row(&row)?;
    write
        .finish(WorkDone {
            kind: "set.create",
            status: OperationStatus::Succeeded,
            result: json!({ "set": set }),
            image_public_uuids: vec![],
            set_public_uuid: Some(row.id.clone()),
            jobs: vec![],
            changes: vec![("set", row.id.clone(), "create")],
        })
        .await
}

pub async fn get(core: &Core, account_id: &str, id: &str) -> Result<Set, CoreError> {
    if !ids::is_uuid(id) {
        return Err(set_not_found(id));
    }
    let mut conn = core.store.read().await?;
    let row = sets::find(&mut conn, account_id, id)
        .await?
        .ok_or_else(|| set_not_found(id))?;
    Set::from_row(&row)
}

/// One page of sets under `parent` (top level when None), plus whether more follow.
pub async fn list(
    core: &Core,
    account_id: &str,
    parent: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Set>, bool), CoreError> {
    let mut conn = core.store.read().await?;
    if let Some(parent) = parent {
        validate::uuid("parent_public_uuid", parent)?;
        if sets::find(&mut conn, account_id, parent).await?.is_none() {
            return Err(set_not_found(parent).with_field("parent_public_uuid"));
        }
    }
    let rows = sets::list_children(&mut conn, account_id, parent, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((
        rows.iter().map(Set::from_row).collect::<Result<_, _>>()?,
        more,
    ))
}
