//! Semantics tests on a crafted corpus, checked against brute force where possible.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use proptest::prelude::*;
use time::{Date, Month, OffsetDateTime};

use crate::*;
use lightbox_query::{GeoBox, ImageQuery, KeywordMatch, Sort};

const DAY: i64 = 86_400_000_000;
const HOUR: i64 = 3_600_000_000;

fn ts(y: i32, m: u8, d: u8, h: u8) -> i64 {
    let date = Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap();
    date.with_hms(h, 0, 0)
        .unwrap()
        .assume_utc()
        .unix_timestamp()
        * 1_000_000
}

/// 2026-07-14 10:00 UTC, a Tuesday.
fn t0() -> i64 {
    ts(2026, 7, 14, 10)
}

fn doc(account: &str, id: &str, title: &str, created: i64) -> ImageDoc {
    ImageDoc {
        account_id: account.into(),
        image_id: id.into(),
        title: title.into(),
        created_at: created,
        updated_at: created + 1000,
        ..ImageDoc::default()
    }
}

fn kws(list: &[&str]) -> Vec<DocKeyword> {
    list.iter().map(|k| DocKeyword::parse(k)).collect()
}

fn corpus() -> Vec<ImageDoc> {
    let t = t0();
    let mut v = Vec::new();
    let mut d = doc("A", "a01", "Concert at the lake", t);
    d.filename = "IMG_1234.jpg".into();
    d.keywords = kws(&["artist:Marina", "music"]);
    d.metadata_text = vec!["Zürich".into()];
    d.exif = vec![
        ("Model".into(), "X-T5".into()),
        ("Make".into(), "Fujifilm".into()),
    ];
    d.creation_date = Some(t);
    d.rating = 5;
    d.geo = Some((47.37, 8.54));
    d.sets = vec!["s1".into()];
    v.push(d);
    let mut d = doc("A", "a02", "Lake sunset", t + DAY);
    d.description = "a concert happened".into();
    d.filename = "DSC_0001.jpg".into();
    d.keywords = kws(&["sunset"]);
    d.exif = vec![("Model".into(), "X-T5".into())];
    d.creation_date = Some(ts(2025, 3, 2, 12));
    d.rating = 3;
    d.sets = vec!["s1".into(), "s2".into()];
    v.push(d);
    let mut d = doc("A", "a03", "Red car", t + 2 * DAY);
    d.description = "the car is red".into();
    d.filename = "car.png".into();
    d.keywords = kws(&["vehicle:car"]);
    v.push(d);
    let mut d = doc("A", "a04", "car red", t + 3 * DAY);
    d.filename = "car_red.png".into();
    d.creation_date = Some(ts(2026, 1, 1, 0));
    d.rating = 1;
    v.push(d);
    let mut d = doc("A", "a05", "Fiji beach", t + 4 * DAY);
    d.geo = Some((-17.7, 178.0));
    d.is_video = true;
    d.keywords = kws(&["place:Fiji"]);
    d.rating = 4;
    d.creation_date = Some(ts(2024, 12, 31, 12));
    v.push(d);
    let mut d = doc("A", "a06", "Samoa", t + 5 * DAY);
    d.geo = Some((-13.8, -172.1));
    d.keywords = kws(&["place:Samoa"]);
    d.rating = 4;
    v.push(d);
    v.push(doc("A", "a07", "Rock'n'roll night", t + 6 * DAY));
    let mut d = doc("A", "a08", "Wildlife", t + 7 * DAY);
    d.description = "wildcat and wilderness".into();
    d.keywords = kws(&["animal:cat"]);
    v.push(d);
    let mut d = doc("A", "a09", "Untitled", t + 7 * DAY + HOUR);
    d.description = "Marina at the beach".into();
    v.push(d);
    let mut d = doc("A", "a10", "Mountain", t - 30 * DAY);
    d.creation_date = Some(t - 30 * DAY);
    d.rating = 2;
    d.geo = Some((46.0, 7.0));
    d.exif = vec![("Make".into(), "Canon".into())];
    d.sets = vec!["s2".into()];
    v.push(d);
    v.push(doc("A", "a11", "Duplicate time A", t + 8 * DAY));
    v.push(doc("A", "a12", "Duplicate time B", t + 8 * DAY));
    let mut d = doc("A", "a13", "dog", t + 9 * DAY);
    d.is_video = true;
    d.creation_date = Some(t + 9 * DAY);
    v.push(d);
    let mut d = doc("B", "b01", "Concert at the lake", t);
    d.keywords = kws(&["artist:Marina"]);
    d.sets = vec!["s1".into()];
    v.push(d);
    let mut d = doc("B", "b02", "Zürich", t);
    d.rating = 5;
    v.push(d);
    v
}

