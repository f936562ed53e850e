//! Signed downloads: `POST /v1/downloads` resolves an image and a version
//! into a short-lived signed link, and the link is served at
//! `{media base}/download/{token}/{filename}` without any credential — the
//! link is the capability.
//!
//! ```text
//! create ─▶ image of the account? (404) ─▶ version the caller may have?
//!           (403 own_images_only / 409 not built) ─▶ sign_link
//! sign_link ─▶ claims {kid, account, target, filename, expiry}
//!              sealed with HMAC-SHA256 under signing key `kid`
//! open_link ─▶ kid → key (unknown or retired → 403) ─▶ signature (403)
//!              ─▶ expiry (403) ─▶ filename segment unaltered (403)
//!              ─▶ target still there, same content (404) ─▶ Servable
//! ```
//!
//! A target is an enum so other kinds of download (archives) can share the
//! signing, the keys and the serving route: add a variant to [`LinkTarget`]
//! and an arm to [`resolve`].
//!
//! Keys live in the database (`signing_keys`), so every node checks every
//! node's links. The newest active key signs; every active key verifies; a
//! rotation (`lightbox signing-key rotate`) adds a signer and retires all
//! but the two newest. Each process keeps the active keys in memory for at
//! most [`KEY_CACHE`], and re-reads early when a link names a key newer than
//! any it knows (made on another node since), so a rotation is picked up by
//! running servers within a second, without a restart.

use lightbox_store::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lightbox_store::images::{self as store, ImageRow, VersionRow};
use lightbox_store::signing_keys;
use serde::{Deserialize, Serialize};

use crate::auth::{Credential, Principal};
use crate::clock::format_rfc3339;
use crate::error::{CoreError, ErrorKind};
use crate::users::Role;
use crate::{Core, images, media, validate};

/// How long a link lasts unless the server is told otherwise
/// (`--download-link-ttl`): 10 minutes.
pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(600);
/// How long a process trusts the active keys it read.
pub const KEY_CACHE: Duration = Duration::from_secs(1);
/// A link naming a key newer than any known makes the keys be re-read, but
/// not more often than this (a flood of forged key ids costs no more).
const UNKNOWN_KEY_REREAD: Duration = Duration::from_millis(100);
/// The seal's purpose: a link is never taken for another sealed value.
const LINK_PURPOSE: &str = "lightbox download link v1";
/// Longest file name a link carries, in bytes.
pub const FILENAME_MAX_BYTES: usize = 255;

// --- what a link points at --------------------------------------------------

/// What a link serves. Internally tagged (`"kind"`), so a new kind is a new
/// variant; links of kinds a server does not know are refused as invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkTarget {
    /// One version of an image (`original` or a public version), pinned to
    /// the content it had when the link was made: `tag` is the version's
    /// content tag (the original's SHA-256), so a link made before a rebuild
    /// never serves the rebuilt bytes.
    Image {
        image: String,
        version: String,
        tag: String,
    },
    /// A ZIP archive, while it is ready and not expired.
    Archive { archive: String },
}

/// The sealed payload of a link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkClaims {
    /// The signing key's id.
    kid: i64,
    /// The account the target belongs to.
    acc: String,
    target: LinkTarget,
    /// The file name the download is saved under (already made safe).
    name: String,
    /// Expiry, Unix seconds: valid while now < exp.
    exp: i64,
}

/// Read before the signature is checked, only to pick the key.
#[derive(Deserialize)]
struct KeyId {
    kid: i64,
}

/// A signed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// Absolute: `{media base}/download/{token}/{filename}`.
    pub url: String,
    /// The safe file name the link carries (see [`safe_filename`]).
    pub filename: String,
    /// Unix seconds; the link is refused from then on.
    pub expires_at: i64,
}

/// What a valid link serves: a blob and how to describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servable {
    pub blob_key: String,
    pub bytes: u64,
    pub content_type: String,
    /// A strong validator of the content (for `ETag` and `If-Range`).
    pub etag: String,
    /// The safe file name for `Content-Disposition`.
    pub filename: String,
}

// --- keys --------------------------------------------------------------------

