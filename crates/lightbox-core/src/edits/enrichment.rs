//! Rating, crops, alt text and credit lines.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::validate;

use super::{ALT_TEXT_MAX, Edit, image_id};

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

    /// Checks what needs no image; [`apply`](super::apply) checks the crop lies inside it.
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
