//! Edits of one image — fields, keywords, IPTC metadata, rating, crops, alt
//! text, credit lines, metadata extraction, deletion — and batches of them.
//!
//! Every edit has one shape, [`Edit`], built from a request body by a
//! checking constructor (no database), then applied inside a write
//! transaction by [`apply`]. A single endpoint runs one edit ([`run`]);
//! `POST /v1/operations/batch` runs up to [`BATCH_MAX`] in one transaction
//! ([`run_batch`]): every body is checked before anything runs, and the first
//! failing item rolls everything back, so a batch is all-or-nothing.
//!
//! Each applied edit bumps the image's `updated_at` and appends to the change
//! log, which the search index follows.

use std::collections::BTreeMap;

use lightbox_store::editorial::{self, CreditRow, CropRow};
use lightbox_store::images::{self as store, ImageRow};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::clock::parse_loose_time;
use crate::error::{CoreError, ErrorKind};
use crate::images::{image_not_found, may_change};
use crate::keywords::{self, Keyword};
use crate::operations::{Operation, OperationStatus};
use crate::uploads::{DESCRIPTION_MAX, TITLE_MAX};
use crate::versions::VersionsPayload;
use crate::writes::{self, Begun, JobSpec, PendingWrite, WorkDone, WriteContext};
use crate::{Core, ids, media, validate};

/// Most writes in one batch.
pub const BATCH_MAX: usize = 50;
/// Longest alt text, in characters.
pub const ALT_TEXT_MAX: usize = 1000;
/// Most credit lines on one image.
pub const CREDITS_MAX: i64 = 50;
/// Longest IPTC text value, in characters.
pub const IPTC_TEXT_MAX: usize = 2000;
/// Images named in one keyword rename.
pub const RENAME_IMAGES_MAX: usize = 10_000;
/// Job kind of a keyword rename.
pub const RENAME_JOB: &str = "keywords.rename";

/// One checked write to one image (or, for a rename, to many).
#[derive(Debug, Clone)]
pub enum Edit {
    Patch {
        image: String,
        patch: CheckedPatch,
    },
    Delete {
        image: String,
    },
    AddKeywords {
        image: String,
        keywords: Vec<Keyword>,
    },
    RemoveKeyword {
        image: String,
        keyword: String,
    },
    RenameKeyword {
        from: Keyword,
        to: Keyword,
        images: Option<Vec<String>>,
    },
    Metadata {
        image: String,
        changes: Vec<(&'static str, Option<Value>)>,
    },
    Rating {
        image: String,
        rating: i64,
    },
    Crop {
        image: String,
        crop: Crop,
    },
    ClearCrop {
        image: String,
        aspect_ratio: Option<String>,
    },
    AltText {
        image: String,
        alt_text: String,
    },
    AddCredit {
        image: String,
        role: String,
        name: String,
    },
    RemoveCredit {
        image: String,
        credit: String,
    },
    /// `embedded` is read from the original before the transaction opens.
    ExtractMetadata {
        image: String,
        embedded: Option<Box<lightbox_media::Embedded>>,
    },
    /// A set's membership, order or visibility (batches only).
    Arrange {
        set: String,
        change: crate::set_arrangement::Arrangement,
    },
}

impl Edit {
    fn image(&self) -> Option<&str> {
        match self {
            Edit::Patch { image, .. }
            | Edit::Delete { image }
            | Edit::AddKeywords { image, .. }
            | Edit::RemoveKeyword { image, .. }
            | Edit::Metadata { image, .. }
            | Edit::Rating { image, .. }
            | Edit::Crop { image, .. }
            | Edit::ClearCrop { image, .. }
            | Edit::AltText { image, .. }
            | Edit::AddCredit { image, .. }
            | Edit::RemoveCredit { image, .. }
            | Edit::ExtractMetadata { image, .. } => Some(image),
            Edit::RenameKeyword { .. } | Edit::Arrange { .. } => None,
        }
    }

    /// A set write as a batch item (`change` already checked).
    pub fn arrange(set: &str, change: crate::set_arrangement::Arrangement) -> Edit {
        Edit::Arrange {
            set: set.to_owned(),
            change,
        }
    }
}

pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An image id from a path: an id that cannot exist is simply not found.
fn image_id(id: &str) -> Result<String, CoreError> {
    if ids::is_uuid(id) {
        Ok(id.to_owned())
    } else {
        Err(image_not_found(id))
    }
}

// --- image fields -----------------------------------------------------------

/// `PATCH /v1/images/{public_uuid}`: any of these; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    #[schema(max_length = 191)]
    pub title: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// A date or timestamp (RFC 3339; `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`
    /// and Exif's `YYYY:MM:DD HH:MM:SS` are taken too); null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-07-14T21:30:05Z")]
    pub creation_date: Option<Option<String>>,
    /// 0, 90, 180 or 270 (clockwise); a change rebuilds the versions.
    #[schema(example = 90, minimum = 0, maximum = 270, multiple_of = 90)]
    pub rotation: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct CheckedPatch {
    title: Option<String>,
    description: Option<String>,
    creation_date: Option<Option<i64>>,
    rotation: Option<i64>,
}

impl Edit {
    pub fn patch(image: &str, patch: ImagePatch) -> Result<Edit, CoreError> {
        let title = patch
            .title
            .as_deref()
            .map(|t| validate::optional_text("title", t, TITLE_MAX).map(|t| t.trim().to_owned()))
            .transpose()?;
        let description = patch
            .description
            .as_deref()
            .map(|t| validate::optional_text("description", t, DESCRIPTION_MAX))
            .transpose()?;
        let creation_date = match &patch.creation_date {
            None => None,
            Some(None) => Some(None),
            Some(Some(text)) => Some(Some(parse_loose_time(text).ok_or_else(|| {
                CoreError::validation(
                    "creation_date",
                    "creation_date must be a date or timestamp (RFC 3339, YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS).",
                )
            })?)),
        };
        if let Some(r) = patch.rotation
            && ![0, 90, 180, 270].contains(&r)
        {
            return Err(CoreError::validation(
                "rotation",
                "rotation must be 0, 90, 180 or 270.",
            ));
        }
        Ok(Edit::Patch {
            image: image_id(image)?,
            patch: CheckedPatch {
                title,
                description,
                creation_date,
                rotation: patch.rotation,
            },
        })
    }

