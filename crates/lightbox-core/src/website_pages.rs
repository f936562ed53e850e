//! What a website's pages show (api.md §10), decided at the moment of each
//! read: the sets under its root that are not `private` (nor under a
//! private one), and in them the images live at that moment. Anything else
//! is "not there", exactly like something that never existed, so a page
//! cannot tell a visitor that a hidden image or set exists.
//!
//! No credential: these are the reads of a visitor. Everything is scoped to
//! the website's own account.

use std::collections::{HashMap, HashSet};

use lightbox_search::ParsedQuery;
use lightbox_store::Timestamp;
use lightbox_store::websites::{self, ShownSetRow};

use crate::clock::format_rfc3339;
use crate::error::CoreError;
use crate::image_filters::ImageFilter;
use crate::images::{self, Image};
use crate::websites::{Website, WebsiteType};
use crate::{Core, ids};

/// How long a page may be kept at most when nothing it shows is due to
/// change by itself (a change an editor makes shows within this).
pub const MAX_AGE_SECS: i64 = 60;

/// A website and the sets it shows, read for one request at one moment.
pub struct Site {
    pub website: Website,
    account_id: String,
    /// The root first, then every shown set, siblings in arranged order: a
    /// set is shown when it or a set under it has a live image (a gallery
    /// of embargoed images is not announced before its instant).
    sets: Vec<ShownSet>,
    by_id: HashMap<String, usize>,
    /// Live images per shown set.
    live: HashMap<String, i64>,
    /// Every set that may show something (shown or due to be): where the
    /// next activation instant is looked for.
    watched: Vec<String>,
}

/// A set a website shows.
#[derive(Debug, Clone)]
pub struct ShownSet {
    pub public_uuid: String,
    pub parent_public_uuid: Option<String>,
    pub name: String,
    pub description: String,
    lead_image_id: Option<String>,
}

/// A child set as a section of a page: its lead image (the chosen lead
/// when it is live in the set, else the first live image; for a folder
/// with no images of its own, that of the first set under it that has
/// some), how many images it shows, and how many galleries it holds.
pub struct Section {
    pub set: ShownSet,
    pub lead: Option<Image>,
    pub live_images: i64,
    pub galleries: usize,
}

/// One page of a set's live images, in display order.
pub struct SetImages {
    pub images: Vec<Image>,
    pub more: bool,
    pub total: i64,
}

