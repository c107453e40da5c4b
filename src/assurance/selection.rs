//! Which events a bundle holds: the selection, and what its report needs
//! to be read from the events alone.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use uuid::Uuid;

use super::bundle::Selection;
use super::error::AssuranceError;
use crate::domain::proposal::ProposalId;
use crate::domain::{GroupId, PersonId, TeamId};
use crate::store::{EventStore, RecordedEvent};

/// Chooses the events to export. Short of the whole log, a bundle also
/// holds what its report needs to be read from its events alone: the
/// registration of every person, team and group its events name (for their
/// names), and its proposals' budget commitments and releases.
pub(super) async fn select(
    store: &dyn EventStore,
    selection: Selection,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Vec<RecordedEvent>, AssuranceError> {
    let whole = matches!(selection, Selection::All);
    let mut chosen = Vec::new();
    let mut proposals: BTreeSet<String> = BTreeSet::new();
    let mut registrations: BTreeMap<Uuid, Vec<RecordedEvent>> = BTreeMap::new();
    let mut spending: Vec<RecordedEvent> = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store.read_all(cursor, 2048).await?;
        let Some(last) = page.last() else { break };
        cursor = last.position;
        for event in page {
            if !whole {
                if let Some(id) = registered(&event) {
                    registrations.entry(id).or_default().push(event.clone());
                }
                if matches!(
                    event.event_type.as_str(),
                    "SpendCommitted" | "SpendReleased"
                ) {
                    spending.push(event.clone());
                }
            }
            let keep = match selection {
                Selection::All => true,
                Selection::Proposal(id) => event.stream_id == id.stream(),
                Selection::Team(team) => {
                    if event.event_type == "ProposalRaised"
                        && event.payload.pointer("/owner/team")
                            == Some(&Value::String(team.0.to_string()))
                    {
                        proposals.insert(event.stream_id.clone());
                    }
                    event.stream_id == team.stream() || proposals.contains(&event.stream_id)
                }
            };
            if keep {
                chosen.push(event);
            }
        }
        progress(cursor);
    }
    if !whole {
        let proposals: BTreeSet<String> = chosen
            .iter()
            .filter_map(|e| ProposalId::from_stream(&e.stream_id))
            .map(|p| p.0.to_string())
            .collect();
        let mut extra: Vec<RecordedEvent> = spending
            .into_iter()
            .filter(|e| {
                e.payload
                    .get("proposal_id")
                    .and_then(Value::as_str)
                    .is_some_and(|p| proposals.contains(p))
            })
            .collect();
        let named: BTreeSet<Uuid> = chosen.iter().chain(&extra).flat_map(named).collect();
        extra.extend(
            named
                .iter()
                .filter_map(|id| registrations.get(id))
                .flatten()
                .cloned(),
        );
        chosen.append(&mut extra);
        chosen.sort_by_key(|e| e.position);
        chosen.dedup_by_key(|e| e.position);
    }
    Ok(chosen)
}

/// The person, team or group an event registers, if it is a registration
/// (or a person's correction or erasure, which says what their name now is).
fn registered(event: &RecordedEvent) -> Option<Uuid> {
    match event.event_type.as_str() {
        "PersonRegistered" | "PersonDetailsCorrected" | "PersonErased" => {
            PersonId::from_stream(&event.stream_id).map(|p| p.0)
        }
        "TeamFormed" => TeamId::from_stream(&event.stream_id).map(|t| t.0),
        "GroupFormed" => GroupId::from_stream(&event.stream_id).map(|g| g.0),
        _ => None,
    }
}

/// Every person, team and group id an event names, in its metadata or
/// payload (its free text is not searched).
fn named(event: &RecordedEvent) -> Vec<Uuid> {
    let mut found = Vec::new();
    let mut visit = |value: Option<&Value>| {
        let values = match value {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(value) => vec![value],
            None => Vec::new(),
        };
        found.extend(
            values
                .into_iter()
                .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok())),
        );
    };
    visit(event.metadata.get("actor"));
    for key in [
        "proposer",
        "decider",
        "by",
        "person_id",
        "admin",
        "eligible",
        "team_id",
        "team_ids",
        "group_id",
    ] {
        visit(event.payload.get(key));
    }
    for pointer in [
        "/adviser/person",
        "/adviser/team",
        "/owner/team",
        "/owner/group",
    ] {
        visit(event.payload.pointer(pointer));
    }
    found
}
