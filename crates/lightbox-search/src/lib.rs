//! A derived full-text and facet index for Lightbox images.
//!
//! SQL is the truth; this crate keeps a [tantivy] index per server node so
//! `GET /v1/images?query=…` can rank by relevance while honouring every other
//! list filter, and `GET /v1/facets` can count over a filtered set, at a
//! million images per account on two cores. To stay fast, filters, orders and
//! facets all run on fast fields inside the index; no request reads a stored
//! document. Only image ids come back out, and the caller loads rows from SQL.
//!
//! # The contract
//!
//! * Every search, count and facet is restricted to one `account_id`.
//! * Query syntax (see [`query`]): whitespace-separated clauses; `word` should
//!   match, `+word` must, `-word` must not; `"exact phrase"`; `wild*` prefix.
//!   Lucene semantics: with no `+` clause at least one plain clause must
//!   match, and plain clauses add to the score. Only exclusions means every
//!   image of the account except the excluded.
//! * A word the tokenizer splits (`artist:Marina`, `2026-07-14`,
//!   `rock'n'roll`) is matched as a phrase of its tokens. A clause with no
//!   token at all (`!!!`) is ignored; if that leaves no positive clause the
//!   query matches nothing.
//! * Case- and accent-insensitive: `zurich` finds `Zürich`, `CONCERT` finds
//!   `concert`; prefixes are folded the same way.
//! * Each clause searches title ×3, keywords ×2.5 (`namespace value`),
//!   filename ×1.5 (`IMG_1234.jpg` → `img 1234 jpg`), description, metadata
//!   text and dates ×1 (`2026`, `2026-07`, `2026-07-14`, `july`, `tuesday`
//!   for both the taken and the upload date). The fields are combined with a
//!   disjunction-max (tie breaker 0.1), not a sum: photo metadata repeats
//!   itself (caption = title = alt text), and a word should count once, by
//!   its best field, so the boosts order fields predictably.
//! * The filters and order are a [`lightbox_query::ImageQuery`], the type
//!   the database answers too. `Relevance` is BM25 desc, then created_at
//!   desc, then image_id desc: deterministic, so paging by offset never
//!   repeats or skips. Other orders ignore scores. `Taken` puts undated
//!   images last.
//! * Filters agree with SQL: inclusive bounds; a creation_date range never
//!   matches undated images; a box with `west > east` crosses the
//!   antimeridian.
//! * Facets count images (not values) matching account + query + filter;
//!   top [`MAX_FACET_VALUES`] per field by count desc, then value asc.
//!   `has_geo` / `has_video` always return both buckets.
//! * A change of [`SCHEMA_VERSION`] (or an unreadable index) makes
//!   [`SearchIndex::open`] wipe the directory and report `fresh`, so the
//!   caller rebuilds from the database.
//!
//! [tantivy]: https://docs.rs/tantivy

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod facets;
pub mod index;
pub mod query;
pub mod schema;

pub use facets::{FacetCount, FacetField, FacetValue, MAX_FACET_VALUES};
pub use index::{Opened, SearchError, SearchIndex};
pub use query::{Clause, Occur, ParsedQuery, QueryError, QueryTerm, parse};
pub use schema::{DocKeyword, ImageDoc, SCHEMA_VERSION};

#[cfg(test)]
mod tests;
