//! Rearranging a set: membership, image order, visibility (publishing) and
//! restoring a snapshot — and the snapshots themselves.
//!
//! Every rearrangement is one transaction that first takes the set's row
//! lock ([`sets::lock`]), then reads the members, checks the change against
//! them ([`plan`]), snapshots the set, and writes ([`apply_plan`]). Two editors
//! reordering one set therefore run one after the other: the result is one
//! of their orders, never a mix, and a full permutation that no longer
//! matches the members (someone added or removed an image meanwhile) is
//! refused instead of losing an image.
//!
//! Changes touching more than [`INLINE_MAX`] images are checked in the
//! request (so a bad one is refused with `400`/`404` at once), then run by
//! a job ([`ARRANGE_JOB`]) in one transaction of its own; the Operation
//! answers `queued` and ends `succeeded` or `failed`.

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use std::collections::{HashMap, HashSet};

use lightbox_store::Conn;
use lightbox_store::change_log::{self, Change};
use lightbox_store::sets::{self, MemberRow, SetRow, SnapshotRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::clock::{format_rfc3339, format_rfc3339_precise, parse_request_time};
use crate::error::{CoreError, ErrorKind};
use crate::jobs::{Job, JobFailure, JobFuture, JobPayload};
use crate::operations::{Operation, OperationStatus};
use crate::sets::{set_id, set_not_found};
use crate::users::Role;
use crate::writes::{self, Begun, JobSpec, PendingWrite, WorkDone, WriteContext};
use crate::{Core, ids, validate};

/// Most images one request may name (membership, order, visibility).
pub const MAX_IMAGES: usize = 10_000;
/// Changes touching more images than this run as a job.
pub const INLINE_MAX: usize = 1_000;
/// Snapshots kept per set: the newest this many; older ones are deleted
/// when a new one is taken.
pub const SNAPSHOTS_KEPT: i64 = 50;
pub const ARRANGE_JOB: &str = "set.arrange";

// --- request bodies -------------------------------------------------------------

/// `POST`/`DELETE /v1/sets/{public_uuid}/images` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    /// 1-10,000 images of the account (one listed twice counts once).
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 10000)]
    pub image_public_uuids: Vec<String>,
}

/// `PATCH /v1/sets/{public_uuid}/order` body: either a full permutation
/// (`image_public_uuids`), or `move` with exactly one of `before`/`after`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    /// Every image of the set exactly once, in the new order.
    #[schema(value_type = Option<Vec<uuid::Uuid>>, max_items = 10000)]
    pub image_public_uuids: Option<Vec<String>>,
    /// Images of the set to move, in the order they should end up.
    #[serde(rename = "move")]
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1, max_items = 10000)]
    pub move_images: Option<Vec<String>>,
    /// Put the moved images just before this image of the set.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub before: Option<String>,
    /// Put the moved images just after this image of the set.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub after: Option<String>,
}

/// `PATCH /v1/sets/{public_uuid}/visibility` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityBody {
    /// Images of the set to change; absent → every image of the set.
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1, max_items = 10000)]
    pub image_public_uuids: Option<Vec<String>>,
    /// A real boolean (`"true"` is refused).
    pub hidden: bool,
    /// RFC 3339 or `YYYY-MM-DD`; the images go live at exactly this moment
    /// (hidden until then). Null or absent: no embargo.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-07-14T20:00:00Z")]
    pub activation_time: Option<String>,
}

/// `POST /v1/sets/{public_uuid}/restore` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    /// A snapshot of this set (`GET /v1/sets/{public_uuid}/snapshots`).
    #[schema(value_type = uuid::Uuid)]
    pub snapshot_uuid: String,
}

/// A snapshot: the set's arrangement as it was before a change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Snapshot {
    pub uuid: String,
    pub set_public_uuid: String,
    /// What was about to change: `membership`, `order`, `visibility`,
    /// `parent`, `reorder` (its children) or `restore`.
    pub reason: String,
    /// Images in the set at the time.
    pub image_count: i64,
    /// The Operation that made the change.
    pub operation_uuid: Option<String>,
    pub created_at: String,
}

// --- the change, checked ----------------------------------------------------------

/// A checked rearrangement; also the job's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Arrangement {
    Add {
        images: Vec<String>,
    },
    Remove {
        images: Vec<String>,
    },
    Order {
        images: Vec<String>,
    },
    Move {
        images: Vec<String>,
        anchor: String,
        after: bool,
    },
    Visibility {
        images: Option<Vec<String>>,
        hidden: bool,
        activation_time: Option<i64>,
    },
    Restore {
        snapshot: String,
    },
}

/// Ids must be UUIDs, each once, at most [`MAX_IMAGES`].
pub(crate) fn check_unique_ids(field: &str, ids: &[String]) -> Result<(), CoreError> {
    if ids.len() > MAX_IMAGES {
        return Err(CoreError::validation(
            field,
            format!("{field} may list at most {MAX_IMAGES} ids."),
        ));
    }
    let mut seen = HashSet::with_capacity(ids.len());
    for (n, id) in ids.iter().enumerate() {
        validate::uuid(&format!("{field}[{n}]"), id)?;
        if !seen.insert(id.as_str()) {
            return Err(CoreError::validation(
                format!("{field}[{n}]"),
                format!("{field} lists {id} twice."),
            ));
        }
    }
    Ok(())
}

/// 1 to [`MAX_IMAGES`] UUIDs; an id listed twice counts once (adding,
/// removing or hiding an image twice is the same as once).
pub(crate) fn id_set(field: &str, ids: Vec<String>) -> Result<Vec<String>, CoreError> {
    if ids.is_empty() {
        return Err(CoreError::validation(
            field,
            format!("{field} must list at least one id."),
        ));
    }
    if ids.len() > MAX_IMAGES {
        return Err(CoreError::validation(
            field,
            format!("{field} may list at most {MAX_IMAGES} ids."),
        ));
    }
    let mut seen = HashSet::with_capacity(ids.len());
    let mut out = Vec::with_capacity(ids.len());
    for (n, id) in ids.into_iter().enumerate() {
        validate::uuid(&format!("{field}[{n}]"), &id)?;
        if seen.insert(id.clone()) {
            out.push(id);
        }
    }
    Ok(out)
}

/// `given` must hold exactly the ids of `current` (in any order).
pub(crate) fn check_permutation(
    field: &str,
    given: &[String],
    current: &[String],
) -> Result<(), CoreError> {
    let current_set: HashSet<&str> = current.iter().map(String::as_str).collect();
    if let Some((n, stray)) = given
        .iter()
        .enumerate()
        .find(|(_, id)| !current_set.contains(id.as_str()))
    {
        return Err(CoreError::validation(
            format!("{field}[{n}]"),
            format!(
                "{field} must be a permutation of the current ones; {stray} is not among them."
            ),
        ));
    }
    if given.len() != current.len() {
        return Err(CoreError::validation(
            field,
            format!(
                "{field} must list every current one exactly once: {} listed, {} there.",
                given.len(),
                current.len()
            ),
        ));
    }
    Ok(())
}

