//! One feed of the log per server: a single task reads each new event once,
//! as it is committed, and every consumer (the directory and aggregate
//! cache, the projector, the Merkle tree, subscriptions) reads from it at
//! its own position. The feed keeps the latest events in memory; a consumer
//! further behind reads the older ones from the store itself, a page at a
//! time, and then joins the feed.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::Stream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error::StoreError;
use super::event::RecordedEvent;
use super::EventStore;

/// How many of the latest events the feed keeps in memory.
const KEEP: usize = 8192;
/// How many events one read takes.
pub const PAGE: u32 = 1024;
/// How long the feed waits for news of a commit before looking anyway
/// (another process on the same database may have written).
const RECHECK: Duration = Duration::from_secs(1);
/// The longest pause between two tries of a read that failed.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Why a follower of the log cannot go on, and where: it keeps retrying,
/// and the server reports it in its logs, `/metrics` and `/readyz` until
/// it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    /// The position of the event it could not apply (or read).
    pub position: u64,
    /// What went wrong.
    pub reason: String,
}

/// Where the feed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tail {
    /// The position of the last event it has read.
    position: u64,
    /// Its last read failed (it keeps trying).
    failing: bool,
    /// The store is closed: nothing more will come.
    closed: bool,
}

/// The latest events, in position order without gaps.
#[derive(Default)]
struct Recent {
    events: VecDeque<Arc<RecordedEvent>>,
}

impl Recent {
    /// Up to `limit` kept events after position `after`, or `None` if the
    /// feed no longer keeps the next one (or never had it).
    fn after(&self, after: u64, limit: u32) -> Option<Vec<Arc<RecordedEvent>>> {
        let first = self.events.front()?.position;
        if after + 1 < first {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).ok()?;
        Some(
            self.events
                .iter()
                .skip(skip)
                .take(limit as usize)
                .cloned()
                .collect(),
        )
    }

    fn push(&mut self, page: Vec<RecordedEvent>) {
        self.events.extend(page.into_iter().map(Arc::new));
        while self.events.len() > KEEP {
            self.events.pop_front();
        }
    }
}

struct Shared {
    store: Arc<dyn EventStore>,
    recent: RwLock<Recent>,
    tail: watch::Sender<Tail>,
}

/// The server's one reader of new events, shared by every consumer.
pub struct Feed {
    shared: Arc<Shared>,
    reader: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Feed {
    /// Starts the feed at the log's head: from there it reads each new
    /// event once. Consumers that start further back read the events
    /// before the head from the store.
    pub async fn start(store: Arc<dyn EventStore>) -> Result<Arc<Feed>, StoreError> {
        let head = store.head().await?;
        let shared = Arc::new(Shared {
            store,
            recent: RwLock::new(Recent::default()),
            tail: watch::Sender::new(Tail {
                position: head,
                failing: false,
                closed: false,
            }),
        });
        let reader = tokio::spawn(read_new_events(shared.clone()));
        Ok(Arc::new(Feed { shared, reader }))
    }

    /// Forgets the events kept in memory: they were read with keys since
    /// destroyed (an erasure), so they are read from the store again.
    pub fn forget_recent(&self) {
        self.shared
            .recent
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .events
            .clear();
    }

    /// The store the feed reads.
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.shared.store
    }

    /// The position of the last event the feed has read.
    pub fn position(&self) -> u64 {
        self.shared.tail.borrow().position
    }

