//! Editorial data beside an image row: keywords (removal, renaming, the
//! vocabulary's counts), crops, credit lines and metadata profiles.
//!
//! `keyword_counts` is kept in step here and in `images::add_keywords` /
//! `images::delete`, in the same transaction as the keyword rows, so the
//! vocabulary never drifts from the images. Counts are bumped in keyword
//! order, after the image's upload-day count (`images::insert` /
//! `images::delete`): two writers touching the same counters lock them in
//! one order (no PostgreSQL deadlock).

pub use lightbox_store_rows::editorial::{
    CreditRow, CropRow, NamespaceRow, ProfileRow, VocabularyRow,
};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

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
    let folded = keyword.to_lowercase();
    on_engine!(
        conn,
        editorial::bump_keyword(account_id, keyword, namespace, value, &folded, delta)
    )?;
    if delta < 0 {
        on_engine!(conn, editorial::drop_spent_keyword(account_id, keyword))?;
    }
    Ok(())
}

/// Takes away the counts of every keyword of an image (before it is deleted).
pub(crate) async fn uncount_image_keywords(
    conn: &mut Conn,
    account_id: &str,
    image_id: &str,
) -> Result<()> {
    let rows = on_engine!(conn, editorial::image_keywords(image_id))?;
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
    let gone = on_engine!(
        conn,
        editorial::remove_keyword(account_id, image_id, keyword)
    )?;
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
    let has_to = on_engine!(conn, editorial::has_keyword(image_id, to_keyword))?;
    if has_to > 0 {
        return remove_keyword(conn, account_id, image_id, from).await;
    }
    let had = on_engine!(conn, editorial::find_keyword(account_id, image_id, from))?;
    let Some((from_namespace, from_value)) = had else {
        return Ok(false);
    };
    on_engine!(
        conn,
        editorial::rename_keyword(image_id, from, to_keyword, to_namespace, to_value)
    )?;
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
    Ok(on_engine!(
        conn,
        editorial::images_with_keyword(account_id, keyword, after, limit)
    )?)
}

/// How many images carry the keyword.
pub async fn keyword_count(conn: &mut Conn, account_id: &str, keyword: &str) -> Result<i64> {
    let count = on_engine!(conn, editorial::keyword_count(account_id, keyword))?;
    Ok(count.unwrap_or(0))
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
    // A prefix is a range of `folded`: [whole, whole + U+10FFFF).
    let range = q.folded_prefix.as_ref().map(|prefix| {
        // Within a namespace the prefix is the value's: "ns:" + prefix.
        let whole = match &q.namespace {
            Some(ns) => format!("{}:{prefix}", ns.to_lowercase()),
            None => prefix.clone(),
        };
        let end = format!("{whole}\u{10FFFF}");
        (whole, end)
    });
    let range = range
        .as_ref()
        .map(|(from, to)| (from.as_str(), to.as_str()));
    Ok(on_engine!(
        conn,
        editorial::vocabulary(
            account_id,
            q.namespace.as_deref(),
            range,
            q.by_count,
            limit,
            offset
        )
    )?)
}

pub async fn namespaces(
    conn: &mut Conn,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<NamespaceRow>> {
    Ok(on_engine!(
        conn,
        editorial::namespaces(account_id, limit, offset)
    )?)
}

// --- crops ------------------------------------------------------------------

pub async fn put_crop(conn: &mut Conn, crop: &CropRow) -> Result<()> {
    Ok(on_engine!(conn, editorial::put_crop(crop))?)
}

/// Removes one crop, or every crop of the image; how many went.
pub async fn delete_crops(
    conn: &mut Conn,
    image_id: &str,
    aspect_ratio: Option<&str>,
) -> Result<u64> {
    Ok(match aspect_ratio {
        Some(ratio) => on_engine!(conn, editorial::delete_crop(image_id, ratio))?,
        None => on_engine!(conn, editorial::delete_crops(image_id))?,
    })
}

pub async fn crops_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<CropRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, editorial::crops_of(image_ids))?)
}

// --- credit lines -----------------------------------------------------------

/// Adds a credit line after the image's others; how many it has now.
pub async fn add_credit(conn: &mut Conn, credit: &CreditRow, now: Timestamp) -> Result<i64> {
    on_engine!(conn, editorial::add_credit(credit, now))?;
    Ok(on_engine!(conn, editorial::credit_count(&credit.image_id))?)
}

pub async fn delete_credit(conn: &mut Conn, image_id: &str, credit_id: &str) -> Result<bool> {
    let deleted = on_engine!(conn, editorial::delete_credit(image_id, credit_id))?;
    Ok(deleted > 0)
}

pub async fn credits_of(conn: &mut Conn, image_ids: &[String]) -> Result<Vec<CreditRow>> {
    if image_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, editorial::credits_of(image_ids))?)
}

// --- metadata profiles ------------------------------------------------------

/// Creates a profile, or replaces the fields of the one with this name.
pub async fn upsert_profile(conn: &mut Conn, row: &ProfileRow) -> Result<ProfileRow> {
    Ok(on_engine!(conn, editorial::upsert_profile(row))?)
}

pub async fn profiles(conn: &mut Conn, account_id: &str) -> Result<Vec<ProfileRow>> {
    Ok(on_engine!(conn, editorial::profiles(account_id))?)
}

/// A profile by uuid or name.
pub async fn find_profile(
    conn: &mut Conn,
    account_id: &str,
    name_or_id: &str,
) -> Result<Option<ProfileRow>> {
    Ok(on_engine!(
        conn,
        editorial::find_profile(account_id, name_or_id)
    )?)
}

pub async fn delete_profile(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    on_engine!(conn, editorial::clear_default_profile(account_id, id))?;
    let deleted = on_engine!(conn, editorial::delete_profile(account_id, id))?;
    Ok(deleted > 0)
}

/// Makes a profile (or none) a member's default. False when not a member.
pub async fn set_default_profile(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
    profile_id: Option<&str>,
) -> Result<bool> {
    let changed = on_engine!(
        conn,
        editorial::set_default_profile(account_id, user_id, profile_id)
    )?;
    Ok(changed > 0)
}

/// The member's default profile, if any.
pub async fn default_profile(
    conn: &mut Conn,
    account_id: &str,
    user_id: &str,
) -> Result<Option<ProfileRow>> {
    Ok(on_engine!(
        conn,
        editorial::default_profile(account_id, user_id)
    )?)
}

/// Members whose default is this profile (user ids).
pub async fn profile_members(conn: &mut Conn, profile_id: &str) -> Result<Vec<String>> {
    Ok(on_engine!(conn, editorial::profile_members(profile_id))?)
}