struct Loaded {
    /// Active keys, newest (the signer) first.
    keys: Vec<(i64, Arc<[u8]>)>,
    at: Instant,
}

impl Loaded {
    fn find(&self, kid: i64) -> Option<Arc<[u8]>> {
        self.keys
            .iter()
            .find(|(k, _)| *k == kid)
            .map(|(_, key)| key.clone())
    }

    fn newest(&self) -> i64 {
        self.keys.first().map_or(0, |(k, _)| *k)
    }
}

/// The active signing keys, read from the database and kept briefly.
#[derive(Default)]
pub(crate) struct KeyRing {
    cached: Mutex<Option<Arc<Loaded>>>,
    /// One reader at a time; the others take what it read.
    reload: tokio::sync::Mutex<()>,
}

impl KeyRing {
    fn snapshot(&self, max_age: Duration) -> Option<Arc<Loaded>> {
        let cached = self.cached.lock().ok()?.clone()?;
        (cached.at.elapsed() < max_age).then_some(cached)
    }

    /// The keys, re-read unless what is cached is younger than `max_age`.
    /// The first use on a database without an active key makes one.
    async fn load(&self, core: &Core, max_age: Duration) -> Result<Arc<Loaded>, CoreError> {
        let _one = self.reload.lock().await;
        if let Some(loaded) = self.snapshot(max_age) {
            return Ok(loaded);
        }
        let mut rows = {
            let mut conn = core.store.read().await?;
            signing_keys::active(&mut conn).await?
        };
        if rows.is_empty() {
            // First use on this database: make a signer. A process racing
            // here makes the same key id; one insert wins, the other
            // process takes the winner's key.
            let fresh = new_secret()?;
            let mut tx = core.store.begin_write().await?;
            match signing_keys::rotate(&mut tx, &fresh, Timestamp(core.now())).await {
                Ok(_) => tx.commit().await?,
                Err(e) if e.is_unique_violation() => drop(tx),
                Err(e) => return Err(e.into()),
            }
            let mut conn = core.store.read().await?;
            rows = signing_keys::active(&mut conn).await?;
        }
        let loaded = Arc::new(Loaded {
            keys: rows
                .into_iter()
                .filter(|r| !r.secret.is_empty())
                .map(|r| (r.kid, Arc::from(r.secret.into_bytes())))
                .collect(),
            at: Instant::now(),
        });
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some(loaded.clone());
        }
        Ok(loaded)
    }

    async fn current(&self, core: &Core) -> Result<Arc<Loaded>, CoreError> {
        match self.snapshot(KEY_CACHE) {
            Some(loaded) => Ok(loaded),
            None => self.load(core, KEY_CACHE).await,
        }
    }

    /// The key that signs new links.
    async fn signer(&self, core: &Core) -> Result<(i64, Arc<[u8]>), CoreError> {
        self.current(core)
            .await?
            .keys
            .first()
            .cloned()
            .ok_or_else(|| {
                tracing::error!("no active signing key after loading them");
                CoreError::internal()
            })
    }

    /// The key `kid`, if it is active.
    async fn verifier(&self, core: &Core, kid: i64) -> Result<Option<Arc<[u8]>>, CoreError> {
        let loaded = self.current(core).await?;
        if let Some(key) = loaded.find(kid) {
            return Ok(Some(key));
        }
        // Older than the newest known: retired. Newer: maybe made elsewhere
        // since the keys were read.
        if kid <= loaded.newest() {
            return Ok(None);
        }
        Ok(self.load(core, UNKNOWN_KEY_REREAD).await?.find(kid))
    }
}

fn new_secret() -> Result<String, CoreError> {
    let bytes = lightbox_auth::opaque::random_key().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        CoreError::internal()
    })?;
    lightbox_auth::base62::encode_fixed(&bytes, 43).ok_or_else(CoreError::internal)
}

fn ring(core: &Core) -> Result<&KeyRing, CoreError> {
    Ok(&media::settings(core)?.link_keys)
}

/// A signing key as listed by `lightbox signing-key list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningKeyView {
    pub kid: i64,
    /// `signing` (the newest active key), `verifying` (active, older) or
    /// `retired`.
    pub state: &'static str,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// Every key, newest first.
