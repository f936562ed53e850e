//! Acting on many images at once from the library grid (issue 18 §3): the
//! ticked images, or every image the grid's filters match (up to
//! [`BULK_MAX`]), get keywords added or removed, a rating, added to or
//! removed from a set, deleted, or put in a ZIP — through the API's own
//! batches (`edits::run_batch`, [`BATCH_MAX`] a write), set arrangements
//! and archives.
//!
//! ```text
//! POST /admin/library/bulk (CSRF, idem, action, scope, image…/filter.…)
//!   ids ─▶ chunks of 50 ─▶ run_batch (all or nothing; a refused image is
//!          taken out and the rest run again) ─▶ summary page or JSON
//! GET  /admin/library/bulk/ids?filter.… ─▶ the ids (for the script)
//! ```
//! The script posts the ids in chunks itself (`format=json`), so the page
//! shows progress; without it one post does all and answers the summary.

use std::collections::{BTreeMap, HashSet};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::archives::{self, NewArchive};
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::edits::{self, BATCH_MAX, Edit, KeywordRemoveBody, KeywordsBody, RatingBody};
use lightbox_core::image_filters::{ImageFilter, is_filter_param};
use lightbox_core::set_arrangement::{self, Arrangement, MembersBody};
use lightbox_core::writes::WriteContext;
use lightbox_core::{CoreError, ids, images};
use maud::{Markup, html};
use serde_json::json;

use crate::WebState;
use crate::form::{FormData, keyword_list, url_encode};
use crate::page::{self, Section};
use crate::pages::websites::set_options;
use crate::session::{Signed, SignedForm};

/// Most images one bulk action takes (as a set's members or an archive).
pub const BULK_MAX: usize = 10_000;

/// What a bulk action does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    AddKeywords,
    RemoveKeywords,
    Rating,
    AddToSet,
    RemoveFromSet,
    Delete,
    Zip,
}

const ACTIONS: [(&str, &str); 7] = [
    ("add_keywords", "Add keywords"),
    ("remove_keywords", "Remove keywords"),
    ("rating", "Set the rating"),
    ("add_to_set", "Add to a set"),
    ("remove_from_set", "Remove from a set"),
    ("delete", "Delete"),
    ("zip", "Build a ZIP"),
];

impl Action {
    fn parse(text: &str) -> Result<Self, CoreError> {
        Ok(match text {
            "add_keywords" => Action::AddKeywords,
            "remove_keywords" => Action::RemoveKeywords,
            "rating" => Action::Rating,
            "add_to_set" => Action::AddToSet,
            "remove_from_set" => Action::RemoveFromSet,
            "delete" => Action::Delete,
            "zip" => Action::Zip,
            _ => {
                return Err(CoreError::validation(
                    "action",
                    "Choose what to do with the images.",
                ));
            }
        })
    }

    /// "… to 300 images" in the summary.
    fn done(self, n: usize) -> String {
        let images = if n == 1 {
            "1 image".to_owned()
        } else {
            format!("{n} images")
        };
        match self {
            Action::AddKeywords => format!("Keywords added to {images}."),
            Action::RemoveKeywords => format!("Keywords removed from {images}."),
            Action::Rating => format!("Rating set on {images}."),
            Action::AddToSet => format!("{images} added to the set."),
            Action::RemoveFromSet => format!("{images} removed from the set."),
            Action::Delete => format!("{images} deleted."),
            Action::Zip => format!("A ZIP of {images} is being built."),
        }
    }
}

/// The action bar above the grid: the grid's checkboxes belong to its form.
/// `filters` are the grid's own (kept as `filter.<name>`).
pub fn bar(
    user: &ConsoleUser,
    sets: &[(usize, String, String)],
    filters: &[(String, String)],
) -> Markup {
    html! {
        fieldset.bulk #bulk-bar {
            legend { "Change many images" }
            (page::csrf(user))
            input type="hidden" name="idem" value=(uuid::Uuid::new_v4());
            @for (name, value) in filters.iter().filter(|(k, _)| is_filter_param(k)) {
                input type="hidden" name={ "filter." (name) } value=(value);
            }
            div.bulk-row {
                div {
                    label for="bulk-action" { "Action" }
                    select #bulk-action name="action" {
                        @for (value, text) in ACTIONS { option value=(value) { (text) } }
                    }
                }
                div {
                    label for="bulk-keywords" { "Keywords" }
                    input #bulk-keywords type="text" name="keywords" autocomplete="off"
                        aria-describedby="bulk-keywords-hint";
                    p.hint #bulk-keywords-hint { "For the keyword actions; separated by commas." }
                }
                div {
                    label for="bulk-rating" { "Rating" }
                    select #bulk-rating name="rating" {
                        @for r in 0..=5 { option value=(r) { (r) } }
                    }
                }
                div {
                    label for="bulk-set" { "Set" }
                    select #bulk-set name="target_set" {
                        option value="" { "Choose a set" }
                        (set_options(sets, ""))
                    }
                }
            }
            div.bulk-row role="radiogroup" aria-label="Which images" {
                label.check {
                    input type="radio" name="scope" value="selected" checked;
                    span { "The ticked images " span #selected-count {} }
                }
                label.check {
                    input type="radio" name="scope" value="filter";
                    span { "Every image these filters find (up to " (page::count(BULK_MAX)) ")" }
                }
            }
            div.actions {
                button type="submit" { "Apply" }
                progress #bulk-progress hidden max="1" value="0" aria-label="Progress of the change" {}
                span #bulk-status role="status" aria-live="polite" {}
            }
        }
    }
}

