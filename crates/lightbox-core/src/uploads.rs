//! Uploads: the ticket (`POST /v1/uploads`) and the image processor's side
//! (verify the ticket, check the head of the file, record the image).
//!
//! ```text
//! POST /v1/uploads ─▶ validate details ─▶ seal {ticket id, account, uploader,
//!                                               details, size cap, expiry}
//! POST {upload_url} (multipart: ticket, then file)
//!   open_ticket ─▶ used already? → the same answer (replay)
//!   check_head (type sniffed from the bytes → 415; header pixels → 400)
//!   blob store streams + hashes the file (lightbox-media)
//!   finish: one transaction — ticket marked used, image row, keywords,
//!           Exif rows, set membership, Operation + versions job
//! ```
//! The ticket is stateless until used: the database keeps only used tickets,
//! so single use and "same ticket again → same answer" are one primary key.

use lightbox_media::StagedOriginal;
use lightbox_media::metadata::Embedded;
use lightbox_media::sniff::{self, MediaKind};
use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use lightbox_store::images::{self as store, ImageRow, UsedTicket};
use lightbox_store::{accounts, service_tokens, sessions, users};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Credential, Principal};
use crate::clock::{format_rfc3339, parse_loose_time};
use crate::error::{CoreError, ErrorKind};
use crate::media;
use crate::operations::OperationStatus;
use crate::writes::{JobSpec, WorkDone};
use crate::{Core, ids, keywords, validate, writes};

/// How long a ticket may be used.
pub const TICKET_TTL_MICROS: i64 = 15 * 60 * 1_000_000;
const TICKET_PURPOSE: &str = "lightbox upload ticket v1";
pub const FILENAME_MAX: usize = 255;
pub const TITLE_MAX: usize = 191;
pub const DESCRIPTION_MAX: usize = 10_000;
/// Bytes of the file read before anything is stored: the type, the pixel
/// size and the embedded metadata come from here.
pub const HEAD_BYTES: usize = 1024 * 1024;
/// The job kind that builds versions.
pub const VERSIONS_JOB: &str = "image.versions";

/// `POST /v1/uploads` body: the image's details, sealed into the ticket.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// The file's name as the photographer knows it (1-255 characters).
    #[schema(example = "DSC_0042.jpg", max_length = 255)]
    pub filename: String,
    #[schema(max_length = 191)]
    pub title: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Up to 200, namespaced `axis:value` or plain (1-255 characters each).
    #[schema(example = json!(["artist:Marina", "stage:Main"]), max_items = 200)]
    pub keywords: Option<Vec<String>>,
    /// When it was taken: RFC 3339 (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` and
    /// Exif's `YYYY:MM:DD HH:MM:SS` are taken too).
    #[schema(example = "2026-07-14T21:30:05Z", format = DateTime)]
    pub creation_date: Option<String>,
    /// Put the image into this set.
    pub set_public_uuid: Option<String>,
    /// Fill title, description, keywords, creation date and geo from the
    /// file's IPTC/XMP/Exif where not given (default true).
    pub read_metadata: Option<bool>,
}

/// The ticket: post `fields` unchanged plus the file (in `file_field`) as
/// `multipart/form-data` to `upload_url`, fields first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadTicket {
    #[schema(example = "https://photos.example.com/upload")]
    pub upload_url: String,
    #[schema(example = "file")]
    pub file_field: String,
    #[schema(value_type = Object, example = json!({"ticket": "eyJ2Ijox…"}))]
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub transaction_uuid: String,
    /// RFC 3339; the ticket is refused after this.
    pub expires_at: String,
    /// Largest file this ticket accepts, in bytes.
    pub max_bytes: u64,
}

/// The processor's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UploadAnswer {
    pub image_public_uuid: String,
    pub transaction_uuid: String,
    /// The Operation that builds the versions (null for a duplicate).
    pub operation_uuid: Option<String>,
    /// True when the account already had this exact file: nothing new was
    /// stored and `image_public_uuid` is the existing image.
    pub duplicate: bool,
}

/// Who uploads: the uploader recorded on the image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum Uploader {
    #[serde(rename = "user")]
    User(String),
    #[serde(rename = "token")]
    Token(String),
}

