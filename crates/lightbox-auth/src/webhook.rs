//! Webhook secrets and signatures, as the Standard Webhooks specification
//! has them: a secret is `whsec_` and base64 of random bytes; a signature
//! is `v1,` and base64 of HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>").

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

/// The `v1,…` signature of one delivery; None when `secret` is not one of
/// ours.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()?;
    let stamp = timestamp.to_string();
    let mac = crate::mac::hmac::<sha2::Sha256>(
        &key,
        &[id.as_bytes(), b".", stamp.as_bytes(), b".", body],
    );
    Some(format!("v1,{}", STANDARD.encode(mac)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's test vectors.
    #[test]
    fn signs_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_new_secret_has_32_bytes_and_signs() {
        let secret = new_secret().unwrap_or_else(|e| panic!("{e}"));
        let raw = STANDARD
            .decode(secret.trim_start_matches(PREFIX))
            .unwrap_or_default();
        assert_eq!(raw.len(), 32);
        assert!(signature(&secret, "a", 1, b"{}").is_some());
        assert_eq!(signature("not-ours", "a", 1, b"{}"), None);
    }
}
