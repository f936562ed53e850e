//! Keywords: namespaced `axis:value` (the first colon splits), stored whole
//! and returned split.

use serde::Serialize;

use crate::error::CoreError;

/// Longest keyword, in characters.
pub const KEYWORD_MAX: usize = 255;
/// Most keywords in one request.
pub const KEYWORDS_PER_REQUEST: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Keyword {
    /// The whole form, as stored.
    #[schema(example = "artist:Marina")]
    pub keyword: String,
    #[schema(example = "artist")]
    pub namespace: Option<String>,
    #[schema(example = "Marina")]
    pub value: String,
}

impl Keyword {
    /// Splits a stored keyword (trusted: it passed [`parse`] once).
    pub fn from_stored(keyword: &str, namespace: Option<&str>, value: &str) -> Self {
        Self {
            keyword: keyword.to_owned(),
            namespace: namespace.map(str::to_owned),
            value: value.to_owned(),
        }
    }
}

/// Checks and splits one keyword. Surrounding spaces are trimmed on both
/// sides of the colon; an empty namespace or value is refused.
pub fn parse(field: &str, text: &str) -> Result<Keyword, CoreError> {
    let bad = |rule: &str| CoreError::validation(field, format!("{field}: {rule}"));
    // Counted as sent (spaces included), as the OpenAPI document states.
    if text.chars().count() > KEYWORD_MAX {
        return Err(bad(&format!(
            "a keyword must be at most {KEYWORD_MAX} characters."
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(bad("a keyword must not contain control characters."));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("a keyword must not be empty."));
    }
    match text.split_once(':') {
        None => Ok(Keyword {
            keyword: text.to_owned(),
            namespace: None,
            value: text.to_owned(),
        }),
        Some((namespace, value)) => {
            let (namespace, value) = (namespace.trim(), value.trim());
            if namespace.is_empty() || value.is_empty() {
                return Err(bad(
                    "a namespaced keyword needs text on both sides of the colon (axis:value).",
                ));
            }
            Ok(Keyword {
                keyword: format!("{namespace}:{value}"),
                namespace: Some(namespace.to_owned()),
                value: value.to_owned(),
            })
        }
    }
}

/// Checks a list of keywords (at most [`KEYWORDS_PER_REQUEST`]); duplicates
/// are dropped, the first occurrence's place kept.
pub fn parse_list(field: &str, texts: &[String]) -> Result<Vec<Keyword>, CoreError> {
    if texts.len() > KEYWORDS_PER_REQUEST {
        return Err(CoreError::validation(
            field,
            format!("At most {KEYWORDS_PER_REQUEST} keywords per request."),
        ));
    }
    let mut out: Vec<Keyword> = Vec::with_capacity(texts.len());
    for (n, text) in texts.iter().enumerate() {
        let keyword = parse(&format!("{field}[{n}]"), text)?;
        if !out.iter().any(|k| k.keyword == keyword.keyword) {
            out.push(keyword);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon() {
        let k = parse("k", "artist: Marina:Live ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.keyword, "artist:Marina:Live");
        assert_eq!(k.namespace.as_deref(), Some("artist"));
        assert_eq!(k.value, "Marina:Live");
        let bare = parse("k", "sunset").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((bare.namespace, bare.value.as_str()), (None, "sunset"));
    }

    #[test]
    fn refuses_empty_sides_and_long_lists() {
        for bad in [":", "artist:", ":Marina", "  ", "a\u{7}b"] {
            assert!(parse("k", bad).is_err(), "{bad:?}");
        }
        assert!(parse("k", &"x".repeat(256)).is_err());
        let many: Vec<String> = (0..201).map(|n| format!("k{n}")).collect();
        assert!(parse_list("keywords", &many).is_err());
        let dup = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(parse_list("keywords", &dup).map(|v| v.len()), Ok(2));
    }
}