impl Uploader {
    pub fn of(principal: &Principal) -> Self {
        match &principal.credential {
            Credential::Service(t) => Uploader::Token(t.uuid.clone()),
            Credential::User { user, .. } => Uploader::User(user.user.uuid.clone()),
        }
    }
}

/// What the ticket carries (sealed, so it comes back unaltered).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketClaims {
    pub tid: String,
    pub account: String,
    pub by: Uploader,
    pub details: CheckedDetails,
    pub max_bytes: u64,
    pub expires_at: i64,
    /// The credential's IP allow-list when the ticket was made: the file
    /// must come from an address it allows too.
    #[serde(default)]
    pub allowed_ips: Vec<ipnet::IpNet>,
    /// A member's device session: the file is taken only while it lives.
    #[serde(default)]
    pub session: Option<String>,
    /// Asked for in the console: a person uploads there whether or not the
    /// account's API access is on (the console does not need the API).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_console: bool,
    /// The metadata profile a console upload chose; absent, the uploader's
    /// default profile applies (as for every API ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_profile: Option<ProfileChoice>,
}

/// A console upload's choice of metadata profile (its uuid), or none at all.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum ProfileChoice {
    #[serde(rename = "none")]
    NoProfile,
    #[serde(rename = "profile")]
    Profile(String),
}

/// Details after validation (keywords checked, date parsed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckedDetails {
    pub filename: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    pub creation_date: Option<i64>,
    pub set: Option<String>,
    pub read_metadata: bool,
}

async fn ticket_key(core: &Core) -> Result<&[u8], CoreError> {
    crate::server_keys::get(core, &media::settings(core)?.ticket_key, "upload_ticket").await
}

/// Checks an upload's details (the set must exist in `account_id`).
async fn check_details(
    core: &Core,
    account_id: &str,
    input: NewUpload,
) -> Result<CheckedDetails, CoreError> {
    let filename = validate::required_text("filename", &input.filename, FILENAME_MAX)?;
    if filename.contains(['/', '\\']) {
        return Err(CoreError::validation(
            "filename",
            "filename must be a file name, not a path (no / or \\).",
        ));
    }
    if filename.chars().any(char::is_control) {
        return Err(CoreError::validation(
            "filename",
            "filename must not contain control characters (tabs and line breaks included).",
        ));
    }
    let title = input
        .title
        .as_deref()
        .map(|t| validate::optional_text("title", t, TITLE_MAX).map(|t| t.trim().to_owned()))
        .transpose()?
        .filter(|t| !t.is_empty());
    let description = input
        .description
        .as_deref()
        .map(|t| validate::optional_text("description", t, DESCRIPTION_MAX))
        .transpose()?
        .filter(|t| !t.trim().is_empty());
    let keywords = keywords::parse_list("keywords", input.keywords.as_deref().unwrap_or(&[]))?
        .into_iter()
        .map(|k| k.keyword)
        .collect();
    let creation_date = match input.creation_date.as_deref() {
        None => None,
        Some(text) => Some(parse_loose_time(text).ok_or_else(|| {
            CoreError::validation(
                "creation_date",
                "creation_date must be a date or timestamp (RFC 3339, YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS).",
            )
        })?),
    };
    if let Some(set) = &input.set_public_uuid {
        validate::uuid("set_public_uuid", set)?;
        let mut conn = core.store.read().await?;
        if !lightbox_store::sets::exists(&mut conn, account_id, set).await? {
            return Err(
                CoreError::new(ErrorKind::SetNotFound, format!("No set {set}."))
                    .with_field("set_public_uuid"),
            );
        }
    }
    Ok(CheckedDetails {
        filename,
        title,
        description,
        keywords,
        creation_date,
        set: input.set_public_uuid,
        read_metadata: input.read_metadata.unwrap_or(true),
    })
}

/// Checks the details and seals them into a ticket.
pub async fn create_ticket(
    core: &Core,
    principal: &Principal,
    input: NewUpload,
) -> Result<UploadTicket, CoreError> {
    let claims = claims_for(core, principal, input, false).await?;
    seal_ticket(core, &claims).await
}

/// A ticket for a person signed in to the console (its upload page sends
/// the file to the same processor as any client).
pub async fn create_console_ticket(
    core: &Core,
    principal: &Principal,
    input: NewUpload,
    profile: Option<&str>,
) -> Result<UploadTicket, CoreError> {
    let claims = console_claims(core, principal, input, profile).await?;
    seal_ticket(core, &claims).await
}

