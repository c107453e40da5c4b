//! Folded states of the streams commands used lately, kept current by the
//! read-model follower, so that a command does not read and fold its streams
//! from the log again each time.
//!
//! How an entry stays correct:
//! - A command *watches* a stream before it reads it from the log. From then
//!   on the follower records the highest stream version it has seen of it.
//! - The command then *fills* the entry with what it read, unless the
//!   follower has already seen a later version (an event the read missed);
//!   then it leaves the entry empty and the next command reads the log again.
//! - Once filled, the follower folds each new event of the stream into the
//!   entry, in order, before the read models report that position applied. A
//!   mutation waits for that before it answers, so every acknowledged write
//!   is in the cache when the next command runs.
//! - A write still checks the expected version of every stream it writes, so
//!   a state that is behind (another process's write not yet followed) ends
//!   in a conflict; the command then [`forget`](AggregateCache::forget)s
//!   those states and tries again from the log.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::store::{RecordedEvent, StoreError};

/// How many streams the cache keeps; beyond that it drops the quarter used
/// least lately.
pub const CAPACITY: usize = 1024;

/// Folds one stored event into a state, or names the event it cannot read.
pub type Step<S> = Arc<dyn Fn(S, &RecordedEvent) -> Result<S, StoreError> + Send + Sync>;

/// Folded states by stream name.
pub struct AggregateCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

/// The entries, and a counter that orders their uses.
#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    uses: u64,
}

impl Inner {
    /// The next use's number.
    fn tick(&mut self) -> u64 {
        self.uses += 1;
        self.uses
    }
}

/// One watched stream.
struct Entry {
    /// When a command last used it (a number from [`Inner::tick`]).
    used: u64,
    /// The highest stream version the follower has seen since the watch.
    observed: u64,
    /// The state, once a command filled it.
    folded: Option<Box<dyn Folded>>,
}

/// A folded state of some type, with its version and how to fold further.
trait Folded: Send + Sync {
    fn version(&self) -> u64;
    fn apply(&mut self, event: &RecordedEvent) -> Result<(), StoreError>;
    fn as_any(&self) -> &dyn Any;
}

struct State<S> {
    state: Arc<S>,
    version: u64,
    step: Step<S>,
}

