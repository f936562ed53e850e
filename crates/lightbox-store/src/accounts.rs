//! Accounts: the tenant boundary. Everything else belongs to one.

pub use lightbox_store_rows::accounts::AccountRow;

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &AccountRow) -> Result<()> {
    Ok(on_engine!(conn, accounts::insert(row))?)
}

/// Finds an account by its uuid or its `unique_id`.
pub async fn find(conn: &mut Conn, id_or_unique_id: &str) -> Result<Option<AccountRow>> {
    Ok(on_engine!(conn, accounts::find(id_or_unique_id))?)
}

/// Switches API access; returns false when no such account exists.
pub async fn set_api_enabled(
    conn: &mut Conn,
    id: &str,
    enabled: bool,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_engine!(conn, accounts::set_api_enabled(id, enabled, now))?;
    Ok(changed == 1)
}
