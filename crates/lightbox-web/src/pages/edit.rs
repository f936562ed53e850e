//! Editing one image (issue 18 §2) at `/admin/library/{image}/edit`: one
//! page of small forms, each a write of the API's own edits (`edits::run`
//! or, for the details, one all-or-nothing `run_batch`):
//!
//! ```text
//! details   title, caption, alt text, date taken, rotation, rating
//! keywords  add (completion from the account's vocabulary) · remove
//! credits   add role + name · remove
//! iptc      the IPTC Core fields (empty clears) · copyright marked
//! crops     per aspect ratio, drawn over the picture · clear
//! extract   read the embedded metadata of the original again
//! ```
//! A refused form is shown again with the error beside it and what was
//! typed; nothing changed. Who may change the image is the use-cases'
//! rule (a `user` member: only its own uploads).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::CoreError;
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::edits::{
    self, AltTextBody, CreditBody, CreditRemoveBody, Crop, CropClearBody, Edit, ImagePatch,
    KeywordRemoveBody, KeywordsBody, MetadataPatch, RatingBody,
};
use lightbox_core::images::{self, Image};
use lightbox_core::keywords;
use lightbox_core::writes::WriteContext;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::session::{Signed, SignedForm};

/// The IPTC Core text fields, in the form's order, with their labels.
pub(crate) const IPTC: [(&str, &str); 18] = [
    ("headline", "Headline"),
    ("creator", "Creator"),
    ("creator_job_title", "Creator's job title"),
    ("credit_line", "Credit line"),
    ("source", "Source"),
    ("copyright_notice", "Copyright notice"),
    ("usage_terms", "Usage terms"),
    ("instructions", "Instructions"),
    ("job_id", "Job id"),
    ("location", "Place"),
    ("city", "City"),
    ("state", "State or province"),
    ("country", "Country"),
    ("country_code", "Country code"),
    ("contact_email", "Contact e-mail"),
    ("contact_phone", "Contact phone"),
    ("contact_url", "Contact web address"),
    ("caption", "IPTC caption"),
];

/// The IPTC fields' inputs (and the copyright box), each filled by
/// `value(key)`: the image's edit page and the metadata profiles' pages.
pub(crate) fn iptc_inputs(value: impl Fn(&str) -> String, marked: bool) -> Markup {
    html! {
        @for (key, text) in IPTC {
            div {
                label for={ "iptc-" (key) } { (text) }
                input id={ "iptc-" (key) } type="text" name=(key) maxlength="2000" value=(value(key));
            }
        }
        label.check {
            input #iptc-copyright_marked type="checkbox" name="copyright_marked" checked[marked];
            span { "Copyrighted (not public domain)" }
        }
    }
}

/// What the IPTC inputs sent, as a metadata object (an empty field is
/// `null`: cleared).
pub(crate) fn iptc_fields(form: &FormData) -> Map<String, Value> {
    let mut fields = Map::new();
    for (key, _) in IPTC {
        let value = form.get(key).unwrap_or_default().trim();
        fields.insert(
            key.to_owned(),
            if value.is_empty() {
                Value::Null
            } else {
                Value::String(value.to_owned())
            },
        );
    }
    fields.insert(
        "copyright_marked".to_owned(),
        Value::Bool(form.get("copyright_marked").is_some()),
    );
    fields
}

/// Keywords offered for completion (most used first).
const VOCABULARY_OFFERED: i64 = 500;

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "details" => "The details were saved.",
        "add_keywords" => "The keywords were added.",
        "remove_keyword" => "The keyword was removed.",
        "add_credit" => "The credit was added.",
        "remove_credit" => "The credit was removed.",
        "iptc" => "The IPTC fields were saved.",
        "crop" => "The crop was saved.",
        "clear_crop" => "The crop was cleared.",
        "extract" => "The embedded metadata was read again.",
        _ => return None,
    })
}

/// A refused form: which one, the error, and what was sent.
struct Refused<'a> {
    part: &'a str,
    error: &'a CoreError,
    form: &'a FormData,
}

pub async fn page(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(uuid): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    render(&state, &user, &uuid, notice_for(q.done.as_deref()), None).await
}

