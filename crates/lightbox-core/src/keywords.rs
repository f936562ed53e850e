//! Keywords: namespaced `axis:value` (the first colon splits), stored whole
//! and returned split; the account's vocabulary with counts; renaming a
//! keyword across the library (a job: it can reach every image).

use lightbox_store::Timestamp;
use lightbox_store::change_log::{self, Change};
use lightbox_store::editorial::{self, VocabularyQuery};
use lightbox_store::images as image_store;
use lightbox_store::operations as op_store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Core;
use crate::error::{CoreError, ErrorKind};
use crate::jobs::{Job, JobFailure, JobFuture, JobPayload};

/// Longest keyword, in characters.
pub const KEYWORD_MAX: usize = 255;
/// Most keywords in one request.
pub const KEYWORDS_PER_REQUEST: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Keyword {
    /// The whole form, as stored.
    #[schema(example = "artist:Marina")]
    pub keyword: String,
    #[schema(example = "artist")]
    pub namespace: Option<String>,
    #[schema(example = "Marina")]
    pub value: String,
}

impl Keyword {
    /// Splits a stored keyword (trusted: it passed [`parse`] once).
    pub fn from_stored(keyword: &str, namespace: Option<&str>, value: &str) -> Self {
        Self {
            keyword: keyword.to_owned(),
            namespace: namespace.map(str::to_owned),
            value: value.to_owned(),
        }
    }
}

/// Checks and splits one keyword. Surrounding spaces are trimmed on both
/// sides of the colon; an empty namespace or value is refused.
pub fn parse(field: &str, text: &str) -> Result<Keyword, CoreError> {
    let bad = |rule: &str| CoreError::validation(field, format!("{field}: {rule}"));
    // Counted as sent (spaces included), as the OpenAPI document states.
    if text.chars().count() > KEYWORD_MAX {
        return Err(bad(&format!(
            "a keyword must be at most {KEYWORD_MAX} characters."
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(bad("a keyword must not contain control characters."));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("a keyword must not be empty."));
    }
    match text.split_once(':') {
        None => Ok(Keyword {
            keyword: text.to_owned(),
            namespace: None,
            value: text.to_owned(),
        }),
        Some((namespace, value)) => {
            let (namespace, value) = (namespace.trim(), value.trim());
            if namespace.is_empty() || value.is_empty() {
                return Err(bad(
                    "a namespaced keyword needs text on both sides of the colon (axis:value).",
                ));
            }
            Ok(Keyword {
                keyword: format!("{namespace}:{value}"),
                namespace: Some(namespace.to_owned()),
                value: value.to_owned(),
            })
        }
    }
}

/// The valid keywords among those embedded in a file (IPTC/XMP), at most
/// [`KEYWORDS_PER_REQUEST`]; invalid ones are skipped, not fatal.
pub fn from_file(texts: &[String]) -> Vec<Keyword> {
    texts
        .iter()
        .filter_map(|k| parse("keywords", k).ok())
        .take(KEYWORDS_PER_REQUEST)
        .collect()
}

/// Checks a list of keywords (at most [`KEYWORDS_PER_REQUEST`]); duplicates
/// are dropped, the first occurrence's place kept.
pub fn parse_list(field: &str, texts: &[String]) -> Result<Vec<Keyword>, CoreError> {
    if texts.len() > KEYWORDS_PER_REQUEST {
        return Err(CoreError::validation(
            field,
            format!("At most {KEYWORDS_PER_REQUEST} keywords per request."),
        ));
    }
    let mut out: Vec<Keyword> = Vec::with_capacity(texts.len());
    for (n, text) in texts.iter().enumerate() {
        let keyword = parse(&format!("{field}[{n}]"), text)?;
        if !out.iter().any(|k| k.keyword == keyword.keyword) {
            out.push(keyword);
        }
    }
    Ok(out)
}

/// A keyword of the vocabulary and how many images carry it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VocabularyEntry {
    #[schema(example = "artist:Marina")]
    pub keyword: String,
    #[schema(example = "artist")]
    pub namespace: Option<String>,
    #[schema(example = "Marina")]
    pub value: String,
    /// Images with this keyword.
    pub count: i64,
}

/// A namespace (axis) and how much it is used.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamespaceEntry {
    #[schema(example = "artist")]
    pub namespace: String,
    /// Distinct keywords in it.
    pub keyword_count: i64,
    /// Keyword uses in it (an image with two `artist:` keywords counts twice).
    pub count: i64,
}

