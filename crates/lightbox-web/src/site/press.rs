//! Press websites in the browser: registration, sign-in (password and, when
//! the member turned it on, an authenticator code), the member's account
//! page (two-factor on/off), downloads, sign-out; and every other page of
//! the website only for a signed-in approved member.
//!
//! ```text
//! <website>/register        GET form · POST → pending registration
//! <website>/sign-in         GET form · POST → cookie, back to where they were
//! <website>/sign-out        POST
//! <website>/account         GET · POST account/two-factor{,/confirm,/off}
//! <website>/d/<image>       POST version=large|original → logged, 303 to a signed link
//! <website>/…               the website's pages, signed in; else → sign-in
//! ```
//! Cookies: `lightbox_press` (the sign-in token; `HttpOnly`, `SameSite=Lax`,
//! `Path` = the website's root, so another website's pages never receive
//! it), and before sign-in `lightbox_press_form` (a random value the two
//! public forms echo, so another site cannot post them). Forms of a
//! signed-in member carry a CSRF token derived from the sign-in token.
//! Every answer is `private, no-store`: nothing of a press website is kept
//! by a browser or a shared cache.

use std::net::IpAddr;

use axum::extract::{Query, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lightbox_core::downloads::VersionName;
use lightbox_core::press::{self, PressEnrolment, Registration, SignedMember};
use lightbox_core::website_pages::Site;
use lightbox_core::{CoreError, ErrorKind};
use maud::{Markup, html};

use super::pages::{self, Frame};
use super::{Finished, Page, Rendered, Sites};
use crate::form::{FormData, url_encode};
use crate::session::cookie;

pub const PRESS_COOKIE: &str = "lightbox_press";
pub const FORM_COOKIE: &str = "lightbox_press_form";

/// The press-only addresses under a website's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PressPath {
    Register,
    SignIn,
    SignOut,
    Account,
    TwoFactorStart,
    TwoFactorConfirm,
    TwoFactorOff,
    Download(String),
    Zip,
    ZipProgress(String),
}

impl PressPath {
    pub(super) fn of(rest: &str) -> Option<Self> {
        Some(match rest {
            "register" => Self::Register,
            "sign-in" => Self::SignIn,
            "sign-out" => Self::SignOut,
            "account" => Self::Account,
            "account/two-factor" => Self::TwoFactorStart,
            "account/two-factor/confirm" => Self::TwoFactorConfirm,
            "account/two-factor/off" => Self::TwoFactorOff,
            "zip" => Self::Zip,
            _ => match rest.split_once('/') {
                Some(("d", id)) if !id.is_empty() && !id.contains('/') => {
                    Self::Download(id.to_owned())
                }
                Some(("zip", id)) if !id.is_empty() && !id.contains('/') => {
                    Self::ZipProgress(id.to_owned())
                }
                _ => return None,
            },
        })
    }
}

/// A request to a press website.
pub(super) struct PressRequest<'a> {
    pub sites: &'a Sites,
    pub site: &'a Site,
    /// `/w/<slug>` or empty (at the website's own host name).
    pub prefix: &'a str,
    /// The path under the website's root, without the leading `/`.
    pub rest: &'a str,
    pub now: i64,
}

