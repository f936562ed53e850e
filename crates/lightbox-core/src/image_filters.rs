//! The filters of `GET /v1/images` and `GET /v1/facets` (and the console's
//! library): read from the query string, checked, and built into the one
//! [`ImageQuery`] that the database and the search index both answer.
//!
//! Every refusal is `400 validation` naming the parameter and the rule.

use lightbox_query::{GeoBox, ImageQuery, KeywordMatch, Sort};
use time::format_description::well_known::Rfc3339;

use crate::error::CoreError;
use crate::validate;

/// One query parameter of the image filters, declared once: the parser
/// below reads it by this name, and the API's OpenAPI parameters (of
/// `GET /v1/images` and `GET /v1/facets`), the strict-query check that
/// refuses unknown parameters, and the console's filter form are built from
/// or checked against [`FILTER_PARAMS`].
#[derive(Debug, Clone, Copy)]
pub struct FilterParam {
    pub name: &'static str,
    /// What it does, as `GET /v1/images` documents it.
    pub description: &'static str,
    pub kind: ParamKind,
    /// A value to show in the document.
    pub example: Option<&'static str>,
    /// The parameter it only works with.
    pub needs: Option<&'static str>,
}

/// What a filter parameter's value is, as the document states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Text of at least `min` and at most `max` characters, matching
    /// `pattern` (each when given).
    Text {
        min: Option<usize>,
        max: Option<usize>,
        pattern: Option<&'static str>,
    },
    /// A whole number in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// RFC 3339, or a bare `YYYY-MM-DD`.
    DateTime,
    Uuid,
    /// One of the orders (`newest`, `oldest`, `taken`, `relevance`).
    Sort,
}

/// The pattern of a keyword or Exif name: printable, not only spaces.
const TEXT_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$";
/// A namespace: as a keyword, without a colon.
const NAMESPACE_PATTERN: &str = r"^[^:\x00-\x1F\x7F-\x9F]*[^:\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^:\x00-\x1F\x7F-\x9F]*$";

const fn param(name: &'static str, description: &'static str, kind: ParamKind) -> FilterParam {
    FilterParam {
        name,
        description,
        kind,
        example: None,
        needs: None,
    }
}

const fn time_param(name: &'static str, description: &'static str) -> FilterParam {
    param(name, description, ParamKind::DateTime)
}