impl Arrangement {
    pub fn add(body: MembersBody) -> Result<Self, CoreError> {
        Ok(Arrangement::Add {
            images: id_set("image_public_uuids", body.image_public_uuids)?,
        })
    }

    pub fn remove(body: MembersBody) -> Result<Self, CoreError> {
        Ok(Arrangement::Remove {
            images: id_set("image_public_uuids", body.image_public_uuids)?,
        })
    }

    pub fn order(body: OrderBody) -> Result<Self, CoreError> {
        match body {
            OrderBody {
                image_public_uuids: Some(images),
                move_images: None,
                before: None,
                after: None,
            } => {
                check_unique_ids("image_public_uuids", &images)?;
                Ok(Arrangement::Order { images })
            }
            OrderBody {
                image_public_uuids: None,
                move_images: Some(images),
                before,
                after,
            } => {
                if images.is_empty() {
                    return Err(CoreError::validation(
                        "move",
                        "move must list at least one id.",
                    ));
                }
                check_unique_ids("move", &images)?;
                let (anchor, after, field) = match (before, after) {
                    (Some(b), None) => (b, false, "before"),
                    (None, Some(a)) => (a, true, "after"),
                    _ => {
                        return Err(CoreError::validation(
                            "before",
                            "move needs exactly one of before or after.",
                        ));
                    }
                };
                validate::uuid(field, &anchor)?;
                if images.contains(&anchor) {
                    return Err(CoreError::validation(
                        field,
                        format!("{field} must not be one of the images being moved."),
                    ));
                }
                Ok(Arrangement::Move {
                    images,
                    anchor,
                    after,
                })
            }
            OrderBody {
                image_public_uuids: Some(_),
                ..
            } => Err(CoreError::validation(
                "image_public_uuids",
                "Give either image_public_uuids (a full order) or move with before/after, not both.",
            )),
            _ => Err(CoreError::validation(
                "image_public_uuids",
                "Give image_public_uuids (a full order), or move with before or after.",
            )),
        }
    }

    pub fn visibility(body: VisibilityBody) -> Result<Self, CoreError> {
        let images = body
            .image_public_uuids
            .map(|ids| id_set("image_public_uuids", ids))
            .transpose()?;
        let activation_time = body
            .activation_time
            .as_deref()
            .map(|t| {
                parse_request_time(t).ok_or_else(|| {
                    CoreError::validation(
                        "activation_time",
                        "activation_time must be an RFC 3339 time or YYYY-MM-DD.",
                    )
                })
            })
            .transpose()?;
        Ok(Arrangement::Visibility {
            images,
            hidden: body.hidden,
            activation_time,
        })
    }

    pub fn restore(body: RestoreBody) -> Result<Self, CoreError> {
        if !ids::is_uuid(&body.snapshot_uuid) {
            return Err(snapshot_not_found(&body.snapshot_uuid).with_field("snapshot_uuid"));
        }
        Ok(Arrangement::Restore {
            snapshot: body.snapshot_uuid,
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            Arrangement::Add { .. } => "set.images.add",
            Arrangement::Remove { .. } => "set.images.remove",
            Arrangement::Order { .. } | Arrangement::Move { .. } => "set.order",
            Arrangement::Visibility { .. } => "set.visibility",
            Arrangement::Restore { .. } => "set.restore",
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Arrangement::Add { .. } | Arrangement::Remove { .. } => "membership",
            Arrangement::Order { .. } | Arrangement::Move { .. } => "order",
            Arrangement::Visibility { .. } => "visibility",
            Arrangement::Restore { .. } => "restore",
        }
    }

    /// The images the request names (for the Operation).
    fn named_images(&self) -> Vec<String> {
        match self {
            Arrangement::Add { images }
            | Arrangement::Remove { images }
            | Arrangement::Order { images }
            | Arrangement::Move { images, .. } => images.clone(),
            Arrangement::Visibility { images, .. } => images.clone().unwrap_or_default(),
            Arrangement::Restore { .. } => Vec::new(),
        }
    }
}

fn snapshot_not_found(id: &str) -> CoreError {
    CoreError::new(
        ErrorKind::SnapshotNotFound,
        format!("No snapshot {id} of this set."),
    )
}

// --- planning and writing -----------------------------------------------------------

/// What the set's state becomes: members in order with their visibility.
struct Plan {
    /// The members as [`plan`] read them (the set is locked: still current
    /// when the plan is written).
    current: Vec<MemberRow>,
    /// The new members in display order (None: membership and order unchanged).
    members: Option<Vec<MemberRow>>,
    /// Visibility change: (ids, hidden, activation_time).
    visibility: Option<(Option<Vec<String>>, bool, Option<i64>)>,
    /// Images whose membership or visibility changes (the search index re-reads them).
    touched: Vec<String>,
    /// Restore only: lead image, parent and children order to put back.
    restore: Option<SnapshotState>,
    result: Value,
}

/// The state a snapshot keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SnapshotState {
    parent: Option<String>,
    position: i64,
    lead: Option<String>,
    children: Vec<String>,
    /// `[image_id, hidden, activation_time]` in display order; `hidden` is
    /// 0/1, as every snapshot already stored has it.
    images: Vec<(String, i64, Option<i64>)>,
}