impl Site {
    async fn load(
        core: &Core,
        row: Option<websites::WebsiteRow>,
        now: i64,
    ) -> Result<Option<Self>, CoreError> {
        let Some(row) = row else {
            return Ok(None);
        };
        let website = Website::from_row(&row, core)?;
        let with_press = website.website_type == WebsiteType::Press;
        let (rows, live) = {
            let mut conn = core.store.read().await?;
            let rows =
                websites::shown_sets(&mut conn, &row.account_id, &row.root_set_id, with_press)
                    .await?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let live: HashMap<String, i64> = websites::live_counts(&mut conn, &ids, Timestamp(now))
                .await?
                .into_iter()
                .collect();
            (rows, live)
        };
        let watched: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        // Shown: a set with a live image, and every set above it.
        let parents: HashMap<&str, &str> = rows
            .iter()
            .filter_map(|r| Some((r.id.as_str(), r.parent_id.as_deref()?)))
            .collect();
        let mut shown: HashSet<String> = HashSet::new();
        for id in live.keys() {
            let mut at = Some(id.as_str());
            // Bounded by the number of sets: a corrupt tree cannot loop.
            for _ in 0..=rows.len() {
                let Some(set) = at else { break };
                if !shown.insert(set.to_owned()) || set == row.root_set_id {
                    break;
                }
                at = parents.get(set).copied();
            }
        }
        let mut sets: Vec<ShownSet> = rows
            .into_iter()
            .filter(|r| shown.contains(&r.id))
            .map(ShownSet::from)
            .collect();
        // The root first (the query orders siblings only).
        if let Some(at) = sets.iter().position(|s| s.public_uuid == row.root_set_id) {
            let root = sets.remove(at);
            sets.insert(0, root);
        }
        let by_id = sets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.public_uuid.clone(), i))
            .collect();
        Ok(Some(Self {
            website,
            account_id: row.account_id,
            sets,
            by_id,
            live,
            watched,
        }))
    }

    /// The website at this slug, as it is at `now`.
    pub async fn by_slug(core: &Core, slug: &str, now: i64) -> Result<Option<Self>, CoreError> {
        let row = {
            let mut conn = core.store.read().await?;
            websites::find_by_slug(&mut conn, slug).await?
        };
        Self::load(core, row, now).await
    }

    /// The website at this host name (lowercase, no port), as it is at `now`.
    pub async fn by_hostname(
        core: &Core,
        hostname: &str,
        now: i64,
    ) -> Result<Option<Self>, CoreError> {
        let row = {
            let mut conn = core.store.read().await?;
            websites::find_by_hostname(&mut conn, hostname).await?
        };
        Self::load(core, row, now).await
    }

    /// The account the website belongs to.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The root set, unless the website shows nothing (a private root, or
    /// nothing live under it).
    pub fn root(&self) -> Option<&ShownSet> {
        self.sets
            .first()
            .filter(|s| s.public_uuid == self.website.root_set_public_uuid)
    }

    /// A shown set by id.
    pub fn set(&self, id: &str) -> Option<&ShownSet> {
        self.by_id.get(id).map(|&i| &self.sets[i])
    }

    /// The shown children of a set, in arranged order.
    pub fn children(&self, id: &str) -> Vec<&ShownSet> {
        self.sets
            .iter()
            .filter(|s| s.parent_public_uuid.as_deref() == Some(id))
            .collect()
    }

    /// The sets from the root down to the set's parent (a breadcrumb).
    pub fn trail(&self, id: &str) -> Vec<&ShownSet> {
        let mut trail = Vec::new();
        let mut at = self.set(id).and_then(|s| s.parent_public_uuid.as_deref());
        while let Some(parent) = at.and_then(|p| self.set(p)) {
            trail.push(parent);
            if parent.public_uuid == self.website.root_set_public_uuid {
                break;
            }
            at = parent.parent_public_uuid.as_deref();
            // Bounded by the number of shown sets: a corrupt tree cannot loop.
            if trail.len() > self.sets.len() {
                break;
            }
        }
        trail.reverse();
        trail
    }

    /// Every shown set, the root first.
    pub fn sets(&self) -> &[ShownSet] {
        &self.sets
    }

    fn set_ids(&self) -> Vec<String> {
        self.sets.iter().map(|s| s.public_uuid.clone()).collect()
    }

    /// The sections under a shown set: its children with their lead images.
    pub async fn sections(
        &self,
        core: &Core,
        parent: &str,
        now: i64,
    ) -> Result<Vec<Section>, CoreError> {
        let mut sections = Vec::new();
        let mut lead_ids = Vec::new();
        {
            let mut conn = core.store.read().await?;
            for set in self.children(parent) {
                let live = self.live.get(&set.public_uuid).copied().unwrap_or(0);
                // A folder shows the lead of the first gallery under it.
                let source = if live > 0 {
                    Some(set)
                } else {
                    self.first_with_images(&set.public_uuid)
                };
                let chosen = match source {
                    None => None,
                    Some(source) => match &source.lead_image_id {
                        Some(lead)
                            if !websites::live_sets_of(
                                &mut conn,
                                lead,
                                std::slice::from_ref(&source.public_uuid),
                                Timestamp(now),
                            )
                            .await?
                            .is_empty() =>
                        {
                            Some(lead.clone())
                        }
                        _ => websites::live_member_ids(
                            &mut conn,
                            &source.public_uuid,
                            Timestamp(now),
                            1,
                            0,
                        )
                        .await?
                        .pop(),
                    },
                };
                lead_ids.push(chosen);
                let galleries = self.children(&set.public_uuid).len();
                sections.push((set.clone(), live, galleries));
            }
        }
        let wanted: Vec<String> = lead_ids.iter().flatten().cloned().collect();
        let mut leads: HashMap<String, Image> = self
            .trimmed(images::render_ids(core, &self.account_id, &wanted).await?)
            .into_iter()
            .map(|i| (i.public_uuid.clone(), i))
            .collect();
        Ok(sections
            .into_iter()
            .zip(lead_ids)
            .map(|((set, live_images, galleries), lead)| Section {
                set,
                lead: lead.and_then(|id| leads.remove(&id)),
                live_images,
                galleries,
            })
            .collect())
    }

    /// The first shown set under `id` (depth first, in arranged order)
    /// with live images of its own.
    /// A loop, not recursion: nesting depth is the editors' to choose.
    fn first_with_images(&self, id: &str) -> Option<&ShownSet> {
        let mut stack: Vec<&ShownSet> = self.children(id).into_iter().rev().collect();
        // Each shown set is visited at most once (the walk is a tree).
        let mut budget = self.sets.len();
        while let Some(set) = stack.pop() {
            if self.live.get(&set.public_uuid).copied().unwrap_or(0) > 0 {
                return Some(set);
            }
            budget = budget.checked_sub(1)?;
            stack.extend(self.children(&set.public_uuid).into_iter().rev());
        }
        None
    }

    /// A page of a shown set's live images; `None` when the website does
    /// not show the set.
    pub async fn set_images(
        &self,
        core: &Core,
        set_id: &str,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Option<SetImages>, CoreError> {
        if self.set(set_id).is_none() {
            return Ok(None);
        }
        let ids = {
            let mut conn = core.store.read().await?;
            websites::live_member_ids(&mut conn, set_id, Timestamp(now), limit + 1, offset).await?
        };
        let total = self.live.get(set_id).copied().unwrap_or(0);
        let (ids, more) = crate::cut_page(ids, limit);
        Ok(Some(SetImages {
            images: self.trimmed(images::render_ids(core, &self.account_id, &ids).await?),
            more,
            total,
        }))
    }

    /// An image the website shows at `now` (live in one of its sets), and
    /// the shown sets it is live in; `None` otherwise.
    pub async fn image(
        &self,
        core: &Core,
        image_id: &str,
        now: i64,
    ) -> Result<Option<(Image, Vec<ShownSet>)>, CoreError> {
        if !ids::is_uuid(image_id) {
            return Ok(None);
        }
        let live_ids = {
            let mut conn = core.store.read().await?;
            websites::live_sets_of(&mut conn, image_id, &self.set_ids(), Timestamp(now)).await?
        };
        // In the website's order.
        let live_in: Vec<ShownSet> = self
            .sets
            .iter()
            .filter(|s| live_ids.contains(&s.public_uuid))
            .cloned()
            .collect();
        if live_in.is_empty() {
            return Ok(None);
        }
        let image = self
            .trimmed(images::render_ids(core, &self.account_id, &[image_id.to_owned()]).await?)
            .pop();
        Ok(image.map(|i| (i, live_in)))
    }

    /// The website's logo image, when it has one that still exists.
    pub async fn logo(&self, core: &Core) -> Result<Option<Image>, CoreError> {
        let Some(logo) = &self.website.logo_image_public_uuid else {
            return Ok(None);
        };
        Ok(
            images::render_ids(core, &self.account_id, std::slice::from_ref(logo))
                .await?
                .pop(),
        )
    }

    /// Full-text search over the images the website shows at the moment of
    /// the read, best match first (the query syntax of `GET /v1/images`).
    pub async fn search(
        &self,
        core: &Core,
        query: ParsedQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Image>, bool), CoreError> {
        if self.sets.is_empty() {
            return Ok((Vec::new(), false));
        }
        let mut filter = ImageFilter {
            query: Some(query),
            ..ImageFilter::default()
        };
        filter.list.live_in_any = self.set_ids();
        filter.list.shown_text_only = true;
        filter.list.sort = lightbox_query::Sort::Relevance;
        let (images, more) = images::list(core, &self.account_id, &filter, limit, offset).await?;
        Ok((self.trimmed(images), more))
    }

    /// Images as this website may show them: a press website's pages stop
    /// at the medium version, so the large one (a download, logged) is not
    /// handed out unlogged through `srcset` — its size stays, for the
    /// download button, its URL goes.
    fn trimmed(&self, mut images: Vec<Image>) -> Vec<Image> {
        if self.website.website_type == crate::websites::WebsiteType::Press {
            for version in images.iter_mut().flat_map(|i| i.versions.iter_mut()) {
                if version.name == "large" {
                    version.url = None;
                }
            }
        }
        images
    }

    /// Whether the website shows the image at `now` (live in one of its
    /// sets), without rendering it.
    pub async fn shows(&self, core: &Core, image_id: &str, now: i64) -> Result<bool, CoreError> {
        if !ids::is_uuid(image_id) {
            return Ok(false);
        }
        let mut conn = core.store.read().await?;
        Ok(
            !websites::live_sets_of(&mut conn, image_id, &self.set_ids(), Timestamp(now))
                .await?
                .is_empty(),
        )
    }

    /// The newest images live at `now`, with the moment each went live
    /// (RFC 3339), newest first.
    pub async fn newest(
        &self,
        core: &Core,
        now: i64,
        limit: i64,
    ) -> Result<Vec<(Image, String)>, CoreError> {
        let rows = {
            let mut conn = core.store.read().await?;
            websites::newest_live(&mut conn, &self.set_ids(), Timestamp(now), limit).await?
        };
        let ids: Vec<String> = rows.iter().map(|r| r.image_id.clone()).collect();
        let since: HashMap<String, i64> = rows
            .into_iter()
            .map(|r| (r.image_id, r.live_since.0))
            .collect();
        Ok(self
            .trimmed(images::render_ids(core, &self.account_id, &ids).await?)
            .into_iter()
            .map(|image| {
                let at = since.get(&image.public_uuid).copied().unwrap_or(now);
                (image, format_rfc3339(at))
            })
            .collect())
    }

    /// The ids of the newest images live at `now`, with the moment each went
    /// live (RFC 3339), newest first: what a sitemap lists.
    pub async fn newest_ids(
        &self,
        core: &Core,
        now: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, CoreError> {
        let mut conn = core.store.read().await?;
        Ok(
            websites::newest_live(&mut conn, &self.set_ids(), Timestamp(now), limit.max(0))
                .await?
                .into_iter()
                .map(|r| (r.image_id, format_rfc3339(r.live_since.0)))
                .collect(),
        )
    }

    /// Until when (µs) a page of this website read at `now` may be kept:
    /// never past the next activation in any set it shows, and at most
    /// [`MAX_AGE_SECS`].
    pub async fn fresh_until(&self, core: &Core, now: i64) -> Result<i64, CoreError> {
        let next = {
            let mut conn = core.store.read().await?;
            websites::next_activation(&mut conn, &self.watched, Timestamp(now)).await?
        };
        let cap = now + MAX_AGE_SECS * 1_000_000;
        Ok(next.map_or(cap, |t| t.0.min(cap)))
    }
}

impl From<ShownSetRow> for ShownSet {
    fn from(row: ShownSetRow) -> Self {
        Self {
            public_uuid: row.id,
            parent_public_uuid: row.parent_id,
            name: row.name,
            description: row.description,
            lead_image_id: row.lead_image_id,
        }
    }
}
