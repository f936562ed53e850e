//! `image_list::list_ids` on both engines, against real databases: every
//! filter and its bounds, stacked filters, the antimeridian, order and paging.
//! PostgreSQL runs on the server of `LIGHTBOX_TEST_POSTGRES_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox_store::Timestamp;
use lightbox_store::image_list::{self, GeoBox, ImageQuery, KeywordMatch, Sort};
use lightbox_store::images::{self, ImageRow};
use lightbox_store::{Engine, Store, accounts};
use lightbox_testkit::fresh_store;

const DAY: i64 = 86_400 * 1_000_000;
/// 2024-01-01T00:00:00Z
const T0: i64 = 1_704_067_200 * 1_000_000;
/// 2023-06-01T00:00:00Z
const JUNE_1: i64 = 1_685_577_600 * 1_000_000;
/// 2022-01-01T00:00:00Z
const Y2022: i64 = 1_640_995_200 * 1_000_000;

/// One test image: what the filters look at.
struct Img {
    created: i64,
    updated: i64,
    taken: Option<i64>,
    rating: i64,
    video: bool,
    geo: Option<(f64, f64)>,
    keywords: &'static [&'static str],
    exif: &'static [(&'static str, &'static str)],
}

/// Image `n`'s id: ids sort like their numbers.
fn id(account: usize, n: usize) -> String {
    format!("00000000-0000-7000-8000-{account:06}{n:06}")
}

/// The library (index = number); images 4 and 5 were uploaded at the same
/// microsecond, so their ids decide between them.
fn library() -> Vec<Img> {
    let img = |created, taken, rating, video, geo, keywords, exif| Img {
        created,
        updated: created,
        taken,
        rating,
        video,
        geo,
        keywords,
        exif,
    };
    vec![
        img(
            T0,
            Some(JUNE_1),
            0,
            false,
            None,
            &["sunset", "sky:sunset"][..],
            &[("Make", "Canon"), ("ISO", "100")][..],
        ),
        Img {
            updated: T0 + 10 * DAY,
            ..img(
                T0 + DAY,
                None,
                5,
                true,
                Some((-17.7, 178.0)), // Fiji
                &["sky:sunset", "artist:Marina"][..],
                &[("Make", "Nikon")][..],
            )
        },
        img(
            T0 + 2 * DAY,
            Some(JUNE_1 + DAY - 1),
            3,
            false,
            Some((-13.8, -171.8)), // Samoa
            &["artist:Marina", "beach"][..],
            &[("Make", "Canon"), ("ISO", "3200")][..],
        ),
        img(
            T0 + 3 * DAY,
            Some(JUNE_1 + DAY),
            4,
            false,
            Some((47.37, 8.54)), // Zurich
            &["mood:sunset"][..],
            &[][..],
        ),
        img(
            T0 + 4 * DAY,
            Some(Y2022),
            1,
            false,
            Some((0.0, 0.0)),
            &[][..],
            &[("Model", "X 100")][..],
        ),
        img(
            T0 + 4 * DAY,
            Some(Y2022),
            2,
            true,
            None,
            &["beach"][..],
            &[][..],
        ),
    ]
}

