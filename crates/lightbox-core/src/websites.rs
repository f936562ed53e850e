//! Websites (api.md §10): create, read, list, change and delete the
//! settings of a public or press gallery over one set tree, and the set's
//! `website` field (the website of its nearest root). What the pages show is
//! decided when they are read, from the sets' visibility.

use std::collections::HashMap;

use lightbox_store::Timestamp;
use lightbox_store::websites::{self, WebsiteRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::clock::format_rfc3339;
use crate::edits::nullable;
use crate::error::{CoreError, ErrorKind};
use crate::operations::{Operation, OperationStatus};
use crate::sets::{enum_parse, enum_text, set_not_found};
use crate::users::Role;
use crate::writes::{self, Begun, WorkDone, WriteContext};
use crate::{Core, ids, validate};

pub const NAME_MAX: usize = 191;
pub const INTRO_MAX: usize = 5000;
pub const SLUG_MAX: usize = 63;
/// The accent of a website made without one.
pub const DEFAULT_ACCENT: &str = "#1d4ed8";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebsiteType {
    /// Anyone may look.
    #[default]
    Public,
    /// Approved press members only.
    Press,
}

/// What a visitor may download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Downloads {
    None,
    Large,
    Original,
}

impl WebsiteType {
    /// Public websites download nothing unless told; press ones the large
    /// version.
    fn default_downloads(self) -> Downloads {
        match self {
            Self::Public => Downloads::None,
            Self::Press => Downloads::Large,
        }
    }
}

/// `POST /v1/websites` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebsite {
    /// 1-191 characters; what the console calls it.
    #[schema(
        example = "Port Eliot 2026 — public gallery",
        max_length = 191,
        min_length = 1
    )]
    pub name: String,
    #[serde(rename = "type")]
    pub website_type: Option<WebsiteType>,
    /// Its address under `<public-url>/w/`: 1-63 of `a-z`, `0-9` and `-`,
    /// not starting or ending with `-`; unique on the server.
    #[schema(
        example = "port-eliot-2026",
        pattern = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
    )]
    pub slug: String,
    /// A host name of its own (the website is then also served at `/` of
    /// it); lowercase, unique on the server.
    #[schema(
        example = "photos.porteliot.example",
        pattern = r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?![0-9]+$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
    )]
    pub hostname: Option<String>,
    /// The set whose tree the website shows.
    #[schema(value_type = uuid::Uuid)]
    pub root_set_public_uuid: String,
    /// The page title; default the name. 1-191 characters.
    #[schema(max_length = 191)]
    pub title: Option<String>,
    /// Up to 5000 characters, shown on the home page.
    #[schema(max_length = 5000)]
    pub intro: Option<String>,
    /// `#rrggbb`; default `#1d4ed8`.
    #[schema(example = "#c2410c", pattern = "^#[0-9a-fA-F]{6}$")]
    pub accent: Option<String>,
    /// An image of the account shown as the logo.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub logo_image_public_uuid: Option<String>,
    /// Default `none` for a public website, `large` for a press one.
    pub downloads: Option<Downloads>,
}

/// `PATCH /v1/websites/{public_uuid}`: any of these; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebsitePatch {
    #[schema(max_length = 191, min_length = 1)]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub website_type: Option<WebsiteType>,
    #[schema(pattern = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    pub slug: Option<String>,
    /// null removes the website's own host name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?![0-9]+$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    pub hostname: Option<Option<String>>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub root_set_public_uuid: Option<String>,
    #[schema(max_length = 191, min_length = 1)]
    pub title: Option<String>,
    #[schema(max_length = 5000)]
    pub intro: Option<String>,
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub accent: Option<String>,
    /// null removes the logo.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub logo_image_public_uuid: Option<Option<String>>,
    pub downloads: Option<Downloads>,
}

/// A website.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Website {
    pub public_uuid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub website_type: WebsiteType,
    pub slug: String,
    pub hostname: Option<String>,
    pub root_set_public_uuid: String,
    pub title: String,
    pub intro: String,
    pub accent: String,
    pub logo_image_public_uuid: Option<String>,
    pub downloads: Downloads,
    /// Where it is served: its own host name's root when it has one, else
    /// `<public-url>/w/<slug>/`.
    pub url: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The `website` field of a set: the website whose root is the set or its
/// nearest ancestor.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebsiteRef {
    pub public_uuid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub website_type: WebsiteType,
    pub url: String,
}