    pub fn delete(image: &str) -> Result<Edit, CoreError> {
        Ok(Edit::Delete {
            image: image_id(image)?,
        })
    }
}

// --- keywords ---------------------------------------------------------------

/// `POST /v1/images/{id}/keywords`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordsBody {
    /// 1–200 keywords, `axis:value` or bare; ones the image has are skipped.
    #[schema(min_items = 1, max_items = 200, example = json!(["artist:Marina", "stage:Main"]))]
    pub keywords: Vec<String>,
}

/// `DELETE /v1/images/{id}/keywords`: the whole form, or a bare value with
/// its `namespace`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordRemoveBody {
    #[schema(example = "artist:Marina")]
    pub keyword: String,
    pub namespace: Option<String>,
}

/// `POST /v1/keywords/rename`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[schema(example = "artist:Marina")]
    pub from: String,
    #[schema(example = "artist:Marina Sena")]
    pub to: String,
    /// Only these images (1 to 10,000); absent: every image of the account.
    #[schema(min_items = 1, max_items = 10000)]
    pub image_public_uuids: Option<Vec<String>>,
}

impl Edit {
    pub fn add_keywords(image: &str, body: KeywordsBody) -> Result<Edit, CoreError> {
        if body.keywords.is_empty() {
            return Err(CoreError::validation(
                "keywords",
                "keywords must list at least one keyword.",
            ));
        }
        let keywords = keywords::parse_list("keywords", &body.keywords)?;
        Ok(Edit::AddKeywords {
            image: image_id(image)?,
            keywords,
        })
    }

    pub fn remove_keyword(image: &str, body: KeywordRemoveBody) -> Result<Edit, CoreError> {
        let keyword = match &body.namespace {
            // A bare value in a namespace: an image can only have it if the
            // whole form is a valid keyword; otherwise nothing is removed.
            Some(ns) => {
                let ns = validate::required_text("namespace", ns, keywords::KEYWORD_MAX)?;
                if ns.contains(':') || ns.contains(char::is_control) {
                    return Err(CoreError::validation(
                        "namespace",
                        "namespace must not contain a colon or control characters.",
                    ));
                }
                let value =
                    validate::required_text("keyword", &body.keyword, keywords::KEYWORD_MAX)?;
                if value.contains(char::is_control) {
                    return Err(CoreError::validation(
                        "keyword",
                        "keyword must not contain control characters.",
                    ));
                }
                format!("{ns}:{value}")
            }
            None => keywords::parse("keyword", &body.keyword)?.keyword,
        };
        Ok(Edit::RemoveKeyword {
            image: image_id(image)?,
            keyword,
        })
    }

    pub fn rename_keyword(body: RenameBody) -> Result<Edit, CoreError> {
        let from = keywords::parse("from", &body.from)?;
        let to = keywords::parse("to", &body.to)?;
        let images = match body.image_public_uuids {
            None => None,
            Some(list) => {
                if list.is_empty() || list.len() > RENAME_IMAGES_MAX {
                    return Err(CoreError::validation(
                        "image_public_uuids",
                        format!(
                            "image_public_uuids must list 1 to {RENAME_IMAGES_MAX} images (or be left out for every image)."
                        ),
                    ));
                }
                for (n, id) in list.iter().enumerate() {
                    validate::uuid(&format!("image_public_uuids[{n}]"), id)?;
                }
                let mut list = list;
                list.sort();
                list.dedup();
                Some(list)
            }
        };
        Ok(Edit::RenameKeyword { from, to, images })
    }
}

// --- IPTC metadata ----------------------------------------------------------

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

// --- rating, crops, alt text, credits ----------------------------------------

/// `PUT /v1/images/{id}/rating`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 0 (none) to 5.
    #[schema(minimum = 0, maximum = 5, example = 4)]
    pub rating: i64,
}

/// A crop for one aspect ratio, in whole pixels of the upright image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Crop {
    /// `W:H`, whole numbers 1–9999.
    #[schema(pattern = r"^[1-9][0-9]{0,3}:[1-9][0-9]{0,3}$", example = "16:9")]
    pub aspect_ratio: String,
    #[schema(minimum = 0, maximum = 1000000, example = 0)]
    pub x: i64,
    #[schema(minimum = 0, maximum = 1000000, example = 120)]
    pub y: i64,
    #[schema(minimum = 1, maximum = 1000000, example = 1920)]
    pub width: i64,
    #[schema(minimum = 1, maximum = 1000000, example = 1080)]
    pub height: i64,
}

/// `DELETE /v1/images/{id}/crop`: one aspect ratio, or (no body) every crop.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CropClearBody {
    #[schema(pattern = r"^[1-9][0-9]{0,3}:[1-9][0-9]{0,3}$", example = "16:9")]
    pub aspect_ratio: String,
}

/// `PUT /v1/images/{id}/alt_text`; an empty string clears it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AltTextBody {
    #[schema(
        max_length = 1000,
        example = "The singer on the main stage, arms raised"
    )]
    pub alt_text: String,
}

/// `POST /v1/images/{id}/credits`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditBody {
    #[schema(min_length = 1, max_length = 100, example = "Photo")]
    pub role: String,
    #[schema(min_length = 1, max_length = 255, example = "Jane Doe")]
    pub name: String,
}

/// `DELETE /v1/images/{id}/credits`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRemoveBody {
    pub credit_uuid: uuid::Uuid,
}

/// A credit line of an image.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Credit {
    pub uuid: String,
    #[schema(example = "Photo")]
    pub role: String,
    #[schema(example = "Jane Doe")]
    pub name: String,
}

