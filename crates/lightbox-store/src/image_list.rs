//! `GET /v1/images`: the ids of one page of an account's images, filtered
//! and sorted. The core checks the request and builds an [`ImageQuery`]; this
//! module turns it into one SQL text (the same on both engines) and returns
//! ids only — the caller loads the rows with `images::find_many`.
//!
//! How the query is shaped (see docs/performance.md, "GET /v1/images on
//! 1,000,000 images"):
//! - every filter is ANDed; every value is bound, only placeholders and fixed
//!   fragments are formatted in;
//! - a keyword or an Exif property + value *drives* the query: its index
//!   (`image_keywords_*`, `image_exif_value`) lists the matching images
//!   already in upload order (`image_created_at`, `image_id`), so a page of
//!   a newest- or oldest-first list reads about `offset + limit` index
//!   entries, and the images row is only read when an image filter needs it;
//!   `CROSS JOIN` keeps SQLite from turning that around (PostgreSQL plans
//!   it like any join);
//! - otherwise the images table is read through the index of the sort
//!   (`images_newest` / `images_taken`, or `images_rating` for one rating);
//! - a range filter on another column (`creation_date`, `updated_at`,
//!   `bbox`, `min_rating`) gives a choice the engines get wrong (SQLite has
//!   no statistics; PostgreSQL's assume no correlation): walk the sort order
//!   or read the whole range through its index and sort it. [`list_ids`]
//!   decides itself: it first walks a bounded prefix of the sort order
//!   (`LIMIT` in a subquery), which answers whenever the filters are not
//!   rare there, and otherwise reads the range through its index, the other
//!   columns written as expressions no index answers (see [`unindexed`]);
//!   on PostgreSQL, a range its statistics put at ≤ 20,000 entries
//!   (`COLLECT_FIRST_ROWS`) is read through its index at once;
//! - `updated_at <= t` implies `created_at <= t` (an image is changed after
//!   it is uploaded): the bound is added so that the walk starts there;
//! - the whole library from a deep offset starts at the day the offset falls
//!   in, found from per-day upload counts (`image_upload_days`), so only
//!   that day's images before the offset are walked past.

use sqlx::AssertSqlSafe;

use crate::sql::{self, Value, on_engine};
use crate::{Conn, Engine, Result, Timestamp};

pub use lightbox_query::{GeoBox, ImageQuery, KeywordMatch, Sort};

/// Whether the list is ordered by date taken: the database has no scores,
/// so an order by relevance lists as taken.
fn taken(q: &ImageQuery) -> bool {
    matches!(q.sort, Sort::Taken | Sort::Relevance)
}

/// SQL text and its arguments, numbered as they are pushed.
struct Sql<'a> {
    text: String,
    args: Vec<Value<'a>>,
}

impl<'a> Sql<'a> {
    /// Appends `fragment`, replacing each `?` with the next placeholder for
    /// the next of `args`. Fragments are fixed text from this module.
    fn push(&mut self, fragment: &str, args: impl IntoIterator<Item = Value<'a>>) {
        let mut args = args.into_iter();
        for (n, piece) in fragment.split('?').enumerate() {
            if n > 0 {
                if let Some(arg) = args.next() {
                    self.args.push(arg);
                }
                self.text.push('$');
                self.text.push_str(&self.args.len().to_string());
            }
            self.text.push_str(piece);
        }
    }
}

/// Where the rows come from: the table whose index yields the order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Driver {
    Images,
    /// `image_keywords k`, whole form, value or namespace.
    Keyword,
    /// `image_exif e`, property and value.
    Exif,
}

/// A filter whose own index can be read instead of the sort's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Range {
    CreationDate,
    UpdatedAt,
    /// `images_geo` (latitude first).
    Geo,
    /// `images_geo_lng` (longitude first): boxes narrower east–west than
    /// north–south, the antimeridian's among them.
    GeoLng,
    MinRating,
}