/// Answers any request to a press website.
pub(super) async fn serve(press_req: PressRequest<'_>, req: Request) -> Response {
    let PressRequest {
        sites,
        site,
        prefix,
        rest,
        now,
    } = press_req;
    let core = &sites.core;
    let ip =
        match crate::session::client_ip_of(req.extensions(), req.headers(), &sites.trusted_proxies)
        {
            Ok(ip) => ip,
            Err(e) => return private(pages::failed(&e)),
        };
    let token = cookie(req.headers(), PRESS_COOKIE).map(str::to_owned);
    let member = match &token {
        Some(t) => match press::authenticate(core, site, t).await {
            Ok(m) => m,
            Err(e) => return private(pages::failed(&e)),
        },
        None => None,
    };
    let method = req.method().clone();
    let reads = method == Method::GET || method == Method::HEAD;
    let ctx = Ctx {
        sites,
        site,
        prefix,
    };
    match (PressPath::of(rest), reads) {
        (Some(PressPath::Register), true) => ctx.with_form_cookie(req.headers(), |pre| {
            register_page(&ctx, pre, &blank_registration(), None)
        }),
        (Some(PressPath::Register), false) => ctx.register(req, ip).await,
        (Some(PressPath::SignIn), true) => {
            let next = next_of(req.uri().query());
            ctx.with_form_cookie(req.headers(), |pre| {
                sign_in_page(&ctx, pre, &next, "", None, StatusCode::OK)
            })
        }
        (Some(PressPath::SignIn), false) => ctx.sign_in(req, ip).await,
        (Some(PressPath::SignOut), false) => ctx.sign_out(req, member, token).await,
        (Some(path), _) => {
            let Some(member) = member else {
                return ctx.to_sign_in(rest);
            };
            match (path, reads) {
                (PressPath::Account, true) => private(account_page(&ctx, &member, None, None)),
                (PressPath::TwoFactorStart, false) => ctx.two_factor_start(req, &member, ip).await,
                (PressPath::TwoFactorConfirm, false) => {
                    ctx.two_factor_confirm(req, &member, ip).await
                }
                (PressPath::TwoFactorOff, false) => ctx.two_factor_off(req, &member, ip).await,
                (PressPath::Download(id), false) => ctx.download(req, &member, &id, ip).await,
                (PressPath::Zip, false) => ctx.zip(req, &member, ip).await,
                (PressPath::ZipProgress(id), true) => ctx.zip_progress(&member, &id).await,
                _ => method_not_allowed(),
            }
        }
        (None, false) => method_not_allowed(),
        (None, true) => {
            let page = Page::of(rest);
            // Robots must read "nothing here" without signing in.
            if page == Some(Page::Robots) {
                return private(pages::robots_none());
            }
            if page == Some(Page::Icon)
                && let Some(icon) = pages::icon(site)
            {
                return private(icon);
            }
            let Some(member) = member else {
                return ctx.to_sign_in(rest);
            };
            let (page, _) =
                super::answer(core, site, prefix, page, Some(&member), now, req.uri()).await;
            private_finished(&page, req.headers())
        }
    }
}

struct Ctx<'a> {
    sites: &'a Sites,
    site: &'a Site,
    prefix: &'a str,
}

fn blank_registration() -> Registration {
    Registration {
        name: String::new(),
        outlet: String::new(),
        email: String::new(),
        password: String::new(),
    }
}

