//! Service tokens: `dpg_api_live_` + 43 base62 digits of secret (32 random
//! bytes) + 6 base62 digits of CRC32 over everything before it.
//!
//! The checksum lets secret scanners confirm a leaked token offline, and lets
//! the server refuse a mistyped or made-up token before any database lookup.
//! Only the SHA-256 of the whole token is stored.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::checked;

pub const SERVICE_TOKEN_PREFIX: &str = "dpg_api_live_";
pub const SERVICE_TOKEN_LEN: usize = checked::len_with(SERVICE_TOKEN_PREFIX);

/// A freshly generated or a well-formed presented service token.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceTokenSecret(String);

impl std::fmt::Debug for ServiceTokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret by accident.
        write!(f, "ServiceTokenSecret(…{})", self.last4())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormatError {
    /// Not a token of the expected prefix, length and alphabet.
    Malformed,
    /// Shape is right but the checksum does not match: mistyped or forged.
    BadChecksum,
}

impl std::fmt::Display for TokenFormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenFormatError::Malformed => f.write_str("malformed token"),
            TokenFormatError::BadChecksum => f.write_str("token checksum does not match"),
        }
    }
}

impl std::error::Error for TokenFormatError {}

impl ServiceTokenSecret {
    /// Generates a new token from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self(checked::build(SERVICE_TOKEN_PREFIX, &secret)))
    }

    /// Checks shape and checksum. Pure: no I/O, so a bad token costs nothing.
    pub fn parse(presented: &str) -> Result<Self, TokenFormatError> {
        checked::check(SERVICE_TOKEN_PREFIX, presented)?;
        Ok(Self(presented.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four characters, shown in listings next to the prefix.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len().saturating_sub(4)..]
    }

    /// SHA-256 of the whole token, lowercase hex: what the database stores.
    pub fn hash(&self) -> String {
        hash_token(&self.0)
    }
}

/// SHA-256 of a credential string, lowercase hex.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// Constant-time equality for stored hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() -> Result<(), Box<dyn std::error::Error>> {
        let a = ServiceTokenSecret::generate()?;
        let b = ServiceTokenSecret::generate()?;
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), SERVICE_TOKEN_LEN);
        assert!(a.as_str().starts_with("dpg_api_live_"));
        assert_eq!(ServiceTokenSecret::parse(a.as_str())?, a);
        Ok(())
    }

    #[test]
    fn one_changed_character_fails_the_checksum() -> Result<(), Box<dyn std::error::Error>> {
        let token = ServiceTokenSecret::generate()?;
        let mut chars: Vec<char> = token.as_str().chars().collect();
        let i = SERVICE_TOKEN_PREFIX.len() + 5;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let altered: String = chars.into_iter().collect();
        assert_eq!(
            ServiceTokenSecret::parse(&altered),
            Err(TokenFormatError::BadChecksum)
        );
        Ok(())
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for bad in [
            "",
            "dpg_api_live_",
            "Bearer x",
            "dpg_api_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "dpg_api_live_ääää",
        ] {
            assert_eq!(
                ServiceTokenSecret::parse(bad),
                Err(TokenFormatError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hashes_equal("ab", "ab"));
        assert!(!hashes_equal("ab", "ac"));
        assert!(!hashes_equal("ab", "abc"));
    }
}
