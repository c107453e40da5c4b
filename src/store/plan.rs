//! Planning one group-commit batch, with no I/O.
//!
//! The sequencer reads what the batch needs from the database (the head of the
//! log, the current version of every stream the batch touches, and any already
//! stored events whose ids the batch reuses), then this module decides, command
//! by command and in memory, which commands go ahead, where their events land,
//! and what each command is answered. A command that fails its own checks fails
//! alone; the others in the batch are unaffected.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

use super::canonical::{canonical_json, event_bytes_with, leaf_hash};
use super::error::StoreError;
use super::event::{Append, Appended, RecordedEvent};
use super::key_rows::{FieldKeyRow, KeyDestruction};

/// What the database said before the batch.
#[derive(Debug, Default)]
pub struct LogSnapshot {
    /// The position of the last stored event (0 for an empty log).
    pub head: u64,
    /// When the last stored event was recorded.
    pub last_recorded_at: Option<DateTime<Utc>>,
    /// Current version of each touched stream that exists.
    pub versions: HashMap<String, u64>,
    /// Already stored events whose ids the batch names.
    pub existing: HashMap<Uuid, RecordedEvent>,
}

/// What the batch writes and what each command is answered.
#[derive(Debug)]
pub struct BatchPlan {
    /// New rows to insert, in position order.
    pub rows: Vec<RecordedEvent>,
    /// The text to store for each row's payload and metadata (its canonical
    /// JSON, from which its leaf hash was made), in the same order.
    pub texts: Vec<StoredText>,
    /// The field keys of the appends that go ahead, to store in the same
    /// transaction as the rows.
    pub field_keys: Vec<FieldKeyRow>,
    /// The key destructions of the appends that go ahead, to run in the
    /// same transaction as the rows.
    pub key_destructions: Vec<KeyDestruction>,
    /// One answer per command, in the order given.
    pub results: Vec<Result<Appended, StoreError>>,
    /// The head of the log once the rows are stored.
    pub head: u64,
}

/// A row's payload and metadata as canonical JSON text.
#[derive(Debug, Clone)]
pub struct StoredText {
    /// The payload.
    pub payload: String,
    /// The metadata.
    pub metadata: String,
}

/// The rows a batch plans so far, their texts, and where each new event id is.
#[derive(Default)]
struct NewRows {
    rows: Vec<RecordedEvent>,
    texts: Vec<StoredText>,
    field_keys: Vec<FieldKeyRow>,
    key_destructions: Vec<KeyDestruction>,
    by_id: HashMap<Uuid, usize>,
}

/// Every stream id and event id a batch touches, for the snapshot queries.
pub fn touched(appends: &[Append]) -> (Vec<String>, Vec<Uuid>) {
    let mut streams = HashSet::new();
    let mut ids = HashSet::new();
    for append in appends {
        for stream in &append.streams {
            streams.insert(stream.stream_id.clone());
            ids.extend(stream.events.iter().map(|e| e.event_id));
        }
    }
    (streams.into_iter().collect(), ids.into_iter().collect())
}

/// Plans a batch against a snapshot, recording at `now` (or just after the
/// last recorded event if the clock went backwards).
pub fn plan_batch(mut snapshot: LogSnapshot, appends: &[Append], now: DateTime<Utc>) -> BatchPlan {
    let mut recorded_at = now.trunc_subsecs(6);
    if let Some(last) = snapshot.last_recorded_at {
        recorded_at = recorded_at.max(last);
    }
    let mut new = NewRows::default();
    let mut results = Vec::with_capacity(appends.len());
    for append in appends {
        let result = plan_one(&mut snapshot, &mut new, append, recorded_at);
        results.push(result);
    }
    BatchPlan {
        rows: new.rows,
        texts: new.texts,
        field_keys: new.field_keys,
        key_destructions: new.key_destructions,
        results,
        head: snapshot.head,
    }
}