/// Every filter parameter, in the order the document lists them (paging —
/// `limit`, `offset` — is the route's).
pub const FILTER_PARAMS: &[FilterParam] = &[
    FilterParam {
        example: Some("+concert \"main stage\" -rehearsal mari*"),
        ..param(
            "query",
            "Full-text search over titles, descriptions, keywords, filenames, dates (`2026`, `2026-07`, `2026-07-14`, `july`) and IPTC/camera metadata; case- and accent-insensitive. Syntax: `word` (should match; with no `+` clause at least one must), `+word` (must), `-word` (must not), `\"exact phrase\"`, `prefix*`. At most 1000 characters and 50 clauses",
            ParamKind::Text {
                min: Some(1),
                max: Some(1000),
                pattern: None,
            },
        )
    },
    FilterParam {
        example: Some("artist:Marina"),
        ..param(
            "keyword",
            "Images with this keyword: the whole form `axis:value`, or a bare value (with `namespace`, within that axis)",
            ParamKind::Text {
                min: Some(1),
                max: Some(KEYWORD_MAX),
                pattern: Some(TEXT_PATTERN),
            },
        )
    },
    param(
        "namespace",
        "With `keyword`: the axis the bare value is in; alone: images with any keyword in this axis",
        ParamKind::Text {
            min: Some(1),
            max: Some(KEYWORD_MAX),
            pattern: Some(NAMESPACE_PATTERN),
        },
    ),
    param(
        "rating",
        "Exactly this rating, 0-5",
        ParamKind::Integer {
            min: 0,
            max: RATING_MAX,
        },
    ),
    param(
        "min_rating",
        "At least this rating, 0-5",
        ParamKind::Integer {
            min: 0,
            max: RATING_MAX,
        },
    ),
    FilterParam {
        example: Some("Model"),
        ..param(
            "exif_property",
            "Images whose Exif has this property",
            ParamKind::Text {
                min: Some(1),
                max: Some(EXIF_TEXT_MAX),
                pattern: Some(TEXT_PATTERN),
            },
        )
    },
    FilterParam {
        example: Some("X-T5"),
        needs: Some("exif_property"),
        ..param(
            "exif_value",
            "With `exif_property`: the property's value",
            ParamKind::Text {
                min: None,
                max: Some(EXIF_TEXT_MAX),
                pattern: Some(r"^[^\x00-\x1F\x7F-\x9F]*$"),
            },
        )
    },
    time_param(
        "created_at_from",
        "Uploaded at or after (RFC 3339; `YYYY-MM-DD` is taken too)",
    ),
    time_param(
        "created_at_to",
        "Uploaded at or before (a bare date includes that whole day)",
    ),
    time_param("updated_at_from", "Changed at or after"),
    time_param("updated_at_to", "Changed at or before"),
    time_param("creation_date_from", "Taken at or after"),
    time_param("creation_date_to", "Taken at or before"),
    param(
        "has_video",
        "`true` for videos only, `false` for stills only",
        ParamKind::Boolean,
    ),
    param(
        "has_geo",
        "`true`: with a location; `false`: without",
        ParamKind::Boolean,
    ),
    FilterParam {
        example: Some("2.25,48.81,2.42,48.90"),
        ..param(
            "bbox",
            "`west,south,east,north` in degrees (south ≤ north); west > east crosses the antimeridian",
            ParamKind::Text {
                min: None,
                max: None,
                pattern: Some(
                    r"^-?(180(\.0+)?|(1[0-7]\d|\d{1,2})(\.\d+)?),-?(90(\.0+)?|[1-8]?\d(\.\d+)?),-?(180(\.0+)?|(1[0-7]\d|\d{1,2})(\.\d+)?),-?(90(\.0+)?|[1-8]?\d(\.\d+)?)$",
                ),
            },
        )
    },
    param("set_public_uuid", "Images in this set", ParamKind::Uuid),
    FilterParam {
        needs: Some("set_public_uuid"),
        ..param(
            "live",
            "With `set_public_uuid`: `true` only the images live in the set at this moment (not hidden, or their activation time has come), `false` only those not live",
            ParamKind::Boolean,
        )
    },
    param(
        "sort",
        "`newest` (default without `query`: uploaded last first), `oldest`, `taken` (taken last first), or `relevance` (default with `query`; needs `query`)",
        ParamKind::Sort,
    ),
];

/// Whether `name` is one of the filter parameters.
pub fn is_filter_param(name: &str) -> bool {
    FILTER_PARAMS.iter().any(|p| p.name == name)
}

/// Longest keyword or namespace, in characters (as for stored keywords).
pub const KEYWORD_MAX: usize = 255;
/// Longest Exif property name or value, in characters.
pub const EXIF_TEXT_MAX: usize = 255;
/// Highest rating.
pub const RATING_MAX: i64 = 5;

const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// The checked filters of one list: the full-text search, if any, and the
/// filters and order the database and the index answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageFilter {
    /// Full-text search (`query`), parsed; only the index answers it.
    pub query: Option<lightbox_search::ParsedQuery>,
    pub list: ImageQuery,
}

