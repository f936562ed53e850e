//! Opaque bearer secrets for signed-in users: access, refresh and
//! second-factor-pending tokens, and the admin console's session cookie.
//!
//! Same construction as service tokens (prefix + 43 base62 digits of a
//! 256-bit value + 6 base62 digits of CRC32), so they share the offline
//! checksum and are stored only as [`hash_token`]. Each kind has its own
//! prefix, so a secret presented in the wrong place is refused by shape.

use sha2::Sha256;

use crate::checked;
use crate::mac::hmac;
use crate::token::{TokenFormatError, hash_token};

/// Domain separation for [`derive_successor`]; bump `v1` to change the scheme.
const SUCCESSOR_CONTEXT: &[u8] = b"lightbox refresh successor v1";
/// Server key length from [`random_key`]: 256 bits, as HMAC-SHA256 needs.
const KEY_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpaqueKind {
    /// Short-lived; authorizes API requests.
    Access,
    /// Long-lived; exchanged for a new access and refresh pair.
    Refresh,
    /// Password accepted, second factor still due.
    Mfa,
    /// The admin console's session cookie (never accepted as a bearer token).
    Console,
    /// A press member's sign-in on a press website (its cookie only).
    Press,
}

impl OpaqueKind {
    pub const ALL: [OpaqueKind; 5] = [
        OpaqueKind::Access,
        OpaqueKind::Refresh,
        OpaqueKind::Mfa,
        OpaqueKind::Console,
        OpaqueKind::Press,
    ];

    pub const fn prefix(self) -> &'static str {
        match self {
            OpaqueKind::Access => "dpg_at_",
            OpaqueKind::Refresh => "dpg_rt_",
            OpaqueKind::Mfa => "dpg_mfa_",
            OpaqueKind::Console => "dpg_cs_",
            OpaqueKind::Press => "dpg_ps_",
        }
    }

    /// Length of every secret of this kind.
    pub const fn secret_len(self) -> usize {
        checked::len_with(self.prefix())
    }
}

/// The kind a presented secret claims by its prefix. Says nothing about
/// whether it is well formed; [`OpaqueSecret::parse`] checks that.
pub fn kind_of(presented: &str) -> Option<OpaqueKind> {
    OpaqueKind::ALL
        .into_iter()
        .find(|kind| presented.starts_with(kind.prefix()))
}

/// A freshly generated, derived or well-formed presented secret.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueSecret {
    kind: OpaqueKind,
    text: String,
}

impl std::fmt::Debug for OpaqueSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret by accident: the kind is all that is shown.
        write!(f, "OpaqueSecret({:?}, …)", self.kind)
    }
}

impl OpaqueSecret {
    /// Generates a new secret from the operating system's random source.
    pub fn generate(kind: OpaqueKind) -> Result<Self, getrandom::Error> {
        let mut value = [0u8; 32];
        getrandom::fill(&mut value)?;
        Ok(Self::from_value(kind, &value))
    }

    fn from_value(kind: OpaqueKind, value: &[u8; 32]) -> Self {
        Self {
            kind,
            text: checked::build(kind.prefix(), value),
        }
    }

    /// Checks prefix, shape and checksum. Pure: a bad secret costs no I/O.
    pub fn parse(kind: OpaqueKind, presented: &str) -> Result<Self, TokenFormatError> {
        checked::check(kind.prefix(), presented)?;
        Ok(Self {
            kind,
            text: presented.to_owned(),
        })
    }

    pub fn kind(&self) -> OpaqueKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// SHA-256 of the whole secret, lowercase hex: what the database stores.
    pub fn hash(&self) -> String {
        hash_token(&self.text)
    }
}

/// The secret that replaces `previous` when it is rotated: same kind, value
/// HMAC-SHA256(`key`, context ‖ previous). Deterministic, so a retry within
/// a grace window can be handed the same successor again from the stored
/// hash of `previous` plus the presented secret, without the server keeping
/// any secret in clear; unpredictable to anyone without `key`.
pub fn derive_successor(key: &[u8], previous: &OpaqueSecret) -> OpaqueSecret {
    let value: [u8; 32] =
        hmac::<Sha256>(key, &[SUCCESSOR_CONTEXT, previous.as_str().as_bytes()]).into();
    OpaqueSecret::from_value(previous.kind, &value)
}

