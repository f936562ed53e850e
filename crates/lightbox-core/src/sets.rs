//! Sets: create, read, list in arranged order, the whole tree, rename /
//! recolour / lead image / re-parent, and sibling reorder. Membership,
//! image order, visibility and snapshots are in [`crate::set_arrangement`].

use lightbox_store::Timestamp;
use lightbox_store::sets::{self, SetRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::format_rfc3339;
use crate::edits::nullable;
use crate::error::{CoreError, ErrorKind};
use crate::operations::{Operation, OperationStatus};
use crate::set_arrangement;
use crate::websites::{WebsiteRef, WebsitesOfSets, of_all_sets, of_sets};
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

/// A fixed choice as it is stored: its JSON name.
pub(crate) fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A stored fixed choice read back; `None` when it is not one.
pub(crate) fn enum_parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
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
    /// Images in the set.
    pub image_count: i64,
    /// Images live in the set at the moment of the read (not hidden, or
    /// their activation time has come).
    pub live_image_count: i64,
    /// Sets directly under this one.
    pub child_count: i64,
    /// The website the set is on: the one whose root is this set or its
    /// nearest ancestor; null when none is.
    pub website: Option<WebsiteRef>,
    pub created_at: String,
    pub updated_at: String,
}

impl Set {
    pub(crate) fn from_row(row: &SetRow, websites: &WebsitesOfSets) -> Result<Self, CoreError> {
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
            lead_image_public_uuid: row.lead_image_id.clone(),
            image_count: row.image_count,
            live_image_count: row.live_image_count,
            child_count: row.child_count,
            website: websites.nearest(&row.id),
            created_at: format_rfc3339(row.created_at),
            updated_at: format_rfc3339(row.updated_at),
        })
    }
}

/// A set with its children, as `GET /v1/sets/tree` answers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SetNode {
    #[serde(flatten)]
    pub set: Set,
    /// The set's children in arranged order.
    #[schema(no_recursion)]
    pub children: Vec<SetNode>,
}

pub(crate) fn set_not_found(id: &str) -> CoreError {
    CoreError::new(ErrorKind::SetNotFound, format!("No set {id}."))
}

/// Creates a set; the Operation is `succeeded` in the answer.
pub async fn create(
    core: &Core,
    ctx: &WriteContext,
    input: NewSet,
) -> Result<Operation, CoreError> {
    writes::retrying(|| create_once(core, ctx, input.clone())).await
}

async fn create_once(
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
        && !sets::exists(write.tx(), &account_id, parent).await?
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
        lead_image_id: None,
        created_at: Timestamp(now),
        updated_at: Timestamp(now),
        child_count: 0,
        image_count: 0,
        live_image_count: 0,
    };
    sets::insert(write.tx(), &row).await?;
    let websites = of_sets(
        write.tx(),
        core,
        &row.account_id,
        std::slice::from_ref(&row.id),
    )
    .await?;
    let set = Set::from_row(&row, &websites)?;
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

/// A set id from a path: an id that cannot exist is simply not found.
pub(crate) fn set_id(id: &str) -> Result<String, CoreError> {
    if ids::is_uuid(id) {
        Ok(id.to_owned())
    } else {
        Err(set_not_found(id))
    }
}

pub async fn get(core: &Core, account_id: &str, id: &str) -> Result<Set, CoreError> {
    let id = set_id(id)?;
    let mut conn = core.store.read().await?;
    let row = sets::find(&mut conn, account_id, &id, Timestamp(core.now()))
        .await?
        .ok_or_else(|| set_not_found(&id))?;
    let websites = of_sets(&mut conn, core, account_id, std::slice::from_ref(&row.id)).await?;
    Set::from_row(&row, &websites)
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
        if !sets::exists(&mut conn, account_id, parent).await? {
            return Err(set_not_found(parent).with_field("parent_public_uuid"));
        }
    }
    let rows = sets::list_children(
        &mut conn,
        account_id,
        parent,
        Timestamp(core.now()),
        limit + 1,
        offset,
    )
    .await?;
    let (rows, more) = crate::cut_page(rows, limit);
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let websites = of_sets(&mut conn, core, account_id, &ids).await?;
    Ok((
        rows.iter()
            .map(|r| Set::from_row(r, &websites))
            .collect::<Result<_, _>>()?,
        more,
    ))
}

