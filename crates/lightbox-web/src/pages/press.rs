//! A press website's people and downloads (api.md §10): its press members
//! — approve, refuse, revoke — and its download log. Personal data, so the
//! same rule as `GET /v1/websites/{id}/press_members` and `…/downloads`:
//! not for the `user` role (the console's 403 page, and no links to here).
//! A public website has no press members and logs no download: its pages
//! here are not found. Each decision is `press::decide`, the API's own
//! use-case, with an idempotency key per button, so a button pressed twice
//! decides once.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::press::{
    self, PressDecision, PressMember, PressMemberPatch, PressStatus, WebsiteDownload,
};
use lightbox_core::websites::{self, Website, WebsiteType};
use lightbox_core::writes::WriteContext;
use lightbox_core::{CoreError, ErrorKind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::url_encode;
use crate::page::{self, Section};
use crate::pages::websites::may_write;
use crate::session::{Signed, SignedForm};

/// As many rows as one page shows.
const PAGE_SIZE: i64 = 50;

/// The list's filter: one status, or every member.
const FILTERS: [(&str, &str); 5] = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("refused", "Refused"),
    ("revoked", "Revoked"),
    ("all", "All"),
];

#[derive(Deserialize)]
pub struct MembersQuery {
    status: Option<String>,
    offset: Option<String>,
    /// After a decision: what was decided, about whom.
    done: Option<String>,
    member: Option<String>,
}

#[derive(Deserialize)]
pub struct LogQuery {
    offset: Option<String>,
}

/// The rule of the use-cases (`press::list_members`, `decide`,
/// `list_downloads`): the `user` role sees and decides no press member.
fn require_manager(user: &ConsoleUser) -> Result<(), Response> {
    if may_write(user) {
        return Ok(());
    }
    Err(page::error(
        Some(user),
        &CoreError::forbidden(
            "Your role does not see or decide press members and their downloads. Ask an admin of this account.",
        )
        .with_detail("role_not_allowed"),
    ))
}

/// The account's press website `uuid`, for someone who may see its people;
/// else the page that says why not.
async fn press_website(
    state: &WebState,
    user: &ConsoleUser,
    uuid: &str,
) -> Result<Website, Response> {
    require_manager(user)?;
    let website = websites::get(&state.core, &user.account.uuid, uuid)
        .await
        .map_err(|e| page::error(Some(user), &e))?;
    if website.website_type == WebsiteType::Public {
        return Err(page::error(
            Some(user),
            &CoreError::new(
                ErrorKind::NotFound,
                "Public websites have no press members and no download log: anyone may look at them without signing in.",
            ),
        ));
    }
    Ok(website)
}

/// A page's offset from the query: a whole number from 0, else the start.
fn offset_of(text: Option<&str>) -> i64 {
    text.and_then(|o| o.trim().parse::<i64>().ok())
        .filter(|o| *o >= 0)
        .unwrap_or(0)
}

fn parse_status(text: &str) -> Option<PressStatus> {
    [
        PressStatus::Pending,
        PressStatus::Approved,
        PressStatus::Refused,
        PressStatus::Revoked,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
}

/// The filter from the query: pending when none is chosen; `None` inside
/// for every member.
fn filter_of(text: Option<&str>) -> Result<(&'static str, Option<PressStatus>), CoreError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None => Ok(("pending", Some(PressStatus::Pending))),
        Some(t) => FILTERS
            .iter()
            .find(|(value, _)| *value == t)
            .map(|(value, _)| (*value, parse_status(value)))
            .ok_or_else(|| {
                CoreError::validation(
                    "status",
                    "Choose pending, approved, refused, revoked or all to show.",
                )
            }),
    }
}

/// What a decision's button says and the notice after it says.
fn verb(status: PressStatus) -> (&'static str, &'static str) {
    match status {
        PressStatus::Approved => ("Approve", "approved"),
        PressStatus::Refused => ("Refuse", "refused"),
        PressStatus::Revoked => ("Revoke", "revoked"),
        PressStatus::Pending => ("", "pending"),
    }
}

/// The decisions offered for a member where they stand.
fn decisions(status: PressStatus) -> &'static [PressStatus] {
    match status {
        PressStatus::Pending => &[PressStatus::Approved, PressStatus::Refused],
        PressStatus::Approved => &[PressStatus::Revoked],
        PressStatus::Refused | PressStatus::Revoked => &[PressStatus::Approved],
    }
}

fn status_badge(status: PressStatus) -> Markup {
    let text = status.as_str();
    html! {
        @match status {
            PressStatus::Approved => span.badge.on { (text) },
            PressStatus::Refused | PressStatus::Revoked => span.badge.off { (text) },
            PressStatus::Pending => span.badge { (text) },
        }
    }
}

