//! The shared shape of Lightbox bearer secrets: a fixed prefix, 43 base62
//! digits of a 256-bit value, then 6 base62 digits of CRC32 over everything
//! before them. Service tokens and sign-in secrets differ only in prefix.

use subtle::ConstantTimeEq;

use crate::base62;
use crate::token::TokenFormatError;

/// 62^43 > 2^256, so any 32-byte value fits.
pub(crate) const SECRET_DIGITS: usize = 43;
/// 62^6 > 2^32, so any CRC32 fits.
pub(crate) const CHECKSUM_DIGITS: usize = 6;

/// Total length of a secret with this prefix.
pub(crate) const fn len_with(prefix: &str) -> usize {
    prefix.len() + SECRET_DIGITS + CHECKSUM_DIGITS
}

fn checksum(body: &str) -> String {
    base62::encode_u32(crc32fast::hash(body.as_bytes()))
}

/// `prefix` + base62 of `value` + checksum.
pub(crate) fn build(prefix: &str, value: &[u8; 32]) -> String {
    // Cannot fail: 32 bytes always fit in 43 digits (see SECRET_DIGITS).
    let digits = base62::encode_fixed(value, SECRET_DIGITS).unwrap_or_default();
    let body = format!("{prefix}{digits}");
    let sum = checksum(&body);
    format!("{body}{sum}")
}

/// Checks shape and checksum. Pure: a bad secret costs no I/O.
pub(crate) fn check(prefix: &str, presented: &str) -> Result<(), TokenFormatError> {
    let len = len_with(prefix);
    if presented.len() != len
        || !presented.starts_with(prefix)
        || !base62::is_base62(&presented[prefix.len()..])
    {
        return Err(TokenFormatError::Malformed);
    }
    let (body, sum) = presented.split_at(len - CHECKSUM_DIGITS);
    if checksum(body).as_bytes().ct_eq(sum.as_bytes()).into() {
        Ok(())
    } else {
        Err(TokenFormatError::BadChecksum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_secrets_check_and_have_fixed_length() {
        for value in [[0u8; 32], [0xff; 32], [7; 32]] {
            let s = build("p_", &value);
            assert_eq!(s.len(), len_with("p_"));
            assert_eq!(check("p_", &s), Ok(()));
            assert_eq!(check("q_", &s), Err(TokenFormatError::Malformed));
        }
    }
}