/// `W:H` → (W, H), both 1–9999 without leading zeros.
pub fn parse_aspect_ratio(field: &str, text: &str) -> Result<(i64, i64), CoreError> {
    let bad = || {
        CoreError::validation(
            field,
            format!("{field} must be W:H with whole numbers from 1 to 9999, e.g. 16:9."),
        )
    };
    let (w, h) = text.split_once(':').ok_or_else(bad)?;
    let num = |s: &str| -> Result<i64, CoreError> {
        let ok = (1..=4).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_digit())
            && !s.starts_with('0');
        if ok {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    Ok((num(w)?, num(h)?))
}

impl Edit {
    pub fn rating(image: &str, body: RatingBody) -> Result<Edit, CoreError> {
        if !(0..=crate::image_filters::RATING_MAX).contains(&body.rating) {
            return Err(CoreError::validation(
                "rating",
                "rating must be an integer from 0 to 5.",
            ));
        }
        Ok(Edit::Rating {
            image: image_id(image)?,
            rating: body.rating,
        })
    }

    /// Checks what needs no image; [`apply`] checks the crop lies inside it.
    pub fn crop(image: &str, crop: Crop) -> Result<Edit, CoreError> {
        let (rw, rh) = parse_aspect_ratio("aspect_ratio", &crop.aspect_ratio)?;
        for (field, value, min) in [
            ("x", crop.x, 0),
            ("y", crop.y, 0),
            ("width", crop.width, 1),
            ("height", crop.height, 1),
        ] {
            if value < min || value > 1_000_000 {
                return Err(CoreError::validation(
                    field,
                    format!("{field} must be a whole number of pixels from {min} to 1000000."),
                ));
            }
        }
        // Within one pixel of the named ratio, on either side.
        let off = (crop.width * rh - crop.height * rw).abs();
        if off > rw.max(rh) {
            return Err(CoreError::validation(
                "height",
                format!(
                    "A {}x{} crop is not {} (within one pixel).",
                    crop.width, crop.height, crop.aspect_ratio
                ),
            ));
        }
        Ok(Edit::Crop {
            image: image_id(image)?,
            crop,
        })
    }

    pub fn clear_crop(image: &str, body: Option<CropClearBody>) -> Result<Edit, CoreError> {
        let aspect_ratio = match body {
            Some(b) => {
                parse_aspect_ratio("aspect_ratio", &b.aspect_ratio)?;
                Some(b.aspect_ratio)
            }
            None => None,
        };
        Ok(Edit::ClearCrop {
            image: image_id(image)?,
            aspect_ratio,
        })
    }

    pub fn alt_text(image: &str, body: AltTextBody) -> Result<Edit, CoreError> {
        let alt_text = validate::optional_text("alt_text", &body.alt_text, ALT_TEXT_MAX)?;
        Ok(Edit::AltText {
            image: image_id(image)?,
            alt_text: alt_text.trim().to_owned(),
        })
    }

    pub fn add_credit(image: &str, body: CreditBody) -> Result<Edit, CoreError> {
        let role = validate::required_text("role", &body.role, 100)?;
        let name = validate::required_text("name", &body.name, 255)?;
        Ok(Edit::AddCredit {
            image: image_id(image)?,
            role,
            name,
        })
    }

    pub fn remove_credit(image: &str, body: CreditRemoveBody) -> Result<Edit, CoreError> {
        Ok(Edit::RemoveCredit {
            image: image_id(image)?,
            credit: body.credit_uuid.to_string(),
        })
    }

    pub fn extract_metadata(image: &str) -> Result<Edit, CoreError> {
        Ok(Edit::ExtractMetadata {
            image: image_id(image)?,
            embedded: None,
        })
    }
}

// --- running edits -----------------------------------------------------------

/// What [`apply`] did: the Operation's record, and blobs to collect after
/// the commit (a deleted image's).
pub struct Applied {
    pub done: WorkDone,
    pub collect: Vec<String>,
}

/// Reads what edits need from outside the database (the embedded metadata
/// of originals), before any transaction opens. A missing image is left for
/// [`apply`] to report.
async fn prepare(core: &Core, account_id: &str, edits: &mut [Edit]) -> Result<(), CoreError> {
    for edit in edits.iter_mut() {
        let Edit::ExtractMetadata { image, embedded } = edit else {
            continue;
        };
        let row = {
            let mut conn = core.store.read().await?;
            store::find(&mut conn, account_id, image).await?
        };
        let Some(row) = row else { continue };
        let media = media::settings(core)?;
        let kind = lightbox_media::sniff::MediaKind::parse(&row.media_kind)
            .ok_or_else(CoreError::internal)?;
        let len = u64::try_from(lightbox_media::metadata::HEAD_LEN)
            .unwrap_or(u64::MAX)
            .min(u64::try_from(row.bytes).unwrap_or(0));
        let head = media
            .blobs
            .get_range(&row.original_key, 0..len)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, image = %row.id, "reading an original's head failed");
                CoreError::internal()
            })?;
        // Parsing EXIF/IPTC/XMP is CPU work on untrusted bytes: off the
        // async workers, as an upload's head is.
        let read = tokio::task::spawn_blocking(move || lightbox_media::read_embedded(kind, &head))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, image = %row.id, "reading embedded metadata failed");
                CoreError::internal()
            })?;
        *embedded = Some(Box::new(read));
    }
    Ok(())
}

/// Runs one edit as its own write.
pub async fn run(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    edit: Edit,
) -> Result<Operation, CoreError> {
    let mut edits = [edit];
    prepare(core, &ctx.account_id, &mut edits).await?;
    let [edit] = edits;
    writes::retrying(|| run_prepared(core, principal, ctx, edit.clone())).await
}

async fn run_prepared(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    edit: Edit,
) -> Result<Operation, CoreError> {
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let op_id = write.operation_id().to_owned();
    let applied = apply(&mut write, principal, edit, &op_id).await?;
    let op = write.finish(applied.done).await?;
    crate::versions::collect(core, &applied.collect).await;
    Ok(op)
}

/// A batch's answer: the summary Operation and one child per item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchOutcome {
    pub summary: Operation,
    pub operations: Vec<Operation>,
}

