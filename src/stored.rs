//! Stored events read as domain events: the one place a [`RecordedEvent`]
//! becomes an aggregate's event (upcast if it was stored in an older shape)
//! or its metadata, and where an event that cannot be read becomes an error
//! naming its position.

use crate::domain::events::DomainEvent;
use crate::domain::metadata::Metadata;
use crate::domain::proposal::{self, ProposalEvent, ProposalState};
use crate::domain::PersonId;
use crate::store::{RecordedEvent, StoreError};

/// Folds one stored event into a proposal's state (another aggregate's
/// event leaves it as it is; one that cannot be read is an error).
pub fn proposal_step(
    state: ProposalState,
    stored: &RecordedEvent,
) -> Result<ProposalState, StoreError> {
    Ok(match decode::<ProposalEvent>(stored)? {
        Some(event) => proposal::evolve(state, &event, stored.recorded_at),
        None => state,
    })
}

/// A stored event as one of `E`'s events (upcast if it was stored in an
/// older shape); `None` if it is another aggregate's. An event that cannot
/// be read is [`StoreError::Corrupt`] at its position.
pub fn decode<E: DomainEvent>(stored: &RecordedEvent) -> Result<Option<E>, StoreError> {
    E::decode(&stored.event_type, stored.schema_version, &stored.payload)
        .map_err(|e| corrupt(stored, e))
}

/// A stored event as one of `E`'s events, when it must be one.
pub fn decode_own<E: DomainEvent>(stored: &RecordedEvent) -> Result<E, StoreError> {
    decode::<E>(stored)?.ok_or_else(|| StoreError::Corrupt {
        position: stored.position,
        reason: format!(
            "{} in stream {} is another aggregate's event",
            stored.event_type, stored.stream_id
        ),
    })
}

/// The error of an event that cannot be read, at its position.
pub fn corrupt(stored: &RecordedEvent, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        position: stored.position,
        reason: error.to_string(),
    }
}

/// An event's metadata: the one place it is read. Fields older events lack
/// are `None`; metadata of the wrong shape is an error at its position.
pub fn metadata_of(event: &RecordedEvent) -> Result<Metadata, StoreError> {
    Metadata::from_value(&event.metadata).map_err(|e| corrupt(event, format!("metadata: {e}")))
}

/// The person recorded as the actor in an event's metadata.
pub fn actor_of(event: &RecordedEvent) -> Result<Option<PersonId>, StoreError> {
    Ok(metadata_of(event)?.actor)
}

/// Why an event was recorded: the reason its command gave, kept in its
/// metadata, or, for an event whose reason is its own free text (an
/// objection's reason, a rationale, a note), that text as it reads now
/// (erased once its key is destroyed).
pub fn reason_of(event: &RecordedEvent, metadata: &Metadata) -> Option<String> {
    match crate::domain::personal_data::reason_field(&event.event_type) {
        Some(field) => event
            .payload
            .get(field)
            .and_then(serde_json::Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(str::to_string),
        None => metadata.reason.clone(),
    }
}