/// The host names the operator lets websites be served at (`serve
/// --website-host`): a host name is an address on the internet, and one
/// account must not be able to take another's (or the operator's) by
/// writing it first. A website whose host name is not allowed is served
/// under its slug only.
#[derive(Debug, Clone, Default)]
pub struct WebsiteHosts {
    any: bool,
    names: std::collections::HashSet<String>,
}

impl WebsiteHosts {
    /// From the operator's list: host names, or `*` for any.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        let mut hosts = Self::default();
        for name in names {
            let name = name
                .as_ref()
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if name == "*" {
                hosts.any = true;
            } else if !name.is_empty() {
                hosts.names.insert(name);
            }
        }
        hosts
    }

    pub fn allows(&self, hostname: &str) -> bool {
        self.any || self.names.contains(hostname)
    }
}

/// Where a website is served: at its host name when it has one the
/// operator allows, else under the server's `/w/<slug>/`.
pub(crate) fn url_of(core: &Core, slug: &str, hostname: Option<&str>) -> String {
    let public_url = &*core.public_url;
    match hostname.filter(|h| core.website_hosts.allows(h)) {
        Some(host) => {
            // The scheme the server is reached by.
            let scheme = public_url.split_once("://").map_or("https", |(s, _)| s);
            format!("{scheme}://{host}/")
        }
        None => format!("{}/w/{slug}/", public_url.trim_end_matches('/')),
    }
}

impl Website {
    pub(crate) fn from_row(row: &WebsiteRow, core: &Core) -> Result<Self, CoreError> {
        let corrupt = || {
            CoreError::new(
                ErrorKind::Internal,
                format!("stored website {} is invalid", row.id),
            )
        };
        Ok(Self {
            public_uuid: row.id.clone(),
            name: row.name.clone(),
            website_type: enum_parse(&row.website_type).ok_or_else(corrupt)?,
            slug: row.slug.clone(),
            hostname: row.hostname.clone(),
            root_set_public_uuid: row.root_set_id.clone(),
            title: row.title.clone(),
            intro: row.intro.clone(),
            accent: row.accent.clone(),
            logo_image_public_uuid: row.logo_image_id.clone(),
            downloads: enum_parse(&row.downloads).ok_or_else(corrupt)?,
            url: url_of(core, &row.slug, row.hostname.as_deref()),
            created_at: format_rfc3339(row.created_at),
            updated_at: format_rfc3339(row.updated_at),
        })
    }
}

fn website_not_found(id: &str) -> CoreError {
    CoreError::new(ErrorKind::NotFound, format!("No website {id}."))
}

/// A website id from a path: an id that cannot exist is simply not found.
fn website_id(id: &str) -> Result<String, CoreError> {
    if ids::is_uuid(id) {
        Ok(id.to_owned())
    } else {
        Err(website_not_found(id))
    }
}

/// Publishing is an editor's decision: a `user` member changes no website.
fn may_change_websites(principal: &Principal) -> Result<(), CoreError> {
    if principal.role() == Some(Role::User) {
        return Err(
            CoreError::forbidden("Your role does not create, change or delete websites.")
                .with_detail("role_not_allowed"),
        );
    }
    Ok(())
}

/// 1-63 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
fn check_slug(value: &str) -> Result<String, CoreError> {
    let ok = !value.is_empty()
        && value.len() <= SLUG_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(CoreError::validation(
            "slug",
            "slug must be 1-63 of a-z, 0-9 and '-', not starting or ending with '-'.",
        ))
    }
}

/// A lowercase DNS name of at least two labels (`photos.example.org`): each
/// label 1-63 of `a-z`, `0-9`, `-`, not starting or ending with `-`; at most
/// 253 characters; no port, no trailing dot, not an IP address, and not the
/// server's own host (its root is the console's).
fn check_hostname(value: &str, public_url: &str) -> Result<String, CoreError> {
    let bad = |why: &str| CoreError::validation("hostname", format!("hostname {why}."));
    let labels: Vec<&str> = value.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if value.is_empty() || value.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad(
            "must be a lowercase host name such as photos.example.org (letters, digits, '-' and dots; no port, no scheme)",
        ));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("must be a name, not an IP address"));
    }
    let own = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if own == value {
        return Err(bad(
            "must not be the server's own host (its root serves the console)",
        ));
    }
    Ok(value.to_owned())
}

