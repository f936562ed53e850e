//! The vocabulary (issue 18 §5): the account's keywords with how many
//! images carry each (`GET /v1/keywords`), and a rename across the library
//! (`POST /v1/keywords/rename`: a job) followed on its Operation's page
//! ([`super::operations`]).
//!
//! Everyone signed in: a `user` member's rename reaches only the images it
//! uploaded, as the use-case decides.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::CoreError;
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::edits::{self, Edit, RenameBody};
use lightbox_core::keywords::{self, VocabularyEntry};
use lightbox_core::writes::WriteContext;
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::url_encode;
use crate::page::{self, Section};
use crate::session::{Signed, SignedForm};

const PAGE_SIZE: i64 = 100;

#[derive(Deserialize)]
pub struct ListQuery {
    prefix: Option<String>,
    sort: Option<String>,
    offset: Option<i64>,
}

pub async fn list(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(q): Query<ListQuery>,
) -> Response {
    let prefix = q.prefix.as_deref().map(str::trim).unwrap_or_default();
    let by_count = q.sort.as_deref() != Some("keyword");
    let offset = q.offset.unwrap_or(0).max(0);
    let query = keywords::vocabulary_query(
        None,
        (!prefix.is_empty()).then_some(prefix),
        Some(if by_count { "count" } else { "keyword" }),
    );
    let listed = match query {
        Ok(query) => {
            keywords::vocabulary(&state.core, &user.account.uuid, &query, PAGE_SIZE, offset).await
        }
        Err(e) => Err(e),
    };
    let (error, rows, more) = match listed {
        Ok((rows, more)) => (None, rows, more),
        Err(e) if e.kind == lightbox_core::ErrorKind::Internal => {
            return page::error(Some(&user), &e);
        }
        Err(e) => (Some(e), Vec::new(), false),
    };
    let sort = if by_count { "count" } else { "keyword" };
    let page_at = |at: i64| {
        format!(
            "/admin/keywords?prefix={}&sort={sort}&offset={at}",
            url_encode(prefix)
        )
    };
    page::respond(page::shell(
        Some(&user),
        Section::Keywords,
        "Keywords",
        html! {
            form.filters method="get" action="/admin/keywords" role="search" aria-label="Find keywords" {
                div {
                    label for="prefix" { "Starts with" }
                    input #prefix type="search" name="prefix" value=(prefix) placeholder="artist:";
                }
                div {
                    label for="sort" { "Order" }
                    select #sort name="sort" {
                        option value="count" selected[by_count] { "Most used first" }
                        option value="keyword" selected[!by_count] { "A to Z" }
                    }
                }
                div.actions { button type="submit" { "Show" } }
            }
            (page::problem(error.as_ref()))
            @if rows.is_empty() {
                p role="status" #result-count { @if offset > 0 { "No more keywords." } @else { "No keywords match." } }
            } @else {
                div.table-wrap {
                    table.stackable #keywords {
                        caption { "Keywords " (offset + 1) "–" (offset + i64::try_from(rows.len()).unwrap_or(0)) @if more { " (more follow)" } }
                        thead { tr { th scope="col" { "Keyword" } th scope="col" { "Images" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody { @for row in &rows { (keyword_row(row)) } }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if offset > 0 { a rel="prev" href=(page_at((offset - PAGE_SIZE).max(0))) { "← Previous" } }
                @if more { a rel="next" href=(page_at(offset + PAGE_SIZE)) { "Next →" } }
            }
        },
    ))
}

fn keyword_row(row: &VocabularyEntry) -> Markup {
    let k = url_encode(&row.keyword);
    html! {
        tr {
            td data-label="Keyword" {
                @if let Some(ns) = &row.namespace { span.hint { (ns) ":" } (row.value) } @else { (row.keyword) }
            }
            td data-label="Images" { a href={ "/admin/library?keyword=" (k) } aria-label={ "Images with " (row.keyword) } { (row.count) } }
            td { a href={ "/admin/keywords/rename?from=" (k) } aria-label={ "Rename " (row.keyword) } { "Rename…" } }
        }
    }
}

#[derive(Deserialize)]
pub struct RenameQuery {
    from: Option<String>,
}

pub async fn rename_form(
    State(_state): State<WebState>,
    Signed(user): Signed,
    Query(q): Query<RenameQuery>,
) -> Response {
    let from = q.from.unwrap_or_default();
    rename_page(&user, &from, &from, None)
}

fn rename_page(user: &ConsoleUser, from: &str, to: &str, e: Option<&CoreError>) -> Response {
    page::respond_form(
        e.is_some(),
        page::shell(
            Some(user),
            Section::Keywords,
            "Rename a keyword",
            html! {
                p { "Every image with the keyword gets the new one instead (an image that has both keeps one). It runs in the background; the next page follows it." }
                (page::problem(e))
                form method="post" action="/admin/keywords/rename" {
                    (page::csrf(user))
                    input type="hidden" name="idem" value=(uuid::Uuid::new_v4());
                    div {
                        label for="from" { "Keyword" }
                        input #from type="text" name="from" value=(from) required autocomplete="off";
                    }
                    div {
                        label for="to" { "New keyword" }
                        input #to type="text" name="to" value=(to) required autocomplete="off";
                    }
                    button type="submit" { "Rename" }
                    " "
                    a href="/admin/keywords" { "Cancel" }
                }
            },
        ),
    )
}

pub async fn rename(State(state): State<WebState>, signed: SignedForm) -> Response {
    let SignedForm { user, form, .. } = signed;
    let (from, to) = (
        form.get("from").unwrap_or_default().trim().to_owned(),
        form.get("to").unwrap_or_default().trim().to_owned(),
    );
    let Some(idem) = form
        .get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
    else {
        return page::error(Some(&user), &crate::session::csrf_refused());
    };
    let edit = match Edit::rename_keyword(RenameBody {
        from: from.clone(),
        to: to.clone(),
        image_public_uuids: None,
    }) {
        Ok(edit) => edit,
        Err(e) => return rename_page(&user, &from, &to, Some(&e)),
    };
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("keyword-rename-{idem}")),
        request_hash: console::form_fingerprint(&["console keyword rename", &from, &to]),
    };
    match edits::run(&state.core, &user.principal(), &ctx, edit).await {
        Ok(op) => Redirect::to(&format!("/admin/operations/{}", op.uuid)).into_response(),
        Err(e) => rename_page(&user, &from, &to, Some(&e)),
    }
}