/// How the query is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// One query as it is; the engine picks the indexes.
    Direct,
    /// Only the first `rows` entries of the sort order are read (the sort
    /// index, or `images_rating` for one rating), then filtered.
    Walk { rows: i64 },
    /// Every match of the range is read through its index and sorted; the
    /// other columns are written so that no index answers them
    /// ([`unindexed`]).
    Collect(Range),
}

/// Entries of the sort order the bounded walk reads before it gives up:
/// the walk's indexes carry every filtered column, so this is an index-only
/// scan (≈ 2–3 ms on SQLite); filters matching ≥ 0.5 % of the newest images
/// are answered by the walk.
const WALK_MIN_ROWS: i64 = 10_000;
const WALK_ROWS_PER_RESULT: i64 = 40;

/// A range PostgreSQL's statistics put at no more entries than this is
/// read through its index at once, without the walk: reading it costs
/// about what a walk that finds nothing does (≈ 0.25 µs an entry on the
/// reference machine, docs/performance.md).
const COLLECT_FIRST_ROWS: i64 = 20_000;

/// How many of the account's images PostgreSQL's planner expects in the
/// range `range` reads (its index's leading column alone, as a collect
/// reads it): the `rows=` of `EXPLAIN`'s top line. `None` for a range not
/// worth estimating before the walk — one whose matches are, as a rule,
/// among the newest images: the images changed lately mostly are (a change
/// comes after the upload), and a minimum rating is too broad to be small —
/// and when the plan gives no figure.
async fn estimated_rows(
    conn: &mut Conn,
    account_id: &str,
    q: &ImageQuery,
    range: Range,
) -> Result<Option<i64>> {
    let mut sql = Sql {
        text: String::with_capacity(128),
        args: Vec::with_capacity(4),
    };
    sql.push(
        "EXPLAIN SELECT 1 FROM images i WHERE i.account_id = ?",
        [Value::Text(account_id)],
    );
    let (column, from, to) = match range {
        Range::CreationDate => (
            "creation_date",
            q.creation_date_from.map(|t| Value::Time(Timestamp(t))),
            q.creation_date_to.map(|t| Value::Time(Timestamp(t))),
        ),
        Range::Geo => (
            "lat",
            q.bbox.map(|b| Value::Real(b.south)),
            q.bbox.map(|b| Value::Real(b.north)),
        ),
        Range::GeoLng => (
            "lng",
            q.bbox.map(|b| Value::Real(b.west)),
            q.bbox.map(|b| Value::Real(b.east)),
        ),
        Range::UpdatedAt | Range::MinRating => return Ok(None),
    };
    let wraps = range == Range::GeoLng && q.bbox.is_some_and(|b| b.west > b.east);
    match (from, to) {
        (Some(from), Some(to)) if wraps => {
            sql.push(" AND (i.lng >= ? OR i.lng <= ?)", [from, to]);
        }
        (from, to) => {
            if let Some(from) = from {
                sql.push(&format!(" AND i.{column} >= ?"), [from]);
            }
            if let Some(to) = to {
                sql.push(&format!(" AND i.{column} <= ?"), [to]);
            }
        }
    }
    let plan = bind_all(
        sql::query_as::<(String,)>(AssertSqlSafe(sql.text.clone())),
        &sql.args,
    )
    .fetch_all(conn)
    .await?;
    // "Index Only Scan using images_taken on images i  (cost=… rows=16084 width=4)"
    let rows = plan
        .first()
        .and_then(|(line,)| line.split(" rows=").nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<i64>().ok());
    Ok(rows)
}