/// The images a bulk post names: the ticked ones, or every match of its
/// `filter.*` fields, in the grid's order, each once.
async fn chosen_ids(
    state: &WebState,
    user: &ConsoleUser,
    form: &FormData,
) -> Result<Vec<String>, CoreError> {
    let mut seen = HashSet::new();
    if form.get("scope") != Some("filter") {
        let ids: Vec<String> = form
            .all("image")
            .filter(|id| ids::is_uuid(id))
            .filter(|id| seen.insert(id.to_string()))
            .map(str::to_owned)
            .collect();
        if ids.len() > BULK_MAX {
            return Err(too_many());
        }
        return Ok(ids);
    }
    let filters: BTreeMap<&str, &str> = form
        .pairs()
        .filter_map(|(k, v)| Some((k.strip_prefix("filter.")?, v.trim())))
        .filter(|(k, v)| is_filter_param(k) && !v.is_empty())
        .collect();
    matching_ids(state, user, &filters).await
}

async fn matching_ids(
    state: &WebState,
    user: &ConsoleUser,
    filters: &BTreeMap<&str, &str>,
) -> Result<Vec<String>, CoreError> {
    let filter = ImageFilter::from_query(|name| filters.get(name).copied())?;
    let mut out = Vec::new();
    let page_size = 500;
    loop {
        let offset = i64::try_from(out.len()).unwrap_or(i64::MAX);
        let (page, more) =
            images::list_ids(&state.core, &user.account.uuid, &filter, page_size, offset).await?;
        out.extend(page);
        if out.len() > BULK_MAX {
            return Err(too_many());
        }
        if !more {
            return Ok(out);
        }
    }
}

fn too_many() -> CoreError {
    CoreError::validation(
        "scope",
        format!(
            "One change takes up to {} images; narrow the filters or tick fewer images.",
            page::count(BULK_MAX)
        ),
    )
}

/// The bulk action's outcome.
struct Summary {
    action: Action,
    done: usize,
    /// The Operation that goes on (a ZIP being built).
    operation: Option<String>,
    /// Refused images with the reason, per reason.
    refused: BTreeMap<String, Vec<String>>,
}

impl Summary {
    fn json(&self) -> serde_json::Value {
        json!({
            "done": self.done,
            "operation": self.operation,
            "message": self.action.done(self.done),
            "refused": self.refused.iter().map(|(reason, images)| json!({"reason": reason, "images": images})).collect::<Vec<_>>(),
        })
    }
}

/// The edits for one image.
fn edits_for(action: Action, image: &str, form: &FormData) -> Result<Vec<Edit>, CoreError> {
    let keywords = || keyword_list(form.get("keywords").unwrap_or_default());
    Ok(match action {
        Action::AddKeywords => vec![Edit::add_keywords(
            image,
            KeywordsBody {
                keywords: keywords(),
            },
        )?],
        Action::RemoveKeywords => {
            let list = keywords();
            if list.is_empty() {
                return Err(CoreError::validation(
                    "keywords",
                    "Name the keywords to remove.",
                ));
            }
            list.into_iter()
                .map(|keyword| {
                    Edit::remove_keyword(
                        image,
                        KeywordRemoveBody {
                            keyword,
                            namespace: None,
                        },
                    )
                })
                .collect::<Result<_, _>>()?
        }
        Action::Rating => {
            let rating = form
                .get("rating")
                .and_then(|r| r.parse::<i64>().ok())
                .ok_or_else(|| CoreError::validation("rating", "Choose a rating from 0 to 5."))?;
            vec![Edit::rating(image, RatingBody { rating })?]
        }
        Action::Delete => vec![Edit::delete(image)?],
        Action::AddToSet | Action::RemoveFromSet | Action::Zip => Vec::new(),
    })
}

