//! Rough throughput check: index N synthetic images, then time queries and facets.
//!
//! `cargo run --release --example throughput -- 200000`

use std::time::{Duration, Instant};

use lightbox_query::{ImageQuery, Sort};
use lightbox_search::{DocKeyword, FacetField, ImageDoc, SearchIndex, parse};

/// Tiny deterministic generator; no `rand` dependency for one example.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "concert", "lake", "sunset", "mountain", "beach", "city", "portrait", "street", "night",
    "festival", "river", "forest", "snow", "bridge", "market", "family", "wedding", "dog", "cat",
    "car", "train", "harbour", "zürich", "paris", "tokyo", "red", "blue", "green", "old", "new",
];

fn word(r: &mut Lcg) -> String {
    // A Zipf-ish mix of common words and a long tail.
    if r.below(3) > 0 {
        WORDS[r.below(WORDS.len() as u64) as usize].to_string()
    } else {
        format!("w{}", r.below(20_000))
    }
}

fn synth(i: u64, r: &mut Lcg) -> ImageDoc {
    let base = 1_600_000_000_000_000i64;
    let created = base + (i as i64) * 60_000_000 + r.below(1_000_000) as i64;
    let kws: Vec<DocKeyword> = (0..r.below(6))
        .map(|_| match r.below(3) {
            0 => DocKeyword::parse(&format!("artist:{}", word(r))),
            1 => DocKeyword::parse(&format!("place:{}", word(r))),
            _ => DocKeyword::parse(&word(r)),
        })
        .collect();
    ImageDoc {
        account_id: if i % 10 == 9 {
            "other".into()
        } else {
            "acct".into()
        },
        image_id: format!("{:08x}-0000-4000-8000-{:012x}", i, r.next()),
        title: (0..3).map(|_| word(r)).collect::<Vec<_>>().join(" "),
        description: (0..8).map(|_| word(r)).collect::<Vec<_>>().join(" "),
        filename: format!("IMG_{:04}.jpg", r.below(10_000)),
        keywords: kws,
        metadata_text: vec![word(r), word(r)],
        exif: vec![
            ("Model".into(), format!("M{}", r.below(30))),
            ("Make".into(), format!("Make{}", r.below(8))),
        ],
        created_at: created,
        updated_at: created + 1000,
        creation_date: (r.below(5) > 0).then(|| created - r.below(400 * 86_400) as i64 * 1_000_000),
        rating: r.below(6) as i64,
        is_video: r.below(20) == 0,
        geo: (r.below(3) == 0).then(|| (r.below(180) as f64 - 90.0, r.below(360) as f64 - 180.0)),
        sets: (0..r.below(3))
            .map(|_| format!("set-{}", r.below(50)))
            .collect(),
        live_sets: Vec::new(),
    }
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir()?;
    let opened = SearchIndex::open(dir.path())?;
    let idx = opened.index;
    let mut r = Lcg(42);
    let start = Instant::now();
    let docs = (0..n).map(|i| Ok::<_, std::io::Error>(synth(i, &mut r)));
    idx.rebuild(docs, 1)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "indexed {n} docs in {secs:.1}s: {:.0} docs/s",
        n as f64 / secs
    );

    let cases: Vec<(&str, Option<&str>, ImageQuery, Sort)> = vec![
        (
            "word relevance",
            Some("concert"),
            ImageQuery::default(),
            Sort::Relevance,
        ),
        (
            "two words",
            Some("lake sunset"),
            ImageQuery::default(),
            Sort::Relevance,
        ),
        (
            "phrase",
            Some("\"red car\""),
            ImageQuery::default(),
            Sort::Relevance,
        ),
        (
            "prefix",
            Some("moun*"),
            ImageQuery::default(),
            Sort::Relevance,
        ),
        (
            "must+exclude",
            Some("+beach -dog"),
            ImageQuery::default(),
            Sort::Relevance,
        ),
        ("no query newest", None, ImageQuery::default(), Sort::Newest),
        ("no query taken", None, ImageQuery::default(), Sort::Taken),
        (
            "filter min_rating",
            None,
            ImageQuery {
                min_rating: Some(4),
                ..ImageQuery::default()
            },
            Sort::Newest,
        ),
        (
            "word + filter",
            Some("city"),
            ImageQuery {
                has_geo: Some(true),
                ..ImageQuery::default()
            },
            Sort::Relevance,
        ),
    ];
    for (name, q, f, order) in &cases {
        let parsed = q.map(parse).transpose()?;
        let mut times = Vec::new();
        for i in 0..100 {
            let t = Instant::now();
            let hits = idx.search(
                "acct",
                parsed.as_ref(),
                &sorted(f, *order),
                0,
                50,
                (i % 3) * 50,
            )?;
            times.push(t.elapsed());
            std::hint::black_box(hits);
        }
        println!(
            "search {name:<20} p50 {:6.2} ms  p99 {:6.2} ms",
            pct(times.clone(), 0.5),
            pct(times, 0.99)
        );
    }
    let fields: Vec<FacetField> = [
        "rating",
        "namespace",
        "keyword",
        "keyword:artist",
        "exif:Model",
        "creation_year",
        "creation_month",
        "has_geo",
        "has_video",
        "set",
    ]
    .iter()
    .filter_map(|s| FacetField::parse(s))
    .collect();
    for (name, q) in [("facets all docs", None), ("facets query", Some("concert"))] {
        let parsed = q.map(parse).transpose()?;
        let mut times = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let f = idx.facets("acct", parsed.as_ref(), &ImageQuery::default(), 0, &fields)?;
            times.push(t.elapsed());
            std::hint::black_box(f);
        }
        println!(
            "{name:<27} p50 {:6.2} ms  p99 {:6.2} ms",
            pct(times.clone(), 0.5),
            pct(times, 0.99)
        );
    }
    Ok(())
}

/// `f` in `sort` order.
fn sorted(f: &ImageQuery, sort: Sort) -> ImageQuery {
    ImageQuery { sort, ..f.clone() }
}
