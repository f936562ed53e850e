//! Opening, writing and searching the index.
//!
//! The index is derived data: when in doubt (unreadable, other schema
//! version) we wipe it and let the caller rebuild from SQL, rather than try
//! to repair it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs;
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering as AtomicOrdering};

use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur as TOccur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal, SegmentReader,
    Term,
};

use crate::facets::{FacetCollector, FacetCount, FacetField};
use crate::query::{self, ParsedQuery};
use crate::schema::{self, Fields, ImageDoc, SCHEMA_VERSION, SEP, names};
use lightbox_query::{ImageQuery, KeywordMatch, Sort};

/// Writer heap: bounded memory during rebuilds.
const WRITER_HEAP_BYTES: usize = 128 * 1024 * 1024;
/// Indexing threads: the box has two cores and serves requests meanwhile.
const WRITER_THREADS: usize = 1;

/// Everything that can go wrong below the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index io: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: cannot open directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// A filter combination the API should have rejected.
    #[error("filter: {0}")]
    InvalidFilter(&'static str),
    /// The document source of a rebuild failed; nothing was committed.
    #[error("search index rebuild: {0}")]
    Source(Box<dyn std::error::Error + Send + Sync>),
    /// A writer thread panicked earlier.
    #[error("search index: writer lock poisoned")]
    Poisoned,
}

/// What [`SearchIndex::open`] found.
pub struct Opened {
    pub index: SearchIndex,
    /// True when the index is empty-new (created, wiped, or never committed
    /// by the caller): rebuild it from the database.
    pub fresh: bool,
}

/// The per-node derived index. `Send + Sync`; share it behind an `Arc`.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    analyzer: TextAnalyzer,
    seq: AtomicI64,
}

fn payload(seq: i64) -> String {
    format!("lightbox-search v{SCHEMA_VERSION} seq {seq}")
}

/// The committed seq, or `None` if the payload is missing or of another version.
/// The seq a created index carries until its first full build commits.
pub const NEVER_BUILT: i64 = -1;

fn parse_payload(p: Option<&str>) -> Option<i64> {
    let rest = p?.strip_prefix(&format!("lightbox-search v{SCHEMA_VERSION} seq "))?;
    rest.parse().ok()
}

fn wipe_dir(dir: &Path) -> Result<(), SearchError> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

impl SearchIndex {
    /// Opens the index in `dir` (which the index owns), creating it when
    /// missing. An unreadable index, or one of another [`SCHEMA_VERSION`], is
    /// wiped and recreated, and `fresh` is set so the caller rebuilds it.
    pub fn open(dir: &Path) -> Result<Opened, SearchError> {
        fs::create_dir_all(dir)?;
        match Self::open_existing(dir) {
            Some((index, seq)) => {
                let index = Self::from_index(index, seq)?;
                // Never built (a crash during the first build included).
                let fresh = seq < 0;
                Ok(Opened { index, fresh })
            }
            None => {
                wipe_dir(dir)?;
                let (schema, _) = schema::build_schema();
                let index = Index::create(
                    MmapDirectory::open(dir)?,
                    schema,
                    tantivy::IndexSettings::default(),
                )?;
                let index = Self::from_index(index, NEVER_BUILT)?;
                index.commit_seq(&mut *index.lock()?, NEVER_BUILT)?;
                Ok(Opened { index, fresh: true })
            }
        }
    }

    /// An existing, readable index of our schema version, with its seq.
    fn open_existing(dir: &Path) -> Option<(Index, i64)> {
        let index = Index::open_in_dir(dir).ok()?;
        let (schema, _) = schema::build_schema();
        if index.schema() != schema {
            return None;
        }
        let metas = index.load_metas().ok()?;
        let seq = parse_payload(metas.payload.as_deref())?;
        // Opening a reader opens every segment: corrupt files show up here.
        let reader = index.reader().ok()?;
        let searcher = reader.searcher();
        for seg in searcher.segment_readers() {
            seg.fast_fields().i64(names::CREATED_AT).ok()?;
        }
        Some((index, seq))
    }

