//! Sealed values: a payload and an HMAC-SHA256 over it, for things the server
//! hands out and must recognise unaltered later (upload tickets, signed
//! links). `purpose` separates uses, so a value sealed for one is never
//! accepted by another under the same key.
//!
//! Form: `base64url(payload) "." base64url(HMAC(key, purpose ‖ 0 ‖ base64url(payload)))`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::mac::hmac;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not a sealed value")]
    Malformed,
    #[error("the signature does not match: altered or forged")]
    BadSignature,
}

fn tag(key: &[u8], purpose: &str, encoded: &str) -> String {
    let mac = hmac::<Sha256>(key, &[purpose.as_bytes(), &[0], encoded.as_bytes()]);
    URL_SAFE_NO_PAD.encode(mac)
}

/// Seals `payload` under `key` for `purpose`.
pub fn seal(key: &[u8], purpose: &str, payload: &[u8]) -> String {
    let encoded = URL_SAFE_NO_PAD.encode(payload);
    let tag = tag(key, purpose, &encoded);
    format!("{encoded}.{tag}")
}

/// The payload, if `sealed` was made by [`seal`] with this key and purpose.
pub fn open(key: &[u8], purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
    let (encoded, presented) = sealed.split_once('.').ok_or(SealError::Malformed)?;
    if encoded.is_empty() || presented.is_empty() || presented.contains('.') {
        return Err(SealError::Malformed);
    }
    let expected = tag(key, purpose, encoded);
    if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(SealError::BadSignature);
    }
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| SealError::Malformed)
}

/// The payload of `sealed` **without checking the signature**: only for
/// reading which key to check it with (a key id), never for trusting it.
pub fn peek(sealed: &str) -> Result<Vec<u8>, SealError> {
    let (encoded, _) = sealed.split_once('.').ok_or(SealError::Malformed)?;
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| SealError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let sealed = seal(b"key", "upload", b"{\"a\":1}");
        assert_eq!(open(b"key", "upload", &sealed), Ok(b"{\"a\":1}".to_vec()));
        assert_eq!(peek(&sealed), Ok(b"{\"a\":1}".to_vec()));
        assert_eq!(peek("nodot"), Err(SealError::Malformed));
    }

    #[test]
    fn refuses_other_key_purpose_or_any_change() {
        let sealed = seal(b"key", "upload", b"payload");
        assert_eq!(
            open(b"other", "upload", &sealed),
            Err(SealError::BadSignature)
        );
        assert_eq!(
            open(b"key", "download", &sealed),
            Err(SealError::BadSignature)
        );
        let (payload, tag) = sealed.split_once('.').unwrap_or_default();
        let altered = format!("{}A.{tag}", payload);
        assert_eq!(
            open(b"key", "upload", &altered),
            Err(SealError::BadSignature)
        );
        let forged = format!("{payload}.{}", "A".repeat(tag.len()));
        assert_eq!(
            open(b"key", "upload", &forged),
            Err(SealError::BadSignature)
        );
        assert_eq!(open(b"key", "upload", "nodot"), Err(SealError::Malformed));
        assert_eq!(open(b"key", "upload", "a.b.c"), Err(SealError::Malformed));
        assert_eq!(open(b"key", "upload", ""), Err(SealError::Malformed));
    }
}
