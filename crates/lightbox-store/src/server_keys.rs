//! Server-side secrets, made once and shared by every process on the
//! database (a node that derives a value must derive the same one as its
//! peers).

use crate::sql;
use crate::{Conn, Result};

/// The key named `name`, or `fresh` stored as it if there is none yet.
/// Two processes racing here both end up with whichever was stored first.
pub async fn get_or_create(conn: &mut Conn, name: &str, fresh: &str, now: i64) -> Result<String> {
    sql::query(
        "INSERT INTO server_keys (name, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let (secret,): (String,) = sql::query_as("SELECT secret FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_one(conn)
        .await?;
    Ok(secret)
}
