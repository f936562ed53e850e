//! Images in the library: the image object, reading one or a page, editing
//! its fields, deleting it.
//!
//! Deleting follows the blob rule: the row goes in a transaction that also
//! notes its blobs in `blob_garbage`; the blobs are removed after the commit
//! (see [`crate::versions::collect`]). A crash in between leaves the notes,
//! and housekeeping finishes the job.

use std::collections::HashMap;

use lightbox_store::images::{self as store, ImageRow};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::{Credential, Principal};
use crate::clock::format_rfc3339;
use crate::edits::{self, Credit, Crop, Edit};
use crate::error::{CoreError, ErrorKind};
use crate::image_filters::ImageFilter;
use crate::keywords::Keyword;
use crate::media;
use crate::operations::Operation;
use crate::users::Role;
use crate::writes::WriteContext;
use crate::{Core, ids};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Geo {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImageSetRef {
    pub public_uuid: String,
    pub name: String,
    pub hidden: bool,
    pub activation_time: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Version {
    #[schema(example = "thumbnail")]
    pub name: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Public versions: a long-lived URL under the account's media base URL
    /// (null until `ready`). The original: null (only `POST /v1/downloads`).
    pub url: Option<String>,
    /// `public` or `private` (the original).
    #[schema(example = "public")]
    pub access: &'static str,
    pub content_type: Option<String>,
    pub bytes: Option<i64>,
    pub ready: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploaderRef {
    pub uuid: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Image {
    pub public_uuid: String,
    pub filename: String,
    pub title: String,
    pub description: String,
    /// When it was taken (RFC 3339), if known.
    pub creation_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Extra clockwise rotation on top of the file's EXIF orientation.
    pub rotation: i64,
    pub rating: i64,
    pub alt_text: String,
    pub is_video: bool,
    /// Upright size in pixels (orientation and rotation applied), when known.
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub bytes: i64,
    pub content_type: String,
    pub sha256: String,
    pub geo: Option<Geo>,
    #[schema(value_type = Object)]
    pub exif: Value,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub keywords: Vec<Keyword>,
    pub credits: Vec<Credit>,
    /// Per aspect ratio, in pixels of the upright image.
    pub crops: Vec<Crop>,
    pub sets: Vec<ImageSetRef>,
    pub versions: Vec<Version>,
    /// Why the versions are not there, when building them failed.
    pub versions_error: Option<String>,
    pub uploaded_by: Option<UploaderRef>,
}

pub(crate) fn image_not_found(id: &str) -> CoreError {
    CoreError::new(ErrorKind::ImageNotFound, format!("No image {id}."))
}

/// The public URL of a version: changes whenever its content does, so it
/// can be cached for ever.
pub fn version_url(
    base: &str,
    image_id: &str,
    name: &str,
    etag: &str,
    content_type: &str,
) -> String {
    let ext = version_extension(content_type);
    format!(
        "{}/media/{image_id}/{name}/{etag}.{ext}",
        base.trim_end_matches('/')
    )
}

/// The file extension of a version's URL and blob key.
pub fn version_extension(content_type: &str) -> &'static str {
    if content_type == "image/webp" {
        "webp"
    } else {
        "jpg"
    }
}

/// Builds image objects for rows, with their keywords, versions, sets and
/// uploaders, in a fixed number of queries.
async fn render(core: &Core, account_id: &str, rows: &[ImageRow]) -> Result<Vec<Image>, CoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut conn = core.store.read().await?;
    let base = store::media_base_url(&mut conn, account_id)
        .await?
        .unwrap_or_else(|| {
            media::settings(core)
                .map(|m| m.media_url.clone())
                .unwrap_or_default()
        });
    let mut keywords: HashMap<String, Vec<Keyword>> = HashMap::new();
    for k in store::keywords_of(&mut conn, &ids).await? {
        keywords
            .entry(k.image_id.clone())
            .or_default()
            .push(Keyword::from_stored(
                &k.keyword,
                k.namespace.as_deref(),
                &k.value,
            ));
    }
    let mut versions: HashMap<String, Vec<store::VersionRow>> = HashMap::new();
    for v in store::versions_of(&mut conn, &ids).await? {
        versions.entry(v.image_id.clone()).or_default().push(v);
    }
    let mut sets: HashMap<String, Vec<ImageSetRef>> = HashMap::new();
    for s in store::sets_of(&mut conn, &ids).await? {
        sets.entry(s.image_id.clone())
            .or_default()
            .push(ImageSetRef {
                public_uuid: s.set_id,
                name: s.name,
                hidden: s.hidden,
                activation_time: s.activation_time.map(crate::clock::format_rfc3339_precise),
            });
    }
    let mut credits: HashMap<String, Vec<Credit>> = HashMap::new();
    for c in lightbox_store::editorial::credits_of(&mut conn, &ids).await? {
        credits.entry(c.image_id).or_default().push(Credit {
            uuid: c.id,
            role: c.role,
            name: c.name,
        });
    }
    let mut crops: HashMap<String, Vec<Crop>> = HashMap::new();
    for c in lightbox_store::editorial::crops_of(&mut conn, &ids).await? {
        crops.entry(c.image_id).or_default().push(Crop {
            aspect_ratio: c.aspect_ratio,
            x: c.x,
            y: c.y,
            width: c.width,
            height: c.height,
        });
    }
    let mut user_ids: Vec<String> = rows.iter().filter_map(|r| r.uploaded_by.clone()).collect();
    user_ids.sort();
    user_ids.dedup();
    let names: HashMap<String, String> = store::user_names(&mut conn, &user_ids)
        .await?
        .into_iter()
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let built = versions.remove(&row.id).unwrap_or_default();
        out.push(Image {
            public_uuid: row.id.clone(),
            filename: row.filename.clone(),
            title: row.title.clone(),
            description: row.description.clone(),
            creation_date: row.creation_date.map(format_rfc3339),
            created_at: format_rfc3339(row.created_at),
            updated_at: format_rfc3339(row.updated_at),
            rotation: row.rotation,
            rating: row.rating,
            alt_text: row.alt_text.clone(),
            is_video: row.is_video,
            width: row.width,
            height: row.height,
            bytes: row.bytes,
            content_type: row.content_type.clone(),
            sha256: row.sha256.clone(),
            geo: match (row.lat, row.lng) {
                (Some(lat), Some(lng)) => Some(Geo { lat, lng }),
                _ => None,
            },
            exif: serde_json::from_str(row.exif.as_str()).unwrap_or_else(|_| json!({})),
            metadata: serde_json::from_str(row.metadata.as_str()).unwrap_or_else(|_| json!({})),
            keywords: keywords.remove(&row.id).unwrap_or_default(),
            credits: credits.remove(&row.id).unwrap_or_default(),
            crops: crops.remove(&row.id).unwrap_or_default(),
            sets: sets.remove(&row.id).unwrap_or_default(),
            versions: version_list(&base, row, &built),
            versions_error: row.versions_error.clone(),
            uploaded_by: row.uploaded_by.as_ref().map(|id| UploaderRef {
                uuid: id.clone(),
                name: names.get(id).cloned().unwrap_or_default(),
            }),
        });
    }
    Ok(out)
}

/// The profile's versions (built or not yet) and the private original.
fn version_list(base: &str, row: &ImageRow, built: &[store::VersionRow]) -> Vec<Version> {
    let mut out: Vec<Version> = media::DEFAULT_SIZES
        .iter()
        .map(|size| match built.iter().find(|v| v.name == size.name) {
            Some(v) => Version {
                name: v.name.clone(),
                width: Some(v.width),
                height: Some(v.height),
                url: Some(version_url(
                    base,
                    &row.id,
                    &v.name,
                    &v.etag,
                    &v.content_type,
                )),
                access: "public",
                content_type: Some(v.content_type.clone()),
                bytes: Some(v.bytes),
                ready: true,
            },
            None => {
                let fitted = match (row.width, row.height) {
                    (Some(w), Some(h)) => Some(media::fitted(w, h, size.long_edge)),
                    _ => None,
                };
                Version {
                    name: size.name.to_owned(),
                    width: fitted.map(|f| f.0),
                    height: fitted.map(|f| f.1),
                    url: None,
                    access: "public",
                    content_type: None,
                    bytes: None,
                    ready: false,
                }
            }
        })
        .collect();
    out.push(Version {
        name: "original".to_owned(),
        width: row.width,
        height: row.height,
        url: None,
        access: "private",
        content_type: Some(row.content_type.clone()),
        bytes: Some(row.bytes),
        ready: true,
    });
    out
}

pub async fn get(core: &Core, account_id: &str, id: &str) -> Result<Image, CoreError> {
    if !ids::is_uuid(id) {
        return Err(image_not_found(id));
    }
    let row = {
        let mut conn = core.store.read().await?;
        store::find(&mut conn, account_id, id)
            .await?
            .ok_or_else(|| image_not_found(id))?
    };
    render(core, account_id, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or_else(CoreError::internal)
}

/// One page of the filtered library, plus whether more follow.
pub async fn list(
    core: &Core,
    account_id: &str,
    filter: &ImageFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Image>, bool), CoreError> {
    let (ids, more) = list_ids(core, account_id, filter, limit, offset).await?;
    Ok((render_ids(core, account_id, &ids).await?, more))
}

/// The ids of a page of [`list`], without rendering the images (for work
/// that needs only which images match).
pub async fn list_ids(
    core: &Core,
    account_id: &str,
    filter: &ImageFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<String>, bool), CoreError> {
    let ids = if filter.needs_index() {
        // Full text: the index ranks and filters (it agrees with SQL on
        // every filter); rows still come from the database.
        let search = core.synced_search().await?;
        let index = search.index();
        index
            .search(
                account_id,
                filter.query.as_ref(),
                &filter.list,
                core.now(),
                usize::try_from(limit + 1).unwrap_or(0),
                usize::try_from(offset).unwrap_or(usize::MAX),
            )
            .map_err(|e| {
                tracing::error!(error = %e, "search");
                CoreError::internal()
            })?
    } else {
        let mut conn = core.store.read().await?;
        lightbox_store::image_list::list_ids(
            &mut conn,
            core.store.engine(),
            account_id,
            &filter.list,
            limit + 1,
            offset,
        )
        .await?
    };
    Ok(crate::cut_page(ids, limit))
}

/// Image objects for these ids of the account, in the ids' order (ids
/// that are gone are left out).
pub async fn render_ids(
    core: &Core,
    account_id: &str,
    ids: &[String],
) -> Result<Vec<Image>, CoreError> {
    let rows = {
        let mut conn = core.store.read().await?;
        store::find_many(&mut conn, account_id, ids).await?
    };
    let mut by_id: HashMap<String, ImageRow> =
        rows.into_iter().map(|r| (r.id.clone(), r)).collect();
    let ordered: Vec<ImageRow> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    render(core, account_id, &ordered).await
}

/// Of `ids`, the images `principal` may not change: for a `user` member,
/// every one it did not upload (one query per thousand); none for roles
/// that change any image. Ids of no image are not listed.
pub async fn not_changeable(
    core: &Core,
    principal: &Principal,
    ids: &[String],
) -> Result<Vec<String>, CoreError> {
    let Some(user) = crate::set_arrangement::only_uploaded_by(principal) else {
        return Ok(Vec::new());
    };
    let mut conn = core.store.read().await?;
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        out.extend(
            lightbox_store::sets::not_uploaded_by(&mut conn, &principal.account.uuid, &user, chunk)
                .await?,
        );
    }
    Ok(out)
}

/// May this caller change or delete the image? A `user` role only its own.
pub(crate) fn may_change(principal: &Principal, row: &ImageRow) -> Result<(), CoreError> {
    match &principal.credential {
        Credential::User { user, .. } if user.role == Role::User => {
            if row.uploaded_by.as_deref() == Some(user.user.uuid.as_str()) {
                Ok(())
            } else {
                Err(CoreError::forbidden(
                    "Your role changes and deletes only the images you uploaded.",
                )
                .with_detail("own_images_only"))
            }
        }
        _ => Ok(()),
    }
}

pub use crate::edits::ImagePatch;

pub async fn update(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    id: &str,
    patch: ImagePatch,
) -> Result<Operation, CoreError> {
    edits::run(core, principal, ctx, Edit::patch(id, patch)?).await
}

pub async fn delete(
    core: &Core,
    principal: &Principal,
    ctx: &WriteContext,
    id: &str,
) -> Result<Operation, CoreError> {
    edits::run(core, principal, ctx, Edit::delete(id)?).await
}

/// A public version as served under the media URL: found by image, name
/// and content tag (an out-of-date tag is not found — its URL is gone).
pub async fn public_version(
    core: &Core,
    image_id: &str,
    name: &str,
    etag: &str,
) -> Result<Option<store::VersionRow>, CoreError> {
    if !ids::is_uuid(image_id) || name == "original" {
        return Ok(None);
    }
    let mut conn = core.store.read().await?;
    Ok(store::find_version(&mut conn, image_id, name)
        .await?
        .filter(|v| v.etag == etag))
}
