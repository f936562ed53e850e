//! TOTP secrets at rest, sealed under the secret key file
//! (`--secret-key-file`, default `<data-dir>/secret.key`) with the user id
//! as associated data: a database dump alone cannot produce a user's codes.
//!
//! The file is read at start; a value sealed under a key id this node does
//! not know (another process rotated) makes it read the file again, and
//! every seal reads it first, so a rotation is followed without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use lightbox_auth::secret_box::{self, Keyring, SecretBoxError, SecretKey};
use lightbox_store::users as user_store;

use crate::Core;
use crate::error::CoreError;

pub struct SecretKeys {
    /// None: a key made in memory (tests), never written anywhere.
    path: Option<PathBuf>,
    ring: RwLock<Option<Arc<Keyring>>>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn owner(user_id: &str) -> String {
    format!("lightbox totp\0{user_id}")
}

fn read_file(path: &Path) -> Result<Keyring, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("secret key file {}: {e}", path.display()))?;
    Keyring::parse(&text).map_err(|e| format!("secret key file {}: {e}", path.display()))
}

/// Writes the key file whole (a temporary file renamed over it), readable
/// by its owner only.
fn write_file(path: &Path, ring: &Keyring) -> Result<(), String> {
    use std::io::Write;
    let fail = |e: std::io::Error| format!("secret key file {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("key.tmp");
    // A leftover temporary file (a crash, or one planted with wider
    // permissions) is removed: the mode below applies only to a new file.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(fail)?;
    file.write_all(ring.render().as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)?;
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    tracing::error!(error = %e, "two-factor secret");
    CoreError::internal()
}

impl SecretKeys {
    /// A random key held in memory only (tests and examples).
    pub fn in_memory() -> SecretKeys {
        let ring = SecretKey::generate()
            .and_then(|k| Keyring::new(vec![k]))
            .ok()
            .map(Arc::new);
        SecretKeys {
            path: None,
            ring: RwLock::new(ring),
        }
    }

    /// The key file at `path`, made (one new key, mode 0600) when missing.
    /// Returns whether it was made.
    pub fn open_or_create(path: &Path) -> Result<(SecretKeys, bool), String> {
        let created = !path.exists();
        let ring = if created {
            let key = SecretKey::generate().map_err(|e| e.to_string())?;
            let ring = Keyring::new(vec![key]).map_err(|e| e.to_string())?;
            write_file(path, &ring)?;
            ring
        } else {
            read_file(path)?
        };
        Ok((
            SecretKeys {
                path: Some(path.to_owned()),
                ring: RwLock::new(Some(Arc::new(ring))),
            },
            created,
        ))
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn ring(&self) -> Result<Arc<Keyring>, CoreError> {
        let guard = self.ring.read().map_err(|_| CoreError::internal())?;
        guard
            .clone()
            .ok_or_else(|| internal("no secret key (no randomness at start)"))
    }

    fn set(&self, ring: Keyring) -> Result<(), CoreError> {
        let mut guard = self.ring.write().map_err(|_| CoreError::internal())?;
        *guard = Some(Arc::new(ring));
        Ok(())
    }

    /// Reads the key file again (another process may have rotated).
    fn reload(&self) -> Result<Arc<Keyring>, CoreError> {
        if let Some(path) = &self.path {
            self.set(read_file(path).map_err(internal)?)?;
        }
        self.ring()
    }

    /// Seals a base32 TOTP secret of `user_id` under the newest key.
    pub fn seal(&self, user_id: &str, base32: &str) -> Result<String, CoreError> {
        self.reload()?
            .seal(&owner(user_id), base32.as_bytes())
            .map_err(internal)
    }

    /// The base32 TOTP secret of a stored value; a value stored before
    /// sealing existed is taken as it is (start-up seals it).
    pub fn open(&self, user_id: &str, stored: &str) -> Result<String, CoreError> {
        if secret_box::key_id(stored).is_none() {
            return Ok(stored.to_owned());
        }
        let opened = match self.ring()?.open(&owner(user_id), stored) {
            Err(SecretBoxError::UnknownKey(_)) => self.reload()?.open(&owner(user_id), stored),
            other => other,
        };
        let plain = opened.map_err(internal)?;
        String::from_utf8(plain).map_err(internal)
    }
}

/// The TOTP secret (raw bytes) of a stored value.
pub fn totp_secret(core: &Core, user_id: &str, stored: &str) -> Result<Vec<u8>, CoreError> {
    let base32 = core.secrets.open(user_id, stored)?;
    lightbox_auth::totp::from_base32(&base32)
        .ok_or_else(|| internal("a stored TOTP secret is not base32"))
}

/// Re-seals every stored secret that is in clear or not under the newest
/// key; returns how many. A value changed meanwhile is left to its writer.
async fn reseal_all(core: &Core, ring: &Keyring) -> Result<usize, CoreError> {
    // Users' secrets, and press members' (sealed for `press:<id>`).
    let (users, press) = {
        let mut conn = core.store.read().await?;
        (
            user_store::list_totp_secrets(&mut conn).await?,
            lightbox_store::press::list_totp_secrets(&mut conn).await?,
        )
    };
    let rows = users
        .into_iter()
        .map(|(id, s, p)| (id, false, s, p))
        .chain(press.into_iter().map(|(id, s, p)| (id, true, s, p)));
    let newest = ring.current().id();
    let mut done = 0;
    for (row_id, is_press, secret, pending) in rows {
        let user_id = if is_press {
            crate::press::secret_owner(&row_id)
        } else {
            row_id.clone()
        };
        for (is_pending, stored) in [(false, secret), (true, pending)] {
            let Some(stored) = stored else { continue };
            let base32 = match secret_box::key_id(&stored) {
                Some(id) if id == newest => continue,
                Some(_) => {
                    let plain = ring.open(&owner(&user_id), &stored).map_err(internal)?;
                    String::from_utf8(plain).map_err(internal)?
                }
                None => stored.clone(),
            };
            let sealed = ring
                .seal(&owner(&user_id), base32.as_bytes())
                .map_err(internal)?;
            let mut tx = core.store.begin_write().await?;
            let resealed = if is_press {
                lightbox_store::press::reseal_totp(&mut tx, &row_id, is_pending, &stored, &sealed)
                    .await?
            } else {
                user_store::reseal_totp(&mut tx, &row_id, is_pending, &stored, &sealed).await?
            };
            if resealed {
                done += 1;
            }
            tx.commit().await?;
        }
    }
    done += reseal_webhook_secrets(core, ring).await?;
    Ok(done)
}

/// Webhook signing secrets (sealed for `webhook:<id>`), current and previous.
async fn reseal_webhook_secrets(core: &Core, ring: &Keyring) -> Result<usize, CoreError> {
    let rows = {
        let mut conn = core.store.read().await?;
        lightbox_store::webhooks::list_secrets(&mut conn).await?
    };
    let newest = ring.current().id();
    let mut done = 0;
    for (id, secret, previous) in rows {
        let who = owner(&crate::webhooks::secret_owner(&id));
        for (is_previous, stored) in [(false, Some(secret)), (true, previous)] {
            let Some(stored) = stored else { continue };
            if secret_box::key_id(&stored) == Some(newest) {
                continue;
            }
            let plain = ring.open(&who, &stored).map_err(internal)?;
            let sealed = ring.seal(&who, &plain).map_err(internal)?;
            let mut tx = core.store.begin_write().await?;
            if lightbox_store::webhooks::reseal(&mut tx, &id, is_previous, &stored, &sealed).await?
            {
                done += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(done)
}

/// At start: every stored secret must open with the key file (else a clear
/// refusal naming the missing key), and secrets stored in clear by an
/// older version are sealed. Returns how many were sealed.
pub async fn check_and_seal(core: &Core) -> Result<usize, String> {
    let describe = |e: CoreError| format!("two-factor secrets: {}", e.message);
    let ring = core.secrets.ring().map_err(describe)?;
    let rows = {
        let mut conn = core.store.read().await.map_err(|e| describe(e.into()))?;
        user_store::list_totp_secrets(&mut conn)
            .await
            .map_err(|e| describe(e.into()))?
    };
    let file = core
        .secrets
        .path()
        .map_or("the secret key file".to_owned(), |p| {
            p.display().to_string()
        });
    for (user_id, secret, pending) in &rows {
        for stored in [secret, pending].into_iter().flatten() {
            if secret_box::key_id(stored).is_none() {
                continue;
            }
            match ring.open(&owner(user_id), stored) {
                Ok(_) => {}
                Err(SecretBoxError::UnknownKey(id)) => {
                    return Err(format!(
                        "the two-factor secrets in this database were sealed with secret key {id}, which {file} does not hold (it holds {}). Start with the key file this database was set up with (--secret-key-file / LIGHTBOX_SECRET_KEY_FILE).",
                        ring.ids().join(", ")
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "a two-factor secret of user {user_id} does not open with {file}: {e}."
                    ));
                }
            }
        }
    }
    reseal_all(core, &ring).await.map_err(describe)
}

pub struct Rotation {
    pub key_id: String,
    pub resealed: usize,
}

/// `lightbox secret-key rotate`: a new key joins the file (it seals from
/// now on, the old ones still open), every stored secret is sealed again
/// under it, then the file keeps the new key only.
pub async fn rotate(core: &Core) -> Result<Rotation, String> {
    let Some(path) = core.secrets.path().map(Path::to_owned) else {
        return Err("no secret key file to rotate".to_owned());
    };
    let describe = |e: CoreError| format!("rotating the secret key: {}", e.message);
    let old = read_file(&path)?;
    let key = SecretKey::generate().map_err(|e| e.to_string())?;
    let key_id = key.id().to_owned();
    let both = Keyring::parse(&old.render())
        .map_err(|e| e.to_string())?
        .with(key);
    write_file(&path, &both)?;
    let mut resealed = reseal_all(core, &both).await.map_err(describe)?;
    let newest = Keyring::parse(&both.render())
        .map_err(|e| e.to_string())?
        .latest_only();
    write_file(&path, &newest)?;
    // A secret a server sealed with the old key just before it saw the new
    // file: sealed again while this process can still open it.
    resealed += reseal_all(core, &both).await.map_err(describe)?;
    core.secrets.set(newest).map_err(describe)?;
    Ok(Rotation { key_id, resealed })
}