/// Built in three commits, so collectors see several segments.
fn build_index() -> SearchIndex {
    let idx = SearchIndex::open_in_memory().unwrap();
    let c = corpus();
    idx.apply(c[..5].to_vec(), &[], 1).unwrap();
    idx.apply(c[5..10].to_vec(), &[], 2).unwrap();
    idx.apply(c[10..].to_vec(), &[], 3).unwrap();
    idx
}

fn shared() -> &'static SearchIndex {
    static IDX: OnceLock<SearchIndex> = OnceLock::new();
    IDX.get_or_init(build_index)
}

/// `f` in `sort` order.
fn sorted(f: &ImageQuery, sort: Sort) -> ImageQuery {
    ImageQuery { sort, ..f.clone() }
}

fn search(q: Option<&str>, f: &ImageQuery, order: Sort) -> Vec<String> {
    let parsed = q.map(|q| parse(q).unwrap());
    shared()
        .search("A", parsed.as_ref(), &sorted(f, order), 0, 1000, 0)
        .unwrap()
}

fn set(q: &str) -> BTreeSet<String> {
    search(Some(q), &ImageQuery::default(), Sort::Relevance)
        .into_iter()
        .collect()
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn all_a_except(ex: &[&str]) -> BTreeSet<String> {
    corpus()
        .into_iter()
        .filter(|d| d.account_id == "A" && !ex.contains(&d.image_id.as_str()))
        .map(|d| d.image_id)
        .collect()
}

#[test]
fn words_and_operators() {
    assert_eq!(set("concert"), ids(&["a01", "a02"]));
    let r = search(Some("lake sunset"), &ImageQuery::default(), Sort::Relevance);
    assert_eq!(r, vec!["a02", "a01"], "doc with both words first");
    assert_eq!(set("+lake sunset"), ids(&["a01", "a02"]));
    assert_eq!(set("+lake -sunset"), ids(&["a01"]));
    assert_eq!(set("+lake +sunset"), ids(&["a02"]));
    assert_eq!(set("-car"), all_a_except(&["a03", "a04"]));
    assert_eq!(
        set("-car -lake"),
        all_a_except(&["a01", "a02", "a03", "a04"])
    );
    assert_eq!(set("nothingmatches"), ids(&[]));
    assert_eq!(set("!!!"), ids(&[]));
    assert_eq!(set("-!!!"), all_a_except(&[]));
}

#[test]
fn phrases_prefixes_folding() {
    assert_eq!(set("\"red car\""), ids(&["a03"]));
    assert_eq!(set("red car"), ids(&["a03", "a04"]));
    assert_eq!(set("-\"red car\" +car"), ids(&["a04"]));
    assert_eq!(set("wild*"), ids(&["a08"]));
    assert_eq!(set("conc*"), ids(&["a01", "a02"]));
    assert_eq!(set("WILDC*"), ids(&["a08"]));
    assert_eq!(set("zurich"), ids(&["a01"]));
    assert_eq!(set("ZÜRICH"), ids(&["a01"]));
    assert_eq!(set("CONCERT"), ids(&["a01", "a02"]));
    assert_eq!(set("rock'n'roll"), ids(&["a07"]));
    assert_eq!(set("artist:Marina"), ids(&["a01"]));
    assert_eq!(set("artist:mar*"), ids(&["a01"]));
    assert_eq!(set("Marina"), ids(&["a01", "a09"]));
    assert_eq!(set("1234"), ids(&["a01"]));
    assert_eq!(set("img"), ids(&["a01"]));
    assert_eq!(set("dsc"), ids(&["a02"]));
}

#[test]
fn date_forms() {
    assert_eq!(set("2026"), all_a_except(&[]));
    assert_eq!(set("2026-07-14"), ids(&["a01"]));
    assert_eq!(set("2026-07"), all_a_except(&["a10"]));
    assert_eq!(set("july"), all_a_except(&["a10"]));
    assert_eq!(set("2026-06"), ids(&["a10"]));
    assert_eq!(set("2025"), ids(&["a02"]));
    assert_eq!(set("march"), ids(&["a02"]));
    assert_eq!(set("2024"), ids(&["a05"]));
    assert_eq!(set("2026-01"), ids(&["a04"]));
}

#[test]
fn ranking_and_accounts() {
    let r = search(Some("concert"), &ImageQuery::default(), Sort::Relevance);
    assert_eq!(r, vec!["a01", "a02"], "title outranks description");
    let r = search(Some("duplicate"), &ImageQuery::default(), Sort::Relevance);
    assert_eq!(
        r,
        vec!["a12", "a11"],
        "equal scores: created_at desc, id desc"
    );
    let b = shared()
        .search(
            "B",
            Some(&parse("concert").unwrap()),
            &sorted(&ImageQuery::default(), Sort::Relevance),
            0,
            10,
            0,
        )
        .unwrap();
    assert_eq!(b, vec!["b01"]);
    for q in ["zurich", "concert", "marina", "-car", "2026"] {
        assert!(set(q).iter().all(|id| id.starts_with('a')), "{q}");
    }
    assert_eq!(
        shared()
            .count("A", None, &ImageQuery::default(), 0)
            .unwrap(),
        13
    );
    assert_eq!(
        shared()
            .count("B", None, &ImageQuery::default(), 0)
            .unwrap(),
        2
    );
    assert_eq!(
        shared()
            .count("C", None, &ImageQuery::default(), 0)
            .unwrap(),
        0
    );
    let q = parse("-car").unwrap();
    assert_eq!(
        shared()
            .count("A", Some(&q), &ImageQuery::default(), 0)
            .unwrap(),
        11
    );
}

/// SQL semantics of a filter, for brute force.
fn matches(d: &ImageDoc, f: &ImageQuery) -> bool {
    let within = |v: Option<i64>, from: Option<i64>, to: Option<i64>| {
        if from.is_none() && to.is_none() {
            return true;
        }
        v.is_some_and(|v| from.is_none_or(|a| v >= a) && to.is_none_or(|b| v <= b))
    };
    let kw_ok = match &f.keyword {
        None => true,
        Some(KeywordMatch::Whole(k)) => d.keywords.iter().any(|x| &x.keyword == k),
        Some(KeywordMatch::Value(v)) => d.keywords.iter().any(|x| &x.value == v),
        Some(KeywordMatch::Namespace(n)) => {
            d.keywords.iter().any(|x| x.namespace.as_ref() == Some(n))
        }
    };
    let exif_ok = match (&f.exif_property, &f.exif_value) {
        (Some(p), Some(v)) => d.exif.iter().any(|(a, b)| a == p && b == v),
        (Some(p), None) => d.exif.iter().any(|(a, _)| a == p),
        _ => true,
    };
    let bbox_ok = match (f.bbox, d.geo) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(b), Some((lat, lng))) => {
            lat >= b.south
                && lat <= b.north
                && if b.west <= b.east {
                    lng >= b.west && lng <= b.east
                } else {
                    lng >= b.west || lng <= b.east
                }
        }
    };
    kw_ok
        && exif_ok
        && bbox_ok
        && f.rating.is_none_or(|r| d.rating == r)
        && f.min_rating.is_none_or(|r| d.rating >= r)
        && within(Some(d.created_at), f.created_at_from, f.created_at_to)
        && within(Some(d.updated_at), f.updated_at_from, f.updated_at_to)
        && within(d.creation_date, f.creation_date_from, f.creation_date_to)
        && f.has_video.is_none_or(|v| d.is_video == v)
        && f.has_geo.is_none_or(|g| d.geo.is_some() == g)
}

