//! Settings → API → Settings: the account's API Access switch (admins).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::CoreError;
use lightbox_core::accounts;
use lightbox_core::console::ConsoleUser;
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::page::{self, Section};
use crate::session::{Admin, AdminForm};

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn render(user: &ConsoleUser, notice: Option<&str>) -> Markup {
    page::shell(
        Some(user),
        Section::ApiSettings,
        "API settings",
        html! {
            (page::notice(notice))
            p {
                "While API access is off, every call to the API for "
                strong { (user.account.name) }
                " is refused (403 api_not_enabled), whatever the token. This console keeps working."
            }
            form.stack method="post" action="/admin/settings/api" {
                (page::csrf(user))
                input type="hidden" name="submitted" value="1";
                label.check for="api_access" {
                    input #api_access type="checkbox" role="switch" name="api_access" value="on"
                        checked[user.api_enabled] aria-describedby="api-state";
                    span { "API access" }
                }
                p.hint #api-state {
                    "Now: "
                    @if user.api_enabled { span.badge.on { "on" } } @else { span.badge.off { "off" } }
                }
                div.actions { button type="submit" { "Save" } }
            }
            p { a href="/admin/settings/api/tokens" { "API tokens →" } }
        },
    )
}

pub async fn page(Admin(user): Admin, Query(q): Query<Done>) -> Response {
    let notice = match q.done.as_deref() {
        Some("on") => Some("API access is on."),
        Some("off") => Some("API access is off."),
        _ => None,
    };
    page::respond(render(&user, notice))
}

pub async fn switch(State(state): State<WebState>, AdminForm(signed): AdminForm) -> Response {
    let user = &signed.user;
    if signed.form.get("submitted") != Some("1") {
        return page::error(
            Some(user),
            &CoreError::validation(
                "api_access",
                "The form was incomplete; nothing was changed.",
            ),
        );
    }
    let on = signed.form.get("api_access") == Some("on");
    match accounts::set_api_access(&state.core, &user.account.uuid, on).await {
        Ok(_) => Redirect::to(if on {
            "/admin/settings/api?done=on"
        } else {
            "/admin/settings/api?done=off"
        })
        .into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}