async fn render(
    state: &WebState,
    user: &ConsoleUser,
    uuid: &str,
    notice: Option<&str>,
    refused: Option<Refused<'_>>,
) -> Response {
    let image = match images::get(&state.core, &user.account.uuid, uuid).await {
        Ok(i) => i,
        Err(e) => return page::error(Some(user), &e),
    };
    let vocabulary = match keywords::vocabulary_query(None, None, Some("count")) {
        Ok(q) => keywords::vocabulary(&state.core, &user.account.uuid, &q, VOCABULARY_OFFERED, 0)
            .await
            .map(|(v, _)| v)
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let label = if image.title.is_empty() {
        image.filename.clone()
    } else {
        image.title.clone()
    };
    // A field shows what was sent when its form was refused, else the image's.
    let typed = |part: &str, field: &str, current: &str| -> String {
        match &refused {
            Some(r) if r.part == part => r.form.get(field).unwrap_or_default().to_owned(),
            _ => current.to_owned(),
        }
    };
    let problem = |part: &str| -> Markup {
        match &refused {
            Some(r) if r.part == part => page::problem(Some(r.error)),
            _ => html! {},
        }
    };
    let action = format!("/admin/library/{}/edit", image.public_uuid);
    let hidden = |part: &str| {
        html! {
            (page::csrf(user))
            input type="hidden" name="idem" value=(uuid::Uuid::new_v4());
            input type="hidden" name="part" value=(part);
        }
    };
    let taken = image
        .creation_date
        .as_deref()
        .map(|d| d.trim_end_matches('Z').replace('T', " "))
        .unwrap_or_default();
    let rating = typed("details", "rating", &image.rating.to_string());
    let rotation = typed("details", "rotation", &image.rotation.to_string());
    let meta = |key: &str| -> String {
        image
            .metadata
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let marked = image
        .metadata
        .get("copyright_marked")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    page::respond_form(
        refused.is_some(),
        page::shell(
            Some(user),
            Section::Library,
            &format!("Edit: {label}"),
            html! {
                div.actions {
                    a href={ "/admin/library/" (image.public_uuid) } { "← Back to the image" }
                }
                (page::notice(notice))
                div.image-page {
                    div { (picture_with_crops(&image, &label)) }
                    div {
                        h2 #details-title { "Details" }
                        (problem("details"))
                        form method="post" action=(action) aria-labelledby="details-title" {
                            (hidden("details"))
                            div {
                                label for="title" { "Title" }
                                input #title type="text" name="title" maxlength="191" value=(typed("details", "title", &image.title));
                            }
                            div {
                                label for="description" { "Caption" }
                                textarea #description name="description" rows="4" maxlength="10000" { (typed("details", "description", &image.description)) }
                            }
                            div {
                                label for="alt_text" { "Alt text" }
                                p.hint #alt-hint { "What the picture shows, for people who cannot see it." }
                                textarea #alt_text name="alt_text" rows="2" maxlength="1000" aria-describedby="alt-hint" { (typed("details", "alt_text", &image.alt_text)) }
                            }
                            div {
                                label for="creation_date" { "Taken (UTC)" }
                                p.hint #date-hint { "YYYY-MM-DD or YYYY-MM-DD HH:MM:SS; empty: unknown." }
                                input #creation_date type="text" name="creation_date" value=(typed("details", "creation_date", &taken)) aria-describedby="date-hint";
                            }
                            div {
                                label for="rotation" { "Rotation" }
                                select #rotation name="rotation" {
                                    @for r in ["0", "90", "180", "270"] {
                                        option value=(r) selected[rotation == r] { (r) "° clockwise" }
                                    }
                                }
                            }
                            fieldset.stars {
                                legend { "Rating" }
                                @for r in 0..=5 {
                                    @let id = format!("rating-{r}");
                                    label.check for=(id) {
                                        input id=(id) type="radio" name="rating" value=(r) checked[rating == r.to_string()];
                                        span { @if r == 0 { "None" } @else { (r) " ★" } }
                                    }
                                }
                            }
                            button type="submit" { "Save details" }
                        }
                    }
                }
                h2 #keywords-title { "Keywords" }
                (problem("add_keywords"))
                (problem("remove_keyword"))
                @if image.keywords.is_empty() { p { "None yet." } } @else {
                    ul.chips #keywords {
                        @for k in &image.keywords {
                            li {
                                (k.keyword) " "
                                form.inline method="post" action=(action) {
                                    (hidden("remove_keyword"))
                                    input type="hidden" name="keyword" value=(k.keyword);
                                    button.link type="submit" aria-label={ "Remove " (k.keyword) } { "×" }
                                }
                            }
                        }
                    }
                }
                form method="post" action=(action) aria-labelledby="keywords-title" {
                    (hidden("add_keywords"))
                    label for="new_keywords" { "Add keywords" }
                    p.hint #new-keywords-hint { "Separated by commas; namespaced as artist:Marina. Suggestions come from the library." }
                    input #new_keywords type="text" name="keywords" list="vocabulary" autocomplete="off"
                        value=(typed("add_keywords", "keywords", "")) aria-describedby="new-keywords-hint";
                    datalist #vocabulary { @for v in &vocabulary { option value=(v.keyword) {} } }
                    button type="submit" { "Add" }
                }
                h2 #credits-title { "Credits" }
                (problem("add_credit"))
                (problem("remove_credit"))
                @if !image.credits.is_empty() {
                    ul #credits {
                        @for c in &image.credits {
                            li {
                                (c.role) ": " (c.name) " "
                                form.inline method="post" action=(action) {
                                    (hidden("remove_credit"))
                                    input type="hidden" name="credit" value=(c.uuid);
                                    button.link type="submit" aria-label={ "Remove the credit " (c.role) ": " (c.name) } { "Remove" }
                                }
                            }
                        }
                    }
                }
                form.row method="post" action=(action) aria-labelledby="credits-title" {
                    (hidden("add_credit"))
                    div {
                        label for="credit_role" { "Role" }
                        input #credit_role type="text" name="role" value=(typed("add_credit", "role", "Photo"));
                    }
                    div {
                        label for="credit_name" { "Name" }
                        input #credit_name type="text" name="name" value=(typed("add_credit", "name", ""));
                    }
                    button type="submit" { "Add the credit" }
                }
                h2 #iptc-title { "IPTC" }
                p.hint { "Empty fields are cleared. Your metadata profile, if you have one, fills empty fields of new uploads only." }
                (problem("iptc"))
                form.iptc method="post" action=(action) aria-labelledby="iptc-title" {
                    (hidden("iptc"))
                    (iptc_inputs(|key| typed("iptc", key, &meta(key)), marked))
                    div { button type="submit" { "Save IPTC" } }
                }
                h2 #crops-title { "Crops" }
                p.hint { "One crop per aspect ratio, in pixels of the upright picture (" (image.width.unwrap_or(0)) " × " (image.height.unwrap_or(0)) "), drawn over the picture above." }
                (problem("crop"))
                (problem("clear_crop"))
                @if !image.crops.is_empty() {
                    ul #crops {
                        @for c in &image.crops {
                            li {
                                (c.aspect_ratio) ": " (c.width) " × " (c.height) " at " (c.x) ", " (c.y) " "
                                form.inline method="post" action=(action) {
                                    (hidden("clear_crop"))
                                    input type="hidden" name="aspect_ratio" value=(c.aspect_ratio);
                                    button.link type="submit" aria-label={ "Clear the " (c.aspect_ratio) " crop" } { "Clear" }
                                }
                            }
                        }
                    }
                }
                form.row method="post" action=(action) aria-labelledby="crops-title" {
                    (hidden("crop"))
                    @for (key, text, fallback) in [("aspect_ratio", "Aspect ratio", "16:9"), ("x", "Left (x)", "0"), ("y", "Top (y)", "0"), ("width", "Width", ""), ("height", "Height", "")] {
                        div {
                            label for={ "crop-" (key) } { (text) }
                            input id={ "crop-" (key) } type="text" name=(key) inputmode=[(key != "aspect_ratio").then_some("numeric")]
                                value=(typed("crop", key, fallback));
                        }
                    }
                    button type="submit" { "Save the crop" }
                }
                h2 #extract-title { "Embedded metadata" }
                (problem("extract"))
                form method="post" action=(action) aria-labelledby="extract-title" {
                    (hidden("extract"))
                    p { "Read the title, caption, keywords, date and place from the original file again (what it says replaces what the library has for those fields)." }
                    button.secondary type="submit" { "Extract embedded metadata" }
                }
            },
        ),
    )
}