fn filters() -> Vec<(ImageQuery, BTreeSet<String>)> {
    let t = t0();
    let kw = |k| ImageQuery {
        keyword: Some(k),
        ..ImageQuery::default()
    };
    let bbox = |west, south, east, north| ImageQuery {
        bbox: Some(GeoBox {
            west,
            south,
            east,
            north,
        }),
        ..ImageQuery::default()
    };
    vec![
        (ImageQuery::default(), all_a_except(&[])),
        (
            kw(KeywordMatch::Whole("artist:Marina".into())),
            ids(&["a01"]),
        ),
        (kw(KeywordMatch::Whole("Marina".into())), ids(&[])),
        (kw(KeywordMatch::Value("Marina".into())), ids(&["a01"])),
        (kw(KeywordMatch::Value("sunset".into())), ids(&["a02"])),
        (
            kw(KeywordMatch::Namespace("place".into())),
            ids(&["a05", "a06"]),
        ),
        (
            ImageQuery {
                rating: Some(4),
                ..ImageQuery::default()
            },
            ids(&["a05", "a06"]),
        ),
        (
            ImageQuery {
                rating: Some(0),
                ..ImageQuery::default()
            },
            all_a_except(&["a01", "a02", "a04", "a05", "a06", "a10"]),
        ),
        (
            ImageQuery {
                min_rating: Some(3),
                ..ImageQuery::default()
            },
            ids(&["a01", "a02", "a05", "a06"]),
        ),
        (
            ImageQuery {
                exif_property: Some("Model".into()),
                ..ImageQuery::default()
            },
            ids(&["a01", "a02"]),
        ),
        (
            ImageQuery {
                exif_property: Some("Make".into()),
                exif_value: Some("Canon".into()),
                ..ImageQuery::default()
            },
            ids(&["a10"]),
        ),
        (
            ImageQuery {
                exif_property: Some("Make".into()),
                exif_value: Some("canon".into()),
                ..ImageQuery::default()
            },
            ids(&[]),
        ),
        (
            ImageQuery {
                created_at_from: Some(t + DAY),
                created_at_to: Some(t + 3 * DAY),
                ..ImageQuery::default()
            },
            ids(&["a02", "a03", "a04"]),
        ),
        (
            ImageQuery {
                created_at_to: Some(t),
                ..ImageQuery::default()
            },
            ids(&["a01", "a10"]),
        ),
        (
            ImageQuery {
                updated_at_from: Some(t + 9 * DAY + 1000),
                ..ImageQuery::default()
            },
            ids(&["a13"]),
        ),
        (
            ImageQuery {
                creation_date_from: Some(ts(2026, 1, 1, 0)),
                creation_date_to: Some(t),
                ..ImageQuery::default()
            },
            ids(&["a01", "a04", "a10"]),
        ),
        (
            ImageQuery {
                creation_date_to: Some(i64::MAX),
                ..ImageQuery::default()
            },
            ids(&["a01", "a02", "a04", "a05", "a10", "a13"]),
        ),
        (
            ImageQuery {
                has_video: Some(true),
                ..ImageQuery::default()
            },
            ids(&["a05", "a13"]),
        ),
        (
            ImageQuery {
                has_video: Some(false),
                ..ImageQuery::default()
            },
            all_a_except(&["a05", "a13"]),
        ),
        (
            ImageQuery {
                has_geo: Some(true),
                ..ImageQuery::default()
            },
            ids(&["a01", "a05", "a06", "a10"]),
        ),
        (bbox(0.0, 40.0, 10.0, 50.0), ids(&["a01", "a10"])),
        (bbox(7.0, 46.0, 7.0, 46.0), ids(&["a10"])),
        (bbox(170.0, -20.0, -170.0, -10.0), ids(&["a05", "a06"])),
        (bbox(179.0, -20.0, -170.0, -10.0), ids(&["a06"])),
        (
            bbox(-180.0, -90.0, 180.0, 90.0),
            ids(&["a01", "a05", "a06", "a10"]),
        ),
        (
            ImageQuery {
                min_rating: Some(1),
                has_geo: Some(true),
                created_at_from: Some(t),
                ..ImageQuery::default()
            },
            ids(&["a01", "a05", "a06"]),
        ),
    ]
}

