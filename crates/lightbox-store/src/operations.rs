//! Operations: the record every write answers with, and what polling reads.

pub use lightbox_store_rows::operations::OperationRow;

use crate::sql::on_engine;
use crate::{Conn, JsonText, Result, Timestamp};

pub async fn insert(conn: &mut Conn, row: &OperationRow) -> Result<()> {
    Ok(on_engine!(conn, operations::insert(row))?)
}

/// An operation of this account (another account's is simply not found).
pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<OperationRow>> {
    Ok(on_engine!(conn, operations::find(account_id, id))?)
}

pub async fn find_any_account(conn: &mut Conn, id: &str) -> Result<Option<OperationRow>> {
    Ok(on_engine!(conn, operations::find_any_account(id))?)
}

/// Moves an operation to a new status; `finished_at` is set for final ones.
pub async fn set_status(
    conn: &mut Conn,
    id: &str,
    status: &str,
    result: Option<&str>,
    error: Option<&str>,
    now: Timestamp,
    finished: bool,
) -> Result<()> {
    Ok(on_engine!(
        conn,
        operations::set_status(
            id,
            status,
            result.map(JsonText::from).as_ref(),
            error.map(JsonText::from).as_ref(),
            now,
            finished
        )
    )?)
}
