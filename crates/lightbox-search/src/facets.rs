//! Facet counts over the matching set, read from fast-field columns.
//!
//! String columns are counted by term ordinal into a dense per-segment array,
//! and only the non-zero ordinals are turned back into strings (in one sorted
//! sweep of the column dictionary) before merging segments by string. A
//! `keyword:<ns>` or `exif:<p>` facet only looks at the contiguous ordinal
//! range of its prefix, since column dictionaries are sorted. No per-document
//! allocation, no doc-store reads.

use std::collections::HashMap;
use std::ops::Bound;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::schema::{SEP, names};

/// Most values returned per facet field.
pub const MAX_FACET_VALUES: usize = 100;

/// A facet the caller can ask for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FacetField {
    /// `rating`: Int per rating.
    Rating,
    /// `namespace`: Text per keyword namespace.
    Namespace,
    /// `keyword`: Text per whole keyword.
    Keyword,
    /// `keyword:<ns>`: whole keywords of that namespace only.
    KeywordIn(String),
    /// `exif:<property>`: Text per value of that property.
    Exif(String),
    /// `creation_year`: Int; undated images are not counted.
    CreationYear,
    /// `creation_month`: Text `YYYY-MM`; undated images are not counted.
    CreationMonth,
    /// `has_geo`: Bool, both buckets always present.
    HasGeo,
    /// `has_video`: Bool, both buckets always present.
    HasVideo,
    /// `set`: Text per set uuid.
    Set,
}

impl FacetField {
    /// Parses the `fields=` names of `GET /v1/facets`.
    pub fn parse(s: &str) -> Option<FacetField> {
        Some(match s {
            "rating" => FacetField::Rating,
            "namespace" => FacetField::Namespace,
            "keyword" => FacetField::Keyword,
            "creation_year" => FacetField::CreationYear,
            "creation_month" => FacetField::CreationMonth,
            "has_geo" => FacetField::HasGeo,
            "has_video" => FacetField::HasVideo,
            "set" => FacetField::Set,
            _ => {
                if let Some(ns) = s.strip_prefix("keyword:").filter(|n| !n.is_empty()) {
                    FacetField::KeywordIn(ns.to_string())
                } else if let Some(p) = s.strip_prefix("exif:").filter(|p| !p.is_empty()) {
                    FacetField::Exif(p.to_string())
                } else {
                    return None;
                }
            }
        })
    }

    /// The name [`FacetField::parse`] accepts.
    pub fn name(&self) -> String {
        match self {
            FacetField::Rating => "rating".into(),
            FacetField::Namespace => "namespace".into(),
            FacetField::Keyword => "keyword".into(),
            FacetField::KeywordIn(ns) => format!("keyword:{ns}"),
            FacetField::Exif(p) => format!("exif:{p}"),
            FacetField::CreationYear => "creation_year".into(),
            FacetField::CreationMonth => "creation_month".into(),
            FacetField::HasGeo => "has_geo".into(),
            FacetField::HasVideo => "has_video".into(),
            FacetField::Set => "set".into(),
        }
    }
}

/// A facet bucket value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacetValue {
    Int(i64),
    Text(String),
    Bool(bool),
}

/// One bucket: how many matching images have `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    pub value: FacetValue,
    pub count: u64,
}

/// Counts every requested field in one pass over the matching documents.
pub(crate) struct FacetCollector {
    pub fields: Vec<FacetField>,
}

/// First year with a dense month slot; other years fall back to a map.
const DENSE_FIRST_YEAR: u64 = 1800;
const DENSE_YEARS: u64 = 400;

enum Counter {
    Rating {
        col: Column<i64>,
        dense: [u64; 6],
        other: HashMap<i64, u64>,
    },
    Str {
        col: tantivy::columnar::StrColumn,
        /// First ordinal of the range counted.
        lo: u64,
        counts: Vec<u64>,
        /// Bytes to strip from each term (the `ns SEP` / `p SEP` prefix).
        strip: usize,
    },
    Month {
        col: Column<u64>,
        dense: Vec<u64>,
        other: HashMap<u64, u64>,
        year_only: bool,
    },
    Bool {
        col: Column<u64>,
        counts: [u64; 2],
    },
    /// The segment has no column for this field: nothing to count.
    Missing,
}

pub(crate) struct FacetSegment {
    counters: Vec<Counter>,
    /// Scratch for a block of documents (no allocation per block).
    docs_out: Vec<DocId>,
    rows: Vec<u32>,
    values: Vec<u64>,
    signed: Vec<i64>,
}