impl ImageFilter {
    /// Reads and checks the filters; `get` answers a query parameter's
    /// (decoded) value. Parameters not in [`FILTER_PARAMS`] are not read.
    pub fn from_query<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, CoreError> {
        let query = get("query")
            .map(|text| {
                if text.chars().any(char::is_control) {
                    return Err(CoreError::validation(
                        "query",
                        "query must not contain control characters.",
                    ));
                }
                lightbox_search::parse(text).map_err(|e| {
                    CoreError::validation(
                        "query",
                        format!("{e} (syntax: word, +must, -exclude, \"exact phrase\", prefix*)."),
                    )
                })
            })
            .transpose()?;
        let set_public_uuid = get("set_public_uuid")
            .map(|id| validate::uuid("set_public_uuid", id).map(|()| id.to_owned()))
            .transpose()?;
        let live = get("live").map(|t| boolean("live", t)).transpose()?;
        if live.is_some() && set_public_uuid.is_none() {
            return Err(CoreError::validation(
                "live",
                "live needs set_public_uuid (live is decided per set).",
            ));
        }
        let sort = match get("sort") {
            None if query.is_some() => Sort::Relevance,
            None | Some("newest") => Sort::Newest,
            Some("oldest") => Sort::Oldest,
            Some("taken") => Sort::Taken,
            Some("relevance") if query.is_some() => Sort::Relevance,
            Some("relevance") => {
                return Err(CoreError::validation(
                    "sort",
                    "sort=relevance ranks full-text search results: it needs a query.",
                ));
            }
            Some(_) => {
                return Err(CoreError::validation(
                    "sort",
                    "sort must be newest, oldest, taken or relevance (with a query).",
                ));
            }
        };

        let mut keyword = get("keyword")
            .map(|t| text("keyword", t, KEYWORD_MAX))
            .transpose()?;
        let namespace = get("namespace")
            .map(|t| text("namespace", t, KEYWORD_MAX))
            .transpose()?;
        // `namespace` alone: images with any keyword in that namespace.
        if let Some(ns) = &namespace
            && ns.contains(':')
        {
            return Err(CoreError::validation(
                "namespace",
                "namespace must not contain a colon.",
            ));
        }
        if let Some(kw) = &keyword
            && namespace.is_none()
            && let Some((ns, value)) = kw.split_once(':')
        {
            // Stored keywords are trimmed on both sides of the first colon.
            let (ns, value) = (ns.trim(), value.trim());
            if ns.is_empty() || value.is_empty() {
                return Err(CoreError::validation(
                    "keyword",
                    "a namespaced keyword needs text on both sides of the colon (axis:value).",
                ));
            }
            keyword = Some(format!("{ns}:{value}"));
        }

        let rating = get("rating")
            .map(|t| parse_rating("rating", t))
            .transpose()?;
        let min_rating = get("min_rating")
            .map(|t| parse_rating("min_rating", t))
            .transpose()?;

        let exif_property = get("exif_property")
            .map(|t| text("exif_property", t, EXIF_TEXT_MAX))
            .transpose()?;
        let exif_value = match get("exif_value") {
            None => None,
            Some(_) if exif_property.is_none() => {
                return Err(CoreError::validation(
                    "exif_value",
                    "exif_value needs exif_property (which property to compare).",
                ));
            }
            // A value is compared exactly, spaces included; it may be empty.
            Some(t) => Some(plain("exif_value", t, EXIF_TEXT_MAX)?.to_owned()),
        };

        let keyword = match (keyword, namespace) {
            (Some(kw), Some(ns)) => Some(KeywordMatch::Whole(format!("{ns}:{kw}"))),
            (Some(kw), None) if kw.contains(':') => Some(KeywordMatch::Whole(kw)),
            (Some(kw), None) => Some(KeywordMatch::Value(kw)),
            (None, Some(ns)) => Some(KeywordMatch::Namespace(ns)),
            (None, None) => None,
        };

        let (created_at_from, created_at_to) = range(&get, "created_at")?;
        let (updated_at_from, updated_at_to) = range(&get, "updated_at")?;
        let (creation_date_from, creation_date_to) = range(&get, "creation_date")?;

        let list = ImageQuery {
            keyword,
            rating,
            min_rating,
            exif_property,
            exif_value,
            created_at_from,
            created_at_to,
            updated_at_from,
            updated_at_to,
            creation_date_from,
            creation_date_to,
            has_video: get("has_video")
                .map(|t| boolean("has_video", t))
                .transpose()?,
            has_geo: get("has_geo").map(|t| boolean("has_geo", t)).transpose()?,
            bbox: get("bbox").map(bbox).transpose()?,
            set: set_public_uuid,
            live,
            // Not a parameter: only a website's search sets it.
            live_in_any: Vec::new(),
            shown_text_only: false,
            sort,
        };
        Ok(Self { query, list })
    }

    /// Whether the list needs the search index (a full-text query, an
    /// order by relevance, or a set).
    pub fn needs_index(&self) -> bool {
        self.query.is_some() || self.list.needs_index()
    }
}