/// Runs `action` on `images` in batches; a batch refused for one image
/// runs again without it (its reason noted), so one image the member may
/// not change does not stop the others.
async fn run(
    state: &WebState,
    user: &ConsoleUser,
    form: &FormData,
    idem: &str,
    action: Action,
    images: &[String],
) -> Result<Summary, CoreError> {
    let mut summary = Summary {
        action,
        done: 0,
        operation: None,
        refused: BTreeMap::new(),
    };
    let principal = user.principal();
    // A write's key names the form, what it does and to which images: the
    // same form sent again replays, another change from the same page
    // (the script keeps the page) is another write.
    let what = [
        form.get("action").unwrap_or_default(),
        form.get("keywords").unwrap_or_default(),
        form.get("rating").unwrap_or_default(),
        form.get("target_set").unwrap_or_default(),
    ];
    let context = |images: &[&str]| {
        let part = console::form_fingerprint(&[&what[..], images].concat());
        WriteContext {
            account_id: user.account.uuid.clone(),
            idempotency_key: console::idempotency_key(&format!("bulk-{idem}-{part}")),
            request_hash: part,
        }
    };
    // A `user` member's images from others are set aside at once (one
    // query), not found out batch by batch.
    let foreign: HashSet<String> = if action == Action::Zip {
        HashSet::new()
    } else {
        images::not_changeable(&state.core, &principal, images)
            .await?
            .into_iter()
            .collect()
    };
    if !foreign.is_empty() {
        summary.refused.insert(
            "Your role changes only the images you uploaded.".to_owned(),
            images
                .iter()
                .filter(|i| foreign.contains(*i))
                .cloned()
                .collect(),
        );
    }
    let images: Vec<String> = images
        .iter()
        .filter(|i| !foreign.contains(*i))
        .cloned()
        .collect();
    let images = images.as_slice();
    if action == Action::Zip {
        let names: Vec<&str> = images.iter().map(String::as_str).collect();
        let input = NewArchive {
            image_public_uuids: images.to_vec(),
            version_profile_uuid: None,
            filename: None,
        };
        let op = archives::create(&state.core, &principal, &context(&names), input).await?;
        summary.done = images.len();
        summary.operation = Some(op.uuid);
        return Ok(summary);
    }
    if matches!(action, Action::AddToSet | Action::RemoveFromSet) {
        let set = form
            .text("target_set")
            .ok_or_else(|| CoreError::validation("target_set", "Choose the set."))?;
        if images.is_empty() {
            return Ok(summary);
        }
        let body = MembersBody {
            image_public_uuids: images.to_vec(),
        };
        let change = if action == Action::AddToSet {
            Arrangement::add(body)?
        } else {
            Arrangement::remove(body)?
        };
        let names: Vec<&str> = images.iter().map(String::as_str).collect();
        let op = set_arrangement::arrange(&state.core, &principal, &context(&names), set, change)
            .await?;
        summary.done = images.len();
        // Over a thousand images the change is a job: its page follows it.
        if op.status != lightbox_core::operations::OperationStatus::Succeeded {
            summary.operation = Some(op.uuid);
        }
        return Ok(summary);
    }
    // Checked before anything runs: a bad keyword or rating is one error.
    if let Some(first) = images.first() {
        edits_for(action, first, form)?;
    }
    for chunk in images.chunks(BATCH_MAX) {
        let mut left: Vec<&String> = chunk.iter().collect();
        while !left.is_empty() {
            let mut batch = Vec::new();
            let mut owner = Vec::new();
            for (n, image) in left.iter().enumerate() {
                for edit in edits_for(action, image, form)? {
                    batch.push(edit);
                    owner.push(n);
                }
            }
            // A rerun without a refused image is another write.
            let names: Vec<&str> = left.iter().map(|s| s.as_str()).collect();
            match edits::run_batch(&state.core, &principal, &context(&names), batch).await {
                Ok(_) => {
                    summary.done += left.len();
                    left.clear();
                }
                // Only a refusal of one image is set aside; anything else
                // (the database, a conflict) stops the change.
                Err(e) if !refuses_one_image(&e) => return Err(e),
                Err(e) => match failed_item(&e).and_then(|i| owner.get(i).copied()) {
                    Some(n) => {
                        let image = left.remove(n);
                        summary
                            .refused
                            .entry(reason(&e))
                            .or_default()
                            .push(image.clone());
                    }
                    None => return Err(e),
                },
            }
        }
    }
    Ok(summary)
}

/// A batch refused because of one image (gone, or not the member's).
fn refuses_one_image(e: &CoreError) -> bool {
    e.kind == lightbox_core::ErrorKind::ImageNotFound
        || e.detail.as_deref() == Some("own_images_only")
}

/// The batch item an error names (`operations[3]…`).
fn failed_item(e: &CoreError) -> Option<usize> {
    let rest = e.field.as_deref()?.strip_prefix("operations[")?;
    rest.split(']').next()?.parse().ok()
}

/// The error's message without the batch's `operations[n]: ` prefix.
pub(crate) fn reason(e: &CoreError) -> String {
    match e.message.split_once("]: ") {
        Some((head, tail)) if head.starts_with("operations[") => tail.to_owned(),
        _ => e.message.clone(),
    }
}

