//! Secrets at rest that would let someone act as a user (TOTP seeds):
//! sealed with ChaCha20-Poly1305 under a key kept outside the database,
//! with the owner bound in as associated data (a sealed value copied to
//! another user does not open).
//!
//! Stored form: `sk1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The
//! key id names the key that sealed it, so keys can rotate; anything without
//! the prefix is a value stored before sealing existed.
//!
//! A key file holds one key per line (`lightbox-secret-key-v1 <base64url>`,
//! `#` comments allowed); the last one seals, every one opens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "sk1.";
const LINE: &str = "lightbox-secret-key-v1";
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretBoxError {
    #[error("no randomness from the operating system")]
    Random,
    #[error("line {0} is not a Lightbox secret key")]
    BadLine(usize),
    #[error("it holds no key")]
    Empty,
    /// Sealed under a key this keyring does not hold.
    #[error("sealed with key {0}, which the key file does not hold")]
    UnknownKey(String),
    /// Not a sealed value, or altered, or sealed for another owner.
    #[error("the sealed value is damaged or belongs to someone else")]
    Damaged,
}

/// One 256-bit key; its id is derived from it (a different file is never
/// mistaken for the right one).
pub struct SecretKey {
    id: String,
    bytes: [u8; KEY_LEN],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    pub fn generate() -> Result<SecretKey, SecretBoxError> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|_| SecretBoxError::Random)?;
        Ok(SecretKey::from_bytes(bytes))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        let digest = Sha256::new()
            .chain_update(b"lightbox secret key id\0")
            .chain_update(bytes)
            .finalize();
        let id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        SecretKey { id, bytes }
    }

    fn aead(&self) -> Result<LessSafeKey, SecretBoxError> {
        UnboundKey::new(&CHACHA20_POLY1305, &self.bytes)
            .map(LessSafeKey::new)
            .map_err(|_| SecretBoxError::Damaged)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The keys of a key file, oldest first; the last one seals.
#[derive(Debug)]
pub struct Keyring {
    keys: Vec<SecretKey>,
}

impl Keyring {
    pub fn new(keys: Vec<SecretKey>) -> Result<Keyring, SecretBoxError> {
        if keys.is_empty() {
            return Err(SecretBoxError::Empty);
        }
        Ok(Keyring { keys })
    }

    pub fn parse(text: &str) -> Result<Keyring, SecretBoxError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bytes = line
                .strip_prefix(LINE)
                .map(str::trim)
                .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
                .and_then(|b| <[u8; KEY_LEN]>::try_from(b).ok())
                .ok_or(SecretBoxError::BadLine(n + 1))?;
            keys.push(SecretKey::from_bytes(bytes));
        }
        Keyring::new(keys)
    }

    /// The key file's text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Lightbox secret keys (two-factor secrets are sealed with the last; every key opens).\n# Keep this file private and give every server on the database the same one.\n",
        );
        for k in &self.keys {
            out.push_str(&format!("{LINE} {}\n", URL_SAFE_NO_PAD.encode(k.bytes)));
        }
        out
    }

    pub fn current(&self) -> &SecretKey {
        // `new` refuses an empty list.
        &self.keys[self.keys.len() - 1]
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// A keyring with `key` added as the sealing key.
    pub fn with(mut self, key: SecretKey) -> Keyring {
        self.keys.push(key);
        self
    }

    /// Only the sealing key.
    pub fn latest_only(mut self) -> Keyring {
        let last = self.keys.len() - 1;
        Keyring {
            keys: self.keys.drain(last..).collect(),
        }
    }

    /// Seals `plain` for `owner` under the current key.
    pub fn seal(&self, owner: &str, plain: &[u8]) -> Result<String, SecretBoxError> {
        let key = self.current();
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SecretBoxError::Random)?;
        let mut buf = plain.to_vec();
        key.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SecretBoxError::Damaged)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!(
            "{PREFIX}{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Opens a sealed value of `owner`.
    pub fn open(&self, owner: &str, stored: &str) -> Result<Vec<u8>, SecretBoxError> {
        let id = key_id(stored).ok_or(SecretBoxError::Damaged)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| SecretBoxError::UnknownKey(id.to_owned()))?;
        let body = stored
            .get(PREFIX.len() + id.len() + 1..)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() >= NONCE_LEN)
            .ok_or(SecretBoxError::Damaged)?;
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretBoxError::Damaged)?;
        let mut buf = sealed.to_vec();
        let aead = key.aead()?;
        let plain = aead
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut buf)
            .map_err(|_| SecretBoxError::Damaged)?;
        Ok(plain.to_vec())
    }
}

/// The id of the key that sealed `stored`; `None` when it is not sealed.
pub fn key_id(stored: &str) -> Option<&str> {
    let rest = stored.strip_prefix(PREFIX)?;
    rest.split_once('.').map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_for_the_owner_only() -> Result<(), SecretBoxError> {
        let ring = Keyring::new(vec![SecretKey::generate()?])?;
        let sealed = ring.seal("user-1", b"JBSWY3DPEHPK3PXP")?;
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(ring.open("user-1", &sealed)?, b"JBSWY3DPEHPK3PXP");
        assert_eq!(ring.open("user-2", &sealed), Err(SecretBoxError::Damaged));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(ring.open("user-1", &altered), Err(SecretBoxError::Damaged));
        assert_eq!(
            ring.open("user-1", "JBSWY3DPEHPK3PXP"),
            Err(SecretBoxError::Damaged)
        );
        // Two seals of the same value differ (random nonces).
        assert_ne!(ring.seal("user-1", b"x")?, ring.seal("user-1", b"x")?);
        Ok(())
    }

    #[test]
    fn rotation_keeps_old_values_readable_until_the_old_key_goes() -> Result<(), SecretBoxError> {
        let ring = Keyring::new(vec![SecretKey::generate()?])?;
        let old = ring.seal("u", b"old")?;
        let old_id = ring.current().id().to_owned();
        let ring = Keyring::parse(&ring.render())?.with(SecretKey::generate()?);
        assert_eq!(ring.ids().len(), 2);
        assert_eq!(ring.open("u", &old)?, b"old");
        let new = ring.seal("u", b"new")?;
        assert_ne!(key_id(&new), Some(old_id.as_str()));
        let ring = Keyring::parse(&ring.latest_only().render())?;
        assert_eq!(ring.open("u", &new)?, b"new");
        assert_eq!(
            ring.open("u", &old),
            Err(SecretBoxError::UnknownKey(old_id))
        );
        Ok(())
    }

    #[test]
    fn key_files_are_checked() {
        assert_eq!(
            Keyring::parse("# nothing\n").err(),
            Some(SecretBoxError::Empty)
        );
        assert_eq!(
            Keyring::parse("lightbox-secret-key-v1 c2hvcnQ\n").err(),
            Some(SecretBoxError::BadLine(1))
        );
        assert_eq!(
            Keyring::parse("\nsomething else\n").err(),
            Some(SecretBoxError::BadLine(2))
        );
    }
}