fn plan_one(
    snapshot: &mut LogSnapshot,
    new: &mut NewRows,
    append: &Append,
    recorded_at: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    validate(append)?;
    if let Some(replayed) = replay(snapshot, new, append)? {
        return Ok(replayed);
    }
    for stream in &append.streams {
        let actual = snapshot
            .versions
            .get(&stream.stream_id)
            .copied()
            .unwrap_or(0);
        if !stream.expected.admits(actual) {
            return Err(StoreError::Conflict {
                stream_id: stream.stream_id.clone(),
                expected: stream.expected,
                actual,
            });
        }
    }
    let mut events = Vec::new();
    for stream in &append.streams {
        let version = snapshot
            .versions
            .entry(stream.stream_id.clone())
            .or_insert(0);
        for data in &stream.events {
            *version += 1;
            snapshot.head += 1;
            let mut row = RecordedEvent {
                position: snapshot.head,
                event_id: data.event_id,
                stream_id: stream.stream_id.clone(),
                stream_version: *version,
                event_type: data.event_type.clone(),
                schema_version: data.schema_version,
                payload: data.payload.clone(),
                metadata: data.metadata.clone(),
                recorded_at,
                leaf_hash: [0; 32],
            };
            // Canonical text made once: for the leaf hash and for storing.
            let text = StoredText {
                payload: canonical_json(&row.payload),
                metadata: canonical_json(&row.metadata),
            };
            row.leaf_hash = leaf_hash(&event_bytes_with(&row, &text.payload, &text.metadata));
            events.push(row.position_info());
            new.by_id.insert(row.event_id, new.rows.len());
            new.rows.push(row);
            new.texts.push(text);
        }
    }
    new.field_keys.extend(append.field_keys.iter().cloned());
    new.key_destructions
        .extend(append.key_destructions.iter().cloned());
    Ok(Appended {
        events,
        replayed: false,
    })
}

fn validate(append: &Append) -> Result<(), StoreError> {
    if append.events().next().is_none() {
        return Err(StoreError::InvalidAppend(
            "an append needs at least one event".into(),
        ));
    }
    let mut streams = HashSet::new();
    for stream in &append.streams {
        if stream.stream_id.trim().is_empty() {
            return Err(StoreError::InvalidAppend(
                "a stream id must not be empty".into(),
            ));
        }
        if !streams.insert(stream.stream_id.as_str()) {
            return Err(StoreError::InvalidAppend(format!(
                "stream {} is named twice",
                stream.stream_id
            )));
        }
    }
    let mut ids = HashSet::new();
    for (_, event) in append.events() {
        if event.event_type.trim().is_empty() {
            return Err(StoreError::InvalidAppend(
                "an event type must not be empty".into(),
            ));
        }
        if !ids.insert(event.event_id) {
            return Err(StoreError::EventIdReused {
                event_id: event.event_id,
            });
        }
    }
    Ok(())
}

