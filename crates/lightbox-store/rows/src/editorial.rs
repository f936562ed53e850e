//! Editorial data beside an image row: the keyword vocabulary's counts,
//! crops, credit lines and metadata profiles.

use crate::{JsonText, Timestamp};

/// A keyword of the vocabulary and how many images carry it.
#[derive(Debug, Clone)]
pub struct VocabularyRow {
    pub keyword: String,
    pub namespace: Option<String>,
    pub value: String,
    pub count: i64,
}

/// A namespace of the vocabulary and how much it is used.
#[derive(Debug, Clone)]
pub struct NamespaceRow {
    pub namespace: String,
    /// Distinct keywords in the namespace.
    pub keywords: i64,
    /// Keyword uses (image × keyword pairs).
    pub uses: i64,
}

/// One crop of an image, per aspect ratio, in upright pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CropRow {
    pub image_id: String,
    pub aspect_ratio: String,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// A credit line of an image ("Photo: Jane Doe").
#[derive(Debug, Clone)]
pub struct CreditRow {
    pub id: String,
    pub image_id: String,
    pub role: String,
    pub name: String,
}

/// A reusable set of IPTC fields.
#[derive(Debug, Clone)]
pub struct ProfileRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// JSON object of IPTC fields.
    pub fields: JsonText,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
