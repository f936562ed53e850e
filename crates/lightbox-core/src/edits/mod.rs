//! Edits of one image — fields, keywords, IPTC metadata, rating, crops, alt
//! text, credit lines, metadata extraction, deletion — and batches of them.
//!
//! Every edit has one shape, [`Edit`], built from a request body by a
//! checking constructor (no database), then applied inside a write
//! transaction by [`apply`]. A single endpoint runs one edit ([`run`]);
//! `POST /v1/operations/batch` runs up to [`BATCH_MAX`] in one transaction
//! ([`run_batch`]): every body is checked before anything runs, and the first
//! failing item rolls everything back, so a batch is all-or-nothing.
//!
//! Each applied edit bumps the image's `updated_at` and appends to the change
//! log, which the search index follows.

use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use lightbox_store::editorial::{self, CreditRow, CropRow};
use lightbox_store::images::{self as store, ImageRow};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{CoreError, ErrorKind};
use crate::images::{image_not_found, may_change};
use crate::keywords::Keyword;
use crate::operations::{Operation, OperationStatus};
use crate::writes::{self, Begun, PendingWrite, WorkDone, WriteContext};
use crate::{Core, ids, media};

mod enrichment;
mod fields;
mod keyword_edits;
mod metadata;

pub use enrichment::{
    AltTextBody, Credit, CreditBody, CreditRemoveBody, Crop, CropClearBody, RatingBody,
    parse_aspect_ratio,
};
pub use fields::{CheckedPatch, ImagePatch};
use fields::{delete, patch_fields};
use keyword_edits::rename;
pub use keyword_edits::{KeywordRemoveBody, KeywordsBody, RenameBody};
use metadata::extract;
pub use metadata::{MetadataPatch, merge_metadata};

/// Most writes in one batch.
pub const BATCH_MAX: usize = 50;
/// Longest alt text, in characters.
pub const ALT_TEXT_MAX: usize = 1000;
/// Most credit lines on one image.
pub const CREDITS_MAX: i64 = 50;
/// Longest IPTC text value, in characters.
pub const IPTC_TEXT_MAX: usize = 2000;
/// Images named in one keyword rename.
pub const RENAME_IMAGES_MAX: usize = 10_000;
/// Job kind of a keyword rename.
pub const RENAME_JOB: &str = "keywords.rename";

/// One checked write to one image (or, for a rename, to many).
#[derive(Debug, Clone)]
pub enum Edit {
    Patch {
        image: String,
        patch: CheckedPatch,
    },
    Delete {
        image: String,
    },
    AddKeywords {
        image: String,
        keywords: Vec<Keyword>,
    },
    RemoveKeyword {
        image: String,
        keyword: String,
    },
    RenameKeyword {
        from: Keyword,
        to: Keyword,
        images: Option<Vec<String>>,
    },
    Metadata {
        image: String,
        changes: Vec<(&'static str, Option<Value>)>,
    },
    Rating {
        image: String,
        rating: i64,
    },
    Crop {
        image: String,
        crop: Crop,
    },
    ClearCrop {
        image: String,
        aspect_ratio: Option<String>,
    },
    AltText {
        image: String,
        alt_text: String,
    },
    AddCredit {
        image: String,
        role: String,
        name: String,
    },
    RemoveCredit {
        image: String,
        credit: String,
    },
    /// `embedded` is read from the original before the transaction opens.
    ExtractMetadata {
        image: String,
        embedded: Option<Box<lightbox_media::Embedded>>,
    },
    /// A set's membership, order or visibility (batches only).
    Arrange {
        set: String,
        change: crate::set_arrangement::Arrangement,
    },
}

impl Edit {
    fn image(&self) -> Option<&str> {
        match self {
            Edit::Patch { image, .. }
            | Edit::Delete { image }
            | Edit::AddKeywords { image, .. }
            | Edit::RemoveKeyword { image, .. }
            | Edit::Metadata { image, .. }
            | Edit::Rating { image, .. }
            | Edit::Crop { image, .. }
            | Edit::ClearCrop { image, .. }
            | Edit::AltText { image, .. }
            | Edit::AddCredit { image, .. }
            | Edit::RemoveCredit { image, .. }
            | Edit::ExtractMetadata { image, .. } => Some(image),
            Edit::RenameKeyword { .. } | Edit::Arrange { .. } => None,
        }
    }

