//! An image's keywords: adding and removing them, and renaming one across
//! the account (a job).

use lightbox_store::editorial;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::error::CoreError;
use crate::keywords::{self, Keyword};
use crate::operations::OperationStatus;
use crate::validate;
use crate::writes::{JobSpec, PendingWrite, WorkDone};

use super::{Applied, Edit, RENAME_IMAGES_MAX, RENAME_JOB, image_id};

/// `POST /v1/images/{id}/keywords`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordsBody {
    /// 1–200 keywords, `axis:value` or bare; ones the image has are skipped.
    #[schema(min_items = 1, max_items = 200, example = json!(["artist:Marina", "stage:Main"]))]
    pub keywords: Vec<String>,
}

/// `DELETE /v1/images/{id}/keywords`: the whole form, or a bare value with
/// its `namespace`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordRemoveBody {
    #[schema(example = "artist:Marina")]
    pub keyword: String,
    pub namespace: Option<String>,
}

/// `POST /v1/keywords/rename`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[schema(example = "artist:Marina")]
    pub from: String,
    #[schema(example = "artist:Marina Sena")]
    pub to: String,
    /// Only these images (1 to 10,000); absent: every image of the account.
    #[schema(min_items = 1, max_items = 10000)]
    pub image_public_uuids: Option<Vec<String>>,
}

impl Edit {
    pub fn add_keywords(image: &str, body: KeywordsBody) -> Result<Edit, CoreError> {
        if body.keywords.is_empty() {
            return Err(CoreError::validation(
                "keywords",
                "keywords must list at least one keyword.",
            ));
        }
        let keywords = keywords::parse_list("keywords", &body.keywords)?;
        Ok(Edit::AddKeywords {
            image: image_id(image)?,
            keywords,
        })
    }

    pub fn remove_keyword(image: &str, body: KeywordRemoveBody) -> Result<Edit, CoreError> {
        let keyword = match &body.namespace {
            // A bare value in a namespace: an image can only have it if the
            // whole form is a valid keyword; otherwise nothing is removed.
            Some(ns) => {
                let ns = validate::required_text("namespace", ns, keywords::KEYWORD_MAX)?;
                if ns.contains(':') || ns.contains(char::is_control) {
                    return Err(CoreError::validation(
                        "namespace",
                        "namespace must not contain a colon or control characters.",
                    ));
                }
                let value =
                    validate::required_text("keyword", &body.keyword, keywords::KEYWORD_MAX)?;
                if value.contains(char::is_control) {
                    return Err(CoreError::validation(
                        "keyword",
                        "keyword must not contain control characters.",
                    ));
                }
                format!("{ns}:{value}")
            }
            None => keywords::parse("keyword", &body.keyword)?.keyword,
        };
        Ok(Edit::RemoveKeyword {
            image: image_id(image)?,
            keyword,
        })
    }

    pub fn rename_keyword(body: RenameBody) -> Result<Edit, CoreError> {
        let from = keywords::parse("from", &body.from)?;
        let to = keywords::parse("to", &body.to)?;
        let images = match body.image_public_uuids {
            None => None,
            Some(list) => {
                if list.is_empty() || list.len() > RENAME_IMAGES_MAX {
                    return Err(CoreError::validation(
                        "image_public_uuids",
                        format!(
                            "image_public_uuids must list 1 to {RENAME_IMAGES_MAX} images (or be left out for every image)."
                        ),
                    ));
                }
                for (n, id) in list.iter().enumerate() {
                    validate::uuid(&format!("image_public_uuids[{n}]"), id)?;
                }
                let mut list = list;
                list.sort();
                list.dedup();
                Some(list)
            }
        };
        Ok(Edit::RenameKeyword { from, to, images })
    }
}

/// A rename runs as a job (it can reach every image of the account); the
/// Operation reports progress as `done`/`total`.
pub(super) async fn rename(
    write: &mut PendingWrite,
    principal: &Principal,
    from: Keyword,
    to: Keyword,
    images: Option<Vec<String>>,
    op_id: &str,
) -> Result<Applied, CoreError> {
    if from.keyword == to.keyword {
        // Nothing to rename (and renaming onto itself must not remove it).
        return Ok(Applied {
            done: WorkDone {
                kind: RENAME_JOB,
                status: OperationStatus::Succeeded,
                result: json!({ "from": from.keyword, "to": to.keyword, "done": 0, "total": 0, "renamed": 0 }),
                image_public_uuids: vec![],
                set_public_uuid: None,
                jobs: vec![],
                changes: vec![],
            },
            collect: vec![],
        });
    }
    let account = write.account_id().to_owned();
    let total = match &images {
        Some(list) => list.len() as i64,
        None => editorial::keyword_count(write.tx(), &account, &from.keyword).await?,
    };
    // A `user` role renames only on the images it uploaded.
    let only_uploaded_by = match principal.user() {
        Some((user, _)) if user.role == crate::users::Role::User => Some(user.user.uuid.clone()),
        _ => None,
    };
    Ok(Applied {
        done: WorkDone {
            kind: RENAME_JOB,
            status: OperationStatus::Queued,
            result: json!({ "from": from.keyword, "to": to.keyword, "done": 0, "total": total, "renamed": 0 }),
            image_public_uuids: images.clone().unwrap_or_default(),
            set_public_uuid: None,
            jobs: vec![JobSpec::of(
                &crate::keywords::RenamePayload {
                    operation: op_id.to_owned(),
                    account,
                    from: from.keyword.clone(),
                    to: to.keyword.clone(),
                    images,
                    only_uploaded_by,
                },
                5,
                None,
            )?],
            changes: vec![],
        },
        collect: vec![],
    })
}
