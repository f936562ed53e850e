//! The node's search index, kept in step with the database through the
//! change log.
//!
//! ```text
//! write ── COMMIT (rows + change_log row) ──▶ query arrives ──▶ sync():
//!     read change_log after the watermark ─▶ re-read those images ─▶ apply
//!     (upsert / delete) ─▶ tantivy commit + reload ─▶ search
//! ```
//! Every search first catches up with the change log's head, so a write
//! whose Operation was `succeeded` before a query began is in that query's
//! answer — on every node, whichever node took the write. A background
//! follower keeps the index close behind so queries rarely wait.
//!
//! PostgreSQL hands out `seq` numbers at insert time, not at commit, so a
//! slow transaction can commit a lower `seq` after a higher one was
//! applied. The follower therefore keeps a watermark a minute behind (the
//! lowest `seq` seen in the last [`LATE_WINDOW`]) and re-reads the log from
//! there, skipping the `seq`s it has already applied; the watermark, not the
//! head, is what the index stores, so a restart re-applies a little
//! (idempotently: an apply always re-reads the image's current row).
//!
//! A missing, unreadable or outdated index is rebuilt from the database in
//! the background on start; searches wait for it. `lightbox reindex`
//! rebuilds on demand.

use lightbox_store::Timestamp;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lightbox_search::{DocKeyword, ImageDoc, SearchIndex};
use lightbox_store::change_log;
use lightbox_store::images as store;
use tokio::sync::{Mutex, watch};

use crate::Core;
use crate::error::CoreError;

/// How late a commit may land behind a higher `seq` and still be seen.
pub const LATE_WINDOW: Duration = Duration::from_secs(60);
/// Change-log rows read per round, and images re-read per apply.
const ROUND: i64 = 2000;
/// Images read per page during a full rebuild.
const REBUILD_PAGE: i64 = 500;

/// What the follower remembers between rounds.
#[derive(Default)]
struct Follow {
    /// Everything at or below this `seq` is applied.
    watermark: i64,
    /// `seq`s above the watermark already applied.
    applied: BTreeSet<i64>,
    /// The highest `seq` read so far (≥ watermark).
    high: i64,
    /// (when, highest seq applied then): the watermark moves to a
    /// checkpoint once it is older than [`LATE_WINDOW`].
    checkpoints: VecDeque<(Instant, i64)>,
}

pub struct SearchService {
    index: Arc<SearchIndex>,
    follow: Mutex<Follow>,
    /// True once the index holds the whole database (after a rebuild).
    ready: watch::Sender<bool>,
}

fn search_error(e: impl std::fmt::Display) -> CoreError {
    tracing::error!(error = %e, "search index");
    CoreError::internal()
}

impl SearchService {
    /// Opens (or creates) the index in `dir`. When it is new, wiped or
    /// unreadable it must be rebuilt: [`SearchService::needs_rebuild`].
    pub fn open(dir: &Path) -> Result<(Arc<Self>, bool), CoreError> {
        std::fs::create_dir_all(dir).map_err(search_error)?;
        Ok(Self::from_opened(
            SearchIndex::open(dir).map_err(search_error)?,
        ))
    }

    fn from_opened(opened: lightbox_search::Opened) -> (Arc<Self>, bool) {
        let watermark = opened.index.applied_seq();
        let (ready, _) = watch::channel(!opened.fresh);
        let service = Arc::new(Self {
            index: Arc::new(opened.index),
            follow: Mutex::new(Follow {
                watermark,
                high: watermark,
                ..Follow::default()
            }),
            ready,
        });
        (service, opened.fresh)
    }

    /// As [`SearchService::open`]; but when another process (a second
    /// server on the same data dir) holds the index, this server keeps its
    /// own in memory, rebuilt from the database.
    pub fn open_for_server(dir: &Path) -> Result<(Arc<Self>, bool), CoreError> {
        std::fs::create_dir_all(dir).map_err(search_error)?;
        match SearchIndex::open(dir) {
            Err(lightbox_search::SearchError::Tantivy(e)) if e.to_string().contains("LockBusy") => {
                tracing::warn!(dir = %dir.display(), "another process uses this search index; keeping this server's index in memory");
                Ok((Self::in_memory()?, true))
            }
            Err(e) => Err(search_error(e)),
            Ok(opened) => Ok(Self::from_opened(opened)),
        }
    }