/// Runs checked edits in one transaction: all or nothing. An item that
/// fails is reported with its index (`operations[3].body.rating` for a field
/// of its body, `operations[3].path` for its image).
pub async fn run_batch(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    mut edits: Vec<Edit>,
) -> Result<BatchOutcome, CoreError> {
    prepare(core, &ctx.account_id, &mut edits).await?;
    writes::retrying(|| run_batch_prepared(core, principal, ctx, edits.clone())).await
}

async fn run_batch_prepared(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    edits: Vec<Edit>,
) -> Result<BatchOutcome, CoreError> {
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(summary) => return replay_batch(core, summary).await,
        Begun::Fresh(write) => write,
    };
    lock_in_order(&mut write, &edits).await?;
    let mut children = Vec::with_capacity(edits.len());
    let mut collect = Vec::new();
    let mut images = Vec::new();
    let mut set_budget = crate::set_arrangement::BatchSetBudget::default();
    for (n, edit) in edits.into_iter().enumerate() {
        let child_id = write.child_operation_id();
        let applied = match edit {
            Edit::Arrange { set, change } => crate::set_arrangement::arrange_in(
                &mut write,
                principal,
                &set,
                &change,
                &child_id,
                &mut set_budget,
            )
            .await
            .map(|done| Applied {
                done,
                collect: vec![],
            }),
            edit => apply(&mut write, principal, edit, &child_id).await,
        };
        let mut applied = applied.map_err(|e| at_item(n, e))?;
        collect.append(&mut applied.collect);
        for id in &applied.done.image_public_uuids {
            if !images.contains(id) {
                images.push(id.clone());
            }
        }
        children.push(write.record_child(child_id, applied.done).await?);
    }
    let child_ids: Vec<&str> = children.iter().map(|c| c.uuid.as_str()).collect();
    let summary = write
        .finish(WorkDone {
            kind: "batch",
            status: OperationStatus::Succeeded,
            result: json!({ "operations": child_ids, "count": children.len() }),
            image_public_uuids: images,
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![],
        })
        .await?;
    crate::versions::collect(core, &collect).await;
    Ok(BatchOutcome {
        summary,
        operations: children,
    })
}

/// Takes the batch's locks up front in one order — its sets, then its
/// images, each by sorted id — so two batches that name the same rows in
/// other orders queue instead of deadlocking (PostgreSQL would abort one).
async fn lock_in_order(write: &mut PendingWrite, edits: &[Edit]) -> Result<(), CoreError> {
    let sets: Vec<String> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::Arrange { set, .. } => Some(set.clone()),
            _ => None,
        })
        .collect();
    crate::set_arrangement::lock_sets_in_order(write, &sets).await?;
    let mut images: Vec<&str> = edits.iter().filter_map(Edit::image).collect();
    images.sort_unstable();
    images.dedup();
    let account = write.account_id().to_owned();
    for id in images {
        store::lock_image(write.tx(), &account, id).await?;
    }
    Ok(())
}

/// The same batch again: its summary and the children's current state.
async fn replay_batch(core: &Core, summary: Operation) -> Result<BatchOutcome, CoreError> {
    let ids: Vec<String> = summary
        .result
        .get("operations")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut operations = Vec::with_capacity(ids.len());
    let mut conn = core.store.read().await?;
    for id in ids {
        let account = lightbox_store::operations::find_any_account(&mut conn, &id)
            .await?
            .ok_or_else(CoreError::internal)?;
        operations.push(Operation::from_row(&account)?);
    }
    Ok(BatchOutcome {
        summary,
        operations,
    })
}

/// Names the batch item an error belongs to.
pub fn at_item(n: usize, e: CoreError) -> CoreError {
    let field = match &e.field {
        Some(f) if f == "body" => format!("operations[{n}].body"),
        Some(f) => format!("operations[{n}].body.{f}"),
        None => format!("operations[{n}].path"),
    };
    let message = format!("operations[{n}]: {}", e.message);
    CoreError { message, ..e }.with_field(field)
}

/// Locks and reads the image, and checks the caller may change it.
async fn load(
    write: &mut PendingWrite,
    principal: &Principal,
    id: &str,
) -> Result<ImageRow, CoreError> {
    let account = write.account_id().to_owned();
    store::lock_image(write.tx(), &account, id).await?;
    let row = store::find(write.tx(), &account, id)
        .await?
        .ok_or_else(|| image_not_found(id))?;
    may_change(principal, &row)?;
    Ok(row)
}

/// A quick edit of one image that ends `succeeded` at once.
fn quick(kind: &'static str, row: &ImageRow, result: Value) -> Applied {
    Applied {
        done: WorkDone {
            kind,
            status: OperationStatus::Succeeded,
            result,
            image_public_uuids: vec![row.id.clone()],
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![("image", row.id.clone(), "update")],
        },
        collect: vec![],
    }
}

