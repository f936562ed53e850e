//! Images: the library's rows, with their keywords, Exif properties and
//! versions, plus the bookkeeping of uploads (used tickets) and of blobs that
//! may have lost their last reference (`blob_garbage`).

use sqlx::{AssertSqlSafe, FromRow};

use crate::sql;
use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct ImageRow {
    pub id: String,
    pub account_id: String,
    pub filename: String,
    pub title: String,
    pub description: String,
    pub creation_date: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub rotation: i64,
    pub rating: i64,
    pub alt_text: String,
    pub is_video: i64,
    pub media_kind: String,
    pub content_type: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub bytes: i64,
    pub sha256: String,
    pub original_key: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// JSON object of Exif properties.
    pub exif: String,
    /// JSON object of IPTC fields.
    pub metadata: String,
    pub uploaded_by: Option<String>,
    pub uploaded_by_token: Option<String>,
    pub versions_state: String,
    pub versions_error: Option<String>,
}

/// The columns of [`ImageRow`] (table alias `i`), for `SELECT`s in this crate.
#[macro_export]
macro_rules! image_columns {
    () => {
        "i.id, i.account_id, i.filename, i.title, i.description, \
    i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text, i.is_video, \
    i.media_kind, i.content_type, i.width, i.height, i.bytes, i.sha256, i.original_key, i.lat, \
    i.lng, i.exif, i.metadata, i.uploaded_by, i.uploaded_by_token, i.versions_state, \
    i.versions_error"
    };
}

