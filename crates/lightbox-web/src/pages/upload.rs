//! Upload (issue 18 §1): files into the library through the same tickets
//! and image processor as any API client.
//!
//! ```text
//! with the script:  for each file (4 at a time)
//!   POST /admin/upload/ticket (CSRF, the chosen set, keywords) ─▶ ticket JSON
//!   POST {upload_url} (multipart: ticket, file) with progress ─▶ 201/200/error
//!   GET  /admin/upload/status?image=… until the thumbnail is ready
//! without it:       POST /admin/upload (multipart: CSRF, details, files)
//!   each file streams through `uploads::receive`, as at the processor
//! ```
//! Every signed-in member may upload (a `user` member changes only its own
//! images afterwards); the account's API switch does not apply here.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lightbox_core::console::ConsoleUser;
use lightbox_core::images;
use lightbox_core::multipart_budget::MultipartBudget;
use lightbox_core::uploads::{self, NewUpload, UploadAnswer};
use lightbox_core::{CoreError, metadata_profiles};
use maud::{Markup, html};
use serde_json::json;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::pages::websites::{set_choices, set_options};
use crate::session::{Signed, SignedForm};

/// What the person chose for the files of one upload.
#[derive(Default)]
struct Choices {
    set: String,
    keywords: String,
    read_metadata: bool,
    /// "" for the member's default profile, "none", or a profile's uuid.
    profile: String,
}

impl Choices {
    fn from_form(form: &FormData) -> Self {
        Choices {
            set: form.text("set_public_uuid").unwrap_or_default().to_owned(),
            keywords: form.get("keywords").unwrap_or_default().to_owned(),
            read_metadata: form.get("read_metadata").is_some(),
            profile: form.text("metadata_profile").unwrap_or_default().to_owned(),
        }
    }

    /// The profile the tickets carry (`None`: the member's default).
    fn profile(&self) -> Option<&str> {
        (!self.profile.is_empty()).then_some(self.profile.as_str())
    }

    /// The ticket's details for one file.
    fn details(&self, filename: &str) -> NewUpload {
        let keywords = crate::form::keyword_list(&self.keywords);
        NewUpload {
            filename: filename.to_owned(),
            keywords: (!keywords.is_empty()).then_some(keywords),
            set_public_uuid: (!self.set.is_empty()).then(|| self.set.clone()),
            read_metadata: Some(self.read_metadata),
            ..NewUpload::default()
        }
    }
}

/// Text fields the no-script form may send before its files, and the
/// longest one.
const DETAIL_FIELDS_MAX: usize = 16;
/// Files one form without script may send (each is read and answered in
/// turn; the page lists every outcome).
const FILES_MAX: usize = 500;
const DETAIL_FIELD_BYTES: usize = 4096;

/// A text part read up to [`DETAIL_FIELD_BYTES`]; `None` past it or when
/// it is not UTF-8.
async fn bounded_text(
    mut field: axum::extract::multipart::Field<'_>,
    budget: &MultipartBudget,
) -> Option<String> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) if bytes.len() + chunk.len() <= DETAIL_FIELD_BYTES => {
                budget.read(chunk.len());
                bytes.extend_from_slice(&chunk)
            }
            Ok(None) => return String::from_utf8(bytes).ok(),
            _ => return None,
        }
    }
}

/// One file's outcome, for the page without script.
struct Outcome {
    filename: String,
    result: Result<UploadAnswer, CoreError>,
}

pub async fn form(State(state): State<WebState>, Signed(user): Signed) -> Response {
    let choices = Choices {
        read_metadata: true,
        ..Choices::default()
    };
    upload_page(&state, &user, &choices, &[], None).await
}

