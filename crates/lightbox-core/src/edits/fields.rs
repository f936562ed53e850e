//! `PATCH` and `DELETE` of an image: title, description, date taken,
//! rotation (which turns the crops with the image and rebuilds the
//! versions), and deletion.

use lightbox_store::Timestamp;
use lightbox_store::editorial::{self, CropRow};
use lightbox_store::images::{self as store, ImageRow};
use serde::Deserialize;
use serde_json::json;

use crate::clock::parse_loose_time;
use crate::error::CoreError;
use crate::operations::OperationStatus;
use crate::uploads::{DESCRIPTION_MAX, TITLE_MAX};
use crate::validate;
use crate::versions::VersionsPayload;
use crate::writes::{JobSpec, PendingWrite, WorkDone};

use super::{Applied, Edit, image_id, nullable};

/// `PATCH /v1/images/{public_uuid}`: any of these; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    #[schema(max_length = 191)]
    pub title: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// A date or timestamp (RFC 3339; `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`
    /// and Exif's `YYYY:MM:DD HH:MM:SS` are taken too); null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-07-14T21:30:05Z")]
    pub creation_date: Option<Option<String>>,
    /// 0, 90, 180 or 270 (clockwise); a change rebuilds the versions.
    #[schema(example = 90, minimum = 0, maximum = 270, multiple_of = 90)]
    pub rotation: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct CheckedPatch {
    title: Option<String>,
    description: Option<String>,
    creation_date: Option<Option<i64>>,
    rotation: Option<i64>,
}

impl Edit {
    pub fn patch(image: &str, patch: ImagePatch) -> Result<Edit, CoreError> {
        let title = patch
            .title
            .as_deref()
            .map(|t| validate::optional_text("title", t, TITLE_MAX).map(|t| t.trim().to_owned()))
            .transpose()?;
        let description = patch
            .description
            .as_deref()
            .map(|t| validate::optional_text("description", t, DESCRIPTION_MAX))
            .transpose()?;
        let creation_date = match &patch.creation_date {
            None => None,
            Some(None) => Some(None),
            Some(Some(text)) => Some(Some(parse_loose_time(text).ok_or_else(|| {
                CoreError::validation(
                    "creation_date",
                    "creation_date must be a date or timestamp (RFC 3339, YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS).",
                )
            })?)),
        };
        if let Some(r) = patch.rotation
            && ![0, 90, 180, 270].contains(&r)
        {
            return Err(CoreError::validation(
                "rotation",
                "rotation must be 0, 90, 180 or 270.",
            ));
        }
        Ok(Edit::Patch {
            image: image_id(image)?,
            patch: CheckedPatch {
                title,
                description,
                creation_date,
                rotation: patch.rotation,
            },
        })
    }

    pub fn delete(image: &str) -> Result<Edit, CoreError> {
        Ok(Edit::Delete {
            image: image_id(image)?,
        })
    }
}

pub(super) async fn patch_fields(
    write: &mut PendingWrite,
    mut row: ImageRow,
    patch: CheckedPatch,
) -> Result<Applied, CoreError> {
    if let Some(t) = patch.title {
        row.title = t;
    }
    if let Some(d) = patch.description {
        row.description = d;
    }
    if let Some(c) = patch.creation_date {
        row.creation_date = c.map(Timestamp);
    }
    let mut jobs = Vec::new();
    let mut status = OperationStatus::Succeeded;
    if let Some(r) = patch.rotation
        && r != row.rotation
    {
        let before = (row.width, row.height);
        // A quarter turn more or less swaps the sides.
        if (r - row.rotation).rem_euclid(180) == 90 {
            std::mem::swap(&mut row.width, &mut row.height);
        }
        if let (Some(w), Some(h)) = before {
            rotate_crops(write, &row.id, (w, h), (r - row.rotation).rem_euclid(360)).await?;
        }
        row.rotation = r;
        row.versions_state = "pending".to_owned();
        row.versions_error = None;
        status = OperationStatus::Queued;
        jobs.push(JobSpec::of(
            &VersionsPayload {
                image_public_uuid: row.id.clone(),
                rotation: Some(r),
            },
            3,
            None,
        )?);
    }
    row.updated_at = Timestamp(write.now());
    store::update_fields(write.tx(), &row).await?;
    Ok(Applied {
        done: WorkDone {
            // The hosted service's documented type for this call.
            kind: "update",
            status,
            result: json!({}),
            image_public_uuids: vec![row.id.clone()],
            set_public_uuid: None,
            jobs,
            changes: vec![("image", row.id.clone(), "update")],
        },
        collect: vec![],
    })
}

/// Turns the image's crops with it (clockwise by `turn` degrees), so an
/// editor's crops survive a rotation: `16:9` becomes `9:16` on a quarter turn.
async fn rotate_crops(
    write: &mut PendingWrite,
    image: &str,
    (w, h): (i64, i64),
    turn: i64,
) -> Result<(), CoreError> {
    let crops = editorial::crops_of(write.tx(), &[image.to_owned()]).await?;
    if crops.is_empty() {
        return Ok(());
    }
    editorial::delete_crops(write.tx(), image, None).await?;
    for c in crops {
        editorial::put_crop(write.tx(), &turned_crop(&c, (w, h), turn)).await?;
    }
    Ok(())
}