/// Checks the change against the set's current members and works out the
/// new state, without writing. Errors are the client's (400/404/409).
async fn plan(conn: &mut Conn, set: &SetRow, change: &Arrangement) -> Result<Plan, CoreError> {
    let current = sets::members(conn, &set.id).await?;
    let index: HashMap<&str, usize> = current
        .iter()
        .enumerate()
        .map(|(n, m)| (m.image_id.as_str(), n))
        .collect();
    let not_member = |field: String, id: &str| {
        CoreError::validation(field, format!("{id} is not an image of this set."))
    };
    match change {
        Arrangement::Add { images } => {
            let existing: HashSet<String> = sets::existing_images(conn, &set.account_id, images)
                .await?
                .into_iter()
                .collect();
            if let Some((n, missing)) = images
                .iter()
                .enumerate()
                .find(|(_, id)| !existing.contains(*id))
            {
                return Err(CoreError::new(
                    ErrorKind::ImageNotFound,
                    format!("No image {missing}."),
                )
                .with_field(format!("image_public_uuids[{n}]")));
            }
            let mut members = current.clone();
            let mut added = Vec::new();
            for id in images {
                if !index.contains_key(id.as_str()) {
                    members.push(MemberRow {
                        image_id: id.clone(),
                        position: 0,
                        hidden: false,
                        activation_time: None,
                    });
                    added.push(id.clone());
                }
            }
            let result = json!({ "set_public_uuid": set.id, "added": added.len(), "already_in": images.len() - added.len(), "image_count": members.len() });
            Ok(Plan {
                current: current.clone(),
                members: Some(members),
                visibility: None,
                touched: added,
                restore: None,
                result,
            })
        }
        Arrangement::Remove { images } => {
            let removing: HashSet<&str> = images
                .iter()
                .map(String::as_str)
                .filter(|id| index.contains_key(id))
                .collect();
            let members: Vec<MemberRow> = current
                .iter()
                .filter(|m| !removing.contains(m.image_id.as_str()))
                .cloned()
                .collect();
            let touched: Vec<String> = images
                .iter()
                .filter(|id| removing.contains(id.as_str()))
                .cloned()
                .collect();
            let result = json!({ "set_public_uuid": set.id, "removed": touched.len(), "not_in_set": images.len() - touched.len(), "image_count": members.len() });
            Ok(Plan {
                current: current.clone(),
                members: Some(members),
                visibility: None,
                touched,
                restore: None,
                result,
            })
        }
        Arrangement::Order { images } => {
            let ids: Vec<String> = current.iter().map(|m| m.image_id.clone()).collect();
            check_permutation("image_public_uuids", images, &ids)?;
            let members = images
                .iter()
                .filter_map(|id| index.get(id.as_str()).map(|n| current[*n].clone()))
                .collect();
            Ok(Plan {
                current: current.clone(),
                members: Some(members),
                visibility: None,
                touched: Vec::new(),
                restore: None,
                result: json!({ "set_public_uuid": set.id, "image_count": images.len() }),
            })
        }
        Arrangement::Move {
            images,
            anchor,
            after,
        } => {
            let field = if *after { "after" } else { "before" };
            if !index.contains_key(anchor.as_str()) {
                return Err(not_member(field.to_owned(), anchor));
            }
            if let Some((n, id)) = images
                .iter()
                .enumerate()
                .find(|(_, id)| !index.contains_key(id.as_str()))
            {
                return Err(not_member(format!("move[{n}]"), id));
            }
            let members = moved_members(&current, images, anchor, *after);
            Ok(Plan {
                current: current.clone(),
                members: Some(members),
                visibility: None,
                touched: Vec::new(),
                restore: None,
                result: json!({ "set_public_uuid": set.id, "moved": images.len() }),
            })
        }
        Arrangement::Visibility {
            images,
            hidden,
            activation_time,
        } => {
            if let Some(images) = images
                && let Some((n, id)) = images
                    .iter()
                    .enumerate()
                    .find(|(_, id)| !index.contains_key(id.as_str()))
            {
                return Err(not_member(format!("image_public_uuids[{n}]"), id));
            }
            let touched = match images {
                Some(list) => list.clone(),
                None => current.iter().map(|m| m.image_id.clone()).collect(),
            };
            let result = json!({
                "set_public_uuid": set.id,
                "changed": touched.len(),
                "hidden": hidden,
                "activation_time": activation_time.map(format_rfc3339_precise),
            });
            Ok(Plan {
                current: current.clone(),
                members: None,
                visibility: Some((images.clone(), *hidden, *activation_time)),
                touched,
                restore: None,
                result,
            })
        }
        Arrangement::Restore { snapshot } => {
            let row = sets::find_snapshot(conn, &set.id, snapshot)
                .await?
                .ok_or_else(|| snapshot_not_found(snapshot).with_field("snapshot_uuid"))?;
            let state: SnapshotState =
                serde_json::from_str(row.state.as_str()).map_err(|_| CoreError::internal())?;
            let wanted: Vec<String> = state.images.iter().map(|i| i.0.clone()).collect();
            // Images deleted since the snapshot cannot come back.
            let existing: HashSet<String> = sets::existing_images(conn, &set.account_id, &wanted)
                .await?
                .into_iter()
                .collect();
            let members: Vec<MemberRow> = state
                .images
                .iter()
                .filter(|(id, _, _)| existing.contains(id))
                .map(|(id, hidden, activation_time)| MemberRow {
                    image_id: id.clone(),
                    position: 0,
                    hidden: *hidden != 0,
                    activation_time: (*activation_time).map(Timestamp),
                })
                .collect();
            let before: HashMap<&str, &MemberRow> =
                current.iter().map(|m| (m.image_id.as_str(), m)).collect();
            let after: HashSet<&str> = members.iter().map(|m| m.image_id.as_str()).collect();
            // Re-index whatever changes membership or visibility.
            let mut touched: Vec<String> = members
                .iter()
                .filter(|m| {
                    before.get(m.image_id.as_str()).is_none_or(|b| {
                        b.hidden != m.hidden || b.activation_time != m.activation_time
                    })
                })
                .map(|m| m.image_id.clone())
                .collect();
            touched.extend(
                current
                    .iter()
                    .filter(|m| !after.contains(m.image_id.as_str()))
                    .map(|m| m.image_id.clone()),
            );
            let result = json!({
                "set_public_uuid": set.id,
                "snapshot_uuid": snapshot,
                "image_count": members.len(),
                "skipped_deleted": wanted.len() - members.len(),
            });
            Ok(Plan {
                current: current.clone(),
                members: Some(members),
                visibility: None,
                touched,
                restore: Some(state),
                result,
            })
        }
    }
}

/// `current` with `images` (members, none of them `anchor`) taken out and
/// put back, in the order given, just before or just after `anchor`.
fn moved_members(
    current: &[MemberRow],
    images: &[String],
    anchor: &str,
    after: bool,
) -> Vec<MemberRow> {
    let moving: HashSet<&str> = images.iter().map(String::as_str).collect();
    let mut members: Vec<MemberRow> = current
        .iter()
        .filter(|m| !moving.contains(m.image_id.as_str()))
        .cloned()
        .collect();
    let at = members
        .iter()
        .position(|m| m.image_id == anchor)
        .map(|n| if after { n + 1 } else { n })
        .unwrap_or(members.len());
    let by_id: HashMap<&str, &MemberRow> =
        current.iter().map(|m| (m.image_id.as_str(), m)).collect();
    let moved: Vec<MemberRow> = images
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).map(|m| (*m).clone()))
        .collect();
    let tail = members.split_off(at);
    members.extend(moved);
    members.extend(tail);
    members
}

