//! Who is asking: the console cookie, checked on every request, and the
//! CSRF token every form must carry.
//!
//! Cookies: `lightbox_console` (the console token; `HttpOnly`,
//! `SameSite=Lax`, `Path=/admin`, `Secure` behind HTTPS) and, before
//! sign-in, `lightbox_sign_in` (a random value the sign-in forms echo, so a
//! page on another site cannot sign a browser in to an account of its
//! choosing).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use lightbox_core::console::{self, ConsoleUser};
use lightbox_core::{CoreError, ErrorKind};

use crate::WebState;
use crate::form::{FormData, url_encode};
use crate::page;

pub const CONSOLE_COOKIE: &str = "lightbox_console";
pub const SIGN_IN_COOKIE: &str = "lightbox_sign_in";

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A console `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(
    state: &WebState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> Option<HeaderValue> {
    cookie_header(name, value, path, max_age, state.settings.secure_cookies)
}

/// A `Set-Cookie` value (HttpOnly, SameSite=Lax; `Secure` when the public
/// URL is HTTPS), for the console and the press websites alike.
pub fn cookie_header(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The client's address, as the API decides it.
pub fn client_ip(state: &WebState, parts: &Parts) -> Result<IpAddr, CoreError> {
    client_ip_of(
        &parts.extensions,
        &parts.headers,
        &state.settings.trusted_proxies,
    )
}

/// The client's address from a request's connection and headers: a
/// trusted proxy's forwarded hop, else the peer; a malformed hop is a
/// `400`, never the proxy's own address (the API's rule).
pub fn client_ip_of(
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    trusted_proxies: &[ipnet::IpNet],
) -> Result<IpAddr, CoreError> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(HeaderValue::as_bytes);
    lightbox_core::auth::client_ip(peer, forwarded, trusted_proxies)
}

/// The caller's address, for handlers.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<WebState> for ClientIp {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        client_ip(state, parts)
            .map(ClientIp)
            .map_err(|e| page::error(None, &e))
    }
}

/// Where a signed-out visitor goes: the sign-in page, then back here (to
/// the console's start after a form: a form is not re-sent by a redirect).
fn to_sign_in(parts: &Parts) -> Response {
    let here = match parts.method {
        Method::GET | Method::HEAD => parts.uri.path_and_query().map(|p| p.as_str()),
        _ => None,
    };
    let next = url_encode(here.unwrap_or("/admin"));
    Redirect::to(&format!("/admin/sign-in?next={next}")).into_response()
}

/// A signed-in person (anyone with a role in the account).
pub struct Signed(pub ConsoleUser);

impl FromRequestParts<WebState> for Signed {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, CONSOLE_COOKIE) else {
            return Err(to_sign_in(parts));
        };
        match console::authenticate(&state.core, token).await {
            Ok(user) => Ok(Signed(user)),
            Err(e) if e.kind == ErrorKind::Unauthorized => Err(to_sign_in(parts)),
            Err(e) => Err(page::error(None, &e)),
        }
    }
}

/// An account admin; anyone else gets a 403 page.
pub struct Admin(pub ConsoleUser);

impl FromRequestParts<WebState> for Admin {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let Signed(user) = Signed::from_request_parts(parts, state).await?;
        require_admin(&user)?;
        Ok(Admin(user))
    }
}

pub fn require_admin(user: &ConsoleUser) -> Result<(), Response> {
    if user.is_admin() {
        return Ok(());
    }
    Err(page::error(
        Some(user),
        &CoreError::forbidden(
            "Only account admins can see Settings, API tokens and Users. Ask an admin of this account.",
        )
        .with_detail("admin_required"),
    ))
}

/// A form posted by a signed-in person, its CSRF token checked: without
/// the right token nothing runs (403).
pub struct SignedForm {
    pub user: ConsoleUser,
    pub ip: IpAddr,
    pub form: FormData,
}

impl FromRequest<WebState> for SignedForm {
    type Rejection = Response;
    async fn from_request(req: Request, state: &WebState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Signed(user) = Signed::from_request_parts(&mut parts, state).await?;
        let ip = client_ip(state, &parts).map_err(|e| page::error(Some(&user), &e))?;
        let form = FormData::read(Request::from_parts(parts, body))
            .await
            .map_err(|e| page::error(Some(&user), &e))?;
        if !user.csrf_matches(form.get("csrf").unwrap_or_default()) {
            return Err(page::error(Some(&user), &csrf_refused()));
        }
        Ok(SignedForm { user, ip, form })
    }
}

/// A form posted by an account admin (its CSRF token checked first, so a
/// forged form learns nothing); anyone else gets the 403 page.
pub struct AdminForm(pub SignedForm);

impl FromRequest<WebState> for AdminForm {
    type Rejection = Response;
    async fn from_request(req: Request, state: &WebState) -> Result<Self, Response> {
        let signed = SignedForm::from_request(req, state).await?;
        require_admin(&signed.user)?;
        Ok(AdminForm(signed))
    }
}

pub fn csrf_refused() -> CoreError {
    CoreError::forbidden(
        "This form is out of date or was not sent from this console, so nothing was changed. Reload the page and try again.",
    )
    .with_detail("csrf")
}
