//! Archives: `POST /v1/archives` queues a ZIP of images; `GET /v1/archives`
//! lists the ready ones with a signed, shareable link.

use axum::extract::State;
use lightbox_core::archives::{self, Archive, NewArchive};
use lightbox_core::operations::Operation;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Accepted, Caller, Page, Paged, Write};

/// Build a ZIP archive of images (stored, ZIP64 when needed; entry names
/// are the original filenames, made safe and unique). Runs as a job: the
/// Operation is `queued`, reports `done`/`total` in `result`, and ends with
/// `result.archive` (its signed `url`, `bytes`, `expires_at`).
#[utoipa::path(
    post,
    path = "/v1/archives",
    tag = "downloads",
    security(("bearer" = ["api.download"])),
    request_body(content = NewArchive, example = json!({"image_public_uuids": ["0b9d3c62-6f1e-4a8e-9a57-1c0f6f0d2b11"], "filename": "press-kit"})),
    responses(
        (status = 202, description = "Accepted; the Operation (`queued`)", body = Operation),
        (status = 404, description = "`image_not_found` naming the image, or `not_found`: no such version profile", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn create_archive(
    State(state): State<AppState>,
    write: Write<NewArchive>,
) -> ApiResult<Accepted<Operation>> {
    let op = archives::create(&state.core, &write.caller.0, &write.ctx, write.body).await?;
    Ok(Accepted(op))
}

/// Ready archives (not expired), newest first, each with a signed link
/// valid until the archive expires (7 days after it was made). A `user`
/// member sees only archives holding no originals, or originals of its
/// own uploads only.
#[utoipa::path(
    get,
    path = "/v1/archives",
    tag = "downloads",
    security(("bearer" = ["api.download"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses((status = 200, description = "A page of archives", body = Vec<Archive>, headers(
        ("X-Has-More" = String, description = "`true` when more follow"),
        ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
    )))
)]
pub async fn list_archives(
    State(state): State<AppState>,
    caller: Caller,
    Paged(paging): Paged,
) -> ApiResult<Page<Archive>> {
    Ok(Page::new(
        archives::list(&state.core, &caller.0, paging.limit, paging.offset).await?,
        paging,
    ))
}
