//! Websites (api.md §10): the account's public and press galleries — list,
//! create, change, delete after a confirmation page. Everyone signed in
//! sees the list (as `GET /v1/websites` reads); only a role that may
//! change websites (not `user`, as the API's `websites::create` / `update`
//! / `delete` decide) gets the buttons and the forms. The writes are the
//! API's own use-cases; each form carries an idempotency key, so a form
//! sent twice (a double click, a reload) makes one website.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::sets::{self, SetNode};
use lightbox_core::users::Role;
use lightbox_core::websites::{
    self, DEFAULT_ACCENT, Downloads, NewWebsite, Website, WebsitePatch, WebsiteType,
};
use lightbox_core::writes::WriteContext;
use lightbox_core::{CoreError, ErrorKind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::session::{Signed, SignedForm};

/// As many websites as one page lists (an account has a handful).
const LIST_LIMIT: i64 = 200;

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some("The website was created. It shows the live images of its set tree."),
        "saved" => Some("The website was saved; its pages show the change at once."),
        "deleted" => Some("The website was deleted. Its sets and images stay in the library."),
        _ => None,
    }
}

/// Whether this person may create, change and delete websites, and see a
/// press website's members and download log: the same rule as the
/// use-cases (a `user` member changes no website and sees no press data).
pub(crate) fn may_write(user: &ConsoleUser) -> bool {
    user.role != Role::User
}

fn require_writer(user: &ConsoleUser) -> Result<(), Response> {
    if may_write(user) {
        return Ok(());
    }
    Err(page::error(
        Some(user),
        &CoreError::forbidden(
            "Your role does not create, change or delete websites. Ask an admin of this account.",
        )
        .with_detail("role_not_allowed"),
    ))
}

fn type_str(t: WebsiteType) -> &'static str {
    match t {
        WebsiteType::Public => "public",
        WebsiteType::Press => "press",
    }
}

fn downloads_str(d: Downloads) -> &'static str {
    match d {
        Downloads::None => "none",
        Downloads::Large => "large",
        Downloads::Original => "original",
    }
}

fn parse_type(text: &str) -> Result<WebsiteType, CoreError> {
    match text {
        "public" => Ok(WebsiteType::Public),
        "press" => Ok(WebsiteType::Press),
        _ => Err(CoreError::validation(
            "type",
            "Choose public or press as the type.",
        )),
    }
}

fn parse_downloads(text: &str) -> Result<Downloads, CoreError> {
    match text {
        "none" => Ok(Downloads::None),
        "large" => Ok(Downloads::Large),
        "original" => Ok(Downloads::Original),
        _ => Err(CoreError::validation(
            "downloads",
            "Choose none, large or original as the downloads.",
        )),
    }
}

/// The account's sets in tree order with their depth, for the root choice
/// and for naming a website's root.
fn flatten(nodes: &[SetNode], depth: usize, out: &mut Vec<(usize, String, String)>) {
    for node in nodes {
        out.push((depth, node.set.public_uuid.clone(), node.set.name.clone()));
        flatten(&node.children, depth + 1, out);
    }
}

/// The `<option>`s of a set picker, indented by depth, `chosen` selected.
pub(crate) fn set_options(sets: &[(usize, String, String)], chosen: &str) -> Markup {
    html! {
        @for (depth, id, name) in sets {
            option value=(id) selected[id == chosen] {
                @for _ in 0..*depth { "\u{a0}\u{a0}\u{a0}" }
                (name)
            }
        }
    }
}

pub(crate) async fn set_choices(
    state: &WebState,
    user: &ConsoleUser,
) -> Result<Vec<(usize, String, String)>, CoreError> {
    let tree = sets::tree(&state.core, &user.account.uuid).await?;
    let mut out = Vec::new();
    flatten(&tree, 0, &mut out);
    Ok(out)
}

