//! Users of the account (admins): list, create, change role, disable or
//! enable. Two-factor enrolment is each person's own (My account).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::ConsoleUser;
use lightbox_core::metadata_profiles;
use lightbox_core::users::{self, Role};
use lightbox_core::{CoreError, ErrorKind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::session::{Admin, AdminForm};

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some(
            "The user was created. Give them their login and password; they can set up two-factor sign-in under My account.",
        ),
        "role" => Some("The role was changed; it applies from their next click."),
        "disabled" => Some("The user was disabled and signed out everywhere."),
        "enabled" => Some("The user can sign in again."),
        "profile" => Some("The default metadata profile was changed; it fills their next uploads."),
        _ => None,
    }
}

/// The role choice; `explained` spells out what each role may do.
fn role_select(id: &str, current: Role, explained: bool) -> Markup {
    html! {
        select id=(id) name="role" {
            option value="user" selected[current == Role::User] {
                "user" @if explained { " — reads everything, changes only their own uploads" }
            }
            option value="admin" selected[current == Role::Admin] {
                "admin" @if explained { " — everything, with API tokens, users and settings" }
            }
        }
    }
}

pub async fn list(
    State(state): State<WebState>,
    Admin(user): Admin,
    Query(q): Query<Done>,
) -> Response {
    let (members, profiles) = match (
        users::list_members(&state.core, &user.account.uuid).await,
        metadata_profiles::list(&state.core, &user.account.uuid).await,
    ) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(e), _) | (_, Err(e)) => return page::error(Some(&user), &e),
    };
    page::respond(page::shell(
        Some(&user),
        Section::Users,
        "Users",
        html! {
            (page::notice(notice_for(q.done.as_deref())))
            p { a.button href="/admin/users/new" { "New user" } }
            div.table-wrap {
                table.stackable #users {
                    thead { tr { th { "Name" } th { "Login" } th { "Role" } th { "Two-factor" } th { "State" } th { "Metadata profile" } th { "Added" } } }
                    tbody {
                        @for m in &members {
                            @let me = m.uuid == user.user.uuid;
                            tr {
                                td data-label="Name" { (m.name) @if me { " " span.badge { "you" } } }
                                td data-label="Login" { (m.login) }
                                td data-label="Role" {
                                    @if me {
                                        (m.role.as_str())
                                    } @else {
                                        form.inline method="post" action={ "/admin/users/" (m.uuid) "/role" } {
                                            (page::csrf(&user))
                                            label.visually-hidden for={ "role-" (m.uuid) } { "Role of " (m.login) }
                                            (role_select(&format!("role-{}", m.uuid), m.role, false))
                                            " "
                                            button.secondary type="submit" aria-label={ "Change the role of " (m.login) } { "Change" }
                                        }
                                    }
                                }
                                td data-label="Two-factor" {
                                    @if m.two_factor { span.badge.on { "on" } } @else { span.badge { "off" } }
                                }
                                td data-label="State" {
                                    @if m.disabled { span.badge.off { "disabled" } } @else { span.badge.on { "active" } }
                                    @if !me {
                                        " "
                                        form.inline method="post" action={ "/admin/users/" (m.uuid) "/access" } {
                                            (page::csrf(&user))
                                            @if m.disabled {
                                                input type="hidden" name="disabled" value="false";
                                                button.secondary type="submit" aria-label={ "Enable " (m.login) } { "Enable" }
                                            } @else {
                                                input type="hidden" name="disabled" value="true";
                                                button.danger type="submit" aria-label={ "Disable " (m.login) } { "Disable" }
                                            }
                                        }
                                    }
                                }
                                td data-label="Metadata profile" {
                                    form.inline method="post" action={ "/admin/users/" (m.uuid) "/metadata-profile" } {
                                        (page::csrf(&user))
                                        label.visually-hidden for={ "profile-" (m.uuid) } { "Default metadata profile of " (m.login) }
                                        select id={ "profile-" (m.uuid) } name="profile" {
                                            option value="" { "None" }
                                            @for p in &profiles {
                                                option value=(p.uuid) selected[p.default_for.contains(&m.uuid)] { (p.name) }
                                            }
                                        }
                                        " "
                                        button.secondary type="submit" aria-label={ "Save the metadata profile of " (m.login) } { "Save" }
                                    }
                                }
                                td data-label="Added" { (page::when(&m.created_at)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn create_form(user: &ConsoleUser, sent: Option<&FormData>, error: Option<&CoreError>) -> Markup {
    let field = |name: &str| {
        sent.and_then(|f| f.get(name))
            .unwrap_or_default()
            .to_owned()
    };
    let role = sent
        .and_then(|f| f.get("role"))
        .and_then(Role::parse)
        .unwrap_or(Role::User);
    page::shell(
        Some(user),
        Section::Users,
        "New user",
        html! {
            (page::problem(error))
            form.stack method="post" action="/admin/users" {
                (page::csrf(user))
                div {
                    label for="name" { "Name" }
                    input #name type="text" name="name" value=(field("name")) maxlength="200" required autocomplete="off";
                }
                div {
                    label for="login" { "Login" }
                    p.hint #login-hint { "Usually an email address." }
                    input #login type="text" name="login" value=(field("login")) maxlength="320" required
                        autocomplete="off" spellcheck="false" autocapitalize="none" aria-describedby="login-hint";
                }
                div {
                    label for="password" { "Password" }
                    p.hint #password-hint { "At least 12 characters and not easy to guess; they can change it later." }
                    input #password type="password" name="password" required autocomplete="new-password" aria-describedby="password-hint";
                }
                div {
                    label for="role" { "Role" }
                    (role_select("role", role, true))
                }
                div.actions {
                    button type="submit" { "Create user" }
                    a href="/admin/users" { "Cancel" }
                }
            }
        },
    )
}

pub async fn new_form(Admin(user): Admin) -> Response {
    page::respond(create_form(&user, None, None))
}

fn role_of(form: &FormData) -> Result<Role, CoreError> {
    form.get("role")
        .and_then(Role::parse)
        .ok_or_else(|| CoreError::validation("role", "The role is admin or user."))
}

pub async fn create(State(state): State<WebState>, AdminForm(signed): AdminForm) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    let result = match role_of(form) {
        Ok(role) => {
            users::create_member(
                &state.core,
                &user.account.uuid,
                form.get("login").unwrap_or_default(),
                form.get("name").unwrap_or_default(),
                form.get("password").unwrap_or_default(),
                role,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to("/admin/users?done=created").into_response(),
        Err(e) if e.kind == ErrorKind::Internal => page::error(Some(user), &e),
        Err(e) => {
            let status = page::status(&e);
            page::respond_with(status, create_form(user, Some(form), Some(&e)))
        }
    }
}

pub async fn role(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let user = &signed.user;
    let result = match role_of(&signed.form) {
        Ok(role) => {
            users::set_member_role(
                &state.core,
                &user.account.uuid,
                &user.user.uuid,
                &uuid,
                role,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to("/admin/users?done=role").into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}

pub async fn access(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let user = &signed.user;
    let disabled = match signed.form.get("disabled") {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return page::error(
                Some(user),
                &CoreError::validation("disabled", "The form was incomplete; nothing was changed."),
            );
        }
    };
    let result = users::set_member_disabled(
        &state.core,
        &user.account.uuid,
        &user.user.uuid,
        &uuid,
        disabled,
    )
    .await;
    match result {
        Ok(()) => Redirect::to(if disabled {
            "/admin/users?done=disabled"
        } else {
            "/admin/users?done=enabled"
        })
        .into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}