/// A crop of a `w`×`h` image, turned clockwise with it by `turn` degrees
/// (0, 90, 180, 270): it frames the same pixels of the turned image.
fn turned_crop(c: &CropRow, (w, h): (i64, i64), turn: i64) -> CropRow {
    let swapped = || {
        c.aspect_ratio
            .split_once(':')
            .map(|(a, b)| format!("{b}:{a}"))
            .unwrap_or_else(|| c.aspect_ratio.clone())
    };
    match turn {
        90 => CropRow {
            aspect_ratio: swapped(),
            x: h - (c.y + c.height),
            y: c.x,
            width: c.height,
            height: c.width,
            ..c.clone()
        },
        180 => CropRow {
            x: w - (c.x + c.width),
            y: h - (c.y + c.height),
            ..c.clone()
        },
        270 => CropRow {
            aspect_ratio: swapped(),
            x: c.y,
            y: w - (c.x + c.width),
            width: c.height,
            height: c.width,
            ..c.clone()
        },
        _ => c.clone(),
    }
}

pub(super) async fn delete(write: &mut PendingWrite, row: ImageRow) -> Result<Applied, CoreError> {
    let now = write.now();
    let mut blobs: Vec<String> = store::versions_of(write.tx(), std::slice::from_ref(&row.id))
        .await?
        .into_iter()
        .map(|v| v.blob_key)
        .collect();
    blobs.push(row.original_key.clone());
    for key in &blobs {
        store::note_garbage(write.tx(), key, Timestamp(now)).await?;
    }
    let account = write.account_id().to_owned();
    store::delete(write.tx(), &account, &row.id).await?;
    Ok(Applied {
        done: WorkDone {
            kind: "image.delete",
            status: OperationStatus::Succeeded,
            result: json!({}),
            image_public_uuids: vec![row.id.clone()],
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![("image", row.id.clone(), "delete")],
        },
        // After the commit; an original another image still uses stays.
        collect: blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edits::tests::{IMAGE, refused_field};

    #[test]
    fn a_patch_checks_each_field_and_keeps_what_is_left_out() {
        let patch = |title: Option<&str>, rotation: Option<i64>| ImagePatch {
            title: title.map(str::to_owned),
            description: None,
            creation_date: None,
            rotation,
        };
        match Edit::patch(IMAGE, patch(Some("  Encore  "), Some(270))) {
            Ok(Edit::Patch { patch, .. }) => {
                assert_eq!(patch.title.as_deref(), Some("Encore"));
                assert_eq!(patch.rotation, Some(270));
                assert_eq!(patch.description, None);
                assert_eq!(patch.creation_date, None);
            }
            other => panic!("{other:?}"),
        }
        for rotation in [-90, 45, 360] {
            assert_eq!(
                refused_field(Edit::patch(IMAGE, patch(None, Some(rotation)))),
                "rotation"
            );
        }
        assert_eq!(
            refused_field(Edit::patch(IMAGE, patch(Some("a\u{0}b"), None))),
            "title"
        );
        let dated = |text: Option<&str>| ImagePatch {
            creation_date: Some(text.map(str::to_owned)),
            ..patch(None, None)
        };
        match Edit::patch(IMAGE, dated(None)) {
            Ok(Edit::Patch { patch, .. }) => assert_eq!(patch.creation_date, Some(None)),
            other => panic!("{other:?}"),
        }
        match Edit::patch(IMAGE, dated(Some("2026-07-14"))) {
            Ok(Edit::Patch { patch, .. }) => assert_eq!(
                patch.creation_date,
                Some(crate::clock::parse_request_time("2026-07-14"))
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_field(Edit::patch(IMAGE, dated(Some("last summer")))),
            "creation_date"
        );
    }

    /// Four quarter turns give the crop back; each turn keeps it inside the
    /// turned image, swaps its ratio on a quarter turn, and frames the same
    /// pixels (a corner pixel of the crop lands where the image's does).
    #[test]
    fn crops_turn_with_the_image() {
        let (w, h) = (4000, 3000);
        let original = CropRow {
            image_id: IMAGE.to_owned(),
            aspect_ratio: "16:9".to_owned(),
            x: 100,
            y: 200,
            width: 1600,
            height: 900,
        };
        let mut c = original.clone();
        let mut dims = (w, h);
        for quarter in 1..=4 {
            let turned = turned_crop(&c, dims, 90);
            dims = (dims.1, dims.0);
            assert!(turned.x >= 0 && turned.y >= 0, "{quarter}: {turned:?}");
            assert!(turned.x + turned.width <= dims.0, "{quarter}: {turned:?}");
            assert!(turned.y + turned.height <= dims.1, "{quarter}: {turned:?}");
            assert_eq!((turned.width, turned.height), (c.height, c.width));
            let expected_ratio = if quarter % 2 == 1 { "9:16" } else { "16:9" };
            assert_eq!(turned.aspect_ratio, expected_ratio);
            c = turned;
        }
        assert_eq!(c, original);

        // A clockwise quarter turn: the crop's top-left pixel (x, y) of a
        // w×h image goes to column h - 1 - y, row x; it is the turned
        // crop's top-right corner.
        let turned = turned_crop(&original, (w, h), 90);
        assert_eq!(
            (turned.x + turned.width - 1, turned.y),
            (h - 1 - original.y, original.x)
        );
        // Half and three-quarter turns agree with repeated quarter turns.
        let twice = turned_crop(&turned, (h, w), 90);
        assert_eq!(turned_crop(&original, (w, h), 180), twice);
        assert_eq!(
            turned_crop(&original, (w, h), 270),
            turned_crop(&twice, (w, h), 90)
        );
        assert_eq!(turned_crop(&original, (w, h), 0), original);
    }
}
