//! Fields, the analyzer, and turning an [`ImageDoc`] into a tantivy document.
//!
//! Everything a filter, an order or a facet needs lives in a fast field, so
//! no request ever reads a stored document. Only `image_id` comes back out.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use time::OffsetDateTime;

/// Bump when the schema or the analyzer changes: [`crate::SearchIndex::open`]
/// then wipes the index and reports it fresh, so the caller rebuilds it.
pub const SCHEMA_VERSION: u32 = 2;

/// Name of the analyzer used by every full-text field and by query words.
pub const ANALYZER: &str = "lightbox";

/// Separates an exif property from its value, and a namespace from a keyword,
/// in single fast-field values. A control character no one types.
pub const SEP: char = '\u{1f}';

/// One image as indexed. Times are Unix microseconds (UTC).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageDoc {
    pub account_id: String,
    /// A UUID string.
    pub image_id: String,
    pub title: String,
    pub description: String,
    pub filename: String,
    pub keywords: Vec<DocKeyword>,
    /// IPTC values, Exif Make/Model/Lens values, alt text, credits: free text.
    pub metadata_text: Vec<String>,
    /// `(property, value)` exactly as stored, e.g. `("Model", "X-T5")`.
    pub exif: Vec<(String, String)>,
    /// Uploaded.
    pub created_at: i64,
    pub updated_at: i64,
    /// Taken.
    pub creation_date: Option<i64>,
    /// `0..=5`.
    pub rating: i64,
    pub is_video: bool,
    /// `(lat, lng)`.
    pub geo: Option<(f64, f64)>,
    /// Set uuids the image is in.
    pub sets: Vec<String>,
    /// `(set uuid, live from)` per set the image is or will be live in:
    /// `0` when live now whatever the time, the activation time (µs) when
    /// embargoed; a hidden image without one is left out. Liveness is then
    /// decided at query time ([`live_set_term`]), never by re-indexing.
    pub live_sets: Vec<(String, i64)>,
}

/// The `set_live` token of a membership live from `from` (µs; fixed width
/// so that text order is time order and a range query finds "live by now").
pub fn live_set_term(set: &str, from: i64) -> String {
    format!("{set}{SEP}{:020}", from.max(0))
}

/// A keyword as stored: whole `artist:Marina` = namespace `artist` + value `Marina`;
/// without a namespace, `value == keyword`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocKeyword {
    pub keyword: String,
    pub namespace: Option<String>,
    pub value: String,
}

impl DocKeyword {
    /// Splits `ns:value` at the first `:`; no `:` (or an empty side) means no namespace.
    pub fn parse(keyword: &str) -> DocKeyword {
        match keyword.split_once(':') {
            Some((ns, v)) if !ns.is_empty() && !v.is_empty() => DocKeyword {
                keyword: keyword.to_string(),
                namespace: Some(ns.to_string()),
                value: v.to_string(),
            },
            _ => DocKeyword {
                keyword: keyword.to_string(),
                namespace: None,
                value: keyword.to_string(),
            },
        }
    }
}

/// Handles to every field of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub account: Field,
    pub image_id: Field,
    pub title: Field,
    pub description: Field,
    pub filename: Field,
    pub keywords: Field,
    pub metadata: Field,
    pub dates: Field,
    /// Whole keyword, exact. Indexed + fast (facet `keyword`).
    pub kw: Field,
    /// Keyword value, exact. Indexed.
    pub kw_value: Field,
    /// Keyword namespace, exact. Indexed + fast (facet `namespace`).
    pub kw_ns: Field,
    /// `namespace SEP whole keyword`. Fast only (facet `keyword:<ns>`).
    pub kw_by_ns: Field,
    /// `property SEP value`. Indexed + fast (filter and facet `exif:<p>`).
    pub exif: Field,
    /// Exif property alone. Indexed.
    pub exif_prop: Field,
    pub set: Field,
    /// [`live_set_term`] tokens. Indexed.
    pub set_live: Field,
    pub created_at: Field,
    pub updated_at: Field,
    pub creation_date: Field,
    pub rating: Field,
    /// `year * 100 + month` of `creation_date`, 0 when unknown.
    pub taken_month: Field,
    pub is_video: Field,
    pub has_geo: Field,
    pub lat: Field,
    pub lng: Field,
}

