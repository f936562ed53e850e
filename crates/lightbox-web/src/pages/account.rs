//! "My account": the signed-in person's sessions (end one, end all the
//! others) and two-factor sign-in (enrol with a QR code drawn by the
//! server; recovery codes shown once; move to a new authenticator or switch
//! off, both with the password and a current or recovery code).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::ConsoleUser;
use lightbox_core::mfa::{self, Enrolment};
use lightbox_core::{CoreError, sessions, users};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::WebState;
use crate::page::{self, Section};
use crate::pages::sign_in::signed_out_response;
use crate::session::{Signed, SignedForm};

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "ended" => Some("The session was ended."),
        "ended-others" => Some("Every other session was ended."),
        "two-factor-off" => Some("Two-factor sign-in is off."),
        _ => None,
    }
}

pub async fn page(
    State(state): State<WebState>,
    Signed(user): Signed,
    Query(q): Query<Done>,
) -> Response {
    match render(&state, &user, notice_for(q.done.as_deref()), None).await {
        Ok(markup) => page::respond(markup),
        Err(e) => page::error(Some(&user), &e),
    }
}

async fn render(
    state: &WebState,
    user: &ConsoleUser,
    notice: Option<&str>,
    error: Option<&CoreError>,
) -> Result<Markup, CoreError> {
    let core = &state.core;
    let me = users::find(core, &user.user.uuid).await?;
    let two_factor = me.totp_secret.is_some();
    let sessions = sessions::list_sessions(core, &user.user.uuid, &user.session.uuid).await?;
    Ok(page::shell(
        Some(user),
        Section::Account,
        "My account",
        html! {
            (page::notice(notice))
            (page::problem(error))
            dl.facts {
                dt { "Name" } dd { (user.user.name) }
                dt { "Login" } dd { (user.user.login) }
                dt { "Account" } dd { (user.account.name) " (" (user.account.unique_id) ")" }
                dt { "Role" } dd { (user.role.as_str()) }
            }
            h2 { "Two-factor sign-in" }
            @if two_factor {
                p { span.badge.on { "On" } " Signing in asks for a code from your authenticator app." }
                p { "To move to a new authenticator app or switch two-factor off, give your password and a current code (or one of your recovery codes)." }
                form.stack method="post" action="/admin/account/two-factor/start" {
                    (page::csrf(user))
                    div {
                        label for="move-password" { "Current password" }
                        input #move-password type="password" name="password" autocomplete="current-password" required;
                    }
                    div {
                        label for="move-code" { "Code from your authenticator app, or a recovery code" }
                        input #move-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required spellcheck="false";
                    }
                    div.actions { button.secondary type="submit" { "Move to a new authenticator" } }
                }
                form.stack method="post" action="/admin/account/two-factor/off" {
                    (page::csrf(user))
                    div {
                        label for="off-password" { "Current password" }
                        input #off-password type="password" name="password" autocomplete="current-password" required;
                    }
                    div {
                        label for="off-code" { "Code from your authenticator app, or a recovery code" }
                        input #off-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required spellcheck="false";
                    }
                    div.actions { button.danger type="submit" { "Switch two-factor off" } }
                }
            } @else {
                p { span.badge.off { "Off" } " Add a code from an authenticator app to your sign-in." }
                form.stack method="post" action="/admin/account/two-factor/start" {
                    (page::csrf(user))
                    div {
                        label for="start-password" { "Current password" }
                        input #start-password type="password" name="password" autocomplete="current-password" required;
                    }
                    div.actions { button type="submit" { "Set up two-factor sign-in" } }
                }
            }
            h2 #sessions { "Where you are signed in" }
            div.table-wrap {
                table.stackable {
                    thead { tr { th { "Device" } th { "Signed in" } th { "Last active" } th { "Address" } th { span.visually-hidden { "Action" } } } }
                    tbody {
                        @for s in &sessions {
                            tr {
                                td data-label="Device" {
                                    (s.name) " "
                                    @if s.current { span.badge { "this browser" } }
                                }
                                td data-label="Signed in" { (page::when(&s.created_at)) }
                                td data-label="Last active" { (page::when(&s.last_used_at)) }
                                td data-label="Address" { (s.last_ip.as_deref().unwrap_or("—")) }
                                td {
                                    form.inline method="post" action={ "/admin/account/sessions/" (s.uuid) "/end" } {
                                        (page::csrf(user))
                                        button.secondary type="submit" aria-label={ "End the session " (s.name) } {
                                            @if s.current { "Sign out" } @else { "End" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if sessions.len() > 1 {
                form method="post" action="/admin/account/sessions/end-others" {
                    (page::csrf(user))
                    p { button.secondary type="submit" { "End all other sessions" } }
                }
            }
        },
    ))
}

/// A refusal shown on the account page itself (e.g. a wrong password).
async fn again(state: &WebState, user: &ConsoleUser, e: &CoreError) -> Response {
    if e.kind.http_status() >= 500 || e.kind == lightbox_core::ErrorKind::RateLimited {
        return page::error(Some(user), e);
    }
    let status = page::status(e);
    match render(state, user, None, Some(e)).await {
        Ok(markup) => page::respond_with(status, markup),
        Err(e) => page::error(Some(user), &e),
    }
}

pub async fn end_one(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    signed: SignedForm,
) -> Response {
    let user = &signed.user;
    if let Err(e) =
        sessions::end_session(&state.core, &user.user.uuid, &uuid, "ended_by_user").await
    {
        return page::error(Some(user), &e);
    }
    if uuid == user.session.uuid {
        return signed_out_response(&state);
    }
    Redirect::to("/admin/account?done=ended#sessions").into_response()
}

pub async fn end_others(State(state): State<WebState>, signed: SignedForm) -> Response {
    let user = &signed.user;
    match sessions::end_other_sessions(&state.core, &user.user.uuid, &user.session.uuid).await {
        Ok(_) => Redirect::to("/admin/account?done=ended-others#sessions").into_response(),
        Err(e) => page::error(Some(user), &e),
    }
}

/// A QR code of the `otpauth://` URI, as inline SVG.
fn qr_svg(uri: &str) -> Result<String, CoreError> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| {
        tracing::error!(error = %e, "QR code");
        CoreError::internal()
    })?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(224, 224)
        .quiet_zone(true)
        .build())
}

fn enrolment_page(
    user: &ConsoleUser,
    enrolment: &Enrolment,
    svg: &str,
    error: Option<&CoreError>,
) -> Markup {
    page::shell(
        Some(user),
        Section::Account,
        "Set up two-factor sign-in",
        html! {
            (page::problem(error))
            ol {
                li { "Open your authenticator app (1Password, Google Authenticator, Aegis…) and scan this code." }
                li { "Type the six-digit code it shows below." }
            }
            figure.qr role="img" aria-label="QR code for your authenticator app" {
                (PreEscaped(svg))
            }
            p {
                "Cannot scan? Type this key instead: "
                code.secret #totp-secret { (enrolment.secret) }
            }
            form.stack method="post" action="/admin/account/two-factor/confirm" {
                (page::csrf(user))
                div {
                    label for="code" { "Code from the app" }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus;
                }
                div.actions {
                    button type="submit" { "Switch two-factor on" }
                    a href="/admin/account" { "Cancel" }
                }
            }
        },
    )
}

pub async fn mfa_start(State(state): State<WebState>, signed: SignedForm) -> Response {
    let user = &signed.user;
    let password = signed.form.get("password").unwrap_or_default();
    let code = signed.form.get("code");
    let enrolment = match mfa::begin(&state.core, signed.ip, &user.user.uuid, password, code).await
    {
        Ok(e) => e,
        Err(e) => return again(&state, user, &e).await,
    };
    match qr_svg(&enrolment.otpauth_uri) {
        Ok(svg) => page::respond(enrolment_page(user, &enrolment, &svg, None)),
        Err(e) => page::error(Some(user), &e),
    }
}

pub async fn mfa_confirm(State(state): State<WebState>, signed: SignedForm) -> Response {
    let user = &signed.user;
    let code = signed.form.get("code").unwrap_or_default().trim();
    let keep = Some(user.session.uuid.as_str());
    match mfa::confirm(&state.core, signed.ip, &user.user.uuid, keep, code).await {
        Ok(codes) => page::respond(page::shell(
            Some(user),
            Section::Account,
            "Two-factor sign-in is on",
            html! {
                p.notice role="status" { "Done. Your other sessions were ended; sign in there again with a code." }
                h2 { "Your recovery codes" }
                p {
                    "Each code signs you in once if you lose your phone. "
                    strong { "They are shown only now:" }
                    " save them in your password manager or print them."
                }
                ol.codes #recovery-codes { @for c in &codes.recovery_codes { li { (c) } } }
                p { a.button href="/admin/account" { "I have saved them" } }
            },
        )),
        Err(e) => {
            // The pending secret is still there: show the same QR code again.
            let me = match users::find(&state.core, &user.user.uuid).await {
                Ok(me) => me,
                Err(e) => return page::error(Some(user), &e),
            };
            let Some(enrolment) = mfa::pending_enrolment(&state.core, &me) else {
                return again(&state, user, &e).await;
            };
            let status = page::status(&e);
            match qr_svg(&enrolment.otpauth_uri) {
                Ok(svg) => {
                    page::respond_with(status, enrolment_page(user, &enrolment, &svg, Some(&e)))
                }
                Err(e) => page::error(Some(user), &e),
            }
        }
    }
}

pub async fn mfa_off(State(state): State<WebState>, signed: SignedForm) -> Response {
    let user = &signed.user;
    let password = signed.form.get("password").unwrap_or_default();
    let code = signed.form.get("code");
    let keep = Some(user.session.uuid.as_str());
    match mfa::disable(
        &state.core,
        signed.ip,
        &user.user.uuid,
        keep,
        password,
        code,
    )
    .await
    {
        Ok(()) => Redirect::to("/admin/account?done=two-factor-off").into_response(),
        Err(e) => again(&state, user, &e).await,
    }
}
