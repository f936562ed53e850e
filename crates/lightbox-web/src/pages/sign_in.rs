//! Signing in (password, then the authenticator code when two-factor is
//! on) and out. The rules are the API's own (`sessions::sign_in`,
//! `complete_mfa`): same answers, same rate limits, same device sessions.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::sessions::{self, DeviceInfo, SignInOutcome, SignedIn};
use lightbox_core::{CoreError, ErrorKind, console};
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::form::{FormData, url_encode};
use crate::page::{self, Section};
use crate::session::{
    CONSOLE_COOKIE, ClientIp, SIGN_IN_COOKIE, Signed, SignedForm, cookie, set_cookie,
};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a console path is a place to go back to: no open redirect, and
/// nothing a `Location` header cannot carry (control characters, spaces).
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| {
        (*n == "/admin" || n.starts_with("/admin/") || n.starts_with("/admin?"))
            && !n.contains('\\')
            && n.bytes().all(|b| b.is_ascii_graphic())
    })
    .unwrap_or("/admin/library")
    .to_owned()
}

/// The pre-sign-in value the forms must echo: the cookie's, or a new one.
fn sign_in_nonce(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, SIGN_IN_COOKIE).filter(|v| v.len() == 32) {
        Some(v) => (v.to_owned(), false),
        None => (uuid::Uuid::new_v4().simple().to_string(), true),
    }
}

fn with_nonce_cookie(
    state: &WebState,
    mut response: Response,
    nonce: &str,
    fresh: bool,
) -> Response {
    if fresh && let Some(v) = set_cookie(state, SIGN_IN_COOKIE, nonce, "/admin/sign-in", 3600) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn password_form(nonce: &str, next: &str, login: &str, error: Option<&CoreError>) -> Markup {
    page::shell(
        None,
        Section::None,
        "Sign in",
        html! {
            (page::problem(error))
            form.stack method="post" action="/admin/sign-in" {
                input type="hidden" name="pre" value=(nonce);
                input type="hidden" name="next" value=(next);
                div {
                    label for="login" { "Login" }
                    input #login type="text" name="login" value=(login) autocomplete="username"
                        required autofocus[login.is_empty()] spellcheck="false" autocapitalize="none";
                }
                div {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password"
                        required autofocus[!login.is_empty()];
                }
                div.actions { button type="submit" { "Sign in" } }
            }
        },
    )
}

fn code_form(nonce: &str, next: &str, mfa_token: &str, error: Option<&CoreError>) -> Markup {
    page::shell(
        None,
        Section::None,
        "Two-factor code",
        html! {
            (page::problem(error))
            form.stack method="post" action="/admin/sign-in/code" {
                input type="hidden" name="pre" value=(nonce);
                input type="hidden" name="next" value=(next);
                input type="hidden" name="mfa_token" value=(mfa_token);
                div {
                    label for="code" { "Code from your authenticator app" }
                    p.hint #code-hint { "Six digits, or one of your recovery codes." }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                        aria-describedby="code-hint" required autofocus spellcheck="false";
                }
                div.actions {
                    button type="submit" { "Continue" }
                    a href={ "/admin/sign-in?next=" (url_encode(next)) } { "Start again" }
                }
            }
        },
    )
}

pub async fn form(
    state: axum::extract::State<WebState>,
    Query(q): Query<NextQuery>,
    parts: Parts,
) -> Response {
    let mut parts = parts;
    let next = safe_next(q.next.as_deref());
    // Already signed in: straight on.
    if Signed::from_request_parts(&mut parts, &state).await.is_ok() {
        return Redirect::to(&next).into_response();
    }
    let (nonce, fresh) = sign_in_nonce(&parts.headers);
    let response = page::respond(password_form(&nonce, &next, "", None));
    with_nonce_cookie(&state, response, &nonce, fresh)
}

/// The device the console signs in as, named after the browser.
fn device(headers: &HeaderMap) -> DeviceInfo {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(mark, _)| agent.contains(mark))
    .map_or("a browser", |(_, name)| name);
    DeviceInfo {
        name: format!("Admin console ({browser})"),
        platform: "web".to_owned(),
        app_version: String::new(),
        device_id: None,
    }
}