/// Whose images a caller's set writes may touch: `None` every image
/// (service tokens, admins), `Some(user)` only that user's uploads (the
/// `user` role, spec §2.2).
pub(crate) fn only_uploaded_by(principal: &Principal) -> Option<String> {
    match principal.user() {
        Some((user, _)) if user.role == Role::User => Some(user.user.uuid.clone()),
        _ => None,
    }
}

/// A `user` role may add, remove, hide, show and move only images it
/// uploaded: the plan may change the membership or visibility of none of
/// the others, nor their order among themselves (moving one's own images
/// past them is fine). Refused → `403 own_images_only`, nothing applied.
async fn check_own_images(
    conn: &mut Conn,
    set: &SetRow,
    change: &Arrangement,
    plan: &Plan,
    user: Option<&str>,
) -> Result<(), CoreError> {
    let Some(user) = user else {
        return Ok(());
    };
    let after: &[MemberRow] = plan.members.as_deref().unwrap_or(&plan.current);
    let before: HashMap<&str, &MemberRow> = plan
        .current
        .iter()
        .map(|m| (m.image_id.as_str(), m))
        .collect();
    let after_ids: HashSet<&str> = after.iter().map(|m| m.image_id.as_str()).collect();
    let mut candidates: Vec<String> = plan.current.iter().map(|m| m.image_id.clone()).collect();
    candidates.extend(
        after
            .iter()
            .filter(|m| !before.contains_key(m.image_id.as_str()))
            .map(|m| m.image_id.clone()),
    );
    let foreign: HashSet<String> = sets::not_uploaded_by(conn, &set.account_id, user, &candidates)
        .await?
        .into_iter()
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    // A visibility change: the state it sets, and on which images (None: all).
    let new_state = plan
        .visibility
        .as_ref()
        .map(|(_, hidden, at)| (*hidden, *at));
    let listed: Option<HashSet<&str>> = plan
        .visibility
        .as_ref()
        .and_then(|(images, _, _)| images.as_ref())
        .map(|l| l.iter().map(String::as_str).collect());
    let state_after = |m: &MemberRow| match new_state {
        Some(state)
            if listed
                .as_ref()
                .is_none_or(|l| l.contains(m.image_id.as_str())) =>
        {
            state
        }
        _ => (m.hidden, m.activation_time.map(Timestamp::micros)),
    };
    let is_foreign = |id: &str| foreign.contains(id);
    // Membership and visibility.
    let mut offending = plan
        .current
        .iter()
        .map(|m| m.image_id.as_str())
        .find(|id| is_foreign(id) && !after_ids.contains(id));
    if offending.is_none() {
        offending = after
            .iter()
            .find(|m| {
                is_foreign(&m.image_id)
                    && before.get(m.image_id.as_str()).is_none_or(|b| {
                        (b.hidden, b.activation_time.map(Timestamp::micros)) != state_after(m)
                    })
            })
            .map(|m| m.image_id.as_str());
    }
    // Order: the others' images keep their order among themselves.
    if offending.is_none() {
        let kept_before = plan
            .current
            .iter()
            .map(|m| m.image_id.as_str())
            .filter(|id| is_foreign(id) && after_ids.contains(id));
        let kept_after = after
            .iter()
            .map(|m| m.image_id.as_str())
            .filter(|id| is_foreign(id) && before.contains_key(id));
        offending = kept_after
            .zip(kept_before)
            .find(|(a, b)| a != b)
            .map(|(a, _)| a);
    }
    let Some(id) = offending else {
        return Ok(());
    };
    let list = if matches!(change, Arrangement::Move { .. }) {
        "move"
    } else {
        "image_public_uuids"
    };
    let field = match change.named_images().iter().position(|n| n == id) {
        Some(n) => format!("{list}[{n}]"),
        None if matches!(change, Arrangement::Restore { .. }) => "snapshot_uuid".to_owned(),
        None => list.to_owned(),
    };
    Err(CoreError::forbidden(format!(
        "Your role adds, removes, moves, hides and shows only images you uploaded; {id} is not one of them."
    ))
    .with_detail("own_images_only")
    .with_field(field))
}

/// Snapshots the set as it is now (before a change) and prunes old ones.
pub(crate) async fn snapshot(
    conn: &mut Conn,
    set: &SetRow,
    reason: &str,
    operation_id: &str,
    now: i64,
) -> Result<(), CoreError> {
    let members = sets::members(conn, &set.id).await?;
    let children = sets::sibling_ids(conn, &set.account_id, Some(&set.id)).await?;
    let state = SnapshotState {
        parent: set.parent_id.clone(),
        position: set.position,
        lead: set.lead_image_id.clone(),
        children,
        images: members
            .iter()
            .map(|m| {
                (
                    m.image_id.clone(),
                    i64::from(m.hidden),
                    m.activation_time.map(Timestamp::micros),
                )
            })
            .collect(),
    };
    let row = SnapshotRow {
        id: ids::new_public_uuid(),
        set_id: set.id.clone(),
        account_id: set.account_id.clone(),
        reason: reason.to_owned(),
        operation_id: Some(operation_id.to_owned()),
        image_count: members.len() as i64,
        state: JsonText(serde_json::to_string(&state).map_err(|_| CoreError::internal())?),
        created_at: Timestamp(now),
    };
    sets::insert_snapshot(conn, &row).await?;
    sets::prune_snapshots(conn, &set.id, SNAPSHOTS_KEPT).await?;
    Ok(())
}

/// Writes a plan: the members in their new order (only what changed), the
/// visibility, and for a restore the lead image, parent and children order.
async fn apply_plan(conn: &mut Conn, set: &SetRow, plan: &Plan, now: i64) -> Result<(), CoreError> {
    if let Some(members) = &plan.members {
        let current = &plan.current;
        let now_at: HashMap<&str, &MemberRow> =
            current.iter().map(|m| (m.image_id.as_str(), m)).collect();
        let keep: HashSet<&str> = members.iter().map(|m| m.image_id.as_str()).collect();
        let gone: Vec<String> = current
            .iter()
            .filter(|m| !keep.contains(m.image_id.as_str()))
            .map(|m| m.image_id.clone())
            .collect();
        sets::delete_members(conn, &set.id, &gone).await?;
        let mut moved = Vec::new();
        let mut inserted = Vec::new();
        let mut restyled = Vec::new();
        for (position, m) in members.iter().enumerate() {
            let position = position as i64;
            match now_at.get(m.image_id.as_str()) {
                None => inserted.push((position, m.clone())),
                Some(old) => {
                    if old.position != position {
                        moved.push((m.image_id.clone(), position));
                    }
                    if old.hidden != m.hidden || old.activation_time != m.activation_time {
                        restyled.push(m.clone());
                    }
                }
            }
        }
        sets::set_member_positions(conn, &set.id, &moved).await?;
        sets::insert_members(conn, &set.id, &inserted, Timestamp(now)).await?;
        if !gone.is_empty() {
            sets::clear_stray_lead(conn, &set.id).await?;
        }
        for m in &restyled {
            sets::set_visibility(
                conn,
                &set.id,
                Some(std::slice::from_ref(&m.image_id)),
                m.hidden,
                m.activation_time,
            )
            .await?;
        }
    }
    if let Some((images, hidden, activation_time)) = &plan.visibility {
        sets::set_visibility(
            conn,
            &set.id,
            images.as_deref(),
            *hidden,
            (*activation_time).map(Timestamp),
        )
        .await?;
    }
    if let Some(state) = &plan.restore {
        restore_placement(conn, set, state, now).await?;
    }
    crate::webhooks::events::record_live(conn, &set.account_id, &set.id, &plan.current, now).await
}

