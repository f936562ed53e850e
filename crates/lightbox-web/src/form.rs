//! A posted HTML form, as name/value pairs (checkbox groups repeat a name).

use axum::extract::{FromRequest, Request};
use axum::response::Response;
use lightbox_core::CoreError;

pub struct FormData(Vec<(String, String)>);

/// Percent-encodes a query value (everything but RFC 3986's unreserved
/// characters and `/`, which a query carries as is and keeps a `next=`
/// readable), for links and redirects the console builds.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The keywords typed in one field: separated by commas (or lines), each
/// trimmed, empty ones left out.
pub fn keyword_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FormData {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value, trimmed; `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every field, in the order sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A fingerprint of what the form asks (every `name=value` but the
    /// CSRF token), after `what`: the request hash of its write, so the
    /// same key with other values is a conflict, never a replay.
    pub fn fingerprint(&self, what: &[&str]) -> String {
        let pairs: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut parts: Vec<&str> = what.to_vec();
        parts.extend(pairs.iter().map(String::as_str));
        lightbox_core::console::form_fingerprint(&parts)
    }

    /// Every value of a repeated field.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FormData {
    /// Fields read another way (the text parts of a multipart form).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        FormData(pairs)
    }

    /// Reads a urlencoded form body.
    pub async fn read(req: Request) -> Result<Self, CoreError> {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, &())
            .await
            .map_err(|e| {
                CoreError::validation("form", format!("The form could not be read: {e}"))
            })?;
        Ok(FormData(pairs))
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;
    async fn from_request(req: Request, _state: &S) -> Result<Self, Response> {
        FormData::read(req)
            .await
            .map_err(|e| crate::page::error(None, &e))
    }
}
