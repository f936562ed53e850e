//! ZIP archives of images: one row per archive, `building` → `ready` (or
//! `failed`); the ZIP itself is a blob under `blob_key`.

pub use lightbox_store_rows::archives::ArchiveRow;

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &ArchiveRow) -> Result<()> {
    Ok(on_engine!(conn, archives::insert(row))?)
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<ArchiveRow>> {
    Ok(on_engine!(conn, archives::find(account_id, id))?)
}

/// Ready archives not expired at `now`, newest first; with `originals_of`,
/// only those holding no originals or only that user's.
pub async fn list_ready(
    conn: &mut Conn,
    account_id: &str,
    now: Timestamp,
    originals_of: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ArchiveRow>> {
    Ok(on_engine!(
        conn,
        archives::list_ready(account_id, now, originals_of, limit, offset)
    )?)
}

/// Records the outcome of a build: `ready` with its size and whose
/// originals it holds, or `failed`.
pub async fn finish(
    conn: &mut Conn,
    id: &str,
    status: &str,
    bytes: Option<i64>,
    image_count: i64,
    originals_by: &str,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        archives::finish(id, status, bytes, image_count, originals_by)
    )?)
}

pub async fn delete(conn: &mut Conn, id: &str) -> Result<()> {
    Ok(on_engine!(conn, archives::delete(id))?)
}

/// Archives expired before `now` (any account), oldest first.
pub async fn expired(conn: &mut Conn, now: Timestamp, limit: i64) -> Result<Vec<ArchiveRow>> {
    Ok(on_engine!(conn, archives::expired(now, limit))?)
}