/// Puts back a snapshot's lead image, parent (when it still exists and
/// makes no cycle) and children order (of the children still there).
async fn restore_placement(
    conn: &mut Conn,
    set: &SetRow,
    state: &SnapshotState,
    now: i64,
) -> Result<(), CoreError> {
    let mut row = set.clone();
    row.lead_image_id = match &state.lead {
        Some(lead) if sets::members_include(conn, &set.id, lead).await? => Some(lead.clone()),
        _ => None,
    };
    if state.parent != set.parent_id {
        let parent_ok = match &state.parent {
            None => true,
            Some(parent) => crate::sets::check_new_parent(conn, &set.account_id, &set.id, parent)
                .await
                .is_ok(),
        };
        if parent_ok {
            row.parent_id = state.parent.clone();
            let mut siblings: Vec<String> =
                sets::sibling_ids(conn, &set.account_id, state.parent.as_deref())
                    .await?
                    .into_iter()
                    .filter(|s| *s != set.id)
                    .collect();
            let at = usize::try_from(state.position)
                .unwrap_or(0)
                .min(siblings.len());
            siblings.insert(at, set.id.clone());
            row.position = at as i64;
            row.updated_at = Timestamp(now);
            sets::update_fields(conn, &row).await?;
            sets::set_sibling_positions(conn, &siblings, Timestamp(now)).await?;
        }
    }
    row.updated_at = Timestamp(now);
    sets::update_fields(conn, &row).await?;
    let children = sets::sibling_ids(conn, &set.account_id, Some(&set.id)).await?;
    let known: HashSet<&str> = children.iter().map(String::as_str).collect();
    let mut ordered: Vec<String> = state
        .children
        .iter()
        .filter(|c| known.contains(c.as_str()))
        .cloned()
        .collect();
    let listed: HashSet<String> = ordered.iter().cloned().collect();
    ordered.extend(children.into_iter().filter(|c| !listed.contains(c)));
    sets::set_sibling_positions(conn, &ordered, Timestamp(now)).await?;
    Ok(())
}

/// How many images the change touches (decides inline or job).
async fn size_of(conn: &mut Conn, set: &SetRow, change: &Arrangement) -> Result<usize, CoreError> {
    Ok(match change {
        Arrangement::Visibility { images: None, .. } => set.image_count as usize,
        Arrangement::Restore { snapshot } => sets::find_snapshot(conn, &set.id, snapshot)
            .await?
            .map(|s| s.image_count as usize)
            .unwrap_or(0)
            .max(set.image_count as usize),
        other => other.named_images().len(),
    })
}

fn change_rows(set: &str, touched: &[String]) -> Vec<(&'static str, String, &'static str)> {
    let mut changes: Vec<(&'static str, String, &'static str)> = touched
        .iter()
        .map(|id| ("image", id.clone(), "update"))
        .collect();
    changes.push(("set", set.to_owned(), "update"));
    changes
}

/// Locks the set, checks the change against its members and the caller's
/// role; the set and the plan, nothing written yet.
async fn lock_and_plan(
    write: &mut PendingWrite,
    id: &str,
    change: &Arrangement,
    only: Option<&str>,
) -> Result<(SetRow, Plan), CoreError> {
    let set = lock_set(write, id).await?;
    let checked = plan(write.tx(), &set, change).await?;
    check_own_images(write.tx(), &set, change, &checked, only).await?;
    Ok((set, checked))
}

/// Locks the set and reads it; `set_not_found` when the account has none.
async fn lock_set(write: &mut PendingWrite, id: &str) -> Result<SetRow, CoreError> {
    let account = write.account_id().to_owned();
    let now = write.now();
    if !sets::lock(write.tx(), &account, id, Timestamp(now)).await? {
        return Err(set_not_found(id));
    }
    sets::find(write.tx(), &account, id, Timestamp(now))
        .await?
        .ok_or_else(CoreError::internal)
}

/// Locks, in one order (sorted ids), the sets a batch will change, so two
/// batches naming the same sets in other orders wait for each other instead
/// of deadlocking. Sets that do not exist are left for their item to name.
pub(crate) async fn lock_sets_in_order(
    write: &mut PendingWrite,
    ids: &[String],
) -> Result<(), CoreError> {
    let mut ids: Vec<String> = ids.iter().filter_map(|id| set_id(id).ok()).collect();
    ids.sort();
    ids.dedup();
    let account = write.account_id().to_owned();
    let now = write.now();
    for id in ids {
        sets::lock(write.tx(), &account, &id, Timestamp(now)).await?;
    }
    Ok(())
}

/// Snapshots the set and writes the plan in the write's transaction.
async fn apply_now(
    write: &mut PendingWrite,
    set: &SetRow,
    change: &Arrangement,
    checked: Plan,
    op_id: &str,
) -> Result<WorkDone, CoreError> {
    let now = write.now();
    snapshot(write.tx(), set, change.reason(), op_id, now).await?;
    apply_plan(write.tx(), set, &checked, now).await?;
    Ok(WorkDone {
        kind: change.kind(),
        status: OperationStatus::Succeeded,
        result: checked.result,
        image_public_uuids: change.named_images(),
        set_public_uuid: Some(set.id.clone()),
        jobs: vec![],
        changes: change_rows(&set.id, &checked.touched),
    })
}

/// What a batch's set items may still touch. A batch is a request, not a
/// job: its set items together name at most [`INLINE_MAX`] images, and the
/// sets they rearrange hold at most [`MAX_IMAGES`] images in all (each item
/// snapshots and rewrites its whole set, so a one-image move in a huge set
/// is not small). A larger change is its own request, which runs as a job.
pub(crate) struct BatchSetBudget {
    named_left: usize,
    members_left: usize,
}

