//! Synthetic library + store-level timings of `image_list::list_ids`.
//!
//! ```text
//! images-list-bench fill    --database-url URL --account UNIQUE_ID [--images 1000000] [--seed 1]
//! images-list-bench run     --database-url URL --account UNIQUE_ID [--iterations 200]
//!                           [--max-seconds 10] [--mixes name,name] [--explain]
//! images-list-bench queries                       (the HTTP query strings of the mixes)
//! ```
//!
//! `fill` migrates the database, makes the account if it does not exist and
//! adds `--images` images with keywords and Exif rows (batched multi-row
//! INSERTs, the same on both engines). The distribution:
//! - created_at: 5 years from 2021-01-01, increasing with the image number;
//!   updated_at = created_at, a third changed again within 30 days;
//! - creation_date: 92 % known (up to 3 years before the upload), else NULL;
//! - rating: 0 70 %, 1 12 %, 2 8 %, 3 5 %, 4 3 %, 5 2 %;
//! - 2 % videos; 30 % with geo (half in Europe, half anywhere between
//!   55° S and 70° N, the Pacific across the antimeridian included);
//! - 10 keywords per image: 9 from a skewed vocabulary of 3,000
//!   (`j = u²/3000`, u uniform: `word0` is on ≈ 16 % of images, the rarest on
//!   ≈ 0.15 %), namespaces none/subject/place/artist by `j % 4`, value
//!   `word{j/2}` (so every value exists in two namespaces), plus one from a
//!   long tail of 50,000 `event:tail{n}` (≈ 20 images each);
//! - Exif Make (6 makes, skewed), Model (10 per make), ISO (7 steps) on
//!   90 % of images.
//!
//! `run` times each filter mix (see `mixes()`) on one pooled connection:
//! `--iterations` calls (after 10 % warm-up), or fewer when a mix passes
//! `--max-seconds`; prints p50 / p99 / max in ms and the rows returned.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use lightbox_store::image_list::{self, GeoBox, ImageQuery, KeywordMatch, Sort};
use lightbox_store::{Engine, Store};
use sqlx::AssertSqlSafe;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const BASE_SECS: i64 = 1_609_459_200; // 2021-01-01T00:00:00Z
const SPAN_SECS: i64 = 5 * 365 * 86_400;
struct Args {
    cmd: String,
    url: String,
    account: String,
    images: u64,
    seed: u64,
    iterations: usize,
    max_seconds: f64,
    mixes: Option<Vec<String>>,
    explain: bool,
}

fn args() -> Result<Args, BoxError> {
    let mut it = std::env::args().skip(1);
    let cmd = it
        .next()
        .ok_or("usage: images-list-bench fill|run|queries …")?;
    let mut a = Args {
        cmd,
        url: String::new(),
        account: "bench".into(),
        images: 1_000_000,
        seed: 1,
        iterations: 200,
        max_seconds: 10.0,
        mixes: None,
        explain: false,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => a.url = value()?,
            "--account" => a.account = value()?,
            "--images" => a.images = value()?.parse()?,
            "--seed" => a.seed = value()?.parse()?,
            "--iterations" => a.iterations = value()?.parse()?,
            "--max-seconds" => a.max_seconds = value()?.parse()?,
            "--mixes" => a.mixes = Some(value()?.split(',').map(str::to_owned).collect()),
            "--explain" => a.explain = true,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let a = args()?;
    if a.cmd == "queries" {
        for mix in mixes() {
            println!("{}\t{}", mix.name, mix.http);
        }
        return Ok(());
    }
    let store = Store::connect(&a.url, 4).await?;
    if a.cmd != "run" {
        store.migrate().await?;
    }
    match a.cmd.as_str() {
        "fill" => fill_sql(&store, &a).await,
        "run" => run(&store, &a).await,
        other => Err(format!("unknown command {other}").into()),
    }
}

/// The fill's own connection: the store's statement layer binds only what
/// the server needs, and a generator writes rows no store function writes.
async fn raw_connection(url: &str) -> Result<sqlx::AnyConnection, BoxError> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    Ok(sqlx::AnyConnection::connect(url).await?)
}