/// `#rrggbb`, stored in lowercase.
fn check_accent(value: &str) -> Result<String, CoreError> {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(CoreError::validation(
            "accent",
            "accent must be a colour written #rrggbb.",
        ))
    }
}

/// Refuses a slug or host name another website (of any account) has.
async fn check_address_free(
    conn: &mut lightbox_store::Conn,
    slug: &str,
    hostname: Option<&str>,
    except: &str,
) -> Result<(), CoreError> {
    if let Some((taken_slug, taken_host)) =
        websites::address_taken(conn, slug, hostname, except).await?
    {
        let (field, value) = if taken_slug == slug {
            ("slug", slug)
        } else {
            ("hostname", taken_host.as_deref().unwrap_or_default())
        };
        return Err(CoreError::new(
            ErrorKind::Conflict,
            format!("{field} {value} is taken by another website."),
        )
        .with_field(field));
    }
    Ok(())
}

/// A concurrent write took the slug or host name between the check and
/// this one's insert: the same `409` the check gives (not a `500`).
fn address_raced(e: lightbox_store::StoreError) -> CoreError {
    if !e.is_unique_violation() {
        return e.into();
    }
    // Both engines name the column's constraint in the message.
    let field = if e.to_string().contains("hostname") {
        "hostname"
    } else {
        "slug"
    };
    CoreError::new(
        ErrorKind::Conflict,
        format!("{field} was just taken by another website."),
    )
    .with_field(field)
}

/// The root set and the logo exist in the account.
async fn check_references(
    conn: &mut lightbox_store::Conn,
    account: &str,
    root: &str,
    logo: Option<&str>,
) -> Result<(), CoreError> {
    if !lightbox_store::sets::exists(conn, account, root).await? {
        return Err(set_not_found(root).with_field("root_set_public_uuid"));
    }
    // Locked, not just read: an image deleted in the same instant would
    // otherwise fail the foreign key after this check passed.
    if let Some(logo) = logo
        && !lightbox_store::images::lock_image(conn, account, logo).await?
    {
        return Err(
            CoreError::new(ErrorKind::ImageNotFound, format!("No image {logo}."))
                .with_field("logo_image_public_uuid"),
        );
    }
    Ok(())
}

/// Creates a website; the Operation is `succeeded` in the answer, its
/// `result.website` the new website.
pub async fn create(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    input: NewWebsite,
) -> Result<Operation, CoreError> {
    writes::retrying(|| create_once(core, ctx, principal, input.clone())).await
}

async fn create_once(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    input: NewWebsite,
) -> Result<Operation, CoreError> {
    may_change_websites(principal)?;
    // Validate everything before touching data.
    let name = validate::required_text("name", &input.name, NAME_MAX)?;
    let slug = check_slug(&input.slug)?;
    let hostname = input
        .hostname
        .as_deref()
        .map(|h| check_hostname(h, &core.public_url))
        .transpose()?;
    validate::uuid("root_set_public_uuid", &input.root_set_public_uuid)?;
    let title = match &input.title {
        Some(title) => validate::required_text("title", title, NAME_MAX)?,
        None => name.clone(),
    };
    let intro = validate::optional_text("intro", input.intro.as_deref().unwrap_or(""), INTRO_MAX)?;
    let accent = check_accent(input.accent.as_deref().unwrap_or(DEFAULT_ACCENT))?;
    if let Some(logo) = &input.logo_image_public_uuid {
        validate::uuid("logo_image_public_uuid", logo)?;
    }
    let website_type = input.website_type.unwrap_or_default();
    let downloads = input
        .downloads
        .unwrap_or_else(|| website_type.default_downloads());
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    check_references(
        write.tx(),
        &account,
        &input.root_set_public_uuid,
        input.logo_image_public_uuid.as_deref(),
    )
    .await?;
    let id = ids::new_public_uuid();
    check_address_free(write.tx(), &slug, hostname.as_deref(), &id).await?;
    let now = Timestamp(write.now());
    let row = WebsiteRow {
        id,
        account_id: account,
        name,
        website_type: enum_text(&website_type),
        slug,
        hostname,
        root_set_id: input.root_set_public_uuid.clone(),
        title,
        intro,
        accent,
        logo_image_id: input.logo_image_public_uuid.clone(),
        downloads: enum_text(&downloads),
        created_at: now,
        updated_at: now,
    };
    websites::insert(write.tx(), &row)
        .await
        .map_err(address_raced)?;
    let website = Website::from_row(&row, core)?;
    write
        .finish(WorkDone {
            kind: "website.create",
            status: OperationStatus::Succeeded,
            result: json!({ "message": "Website created.", "website": website }),
            image_public_uuids: vec![],
            set_public_uuid: Some(row.root_set_id.clone()),
            jobs: vec![],
            changes: vec![("website", row.id.clone(), "create")],
        })
        .await
}

