//! Images: the library's rows, with their keywords, Exif properties and
//! versions, plus the bookkeeping of uploads (used tickets) and of blobs that
//! may have lost their last reference (`blob_garbage`).

pub use lightbox_store_rows::images::{ImageRow, ImageSetRow, KeywordRow, UsedTicket, VersionRow};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// Adds an image (and counts it in its upload day, see `image_list`).
pub async fn insert(conn: &mut Conn, row: &ImageRow) -> Result<()> {
    on_engine!(conn, images::insert(row))?;
    let day = upload_day(row.created_at);
    Ok(on_engine!(
        conn,
        images::count_upload_day(&row.account_id, day, 1)
    )?)
}

/// A day in microseconds.
pub(crate) const DAY: i64 = 86_400_000_000;

/// The first instant of the UTC day of `at`.
pub(crate) fn upload_day(at: Timestamp) -> Timestamp {
    Timestamp(at.micros() - at.micros().rem_euclid(DAY))
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<ImageRow>> {
    Ok(on_engine!(conn, images::find(account_id, id))?)
}

/// Finds an image by id alone (job workers, media serving).
pub async fn find_any(conn: &mut Conn, id: &str) -> Result<Option<ImageRow>> {
    Ok(on_engine!(conn, images::find_any(id))?)
}

/// Takes the image's row lock for the rest of the transaction (SQLite's
/// write transaction is exclusive anyway); false when there is no such
/// image. Only the account's own image: a request never holds another
/// account's rows.
pub async fn lock_image(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    Ok(on_engine!(conn, images::lock_image(account_id, id))?)
}

/// Rows for `ids`, in no particular order.
pub async fn find_many(conn: &mut Conn, account_id: &str, ids: &[String]) -> Result<Vec<ImageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, images::find_many(account_id, ids))?)
}

/// The oldest image of the account with this original, if any.
pub async fn find_by_sha(
    conn: &mut Conn,
    account_id: &str,
    sha256: &str,
) -> Result<Option<String>> {
    Ok(on_engine!(conn, images::find_by_sha(account_id, sha256))?)
}

/// True when any image (of any account) keeps this original.
pub async fn original_in_use(conn: &mut Conn, original_key: &str) -> Result<bool> {
    Ok(on_engine!(conn, images::original_in_use(original_key))?)
}

/// Writes the editable fields (title, description, creation date, rotation
/// and the upright size it swaps, rating, alt text, IPTC metadata, version
/// state) and `updated_at` back (and the copy of
/// `creation_date` the image's keywords keep for taken-first lists).
pub async fn update_fields(conn: &mut Conn, row: &ImageRow) -> Result<()> {
    on_engine!(conn, images::update_fields(row))?;
    Ok(on_engine!(
        conn,
        images::copy_creation_date_to_keywords(&row.account_id, &row.id, row.creation_date)
    )?)
}

/// Records the outcome of a version build (and the upright size once known).
pub async fn set_versions_state(
    conn: &mut Conn,
    id: &str,
    state: &str,
    error: Option<&str>,
    size: Option<(i64, i64)>,
) -> Result<()> {
    let (width, height) = (size.map(|s| s.0), size.map(|s| s.1));
    Ok(on_engine!(
        conn,
        images::set_versions_state(id, state, error, width, height)
    )?)
}

/// Deletes the account's image `id`; false when there is none.
///
/// Counters are taken in the order an upload takes them — the upload day,
/// then the keywords' counts (in keyword order) — so an upload and a delete
/// in one account never wait for each other in a cycle (PostgreSQL).
pub async fn delete(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    let Some(created_at) = on_engine!(conn, images::upload_time(account_id, id))? else {
        return Ok(false);
    };
    on_engine!(
        conn,
        images::count_upload_day(account_id, upload_day(created_at), -1)
    )?;
    crate::editorial::uncount_image_keywords(conn, account_id, id).await?;
    Ok(on_engine!(conn, images::delete(account_id, id))? > 0)
}

/// The account's `duplicates` setting (`reject` or `allow`).
pub async fn duplicates_setting(conn: &mut Conn, account_id: &str) -> Result<String> {
    Ok(on_engine!(conn, images::duplicates_setting(account_id))?
        .unwrap_or_else(|| "reject".to_owned()))
}

/// The account's media base URL, when it set one.
pub async fn media_base_url(conn: &mut Conn, account_id: &str) -> Result<Option<String>> {
    Ok(on_engine!(conn, images::media_base_url(account_id))?)
}

/// Display names of users, by id.
pub async fn user_names(conn: &mut Conn, user_ids: &[String]) -> Result<Vec<(String, String)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, images::user_names(user_ids))?)
}

// --- keywords ---------------------------------------------------------------

