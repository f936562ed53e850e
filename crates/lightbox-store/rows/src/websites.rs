//! Websites: a set tree shown to the world or to press members.

use crate::Timestamp;

/// A website's settings (`website_type`: `public` | `press`; `downloads`:
/// `none` | `large` | `original`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebsiteRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub website_type: String,
    pub slug: String,
    pub hostname: Option<String>,
    pub root_set_id: String,
    pub title: String,
    pub intro: String,
    pub accent: String,
    pub logo_image_id: Option<String>,
    pub downloads: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A website rooted at `set_id` or one of its ancestors (what a set's
/// `website` field needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearestWebsiteRow {
    pub set_id: String,
    pub id: String,
    pub name: String,
    pub website_type: String,
    pub slug: String,
    pub hostname: Option<String>,
}

/// A set a website shows (the root or a set under it, none `private`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownSetRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub description: String,
    pub lead_image_id: Option<String>,
}

/// An image live in a website's sets, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveImageRow {
    pub image_id: String,
    pub live_since: Timestamp,
}