    /// A throwaway index in memory, for tests.
    pub fn open_in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, _) = schema::build_schema();
        Self::from_index(Index::create_in_ram(schema), 0)
    }

    fn from_index(mut index: Index, seq: i64) -> Result<SearchIndex, SearchError> {
        // Segments are searched in parallel (one thread per core): a
        // facet count over a whole library is CPU-bound.
        index.set_default_multithread_executor()?;
        let (_, fields) = schema::build_schema();
        let analyzer = schema::analyzer();
        index
            .tokenizers()
            .register(schema::ANALYZER, analyzer.clone());
        let writer = index.writer_with_num_threads(WRITER_THREADS, WRITER_HEAP_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer,
            seq: AtomicI64::new(seq),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>, SearchError> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)
    }

    fn commit_seq(&self, writer: &mut IndexWriter, seq: i64) -> Result<(), SearchError> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload(seq));
        prepared.commit()?;
        self.reader.reload()?;
        self.seq.store(seq, AtomicOrdering::SeqCst);
        Ok(())
    }

    /// The change-log position last committed; [`NEVER_BUILT`] for a new index.
    pub fn applied_seq(&self) -> i64 {
        self.seq.load(AtomicOrdering::SeqCst)
    }

    /// The field handles (for callers building their own tantivy queries).
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Replaces `upserts` (by image_id), deletes `deletes`, commits with `seq`
    /// and reloads the reader, so the next search sees the change. Calls from
    /// several threads are serialised.
    pub fn apply(
        &self,
        upserts: Vec<ImageDoc>,
        deletes: &[String],
        seq: i64,
    ) -> Result<(), SearchError> {
        let mut writer = self.lock()?;
        let result = (|| {
            for id in deletes {
                writer.delete_term(Term::from_field_text(self.fields.image_id, id));
            }
            for doc in &upserts {
                writer.delete_term(Term::from_field_text(self.fields.image_id, &doc.image_id));
                writer.add_document(schema::to_document(&self.fields, doc))?;
            }
            self.commit_seq(&mut writer, seq)
        })();
        if result.is_err() {
            let _ = writer.rollback();
        }
        result
    }

    /// Full rebuild: wipes every document, indexes `docs` as they stream in
    /// (memory stays within the writer heap), then commits with `seq`. If the
    /// source yields an error, nothing is committed and the old index stays.
    pub fn rebuild<I, E>(&self, docs: I, seq: i64) -> Result<u64, SearchError>
    where
        I: IntoIterator<Item = Result<ImageDoc, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut writer = self.lock()?;
        let result = (|| {
            writer.delete_all_documents()?;
            let mut n = 0u64;
            for doc in docs {
                let doc = doc.map_err(|e| SearchError::Source(e.into()))?;
                writer.add_document(schema::to_document(&self.fields, &doc))?;
                n += 1;
            }
            self.commit_seq(&mut writer, seq)?;
            Ok(n)
        })();
        if result.is_err() {
            let _ = writer.rollback();
        }
        result
    }

    /// Image ids of `account_id` matching `query` and `filter`, in the
    /// filter's order; `now` (µs) decides what is live in a set.
    pub fn search(
        &self,
        account_id: &str,
        query: Option<&ParsedQuery>,
        filter: &ImageQuery,
        now: i64,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<String>, SearchError> {
        let k = limit.saturating_add(offset);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (q, has_text) = self.build(account_id, query, filter, now)?;
        let order = filter.sort;
        let collector = TopCollector {
            order,
            k,
            scored: has_text && order == Sort::Relevance,
        };
        let hits = self.reader.searcher().search(&*q, &collector)?;
        Ok(hits.into_iter().skip(offset).collect())
    }

    /// How many images `search` would page through.
    pub fn count(
        &self,
        account_id: &str,
        query: Option<&ParsedQuery>,
        filter: &ImageQuery,
        now: i64,
    ) -> Result<u64, SearchError> {
        let (q, _) = self.build(account_id, query, filter, now)?;
        let n = self.reader.searcher().search(&*q, &Count)?;
        Ok(n as u64)
    }

    /// Facet counts over the images `search` would return. Top
    /// [`crate::MAX_FACET_VALUES`] per field, by count desc then value asc.
    pub fn facets(
        &self,
        account_id: &str,
        query: Option<&ParsedQuery>,
        filter: &ImageQuery,
        now: i64,
        fields: &[FacetField],
    ) -> Result<Vec<(FacetField, Vec<FacetCount>)>, SearchError> {
        let (q, _) = self.build(account_id, query, filter, now)?;
        let collector = FacetCollector {
            fields: fields.to_vec(),
        };
        Ok(self.reader.searcher().search(&*q, &collector)?)
    }

    /// account ∧ query ∧ filters. Only the text part scores; the rest is
    /// wrapped at score 0 so it cannot reorder hits. Returns whether there is
    /// a positive text part.
    fn build(
        &self,
        account_id: &str,
        parsed: Option<&ParsedQuery>,
        filter: &ImageQuery,
        now: i64,
    ) -> Result<(Box<dyn Query>, bool), SearchError> {
        let f = &self.fields;
        let mut clauses: Vec<(TOccur, Box<dyn Query>)> = vec![(
            TOccur::Must,
            zero(term_query(Term::from_field_text(f.account, account_id))),
        )];
        let mut has_text = false;
        if let Some(p) = parsed {
            let built = query::build(p, f, &self.analyzer, filter.shown_text_only);
            if let Some(pos) = built.positive {
                clauses.push((TOccur::Must, pos));
                has_text = true;
            }
            for ex in built.exclusions {
                clauses.push((TOccur::MustNot, ex));
            }
        }
        for q in self.filter_queries(filter, now)? {
            clauses.push((TOccur::Must, zero(q)));
        }
        Ok((Box::new(BooleanQuery::new(clauses)), has_text))
    }

    fn filter_queries(
        &self,
        flt: &ImageQuery,
        now: i64,
    ) -> Result<Vec<Box<dyn Query>>, SearchError> {
        let f = &self.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        match &flt.keyword {
            Some(KeywordMatch::Whole(k)) => out.push(text_term(f.kw, k)),
            Some(KeywordMatch::Value(v)) => out.push(text_term(f.kw_value, v)),
            Some(KeywordMatch::Namespace(ns)) => out.push(text_term(f.kw_ns, ns)),
            None => {}
        }
        if let Some(r) = flt.rating {
            out.push(i64_range(f.rating, Some(r), Some(r)));
        }
        if let Some(r) = flt.min_rating {
            out.push(i64_range(f.rating, Some(r), None));
        }
        match (&flt.exif_property, &flt.exif_value) {
            (Some(p), Some(v)) => out.push(text_term(f.exif, &format!("{p}{SEP}{v}"))),
            (Some(p), None) => out.push(text_term(f.exif_prop, p)),
            (None, Some(_)) => {
                return Err(SearchError::InvalidFilter(
                    "exif_value requires exif_property",
                ));
            }
            (None, None) => {}
        }
        if !flt.live_in_any.is_empty() {
            out.push(Box::new(BooleanQuery::new(
                flt.live_in_any
                    .iter()
                    .map(|set| (TOccur::Should, live_in(f, set, now)))
                    .collect(),
            )));
        }
        for (field, from, to) in [
            (f.created_at, flt.created_at_from, flt.created_at_to),
            (f.updated_at, flt.updated_at_from, flt.updated_at_to),
            (
                f.creation_date,
                flt.creation_date_from,
                flt.creation_date_to,
            ),
        ] {
            if from.is_some() || to.is_some() {
                out.push(i64_range(field, from, to));
            }
        }
        match (&flt.set, flt.live) {
            (Some(set), None) => out.push(text_term(f.set, set)),
            (Some(set), Some(wanted)) => {
                let live = live_in(f, set, now);
                if wanted {
                    out.push(live);
                } else {
                    out.push(Box::new(BooleanQuery::new(vec![
                        (TOccur::Must, text_term(f.set, set)),
                        (TOccur::MustNot, live),
                    ])));
                }
            }
            (None, Some(_)) => {
                return Err(SearchError::InvalidFilter("live requires set"));
            }
            (None, None) => {}
        }
        if let Some(v) = flt.has_video {
            out.push(term_query(Term::from_field_u64(f.is_video, u64::from(v))));
        }
        if let Some(g) = flt.has_geo {
            out.push(term_query(Term::from_field_u64(f.has_geo, u64::from(g))));
        }
        if let Some(b) = flt.bbox {
            out.push(f64_range(f.lat, b.south, b.north));
            if b.west <= b.east {
                out.push(f64_range(f.lng, b.west, b.east));
            } else {
                out.push(Box::new(BooleanQuery::new(vec![
                    (TOccur::Should, f64_range(f.lng, b.west, f64::INFINITY)),
                    (TOccur::Should, f64_range(f.lng, f64::NEG_INFINITY, b.east)),
                ])));
            }
        }
        Ok(out)
    }
}

