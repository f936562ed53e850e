//! Strict JSON parsing: types are exact and the error names the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_api::extract::parse_json;
use lightbox_core::ErrorKind;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Visibility {
    hidden: bool,
    rating: Option<i64>,
    items: Option<Vec<Item>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Item {
    rating: i64,
}

fn field_of(body: &str) -> String {
    let e = parse_json::<Visibility>(body.as_bytes()).expect_err(body);
    assert_eq!(e.error.kind, ErrorKind::Validation, "{body}");
    e.error.field.unwrap_or_default()
}

#[test]
fn string_true_is_not_a_boolean() {
    assert_eq!(field_of(r#"{"hidden":"true"}"#), "hidden");
    assert_eq!(field_of(r#"{"hidden":1}"#), "hidden");
    assert!(parse_json::<Visibility>(br#"{"hidden":true}"#).is_ok());
}

#[test]
fn string_five_is_not_a_number() {
    assert_eq!(field_of(r#"{"hidden":true,"rating":"5"}"#), "rating");
    assert_eq!(field_of(r#"{"hidden":true,"rating":5.5}"#), "rating");
}

#[test]
fn nested_fields_are_named_by_path() {
    assert_eq!(
        field_of(r#"{"hidden":true,"items":[{"rating":1},{"rating":"x"}]}"#),
        "items[1].rating"
    );
    assert_eq!(
        field_of(r#"{"hidden":true,"items":[{"rating":1,"extra":0}]}"#),
        "items[0].extra"
    );
    assert_eq!(field_of(r#"{"hidden":true,"colour":"red"}"#), "colour");
    assert_eq!(field_of(r#"{"rating":1}"#), "hidden");
    assert_eq!(field_of(r#"{"hidden":tru"#), "body");
    assert_eq!(field_of(""), "body");
}

#[test]
fn anything_after_the_body_is_refused() {
    for body in [
        r#"{"hidden":true}{"hidden":false}"#,
        r#"{"hidden":true} {"hidden":false}"#,
        r#"{"hidden":true}garbage"#,
        r#"{"hidden":true}]"#,
        r#"{"hidden":true} 5"#,
        r#"{"hidden":true}"x""#,
    ] {
        let e = parse_json::<Visibility>(body.as_bytes()).expect_err(body);
        assert_eq!(e.error.kind, ErrorKind::Validation, "{body}");
        assert_eq!(e.error.field.as_deref(), Some("body"), "{body}");
    }
    // Whitespace after the value is fine.
    assert!(parse_json::<Visibility>(b"{\"hidden\":true} \r\n\t ").is_ok());
}