pub async fn insert(conn: &mut Conn, row: &ImageRow) -> Result<()> {
    sql::query(
        "INSERT INTO images (id, account_id, filename, title, description, creation_date,
            created_at, updated_at, rotation, rating, alt_text, is_video, media_kind,
            content_type, width, height, bytes, sha256, original_key, lat, lng, exif, metadata,
            uploaded_by, uploaded_by_token, versions_state, versions_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.filename)
    .bind(&row.title)
    .bind(&row.description)
    .bind(row.creation_date)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(row.rotation)
    .bind(row.rating)
    .bind(&row.alt_text)
    .bind(row.is_video)
    .bind(&row.media_kind)
    .bind(&row.content_type)
    .bind(row.width)
    .bind(row.height)
    .bind(row.bytes)
    .bind(&row.sha256)
    .bind(&row.original_key)
    .bind(row.lat)
    .bind(row.lng)
    .bind(&row.exif)
    .bind(&row.metadata)
    .bind(&row.uploaded_by)
    .bind(&row.uploaded_by_token)
    .bind(&row.versions_state)
    .bind(&row.versions_error)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<ImageRow>> {
    const SQL: &str = concat!(
        "SELECT ",
        image_columns!(),
        " FROM images i WHERE i.id = $1 AND i.account_id = $2"
    );
    Ok(sql::query_as::<ImageRow>(SQL)
        .bind(id)
        .bind(account_id)
        .fetch_optional(conn)
        .await?)
}

/// Finds an image by id alone (job workers, media serving).
pub async fn find_any(conn: &mut Conn, id: &str) -> Result<Option<ImageRow>> {
    const SQL: &str = concat!(
        "SELECT ",
        image_columns!(),
        " FROM images i WHERE i.id = $1"
    );
    Ok(sql::query_as::<ImageRow>(SQL)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Takes the image's row lock for the rest of the transaction (SQLite's
/// write transaction is exclusive anyway); false when there is no such
/// image. Only the account's own image: a request never holds another
/// account's rows.
pub async fn lock_image(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM images WHERE id = $1 AND account_id = $2{}",
        sql::row_lock(conn.engine())
    );
    Ok(sql::query_as::<(i32,)>(AssertSqlSafe(sql))
        .bind(id)
        .bind(account_id)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Rows for `ids`, in no particular order.
pub async fn find_many(conn: &mut Conn, account_id: &str, ids: &[String]) -> Result<Vec<ImageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let one_of = sql::one_of(conn.engine(), "i.id", 2);
    // `account_id || ''`: without statistics SQLite would rather read the
    // whole account through an (account_id, …) index than look up 50 ids
    // (0.4 s on 1,000,000 images); the expression keeps it on the primary key.
    let sql = format!(
        "SELECT {} FROM images i WHERE {one_of} AND i.account_id || '' = $1",
        image_columns!()
    );
    let query = sql::query_as::<ImageRow>(AssertSqlSafe(sql))
        .bind(account_id)
        .bind(sql::TextList(ids));
    Ok(query.fetch_all(conn).await?)
}

/// The oldest image of the account with this original, if any.
pub async fn find_by_sha(
    conn: &mut Conn,
    account_id: &str,
    sha256: &str,
) -> Result<Option<String>> {
    Ok(sql::query_as::<(String,)>(
        "SELECT id FROM images WHERE account_id = $1 AND sha256 = $2
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(account_id)
    .bind(sha256)
    .fetch_optional(conn)
    .await?
    .map(|(id,)| id))
}

/// True when any image (of any account) keeps this original.
pub async fn original_in_use(conn: &mut Conn, original_key: &str) -> Result<bool> {
    Ok(
        sql::query_as::<(i32,)>("SELECT 1 FROM images WHERE original_key = $1 LIMIT 1")
            .bind(original_key)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Writes the editable fields (title, description, creation date, rotation
/// and the upright size it swaps, rating, alt text, IPTC metadata, version
/// state) and `updated_at` back (and the copy of
/// `creation_date` the image's keywords keep for taken-first lists).
pub async fn update_fields(conn: &mut Conn, row: &ImageRow) -> Result<()> {
    sql::query(
        "UPDATE images SET title = $1, description = $2, creation_date = $3, rotation = $4,
            updated_at = $5, versions_state = $6, versions_error = $7, rating = $10,
            alt_text = $11, metadata = $12, width = $13, height = $14
         WHERE id = $8 AND account_id = $9",
    )
    .bind(&row.title)
    .bind(&row.description)
    .bind(row.creation_date)
    .bind(row.rotation)
    .bind(row.updated_at)
    .bind(&row.versions_state)
    .bind(&row.versions_error)
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(row.rating)
    .bind(&row.alt_text)
    .bind(&row.metadata)
    .bind(row.width)
    .bind(row.height)
    .execute(&mut *conn)
    .await?;
    sql::query(
        "UPDATE image_keywords SET image_creation_date = $1
         WHERE image_id = $2 AND account_id = $3 AND image_creation_date IS DISTINCT FROM $1",
    )
    .bind(row.creation_date)
    .bind(&row.id)
    .bind(&row.account_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the outcome of a version build (and the upright size once known).
pub async fn set_versions_state(
    conn: &mut Conn,
    id: &str,
    state: &str,
    error: Option<&str>,
    size: Option<(i64, i64)>,
) -> Result<()> {
    sql::query(
        "UPDATE images SET versions_state = $1, versions_error = $2,
            width = COALESCE($3, width), height = COALESCE($4, height)
         WHERE id = $5",
    )
    .bind(state)
    .bind(error)
    .bind(size.map(|s| s.0))
    .bind(size.map(|s| s.1))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    crate::editorial::uncount_image_keywords(conn, account_id, id).await?;
    let done = sql::query("DELETE FROM images WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The account's `duplicates` setting (`reject` or `allow`).
pub async fn duplicates_setting(conn: &mut Conn, account_id: &str) -> Result<String> {
    Ok(
        sql::query_as::<(String,)>("SELECT duplicates FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(conn)
            .await?
            .map_or_else(|| "reject".to_owned(), |(d,)| d),
    )
}

/// The account's media base URL, when it set one.
pub async fn media_base_url(conn: &mut Conn, account_id: &str) -> Result<Option<String>> {
    Ok(
        sql::query_as::<(Option<String>,)>("SELECT media_base_url FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(conn)
            .await?
            .and_then(|(u,)| u),
    )
}

/// Display names of users, by id.
pub async fn user_names(conn: &mut Conn, user_ids: &[String]) -> Result<Vec<(String, String)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let one_of = sql::one_of(conn.engine(), "id", 1);
    let sql = format!("SELECT id, name FROM users WHERE {one_of}");
    let query = sql::query_as::<(String, String)>(AssertSqlSafe(sql)).bind(sql::TextList(user_ids));
    Ok(query.fetch_all(conn).await?)
}

// --- keywords ---------------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct KeywordRow {
    pub image_id: String,
    pub keyword: String,
    pub namespace: Option<String>,
    pub value: String,
}

/// Adds keywords (whole form, split at the first colon) after the image's
/// existing ones; a keyword it already has is skipped. How many were new.
pub async fn add_keywords(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
    image_created_at: i64,
    image_creation_date: Option<i64>,
    keywords: &[(String, Option<String>, String)],
) -> Result<usize> {
    let mut added = Vec::new();
    let (mut next,): (i64,) = sql::query_as(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM image_keywords WHERE image_id = $1",
    )
    .bind(image_id)
    .fetch_one(&mut *conn)
    .await?;
    for (keyword, namespace, value) in keywords {
        let done = sql::query(
            "INSERT INTO image_keywords (image_id, account_id, keyword, namespace, value, position,
                image_created_at, image_creation_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (image_id, keyword) DO NOTHING",
        )
        .bind(image_id)
        .bind(account_id)
        .bind(keyword)
        .bind(namespace)
        .bind(value)
        .bind(next)
        .bind(image_created_at)
        .bind(image_creation_date)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() > 0 {
            next += 1;
            added.push((keyword, namespace, value));
        }
    }
    // Counted in keyword order (see `editorial`).
    added.sort_by(|a, b| a.0.cmp(b.0));
    for (keyword, namespace, value) in &added {
        crate::editorial::bump_keyword(conn, account_id, keyword, namespace.as_deref(), value, 1)
            .await?;
    }
    Ok(added.len())
}

/// Keywords of these images, each image's in the order they were added.
pub async fn keywords_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<KeywordRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    let one_of = sql::one_of(conn.engine(), "image_id", 1);
    let sql = format!(
        "SELECT image_id, keyword, namespace, value FROM image_keywords
         WHERE {one_of} ORDER BY image_id, position"
    );
    let query = sql::query_as::<KeywordRow>(AssertSqlSafe(sql)).bind(sql::TextList(image_ids));
    Ok(query.fetch_all(conn).await?)
}

// --- Exif properties --------------------------------------------------------

/// Stores the searchable Exif properties (text form) of a new image.
pub async fn insert_exif(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
    image_created_at: i64,
    properties: &[(String, String)],
) -> Result<()> {
    for (property, value) in properties {
        sql::query(
            "INSERT INTO image_exif (image_id, account_id, property, value, image_created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (image_id, property) DO NOTHING",
        )
        .bind(image_id)
        .bind(account_id)
        .bind(property)
        .bind(value)
        .bind(image_created_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// --- versions ---------------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub image_id: String,
    pub name: String,
    pub width: i64,
    pub height: i64,
    pub content_type: String,
    pub bytes: i64,
    pub etag: String,
    pub blob_key: String,
    pub created_at: i64,
}

/// Replaces a version; answers the blob key it replaced, if another.
pub async fn put_version(conn: &mut Conn, row: &VersionRow) -> Result<Option<String>> {
    let old: Option<(String,)> =
        sql::query_as("SELECT blob_key FROM image_versions WHERE image_id = $1 AND name = $2")
            .bind(&row.image_id)
            .bind(&row.name)
            .fetch_optional(&mut *conn)
            .await?;
    sql::query(
        "INSERT INTO image_versions (image_id, name, width, height, content_type, bytes, etag, blob_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (image_id, name) DO UPDATE SET width = excluded.width, height = excluded.height,
            content_type = excluded.content_type, bytes = excluded.bytes, etag = excluded.etag,
            blob_key = excluded.blob_key, created_at = excluded.created_at",
    )
    .bind(&row.image_id)
    .bind(&row.name)
    .bind(row.width)
    .bind(row.height)
    .bind(&row.content_type)
    .bind(row.bytes)
    .bind(&row.etag)
    .bind(&row.blob_key)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(old.map(|(k,)| k).filter(|k| k != &row.blob_key))
}

pub async fn versions_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<VersionRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    let one_of = sql::one_of(conn.engine(), "image_id", 1);
    let sql = format!(
        "SELECT image_id, name, width, height, content_type, bytes, etag, blob_key, created_at
         FROM image_versions WHERE {one_of}"
    );
    let query = sql::query_as::<VersionRow>(AssertSqlSafe(sql)).bind(sql::TextList(image_ids));
    Ok(query.fetch_all(conn).await?)
}

pub async fn find_version(
    conn: &mut Conn,
    image_id: &str,
    name: &str,
) -> Result<Option<VersionRow>> {
    Ok(sql::query_as::<VersionRow>(
        "SELECT image_id, name, width, height, content_type, bytes, etag, blob_key, created_at
         FROM image_versions WHERE image_id = $1 AND name = $2",
    )
    .bind(image_id)
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

// --- upload tickets ---------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct UsedTicket {
    pub id: String,
    pub image_id: String,
    pub operation_id: Option<String>,
    pub duplicate: i64,
}

pub async fn find_ticket(
    conn: &mut Conn,
    account_id: &str,
    id: &str,
) -> Result<Option<UsedTicket>> {
    Ok(sql::query_as::<UsedTicket>(
        "SELECT id, image_id, operation_id, duplicate FROM upload_tickets WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?)
}

/// Marks a ticket used. A unique violation means a concurrent use won.
pub async fn use_ticket(
    conn: &mut Conn,
    account_id: &str,
    ticket: &UsedTicket,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    sql::query(
        "INSERT INTO upload_tickets (id, account_id, image_id, operation_id, duplicate, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&ticket.id)
    .bind(account_id)
    .bind(&ticket.image_id)
    .bind(&ticket.operation_id)
    .bind(ticket.duplicate)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets used tickets that can no longer be presented.
pub async fn purge_tickets(conn: &mut Conn, before: i64) -> Result<u64> {
    Ok(
        sql::query("DELETE FROM upload_tickets WHERE expires_at < $1")
            .bind(before)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

// --- blob garbage -----------------------------------------------------------

/// Notes that `key` may be unreferenced (idempotent).
pub async fn note_garbage(conn: &mut Conn, key: &str, now: i64) -> Result<()> {
    sql::query(
        "INSERT INTO blob_garbage (blob_key, created_at) VALUES ($1, $2)
         ON CONFLICT (blob_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// What the collector may do with a note, decided under its row lock (a
/// no-op update takes it on PostgreSQL; SQLite's write transaction is
/// exclusive anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarbageState {
    /// No note (collected already, or taken back).
    Gone,
    /// An upload in flight owns it until this time.
    Pinned,
    /// Free to decide (or a deletion a crash cut off: `deleting` already set).
    Open { deleting: bool },
}

pub async fn lock_garbage(conn: &mut Conn, key: &str, now: i64) -> Result<GarbageState> {
    let sql = format!(
        "SELECT pinned_until, deleting FROM blob_garbage WHERE blob_key = $1{}",
        sql::row_lock(conn.engine())
    );
    let note: Option<(Option<i64>, i64)> = sql::query_as(AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(match note {
        None => GarbageState::Gone,
        Some((Some(until), 0)) if until > now => GarbageState::Pinned,
        Some((_, deleting)) => GarbageState::Open {
            deleting: deleting != 0,
        },
    })
}

/// The collector's decision, committed before it deletes the blob.
pub async fn mark_deleting(conn: &mut Conn, key: &str) -> Result<()> {
    sql::query("UPDATE blob_garbage SET deleting = 1 WHERE blob_key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// An upload claims `key` before publishing it there: a pinned note (so a
/// crash before its image commits still gets the blob collected), which the
/// collector leaves alone until `until`. False when the collector is
/// deleting that blob right now (the upload must not use it).
pub async fn pin_garbage(conn: &mut Conn, key: &str, now: i64, until: i64) -> Result<bool> {
    let done = sql::query(
        "INSERT INTO blob_garbage (blob_key, created_at, pinned_until, deleting) VALUES ($1, $2, $3, 0)
         ON CONFLICT (blob_key) DO UPDATE SET pinned_until = excluded.pinned_until
         WHERE blob_garbage.deleting = 0",
    )
    .bind(key)
    .bind(now)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the note after the collector deleted the blob.
pub async fn forget_deleted(conn: &mut Conn, key: &str) -> Result<()> {
    sql::query("DELETE FROM blob_garbage WHERE blob_key = $1 AND deleting = 1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn forget_garbage(conn: &mut Conn, key: &str) -> Result<()> {
    sql::query("DELETE FROM blob_garbage WHERE blob_key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Garbage noted before `before`, oldest first.
pub async fn garbage_before(conn: &mut Conn, before: i64, limit: i64) -> Result<Vec<String>> {
    Ok(sql::query_as::<(String,)>(
        "SELECT blob_key FROM blob_garbage WHERE created_at < $1 ORDER BY created_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|(k,)| k)
    .collect())
}

/// True when a row still references `key` (an original or a version).
pub async fn blob_in_use(conn: &mut Conn, key: &str) -> Result<bool> {
    if original_in_use(&mut *conn, key).await? {
        return Ok(true);
    }
    Ok(
        sql::query_as::<(i32,)>("SELECT 1 FROM image_versions WHERE blob_key = $1 LIMIT 1")
            .bind(key)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

// --- set membership ---------------------------------------------------------

/// Puts the image last in the set (no-op if it is already in).
pub async fn add_to_set(conn: &mut Conn, set_id: &str, image_id: &str, now: i64) -> Result<()> {
    sql::query(
        "INSERT INTO set_images (set_id, image_id, position, created_at)
         SELECT $1, $2, COALESCE(MAX(position), -1) + 1, $3 FROM set_images WHERE set_id = $1
         ON CONFLICT (set_id, image_id) DO NOTHING",
    )
    .bind(set_id)
    .bind(image_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct ImageSetRow {
    pub image_id: String,
    pub set_id: String,
    pub name: String,
    pub hidden: i64,
    pub activation_time: Option<i64>,
}

/// The sets these images are in.
pub async fn sets_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<ImageSetRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    let one_of = sql::one_of(conn.engine(), "si.image_id", 1);
    let sql = format!(
        "SELECT si.image_id, s.id AS set_id, s.name, si.hidden, si.activation_time FROM set_images si JOIN sets s ON s.id = si.set_id
         WHERE {one_of} ORDER BY si.image_id, s.name, s.id"
    );
    let query = sql::query_as::<ImageSetRow>(AssertSqlSafe(sql)).bind(sql::TextList(image_ids));
    Ok(query.fetch_all(conn).await?)
}

// --- what the search index reads ----------------------------------------------

/// Rows of these images, whatever their account (the index holds every
/// account's images).
pub async fn find_any_many(conn: &mut Conn, ids: &[String]) -> Result<Vec<ImageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM images i WHERE {}",
        image_columns!(),
        sql::one_of(conn.engine(), "i.id", 1)
    );
    let query = sql::query_as::<ImageRow>(AssertSqlSafe(sql)).bind(sql::TextList(ids));
    Ok(query.fetch_all(conn).await?)
}

/// Up to `limit` image ids after `after`, in id order (a full rebuild).
pub async fn ids_after(conn: &mut Conn, after: &str, limit: i64) -> Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sql::query_as("SELECT id FROM images WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The searchable Exif properties of these images: (image, property, value).
pub async fn exif_of(conn: &mut Conn, ids: &[String]) -> Result<Vec<(String, String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT image_id, property, value FROM image_exif WHERE {} ORDER BY image_id, property",
        sql::one_of(conn.engine(), "image_id", 1)
    );
    let query =
        sql::query_as::<(String, String, String)>(AssertSqlSafe(sql)).bind(sql::TextList(ids));
    Ok(query.fetch_all(conn).await?)
}
