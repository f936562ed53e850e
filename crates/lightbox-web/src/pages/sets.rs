//! Sets (issue 18 §4): the tree with a form for a new set, and a set's own
//! page — its settings (name, description, colour, type, parent), its
//! images in display order with move controls (buttons that work without
//! script and with the keyboard; the script adds dragging), the lead
//! image, visibility (hide or show the ticked images or all, or go live at
//! an exact moment, with a countdown), and its snapshots with what
//! restoring each would change. Every write is the API's use-case.
//!
//! ```text
//! GET  /admin/sets               the tree · POST: a new set
//! POST /admin/sets/reorder       a set up or down among its siblings
//! GET  /admin/sets/{set}         the set's page
//! POST /admin/sets/{set}         part = settings | move | remove | lead |
//!                                       visibility | restore
//! ```
//! Times are entered and shown in UTC (accounts have no time zone yet),
//! always with the exact instant.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::CoreError;
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::images::Image;
use lightbox_core::set_arrangement::{
    self, Arrangement, MembersBody, OrderBody, RestoreBody, VisibilityBody,
};
use lightbox_core::sets::{self, Colour, NewSet, Set, SetNode, SetPatch, SetType};
use lightbox_core::writes::WriteContext;
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::pages::websites::{set_choices, set_options};
use crate::session::{Signed, SignedForm};

/// Images one set page shows (the first ones in display order).
const IMAGES_SHOWN: i64 = 200;
const SNAPSHOTS_SHOWN: i64 = 20;

const COLOURS: [&str; 9] = [
    "none", "red", "orange", "yellow", "green", "blue", "purple", "pink", "grey",
];
const TYPES: [(&str, &str); 4] = [
    ("gallery", "Gallery"),
    ("folder", "Folder"),
    ("press", "Press"),
    ("private", "Private"),
];

/// A fixed choice from its JSON name (`"blue"` → `Colour::Blue`).
fn choice<T: serde::de::DeserializeOwned>(field: &str, text: &str) -> Result<T, CoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| CoreError::validation(field, format!("Choose a {field} from the list.")))
}

fn text_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "The set was made.",
        "settings" => "The set was saved.",
        "move" => "The image was moved.",
        "remove" => "The image was taken out of the set (it stays in the library).",
        "lead" => "The lead image was chosen.",
        "visibility" => "The visibility was changed.",
        "restore" => "The snapshot was restored.",
        "reordered" => "The set was moved among its siblings.",
        _ => return None,
    })
}

/// The tree, each set with Up / Down buttons among its siblings (forms:
/// they work with the keyboard and without script).
fn tree(user: &ConsoleUser, nodes: &[SetNode]) -> Markup {
    html! {
        @for (at, node) in nodes.iter().enumerate() {
            @let name = &node.set.name;
            li id={ "set-" (node.set.public_uuid) } {
                a href={ "/admin/sets/" (node.set.public_uuid) } { (name) }
                " "
                a.hint href={ "/admin/library?set_public_uuid=" (node.set.public_uuid) }
                    aria-label={ "Images of " (name) } {
                    (node.set.image_count) " images, " (node.set.live_image_count) " live"
                }
                @if nodes.len() > 1 {
                    " "
                    form.inline method="post" action="/admin/sets/reorder" {
                        (hidden(user, "reorder"))
                        input type="hidden" name="set" value=(node.set.public_uuid);
                        @if at > 0 {
                            button.secondary.small type="submit" name="direction" value="up"
                                aria-label={ "Move " (name) " up" } { "Up" }
                        }
                        @if at + 1 < nodes.len() {
                            button.secondary.small type="submit" name="direction" value="down"
                                aria-label={ "Move " (name) " down" } { "Down" }
                        }
                    }
                }
                @if !node.children.is_empty() { ul { (tree(user, &node.children)) } }
            }
        }
    }
}

/// The parent (`None`: the top level) and the ids of `set` and its
/// siblings in their order.
fn siblings_of(
    parent: Option<&str>,
    nodes: &[SetNode],
    set: &str,
) -> Option<(Option<String>, Vec<String>)> {
    if nodes.iter().any(|n| n.set.public_uuid == set) {
        let ids = nodes.iter().map(|n| n.set.public_uuid.clone()).collect();
        return Some((parent.map(str::to_owned), ids));
    }
    nodes
        .iter()
        .find_map(|n| siblings_of(Some(&n.set.public_uuid), &n.children, set))
}