    /// A set write as a batch item (`change` already checked).
    pub fn arrange(set: &str, change: crate::set_arrangement::Arrangement) -> Edit {
        Edit::Arrange {
            set: set.to_owned(),
            change,
        }
    }
}

pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An image id from a path: an id that cannot exist is simply not found.
fn image_id(id: &str) -> Result<String, CoreError> {
    if ids::is_uuid(id) {
        Ok(id.to_owned())
    } else {
        Err(image_not_found(id))
    }
}

// --- running edits -----------------------------------------------------------

/// What [`apply`] did: the Operation's record, and blobs to collect after
/// the commit (a deleted image's).
pub struct Applied {
    pub done: WorkDone,
    pub collect: Vec<String>,
}

/// Reads what edits need from outside the database (the embedded metadata
/// of originals), before any transaction opens. A missing image is left for
/// [`apply`] to report.
async fn prepare(core: &Core, account_id: &str, edits: &mut [Edit]) -> Result<(), CoreError> {
    for edit in edits.iter_mut() {
        let Edit::ExtractMetadata { image, embedded } = edit else {
            continue;
        };
        let row = {
            let mut conn = core.store.read().await?;
            store::find(&mut conn, account_id, image).await?
        };
        let Some(row) = row else { continue };
        let media = media::settings(core)?;
        let kind = lightbox_media::sniff::MediaKind::parse(&row.media_kind)
            .ok_or_else(CoreError::internal)?;
        let len = u64::try_from(lightbox_media::metadata::HEAD_LEN)
            .unwrap_or(u64::MAX)
            .min(u64::try_from(row.bytes).unwrap_or(0));
        let head = media
            .blobs
            .get_range(&row.original_key, 0..len)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, image = %row.id, "reading an original's head failed");
                CoreError::internal()
            })?;
        // Parsing EXIF/IPTC/XMP is CPU work on untrusted bytes: off the
        // async workers, as an upload's head is.
        let read = tokio::task::spawn_blocking(move || lightbox_media::read_embedded(kind, &head))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, image = %row.id, "reading embedded metadata failed");
                CoreError::internal()
            })?;
        *embedded = Some(Box::new(read));
    }
    Ok(())
}

/// Runs one edit as its own write.
pub async fn run(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    edit: Edit,
) -> Result<Operation, CoreError> {
    let mut edits = [edit];
    prepare(core, &ctx.account_id, &mut edits).await?;
    let [edit] = edits;
    writes::retrying(|| run_prepared(core, principal, ctx, edit.clone())).await
}

async fn run_prepared(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    edit: Edit,
) -> Result<Operation, CoreError> {
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let op_id = write.operation_id().to_owned();
    let applied = apply(&mut write, principal, edit, &op_id).await?;
    let op = write.finish(applied.done).await?;
    crate::versions::collect(core, &applied.collect).await;
    Ok(op)
}

/// A batch's answer: the summary Operation and one child per item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchOutcome {
    pub summary: Operation,
    pub operations: Vec<Operation>,
}

/// Runs checked edits in one transaction: all or nothing. An item that
/// fails is reported with its index (`operations[3].body.rating` for a field
/// of its body, `operations[3].path` for its image).
pub async fn run_batch(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    mut edits: Vec<Edit>,
) -> Result<BatchOutcome, CoreError> {
    prepare(core, &ctx.account_id, &mut edits).await?;
    writes::retrying(|| run_batch_prepared(core, principal, ctx, edits.clone())).await
}

async fn run_batch_prepared(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    edits: Vec<Edit>,
) -> Result<BatchOutcome, CoreError> {
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(summary) => return replay_batch(core, summary).await,
        Begun::Fresh(write) => write,
    };
    lock_in_order(&mut write, &edits).await?;
    let mut children = Vec::with_capacity(edits.len());
    let mut collect = Vec::new();
    let mut images = Vec::new();
    let mut set_budget = crate::set_arrangement::BatchSetBudget::default();
    for (n, edit) in edits.into_iter().enumerate() {
        let child_id = write.child_operation_id();
        let applied = match edit {
            Edit::Arrange { set, change } => crate::set_arrangement::arrange_in(
                &mut write,
                principal,
                &set,
                &change,
                &child_id,
                &mut set_budget,
            )
            .await
            .map(|done| Applied {
                done,
                collect: vec![],
            }),
            edit => apply(&mut write, principal, edit, &child_id).await,
        };
        let mut applied = applied.map_err(|e| at_item(n, e))?;
        collect.append(&mut applied.collect);
        for id in &applied.done.image_public_uuids {
            if !images.contains(id) {
                images.push(id.clone());
            }
        }
        children.push(write.record_child(child_id, applied.done).await?);
    }
    let child_ids: Vec<&str> = children.iter().map(|c| c.uuid.as_str()).collect();
    let summary = write
        .finish(WorkDone {
            kind: "batch",
            status: OperationStatus::Succeeded,
            result: json!({ "operations": child_ids, "count": children.len() }),
            image_public_uuids: images,
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![],
        })
        .await?;
    crate::versions::collect(core, &collect).await;
    Ok(BatchOutcome {
        summary,
        operations: children,
    })
}