/// Applies one checked edit inside the write's transaction.
pub async fn apply(
    write: &mut PendingWrite,
    principal: &Principal,
    edit: Edit,
    op_id: &str,
) -> Result<Applied, CoreError> {
    if let Edit::RenameKeyword { from, to, images } = edit {
        return rename(write, principal, from, to, images, op_id).await;
    }
    if let Edit::Arrange { .. } = edit {
        // Only a batch changes sets through here (see `run_batch`).
        return Err(CoreError::internal());
    }
    let id = edit.image().unwrap_or_default().to_owned();
    let mut row = load(write, principal, &id).await?;
    let now = write.now();
    let account = write.account_id().to_owned();
    let applied = match edit {
        Edit::Patch { patch, .. } => return patch_fields(write, row, patch).await,
        Edit::Delete { .. } => return delete(write, row).await,
        Edit::RenameKeyword { .. } | Edit::Arrange { .. } => return Err(CoreError::internal()),
        Edit::AddKeywords { keywords, .. } => {
            let rows: Vec<(String, Option<String>, String)> = keywords
                .into_iter()
                .map(|k| (k.keyword, k.namespace, k.value))
                .collect();
            let added = store::add_keywords(
                write.tx(),
                &account,
                &row.id,
                row.created_at,
                row.creation_date,
                &rows,
            )
            .await?;
            quick("keywords.add", &row, json!({ "added": added }))
        }
        Edit::RemoveKeyword { keyword, .. } => {
            let removed =
                editorial::remove_keyword(write.tx(), &account, &row.id, &keyword).await?;
            quick(
                "keywords.remove",
                &row,
                json!({ "removed": removed, "keyword": keyword }),
            )
        }
        Edit::Metadata { changes, .. } => {
            let merged = merge_metadata(&row.metadata, &changes);
            row.metadata = Value::Object(merged.clone()).to_string();
            quick("metadata.update", &row, json!({ "metadata": merged }))
        }
        Edit::Rating { rating, .. } => {
            row.rating = rating;
            quick("rating.update", &row, json!({ "rating": rating }))
        }
        Edit::Crop { crop, .. } => {
            let (Some(w), Some(h)) = (row.width, row.height) else {
                return Err(CoreError::new(
                    ErrorKind::Conflict,
                    "The image's size is not known yet; crop it once its versions are built.",
                ));
            };
            for (field, start, size, limit) in
                [("x", crop.x, crop.width, w), ("y", crop.y, crop.height, h)]
            {
                if start + size > limit {
                    return Err(CoreError::validation(
                        field,
                        format!(
                            "The crop must lie inside the {w}x{h} image: {field} + {} is {} (at most {limit}).",
                            if field == "x" { "width" } else { "height" },
                            start + size
                        ),
                    ));
                }
            }
            editorial::put_crop(
                write.tx(),
                &CropRow {
                    image_id: row.id.clone(),
                    aspect_ratio: crop.aspect_ratio.clone(),
                    x: crop.x,
                    y: crop.y,
                    width: crop.width,
                    height: crop.height,
                },
            )
            .await?;
            quick("crop.update", &row, json!({ "crop": crop }))
        }
        Edit::ClearCrop { aspect_ratio, .. } => {
            let removed =
                editorial::delete_crops(write.tx(), &row.id, aspect_ratio.as_deref()).await?;
            quick("crop.delete", &row, json!({ "removed": removed }))
        }
        Edit::AltText { alt_text, .. } => {
            row.alt_text = alt_text;
            quick("alt_text.update", &row, json!({ "alt_text": row.alt_text }))
        }
        Edit::AddCredit { role, name, .. } => {
            let credit = CreditRow {
                id: ids::new_public_uuid(),
                image_id: row.id.clone(),
                role,
                name,
            };
            let count = editorial::add_credit(write.tx(), &credit, now).await?;
            if count > CREDITS_MAX {
                return Err(CoreError::new(
                    ErrorKind::Conflict,
                    format!("An image has at most {CREDITS_MAX} credit lines."),
                ));
            }
            let credit = Credit {
                uuid: credit.id,
                role: credit.role,
                name: credit.name,
            };
            quick("credits.add", &row, json!({ "credit": credit }))
        }
        Edit::RemoveCredit { credit, .. } => {
            if !editorial::delete_credit(write.tx(), &row.id, &credit).await? {
                return Err(CoreError::new(
                    ErrorKind::NotFound,
                    format!("The image has no credit line {credit}."),
                )
                .with_field("credit_uuid"));
            }
            quick("credits.remove", &row, json!({ "removed": credit }))
        }
        Edit::ExtractMetadata { embedded, .. } => {
            let embedded = embedded.ok_or_else(CoreError::internal)?;
            extract(write, &mut row, &embedded).await?
        }
    };
    row.updated_at = now;
    store::update_fields(write.tx(), &row).await?;
    Ok(applied)
}

async fn patch_fields(
    write: &mut PendingWrite,
    mut row: ImageRow,
    patch: CheckedPatch,
) -> Result<Applied, CoreError> {
    if let Some(t) = patch.title {
        row.title = t;
    }
    if let Some(d) = patch.description {
        row.description = d;
    }
    if let Some(c) = patch.creation_date {
        row.creation_date = c;
    }
    let mut jobs = Vec::new();
    let mut status = OperationStatus::Succeeded;
    if let Some(r) = patch.rotation
        && r != row.rotation
    {
        let before = (row.width, row.height);
        // A quarter turn more or less swaps the sides.
        if (r - row.rotation).rem_euclid(180) == 90 {
            std::mem::swap(&mut row.width, &mut row.height);
        }
        if let (Some(w), Some(h)) = before {
            rotate_crops(write, &row.id, (w, h), (r - row.rotation).rem_euclid(360)).await?;
        }
        row.rotation = r;
        row.versions_state = "pending".to_owned();
        row.versions_error = None;
        status = OperationStatus::Queued;
        jobs.push(JobSpec::of(
            &VersionsPayload {
                image_public_uuid: row.id.clone(),
                rotation: Some(r),
            },
            3,
            None,
        )?);
    }
    row.updated_at = write.now();
    store::update_fields(write.tx(), &row).await?;
    Ok(Applied {
        done: WorkDone {
            // The hosted service's documented type for this call.
            kind: "update",
            status,
            result: json!({}),
            image_public_uuids: vec![row.id.clone()],
            set_public_uuid: None,
            jobs,
            changes: vec![("image", row.id.clone(), "update")],
        },
        collect: vec![],
    })
}

/// Turns the image's crops with it (clockwise by `turn` degrees), so an
/// editor's crops survive a rotation: `16:9` becomes `9:16` on a quarter turn.
async fn rotate_crops(
    write: &mut PendingWrite,
    image: &str,
    (w, h): (i64, i64),
    turn: i64,
) -> Result<(), CoreError> {
    let crops = editorial::crops_of(write.tx(), &[image.to_owned()]).await?;
    if crops.is_empty() {
        return Ok(());
    }
    editorial::delete_crops(write.tx(), image, None).await?;
    for c in crops {
        editorial::put_crop(write.tx(), &turned_crop(&c, (w, h), turn)).await?;
    }
    Ok(())
}

