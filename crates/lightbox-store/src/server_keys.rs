//! Server-side secrets, made once and shared by every process on the
//! database (a node that derives a value must derive the same one as its
//! peers).

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// The key named `name`, or `fresh` stored as it if there is none yet.
/// Two processes racing here both end up with whichever was stored first.
pub async fn get_or_create(
    conn: &mut Conn,
    name: &str,
    fresh: &str,
    now: Timestamp,
) -> Result<String> {
    on_engine!(conn, server_keys::insert_if_absent(name, fresh, now))?;
    Ok(on_engine!(conn, server_keys::get(name))?)
}