/// A console upload's claims: the checked details, and `profile` ("none",
/// a profile's uuid or name, or `None` for the uploader's default) checked
/// against the account's profiles.
pub async fn console_claims(
    core: &Core,
    principal: &Principal,
    input: NewUpload,
    profile: Option<&str>,
) -> Result<TicketClaims, CoreError> {
    let mut claims = claims_for(core, principal, input, true).await?;
    claims.metadata_profile = match profile {
        None => None,
        Some("none") => Some(ProfileChoice::NoProfile),
        Some(name) => Some(ProfileChoice::Profile(
            crate::metadata_profiles::find(core, &claims.account, name)
                .await?
                .uuid,
        )),
    };
    Ok(claims)
}

/// The checked details and the bounds of an upload by `principal`.
async fn claims_for(
    core: &Core,
    principal: &Principal,
    input: NewUpload,
    via_console: bool,
) -> Result<TicketClaims, CoreError> {
    let account_id = principal.account.uuid.clone();
    let details = check_details(core, &account_id, input).await?;
    let media = media::settings(core)?;
    Ok(TicketClaims {
        tid: ids::new_public_uuid(),
        account: account_id,
        by: Uploader::of(principal),
        details,
        max_bytes: principal
            .max_request_bytes
            .unwrap_or(u64::MAX)
            .min(media.max_upload_bytes),
        expires_at: core.now() + TICKET_TTL_MICROS,
        allowed_ips: principal.allowed_ips.clone(),
        session: principal.user().map(|(_, session)| session.uuid.clone()),
        via_console,
        metadata_profile: None,
    })
}

async fn seal_ticket(core: &Core, claims: &TicketClaims) -> Result<UploadTicket, CoreError> {
    let media = media::settings(core)?;
    let payload = serde_json::to_vec(claims).map_err(|_| CoreError::internal())?;
    let sealed = lightbox_auth::seal::seal(ticket_key(core).await?, TICKET_PURPOSE, &payload);
    let mut fields = serde_json::Map::new();
    fields.insert("ticket".to_owned(), serde_json::Value::String(sealed));
    Ok(UploadTicket {
        upload_url: format!("{}/upload", media.processor_url),
        file_field: "file".to_owned(),
        fields,
        transaction_uuid: claims.tid.clone(),
        expires_at: format_rfc3339(claims.expires_at),
        max_bytes: claims.max_bytes,
    })
}

/// The image processor's work once a ticket is open: the head of `file`
/// decides the type and pixel size before anything is kept, the whole file
/// streams to the blob store while hashed (never whole in memory), and the
/// image is recorded — even if the client goes meanwhile.
pub async fn receive<S, E>(
    core: &Core,
    claims: TicketClaims,
    file: S,
) -> Result<UploadAnswer, CoreError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use futures::StreamExt;
    let media = media::settings(core)?;
    let mut file = file;
    let mut head = bytes::BytesMut::new();
    while head.len() < HEAD_BYTES {
        match file.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(reason)) => return Err(broke_off(&reason.to_string())),
            None => break,
        }
    }
    if head.len() as u64 > claims.max_bytes {
        return Err(CoreError::payload_too_large());
    }
    let head = head.freeze();
    // Sniffing and the metadata blocks (zlib inflates among them) are CPU
    // work on up to 1 MiB of hostile bytes: off the async workers.
    let checked = {
        let (core, head) = (core.clone(), head.clone());
        tokio::task::spawn_blocking(move || check_head(&core, &head))
            .await
            .map_err(|_| CoreError::internal())??
    };
    let rest = file.map(|chunk| chunk.map_err(|e| e.to_string()));
    let source = futures::stream::once(async move { Ok::<bytes::Bytes, String>(head) }).chain(rest);
    let staged = media
        .blobs
        .stage_original(Box::pin(source), claims.max_bytes)
        .await
        .map_err(|e| match e {
            lightbox_media::BlobError::TooLarge(_) => CoreError::payload_too_large(),
            lightbox_media::BlobError::Source(reason) => broke_off(&reason),
            other => {
                tracing::error!(error = %other, "storing an original failed");
                CoreError::internal()
            }
        })?;
    // The file took a while: the uploader may have been removed or signed
    // out meanwhile. Then nothing is kept.
    if let Err(e) = still_allowed(core, &claims).await {
        media.blobs.discard_staged(&staged).await;
        return Err(e);
    }
    // Published and recorded even if the client goes now (or the staged
    // copy is left for the sweep, never a published blob without a note).
    let core = core.clone();
    match tokio::spawn(async move { finish(&core, &claims, &checked, &staged).await }).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "recording an upload failed");
            Err(CoreError::internal())
        }
    }
}