#[test]
fn filters_match_sql_semantics() {
    let corpus = corpus();
    for (f, expected) in filters() {
        let brute: BTreeSet<String> = corpus
            .iter()
            .filter(|d| d.account_id == "A" && matches(d, &f))
            .map(|d| d.image_id.clone())
            .collect();
        assert_eq!(
            brute, expected,
            "brute force disagrees with the test: {f:?}"
        );
        let got: BTreeSet<String> = search(None, &f, Sort::Newest).into_iter().collect();
        assert_eq!(got, expected, "{f:?}");
        let n = shared().count("A", None, &f, 0).unwrap();
        assert_eq!(n as usize, expected.len(), "{f:?}");
    }
}

#[test]
fn filters_with_query() {
    let f = ImageQuery {
        min_rating: Some(4),
        ..ImageQuery::default()
    };
    assert_eq!(search(Some("concert"), &f, Sort::Relevance), vec!["a01"]);
    let f = ImageQuery {
        has_video: Some(true),
        ..ImageQuery::default()
    };
    let got: BTreeSet<String> = search(Some("-car"), &f, Sort::Relevance)
        .into_iter()
        .collect();
    assert_eq!(got, ids(&["a05", "a13"]));
    let f = ImageQuery {
        has_geo: Some(false),
        ..ImageQuery::default()
    };
    assert_eq!(search(Some("concert"), &f, Sort::Relevance), vec!["a02"]);
    let bad = ImageQuery {
        exif_value: Some("x".into()),
        ..ImageQuery::default()
    };
    assert!(matches!(
        shared().search("A", None, &sorted(&bad, Sort::Newest), 0, 10, 0),
        Err(SearchError::InvalidFilter(_))
    ));
}

