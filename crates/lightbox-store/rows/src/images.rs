//! Images and what hangs on them: keywords, versions, used upload
//! tickets, set memberships.

use crate::{JsonText, Timestamp};

#[derive(Debug, Clone)]
pub struct ImageRow {
    pub id: String,
    pub account_id: String,
    pub filename: String,
    pub title: String,
    pub description: String,
    pub creation_date: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub rotation: i64,
    pub rating: i64,
    pub alt_text: String,
    pub is_video: bool,
    pub media_kind: String,
    pub content_type: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub bytes: i64,
    pub sha256: String,
    pub original_key: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// JSON object of Exif properties.
    pub exif: JsonText,
    /// JSON object of IPTC fields.
    pub metadata: JsonText,
    pub uploaded_by: Option<String>,
    pub uploaded_by_token: Option<String>,
    pub versions_state: String,
    pub versions_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct KeywordRow {
    pub image_id: String,
    pub keyword: String,
    pub namespace: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub image_id: String,
    pub name: String,
    pub width: i64,
    pub height: i64,
    pub content_type: String,
    pub bytes: i64,
    pub etag: String,
    pub blob_key: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct UsedTicket {
    pub id: String,
    pub image_id: String,
    pub operation_id: Option<String>,
    pub duplicate: bool,
}

#[derive(Debug, Clone)]
pub struct ImageSetRow {
    pub image_id: String,
    pub set_id: String,
    pub name: String,
    pub hidden: bool,
    pub activation_time: Option<Timestamp>,
}
