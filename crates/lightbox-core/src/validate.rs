//! Small checks shared by every use-case. Each names the field it checks.

use crate::error::CoreError;

/// Trimmed, non-empty, at most `max` characters (not bytes).
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, CoreError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(CoreError::validation(
            field,
            format!("{field} must not be empty."),
        ));
    }
    optional_text(field, trimmed, max)
}

/// At most `max` characters, no control characters other than newlines/tabs.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<String, CoreError> {
    if value.chars().count() > max {
        return Err(CoreError::validation(
            field,
            format!("{field} must be at most {max} characters."),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(CoreError::validation(
            field,
            format!("{field} must not contain control characters."),
        ));
    }
    Ok(value.to_owned())
}

/// Lowercase letters, digits, `-` and `_`, 1–64 characters, starting with a
/// letter or digit.
pub fn slug(field: &str, value: &str) -> Result<(), CoreError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(CoreError::validation(
            field,
            format!("{field} must be 1-64 lowercase letters, digits, '-' or '_'."),
        ))
    }
}

/// A canonical UUID string.
pub fn uuid(field: &str, value: &str) -> Result<(), CoreError> {
    if crate::ids::is_uuid(value) {
        Ok(())
    } else {
        Err(CoreError::validation(
            field,
            format!("{field} must be a UUID."),
        ))
    }
}