    /// Up to `limit` events after position `after`, in order: from memory
    /// when the feed keeps them, else from the store. Empty when the feed
    /// has nothing after `after` yet. While the feed's own reads fail, a
    /// read at its end goes to the store, so the caller sees the error
    /// (naming the position that cannot be read).
    pub async fn read(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Arc<RecordedEvent>>, StoreError> {
        let tail = *self.shared.tail.borrow();
        if after >= tail.position && !tail.failing {
            return Ok(Vec::new());
        }
        if after < tail.position {
            let kept = self
                .shared
                .recent
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .after(after, limit);
            if let Some(events) = kept {
                if !events.is_empty() {
                    return Ok(events);
                }
            }
        }
        let page = self.shared.store.read_all(after, limit).await?;
        Ok(page.into_iter().map(Arc::new).collect())
    }

    /// Waits until the feed has an event after `after`; answers false if
    /// the store closed first.
    pub async fn wait_past(&self, after: u64) -> bool {
        let mut tail = self.shared.tail.subscribe();
        let reached = tail
            .wait_for(|tail| tail.position > after || tail.closed || tail.failing)
            .await;
        matches!(reached, Ok(tail) if !tail.closed)
    }

    /// Hears each move of the feed (a new event, a failed read, the end).
    pub fn subscribe(&self) -> FeedWatch {
        FeedWatch(self.shared.tail.subscribe())
    }

    /// Every event after position `after`, in order, going on with new ones
    /// as the feed reads them. It ends when the store closes, and yields an
    /// error (then ends) if a read fails.
    pub fn follow(
        self: &Arc<Self>,
        after: u64,
    ) -> impl Stream<Item = Result<Arc<RecordedEvent>, StoreError>> + Send + 'static {
        let start = (self.clone(), after, VecDeque::<Arc<RecordedEvent>>::new());
        futures::stream::unfold(Some(start), |state| async move {
            let (feed, mut cursor, mut buffer) = state?;
            loop {
                if let Some(event) = buffer.pop_front() {
                    cursor = event.position;
                    return Some((Ok(event), Some((feed, cursor, buffer))));
                }
                match feed.read(cursor, PAGE).await {
                    Ok(page) if !page.is_empty() => buffer.extend(page),
                    Ok(_) => {
                        if !feed.wait_past(cursor).await {
                            return None;
                        }
                        // A failing feed wakes the wait; give it a moment
                        // before the next read goes to the store.
                        if feed.shared.tail.borrow().failing {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    Err(error) => return Some((Err(error), None)),
                }
            }
        })
    }
}

/// A handle that hears the feed move.
pub struct FeedWatch(watch::Receiver<Tail>);

impl FeedWatch {
    /// Waits for the feed's next move; false once the store is closed.
    pub async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok() && !self.0.borrow_and_update().closed
    }

    /// The position of the last event the feed has read, marking it seen.
    pub fn position(&mut self) -> u64 {
        self.0.borrow_and_update().position
    }
}

/// The feed's one reader: whenever the store says something was committed
/// (or every [`RECHECK`]), reads what is new and keeps it.
async fn read_new_events(shared: Arc<Shared>) {
    let mut head = shared.store.watch_head();
    let mut backoff = Duration::from_millis(100);
    loop {
        // Mark the head seen before reading, so a commit after the read
        // still wakes the wait below.
        let seen = *head.borrow_and_update();
        let after = shared.tail.borrow().position;
        match shared.store.read_all(after, PAGE).await {
            Ok(page) if !page.is_empty() => {
                let last = page.last().map_or(after, |e| e.position);
                // A page that reaches the head seen before the read is the
                // end for now: wait for the next commit rather than read an
                // empty page to learn that.
                let caught_up = last >= seen;
                shared
                    .recent
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(page);
                shared.tail.send_replace(Tail {
                    position: last,
                    failing: false,
                    closed: false,
                });
                backoff = Duration::from_millis(100);
                if caught_up {
                    if let Ok(Err(_)) = tokio::time::timeout(RECHECK, head.changed()).await {
                        break;
                    }
                }
            }
            Ok(_) => {
                shared
                    .tail
                    .send_if_modified(|tail| std::mem::replace(&mut tail.failing, false));
                if let Ok(Err(_)) = tokio::time::timeout(RECHECK, head.changed()).await {
                    break;
                }
            }
            Err(StoreError::Database(error)) if matches!(*error, sqlx::Error::PoolClosed) => break,
            Err(error) => {
                tracing::warn!(%error, after, "the feed could not read the log; retrying");
                shared
                    .tail
                    .send_if_modified(|tail| !std::mem::replace(&mut tail.failing, true));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    shared.tail.send_modify(|tail| tail.closed = true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64) -> RecordedEvent {
        RecordedEvent {
            position,
            event_id: uuid::Uuid::new_v4(),
            stream_id: "s".into(),
            stream_version: position,
            event_type: "E".into(),
            schema_version: 1,
            payload: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
            recorded_at: chrono::Utc::now(),
            leaf_hash: [0; 32],
        }
    }

    #[test]
    fn kept_events_answer_reads_from_where_they_start() {
        let mut recent = Recent::default();
        assert_eq!(recent.after(0, 10), None, "nothing kept yet");
        recent.push((11..=20).map(event).collect());
        let positions = |v: Option<Vec<Arc<RecordedEvent>>>| {
            v.map(|v| v.iter().map(|e| e.position).collect::<Vec<_>>())
        };
        assert_eq!(positions(recent.after(10, 3)), Some(vec![11, 12, 13]));
        assert_eq!(positions(recent.after(18, 10)), Some(vec![19, 20]));
        assert_eq!(positions(recent.after(20, 10)), Some(vec![]));
        assert_eq!(
            positions(recent.after(9, 10)),
            None,
            "11 is not 10's successor"
        );
    }

    #[test]
    fn the_feed_keeps_only_the_latest() {
        let mut recent = Recent::default();
        recent.push((1..=(KEEP as u64 + 5)).map(event).collect());
        assert_eq!(recent.events.len(), KEEP);
        assert_eq!(recent.after(0, 1), None);
        assert_eq!(
            recent.after(5, 1).map(|v| v[0].position),
            Some(6),
            "the oldest kept is the sixth"
        );
    }
}