/// Takes the batch's locks up front in one order — its sets, then its
/// images, each by sorted id — so two batches that name the same rows in
/// other orders queue instead of deadlocking (PostgreSQL would abort one).
async fn lock_in_order(write: &mut PendingWrite, edits: &[Edit]) -> Result<(), CoreError> {
    let sets: Vec<String> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::Arrange { set, .. } => Some(set.clone()),
            _ => None,
        })
        .collect();
    crate::set_arrangement::lock_sets_in_order(write, &sets).await?;
    let mut images: Vec<&str> = edits.iter().filter_map(Edit::image).collect();
    images.sort_unstable();
    images.dedup();
    let account = write.account_id().to_owned();
    for id in images {
        store::lock_image(write.tx(), &account, id).await?;
    }
    Ok(())
}

/// The same batch again: its summary and the children's current state.
async fn replay_batch(core: &Core, summary: Operation) -> Result<BatchOutcome, CoreError> {
    let ids: Vec<String> = summary
        .result
        .get("operations")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut operations = Vec::with_capacity(ids.len());
    let mut conn = core.store.read().await?;
    for id in ids {
        let account = lightbox_store::operations::find_any_account(&mut conn, &id)
            .await?
            .ok_or_else(CoreError::internal)?;
        operations.push(Operation::from_row(&account)?);
    }
    Ok(BatchOutcome {
        summary,
        operations,
    })
}

/// Names the batch item an error belongs to.
pub fn at_item(n: usize, e: CoreError) -> CoreError {
    let field = match &e.field {
        Some(f) if f == "body" => format!("operations[{n}].body"),
        Some(f) => format!("operations[{n}].body.{f}"),
        None => format!("operations[{n}].path"),
    };
    let message = format!("operations[{n}]: {}", e.message);
    CoreError { message, ..e }.with_field(field)
}

/// Locks and reads the image, and checks the caller may change it.
async fn load(
    write: &mut PendingWrite,
    principal: &Principal,
    id: &str,
) -> Result<ImageRow, CoreError> {
    let account = write.account_id().to_owned();
    store::lock_image(write.tx(), &account, id).await?;
    let row = store::find(write.tx(), &account, id)
        .await?
        .ok_or_else(|| image_not_found(id))?;
    may_change(principal, &row)?;
    Ok(row)
}

/// A quick edit of one image that ends `succeeded` at once.
fn quick(kind: &'static str, row: &ImageRow, result: Value) -> Applied {
    Applied {
        done: WorkDone {
            kind,
            status: OperationStatus::Succeeded,
            result,
            image_public_uuids: vec![row.id.clone()],
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![("image", row.id.clone(), "update")],
        },
        collect: vec![],
    }
}

/// Adds `keywords` to the image (ones it has are skipped); how many were new.
async fn add_keywords(
    write: &mut PendingWrite,
    row: &ImageRow,
    keywords: Vec<Keyword>,
) -> Result<usize, CoreError> {
    let rows: Vec<(String, Option<String>, String)> = keywords
        .into_iter()
        .map(|k| (k.keyword, k.namespace, k.value))
        .collect();
    Ok(store::add_keywords(write.tx(), row, &rows).await?)
}

