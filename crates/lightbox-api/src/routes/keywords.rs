//! Keywords: an image's (add, remove), renaming one across the library, and
//! the account's vocabulary with counts.

use axum::extract::{Path, State};
use lightbox_core::edits::{Edit, KeywordRemoveBody, KeywordsBody, RenameBody};
use lightbox_core::keywords::{self, NamespaceEntry, VocabularyEntry};
use lightbox_core::operations::Operation;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, Page, Paged, Query, Write};
use crate::routes::enrichment::accepted;

/// The orders `GET /v1/keywords` offers.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VocabularySort {
    Keyword,
    Count,
}

/// Add keywords to the image (1–200; ones it has are skipped).
#[utoipa::path(
    post,
    path = "/v1/images/{public_uuid}/keywords",
    tag = "keywords",
    security(("bearer" = ["api.keywords.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = KeywordsBody, example = json!({"keywords": ["artist:Marina", "stage:Main", "encore"]})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`; `result.added`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn add_keywords(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<KeywordsBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::add_keywords(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Remove one keyword: its whole form, or a bare value with its namespace.
/// Removing one the image does not have succeeds with `result.removed: false`.
#[utoipa::path(
    delete,
    path = "/v1/images/{public_uuid}/keywords",
    tag = "keywords",
    security(("bearer" = ["api.keywords.write"])),
    params(("public_uuid" = uuid::Uuid, Path, description = "The image's public uuid")),
    request_body(content = KeywordRemoveBody, example = json!({"keyword": "Marina", "namespace": "artist"})),
    responses(
        (status = 202, description = "Accepted; the Operation (already `succeeded`)", body = Operation),
        (status = 403, description = "`forbidden`: a `user` role changes only its own images", body = crate::error::ErrorEnvelope),
        (status = 404, description = "`image_not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn remove_keyword(
    State(state): State<AppState>,
    Path(public_uuid): Path<String>,
    write: Write<KeywordRemoveBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::remove_keyword(&public_uuid, write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// Rename a keyword on the listed images, or on every image of the account
/// that has it. Runs as a job: the Operation is `queued`, then reports
/// `done`/`total` in `result` until it ends. An image that already has the
/// new keyword just loses the old one.
#[utoipa::path(
    post,
    path = "/v1/keywords/rename",
    tag = "keywords",
    security(("bearer" = ["api.keywords.write"])),
    request_body(content = RenameBody, example = json!({"from": "artist:Marina", "to": "artist:Marina Sena"})),
    responses(
        (status = 202, description = "Accepted; the Operation (`queued`)", body = Operation),
    )
)]
pub async fn rename_keyword(
    State(state): State<AppState>,
    write: Write<RenameBody>,
) -> ApiResult<Accepted<Operation>> {
    let edit = Edit::rename_keyword(write.body)?;
    accepted(&state, &write.caller, &write.ctx, edit).await
}

/// The account's keywords with how many images carry each; alphabetical
/// (case-insensitive) or most used first.
#[utoipa::path(
    get,
    path = "/v1/keywords",
    tag = "keywords",
    security(("bearer" = ["api.images.read"])),
    params(
        ("namespace" = Option<String>, Query, description = "Only keywords in this namespace", min_length = 1, max_length = 255, pattern = r"^[^:\x00-\x1F\x7F-\x9F]*[^:\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^:\x00-\x1F\x7F-\x9F]*$", example = "artist"),
        ("prefix" = Option<String>, Query, description = "Case-insensitive prefix of the whole keyword (with `namespace`: of the value)", max_length = 255, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "artist:ma"),
        ("sort" = inline(Option<VocabularySort>), Query, description = "`keyword` (default) or `count` (most used first)"),
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of the vocabulary", body = Vec<VocabularyEntry>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
    )
)]
pub async fn list_keywords(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Page<VocabularyEntry>> {
    let paging = query.paging()?;
    let vq = keywords::vocabulary_query(
        query.get("namespace"),
        query.get("prefix"),
        query.get("sort"),
    )?;
    Ok(Page::new(
        keywords::vocabulary(
            &state.core,
            &caller.0.account.uuid,
            &vq,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}

/// The namespaces (axes) in use, alphabetical, with counts.
#[utoipa::path(
    get,
    path = "/v1/keywords/namespaces",
    tag = "keywords",
    security(("bearer" = ["api.images.read"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of namespaces", body = Vec<NamespaceEntry>, headers(
            ("X-Has-More" = String, description = "`true` when more follow"),
            ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
        )),
    )
)]
pub async fn list_namespaces(
    State(state): State<AppState>,
    caller: Caller,
    Paged(paging): Paged,
) -> ApiResult<Page<NamespaceEntry>> {
    Ok(Page::new(
        keywords::namespaces(
            &state.core,
            &caller.0.account.uuid,
            paging.limit,
            paging.offset,
        )
        .await?,
        paging,
    ))
}