pub async fn list_keys(core: &Core) -> Result<Vec<SigningKeyView>, CoreError> {
    let mut conn = core.store.read().await?;
    let rows = signing_keys::all(&mut conn).await?;
    let signer = rows.iter().find(|r| r.retired_at.is_none()).map(|r| r.kid);
    Ok(rows
        .into_iter()
        .map(|r| SigningKeyView {
            kid: r.kid,
            state: match r.retired_at {
                Some(_) => "retired",
                None if Some(r.kid) == signer => "signing",
                None => "verifying",
            },
            created_at: format_rfc3339(r.created_at),
            retired_at: r.retired_at.map(format_rfc3339),
        })
        .collect())
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    /// The new signer.
    pub kid: i64,
    /// Keys retired by this rotation: links they signed are refused now.
    pub retired: Vec<i64>,
}

/// Adds a new signing key and retires all but the two newest: links signed
/// by the previous key keep working until they expire; links of older keys
/// stop at once (within [`KEY_CACHE`] on running servers).
pub async fn rotate_keys(core: &Core) -> Result<Rotation, CoreError> {
    let fresh = new_secret()?;
    let mut tx = core.store.begin_write().await?;
    let outcome = signing_keys::rotate(&mut tx, &fresh, Timestamp(core.now())).await;
    let (kid, retired) = match outcome {
        Ok(done) => done,
        Err(e) if e.is_unique_violation() => {
            return Err(CoreError::new(
                ErrorKind::Conflict,
                "Another rotation ran at the same time; run it again.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(Rotation { kid, retired })
}

// --- links --------------------------------------------------------------------

/// Characters kept as they are in a URL path segment (RFC 3986 unreserved).
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Bidirectional formatting characters: U+202E makes `photo<U+202E>gpj.exe`
/// display as `photoexe.jpg`, so a file name never carries them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A file name safe to hand to a browser or `curl -J`: only the last part
/// of a path (`/` and `\` separate), without control or bidirectional
/// formatting characters or double quotes, without leading or trailing dots
/// and white space, at most [`FILENAME_MAX_BYTES`] bytes (the extension is
/// kept when it is cut). Empty when nothing is left.
pub fn safe_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && *c != '"')
        .collect();
    let name = kept.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if name.len() <= FILENAME_MAX_BYTES {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (name, None),
    };
    let room = FILENAME_MAX_BYTES - ext.map_or(0, |e| e.len() + 1);
    let mut cut = room.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    match ext {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_owned(),
    }
}

/// Signs a link to `target` of `account_id`, saved as `filename` (made safe
/// here; `download` when nothing is left of it), valid for `ttl` (the
/// server's `--download-link-ttl`, 10 minutes by default, when `None`). The
/// URL starts with the account's media base URL, like version URLs, since
/// the link is served where media is.
pub async fn sign_link(
    core: &Core,
    account_id: &str,
    target: LinkTarget,
    filename: &str,
    ttl: Option<Duration>,
) -> Result<SignedLink, CoreError> {
    let ttl = ttl.unwrap_or(media::settings(core)?.download_link_ttl);
    let now_secs = core.now().div_euclid(1_000_000);
    let expires_at =
        now_secs.saturating_add(i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX / 2));
    sign_link_until(core, account_id, target, filename, expires_at).await
}

/// [`sign_link`] with an absolute expiry (Unix seconds), for a link that
/// lives exactly as long as what it serves (an archive).
pub async fn sign_link_until(
    core: &Core,
    account_id: &str,
    target: LinkTarget,
    filename: &str,
    expires_at: i64,
) -> Result<SignedLink, CoreError> {
    let media = media::settings(core)?;
    let mut name = safe_filename(filename);
    if name.is_empty() {
        name = "download".to_owned();
    }
    let (kid, key) = ring(core)?.signer(core).await?;
    let claims = LinkClaims {
        kid,
        acc: account_id.to_owned(),
        target,
        name,
        exp: expires_at,
    };
    let payload = serde_json::to_vec(&claims).map_err(|_| CoreError::internal())?;
    let token = lightbox_auth::seal::seal(&key, LINK_PURPOSE, &payload);
    let base = {
        let mut conn = core.store.read().await?;
        store::media_base_url(&mut conn, account_id).await?
    }
    .unwrap_or_else(|| media.media_url.clone());
    Ok(SignedLink {
        url: format!(
            "{}/download/{token}/{}",
            base.trim_end_matches('/'),
            path_segment(&claims.name)
        ),
        filename: claims.name,
        expires_at,
    })
}

/// The refusal of a link that is not one of ours, or was altered (`403`,
/// `detail: link_invalid`).
pub fn invalid_link() -> CoreError {
    CoreError::forbidden(
        "This download link is not valid: it was altered, cut short or not made by this server. Ask for a new one (POST /v1/downloads).",
    )
    .with_detail("link_invalid")
}

/// Checks a link: its key, its signature, its expiry and that the file
/// name segment is the signed one. Every refusal is `403 forbidden`, with
/// `detail` `link_invalid`, `link_key_retired` or `link_expired`.
async fn verify(core: &Core, token: &str, name: &str) -> Result<LinkClaims, CoreError> {
    let peeked = lightbox_auth::seal::peek(token).map_err(|_| invalid_link())?;
    let KeyId { kid } = serde_json::from_slice(&peeked).map_err(|_| invalid_link())?;
    let Some(key) = ring(core)?.verifier(core, kid).await? else {
        return Err(CoreError::forbidden(
            "This download link was signed with a key that has been retired (signing keys rotate). Ask for a new one (POST /v1/downloads).",
        )
        .with_detail("link_key_retired"));
    };
    let payload =
        lightbox_auth::seal::open(&key, LINK_PURPOSE, token).map_err(|_| invalid_link())?;
    let claims: LinkClaims = serde_json::from_slice(&payload).map_err(|_| invalid_link())?;
    if claims.kid != kid {
        return Err(invalid_link());
    }
    if core.now() >= claims.exp.saturating_mul(1_000_000) {
        return Err(CoreError::forbidden(format!(
            "This download link expired at {}. Ask for a new one (POST /v1/downloads).",
            format_rfc3339(claims.exp.saturating_mul(1_000_000))
        ))
        .with_detail("link_expired"));
    }
    if name != claims.name {
        return Err(invalid_link());
    }
    Ok(claims)
}

/// A link, checked and resolved to what it serves. `token` and `name` are
/// the URL's last two path segments (decoded). Refusals: `403` (see
/// [`verify`]); the image gone → `404 image_not_found`; its content changed
/// since the link was made → `404 not_found`, `detail: version_changed`.
pub async fn open_link(core: &Core, token: &str, name: &str) -> Result<Servable, CoreError> {
    let claims = verify(core, token, name).await?;
    resolve(core, &claims.acc, &claims.target, claims.name).await
}

fn version_changed() -> CoreError {
    CoreError::new(
        ErrorKind::NotFound,
        "This version has changed since the link was made (the image was rotated or its versions rebuilt). Ask for a new link (POST /v1/downloads).",
    )
    .with_detail("version_changed")
}

/// What a verified target serves now. One arm per [`LinkTarget`] kind.
async fn resolve(
    core: &Core,
    account_id: &str,
    target: &LinkTarget,
    filename: String,
) -> Result<Servable, CoreError> {
    match target {
        LinkTarget::Archive { archive } => {
            let (blob_key, bytes) = crate::archives::ready_blob(core, account_id, archive).await?;
            Ok(Servable {
                blob_key,
                bytes,
                content_type: "application/zip".to_owned(),
                etag: archive.clone(),
                filename,
            })
        }
        LinkTarget::Image {
            image,
            version,
            tag,
        } => {
            let mut conn = core.store.read().await?;
            let row = store::find(&mut conn, account_id, image)
                .await?
                .ok_or_else(|| images::image_not_found(image))?;
            if version == ORIGINAL {
                if original_tag(&row) != *tag {
                    return Err(version_changed());
                }
                return Ok(Servable {
                    blob_key: row.original_key,
                    bytes: u64::try_from(row.bytes).unwrap_or(0),
                    content_type: row.content_type,
                    etag: row.sha256,
                    filename,
                });
            }
            let built = store::find_version(&mut conn, image, version)
                .await?
                .filter(|v| v.etag == *tag)
                .ok_or_else(version_changed)?;
            Ok(Servable {
                blob_key: built.blob_key,
                bytes: u64::try_from(built.bytes).unwrap_or(0),
                content_type: built.content_type,
                etag: built.etag,
                filename,
            })
        }
    }
}

// --- POST /v1/downloads -----------------------------------------------------------

/// The private version: the uploaded file, byte for byte.
pub const ORIGINAL: &str = "original";

/// The versions a download may ask for: the default profile's public ones
/// and the private original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VersionName {
    Thumbnail,
    Small,
    Medium,
    Large,
    Original,
}

