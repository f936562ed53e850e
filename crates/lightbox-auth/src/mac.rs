//! HMAC over several parts, for TOTP codes and refresh successors.

use hmac::digest::Output;
use hmac::{EagerHash, Hmac, KeyInit, Mac};

/// HMAC-`D`(`key`, concatenation of `parts`).
pub(crate) fn hmac<D>(key: &[u8], parts: &[&[u8]]) -> Output<Hmac<D>>
where
    D: EagerHash,
    Hmac<D>: KeyInit + Mac,
{
    match <Hmac<D> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes()
        }
        // HMAC pads or hashes a key of any length to its block size; the
        // fallible constructor is only the shared `KeyInit` signature.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_6_key_longer_than_the_block() {
        // HMAC-SHA256 with a 131-byte key, which HMAC hashes first.
        let key = [0xaa_u8; 131];
        let mac = hmac::<sha2::Sha256>(
            &key,
            &[
                b"Test Using Larger Than Block-Size Key",
                b" - Hash Key First",
            ],
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