/// The links between a press website's console pages; `here` is the
/// page's own ("press" or "downloads").
fn press_links(website: &Website, here: &str) -> Markup {
    let base = format!("/admin/websites/{}", website.public_uuid);
    let current = |page: &str| (page == here).then_some("page");
    html! {
        p.actions {
            a href={ (base) "/press" } aria-current=[current("press")] { "Press members" }
            a href={ (base) "/downloads" } aria-current=[current("downloads")] { "Download log" }
            a href=(base) { "Website settings" }
            a href="/admin/websites" { "All websites" }
        }
    }
}

/// The notice after a decision: "Ada Reporter approved." — named from the
/// member as they stand now, and only when that is what was decided.
async fn decided_notice(
    state: &WebState,
    user: &ConsoleUser,
    website: &Website,
    q: &MembersQuery,
) -> Option<String> {
    let done = parse_status(q.done.as_deref()?)?;
    let member = q.member.as_deref()?;
    let m = press::get_member(&state.core, &user.principal(), &website.public_uuid, member)
        .await
        .ok()?;
    (m.status == done).then(|| format!("{} {}.", m.name, verb(done).1))
}

pub async fn members(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(website_id): Path<String>,
    Query(q): Query<MembersQuery>,
) -> Response {
    let website = match press_website(&state, &user, &website_id).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let (filter, status) = match filter_of(q.status.as_deref()) {
        Ok(f) => f,
        Err(e) => return page::error(Some(&user), &e),
    };
    let offset = offset_of(q.offset.as_deref());
    let (all, more) = match press::list_members(
        &state.core,
        &user.principal(),
        &website.public_uuid,
        status,
        PAGE_SIZE,
        offset,
    )
    .await
    {
        Ok(m) => m,
        Err(e) => return page::error(Some(&user), &e),
    };
    let notice = decided_notice(&state, &user, &website, &q).await;
    let here = format!("/admin/websites/{}/press", website.public_uuid);
    let page_at = |at: i64| format!("{here}?status={filter}&offset={at}");
    let shown = match status {
        Some(_) => FILTERS
            .iter()
            .find(|(value, _)| *value == filter)
            .map_or("", |(_, text)| text),
        None => "All",
    };
    page::respond(page::shell(
        Some(&user),
        Section::Websites,
        &format!("Press members: {}", website.name),
        html! {
            (page::notice(notice.as_deref()))
            (press_links(&website, "press"))
            p {
                "People register on " a href=(website.url) { (website.name) } "; they sign in and download only once approved. "
                "Refusing or revoking signs them out at once."
            }
            form.filters method="get" action=(here) {
                div {
                    label for="status" { "Show" }
                    select #status name="status" {
                        @for (value, text) in FILTERS {
                            option value=(value) selected[value == filter] { (text) }
                        }
                    }
                }
                div { button.secondary type="submit" { "Show" } }
            }
            @if all.is_empty() {
                p role="status" #result-count {
                    @if offset > 0 { "No more press members here." }
                    @else if status.is_some() { "No " (filter) " press members." }
                    @else { "Nobody has registered yet." }
                }
            } @else {
                div.table-wrap {
                    table.stackable #press-members {
                        caption {
                            (shown) " press members " (offset + 1) "–" (offset + i64::try_from(all.len()).unwrap_or(0))
                            @if more { " (more follow)" }
                        }
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Outlet" } th scope="col" { "E-mail" }
                            th scope="col" { "Status" } th scope="col" { "Two-factor" }
                            th scope="col" { "Registered" } th scope="col" { "Decided" }
                            th scope="col" { span.visually-hidden { "Decisions" } }
                        } }
                        tbody {
                            @for m in &all { (member_row(&user, &website, filter, m)) }
                        }
                    }
                }
            }
            (pager(offset, more, page_at))
        },
    ))
}