/// The ids of one page: `limit` ids from `offset` in the query's order.
/// Ask for `limit + 1` to learn whether another page follows. A set (or
/// live) filter is refused: only the search index answers it.
pub async fn list_ids(
    conn: &mut Conn,
    engine: Engine,
    account_id: &str,
    q: &ImageQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    if q.set.is_some() || q.live.is_some() {
        // Ignoring it would list images outside the set.
        return Err(crate::StoreError::Unanswerable(
            "a set filter of an image list (the search index answers it)",
        ));
    }
    if offset >= DEEP_OFFSET && upload_order_alone(q) {
        return match from_upload_day(conn, account_id, q, offset).await? {
            Some((q, offset)) => {
                fetch(conn, &build(account_id, &q, limit, offset, Shape::Direct)).await
            }
            None => Ok(Vec::new()),
        };
    }
    match collect_range(q) {
        None => fetch(conn, &build(account_id, q, limit, offset, Shape::Direct)).await,
        Some(range)
            if engine == Engine::Postgres
                && estimated_rows(conn, account_id, q, range)
                    .await?
                    .is_some_and(|rows| rows <= COLLECT_FIRST_ROWS) =>
        {
            fetch(
                conn,
                &build(account_id, q, limit, offset, Shape::Collect(range)),
            )
            .await
        }
        Some(range) => {
            let rows = offset
                .saturating_add(limit)
                .saturating_mul(WALK_ROWS_PER_RESULT)
                .max(WALK_MIN_ROWS);
            let walk = build(account_id, q, limit, offset, Shape::Walk { rows });
            let ids = fetch(&mut *conn, &walk).await?;
            if ids.len() as i64 >= limit {
                return Ok(ids);
            }
            fetch(
                conn,
                &build(account_id, q, limit, offset, Shape::Collect(range)),
            )
            .await
        }
    }
}

/// From this offset on, a list in upload order with no filter starts at the
/// day the offset falls in (`image_upload_days`) rather than walking past
/// every image before it; below it the walk is cheaper than the extra query.
const DEEP_OFFSET: i64 = 10_000;

/// True for the account's whole library newest or oldest first.
fn upload_order_alone(q: &ImageQuery) -> bool {
    let everything = ImageQuery {
        sort: q.sort,
        ..ImageQuery::default()
    };
    matches!(q.sort, Sort::Newest | Sort::Oldest) && *q == everything
}

/// A page of the whole library in upload order from a deep offset: the
/// day the offset falls in is found from the per-day counts, and the list
/// is read from that day's end (newest first) or start (oldest first), the
/// images of the days skipped taken off the offset. The query and offset
/// to read; `None` when the offset is past the last image.
async fn from_upload_day(
    conn: &mut Conn,
    account_id: &str,
    q: &ImageQuery,
    offset: i64,
) -> Result<Option<(ImageQuery, i64)>> {
    use crate::images::DAY;
    let newest = q.sort == Sort::Newest;
    let found = if newest {
        on_engine!(conn, images::upload_day_at_newest(account_id, offset))?
    } else {
        on_engine!(conn, images::upload_day_at_oldest(account_id, offset))?
    };
    Ok(found.map(|(day, skipped)| {
        let from_day = if newest {
            ImageQuery {
                created_at_to: Some(day.micros().saturating_add(DAY - 1)),
                ..q.clone()
            }
        } else {
            ImageQuery {
                created_at_from: Some(day.micros()),
                ..q.clone()
            }
        };
        (from_day, offset - skipped)
    }))
}