/// Every set of the account as a tree: top-level sets, each with its
/// children, siblings in arranged order.
pub async fn tree(core: &Core, account_id: &str) -> Result<Vec<SetNode>, CoreError> {
    let (rows, websites) = {
        let mut conn = core.store.read().await?;
        let rows = sets::list_all(&mut conn, account_id, Timestamp(core.now())).await?;
        let websites = of_all_sets(&mut conn, core, account_id, &rows).await?;
        (rows, websites)
    };
    let mut children: std::collections::HashMap<Option<String>, Vec<Set>> =
        std::collections::HashMap::new();
    for row in &rows {
        children
            .entry(row.parent_id.clone())
            .or_default()
            .push(Set::from_row(row, &websites)?);
    }
    // Built bottom-up without recursion, so a deep tree cannot overflow the stack.
    fn build(
        parent: Option<String>,
        children: &mut std::collections::HashMap<Option<String>, Vec<Set>>,
    ) -> Vec<SetNode> {
        let mut out = Vec::new();
        let mut stack: Vec<(Set, Vec<Set>, Vec<SetNode>)> = Vec::new();
        let mut top: Vec<Set> = children.remove(&parent).unwrap_or_default();
        top.reverse();
        loop {
            // Descend into the next pending set of the current level.
            let next = match stack.last_mut() {
                Some((_, pending, _)) => pending.pop(),
                None => top.pop(),
            };
            match next {
                Some(set) => {
                    let mut kids = children
                        .remove(&Some(set.public_uuid.clone()))
                        .unwrap_or_default();
                    kids.reverse();
                    stack.push((set, kids, Vec::new()));
                }
                None => match stack.pop() {
                    Some((set, _, done)) => {
                        let node = SetNode {
                            set,
                            children: done,
                        };
                        match stack.last_mut() {
                            Some((_, _, siblings)) => siblings.push(node),
                            None => out.push(node),
                        }
                    }
                    None => break,
                },
            }
        }
        out
    }
    Ok(build(None, &mut children))
}

/// `PATCH /v1/sets/{public_uuid}`: any of these; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPatch {
    /// 1-191 characters.
    #[schema(max_length = 191, min_length = 1)]
    pub name: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub colour: Option<Colour>,
    #[serde(rename = "type")]
    pub set_type: Option<SetType>,
    /// An image in the set; null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub lead_image_public_uuid: Option<Option<String>>,
    /// Move the set under this one (last among its children); null moves it
    /// to the top level. Under itself or one of its descendants → `400`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_public_uuid: Option<Option<String>>,
}

/// Renames, recolours, retypes, sets the lead image or re-parents a set. A
/// re-parent is a rearrangement: the set is snapshotted first.
pub async fn update(
    core: &Core,
    ctx: &WriteContext,
    id: &str,
    patch: SetPatch,
) -> Result<Operation, CoreError> {
    writes::retrying(|| update_once(core, ctx, id, patch.clone())).await
}

async fn update_once(
    core: &Core,
    ctx: &WriteContext,
    id: &str,
    patch: SetPatch,
) -> Result<Operation, CoreError> {
    let name = patch
        .name
        .as_deref()
        .map(|n| validate::required_text("name", n, NAME_MAX))
        .transpose()?;
    let description = patch
        .description
        .as_deref()
        .map(|d| validate::optional_text("description", d, DESCRIPTION_MAX))
        .transpose()?;
    if let Some(Some(lead)) = &patch.lead_image_public_uuid {
        validate::uuid("lead_image_public_uuid", lead)?;
    }
    if let Some(Some(parent)) = &patch.parent_public_uuid {
        validate::uuid("parent_public_uuid", parent)?;
    }
    let id = set_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    let now = write.now();
    if !sets::lock(write.tx(), &account, &id, Timestamp(now)).await? {
        return Err(set_not_found(&id));
    }
    let mut row = sets::find(write.tx(), &account, &id, Timestamp(now))
        .await?
        .ok_or_else(|| set_not_found(&id))?;
    if let Some(Some(lead)) = &patch.lead_image_public_uuid
        && !sets::members_include(write.tx(), &id, lead).await?
    {
        return Err(CoreError::validation(
            "lead_image_public_uuid",
            format!("lead_image_public_uuid must be an image of the set; {lead} is not in it."),
        ));
    }
    if let Some(parent) = &patch.parent_public_uuid
        && *parent != row.parent_id
    {
        if let Some(parent) = parent {
            check_new_parent(write.tx(), &account, &id, parent).await?;
        }
        let op_id = write.operation_id().to_owned();
        set_arrangement::snapshot(write.tx(), &row, "parent", &op_id, now).await?;
        row.position = sets::next_position(write.tx(), &account, parent.as_deref()).await?;
        row.parent_id = parent.clone();
    }
    if let Some(name) = name {
        row.name = name;
    }
    if let Some(description) = description {
        row.description = description;
    }
    if let Some(colour) = patch.colour {
        row.colour = enum_text(&colour);
    }
    if let Some(set_type) = patch.set_type {
        row.set_type = enum_text(&set_type);
    }
    if let Some(lead) = patch.lead_image_public_uuid {
        row.lead_image_id = lead;
    }
    row.updated_at = Timestamp(now);
    sets::update_fields(write.tx(), &row).await?;
    let row = sets::find(write.tx(), &account, &id, Timestamp(now))
        .await?
        .ok_or_else(CoreError::internal)?;
    let websites = of_sets(write.tx(), core, &account, std::slice::from_ref(&row.id)).await?;
    let set = Set::from_row(&row, &websites)?;
    write
        .finish(WorkDone {
            kind: "set.update",
            status: OperationStatus::Succeeded,
            result: json!({ "set": set }),
            image_public_uuids: vec![],
            set_public_uuid: Some(id.clone()),
            jobs: vec![],
            changes: vec![("set", id, "update")],
        })
        .await
}