fn broke_off(reason: &str) -> CoreError {
    CoreError::validation("file", format!("The upload broke off: {reason}"))
}

/// Adds a file held in memory as an image, the way the processor would
/// (the demo's pictures; imports): same checks, same answer.
pub async fn import(
    core: &Core,
    account_id: &str,
    by: Uploader,
    input: NewUpload,
    bytes: bytes::Bytes,
) -> Result<UploadAnswer, CoreError> {
    let details = check_details(core, account_id, input).await?;
    let media = media::settings(core)?;
    let claims = TicketClaims {
        tid: ids::new_public_uuid(),
        account: account_id.to_owned(),
        by,
        details,
        max_bytes: media.max_upload_bytes,
        expires_at: core.now() + TICKET_TTL_MICROS,
        allowed_ips: Vec::new(),
        session: None,
        via_console: false,
        metadata_profile: None,
    };
    // CPU work on the file's bytes: off the async workers, as on upload.
    let (checker, head) = (core.clone(), bytes.slice(..bytes.len().min(HEAD_BYTES)));
    let head = tokio::task::spawn_blocking(move || check_head(&checker, &head))
        .await
        .map_err(|e| CoreError::new(ErrorKind::Internal, e.to_string()))??;
    let source = futures::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
    let staged = media
        .blobs
        .stage_original(source, claims.max_bytes)
        .await
        .map_err(|e| CoreError::new(ErrorKind::Internal, e.to_string()))?;
    finish(core, &claims, &head, &staged).await
}

/// Verifies a ticket: sealed by this server, unexpired, and its account and
/// uploader still allowed to upload.
pub async fn open_ticket(
    core: &Core,
    sealed: &str,
    client_ip: std::net::IpAddr,
) -> Result<TicketClaims, CoreError> {
    let payload = lightbox_auth::seal::open(ticket_key(core).await?, TICKET_PURPOSE, sealed.trim())
        .map_err(|e| match e {
            lightbox_auth::seal::SealError::Malformed => CoreError::validation(
                "ticket",
                "The ticket is not a ticket from POST /v1/uploads.",
            ),
            lightbox_auth::seal::SealError::BadSignature => CoreError::unauthorized(
                "The upload ticket was altered or forged; ask POST /v1/uploads for a new one.",
            )
            .with_detail("ticket_invalid"),
        })?;
    let claims: TicketClaims = serde_json::from_slice(&payload).map_err(|_| {
        CoreError::validation(
            "ticket",
            "The ticket is not a ticket from POST /v1/uploads.",
        )
    })?;
    if core.now() >= claims.expires_at {
        return Err(CoreError::unauthorized(
            "The upload ticket has expired (tickets last 15 minutes); ask POST /v1/uploads for a new one.",
        )
        .with_detail("ticket_expired"));
    }
    still_allowed(core, &claims).await?;
    let ip = crate::auth::canonical_ip(client_ip);
    if !claims.allowed_ips.is_empty() && !claims.allowed_ips.iter().any(|net| net.contains(&ip)) {
        return Err(CoreError::forbidden(format!(
            "This ticket's token may not be used from {ip}."
        ))
        .with_detail("ip_not_allowed"));
    }
    Ok(claims)
}