impl Default for BatchSetBudget {
    fn default() -> Self {
        Self {
            named_left: INLINE_MAX,
            members_left: MAX_IMAGES,
        }
    }
}

/// A set change as an item of a batch: checked and applied in the batch's
/// transaction (all or nothing), within the batch's [`BatchSetBudget`].
pub(crate) async fn arrange_in(
    write: &mut PendingWrite,
    principal: &Principal,
    id: &str,
    change: &Arrangement,
    op_id: &str,
    budget: &mut BatchSetBudget,
) -> Result<WorkDone, CoreError> {
    let id = set_id(id)?;
    let only = only_uploaded_by(principal);
    let set = lock_set(write, &id).await?;
    let named = size_of(write.tx(), &set, change).await?;
    let members = usize::try_from(set.image_count).unwrap_or(usize::MAX);
    let too_big = |what: String| {
        CoreError::validation(
            "body",
            format!("{what} Send it as its own request (a large change runs as a job)."),
        )
        .with_detail("batch_set_images")
    };
    if named > budget.named_left {
        return Err(too_big(format!(
            "the set changes of a batch touch at most {INLINE_MAX} images in all; this one touches {named}."
        )));
    }
    if members > budget.members_left {
        return Err(too_big(format!(
            "the sets a batch rearranges hold at most {MAX_IMAGES} images in all; this one holds {members}."
        )));
    }
    budget.named_left -= named;
    budget.members_left -= members;
    let checked = plan(write.tx(), &set, change).await?;
    check_own_images(write.tx(), &set, change, &checked, only.as_deref()).await?;
    apply_now(write, &set, change, checked, op_id).await
}

/// Runs a rearrangement of the set: inline when small, as a job when large
/// (checked here either way).
pub async fn arrange(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    id: &str,
    change: Arrangement,
) -> Result<Operation, CoreError> {
    writes::retrying(|| arrange_once(core, principal, ctx, id, change.clone())).await
}

async fn arrange_once(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    id: &str,
    change: Arrangement,
) -> Result<Operation, CoreError> {
    let only = only_uploaded_by(principal);
    let id = set_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let (set, checked) = lock_and_plan(&mut write, &id, &change, only.as_deref()).await?;
    let op_id = write.operation_id().to_owned();
    if size_of(write.tx(), &set, &change).await? > INLINE_MAX {
        let payload = ArrangePayload {
            operation: op_id.clone(),
            account: write.account_id().to_owned(),
            set: id.clone(),
            change: change.clone(),
            only_uploaded_by: only.clone(),
        };
        return write
            .finish(WorkDone {
                kind: change.kind(),
                status: OperationStatus::Queued,
                result: json!({ "set_public_uuid": id, "done": 0, "total": checked.touched.len().max(change.named_images().len()) }),
                image_public_uuids: change.named_images(),
                set_public_uuid: Some(id.clone()),
                jobs: vec![JobSpec::of(&payload, 5, None)?],
                changes: vec![],
            })
            .await;
    }
    let done = apply_now(&mut write, &set, &change, checked, &op_id).await?;
    write.finish(done).await
}

/// Runs a large rearrangement in one transaction: lock, re-check against
/// the members as they are now, snapshot, write, log the changes.
pub struct ArrangeJob;

/// What a queued rearrangement reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArrangePayload {
    pub operation: String,
    pub account: String,
    pub set: String,
    pub change: Arrangement,
    /// A `user` member's change: only the images it uploaded. `null` is
    /// "anyone's"; a payload without the key does not read (a limit is
    /// never widened by a missing field).
    #[serde(deserialize_with = "Option::deserialize")]
    pub only_uploaded_by: Option<String>,
}

impl JobPayload for ArrangePayload {
    const KIND: &'static str = ARRANGE_JOB;
}

impl Job for ArrangeJob {
    type Payload = ArrangePayload;
    fn run(&self, core: Core, payload: ArrangePayload) -> JobFuture {
        Box::pin(async move { run_job(&core, payload).await })
    }
}

async fn run_job(core: &Core, payload: ArrangePayload) -> Result<Value, JobFailure> {
    let (operation, account, id) = (
        payload.operation.as_str(),
        payload.account.as_str(),
        payload.set.as_str(),
    );
    let change = &payload.change;
    let now = core.now();
    let mut tx = core.store.begin_write().await.map_err(JobFailure::retry)?;
    if !sets::lock(&mut tx, account, id, Timestamp(now))
        .await
        .map_err(JobFailure::retry)?
    {
        return Err(JobFailure::give_up(set_not_found(id)));
    }
    let set = sets::find(&mut tx, account, id, Timestamp(now))
        .await
        .map_err(JobFailure::retry)?
        .ok_or_else(|| JobFailure::give_up(set_not_found(id)))?;
    // The set may have changed since the request was checked: check again.
    let only = payload.only_uploaded_by.as_deref();
    let checked = match plan(&mut tx, &set, change).await {
        Ok(checked) => check_own_images(&mut tx, &set, change, &checked, only)
            .await
            .map(|()| checked),
        Err(e) => Err(e),
    }
    .map_err(|e| {
        // The database's trouble (gone, a crossed write) passes: try again.
        if matches!(
            e.kind,
            ErrorKind::Internal | ErrorKind::Unavailable | ErrorKind::CrossedWrite
        ) {
            JobFailure::retry(e)
        } else {
            JobFailure::give_up(e)
        }
    })?;
    snapshot(&mut tx, &set, change.reason(), operation, now)
        .await
        .map_err(JobFailure::retry)?;
    apply_plan(&mut tx, &set, &checked, now)
        .await
        .map_err(JobFailure::retry)?;
    for (entity, entity_id, action) in change_rows(id, &checked.touched) {
        let row = Change {
            account_id: account,
            entity,
            entity_id: &entity_id,
            action,
            operation_id: Some(operation),
            at: Timestamp(now),
        };
        change_log::append(&mut tx, &row)
            .await
            .map_err(JobFailure::retry)?;
    }
    tx.commit().await.map_err(JobFailure::retry)?;
    core.note_change();
    let mut result = checked.result;
    if let Some(object) = result.as_object_mut() {
        let total = checked.touched.len().max(change.named_images().len());
        object.insert("done".to_owned(), json!(total));
        object.insert("total".to_owned(), json!(total));
    }
    Ok(result)
}

// --- reads --------------------------------------------------------------------------