/// A crop of a `w`×`h` image, turned clockwise with it by `turn` degrees
/// (0, 90, 180, 270): it frames the same pixels of the turned image.
fn turned_crop(c: &CropRow, (w, h): (i64, i64), turn: i64) -> CropRow {
    let swapped = || {
        c.aspect_ratio
            .split_once(':')
            .map(|(a, b)| format!("{b}:{a}"))
            .unwrap_or_else(|| c.aspect_ratio.clone())
    };
    match turn {
        90 => CropRow {
            aspect_ratio: swapped(),
            x: h - (c.y + c.height),
            y: c.x,
            width: c.height,
            height: c.width,
            ..c.clone()
        },
        180 => CropRow {
            x: w - (c.x + c.width),
            y: h - (c.y + c.height),
            ..c.clone()
        },
        270 => CropRow {
            aspect_ratio: swapped(),
            x: c.y,
            y: w - (c.x + c.width),
            width: c.height,
            height: c.width,
            ..c.clone()
        },
        _ => c.clone(),
    }
}

async fn delete(write: &mut PendingWrite, row: ImageRow) -> Result<Applied, CoreError> {
    let now = write.now();
    let mut blobs: Vec<String> = store::versions_of(write.tx(), std::slice::from_ref(&row.id))
        .await?
        .into_iter()
        .map(|v| v.blob_key)
        .collect();
    blobs.push(row.original_key.clone());
    for key in &blobs {
        store::note_garbage(write.tx(), key, now).await?;
    }
    let account = write.account_id().to_owned();
    store::delete(write.tx(), &account, &row.id).await?;
    Ok(Applied {
        done: WorkDone {
            kind: "image.delete",
            status: OperationStatus::Succeeded,
            result: json!({}),
            image_public_uuids: vec![row.id.clone()],
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![("image", row.id.clone(), "delete")],
        },
        // After the commit; an original another image still uses stays.
        collect: blobs,
    })
}

/// Copies the file's caption, keywords and date into the editable fields,
/// and fills IPTC fields the image has empty.
async fn extract(
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
        row.creation_date = Some(taken);
        copied.insert("creation_date", json!(crate::clock::format_rfc3339(taken)));
    }
    let rows: Vec<(String, Option<String>, String)> = keywords::from_file(&e.keywords)
        .into_iter()
        .map(|k| (k.keyword, k.namespace, k.value))
        .collect();
    let account = write.account_id().to_owned();
    let added = store::add_keywords(
        write.tx(),
        &account,
        &row.id,
        row.created_at,
        row.creation_date,
        &rows,
    )
    .await?;
    copied.insert("keywords_added", json!(added));
    let mut metadata: Map<String, Value> = serde_json::from_str(&row.metadata).unwrap_or_default();
    let mut filled = Vec::new();
    for (key, value) in &e.iptc {
        if !metadata.contains_key(*key) {
            let value = crate::uploads::cut(value, IPTC_TEXT_MAX);
            metadata.insert((*key).to_owned(), Value::String(value));
            filled.push(*key);
        }
    }
    row.metadata = Value::Object(metadata).to_string();
    copied.insert("metadata_filled", json!(filled));
    Ok(quick("metadata.extract", row, json!(copied)))
}