impl Ctx<'_> {
    fn cookie_path(&self) -> String {
        format!("{}/", self.prefix)
    }

    fn set_cookie(&self, name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
        crate::session::cookie_header(
            name,
            value,
            &self.cookie_path(),
            max_age,
            self.sites.secure_cookies,
        )
    }

    /// A page with one of the two public forms: the random value they echo,
    /// set in a cookie when the browser has none.
    fn with_form_cookie(
        &self,
        headers: &HeaderMap,
        render: impl FnOnce(&str) -> Rendered,
    ) -> Response {
        let (pre, fresh) = match cookie(headers, FORM_COOKIE).filter(|v| v.len() == 32) {
            Some(v) => (v.to_owned(), false),
            None => (uuid::Uuid::new_v4().simple().to_string(), true),
        };
        let mut response = private(render(&pre));
        if fresh && let Some(v) = self.set_cookie(FORM_COOKIE, &pre, 3600) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        response
    }

    /// The public form's echoed value, when it matches the cookie.
    fn form_value_matches(headers: &HeaderMap, form: &FormData) -> Option<String> {
        let expected = cookie(headers, FORM_COOKIE).unwrap_or_default();
        let sent = form.get("pre").unwrap_or_default();
        (expected.len() == 32 && lightbox_core::console::sent_value_matches(expected, sent))
            .then(|| expected.to_owned())
    }

    fn to_sign_in(&self, rest: &str) -> Response {
        let next = if rest.is_empty() {
            String::new()
        } else {
            format!("?next={}", url_encode(rest))
        };
        see_other(&format!("{}/sign-in{next}", self.prefix))
    }

    async fn register(&self, req: Request, ip: IpAddr) -> Response {
        let (headers, form) = match read_form(req).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        let Some(pre) = Self::form_value_matches(&headers, &form) else {
            return private(message_page(
                self,
                None,
                StatusCode::FORBIDDEN,
                "Form out of date",
                "This form is out of date or was not sent from this website, so nothing was sent. Reload the page and try again.",
            ));
        };
        let registration = Registration {
            name: form.get("name").unwrap_or_default().to_owned(),
            outlet: form.get("outlet").unwrap_or_default().to_owned(),
            email: form.get("email").unwrap_or_default().to_owned(),
            password: form.get("password").unwrap_or_default().to_owned(),
        };
        match press::register(&self.sites.core, self.site, ip, registration.clone()).await {
            Ok(()) => private(message_page(
                self,
                None,
                StatusCode::OK,
                "Thank you",
                "Your registration was sent. An administrator of this website will look at it; once it is approved you can sign in with this e-mail address and password.",
            )),
            Err(e) => {
                let status = status_of(&e);
                let mut r = private(register_page(self, &pre, &registration, Some(&e)));
                *r.status_mut() = status;
                retry_after(&mut r, &e);
                r
            }
        }
    }

    async fn sign_in(&self, req: Request, ip: IpAddr) -> Response {
        let (headers, form) = match read_form(req).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        let next = next_of_value(form.get("next").unwrap_or_default());
        let email = form.get("email").unwrap_or_default();
        let Some(pre) = Self::form_value_matches(&headers, &form) else {
            return private(message_page(
                self,
                None,
                StatusCode::FORBIDDEN,
                "Form out of date",
                "This form is out of date or was not sent from this website, so you were not signed in. Reload the page and try again.",
            ));
        };
        let outcome = press::sign_in(
            &self.sites.core,
            self.site,
            ip,
            email,
            form.get("password").unwrap_or_default(),
            form.get("code"),
        )
        .await;
        match outcome {
            Ok(signed) => {
                let ttl = i64::try_from(press::PRESS_SESSION_TTL.as_secs()).unwrap_or(3600);
                let mut r = see_other(&format!("{}/{next}", self.prefix));
                let headers = r.headers_mut();
                if let Some(v) = self.set_cookie(PRESS_COOKIE, &signed.token, ttl) {
                    headers.append(header::SET_COOKIE, v);
                }
                if let Some(v) = self.set_cookie(FORM_COOKIE, "", 0) {
                    headers.append(header::SET_COOKIE, v);
                }
                r
            }
            Err(e) => {
                let mut r = private(sign_in_page(
                    self,
                    &pre,
                    &next,
                    email,
                    Some(&e),
                    status_of(&e),
                ));
                retry_after(&mut r, &e);
                r
            }
        }
    }

    async fn sign_out(
        &self,
        req: Request,
        member: Option<SignedMember>,
        token: Option<String>,
    ) -> Response {
        let (_, form) = match read_form(req).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        if let (Some(member), Some(token)) = (member, token) {
            if !member.csrf_matches(form.get("csrf").unwrap_or_default()) {
                return csrf_refused(self, Some(&member));
            }
            if let Err(e) = press::sign_out(&self.sites.core, &token).await {
                return private(pages::failed(&e));
            }
        }
        let mut r = see_other(&format!("{}/sign-in", self.prefix));
        if let Some(v) = self.set_cookie(PRESS_COOKIE, "", 0) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    }

    /// A signed-in member's form, its CSRF token checked.
    async fn member_form(&self, req: Request, member: &SignedMember) -> Result<FormData, Response> {
        let (_, form) = read_form(req).await?;
        if !member.csrf_matches(form.get("csrf").unwrap_or_default()) {
            return Err(csrf_refused(self, Some(member)));
        }
        Ok(form)
    }

    async fn two_factor_start(&self, req: Request, member: &SignedMember, ip: IpAddr) -> Response {
        let form = match self.member_form(req, member).await {
            Ok(f) => f,
            Err(r) => return r,
        };
        let core = &self.sites.core;
        let password = form.get("password").unwrap_or_default();
        match press::begin_two_factor(core, self.site, member, ip, password).await {
            Ok(enrolment) => private(enrolment_page(self, member, &enrolment, None)),
            Err(e) => error_on_account(self, member, &e),
        }
    }

    async fn two_factor_confirm(
        &self,
        req: Request,
        member: &SignedMember,
        ip: IpAddr,
    ) -> Response {
        let form = match self.member_form(req, member).await {
            Ok(f) => f,
            Err(r) => return r,
        };
        let core = &self.sites.core;
        let code = form.get("code").unwrap_or_default();
        match press::confirm_two_factor(core, self.site, member, ip, code).await {
            Ok(()) => {
                let mut on = member.clone();
                on.two_factor = true;
                private(account_page(
                    self,
                    &on,
                    Some(
                        "Two-factor sign-in is on: from now on, sign in with your password and a code from your authenticator app.",
                    ),
                    None,
                ))
            }
            Err(e) => match press::pending_two_factor(core, self.site, member).await {
                Ok(Some(enrolment)) => {
                    let mut r = private(enrolment_page(self, member, &enrolment, Some(&e)));
                    *r.status_mut() = status_of(&e);
                    r
                }
                _ => error_on_account(self, member, &e),
            },
        }
    }

    async fn two_factor_off(&self, req: Request, member: &SignedMember, ip: IpAddr) -> Response {
        let form = match self.member_form(req, member).await {
            Ok(f) => f,
            Err(r) => return r,
        };
        let core = &self.sites.core;
        let password = form.get("password").unwrap_or_default();
        let code = form.get("code").unwrap_or_default();
        match press::disable_two_factor(core, self.site, member, ip, password, code).await {
            Ok(()) => {
                let mut off = member.clone();
                off.two_factor = false;
                private(account_page(
                    self,
                    &off,
                    Some("Two-factor sign-in is off."),
                    None,
                ))
            }
            Err(e) => error_on_account(self, member, &e),
        }
    }

    async fn download(
        &self,
        req: Request,
        member: &SignedMember,
        id: &str,
        ip: IpAddr,
    ) -> Response {
        let form = match self.member_form(req, member).await {
            Ok(f) => f,
            Err(r) => return r,
        };
        let Some(version) = version_of(&form) else {
            return bad_version(self, member);
        };
        let core = &self.sites.core;
        match press::download(core, self.site, member, id, version, ip).await {
            Ok(link) => see_other(&link.url),
            Err(e) if e.kind == ErrorKind::NotFound || e.kind == ErrorKind::ImageNotFound => {
                private(pages::not_found(self.site, self.prefix))
            }
            Err(e) => private(message_page(
                self,
                Some(member),
                status_of(&e),
                "No download",
                &e.message,
            )),
        }
    }
}

