//! Server-side secrets shared by every node on the database (refresh-token
//! successors, upload tickets): made once, stored, then read once per
//! process and kept in memory.

use lightbox_store::Timestamp;
use lightbox_store::server_keys;
use tokio::sync::OnceCell;

use crate::Core;
use crate::error::CoreError;

/// The key named `name`, from `cell` or (the first time) from the database,
/// where the first node to ask stores a fresh random one.
pub async fn get<'a>(
    core: &Core,
    cell: &'a OnceCell<Vec<u8>>,
    name: &str,
) -> Result<&'a [u8], CoreError> {
    let key = cell
        .get_or_try_init(|| async {
            let fresh = lightbox_auth::opaque::random_key().map_err(|e| {
                tracing::error!(error = %e, "no randomness");
                CoreError::internal()
            })?;
            let fresh = lightbox_auth::base62::encode_fixed(&fresh, 43).unwrap_or_default();
            let mut tx = core.store.begin_write().await?;
            let key =
                server_keys::get_or_create(&mut tx, name, &fresh, Timestamp(core.now())).await?;
            tx.commit().await?;
            Ok::<_, CoreError>(key.into_bytes())
        })
        .await?;
    Ok(key.as_slice())
}