/// Images live at `now` in `set`: their `set_live` token for the set is
/// in the range "live from 0 (always) to now".
fn live_in(f: &schema::Fields, set: &str, now: i64) -> Box<dyn Query> {
    let bound = |t: i64| {
        Bound::Included(Term::from_field_text(
            f.set_live,
            &schema::live_set_term(set, t),
        ))
    };
    Box::new(RangeQuery::new(bound(0), bound(now)))
}

fn zero(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(q, 0.0))
}

fn term_query(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

fn text_term(field: Field, text: &str) -> Box<dyn Query> {
    term_query(Term::from_field_text(field, text))
}

fn i64_range(field: Field, from: Option<i64>, to: Option<i64>) -> Box<dyn Query> {
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        return Box::new(EmptyQuery);
    }
    let bound = |v: Option<i64>| match v {
        Some(v) => Bound::Included(Term::from_field_i64(field, v)),
        None => Bound::Unbounded,
    };
    match (from, to) {
        (None, None) => Box::new(AllQuery),
        _ => Box::new(RangeQuery::new(bound(from), bound(to))),
    }
}

/// Inclusive f64 range; infinite ends become open bounds. NaN or an empty
/// range matches nothing.
fn f64_range(field: Field, from: f64, to: f64) -> Box<dyn Query> {
    if from.is_nan() || to.is_nan() || from > to {
        return Box::new(EmptyQuery);
    }
    let bound = |v: f64| {
        if v.is_infinite() {
            Bound::Unbounded
        } else {
            Bound::Included(Term::from_field_f64(field, v))
        }
    };
    match (bound(from), bound(to)) {
        (Bound::Unbounded, Bound::Unbounded) => Box::new(AllQuery),
        (lo, hi) => Box::new(RangeQuery::new(lo, hi)),
    }
}