impl Ctx<'_> {
    async fn zip(&self, req: Request, member: &SignedMember, ip: IpAddr) -> Response {
        let form = match self.member_form(req, member).await {
            Ok(f) => f,
            Err(r) => return r,
        };
        let Some(version) = version_of(&form) else {
            return bad_version(self, member);
        };
        let ids: Vec<String> = form.all("image").map(str::to_owned).collect();
        let core = &self.sites.core;
        match press::zip(core, self.site, member, ids, version, ip).await {
            Ok(archive) => see_other(&format!("{}/zip/{archive}", self.prefix)),
            Err(e) if e.kind == ErrorKind::NotFound => {
                private(pages::not_found(self.site, self.prefix))
            }
            Err(e) => private(message_page(
                self,
                Some(member),
                status_of(&e),
                "No ZIP",
                &e.message,
            )),
        }
    }

    async fn zip_progress(&self, member: &SignedMember, id: &str) -> Response {
        let core = &self.sites.core;
        match press::zip_progress(core, self.site, member, id).await {
            Ok(Some(progress)) => private(zip_page(self, member, &progress)),
            Ok(None) => private(pages::not_found(self.site, self.prefix)),
            Err(e) => private(pages::failed(&e)),
        }
    }
}

/// A ZIP being built: its progress, refreshed every two seconds without
/// script, then its link.
fn zip_page(ctx: &Ctx, member: &SignedMember, p: &press::ZipProgress) -> Rendered {
    let f = frame(ctx, Some(member), "Your ZIP");
    let building = p.ready.is_none() && !p.failed;
    let mut r = pages::page_with(
        &f,
        StatusCode::OK,
        html! {
            h1 { "Your ZIP" }
            @if let Some((url, filename)) = &p.ready {
                p.notice role="status" { "Ready: " (p.total) " photos." }
                p { a href=(url) download=(filename) { "Download " (filename) } }
                p.hint { "The link works for a few days; it is for you only." }
            } @else if p.failed {
                p.error role="alert" { "The ZIP could not be built. Go back and try again." }
            } @else {
                p role="status" { "Building: " (p.done) " of " (p.total) " photos…" }
                progress value=(p.done) max=(p.total.max(1)) { (p.done) " of " (p.total) }
                p.hint { "This page refreshes itself." }
            }
        },
    );
    if building {
        // A meta refresh: the page has no script.
        r.body = r.body.replacen(
            "<meta charset=\"utf-8\">",
            "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">",
            1,
        );
    }
    r
}

