//! The checked filters and order of an image list (`GET /v1/images`,
//! `GET /v1/facets`, the console's library): one type that the core builds
//! from a request, and that both the database (`lightbox-store`) and the
//! search index (`lightbox-search`) answer — so a filter is declared once
//! and the two answers cannot drift apart.
//!
//! Plain values, already checked (ranges, lengths, a box inside the globe):
//! this crate has no dependencies and no rules of its own.

/// How a list is ordered. Ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Uploaded last first (`created_at` descending).
    #[default]
    Newest,
    /// Uploaded first first (`created_at` ascending).
    Oldest,
    /// Taken last first (`creation_date` descending); images without a
    /// known date come after every dated one, newest upload first.
    Taken,
    /// Best full-text match first (BM25), then newest upload; without a
    /// text to score, newest upload first. Only the search index ranks;
    /// the database, which has no scores, lists it as [`Sort::Taken`].
    Relevance,
}

/// Which keyword an image must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeywordMatch {
    /// The whole stored form, `axis:value` or a bare `value` (exact).
    Whole(String),
    /// This value in any namespace, or without one (exact).
    Value(String),
    /// Any keyword in this namespace (exact).
    Namespace(String),
}

/// A box in degrees; `west > east` crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// The filters and order of one image list. `None` = no filter. Time
/// bounds are Unix microseconds, inclusive at both ends; a `creation_date`
/// range never matches an image without a known date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageQuery {
    pub keyword: Option<KeywordMatch>,
    /// Exactly this rating.
    pub rating: Option<i64>,
    /// This rating or more.
    pub min_rating: Option<i64>,
    /// Alone: the image has this Exif property. With `exif_value`: that
    /// exact text value (a value needs a property).
    pub exif_property: Option<String>,
    pub exif_value: Option<String>,
    pub created_at_from: Option<i64>,
    pub created_at_to: Option<i64>,
    pub updated_at_from: Option<i64>,
    pub updated_at_to: Option<i64>,
    pub creation_date_from: Option<i64>,
    pub creation_date_to: Option<i64>,
    pub has_video: Option<bool>,
    pub has_geo: Option<bool>,
    pub bbox: Option<GeoBox>,
    /// Images in this set. Only the search index answers it (and `live`).
    pub set: Option<String>,
    /// With `set`: `true` only the images live in it at the moment of the
    /// read, `false` only those not live.
    pub live: Option<bool>,
    /// Only the images live at the moment of the read in at least one of
    /// these sets (a website's search: the sets it shows). Empty = no
    /// filter. Only the search index answers it.
    pub live_in_any: Vec<String>,
    /// The text query searches only titles and descriptions (what a
    /// website's pages show), not keywords, file names or metadata.
    pub shown_text_only: bool,
    pub sort: Sort,
}

impl ImageQuery {
    /// Whether only the search index can answer this list: a set, or an
    /// order by relevance.
    pub fn needs_index(&self) -> bool {
        self.set.is_some()
            || self.live.is_some()
            || !self.live_in_any.is_empty()
            || self.sort == Sort::Relevance
    }
}
