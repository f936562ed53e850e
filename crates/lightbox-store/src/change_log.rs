//! The change log: every write appends one row per changed entity in the
//! same transaction, so derived state (search index, caches) can follow it.

pub use lightbox_store_rows::change_log::{Change, ChangeRow};

use crate::sql::on_engine;
use crate::{Conn, Result};

pub async fn append(conn: &mut Conn, change: &Change<'_>) -> Result<()> {
    Ok(on_engine!(conn, change_log::append(change))?)
}

/// The highest sequence number written so far (0 when empty).
pub async fn head(conn: &mut Conn) -> Result<i64> {
    Ok(on_engine!(conn, change_log::head())?)
}

/// Up to `limit` changes after `seq`, in order.
pub async fn since(conn: &mut Conn, seq: i64, limit: i64) -> Result<Vec<ChangeRow>> {
    Ok(on_engine!(conn, change_log::since(seq, limit))?)
}

/// How many changes have a `seq` in `(lo, hi]`.
pub async fn count_between(conn: &mut Conn, lo: i64, hi: i64) -> Result<i64> {
    Ok(on_engine!(conn, change_log::count_between(lo, hi))?)
}