/// The version a download form asks for: `large` or `original`.
fn version_of(form: &FormData) -> Option<VersionName> {
    match form.get("version") {
        Some("large") => Some(VersionName::Large),
        Some("original") => Some(VersionName::Original),
        _ => None,
    }
}

fn bad_version(ctx: &Ctx, member: &SignedMember) -> Response {
    private(message_page(
        ctx,
        Some(member),
        StatusCode::BAD_REQUEST,
        "No download",
        "Choose the large version or the original.",
    ))
}

/// Where to go after signing in: a page of the website (never elsewhere).
fn next_of(query: Option<&str>) -> String {
    let pairs: Vec<(String, String)> = query
        .and_then(|q| {
            Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{q}").parse().ok()?).ok()
        })
        .map(|q| q.0)
        .unwrap_or_default();
    let next = pairs
        .iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    next_of_value(next)
}

fn next_of_value(next: &str) -> String {
    if Page::of(next).is_some() || next == "account" {
        next.to_owned()
    } else {
        String::new()
    }
}

async fn read_form(req: Request) -> Result<(HeaderMap, FormData), Response> {
    let headers = req.headers().clone();
    match FormData::read(req).await {
        Ok(form) => Ok((headers, form)),
        Err(e) => Err(private(pages::bare(
            StatusCode::BAD_REQUEST,
            "Bad request",
            &e.message,
        ))),
    }
}