/// The values of a block of documents, read column-wise (much faster than
/// document by document); `rows`/`docs_out` are scratch.
fn block_values<T: Copy + Default + PartialOrd + std::fmt::Debug + Send + Sync + 'static>(
    col: &Column<T>,
    docs: &[DocId],
    docs_out: &mut Vec<DocId>,
    rows: &mut Vec<u32>,
    out: &mut Vec<T>,
) {
    docs_out.clear();
    rows.clear();
    col.row_ids_for_docs(docs, docs_out, rows);
    out.clear();
    out.resize(rows.len(), T::default());
    col.values.get_vals(rows, out);
}

type Fruit = Vec<Vec<(FacetValue, u64)>>;

impl Collector for FacetCollector {
    type Fruit = Vec<(FacetField, Vec<FacetCount>)>;
    type Child = FacetSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<FacetSegment> {
        let ff = seg.fast_fields();
        let mut counters = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let str_counter = |name: &str, prefix: Option<String>| -> tantivy::Result<Counter> {
                let Some(col) = ff.str(name)? else {
                    return Ok(Counter::Missing);
                };
                let (lo, hi, strip) = match prefix {
                    None => (0, col.num_terms() as u64, 0),
                    Some(p) => {
                        let mut upper = p.clone().into_bytes();
                        upper.push(0xff);
                        let (l, h) = col.dictionary().term_bounds_to_ord(
                            Bound::Included(p.as_bytes()),
                            Bound::Excluded(&upper[..]),
                        )?;
                        let lo = match l {
                            Bound::Included(o) => o,
                            Bound::Excluded(o) => o + 1,
                            Bound::Unbounded => 0,
                        };
                        let hi = match h {
                            Bound::Included(o) => o + 1,
                            Bound::Excluded(o) => o,
                            Bound::Unbounded => col.num_terms() as u64,
                        };
                        (lo, hi.max(lo), p.len())
                    }
                };
                let n = usize::try_from(hi - lo).unwrap_or(0);
                Ok(Counter::Str {
                    col,
                    lo,
                    counts: vec![0; n],
                    strip,
                })
            };
            let counter = match field {
                FacetField::Rating => Counter::Rating {
                    col: ff.i64(names::RATING)?,
                    dense: [0; 6],
                    other: HashMap::new(),
                },
                FacetField::Namespace => str_counter(names::KW_NS, None)?,
                FacetField::Keyword => str_counter(names::KW, None)?,
                FacetField::KeywordIn(ns) => {
                    str_counter(names::KW_BY_NS, Some(format!("{ns}{SEP}")))?
                }
                FacetField::Exif(p) => str_counter(names::EXIF, Some(format!("{p}{SEP}")))?,
                FacetField::Set => str_counter(names::SET, None)?,
                FacetField::CreationYear | FacetField::CreationMonth => Counter::Month {
                    col: ff.u64(names::TAKEN_MONTH)?,
                    dense: vec![0; (DENSE_YEARS * 100) as usize],
                    other: HashMap::new(),
                    year_only: *field == FacetField::CreationYear,
                },
                FacetField::HasGeo => Counter::Bool {
                    col: ff.u64(names::HAS_GEO)?,
                    counts: [0; 2],
                },
                FacetField::HasVideo => Counter::Bool {
                    col: ff.u64(names::IS_VIDEO)?,
                    counts: [0; 2],
                },
            };
            counters.push(counter);
        }
        Ok(FacetSegment {
            counters,
            docs_out: Vec::new(),
            rows: Vec::new(),
            values: Vec::new(),
            signed: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut merged: Vec<HashMap<FacetValue, u64>> = vec![HashMap::new(); self.fields.len()];
        for fruit in fruits {
            for (i, values) in fruit.into_iter().enumerate() {
                if let Some(m) = merged.get_mut(i) {
                    for (v, c) in values {
                        *m.entry(v).or_insert(0) += c;
                    }
                }
            }
        }
        Ok(self
            .fields
            .iter()
            .zip(merged)
            .map(|(field, mut m)| {
                if matches!(field, FacetField::HasGeo | FacetField::HasVideo) {
                    m.entry(FacetValue::Bool(true)).or_insert(0);
                    m.entry(FacetValue::Bool(false)).or_insert(0);
                }
                let mut counts: Vec<FacetCount> = m
                    .into_iter()
                    .map(|(value, count)| FacetCount { value, count })
                    .collect();
                counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                counts.truncate(MAX_FACET_VALUES);
                (field.clone(), counts)
            })
            .collect())
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Fruit;

    fn collect_block(&mut self, docs: &[DocId]) {
        let (docs_out, rows, values, signed) = (
            &mut self.docs_out,
            &mut self.rows,
            &mut self.values,
            &mut self.signed,
        );
        for c in &mut self.counters {
            match c {
                Counter::Rating { col, dense, other } => {
                    block_values(col, docs, docs_out, rows, signed);
                    for &r in signed.iter() {
                        match usize::try_from(r).ok().and_then(|i| dense.get_mut(i)) {
                            Some(slot) => *slot += 1,
                            None => *other.entry(r).or_insert(0) += 1,
                        }
                    }
                }
                Counter::Str {
                    col, lo, counts, ..
                } => {
                    block_values(col.ords(), docs, docs_out, rows, values);
                    for &ord in values.iter() {
                        if let Some(slot) = ord
                            .checked_sub(*lo)
                            .and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| counts.get_mut(i))
                        {
                            *slot += 1;
                        }
                    }
                }
                Counter::Month {
                    col, dense, other, ..
                } => {
                    block_values(col, docs, docs_out, rows, values);
                    for &m in values.iter() {
                        if m == 0 {
                            continue;
                        }
                        let slot = m
                            .checked_sub(DENSE_FIRST_YEAR * 100)
                            .and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| dense.get_mut(i));
                        match slot {
                            Some(s) => *s += 1,
                            None => *other.entry(m).or_insert(0) += 1,
                        }
                    }
                }
                Counter::Bool { col, counts } => {
                    block_values(col, docs, docs_out, rows, values);
                    for &v in values.iter() {
                        counts[usize::from(v != 0)] += 1;
                    }
                }
                Counter::Missing => {}
            }
        }
    }