/// The ticket's account still takes API uploads and its uploader is still
/// allowed to upload there: checked when the upload starts and again once
/// the file has arrived (an upload can take minutes; a member removed or
/// signed out meanwhile gets nothing kept).
pub async fn still_allowed(core: &Core, claims: &TicketClaims) -> Result<(), CoreError> {
    let mut conn = core.store.read().await?;
    let account = accounts::find(&mut conn, &claims.account).await?;
    if !account
        .as_ref()
        .is_some_and(|a| a.api_enabled || claims.via_console)
    {
        return Err(CoreError::new(
            ErrorKind::ApiNotEnabled,
            "API access is switched off for this account (Settings → API → Settings).",
        ));
    }
    let now = core.now();
    let uploader_ok = match &claims.by {
        Uploader::Token(id) => service_tokens::find(&mut conn, id).await?.is_some_and(|t| {
            t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > Timestamp(now))
        }),
        // A member: still enabled, and the device session that asked for
        // the ticket still live (signed out, ended or replaced → no).
        Uploader::User(id) => {
            let enabled = users::find(&mut conn, id)
                .await?
                .is_some_and(|u| !u.disabled);
            let session = match &claims.session {
                Some(session) => sessions::find_session(&mut conn, session).await?,
                None => None,
            };
            enabled
                && session.is_some_and(|s| {
                    s.user_id == *id && s.revoked_at.is_none() && s.expires_at > Timestamp(now)
                })
        }
    };
    if !uploader_ok {
        return Err(CoreError::unauthorized(
            "The credential that asked for this ticket was revoked, disabled or signed out; ask POST /v1/uploads for a new ticket.",
        )
        .with_detail("ticket_revoked"));
    }
    // ... and still a member of the account.
    if let Uploader::User(id) = &claims.by
        && !users::memberships(&mut conn, id)
            .await?
            .iter()
            .any(|m| m.account_id == claims.account)
    {
        return Err(CoreError::forbidden(
            "The user who asked for this ticket is no longer a member of this account.",
        )
        .with_detail("not_a_member"));
    }
    Ok(())
}

/// The earlier answer when this ticket was used already.
pub async fn replay(core: &Core, claims: &TicketClaims) -> Result<Option<UploadAnswer>, CoreError> {
    let mut conn = core.store.read().await?;
    Ok(store::find_ticket(&mut conn, &claims.account, &claims.tid)
        .await?
        .map(|t| answer_of(&t)))
}

fn answer_of(t: &UsedTicket) -> UploadAnswer {
    UploadAnswer {
        image_public_uuid: t.image_id.clone(),
        transaction_uuid: t.id.clone(),
        operation_uuid: t.operation_id.clone(),
        duplicate: t.duplicate,
    }
}

/// What the head of the file says, before anything is stored.
#[derive(Debug, Clone)]
pub struct Head {
    pub kind: MediaKind,
    pub dimensions: Option<(u32, u32)>,
    pub embedded: Embedded,
}

/// Sniffs the type from the bytes (never the name) and refuses files over
/// the pixel limit before any pixel is decoded.
pub fn check_head(core: &Core, head: &[u8]) -> Result<Head, CoreError> {
    let media = media::settings(core)?;
    if head.is_empty() {
        return Err(CoreError::validation("file", "The file is empty."));
    }
    let kind = sniff::sniff(head).ok_or_else(|| {
        CoreError::new(
            ErrorKind::UnsupportedMediaType,
            "This file is not an image or video Lightbox takes (JPEG, PNG, WebP, TIFF, HEIC/HEIF, GIF, MP4, MOV).",
        )
        .with_field("file")
    })?;
    let dimensions = sniff::header_dimensions(kind, head);
    if let Some((w, h)) = dimensions
        && u64::from(w) * u64::from(h) > media.max_pixels
    {
        return Err(CoreError::validation(
            "file",
            format!(
                "The image is {w}×{h} pixels, over the limit of {} pixels; it was not decoded.",
                media.max_pixels
            ),
        )
        .with_detail("too_many_pixels"));
    }
    // A picture whose versions could not be built within a job's memory
    // budget is refused now, not after it was kept.
    if let Err(e) = lightbox_media::RenderLimits::default().check_memory(kind, head) {
        return Err(
            CoreError::validation("file", format!("{e}; it was not kept."))
                .with_detail("too_many_pixels"),
        );
    }
    let embedded = lightbox_media::metadata::read_embedded(kind, head);
    Ok(Head {
        kind,
        dimensions,
        embedded,
    })
}

pub(crate) fn cut(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max)
        .collect()
}

/// How long an upload owns its original's address before its image commits
/// (after that, a crash's leftover is collected if nothing uses it).
const PIN_MICROS: i64 = 3600 * 1_000_000;
/// Tries (100 ms apart) to claim an address the collector is deleting.
const PIN_TRIES: usize = 50;