/// Applies one checked edit inside the write's transaction.
pub async fn apply(
    write: &mut PendingWrite,
    principal: &Principal,
    edit: Edit,
    op_id: &str,
) -> Result<Applied, CoreError> {
    if let Edit::RenameKeyword { from, to, images } = edit {
        return rename(write, principal, from, to, images, op_id).await;
    }
    if let Edit::Arrange { .. } = edit {
        // Only a batch changes sets through here (see `run_batch`).
        return Err(CoreError::internal());
    }
    let id = edit.image().unwrap_or_default().to_owned();
    let mut row = load(write, principal, &id).await?;
    let now = write.now();
    let account = write.account_id().to_owned();
    let applied = match edit {
        Edit::Patch { patch, .. } => return patch_fields(write, row, patch).await,
        Edit::Delete { .. } => return delete(write, row).await,
        Edit::RenameKeyword { .. } | Edit::Arrange { .. } => return Err(CoreError::internal()),
        Edit::AddKeywords { keywords, .. } => {
            let added = add_keywords(write, &row, keywords).await?;
            quick("keywords.add", &row, json!({ "added": added }))
        }
        Edit::RemoveKeyword { keyword, .. } => {
            let removed =
                editorial::remove_keyword(write.tx(), &account, &row.id, &keyword).await?;
            quick(
                "keywords.remove",
                &row,
                json!({ "removed": removed, "keyword": keyword }),
            )
        }
        Edit::Metadata { changes, .. } => {
            let merged = merge_metadata(row.metadata.as_str(), &changes);
            row.metadata = JsonText(Value::Object(merged.clone()).to_string());
            quick("metadata.update", &row, json!({ "metadata": merged }))
        }
        Edit::Rating { rating, .. } => {
            row.rating = rating;
            quick("rating.update", &row, json!({ "rating": rating }))
        }
        Edit::Crop { crop, .. } => {
            let (Some(w), Some(h)) = (row.width, row.height) else {
                return Err(CoreError::new(
                    ErrorKind::Conflict,
                    "The image's size is not known yet; crop it once its versions are built.",
                ));
            };
            for (field, start, size, limit) in
                [("x", crop.x, crop.width, w), ("y", crop.y, crop.height, h)]
            {
                if start + size > limit {
                    return Err(CoreError::validation(
                        field,
                        format!(
                            "The crop must lie inside the {w}x{h} image: {field} + {} is {} (at most {limit}).",
                            if field == "x" { "width" } else { "height" },
                            start + size
                        ),
                    ));
                }
            }
            editorial::put_crop(
                write.tx(),
                &CropRow {
                    image_id: row.id.clone(),
                    aspect_ratio: crop.aspect_ratio.clone(),
                    x: crop.x,
                    y: crop.y,
                    width: crop.width,
                    height: crop.height,
                },
            )
            .await?;
            quick("crop.update", &row, json!({ "crop": crop }))
        }
        Edit::ClearCrop { aspect_ratio, .. } => {
            let removed =
                editorial::delete_crops(write.tx(), &row.id, aspect_ratio.as_deref()).await?;
            quick("crop.delete", &row, json!({ "removed": removed }))
        }
        Edit::AltText { alt_text, .. } => {
            row.alt_text = alt_text;
            quick("alt_text.update", &row, json!({ "alt_text": row.alt_text }))
        }
        Edit::AddCredit { role, name, .. } => {
            let credit = CreditRow {
                id: ids::new_public_uuid(),
                image_id: row.id.clone(),
                role,
                name,
            };
            let count = editorial::add_credit(write.tx(), &credit, Timestamp(now)).await?;
            if count > CREDITS_MAX {
                return Err(CoreError::new(
                    ErrorKind::Conflict,
                    format!("An image has at most {CREDITS_MAX} credit lines."),
                ));
            }
            let credit = Credit {
                uuid: credit.id,
                role: credit.role,
                name: credit.name,
            };
            quick("credits.add", &row, json!({ "credit": credit }))
        }
        Edit::RemoveCredit { credit, .. } => {
            if !editorial::delete_credit(write.tx(), &row.id, &credit).await? {
                return Err(CoreError::new(
                    ErrorKind::NotFound,
                    format!("The image has no credit line {credit}."),
                )
                .with_field("credit_uuid"));
            }
            quick("credits.remove", &row, json!({ "removed": credit }))
        }
        Edit::ExtractMetadata { embedded, .. } => {
            let embedded = embedded.ok_or_else(CoreError::internal)?;
            extract(write, &mut row, &embedded).await?
        }
    };
    row.updated_at = Timestamp(now);
    store::update_fields(write.tx(), &row).await?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const IMAGE: &str = "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f";

    /// What refused a check that must fail.
    fn refusal<T: std::fmt::Debug>(result: Result<T, CoreError>) -> CoreError {
        match result {
            Ok(value) => panic!("accepted: {value:?}"),
            Err(e) => e,
        }
    }

    /// The field a refused edit names (every refusal here is a 400 naming one).
    pub(super) fn refused_field(result: Result<Edit, CoreError>) -> String {
        match result {
            Ok(edit) => panic!("accepted: {edit:?}"),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Validation, "{e}");
                e.field.clone().unwrap_or_else(|| panic!("no field: {e}"))
            }
        }
    }

    fn crop(aspect_ratio: &str, x: i64, y: i64, width: i64, height: i64) -> Crop {
        Crop {
            aspect_ratio: aspect_ratio.to_owned(),
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn an_image_that_is_not_a_uuid_is_not_found() {
        for bad in ["", "42", "0192f3c4-5a6b-7c8d-9e0f-1a2b3c4d5e6", "../etc"] {
            let e = refusal(Edit::delete(bad));
            assert_eq!(e.kind, ErrorKind::ImageNotFound, "{bad:?}");
            let e = refusal(Edit::rating(bad, RatingBody { rating: 3 }));
            assert_eq!(e.kind, ErrorKind::ImageNotFound, "{bad:?}");
        }
        assert!(Edit::delete(IMAGE).is_ok());
    }

    #[test]
    fn rating_is_zero_to_five() {
        for rating in 0..=5 {
            match Edit::rating(IMAGE, RatingBody { rating }) {
                Ok(Edit::Rating { rating: r, .. }) => assert_eq!(r, rating),
                other => panic!("{rating}: {other:?}"),
            }
        }
        for rating in [-1, 6, i64::MAX, i64::MIN] {
            assert_eq!(
                refused_field(Edit::rating(IMAGE, RatingBody { rating })),
                "rating"
            );
        }
    }

    #[test]
    fn a_crop_is_whole_pixels_within_one_pixel_of_its_ratio() {
        // Exact, and one pixel off either way (1921 × 1080 is 16:9 ± 1).
        for c in [
            crop("16:9", 0, 120, 1920, 1080),
            crop("16:9", 0, 0, 1921, 1080),
            crop("16:9", 0, 0, 1919, 1080),
            crop("1:1", 10, 10, 1, 1),
            crop("9999:1", 0, 0, 9999, 1),
        ] {
            assert!(Edit::crop(IMAGE, c.clone()).is_ok(), "{c:?}");
        }
        for (c, field) in [
            (crop("16:9", 0, 0, 1920, 1000), "height"),
            (crop("16:9", 0, 0, 1925, 1080), "height"),
            (crop("16:9", -1, 0, 1920, 1080), "x"),
            (crop("16:9", 0, -1, 1920, 1080), "y"),
            (crop("1:1", 0, 0, 0, 0), "width"),
            (crop("1:1", 0, 0, 1_000_001, 1_000_001), "width"),
            (crop("16/9", 0, 0, 16, 9), "aspect_ratio"),
            (crop("016:9", 0, 0, 16, 9), "aspect_ratio"),
            (crop("0:9", 0, 0, 16, 9), "aspect_ratio"),
            (crop("10000:1", 0, 0, 10000, 1), "aspect_ratio"),
            (crop("16:9:1", 0, 0, 16, 9), "aspect_ratio"),
            (crop("+6:9", 0, 0, 6, 9), "aspect_ratio"),
        ] {
            assert_eq!(refused_field(Edit::crop(IMAGE, c.clone())), field, "{c:?}");
        }
    }

    #[test]
    fn clearing_crops_names_one_ratio_or_none() {
        match Edit::clear_crop(IMAGE, None) {
            Ok(Edit::ClearCrop { aspect_ratio, .. }) => assert_eq!(aspect_ratio, None),
            other => panic!("{other:?}"),
        }
        let body = |r: &str| {
            Some(CropClearBody {
                aspect_ratio: r.to_owned(),
            })
        };
        match Edit::clear_crop(IMAGE, body("4:3")) {
            Ok(Edit::ClearCrop { aspect_ratio, .. }) => {
                assert_eq!(aspect_ratio.as_deref(), Some("4:3"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_field(Edit::clear_crop(IMAGE, body("wide"))),
            "aspect_ratio"
        );
    }

    #[test]
    fn keyword_edits_check_their_keywords() {
        assert_eq!(
            refused_field(Edit::add_keywords(IMAGE, KeywordsBody { keywords: vec![] })),
            "keywords"
        );
        // A namespace with a bare value is the whole form.
        match Edit::remove_keyword(
            IMAGE,
            KeywordRemoveBody {
                keyword: "Marina".to_owned(),
                namespace: Some("artist".to_owned()),
            },
        ) {
            Ok(Edit::RemoveKeyword { keyword, .. }) => assert_eq!(keyword, "artist:Marina"),
            other => panic!("{other:?}"),
        }
        for (namespace, field) in [("art:ist", "namespace"), ("", "namespace")] {
            assert_eq!(
                refused_field(Edit::remove_keyword(
                    IMAGE,
                    KeywordRemoveBody {
                        keyword: "Marina".to_owned(),
                        namespace: Some(namespace.to_owned()),
                    }
                )),
                field,
                "{namespace:?}"
            );
        }
        assert_eq!(
            refused_field(Edit::remove_keyword(
                IMAGE,
                KeywordRemoveBody {
                    keyword: "Mar\u{7}ina".to_owned(),
                    namespace: Some("artist".to_owned()),
                }
            )),
            "keyword"
        );
    }

    #[test]
    fn a_rename_names_its_images_once_each() {
        let other = "6a1e4f0c-2b7d-4c39-8e5a-93d0b1f2c4aa";
        let rename = |images: Option<Vec<&str>>| RenameBody {
            from: "artist:Marina".to_owned(),
            to: "artist:Marina Sena".to_owned(),
            image_public_uuids: images.map(|l| l.into_iter().map(str::to_owned).collect()),
        };
        match Edit::rename_keyword(rename(Some(vec![other, IMAGE, other]))) {
            Ok(Edit::RenameKeyword { images, .. }) => assert_eq!(
                images,
                Some(vec![IMAGE.to_owned(), other.to_owned()]),
                "sorted, each once"
            ),
            other => panic!("{other:?}"),
        }
        match Edit::rename_keyword(rename(None)) {
            Ok(Edit::RenameKeyword { images, .. }) => assert_eq!(images, None),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_field(Edit::rename_keyword(rename(Some(vec![])))),
            "image_public_uuids"
        );
        assert_eq!(
            refused_field(Edit::rename_keyword(rename(Some(vec![IMAGE, "x"])))),
            "image_public_uuids[1]"
        );
        let too_many = vec![IMAGE; RENAME_IMAGES_MAX + 1];
        assert_eq!(
            refused_field(Edit::rename_keyword(rename(Some(too_many)))),
            "image_public_uuids"
        );
    }

    #[test]
    fn iptc_fields_clear_with_null_or_empty_and_check_their_shape() {
        let patch: MetadataPatch = serde_json::from_value(json!({
            "creator": "  Jane Doe ",
            "city": null,
            "caption": "",
            "country_code": "ch",
            "copyright_marked": true,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let changes = patch.check().unwrap_or_else(|e| panic!("{e}"));
        let get = |key: &str| {
            changes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("creator"), Some(Some(json!("Jane Doe"))));
        assert_eq!(get("city"), Some(None), "null clears");
        assert_eq!(get("caption"), Some(None), "an empty string clears");
        assert_eq!(get("country_code"), Some(Some(json!("ch"))));
        assert_eq!(get("copyright_marked"), Some(Some(json!(true))));
        assert_eq!(get("headline"), None, "left out: unchanged");
        for (key, value) in [
            ("country_code", "Switzerland"),
            ("country_code", "C1"),
            ("contact_email", "jane"),
            ("contact_email", "jane@"),
            ("contact_email", "ja ne@example.org"),
            ("contact_email", "a@b@c"),
            ("headline", "bell\u{7}"),
        ] {
            let patch: MetadataPatch =
                serde_json::from_value(json!({ key: value })).unwrap_or_else(|e| panic!("{e}"));
            let e = refusal(patch.check());
            assert_eq!(e.field.as_deref(), Some(key), "{key}: {value:?}");
        }
        let merged = merge_metadata(
            r#"{"creator": "Old", "city": "Bern", "headline": "Kept"}"#,
            &changes,
        );
        assert_eq!(merged.get("creator"), Some(&json!("Jane Doe")));
        assert_eq!(merged.get("city"), None);
        assert_eq!(merged.get("headline"), Some(&json!("Kept")));
    }

    #[test]
    fn a_batch_item_error_names_the_item() {
        let e = at_item(3, CoreError::validation("rating", "rating must be 0 to 5."));
        assert_eq!(e.field.as_deref(), Some("operations[3].body.rating"));
        assert_eq!(e.message, "operations[3]: rating must be 0 to 5.");
        let e = at_item(
            0,
            CoreError::validation("body", "this write needs a JSON body."),
        );
        assert_eq!(e.field.as_deref(), Some("operations[0].body"));
        // An error about the path's resource (no field) names the path.
        let e = at_item(2, image_not_found("x"));
        assert_eq!(e.field.as_deref(), Some("operations[2].path"));
        assert_eq!(e.kind, ErrorKind::ImageNotFound);
    }
}