/// The large version with each crop drawn over it as a frame (SVG in the
/// original's pixel space, so no style is computed on the page).
fn picture_with_crops(image: &Image, label: &str) -> Markup {
    let url = image
        .versions
        .iter()
        .filter(|v| v.ready && matches!(v.name.as_str(), "large" | "medium" | "thumbnail"))
        .find_map(|v| v.url.as_deref());
    let (w, h) = (image.width.unwrap_or(0), image.height.unwrap_or(0));
    let alt = if image.alt_text.is_empty() {
        label
    } else {
        &image.alt_text
    };
    html! {
        @if let Some(url) = url {
            figure.preview.cropped {
                img src=(url) alt=(alt);
                @if w > 0 && h > 0 && !image.crops.is_empty() {
                    svg.crops viewBox={ "0 0 " (w) " " (h) } preserveAspectRatio="none" aria-hidden="true" {
                        @for c in &image.crops {
                            rect x=(c.x) y=(c.y) width=(c.width) height=(c.height) {}
                            text x=(c.x + 8) y=(c.y + (h / 20).max(12)) font-size=((h / 25).max(10)) { (c.aspect_ratio) }
                        }
                    }
                }
            }
        } @else {
            p.hint { "No preview yet." }
        }
    }
}

/// The edits one form asks for.
fn edits_of(part: &str, image: &str, form: &FormData) -> Result<Vec<Edit>, CoreError> {
    let text = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let number = |name: &str| -> Result<i64, CoreError> {
        form.get(name)
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|_| CoreError::validation(name, format!("{name} must be a whole number.")))
    };
    Ok(match part {
        "details" => {
            let date = text("creation_date");
            let patch = ImagePatch {
                title: Some(text("title")),
                description: Some(text("description")),
                creation_date: Some((!date.trim().is_empty()).then(|| date.trim().to_owned())),
                rotation: Some(number("rotation")?),
            };
            vec![
                Edit::patch(image, patch)?,
                Edit::alt_text(
                    image,
                    AltTextBody {
                        alt_text: text("alt_text"),
                    },
                )?,
                Edit::rating(
                    image,
                    RatingBody {
                        rating: number("rating")?,
                    },
                )?,
            ]
        }
        "add_keywords" => {
            let keywords = crate::form::keyword_list(&text("keywords"));
            vec![Edit::add_keywords(image, KeywordsBody { keywords })?]
        }
        "remove_keyword" => vec![Edit::remove_keyword(
            image,
            KeywordRemoveBody {
                keyword: text("keyword"),
                namespace: None,
            },
        )?],
        "add_credit" => vec![Edit::add_credit(
            image,
            CreditBody {
                role: text("role"),
                name: text("name"),
            },
        )?],
        "remove_credit" => {
            let credit_uuid = uuid::Uuid::parse_str(form.get("credit").unwrap_or_default())
                .map_err(|_| CoreError::validation("credit", "No such credit."))?;
            vec![Edit::remove_credit(
                image,
                CreditRemoveBody { credit_uuid },
            )?]
        }
        "iptc" => {
            let patch: MetadataPatch = serde_json::from_value(Value::Object(iptc_fields(form)))
                .map_err(|e| CoreError::validation("iptc", e.to_string()))?;
            vec![Edit::metadata(image, &patch)?]
        }
        "crop" => vec![Edit::crop(
            image,
            Crop {
                aspect_ratio: text("aspect_ratio").trim().to_owned(),
                x: number("x")?,
                y: number("y")?,
                width: number("width")?,
                height: number("height")?,
            },
        )?],
        "clear_crop" => vec![Edit::clear_crop(
            image,
            Some(CropClearBody {
                aspect_ratio: text("aspect_ratio"),
            }),
        )?],
        "extract" => vec![Edit::extract_metadata(image)?],
        _ => {
            return Err(CoreError::validation(
                "part",
                "This form is not one of the page's.",
            ));
        }
    })
}