/// Adds keywords (whole form, split at the first colon) after the image's
/// existing ones; a keyword it already has is skipped. How many were new.
/// Each keyword row copies what a list filters and orders by (see
/// `image_list`) from `image`.
pub async fn add_keywords(
    conn: &mut Conn,
    image: &ImageRow,
    keywords: &[(String, Option<String>, String)],
) -> Result<usize> {
    let account_id = image.account_id.as_str();
    let mut added = Vec::new();
    let mut next = on_engine!(conn, images::next_keyword_position(&image.id))?;
    for (keyword, namespace, value) in keywords {
        let inserted = on_engine!(
            conn,
            images::insert_keyword(
                account_id,
                &image.id,
                keyword,
                namespace.as_deref(),
                value,
                next,
                image.created_at,
                image.creation_date,
                image.is_video
            )
        )?;
        if inserted > 0 {
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
    Ok(on_engine!(conn, images::keywords_of(image_ids))?)
}

// --- Exif properties --------------------------------------------------------

/// Stores the searchable Exif properties (text form) of a new image.
pub async fn insert_exif(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
    image_created_at: Timestamp,
    properties: &[(String, String)],
) -> Result<()> {
    for (property, value) in properties {
        on_engine!(
            conn,
            images::insert_exif(account_id, image_id, image_created_at, property, value)
        )?;
    }
    Ok(())
}

// --- versions ---------------------------------------------------------------

/// Replaces a version; answers the blob key it replaced, if another.
pub async fn put_version(conn: &mut Conn, row: &VersionRow) -> Result<Option<String>> {
    let old = on_engine!(conn, images::version_blob_key(&row.image_id, &row.name))?;
    on_engine!(conn, images::upsert_version(row))?;
    Ok(old.filter(|k| k != &row.blob_key))
}

pub async fn versions_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<VersionRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, images::versions_of(image_ids))?)
}

pub async fn find_version(
    conn: &mut Conn,
    image_id: &str,
    name: &str,
) -> Result<Option<VersionRow>> {
    Ok(on_engine!(conn, images::find_version(image_id, name))?)
}

// --- upload tickets ---------------------------------------------------------

pub async fn find_ticket(
    conn: &mut Conn,
    account_id: &str,
    id: &str,
) -> Result<Option<UsedTicket>> {
    Ok(on_engine!(conn, images::find_ticket(account_id, id))?)
}

/// Marks a ticket used. A unique violation means a concurrent use won.
pub async fn use_ticket(
    conn: &mut Conn,
    account_id: &str,
    ticket: &UsedTicket,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        images::use_ticket(account_id, ticket, expires_at, now)
    )?)
}

/// Forgets used tickets that can no longer be presented.
pub async fn purge_tickets(conn: &mut Conn, before: Timestamp) -> Result<u64> {
    Ok(on_engine!(conn, images::purge_tickets(before))?)
}

// --- blob garbage -----------------------------------------------------------

/// Notes that `key` may be unreferenced (idempotent).
pub async fn note_garbage(conn: &mut Conn, key: &str, now: Timestamp) -> Result<()> {
    Ok(on_engine!(conn, images::note_garbage(key, now))?)
}

/// What the collector may do with a note, decided under its row lock
/// (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's write transaction is
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

pub async fn lock_garbage(conn: &mut Conn, key: &str, now: Timestamp) -> Result<GarbageState> {
    let note = on_engine!(conn, images::lock_garbage(key))?;
    Ok(match note {
        None => GarbageState::Gone,
        Some((Some(until), false)) if until > now => GarbageState::Pinned,
        Some((_, deleting)) => GarbageState::Open { deleting },
    })
}

/// The collector's decision, committed before it deletes the blob.
pub async fn mark_deleting(conn: &mut Conn, key: &str) -> Result<()> {
    Ok(on_engine!(conn, images::mark_deleting(key))?)
}

/// An upload claims `key` before publishing it there: a pinned note (so a
/// crash before its image commits still gets the blob collected), which the
/// collector leaves alone until `until`. False when the collector is
/// deleting that blob right now (the upload must not use it).
pub async fn pin_garbage(
    conn: &mut Conn,
    key: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool> {
    Ok(on_engine!(conn, images::pin_garbage(key, now, until))? > 0)
}

/// Removes the note after the collector deleted the blob.
pub async fn forget_deleted(conn: &mut Conn, key: &str) -> Result<()> {
    Ok(on_engine!(conn, images::forget_deleted(key))?)
}

pub async fn forget_garbage(conn: &mut Conn, key: &str) -> Result<()> {
    Ok(on_engine!(conn, images::forget_garbage(key))?)
}

/// Garbage noted before `before`, oldest first.
pub async fn garbage_before(conn: &mut Conn, before: Timestamp, limit: i64) -> Result<Vec<String>> {
    Ok(on_engine!(conn, images::garbage_before(before, limit))?)
}

/// True when a row still references `key` (an original or a version).
pub async fn blob_in_use(conn: &mut Conn, key: &str) -> Result<bool> {
    if original_in_use(&mut *conn, key).await? {
        return Ok(true);
    }
    Ok(on_engine!(conn, images::version_blob_in_use(key))?)
}

// --- set membership ---------------------------------------------------------

/// Puts the image last in the set (no-op if it is already in).
pub async fn add_to_set(
    conn: &mut Conn,
    set_id: &str,
    image_id: &str,
    now: Timestamp,
) -> Result<()> {
    Ok(on_engine!(conn, images::add_to_set(set_id, image_id, now))?)
}

/// The sets these images are in.
pub async fn sets_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<ImageSetRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, images::sets_of(image_ids))?)
}

// --- what the search index reads ----------------------------------------------

/// Rows of these images, whatever their account (the index holds every
/// account's images).
pub async fn find_any_many(conn: &mut Conn, ids: &[String]) -> Result<Vec<ImageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, images::find_any_many(ids))?)
}

/// Up to `limit` image ids after `after`, in id order (a full rebuild).
pub async fn ids_after(conn: &mut Conn, after: &str, limit: i64) -> Result<Vec<String>> {
    Ok(on_engine!(conn, images::ids_after(after, limit))?)
}

/// The searchable Exif properties of these images: (image, property, value).
pub async fn exif_of(conn: &mut Conn, ids: &[String]) -> Result<Vec<(String, String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, images::exif_of(ids))?)
}
