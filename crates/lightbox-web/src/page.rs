//! The page shell (header, navigation, main), error pages and small
//! rendering helpers shared by every page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lightbox_core::CoreError;
use lightbox_core::console::ConsoleUser;
use maud::{DOCTYPE, Markup, html};

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Library,
    Upload,
    Keywords,
    Sets,
    Websites,
    Users,
    MetadataProfiles,
    ApiSettings,
    ApiTokens,
    ApiWebhooks,
    Account,
    None,
}

/// A whole page. `user` is `None` on the sign-in pages.
pub fn shell(user: Option<&ConsoleUser>, section: Section, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · Lightbox admin" }
                link rel="stylesheet" href="/admin/assets/console.css";
                script src="/admin/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/admin" { "Lightbox" }
                    @if let Some(user) = user {
                        span.account { (user.account.name) }
                        (navigation(user, section))
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn navigation(user: &ConsoleUser, section: Section) -> Markup {
    let item = |href: &str, label: &str, this: Section| {
        html! {
            li { a href=(href) aria-current=[(this == section).then_some("page")] { (label) } }
        }
    };
    html! {
        nav aria-label="Main" {
            ul {
                (item("/admin/library", "Library", Section::Library))
                (item("/admin/upload", "Upload", Section::Upload))
                (item("/admin/sets", "Sets", Section::Sets))
                (item("/admin/keywords", "Keywords", Section::Keywords))
                (item("/admin/websites", "Websites", Section::Websites))
                @if user.is_admin() {
                    (item("/admin/users", "Users", Section::Users))
                    (item("/admin/metadata-profiles", "Metadata profiles", Section::MetadataProfiles))
                    li.group {
                        span.group-label { "Settings → API" }
                        ul {
                            (item("/admin/settings/api", "Settings", Section::ApiSettings))
                            (item("/admin/settings/api/tokens", "API Tokens", Section::ApiTokens))
                            (item("/admin/settings/api/webhooks", "Webhooks", Section::ApiWebhooks))
                        }
                    }
                }
                (item("/admin/account", &user.user.name, Section::Account))
                li {
                    form method="post" action="/admin/sign-out" {
                        (csrf(user))
                        button.link type="submit" { "Sign out" }
                    }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(user: &ConsoleUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf); }
}

/// A page as a response (200).
pub fn respond(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// A page with another status.
pub fn respond_with(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A page with a form: `400` when it shows a refusal, else `200`.
pub fn respond_form(refused: bool, markup: Markup) -> Response {
    let status = if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    respond_with(status, markup)
}

/// A refusal for the console's scripts, in the API's error shape.
pub fn json_error(e: &CoreError) -> Response {
    (
        status(e),
        axum::Json(
            serde_json::json!({"error": {"code": e.kind.code(), "message": e.message,
            "field": e.field, "detail": e.detail}}),
        ),
    )
        .into_response()
}

/// A status line for after a change ("Token revoked."), read aloud.
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p.notice role="status" { (text) }
        }
    }
}

/// A refusal shown inside a form, next to what the person typed.
pub fn problem(error: Option<&CoreError>) -> Markup {
    html! {
        @if let Some(e) = error {
            div.problem role="alert" {
                p { (e.message) }
            }
        }
    }
}

/// An error as a whole page, with the status the API would answer.
/// The status the API answers for an error.
pub fn status(e: &CoreError) -> StatusCode {
    StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn error(user: Option<&ConsoleUser>, e: &CoreError) -> Response {
    let status = status(e);
    let title = match status.as_u16() {
        400 => "That did not work",
        401 => "Please sign in again",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Already there",
        429 => "Too many attempts",
        _ => "Something went wrong",
    };
    let message = if e.kind == lightbox_core::ErrorKind::Internal {
        "The server could not finish this. Nothing was half-done; try again in a moment."
    } else {
        e.message.as_str()
    };
    let mut response = respond_with(
        status,
        shell(
            user,
            Section::None,
            title,
            html! {
                div.problem role="alert" { p { (message) } }
                p { a href="/admin" { "Back to the console" } }
            },
        ),
    );
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

pub async fn not_found_page() -> Response {
    error(
        None,
        &CoreError::new(
            lightbox_core::ErrorKind::NotFound,
            "There is no console page at this address.",
        ),
    )
}

/// "2026-11-28T18:43:17Z" as "2026-11-28 18:43 UTC", in a `<time>`.
pub fn when(rfc3339: &str) -> Markup {
    let shown = match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(clock)) => format!("{day} {clock} UTC"),
        _ => rfc3339.to_owned(),
    };
    html! { time datetime=(rfc3339) { (shown) } }
}

/// An optional time, or a dash.
pub fn when_or(rfc3339: Option<&str>, otherwise: &str) -> Markup {
    match rfc3339 {
        Some(t) => when(t),
        None => html! { (otherwise) },
    }
}

/// A size limit for people: whole MiB as such ("5 MiB"), else bytes.
pub fn limit(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// A count for people, thousands grouped ("10,000").
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count for people ("12.4 MB").
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(999), "999");
        assert_eq!(super::count(1000), "1,000");
        assert_eq!(super::count(10_000), "10,000");
        assert_eq!(super::count(1_234_567), "1,234,567");
    }
}