fn brute_order(order: Sort) -> Vec<String> {
    let mut docs: Vec<ImageDoc> = corpus()
        .into_iter()
        .filter(|d| d.account_id == "A")
        .collect();
    docs.sort_by(|a, b| match order {
        Sort::Newest | Sort::Relevance => {
            (b.created_at, &b.image_id).cmp(&(a.created_at, &a.image_id))
        }
        Sort::Oldest => (a.created_at, &a.image_id).cmp(&(b.created_at, &b.image_id)),
        Sort::Taken => (
            b.creation_date.is_some(),
            b.creation_date,
            b.created_at,
            &b.image_id,
        )
            .cmp(&(
                a.creation_date.is_some(),
                a.creation_date,
                a.created_at,
                &a.image_id,
            )),
    });
    docs.into_iter().map(|d| d.image_id).collect()
}

#[test]
fn orders_and_paging() {
    for order in [Sort::Relevance, Sort::Newest, Sort::Oldest, Sort::Taken] {
        let full = search(None, &ImageQuery::default(), order);
        assert_eq!(full, brute_order(order), "{order:?}");
        let mut paged = Vec::new();
        for page in 0..6 {
            paged.extend(
                shared()
                    .search(
                        "A",
                        None,
                        &sorted(&ImageQuery::default(), order),
                        0,
                        3,
                        page * 3,
                    )
                    .unwrap(),
            );
        }
        assert_eq!(paged, full, "{order:?} paging");
    }
    let taken = search(None, &ImageQuery::default(), Sort::Taken);
    assert_eq!(&taken[..6], ["a13", "a01", "a10", "a04", "a02", "a05"]);
    assert_eq!(
        &taken[6..8],
        ["a12", "a11"],
        "undated last, by created_at desc"
    );
    assert_eq!(
        search(None, &ImageQuery::default(), Sort::Newest)[..3],
        ["a13", "a12", "a11"]
    );
    assert_eq!(
        search(None, &ImageQuery::default(), Sort::Oldest)[..2],
        ["a10", "a01"]
    );
    // Relevance paging with a query is stable too.
    let q = parse("2026 concert").unwrap();
    let full = shared()
        .search(
            "A",
            Some(&q),
            &sorted(&ImageQuery::default(), Sort::Relevance),
            0,
            100,
            0,
        )
        .unwrap();
    assert_eq!(full[..2], ["a01", "a02"]);
    let mut paged = Vec::new();
    for page in 0..5 {
        paged.extend(
            shared()
                .search(
                    "A",
                    Some(&q),
                    &sorted(&ImageQuery::default(), Sort::Relevance),
                    0,
                    3,
                    page * 3,
                )
                .unwrap(),
        );
    }
    assert_eq!(paged, full);
    assert!(
        shared()
            .search(
                "A",
                None,
                &sorted(&ImageQuery::default(), Sort::Newest),
                0,
                0,
                0
            )
            .unwrap()
            .is_empty()
    );
    assert!(
        shared()
            .search(
                "A",
                None,
                &sorted(&ImageQuery::default(), Sort::Newest),
                0,
                5,
                100
            )
            .unwrap()
            .is_empty()
    );
}

fn all_facet_fields() -> Vec<FacetField> {
    [
        "rating",
        "namespace",
        "keyword",
        "keyword:artist",
        "keyword:place",
        "keyword:nope",
        "exif:Model",
        "exif:Make",
        "exif:Lens",
        "creation_year",
        "creation_month",
        "has_geo",
        "has_video",
        "set",
    ]
    .iter()
    .map(|n| {
        let f = FacetField::parse(n).unwrap();
        assert_eq!(&f.name(), n);
        f
    })
    .collect()
}

