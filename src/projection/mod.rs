//! Read models in their own tables, fed from the log in position order by a
//! projector that stores its checkpoint in the same transaction as its
//! writes, so a crash never applies an event twice or skips one.

pub mod cache;
pub mod postgres;
pub mod projected;
mod register;
pub mod rows;
mod search;
mod sql;
pub mod sqlite;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::domain::proposal::{Owner, ProposalId};
pub use crate::store::feed::Stall;
use crate::store::{Feed, RecordedEvent, StoreError};
use crate::window::Window;
use cache::{PageCache, CACHED_ROWS};
use projected::ProjectedProposal;
use rows::{RequestRow, SearchText};
pub use store::ViewStore;

/// The projector's name in `projection_checkpoints`.
pub const NAME: &str = "views";
/// How many events one projector transaction takes.
const PAGE: u32 = 2000;
/// What an upsert of a proposal row changes when the row exists (the same
/// on both backends).
const UPSERT_PROPOSAL: &str = " ON CONFLICT (proposal_id) DO UPDATE SET \
    title = excluded.title, state = excluded.state, outcome = excluded.outcome, \
    decided_position = excluded.decided_position, decided_at = excluded.decided_at, \
    review_by = excluded.review_by, revoked = excluded.revoked, \
    advice_followed = excluded.advice_followed, requests = excluded.requests, \
    requests_answered = excluded.requests_answered, \
    objections_raised = excluded.objections_raised, \
    objections_integrated = excluded.objections_integrated, \
    failing_checks = excluded.failing_checks, doc = excluded.doc";

/// What an upsert of a request row changes when the row exists.
const UPSERT_REQUEST: &str = " ON CONFLICT (request_id) DO UPDATE SET \
    answered = excluded.answered, open = excluded.open";

/// A proposal's read model as the JSON document stored with its row.
fn document(proposal: &ProjectedProposal) -> Result<String, StoreError> {
    serde_json::to_string(proposal).map_err(|e| StoreError::Corrupt {
        position: proposal.raised_position,
        reason: format!("read model document: {e}"),
    })
}

/// How long the projector waits for news before looking anyway.
const RECHECK: Duration = Duration::from_secs(1);
/// How often a server that does not lead looks at the shared checkpoint
/// while it is behind the log.
const FOLLOW_POLL: Duration = Duration::from_millis(25);

/// Stops a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How many proposals' streams one read takes when projecting again.
const REPROJECT_CHUNK: usize = 200;

/// The longest wait between two retries of a failed page.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Feeds the read-model tables from the log.
pub struct Projector {
    feed: Arc<Feed>,
    views: Arc<dyn ViewStore>,
    applied: watch::Sender<u64>,
    pages: PageCache,
    stall: std::sync::Mutex<Option<Stall>>,
}

impl Projector {
    /// A projector feeding `views` from the log as `feed` reads it,
    /// starting from their checkpoint.
    pub async fn new(feed: Arc<Feed>, views: Arc<dyn ViewStore>) -> Result<Arc<Self>, StoreError> {
        let checkpoint = views.checkpoint().await?;
        Ok(Arc::new(Projector {
            feed,
            views,
            applied: watch::Sender::new(checkpoint),
            pages: PageCache::default(),
            stall: std::sync::Mutex::new(None),
        }))
    }

    /// Takes a stored checkpoint as applied. If someone else moved it (a
    /// rebuild, or another server on the same database), kept pages may be
    /// stale.
    fn adopt(&self, stored: u64) {
        if stored != self.applied() {
            self.pages.clear();
            self.applied.send_replace(stored);
        }
    }

    /// Takes the stored checkpoint as applied (another server wrote it);
    /// an `Err` means the store is closed.
    async fn follow_checkpoint(&self) -> Result<(), ()> {
        match self.views.checkpoint().await {
            Ok(stored) => {
                self.adopt(stored);
                self.set_stall(None);
                Ok(())
            }
            Err(StoreError::Database(error)) if matches!(*error, sqlx::Error::PoolClosed) => {
                Err(())
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the read models' checkpoint");
                Ok(())
            }
        }
    }