async fn account_id(store: &Store, unique_id: &str) -> Result<String, BoxError> {
    let mut conn = store.read().await?;
    if let Some(row) = lightbox_store::accounts::find(&mut conn, unique_id).await? {
        return Ok(row.id);
    }
    let now = BASE_SECS * 1_000_000;
    let id = format!("00000000-0000-4000-8000-{:012x}", now % 0xffff_ffff_ffff);
    lightbox_store::accounts::insert(
        &mut conn,
        &lightbox_store::accounts::AccountRow {
            id: id.clone(),
            unique_id: unique_id.to_owned(),
            name: "Bench".into(),
            api_enabled: true,
            created_at: now.into(),
            updated_at: now.into(),
        },
    )
    .await?;
    Ok(id)
}

async fn fill_sql(store: &Store, a: &Args) -> Result<(), BoxError> {
    use sqlx::Connection;
    let account = account_id(store, &a.account).await?;
    let mut raw = raw_connection(&a.url).await?;
    let started = Instant::now();
    let images = a.images as i64;
    let step = SPAN_SECS * 1_000_000 / images.max(1);
    let pg = store.engine() == Engine::Postgres;
    // A UUID v7 from the upload time (ms) and the number: time-ordered.
    let id_expr = if pg {
        "lpad(to_hex((c / 1000) >> 16), 8, '0') || '-' || lpad(to_hex((c / 1000) & 65535), 4, '0') \
         || '-7' || lpad(to_hex(n % 4096), 3, '0') || '-' || to_hex(32768 + (n / 4096) % 16384) \
         || '-' || lpad(to_hex(n), 12, '0')"
    } else {
        "printf('%08x-%04x-7%03x-%04x-%012x', (c / 1000) >> 16, (c / 1000) & 65535, n % 4096, \
         32768 + (n / 4096) % 16384, n)"
    };
    // h(n, salt): a 31-bit hash, the product of two affine hashes whose
    // multipliers depend on the salt, so that different salts give
    // independent draws (one multiplier for every salt, as before, made them
    // shifted copies: videos only had ratings 0–1).
    let h = |salt: u32| {
        let (m1, m2) = mults(u64::from(salt));
        format!(
            "((((n * {m1} + {salt} * 40503) % 4294967291) * ((n * {m2} + 17 + {salt}) % 65521)) % 2147483647)"
        )
    };
    const CHUNK: i64 = 100_000;
    let mut lo = 0i64;
    while lo < images {
        let hi = (lo + CHUNK).min(images) - 1;
        let mut tx = raw.begin().await?;
        if !pg {
            sqlx::query("PRAGMA cache_size = -1000000")
                .execute(&mut *tx)
                .await?;
        }
        let series = format!(
            "WITH RECURSIVE s(n) AS (SELECT CAST({lo} AS BIGINT) UNION ALL SELECT n + 1 FROM s WHERE n < {hi}), \
             t AS (SELECT n, {base} + n * {step} + ({h1} % {step}) AS c FROM s), \
             g AS (SELECT n, c, {id_expr} AS id FROM t)",
            base = BASE_SECS * 1_000_000,
            h1 = h(1),
        );
        // Instants are computed in Unix microseconds; PostgreSQL stores a
        // timestamptz (migration 0013).
        let ts = |micros: &str| {
            if pg {
                format!("(TIMESTAMPTZ 'epoch' + ({micros}) * INTERVAL '1 microsecond')")
            } else {
                micros.to_owned()
            }
        };
        let creation_date = format!(
            "CASE WHEN {h2} % 100 < 92 THEN c - ({h3} % 94608000) * 1000000 END",
            h2 = h(2),
            h3 = h(3)
        );
        // images
        let sql = format!(
            "{series} INSERT INTO images (id, account_id, filename, title, description, creation_date, \
             created_at, updated_at, rating, is_video, media_kind, content_type, width, height, \
             bytes, sha256, original_key, lat, lng, exif, metadata, versions_state) \
             SELECT id, $1, 'IMG_' || n || '.JPG', '', '', \
               {creation_ts}, \
               {created_ts}, {updated_ts}, \
               CASE WHEN {h6} % 100 < 70 THEN 0 WHEN {h6} % 100 < 82 THEN 1 WHEN {h6} % 100 < 90 THEN 2 \
                    WHEN {h6} % 100 < 95 THEN 3 WHEN {h6} % 100 < 98 THEN 4 ELSE 5 END, \
               CASE WHEN {h7} % 50 = 0 THEN TRUE ELSE FALSE END, \
               CASE WHEN {h7} % 50 = 0 THEN 'video' ELSE 'image' END, \
               CASE WHEN {h7} % 50 = 0 THEN 'video/mp4' ELSE 'image/jpeg' END, \
               6000, 4000, 8000000, id, 'originals/' || id, \
               CASE WHEN {h8} % 10 < 3 THEN CASE WHEN {h9} % 2 = 0 THEN 36.0 + ({h10} % 24000) / 1000.0 \
                    ELSE -55.0 + ({h10} % 125000) / 1000.0 END END, \
               CASE WHEN {h8} % 10 < 3 THEN CASE WHEN {h9} % 2 = 0 THEN -10.0 + ({h11} % 40000) / 1000.0 \
                    ELSE -180.0 + ({h11} % 360000) / 1000.0 END END, \
               '{{}}', '{{}}', 'ready' FROM g",
            creation_ts = ts(&creation_date),
            created_ts = ts("c"),
            updated_ts = ts(&format!(
                "CASE WHEN {} % 3 = 0 THEN c + ({} % 2592000) * 1000000 ELSE c END",
                h(4),
                h(5)
            )),
            h6 = h(6),
            h7 = h(7),
            h8 = h(8),
            h9 = h(9),
            h10 = h(10),
            h11 = h(11),
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&account)
            .execute(&mut *tx)
            .await?;
        // keywords: 9 skewed (j = u²/3000) + 1 from the tail of 50,000; the
        // image's creation_date is the same expression as above.
        let series_cd = series.replace(
            "AS id FROM t)",
            &format!(
                "AS id, {creation_date} AS cd, CASE WHEN {h7} % 50 = 0 THEN TRUE ELSE FALSE END \
                 AS vid FROM t)",
                h7 = h(7)
            ),
        );
        let sql = format!(
            "{series_cd}, p(pos) AS (SELECT 0 UNION ALL SELECT pos + 1 FROM p WHERE pos < 9), \
             d AS (SELECT g.id, g.c, g.cd, g.vid, p.pos, \
                     ((((n * (2654435761 + p.pos * 1000003) + (100 + p.pos) * 40503) % 4294967291) \
                       * ((n * (40503 + p.pos * 7919) + 117 + p.pos) % 65521)) % 2147483647) AS r \
                   FROM g CROSS JOIN p), \
             e AS (SELECT id, c, cd, vid, pos, CASE WHEN pos < 9 THEN ((r % 3000) * (r % 3000)) / 3000 ELSE -1 END AS j, r FROM d), \
             k AS (SELECT id, c, cd, vid, pos, \
                     CASE WHEN j < 0 THEN 'event' WHEN j % 4 = 1 THEN 'subject' WHEN j % 4 = 2 THEN 'place' \
                          WHEN j % 4 = 3 THEN 'artist' END AS ns, \
                     CASE WHEN j < 0 THEN 'tail' || (r % 50000) ELSE 'word' || (j / 2) END AS v FROM e) \
             INSERT INTO image_keywords (image_id, account_id, keyword, namespace, value, position, \
                image_created_at, image_creation_date, image_is_video) \
             SELECT id, $1, CASE WHEN ns IS NULL THEN v ELSE ns || ':' || v END, ns, v, pos, {c}, {cd}, vid FROM k \
             WHERE 1 = 1 ON CONFLICT (image_id, keyword) DO NOTHING",
            c = ts("c"),
            cd = ts("cd"),
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&account)
            .execute(&mut *tx)
            .await?;
        // Exif on 90 %: Make (skewed), Model (10 per make), ISO (7 steps)
        let make = "CASE WHEN m < 35 THEN 'Canon' WHEN m < 60 THEN 'Nikon' WHEN m < 80 THEN 'Sony' \
                    WHEN m < 90 THEN 'Fujifilm' WHEN m < 97 THEN 'Apple' ELSE 'Leica' END";
        let sql = format!(
            "{series}, x AS (SELECT id, c, {h12} % 100 AS m, {h13} % 10 AS mo, {h14} % 100 AS i FROM g WHERE {h15} % 10 <> 0), \
             pr(prop) AS (SELECT 'Make' UNION ALL SELECT 'Model' UNION ALL SELECT 'ISO') \
             INSERT INTO image_exif (image_id, account_id, property, value, image_created_at) \
             SELECT id, $1, prop, CASE prop WHEN 'Make' THEN {make} \
                 WHEN 'Model' THEN {make} || ' M' || mo \
                 ELSE CASE WHEN i < 30 THEN '100' WHEN i < 50 THEN '200' WHEN i < 68 THEN '400' \
                   WHEN i < 80 THEN '800' WHEN i < 90 THEN '1600' WHEN i < 96 THEN '3200' ELSE '6400' END END, {c} \
             FROM x CROSS JOIN pr",
            c = ts("c"),
            h12 = h(12),
            h13 = h(13),
            h14 = h(14),
            h15 = h(15),
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        lo = hi + 1;
        eprintln!(
            "filled {lo} images in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let conn = &mut raw;
    // The per-day upload counts the store keeps with each image it adds
    // (images added here bypass it): recounted for the account.
    let day = if pg {
        "date_trunc('day', created_at, 'UTC')"
    } else {
        "created_at - ((created_at % 86400000000) + 86400000000) % 86400000000"
    };
    sqlx::query("DELETE FROM image_upload_days WHERE account_id = $1")
        .bind(&account)
        .execute(&mut *conn)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO image_upload_days (account_id, day, images) \
         SELECT account_id, {day}, COUNT(*) FROM images WHERE account_id = $1 GROUP BY 1, 2"
    )))
    .bind(&account)
    .execute(&mut *conn)
    .await?;
    match store.engine() {
        Engine::Postgres => {
            sqlx::query("VACUUM ANALYZE").execute(&mut *conn).await?;
        }
        Engine::Sqlite => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await?;
        }
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Two multipliers per salt for the fill's hashes (below 2^32, so that
/// `n * m` stays far inside 64 bits).
fn mults(salt: u64) -> (u64, u64) {
    let mut x = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    ((x & 0x7FFF_FFFF) | 1, ((x >> 32) & 0xFFFF_FFFF) | 1)
}

struct Mix {
    name: &'static str,
    q: ImageQuery,
    offset: i64,
    /// The same list as a `GET /v1/images` query string.
    http: String,
}

fn day(y: i32, m: u32, d: u32) -> i64 {
    // Days from civil (Howard Hinnant), UTC midnight in micros.
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000_000
}

fn mixes() -> Vec<Mix> {
    let d = ImageQuery::default;
    let kw = |k: &str| Some(KeywordMatch::Whole(k.into()));
    let val = |k: &str| Some(KeywordMatch::Value(k.into()));
    let europe = GeoBox {
        west: -10.0,
        south: 36.0,
        east: 30.0,
        north: 60.0,
    };
    let swiss = GeoBox {
        west: 5.9,
        south: 45.8,
        east: 10.5,
        north: 47.8,
    };
    let pacific = GeoBox {
        west: 170.0,
        south: -50.0,
        east: -170.0,
        north: 10.0,
    };
    let end = |t: i64| t + 86_400_000_000 - 1;
    let m = |name, q, offset, http: &str| Mix {
        name,
        q,
        offset,
        http: http.to_owned(),
    };
    vec![
        m("newest", d(), 0, ""),
        m(
            "oldest",
            ImageQuery {
                sort: Sort::Oldest,
                ..d()
            },
            0,
            "sort=oldest",
        ),
        m(
            "taken",
            ImageQuery {
                sort: Sort::Taken,
                ..d()
            },
            0,
            "sort=taken",
        ),
        m("newest offset 1000", d(), 1000, "offset=1000"),
        m("newest offset 10000", d(), 10_000, "offset=10000"),
        m("newest offset 100000", d(), 100_000, "offset=100000"),
        m(
            "kw common (subject:word0, 7 %)",
            ImageQuery {
                keyword: kw("subject:word0"),
                ..d()
            },
            0,
            "keyword=subject:word0",
        ),
        m(
            "kw value any ns (word0, 23 %)",
            ImageQuery {
                keyword: val("word0"),
                ..d()
            },
            0,
            "keyword=word0",
        ),
        m(
            "kw mid (word200, 0.4 %)",
            ImageQuery {
                keyword: val("word200"),
                ..d()
            },
            0,
            "keyword=word200",
        ),
        m(
            "kw rare (place:word1499)",
            ImageQuery {
                keyword: kw("place:word1499"),
                ..d()
            },
            0,
            "keyword=place:word1499",
        ),
        m(
            "kw tail (event:tail12345)",
            ImageQuery {
                keyword: kw("event:tail12345"),
                ..d()
            },
            0,
            "keyword=tail12345&namespace=event",
        ),
        m(
            "kw common offset 10000",
            ImageQuery {
                keyword: kw("subject:word0"),
                ..d()
            },
            10_000,
            "keyword=subject:word0&offset=10000",
        ),
        m(
            "rating=5",
            ImageQuery {
                rating: Some(5),
                ..d()
            },
            0,
            "rating=5",
        ),
        m(
            "rating=0",
            ImageQuery {
                rating: Some(0),
                ..d()
            },
            0,
            "rating=0",
        ),
        m(
            "min_rating=3",
            ImageQuery {
                min_rating: Some(3),
                ..d()
            },
            0,
            "min_rating=3",
        ),
        m(
            "exif Make=Leica",
            ImageQuery {
                exif_property: Some("Make".into()),
                exif_value: Some("Leica".into()),
                ..d()
            },
            0,
            "exif_property=Make&exif_value=Leica",
        ),
        m(
            "exif ISO=6400",
            ImageQuery {
                exif_property: Some("ISO".into()),
                exif_value: Some("6400".into()),
                ..d()
            },
            0,
            "exif_property=ISO&exif_value=6400",
        ),
        m(
            "exif Model present",
            ImageQuery {
                exif_property: Some("Model".into()),
                ..d()
            },
            0,
            "exif_property=Model",
        ),
        m(
            "created_at 1 month",
            ImageQuery {
                created_at_from: Some(day(2024, 3, 1)),
                created_at_to: Some(end(day(2024, 3, 31))),
                ..d()
            },
            0,
            "created_at_from=2024-03-01&created_at_to=2024-03-31",
        ),
        m(
            "updated_at 1 week",
            ImageQuery {
                updated_at_from: Some(day(2023, 6, 1)),
                updated_at_to: Some(end(day(2023, 6, 7))),
                ..d()
            },
            0,
            "updated_at_from=2023-06-01&updated_at_to=2023-06-07",
        ),
        m(
            "creation_date 1 year",
            ImageQuery {
                creation_date_from: Some(day(2022, 1, 1)),
                creation_date_to: Some(end(day(2022, 12, 31))),
                ..d()
            },
            0,
            "creation_date_from=2022-01-01&creation_date_to=2022-12-31",
        ),
        m(
            "creation_date 1 month",
            ImageQuery {
                creation_date_from: Some(day(2022, 5, 1)),
                creation_date_to: Some(end(day(2022, 5, 31))),
                ..d()
            },
            0,
            "creation_date_from=2022-05-01&creation_date_to=2022-05-31",
        ),
        m(
            "creation_date 1 day",
            ImageQuery {
                creation_date_from: Some(day(2022, 5, 17)),
                creation_date_to: Some(end(day(2022, 5, 17))),
                ..d()
            },
            0,
            "creation_date_from=2022-05-17&creation_date_to=2022-05-17",
        ),
        m(
            "has_video=true",
            ImageQuery {
                has_video: Some(true),
                ..d()
            },
            0,
            "has_video=true",
        ),
        m(
            "has_video=false",
            ImageQuery {
                has_video: Some(false),
                ..d()
            },
            0,
            "has_video=false",
        ),
        m(
            "has_geo=true",
            ImageQuery {
                has_geo: Some(true),
                ..d()
            },
            0,
            "has_geo=true",
        ),
        m(
            "has_geo=false",
            ImageQuery {
                has_geo: Some(false),
                ..d()
            },
            0,
            "has_geo=false",
        ),
        m(
            "bbox Europe",
            ImageQuery {
                bbox: Some(europe),
                ..d()
            },
            0,
            "bbox=-10,36,30,60",
        ),
        m(
            "bbox Switzerland",
            ImageQuery {
                bbox: Some(swiss),
                ..d()
            },
            0,
            "bbox=5.9,45.8,10.5,47.8",
        ),
        m(
            "bbox Pacific (antimeridian)",
            ImageQuery {
                bbox: Some(pacific),
                ..d()
            },
            0,
            "bbox=170,-50,-170,10",
        ),
        m(
            "kw common + geo + min_rating 1",
            ImageQuery {
                keyword: kw("subject:word0"),
                has_geo: Some(true),
                min_rating: Some(1),
                ..d()
            },
            0,
            "keyword=subject:word0&has_geo=true&min_rating=1",
        ),
        m(
            "kw mid + no video + 2023",
            ImageQuery {
                keyword: val("word200"),
                has_video: Some(false),
                created_at_from: Some(day(2023, 1, 1)),
                created_at_to: Some(end(day(2023, 12, 31))),
                ..d()
            },
            0,
            "keyword=word200&has_video=false&created_at_from=2023-01-01&created_at_to=2023-12-31",
        ),
        m(
            "video + rating 5",
            ImageQuery {
                has_video: Some(true),
                rating: Some(5),
                ..d()
            },
            0,
            "has_video=true&rating=5",
        ),
        m(
            "Canon + min_rating 4 + geo",
            ImageQuery {
                exif_property: Some("Make".into()),
                exif_value: Some("Canon".into()),
                min_rating: Some(4),
                has_geo: Some(true),
                ..d()
            },
            0,
            "exif_property=Make&exif_value=Canon&min_rating=4&has_geo=true",
        ),
        m(
            "bbox Europe + kw common",
            ImageQuery {
                bbox: Some(europe),
                keyword: kw("place:word1"),
                ..d()
            },
            0,
            "bbox=-10,36,30,60&keyword=place:word1",
        ),
        m(
            "taken 2022 + geo + rating 3",
            ImageQuery {
                creation_date_from: Some(day(2022, 1, 1)),
                creation_date_to: Some(end(day(2022, 12, 31))),
                has_geo: Some(true),
                rating: Some(3),
                ..d()
            },
            0,
            "creation_date_from=2022-01-01&creation_date_to=2022-12-31&has_geo=true&rating=3",
        ),
        m(
            "sort taken + kw common",
            ImageQuery {
                keyword: val("word0"),
                sort: Sort::Taken,
                ..d()
            },
            0,
            "keyword=word0&sort=taken",
        ),
        m(
            "sort taken + kw mid",
            ImageQuery {
                keyword: val("word200"),
                sort: Sort::Taken,
                ..d()
            },
            0,
            "keyword=word200&sort=taken",
        ),
        m(
            "sort taken + kw whole (subject:word0)",
            ImageQuery {
                keyword: kw("subject:word0"),
                sort: Sort::Taken,
                ..d()
            },
            0,
            "keyword=subject:word0&sort=taken",
        ),
        m(
            "namespace subject (any keyword)",
            ImageQuery {
                keyword: Some(KeywordMatch::Namespace("subject".into())),
                ..d()
            },
            0,
            "namespace=subject",
        ),
        m(
            "namespace event + sort taken",
            ImageQuery {
                keyword: Some(KeywordMatch::Namespace("event".into())),
                sort: Sort::Taken,
                ..d()
            },
            0,
            "namespace=event&sort=taken",
        ),
        m(
            "namespace artist + rating 5",
            ImageQuery {
                keyword: Some(KeywordMatch::Namespace("artist".into())),
                rating: Some(5),
                ..d()
            },
            0,
            "namespace=artist&rating=5",
        ),
        m(
            "sort taken + geo",
            ImageQuery {
                has_geo: Some(true),
                sort: Sort::Taken,
                ..d()
            },
            0,
            "has_geo=true&sort=taken",
        ),
        m(
            "sort oldest + kw mid",
            ImageQuery {
                keyword: val("word200"),
                sort: Sort::Oldest,
                ..d()
            },
            0,
            "keyword=word200&sort=oldest",
        ),
        m(
            "Sony + kw rare",
            ImageQuery {
                exif_property: Some("Make".into()),
                exif_value: Some("Sony".into()),
                keyword: kw("place:word1499"),
                ..d()
            },
            0,
            "exif_property=Make&exif_value=Sony&keyword=place:word1499",
        ),
        m(
            "kw rare + video",
            ImageQuery {
                keyword: kw("place:word1499"),
                has_video: Some(true),
                ..d()
            },
            0,
            "keyword=place:word1499&has_video=true",
        ),
        m(
            "Swiss + min_rating 3",
            ImageQuery {
                bbox: Some(swiss),
                min_rating: Some(3),
                ..d()
            },
            0,
            "bbox=5.9,45.8,10.5,47.8&min_rating=3",
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn run(store: &Store, a: &Args) -> Result<(), BoxError> {
    let account = account_id(store, &a.account).await?;
    let engine = store.engine();
    let mut conn = store.read().await?;
    println!("| mix | rows | p50 ms | p99 ms | max ms | n |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let (mut all_ok, mut worst) = (true, ("", 0.0f64));
    for mix in mixes() {
        if let Some(only) = &a.mixes
            && !only.iter().any(|m| mix.name.starts_with(m.as_str()))
        {
            continue;
        }
        if a.explain {
            for line in
                image_list::explain(&mut conn, engine, &account, &mix.q, 51, mix.offset).await?
            {
                eprintln!("  [{}] {line}", mix.name);
            }
        }
        let warm = (a.iterations / 10).max(1);
        let mut times = Vec::with_capacity(a.iterations);
        let mut rows = 0;
        let started = Instant::now();
        for i in 0..(warm + a.iterations) {
            let t = Instant::now();
            let ids =
                image_list::list_ids(&mut conn, engine, &account, &mix.q, 51, mix.offset).await?;
            let took = t.elapsed();
            rows = ids.len();
            if i >= warm {
                times.push(took);
            }
            if started.elapsed().as_secs_f64() > a.max_seconds && times.len() >= 5 {
                break;
            }
        }
        times.sort();
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        let max = times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0);
        let flag = if p50 > 5.0 || p99 > 20.0 { " ✗" } else { "" };
        if !flag.is_empty() {
            all_ok = false;
        }
        if p99 > worst.1 {
            worst = (mix.name, p99);
        }
        println!(
            "| {}{} | {} | {:.2} | {:.2} | {:.2} | {} |",
            mix.name,
            flag,
            rows,
            p50,
            p99,
            max,
            times.len()
        );
    }
    eprintln!(
        "{}: worst p99 {:.2} ms ({}); every mix within p50 ≤ 5 ms, p99 ≤ 20 ms: {}",
        engine.name(),
        worst.1,
        worst.0,
        all_ok
    );
    Ok(())
}