impl<S: Clone + Default + Send + Sync + 'static> Folded for State<S> {
    fn version(&self) -> u64 {
        self.version
    }

    fn apply(&mut self, event: &RecordedEvent) -> Result<(), StoreError> {
        let state = Arc::make_mut(&mut self.state);
        *state = (self.step)(std::mem::take(state), event)?;
        self.version = event.stream_version;
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Default for AggregateCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl AggregateCache {
    /// A cache of at most `capacity` streams.
    pub fn with_capacity(capacity: usize) -> Self {
        AggregateCache {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every change under the lock leaves the map consistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state of `stream` and its version, if the cache holds it as an `S`.
    pub fn get<S: Send + Sync + 'static>(&self, stream: &str) -> Option<(Arc<S>, u64)> {
        let mut inner = self.inner();
        let now = inner.tick();
        let entry = inner.entries.get_mut(stream)?;
        entry.used = now;
        let state = entry.folded.as_ref()?.as_any().downcast_ref::<State<S>>()?;
        Some((state.state.clone(), state.version))
    }

    /// Starts recording what the follower sees of `stream`. Call it before
    /// reading the stream from the log, then [`fill`](Self::fill).
    pub fn watch(&self, stream: &str) {
        let mut inner = self.inner();
        let now = inner.tick();
        if let Some(entry) = inner.entries.get_mut(stream) {
            entry.used = now;
            return;
        }
        if inner.entries.len() >= self.capacity {
            drop_least_used(&mut inner.entries, self.capacity / 4 + 1);
        }
        inner.entries.insert(
            stream.to_string(),
            Entry {
                used: now,
                observed: 0,
                folded: None,
            },
        );
    }

    /// Keeps `state` at `version`, read from the log after [`watch`](Self::watch),
    /// unless the follower has seen a later version since, or the entry holds
    /// a newer state, or was dropped to make room.
    pub fn fill<S: Clone + Default + Send + Sync + 'static>(
        &self,
        stream: &str,
        state: Arc<S>,
        version: u64,
        step: Step<S>,
    ) {
        let mut inner = self.inner();
        let Some(entry) = inner.entries.get_mut(stream) else {
            return;
        };
        if entry.observed > version {
            return;
        }
        if let Some(folded) = &entry.folded {
            if folded.version() >= version {
                return;
            }
        }
        entry.folded = Some(Box::new(State {
            state,
            version,
            step,
        }));
    }

    /// Drops the state of `stream` (after a write to it conflicted).
    pub fn forget(&self, stream: &str) {
        if let Some(entry) = self.inner().entries.get_mut(stream) {
            entry.folded = None;
        }
    }

    /// Drops every state: the next command reads its streams from the log.
    pub fn clear(&self) {
        for entry in self.inner().entries.values_mut() {
            entry.folded = None;
        }
    }

    /// Folds an event the follower read into the state of its stream, if
    /// the stream is watched. Events arrive in log order.
    pub fn observe(&self, event: &RecordedEvent) {
        let mut inner = self.inner();
        let Some(entry) = inner.entries.get_mut(&event.stream_id) else {
            return;
        };
        entry.observed = entry.observed.max(event.stream_version);
        let Some(folded) = entry.folded.as_mut() else {
            return;
        };
        let version = folded.version();
        if event.stream_version == version + 1 {
            if folded.apply(event).is_err() {
                // An event the state cannot take: the next command reads
                // the stream from the log and meets the error there.
                entry.folded = None;
            }
        } else if event.stream_version > version + 1 {
            // A gap: the state cannot be brought forward; read it again.
            entry.folded = None;
        }
    }

    /// How many streams are watched.
    pub fn len(&self) -> usize {
        self.inner().entries.len()
    }

    /// True when no stream is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops the `count` entries used least lately.
fn drop_least_used(entries: &mut HashMap<String, Entry>, count: usize) {
    let mut uses: Vec<u64> = entries.values().map(|e| e.used).collect();
    if count >= uses.len() {
        entries.clear();
        return;
    }
    let (_, &mut cutoff, _) = uses.select_nth_unstable(count - 1);
    entries.retain(|_, entry| entry.used > cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    /// A state that lists the event types of its stream.
    fn step() -> Step<Vec<String>> {
        Arc::new(|mut state: Vec<String>, event: &RecordedEvent| {
            if event.event_type == "Unreadable" {
                return Err(StoreError::Corrupt {
                    position: event.position,
                    reason: "unreadable".into(),
                });
            }
            state.push(event.event_type.clone());
            Ok(state)
        })
    }

    fn event(stream: &str, version: u64, kind: &str) -> RecordedEvent {
        RecordedEvent {
            position: version,
            stream_id: stream.to_string(),
            stream_version: version,
            event_id: Uuid::new_v4(),
            event_type: kind.to_string(),
            schema_version: 1,
            payload: json!({}),
            metadata: json!({}),
            recorded_at: Utc::now(),
            leaf_hash: [0; 32],
        }
    }

    fn filled(cache: &AggregateCache, stream: &str, state: &[&str]) {
        cache.watch(stream);
        let state: Vec<String> = state.iter().map(|s| s.to_string()).collect();
        let version = state.len() as u64;
        cache.fill(stream, Arc::new(state), version, step());
    }

    fn state(cache: &AggregateCache, stream: &str) -> Option<(Vec<String>, u64)> {
        cache
            .get::<Vec<String>>(stream)
            .map(|(state, version)| ((*state).clone(), version))
    }

    #[test]
    fn given_a_filled_stream_when_the_follower_sees_the_next_event_then_it_is_folded_in() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed"]);
        cache.observe(&event("team-1", 2, "MemberJoined"));
        assert_eq!(
            state(&cache, "team-1"),
            Some((vec!["TeamFormed".into(), "MemberJoined".into()], 2))
        );
    }

    #[test]
    fn given_a_watch_when_the_follower_saw_a_later_version_before_the_fill_then_it_is_not_kept() {
        let cache = AggregateCache::default();
        cache.watch("team-1");
        // The read returned version 1; meanwhile version 2 was followed.
        cache.observe(&event("team-1", 2, "MemberJoined"));
        cache.fill(
            "team-1",
            Arc::new(vec!["TeamFormed".to_string()]),
            1,
            step(),
        );
        assert_eq!(state(&cache, "team-1"), None);
    }

    #[test]
    fn given_no_watch_when_filled_then_nothing_is_kept() {
        let cache = AggregateCache::default();
        cache.fill(
            "team-1",
            Arc::new(vec!["TeamFormed".to_string()]),
            1,
            step(),
        );
        assert_eq!(state(&cache, "team-1"), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn given_a_filled_stream_when_an_event_skips_a_version_then_the_state_is_dropped() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed"]);
        cache.observe(&event("team-1", 3, "MemberLeft"));
        assert_eq!(state(&cache, "team-1"), None);
    }

    #[test]
    fn given_a_filled_stream_when_an_event_cannot_be_read_then_the_state_is_dropped() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed"]);
        cache.observe(&event("team-1", 2, "Unreadable"));
        assert!(cache.get::<Vec<String>>("team-1").is_none());
    }

    #[test]
    fn given_a_filled_stream_when_an_older_event_is_seen_then_the_state_stays() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed", "MemberJoined"]);
        cache.observe(&event("team-1", 2, "MemberJoined"));
        assert_eq!(state(&cache, "team-1").map(|(_, v)| v), Some(2));
    }

    #[test]
    fn given_a_newer_state_when_an_older_read_fills_then_the_newer_stays() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed", "MemberJoined"]);
        cache.fill(
            "team-1",
            Arc::new(vec!["TeamFormed".to_string()]),
            1,
            step(),
        );
        assert_eq!(state(&cache, "team-1").map(|(_, v)| v), Some(2));
    }

    #[test]
    fn given_a_forgotten_stream_then_it_must_be_read_again() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed"]);
        cache.forget("team-1");
        assert_eq!(state(&cache, "team-1"), None);
    }

    #[test]
    fn given_a_state_of_another_type_then_get_answers_none() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed"]);
        assert!(cache.get::<u64>("team-1").is_none());
    }

    #[test]
    fn given_a_full_cache_when_another_stream_is_watched_then_the_least_used_are_dropped() {
        let cache = AggregateCache::with_capacity(8);
        for n in 0..8 {
            filled(&cache, &format!("team-{n}"), &["TeamFormed"]);
        }
        // team-0 and team-1 are used again; team-2, team-3 and team-4 are
        // now the least used lately.
        assert!(state(&cache, "team-0").is_some());
        assert!(state(&cache, "team-1").is_some());
        filled(&cache, "team-8", &["TeamFormed"]);
        assert_eq!(cache.len(), 6, "a quarter and one made room");
        for n in [0, 1, 5, 6, 7, 8] {
            assert!(
                state(&cache, &format!("team-{n}")).is_some(),
                "team-{n} stays"
            );
        }
    }

    #[test]
    fn given_a_state_handed_out_when_the_follower_folds_then_the_handed_out_copy_is_unchanged() {
        let cache = AggregateCache::default();
        filled(&cache, "team-1", &["TeamFormed"]);
        let (before, _) = cache.get::<Vec<String>>("team-1").expect("cached");
        cache.observe(&event("team-1", 2, "MemberJoined"));
        assert_eq!(before.len(), 1);
        assert_eq!(state(&cache, "team-1").map(|(s, _)| s.len()), Some(2));
    }
}
