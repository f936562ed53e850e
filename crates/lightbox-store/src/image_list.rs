//! `GET /v1/images`: the ids of one page of an account's images, filtered
//! and sorted. The core checks the request and builds a [`ListQuery`]; this
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
//!   (`images_newest` / `images_taken`), whose extra columns answer the
//!   cheap filters without reading the row.

use sqlx::AssertSqlSafe;

use crate::{Conn, Engine, Result};

/// How a list is ordered. Ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Uploaded last first (`created_at DESC`).
    #[default]
    Newest,
    /// Uploaded first first (`created_at ASC`).
    Oldest,
    /// Taken last first (`creation_date DESC`); images without a known
    /// date come after every dated one, newest upload first.
    Taken,
}

/// Which keyword an image must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeywordMatch {
    /// The whole stored form, `axis:value` or a bare `value` (exact).
    Whole(String),
    /// This value in any namespace, or without one (exact).
    Value(String),
}

/// A box in degrees; `west > east` crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// The filters of one list, as plain checked values. `None` = no filter.
/// Time bounds are Unix microseconds and inclusive at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub keyword: Option<KeywordMatch>,
    pub rating: Option<i64>,
    pub min_rating: Option<i64>,
    /// With `exif_value`: that exact text value; alone: the property is present.
    pub exif_property: Option<String>,
    pub exif_value: Option<String>,
    pub created_at_from: Option<i64>,
    pub created_at_to: Option<i64>,
    pub updated_at_from: Option<i64>,
    pub updated_at_to: Option<i64>,
    pub creation_date_from: Option<i64>,
    pub creation_date_to: Option<i64>,
    pub has_video: Option<bool>,
    pub has_geo: Option<bool>,
    pub bbox: Option<GeoBox>,
    pub sort: SortOrder,
}

/// A bound value of the query being built.
enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Real(f64),
}

/// SQL text and its arguments, numbered as they are pushed.
struct Sql<'a> {
    text: String,
    args: Vec<Arg<'a>>,
}

impl<'a> Sql<'a> {
    /// Appends `fragment`, replacing each `?` with the next placeholder for
    /// the next of `args`. Fragments are fixed text from this module.
    fn push(&mut self, fragment: &str, args: impl IntoIterator<Item = Arg<'a>>) {
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
    /// `image_keywords k`, whole form or value.
    Keyword,
    /// `image_exif e`, property and value.
    Exif,
}

/// The ids of one page: `limit` ids from `offset` in the query's order.
/// Ask for `limit + 1` to learn whether another page follows.
pub async fn list_ids(
    conn: &mut Conn,
    engine: Engine,
    account_id: &str,
    q: &ListQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    let _ = engine; // one SQL text serves both engines
    let sql = build(account_id, q, limit, offset);
    let query = bind_all(
        sqlx::query_as::<_, (String,)>(AssertSqlSafe(sql.text)),
        sql.args,
    );
    Ok(query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
}

/// The plan the engine chooses for this list (`EXPLAIN QUERY PLAN` on
/// SQLite, `EXPLAIN` on PostgreSQL), one line per row: for benchmarks and
/// for tests that guard the plans.
pub async fn explain(
    conn: &mut Conn,
    engine: Engine,
    account_id: &str,
    q: &ListQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    let sql = build(account_id, q, limit, offset);
    Ok(match engine {
        Engine::Sqlite => {
            let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
            let query = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(text));
            bind_all(query, sql.args)
                .fetch_all(conn)
                .await?
                .into_iter()
                .map(|(_, _, _, detail)| detail)
                .collect()
        }
        Engine::Postgres => {
            let text = format!("EXPLAIN {}", sql.text);
            let query = sqlx::query_as::<_, (String,)>(AssertSqlSafe(text));
            bind_all(query, sql.args)
                .fetch_all(conn)
                .await?
                .into_iter()
                .map(|(line,)| line)
                .collect()
        }
    })
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    args: Vec<Arg<'q>>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::Real(v) => query.bind(v),
        };
    }
    query
}

/// True when a condition on the images row (not only on the driving
/// keyword or Exif row) must be checked.
fn needs_image_row(q: &ListQuery) -> bool {
    q.rating.is_some()
        || q.min_rating.is_some()
        || q.created_at_from.is_some()
        || q.created_at_to.is_some()
        || q.updated_at_from.is_some()
        || q.updated_at_to.is_some()
        || q.creation_date_from.is_some()
        || q.creation_date_to.is_some()
        || q.has_video.is_some()
        || q.has_geo.is_some()
        || q.bbox.is_some()
        || q.sort == SortOrder::Taken
}

