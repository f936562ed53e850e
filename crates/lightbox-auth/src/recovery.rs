//! One-time recovery codes: the way back in when the authenticator is lost.
//!
//! Ten characters from a 31-letter alphabet without look-alikes (no `0`,
//! `o`, `1`, `l`, `i`), about 49.5 bits each, shown as `xxxxx-xxxxx`. Store
//! `hash_token(&normalize(code)?)` — never the code — and compare stored
//! hashes with `hashes_equal`; normalizing first makes the hash independent
//! of how the user types it.

/// Lowercase letters and digits minus `0 o 1 l i`.
const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Characters per code, without the dash.
pub const CODE_CHARS: usize = 10;
/// Largest multiple of 31 that fits a byte: bytes at or above it are
/// redrawn, so every character is equally likely.
const UNBIASED_LIMIT: u8 = 31 * 8;

/// `n` new codes, shown to the user once, grouped as `xxxxx-xxxxx`.
pub fn generate_codes(n: usize) -> Result<Vec<String>, getrandom::Error> {
    let mut codes = Vec::with_capacity(n);
    let mut pool = [0u8; 64];
    let mut used = pool.len();
    for _ in 0..n {
        let mut code = String::with_capacity(CODE_CHARS + 1);
        let mut drawn = 0;
        while drawn < CODE_CHARS {
            if used == pool.len() {
                getrandom::fill(&mut pool)?;
                used = 0;
            }
            let byte = pool[used];
            used += 1;
            if byte >= UNBIASED_LIMIT {
                continue;
            }
            if drawn == CODE_CHARS / 2 {
                code.push('-');
            }
            code.push(char::from(ALPHABET[usize::from(byte % 31)]));
            drawn += 1;
        }
        codes.push(code);
    }
    Ok(codes)
}

/// The canonical 10-character form of a code as typed: any case, spaces and
/// dashes ignored. `None` when it cannot be a recovery code, so callers can
/// refuse it before any lookup.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_CHARS);
    for c in input.chars() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let c = c.to_ascii_lowercase();
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == CODE_CHARS {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_CHARS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hash_token, hashes_equal};

    #[test]
    fn codes_have_the_grouped_shape() -> Result<(), getrandom::Error> {
        let codes = generate_codes(10)?;
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&code[5..6], "-", "{code}");
            assert!(
                code.bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| ALPHABET.contains(&b)),
                "{code}"
            );
            assert_eq!(normalize(code), Some(code.replace('-', "")));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        assert!(generate_codes(0)?.is_empty());
        Ok(())
    }

    #[test]
    fn alphabet_has_no_look_alikes_and_every_letter_appears() -> Result<(), getrandom::Error> {
        for c in b"0o1li" {
            assert!(!ALPHABET.contains(c));
        }
        let mut seen = [false; 31];
        for code in generate_codes(200)? {
            for b in code.bytes().filter(|&b| b != b'-') {
                if let Some(i) = ALPHABET.iter().position(|&a| a == b) {
                    seen[i] = true;
                }
            }
        }
        // 2000 draws over 31 symbols: missing one has odds ~31·e^-64.
        assert!(seen.iter().all(|&s| s));
        Ok(())
    }

    #[test]
    fn normalize_forgives_case_spaces_and_dashes() {
        let canonical = Some("abcde23456".to_owned());
        for typed in [
            "abcde-23456",
            "ABCDE-23456",
            "abcde23456",
            " abc de-2345 6 ",
            "AbCdE--23456",
        ] {
            assert_eq!(normalize(typed), canonical, "{typed}");
        }
        // The same hash whatever the spelling.
        let a = normalize("ABCDE 23456").map(|c| hash_token(&c));
        let b = normalize("abcde-23456").map(|c| hash_token(&c));
        assert!(matches!((a, b), (Some(a), Some(b)) if hashes_equal(&a, &b)));
    }

    #[test]
    fn normalize_refuses_other_shapes() {
        for bad in [
            "",
            "abcde-2345",
            "abcde-234567",
            "abcde-2345o",
            "abcde-23450",
            "abcde-2345l",
            "ABCDE-2345I",
            "abcde_23456",
            "abcdé-23456",
            "123456",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