/// At most `max` characters and no control characters; returned as given.
fn plain<'t>(field: &str, value: &'t str, max: usize) -> Result<&'t str, CoreError> {
    if value.chars().count() > max {
        return Err(CoreError::validation(
            field,
            format!("{field} must be at most {max} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(CoreError::validation(
            field,
            format!("{field} must not contain control characters."),
        ));
    }
    Ok(value)
}

/// Trimmed, non-empty, at most `max` characters, no control characters
/// (checked before trimming: a trailing form feed is refused, not cut off).
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, CoreError> {
    let value = plain(field, value, max)?.trim();
    if value.is_empty() {
        return Err(CoreError::validation(
            field,
            format!("{field} must not be empty."),
        ));
    }
    Ok(value.to_owned())
}

/// `true` or `false`, exactly (a query parameter).
pub fn boolean(field: &str, value: &str) -> Result<bool, CoreError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(CoreError::validation(
            field,
            format!("{field} must be true or false."),
        )),
    }
}

fn parse_rating(field: &str, value: &str) -> Result<i64, CoreError> {
    let ok = !value.is_empty() && value.len() <= 2 && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<i64>() {
        Ok(n) if ok && (0..=RATING_MAX).contains(&n) => Ok(n),
        _ => Err(CoreError::validation(
            field,
            format!("{field} must be an integer from 0 to {RATING_MAX}."),
        )),
    }
}

/// `<name>_from` and `<name>_to`: RFC 3339 or `YYYY-MM-DD`; a bare date
/// starts at midnight UTC for `_from` and takes in the whole day for `_to`.
fn range<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    name: &str,
) -> Result<(Option<i64>, Option<i64>), CoreError> {
    let from_field = format!("{name}_from");
    let to_field = format!("{name}_to");
    let from = get(&from_field)
        .map(|t| time(&from_field, t, false))
        .transpose()?;
    let to = get(&to_field)
        .map(|t| time(&to_field, t, true))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(CoreError::validation(
            to_field.as_str(),
            format!("{to_field} must not be before {from_field}."),
        ));
    }
    Ok((from, to))
}

fn time(field: &str, value: &str, end_of_day: bool) -> Result<i64, CoreError> {
    let bad = || {
        CoreError::validation(
            field,
            format!(
                "{field} must be an RFC 3339 time (2024-07-14T21:30:00Z) or a date (2024-07-14)."
            ),
        )
    };
    if let Ok(t) = time::OffsetDateTime::parse(value, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000).map_err(|_| bad());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value, &format).map_err(|_| bad())?;
    let midnight = date.midnight().assume_utc().unix_timestamp() * 1_000_000;
    Ok(if end_of_day {
        midnight + DAY_MICROS - 1
    } else {
        midnight
    })
}