async fn fetch(conn: &mut Conn, sql: &Sql<'_>) -> Result<Vec<String>> {
    let query = bind_all(
        sql::query_as::<(String,)>(AssertSqlSafe(sql.text.clone())),
        &sql.args,
    );
    Ok(query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
}

/// The plans the engine chooses for this list (`EXPLAIN QUERY PLAN` on
/// SQLite, `EXPLAIN` on PostgreSQL), one line per row, each query's lines
/// after a `-- walk` / `-- collect` line when [`list_ids`] may run two: for
/// benchmarks and for tests that guard the plans.
pub async fn explain(
    conn: &mut Conn,
    engine: Engine,
    account_id: &str,
    q: &ImageQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    if offset >= DEEP_OFFSET && upload_order_alone(q) {
        let mut lines = vec!["-- from the upload day".to_owned()];
        if let Some((q, offset)) = from_upload_day(conn, account_id, q, offset).await? {
            let sql = build(account_id, &q, limit, offset, Shape::Direct);
            lines.extend(explain_one(conn, engine, &sql).await?);
        }
        return Ok(lines);
    }
    let mut lines = Vec::new();
    let estimate = match (collect_range(q), engine) {
        (Some(range), Engine::Postgres) => estimated_rows(conn, account_id, q, range).await?,
        _ => None,
    };
    if let (Some(range), Some(rows)) = (collect_range(q), estimate) {
        lines.push(format!("-- {range:?} estimated at {rows} rows"));
    }
    let shapes = match collect_range(q) {
        None => vec![Shape::Direct],
        Some(range) if estimate.is_some_and(|rows| rows <= COLLECT_FIRST_ROWS) => {
            vec![Shape::Collect(range)]
        }
        Some(range) => vec![
            Shape::Walk {
                rows: WALK_MIN_ROWS,
            },
            Shape::Collect(range),
        ],
    };
    for shape in shapes {
        match shape {
            Shape::Direct => {}
            Shape::Walk { .. } => lines.push("-- walk".to_owned()),
            Shape::Collect(range) => lines.push(format!("-- collect {range:?}")),
        }
        let sql = build(account_id, q, limit, offset, shape);
        lines.extend(explain_one(conn, engine, &sql).await?);
    }
    Ok(lines)
}

/// The plan of one query, one line per row.
async fn explain_one(conn: &mut Conn, engine: Engine, sql: &Sql<'_>) -> Result<Vec<String>> {
    Ok(match engine {
        Engine::Sqlite => {
            let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
            let query = sql::query_as::<(i64, i64, i64, String)>(AssertSqlSafe(text));
            bind_all(query, &sql.args)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|(_, _, _, detail)| detail)
                .collect()
        }
        Engine::Postgres => {
            let text = format!("EXPLAIN {}", sql.text);
            let query = sql::query_as::<(String,)>(AssertSqlSafe(text));
            bind_all(query, &sql.args)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|(line,)| line)
                .collect()
        }
    })
}

fn bind_all<'q, O: sql::Record>(
    mut query: sql::QueryAs<'q, O>,
    args: &[Value<'q>],
) -> sql::QueryAs<'q, O> {
    for arg in args {
        query = query.bind(*arg);
    }
    query
}

fn driver(q: &ImageQuery) -> Driver {
    match &q.keyword {
        // Taken first by namespace: no index has that order; the namespace is
        // checked per image along `images_taken`.
        // A namespace is broad (often most images): with any condition on
        // the images row, the images' indexes find a page sooner and the
        // namespace is probed per image.
        Some(KeywordMatch::Namespace(_)) if taken(q) || image_filter(q) => Driver::Images,
        Some(_) => Driver::Keyword,
        // Exif rows carry no taken date: taken first walks `images_taken`.
        None if q.exif_property.is_some() && q.exif_value.is_some() && !taken(q) => Driver::Exif,
        None => Driver::Images,
    }
}

/// The range whose index may be read instead of walking the sort order,
/// when the images table drives; `None`: one query.
fn collect_range(q: &ImageQuery) -> Option<Range> {
    if driver(q) != Driver::Images {
        return None;
    }
    let taken = taken(q);
    if !taken && (q.creation_date_from.is_some() || q.creation_date_to.is_some()) {
        Some(Range::CreationDate)
    } else if q.updated_at_from.is_some() || q.updated_at_to.is_some() {
        Some(Range::UpdatedAt)
    } else if let Some(b) = q.bbox {
        // The share of the world each index would read.
        let lat = (b.north - b.south) / 180.0;
        let lng = if b.west <= b.east {
            b.east - b.west
        } else {
            360.0 - (b.west - b.east)
        } / 360.0;
        Some(if lng < lat { Range::GeoLng } else { Range::Geo })
    } else if q.min_rating.is_some() && q.rating.is_none() {
        Some(Range::MinRating)
    } else {
        None
    }
}

