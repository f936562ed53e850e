//! Metadata profiles (issue 18 §5; before, the command line only): an
//! account's reusable IPTC fields. Admins list, create, change and delete
//! them here; which member's uploads one fills by default is chosen on the
//! Users page ([`default_for`]). Any member may pick one per upload.
//!
//! ```text
//! GET  /admin/metadata-profiles            the list, and a form for a new one
//! POST /admin/metadata-profiles            create (a name already taken is refused)
//! GET  /admin/metadata-profiles/{uuid}     its fields, to change; delete
//! POST /admin/metadata-profiles/{uuid}     action=save | delete
//! POST /admin/users/{uuid}/metadata-profile  a member's default (or none)
//! ```

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::ConsoleUser;
use lightbox_core::metadata_profiles::{self, MetadataProfile};
use lightbox_core::users;
use lightbox_core::{CoreError, ErrorKind};
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::pages::edit::{iptc_fields, iptc_inputs};
use crate::session::{Admin, AdminForm};

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some("The profile was created."),
        "saved" => Some("The profile was saved. Uploads from now on get its fields."),
        "deleted" => Some(
            "The profile was deleted. Images keep the fields it gave them; members it was the default of now have none.",
        ),
        _ => None,
    }
}

/// A profile's fields in a line: "Creator: Jane Doe · Credit line: …".
fn summary(fields: &Value) -> String {
    let Some(fields) = fields.as_object() else {
        return String::new();
    };
    let mut parts: Vec<String> = crate::pages::edit::IPTC
        .iter()
        .filter_map(|(key, label)| {
            fields
                .get(*key)
                .and_then(Value::as_str)
                .map(|v| format!("{label}: {v}"))
        })
        .collect();
    if fields.get("copyright_marked") == Some(&Value::Bool(true)) {
        parts.push("Copyrighted".to_owned());
    }
    if parts.is_empty() {
        "No fields".to_owned()
    } else {
        parts.join(" · ")
    }
}

pub async fn list(
    State(state): State<WebState>,
    Admin(user): Admin,
    Query(q): Query<Done>,
) -> Response {
    list_page(&state, &user, notice_for(q.done.as_deref()), None, None).await
}