impl VersionName {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionName::Thumbnail => "thumbnail",
            VersionName::Small => "small",
            VersionName::Medium => "medium",
            VersionName::Large => "large",
            VersionName::Original => ORIGINAL,
        }
    }
}

/// `POST /v1/downloads` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDownload {
    pub image_public_uuid: String,
    /// Which version. Absent (or null): the largest this credential may
    /// have — the original, or for a `user` role on an image it did not
    /// upload, the largest built public version.
    pub version: Option<VersionName>,
}

/// A signed download link.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DownloadLink {
    /// Absolute URL; no credential needed. Honours `Range`.
    #[schema(example = "https://media.example.com/download/eyJraWQiOjF9.c2ln/DSC_0042.jpg")]
    pub url: String,
    /// The name the file is saved under (also in `Content-Disposition`).
    #[schema(example = "DSC_0042.jpg")]
    pub filename: String,
    /// `private` for the original, `public` for a public version.
    #[schema(example = "private")]
    pub access: &'static str,
    /// Unix seconds; the link answers `403` from then on.
    #[schema(example = 1_784_061_005_i64)]
    pub expires_at: i64,
    /// The version the link serves (the one chosen when none was asked for).
    #[schema(example = "original")]
    pub version: String,
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    pub bytes: i64,
}