/// A set may move under `parent` unless that is itself or one of its
/// descendants (walks up from `parent`; the tree is acyclic, so it ends).
pub(crate) async fn check_new_parent(
    conn: &mut lightbox_store::Conn,
    account: &str,
    id: &str,
    parent: &str,
) -> Result<(), CoreError> {
    if !sets::exists(conn, account, parent).await? {
        return Err(set_not_found(parent).with_field("parent_public_uuid"));
    }
    let cycle = || {
        CoreError::validation(
            "parent_public_uuid",
            "parent_public_uuid must not be the set itself or one of its descendants (that would make a cycle).",
        )
    };
    let mut at = Some(parent.to_owned());
    while let Some(current) = at {
        if current == id {
            return Err(cycle());
        }
        at = sets::parent_of(conn, account, &current).await?;
    }
    Ok(())
}

/// `PATCH /v1/sets/reorder` body: a full permutation of the siblings.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiblingOrder {
    /// Whose children to reorder; null for the top level.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_public_uuid: Option<String>,
    /// Every sibling exactly once, in the new order.
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 10000)]
    pub set_public_uuids: Vec<String>,
}

/// Reorders siblings. Under a parent set, it is a rearrangement of that
/// set: the parent is snapshotted first.
pub async fn reorder(
    core: &Core,
    ctx: &WriteContext,
    input: SiblingOrder,
) -> Result<Operation, CoreError> {
    writes::retrying(|| reorder_once(core, ctx, input.clone())).await
}

async fn reorder_once(
    core: &Core,
    ctx: &WriteContext,
    input: SiblingOrder,
) -> Result<Operation, CoreError> {
    if let Some(parent) = &input.parent_public_uuid {
        validate::uuid("parent_public_uuid", parent)?;
    }
    set_arrangement::check_unique_ids("set_public_uuids", &input.set_public_uuids)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    let now = write.now();
    let parent = input.parent_public_uuid.as_deref();
    if let Some(parent) = parent {
        if !sets::lock(write.tx(), &account, parent, Timestamp(now)).await? {
            return Err(set_not_found(parent).with_field("parent_public_uuid"));
        }
        let row = sets::find(write.tx(), &account, parent, Timestamp(now))
            .await?
            .ok_or_else(CoreError::internal)?;
        let op_id = write.operation_id().to_owned();
        set_arrangement::snapshot(write.tx(), &row, "reorder", &op_id, now).await?;
    }
    let current = sets::sibling_ids(write.tx(), &account, parent).await?;
    set_arrangement::check_permutation("set_public_uuids", &input.set_public_uuids, &current)?;
    sets::set_sibling_positions(write.tx(), &input.set_public_uuids, Timestamp(now)).await?;
    write
        .finish(WorkDone {
            kind: "set.reorder",
            status: OperationStatus::Succeeded,
            result: json!({ "parent_public_uuid": parent, "set_public_uuids": input.set_public_uuids }),
            image_public_uuids: vec![],
            set_public_uuid: input.parent_public_uuid.clone(),
            jobs: vec![],
            changes: input
                .set_public_uuids
                .iter()
                .map(|s| ("set", s.clone(), "update"))
                .collect(),
        })
        .await
}

/// Re-exported so the API names one module per resource.
pub use set_arrangement::{
    Arrangement, MembersBody, OrderBody, RestoreBody, Snapshot, VisibilityBody, arrange, images,
    snapshots,
};