/// If every event of the append is already stored with the same content,
/// answers the original positions; if only some are, or any differs, refuses.
fn replay(
    snapshot: &LogSnapshot,
    new: &NewRows,
    append: &Append,
) -> Result<Option<Appended>, StoreError> {
    let mut found = Vec::new();
    let mut missing = None;
    for (stream_id, data) in append.events() {
        let stored = snapshot.existing.get(&data.event_id).or_else(|| {
            new.by_id
                .get(&data.event_id)
                .and_then(|&at| new.rows.get(at))
        });
        match stored {
            Some(stored) if stored.has_content_of(stream_id, data) => {
                found.push(stored.position_info())
            }
            Some(_) => {
                return Err(StoreError::EventIdReused {
                    event_id: data.event_id,
                })
            }
            None => missing = Some(data.event_id),
        }
    }
    match (found.is_empty(), missing) {
        (true, _) => Ok(None),
        (false, None) => Ok(Some(Appended {
            events: found,
            replayed: true,
        })),
        (false, Some(event_id)) => Err(StoreError::EventIdReused { event_id }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::canonical::event_leaf_hash;
    use crate::store::event::{EventData, ExpectedVersion};

    fn event(id: u128) -> EventData {
        EventData {
            event_id: Uuid::from_u128(id),
            event_type: "Noted".into(),
            schema_version: 1,
            payload: json!({ "n": id as u64 }),
            metadata: json!({}),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_conflict_fails_only_its_own_command() {
        let appends = vec![
            Append::to_stream("s", ExpectedVersion::NoStream, vec![event(1)]),
            Append::to_stream("s", ExpectedVersion::NoStream, vec![event(2)]),
            Append::to_stream("t", ExpectedVersion::Any, vec![event(3), event(4)]),
            Append::to_stream("s", ExpectedVersion::Exact(1), vec![event(5)]),
        ];
        let plan = plan_batch(LogSnapshot::default(), &appends, now());
        assert_eq!(plan.head, 4);
        assert_eq!(
            plan.rows.iter().map(|r| r.position).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert!(plan.results[0].is_ok());
        assert!(matches!(
            &plan.results[1],
            Err(StoreError::Conflict { stream_id, expected: ExpectedVersion::NoStream, actual: 1 }) if stream_id == "s"
        ));
        let third = plan.results[2].as_ref().expect("third appends");
        assert_eq!(
            third
                .events
                .iter()
                .map(|e| e.stream_version)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        let fourth = plan.results[3].as_ref().expect("fourth appends");
        assert_eq!(fourth.events[0].stream_version, 2);
        assert_eq!(fourth.events[0].position, 4);
    }

    #[test]
    fn a_repeated_append_answers_the_original_positions() {
        let first = Append::to_stream("s", ExpectedVersion::NoStream, vec![event(1)]);
        let plan = plan_batch(LogSnapshot::default(), &[first.clone(), first], now());
        assert_eq!(plan.rows.len(), 1);
        let again = plan.results[1].as_ref().expect("replay succeeds");
        assert!(again.replayed);
        assert_eq!(again.events[0].position, 1);
    }

    #[test]
    fn a_reused_id_with_other_content_is_refused() {
        let first = Append::to_stream("s", ExpectedVersion::Any, vec![event(1)]);
        let mut changed = event(1);
        changed.payload = json!({ "n": 99 });
        let second = Append::to_stream("s", ExpectedVersion::Any, vec![changed]);
        let partial = Append::to_stream("s", ExpectedVersion::Any, vec![event(1), event(2)]);
        let plan = plan_batch(LogSnapshot::default(), &[first, second, partial], now());
        assert_eq!(plan.rows.len(), 1);
        assert!(matches!(
            plan.results[1],
            Err(StoreError::EventIdReused { .. })
        ));
        assert!(matches!(
            plan.results[2],
            Err(StoreError::EventIdReused { .. })
        ));
    }

    #[test]
    fn a_multi_stream_append_is_all_or_nothing() {
        let mut snapshot = LogSnapshot {
            head: 10,
            ..LogSnapshot::default()
        };
        snapshot.versions.insert("budget".into(), 3);
        let append = Append {
            streams: vec![
                crate::store::event::StreamAppend {
                    stream_id: "proposal".into(),
                    expected: ExpectedVersion::Any,
                    events: vec![event(1)],
                },
                crate::store::event::StreamAppend {
                    stream_id: "budget".into(),
                    expected: ExpectedVersion::Exact(2),
                    events: vec![event(2)],
                },
            ],
            ..Append::default()
        };
        let plan = plan_batch(snapshot, &[append], now());
        assert!(plan.rows.is_empty());
        assert_eq!(plan.head, 10);
        assert!(matches!(
            plan.results[0],
            Err(StoreError::Conflict { actual: 3, .. })
        ));
    }

    #[test]
    fn malformed_appends_are_refused() {
        let empty = Append::default();
        let blank = Append::to_stream(" ", ExpectedVersion::Any, vec![event(1)]);
        let twice = Append::to_stream("s", ExpectedVersion::Any, vec![event(1), event(1)]);
        let plan = plan_batch(LogSnapshot::default(), &[empty, blank, twice], now());
        assert!(plan.rows.is_empty());
        assert!(matches!(plan.results[0], Err(StoreError::InvalidAppend(_))));
        assert!(matches!(plan.results[1], Err(StoreError::InvalidAppend(_))));
        assert!(matches!(
            plan.results[2],
            Err(StoreError::EventIdReused { .. })
        ));
    }

    #[test]
    fn recorded_time_never_goes_backwards() {
        let mut snapshot = LogSnapshot::default();
        let later = now() + chrono::Duration::seconds(5);
        snapshot.last_recorded_at = Some(later);
        let plan = plan_batch(
            snapshot,
            &[Append::to_stream("s", ExpectedVersion::Any, vec![event(1)])],
            now(),
        );
        assert_eq!(plan.rows[0].recorded_at, later);
    }

    #[test]
    fn every_row_carries_its_leaf_hash() {
        let plan = plan_batch(
            LogSnapshot::default(),
            &[Append::to_stream("s", ExpectedVersion::Any, vec![event(1)])],
            now(),
        );
        let row = &plan.rows[0];
        assert_eq!(row.leaf_hash, event_leaf_hash(row));
        assert_ne!(row.leaf_hash, [0; 32]);
        assert_eq!(plan.texts.len(), 1);
        assert_eq!(plan.texts[0].payload, canonical_json(&row.payload));
        assert_eq!(plan.texts[0].metadata, canonical_json(&row.metadata));
    }
}