/// Whose originals a caller may have, in a form a job payload can carry:
/// `null` — every image's (service tokens with `api.download`, admins); a
/// user's uuid — only the images that user uploaded (the `user` role).
/// Public versions anyone with `api.download` may have.
pub fn originals_scope(principal: &Principal) -> serde_json::Value {
    match &principal.credential {
        Credential::User { user, .. } if user.role == Role::User => {
            serde_json::Value::String(user.user.uuid.clone())
        }
        _ => serde_json::Value::Null,
    }
}

/// May a caller of this [`originals_scope`] have the image's original?
/// Anything but the two documented shapes is a no (fail closed).
pub fn may_have_original(scope: &serde_json::Value, row: &ImageRow) -> bool {
    match scope {
        serde_json::Value::Null => true,
        serde_json::Value::String(user) => row.uploaded_by.as_deref() == Some(user.as_str()),
        _ => false,
    }
}

fn original_tag(row: &ImageRow) -> String {
    row.sha256.chars().take(16).collect()
}

/// `DSC_0042.jpg`, `large`, `jpg` → `DSC_0042-large.jpg`.
fn version_filename(original: &str, version: &str, ext: &str) -> String {
    let name = safe_filename(original);
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name.as_str(),
    };
    if stem.is_empty() {
        format!("{version}.{ext}")
    } else {
        format!("{stem}-{version}.{ext}")
    }
}