/// Field names of the fast columns the collectors read.
pub(crate) mod names {
    pub const IMAGE_ID: &str = "image_id";
    pub const KW: &str = "kw";
    pub const KW_NS: &str = "kw_ns";
    pub const KW_BY_NS: &str = "kw_by_ns";
    pub const EXIF: &str = "exif";
    pub const SET: &str = "set";
    pub const CREATED_AT: &str = "created_at";
    pub const CREATION_DATE: &str = "creation_date";
    pub const RATING: &str = "rating";
    pub const TAKEN_MONTH: &str = "taken_month";
    pub const IS_VIDEO: &str = "is_video";
    pub const HAS_GEO: &str = "has_geo";
}

/// Builds the schema and its field handles.
pub fn build_schema() -> (Schema, Fields) {
    use names::*;
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let raw_fast = STRING | FAST;
    let fast_only = TextOptions::default().set_fast(None);
    let num = INDEXED | FAST;
    let fields = Fields {
        account: b.add_text_field("account", STRING),
        image_id: b.add_text_field(IMAGE_ID, raw_fast.clone()),
        title: b.add_text_field("title", text.clone()),
        description: b.add_text_field("description", text.clone()),
        filename: b.add_text_field("filename", text.clone()),
        keywords: b.add_text_field("keywords", text.clone()),
        metadata: b.add_text_field("metadata", text.clone()),
        dates: b.add_text_field("dates", text),
        kw: b.add_text_field(KW, raw_fast.clone()),
        kw_value: b.add_text_field("kw_value", STRING),
        kw_ns: b.add_text_field(KW_NS, raw_fast.clone()),
        kw_by_ns: b.add_text_field(KW_BY_NS, fast_only),
        exif: b.add_text_field(EXIF, raw_fast.clone()),
        exif_prop: b.add_text_field("exif_prop", STRING),
        set: b.add_text_field(SET, raw_fast),
        set_live: b.add_text_field("set_live", STRING),
        created_at: b.add_i64_field(CREATED_AT, num.clone()),
        updated_at: b.add_i64_field("updated_at", num.clone()),
        creation_date: b.add_i64_field(CREATION_DATE, num.clone()),
        rating: b.add_i64_field(RATING, num.clone()),
        taken_month: b.add_u64_field(TAKEN_MONTH, FAST),
        is_video: b.add_u64_field(IS_VIDEO, num.clone()),
        has_geo: b.add_u64_field(HAS_GEO, num.clone()),
        lat: b.add_f64_field("lat", num.clone()),
        lng: b.add_f64_field("lng", num),
    };
    (b.build(), fields)
}

/// The analyzer for full text and query words: split on non-alphanumerics,
/// lowercase, fold accents (`Zürich` = `zurich`). Overlong tokens are dropped
/// (tantivy would reject them anyway).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(100))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// `"2026-07-14 2026-07 July 2026 Tuesday"`, so `2026`, `2026-07`,
/// `2026-07-14` and `july` all match (phrases bridge the hyphens).
pub fn date_text(micros: i64) -> Option<String> {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()?;
    let (y, m, d) = (dt.year(), u8::from(dt.month()), dt.day());
    Some(format!(
        "{y:04}-{m:02}-{d:02} {y:04}-{m:02} {} {y:04} {}",
        dt.month(),
        dt.weekday()
    ))
}

/// `year * 100 + month`, 0 when unknown or before year 1.
pub fn taken_month(micros: Option<i64>) -> u64 {
    micros
        .and_then(|m| OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1000).ok())
        .and_then(|dt| {
            let y = u64::try_from(dt.year()).ok().filter(|&y| y > 0)?;
            Some(y * 100 + u64::from(u8::from(dt.month())))
        })
        .unwrap_or(0)
}

fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Builds the tantivy document. Multi-valued exact fields are de-duplicated so
/// facet counts are per image, not per value.
pub fn to_document(f: &Fields, doc: &ImageDoc) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.account, &doc.account_id);
    d.add_text(f.image_id, &doc.image_id);
    d.add_text(f.title, &doc.title);
    d.add_text(f.description, &doc.description);
    d.add_text(f.filename, &doc.filename);
    for m in &doc.metadata_text {
        d.add_text(f.metadata, m);
    }
    for k in &doc.keywords {
        match &k.namespace {
            Some(ns) => d.add_text(f.keywords, format!("{ns} {}", k.value)),
            None => d.add_text(f.keywords, &k.value),
        }
    }
    let kws = sorted_unique(doc.keywords.iter().map(|k| k.keyword.clone()).collect());
    for k in &kws {
        d.add_text(f.kw, k);
    }
    for v in sorted_unique(doc.keywords.iter().map(|k| k.value.clone()).collect()) {
        d.add_text(f.kw_value, v);
    }
    let nss = doc.keywords.iter().filter_map(|k| k.namespace.clone());
    for ns in sorted_unique(nss.collect()) {
        d.add_text(f.kw_ns, ns);
    }
    let by_ns = doc
        .keywords
        .iter()
        .filter_map(|k| Some(format!("{}{SEP}{}", k.namespace.as_ref()?, k.keyword)));
    for v in sorted_unique(by_ns.collect()) {
        d.add_text(f.kw_by_ns, v);
    }
    let pairs = doc.exif.iter().map(|(p, v)| format!("{p}{SEP}{v}"));
    for v in sorted_unique(pairs.collect()) {
        d.add_text(f.exif, v);
    }
    for p in sorted_unique(doc.exif.iter().map(|(p, _)| p.clone()).collect()) {
        d.add_text(f.exif_prop, p);
    }
    for s in sorted_unique(doc.sets.clone()) {
        d.add_text(f.set, s);
    }
    let live = doc
        .live_sets
        .iter()
        .map(|(s, from)| live_set_term(s, *from));
    for t in sorted_unique(live.collect()) {
        d.add_text(f.set_live, t);
    }
    for t in doc.creation_date.iter().chain([&doc.created_at]) {
        if let Some(text) = date_text(*t) {
            d.add_text(f.dates, text);
        }
    }
    d.add_i64(f.created_at, doc.created_at);
    d.add_i64(f.updated_at, doc.updated_at);
    if let Some(t) = doc.creation_date {
        d.add_i64(f.creation_date, t);
    }
    d.add_i64(f.rating, doc.rating);
    d.add_u64(f.taken_month, taken_month(doc.creation_date));
    d.add_u64(f.is_video, u64::from(doc.is_video));
    d.add_u64(f.has_geo, u64::from(doc.geo.is_some()));
    if let Some((lat, lng)) = doc.geo {
        d.add_f64(f.lat, lat);
        d.add_f64(f.lng, lng);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_forms() {
        // 2026-07-14T10:00:00Z, a Tuesday.
        let t = 1_784_023_200_000_000;
        assert_eq!(
            date_text(t).unwrap(),
            "2026-07-14 2026-07 July 2026 Tuesday"
        );
        assert_eq!(taken_month(Some(t)), 202_607);
        assert_eq!(taken_month(None), 0);
        assert_eq!(date_text(i64::MAX), None);
    }

    #[test]
    fn analyzer_folds() {
        let mut a = analyzer();
        assert_eq!(
            crate::query::tokens(&mut a, "Zürich IMG_1234.jpg rock'n'roll"),
            vec!["zurich", "img", "1234", "jpg", "rock", "n", "roll"]
        );
    }

    #[test]
    fn keyword_parse() {
        let k = DocKeyword::parse("artist:Marina");
        assert_eq!(k.namespace.as_deref(), Some("artist"));
        assert_eq!(k.value, "Marina");
        assert_eq!(DocKeyword::parse("sunset").namespace, None);
    }
}