/// Claims the content address (a pinned `blob_garbage` note, committed),
/// publishes the staged original there, then records the image (or finds
/// the duplicate) in one transaction with the ticket's use. The pin means a
/// crash anywhere after the publish leaves a note the collector finishes,
/// and the collector cannot delete the blob while this upload owns it.
pub async fn finish(
    core: &Core,
    claims: &TicketClaims,
    head: &Head,
    staged: &StagedOriginal,
) -> Result<UploadAnswer, CoreError> {
    let media = media::settings(core)?;
    // The collector may be deleting these bytes right now (another
    // account's last image of them went): wait for it to finish rather than
    // answer differently because of another account's files.
    let mut pinned = false;
    for _ in 0..PIN_TRIES {
        let now = core.now();
        let mut tx = core.store.begin_write().await?;
        pinned = store::pin_garbage(
            &mut tx,
            &staged.key,
            Timestamp(now),
            Timestamp(now + PIN_MICROS),
        )
        .await?;
        tx.commit().await?;
        if pinned {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if !pinned {
        media.blobs.discard_staged(staged).await;
        return Err(CoreError::new(
            ErrorKind::Conflict,
            "These exact bytes were being removed from storage just now; send the file again.",
        ));
    }
    let stored = &media.blobs.publish_original(staged).await.map_err(|e| {
        tracing::error!(error = %e, "publishing an original failed");
        CoreError::internal()
    })?;
    let d = &claims.details;
    let e = &head.embedded;
    let from_file = d.read_metadata;
    let title = d
        .title
        .clone()
        .or_else(|| {
            from_file
                .then(|| e.title.as_deref().map(|t| cut(t, TITLE_MAX)))
                .flatten()
        })
        .unwrap_or_default();
    let description = d
        .description
        .clone()
        .or_else(|| {
            from_file
                .then(|| e.caption.as_deref().map(|t| cut(t, DESCRIPTION_MAX)))
                .flatten()
        })
        .unwrap_or_default();
    let mut keyword_texts = d.keywords.clone();
    if keyword_texts.is_empty() && from_file {
        keyword_texts = keywords::from_file(&e.keywords)
            .into_iter()
            .map(|k| k.keyword)
            .collect();
    }
    let keyword_rows: Vec<(String, Option<String>, String)> = keyword_texts
        .iter()
        .filter_map(|k| keywords::parse("keywords", k).ok())
        .map(|k| (k.keyword, k.namespace, k.value))
        .collect();
    let creation_date = d.creation_date.or_else(|| {
        from_file
            .then(|| e.taken_at.as_deref().and_then(parse_loose_time))
            .flatten()
    });
    let geo = if from_file { e.geo } else { None };
    let exif = serde_json::Value::Object(e.exif.clone().into_iter().collect());
    let exif_rows: Vec<(String, String)> = e
        .exif
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text.chars().take(255).collect())
        })
        .collect();
    let mut metadata: serde_json::Map<String, serde_json::Value> = if from_file {
        e.iptc
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(cut(v, 2000))))
            .collect()
    } else {
        serde_json::Map::new()
    };
    // Upright size: orientations 5-8 swap the sides.
    let dims = head.dimensions.map(|(w, h)| {
        if e.orientation.is_some_and(|o| (5..=8).contains(&o)) {
            (i64::from(h), i64::from(w))
        } else {
            (i64::from(w), i64::from(h))
        }
    });

    let mut write = writes::begin_unkeyed(core, &claims.account).await?;
    let now = write.now();
    // Uploads of the same bytes queue here (the pin's row lock), so the
    // duplicate check below sees the one that committed first.
    store::pin_garbage(
        write.tx(),
        &stored.key,
        Timestamp(now),
        Timestamp(now + PIN_MICROS),
    )
    .await?;
    let account = accounts::find(write.tx(), &claims.account)
        .await?
        .ok_or_else(CoreError::internal)?;
    let mut used = UsedTicket {
        id: claims.tid.clone(),
        image_id: String::new(),
        operation_id: None,
        duplicate: false,
    };
    let reject_duplicates = store::duplicates_setting(write.tx(), &account.id).await? != "allow";
    if reject_duplicates
        && let Some(existing) =
            store::find_by_sha(write.tx(), &claims.account, &stored.sha256).await?
    {
        // Referenced by the existing image: the pin is no longer needed.
        store::forget_garbage(write.tx(), &stored.key).await?;
        used.image_id = existing;
        used.duplicate = true;
        return settle(core, record_use(write, claims, used, now).await?, claims).await;
    }
    // The image references it from this commit on: the note goes with it.
    store::forget_garbage(write.tx(), &stored.key).await?;
    let image_id = ids::new_public_uuid();
    crate::metadata_profiles::fill_for_upload(
        write.tx(),
        &claims.account,
        &claims.by,
        claims.metadata_profile.as_ref(),
        &mut metadata,
    )
    .await?;
    let metadata = serde_json::Value::Object(metadata);
    let (uploaded_by, uploaded_by_token) = match &claims.by {
        Uploader::User(id) => (Some(id.clone()), None),
        Uploader::Token(id) => (None, Some(id.clone())),
    };
    let row = ImageRow {
        id: image_id.clone(),
        account_id: claims.account.clone(),
        filename: d.filename.clone(),
        title,
        description,
        creation_date: creation_date.map(Timestamp),
        created_at: Timestamp(now),
        updated_at: Timestamp(now),
        rotation: 0,
        rating: 0,
        alt_text: String::new(),
        is_video: head.kind.is_video(),
        media_kind: head.kind.as_str().to_owned(),
        content_type: head.kind.content_type().to_owned(),
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
        bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256.clone(),
        original_key: stored.key.clone(),
        lat: geo.map(|g| g.0),
        lng: geo.map(|g| g.1),
        exif: JsonText(exif.to_string()),
        metadata: JsonText(metadata.to_string()),
        uploaded_by,
        uploaded_by_token,
        versions_state: "pending".to_owned(),
        versions_error: None,
    };
    store::insert(write.tx(), &row).await?;
    store::add_keywords(write.tx(), &row, &keyword_rows).await?;
    store::insert_exif(
        write.tx(),
        &claims.account,
        &image_id,
        Timestamp(now),
        &exif_rows,
    )
    .await?;
    if let Some(set) = &d.set {
        // The set may have been deleted since the ticket was made.
        if lightbox_store::sets::exists(write.tx(), &claims.account, set).await? {
            store::add_to_set(write.tx(), set, &image_id, Timestamp(now)).await?;
        }
    }
    used.image_id = image_id;
    used.operation_id = Some(write.operation_id().to_owned());
    settle(core, record_use(write, claims, used, now).await?, claims).await
}