/// True when a condition on the images row (not only on the driving
/// keyword or Exif row) must be checked. A keyword row carries whether its
/// image is a video (`image_is_video`).
fn needs_image_row(q: &ImageQuery, driver: Driver) -> bool {
    let video_on_image = q.has_video.is_some() && driver != Driver::Keyword;
    image_filter_but_video(q) || video_on_image || (taken(q) && driver != Driver::Keyword)
}

/// True when a filter is on a column of the images row.
fn image_filter(q: &ImageQuery) -> bool {
    image_filter_but_video(q) || q.has_video.is_some()
}

fn image_filter_but_video(q: &ImageQuery) -> bool {
    q.rating.is_some()
        || q.min_rating.is_some()
        || q.created_at_from.is_some()
        || q.created_at_to.is_some()
        || q.updated_at_from.is_some()
        || q.updated_at_to.is_some()
        || q.creation_date_from.is_some()
        || q.creation_date_to.is_some()
        || q.has_geo.is_some()
        || q.bbox.is_some()
}

/// `i.column`, or an expression of it when its index must not be used.
fn col(column: &str, off: bool) -> String {
    let column = format!("i.{column}");
    if off { unindexed(&column) } else { column }
}

/// The value of `expr` written so that no index answers it: an index only
/// serves a bare column on either engine. Unary plus for numbers (a no-op
/// on both); instants are a timestamptz on PostgreSQL, which has no unary
/// plus, so `COALESCE(x, x)`.
fn unindexed(expr: &str) -> String {
    let column = expr.rsplit('.').next().unwrap_or(expr);
    if column.ends_with("_at") || column.ends_with("creation_date") {
        format!("COALESCE({expr}, {expr})")
    } else {
        format!("+{expr}")
    }
}

/// Which longitudes of a box across the antimeridian one query reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The whole box (`lng >= west OR lng <= east`).
    Both,
    /// `lng >= west`.
    East,
    /// `lng <= east`.
    West,
}

fn build<'a>(
    account_id: &'a str,
    q: &'a ImageQuery,
    limit: i64,
    offset: i64,
    shape: Shape,
) -> Sql<'a> {
    let mut sql = Sql {
        text: String::with_capacity(512),
        args: Vec::with_capacity(16),
    };
    let wraps = q.bbox.is_some_and(|b| b.west > b.east);
    if shape == Shape::Collect(Range::GeoLng) && wraps {
        // A box across the antimeridian read through the longitude index:
        // two ranges of it, as two queries (an OR would read all of it).
        let order = if taken(q) {
            "creation_date"
        } else {
            "created_at"
        };
        sql.text.push_str("SELECT u.id FROM (");
        build_part(&mut sql, account_id, q, limit, offset, shape, Side::East);
        sql.text.push_str(" UNION ALL ");
        build_part(&mut sql, account_id, q, limit, offset, shape, Side::West);
        sql.text.push_str(") u");
        sql.text.push_str(&match q.sort {
            Sort::Newest => format!(" ORDER BY u.{order} DESC, u.id DESC"),
            Sort::Oldest => format!(" ORDER BY u.{order} ASC, u.id ASC"),
            Sort::Taken | Sort::Relevance => {
                format!(" ORDER BY u.{order} DESC NULLS LAST, u.id DESC")
            }
        });
        sql.push(" LIMIT ? OFFSET ?", [Value::Int(limit), Value::Int(offset)]);
    } else {
        build_part(&mut sql, account_id, q, limit, offset, shape, Side::Both);
    }
    sql
}