/// The set's images in display order; only those live now when `live_only`.
pub async fn images(
    core: &Core,
    account_id: &str,
    id: &str,
    live_only: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<crate::images::Image>, bool), CoreError> {
    let id = set_id(id)?;
    let now = core.now();
    let ids = {
        let mut conn = core.store.read().await?;
        if !sets::exists(&mut conn, account_id, &id).await? {
            return Err(set_not_found(&id));
        }
        sets::member_ids(
            &mut conn,
            &id,
            live_only.then_some(Timestamp(now)),
            limit + 1,
            offset,
        )
        .await?
    };
    let (ids, more) = crate::cut_page(ids, limit);
    Ok((
        crate::images::render_ids(core, account_id, &ids).await?,
        more,
    ))
}

/// The set's snapshots, newest first.
pub async fn snapshots(
    core: &Core,
    account_id: &str,
    id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Snapshot>, bool), CoreError> {
    let id = set_id(id)?;
    let mut conn = core.store.read().await?;
    if !sets::exists(&mut conn, account_id, &id).await? {
        return Err(set_not_found(&id));
    }
    let rows = sets::list_snapshots(&mut conn, &id, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((
        rows.into_iter()
            .map(|r| Snapshot {
                uuid: r.id,
                set_public_uuid: r.set_id,
                reason: r.reason,
                image_count: r.image_count,
                operation_uuid: r.operation_id,
                created_at: format_rfc3339(r.created_at),
            })
            .collect(),
        more,
    ))
}

/// What restoring a snapshot would change in the set as it is now: images
/// that come back (unless deleted since), images that leave, how many of
/// the rest move, and how many change visibility.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestorePreview {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub moved: usize,
    pub visibility_changed: usize,
}

pub async fn restore_preview(
    core: &Core,
    account_id: &str,
    id: &str,
    snapshot: &str,
) -> Result<RestorePreview, CoreError> {
    let id = set_id(id)?;
    let mut conn = core.store.read().await?;
    if !sets::exists(&mut conn, account_id, &id).await? {
        return Err(set_not_found(&id));
    }
    let row = sets::find_snapshot(&mut conn, &id, snapshot)
        .await?
        .ok_or_else(|| {
            CoreError::new(
                ErrorKind::SnapshotNotFound,
                format!("No snapshot {snapshot}."),
            )
        })?;
    let state: SnapshotState =
        serde_json::from_str(row.state.as_str()).map_err(|_| CoreError::internal())?;
    let current: Vec<(String, i64, Option<i64>)> = sets::members(&mut conn, &id)
        .await?
        .into_iter()
        .map(|m| {
            (
                m.image_id,
                i64::from(m.hidden),
                m.activation_time.map(|t| t.0),
            )
        })
        .collect();
    Ok(preview(&current, &state.images))
}

/// [`restore_preview`] on two arrangements (`[image, hidden, activation]`
/// in display order). "Moved" counts the fewest images that must move to
/// turn one order of the shared images into the other (those outside a
/// longest common increasing run).
fn preview(
    now: &[(String, i64, Option<i64>)],
    then: &[(String, i64, Option<i64>)],
) -> RestorePreview {
    let now_at: HashMap<&str, usize> = now
        .iter()
        .enumerate()
        .map(|(n, m)| (m.0.as_str(), n))
        .collect();
    let then_ids: HashSet<&str> = then.iter().map(|m| m.0.as_str()).collect();
    let added = then
        .iter()
        .filter(|m| !now_at.contains_key(m.0.as_str()))
        .map(|m| m.0.clone())
        .collect();
    let removed = now
        .iter()
        .filter(|m| !then_ids.contains(m.0.as_str()))
        .map(|m| m.0.clone())
        .collect();
    // Positions now of the shared images, in the snapshot's order.
    let positions: Vec<usize> = then
        .iter()
        .filter_map(|m| now_at.get(m.0.as_str()).copied())
        .collect();
    let visibility_changed = then
        .iter()
        .filter(|m| {
            now_at
                .get(m.0.as_str())
                .is_some_and(|&n| (now[n].1, now[n].2) != (m.1, m.2))
        })
        .count();
    RestorePreview {
        added,
        removed,
        moved: positions.len() - longest_increasing(&positions),
        visibility_changed,
    }
}