/// `None` from [`record_use`]: a concurrent post of the same ticket won, so
/// answer as it did.
async fn settle(
    core: &Core,
    outcome: Option<UploadAnswer>,
    claims: &TicketClaims,
) -> Result<UploadAnswer, CoreError> {
    match outcome {
        Some(answer) => Ok(answer),
        None => replay(core, claims).await?.ok_or_else(CoreError::internal),
    }
}

/// Marks the ticket used and commits; `None` when another use came first
/// (everything here is rolled back).
async fn record_use(
    mut write: writes::PendingWrite,
    claims: &TicketClaims,
    used: UsedTicket,
    now: i64,
) -> Result<Option<UploadAnswer>, CoreError> {
    match store::use_ticket(
        write.tx(),
        &claims.account,
        &used,
        Timestamp(claims.expires_at),
        Timestamp(now),
    )
    .await
    {
        Ok(()) => {}
        Err(e) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let answer = answer_of(&used);
    if used.duplicate {
        write.commit_without_operation().await?;
        return Ok(Some(answer));
    }
    write
        .finish(WorkDone {
            kind: "image.upload",
            status: OperationStatus::Queued,
            result: json!({ "image_public_uuid": used.image_id, "transaction_uuid": used.id }),
            image_public_uuids: vec![used.image_id.clone()],
            set_public_uuid: claims.details.set.clone(),
            jobs: vec![JobSpec::of(
                &crate::versions::VersionsPayload {
                    image_public_uuid: used.image_id.clone(),
                    rotation: None,
                },
                3,
                None,
            )?],
            changes: vec![("image", used.image_id.clone(), "create")],
        })
        .await?;
    Ok(Some(answer))
}