pub async fn get(core: &Core, account_id: &str, id: &str) -> Result<Website, CoreError> {
    let id = website_id(id)?;
    let mut conn = core.store.read().await?;
    let row = websites::find(&mut conn, account_id, &id)
        .await?
        .ok_or_else(|| website_not_found(&id))?;
    Website::from_row(&row, core)
}

/// One page of the account's websites, oldest first, plus whether more
/// follow.
pub async fn list(
    core: &Core,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Website>, bool), CoreError> {
    let mut conn = core.store.read().await?;
    let rows = websites::list(&mut conn, account_id, limit + 1, offset).await?;
    let (rows, more) = crate::cut_page(rows, limit);
    Ok((
        rows.iter()
            .map(|r| Website::from_row(r, core))
            .collect::<Result<_, _>>()?,
        more,
    ))
}

/// Changes any of a website's settings.
pub async fn update(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
    patch: WebsitePatch,
) -> Result<Operation, CoreError> {
    writes::retrying(|| update_once(core, ctx, principal, id, patch.clone())).await
}

async fn update_once(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
    patch: WebsitePatch,
) -> Result<Operation, CoreError> {
    may_change_websites(principal)?;
    let name = patch
        .name
        .as_deref()
        .map(|n| validate::required_text("name", n, NAME_MAX))
        .transpose()?;
    let slug = patch.slug.as_deref().map(check_slug).transpose()?;
    let hostname = match &patch.hostname {
        Some(Some(h)) => Some(Some(check_hostname(h, &core.public_url)?)),
        Some(None) => Some(None),
        None => None,
    };
    if let Some(root) = &patch.root_set_public_uuid {
        validate::uuid("root_set_public_uuid", root)?;
    }
    let title = patch
        .title
        .as_deref()
        .map(|t| validate::required_text("title", t, NAME_MAX))
        .transpose()?;
    let intro = patch
        .intro
        .as_deref()
        .map(|i| validate::optional_text("intro", i, INTRO_MAX))
        .transpose()?;
    let accent = patch.accent.as_deref().map(check_accent).transpose()?;
    if let Some(Some(logo)) = &patch.logo_image_public_uuid {
        validate::uuid("logo_image_public_uuid", logo)?;
    }
    let id = website_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    // Locked before it is read: two PATCHes of one website run one after
    // the other, each applying its fields to what the other wrote.
    let now = Timestamp(write.now());
    if !websites::lock(write.tx(), &account, &id, now).await? {
        return Err(website_not_found(&id));
    }
    let mut row = websites::find(write.tx(), &account, &id)
        .await?
        .ok_or_else(|| website_not_found(&id))?;
    if let Some(name) = name {
        row.name = name;
    }
    if let Some(website_type) = patch.website_type {
        let was = std::mem::replace(&mut row.website_type, enum_text(&website_type));
        if was != row.website_type {
            // Press sign-ins end with the press website: none comes back
            // if it is made a press website again.
            lightbox_store::press::delete_sessions_of_website(write.tx(), &row.id).await?;
        }
    }
    if let Some(slug) = slug {
        row.slug = slug;
    }
    if let Some(hostname) = hostname {
        row.hostname = hostname;
    }
    if let Some(root) = &patch.root_set_public_uuid {
        row.root_set_id = root.clone();
    }
    if let Some(title) = title {
        row.title = title;
    }
    if let Some(intro) = intro {
        row.intro = intro;
    }
    if let Some(accent) = accent {
        row.accent = accent;
    }
    if let Some(logo) = &patch.logo_image_public_uuid {
        row.logo_image_id = logo.clone();
    }
    if let Some(downloads) = patch.downloads {
        row.downloads = enum_text(&downloads);
    }
    check_references(
        write.tx(),
        &account,
        &row.root_set_id,
        row.logo_image_id.as_deref(),
    )
    .await?;
    check_address_free(write.tx(), &row.slug, row.hostname.as_deref(), &row.id).await?;
    row.updated_at = Timestamp(write.now());
    if !websites::update(write.tx(), &row)
        .await
        .map_err(address_raced)?
    {
        return Err(website_not_found(&id));
    }
    let website = Website::from_row(&row, core)?;
    write
        .finish(WorkDone {
            kind: "website.update",
            status: OperationStatus::Succeeded,
            result: json!({ "message": "Website updated.", "website": website }),
            image_public_uuids: vec![],
            set_public_uuid: Some(row.root_set_id.clone()),
            jobs: vec![],
            changes: vec![("website", id, "update")],
        })
        .await
}