/// A new random server key (32 bytes), e.g. for [`derive_successor`].
pub fn random_key() -> Result<Vec<u8>, getrandom::Error> {
    let mut key = vec![0u8; KEY_LEN];
    getrandom::fill(&mut key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn generated_secrets_parse_as_their_kind_only() -> TestResult {
        for kind in OpaqueKind::ALL {
            let a = OpaqueSecret::generate(kind)?;
            let b = OpaqueSecret::generate(kind)?;
            assert_ne!(a, b);
            assert!(a.as_str().starts_with(kind.prefix()));
            assert_eq!(a.as_str().len(), kind.secret_len());
            assert_eq!(a.kind(), kind);
            assert_eq!(kind_of(a.as_str()), Some(kind));
            assert_eq!(OpaqueSecret::parse(kind, a.as_str())?, a);
            for other in OpaqueKind::ALL.into_iter().filter(|&k| k != kind) {
                assert_eq!(
                    OpaqueSecret::parse(other, a.as_str()),
                    Err(TokenFormatError::Malformed)
                );
            }
        }
        Ok(())
    }

    #[test]
    fn lengths_and_prefixes() {
        assert_eq!(OpaqueKind::Access.secret_len(), 7 + 43 + 6);
        assert_eq!(OpaqueKind::Refresh.secret_len(), 7 + 43 + 6);
        assert_eq!(OpaqueKind::Mfa.secret_len(), 8 + 43 + 6);
        assert_eq!(OpaqueKind::Console.secret_len(), 7 + 43 + 6);
        assert_eq!(kind_of("dpg_cs_anything"), Some(OpaqueKind::Console));
        assert_eq!(kind_of("dpg_ps_anything"), Some(OpaqueKind::Press));
        assert_eq!(kind_of("dpg_rt_anything"), Some(OpaqueKind::Refresh));
        assert_eq!(kind_of("dpg_api_live_x"), None);
        assert_eq!(kind_of("Bearer dpg_at_x"), None);
        assert_eq!(kind_of(""), None);
    }

    #[test]
    fn a_changed_character_fails_the_checksum() -> TestResult {
        let secret = OpaqueSecret::generate(OpaqueKind::Access)?;
        let mut chars: Vec<char> = secret.as_str().chars().collect();
        let i = OpaqueKind::Access.prefix().len() + 10;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let altered: String = chars.into_iter().collect();
        assert_eq!(
            OpaqueSecret::parse(OpaqueKind::Access, &altered),
            Err(TokenFormatError::BadChecksum)
        );
        // A service token is not a sign-in secret.
        let service = crate::ServiceTokenSecret::generate()?;
        assert_eq!(
            OpaqueSecret::parse(OpaqueKind::Access, service.as_str()),
            Err(TokenFormatError::Malformed)
        );
        Ok(())
    }

    #[test]
    fn debug_does_not_show_the_secret() -> TestResult {
        let secret = OpaqueSecret::generate(OpaqueKind::Refresh)?;
        let shown = format!("{secret:?}");
        assert_eq!(shown, "OpaqueSecret(Refresh, …)");
        assert!(!shown.contains(&secret.as_str()[7..20]));
        Ok(())
    }

    #[test]
    fn hash_is_hash_token() -> TestResult {
        let secret = OpaqueSecret::generate(OpaqueKind::Mfa)?;
        assert_eq!(secret.hash(), hash_token(secret.as_str()));
        assert_eq!(secret.hash().len(), 64);
        Ok(())
    }

    #[test]
    fn successor_is_deterministic_keyed_and_well_formed() -> TestResult {
        let key = random_key()?;
        assert_eq!(key.len(), 32);
        let other_key = random_key()?;
        let previous = OpaqueSecret::generate(OpaqueKind::Refresh)?;

        let next = derive_successor(&key, &previous);
        assert_eq!(next, derive_successor(&key, &previous));
        assert_ne!(next, previous);
        assert_ne!(next, derive_successor(&other_key, &previous));
        assert_eq!(next.kind(), OpaqueKind::Refresh);
        assert_eq!(
            OpaqueSecret::parse(OpaqueKind::Refresh, next.as_str())?,
            next
        );

        // A chain keeps moving and other inputs give other successors.
        let after = derive_successor(&key, &next);
        assert_ne!(after, next);
        assert_ne!(after, previous);
        let unrelated = OpaqueSecret::generate(OpaqueKind::Refresh)?;
        assert_ne!(derive_successor(&key, &unrelated), next);
        Ok(())
    }

    #[test]
    fn successor_is_pinned() -> TestResult {
        // Guards the scheme: changing it would break refresh retries that
        // straddle a deploy. Expected value computed independently with
        // Python's hmac, int-to-base62 and zlib.crc32.
        let previous = OpaqueSecret::parse(
            OpaqueKind::Refresh,
            &checked::build(OpaqueKind::Refresh.prefix(), &[0u8; 32]),
        )?;
        assert_eq!(
            previous.as_str(),
            "dpg_rt_00000000000000000000000000000000000000000000BBd6B"
        );
        let next = derive_successor(b"0123456789abcdef0123456789abcdef", &previous);
        assert_eq!(next.as_str(), PINNED_SUCCESSOR);
        Ok(())
    }

    const PINNED_SUCCESSOR: &str = "dpg_rt_8zCPQ0DTZWbHU9kz3v6v7on5k6vNjemlCgKYirX7rwa3n4p3B";
}