async fn upload_page(
    state: &WebState,
    user: &ConsoleUser,
    choices: &Choices,
    outcomes: &[Outcome],
    problem: Option<&CoreError>,
) -> Response {
    let sets = match set_choices(state, user).await {
        Ok(s) => s,
        Err(e) => return page::error(Some(user), &e),
    };
    let profiles = match metadata_profiles::list(&state.core, &user.account.uuid).await {
        Ok(p) => p,
        Err(e) => return page::error(Some(user), &e),
    };
    let default = profiles
        .iter()
        .find(|p| p.default_for.contains(&user.user.uuid))
        .map(|p| p.name.as_str());
    page::respond_form(
        problem.is_some(),
        page::shell(
            Some(user),
            Section::Upload,
            "Upload",
            html! {
                @if !outcomes.is_empty() { (outcome_table(outcomes)) }
                (page::problem(problem))
                form #upload method="post" action="/admin/upload" enctype="multipart/form-data" {
                    (page::csrf(user))
                    div {
                        label for="set_public_uuid" { "Set" }
                        p.hint #set-hint { "The files go into this set (or only into the library)." }
                        select #set_public_uuid name="set_public_uuid" aria-describedby="set-hint" {
                            option value="" selected[choices.set.is_empty()] { "No set: the library only" }
                            (set_options(&sets, &choices.set))
                        }
                    }
                    div {
                        label for="keywords" { "Keywords" }
                        p.hint #keywords-hint { "Separated by commas; namespaced as artist:Marina. They replace the keywords in the files." }
                        input #keywords type="text" name="keywords" value=(choices.keywords)
                            aria-describedby="keywords-hint" autocomplete="off";
                    }
                    label.check {
                        input #read_metadata type="checkbox" name="read_metadata" checked[choices.read_metadata];
                        span { "Read the title, caption, keywords, date and place from the files" }
                    }
                    @if !profiles.is_empty() {
                        div {
                            label for="metadata_profile" { "Metadata profile" }
                            p.hint #profile-hint { "Its IPTC fields fill what a file leaves empty." }
                            select #metadata_profile name="metadata_profile" aria-describedby="profile-hint" {
                                option value="" selected[choices.profile.is_empty()] {
                                    @match default {
                                        Some(name) => { "Your default: " (name) }
                                        None => "Your default: none",
                                    }
                                }
                                option value="none" selected[choices.profile == "none"] { "No profile" }
                                @for p in &profiles {
                                    option value=(p.uuid) selected[choices.profile == p.uuid] { (p.name) }
                                }
                            }
                        }
                    }
                    div.drop #drop {
                        label for="file" { "Choose files, or drop them here" }
                        p.hint #file-hint { "JPEG, PNG, WebP, TIFF, HEIC, GIF, MP4 or MOV. Without script, the files go one after another when you press Upload." }
                        // Last in the form: the details arrive before the files.
                        input #file type="file" name="file" multiple required aria-describedby="file-hint"
                            accept="image/jpeg,image/png,image/webp,image/tiff,image/heic,image/heif,image/gif,video/mp4,video/quicktime,.heic,.heif";
                    }
                    button type="submit" { "Upload" }
                }
                // Filled by the script: the overall bar, then a row per file.
                section #progress hidden aria-labelledby="progress-title" {
                    h2 #progress-title { "Progress" }
                    p #overall-text role="status" aria-live="polite" {}
                    progress #overall max="1" value="0" aria-labelledby="progress-title" {}
                    ol #files {}
                    p { a href="/admin/library" { "See the library" } }
                }
                script src="/admin/assets/upload.js" defer {}
            },
        ),
    )
}