pub async fn list(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(q): Query<Done>,
) -> Response {
    let (all, more) = match websites::list(&state.core, &user.account.uuid, LIST_LIMIT, 0).await {
        Ok(w) => w,
        Err(e) => return page::error(Some(&user), &e),
    };
    let names: HashMap<String, String> = match set_choices(&state, &user).await {
        Ok(sets) => sets.into_iter().map(|(_, id, name)| (id, name)).collect(),
        Err(e) => return page::error(Some(&user), &e),
    };
    let writer = may_write(&user);
    page::respond(page::shell(
        Some(&user),
        Section::Websites,
        "Websites",
        html! {
            (page::notice(notice_for(q.done.as_deref())))
            p {
                "A website shows the live images of one set tree: to anyone (public) or to approved press members (press)."
            }
            @if writer {
                p { a.button href="/admin/websites/new" { "New website" } }
            }
            @if all.is_empty() {
                p { "No websites yet." }
            } @else {
                div.table-wrap {
                    table.stackable #websites {
                        thead { tr {
                            th { "Name" } th { "Type" } th { "Address" } th { "Host name" }
                            th { "Set" } th { "Downloads" }
                            th { span.visually-hidden { "Actions" } }
                        } }
                        tbody {
                            @for w in &all {
                                tr {
                                    td data-label="Name" {
                                        @if writer {
                                            a href={ "/admin/websites/" (w.public_uuid) } aria-label={ "Edit " (w.name) } { (w.name) }
                                        } @else {
                                            (w.name)
                                        }
                                    }
                                    td data-label="Type" { (type_str(w.website_type)) }
                                    td data-label="Address" { code { "/w/" (w.slug) "/" } }
                                    td data-label="Host name" {
                                        @match &w.hostname { Some(h) => code { (h) }, None => "—" }
                                    }
                                    td data-label="Set" {
                                        a href={ "/admin/library?set_public_uuid=" (w.root_set_public_uuid) } {
                                            (names.get(&w.root_set_public_uuid).map_or(w.root_set_public_uuid.as_str(), String::as_str))
                                        }
                                    }
                                    td data-label="Downloads" { (downloads_str(w.downloads)) }
                                    td {
                                        div.actions {
                                            a href=(w.url) aria-label={ "View " (w.name) } { "View" }
                                            @if writer && w.website_type == WebsiteType::Press {
                                                a href={ "/admin/websites/" (w.public_uuid) "/press" } aria-label={ "Press members of " (w.name) } { "Press members" }
                                                a href={ "/admin/websites/" (w.public_uuid) "/downloads" } aria-label={ "Download log of " (w.name) } { "Download log" }
                                            }
                                            @if writer {
                                                a href={ "/admin/websites/" (w.public_uuid) "/delete" } aria-label={ "Delete " (w.name) } { "Delete…" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if more { p.hint { "Only the first " (LIST_LIMIT) " websites are listed." } }
            }
        },
    ))
}

/// What the form shows: a website's settings, the defaults of a new one,
/// or what was sent (after a refusal).
struct Values {
    name: String,
    website_type: String,
    slug: String,
    hostname: String,
    root: String,
    title: String,
    intro: String,
    accent: String,
    /// Empty on a new website: the type's default.
    downloads: String,
}

impl Values {
    fn new_website() -> Self {
        Values {
            name: String::new(),
            website_type: "public".into(),
            slug: String::new(),
            hostname: String::new(),
            root: String::new(),
            title: String::new(),
            intro: String::new(),
            accent: DEFAULT_ACCENT.into(),
            downloads: String::new(),
        }
    }

    fn of(w: &Website) -> Self {
        Values {
            name: w.name.clone(),
            website_type: type_str(w.website_type).into(),
            slug: w.slug.clone(),
            hostname: w.hostname.clone().unwrap_or_default(),
            root: w.root_set_public_uuid.clone(),
            title: w.title.clone(),
            intro: w.intro.clone(),
            accent: w.accent.clone(),
            downloads: downloads_str(w.downloads).into(),
        }
    }

    fn sent(form: &FormData) -> Self {
        let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
        Values {
            name: field("name"),
            website_type: field("type"),
            slug: field("slug"),
            hostname: field("hostname"),
            root: field("root_set_public_uuid"),
            title: field("title"),
            intro: field("intro"),
            accent: field("accent"),
            downloads: field("downloads"),
        }
    }
}

/// The fields the form has: a refusal naming one is shown beside it, any
/// other above the form.
const FIELDS: [&str; 9] = [
    "name",
    "type",
    "slug",
    "hostname",
    "root_set_public_uuid",
    "title",
    "intro",
    "accent",
    "downloads",
];

/// Which form: a new website, or changing one.
enum Mode<'a> {
    New,
    Edit(&'a str),
}

fn website_form(
    user: &ConsoleUser,
    mode: Mode<'_>,
    sets: &[(usize, String, String)],
    values: &Values,
    idem: &str,
    error: Option<&CoreError>,
    after: Markup,
) -> Markup {
    let at = |name: &str| {
        error
            .filter(|e| e.field.as_deref() == Some(name))
            .map(|e| e.message.as_str())
    };
    let elsewhere = error.filter(|e| !e.field.as_deref().is_some_and(|f| FIELDS.contains(&f)));
    // A field's hint and, after a refusal, its problem, for aria-describedby.
    let described = |name: &str, hint: bool| {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{name}-hint"));
        }
        if at(name).is_some() {
            ids.push(format!("{name}-problem"));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    };
    let problem = |name: &str| {
        html! {
            @if let Some(message) = at(name) {
                p.field-problem id={ (name) "-problem" } { (message) }
            }
        }
    };
    let invalid = |name: &str| at(name).is_some().then_some("true");
    let (title, action, submit) = match mode {
        Mode::New => (
            "New website".to_owned(),
            "/admin/websites".to_owned(),
            "Create website",
        ),
        Mode::Edit(uuid) => (
            match values.name.trim() {
                "" => "Edit website".to_owned(),
                name => format!("Website: {name}"),
            },
            format!("/admin/websites/{uuid}"),
            "Save website",
        ),
    };
    let is_new = matches!(mode, Mode::New);
    page::shell(
        Some(user),
        Section::Websites,
        &title,
        html! {
            @if error.is_some() {
                div.problem role="alert" {
                    @match elsewhere {
                        Some(e) => p { (e.message) },
                        None => p { "Nothing was saved: see the message beside the field." },
                    }
                }
            }
            form.stack method="post" action=(action) {
                (page::csrf(user))
                input type="hidden" name="idem" value=(idem);
                div {
                    label for="name" { "Name" }
                    p.hint #name-hint { "What the console calls it, e.g. \"Festival 2026 — press\"." }
                    (problem("name"))
                    input #name type="text" name="name" value=(values.name) maxlength=(websites::NAME_MAX) required
                        aria-describedby=[described("name", true)] aria-invalid=[invalid("name")];
                }
                div {
                    label for="type" { "Type" }
                    (problem("type"))
                    select #type name="type" aria-describedby=[described("type", false)] aria-invalid=[invalid("type")] {
                        option value="public" selected[values.website_type == "public"] { "public — anyone may look" }
                        option value="press" selected[values.website_type == "press"] { "press — approved press members only" }
                    }
                }
                div {
                    label for="slug" { "Slug" }
                    p.hint #slug-hint { "Its address: the website is served at /w/<slug>/. 1-63 of a-z, 0-9 and -, not starting or ending with -. Unique on the server." }
                    (problem("slug"))
                    input #slug type="text" name="slug" value=(values.slug) maxlength=(websites::SLUG_MAX) required
                        autocomplete="off" spellcheck="false" autocapitalize="none"
                        aria-describedby=[described("slug", true)] aria-invalid=[invalid("slug")];
                }
                div {
                    label for="hostname" { "Host name (optional)" }
                    p.hint #hostname-hint { "A name of its own, such as photos.example.org, served at its / when the operator allows the name. Empty: none." }
                    (problem("hostname"))
                    input #hostname type="text" name="hostname" value=(values.hostname) maxlength="253"
                        autocomplete="off" spellcheck="false" autocapitalize="none"
                        aria-describedby=[described("hostname", true)] aria-invalid=[invalid("hostname")];
                }
                div {
                    label for="root_set_public_uuid" { "Set" }
                    p.hint #root_set_public_uuid-hint { "The website shows the live images of this set and the sets under it." }
                    (problem("root_set_public_uuid"))
                    select #root_set_public_uuid name="root_set_public_uuid" required
                        aria-describedby=[described("root_set_public_uuid", true)] aria-invalid=[invalid("root_set_public_uuid")] {
                        option value="" selected[values.root.is_empty()] { "Choose a set" }
                        (set_options(sets, &values.root))
                    }
                }
                div {
                    label for="title" { "Title" }
                    p.hint #title-hint { "The pages' title. Empty: the name." }
                    (problem("title"))
                    input #title type="text" name="title" value=(values.title) maxlength=(websites::NAME_MAX)
                        aria-describedby=[described("title", true)] aria-invalid=[invalid("title")];
                }
                div {
                    label for="intro" { "Introduction" }
                    p.hint #intro-hint { "Shown on the home page; up to 5000 characters." }
                    (problem("intro"))
                    textarea #intro name="intro" rows="4" maxlength=(websites::INTRO_MAX)
                        aria-describedby=[described("intro", true)] aria-invalid=[invalid("intro")] { (values.intro) }
                }
                div {
                    label for="accent" { "Accent colour" }
                    (problem("accent"))
                    input #accent type="color" name="accent" value=(values.accent)
                        aria-describedby=[described("accent", false)] aria-invalid=[invalid("accent")];
                }
                div {
                    label for="downloads" { "Downloads" }
                    p.hint #downloads-hint { "What a visitor may download (on a press website, approved press members)." }
                    (problem("downloads"))
                    select #downloads name="downloads" aria-describedby=[described("downloads", true)] aria-invalid=[invalid("downloads")] {
                        @if is_new {
                            option value="" selected[values.downloads.is_empty()] { "The type's default — none on public, large on press" }
                        }
                        option value="none" selected[values.downloads == "none"] { "none" }
                        option value="large" selected[values.downloads == "large"] { "large version" }
                        option value="original" selected[values.downloads == "original"] { "original file" }
                    }
                }
                div.actions {
                    button type="submit" { (submit) }
                    a href="/admin/websites" { "Cancel" }
                }
            }
            (after)
        },
    )
}

/// A fresh idempotency key for a form, or the one it was sent with.
fn idem_of(sent: Option<&FormData>) -> String {
    sent.and_then(|f| f.get("idem"))
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn new_form(State(state): State<WebState>, Signed(user): Signed) -> Response {
    if let Err(r) = require_writer(&user) {
        return r;
    }
    let sets = match set_choices(&state, &user).await {
        Ok(s) => s,
        Err(e) => return page::error(Some(&user), &e),
    };
    page::respond(website_form(
        &user,
        Mode::New,
        &sets,
        &Values::new_website(),
        &idem_of(None),
        None,
        html! {},
    ))
}

/// The form's chosen root set, refused in the console's words when none
/// was chosen.
fn root_of(form: &FormData) -> Result<String, CoreError> {
    form.text("root_set_public_uuid")
        .map(str::to_owned)
        .ok_or_else(|| {
            CoreError::validation(
                "root_set_public_uuid",
                "Choose the set whose images the website shows.",
            )
        })
}

fn new_website(form: &FormData) -> Result<NewWebsite, CoreError> {
    let website_type = parse_type(form.get("type").unwrap_or_default())?;
    let downloads = match form.get("downloads").unwrap_or_default() {
        "" => None,
        text => Some(parse_downloads(text)?),
    };
    Ok(NewWebsite {
        name: form.get("name").unwrap_or_default().to_owned(),
        website_type: Some(website_type),
        slug: form.get("slug").unwrap_or_default().trim().to_owned(),
        hostname: form.text("hostname").map(str::to_owned),
        root_set_public_uuid: root_of(form)?,
        title: form.text("title").map(str::to_owned),
        intro: form.get("intro").map(str::to_owned),
        accent: form.text("accent").map(str::to_owned),
        logo_image_public_uuid: None,
        downloads,
    })
}

/// The form's fields for a fingerprint: the same key with other values is
/// another form, not the same one sent again.
fn fingerprint(what: &str, form: &FormData) -> String {
    let mut parts = vec![what];
    for field in FIELDS {
        parts.push(form.get(field).unwrap_or_default());
    }
    console::form_fingerprint(&parts)
}

/// The form's idempotency key: a UUID the form was given, else the form
/// was not made by this console.
fn form_key(form: &FormData) -> Result<&str, CoreError> {
    form.get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
        .ok_or_else(crate::session::csrf_refused)
}

/// After a refused write: the form again with what was sent, or, when the
/// refusal is about no field (not allowed, gone, broken), its page.
async fn refuse(
    state: &WebState,
    user: &ConsoleUser,
    mode: Mode<'_>,
    form: &FormData,
    e: &CoreError,
) -> Response {
    let shown_in_form = matches!(
        e.kind,
        ErrorKind::Validation | ErrorKind::Conflict | ErrorKind::SetNotFound
    );
    if !shown_in_form {
        return page::error(Some(user), e);
    }
    let sets = match set_choices(state, user).await {
        Ok(s) => s,
        Err(e) => return page::error(Some(user), &e),
    };
    page::respond_with(
        page::status(e),
        website_form(
            user,
            mode,
            &sets,
            &Values::sent(form),
            &idem_of(Some(form)),
            Some(e),
            html! {},
        ),
    )
}

pub async fn create(State(state): State<WebState>, signed: SignedForm) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    if let Err(r) = require_writer(user) {
        return r;
    }
    let idem = match form_key(form) {
        Ok(k) => k,
        Err(e) => return page::error(Some(user), &e),
    };
    let input = match new_website(form) {
        Ok(i) => i,
        Err(e) => return refuse(&state, user, Mode::New, form, &e).await,
    };
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("website-{idem}")),
        request_hash: fingerprint("console website create", form),
    };
    match websites::create(&state.core, &ctx, &user.principal(), input).await {
        Ok(_) => Redirect::to("/admin/websites?done=created").into_response(),
        Err(e) => refuse(&state, user, Mode::New, form, &e).await,
    }
}

pub async fn edit_form(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(uuid): Path<String>,
) -> Response {
    if let Err(r) = require_writer(&user) {
        return r;
    }
    let website = match websites::get(&state.core, &user.account.uuid, &uuid).await {
        Ok(w) => w,
        Err(e) => return page::error(Some(&user), &e),
    };
    let sets = match set_choices(&state, &user).await {
        Ok(s) => s,
        Err(e) => return page::error(Some(&user), &e),
    };
    let after = html! {
        h2 { "Live site" }
        p { a href=(website.url) { "View " (website.name) } " at " code { (website.url) } }
        @if website.website_type == WebsiteType::Press {
            h2 { "Press" }
            p.actions {
                a href={ "/admin/websites/" (website.public_uuid) "/press" } { "Press members" }
                a href={ "/admin/websites/" (website.public_uuid) "/downloads" } { "Download log" }
            }
        }
        h2 { "Delete" }
        p { a href={ "/admin/websites/" (website.public_uuid) "/delete" } { "Delete this website…" } }
    };
    page::respond(website_form(
        &user,
        Mode::Edit(&website.public_uuid),
        &sets,
        &Values::of(&website),
        &idem_of(None),
        None,
        after,
    ))
}

/// The form as a patch: every field it has is set (a form without a field
/// leaves that setting as it is); an empty host name removes it, an empty
/// title becomes the name.
fn patch_of(form: &FormData) -> Result<WebsitePatch, CoreError> {
    let website_type = form.get("type").map(parse_type).transpose()?;
    let downloads = form.get("downloads").map(parse_downloads).transpose()?;
    let root = match form.get("root_set_public_uuid") {
        Some(_) => Some(root_of(form)?),
        None => None,
    };
    let name = form.get("name").map(str::to_owned);
    let title = form.get("title").map(|t| match t.trim() {
        "" => name.clone().unwrap_or_default(),
        t => t.to_owned(),
    });
    Ok(WebsitePatch {
        name,
        website_type,
        slug: form.get("slug").map(|s| s.trim().to_owned()),
        hostname: form
            .get("hostname")
            .map(|h| Some(h.trim()).filter(|h| !h.is_empty()).map(str::to_owned)),
        root_set_public_uuid: root,
        title,
        intro: form.get("intro").map(str::to_owned),
        accent: form.text("accent").map(str::to_owned),
        logo_image_public_uuid: None,
        downloads,
    })
}

pub async fn update(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    signed: SignedForm,
) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    if let Err(r) = require_writer(user) {
        return r;
    }
    let idem = match form_key(form) {
        Ok(k) => k,
        Err(e) => return page::error(Some(user), &e),
    };
    let patch = match patch_of(form) {
        Ok(p) => p,
        Err(e) => return refuse(&state, user, Mode::Edit(&uuid), form, &e).await,
    };
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("website-edit-{idem}")),
        request_hash: fingerprint(&format!("console website update {uuid}"), form),
    };
    match websites::update(&state.core, &ctx, &user.principal(), &uuid, patch).await {
        Ok(_) => Redirect::to("/admin/websites?done=saved").into_response(),
        Err(e) => refuse(&state, user, Mode::Edit(&uuid), form, &e).await,
    }
}

pub async fn confirm_delete(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(uuid): Path<String>,
) -> Response {
    if let Err(r) = require_writer(&user) {
        return r;
    }
    let website = match websites::get(&state.core, &user.account.uuid, &uuid).await {
        Ok(w) => w,
        Err(e) => return page::error(Some(&user), &e),
    };
    page::respond(page::shell(
        Some(&user),
        Section::Websites,
        "Delete website?",
        html! {
            p {
                "Delete " strong { (website.name) } " (" code { (website.url) } ")? "
                "Its pages stop at once; its sets and images stay in the library. This cannot be undone."
            }
            form method="post" action={ "/admin/websites/" (website.public_uuid) "/delete" } {
                (page::csrf(&user))
                div.actions {
                    button.danger type="submit" { "Delete website" }
                    a href="/admin/websites" { "Cancel" }
                }
            }
        },
    ))
}

pub async fn delete(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    signed: SignedForm,
) -> Response {
    let user = &signed.user;
    if let Err(r) = require_writer(user) {
        return r;
    }
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        // Deleting is the same act however often it is asked.
        idempotency_key: console::idempotency_key(&format!("website-delete-{uuid}")),
        request_hash: console::form_fingerprint(&["console website delete", &uuid]),
    };
    match websites::delete(&state.core, &ctx, &user.principal(), &uuid).await {
        Ok(_) => Redirect::to("/admin/websites?done=deleted").into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}