/// One query (`Side::Both`: with its ORDER BY and LIMIT), or one side of a
/// box across the antimeridian (the id and the sort column, unordered).
fn build_part<'a>(
    sql: &mut Sql<'a>,
    account_id: &'a str,
    q: &'a ImageQuery,
    limit: i64,
    offset: i64,
    shape: Shape,
    side: Side,
) {
    let driver = driver(q);
    let join = driver == Driver::Images || needs_image_row(q, driver);
    let taken = taken(q);
    // The driving table's sort columns, for ORDER BY.
    let (created, taken_col, id) = match driver {
        Driver::Images => ("i.created_at", "i.creation_date", "i.id"),
        Driver::Keyword => ("k.image_created_at", "k.image_creation_date", "k.image_id"),
        Driver::Exif => ("e.image_created_at", "i.creation_date", "e.image_id"),
    };
    let order_col = if taken { taken_col } else { created };
    // A value or namespace match may meet one image twice.
    let distinct = matches!(
        q.keyword,
        Some(KeywordMatch::Value(_) | KeywordMatch::Namespace(_))
    ) && driver == Driver::Keyword;
    // Which columns' indexes are off (Collect), and which range is read.
    let (collect, range) = match shape {
        Shape::Collect(range) => (true, Some(range)),
        _ => (false, None),
    };
    let off = |r: Range| collect && range != Some(r);
    sql.text.push_str("SELECT ");
    if distinct {
        sql.text.push_str("DISTINCT ");
    }
    sql.text.push_str(id);
    if distinct || side != Side::Both {
        // DISTINCT and the union need the ORDER BY columns in the select list.
        sql.text.push_str(", ");
        sql.text.push_str(order_col);
    }
    match driver {
        Driver::Images => match shape {
            Shape::Walk { rows } => {
                // The first `rows` entries of the sort order, then the filters.
                sql.push(
                    " FROM (SELECT id, account_id, created_at, updated_at, creation_date, rating, \
                     is_video, lat, lng FROM images WHERE account_id = ?",
                    [Value::Text(account_id)],
                );
                if !taken && let Some(rating) = q.rating {
                    sql.push(" AND rating = ?", [Value::Int(rating)]);
                }
                if let Some(from) = q.created_at_from {
                    sql.push(" AND created_at >= ?", [Value::Time(Timestamp(from))]);
                }
                if let Some(to) = created_at_to(q) {
                    sql.push(" AND created_at <= ?", [Value::Time(Timestamp(to))]);
                }
                if taken {
                    sql.push(
                        " ORDER BY creation_date DESC NULLS LAST, id DESC LIMIT ?) i WHERE 1 = 1",
                        [Value::Int(rows)],
                    );
                } else if q.sort == Sort::Oldest {
                    sql.push(
                        " ORDER BY created_at ASC, id ASC LIMIT ?) i WHERE 1 = 1",
                        [Value::Int(rows)],
                    );
                } else {
                    sql.push(
                        " ORDER BY created_at DESC, id DESC LIMIT ?) i WHERE 1 = 1",
                        [Value::Int(rows)],
                    );
                }
            }
            _ => sql.push(
                " FROM images i WHERE i.account_id = ?",
                [Value::Text(account_id)],
            ),
        },
        Driver::Keyword => {
            sql.text.push_str(" FROM image_keywords k");
            if join {
                sql.text.push_str(" CROSS JOIN images i");
            }
            sql.push(" WHERE k.account_id = ?", [Value::Text(account_id)]);
            match &q.keyword {
                Some(KeywordMatch::Whole(keyword)) => {
                    sql.push(" AND k.keyword = ?", [Value::Text(keyword)]);
                }
                Some(KeywordMatch::Value(value)) => {
                    sql.push(" AND k.value = ?", [Value::Text(value)]);
                }
                Some(KeywordMatch::Namespace(ns)) => {
                    sql.push(" AND k.namespace = ?", [Value::Text(ns)]);
                }
                None => {}
            }
            if join {
                sql.text.push_str(" AND i.id = k.image_id");
            }
        }
        Driver::Exif => {
            sql.text.push_str(" FROM image_exif e");
            if join {
                sql.text.push_str(" CROSS JOIN images i");
            }
            sql.push(" WHERE e.account_id = ?", [Value::Text(account_id)]);
            if let (Some(property), Some(value)) = (&q.exif_property, &q.exif_value) {
                sql.push(
                    " AND e.property = ? AND e.value = ?",
                    [Value::Text(property), Value::Text(value)],
                );
            }
            if join {
                sql.text.push_str(" AND i.id = e.image_id");
            }
        }
    }
    let owner = match driver {
        Driver::Images => "i.id",
        Driver::Keyword => "k.image_id",
        Driver::Exif => "e.image_id",
    };
    // A keyword when it does not drive: a probe per candidate image.
    if driver == Driver::Images
        && let Some(keyword) = &q.keyword
    {
        sql.text
            .push_str(" AND EXISTS (SELECT 1 FROM image_keywords y WHERE y.image_id = ");
        sql.text.push_str(owner);
        match keyword {
            KeywordMatch::Whole(k) => sql.push(" AND y.keyword = ?)", [Value::Text(k)]),
            KeywordMatch::Value(v) => sql.push(" AND y.value = ?)", [Value::Text(v)]),
            KeywordMatch::Namespace(n) => sql.push(" AND y.namespace = ?)", [Value::Text(n)]),
        }
    }
    // Exif when it does not drive: a probe per candidate image.
    if driver != Driver::Exif
        && let Some(property) = &q.exif_property
    {
        sql.text
            .push_str(" AND EXISTS (SELECT 1 FROM image_exif x WHERE x.image_id = ");
        sql.text.push_str(owner);
        match &q.exif_value {
            Some(value) => sql.push(
                " AND x.property = ? AND x.value = ?)",
                [Value::Text(property), Value::Text(value)],
            ),
            None => sql.push(" AND x.property = ?)", [Value::Text(property)]),
        }
    }
    // The upload time is copied into the driving keyword or Exif row: its
    // range is also checked there, where the index can seek to it.
    if driver != Driver::Images {
        if let Some(from) = q.created_at_from {
            sql.text.push_str(" AND ");
            sql.text.push_str(created);
            sql.push(" >= ?", [Value::Time(Timestamp(from))]);
        }
        if let Some(to) = created_at_to(q) {
            sql.text.push_str(" AND ");
            sql.text.push_str(created);
            sql.push(" <= ?", [Value::Time(Timestamp(to))]);
        }
    }
    // Conditions on the images row.
    let ranges = [
        (
            col("created_at", collect),
            q.created_at_from,
            created_at_to(q),
        ),
        (
            col("updated_at", off(Range::UpdatedAt)),
            q.updated_at_from,
            q.updated_at_to,
        ),
        (
            col("creation_date", off(Range::CreationDate)),
            q.creation_date_from,
            q.creation_date_to,
        ),
    ];
    for (column, from, to) in ranges {
        if let Some(from) = from {
            sql.text.push_str(" AND ");
            sql.text.push_str(&column);
            sql.push(" >= ?", [Value::Time(Timestamp(from))]);
        }
        if let Some(to) = to {
            sql.text.push_str(" AND ");
            sql.text.push_str(&column);
            sql.push(" <= ?", [Value::Time(Timestamp(to))]);
        }
    }
    let rating = col("rating", off(Range::MinRating));
    if let Some(r) = q.rating {
        sql.text.push_str(" AND ");
        sql.text.push_str(&rating);
        sql.push(" = ?", [Value::Int(r)]);
    }
    if let Some(min) = q.min_rating {
        sql.text.push_str(" AND ");
        sql.text.push_str(&rating);
        sql.push(" >= ?", [Value::Int(min)]);
    }
    let is_video = match driver {
        Driver::Keyword => "k.image_is_video",
        Driver::Images | Driver::Exif => "i.is_video",
    };
    match q.has_video {
        Some(true) => sql.text.push_str(&format!(" AND {is_video} = TRUE")),
        Some(false) => sql.text.push_str(&format!(" AND {is_video} = FALSE")),
        None => {}
    }
    // Collect: the index of the other axis is off.
    let (lat, lng) = (col("lat", off(Range::Geo)), col("lng", off(Range::GeoLng)));
    match q.has_geo {
        Some(true) => sql.text.push_str(&format!(" AND {lat} IS NOT NULL")),
        Some(false) => sql.text.push_str(&format!(" AND {lat} IS NULL")),
        None => {}
    }
    if let Some(b) = q.bbox {
        sql.push(
            &format!(" AND {lat} >= ? AND {lat} <= ?"),
            [Value::Real(b.south), Value::Real(b.north)],
        );
        if b.west <= b.east {
            sql.push(
                &format!(" AND {lng} >= ? AND {lng} <= ?"),
                [Value::Real(b.west), Value::Real(b.east)],
            );
        } else {
            match side {
                Side::Both => sql.push(
                    &format!(" AND ({lng} >= ? OR {lng} <= ?)"),
                    [Value::Real(b.west), Value::Real(b.east)],
                ),
                Side::East => sql.push(&format!(" AND {lng} >= ?"), [Value::Real(b.west)]),
                Side::West => sql.push(&format!(" AND {lng} <= ?"), [Value::Real(b.east)]),
            }
        }
    }
    if side != Side::Both {
        return;
    }
    // Collect: keep the engine from walking the sort index.
    let sort_key = |expr: &str| {
        if collect {
            unindexed(expr)
        } else {
            expr.to_owned()
        }
    };
    let order = match q.sort {
        Sort::Newest => format!(" ORDER BY {} DESC, {id} DESC", sort_key(created)),
        Sort::Oldest => format!(" ORDER BY {} ASC, {id} ASC", sort_key(created)),
        // NULL is the smallest value on SQLite; PostgreSQL needs telling.
        Sort::Taken | Sort::Relevance => format!(
            " ORDER BY {} DESC NULLS LAST, {id} DESC",
            sort_key(taken_col)
        ),
    };
    sql.text.push_str(&order);
    sql.push(" LIMIT ? OFFSET ?", [Value::Int(limit), Value::Int(offset)]);
}