/// `GET /v1/keywords` filters: `namespace`, a case-insensitive `prefix` (of
/// the whole keyword; with `namespace`, of the value), `sort=keyword|count`.
pub fn vocabulary_query(
    namespace: Option<&str>,
    prefix: Option<&str>,
    sort: Option<&str>,
) -> Result<VocabularyQuery, CoreError> {
    let namespace = namespace
        .map(|ns| {
            // A query parameter: no control characters at all, even at an end.
            let ns = crate::image_filters::text("namespace", ns, KEYWORD_MAX)?;
            if ns.contains(':') {
                return Err(CoreError::validation(
                    "namespace",
                    "namespace must not contain a colon.",
                ));
            }
            Ok(ns)
        })
        .transpose()?;
    let folded_prefix = prefix
        .map(|p| {
            if p.chars().count() > KEYWORD_MAX || p.contains(char::is_control) {
                return Err(CoreError::validation(
                    "prefix",
                    format!("prefix must be at most {KEYWORD_MAX} characters, without control characters."),
                ));
            }
            Ok(p.to_lowercase())
        })
        .transpose()?
        .filter(|p| !p.is_empty());
    let by_count = match sort {
        None | Some("keyword") => false,
        Some("count") => true,
        Some(_) => {
            return Err(CoreError::validation(
                "sort",
                "sort must be keyword or count.",
            ));
        }
    };
    Ok(VocabularyQuery {
        namespace,
        folded_prefix,
        by_count,
    })
}