/// The hidden fields every form of these pages carries.
fn hidden(user: &ConsoleUser, part: &str) -> Markup {
    html! {
        (page::csrf(user))
        input type="hidden" name="idem" value=(uuid::Uuid::new_v4());
        input type="hidden" name="part" value=(part);
    }
}

pub async fn list(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(q): Query<Done>,
) -> Response {
    list_page(&state, &user, notice_for(q.done.as_deref()), None).await
}

async fn list_page(
    state: &WebState,
    user: &ConsoleUser,
    notice: Option<&str>,
    refused: Option<(&CoreError, &FormData)>,
) -> Response {
    let nodes = match sets::tree(&state.core, &user.account.uuid).await {
        Ok(n) => n,
        Err(e) => return page::error(Some(user), &e),
    };
    let choices = match set_choices(state, user).await {
        Ok(c) => c,
        Err(e) => return page::error(Some(user), &e),
    };
    let typed = |name: &str| {
        refused
            .and_then(|(_, f)| f.get(name))
            .unwrap_or_default()
            .to_owned()
    };
    page::respond_form(
        refused.is_some(),
        page::shell(
            Some(user),
            Section::Sets,
            "Sets",
            html! {
                (page::notice(notice))
                @let reorder_refused = refused.filter(|(_, f)| f.get("part") == Some("reorder"));
                (page::problem(reorder_refused.map(|(e, _)| e)))
                @if nodes.is_empty() { p { "No sets yet." } } @else {
                    ul.tree #set-tree { (tree(user, &nodes)) }
                }
                h2 #new-set-title { "New set" }
                @if reorder_refused.is_none() { (page::problem(refused.map(|(e, _)| e))) }
                form.row method="post" action="/admin/sets" aria-labelledby="new-set-title" {
                    (hidden(user, "create"))
                    div {
                        label for="name" { "Name" }
                        input #name type="text" name="name" required maxlength="191" value=(typed("name"));
                    }
                    div {
                        label for="type" { "Type" }
                        select #type name="type" {
                            @for (value, text) in TYPES { option value=(value) selected[typed("type") == value] { (text) } }
                        }
                    }
                    div {
                        label for="colour" { "Colour" }
                        select #colour name="colour" {
                            @for c in COLOURS { option value=(c) selected[typed("colour") == c] { (c) } }
                        }
                    }
                    div {
                        label for="parent" { "Inside" }
                        select #parent name="parent_public_uuid" {
                            option value="" { "The top level" }
                            (set_options(&choices, &typed("parent_public_uuid")))
                        }
                    }
                    button type="submit" { "Make the set" }
                }
            },
        ),
    )
}

fn context(user: &ConsoleUser, form: &FormData, what: &str) -> Result<WriteContext, CoreError> {
    let idem = form
        .get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
        .ok_or_else(crate::session::csrf_refused)?;
    Ok(WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("set-{what}-{idem}")),
        request_hash: form.fingerprint(&["console set", what]),
    })
}

pub async fn create(State(state): State<WebState>, signed: SignedForm) -> Response {
    let SignedForm { user, form, .. } = signed;
    let made = async {
        let ctx = context(&user, &form, "create")?;
        let input = NewSet {
            name: form.get("name").unwrap_or_default().to_owned(),
            description: None,
            colour: Some(choice("colour", form.get("colour").unwrap_or("none"))?),
            set_type: Some(choice("type", form.get("type").unwrap_or("gallery"))?),
            parent_public_uuid: form.text("parent_public_uuid").map(str::to_owned),
        };
        sets::create(&state.core, &ctx, input).await
    }
    .await;
    match made {
        Ok(op) => match op.set_public_uuid {
            Some(id) => Redirect::to(&format!("/admin/sets/{id}?done=created")).into_response(),
            None => Redirect::to("/admin/sets?done=created").into_response(),
        },
        Err(e) if e.field.is_some() => list_page(&state, &user, None, Some((&e, &form))).await,
        Err(e) => page::error(Some(&user), &e),
    }
}

