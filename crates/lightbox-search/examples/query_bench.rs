//! Times searches and facets directly on an index directory (no server), so
//! `bench/search.sh` can set the API's figures beside the index's own.
//!
//! `query_bench <index dir> <account id> [iterations]`, mixes on stdin, one
//! per line, tab-separated: `search<TAB>name<TAB>query<TAB>extra` (extra:
//! `min_rating=N`, `has_geo=true`, `sort=newest`, or empty) or
//! `facets<TAB>name<TAB>query<TAB>fields` (query may be empty). Prints
//! `name<TAB>p50 ms<TAB>p99 ms<TAB>hits` per mix on stdout.

use std::io::BufRead;
use std::time::Instant;

use lightbox_query::{ImageQuery, Sort};
use lightbox_search::{FacetField, SearchIndex, parse};

type BoxError = Box<dyn std::error::Error>;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("index dir")?;
    let account = args.next().ok_or("account id")?;
    let iterations: usize = args.next().map_or(Ok(200), |n| n.parse())?;
    let opened = SearchIndex::open(std::path::Path::new(&dir))?;
    let index = opened.index;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let parts: Vec<&str> = line.split('\t').collect();
        let [kind, name, query, extra] = parts[..] else {
            continue;
        };
        let parsed = if query.is_empty() {
            None
        } else {
            Some(parse(query)?)
        };
        let mut filter = ImageQuery::default();
        let mut order = if parsed.is_some() {
            Sort::Relevance
        } else {
            Sort::Newest
        };
        let mut fields = Vec::new();
        if kind == "facets" {
            for f in extra.split(',') {
                fields.push(FacetField::parse(f).ok_or("facet field")?);
            }
        } else {
            match extra.split_once('=') {
                Some(("min_rating", n)) => filter.min_rating = Some(n.parse()?),
                Some(("has_geo", b)) => filter.has_geo = Some(b == "true"),
                Some(("sort", "newest")) => order = Sort::Newest,
                _ => {}
            }
        }
        let mut times = Vec::with_capacity(iterations);
        let mut hits = 0usize;
        for i in 0..iterations + iterations / 10 {
            let started = Instant::now();
            if kind == "facets" {
                let counted = index.facets(&account, parsed.as_ref(), &filter, 0, &fields)?;
                hits = counted.iter().map(|(_, v)| v.len()).sum();
            } else {
                // As the API asks: a page of 50 and one more.
                hits = index
                    .search(&account, parsed.as_ref(), &sorted(&filter, order), 0, 51, 0)?
                    .len();
            }
            if i >= iterations / 10 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}\t{:.2}\t{:.2}\t{hits}",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    Ok(())
}

/// `f` in `sort` order.
fn sorted(f: &ImageQuery, sort: Sort) -> ImageQuery {
    ImageQuery { sort, ..f.clone() }
}
