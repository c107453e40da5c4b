//! The shapes that go into and come out of the event store.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::key_rows::{FieldKeyRow, KeyDestruction};

/// Which version a stream must be at for an append to go ahead.
///
/// Versions count the events in a stream: a stream that does not exist is at
/// version 0 and its first event gets version 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version.
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream currently at `current` satisfies this expectation.
    pub fn admits(self, current: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(n) => current == n,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any version"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(n) => write!(f, "version {n}"),
        }
    }
}

/// An event as a command wants to append it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventData {
    /// Unique id chosen by the writer; appending the same id twice is idempotent.
    pub event_id: Uuid,
    /// What happened, e.g. `ProposalRaised`.
    pub event_type: String,
    /// Version of the payload's shape, for upcasting older events on read.
    pub schema_version: i32,
    /// What happened, as JSON.
    pub payload: Value,
    /// Who did it, in which role, why, and which command caused it.
    pub metadata: Value,
}

/// Events for one stream, with the version the stream must be at.
///
/// A stream write with no events only checks the expected version.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    /// The stream, e.g. `proposal-<uuid>`.
    pub stream_id: String,
    /// The version the stream must be at before these events.
    pub expected: ExpectedVersion,
    /// The events, in order.
    pub events: Vec<EventData>,
}

/// One command's append: atomic over all the streams it names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Append {
    /// The streams written, each at most once.
    pub streams: Vec<StreamAppend>,
    /// The keys that seal the events' free text, stored in the same
    /// transaction as the events (so in the same group commit): stored
    /// exactly when the events are.
    pub field_keys: Vec<FieldKeyRow>,
    /// The keys an erasure or a redaction destroys, destroyed in the same
    /// transaction as the events that record it.
    pub key_destructions: Vec<KeyDestruction>,
}

impl Append {
    /// An append to a single stream.
    pub fn to_stream(
        stream_id: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<EventData>,
    ) -> Self {
        Append {
            streams: vec![StreamAppend {
                stream_id: stream_id.into(),
                expected,
                events,
            }],
            field_keys: Vec::new(),
            key_destructions: Vec::new(),
        }
    }

    /// Every event of the append, with its stream, in append order.
    pub fn events(&self) -> impl Iterator<Item = (&str, &EventData)> {
        self.streams
            .iter()
            .flat_map(|s| s.events.iter().map(move |e| (s.stream_id.as_str(), e)))
    }
}

/// Where one appended event landed in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventPosition {
    /// The event's id.
    pub event_id: Uuid,
    /// Its stream.
    pub stream_id: String,
    /// Its version within the stream (1-based).
    pub stream_version: u64,
    /// Its global position (1-based, gap-free).
    pub position: u64,
}

/// The answer to a successful append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Every event of the append, in append order.
    pub events: Vec<EventPosition>,
    /// True when every event was already stored with the same content, so the
    /// answer repeats the original positions and nothing new was written.
    pub replayed: bool,
}

impl Appended {
    /// The highest global position the append covers (0 if it had no events).
    pub fn last_position(&self) -> u64 {
        self.events.iter().map(|e| e.position).max().unwrap_or(0)
    }
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Global position, 1..n without gaps.
    pub position: u64,
    /// The writer's id for the event.
    pub event_id: Uuid,
    /// The stream it belongs to.
    pub stream_id: String,
    /// Its version within the stream.
    pub stream_version: u64,
    /// What happened.
    pub event_type: String,
    /// Version of the payload's shape.
    pub schema_version: i32,
    /// The payload.
    pub payload: Value,
    /// Actor, acting role, command id, correlation and causation ids, reason.
    pub metadata: Value,
    /// When the server recorded it (UTC, microsecond precision).
    pub recorded_at: DateTime<Utc>,
    /// SHA-256(0x00 || canonical bytes), the RFC 6962 leaf hash.
    pub leaf_hash: [u8; 32],
}

impl RecordedEvent {
    /// Whether `data` describes this same event (same id, stream and content).
    pub fn has_content_of(&self, stream_id: &str, data: &EventData) -> bool {
        self.event_id == data.event_id
            && self.stream_id == stream_id
            && self.event_type == data.event_type
            && self.schema_version == data.schema_version
            && self.payload == data.payload
            && self.metadata == data.metadata
    }

    /// Where this event landed.
    pub fn position_info(&self) -> EventPosition {
        EventPosition {
            event_id: self.event_id,
            stream_id: self.stream_id.clone(),
            stream_version: self.stream_version,
            position: self.position,
        }
    }
}
