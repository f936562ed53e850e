//! Signing keys of download links, shared by every process on the database
//! (a link signed by one node is checked by another). Key ids count up from
//! 1; the newest active key signs, every active key verifies. Rotation adds
//! one and retires all but the two newest (see migration 0005).

pub use lightbox_store_rows::signing_keys::SigningKeyRow;

use crate::sql::on_engine;
use crate::{Conn, Result, Timestamp};

/// How many keys stay active after a rotation: the new signer and the one
/// before it (links it signed keep working until they expire).
pub const ACTIVE_KEYS: usize = 2;

/// The active keys, newest (the signer) first.
pub async fn active(conn: &mut Conn) -> Result<Vec<SigningKeyRow>> {
    Ok(on_engine!(conn, signing_keys::active())?)
}

/// Every key, retired ones included, newest first.
pub async fn all(conn: &mut Conn) -> Result<Vec<SigningKeyRow>> {
    Ok(on_engine!(conn, signing_keys::all())?)
}

/// Adds `secret` as the next key (the new signer) and retires every active
/// key but the [`ACTIVE_KEYS`] newest; answers the new kid and the retired
/// ones. Run it in a write transaction: a concurrent rotation that picked
/// the same kid fails on the primary key instead of interleaving.
pub async fn rotate(conn: &mut Conn, secret: &str, now: Timestamp) -> Result<(i64, Vec<i64>)> {
    let kid = on_engine!(conn, signing_keys::last_kid())?.unwrap_or(0) + 1;
    on_engine!(conn, signing_keys::insert(kid, secret, now))?;
    let mut retired = Vec::new();
    for key in active(conn).await?.into_iter().skip(ACTIVE_KEYS) {
        on_engine!(conn, signing_keys::retire(key.kid, now))?;
        retired.push(key.kid);
    }
    Ok((kid, retired))
}
