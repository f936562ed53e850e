//! Time-based one-time passwords (RFC 6238) for second-factor sign-in.
//!
//! Written on HMAC directly rather than a TOTP crate so the rules that
//! matter here are ours and visible: SHA-1 and 6 digits (what every
//! authenticator app supports), a ±1 step window for clock drift, and each
//! code accepted once.

use subtle::ConstantTimeEq;

use crate::mac::hmac;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Digits of the codes [`verify`] accepts.
pub const DIGITS: u32 = 6;
/// Secret length from [`generate_secret`]: 160 bits, RFC 4226's recommendation.
const SECRET_LEN: usize = 20;
/// The most digits a 31-bit truncated HMAC can carry.
const MAX_DIGITS: u32 = 10;

/// The HMAC hash. Verification is SHA-1 only; the others exist for the RFC
/// test vectors and possible future use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl TotpAlgorithm {
    /// The name used in `otpauth://` URIs.
    pub fn uri_name(self) -> &'static str {
        match self {
            TotpAlgorithm::Sha1 => "SHA1",
            TotpAlgorithm::Sha256 => "SHA256",
            TotpAlgorithm::Sha512 => "SHA512",
        }
    }
}

/// A new random secret for enrolment (20 bytes).
pub fn generate_secret() -> Result<Vec<u8>, getrandom::Error> {
    let mut secret = vec![0u8; SECRET_LEN];
    getrandom::fill(&mut secret)?;
    Ok(secret)
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, uppercase, without `=` padding: what authenticator apps
/// expect in the `secret` parameter and what users type by hand.
pub fn base32(secret: &[u8]) -> String {
    let mut out = String::with_capacity(secret.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in secret {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(
                BASE32_ALPHABET[((buffer >> bits) & 0x1f) as usize],
            ));
        }
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// Decodes RFC 4648 base32 as a person might type or paste it: any case,
/// spaces anywhere, `=` padding optional (but correct if present). `None`
/// for anything else, including leftover non-zero bits, so each secret has
/// one spelling. An empty input decodes to an empty secret; callers check
/// the length they need.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let data_len = compact
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(0, |i| i + 1);
    let (data, padding) = compact.split_at(data_len);
    if !padding.is_empty() && !compact.len().is_multiple_of(8) {
        return None;
    }
    // Lengths that no whole number of bytes encodes to.
    if matches!(data.len() % 8, 1 | 3 | 6) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &c in data {
        let value = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    if buffer & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

/// RFC 4226 HOTP value for counter `step`, as `digits` zero-padded digits.
fn code_for_step(secret: &[u8], alg: TotpAlgorithm, step: u64, digits: u32) -> String {
    let counter = step.to_be_bytes();
    let mac = match alg {
        TotpAlgorithm::Sha1 => hmac::<sha1::Sha1>(secret, &[&counter]).to_vec(),
        TotpAlgorithm::Sha256 => hmac::<sha2::Sha256>(secret, &[&counter]).to_vec(),
        TotpAlgorithm::Sha512 => hmac::<sha2::Sha512>(secret, &[&counter]).to_vec(),
    };
    // Dynamic truncation: the low nibble of the last byte picks 4 bytes.
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    if let Some(bytes) = mac.get(offset..offset + 4) {
        word.copy_from_slice(bytes);
    }
    let binary = u64::from(u32::from_be_bytes(word) & 0x7fff_ffff);
    let digits = digits.clamp(1, MAX_DIGITS);
    let value = binary % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The code for Unix time `unix_secs`, `digits` long (clamped to 1..=10),
/// zero-padded.
pub fn code_at(secret: &[u8], alg: TotpAlgorithm, unix_secs: u64, digits: u32) -> String {
    code_for_step(secret, alg, unix_secs / STEP_SECS, digits)
}

/// The 6 digits of a code as typed: surrounding whitespace and one inner
/// space (`123 456`) are allowed, nothing else.
fn normalize_code(code: &str) -> Option<String> {
    let trimmed = code.trim();
    let compact: String = match trimmed.find(' ') {
        Some(i) => format!("{}{}", &trimmed[..i], &trimmed[i + 1..]),
        None => trimmed.to_owned(),
    };
    (compact.len() == DIGITS as usize && compact.bytes().all(|b| b.is_ascii_digit()))
        .then_some(compact)
}

/// Checks a 6-digit SHA-1 code at `unix_secs`, allowing one step of clock
/// drift either way. Steps at or before `last_used_step` are refused, so a
/// code works once. Returns the step to record as the new
/// `last_used_step`.
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_secs: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code = normalize_code(code)?;
    let now = unix_secs / STEP_SECS;
    let candidates = [now.checked_sub(1), Some(now), now.checked_add(1)];
    let mut accepted = None;
    // Every candidate is computed and compared, so timing does not show
    // which step matched. The latest matching step wins: should two steps
    // share a code, recording the later one keeps that code from being
    // replayed in the other step.
    for step in candidates.into_iter().flatten() {
        let expected = code_for_step(secret, TotpAlgorithm::Sha1, step, DIGITS);
        let matches: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        let fresh = last_used_step.is_none_or(|last| step > last);
        if matches && fresh {
            accepted = Some(step);
        }
    }
    accepted
}

/// Percent-encodes everything but RFC 3986 unreserved characters, which is
/// always safe in a URI path or query.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `otpauth://` URI an authenticator app scans from a QR code, in the
/// Key Uri Format: `Issuer:account` label, SHA-1, 6 digits, 30 s period.
pub fn otpauth_uri(issuer: &str, account_name: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm={alg}&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account_name),
        secret = base32(secret),
        alg = TotpAlgorithm::Sha1.uri_name(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1_KEY: &[u8] = b"12345678901234567890";
    const SHA256_KEY: &[u8] = b"12345678901234567890123456789012";
    const SHA512_KEY: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in vectors {
            assert_eq!(
                code_at(SHA1_KEY, TotpAlgorithm::Sha1, time, 8),
                sha1,
                "{time}"
            );
            assert_eq!(
                code_at(SHA256_KEY, TotpAlgorithm::Sha256, time, 8),
                sha256,
                "{time}"
            );
            assert_eq!(
                code_at(SHA512_KEY, TotpAlgorithm::Sha512, time, 8),
                sha512,
                "{time}"
            );
        }
    }

    #[test]
    fn six_digit_codes_are_the_low_digits_zero_padded() {
        // RFC 6238 SHA-1 at 1111111109 is 07081804: six digits keep "081804".
        assert_eq!(
            code_at(SHA1_KEY, TotpAlgorithm::Sha1, 1111111109, 6),
            "081804"
        );
        assert_eq!(code_at(SHA1_KEY, TotpAlgorithm::Sha1, 59, DIGITS), "287082");
    }

    #[test]
    fn verify_accepts_one_step_of_drift_and_no_more() {
        let now = 1_700_000_000u64;
        let step = now / STEP_SECS;
        let at = |s: u64| code_at(SHA1_KEY, TotpAlgorithm::Sha1, s * STEP_SECS, DIGITS);
        assert_eq!(verify(SHA1_KEY, &at(step), now, None), Some(step));
        assert_eq!(verify(SHA1_KEY, &at(step - 1), now, None), Some(step - 1));
        assert_eq!(verify(SHA1_KEY, &at(step + 1), now, None), Some(step + 1));
        for far in [step - 2, step + 2] {
            let code = at(far);
            // Skip the one-in-a-million case where a far code equals a near one.
            if [step - 1, step, step + 1].iter().all(|&s| at(s) != code) {
                assert_eq!(verify(SHA1_KEY, &code, now, None), None, "{far}");
            }
        }
        assert_eq!(verify(b"another secret", &at(step), now, None), None);
    }

    #[test]
    fn a_code_is_accepted_once() {
        let now = 1_700_000_000u64;
        let code = code_at(SHA1_KEY, TotpAlgorithm::Sha1, now, DIGITS);
        let step = verify(SHA1_KEY, &code, now, None);
        assert_eq!(step, Some(now / STEP_SECS));
        assert_eq!(verify(SHA1_KEY, &code, now, step), None);
        assert_eq!(verify(SHA1_KEY, &code, now + 20, step), None);
        // An older code after a newer one is refused too.
        let previous = code_at(SHA1_KEY, TotpAlgorithm::Sha1, now - STEP_SECS, DIGITS);
        assert_eq!(verify(SHA1_KEY, &previous, now, step), None);
        // The next step's code still works.
        let next = code_at(SHA1_KEY, TotpAlgorithm::Sha1, now + STEP_SECS, DIGITS);
        assert_eq!(
            verify(SHA1_KEY, &next, now + STEP_SECS, step),
            step.map(|s| s + 1)
        );
    }

    #[test]
    fn code_shapes() {
        let now = 1_700_000_000u64;
        let code = code_at(SHA1_KEY, TotpAlgorithm::Sha1, now, DIGITS);
        let spaced = format!(" {} {}\n", &code[..3], &code[3..]);
        assert!(verify(SHA1_KEY, &spaced, now, None).is_some());
        for bad in [
            format!("{} {} ", &code[..2], &code[2..4]) + &code[4..],
            format!("{}-{}", &code[..3], &code[3..]),
            format!("{code}0"),
            code[..5].to_owned(),
            String::new(),
            "abcdef".to_owned(),
            "１２３４５６".to_owned(),
        ] {
            assert_eq!(verify(SHA1_KEY, &bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn verify_at_time_zero_has_no_previous_step() {
        let code = code_at(SHA1_KEY, TotpAlgorithm::Sha1, 0, DIGITS);
        assert_eq!(verify(SHA1_KEY, &code, 0, None), Some(0));
    }

    #[test]
    fn base32_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32(plain.as_bytes()), encoded);
            assert_eq!(from_base32(encoded).as_deref(), Some(plain.as_bytes()));
        }
        // Padded forms as printed in RFC 4648.
        assert_eq!(from_base32("MY======").as_deref(), Some(&b"f"[..]));
        assert_eq!(from_base32("MZXW6YQ=").as_deref(), Some(&b"foob"[..]));
        assert_eq!(
            from_base32("MZXW6YTBOI======").as_deref(),
            Some(&b"foobar"[..])
        );
    }

    #[test]
    fn base32_is_forgiving_of_typing_but_not_of_garbage() -> Result<(), getrandom::Error> {
        assert_eq!(from_base32("mzxw 6ytb oi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(from_base32(" MzXw6YtBoI ").as_deref(), Some(&b"foobar"[..]));
        for bad in [
            "M", "MZX", "MZXW6Y", "MZXW6YT1", "MY=", "MY==", "M=Y=====", "MZ", "ä",
        ] {
            assert_eq!(from_base32(bad), None, "{bad}");
        }
        for _ in 0..50 {
            let secret = generate_secret()?;
            assert_eq!(secret.len(), 20);
            let text = base32(&secret);
            assert_eq!(text.len(), 32);
            assert_eq!(from_base32(&text), Some(secret.clone()));
            assert_eq!(from_base32(&text.to_lowercase()), Some(secret));
        }
        Ok(())
    }

    #[test]
    fn otpauth_uri_encodes_label_and_issuer() {
        let uri = otpauth_uri("Lightbox", "jane@example.com", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Lightbox:jane%40example.com?secret=MZXW6YTBOI&issuer=Lightbox&algorithm=SHA1&digits=6&period=30"
        );
        let uri = otpauth_uri("Smith & Co: Photos", "Jörg Smith", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Smith%20%26%20Co%3A%20Photos:J%C3%B6rg%20Smith?secret=MZXW6YTBOI&issuer=Smith%20%26%20Co%3A%20Photos&algorithm=SHA1&digits=6&period=30"
        );
    }
}