fn member_row(user: &ConsoleUser, website: &Website, filter: &str, m: &PressMember) -> Markup {
    html! {
        tr {
            td data-label="Name" { (m.name) }
            td data-label="Outlet" { (m.outlet) }
            td data-label="E-mail" { a href={ "mailto:" (m.email) } { (m.email) } }
            td data-label="Status" { (status_badge(m.status)) }
            td data-label="Two-factor" {
                @if m.two_factor { span.badge.on { "on" } } @else { span.badge { "off" } }
            }
            td data-label="Registered" { (page::when(&m.created_at)) }
            td data-label="Decided" { (page::when_or(m.decided_at.as_deref(), "—")) }
            td {
                div.actions {
                    @for decision in decisions(m.status) {
                        @let (button, _) = verb(*decision);
                        form.inline method="post" action={ "/admin/websites/" (website.public_uuid) "/press/" (m.uuid) } {
                            (page::csrf(user))
                            input type="hidden" name="idem" value=(uuid::Uuid::new_v4());
                            input type="hidden" name="status" value=(decision.as_str());
                            input type="hidden" name="shown" value=(filter);
                            @if *decision == PressStatus::Approved {
                                button type="submit" aria-label={ (button) " " (m.name) } { (button) }
                            } @else {
                                button.danger type="submit" aria-label={ (button) " " (m.name) } { (button) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn pager(offset: i64, more: bool, page_at: impl Fn(i64) -> String) -> Markup {
    html! {
        @if offset > 0 || more {
            nav.pager aria-label="Pages" {
                @if offset > 0 {
                    a rel="prev" href=(page_at((offset - PAGE_SIZE).max(0))) { "← Previous" }
                }
                @if more {
                    a rel="next" href=(page_at(offset + PAGE_SIZE)) { "Next →" }
                }
            }
        }
    }
}

pub async fn decide(
    State(state): State<WebState>,
    Path((website_id, member)): Path<(String, String)>,
    signed: SignedForm,
) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    let website = match press_website(&state, user, &website_id).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(idem) = form
        .get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
    else {
        return page::error(Some(user), &crate::session::csrf_refused());
    };
    let sent = form.get("status").unwrap_or_default();
    let decision = match parse_status(sent) {
        Some(PressStatus::Approved) => Some(PressDecision::Approved),
        Some(PressStatus::Refused) => Some(PressDecision::Refused),
        Some(PressStatus::Revoked) => Some(PressDecision::Revoked),
        _ => None,
    };
    let Some(status) = decision else {
        return page::error(
            Some(user),
            &CoreError::validation("status", "Choose approve, refuse or revoke."),
        );
    };
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("press-member-{idem}")),
        request_hash: console::form_fingerprint(&[
            "console press member decide",
            &website.public_uuid,
            &member,
            sent,
        ]),
    };
    let patch = PressMemberPatch { status };
    match press::decide(
        &state.core,
        &ctx,
        &user.principal(),
        &website.public_uuid,
        &member,
        patch,
    )
    .await
    {
        Ok(_) => {
            let shown = filter_of(form.get("shown"))
                .map(|(f, _)| f)
                .unwrap_or("pending");
            Redirect::to(&format!(
                "/admin/websites/{}/press?status={shown}&done={}&member={}",
                website.public_uuid,
                status.status().as_str(),
                url_encode(&member),
            ))
            .into_response()
        }
        // The key of another decision, or the same one still running: in
        // the console's words, not the API's header name.
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::IdempotencyKeyConflict | ErrorKind::Conflict
            ) =>
        {
            page::error(
                Some(user),
                &CoreError::new(
                    ErrorKind::Conflict,
                    "This button was already used, or its decision is still being made. Reload the list and try again.",
                ),
            )
        }
        Err(e) => page::error(Some(user), &e),
    }
}

/// An archive's uuid, shortened to its random end ("…3e5d6c7b8a91").
fn short(uuid: &str) -> String {
    let tail = uuid.rsplit('-').next().unwrap_or(uuid);
    format!("…{tail}")
}

pub async fn downloads(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(website_id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Response {
    let website = match press_website(&state, &user, &website_id).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let offset = offset_of(q.offset.as_deref());
    let (rows, more) = match press::list_downloads(
        &state.core,
        &user.principal(),
        &website.public_uuid,
        PAGE_SIZE,
        offset,
    )
    .await
    {
        Ok(d) => d,
        Err(e) => return page::error(Some(&user), &e),
    };
    let here = format!("/admin/websites/{}/downloads", website.public_uuid);
    let page_at = |at: i64| format!("{here}?offset={at}");
    page::respond(page::shell(
        Some(&user),
        Section::Websites,
        &format!("Download log: {}", website.name),
        html! {
            (press_links(&website, "downloads"))
            p { "Every photo an approved press member downloaded from " (website.name) ", on its own or in a ZIP, newest first." }
            @if rows.is_empty() {
                p role="status" #result-count {
                    @if offset > 0 { "No more downloads." } @else { "Nothing downloaded yet." }
                }
            } @else {
                div.table-wrap {
                    table.stackable #downloads {
                        caption {
                            "Downloads " (offset + 1) "–" (offset + i64::try_from(rows.len()).unwrap_or(0)) ", newest first"
                            @if more { " (more follow)" }
                        }
                        thead { tr {
                            th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "Image" }
                            th scope="col" { "Version" } th scope="col" { "ZIP" } th scope="col" { "Address" }
                        } }
                        tbody { @for d in &rows { (download_row(d)) } }
                    }
                }
            }
            (pager(offset, more, page_at))
        },
    ))
}

fn download_row(d: &WebsiteDownload) -> Markup {
    html! {
        tr {
            td data-label="When (UTC)" { (page::when(&d.created_at)) }
            td data-label="Who" { (d.name) " " span.hint { "<" (d.email) ">" } }
            td data-label="Image" {
                a href={ "/admin/library/" (d.image_public_uuid) } aria-label={ "Image " (d.image_public_uuid) } {
                    code { (short(&d.image_public_uuid)) }
                }
            }
            td data-label="Version" { (d.version) }
            td data-label="ZIP" {
                @match &d.archive_uuid {
                    Some(a) => code title=(a) { (short(a)) },
                    None => "—",
                }
            }
            td data-label="Address" { code { (d.address) } }
        }
    }
}