fn brute_facet(docs: &[&ImageDoc], field: &FacetField) -> Vec<FacetCount> {
    let mut m: HashMap<FacetValue, u64> = HashMap::new();
    if matches!(field, FacetField::HasGeo | FacetField::HasVideo) {
        m.insert(FacetValue::Bool(true), 0);
        m.insert(FacetValue::Bool(false), 0);
    }
    for d in docs {
        let date = d
            .creation_date
            .map(|c| OffsetDateTime::from_unix_timestamp_nanos(i128::from(c) * 1000).unwrap());
        let values: BTreeSet<FacetValue> = match field {
            FacetField::Rating => [FacetValue::Int(d.rating)].into(),
            FacetField::Namespace => d
                .keywords
                .iter()
                .filter_map(|k| k.namespace.clone())
                .map(FacetValue::Text)
                .collect(),
            FacetField::Keyword => d
                .keywords
                .iter()
                .map(|k| FacetValue::Text(k.keyword.clone()))
                .collect(),
            FacetField::KeywordIn(ns) => d
                .keywords
                .iter()
                .filter(|k| k.namespace.as_ref() == Some(ns))
                .map(|k| FacetValue::Text(k.keyword.clone()))
                .collect(),
            FacetField::Exif(p) => d
                .exif
                .iter()
                .filter(|(a, _)| a == p)
                .map(|(_, v)| FacetValue::Text(v.clone()))
                .collect(),
            FacetField::CreationYear => date
                .map(|t| FacetValue::Int(i64::from(t.year())))
                .into_iter()
                .collect(),
            FacetField::CreationMonth => date
                .map(|t| FacetValue::Text(format!("{:04}-{:02}", t.year(), u8::from(t.month()))))
                .into_iter()
                .collect(),
            FacetField::HasGeo => [FacetValue::Bool(d.geo.is_some())].into(),
            FacetField::HasVideo => [FacetValue::Bool(d.is_video)].into(),
            FacetField::Set => d.sets.iter().cloned().map(FacetValue::Text).collect(),
        };
        for v in values {
            *m.entry(v).or_insert(0) += 1;
        }
    }
    let mut out: Vec<FacetCount> = m
        .into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    out.truncate(MAX_FACET_VALUES);
    out
}

#[test]
fn facets_equal_brute_force() {
    let corpus = corpus();
    let fields = all_facet_fields();
    let mut cases: Vec<(Option<&str>, ImageQuery)> =
        filters().into_iter().map(|(f, _)| (None, f)).collect();
    cases.push((Some("concert"), ImageQuery::default()));
    cases.push((
        Some("-car"),
        ImageQuery {
            has_video: Some(false),
            ..ImageQuery::default()
        },
    ));
    cases.push((
        Some("2026"),
        ImageQuery {
            min_rating: Some(1),
            ..ImageQuery::default()
        },
    ));
    cases.push((Some("nothingmatches"), ImageQuery::default()));
    for account in ["A", "B"] {
        for (q, f) in &cases {
            let parsed = q.map(|q| parse(q).unwrap());
            let hits: BTreeSet<String> = shared()
                .search(
                    account,
                    parsed.as_ref(),
                    &sorted(f, Sort::Newest),
                    0,
                    1000,
                    0,
                )
                .unwrap()
                .into_iter()
                .collect();
            let docs: Vec<&ImageDoc> = corpus
                .iter()
                .filter(|d| d.account_id == account && hits.contains(&d.image_id))
                .collect();
            let got = shared()
                .facets(account, parsed.as_ref(), f, 0, &fields)
                .unwrap();
            assert_eq!(got.len(), fields.len());
            for (field, counts) in got {
                assert_eq!(
                    counts,
                    brute_facet(&docs, &field),
                    "{account} {q:?} {f:?} {field:?}"
                );
            }
        }
    }
    // Spot check the shape.
    let got = shared()
        .facets(
            "A",
            None,
            &ImageQuery::default(),
            0,
            &[FacetField::KeywordIn("place".into())],
        )
        .unwrap();
    assert_eq!(
        got[0].1,
        vec![
            FacetCount {
                value: FacetValue::Text("place:Fiji".into()),
                count: 1
            },
            FacetCount {
                value: FacetValue::Text("place:Samoa".into()),
                count: 1
            },
        ]
    );
    assert_eq!(FacetField::parse("keyword:"), None);
    assert_eq!(FacetField::parse("bogus"), None);
}