async fn fill(store: &Store, account: usize, lib: &[Img]) -> String {
    let account_id = id(account, 999_999);
    // One transaction: the deep-offset test adds ten thousand images.
    let mut tx = store.begin_write().await.unwrap();
    let conn: &mut lightbox_store::Conn = &mut tx;
    accounts::insert(
        conn,
        &accounts::AccountRow {
            id: account_id.clone(),
            unique_id: format!("acc{account}"),
            name: format!("Account {account}"),
            api_enabled: true,
            created_at: Timestamp(T0),
            updated_at: Timestamp(T0),
        },
    )
    .await
    .unwrap();
    // In library order on one connection: rows without geo come before rows
    // with geo (see `insert_without_then_with_geo`).
    for (n, img) in lib.iter().enumerate() {
        let row = ImageRow {
            id: id(account, n),
            account_id: account_id.clone(),
            filename: format!("IMG_{n}.JPG"),
            title: String::new(),
            description: String::new(),
            creation_date: img.taken.map(Timestamp),
            created_at: Timestamp(img.created),
            updated_at: Timestamp(img.updated),
            rotation: 0,
            rating: img.rating,
            alt_text: String::new(),
            is_video: img.video,
            media_kind: if img.video { "video" } else { "image" }.into(),
            content_type: "image/jpeg".into(),
            width: Some(10),
            height: Some(10),
            bytes: 100,
            sha256: format!("{n:064}"),
            original_key: format!("originals/{account}/{n}"),
            lat: img.geo.map(|g| g.0),
            lng: img.geo.map(|g| g.1),
            exif: "{}".into(),
            metadata: "{}".into(),
            uploaded_by: None,
            uploaded_by_token: None,
            versions_state: "ready".into(),
            versions_error: None,
        };
        images::insert(conn, &row).await.unwrap();
        let keywords: Vec<(String, Option<String>, String)> = img
            .keywords
            .iter()
            .map(|k| match k.split_once(':') {
                Some((ns, v)) => (k.to_string(), Some(ns.to_owned()), v.to_owned()),
                None => (k.to_string(), None, k.to_string()),
            })
            .collect();
        images::add_keywords(conn, &row, &keywords).await.unwrap();
        let exif: Vec<(String, String)> = img
            .exif
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect();
        images::insert_exif(conn, &account_id, &row.id, Timestamp(img.created), &exif)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    account_id
}

struct Lib {
    store: Store,
    account_id: String,
}

impl Lib {
    async fn new(engine: Engine) -> Self {
        let store = fresh_store(engine, 4).await;
        let account_id = fill(&store, 1, &library()).await;
        // Another account whose one image matches every filter below.
        let mut other = library();
        other.truncate(3);
        for img in &mut other {
            img.keywords = &["sunset", "sky:sunset", "artist:Marina", "beach"];
            img.exif = &[("Make", "Canon"), ("ISO", "3200"), ("Model", "X 100")];
        }
        fill(&store, 2, &other).await;
        Self { store, account_id }
    }

    /// The numbers of the images listed, in order.
    async fn page(&self, q: &ImageQuery, limit: i64, offset: i64) -> Vec<usize> {
        let mut conn = self.store.read().await.unwrap();
        let ids = image_list::list_ids(
            &mut conn,
            self.store.engine(),
            &self.account_id,
            q,
            limit,
            offset,
        )
        .await
        .unwrap();
        ids.iter()
            .map(|i| {
                assert!(
                    i.starts_with(&id(1, 0)[..30]),
                    "another account's image {i}"
                );
                i[30..].parse::<usize>().unwrap()
            })
            .collect()
    }

    async fn list(&self, q: ImageQuery) -> Vec<usize> {
        self.page(&q, 50, 0).await
    }
}

fn whole(k: &str) -> Option<KeywordMatch> {
    Some(KeywordMatch::Whole(k.into()))
}

fn value(k: &str) -> Option<KeywordMatch> {
    Some(KeywordMatch::Value(k.into()))
}

fn exif(p: &str, v: Option<&str>) -> ImageQuery {
    ImageQuery {
        exif_property: Some(p.into()),
        exif_value: v.map(str::to_owned),
        ..ImageQuery::default()
    }
}

fn bbox(west: f64, south: f64, east: f64, north: f64) -> ImageQuery {
    ImageQuery {
        bbox: Some(GeoBox {
            west,
            south,
            east,
            north,
        }),
        ..ImageQuery::default()
    }
}

async fn every_filter(engine: Engine) {
    let lib = Lib::new(engine).await;
    let d = ImageQuery::default;

    // Order.
    assert_eq!(lib.list(d()).await, [5, 4, 3, 2, 1, 0]);
    let oldest = ImageQuery {
        sort: Sort::Oldest,
        ..d()
    };
    assert_eq!(lib.list(oldest.clone()).await, [0, 1, 2, 3, 4, 5]);
    let taken = ImageQuery {
        sort: Sort::Taken,
        ..d()
    };
    assert_eq!(lib.list(taken.clone()).await, [3, 2, 0, 5, 4, 1]);
    // The database has no scores: an order by relevance lists as taken.
    let relevance = ImageQuery {
        sort: Sort::Relevance,
        ..d()
    };
    assert_eq!(lib.list(relevance.clone()).await, [3, 2, 0, 5, 4, 1]);
    assert_eq!(lib.page(&relevance, 2, 4).await, [4, 1]);
    // A set (and what is live in it) is the search index's to answer: the
    // database refuses it rather than list images outside the set.
    for q in [
        ImageQuery {
            set: Some(id(1, 0)),
            ..d()
        },
        ImageQuery {
            live: Some(true),
            ..d()
        },
    ] {
        let mut conn = lib.store.read().await.unwrap();
        let refused =
            image_list::list_ids(&mut conn, lib.store.engine(), &lib.account_id, &q, 50, 0).await;
        assert!(
            matches!(refused, Err(lightbox_store::StoreError::Unanswerable(_))),
            "{q:?}: {refused:?}"
        );
    }

    // Paging: `limit` from `offset`, the same order.
    assert_eq!(lib.page(&d(), 2, 0).await, [5, 4]);
    assert_eq!(lib.page(&d(), 2, 2).await, [3, 2]);
    assert_eq!(lib.page(&d(), 3, 4).await, [1, 0]);
    assert!(lib.page(&d(), 2, 6).await.is_empty());
    assert_eq!(lib.page(&oldest, 2, 3).await, [3, 4]);
    assert_eq!(lib.page(&taken, 2, 4).await, [4, 1]);

    // Keywords: whole form, bare keyword, value in any namespace (once per image).
    let kw = |k| ImageQuery { keyword: k, ..d() };
    assert_eq!(lib.list(kw(whole("artist:Marina"))).await, [2, 1]);
    assert_eq!(lib.list(kw(whole("sky:sunset"))).await, [1, 0]);
    assert_eq!(lib.list(kw(whole("sunset"))).await, [0]);
    assert_eq!(lib.list(kw(value("sunset"))).await, [3, 1, 0]);
    assert_eq!(lib.list(kw(value("Marina"))).await, [2, 1]);
    assert_eq!(lib.list(kw(value("beach"))).await, [5, 2]);
    assert!(lib.list(kw(whole("Sunset"))).await.is_empty());
    assert!(lib.list(kw(whole("artist:sunset"))).await.is_empty());
    assert_eq!(lib.page(&kw(value("sunset")), 1, 1).await, [1]);
    assert_eq!(lib.page(&kw(value("sunset")), 5, 2).await, [0]);

    // A namespace alone: any keyword in it (once per image).
    let ns = |n: &str| Some(KeywordMatch::Namespace(n.into()));
    assert_eq!(lib.list(kw(ns("artist"))).await, [2, 1]);
    assert_eq!(lib.list(kw(ns("sky"))).await, [1, 0]);
    assert!(lib.list(kw(ns("sunset"))).await.is_empty());
    assert!(lib.list(kw(ns("Sky"))).await.is_empty());
    let ns_oldest = ImageQuery {
        keyword: ns("artist"),
        sort: Sort::Oldest,
        ..d()
    };
    assert_eq!(lib.list(ns_oldest).await, [1, 2]);
    let ns_taken = ImageQuery {
        keyword: ns("artist"),
        sort: Sort::Taken,
        ..d()
    };
    assert_eq!(lib.list(ns_taken.clone()).await, [2, 1]);
    assert_eq!(lib.page(&ns_taken, 1, 1).await, [1]);
    let ns_rated = ImageQuery {
        keyword: ns("artist"),
        min_rating: Some(4),
        ..d()
    };
    assert_eq!(lib.list(ns_rated).await, [1]);

    // Ratings.
    let rating = |r| ImageQuery {
        rating: Some(r),
        ..d()
    };
    let min = |r| ImageQuery {
        min_rating: Some(r),
        ..d()
    };
    assert_eq!(lib.list(rating(0)).await, [0]);
    assert_eq!(lib.list(rating(5)).await, [1]);
    assert_eq!(lib.list(min(3)).await, [3, 2, 1]);
    assert_eq!(lib.list(min(0)).await, [5, 4, 3, 2, 1, 0]);
    assert_eq!(lib.list(min(5)).await, [1]);
    assert!(
        lib.list(ImageQuery {
            rating: Some(2),
            min_rating: Some(3),
            ..d()
        })
        .await
        .is_empty()
    );

    // Exif: a value, or the property present.
    assert_eq!(lib.list(exif("Make", Some("Canon"))).await, [2, 0]);
    assert_eq!(
        lib.list(exif("Make", Some("canon"))).await,
        [] as [usize; 0]
    );
    assert_eq!(lib.list(exif("ISO", Some("3200"))).await, [2]);
    assert_eq!(lib.list(exif("Model", Some("X 100"))).await, [4]);
    assert_eq!(lib.list(exif("Make", None)).await, [2, 1, 0]);
    assert_eq!(lib.list(exif("ISO", None)).await, [2, 0]);
    assert!(lib.list(exif("LensModel", None)).await.is_empty());

    // Times: both bounds inclusive, to the microsecond.
    let created = |from, to| ImageQuery {
        created_at_from: from,
        created_at_to: to,
        ..d()
    };
    assert_eq!(
        lib.list(created(Some(T0 + DAY), Some(T0 + 3 * DAY))).await,
        [3, 2, 1]
    );
    assert_eq!(
        lib.list(created(Some(T0 + DAY + 1), Some(T0 + 3 * DAY - 1)))
            .await,
        [2]
    );
    assert_eq!(lib.list(created(Some(T0 + 4 * DAY), None)).await, [5, 4]);
    assert_eq!(lib.list(created(None, Some(T0))).await, [0]);
    let updated = |from, to| ImageQuery {
        updated_at_from: from,
        updated_at_to: to,
        ..d()
    };
    assert_eq!(lib.list(updated(Some(T0 + 5 * DAY), None)).await, [1]);
    assert_eq!(
        lib.list(updated(None, Some(T0 + 4 * DAY))).await,
        [5, 4, 3, 2, 0]
    );
    let taken_in = |from, to| ImageQuery {
        creation_date_from: from,
        creation_date_to: to,
        ..d()
    };
    // 2023-06-01, the whole day: not the image taken at the next midnight.
    assert_eq!(
        lib.list(taken_in(Some(JUNE_1), Some(JUNE_1 + DAY - 1)))
            .await,
        [2, 0]
    );
    assert_eq!(lib.list(taken_in(Some(JUNE_1 + DAY), None)).await, [3]);
    // Images without a known date match no date range.
    assert_eq!(
        lib.list(taken_in(None, Some(T0 * 2))).await,
        [5, 4, 3, 2, 0]
    );

    // Video and geo.
    let video = |v| ImageQuery {
        has_video: Some(v),
        ..d()
    };
    let geo = |g| ImageQuery {
        has_geo: Some(g),
        ..d()
    };
    assert_eq!(lib.list(video(true)).await, [5, 1]);
    assert_eq!(lib.list(video(false)).await, [4, 3, 2, 0]);
    assert_eq!(lib.list(geo(true)).await, [4, 3, 2, 1]);
    assert_eq!(lib.list(geo(false)).await, [5, 0]);

    // Boxes, edges inclusive; west > east crosses the antimeridian.
    assert_eq!(lib.list(bbox(5.0, 45.0, 10.0, 48.0)).await, [3]);
    assert_eq!(lib.list(bbox(8.54, 47.37, 8.54, 47.37)).await, [3]);
    assert_eq!(lib.list(bbox(-1.0, -1.0, 1.0, 1.0)).await, [4]);
    assert_eq!(lib.list(bbox(170.0, -20.0, -170.0, -10.0)).await, [2, 1]);
    assert_eq!(
        lib.list(bbox(178.5, -20.0, -171.9, -10.0)).await,
        [] as [usize; 0]
    );
    assert_eq!(lib.list(bbox(177.0, -20.0, -179.0, -10.0)).await, [1]);
    // Narrow east–west across the antimeridian: two ranges of the longitude
    // index, merged in every order.
    let narrow = bbox(177.0, -20.0, -171.0, -10.0);
    assert_eq!(lib.list(narrow.clone()).await, [2, 1]);
    assert_eq!(lib.page(&narrow, 1, 1).await, [1]);
    let narrow_oldest = ImageQuery {
        sort: Sort::Oldest,
        ..narrow.clone()
    };
    assert_eq!(lib.list(narrow_oldest).await, [1, 2]);
    let narrow_taken = ImageQuery {
        sort: Sort::Taken,
        min_rating: Some(3),
        ..narrow
    };
    assert_eq!(lib.list(narrow_taken).await, [2, 1]);
    assert_eq!(lib.list(bbox(179.0, -20.0, -171.0, -10.0)).await, [2]);
    assert_eq!(lib.list(bbox(-180.0, -90.0, 0.0, 90.0)).await, [4, 2]);
    assert_eq!(
        lib.list(bbox(-180.0, -90.0, 180.0, 90.0)).await,
        [4, 3, 2, 1]
    );
    assert_eq!(lib.list(bbox(170.0, -20.0, -170.0, -15.0)).await, [1]);

    // Stacked filters (AND), with every driver.
    assert_eq!(
        lib.list(ImageQuery {
            keyword: value("sunset"),
            has_geo: Some(true),
            ..d()
        })
        .await,
        [3, 1]
    );
    assert_eq!(
        lib.list(ImageQuery {
            keyword: value("sunset"),
            has_geo: Some(true),
            min_rating: Some(4),
            has_video: Some(true),
            ..d()
        })
        .await,
        [1]
    );
    // A keyword with has_video alone: answered from the keyword rows,
    // which carry whether their image is a video.
    for (keyword, sort, video, want) in [
        (whole("artist:Marina"), Sort::Newest, true, &[1][..]),
        (whole("artist:Marina"), Sort::Newest, false, &[2][..]),
        (value("sunset"), Sort::Oldest, true, &[1][..]),
        (value("sunset"), Sort::Oldest, false, &[0, 3][..]),
        (whole("beach"), Sort::Taken, true, &[5][..]),
        (whole("beach"), Sort::Taken, false, &[2][..]),
    ] {
        let q = ImageQuery {
            keyword,
            sort,
            has_video: Some(video),
            ..d()
        };
        assert_eq!(lib.list(q.clone()).await, want, "{q:?}");
    }
    assert_eq!(
        lib.list(ImageQuery {
            keyword: whole("artist:Marina"),
            exif_property: Some("Make".into()),
            exif_value: Some("Canon".into()),
            ..d()
        })
        .await,
        [2]
    );
    assert_eq!(
        lib.list(ImageQuery {
            keyword: value("sunset"),
            exif_property: Some("ISO".into()),
            ..d()
        })
        .await,
        [0]
    );
    assert_eq!(
        lib.list(ImageQuery {
            exif_property: Some("Make".into()),
            exif_value: Some("Canon".into()),
            has_geo: Some(true),
            ..d()
        })
        .await,
        [2]
    );
    assert_eq!(
        lib.list(ImageQuery {
            exif_property: Some("Make".into()),
            exif_value: Some("Canon".into()),
            created_at_from: Some(T0 + 1),
            sort: Sort::Oldest,
            ..d()
        })
        .await,
        [2]
    );
    assert_eq!(
        lib.list(ImageQuery {
            bbox: Some(GeoBox {
                west: 170.0,
                south: -20.0,
                east: -170.0,
                north: -10.0
            }),
            keyword: whole("artist:Marina"),
            rating: Some(3),
            creation_date_from: Some(JUNE_1),
            ..d()
        })
        .await,
        [2]
    );
    assert_eq!(
        lib.list(ImageQuery {
            has_video: Some(false),
            has_geo: Some(true),
            min_rating: Some(1),
            updated_at_to: Some(T0 + 4 * DAY),
            created_at_from: Some(T0 + DAY),
            ..d()
        })
        .await,
        [4, 3, 2]
    );

    // Sorts with a driving keyword or Exif value.
    assert_eq!(
        lib.list(ImageQuery {
            keyword: value("sunset"),
            sort: Sort::Taken,
            ..d()
        })
        .await,
        [3, 0, 1]
    );
    assert_eq!(
        lib.list(ImageQuery {
            keyword: value("sunset"),
            sort: Sort::Oldest,
            ..d()
        })
        .await,
        [0, 1, 3]
    );
    assert_eq!(
        lib.list(ImageQuery {
            keyword: whole("sky:sunset"),
            sort: Sort::Taken,
            ..d()
        })
        .await,
        [0, 1]
    );
    assert_eq!(
        lib.list(ImageQuery {
            exif_property: Some("Make".into()),
            exif_value: Some("Canon".into()),
            sort: Sort::Oldest,
            ..d()
        })
        .await,
        [0, 2]
    );
    let canon_taken = ImageQuery {
        exif_property: Some("Make".into()),
        exif_value: Some("Canon".into()),
        sort: Sort::Taken,
        ..d()
    };
    assert_eq!(lib.list(canon_taken.clone()).await, [2, 0]);
    assert_eq!(lib.page(&canon_taken, 1, 1).await, [0]);

    // Walk or collect (list_ids picks): the same answers at every page.
    for q in [
        ImageQuery {
            min_rating: Some(1),
            ..d()
        },
        ImageQuery {
            creation_date_from: Some(JUNE_1),
            has_geo: Some(true),
            ..d()
        },
        ImageQuery {
            updated_at_to: Some(T0 + 3 * DAY),
            sort: Sort::Oldest,
            ..d()
        },
        ImageQuery {
            bbox: Some(GeoBox {
                west: -180.0,
                south: -90.0,
                east: 180.0,
                north: 90.0,
            }),
            sort: Sort::Taken,
            ..d()
        },
    ] {
        let all = lib.list(q.clone()).await;
        let mut paged = Vec::new();
        for offset in 0..all.len() {
            paged.extend(lib.page(&q, 1, offset as i64).await);
        }
        assert_eq!(paged, all, "{q:?}");
    }
    assert_eq!(
        lib.list(ImageQuery {
            min_rating: Some(1),
            ..d()
        })
        .await,
        [5, 4, 3, 2, 1]
    );
    // updated_at_to bounds created_at too: image 1 was changed later.
    assert_eq!(
        lib.list(ImageQuery {
            updated_at_to: Some(T0 + 3 * DAY),
            ..d()
        })
        .await,
        [3, 2, 0]
    );

    // The plan can be shown (benchmarks use it).
    let mut conn = lib.store.read().await.unwrap();
    let plan = image_list::explain(
        &mut conn,
        lib.store.engine(),
        &lib.account_id,
        &kw(whole("sky:sunset")),
        10,
        0,
    )
    .await
    .unwrap();
    assert!(!plan.is_empty());
    assert_eq!(
        lib.store.engine(),
        if engine == Engine::Sqlite {
            Engine::Sqlite
        } else {
            Engine::Postgres
        }
    );
}

/// A new taken date moves the image in keyword lists sorted by it.
async fn taken_date_follows_updates(engine: Engine) {
    let lib = Lib::new(engine).await;
    let q = ImageQuery {
        keyword: value("sunset"),
        sort: Sort::Taken,
        ..ImageQuery::default()
    };
    assert_eq!(lib.list(q.clone()).await, [3, 0, 1]);
    let mut conn = lib.store.read().await.unwrap();
    let mut row = images::find(&mut conn, &lib.account_id, &id(1, 1))
        .await
        .unwrap()
        .unwrap();
    row.creation_date = Some(Timestamp(T0));
    images::update_fields(&mut conn, &row).await.unwrap();
    let mut row = images::find(&mut conn, &lib.account_id, &id(1, 3))
        .await
        .unwrap()
        .unwrap();
    row.creation_date = None;
    images::update_fields(&mut conn, &row).await.unwrap();
    drop(conn);
    assert_eq!(lib.list(q.clone()).await, [1, 0, 3]);
    let whole_q = ImageQuery {
        keyword: whole("sky:sunset"),
        ..q
    };
    assert_eq!(lib.list(whole_q).await, [1, 0]);
}

#[tokio::test]
async fn taken_date_follows_updates_sqlite() {
    taken_date_follows_updates(Engine::Sqlite).await;
}

#[tokio::test]
async fn taken_date_follows_updates_postgres() {
    taken_date_follows_updates(Engine::Postgres).await;
}

/// PostgreSQL: an image without geo, then one with, on one connection (a
/// cached statement typed by the NULL refused the number: 22P03).
#[tokio::test]
async fn insert_without_then_with_geo_postgres() {
    let store = fresh_store(Engine::Postgres, 4).await;
    let mut lib = library();
    lib.truncate(2);
    lib[0].geo = None;
    lib[1].geo = Some((46.2, 6.1));
    // `fill` inserts on one pooled connection, in this order, twice.
    fill(&store, 1, &lib).await;
    lib.reverse();
    fill(&store, 2, &lib).await;
    let mut conn = store.read().await.unwrap();
    let n = conn
        .fetch_texts(
            "SELECT CAST(COUNT(*) AS TEXT) FROM images WHERE lat IS NOT NULL AND lng = 6.1",
        )
        .await
        .unwrap();
    assert_eq!(n, ["2"]);
}

#[tokio::test]
async fn every_filter_sqlite() {
    every_filter(Engine::Sqlite).await;
}

#[tokio::test]
async fn every_filter_postgres() {
    every_filter(Engine::Postgres).await;
}

/// The whole library from a deep offset (≥ 10,000) starts at the day the
/// offset falls in, found from the per-day upload counts: pages from there
/// are the pages of the plain order, newest and oldest first, after
/// deletions (a day emptied among them), with another account's images on
/// the same days, up to and past the end.
async fn deep_offsets_start_at_their_upload_day(engine: Engine) {
    const IMAGES: usize = 10_700;
    let store = fresh_store(engine, 4).await;
    let plain = |created| Img {
        created,
        updated: created,
        taken: None,
        rating: 0,
        video: false,
        geo: None,
        keywords: &[],
        exif: &[],
    };
    // About 200 a day for 54 days; every 50th shares its predecessor's
    // microsecond (ids decide); some on a day's first and last microsecond.
    let created = |n: usize| -> i64 {
        let n = n as i64;
        match n % 50 {
            0 => T0 + (n - 1) * 7 * 60_000_000,
            17 => T0 + (n * 7 * 60_000_000 / DAY) * DAY,
            33 => T0 + (n * 7 * 60_000_000 / DAY + 1) * DAY - 1,
            _ => T0 + n * 7 * 60_000_000,
        }
    };
    let lib: Vec<Img> = (0..IMAGES).map(|n| plain(created(n))).collect();
    let account_id = fill(&store, 1, &lib).await;
    let other: Vec<Img> = (0..300).map(|n| plain(created(n * 30))).collect();
    fill(&store, 2, &other).await;
    // Deleted: every 97th image, and every image of the 20th day.
    let day_20 = T0 + 20 * DAY..T0 + 21 * DAY;
    let mut kept = Vec::new();
    let mut tx = store.begin_write().await.unwrap();
    for (n, img) in lib.iter().enumerate() {
        if n % 97 == 5 || day_20.contains(&img.created) {
            assert!(
                images::delete(&mut tx, &account_id, &id(1, n))
                    .await
                    .unwrap()
            );
        } else {
            kept.push((img.created, n));
        }
    }
    tx.commit().await.unwrap();
    assert!(kept.len() > 10_000 + 100, "{}", kept.len());
    kept.sort();
    let oldest: Vec<usize> = kept.iter().map(|(_, n)| *n).collect();
    let newest: Vec<usize> = oldest.iter().rev().copied().collect();
    let lib = Lib { store, account_id };
    for (sort, expected) in [(Sort::Newest, &newest), (Sort::Oldest, &oldest)] {
        let q = ImageQuery {
            sort,
            ..ImageQuery::default()
        };
        // The shortcut is what answers (not the plain walk).
        let mut conn = lib.store.read().await.unwrap();
        let plan = image_list::explain(
            &mut conn,
            lib.store.engine(),
            &lib.account_id,
            &q,
            51,
            10_000,
        )
        .await
        .unwrap();
        drop(conn);
        assert_eq!(
            plan.first().map(String::as_str),
            Some("-- from the upload day"),
            "{plan:?}"
        );
        let len = expected.len() as i64;
        for offset in [
            10_000,
            10_001,
            10_093,
            10_199,
            len - 51,
            len - 1,
            len,
            len + 7,
        ] {
            let want: Vec<usize> = expected
                .iter()
                .skip(offset as usize)
                .take(51)
                .copied()
                .collect();
            assert_eq!(
                lib.page(&q, 51, offset).await,
                want,
                "{sort:?} offset {offset}"
            );
        }
        // Below the deep offsets: the plain walk, the same pages.
        let want: Vec<usize> = expected.iter().skip(9_990).take(51).copied().collect();
        assert_eq!(lib.page(&q, 51, 9_990).await, want, "{sort:?} offset 9990");
    }
}

#[tokio::test]
async fn deep_offsets_start_at_their_upload_day_sqlite() {
    deep_offsets_start_at_their_upload_day(Engine::Sqlite).await;
}

#[tokio::test]
async fn deep_offsets_start_at_their_upload_day_postgres() {
    deep_offsets_start_at_their_upload_day(Engine::Postgres).await;
}