/// Resolves `POST /v1/downloads`: the image of the caller's account, the
/// version asked for (or the largest it may have), signed into a link.
pub async fn create(
    core: &Core,
    principal: &Principal,
    input: NewDownload,
) -> Result<DownloadLink, CoreError> {
    validate::uuid("image_public_uuid", &input.image_public_uuid)?;
    let account_id = principal.account.uuid.as_str();
    let id = input.image_public_uuid.as_str();
    let (row, built) = {
        let mut conn = core.store.read().await?;
        let row = store::find(&mut conn, account_id, id)
            .await?
            .ok_or_else(|| images::image_not_found(id))?;
        let built = store::versions_of(&mut conn, std::slice::from_ref(&row.id)).await?;
        (row, built)
    };
    let may_original = may_have_original(&originals_scope(principal), &row);
    let public: Vec<&VersionRow> = built
        .iter()
        .filter(|v| media::DEFAULT_SIZES.iter().any(|s| s.name == v.name))
        .collect();
    let not_built = |name: &str| {
        CoreError::new(
            ErrorKind::Conflict,
            format!("The {name} version of this image is not built yet; try again once its versions are ready."),
        )
        .with_field("version")
    };
    let chosen: Option<&VersionRow> = match input.version {
        Some(VersionName::Original) if !may_original => {
            return Err(CoreError::forbidden(
                "Your role downloads the original only of images you uploaded (public versions of every image).",
            )
            .with_detail("own_images_only")
            .with_field("version"));
        }
        Some(VersionName::Original) => None,
        Some(name) => Some(
            public
                .iter()
                .find(|v| v.name == name.as_str())
                .copied()
                .ok_or_else(|| not_built(name.as_str()))?,
        ),
        None if may_original => None,
        None => Some(
            public
                .iter()
                .max_by_key(|v| (v.width.saturating_mul(v.height), v.bytes))
                .copied()
                .ok_or_else(|| {
                    CoreError::new(
                        ErrorKind::Conflict,
                        "No public version of this image is built yet, and your role downloads the original only of images you uploaded; try again once its versions are ready.",
                    )
                })?,
        ),
    };
    sign_version(core, account_id, &row, chosen).await
}

/// The version `name` of the account's image `id` (built), signed into a
/// link — for callers that decided themselves who may have it (a press
/// website's download).
pub(crate) async fn link_to_version(
    core: &Core,
    account_id: &str,
    id: &str,
    name: VersionName,
) -> Result<DownloadLink, CoreError> {
    let (row, built) = {
        let mut conn = core.store.read().await?;
        let row = store::find(&mut conn, account_id, id)
            .await?
            .ok_or_else(|| images::image_not_found(id))?;
        let built = store::versions_of(&mut conn, std::slice::from_ref(&row.id)).await?;
        (row, built)
    };
    let chosen = match name {
        VersionName::Original => None,
        name => Some(
            built
                .iter()
                .find(|v| v.name == name.as_str())
                .ok_or_else(|| {
                    CoreError::new(
                        ErrorKind::Conflict,
                        format!("The {} version of this image is not built yet; try again once its versions are ready.", name.as_str()),
                    )
                })?,
        ),
    };
    sign_version(core, account_id, &row, chosen).await
}