#[test]
fn apply_upserts_and_deletes() {
    let idx = build_index();
    assert_eq!(idx.applied_seq(), 3);
    let q = parse("concert").unwrap();
    let mut changed = corpus()[0].clone();
    changed.title = "Changed".into();
    idx.apply(vec![changed], &["a02".to_string()], 4).unwrap();
    assert_eq!(idx.applied_seq(), 4);
    assert!(
        idx.search(
            "A",
            Some(&q),
            &sorted(&ImageQuery::default(), Sort::Relevance),
            0,
            10,
            0
        )
        .unwrap()
        .is_empty()
    );
    let q = parse("changed").unwrap();
    assert_eq!(
        idx.search(
            "A",
            Some(&q),
            &sorted(&ImageQuery::default(), Sort::Relevance),
            0,
            10,
            0
        )
        .unwrap(),
        vec!["a01"]
    );
    assert_eq!(idx.count("A", None, &ImageQuery::default(), 0).unwrap(), 12);
    // Upserting the same doc twice in one batch keeps one copy.
    let d = corpus()[2].clone();
    idx.apply(vec![d.clone(), d], &[], 5).unwrap();
    assert_eq!(idx.count("A", None, &ImageQuery::default(), 0).unwrap(), 12);
}

#[test]
fn apply_from_threads() {
    let idx = std::sync::Arc::new(SearchIndex::open_in_memory().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let idx = idx.clone();
            std::thread::spawn(move || {
                let d = doc("A", &format!("t{i}"), "thread", i);
                idx.apply(vec![d], &[], i + 1).unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(idx.count("A", None, &ImageQuery::default(), 0).unwrap(), 4);
}

#[test]
fn rebuild_replaces_everything() {
    let idx = build_index();
    let docs = vec![doc("A", "n1", "new", 1), doc("A", "n2", "new", 2)];
    let n = idx
        .rebuild(docs.into_iter().map(Ok::<_, std::io::Error>), 9)
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(idx.applied_seq(), 9);
    assert_eq!(
        idx.search(
            "A",
            None,
            &sorted(&ImageQuery::default(), Sort::Newest),
            0,
            10,
            0
        )
        .unwrap(),
        vec!["n2", "n1"]
    );
    // A failing source commits nothing.
    let bad = vec![
        Ok(doc("A", "x", "x", 1)),
        Err(std::io::Error::other("db gone")),
    ];
    assert!(matches!(idx.rebuild(bad, 10), Err(SearchError::Source(_))));
    assert_eq!(idx.applied_seq(), 9);
    assert_eq!(idx.count("A", None, &ImageQuery::default(), 0).unwrap(), 2);
    idx.apply(vec![doc("A", "n3", "new", 3)], &[], 11).unwrap();
    assert_eq!(idx.count("A", None, &ImageQuery::default(), 0).unwrap(), 3);
}

#[test]
fn open_persists_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idx");
    {
        let o = SearchIndex::open(&path).unwrap();
        assert!(o.fresh);
        assert_eq!(o.index.applied_seq(), crate::index::NEVER_BUILT);
        o.index.apply(corpus(), &[], 42).unwrap();
    }
    {
        let o = SearchIndex::open(&path).unwrap();
        assert!(!o.fresh);
        assert_eq!(o.index.applied_seq(), 42);
        assert_eq!(
            o.index
                .count(
                    "A",
                    Some(&parse("zurich").unwrap()),
                    &ImageQuery::default(),
                    0
                )
                .unwrap(),
            1
        );
    }
    // Another schema version (payload) is wiped.
    {
        let index = tantivy::Index::open_in_dir(&path).unwrap();
        let mut w: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        let mut c = w.prepare_commit().unwrap();
        c.set_payload("lightbox-search v0 seq 42");
        c.commit().unwrap();
    }
    {
        let o = SearchIndex::open(&path).unwrap();
        assert!(o.fresh);
        assert_eq!(o.index.applied_seq(), crate::index::NEVER_BUILT);
        assert_eq!(
            o.index.count("A", None, &ImageQuery::default(), 0).unwrap(),
            0
        );
        o.index.apply(corpus(), &[], 7).unwrap();
    }
    // Garbage is wiped.
    std::fs::write(path.join("meta.json"), b"{ not json").unwrap();
    std::fs::write(path.join("junk.bin"), b"\x00\x01").unwrap();
    let o = SearchIndex::open(&path).unwrap();
    assert!(o.fresh);
    assert_eq!(
        o.index.count("A", None, &ImageQuery::default(), 0).unwrap(),
        0
    );
    assert!(!path.join("junk.bin").exists());
}

#[test]
fn handle_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<SearchIndex>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn any_parsed_query_runs(s in prop_oneof![
        any::<String>(),
        "[a-zé+\\-*\" :'0-9\u{0}]{0,40}",
    ]) {
        if let Ok(p) = parse(&s) {
            for order in [Sort::Relevance, Sort::Taken] {
                let r = shared().search("A", Some(&p), &sorted(&ImageQuery::default(), order), 0, 5, 0);
                prop_assert!(r.is_ok(), "{:?}: {:?}", s, r.err());
            }
            let fields = [FacetField::Keyword, FacetField::CreationYear];
            prop_assert!(shared().facets("A", Some(&p), &ImageQuery::default(), 0, &fields).is_ok());
        }
    }
}

#[test]
fn live_in_a_set_is_decided_at_query_time() {
    let idx = SearchIndex::open_in_memory().unwrap();
    let t = t0();
    let mut docs = Vec::new();
    // Always live, embargoed until t + 10, hidden for good, and in another set.
    for (id, live) in [
        ("x1", Some(0)),
        ("x2", Some(t + 10)),
        ("x3", None),
        ("x4", Some(0)),
    ] {
        let mut d = doc("A", id, "img", t);
        let set = if id == "x4" { "s9" } else { "s1" };
        d.sets = vec![set.into()];
        d.live_sets = live
            .map(|from| (set.to_string(), from))
            .into_iter()
            .collect();
        docs.push(d);
    }
    idx.apply(docs, &[], 1).unwrap();
    let found = |set: &str, live_at: Option<i64>| -> BTreeSet<String> {
        let f = ImageQuery {
            set: Some(set.into()),
            live: live_at.map(|_| true),
            ..ImageQuery::default()
        };
        idx.search("A", None, &f, live_at.unwrap_or(0), 100, 0)
            .unwrap()
            .into_iter()
            .collect()
    };
    assert_eq!(found("s1", None), ids(&["x1", "x2", "x3"]));
    assert_eq!(found("s1", Some(t + 9)), ids(&["x1"]));
    assert_eq!(found("s1", Some(t + 10)), ids(&["x1", "x2"]));
    assert_eq!(found("s1", Some(t + 1_000_000_000)), ids(&["x1", "x2"]));
    assert_eq!(found("s9", Some(t)), ids(&["x4"]));
    let not_live = ImageQuery {
        set: Some("s1".into()),
        live: Some(false),
        ..ImageQuery::default()
    };
    let hidden: BTreeSet<String> = idx
        .search("A", None, &not_live, t + 9, 10, 0)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(hidden, ids(&["x2", "x3"]));
    let stray = ImageQuery {
        live: Some(true),
        ..ImageQuery::default()
    };
    assert!(idx.search("A", None, &stray, t, 10, 0).is_err());
}

#[test]
fn live_in_any_of_several_sets_is_decided_at_query_time() {
    let idx = SearchIndex::open_in_memory().unwrap();
    let t = t0();
    // y1 live in s1, y2 embargoed in s2 until t + 10, y3 live only in s3
    // (a set the website does not show), y4 hidden in s1 but live in s2.
    let members: [(&str, Vec<(&str, i64)>); 4] = [
        ("y1", vec![("s1", 0)]),
        ("y2", vec![("s2", t + 10)]),
        ("y3", vec![("s3", 0)]),
        ("y4", vec![("s2", 0)]),
    ];
    let mut docs = Vec::new();
    for (id, live) in members {
        let mut d = doc("A", id, "img", t);
        d.sets = vec!["s1".into(), "s2".into(), "s3".into()];
        d.live_sets = live
            .iter()
            .map(|(s, from)| (s.to_string(), *from))
            .collect();
        docs.push(d);
    }
    idx.apply(docs, &[], 1).unwrap();
    let found = |now: i64| -> BTreeSet<String> {
        let f = ImageQuery {
            live_in_any: vec!["s1".into(), "s2".into()],
            ..ImageQuery::default()
        };
        idx.search("A", None, &f, now, 100, 0)
            .unwrap()
            .into_iter()
            .collect()
    };
    assert_eq!(found(t + 9), ids(&["y1", "y4"]));
    assert_eq!(found(t + 10), ids(&["y1", "y2", "y4"]));
}