/// Deletes a website (its sets and images stay).
pub async fn delete(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
) -> Result<Operation, CoreError> {
    writes::retrying(|| delete_once(core, ctx, principal, id)).await
}

async fn delete_once(
    core: &Core,
    ctx: &WriteContext,
    principal: &Principal,
    id: &str,
) -> Result<Operation, CoreError> {
    may_change_websites(principal)?;
    let id = website_id(id)?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let account = write.account_id().to_owned();
    if !websites::delete(write.tx(), &account, &id).await? {
        return Err(website_not_found(&id));
    }
    write
        .finish(WorkDone {
            kind: "website.delete",
            status: OperationStatus::Succeeded,
            result: json!({ "message": "Website deleted.", "website_public_uuid": id }),
            image_public_uuids: vec![],
            set_public_uuid: None,
            jobs: vec![],
            changes: vec![("website", id, "delete")],
        })
        .await
}

/// The `website` field of the account's sets `set_ids`: the website rooted
/// at each set or its nearest ancestor (the oldest when two share a root).
/// One walk up from the asked sets, whatever the size of the account.
pub(crate) async fn of_sets(
    conn: &mut lightbox_store::Conn,
    core: &Core,
    account_id: &str,
    set_ids: &[String],
) -> Result<WebsitesOfSets, CoreError> {
    let mut nearest = HashMap::new();
    for row in websites::nearest_of(conn, account_id, set_ids).await? {
        // Rows come nearest first: the first of each set is its website.
        if nearest.contains_key(&row.set_id) {
            continue;
        }
        let website = WebsiteRef {
            public_uuid: row.id,
            name: row.name,
            website_type: enum_parse(&row.website_type).ok_or_else(CoreError::internal)?,
            url: url_of(core, &row.slug, row.hostname.as_deref()),
        };
        nearest.insert(row.set_id, website);
    }
    Ok(WebsitesOfSets { nearest })
}

/// [`of_sets`] for a caller that has already read every set of the account
/// (the tree): walks up the rows it has, reading only the websites.
pub(crate) async fn of_all_sets(
    conn: &mut lightbox_store::Conn,
    core: &Core,
    account_id: &str,
    sets: &[lightbox_store::sets::SetRow],
) -> Result<WebsitesOfSets, CoreError> {
    let mut roots: HashMap<String, WebsiteRef> = HashMap::new();
    for row in websites::list(conn, account_id, i64::MAX, 0).await? {
        let website = Website::from_row(&row, core)?;
        roots.entry(row.root_set_id).or_insert(WebsiteRef {
            public_uuid: website.public_uuid,
            name: website.name,
            website_type: website.website_type,
            url: website.url,
        });
    }
    if roots.is_empty() {
        return Ok(WebsitesOfSets::default());
    }
    let parents: HashMap<&str, &str> = sets
        .iter()
        .filter_map(|s| Some((s.id.as_str(), s.parent_id.as_deref()?)))
        .collect();
    let mut nearest = HashMap::new();
    for set in sets {
        let mut at = set.id.as_str();
        // The tree is acyclic; the bound guards a corrupt one.
        for _ in 0..=parents.len() {
            if let Some(website) = roots.get(at) {
                nearest.insert(set.id.clone(), website.clone());
                break;
            }
            match parents.get(at) {
                Some(parent) => at = parent,
                None => break,
            }
        }
    }
    Ok(WebsitesOfSets { nearest })
}

/// Each set's website, for the sets a caller asked about.
#[derive(Default)]
pub(crate) struct WebsitesOfSets {
    nearest: HashMap<String, WebsiteRef>,
}

impl WebsitesOfSets {
    pub(crate) fn nearest(&self, set_id: &str) -> Option<WebsiteRef> {
        self.nearest.get(set_id).cloned()
    }
}