/// The upper bound of `created_at`: the filter's, or `updated_at_to` when
/// lower (an image is changed after it is uploaded).
fn created_at_to(q: &ImageQuery) -> Option<i64> {
    match (q.created_at_to, q.updated_at_to) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        let q = ImageQuery {
            keyword: Some(KeywordMatch::Whole("artist:Marina".into())),
            min_rating: Some(3),
            bbox: Some(GeoBox {
                west: 170.0,
                south: -50.0,
                east: -170.0,
                north: 10.0,
            }),
            ..ImageQuery::default()
        };
        let sql = build("acc", &q, 51, 0, Shape::Direct);
        assert!(sql.text.contains("k.keyword = $2"), "{}", sql.text);
        assert!(sql.text.contains("i.rating >= $3"), "{}", sql.text);
        assert!(
            sql.text.contains("(i.lng >= $6 OR i.lng <= $7)"),
            "{}",
            sql.text
        );
        assert!(sql.text.ends_with("LIMIT $8 OFFSET $9"), "{}", sql.text);
        assert_eq!(sql.args.len(), 9);
    }

    #[test]
    fn keyword_alone_reads_no_image_rows() {
        let q = ImageQuery {
            keyword: Some(KeywordMatch::Whole("sunset".into())),
            ..ImageQuery::default()
        };
        let sql = build("acc", &q, 51, 0, Shape::Direct);
        assert!(!sql.text.contains("images"), "{}", sql.text);
    }
}
