//! The column types both engines share, each stored the way its engine
//! stores it best: an instant is a `timestamptz` on PostgreSQL and an
//! INTEGER of Unix microseconds on SQLite; a span of time an `interval` /
//! INTEGER microseconds; a JSON document `jsonb` / TEXT.
//!
//! The statements name these types once per engine (`sqlx.toml` beside each
//! engine crate maps the PostgreSQL type, and each SQLite column, to them),
//! so a statement that passes a bare `i64` where the column holds an
//! instant does not compile.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::{Oid, PgInterval};
use sqlx::postgres::{
    PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef, Postgres,
};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

/// An instant: microseconds since 1970-01-01T00:00:00Z, the unit the core
/// counts time in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds since the Unix epoch.
    pub fn micros(self) -> i64 {
        self.0
    }
}

/// An instant plus microseconds (saturating: "never" stays the latest).
impl std::ops::Add<i64> for Timestamp {
    type Output = Timestamp;
    fn add(self, micros: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(micros))
    }
}

/// An instant minus microseconds (saturating).
impl std::ops::Sub<i64> for Timestamp {
    type Output = Timestamp;
    fn sub(self, micros: i64) -> Timestamp {
        Timestamp(self.0.saturating_sub(micros))
    }
}

impl From<i64> for Timestamp {
    fn from(micros: i64) -> Self {
        Timestamp(micros)
    }
}

impl From<Timestamp> for i64 {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

/// PostgreSQL counts `timestamptz` in microseconds since 2000-01-01 UTC.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// The instants PostgreSQL can hold (4713 BC to 294276 AD, in its count):
/// a value past either end is stored as the end, so "never expires"
/// (`i64::MAX`) stays the latest instant there is.
const POSTGRES_MIN: i64 = -211_813_488_000_000_000;
const POSTGRES_MAX: i64 = 9_223_371_331_199_999_999;

const TIMESTAMPTZ: Oid = Oid(1184);
const TIMESTAMPTZ_ARRAY: Oid = Oid(1185);
const JSONB: Oid = Oid(3802);

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(TIMESTAMPTZ)
    }
}

impl PgHasArrayType for Timestamp {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(TIMESTAMPTZ_ARRAY)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let since_2000 = self
            .0
            .saturating_sub(POSTGRES_EPOCH_MICROS)
            .clamp(POSTGRES_MIN, POSTGRES_MAX);
        buf.extend(&since_2000.to_be_bytes());
        Ok(IsNull::No)
    }

    fn size_hint(&self) -> usize {
        8
    }
}

impl Decode<'_, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes: [u8; 8] = value
                    .as_bytes()?
                    .try_into()
                    .map_err(|_| "a timestamptz is 8 bytes")?;
                let since_2000 = i64::from_be_bytes(bytes);
                Ok(Timestamp(since_2000.saturating_add(POSTGRES_EPOCH_MICROS)))
            }
            // Every statement of the store is prepared, so results come in
            // binary; text only comes from unprepared SQL, which reads no
            // instants.
            PgValueFormat::Text => Err("a timestamptz in text form (unprepared statement)".into()),
        }
    }
}

/// A span of time in microseconds: an `interval` on PostgreSQL (so an
/// instant minus a span is an instant), an INTEGER on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub i64);

impl Type<Postgres> for Micros {
    fn type_info() -> PgTypeInfo {
        <PgInterval as Type<Postgres>>::type_info()
    }
}

/// The longest span bound on PostgreSQL, 5,000 years: now minus it is still
/// an instant PostgreSQL holds (a longer one, say a job lease configured as
/// "forever", would make the subtraction fail; it means the same).
const POSTGRES_MAX_SPAN: i64 = 5_000 * 366 * 86_400 * 1_000_000;

impl Encode<'_, Postgres> for Micros {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        PgInterval {
            months: 0,
            days: 0,
            microseconds: self.0.clamp(-POSTGRES_MAX_SPAN, POSTGRES_MAX_SPAN),
        }
        .encode_by_ref(buf)
    }

    fn size_hint(&self) -> usize {
        16
    }
}

/// A JSON document as its text: `jsonb` on PostgreSQL (checked and
/// indexed there), TEXT on SQLite. The core parses it into its own serde
/// types; the store only carries it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonText(pub String);

impl JsonText {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<String> for JsonText {
    fn from(text: String) -> Self {
        JsonText(text)
    }
}

impl From<&str> for JsonText {
    fn from(text: &str) -> Self {
        JsonText(text.to_owned())
    }
}

impl Type<Postgres> for JsonText {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(JSONB)
    }
}

/// jsonb's binary form: a version byte (1), then the document's text.
const JSONB_VERSION: u8 = 1;

impl Encode<'_, Postgres> for JsonText {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.push(JSONB_VERSION);
        buf.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn size_hint(&self) -> usize {
        1 + self.0.len()
    }
}

impl Decode<'_, Postgres> for JsonText {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => match value.as_bytes()?.split_first() {
                Some((&JSONB_VERSION, text)) => Ok(JsonText(std::str::from_utf8(text)?.to_owned())),
                _ => Err("jsonb of an unknown version".into()),
            },
            PgValueFormat::Text => Ok(JsonText(value.as_str()?.to_owned())),
        }
    }
}

/// SQLite stores each of these types as its inner value (INTEGER or TEXT):
/// every trait delegates to the inner type's.
macro_rules! stored_on_sqlite_as {
    ($ty:ident, $inner:ty) => {
        impl Type<Sqlite> for $ty {
            fn type_info() -> SqliteTypeInfo {
                <$inner as Type<Sqlite>>::type_info()
            }

            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <$inner as Type<Sqlite>>::compatible(ty)
            }
        }

        impl Encode<'_, Sqlite> for $ty {
            fn encode_by_ref(
                &self,
                args: &mut SqliteArgumentsBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <$inner as Encode<Sqlite>>::encode_by_ref(&self.0, args)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $ty {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                <$inner as Decode<Sqlite>>::decode(value).map($ty)
            }
        }
    };
}

stored_on_sqlite_as!(Timestamp, i64);
stored_on_sqlite_as!(Micros, i64);
stored_on_sqlite_as!(JsonText, String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_epoch_is_2000_01_01() {
        // 30 years of 365 days and 7 leap days.
        assert_eq!(POSTGRES_EPOCH_MICROS, (30 * 365 + 7) * 86_400 * 1_000_000);
    }
}
