//! Editorial data beside an image row: keywords (removal, renaming, the
//! vocabulary's counts), crops, credit lines and metadata profiles.
//!
//! `keyword_counts` is kept in step here and in `images::add_keywords` /
//! `images::delete`, in the same transaction as the keyword rows, so the
//! vocabulary never drifts from the images. Counts are bumped in keyword
//! order: two writers touching the same keywords lock them in one order
//! (no PostgreSQL deadlock).

use sqlx::{AssertSqlSafe, FromRow};

use crate::sql;
use crate::{Conn, Result};

// --- keyword counts ---------------------------------------------------------

/// Adds `delta` to a keyword's count; a count that reaches 0 is removed.
pub(crate) async fn bump_keyword(
    conn: &mut Conn,
    account_id: &str,
    keyword: &str,
    namespace: Option<&str>,
    value: &str,
    delta: i64,
) -> Result<()> {
    sql::query(
        "INSERT INTO keyword_counts (account_id, keyword, namespace, value, folded, count)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, keyword) DO UPDATE SET count = keyword_counts.count + $6",
    )
    .bind(account_id)
    .bind(keyword)
    .bind(namespace)
    .bind(value)
    .bind(keyword.to_lowercase())
    .bind(delta)
    .execute(&mut *conn)
    .await?;
    if delta < 0 {
        sql::query(
            "DELETE FROM keyword_counts WHERE account_id = $1 AND keyword = $2 AND count <= 0",
        )
        .bind(account_id)
        .bind(keyword)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Takes away the counts of every keyword of an image (before it is deleted).
pub(crate) async fn uncount_image_keywords(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
) -> Result<()> {
    let rows: Vec<(String, Option<String>, String)> = sql::query_as(
        "SELECT keyword, namespace, value FROM image_keywords WHERE image_id = $1 ORDER BY keyword",
    )
    .bind(image_id)
    .fetch_all(&mut *conn)
    .await?;
    for (keyword, namespace, value) in rows {
        bump_keyword(conn, account_id, &keyword, namespace.as_deref(), &value, -1).await?;
    }
    Ok(())
}

/// Removes one keyword (whole form) from an image. False when it had none.
pub async fn remove_keyword(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
    keyword: &str,
) -> Result<bool> {
    let gone: Option<(Option<String>, String)> = sql::query_as(
        "DELETE FROM image_keywords WHERE image_id = $1 AND keyword = $2 AND account_id = $3
         RETURNING namespace, value",
    )
    .bind(image_id)
    .bind(keyword)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    match gone {
        Some((namespace, value)) => {
            bump_keyword(conn, account_id, keyword, namespace.as_deref(), &value, -1).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Renames `from` to `to` on one image, keeping its place; an image that
/// already has `to` just loses `from`. False when the image had no `from`.
pub async fn rename_keyword(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
    from: &str,
    to: (&str, Option<&str>, &str),
) -> Result<bool> {
    let (to_keyword, to_namespace, to_value) = to;
    let (has_to,): (i64,) =
        sql::query_as("SELECT COUNT(*) FROM image_keywords WHERE image_id = $1 AND keyword = $2")
            .bind(image_id)
            .bind(to_keyword)
            .fetch_one(&mut *conn)
            .await?;
    if has_to > 0 {
        return remove_keyword(conn, account_id, image_id, from).await;
    }
    let had: Option<(Option<String>, String)> = sql::query_as(
        "SELECT namespace, value FROM image_keywords
         WHERE image_id = $1 AND keyword = $2 AND account_id = $3",
    )
    .bind(image_id)
    .bind(from)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((from_namespace, from_value)) = had else {
        return Ok(false);
    };
    sql::query(
        "UPDATE image_keywords SET keyword = $1, namespace = $2, value = $3
         WHERE image_id = $4 AND keyword = $5",
    )
    .bind(to_keyword)
    .bind(to_namespace)
    .bind(to_value)
    .bind(image_id)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    // In keyword order (see the module note).
    let mut bumps = [
        (from, from_namespace.as_deref(), from_value.as_str(), -1),
        (to_keyword, to_namespace, to_value, 1),
    ];
    bumps.sort_by(|a, b| a.0.cmp(b.0));
    for (keyword, namespace, value, delta) in bumps {
        bump_keyword(conn, account_id, keyword, namespace, value, delta).await?;
    }
    Ok(true)
}

/// Up to `limit` images of the account with this keyword, by id after `after`.
pub async fn images_with_keyword(
    conn: &mut Conn,
    account_id: &str,
    keyword: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sql::query_as(
        "SELECT image_id FROM image_keywords WHERE account_id = $1 AND keyword = $2 AND image_id > $3
         ORDER BY image_id LIMIT $4",
    )
    .bind(account_id)
    .bind(keyword)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// How many images carry the keyword.
pub async fn keyword_count(conn: &mut Conn, account_id: &str, keyword: &str) -> Result<i64> {
    let row: Option<(i64,)> =
        sql::query_as("SELECT count FROM keyword_counts WHERE account_id = $1 AND keyword = $2")
            .bind(account_id)
            .bind(keyword)
            .fetch_optional(conn)
            .await?;
    Ok(row.map_or(0, |r| r.0))
}

#[derive(Debug, Clone, FromRow)]
pub struct VocabularyRow {
    pub keyword: String,
    pub namespace: Option<String>,
    pub value: String,
    pub count: i64,
}

/// Which keywords `vocabulary` lists, and in which order.
#[derive(Debug, Clone, Default)]
pub struct VocabularyQuery {
    /// Only keywords in this namespace.
    pub namespace: Option<String>,
    /// Lowercase prefix of the whole keyword (or, with `namespace`, of the value).
    pub folded_prefix: Option<String>,
    /// Most used first (else alphabetical).
    pub by_count: bool,
}

/// The vocabulary with counts, one page.
pub async fn vocabulary(
    conn: &mut Conn,
    account_id: &str,
    q: &VocabularyQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<VocabularyRow>> {
    let mut sql = String::from(
        "SELECT keyword, namespace, value, count FROM keyword_counts WHERE account_id = $1",
    );
    let mut binds: Vec<String> = Vec::new();
    if let Some(ns) = &q.namespace {
        binds.push(ns.clone());
        sql.push_str(&format!(" AND namespace = ${}", binds.len() + 1));
    }
    if let Some(prefix) = &q.folded_prefix {
        // Within a namespace the prefix is the value's: "ns:" + prefix.
        let whole = match &q.namespace {
            Some(ns) => format!("{}:{prefix}", ns.to_lowercase()),
            None => prefix.clone(),
        };
        binds.push(whole.clone());
        binds.push(format!("{whole}\u{10FFFF}"));
        sql.push_str(&format!(
            " AND folded >= ${} AND folded < ${}",
            binds.len(),
            binds.len() + 1
        ));
    }
    sql.push_str(if q.by_count {
        " ORDER BY count DESC, keyword"
    } else {
        " ORDER BY folded, keyword"
    });
    sql.push_str(&format!(
        " LIMIT ${} OFFSET ${}",
        binds.len() + 2,
        binds.len() + 3
    ));
    let mut query = sql::query_as::<VocabularyRow>(AssertSqlSafe(sql)).bind(account_id);
    for b in binds {
        query = query.bind(b);
    }
    Ok(query.bind(limit).bind(offset).fetch_all(conn).await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct NamespaceRow {
    pub namespace: String,
    /// Distinct keywords in the namespace.
    pub keywords: i64,
    /// Keyword uses (image × keyword pairs).
    pub uses: i64,
}

pub async fn namespaces(
    conn: &mut Conn,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<NamespaceRow>> {
    Ok(sql::query_as(
        "SELECT namespace, COUNT(*) AS keywords, CAST(SUM(count) AS BIGINT) AS uses FROM keyword_counts
         WHERE account_id = $1 AND namespace IS NOT NULL
         GROUP BY namespace ORDER BY namespace LIMIT $2 OFFSET $3",
    )
    .bind(account_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?)
}

// --- crops ------------------------------------------------------------------

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct CropRow {
    pub image_id: String,
    pub aspect_ratio: String,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

pub async fn put_crop(conn: &mut Conn, crop: &CropRow) -> Result<()> {
    sql::query(
        "INSERT INTO image_crops (image_id, aspect_ratio, x, y, width, height)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (image_id, aspect_ratio)
         DO UPDATE SET x = $3, y = $4, width = $5, height = $6",
    )
    .bind(&crop.image_id)
    .bind(&crop.aspect_ratio)
    .bind(crop.x)
    .bind(crop.y)
    .bind(crop.width)
    .bind(crop.height)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes one crop, or every crop of the image; how many went.
pub async fn delete_crops(
    conn: &mut Conn,
    image_id: &str,
    aspect_ratio: Option<&str>,
) -> Result<u64> {
    let done = match aspect_ratio {
        Some(ratio) => {
            sql::query("DELETE FROM image_crops WHERE image_id = $1 AND aspect_ratio = $2")
                .bind(image_id)
                .bind(ratio)
                .execute(conn)
                .await?
        }
        None => {
            sql::query("DELETE FROM image_crops WHERE image_id = $1")
                .bind(image_id)
                .execute(conn)
                .await?
        }
    };
    Ok(done.rows_affected())
}

pub async fn crops_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<CropRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT image_id, aspect_ratio, x, y, width, height FROM image_crops
         WHERE {} ORDER BY image_id, aspect_ratio",
        sql::one_of(conn.engine(), "image_id", 1)
    );
    let query = sql::query_as::<CropRow>(AssertSqlSafe(sql)).bind(sql::TextList(image_ids));
    Ok(query.fetch_all(conn).await?)
}

// --- credit lines -----------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct CreditRow {
    pub id: String,
    pub image_id: String,
    pub role: String,
    pub name: String,
}

/// Adds a credit line after the image's others; how many it has now.
pub async fn add_credit(conn: &mut Conn, credit: &CreditRow, now: i64) -> Result<i64> {
    sql::query(
        "INSERT INTO image_credits (id, image_id, role, name, position, created_at)
         SELECT $1, $2, $3, $4, COALESCE(MAX(position), -1) + 1, $5
         FROM image_credits WHERE image_id = $2",
    )
    .bind(&credit.id)
    .bind(&credit.image_id)
    .bind(&credit.role)
    .bind(&credit.name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let (count,): (i64,) = sql::query_as("SELECT COUNT(*) FROM image_credits WHERE image_id = $1")
        .bind(&credit.image_id)
        .fetch_one(conn)
        .await?;
    Ok(count)
}

pub async fn delete_credit(conn: &mut Conn, image_id: &str, credit_id: &str) -> Result<bool> {
    let done = sql::query("DELETE FROM image_credits WHERE image_id = $1 AND id = $2")
        .bind(image_id)
        .bind(credit_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn credits_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<CreditRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, image_id, role, name FROM image_credits
         WHERE {} ORDER BY image_id, position",
        sql::one_of(conn.engine(), "image_id", 1)
    );
    let query = sql::query_as::<CreditRow>(AssertSqlSafe(sql)).bind(sql::TextList(image_ids));
    Ok(query.fetch_all(conn).await?)
}

// --- metadata profiles ------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct ProfileRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// JSON object of IPTC fields.
    pub fields: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Creates a profile, or replaces the fields of the one with this name.
pub async fn upsert_profile(conn: &mut Conn, row: &ProfileRow) -> Result<ProfileRow> {
    Ok(sql::query_as(
        "INSERT INTO metadata_profiles (id, account_id, name, fields, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, name) DO UPDATE SET fields = $4, updated_at = $6
         RETURNING id, account_id, name, fields, created_at, updated_at",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.name)
    .bind(&row.fields)
    .bind(row.created_at)
    .bind(row.updated_at)
    .fetch_one(conn)
    .await?)
}

pub async fn profiles(conn: &mut Conn, account_id: &str) -> Result<Vec<ProfileRow>> {
    Ok(sql::query_as(
        "SELECT id, account_id, name, fields, created_at, updated_at FROM metadata_profiles
         WHERE account_id = $1 ORDER BY name, id",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?)
}

/// A profile by uuid or name.
pub async fn find_profile(
    conn: &mut Conn,
    account_id: &str,
    name_or_id: &str,
) -> Result<Option<ProfileRow>> {
    Ok(sql::query_as(
        "SELECT id, account_id, name, fields, created_at, updated_at FROM metadata_profiles
         WHERE account_id = $1 AND (id = $2 OR name = $2) ORDER BY (id = $2) DESC LIMIT 1",
    )
    .bind(account_id)
    .bind(name_or_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete_profile(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    sql::query("UPDATE memberships SET metadata_profile_id = NULL WHERE account_id = $1 AND metadata_profile_id = $2")
        .bind(account_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sql::query("DELETE FROM metadata_profiles WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Makes a profile (or none) a member's default. False when not a member.
pub async fn set_default_profile(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
    profile_id: Option<&str>,
) -> Result<bool> {
    let done = sql::query(
        "UPDATE memberships SET metadata_profile_id = $1 WHERE account_id = $2 AND user_id = $3",
    )
    .bind(profile_id)
    .bind(account_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The member's default profile, if any.
pub async fn default_profile(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
) -> Result<Option<ProfileRow>> {
    Ok(sql::query_as(
        "SELECT p.id, p.account_id, p.name, p.fields, p.created_at, p.updated_at
         FROM memberships m JOIN metadata_profiles p ON p.id = m.metadata_profile_id
         WHERE m.account_id = $1 AND m.user_id = $2",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// Members whose default is this profile (user ids).
pub async fn profile_members(conn: &mut Conn, profile_id: &str) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sql::query_as(
        "SELECT user_id FROM memberships WHERE metadata_profile_id = $1 ORDER BY user_id",
    )
    .bind(profile_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