/// A set one place up or down among its siblings (`PATCH /v1/sets/reorder`).
pub async fn reorder(State(state): State<WebState>, signed: SignedForm) -> Response {
    let SignedForm { user, form, .. } = signed;
    let set = form.get("set").unwrap_or_default().to_owned();
    let moved = async {
        let ctx = context(&user, &form, "reorder")?;
        let nodes = sets::tree(&state.core, &user.account.uuid).await?;
        let (parent, mut order) = siblings_of(None, &nodes, &set).ok_or_else(|| {
            CoreError::new(lightbox_core::ErrorKind::SetNotFound, "No such set.").with_field("set")
        })?;
        let at = order.iter().position(|s| *s == set).unwrap_or_default();
        let to = match form.get("direction") {
            Some("up") => at.checked_sub(1),
            Some("down") => (at + 1 < order.len()).then_some(at + 1),
            _ => None,
        }
        .ok_or_else(|| CoreError::validation("direction", "The set cannot move that way."))?;
        let id = order.remove(at);
        order.insert(to, id);
        sets::reorder(
            &state.core,
            &ctx,
            sets::SiblingOrder {
                parent_public_uuid: parent,
                set_public_uuids: order,
            },
        )
        .await
    }
    .await;
    match moved {
        Ok(_) => Redirect::to(&format!("/admin/sets?done=reordered#set-{set}")).into_response(),
        Err(e) if e.field.is_some() => list_page(&state, &user, None, Some((&e, &form))).await,
        Err(e) => page::error(Some(&user), &e),
    }
}

pub async fn show(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    set_page(&state, &user, &id, notice_for(q.done.as_deref()), None).await
}

/// The earliest activation still to come among these images.
fn next_activation(images: &[Image], set_id: &str, now: &str) -> Option<String> {
    images
        .iter()
        .flat_map(|i| i.sets.iter())
        .filter(|s| s.public_uuid == set_id)
        .filter_map(|s| s.activation_time.clone())
        .filter(|at| at.as_str() > now)
        .min()
}

