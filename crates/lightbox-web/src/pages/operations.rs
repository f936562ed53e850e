//! Any Operation's progress at `/admin/operations/{op}`: the page long
//! console actions lead to (a keyword rename, a ZIP, a large set change).
//! It follows the Operation without script.

use axum::extract::{Path, State};
use axum::response::Response;
use lightbox_core::operations::{self, Operation, OperationStatus};
use maud::{Markup, html};

use crate::WebState;
use crate::page::{self, Section};
use crate::session::Signed;

/// An Operation's progress: refreshes itself every 3 s until it ends.
pub async fn page(
    State(state): State<WebState>,
    Signed(user): Signed,
    Path(uuid): Path<String>,
) -> Response {
    let op = match operations::get(&state.core, &user.account.uuid, &uuid).await {
        Ok(op) => op,
        Err(e) => return page::error(Some(&user), &e),
    };
    let op = match lightbox_core::archives::visible_operation(&state.core, &user.principal(), op)
        .await
    {
        Ok(op) => op,
        Err(e) => return page::error(Some(&user), &e),
    };
    let ongoing = matches!(
        op.status,
        OperationStatus::Queued | OperationStatus::Running
    );
    let mut response = page::respond(page::shell(
        Some(&user),
        Section::None,
        "Progress",
        operation_body(&op, ongoing),
    ));
    if ongoing {
        // No script needed: the browser reloads the page every 3 s (not
        // faster: each reload moves focus and a screen reader's place).
        response
            .headers_mut()
            .insert("refresh", axum::http::HeaderValue::from_static("3"));
    }
    response
}

fn operation_body(op: &Operation, ongoing: bool) -> Markup {
    let number = |key: &str| op.result.get(key).and_then(serde_json::Value::as_i64);
    let (done, total) = (number("done"), number("total"));
    let message = op.result.get("message").and_then(|m| m.as_str());
    html! {
        p role="status" #operation-status {
            @match op.status {
                OperationStatus::Queued => "Waiting to start…",
                OperationStatus::Running => "Running…",
                OperationStatus::Succeeded => "Done.",
                OperationStatus::Failed => "It failed.",
            }
            @if let (Some(done), Some(total)) = (done, total) {
                " " (done) " of " (total) " images."
            }
        }
        @if let (Some(done), Some(total)) = (done, total) && total > 0 {
            progress max=(total) value=(done) aria-labelledby="operation-status" {}
        }
        @if let Some(message) = message { p { (message) } }
        // A rename says how many images it changed (a `user` member's
        // passes others' images by).
        @if let (Some(renamed), Some(total)) = (number("renamed"), total) && op.status == OperationStatus::Succeeded {
            p #renamed { "Renamed on " (renamed) " of " (total) " images." }
        }
        // A ZIP built: its signed link (null for one the member may not have).
        @if let Some(archive) = op.result.get("archive")
            && let Some(url) = archive.get("url").and_then(|u| u.as_str())
        {
            p {
                a.button href=(url) download { "Download the ZIP" }
                " " span.hint {
                    (archive.get("image_count").and_then(serde_json::Value::as_i64).unwrap_or(0)) " images, "
                    (page::bytes(archive.get("bytes").and_then(serde_json::Value::as_i64).unwrap_or(0)))
                }
            }
        }
        @if let Some(e) = &op.error { div.problem role="alert" { p { (e.message) } } }
        @if ongoing { p.hint { "This page follows it by itself." } }
        p { a href="/admin/keywords" { "Keywords" } " · " a href="/admin/library" { "Library" } }
    }
}