/// `west,south,east,north` in decimal degrees.
fn bbox(value: &str) -> Result<GeoBox, CoreError> {
    let bad = |rule: &str| CoreError::validation("bbox", format!("bbox: {rule}"));
    let parts: Vec<&str> = value.split(',').collect();
    if parts.len() != 4 {
        return Err(bad(
            "give four numbers west,south,east,north in degrees (e.g. 5.9,45.8,10.5,47.8).",
        ));
    }
    let mut n = [0.0f64; 4];
    for (slot, part) in n.iter_mut().zip(&parts) {
        let part = part.trim();
        // Plain decimals only: no `inf`, `NaN` or exponents.
        let plain = !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'));
        *slot = match part.parse::<f64>() {
            Ok(v) if plain && v.is_finite() => v,
            _ => {
                return Err(bad(&format!(
                    "{part:?} is not a number; give four numbers west,south,east,north in degrees."
                )));
            }
        };
    }
    let [west, south, east, north] = n;
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
        return Err(bad("west and east must be longitudes from -180 to 180."));
    }
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) {
        return Err(bad("south and north must be latitudes from -90 to 90."));
    }
    if south > north {
        return Err(bad("south must not be north of north."));
    }
    Ok(GeoBox {
        west,
        south,
        east,
        north,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn parse(pairs: &[(&str, &str)]) -> Result<ImageFilter, CoreError> {
        ImageFilter::from_query(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    fn refused(pairs: &[(&str, &str)], field: &str) {
        match parse(pairs) {
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Validation, "{pairs:?}");
                assert_eq!(e.field.as_deref(), Some(field), "{pairs:?}: {}", e.message);
                assert!(e.message.contains(field), "{pairs:?}: {}", e.message);
            }
            Ok(f) => panic!("{pairs:?} was accepted: {f:?}"),
        }
    }

    fn ok(pairs: &[(&str, &str)]) -> ImageFilter {
        match parse(pairs) {
            Ok(f) => f,
            Err(e) => panic!("{pairs:?} was refused: {e:?}"),
        }
    }

    #[test]
    fn nothing_is_newest_first_without_filters() {
        let f = ok(&[]);
        assert_eq!(f, ImageFilter::default());
        assert_eq!(f.list.sort, Sort::Newest);
        assert!(!f.needs_index());
    }

    #[test]
    fn every_param_is_listed() {
        for FilterParam { name, needs, .. } in FILTER_PARAMS {
            // Each listed name is read: a bad value for it is refused by name
            // (with what it needs given a good value).
            let bad = if *name == "sort" { "sideways" } else { "\u{1}" };
            let mut pairs = vec![(*name, bad)];
            match *needs {
                Some("exif_property") => pairs.push(("exif_property", "Make")),
                Some("set_public_uuid") => {
                    pairs.push(("set_public_uuid", "6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa"))
                }
                Some(other) => panic!("{name} needs {other}: give it a good value here"),
                None => {}
            }
            refused(&pairs, name);
            // What it needs, left out, is refused by its name too.
            if needs.is_some() {
                refused(&[(*name, if *name == "live" { "true" } else { "x" })], name);
            }
        }
    }

    /// The parser asks for no parameter the list does not declare (the
    /// document and the strict-query check are built from the list).
    #[test]
    fn only_listed_params_are_read() {
        let asked = std::cell::RefCell::new(Vec::new());
        let nothing = ImageFilter::from_query(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        });
        assert!(nothing.is_ok(), "{nothing:?}");
        let asked = asked.into_inner();
        for name in &asked {
            assert!(is_filter_param(name), "{name} is read but not listed");
        }
        for param in FILTER_PARAMS {
            assert!(
                asked.iter().any(|n| n == param.name),
                "{} is listed but never read",
                param.name
            );
        }
    }

    #[test]
    fn query_and_relevance() {
        let q = ok(&[("query", "+sunset -rain \"main stage\" mar*")]);
        assert_eq!(q.list.sort, Sort::Relevance);
        assert!(q.needs_index());
        assert_eq!(
            ok(&[("query", "sunset"), ("sort", "taken")]).list.sort,
            Sort::Taken
        );
        refused(&[("query", "")], "query");
        refused(&[("query", "\"unclosed")], "query");
        refused(&[("query", "a\u{7}b")], "query");
        refused(&[("sort", "relevance")], "sort");
        refused(&[("sort", "Newest")], "sort");
        assert_eq!(ok(&[("sort", "oldest")]).list.sort, Sort::Oldest);
        assert_eq!(ok(&[("sort", "taken")]).list.sort, Sort::Taken);
        assert_eq!(ok(&[("sort", "newest")]).list.sort, Sort::Newest);
    }

    #[test]
    fn keywords() {
        let whole = |pairs: &[(&str, &str)]| ok(pairs).list.keyword;
        assert_eq!(
            whole(&[("keyword", "artist:Marina")]),
            Some(KeywordMatch::Whole("artist:Marina".into()))
        );
        assert_eq!(
            whole(&[("keyword", " artist : Marina ")]),
            Some(KeywordMatch::Whole("artist:Marina".into()))
        );
        assert_eq!(
            whole(&[("keyword", "Marina"), ("namespace", "artist")]),
            Some(KeywordMatch::Whole("artist:Marina".into()))
        );
        assert_eq!(
            whole(&[("keyword", "sunset")]),
            Some(KeywordMatch::Value("sunset".into()))
        );
        // Alone: any keyword in the namespace.
        assert_eq!(
            whole(&[("namespace", " artist ")]),
            Some(KeywordMatch::Namespace("artist".into()))
        );
        refused(&[("namespace", "a:b")], "namespace");
        refused(&[("namespace", "")], "namespace");
        refused(&[("namespace", "k\u{c}")], "namespace");
        refused(&[("keyword", "\tMarina")], "keyword");
        refused(&[("keyword", "x"), ("namespace", "a:b")], "namespace");
        refused(&[("keyword", "x"), ("namespace", " ")], "namespace");
        refused(&[("keyword", "")], "keyword");
        refused(&[("keyword", ":x")], "keyword");
        refused(&[("keyword", "x:")], "keyword");
        refused(&[("keyword", &"k".repeat(256))], "keyword");
        ok(&[("keyword", &"k".repeat(255))]);
    }

    #[test]
    fn ratings_are_strict_integers() {
        assert_eq!(ok(&[("rating", "0")]).list.rating, Some(0));
        assert_eq!(ok(&[("min_rating", "5")]).list.min_rating, Some(5));
        for bad in [
            "6",
            "-1",
            "+3",
            " 3",
            "3.0",
            "",
            "three",
            "05x",
            "99999999999999999999",
        ] {
            refused(&[("rating", bad)], "rating");
            refused(&[("min_rating", bad)], "min_rating");
        }
    }

    #[test]
    fn booleans_are_true_or_false() {
        assert_eq!(ok(&[("has_video", "true")]).list.has_video, Some(true));
        assert_eq!(ok(&[("has_geo", "false")]).list.has_geo, Some(false));
        for bad in ["1", "0", "yes", "True", "", "TRUE"] {
            refused(&[("has_video", bad)], "has_video");
            refused(&[("has_geo", bad)], "has_geo");
        }
    }

    #[test]
    fn exif() {
        let f = ok(&[("exif_property", "Make"), ("exif_value", "Canon")]);
        assert_eq!(f.list.exif_property.as_deref(), Some("Make"));
        assert_eq!(f.list.exif_value.as_deref(), Some("Canon"));
        assert_eq!(ok(&[("exif_property", "Make")]).list.exif_value, None);
        refused(&[("exif_value", "Canon")], "exif_value");
        refused(&[("exif_property", "")], "exif_property");
    }

    #[test]
    fn dates() {
        let day = 1_767_312_000_000_000; // 2026-01-02
        let f = ok(&[
            ("created_at_from", "2026-01-02"),
            ("created_at_to", "2026-01-02"),
        ]);
        assert_eq!(f.list.created_at_from, Some(day));
        assert_eq!(f.list.created_at_to, Some(day + DAY_MICROS - 1));
        let f = ok(&[
            ("updated_at_from", "2026-01-02T01:00:00+01:00"),
            ("updated_at_to", "2026-01-02T00:00:00.5Z"),
        ]);
        assert_eq!(f.list.updated_at_from, Some(day));
        assert_eq!(f.list.updated_at_to, Some(day + 500_000));
        let f = ok(&[("creation_date_to", "2026-01-02T00:00:00Z")]);
        assert_eq!(f.list.creation_date_to, Some(day));
        for name in ["created_at", "updated_at", "creation_date"] {
            let from = format!("{name}_from");
            let to = format!("{name}_to");
            refused(&[(&from, "yesterday")], &from);
            refused(&[(&to, "2026-02-30")], &to);
            refused(&[(&from, "2026-01-03"), (&to, "2026-01-02")], &to);
            ok(&[(&from, "2026-01-02"), (&to, "2026-01-02")]);
        }
    }

    #[test]
    fn bboxes() {
        let b = ok(&[("bbox", "5.9,45.8,10.5,47.8")]).list.bbox;
        assert_eq!(
            b,
            Some(GeoBox {
                west: 5.9,
                south: 45.8,
                east: 10.5,
                north: 47.8
            })
        );
        // Across the antimeridian.
        let b = ok(&[("bbox", "170,-50,-170,10")]).list.bbox;
        assert_eq!(
            b,
            Some(GeoBox {
                west: 170.0,
                south: -50.0,
                east: -170.0,
                north: 10.0
            })
        );
        ok(&[("bbox", "-180,-90,180,90")]);
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "a,2,3,4",
            "NaN,0,1,1",
            "inf,0,1,1",
            "1e1,0,20,1",
            "181,0,1,1",
            "0,0,-181,1",
            "0,-91,1,1",
            "0,0,1,91",
            "0,10,1,5",
        ] {
            refused(&[("bbox", bad)], "bbox");
        }
    }
}