fn outcome_table(outcomes: &[Outcome]) -> Markup {
    html! {
        div.table-wrap {
            table.stackable #outcomes {
                caption { "Uploaded files" }
                thead { tr { th scope="col" { "File" } th scope="col" { "Result" } } }
                tbody {
                    @for o in outcomes {
                        tr {
                            td data-label="File" { (o.filename) }
                            td data-label="Result" {
                                @match &o.result {
                                    Ok(a) if a.duplicate => {
                                        "Already in the library: "
                                        a href={ "/admin/library/" (a.image_public_uuid) } { "the image" }
                                        " (nothing new was stored)."
                                    }
                                    Ok(a) => {
                                        "Added: "
                                        a href={ "/admin/library/" (a.image_public_uuid) } { "the image" }
                                        "; its versions are being made."
                                    }
                                    Err(e) => span.refused { (plain_words(e)) },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A refusal as a person reads it (the processor's messages speak to
/// programs where they name a request).
fn plain_words(e: &CoreError) -> String {
    match e.kind.http_status() {
        413 => "The file is larger than this server accepts; nothing was kept.".to_owned(),
        _ => e.message.clone(),
    }
}

/// The form without script: the details, then each file streamed through
/// the processor's own steps, one after another.
pub async fn plain(
    State(state): State<WebState>,
    Signed(user): Signed,
    request: axum::extract::Request,
) -> Response {
    if !state.settings.serves_processor {
        // Image bytes never pass through an API-only node (spec §7).
        let e = CoreError::validation(
            "file",
            "This server is not the image processor: upload with the page's script (files go to the processor), or through the API.",
        );
        return page::error(Some(&user), &e);
    }
    // The parser's buffer for part headers is bounded by the budget.
    let budget = MultipartBudget::new();
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::from_stream(budget.guard(body.into_data_stream()));
    let form =
        Multipart::from_request(axum::extract::Request::from_parts(parts, body), &state).await;
    let mut form = match form {
        Ok(f) => f,
        Err(e) => {
            let e = CoreError::validation("file", format!("The form could not be read: {e}"));
            return page::error(Some(&user), &e);
        }
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut outcomes = Vec::new();
    let mut choices: Option<Choices> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) if budget.exceeded() => {
                // Files stored before the cut stay listed.
                return match &choices {
                    Some(chosen) => {
                        let e = MultipartBudget::refusal();
                        upload_page(&state, &user, chosen, &outcomes, Some(&e)).await
                    }
                    None => page::error(Some(&user), &MultipartBudget::refusal()),
                };
            }
            Err(e) => {
                let e = CoreError::validation("file", format!("The upload broke off: {e}"));
                return page::error(Some(&user), &e);
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            if choices.is_some() {
                // Details after a file would apply to some files only.
                let e =
                    CoreError::validation("form", "The form's fields must come before the files.");
                return page::error(Some(&user), &e);
            }
            // Bounded as it arrives: the body limit is off for the files.
            if fields.len() >= DETAIL_FIELDS_MAX {
                let e = CoreError::validation("form", "The form has too many fields.");
                return page::error(Some(&user), &e);
            }
            match bounded_text(field, &budget).await {
                Some(text) => fields.push((name, text)),
                None => {
                    let e = CoreError::validation(name, "This field is too long or not text.");
                    return page::error(Some(&user), &e);
                }
            }
            continue;
        }
        let chosen = match &choices {
            Some(c) => c,
            None => {
                let form = FormData::from_pairs(std::mem::take(&mut fields));
                if !user.csrf_matches(form.get("csrf").unwrap_or_default()) {
                    return page::error(Some(&user), &crate::session::csrf_refused());
                }
                choices.insert(Choices::from_form(&form))
            }
        };
        let filename = field.file_name().unwrap_or_default().to_owned();
        if filename.is_empty() {
            // The file input sent nothing chosen.
            continue;
        }
        if outcomes.len() >= FILES_MAX {
            let e = CoreError::validation(
                "file",
                format!(
                    "Send at most {FILES_MAX} files at once without script; the files after these were not read."
                ),
            );
            return upload_page(&state, &user, chosen, &outcomes, Some(&e)).await;
        }
        let mut file = budget.counted(field);
        let result = match uploads::console_claims(
            &state.core,
            &user.principal(),
            chosen.details(&filename),
            chosen.profile(),
        )
        .await
        {
            Ok(claims) => uploads::receive(&state.core, claims, &mut file).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            // Read past what is left of a refused file (paid back, not
            // held), whether the ticket or the processor refused it.
            while let Some(Ok(_)) = file.next().await {}
        }
        outcomes.push(Outcome { filename, result });
    }
    let Some(choices) = choices else {
        let form = FormData::from_pairs(fields);
        if !user.csrf_matches(form.get("csrf").unwrap_or_default()) {
            return page::error(Some(&user), &crate::session::csrf_refused());
        }
        let e = CoreError::validation("file", "Choose at least one file to upload.");
        return upload_page(&state, &user, &Choices::from_form(&form), &[], Some(&e)).await;
    };
    if outcomes.is_empty() {
        let e = CoreError::validation("file", "Choose at least one file to upload.");
        return upload_page(&state, &user, &choices, &[], Some(&e)).await;
    }
    upload_page(&state, &user, &choices, &outcomes, None).await
}

/// A ticket for one file, for the script (JSON, as `POST /v1/uploads`).
pub async fn ticket(State(state): State<WebState>, signed: SignedForm) -> Response {
    let filename = signed.form.get("filename").unwrap_or_default();
    let choices = Choices::from_form(&signed.form);
    match uploads::create_console_ticket(
        &state.core,
        &signed.user.principal(),
        choices.details(filename),
        choices.profile(),
    )
    .await
    {
        Ok(ticket) => (StatusCode::CREATED, Json(ticket)).into_response(),
        Err(e) => json_error(&e),
    }
}

/// A refusal for the script, in words a person reads.
fn json_error(e: &CoreError) -> Response {
    page::json_error(&CoreError {
        message: plain_words(e),
        ..e.clone()
    })
}

/// Thumbnails of just-uploaded images once their versions are ready, for
/// the script: `[{"image", "thumbnail" (null until ready)}]`.
pub async fn status(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let ids: Vec<String> = query
        .into_iter()
        .filter(|(k, _)| k == "image")
        .map(|(_, v)| v)
        .filter(|v| lightbox_core::ids::is_uuid(v))
        .take(100)
        .collect();
    let rendered = match images::render_ids(&state.core, &user.account.uuid, &ids).await {
        Ok(r) => r,
        Err(e) => return json_error(&e),
    };
    let by_id: HashMap<&str, Option<&str>> = rendered
        .iter()
        .map(|i| {
            let thumb = i
                .versions
                .iter()
                .find(|v| v.name == "thumbnail" && v.ready)
                .and_then(|v| v.url.as_deref());
            (i.public_uuid.as_str(), thumb)
        })
        .collect();
    let answer: Vec<_> = ids
        .iter()
        .filter_map(|id| {
            by_id
                .get(id.as_str())
                .map(|thumb| json!({"image": id, "thumbnail": thumb}))
        })
        .collect();
    Json(answer).into_response()
}