async fn set_page(
    state: &WebState,
    user: &ConsoleUser,
    id: &str,
    notice: Option<&str>,
    refused: Option<(&str, &CoreError)>,
) -> Response {
    let account = &user.account.uuid;
    let set: Set = match sets::get(&state.core, account, id).await {
        Ok(s) => s,
        Err(e) => return page::error(Some(user), &e),
    };
    let loaded = async {
        let (images, more) =
            set_arrangement::images(&state.core, account, id, false, IMAGES_SHOWN, 0).await?;
        let (snapshots, _) =
            set_arrangement::snapshots(&state.core, account, id, SNAPSHOTS_SHOWN, 0).await?;
        let mut previews = Vec::new();
        for s in &snapshots {
            previews
                .push(set_arrangement::restore_preview(&state.core, account, id, &s.uuid).await?);
        }
        let choices = set_choices(state, user).await?;
        Ok::<_, CoreError>((images, more, snapshots, previews, choices))
    }
    .await;
    let (images, more, snapshots, previews, choices) = match loaded {
        Ok(l) => l,
        Err(e) => return page::error(Some(user), &e),
    };
    let problem = |part: &str| match refused {
        Some((p, e)) if p == part => page::problem(Some(e)),
        _ => html! {},
    };
    let now = lightbox_core::clock::format_rfc3339(state.core.now());
    let next = next_activation(&images, &set.public_uuid, &now);
    let action = format!("/admin/sets/{}", set.public_uuid);
    let n = images.len();
    page::respond_form(
        refused.is_some(),
        page::shell(
            Some(user),
            Section::Sets,
            &set.name,
            html! {
                div.actions {
                    a href="/admin/sets" { "← Sets" }
                    a href={ "/admin/library?set_public_uuid=" (set.public_uuid) } { "In the library grid" }
                }
                (page::notice(notice))
                p #set-counts { (set.image_count) " images, " (set.live_image_count) " live now." }
                @if let Some(at) = &next {
                    p.notice #countdown-line {
                        "Next go-live: " time #countdown datetime=(at) { (at) } " (UTC)"
                        span #countdown-left {}
                    }
                }
                h2 #settings-title { "Settings" }
                (problem("settings"))
                form.row method="post" action=(action) aria-labelledby="settings-title" {
                    (hidden(user, "settings"))
                    div {
                        label for="name" { "Name" }
                        input #name type="text" name="name" required maxlength="191" value=(set.name);
                    }
                    div {
                        label for="description" { "Description" }
                        input #description type="text" name="description" maxlength="5000" value=(set.description);
                    }
                    div {
                        label for="type" { "Type" }
                        select #type name="type" {
                            @for (value, text) in TYPES { option value=(value) selected[text_of(&set.set_type) == value] { (text) } }
                        }
                    }
                    div {
                        label for="colour" { "Colour" }
                        select #colour name="colour" {
                            @for c in COLOURS { option value=(c) selected[text_of(&set.colour) == c] { (c) } }
                        }
                    }
                    div {
                        label for="parent" { "Inside" }
                        select #parent name="parent_public_uuid" {
                            option value="" selected[set.parent_public_uuid.is_none()] { "The top level" }
                            (set_options(&choices, set.parent_public_uuid.as_deref().unwrap_or_default()))
                        }
                    }
                    button type="submit" { "Save the set" }
                }
                h2 #images-title { "Images, in display order" }
                (problem("move"))
                (problem("remove"))
                (problem("lead"))
                (problem("visibility"))
                @if images.is_empty() { p { "No images in this set." } } @else {
                    @if more { p.hint { "The first " (IMAGES_SHOWN) " are shown." } }
                    p.hint #order-hint { "Move images with their buttons, or drag a row onto another (with the script)." }
                    form #visibility method="post" action=(action) aria-labelledby="visibility-title" {}
                    ol.set-images #set-images data-set=(set.public_uuid) data-csrf=(user.csrf) aria-describedby="order-hint" {
                        @for (i, image) in images.iter().enumerate() {
                            (image_row(user, &set, image, i, n, &action))
                        }
                    }
                    h3 #visibility-title { "Visibility" }
                    fieldset.row form="visibility" {
                        legend { "Hide, show or schedule the ticked images (none ticked: all)" }
                        (hidden_for("visibility", user))
                        div {
                            label for="activation_time" { "Go live at (UTC)" }
                            p.hint #activation-hint { "YYYY-MM-DD HH:MM:SS, exact to the second; empty: now." }
                            input #activation_time form="visibility" type="text" name="activation_time" aria-describedby="activation-hint";
                        }
                        button form="visibility" type="submit" name="hidden" value="false" { "Show (or go live at the time)" }
                        button.secondary form="visibility" type="submit" name="hidden" value="true" { "Hide" }
                    }
                }
                h2 #snapshots-title { "Snapshots" }
                (problem("restore"))
                @if snapshots.is_empty() { p { "No snapshots yet: one is kept before each rearrangement." } } @else {
                    div.table-wrap {
                        table.stackable #snapshots {
                            thead { tr { th scope="col" { "Taken (UTC)" } th scope="col" { "Before" } th scope="col" { "Restoring it would" } th scope="col" { span.visually-hidden { "Restore" } } } }
                            tbody {
                                @for (s, p) in snapshots.iter().zip(&previews) {
                                    tr {
                                        td data-label="Taken (UTC)" { (page::when(&s.created_at)) }
                                        td data-label="Before" { (s.reason) " (" (s.image_count) " images)" }
                                        td data-label="Restoring it would" { (preview_text(p)) }
                                        td {
                                            form.inline method="post" action=(action) {
                                                (hidden(user, "restore"))
                                                input type="hidden" name="snapshot" value=(s.uuid);
                                                button.secondary type="submit" aria-label={ "Restore the snapshot of " (s.created_at) } { "Restore" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                script src="/admin/assets/sets.js" defer {}
            },
        ),
    )
}

/// The visibility form's hidden fields (its controls live in the list).
fn hidden_for(part: &str, user: &ConsoleUser) -> Markup {
    html! {
        input type="hidden" form="visibility" name="csrf" value=(user.csrf);
        input type="hidden" form="visibility" name="idem" value=(uuid::Uuid::new_v4());
        input type="hidden" form="visibility" name="part" value=(part);
    }
}

fn preview_text(p: &set_arrangement::RestorePreview) -> String {
    let images = |n: usize| {
        if n == 1 {
            "1 image".to_owned()
        } else {
            format!("{n} images")
        }
    };
    let mut parts = Vec::new();
    if !p.added.is_empty() {
        parts.push(format!(
            "bring back {} (unless deleted since)",
            images(p.added.len())
        ));
    }
    if !p.removed.is_empty() {
        parts.push(format!("take out {}", images(p.removed.len())));
    }
    if p.moved > 0 {
        parts.push(format!("move {}", images(p.moved)));
    }
    if p.visibility_changed > 0 {
        parts.push(format!(
            "change the visibility of {}",
            images(p.visibility_changed)
        ));
    }
    if parts.is_empty() {
        "change nothing in the images (the parent, lead and children order are put back)".to_owned()
    } else {
        parts.join(", ")
    }
}

fn image_row(
    user: &ConsoleUser,
    set: &Set,
    image: &Image,
    i: usize,
    n: usize,
    action: &str,
) -> Markup {
    let label = if image.title.is_empty() {
        &image.filename
    } else {
        &image.title
    };
    let membership = image.sets.iter().find(|s| s.public_uuid == set.public_uuid);
    let thumb = image
        .versions
        .iter()
        .find(|v| v.name == "thumbnail" && v.ready)
        .and_then(|v| v.url.as_deref());
    let is_lead = set.lead_image_public_uuid.as_deref() == Some(image.public_uuid.as_str());
    let mover = |to: &str, text: &str, enabled: bool| {
        html! {
            @if enabled {
                form.inline method="post" action=(action) {
                    (hidden(user, "move"))
                    input type="hidden" name="image" value=(image.public_uuid);
                    input type="hidden" name="to" value=(to);
                    button.secondary type="submit" aria-label={ (text) ": " (label) } { (text) }
                }
            }
        }
    };
    html! {
        li draggable="true" data-image=(image.public_uuid) {
            input type="checkbox" form="visibility" name="image" value=(image.public_uuid) aria-label={ "Tick " (label) };
            @if let Some(url) = thumb { img src=(url) alt="" width="48" height="48"; }
            span.name { (label) }
            span.state {
                @match membership {
                    Some(m) => @match (&m.activation_time, m.hidden) {
                        (Some(at), _) => span.badge { "live from " (page::when(at)) },
                        (None, true) => span.badge.off { "hidden" },
                        (None, false) => span.badge.on { "live" },
                    },
                    None => {},
                }
                @if is_lead { " " span.badge { "lead" } }
            }
            span.moves {
                (mover("first", "First", i > 0))
                (mover("up", "Up", i > 0))
                (mover("down", "Down", i + 1 < n))
                (mover("last", "Last", i + 1 < n))
                @if !is_lead {
                    form.inline method="post" action=(action) {
                        (hidden(user, "lead"))
                        input type="hidden" name="image" value=(image.public_uuid);
                        button.link type="submit" aria-label={ "Make " (label) " the lead image" } { "Lead" }
                    }
                }
                form.inline method="post" action=(action) {
                    (hidden(user, "remove"))
                    input type="hidden" name="image" value=(image.public_uuid);
                    button.link type="submit" aria-label={ "Take " (label) " out of the set" } { "Take out" }
                }
            }
        }
    }
}

/// The ids of the set's images in display order (to place a move).
async fn order_of(
    state: &WebState,
    user: &ConsoleUser,
    id: &str,
) -> Result<Vec<String>, CoreError> {
    let (images, _) =
        set_arrangement::images(&state.core, &user.account.uuid, id, false, 10_000, 0).await?;
    Ok(images.into_iter().map(|i| i.public_uuid).collect())
}

pub async fn change(
    State(state): State<WebState>,
    Path(id): Path<String>,
    signed: SignedForm,
) -> Response {
    let SignedForm { user, form, .. } = signed;
    let part = form.get("part").unwrap_or_default().to_owned();
    let done = apply(&state, &user, &id, &part, &form).await;
    let json = form.get("format") == Some("json");
    match done {
        Ok(()) if json => axum::Json(serde_json::json!({"done": true})).into_response(),
        Ok(()) => Redirect::to(&format!("/admin/sets/{id}?done={part}")).into_response(),
        Err(e) if json => page::json_error(&e),
        Err(e) if e.field.is_some() || e.kind == lightbox_core::ErrorKind::Validation => {
            set_page(&state, &user, &id, None, Some((&part, &e))).await
        }
        Err(e) => page::error(Some(&user), &e),
    }
}

async fn apply(
    state: &WebState,
    user: &ConsoleUser,
    id: &str,
    part: &str,
    form: &FormData,
) -> Result<(), CoreError> {
    let ctx = context(user, form, part)?;
    let core = &state.core;
    let principal = user.principal();
    let image = || form.get("image").unwrap_or_default().to_owned();
    let arrange = |change: Arrangement| {
        let (principal, ctx) = (&principal, &ctx);
        async move {
            set_arrangement::arrange(core, principal, ctx, id, change)
                .await
                .map(|_| ())
        }
    };
    match part {
        "settings" => {
            let parent = form.text("parent_public_uuid").map(str::to_owned);
            let patch = SetPatch {
                name: Some(form.get("name").unwrap_or_default().to_owned()),
                description: Some(form.get("description").unwrap_or_default().to_owned()),
                colour: Some(choice::<Colour>(
                    "colour",
                    form.get("colour").unwrap_or("none"),
                )?),
                set_type: Some(choice::<SetType>(
                    "type",
                    form.get("type").unwrap_or("gallery"),
                )?),
                lead_image_public_uuid: None,
                parent_public_uuid: Some(parent),
            };
            sets::update(core, &ctx, id, patch).await.map(|_| ())
        }
        "lead" => {
            let patch = SetPatch {
                lead_image_public_uuid: Some(Some(image())),
                ..SetPatch::default()
            };
            sets::update(core, &ctx, id, patch).await.map(|_| ())
        }
        "move" => {
            let image = image();
            let order = order_of(state, user, id).await?;
            let at = order.iter().position(|i| *i == image).ok_or_else(|| {
                CoreError::validation("image", "That image is not in the set any more.")
            })?;
            // Before or after a neighbour; `before`/`after` an image dragged onto.
            let (before, after) = match form.get("to").unwrap_or_default() {
                "first" => (order.first().cloned(), None),
                "last" => (None, order.last().cloned()),
                "up" => (at.checked_sub(1).and_then(|i| order.get(i)).cloned(), None),
                "down" => (None, order.get(at + 1).cloned()),
                "before" => (form.text("target").map(str::to_owned), None),
                "after" => (None, form.text("target").map(str::to_owned)),
                _ => {
                    return Err(CoreError::validation(
                        "to",
                        "Move it first, up, down or last.",
                    ));
                }
            };
            if before.as_deref() == Some(image.as_str())
                || after.as_deref() == Some(image.as_str())
                || (before.is_none() && after.is_none())
            {
                return Ok(());
            }
            let change = Arrangement::order(OrderBody {
                image_public_uuids: None,
                move_images: Some(vec![image]),
                before,
                after,
            })?;
            arrange(change).await
        }
        "remove" => {
            arrange(Arrangement::remove(MembersBody {
                image_public_uuids: vec![image()],
            })?)
            .await
        }
        "visibility" => {
            let ticked: Vec<String> = form.all("image").map(str::to_owned).collect();
            let hidden = form.get("hidden") == Some("true");
            let at = form.text("activation_time").map(str::to_owned);
            if hidden && at.is_some() {
                return Err(CoreError::validation(
                    "activation_time",
                    "A go-live time goes with Show: hidden images have none.",
                ));
            }
            // An exact moment shows as hidden until then (the API's way).
            let change = Arrangement::visibility(VisibilityBody {
                image_public_uuids: (!ticked.is_empty()).then_some(ticked),
                hidden: hidden || at.is_some(),
                activation_time: at.map(|t| utc(&t)),
            })?;
            arrange(change).await
        }
        "restore" => {
            let snapshot = form.get("snapshot").unwrap_or_default().to_owned();
            arrange(Arrangement::restore(RestoreBody {
                snapshot_uuid: snapshot,
            })?)
            .await
        }
        _ => Err(CoreError::validation(
            "part",
            "This form is not one of the page's.",
        )),
    }
}

/// A time typed in UTC without a zone gets one (`2026-07-10 20:00:00` →
/// `2026-07-10T20:00:00Z`); anything else goes to the API's parser as is.
fn utc(text: &str) -> String {
    let t = text.trim();
    let looks_plain = t.len() == 19 && t.as_bytes().get(10) == Some(&b' ');
    if looks_plain {
        format!("{}T{}Z", &t[..10], &t[11..])
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_plain_utc_time_gets_its_zone() {
        assert_eq!(super::utc("2026-07-10 20:00:05"), "2026-07-10T20:00:05Z");
        assert_eq!(
            super::utc(" 2026-07-10T20:00:05+02:00 "),
            "2026-07-10T20:00:05+02:00"
        );
        assert_eq!(super::utc("2026-07-10"), "2026-07-10");
    }
}