/// A rename runs as a job (it can reach every image of the account); the
/// Operation reports progress as `done`/`total`.
async fn rename(
    write: &mut PendingWrite,
    principal: &Principal,
    from: Keyword,
    to: Keyword,
    images: Option<Vec<String>>,
    op_id: &str,
) -> Result<Applied, CoreError> {
    if from.keyword == to.keyword {
        // Nothing to rename (and renaming onto itself must not remove it).
        return Ok(Applied {
            done: WorkDone {
                kind: RENAME_JOB,
                status: OperationStatus::Succeeded,
                result: json!({ "from": from.keyword, "to": to.keyword, "done": 0, "total": 0, "renamed": 0 }),
                image_public_uuids: vec![],
                set_public_uuid: None,
                jobs: vec![],
                changes: vec![],
            },
            collect: vec![],
        });
    }
    let account = write.account_id().to_owned();
    let total = match &images {
        Some(list) => list.len() as i64,
        None => editorial::keyword_count(write.tx(), &account, &from.keyword).await?,
    };
    // A `user` role renames only on the images it uploaded.
    let only_uploaded_by = match principal.user() {
        Some((user, _)) if user.role == crate::users::Role::User => Some(user.user.uuid.clone()),
        _ => None,
    };
    Ok(Applied {
        done: WorkDone {
            kind: RENAME_JOB,
            status: OperationStatus::Queued,
            result: json!({ "from": from.keyword, "to": to.keyword, "done": 0, "total": total, "renamed": 0 }),
            image_public_uuids: images.clone().unwrap_or_default(),
            set_public_uuid: None,
            jobs: vec![JobSpec::of(
                &crate::keywords::RenamePayload {
                    operation: op_id.to_owned(),
                    account,
                    from: from.keyword.clone(),
                    to: to.keyword.clone(),
                    images,
                    only_uploaded_by,
                },
                5,
                None,
            )?],
            changes: vec![],
        },
        collect: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f";

    /// What refused a check that must fail.
    fn refusal<T: std::fmt::Debug>(result: Result<T, CoreError>) -> CoreError {
        match result {
            Ok(value) => panic!("accepted: {value:?}"),
            Err(e) => e,
        }
    }

    /// The field a refused edit names (every refusal here is a 400 naming one).
    fn refused_field(result: Result<Edit, CoreError>) -> String {
        match result {
            Ok(edit) => panic!("accepted: {edit:?}"),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Validation, "{e}");
                e.field.clone().unwrap_or_else(|| panic!("no field: {e}"))
            }
        }
    }

    fn crop(aspect_ratio: &str, x: i64, y: i64, width: i64, height: i64) -> Crop {
        Crop {
            aspect_ratio: aspect_ratio.to_owned(),
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn an_image_that_is_not_a_uuid_is_not_found() {
        for bad in ["", "42", "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6", "../etc"] {
            let e = refusal(Edit::delete(bad));
            assert_eq!(e.kind, ErrorKind::ImageNotFound, "{bad:?}");
            let e = refusal(Edit::rating(bad, RatingBody { rating: 3 }));
            assert_eq!(e.kind, ErrorKind::ImageNotFound, "{bad:?}");
        }
        assert!(Edit::delete(IMAGE).is_ok());
    }

    #[test]
    fn rating_is_zero_to_five() {
        for rating in 0..=5 {
            match Edit::rating(IMAGE, RatingBody { rating }) {
                Ok(Edit::Rating { rating: r, .. }) => assert_eq!(r, rating),
                other => panic!("{rating}: {other:?}"),
            }
        }
        for rating in [-1, 6, i64::MAX, i64::MIN] {
            assert_eq!(
                refused_field(Edit::rating(IMAGE, RatingBody { rating })),
                "rating"
            );
        }
    }

    #[test]
    fn a_patch_checks_each_field_and_keeps_what_is_left_out() {
        let patch = |title: Option<&str>, rotation: Option<i64>| ImagePatch {
            title: title.map(str::to_owned),
            description: None,
            creation_date: None,
            rotation,
        };
        match Edit::patch(IMAGE, patch(Some("  Encore  "), Some(270))) {
            Ok(Edit::Patch { patch, .. }) => {
                assert_eq!(patch.title.as_deref(), Some("Encore"));
                assert_eq!(patch.rotation, Some(270));
                assert_eq!(patch.description, None);
                assert_eq!(patch.creation_date, None);
            }
            other => panic!("{other:?}"),
        }
        for rotation in [-90, 45, 360] {
            assert_eq!(
                refused_field(Edit::patch(IMAGE, patch(None, Some(rotation)))),
                "rotation"
            );
        }
        assert_eq!(
            refused_field(Edit::patch(IMAGE, patch(Some("a\u{0}b"), None))),
            "title"
        );
        let dated = |text: Option<&str>| ImagePatch {
            creation_date: Some(text.map(str::to_owned)),
            ..patch(None, None)
        };
        match Edit::patch(IMAGE, dated(None)) {
            Ok(Edit::Patch { patch, .. }) => assert_eq!(patch.creation_date, Some(None)),
            other => panic!("{other:?}"),
        }
        match Edit::patch(IMAGE, dated(Some("2026-07-14"))) {
            Ok(Edit::Patch { patch, .. }) => assert_eq!(
                patch.creation_date,
                Some(crate::clock::parse_request_time("2026-07-14"))
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_field(Edit::patch(IMAGE, dated(Some("last summer")))),
            "creation_date"
        );
    }

    #[test]
    fn a_crop_is_whole_pixels_within_one_pixel_of_its_ratio() {
        // Exact, and one pixel off either way (1921 × 1080 is 16:9 ± 1).
        for c in [
            crop("16:9", 0, 120, 1920, 1080),
            crop("16:9", 0, 0, 1921, 1080),
            crop("16:9", 0, 0, 1919, 1080),
            crop("1:1", 10, 10, 1, 1),
            crop("9999:1", 0, 0, 9999, 1),
        ] {
            assert!(Edit::crop(IMAGE, c.clone()).is_ok(), "{c:?}");
        }
        for (c, field) in [
            (crop("16:9", 0, 0, 1920, 1000), "height"),
            (crop("16:9", 0, 0, 1925, 1080), "height"),
            (crop("16:9", -1, 0, 1920, 1080), "x"),
            (crop("16:9", 0, -1, 1920, 1080), "y"),
            (crop("1:1", 0, 0, 0, 0), "width"),
            (crop("1:1", 0, 0, 1_000_001, 1_000_001), "width"),
            (crop("16/9", 0, 0, 16, 9), "aspect_ratio"),
            (crop("016:9", 0, 0, 16, 9), "aspect_ratio"),
            (crop("0:9", 0, 0, 16, 9), "aspect_ratio"),
            (crop("10000:1", 0, 0, 10000, 1), "aspect_ratio"),
            (crop("16:9:1", 0, 0, 16, 9), "aspect_ratio"),
            (crop("+6:9", 0, 0, 6, 9), "aspect_ratio"),
        ] {
            assert_eq!(refused_field(Edit::crop(IMAGE, c.clone())), field, "{c:?}");
        }
    }

    #[test]
    fn clearing_crops_names_one_ratio_or_none() {
        match Edit::clear_crop(IMAGE, None) {
            Ok(Edit::ClearCrop { aspect_ratio, .. }) => assert_eq!(aspect_ratio, None),
            other => panic!("{other:?}"),
        }
        let body = |r: &str| {
            Some(CropClearBody {
                aspect_ratio: r.to_owned(),
            })
        };
        match Edit::clear_crop(IMAGE, body("4:3")) {
            Ok(Edit::ClearCrop { aspect_ratio, .. }) => {
                assert_eq!(aspect_ratio.as_deref(), Some("4:3"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_field(Edit::clear_crop(IMAGE, body("wide"))),
            "aspect_ratio"
        );
    }

    /// Four quarter turns give the crop back; each turn keeps it inside the
    /// turned image, swaps its ratio on a quarter turn, and frames the same
    /// pixels (a corner pixel of the crop lands where the image's does).
    #[test]
    fn crops_turn_with_the_image() {
        let (w, h) = (4000, 3000);
        let original = CropRow {
            image_id: IMAGE.to_owned(),
            aspect_ratio: "16:9".to_owned(),
            x: 100,
            y: 200,
            width: 1600,
            height: 900,
        };
        let mut c = original.clone();
        let mut dims = (w, h);
        for quarter in 1..=4 {
            let turned = turned_crop(&c, dims, 90);
            dims = (dims.1, dims.0);
            assert!(turned.x >= 0 && turned.y >= 0, "{quarter}: {turned:?}");
            assert!(turned.x + turned.width <= dims.0, "{quarter}: {turned:?}");
            assert!(turned.y + turned.height <= dims.1, "{quarter}: {turned:?}");
            assert_eq!((turned.width, turned.height), (c.height, c.width));
            let expected_ratio = if quarter % 2 == 1 { "9:16" } else { "16:9" };
            assert_eq!(turned.aspect_ratio, expected_ratio);
            c = turned;
        }
        assert_eq!(c, original);

        // A clockwise quarter turn: the crop's top-left pixel (x, y) of a
        // w×h image goes to column h - 1 - y, row x; it is the turned
        // crop's top-right corner.
        let turned = turned_crop(&original, (w, h), 90);
        assert_eq!(
            (turned.x + turned.width - 1, turned.y),
            (h - 1 - original.y, original.x)
        );
        // Half and three-quarter turns agree with repeated quarter turns.
        let twice = turned_crop(&turned, (h, w), 90);
        assert_eq!(turned_crop(&original, (w, h), 180), twice);
        assert_eq!(
            turned_crop(&original, (w, h), 270),
            turned_crop(&twice, (w, h), 90)
        );
        assert_eq!(turned_crop(&original, (w, h), 0), original);
    }

    #[test]
    fn keyword_edits_check_their_keywords() {
        assert_eq!(
            refused_field(Edit::add_keywords(IMAGE, KeywordsBody { keywords: vec![] })),
            "keywords"
        );
        // A namespace with a bare value is the whole form.
        match Edit::remove_keyword(
            IMAGE,
            KeywordRemoveBody {
                keyword: "Marina".to_owned(),
                namespace: Some("artist".to_owned()),
            },
        ) {
            Ok(Edit::RemoveKeyword { keyword, .. }) => assert_eq!(keyword, "artist:Marina"),
            other => panic!("{other:?}"),
        }
        for (namespace, field) in [("art:ist", "namespace"), ("", "namespace")] {
            assert_eq!(
                refused_field(Edit::remove_keyword(
                    IMAGE,
                    KeywordRemoveBody {
                        keyword: "Marina".to_owned(),
                        namespace: Some(namespace.to_owned()),
                    }
                )),
                field,
                "{namespace:?}"
            );
        }
        assert_eq!(
            refused_field(Edit::remove_keyword(
                IMAGE,
                KeywordRemoveBody {
                    keyword: "Mar\u{7}ina".to_owned(),
                    namespace: Some("artist".to_owned()),
                }
            )),
            "keyword"
        );
    }

    #[test]
    fn a_rename_names_its_images_once_each() {
        let other = "6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa";
        let rename = |images: Option<Vec<&str>>| RenameBody {
            from: "artist:Marina".to_owned(),
            to: "artist:Marina Sena".to_owned(),
            image_public_uuids: images.map(|l| l.into_iter().map(str::to_owned).collect()),
        };
        match Edit::rename_keyword(rename(Some(vec![other, IMAGE, other]))) {
            Ok(Edit::RenameKeyword { images, .. }) => assert_eq!(
                images,
                Some(vec![IMAGE.to_owned(), other.to_owned()]),
                "sorted, each once"
            ),
            other => panic!("{other:?}"),
        }
        match Edit::rename_keyword(rename(None)) {
            Ok(Edit::RenameKeyword { images, .. }) => assert_eq!(images, None),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_field(Edit::rename_keyword(rename(Some(vec![])))),
            "image_public_uuids"
        );
        assert_eq!(
            refused_field(Edit::rename_keyword(rename(Some(vec![IMAGE, "x"])))),
            "image_public_uuids[1]"
        );
        let too_many = vec![IMAGE; RENAME_IMAGES_MAX + 1];
        assert_eq!(
            refused_field(Edit::rename_keyword(rename(Some(too_many)))),
            "image_public_uuids"
        );
    }

    #[test]
    fn iptc_fields_clear_with_null_or_empty_and_check_their_shape() {
        let patch: MetadataPatch = serde_json::from_value(json!({
            "creator": "  Jane Doe ",
            "city": null,
            "caption": "",
            "country_code": "ch",
            "copyright_marked": true,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let changes = patch.check().unwrap_or_else(|e| panic!("{e}"));
        let get = |key: &str| {
            changes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("creator"), Some(Some(json!("Jane Doe"))));
        assert_eq!(get("city"), Some(None), "null clears");
        assert_eq!(get("caption"), Some(None), "an empty string clears");
        assert_eq!(get("country_code"), Some(Some(json!("ch"))));
        assert_eq!(get("copyright_marked"), Some(Some(json!(true))));
        assert_eq!(get("headline"), None, "left out: unchanged");
        for (key, value) in [
            ("country_code", "Switzerland"),
            ("country_code", "C1"),
            ("contact_email", "jane"),
            ("contact_email", "jane@"),
            ("contact_email", "ja ne@example.org"),
            ("contact_email", "a@b@c"),
            ("headline", "bell\u{7}"),
        ] {
            let patch: MetadataPatch =
                serde_json::from_value(json!({ key: value })).unwrap_or_else(|e| panic!("{e}"));
            let e = refusal(patch.check());
            assert_eq!(e.field.as_deref(), Some(key), "{key}: {value:?}");
        }
        let merged = merge_metadata(
            r#"{"creator": "Old", "city": "Bern", "headline": "Kept"}"#,
            &changes,
        );
        assert_eq!(merged.get("creator"), Some(&json!("Jane Doe")));
        assert_eq!(merged.get("city"), None);
        assert_eq!(merged.get("headline"), Some(&json!("Kept")));
    }

    #[test]
    fn a_batch_item_error_names_the_item() {
        let e = at_item(3, CoreError::validation("rating", "rating must be 0 to 5."));
        assert_eq!(e.field.as_deref(), Some("operations[3].body.rating"));
        assert_eq!(e.message, "operations[3]: rating must be 0 to 5.");
        let e = at_item(
            0,
            CoreError::validation("body", "this write needs a JSON body."),
        );
        assert_eq!(e.field.as_deref(), Some("operations[0].body"));
        // An error about the path's resource (no field) names the path.
        let e = at_item(2, image_not_found("x"));
        assert_eq!(e.field.as_deref(), Some("operations[2].path"));
        assert_eq!(e.kind, ErrorKind::ImageNotFound);
    }
}