pub async fn save(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    signed: SignedForm,
) -> Response {
    let SignedForm { user, form, .. } = signed;
    let Some(idem) = form
        .get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
    else {
        return page::error(Some(&user), &crate::session::csrf_refused());
    };
    let part = form.get("part").unwrap_or_default().to_owned();
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("edit-{idem}")),
        request_hash: form.fingerprint(&["console image edit", &uuid]),
    };
    let principal = user.principal();
    let written = match edits_of(&part, &uuid, &form) {
        Ok(mut list) if list.len() == 1 => match list.pop() {
            Some(edit) => edits::run(&state.core, &principal, &ctx, edit)
                .await
                .map(|_| ()),
            None => Err(CoreError::internal()),
        },
        Ok(list) => edits::run_batch(&state.core, &principal, &ctx, list)
            .await
            .map(|_| ())
            .map_err(plain_batch_error),
        Err(e) => Err(e),
    };
    match written {
        Ok(()) => Redirect::to(&format!("/admin/library/{uuid}/edit?done={part}")).into_response(),
        // Not found, not allowed: the whole page says so.
        Err(e) if e.field.is_none() => page::error(Some(&user), &e),
        Err(e) => {
            render(
                &state,
                &user,
                &uuid,
                None,
                Some(Refused {
                    part: &part,
                    error: &e,
                    form: &form,
                }),
            )
            .await
        }
    }
}

/// A batch error without its `operations[n]: ` prefix (a person sent one
/// form, not a batch), keeping the field.
fn plain_batch_error(e: CoreError) -> CoreError {
    let message = crate::pages::bulk::reason(&e);
    CoreError { message, ..e }
}