    /// An index in memory (tests, tools).
    pub fn in_memory() -> Result<Arc<Self>, CoreError> {
        let index = SearchIndex::open_in_memory().map_err(search_error)?;
        let (ready, _) = watch::channel(false);
        Ok(Arc::new(Self {
            index: Arc::new(index),
            follow: Mutex::new(Follow::default()),
            ready,
        }))
    }

    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// Rebuilds the whole index from the database; returns how many images
    /// it holds. Searches wait meanwhile.
    pub async fn rebuild(&self, core: &Core) -> Result<u64, CoreError> {
        let mut follow = self.follow.lock().await;
        let _ = self.ready.send(false);
        let head = {
            let mut conn = core.store.read().await?;
            change_log::head(&mut conn).await?
        };
        let (tx, mut rx) =
            tokio::sync::mpsc::channel::<Result<ImageDoc, CoreError>>(4 * REBUILD_PAGE as usize);
        let index = self.index.clone();
        // Writes that were in flight when `head` was read may commit a
        // lower seq later: re-read the last rows of the log once rebuilt.
        let watermark = (head - ROUND).max(0);
        let writer = tokio::task::spawn_blocking(move || {
            index.rebuild(std::iter::from_fn(|| rx.blocking_recv()), watermark)
        });
        let mut after = String::new();
        let feed = async {
            loop {
                let ids = {
                    let mut conn = core.store.read().await?;
                    store::ids_after(&mut conn, &after, REBUILD_PAGE).await?
                };
                let Some(last) = ids.last() else { break };
                after = last.clone();
                for doc in load_docs(core, &ids).await?.into_values() {
                    if tx.send(Ok(doc)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Ok::<(), CoreError>(())
        };
        let fed = feed.await;
        if let Err(e) = &fed {
            let _ = tx.send(Err(e.clone())).await;
        }
        drop(tx);
        let count = writer.await.map_err(search_error)?.map_err(search_error)?;
        fed?;
        *follow = Follow {
            watermark,
            high: watermark,
            ..Follow::default()
        };
        drop(follow);
        let _ = self.ready.send(true);
        Ok(count)
    }

    /// Waits for a rebuild in progress, then applies every change the log
    /// holds: afterwards the index answers as the database did when this
    /// call began.
    pub async fn sync(&self, core: &Core) -> Result<(), CoreError> {
        let mut ready = self.ready.subscribe();
        ready
            .wait_for(|r| *r)
            .await
            .map_err(|_| CoreError::internal())?;
        let head = {
            let mut conn = core.store.read().await?;
            change_log::head(&mut conn).await?
        };
        let mut follow = self.follow.lock().await;
        loop {
            // Late commits can only sit between the watermark and `high`;
            // counting that range (an index-only read) tells whether any
            // arrived, so the window is re-read only when one did.
            let from = if follow.high <= follow.watermark {
                follow.watermark
            } else {
                let mut conn = core.store.read().await?;
                let present =
                    change_log::count_between(&mut conn, follow.watermark, follow.high).await?;
                if usize::try_from(present).unwrap_or(0) == follow.applied.len() {
                    follow.high
                } else {
                    follow.watermark
                }
            };
            if from >= head && from == follow.high {
                advance(&mut follow, from);
                return Ok(());
            }
            let changes = {
                let mut conn = core.store.read().await?;
                change_log::since(&mut conn, from, ROUND).await?
            };
            let fresh: Vec<_> = changes
                .iter()
                .filter(|c| !follow.applied.contains(&c.seq))
                .collect();
            let reached = changes.last().map_or(from, |c| c.seq).max(follow.high);
            let touches_images = fresh.iter().any(|c| c.entity == "image");
            if !touches_images {
                follow.applied.extend(fresh.iter().map(|c| c.seq));
            } else {
                let mut ids: Vec<String> = fresh
                    .iter()
                    .filter(|c| c.entity == "image")
                    .map(|c| c.entity_id.clone())
                    .collect();
                ids.sort();
                ids.dedup();
                let mut docs = HashMap::new();
                for chunk in ids.chunks(ROUND as usize) {
                    docs.extend(load_docs(core, chunk).await?);
                }
                let deletes: Vec<String> = ids
                    .iter()
                    .filter(|id| !docs.contains_key(*id))
                    .cloned()
                    .collect();
                let seqs: Vec<i64> = fresh.iter().map(|c| c.seq).collect();
                let index = self.index.clone();
                let watermark = follow.watermark;
                tokio::task::spawn_blocking(move || {
                    index.apply(docs.into_values().collect(), &deletes, watermark)
                })
                .await
                .map_err(search_error)?
                .map_err(search_error)?;
                follow.applied.extend(seqs);
            }
            follow.high = reached;
            advance(&mut follow, reached);
            if changes.len() < ROUND as usize || reached >= head {
                return Ok(());
            }
        }
    }

    /// Keeps the index close behind the log (so searches rarely wait) until
    /// `stop` turns true.
    pub async fn follow_loop(self: Arc<Self>, core: Core, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            if let Err(e) = self.sync(&core).await {
                tracing::warn!(error = %e, "search index follower");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Moves the watermark up to what is older than the late window.
fn advance(follow: &mut Follow, reached: i64) {
    let now = Instant::now();
    let top = follow
        .applied
        .last()
        .copied()
        .unwrap_or(follow.watermark)
        .max(reached);
    if follow.checkpoints.back().is_none_or(|(_, s)| *s < top) {
        follow.checkpoints.push_back((now, top));
    }
    while let Some((at, seq)) = follow.checkpoints.front().copied() {
        if now.duration_since(at) < LATE_WINDOW {
            break;
        }
        follow.checkpoints.pop_front();
        if seq > follow.watermark {
            follow.watermark = seq;
            follow.applied = follow.applied.split_off(&(seq + 1));
        }
    }
}

/// The index documents of these images (those that still exist).
pub async fn load_docs(
    core: &Core,
    ids: &[String],
) -> Result<HashMap<String, ImageDoc>, CoreError> {
    let mut conn = core.store.read().await?;
    let rows = store::find_any_many(&mut conn, ids).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut docs: HashMap<String, ImageDoc> = HashMap::with_capacity(rows.len());
    for row in rows {
        let mut metadata_text = Vec::new();
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(row.metadata.as_str()) {
            for (_, v) in map {
                if let serde_json::Value::String(s) = v {
                    metadata_text.push(s);
                }
            }
        }
        if !row.alt_text.is_empty() {
            metadata_text.push(row.alt_text.clone());
        }
        docs.insert(
            row.id.clone(),
            ImageDoc {
                account_id: row.account_id,
                image_id: row.id,
                title: row.title,
                description: row.description,
                filename: row.filename,
                keywords: Vec::new(),
                metadata_text,
                exif: Vec::new(),
                created_at: row.created_at.micros(),
                updated_at: row.updated_at.micros(),
                creation_date: row.creation_date.map(Timestamp::micros),
                rating: row.rating,
                is_video: row.is_video,
                geo: row.lat.zip(row.lng),
                sets: Vec::new(),
                live_sets: Vec::new(),
            },
        );
    }
    for k in store::keywords_of(&mut conn, &ids).await? {
        if let Some(doc) = docs.get_mut(&k.image_id) {
            doc.keywords.push(DocKeyword {
                keyword: k.keyword,
                namespace: k.namespace,
                value: k.value,
            });
        }
    }
    for (image, property, value) in store::exif_of(&mut conn, &ids).await? {
        if let Some(doc) = docs.get_mut(&image) {
            // Camera and lens names are worth finding by text too.
            if matches!(property.as_str(), "Make" | "Model" | "LensModel") {
                doc.metadata_text.push(value.clone());
            }
            doc.exif.push((property, value));
        }
    }
    for s in store::sets_of(&mut conn, &ids).await? {
        if let Some(doc) = docs.get_mut(&s.image_id) {
            // Live now whatever the time (0), from its activation time, or never.
            let live_from = match (s.activation_time, s.hidden) {
                (Some(at), _) => Some(at.micros()),
                (None, false) => Some(0),
                (None, true) => None,
            };
            if let Some(from) = live_from {
                doc.live_sets.push((s.set_id.clone(), from));
            }
            doc.sets.push(s.set_id);
        }
    }
    for c in lightbox_store::editorial::credits_of(&mut conn, &ids).await? {
        if let Some(doc) = docs.get_mut(&c.image_id) {
            doc.metadata_text.push(format!("{} {}", c.role, c.name));
        }
    }
    Ok(docs)
}
