//! Settings → API → Webhooks (api.md §11), admins only: the list, a form for
//! a new subscription (its secret shown once, with a copy button), and a
//! subscription's page: enable or disable it (with the server's reason when
//! it disabled it), send a test, rotate the secret, delete it, and the
//! delivery log with each last request and answer (truncated) and a
//! Redeliver button. Every change is the API's own write
//! (`lightbox_core::webhooks`), its form carrying an idempotency key.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::webhooks::{self, Delivery, EVENT_TYPES, NewWebhook, Webhook, WebhookPatch};
use lightbox_core::writes::WriteContext;
use lightbox_core::{CoreError, ErrorKind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::FormData;
use crate::page::{self, Section};
use crate::session::{Admin, AdminForm};

const BASE: &str = "/admin/settings/api/webhooks";
/// The console lists this many subscriptions and deliveries.
const SHOWN: i64 = 100;

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn state_badge(hook: &Webhook) -> Markup {
    html! {
        @if hook.enabled { span.badge.on { "enabled" } }
        @else if hook.disabled_reason.is_some() { span.badge.off { "disabled by the server" } }
        @else { span.badge.off { "disabled" } }
    }
}

fn events_text(hook: &Webhook) -> String {
    if hook.events.iter().any(|e| e == "*") {
        "every event".to_owned()
    } else {
        hook.events.join(", ")
    }
}

pub async fn list(
    State(state): State<WebState>,
    Admin(user): Admin,
    Query(q): Query<Done>,
) -> Response {
    let all = match webhooks::list(&state.core, &user.principal(), SHOWN, 0).await {
        Ok((all, _)) => all,
        Err(e) => return page::error(Some(&user), &e),
    };
    let notice = match q.done.as_deref() {
        Some("deleted") => Some("The webhook was deleted. Nothing more is sent to it."),
        _ => None,
    };
    page::respond(page::shell(
        Some(&user),
        Section::ApiWebhooks,
        "Webhooks",
        html! {
            (page::notice(notice))
            p {
                "Webhooks tell another system (a newsroom CMS, an automation) the moment something "
                "happens in " strong { (user.account.name) } ", signed so it can check the sender."
            }
            p { a.button href={ (BASE) "/new" } { "New webhook" } }
            @if all.is_empty() {
                p { "No webhooks yet." }
            } @else {
                div.table-wrap {
                    table.stackable #webhooks {
                        thead { tr {
                            th { "Address" } th { "Events" } th { "Description" } th { "Created" } th { "State" }
                        } }
                        tbody {
                            @for hook in &all {
                                tr {
                                    td data-label="Address" {
                                        a href={ (BASE) "/" (hook.public_uuid) } { code { (hook.url) } }
                                    }
                                    td data-label="Events" { (events_text(hook)) }
                                    td data-label="Description" { (hook.description) }
                                    td data-label="Created" { (page::when(&hook.created_at)) }
                                    td data-label="State" {
                                        (state_badge(hook))
                                        @if let Some(reason) = &hook.disabled_reason { br; span.hint { (reason) } }
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
    let chosen: Vec<&str> = sent.map(|f| f.all("events").collect()).unwrap_or_default();
    let every = sent.is_none_or(|f| f.get("every") == Some("on"));
    let field = |name: &str| {
        sent.and_then(|f| f.get(name))
            .unwrap_or_default()
            .to_owned()
    };
    page::shell(
        Some(user),
        Section::ApiWebhooks,
        "New webhook",
        html! {
            (page::problem(error))
            form.stack method="post" action=(BASE) {
                (page::csrf(user))
                input type="hidden" name="idem" value=(idem);
                div {
                    label for="url" { "Address" }
                    p.hint #url-hint { "Where each event is sent as a POST, e.g. https://cms.example.org/hooks/lightbox. It must answer 2xx within 10 seconds." }
                    input #url type="url" name="url" value=(field("url")) maxlength="2048" required aria-describedby="url-hint" spellcheck="false";
                }
                div {
                    label for="description" { "Description" }
                    input #description type="text" name="description" value=(field("description")) maxlength="500";
                }
                fieldset {
                    legend { "Events" }
                    label.check for="every" {
                        input #every type="checkbox" name="every" value="on" checked[every];
                        span { "Every event (also those added later)" }
                    }
                    p.hint { "Or only these:" }
                    @for event in EVENT_TYPES.iter().filter(|e| **e != "ping") {
                        label.check for={ "event-" (event) } {
                            input id={ "event-" (event) } type="checkbox" name="events" value=(event) checked[chosen.contains(event)];
                            span { code { (event) } }
                        }
                    }
                }
                div.actions {
                    button type="submit" { "Create webhook" }
                    a href=(BASE) { "Cancel" }
                }
            }
        },
    )
}

pub async fn new_form(Admin(user): Admin) -> Response {
    page::respond(create_form(&user, None, None))
}

/// The form's events: every one, or those ticked.
fn events_of(form: &FormData) -> Vec<String> {
    if form.get("every") == Some("on") {
        return vec!["*".to_owned()];
    }
    form.all("events").map(str::to_owned).collect()
}

fn form_idem(form: &FormData) -> Result<&str, CoreError> {
    form.get("idem")
        .filter(|k| uuid::Uuid::parse_str(k).is_ok())
        .ok_or_else(crate::session::csrf_refused)
}

/// The page that shows a new secret once.
fn secret_page(user: &ConsoleUser, title: &str, hook: &str, secret: &str, text: Markup) -> Markup {
    page::shell(
        Some(user),
        Section::ApiWebhooks,
        title,
        html! {
            p.notice role="status" {
                (text) " " strong { "It is shown only this once." }
            }
            div.stack {
                label for="new-secret" { "Signing secret" }
                input #new-secret.secret type="text" readonly value=(secret) spellcheck="false" autocomplete="off";
                div.actions {
                    button type="button" data-copy="new-secret" { "Copy secret" }
                    span #new-secret-status role="status" aria-live="polite" {}
                }
            }
            p { "The receiver checks the " code { "webhook-signature" } " header with it (the Standard Webhooks scheme)." }
            p { a.button.secondary href={ (BASE) "/" (hook) } { "Done" } }
        },
    )
}

pub async fn create(State(state): State<WebState>, AdminForm(signed): AdminForm) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    let refuse =
        |e: &CoreError| page::respond_with(page::status(e), create_form(user, Some(form), Some(e)));
    let idem = match form_idem(form) {
        Ok(idem) => idem,
        Err(e) => return refuse(&e),
    };
    let events = events_of(form);
    let input = NewWebhook {
        url: form.get("url").unwrap_or_default().trim().to_owned(),
        events: events.clone(),
        description: form.get("description").map(str::to_owned),
        enabled: None,
    };
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("webhook-{idem}")),
        request_hash: console::form_fingerprint(&[
            "console webhook create",
            &input.url,
            &events.join(","),
            input.description.as_deref().unwrap_or_default(),
        ]),
    };
    match webhooks::create(&state.core, &ctx, &user.principal(), input).await {
        Ok((op, secret)) => {
            let id = op
                .result
                .pointer("/webhook/public_uuid")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            match secret {
                Some(secret) => page::respond(secret_page(
                    user,
                    "Webhook created",
                    &id,
                    secret.as_str(),
                    html! { "Copy the signing secret now." },
                )),
                // Rotated since: the form was sent again after that.
                None => Redirect::to(&format!("{BASE}/{id}")).into_response(),
            }
        }
        Err(e) if e.kind == ErrorKind::Internal => page::error(Some(user), &e),
        Err(e) => refuse(&e),
    }
}

fn delivery_row(user: &ConsoleUser, hook: &Webhook, d: &Delivery) -> Markup {
    let badge = match d.status.as_str() {
        "delivered" => "on",
        _ => "off",
    };
    html! {
        tr {
            td data-label="Event" { code { (d.event_type) } br; span.hint { (d.event_id) } }
            td data-label="Status" { span.badge.(badge) { (d.status) } }
            td data-label="Attempts" { (d.attempts) }
            td data-label="Last answer" {
                @match d.last_status_code { Some(code) => (code), None => "none" }
                @if let Some(error) = &d.last_error { br; span.hint { (error) } }
            }
            td data-label="Next attempt" { (page::when_or(d.next_attempt_at.as_deref(), "none")) }
            td data-label="Created" { (page::when(&d.created_at)) }
            td data-label="Details" {
                details {
                    summary { "Request and answer" }
                    h3 { "Last request (truncated)" }
                    pre { (d.last_request.as_deref().unwrap_or("(not sent yet)")) }
                    h3 { "Last answer (truncated)" }
                    pre { (d.last_response.as_deref().unwrap_or("(none)")) }
                }
                form method="post" action={ (BASE) "/" (hook.public_uuid) } {
                    (page::csrf(user))
                    input type="hidden" name="idem" value=(uuid::Uuid::new_v4().to_string());
                    input type="hidden" name="delivery" value=(d.id);
                    button.secondary type="submit" name="action" value="redeliver"
                        aria-label={ "Redeliver " (d.event_type) " " (d.event_id) } { "Redeliver" }
                }
            }
        }
    }
}

pub async fn show(
    State(state): State<WebState>,
    Admin(user): Admin,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    let principal = user.principal();
    let hook = match webhooks::get(&state.core, &principal, &id).await {
        Ok(hook) => hook,
        Err(e) => return page::error(Some(&user), &e),
    };
    let log = match webhooks::deliveries(&state.core, &principal, &id, SHOWN, 0).await {
        Ok((log, _)) => log,
        Err(e) => return page::error(Some(&user), &e),
    };
    let notice = match q.done.as_deref() {
        Some("enabled") => Some("The webhook is enabled."),
        Some("disabled") => Some("The webhook is disabled: nothing more is sent to it."),
        Some("test") => Some("A ping is on its way; its delivery shows below."),
        Some("redeliver") => Some("The delivery is sent again."),
        _ => None,
    };
    let action = |value: &str, label: &str, class: &str| {
        html! {
            form method="post" action={ (BASE) "/" (hook.public_uuid) } {
                (page::csrf(&user))
                input type="hidden" name="idem" value=(uuid::Uuid::new_v4().to_string());
                button class=(class) type="submit" name="action" value=(value) { (label) }
            }
        }
    };
    page::respond(page::shell(
        Some(&user),
        Section::ApiWebhooks,
        "Webhook",
        html! {
            (page::notice(notice))
            dl.facts {
                dt { "Address" } dd { code { (hook.url) } }
                dt { "Events" } dd { (events_text(&hook)) }
                @if !hook.description.is_empty() { dt { "Description" } dd { (hook.description) } }
                dt { "State" } dd {
                    (state_badge(&hook))
                    @if let Some(reason) = &hook.disabled_reason { " " (reason) }
                }
                dt { "Created" } dd { (page::when(&hook.created_at)) }
            }
            div.actions {
                @if hook.enabled { (action("disable", "Disable", "secondary")) }
                @else { (action("enable", "Enable", "")) }
                (action("test", "Send a test", "secondary"))
                (action("rotate", "Rotate secret", "secondary"))
                a.button.danger href={ (BASE) "/" (hook.public_uuid) "/delete" } { "Delete…" }
            }
            h2 { "Deliveries" }
            @if log.is_empty() {
                p { "Nothing sent yet." }
            } @else {
                p.hint { "Newest first; the last " (SHOWN) " are shown." }
                div.table-wrap {
                    table.stackable #deliveries {
                        thead { tr {
                            th { "Event" } th { "Status" } th { "Attempts" } th { "Last answer" }
                            th { "Next attempt" } th { "Created" } th { "Details" }
                        } }
                        tbody { @for d in &log { (delivery_row(&user, &hook, d)) } }
                    }
                }
            }
            p { a href=(BASE) { "All webhooks" } }
        },
    ))
}

/// Enable, disable, test, rotate or redeliver: one form each, the
/// `action` button saying which.
pub async fn change(
    State(state): State<WebState>,
    Path(id): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let user = &signed.user;
    let form = &signed.form;
    let idem = match form_idem(form) {
        Ok(idem) => idem,
        Err(e) => return page::error(Some(user), &e),
    };
    let action = form.get("action").unwrap_or_default();
    let delivery = form.get("delivery").unwrap_or_default();
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        idempotency_key: console::idempotency_key(&format!("webhook-{action}-{idem}")),
        request_hash: console::form_fingerprint(&["console webhook", &id, action, delivery]),
    };
    let (core, principal) = (&state.core, user.principal());
    let done = match action {
        "enable" | "disable" => {
            let patch = WebhookPatch {
                enabled: Some(action == "enable"),
                ..WebhookPatch::default()
            };
            webhooks::update(core, &ctx, &principal, &id, patch)
                .await
                .map(|_| ())
        }
        "test" => webhooks::test(core, &ctx, &principal, &id)
            .await
            .map(|_| ()),
        "redeliver" => webhooks::redeliver(core, &ctx, &principal, &id, delivery)
            .await
            .map(|_| ()),
        "rotate" => {
            return match webhooks::rotate_secret(core, &ctx, &principal, &id).await {
                Ok((_, Some(secret))) => page::respond(secret_page(
                    user,
                    "Secret rotated",
                    &id,
                    secret.as_str(),
                    html! { "Copy the new signing secret now; the old one keeps signing beside it for 24 hours." },
                )),
                // The same form again: rotated then, shown then.
                Ok((_, None)) => Redirect::to(&format!("{BASE}/{id}")).into_response(),
                Err(e) => page::error(Some(user), &e),
            };
        }
        _ => Err(CoreError::validation(
            "action",
            "Choose enable, disable, test, rotate or redeliver.",
        )),
    };
    match done {
        Ok(()) => {
            let shown = if action == "enable" || action == "disable" {
                format!("{action}d")
            } else {
                action.to_owned()
            };
            Redirect::to(&format!("{BASE}/{id}?done={shown}")).into_response()
        }
        Err(e) => page::error(Some(user), &e),
    }
}

pub async fn confirm_delete(
    State(state): State<WebState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> Response {
    let hook = match webhooks::get(&state.core, &user.principal(), &id).await {
        Ok(hook) => hook,
        Err(e) => return page::error(Some(&user), &e),
    };
    page::respond(page::shell(
        Some(&user),
        Section::ApiWebhooks,
        "Delete webhook?",
        html! {
            p {
                "Delete the webhook to " code { (hook.url) } "? Nothing more is sent to it, its "
                "pending deliveries are dropped and its delivery log is forgotten. This cannot be undone."
            }
            form method="post" action={ (BASE) "/" (hook.public_uuid) "/delete" } {
                (page::csrf(&user))
                div.actions {
                    button.danger type="submit" { "Delete webhook" }
                    a href={ (BASE) "/" (hook.public_uuid) } { "Cancel" }
                }
            }
        },
    ))
}

pub async fn delete(
    State(state): State<WebState>,
    Path(id): Path<String>,
    AdminForm(signed): AdminForm,
) -> Response {
    let user = &signed.user;
    let ctx = WriteContext {
        account_id: user.account.uuid.clone(),
        // Deleting is the same act however often it is asked.
        idempotency_key: console::idempotency_key(&format!("webhook-delete-{id}")),
        request_hash: console::form_fingerprint(&["console webhook delete", &id]),
    };
    match webhooks::delete(&state.core, &ctx, &user.principal(), &id).await {
        Ok(_) => Redirect::to(&format!("{BASE}?done=deleted")).into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}