/// The image's original (`chosen` None) or one built version, signed.
async fn sign_version(
    core: &Core,
    account_id: &str,
    row: &ImageRow,
    chosen: Option<&VersionRow>,
) -> Result<DownloadLink, CoreError> {
    let (target, filename, access, content_type, bytes) = match chosen {
        None => {
            let mut name = safe_filename(&row.filename);
            if name.is_empty() {
                name = row.id.clone();
            }
            (
                LinkTarget::Image {
                    image: row.id.clone(),
                    version: ORIGINAL.to_owned(),
                    tag: original_tag(row),
                },
                name,
                "private",
                row.content_type.clone(),
                row.bytes,
            )
        }
        Some(v) => (
            LinkTarget::Image {
                image: row.id.clone(),
                version: v.name.clone(),
                tag: v.etag.clone(),
            },
            version_filename(
                &row.filename,
                &v.name,
                images::version_extension(&v.content_type),
            ),
            "public",
            v.content_type.clone(),
            v.bytes,
        ),
    };
    let version = match &target {
        LinkTarget::Image { version, .. } => version.clone(),
        LinkTarget::Archive { .. } => return Err(CoreError::internal()),
    };
    let link = sign_link(core, account_id, target, &filename, None).await?;
    Ok(DownloadLink {
        url: link.url,
        filename: link.filename,
        access,
        expires_at: link.expires_at,
        version,
        content_type,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightbox_store::JsonText;

    #[test]
    fn safe_filenames() {
        assert_eq!(safe_filename("DSC_0042.jpg"), "DSC_0042.jpg");
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\me\\a.jpg"), "a.jpg");
        assert_eq!(safe_filename("my \"best\" shot.jpg"), "my best shot.jpg");
        assert_eq!(safe_filename("a\r\nb\t.jpg"), "ab.jpg");
        assert_eq!(safe_filename("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(safe_filename("  ..hidden.jpg. "), "hidden.jpg");
        assert_eq!(safe_filename("Zürich 東京.jpg"), "Zürich 東京.jpg");
        assert_eq!(safe_filename("dir/"), "");
        assert_eq!(safe_filename(".."), "");
        let long = format!("{}.jpeg", "é".repeat(300));
        let cut = safe_filename(&long);
        assert!(cut.len() <= FILENAME_MAX_BYTES, "{}", cut.len());
        assert!(cut.ends_with("é.jpeg"), "{cut}");
    }

    #[test]
    fn version_filenames() {
        assert_eq!(
            version_filename("DSC_0042.jpg", "large", "jpg"),
            "DSC_0042-large.jpg"
        );
        assert_eq!(version_filename("scan", "small", "webp"), "scan-small.webp");
        assert_eq!(
            version_filename("a/b/.jpg", "small", "jpg"),
            "jpg-small.jpg"
        );
        assert_eq!(version_filename("", "small", "jpg"), "small.jpg");
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("a b/ü?.jpg"), "a%20b%2F%C3%BC%3F.jpg");
        assert_eq!(path_segment("A-z_0.~"), "A-z_0.~");
    }

    #[test]
    fn every_profile_version_can_be_asked_for() {
        for size in media::DEFAULT_SIZES {
            let parsed: VersionName =
                serde_json::from_value(serde_json::Value::String(size.name.to_owned()))
                    .unwrap_or(VersionName::Original);
            assert_eq!(parsed.as_str(), size.name);
        }
    }

    #[test]
    fn originals_scopes() {
        let row = |by: Option<&str>| ImageRow {
            id: "i".to_owned(),
            account_id: "a".to_owned(),
            filename: "f.jpg".to_owned(),
            title: String::new(),
            description: String::new(),
            creation_date: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            rotation: 0,
            rating: 0,
            alt_text: String::new(),
            is_video: false,
            media_kind: "image".to_owned(),
            content_type: "image/jpeg".to_owned(),
            width: None,
            height: None,
            bytes: 1,
            sha256: String::new(),
            original_key: String::new(),
            lat: None,
            lng: None,
            exif: JsonText("{}".to_owned()),
            metadata: JsonText("{}".to_owned()),
            uploaded_by: by.map(str::to_owned),
            uploaded_by_token: None,
            versions_state: "ready".to_owned(),
            versions_error: None,
        };
        let everyone = serde_json::Value::Null;
        let ann = serde_json::json!("ann");
        assert!(may_have_original(&everyone, &row(None)));
        assert!(may_have_original(&everyone, &row(Some("bo"))));
        assert!(may_have_original(&ann, &row(Some("ann"))));
        assert!(!may_have_original(&ann, &row(Some("bo"))));
        assert!(!may_have_original(&ann, &row(None)));
        assert!(!may_have_original(&serde_json::json!(1), &row(None)));
    }

    #[test]
    fn claims_round_trip_and_refuse_unknown_kinds() {
        let claims = LinkClaims {
            kid: 3,
            acc: "a".to_owned(),
            target: LinkTarget::Image {
                image: "i".to_owned(),
                version: "large".to_owned(),
                tag: "t".to_owned(),
            },
            name: "n.jpg".to_owned(),
            exp: 10,
        };
        let text = serde_json::to_string(&claims).unwrap_or_default();
        assert!(text.contains("\"kind\":\"image\""), "{text}");
        let back: Result<LinkClaims, _> = serde_json::from_str(&text);
        assert!(back.is_ok_and(|c| c.target == claims.target));
        let other = text.replace("\"kind\":\"image\"", "\"kind\":\"archive\"");
        assert!(serde_json::from_str::<LinkClaims>(&other).is_err());
    }
}