pub async fn vocabulary(
    core: &Core,
    account_id: &str,
    query: &VocabularyQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<VocabularyEntry>, bool), CoreError> {
    let mut conn = core.store.read().await?;
    let rows = editorial::vocabulary(&mut conn, account_id, query, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((
        rows.into_iter()
            .map(|r| VocabularyEntry {
                keyword: r.keyword,
                namespace: r.namespace,
                value: r.value,
                count: r.count,
            })
            .collect(),
        more,
    ))
}

pub async fn namespaces(
    core: &Core,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<NamespaceEntry>, bool), CoreError> {
    let mut conn = core.store.read().await?;
    let rows = editorial::namespaces(&mut conn, account_id, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((
        rows.into_iter()
            .map(|r| NamespaceEntry {
                namespace: r.namespace,
                keyword_count: r.keywords,
                count: r.uses,
            })
            .collect(),
        more,
    ))
}

/// Images renamed per transaction: short transactions, so editors working
/// meanwhile never wait long, and progress shows as it goes.
const RENAME_CHUNK: usize = 500;

/// Renames a keyword on the images of the payload (or every image with it),
/// a chunk per transaction, reporting `done`/`total` on the Operation. Safe
/// to run again after a crash: images already renamed no longer match.
pub struct RenameJob;

/// What a queued keyword rename reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct RenamePayload {
    pub operation: String,
    pub account: String,
    pub from: String,
    pub to: String,
    /// Only these images; `None`: every image with the keyword.
    pub images: Option<Vec<String>>,
    /// A `user` member's rename: only the images it uploaded. `null` is
    /// "anyone's"; a payload without the key does not read (a limit is
    /// never widened by a missing field).
    #[serde(deserialize_with = "Option::deserialize")]
    pub only_uploaded_by: Option<String>,
}

impl JobPayload for RenamePayload {
    const KIND: &'static str = crate::edits::RENAME_JOB;
}

impl Job for RenameJob {
    type Payload = RenamePayload;
    fn run(&self, core: Core, payload: RenamePayload) -> JobFuture {
        Box::pin(async move { rename(&core, payload).await })
    }
}

async fn rename(core: &Core, payload: RenamePayload) -> Result<Value, JobFailure> {
    let (operation, account) = (payload.operation.as_str(), payload.account.as_str());
    let only_uploaded_by = payload.only_uploaded_by.as_deref();
    let (from, to) = match (parse("from", &payload.from), parse("to", &payload.to)) {
        (Ok(f), Ok(t)) if f.keyword != t.keyword => (f, t),
        _ => {
            return Err(JobFailure::give_up(CoreError::new(
                ErrorKind::Internal,
                "The rename job's payload is invalid.",
            )));
        }
    };
    let listed = payload.images;
    let total = match &listed {
        Some(list) => list.len() as i64,
        None => {
            let mut conn = core.store.read().await.map_err(JobFailure::retry)?;
            editorial::keyword_count(&mut conn, account, &from.keyword)
                .await
                .map_err(JobFailure::retry)?
        }
    };
    let (mut done, mut renamed, mut skipped) = (0i64, 0i64, 0i64);
    let mut after = String::new();
    let mut listed_at = 0usize;
    loop {
        let chunk: Vec<String> = match &listed {
            Some(list) => {
                let end = (listed_at + RENAME_CHUNK).min(list.len());
                let chunk = list[listed_at..end].to_vec();
                listed_at = end;
                chunk
            }
            None => {
                let mut conn = core.store.read().await.map_err(JobFailure::retry)?;
                editorial::images_with_keyword(
                    &mut conn,
                    account,
                    &from.keyword,
                    &after,
                    RENAME_CHUNK as i64,
                )
                .await
                .map_err(JobFailure::retry)?
            }
        };
        if chunk.is_empty() {
            break;
        }
        let now = core.now();
        let mut tx = core.store.begin_write().await.map_err(JobFailure::retry)?;
        for id in &chunk {
            image_store::lock_image(&mut tx, account, id)
                .await
                .map_err(JobFailure::retry)?;
            let Some(row) = image_store::find(&mut tx, account, id)
                .await
                .map_err(JobFailure::retry)?
            else {
                continue;
            };
            if only_uploaded_by.is_some() && row.uploaded_by.as_deref() != only_uploaded_by {
                skipped += 1;
                continue;
            }
            let target = (
                to.keyword.as_str(),
                to.namespace.as_deref(),
                to.value.as_str(),
            );
            if editorial::rename_keyword(&mut tx, account, id, &from.keyword, target)
                .await
                .map_err(JobFailure::retry)?
            {
                renamed += 1;
                let mut row = row;
                row.updated_at = Timestamp(now);
                image_store::update_fields(&mut tx, &row)
                    .await
                    .map_err(JobFailure::retry)?;
                let change = Change {
                    account_id: account,
                    entity: "image",
                    entity_id: id,
                    action: "update",
                    operation_id: Some(operation),
                    at: Timestamp(now),
                };
                change_log::append(&mut tx, &change)
                    .await
                    .map_err(JobFailure::retry)?;
            }
        }
        done += chunk.len() as i64;
        after = chunk.last().cloned().unwrap_or_default();
        let progress = json!({ "from": from.keyword, "to": to.keyword, "done": done, "total": total.max(done), "renamed": renamed, "skipped": skipped });
        op_store::set_status(
            &mut tx,
            operation,
            "running",
            Some(&progress.to_string()),
            None,
            Timestamp(now),
            false,
        )
        .await
        .map_err(JobFailure::retry)?;
        tx.commit().await.map_err(JobFailure::retry)?;
    }
    Ok(
        json!({ "from": from.keyword, "to": to.keyword, "done": done, "total": done, "renamed": renamed, "skipped": skipped }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon() {
        let k = parse("k", "artist: Marina:Live ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.keyword, "artist:Marina:Live");
        assert_eq!(k.namespace.as_deref(), Some("artist"));
        assert_eq!(k.value, "Marina:Live");
        let bare = parse("k", "sunset").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((bare.namespace, bare.value.as_str()), (None, "sunset"));
    }

    #[test]
    fn vocabulary_namespace_has_no_control_characters_even_at_an_end() {
        for bad in ["k\u{c}", "\tartist", "art\nist", "a:b", " "] {
            let e = vocabulary_query(Some(bad), None, None).err();
            assert_eq!(
                e.and_then(|e| e.field).as_deref(),
                Some("namespace"),
                "{bad:?}"
            );
        }
        let q = vocabulary_query(Some(" artist "), None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.namespace.as_deref(), Some("artist"));
    }

    #[test]
    fn refuses_empty_sides_and_long_lists() {
        for bad in [":", "artist:", ":Marina", "  ", "a\u{7}b"] {
            assert!(parse("k", bad).is_err(), "{bad:?}");
        }
        assert!(parse("k", &"x".repeat(256)).is_err());
        let many: Vec<String> = (0..201).map(|n| format!("k{n}")).collect();
        assert!(parse_list("keywords", &many).is_err());
        let dup = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(parse_list("keywords", &dup).map(|v| v.len()), Ok(2));
    }
}