fn build<'a>(account_id: &'a str, q: &'a ListQuery, limit: i64, offset: i64) -> Sql<'a> {
    let driver = if q.keyword.is_some() {
        Driver::Keyword
    } else if q.exif_property.is_some() && q.exif_value.is_some() {
        Driver::Exif
    } else {
        Driver::Images
    };
    let join = driver == Driver::Images || needs_image_row(q);
    let mut sql = Sql {
        text: String::with_capacity(512),
        args: Vec::with_capacity(16),
    };
    // The driving table's sort columns, for ORDER BY (newest/oldest).
    let (created, id) = match driver {
        Driver::Images => ("i.created_at", "i.id"),
        Driver::Keyword => ("k.image_created_at", "k.image_id"),
        Driver::Exif => ("e.image_created_at", "e.image_id"),
    };
    // A value match may meet one image twice (`sunset` and `sky:sunset`).
    let distinct = matches!(q.keyword, Some(KeywordMatch::Value(_)));
    sql.text.push_str("SELECT ");
    if distinct {
        sql.text.push_str("DISTINCT ");
    }
    sql.text.push_str(id);
    if distinct {
        // DISTINCT needs the ORDER BY columns in the select list.
        match q.sort {
            SortOrder::Taken => sql.text.push_str(", i.creation_date"),
            _ => {
                sql.text.push_str(", ");
                sql.text.push_str(created);
            }
        }
    }
    match driver {
        Driver::Images => {
            sql.push(
                " FROM images i WHERE i.account_id = ?",
                [Arg::Text(account_id)],
            );
        }
        Driver::Keyword => {
            sql.text.push_str(" FROM image_keywords k");
            if join {
                sql.text.push_str(" CROSS JOIN images i");
            }
            sql.push(" WHERE k.account_id = ?", [Arg::Text(account_id)]);
            match &q.keyword {
                Some(KeywordMatch::Whole(keyword)) => {
                    sql.push(" AND k.keyword = ?", [Arg::Text(keyword)]);
                }
                Some(KeywordMatch::Value(value)) => {
                    sql.push(" AND k.value = ?", [Arg::Text(value)]);
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
            sql.push(" WHERE e.account_id = ?", [Arg::Text(account_id)]);
            if let (Some(property), Some(value)) = (&q.exif_property, &q.exif_value) {
                sql.push(
                    " AND e.property = ? AND e.value = ?",
                    [Arg::Text(property), Arg::Text(value)],
                );
            }
            if join {
                sql.text.push_str(" AND i.id = e.image_id");
            }
        }
    }
    // Exif when it does not drive: a probe per candidate image.
    if driver != Driver::Exif
        && let Some(property) = &q.exif_property
    {
        let owner = if driver == Driver::Keyword {
            "k.image_id"
        } else {
            "i.id"
        };
        sql.text
            .push_str(" AND EXISTS (SELECT 1 FROM image_exif x WHERE x.image_id = ");
        sql.text.push_str(owner);
        match &q.exif_value {
            Some(value) => sql.push(
                " AND x.property = ? AND x.value = ?)",
                [Arg::Text(property), Arg::Text(value)],
            ),
            None => sql.push(" AND x.property = ?)", [Arg::Text(property)]),
        }
    }
    // Conditions on the images row.
    let ranges = [
        ("i.created_at", q.created_at_from, q.created_at_to),
        ("i.updated_at", q.updated_at_from, q.updated_at_to),
        ("i.creation_date", q.creation_date_from, q.creation_date_to),
    ];
    for (column, from, to) in ranges {
        if let Some(from) = from {
            sql.text.push_str(" AND ");
            sql.text.push_str(column);
            sql.push(" >= ?", [Arg::Int(from)]);
        }
        if let Some(to) = to {
            sql.text.push_str(" AND ");
            sql.text.push_str(column);
            sql.push(" <= ?", [Arg::Int(to)]);
        }
    }
    if let Some(rating) = q.rating {
        sql.push(" AND i.rating = ?", [Arg::Int(rating)]);
    }
    if let Some(min) = q.min_rating {
        sql.push(" AND i.rating >= ?", [Arg::Int(min)]);
    }
    match q.has_video {
        Some(true) => sql.text.push_str(" AND i.is_video = 1"),
        Some(false) => sql.text.push_str(" AND i.is_video = 0"),
        None => {}
    }
    match q.has_geo {
        Some(true) => sql.text.push_str(" AND i.lat IS NOT NULL"),
        Some(false) => sql.text.push_str(" AND i.lat IS NULL"),
        None => {}
    }
    if let Some(b) = q.bbox {
        sql.push(
            " AND i.lat >= ? AND i.lat <= ?",
            [Arg::Real(b.south), Arg::Real(b.north)],
        );
        if b.west <= b.east {
            sql.push(
                " AND i.lng >= ? AND i.lng <= ?",
                [Arg::Real(b.west), Arg::Real(b.east)],
            );
        } else {
            sql.push(
                " AND (i.lng >= ? OR i.lng <= ?)",
                [Arg::Real(b.west), Arg::Real(b.east)],
            );
        }
    }
    let order = match q.sort {
        SortOrder::Newest => format!(" ORDER BY {created} DESC, {id} DESC"),
        SortOrder::Oldest => format!(" ORDER BY {created} ASC, {id} ASC"),
        // NULL is the smallest value on SQLite; PostgreSQL needs telling.
        SortOrder::Taken => format!(" ORDER BY i.creation_date DESC NULLS LAST, {id} DESC"),
    };
    sql.text.push_str(&order);
    sql.push(" LIMIT ? OFFSET ?", [Arg::Int(limit), Arg::Int(offset)]);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        let q = ListQuery {
            keyword: Some(KeywordMatch::Whole("artist:Marina".into())),
            min_rating: Some(3),
            bbox: Some(GeoBox {
                west: 170.0,
                south: -50.0,
                east: -170.0,
                north: 10.0,
            }),
            ..ListQuery::default()
        };
        let sql = build("acc", &q, 51, 0);
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
        let q = ListQuery {
            keyword: Some(KeywordMatch::Whole("sunset".into())),
            ..ListQuery::default()
        };
        let sql = build("acc", &q, 51, 0);
        assert!(!sql.text.contains("images"), "{}", sql.text);
    }
}