/// Top `k` by (order key, image_id). Within a segment the image_id term
/// ordinal sorts like the string, so segments keep ordinals and only their
/// own top `k` are turned into strings for the final merge.
struct TopCollector {
    order: Sort,
    k: usize,
    scored: bool,
}

/// Bigger is better: `[primary, secondary, id ordinal (negated for asc)]`.
type Key = [i64; 3];

struct TopSegment {
    order: Sort,
    k: usize,
    created: Column<i64>,
    taken: Column<i64>,
    ids: Option<StrColumn>,
    heap: BinaryHeap<Reverse<Key>>,
}

/// `f32` to `i64` preserving `total_cmp` order.
fn score_key(s: Score) -> i64 {
    let b = s.to_bits() as i32;
    i64::from(b ^ ((((b >> 31) as u32) >> 1) as i32))
}

impl Collector for TopCollector {
    type Fruit = Vec<String>;
    type Child = TopSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<TopSegment> {
        let ff = seg.fast_fields();
        Ok(TopSegment {
            order: self.order,
            k: self.k,
            created: ff.i64(names::CREATED_AT)?,
            taken: ff.i64(names::CREATION_DATE)?,
            ids: ff.str(names::IMAGE_ID)?,
            heap: BinaryHeap::with_capacity(self.k.min(4096) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(Key, String)>>) -> tantivy::Result<Vec<String>> {
        let mut all: Vec<(Key, String)> = fruits.into_iter().flatten().collect();
        let asc_id = self.order == Sort::Oldest;
        all.sort_by(|(ka, ia), (kb, ib)| {
            kb[..2]
                .cmp(&ka[..2])
                .then_with(|| if asc_id { ia.cmp(ib) } else { ib.cmp(ia) })
        });
        all.truncate(self.k);
        Ok(all.into_iter().map(|(_, id)| id).collect())
    }
}

impl SegmentCollector for TopSegment {
    type Fruit = Vec<(Key, String)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let created = self.created.first(doc).unwrap_or(0);
        let (a, b) = match self.order {
            Sort::Relevance => (score_key(score), created),
            Sort::Newest => (created, 0),
            Sort::Oldest => (created.saturating_neg(), 0),
            // Undated images sort after every date.
            Sort::Taken => (self.taken.first(doc).unwrap_or(i64::MIN), created),
        };
        if self.heap.len() >= self.k
            && let Some(Reverse(worst)) = self.heap.peek()
            && [a, b] < [worst[0], worst[1]]
        {
            return;
        }
        let Some(ord) = self.ids.as_ref().and_then(|c| c.ords().first(doc)) else {
            return;
        };
        let ord = i64::try_from(ord).unwrap_or(i64::MAX);
        let id_key = if self.order == Sort::Oldest {
            -ord
        } else {
            ord
        };
        let key = [a, b, id_key];
        if self.heap.len() < self.k {
            self.heap.push(Reverse(key));
        } else if let Some(Reverse(worst)) = self.heap.peek()
            && key > *worst
        {
            self.heap.pop();
            self.heap.push(Reverse(key));
        }
    }

    fn harvest(self) -> Vec<(Key, String)> {
        let Some(ids) = self.ids else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(self.heap.len());
        let mut s = String::new();
        for Reverse(key) in self.heap {
            let ord = if self.order == Sort::Oldest {
                -key[2]
            } else {
                key[2]
            };
            s.clear();
            if let Ok(true) = ids.ord_to_str(ord as u64, &mut s) {
                out.push((key, s.clone()));
            }
        }
        out
    }
}