fn status_of(e: &CoreError) -> StatusCode {
    StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

fn retry_after(r: &mut Response, e: &CoreError) {
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    no_store(&mut r);
    r
}

fn method_not_allowed() -> Response {
    let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
    no_store(&mut r);
    r
}

fn no_store(r: &mut Response) {
    let headers = r.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
}

/// A press page: never kept by a browser or a shared cache.
fn private(r: Rendered) -> Response {
    private_finished(&Finished::of(r), &HeaderMap::new())
}

fn private_finished(page: &Finished, request: &HeaderMap) -> Response {
    let mut r = page.send(0, request);
    no_store(&mut r);
    r
}

fn csrf_refused(ctx: &Ctx, member: Option<&SignedMember>) -> Response {
    private(message_page(
        ctx,
        member,
        StatusCode::FORBIDDEN,
        "Form out of date",
        "This form is out of date or was not sent from this website, so nothing was changed. Reload the page and try again.",
    ))
}

fn error_on_account(ctx: &Ctx, member: &SignedMember, e: &CoreError) -> Response {
    let mut r = private(account_page(ctx, member, None, Some(e)));
    retry_after(&mut r, e);
    r
}

// --- markup --------------------------------------------------------------------

fn frame<'a>(ctx: &'a Ctx, member: Option<&'a SignedMember>, title: &str) -> Frame<'a> {
    Frame {
        site: ctx.site,
        prefix: ctx.prefix,
        logo: None,
        title: format!("{title} · {}", ctx.site.website.title),
        description: format!("{title} on {}", ctx.site.website.title),
        path: "/".into(),
        card: None,
        noindex: true,
        member,
    }
}

fn error_box(e: Option<&CoreError>) -> Markup {
    html! {
        @if let Some(e) = e {
            p.error role="alert" { (e.message) }
        }
    }
}

fn register_page(ctx: &Ctx, pre: &str, values: &Registration, e: Option<&CoreError>) -> Rendered {
    let f = frame(ctx, None, "Register for press access");
    pages::page_with(
        &f,
        StatusCode::OK,
        html! {
            h1 { "Register for press access" }
            p { "Journalists and media partners: register here. An administrator of " (ctx.site.website.title) " approves each registration; you can sign in once yours is approved." }
            (error_box(e))
            form.press method="post" action={ (ctx.prefix) "/register" } {
                input type="hidden" name="pre" value=(pre);
                label for="name" { "Your name" }
                input #name name="name" required autocomplete="name" maxlength="200" value=(values.name);
                label for="outlet" { "Publication or outlet" }
                input #outlet name="outlet" required autocomplete="organization" maxlength="200" value=(values.outlet);
                label for="email" { "E-mail address" }
                input #email type="email" name="email" required autocomplete="email" maxlength="254" value=(values.email);
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="new-password" minlength="10" aria-describedby="password-rules";
                p #password-rules .hint { "At least 10 characters; not easy to guess (not your name or address)." }
                button type="submit" { "Register" }
            }
            p { "Already approved? " a href={ (ctx.prefix) "/sign-in" } { "Sign in" } }
        },
    )
}

fn sign_in_page(
    ctx: &Ctx,
    pre: &str,
    next: &str,
    email: &str,
    e: Option<&CoreError>,
    status: StatusCode,
) -> Rendered {
    let f = frame(ctx, None, "Sign in");
    pages::page_with(
        &f,
        status,
        html! {
            h1 { "Sign in" }
            p { (ctx.site.website.title) " is for approved press members." }
            (error_box(e))
            form.press method="post" action={ (ctx.prefix) "/sign-in" } {
                input type="hidden" name="pre" value=(pre);
                input type="hidden" name="next" value=(next);
                label for="email" { "E-mail address" }
                input #email type="email" name="email" required autocomplete="username" value=(email);
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="current-password";
                label for="code" { "Authenticator code (only if you turned on two-factor sign-in)" }
                input #code name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64";
                button type="submit" { "Sign in" }
            }
            p { "No access yet? " a href={ (ctx.prefix) "/register" } { "Register" } }
        },
    )
}

fn message_page(
    ctx: &Ctx,
    member: Option<&SignedMember>,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Rendered {
    let f = frame(ctx, member, title);
    pages::page_with(
        &f,
        status,
        html! {
            h1 { (title) }
            p { (message) }
            p { a href={ (ctx.prefix) "/" } { "Go to the home page" } }
        },
    )
}

fn account_page(
    ctx: &Ctx,
    member: &SignedMember,
    notice: Option<&str>,
    e: Option<&CoreError>,
) -> Rendered {
    let f = frame(ctx, Some(member), "Your press access");
    let status = e.map_or(StatusCode::OK, status_of);
    pages::page_with(
        &f,
        status,
        html! {
            h1 { "Your press access" }
            @if let Some(notice) = notice {
                p.notice role="status" { (notice) }
            }
            (error_box(e))
            dl.facts {
                dt { "Name" } dd { (member.name) }
                dt { "E-mail" } dd { (member.email) }
                dt { "Two-factor sign-in" } dd { @if member.two_factor { "On" } @else { "Off" } }
            }
            @if member.two_factor {
                h2 { "Turn two-factor sign-in off" }
                form.press method="post" action={ (ctx.prefix) "/account/two-factor/off" } {
                    input type="hidden" name="csrf" value=(member.csrf);
                    label for="password" { "Your password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    label for="code" { "A current code from your authenticator app" }
                    input #code name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="64";
                    button type="submit" { "Turn off" }
                }
            } @else {
                h2 { "Turn two-factor sign-in on" }
                p { "Sign in with a code from an authenticator app as well as your password." }
                form.press method="post" action={ (ctx.prefix) "/account/two-factor" } {
                    input type="hidden" name="csrf" value=(member.csrf);
                    label for="password" { "Your password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    button type="submit" { "Continue" }
                }
            }
        },
    )
}

fn enrolment_page(
    ctx: &Ctx,
    member: &SignedMember,
    enrolment: &PressEnrolment,
    e: Option<&CoreError>,
) -> Rendered {
    let f = frame(ctx, Some(member), "Turn on two-factor sign-in");
    pages::page_with(
        &f,
        StatusCode::OK,
        html! {
            h1 { "Turn on two-factor sign-in" }
            (error_box(e))
            p { "Add this key to your authenticator app (type it in, or open the link on the phone that has the app), then enter the code it shows." }
            p { "Key: " code.secret { (enrolment.secret) } }
            p { a href=(enrolment.otpauth_uri) { "Open in an authenticator app" } }
            form.press method="post" action={ (ctx.prefix) "/account/two-factor/confirm" } {
                input type="hidden" name="csrf" value=(member.csrf);
                label for="code" { "Code from the app" }
                input #code name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="64";
                button type="submit" { "Turn on" }
            }
        },
    )
}