/// Length of the longest strictly increasing subsequence (patience sort).
fn longest_increasing(values: &[usize]) -> usize {
    let mut tails: Vec<usize> = Vec::new();
    for &v in values {
        match tails.binary_search(&v) {
            Ok(_) => {}
            Err(at) if at == tails.len() => tails.push(v),
            Err(at) => tails[at] = v,
        }
    }
    tails.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_preview_names_what_comes_back_leaves_and_moves() {
        let m = |ns: &[usize]| -> Vec<(String, i64, Option<i64>)> {
            ns.iter().map(|n| (id(*n), 0, None)).collect()
        };
        // Nothing changed since: nothing to say.
        assert_eq!(
            preview(&m(&[1, 2, 3]), &m(&[1, 2, 3])),
            RestorePreview::default()
        );
        // One image moved from last to first: one move, not three.
        let p = preview(&m(&[2, 3, 4, 1]), &m(&[1, 2, 3, 4]));
        assert_eq!((p.moved, p.added.len(), p.removed.len()), (1, 0, 0));
        // Reversed: all but one move.
        assert_eq!(preview(&m(&[4, 3, 2, 1]), &m(&[1, 2, 3, 4])).moved, 3);
        // Added since (it leaves), removed since (it comes back).
        let p = preview(&m(&[1, 2, 5]), &m(&[1, 2, 3]));
        assert_eq!(p.added, ids(&[3]));
        assert_eq!(p.removed, ids(&[5]));
        assert_eq!(p.moved, 0);
        // Hidden since: its visibility changes back.
        let mut now = m(&[1, 2]);
        now[1].1 = 1;
        assert_eq!(preview(&now, &m(&[1, 2])).visibility_changed, 1);
    }

    /// A UUID whose last digits are `n`.
    fn id(n: usize) -> String {
        format!("6a1e4f0c-2b7d-4c39-8e5a-{n:012}")
    }

    fn ids(ns: &[usize]) -> Vec<String> {
        ns.iter().map(|n| id(*n)).collect()
    }

    fn refusal<T: std::fmt::Debug>(result: Result<T, CoreError>) -> CoreError {
        match result {
            Ok(value) => panic!("accepted: {value:?}"),
            Err(e) => e,
        }
    }

    fn members(ns: &[usize]) -> Vec<MemberRow> {
        ns.iter()
            .enumerate()
            .map(|(position, n)| MemberRow {
                image_id: id(*n),
                position: position as i64,
                // Visibility travels with the image.
                hidden: *n % 2 == 1,
                activation_time: Some(Timestamp(*n as i64)),
            })
            .collect()
    }

    fn order_of(rows: &[MemberRow]) -> Vec<String> {
        rows.iter().map(|m| m.image_id.clone()).collect()
    }

    #[test]
    fn moving_puts_the_images_in_the_given_order_beside_the_anchor() {
        let set = members(&[1, 2, 3, 4, 5]);
        // Before the first, after the last, into the middle.
        assert_eq!(
            order_of(&moved_members(&set, &ids(&[5, 3]), &id(1), false)),
            ids(&[5, 3, 1, 2, 4])
        );
        assert_eq!(
            order_of(&moved_members(&set, &ids(&[1, 2]), &id(5), true)),
            ids(&[3, 4, 5, 1, 2])
        );
        assert_eq!(
            order_of(&moved_members(&set, &ids(&[4]), &id(2), true)),
            ids(&[1, 2, 4, 3, 5])
        );
        assert_eq!(
            order_of(&moved_members(&set, &ids(&[1]), &id(2), false)),
            ids(&[1, 2, 3, 4, 5])
        );
        // Each moved row keeps its visibility; nothing is lost or doubled.
        let moved = moved_members(&set, &ids(&[2, 5, 3]), &id(4), false);
        assert_eq!(moved.len(), set.len());
        for row in &moved {
            let before = set.iter().find(|m| m.image_id == row.image_id);
            assert_eq!(
                before.map(|m| (m.hidden, m.activation_time)),
                Some((row.hidden, row.activation_time))
            );
        }
        assert_eq!(order_of(&moved), ids(&[1, 2, 5, 3, 4]));
    }

    #[test]
    fn member_lists_are_uuids_each_counted_once() {
        assert_eq!(
            id_set("image_public_uuids", ids(&[3, 1, 3, 2, 1])).ok(),
            Some(ids(&[3, 1, 2]))
        );
        assert_eq!(
            refusal(id_set("image_public_uuids", vec![]))
                .field
                .as_deref(),
            Some("image_public_uuids")
        );
        let mut bad = ids(&[1, 2]);
        bad.push("not-a-uuid".to_owned());
        assert_eq!(
            refusal(id_set("image_public_uuids", bad)).field.as_deref(),
            Some("image_public_uuids[2]")
        );
        let too_many: Vec<String> = (0..=MAX_IMAGES).map(id).collect();
        assert_eq!(
            refusal(id_set("image_public_uuids", too_many.clone()))
                .field
                .as_deref(),
            Some("image_public_uuids")
        );
        assert!(id_set("image_public_uuids", too_many[..MAX_IMAGES].to_vec()).is_ok());
        // An order must not repeat an image: the second mention is named.
        let e = refusal(check_unique_ids("move", &ids(&[1, 2, 1])));
        assert_eq!(e.field.as_deref(), Some("move[2]"));
    }

    #[test]
    fn a_full_order_is_exactly_the_current_members() {
        let current = ids(&[1, 2, 3]);
        assert!(check_permutation("image_public_uuids", &ids(&[3, 1, 2]), &current).is_ok());
        let e = refusal(check_permutation(
            "image_public_uuids",
            &ids(&[3, 9, 2]),
            &current,
        ));
        assert_eq!(
            e.field.as_deref(),
            Some("image_public_uuids[1]"),
            "the stray is named"
        );
        let e = refusal(check_permutation(
            "image_public_uuids",
            &ids(&[3, 1]),
            &current,
        ));
        assert_eq!(
            e.field.as_deref(),
            Some("image_public_uuids"),
            "one is missing"
        );
        // A repeat that keeps the length is caught by the body's own check.
        let e = refusal(Arrangement::order(OrderBody {
            image_public_uuids: Some(ids(&[1, 1, 2])),
            move_images: None,
            before: None,
            after: None,
        }));
        assert_eq!(e.field.as_deref(), Some("image_public_uuids[1]"));
    }

    #[test]
    fn an_order_is_one_form_or_the_other() {
        let body = |full: Option<&[usize]>,
                    moving: Option<&[usize]>,
                    before: Option<usize>,
                    after: Option<usize>| OrderBody {
            image_public_uuids: full.map(ids),
            move_images: moving.map(ids),
            before: before.map(id),
            after: after.map(id),
        };
        assert_eq!(
            Arrangement::order(body(None, Some(&[2, 3]), None, Some(1))).ok(),
            Some(Arrangement::Move {
                images: ids(&[2, 3]),
                anchor: id(1),
                after: true
            })
        );
        assert_eq!(
            Arrangement::order(body(None, Some(&[2]), Some(1), None)).ok(),
            Some(Arrangement::Move {
                images: ids(&[2]),
                anchor: id(1),
                after: false
            })
        );
        assert_eq!(
            Arrangement::order(body(Some(&[2, 1]), None, None, None)).ok(),
            Some(Arrangement::Order {
                images: ids(&[2, 1])
            })
        );
        for (b, field) in [
            (
                body(Some(&[1]), Some(&[1]), Some(2), None),
                "image_public_uuids",
            ),
            (body(None, None, None, None), "image_public_uuids"),
            (body(None, None, Some(1), None), "image_public_uuids"),
            (body(None, Some(&[2]), Some(1), Some(3)), "before"),
            (body(None, Some(&[2]), None, None), "before"),
            (body(None, Some(&[]), Some(1), None), "move"),
            (body(None, Some(&[1, 2]), Some(2), None), "before"),
            (body(None, Some(&[1, 2]), None, Some(1)), "after"),
        ] {
            let shown = format!("{b:?}");
            let e = refusal(Arrangement::order(b));
            assert_eq!(e.kind, ErrorKind::Validation, "{shown}");
            assert_eq!(e.field.as_deref(), Some(field), "{shown}");
        }
    }

    #[test]
    fn visibility_takes_a_time_or_a_day_and_restore_a_snapshot_uuid() {
        let body = |time: Option<&str>| VisibilityBody {
            image_public_uuids: None,
            hidden: false,
            activation_time: time.map(str::to_owned),
        };
        assert_eq!(
            Arrangement::visibility(body(Some("2026-07-14T20:00:00Z"))).ok(),
            Some(Arrangement::Visibility {
                images: None,
                hidden: false,
                activation_time: parse_request_time("2026-07-14T20:00:00Z"),
            })
        );
        assert!(Arrangement::visibility(body(Some("2026-07-14"))).is_ok());
        for bad in ["", "tomorrow", "2026-07-14 20:00", "2026-13-01"] {
            let e = refusal(Arrangement::visibility(body(Some(bad))));
            assert_eq!(e.field.as_deref(), Some("activation_time"), "{bad:?}");
        }
        let e = refusal(Arrangement::restore(RestoreBody {
            snapshot_uuid: "latest".to_owned(),
        }));
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::SnapshotNotFound, Some("snapshot_uuid"))
        );
    }
}
