//! Websites (api.md §10): each one's settings; what its pages show is read
//! from the sets at request time.

pub use lightbox_store_rows::websites::{LiveImageRow, NearestWebsiteRow, ShownSetRow, WebsiteRow};

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &WebsiteRow) -> Result<()> {
    Ok(on_engine!(conn, websites::insert(row))?)
}

/// Writes every setting of the account's website `row.id`; false when the
/// account has no such website.
pub async fn update(conn: &mut Conn, row: &WebsiteRow) -> Result<bool> {
    Ok(on_engine!(conn, websites::update(row))? > 0)
}

/// False when the account has no such website.
pub async fn delete(conn: &mut Conn, account_id: &str, id: &str) -> Result<bool> {
    Ok(on_engine!(conn, websites::delete(account_id, id))? > 0)
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<WebsiteRow>> {
    Ok(on_engine!(conn, websites::find(account_id, id))?)
}

/// A page of the account's websites, oldest first.
pub async fn list(
    conn: &mut Conn,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<WebsiteRow>> {
    Ok(on_engine!(conn, websites::list(account_id, limit, offset))?)
}

/// The slug and host name of a website (of any account but `except`) that
/// holds `slug` or `hostname`: addresses are unique across the server.
pub async fn address_taken(
    conn: &mut Conn,
    slug: &str,
    hostname: Option<&str>,
    except: &str,
) -> Result<Option<(String, Option<String>)>> {
    Ok(on_engine!(
        conn,
        websites::address_taken(slug, hostname, except)
    )?)
}

/// Takes the account's website `id` for this transaction, so that a
/// write reading it next cannot lose a concurrent write; false when the
/// account has no such website.
pub async fn lock(conn: &mut Conn, account_id: &str, id: &str, now: Timestamp) -> Result<bool> {
    Ok(on_engine!(conn, websites::lock(account_id, id, now))? == 1)
}

/// For each of the account's sets `set_ids`, the websites rooted at it or
/// at one of its ancestors: nearest first, then oldest first.
pub async fn nearest_of(
    conn: &mut Conn,
    account_id: &str,
    set_ids: &[String],
) -> Result<Vec<NearestWebsiteRow>> {
    if set_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, websites::nearest_of(account_id, set_ids))?)
}

// --- what a website's pages read ---------------------------------------------

/// The website at this slug (any account).
pub async fn find_by_slug(conn: &mut Conn, slug: &str) -> Result<Option<WebsiteRow>> {
    Ok(on_engine!(conn, websites::find_by_slug(slug))?)
}

/// The website at this host name (any account).
pub async fn find_by_hostname(conn: &mut Conn, hostname: &str) -> Result<Option<WebsiteRow>> {
    Ok(on_engine!(conn, websites::find_by_hostname(hostname))?)
}

/// The root and every set under it the website may show (`private` sets,
/// `press` sets unless `with_press`, and what is under them left out),
/// siblings in arranged order; empty when the root itself is left out.
pub async fn shown_sets(
    conn: &mut Conn,
    account_id: &str,
    root_id: &str,
    with_press: bool,
) -> Result<Vec<ShownSetRow>> {
    Ok(on_engine!(
        conn,
        websites::shown_sets(account_id, root_id, with_press)
    )?)
}

/// How many images are live at `now` in each of these sets (none: absent).
pub async fn live_counts(
    conn: &mut Conn,
    set_ids: &[String],
    now: Timestamp,
) -> Result<Vec<(String, i64)>> {
    if set_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(conn, websites::live_counts(set_ids, now))?)
}

/// A page of the images live in the set at `now`, in display order.
pub async fn live_member_ids(
    conn: &mut Conn,
    set_id: &str,
    now: Timestamp,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    Ok(on_engine!(
        conn,
        websites::live_member_ids(set_id, now, limit, offset)
    )?)
}

/// Which of these sets the image is live in at `now`.
pub async fn live_sets_of(
    conn: &mut Conn,
    image_id: &str,
    set_ids: &[String],
    now: Timestamp,
) -> Result<Vec<String>> {
    if set_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(
        conn,
        websites::live_sets_of(image_id, set_ids, now)
    )?)
}

/// The next activation time after `now` in these sets, if any.
pub async fn next_activation(
    conn: &mut Conn,
    set_ids: &[String],
    now: Timestamp,
) -> Result<Option<Timestamp>> {
    if set_ids.is_empty() {
        return Ok(None);
    }
    Ok(on_engine!(conn, websites::next_activation(set_ids, now))?)
}

/// Up to `limit` images live at `now` in these sets, newest live first.
pub async fn newest_live(
    conn: &mut Conn,
    set_ids: &[String],
    now: Timestamp,
    limit: i64,
) -> Result<Vec<LiveImageRow>> {
    if set_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_engine!(
        conn,
        websites::newest_live(set_ids, now, limit)
    )?)
}
