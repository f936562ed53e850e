//! Time, injectable: every lifetime and window reads this clock, so tests can
//! move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub trait Clock: Send + Sync {
    /// Unix time in microseconds, UTC.
    fn now_micros(&self) -> i64;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        let now = OffsetDateTime::now_utc();
        (now.unix_timestamp_nanos() / 1_000) as i64
    }
}

/// A clock that only moves when told to (for tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_micros: i64) -> Self {
        Self(AtomicI64::new(start_micros))
    }
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// RFC 3339 UTC with second precision and `Z`, as every response uses.
pub fn format_rfc3339(micros: impl Into<i64>) -> String {
    let micros: i64 = micros.into();
    let secs = micros.div_euclid(1_000_000);
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// RFC 3339 UTC keeping the fraction of a second when there is one: for
/// instants that matter to the microsecond (an activation time).
pub fn format_rfc3339_precise(micros: impl Into<i64>) -> String {
    let micros: i64 = micros.into();
    if micros.rem_euclid(1_000_000) == 0 {
        return format_rfc3339(micros);
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format_rfc3339(micros))
}

/// The years a request time may name: RFC 3339's four digits. `[year]`
/// alone would also take a sign (`-9999-01-01`), an instant before the
/// earliest PostgreSQL stores (4713 BC); both engines refuse it alike.
fn in_calendar(year: i32) -> bool {
    (0..=9999).contains(&year)
}

/// Parses a request time: RFC 3339, or `YYYY-MM-DD` (midnight UTC).
pub fn parse_request_time(text: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000) as i64);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format)
        .ok()
        .filter(|d| in_calendar(d.year()))?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1_000_000)
}

/// Parses a date or timestamp in any common form: RFC 3339, `YYYY-MM-DD`,
/// `YYYY-MM-DD[T ]HH:MM[:SS]` and Exif's `YYYY:MM:DD HH:MM:SS` (times without
/// a zone are taken as UTC). Used where the spec says "any parseable date".
pub fn parse_loose_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(t) = parse_request_time(text) {
        return Some(t);
    }
    // Exif writes the date with colons.
    let normalised: String = text
        .char_indices()
        .map(|(n, c)| {
            if (n == 4 || n == 7) && c == ':' {
                '-'
            } else {
                c
            }
        })
        .collect();
    let normalised = normalised.replacen(' ', "T", 1);
    for format in [
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ] {
        if let Ok(t) = time::PrimitiveDateTime::parse(&normalised, &format)
            && in_calendar(t.year())
        {
            return Some((t.assume_utc().unix_timestamp_nanos() / 1_000) as i64);
        }
    }
    parse_request_time(&normalised)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_loose_dates() {
        let day = parse_request_time("2024-07-14").unwrap_or_default();
        let at = day + (21 * 3600 + 30 * 60 + 5) * 1_000_000;
        assert_eq!(parse_loose_time("2024-07-14"), Some(day));
        assert_eq!(parse_loose_time("2024:07:14 21:30:05"), Some(at));
        assert_eq!(parse_loose_time("2024-07-14 21:30:05"), Some(at));
        assert_eq!(parse_loose_time("2024-07-14T21:30:05"), Some(at));
        assert_eq!(parse_loose_time("2024-07-14T23:30:05+02:00"), Some(at));
        for bad in ["", "yesterday", "2024-13-01", "14.07.2024"] {
            assert_eq!(parse_loose_time(bad), None, "{bad:?}");
        }
    }

    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_request_time("2026-01-02"),
            Some(1_767_312_000_000_000)
        );
        assert_eq!(
            parse_request_time("2026-01-02T00:00:00Z"),
            Some(1_767_312_000_000_000)
        );
        assert_eq!(
            parse_request_time("2026-01-02T01:00:00+01:00"),
            Some(1_767_312_000_000_000)
        );
        assert_eq!(parse_request_time("yesterday"), None);
        // Signed or five-digit years: not RFC 3339, and before what
        // PostgreSQL stores.
        assert_eq!(parse_request_time("-9999-01-01"), None);
        assert_eq!(parse_request_time("+10000-01-01"), None);
        assert_eq!(parse_loose_time("-9999-01-01 10:00"), None);
        assert!(parse_request_time("0001-01-01").is_some());
        assert_eq!(
            format_rfc3339(1_767_312_000_123_456_i64),
            "2026-01-02T00:00:00Z"
        );
    }
}