pub async fn apply(State(state): State<WebState>, signed: SignedForm) -> Response {
    let SignedForm { user, form, .. } = signed;
    let as_json = form.get("format") == Some("json");
    let answer = apply_form(&state, &user, &form).await;
    if as_json {
        return match answer {
            Ok(Applied::Done(summary)) => Json(summary.json()).into_response(),
            Ok(Applied::Confirm(..)) => page::json_error(&CoreError::validation(
                "confirm",
                "Deleting needs confirm=yes.",
            )),
            Err(e) => page::json_error(&e),
        };
    }
    match answer {
        // A ZIP goes on: its progress page follows it, then links it.
        Ok(Applied::Done(Summary {
            operation: Some(op),
            ..
        })) => Redirect::to(&format!("/admin/operations/{op}")).into_response(),
        Ok(Applied::Done(summary)) => summary_page(&user, &form, &summary),
        Ok(Applied::Confirm(n, seen)) => confirm_page(&user, &form, n, &seen),
        Err(e) => page::error(Some(&user), &e),
    }
}

enum Applied {
    Done(Summary),
    /// A delete not yet confirmed, of this many images (and their
    /// fingerprint, sent back with the confirmation).
    Confirm(usize, String),
}

async fn apply_form(
    state: &WebState,
    user: &ConsoleUser,
    form: &FormData,
) -> Result<Applied, CoreError> {
    let idem = form
        .get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
        .ok_or_else(crate::session::csrf_refused)?;
    let action = Action::parse(form.get("action").unwrap_or_default())?;
    let images = chosen_ids(state, user, form).await?;
    if images.is_empty() {
        return Err(CoreError::validation(
            "image",
            "No images were chosen: tick some, or choose every image the filters find.",
        ));
    }
    if action == Action::Delete {
        // What the member saw counted must be what is deleted: the filters
        // may find other images by the time they confirm.
        let names: Vec<&str> = images.iter().map(String::as_str).collect();
        let seen = console::form_fingerprint(&names);
        let confirmed = form.get("confirm") == Some("yes")
            && (form.get("scope") != Some("filter") || form.get("expect") == Some(seen.as_str()));
        if !confirmed {
            return Ok(Applied::Confirm(images.len(), seen));
        }
    }
    Ok(Applied::Done(
        run(state, user, form, idem, action, &images).await?,
    ))
}

/// Back to the grid with the filters the form carried.
fn back_link(form: &FormData) -> String {
    let query: Vec<String> = form
        .pairs()
        .filter_map(|(k, v)| Some((k.strip_prefix("filter.")?, v)))
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    if query.is_empty() {
        "/admin/library".to_owned()
    } else {
        format!("/admin/library?{}", query.join("&"))
    }
}

fn summary_page(user: &ConsoleUser, form: &FormData, summary: &Summary) -> Response {
    let refused: usize = summary.refused.values().map(Vec::len).sum();
    page::respond(page::shell(
        Some(user),
        Section::Library,
        "Change done",
        html! {
            p.notice role="status" #bulk-summary { (summary.action.done(summary.done)) }
            @if refused > 0 {
                div.problem role="alert" {
                    p { (refused) " not changed:" }
                    ul {
                        @for (reason, images) in &summary.refused {
                            li { (reason) " (" (images.len()) ")" }
                        }
                    }
                }
            }
            p { a href=(back_link(form)) { "Back to the library" } }
        },
    ))
}

fn confirm_page(user: &ConsoleUser, form: &FormData, n: usize, seen: &str) -> Response {
    page::respond_with(
        StatusCode::OK,
        page::shell(
            Some(user),
            Section::Library,
            "Delete images?",
            html! {
                p { "Delete " strong { (n) " images" } "? Their originals and versions are removed; this cannot be undone." }
                form method="post" action="/admin/library/bulk" {
                    @for (name, value) in form.pairs().filter(|(k, _)| *k != "confirm" && *k != "expect") {
                        input type="hidden" name=(name) value=(value);
                    }
                    input type="hidden" name="confirm" value="yes";
                    input type="hidden" name="expect" value=(seen);
                    button.danger type="submit" { "Delete " (n) " images" }
                    " "
                    a href=(back_link(form)) { "Cancel" }
                }
            },
        ),
    )
}

/// Every image the filters find, for the script's chunks.
pub async fn matching(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let filters: BTreeMap<&str, &str> = query
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("filter.")?, v.trim())))
        .filter(|(k, v)| is_filter_param(k) && !v.is_empty())
        .collect();
    match matching_ids(&state, &user, &filters).await {
        Ok(ids) => Json(json!({"images": ids})).into_response(),
        Err(e) => page::json_error(&e),
    }
}
