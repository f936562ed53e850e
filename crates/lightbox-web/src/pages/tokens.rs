//! Settings → API → API Tokens: list, create (the token is shown once, with
//! a copy button), revoke after a confirmation page. Admins only. Creating
//! and revoking are the API's own writes (`tokens::create_by_admin`,
//! `revoke_by_admin`): each form carries an idempotency key, so a form sent
//! twice (a double click, a reload) makes one token.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::clock::format_rfc3339;
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::scope::Scope;
use lightbox_core::tokens::{self, NewServiceToken, ServiceTokenView};
use lightbox_core::writes::WriteContext;
use lightbox_core::{CoreError, ErrorKind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::session::{Admin, AdminForm};

/// Scopes that only read: pre-selected on a new token.
const READ: [Scope; 2] = [Scope::ImagesRead, Scope::Download];
const WRITE: [Scope; 8] = [
    Scope::ImagesWrite,
    Scope::ImagesDelete,
    Scope::KeywordsWrite,
    Scope::RatingsWrite,
    Scope::MetadataWrite,
    Scope::SetsWrite,
    Scope::Upload,
    Scope::Webhooks,
];
/// Expiry choices: (value, label, days).
const EXPIRY: [(&str, &str, Option<i64>); 6] = [
    ("7d", "7 days", Some(7)),
    ("30d", "30 days", Some(30)),
    ("90d", "90 days", Some(90)),
    ("365d", "1 year", Some(365)),
    ("date", "On a date", None),
    ("never", "Never", None),
];
const DEFAULT_EXPIRY: &str = "90d";
const MIB: u64 = 1024 * 1024;

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn state_of(t: &ServiceTokenView, now: &str) -> (&'static str, &'static str) {
    if t.revoked_at.is_some() {
        ("revoked", "off")
    } else if t.expires_at.as_deref().is_some_and(|e| e <= now) {
        ("expired", "off")
    } else {
        ("active", "on")
    }
}

pub async fn list(
    State(state): State<WebState>,
    Admin(user): Admin,
    Query(q): Query<Done>,
) -> Response {
    let all = match tokens::list(&state.core, &user.account.uuid).await {
        Ok(t) => t,
        Err(e) => return page::error(Some(&user), &e),
    };
    let now = format_rfc3339(state.core.now());
    let notice = match q.done.as_deref() {
        Some("revoked") => Some("The token was revoked. Calls with it are refused from now on."),
        _ => None,
    };
    page::respond(page::shell(
        Some(&user),
        Section::ApiTokens,
        "API tokens",
        html! {
            (page::notice(notice))
            p {
                "Service tokens let scripts and apps call the API for "
                strong { (user.account.name) } ". "
                @if !user.api_enabled {
                    "API access is " strong { "off" } ": " a href="/admin/settings/api" { "switch it on" } " for tokens to work."
                }
            }
            p { a.button href="/admin/settings/api/tokens/new" { "New token" } }
            @if all.is_empty() {
                p { "No tokens yet." }
            } @else {
                div.table-wrap {
                    table.stackable #tokens {
                        thead { tr {
                            th { "Name" } th { "Token" } th { "Scopes" } th { "Created" } th { "Expires" }
                            th { "Last used" } th { "IP addresses" } th { "Size cap" } th { "State" }
                            th { span.visually-hidden { "Action" } }
                        } }
                        tbody {
                            @for t in &all {
                                @let (label, class) = state_of(t, &now);
                                tr {
                                    td data-label="Name" { (t.name) }
                                    td data-label="Token" { code { (t.display) } }
                                    td data-label="Scopes" {
                                        @for s in &t.scopes { code { (s.as_str()) } " " }
                                    }
                                    td data-label="Created" { (page::when(&t.created_at)) }
                                    td data-label="Expires" { (page::when_or(t.expires_at.as_deref(), "never")) }
                                    td data-label="Last used" {
                                        (page::when_or(t.last_used_at.as_deref(), "never"))
                                        @if let Some(ip) = &t.last_used_ip { " from " (ip) }
                                    }
                                    td data-label="IP addresses" {
                                        @if t.allowed_ips.is_empty() { "any" } @else { (t.allowed_ips.join(", ")) }
                                    }
                                    td data-label="Size cap" {
                                        @match t.max_request_bytes {
                                            Some(b) => (page::limit(b)),
                                            None => "server default",
                                        }
                                    }
                                    td data-label="State" { span.badge.(class) { (label) } }
                                    td {
                                        @if t.revoked_at.is_none() {
                                            a href={ "/admin/settings/api/tokens/" (t.uuid) "/revoke" }
                                                aria-label={ "Revoke " (t.name) } { "Revoke…" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The create form; `sent` refills it after a refusal.
fn create_form(user: &ConsoleUser, sent: Option<&FormData>, error: Option<&CoreError>) -> Markup {
    let idem = sent
        .and_then(|f| f.get("idem"))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let chosen: Vec<&str> = sent.map(|f| f.all("scopes").collect()).unwrap_or_default();
    let checked = |s: Scope| match sent {
        Some(_) => chosen.contains(&s.as_str()),
        None => READ.contains(&s),
    };
    let expiry = sent.and_then(|f| f.get("expiry")).unwrap_or(DEFAULT_EXPIRY);
    let field = |name: &str| {
        sent.and_then(|f| f.get(name))
            .unwrap_or_default()
            .to_owned()
    };
    let scope_box = |s: Scope| {
        html! {
            label.check for={ "scope-" (s.as_str()) } {
                input id={ "scope-" (s.as_str()) } type="checkbox" name="scopes" value=(s.as_str()) checked[checked(s)];
                span { code { (s.as_str()) } br; span.hint { (s.grants()) } }
            }
        }
    };
    page::shell(
        Some(user),
        Section::ApiTokens,
        "New API token",
        html! {
            (page::problem(error))
            form.stack method="post" action="/admin/settings/api/tokens" {
                (page::csrf(user))
                input type="hidden" name="idem" value=(idem);
                div {
                    label for="name" { "Name" }
                    p.hint #name-hint { "What uses it, e.g. \"Lightroom export\" or \"Press office bot\"." }
                    input #name type="text" name="name" value=(field("name")) maxlength="200" required aria-describedby="name-hint";
                }
                fieldset {
                    legend { "Read" }
                    @for s in READ { (scope_box(s)) }
                }
                fieldset {
                    legend { "Write" }
                    @for s in WRITE { (scope_box(s)) }
                }
                fieldset {
                    legend { "Expires" }
                    @for (value, label, _) in EXPIRY {
                        label.check for={ "expiry-" (value) } {
                            input id={ "expiry-" (value) } type="radio" name="expiry" value=(value) checked[expiry == value];
                            span { (label) }
                        }
                    }
                    label for="expiry_date" { "Date (with \"On a date\"; the token stops at the end of that day, UTC)" }
                    input #expiry_date type="date" name="expiry_date" value=(field("expiry_date"));
                }
                div {
                    label for="allowed_ips" { "Allowed IP addresses" }
                    p.hint #ips-hint { "One address or CIDR block per line (203.0.113.7, 203.0.113.0/24, 2001:db8::/32). Empty: any address." }
                    textarea #allowed_ips name="allowed_ips" rows="3" aria-describedby="ips-hint" spellcheck="false" { (field("allowed_ips")) }
                }
                div {
                    label for="max_mib" { "Largest request body (MiB)" }
                    p.hint #mib-hint { "Empty: the server's limit." }
                    input #max_mib type="number" name="max_mib" min="1" step="1" value=(field("max_mib")) aria-describedby="mib-hint";
                }
                div.actions {
                    button type="submit" { "Create token" }
                    a href="/admin/settings/api/tokens" { "Cancel" }
                }
            }
        },
    )
}

pub async fn new_form(Admin(user): Admin) -> Response {
    page::respond(create_form(&user, None, None))
}

/// The form as a new token's options.
fn options(form: &FormData, now: i64) -> Result<NewServiceToken, CoreError> {
    let mut scopes = Vec::new();
    for name in form.all("scopes") {
        let scope = Scope::parse(name)
            .ok_or_else(|| CoreError::validation("scopes", format!("{name:?} is not a scope.")))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    const DAY: i64 = 24 * 3600 * 1_000_000;
    let expiry = form.get("expiry").unwrap_or(DEFAULT_EXPIRY);
    let expires_at = match EXPIRY.iter().find(|(v, _, _)| *v == expiry) {
        Some((_, _, Some(days))) => Some(now.saturating_add(days * DAY)),
        Some(("never", _, None)) => None,
        Some(("date", _, None)) => {
            let text = form.text("expiry_date").ok_or_else(|| {
                CoreError::validation("expiry_date", "Choose the date the token stops working.")
            })?;
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(text, format).map_err(|_| {
                CoreError::validation(
                    "expiry_date",
                    format!("{text:?} is not a date (YYYY-MM-DD)."),
                )
            })?;
            let end = day.midnight().assume_utc().unix_timestamp() * 1_000_000 + DAY;
            Some(end)
        }
        _ => {
            return Err(CoreError::validation(
                "expiry",
                "Choose when the token expires.",
            ));
        }
    };
    let allowed_ips = form
        .get("allowed_ips")
        .unwrap_or_default()
        .split(['\n', ',', ' ', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let max_request_bytes =
        match form.text("max_mib") {
            None => None,
            Some(text) => {
                let mib: u64 = text.parse().ok().filter(|m| *m >= 1).ok_or_else(|| {
                    CoreError::validation(
                        "max_mib",
                        "The size cap is a whole number of MiB, at least 1.",
                    )
                })?;
                Some(mib.checked_mul(MIB).ok_or_else(|| {
                    CoreError::validation("max_mib", "The size cap is too large.")
                })?)
            }
        };
    Ok(NewServiceToken {
        name: form.get("name").unwrap_or_default().to_owned(),
        scopes,
        expires_at,
        allowed_ips,
        max_request_bytes,
    })
}

pub async fn create(State(state): State<WebState>, AdminForm(signed): AdminForm) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    let refuse = |e: &CoreError| {
        let status = page::status(e);
        page::respond_with(status, create_form(user, Some(form), Some(e)))
    };
    let new = match options(form, state.core.now()) {
        Ok(n) => n,
        Err(e) => return refuse(&e),
    };
    let idem = form.get("idem").unwrap_or_default();
    if uuid::Uuid::parse_str(idem).is_err() {
        return refuse(&crate::session::csrf_refused());
    }
    let scope_names: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("token-{idem}")),
        // What was chosen, not what it came to: "90 days" sent twice, a
        // moment apart, is the same form (the computed instant is not).
        request_hash: console::form_fingerprint(&[
            "console token create",
            &new.name,
            &scope_names.join(","),
            form.get("expiry").unwrap_or(DEFAULT_EXPIRY),
            form.get("expiry_date").unwrap_or_default().trim(),
            &new.allowed_ips.join(","),
            &new.max_request_bytes
                .map(|b| b.to_string())
                .unwrap_or_default(),
        ]),
    };
    let name = new.name.clone();
    let result = tokens::create_by_admin(&state.core, &ctx, &Scope::ALL, new).await;
    let secret = match result {
        Ok((_, Some(secret))) => secret,
        Ok((_, None)) => {
            // The same form again: the token exists, its secret was shown once.
            return page::respond(page::shell(
                Some(user),
                Section::ApiTokens,
                "Token already created",
                html! {
                    p.notice role="status" { "This form was already sent, and the token " strong { (name) } " was made then. Its secret was shown once and cannot be shown again; revoke it and make a new one if it was not saved." }
                    p { a href="/admin/settings/api/tokens" { "Back to API tokens" } }
                },
            ));
        }
        Err(e) if e.kind == ErrorKind::Internal => return page::error(Some(user), &e),
        Err(e) => return refuse(&e),
    };
    page::respond(page::shell(
        Some(user),
        Section::ApiTokens,
        "Token created",
        html! {
            p.notice role="status" {
                "Copy the token " strong { (name) } " now. "
                strong { "It is shown only this once" } ": Lightbox keeps only a fingerprint of it."
            }
            div.stack {
                label for="new-token" { "Your new token" }
                input #new-token.secret type="text" readonly value=(secret.as_str()) spellcheck="false" autocomplete="off";
                div.actions {
                    button type="button" data-copy="new-token" { "Copy token" }
                    span #new-token-status role="status" aria-live="polite" {}
                }
            }
            p { "Use it as " code { "Authorization: Bearer <token>" } "." }
            p { a.button.secondary href="/admin/settings/api/tokens" { "Done" } }
        },
    ))
}

async fn find(
    state: &WebState,
    user: &ConsoleUser,
    uuid: &str,
) -> Result<ServiceTokenView, CoreError> {
    tokens::list(&state.core, &user.account.uuid)
        .await?
        .into_iter()
        .find(|t| t.uuid == uuid)
        .ok_or_else(|| {
            CoreError::new(
                ErrorKind::NotFound,
                "No such service token in this account.",
            )
        })
}

pub async fn confirm_revoke(
    State(state): State<WebState>,
    Admin(user): Admin,
    Path(uuid): Path<String>,
) -> Response {
    let token = match find(&state, &user, &uuid).await {
        Ok(t) => t,
        Err(e) => return page::error(Some(&user), &e),
    };
    page::respond(page::shell(
        Some(&user),
        Section::ApiTokens,
        "Revoke token?",
        html! {
            p {
                "Revoke " strong { (token.name) } " (" code { (token.display) } ")? "
                "Every call made with it is refused at once. This cannot be undone."
            }
            form method="post" action={ "/admin/settings/api/tokens/" (token.uuid) "/revoke" } {
                (page::csrf(&user))
                div.actions {
                    button.danger type="submit" { "Revoke token" }
                    a href="/admin/settings/api/tokens" { "Cancel" }
                }
            }
        },
    ))
}

pub async fn revoke(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let user = &signed.user;
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        // Revoking is the same act however often it is asked.
        idempotency_key: console::idempotency_key(&format!("revoke-{uuid}")),
        request_hash: console::form_fingerprint(&["console token revoke", &uuid]),
    };
    match tokens::revoke_by_admin(&state.core, &ctx, &uuid).await {
        Ok(_) => Redirect::to("/admin/settings/api/tokens?done=revoked").into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}
