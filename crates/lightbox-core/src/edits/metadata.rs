//! IPTC metadata: the partial update, its checks, and copying what the
//! file itself says into the editable fields.

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use std::collections::BTreeMap;

use lightbox_store::images::ImageRow;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::parse_loose_time;
use crate::error::CoreError;
use crate::keywords;
use crate::uploads::DESCRIPTION_MAX;
use crate::validate;
use crate::writes::PendingWrite;

use super::{Applied, Edit, IPTC_TEXT_MAX, add_keywords, image_id, nullable, quick};

/// The IPTC Core fields an image carries (`metadata` of the image object),
/// and the partial update `PUT /v1/images/{id}/metadata` takes: a field
/// left out stays, `null` (or an empty string) clears it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataPatch {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub headline: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub caption: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000, example = "Jane Doe")]
    pub creator: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub creator_job_title: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub credit_line: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub source: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000, example = "© 2026 Festival AG")]
    pub copyright_notice: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<bool>)]
    pub copyright_marked: Option<Option<bool>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub usage_terms: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub instructions: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub job_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub city: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub state: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub country: Option<Option<String>>,
    /// ISO 3166 alpha-2 or alpha-3 code.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, pattern = "^([A-Za-z]{2,3})?$", example = "CH")]
    pub country_code: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub location: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 254, pattern = r"^([^@\s\x00-\x1F\x7F-\x9F]+@[^@\s\x00-\x1F\x7F-\x9F]+)?$")]
    pub contact_email: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub contact_phone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub contact_url: Option<Option<String>>,
}

impl MetadataPatch {
    /// The named changes, checked: (key, new value or `None` to clear).
    pub fn check(&self) -> Result<Vec<(&'static str, Option<Value>)>, CoreError> {
        let texts: [(&'static str, &Option<Option<String>>); 18] = [
            ("headline", &self.headline),
            ("caption", &self.caption),
            ("creator", &self.creator),
            ("creator_job_title", &self.creator_job_title),
            ("credit_line", &self.credit_line),
            ("source", &self.source),
            ("copyright_notice", &self.copyright_notice),
            ("usage_terms", &self.usage_terms),
            ("instructions", &self.instructions),
            ("job_id", &self.job_id),
            ("city", &self.city),
            ("state", &self.state),
            ("country", &self.country),
            ("country_code", &self.country_code),
            ("location", &self.location),
            ("contact_email", &self.contact_email),
            ("contact_phone", &self.contact_phone),
            ("contact_url", &self.contact_url),
        ];
        let mut out = Vec::new();
        for (key, value) in texts {
            let Some(value) = value else { continue };
            let text = match value {
                None => None,
                Some(t) => {
                    check_iptc_value(key, t)?;
                    let t = validate::optional_text(key, t, IPTC_TEXT_MAX)?;
                    let t = t.trim().to_owned();
                    (!t.is_empty()).then_some(t)
                }
            };
            out.push((key, text.map(Value::String)));
        }
        if let Some(marked) = self.copyright_marked {
            out.push(("copyright_marked", marked.map(Value::Bool)));
        }
        Ok(out)
    }
}

/// The two IPTC fields with a shape, checked as sent (as the OpenAPI
/// patterns state them); an empty string clears either.
fn check_iptc_value(key: &str, text: &str) -> Result<(), CoreError> {
    if text.is_empty() {
        return Ok(());
    }
    let part_ok = |p: &str| {
        !p.is_empty() && !p.contains(|c: char| c.is_whitespace() || c.is_control() || c == '@')
    };
    match key {
        "country_code"
            if !(2..=3).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            Err(CoreError::validation(
                key,
                "country_code must be an ISO 3166 code of 2 or 3 letters.",
            ))
        }
        "contact_email"
            if text.chars().count() > 254
                || !text
                    .split_once('@')
                    .is_some_and(|(name, domain)| part_ok(name) && part_ok(domain)) =>
        {
            Err(CoreError::validation(
                key,
                "contact_email must be an email address (name@domain).",
            ))
        }
        _ => Ok(()),
    }
}

/// Merges checked changes into a stored metadata object.
pub fn merge_metadata(
    stored: &str,
    changes: &[(&'static str, Option<Value>)],
) -> Map<String, Value> {
    let mut map: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    for (key, value) in changes {
        match value {
            Some(v) => {
                map.insert((*key).to_owned(), v.clone());
            }
            None => {
                map.remove(*key);
            }
        }
    }
    map
}

impl Edit {
    pub fn metadata(image: &str, patch: &MetadataPatch) -> Result<Edit, CoreError> {
        let changes = patch.check()?;
        Ok(Edit::Metadata {
            image: image_id(image)?,
            changes,
        })
    }
}

/// Copies the file's caption, keywords and date into the editable fields,
/// and fills IPTC fields the image has empty.
pub(super) async fn extract(
    write: &mut PendingWrite,
    row: &mut ImageRow,
    e: &lightbox_media::Embedded,
) -> Result<Applied, CoreError> {
    let mut copied: BTreeMap<&str, Value> = BTreeMap::new();
    if let Some(caption) = &e.caption {
        row.description = crate::uploads::cut(caption, DESCRIPTION_MAX);
        copied.insert("description", json!(row.description));
    }
    if let Some(taken) = e.taken_at.as_deref().and_then(parse_loose_time) {
        row.creation_date = Some(Timestamp(taken));
        copied.insert("creation_date", json!(crate::clock::format_rfc3339(taken)));
    }
    let added = add_keywords(write, row, keywords::from_file(&e.keywords)).await?;
    copied.insert("keywords_added", json!(added));
    let mut metadata: Map<String, Value> =
        serde_json::from_str(row.metadata.as_str()).unwrap_or_default();
    let mut filled = Vec::new();
    for (key, value) in &e.iptc {
        if !metadata.contains_key(*key) {
            let value = crate::uploads::cut(value, IPTC_TEXT_MAX);
            metadata.insert((*key).to_owned(), Value::String(value));
            filled.push(*key);
        }
    }
    row.metadata = JsonText(Value::Object(metadata).to_string());
    copied.insert("metadata_filled", json!(filled));
    Ok(quick("metadata.extract", row, json!(copied)))
}