    fn collect(&mut self, doc: DocId, _score: Score) {
        for c in &mut self.counters {
            match c {
                Counter::Rating { col, dense, other } => {
                    for r in col.values_for_doc(doc) {
                        match usize::try_from(r).ok().and_then(|i| dense.get_mut(i)) {
                            Some(slot) => *slot += 1,
                            None => *other.entry(r).or_insert(0) += 1,
                        }
                    }
                }
                Counter::Str {
                    col, lo, counts, ..
                } => {
                    for ord in col.ords().values_for_doc(doc) {
                        if let Some(slot) = ord
                            .checked_sub(*lo)
                            .and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| counts.get_mut(i))
                        {
                            *slot += 1;
                        }
                    }
                }
                Counter::Month {
                    col, dense, other, ..
                } => {
                    for m in col.values_for_doc(doc) {
                        if m == 0 {
                            continue;
                        }
                        let slot = m
                            .checked_sub(DENSE_FIRST_YEAR * 100)
                            .and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| dense.get_mut(i));
                        match slot {
                            Some(s) => *s += 1,
                            None => *other.entry(m).or_insert(0) += 1,
                        }
                    }
                }
                Counter::Bool { col, counts } => {
                    for v in col.values_for_doc(doc) {
                        counts[usize::from(v != 0)] += 1;
                    }
                }
                Counter::Missing => {}
            }
        }
    }

    fn harvest(self) -> Fruit {
        self.counters.into_iter().map(harvest_counter).collect()
    }
}

fn harvest_counter(c: Counter) -> Vec<(FacetValue, u64)> {
    match c {
        Counter::Rating { dense, other, .. } => (0i64..)
            .zip(dense)
            .chain(other)
            .filter(|&(_, n)| n > 0)
            .map(|(r, n)| (FacetValue::Int(r), n))
            .collect(),
        Counter::Str {
            col,
            lo,
            counts,
            strip,
        } => {
            let nonzero: Vec<(u64, u64)> = (lo..).zip(counts).filter(|&(_, n)| n > 0).collect();
            let mut out = Vec::with_capacity(nonzero.len());
            let mut idx = 0;
            // A dictionary read error leaves the facet short rather than failing the request.
            let _ =
                col.dictionary()
                    .sorted_ords_to_term_cb(nonzero.iter().map(|&(o, _)| o), |bytes| {
                        let text = String::from_utf8_lossy(bytes.get(strip..).unwrap_or_default());
                        if let Some(&(_, n)) = nonzero.get(idx) {
                            out.push((FacetValue::Text(text.into_owned()), n));
                        }
                        idx += 1;
                        Ok(())
                    });
            out
        }
        Counter::Month {
            dense,
            other,
            year_only,
            ..
        } => {
            let months = (DENSE_FIRST_YEAR * 100..)
                .zip(dense)
                .chain(other)
                .filter(|&(_, n)| n > 0);
            if year_only {
                let mut years: HashMap<u64, u64> = HashMap::new();
                for (m, n) in months {
                    *years.entry(m / 100).or_insert(0) += n;
                }
                years
                    .into_iter()
                    .map(|(y, n)| (FacetValue::Int(i64::try_from(y).unwrap_or(i64::MAX)), n))
                    .collect()
            } else {
                months
                    .map(|(m, n)| {
                        (
                            FacetValue::Text(format!("{:04}-{:02}", m / 100, m % 100)),
                            n,
                        )
                    })
                    .collect()
            }
        }
        Counter::Bool { counts, .. } => vec![
            (FacetValue::Bool(false), counts[0]),
            (FacetValue::Bool(true), counts[1]),
        ],
        Counter::Missing => Vec::new(),
    }
}