    /// Why the projector is stuck, if it is.
    pub fn stall(&self) -> Option<Stall> {
        self.stall
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set_stall(&self, stall: Option<Stall>) {
        *self
            .stall
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = stall;
    }

    /// The read-model tables.
    pub fn views(&self) -> &Arc<dyn ViewStore> {
        &self.views
    }

    /// An owner's decisions, newest first: the first page from memory when
    /// it is kept, otherwise from the read-model tables.
    pub async fn decisions(
        &self,
        owner: Owner,
        page: Window<u64>,
    ) -> Result<Arc<Vec<ProjectedProposal>>, StoreError> {
        let first_page = page.is_head() && page.limit <= CACHED_ROWS;
        if first_page {
            if let Some(rows) = self.pages.get(owner, page.limit) {
                return Ok(rows);
            }
        }
        let generation = self.pages.generation();
        let limit = if first_page { CACHED_ROWS } else { page.limit };
        let rows = Arc::new(
            self.views
                .decisions(owner, Window { limit, ..page })
                .await?,
        );
        if first_page {
            self.pages.insert(generation, owner, limit, rows.clone());
        }
        Ok(rows)
    }

    /// The position of the last event applied.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until the read models have applied `position`, for at most
    /// `timeout`; answers whether they did.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(timeout, applied.wait_for(|p| *p >= position)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Applies every event after the stored checkpoint, a page per
    /// transaction, calling `progress` with each new checkpoint. Answers the
    /// checkpoint reached. The next page is read while one is applied.
    pub async fn catch_up(
        &self,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, StoreError> {
        let mut checkpoint = self.views.checkpoint().await?;
        self.adopt(checkpoint);
        let (pages, mut next) = tokio::sync::mpsc::channel(2);
        let feed = self.feed.clone();
        // Everything committed by now, which the feed may not have read yet.
        let target = *feed.store().watch_head().borrow();
        let reader = tokio::spawn(async move {
            let mut after = checkpoint;
            loop {
                let mut page = feed.read(after, PAGE).await;
                while matches!(&page, Ok(events) if events.is_empty()) && after < target {
                    if !feed.wait_past(after).await {
                        break;
                    }
                    page = feed.read(after, PAGE).await;
                }
                let last = match &page {
                    Ok(events) => events.last().map(|e| e.position),
                    Err(_) => None,
                };
                let done = last.is_none();
                if pages.send(page).await.is_err() || done {
                    return;
                }
                after = last.unwrap_or(after);
            }
        });
        let _stop_reading = AbortOnDrop(reader);
        while let Some(page) = next.recv().await {
            let page = page?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            self.apply_page(&page).await?;
            checkpoint = last;
            progress(checkpoint);
        }
        Ok(checkpoint)
    }

    /// Projects these proposals again from their streams as the log reads
    /// now (after an erasure or a redaction, their text reads as erased),
    /// through the events already applied, in one transaction that leaves
    /// the checkpoint where it is; tried again if the projector moved it
    /// meanwhile.
    pub async fn reproject(&self, ids: &[ProposalId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let streams: Vec<String> = ids.iter().map(|id| id.stream()).collect();
        let mut tries = 0;
        loop {
            let checkpoint = self.views.checkpoint().await?;
            let mut rebuilt: std::collections::HashMap<ProposalId, ProjectedProposal> =
                std::collections::HashMap::new();
            for chunk in streams.chunks(REPROJECT_CHUNK) {
                let events = self.feed.store().read_streams(chunk).await?;
                for event in events.iter().filter(|e| e.position <= checkpoint) {
                    if let Some(id) = ProposalId::from_stream(&event.stream_id) {
                        rebuilt
                            .entry(id)
                            .or_insert_with(|| ProjectedProposal::new(id))
                            .apply(event)?;
                    }
                }
            }
            let proposals: Vec<ProjectedProposal> = rebuilt
                .into_values()
                .filter(ProjectedProposal::is_raised)
                .collect();
            let requests: Vec<RequestRow> = proposals
                .iter()
                .flat_map(ProjectedProposal::request_rows)
                .collect();
            let search: Vec<SearchText> = proposals
                .iter()
                .filter_map(ProjectedProposal::search_text)
                .collect();
            match self
                .views
                .save(&proposals, &requests, &search, checkpoint, checkpoint)
                .await
            {
                Err(StoreError::ReadModelsMoved { .. }) if tries < 10 => tries += 1,
                Err(error) => return Err(error),
                Ok(()) => {
                    self.views.purge_deleted().await?;
                    self.pages
                        .invalidate(proposals.iter().filter_map(|p| p.state.owner));
                    return Ok(());
                }
            }
        }
    }

    /// Applies a page in one transaction. If that fails, applies its events
    /// one transaction each, so the error names the event that cannot be
    /// applied (and those before it are kept).
    async fn apply_page(&self, page: &[Arc<RecordedEvent>]) -> Result<(), StoreError> {
        let Err(error) = self.apply_events(page).await else {
            return Ok(());
        };
        // A write cut short or a closed store is not about any one event.
        let stopped = matches!(
            &error,
            StoreError::Interrupted(_) | StoreError::Closed | StoreError::ReadModelsMoved { .. }
        ) || matches!(&error, StoreError::Database(e) if matches!(**e, sqlx::Error::PoolClosed));
        if stopped {
            return Err(error);
        }
        if page.len() == 1 {
            return Err(located(error, page));
        }
        for event in page {
            let one = std::slice::from_ref(event);
            self.apply_events(one).await.map_err(|e| located(e, one))?;
        }
        Ok(())
    }

    async fn apply_events(&self, page: &[Arc<RecordedEvent>]) -> Result<(), StoreError> {
        let mut seen = std::collections::HashSet::new();
        let order: Vec<ProposalId> = page
            .iter()
            .filter_map(|event| ProposalId::from_stream(&event.stream_id))
            .filter(|id| seen.insert(*id))
            .collect();
        let mut touched: std::collections::HashMap<ProposalId, ProjectedProposal> = self
            .views
            .load(&order)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let stored: std::collections::HashMap<uuid::Uuid, RequestRow> = touched
            .values()
            .flat_map(ProjectedProposal::request_rows)
            .map(|row| (row.request_id, row))
            .collect();
        let stored_text: std::collections::HashMap<ProposalId, SearchText> = touched
            .values()
            .filter_map(ProjectedProposal::search_text)
            .map(|text| (text.proposal, text))
            .collect();
        for event in page {
            if let Some(id) = ProposalId::from_stream(&event.stream_id) {
                touched
                    .entry(id)
                    .or_insert_with(|| ProjectedProposal::new(id))
                    .apply(event)?;
            }
        }
        let changed: Vec<ProjectedProposal> = order
            .iter()
            .filter_map(|id| touched.remove(id))
            .filter(ProjectedProposal::is_raised)
            .collect();
        // Only the requests this page added or changed are written.
        let requests: Vec<RequestRow> = changed
            .iter()
            .flat_map(ProjectedProposal::request_rows)
            .filter(|row| stored.get(&row.request_id) != Some(row))
            .collect();
        // Likewise only the search text that changed.
        let search: Vec<SearchText> = changed
            .iter()
            .filter_map(ProjectedProposal::search_text)
            .filter(|text| stored_text.get(&text.proposal) != Some(text))
            .collect();
        let through = page.last().map(|e| e.position).unwrap_or(0);
        let from = page
            .first()
            .map_or(through, |e| e.position.saturating_sub(1));
        self.views
            .save(&changed, &requests, &search, from, through)
            .await?;
        self.pages
            .invalidate(changed.iter().filter_map(|p| p.state.owner));
        self.applied.send_replace(through);
        Ok(())
    }

    /// Runs the projector until the store closes: catch up, then wait for
    /// new events. A failed transaction is retried from the stored
    /// checkpoint, with a growing pause; meanwhile [`Projector::stall`]
    /// says where and why it is stuck.
    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let projector = self.clone();
        tokio::spawn(async move {
            let mut moved = projector.feed.subscribe();
            let leadership = projector.feed.store().leadership();
            let mut lead = leadership.subscribe();
            let mut backoff = Duration::from_millis(200);
            loop {
                let fed = moved.position();
                if !leadership.is_leader() {
                    // Another server writes the shared read models: follow
                    // their checkpoint, soon while behind the log.
                    if projector.follow_checkpoint().await.is_err() {
                        return;
                    }
                    let behind = fed > projector.applied();
                    let wait = if behind { FOLLOW_POLL } else { RECHECK };
                    tokio::select! {
                        _ = moved.changed() => {}
                        _ = lead.changed() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
                match projector.catch_up(&|_| {}).await {
                    Ok(_) => {
                        if projector.stall().is_some() {
                            tracing::info!("the read models are applying the log again");
                            projector.set_stall(None);
                        }
                        backoff = Duration::from_millis(200);
                    }
                    Err(StoreError::Database(error))
                        if matches!(*error, sqlx::Error::PoolClosed) =>
                    {
                        return
                    }
                    Err(StoreError::ReadModelsMoved { .. }) => {
                        // Another server on the database applied these
                        // events first: take its checkpoint and go on.
                        tokio::task::yield_now().await;
                        continue;
                    }
                    Err(error) => {
                        let stall = stall_of(&error, projector.applied());
                        tracing::error!(
                            position = stall.position,
                            reason = %stall.reason,
                            "the read models cannot apply the log; retrying from their checkpoint"
                        );
                        projector.set_stall(Some(stall));
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
                if projector.applied() < fed {
                    continue;
                }
                let _ = tokio::time::timeout(RECHECK, moved.changed()).await;
            }
        })
    }
}

/// The fence of [`ViewStore::save`]: the checkpoint row, read under the
/// write lock, must still be where this page starts.
pub(crate) fn fence(stored: Option<i64>, from: u64) -> Result<(), StoreError> {
    let found = stored.map(crate::store::from_i64).unwrap_or(0);
    if found == from {
        Ok(())
    } else {
        Err(StoreError::ReadModelsMoved {
            expected: from,
            found,
        })
    }
}

/// The error of applying `events`, naming the event when there is one.
fn located(error: StoreError, events: &[Arc<RecordedEvent>]) -> StoreError {
    match (error, events) {
        (
            error @ (StoreError::Corrupt { .. }
            | StoreError::Unapplied { .. }
            | StoreError::Interrupted(_)
            | StoreError::ReadModelsMoved { .. }
            | StoreError::Closed),
            _,
        ) => error,
        (error, [event]) => StoreError::Unapplied {
            position: event.position,
            reason: error.to_string(),
        },
        (error, _) => error,
    }
}

/// Where the projector is stuck and why, from the error that stopped it.
fn stall_of(error: &StoreError, applied: u64) -> Stall {
    match error {
        StoreError::Corrupt { position, reason } | StoreError::Unapplied { position, reason } => {
            Stall {
                position: *position,
                reason: reason.clone(),
            }
        }
        other => Stall {
            position: applied + 1,
            reason: other.to_string(),
        },
    }
}