/// Checks the pre-sign-in value; a mismatch changes nothing.
fn check_nonce(headers: &HeaderMap, form: &FormData) -> Result<String, CoreError> {
    let expected = cookie(headers, SIGN_IN_COOKIE).unwrap_or_default();
    let sent = form.get("pre").unwrap_or_default();
    if expected.len() == 32 && lightbox_core::console::sent_value_matches(expected, sent) {
        Ok(expected.to_owned())
    } else {
        Err(crate::session::csrf_refused())
    }
}

fn refusal(e: &CoreError, markup: Markup) -> Response {
    if e.kind == ErrorKind::Internal || e.kind == ErrorKind::RateLimited {
        return page::error(None, e);
    }
    page::respond_with(page::status(e), markup)
}

pub async fn password(
    state: axum::extract::State<WebState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let next = safe_next(form.get("next"));
    let login = form.get("login").unwrap_or_default();
    let nonce = match check_nonce(&headers, &form) {
        Ok(n) => n,
        Err(e) => {
            let (nonce, fresh) = sign_in_nonce(&headers);
            let response = refusal(&e, password_form(&nonce, &next, login, Some(&e)));
            return with_nonce_cookie(&state, response, &nonce, fresh);
        }
    };
    let password = form.get("password").unwrap_or_default();
    match sessions::sign_in(&state.core, ip, login, password, device(&headers)).await {
        Ok(SignInOutcome::MfaRequired(m)) => {
            page::respond(code_form(&nonce, &next, &m.mfa_token, None))
        }
        Ok(SignInOutcome::SignedIn(signed_in)) => finish(&state, &signed_in, &next).await,
        Err(e) => refusal(&e, password_form(&nonce, &next, login, Some(&e))),
    }
}

pub async fn code(
    state: axum::extract::State<WebState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let next = safe_next(form.get("next"));
    let mfa_token = form.get("mfa_token").unwrap_or_default();
    let nonce = match check_nonce(&headers, &form) {
        Ok(n) => n,
        Err(e) => return page::error(None, &e),
    };
    let code = form.get("code").unwrap_or_default().trim();
    match sessions::complete_mfa(&state.core, ip, mfa_token, code).await {
        Ok(signed_in) => finish(&state, &signed_in, &next).await,
        Err(e) => refusal(&e, code_form(&nonce, &next, mfa_token, Some(&e))),
    }
}

/// Opens the console on the finished sign-in and goes on to `next`.
async fn finish(state: &WebState, signed_in: &SignedIn, next: &str) -> Response {
    let (token, expires_at) = match console::open(&state.core, signed_in, None).await {
        Ok(t) => t,
        Err(e) => return page::error(None, &e),
    };
    let max_age = (expires_at - state.core.now()).div_euclid(1_000_000).max(0);
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    if let Some(v) = set_cookie(state, CONSOLE_COOKIE, &token, "/admin", max_age) {
        headers.append(header::SET_COOKIE, v);
    }
    // The pre-sign-in value is spent.
    if let Some(v) = set_cookie(state, SIGN_IN_COOKIE, "", "/admin/sign-in", 0) {
        headers.append(header::SET_COOKIE, v);
    }
    response
}

pub async fn sign_out(state: axum::extract::State<WebState>, signed: SignedForm) -> Response {
    let user = &signed.user;
    if let Err(e) = sessions::end_session(
        &state.core,
        &user.user.uuid,
        &user.session.uuid,
        "signed_out",
    )
    .await
    {
        return page::error(Some(user), &e);
    }
    signed_out_response(&state)
}

/// Back to the sign-in page with the console cookie deleted.
pub fn signed_out_response(state: &WebState) -> Response {
    let mut response = Redirect::to("/admin/sign-in").into_response();
    if let Some(v) = set_cookie(state, CONSOLE_COOKIE, "", "/admin", 0) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_paths_are_places_to_go_back_to() {
        for good in [
            "/admin",
            "/admin/settings/api",
            "/admin/library?keyword=a%20b&page=2",
            "/admin?x=1",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.com",
            "https://evil.example",
            "/\\evil.example",
            "/admin\\..\\evil",
            "/admin\n",
            "/admin%0A\r\nSet-Cookie: x=1",
            "/admin/ x",
            "/adminevil",
            "/admin/é",
            "",
            "admin",
        ] {
            assert_eq!(safe_next(Some(bad)), "/admin/library", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/admin/library");
    }
}