/// The list with the form for a new profile (`sent` and `error` after a
/// refusal: what was typed stays).
async fn list_page(
    state: &WebState,
    user: &ConsoleUser,
    notice: Option<&str>,
    sent: Option<&FormData>,
    error: Option<&CoreError>,
) -> Response {
    let (profiles, members) = match (
        metadata_profiles::list(&state.core, &user.account.uuid).await,
        users::list_members(&state.core, &user.account.uuid).await,
    ) {
        (Ok(p), Ok(m)) => (p, m),
        (Err(e), _) | (_, Err(e)) => return page::error(Some(user), &e),
    };
    let name_of = |uuid: &str| {
        members
            .iter()
            .find(|m| m.uuid == uuid)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| uuid.to_owned())
    };
    let typed = |key: &str| sent.and_then(|f| f.get(key)).unwrap_or_default().to_owned();
    let marked = sent.is_some_and(|f| f.get("copyright_marked").is_some());
    page::respond_form(
        error.is_some(),
        page::shell(
            Some(user),
            Section::MetadataProfiles,
            "Metadata profiles",
            html! {
                (page::notice(notice))
                p {
                    "A profile's IPTC fields fill what an upload leaves empty. A member's default profile is chosen on the "
                    a href="/admin/users" { "Users" } " page; anyone may pick another one on the Upload page."
                }
                @if profiles.is_empty() {
                    p #no-profiles { "No profiles yet." }
                } @else {
                    div.table-wrap {
                        table.stackable #profiles {
                            caption { "Profiles" }
                            thead { tr { th scope="col" { "Name" } th scope="col" { "Fields" } th scope="col" { "Default for" } } }
                            tbody {
                                @for p in &profiles {
                                    tr {
                                        td data-label="Name" { a href={ "/admin/metadata-profiles/" (p.uuid) } { (p.name) } }
                                        td data-label="Fields" { (summary(&p.fields)) }
                                        td data-label="Default for" {
                                            @if p.default_for.is_empty() { "—" } @else {
                                                (p.default_for.iter().map(|u| name_of(u)).collect::<Vec<_>>().join(", "))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 #new-title { "New profile" }
                (page::problem(error))
                form.iptc method="post" action="/admin/metadata-profiles" aria-labelledby="new-title" {
                    (page::csrf(user))
                    div {
                        label for="name" { "Name" }
                        input #name type="text" name="name" maxlength="100" required value=(typed("name")) autocomplete="off";
                    }
                    (iptc_inputs(typed, marked))
                    div { button type="submit" { "Create the profile" } }
                }
            },
        ),
    )
}

pub async fn create(State(state): State<WebState>, AdminForm(signed): AdminForm) -> Response {
    let (user, form) = (&signed.user, &signed.form);
    let name = form.get("name").unwrap_or_default();
    let created = metadata_profiles::create(
        &state.core,
        &user.account.uuid,
        name,
        Value::Object(iptc_fields(form)),
    )
    .await;
    match created {
        Ok(_) => Redirect::to("/admin/metadata-profiles?done=created").into_response(),
        Err(e) if e.kind == ErrorKind::Internal => page::error(Some(user), &e),
        Err(e) => list_page(&state, user, None, Some(form), Some(&e)).await,
    }
}

pub async fn show(
    State(state): State<WebState>,
    Admin(user): Admin,
    Path(uuid): Path<String>,
) -> Response {
    match metadata_profiles::find(&state.core, &user.account.uuid, &uuid).await {
        Ok(profile) => profile_page(&user, &profile, None, None),
        Err(e) => page::error(Some(&user), &e),
    }
}

fn profile_page(
    user: &ConsoleUser,
    profile: &MetadataProfile,
    sent: Option<&FormData>,
    error: Option<&CoreError>,
) -> Response {
    let stored = |key: &str| match sent {
        Some(f) => f.get(key).unwrap_or_default().to_owned(),
        None => profile
            .fields
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    let marked = match sent {
        Some(f) => f.get("copyright_marked").is_some(),
        None => profile.fields.get("copyright_marked") == Some(&Value::Bool(true)),
    };
    let action = format!("/admin/metadata-profiles/{}", profile.uuid);
    page::respond_form(
        error.is_some(),
        page::shell(
            Some(user),
            Section::MetadataProfiles,
            &format!("Metadata profile: {}", profile.name),
            html! {
                p { a href="/admin/metadata-profiles" { "← All profiles" } }
                (page::problem(error))
                form.iptc method="post" action=(action) aria-label="The profile's fields" {
                    (page::csrf(user))
                    input type="hidden" name="action" value="save";
                    p.hint { "An empty field is not filled. Images uploaded before keep what they have." }
                    (iptc_inputs(stored, marked))
                    div { button type="submit" { "Save the profile" } }
                }
                h2 #delete-title { "Delete" }
                form.stack method="post" action=(action) aria-labelledby="delete-title" {
                    (page::csrf(user))
                    input type="hidden" name="action" value="delete";
                    label.check {
                        input #confirm type="checkbox" name="confirm" value="yes" required;
                        span { "Delete “" (profile.name) "”; members it is the default of get none" }
                    }
                    div { button.danger type="submit" { "Delete the profile" } }
                }
            },
        ),
    )
}

pub async fn change(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let (user, form) = (&signed.user, &signed.form);
    let account = &user.account.uuid;
    let profile = match metadata_profiles::find(&state.core, account, &uuid).await {
        Ok(p) => p,
        Err(e) => return page::error(Some(user), &e),
    };
    let result = match form.get("action") {
        Some("save") => metadata_profiles::save(
            &state.core,
            account,
            &profile.name,
            Value::Object(iptc_fields(form)),
        )
        .await
        .map(|_| "saved"),
        Some("delete") if form.get("confirm") == Some("yes") => {
            metadata_profiles::delete(&state.core, account, &profile.uuid)
                .await
                .map(|()| "deleted")
        }
        Some("delete") => Err(CoreError::validation(
            "confirm",
            "Tick the box to confirm the deletion; nothing was deleted.",
        )),
        _ => Err(CoreError::validation("action", "Unknown action.")),
    };
    match result {
        Ok(done) => Redirect::to(&format!("/admin/metadata-profiles?done={done}")).into_response(),
        Err(e) if e.kind == ErrorKind::Internal => page::error(Some(user), &e),
        Err(e) => profile_page(user, &profile, Some(form), Some(&e)),
    }
}

/// A member's default profile, from the Users page: `profile` is a uuid or
/// "" for none.
pub async fn default_for(
    State(state): State<WebState>,
    Path(member): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let user = &signed.user;
    let profile = signed.form.text("profile");
    match metadata_profiles::set_default(&state.core, &user.account.uuid, &member, profile).await {
        Ok(()) => Redirect::to("/admin/users?done=profile").into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}
