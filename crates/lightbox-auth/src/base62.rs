//! Fixed-width base62 (`0-9A-Za-z`) for token secrets and checksums.
//!
//! Fixed width matters: every token of a kind has the same length, so a
//! malformed one is recognised by its shape before anything else is done.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `bytes` (big-endian number) as exactly `width` base62 digits.
/// Returns `None` if the number does not fit in `width` digits.
pub fn encode_fixed(bytes: &[u8], width: usize) -> Option<String> {
    // Repeated division of a big-endian byte string by 62.
    let mut num: Vec<u8> = bytes.to_vec();
    let mut digits = Vec::with_capacity(width);
    while num.iter().any(|&b| b != 0) {
        let mut rem: u32 = 0;
        for byte in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            rem = acc % 62;
        }
        digits.push(ALPHABET[rem as usize]);
    }
    if digits.len() > width {
        return None;
    }
    digits.resize(width, b'0');
    digits.reverse();
    String::from_utf8(digits).ok()
}

/// Encodes a `u32` as exactly 6 base62 digits (62^6 > 2^32).
pub fn encode_u32(value: u32) -> String {
    let mut out = [b'0'; 6];
    let mut v = value;
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// True when every byte is a base62 digit.
pub fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_round_numbers() {
        assert_eq!(encode_u32(0), "000000");
        assert_eq!(encode_u32(61), "00000z");
        assert_eq!(encode_u32(62), "000010");
        assert_eq!(encode_u32(u32::MAX).len(), 6);
    }

    #[test]
    fn fixed_width_pads_and_refuses_overflow() {
        assert_eq!(encode_fixed(&[0, 0], 4).as_deref(), Some("0000"));
        assert_eq!(encode_fixed(&[1, 0], 4).as_deref(), Some("0048")); // 256 = 4*62 + 8
        assert_eq!(encode_fixed(&[0xff; 32], 43).map(|s| s.len()), Some(43));
        assert_eq!(encode_fixed(&[0xff; 32], 42), None);
    }
}
