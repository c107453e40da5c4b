//! The bundle's events read back into the domain: each proposal's events
//! folded into its [`ProposalState`] by the domain's own
//! [`evolve`](crate::domain::proposal::evolve) (as the read models fold
//! them), with what the state does not keep (who acted, when, at which log
//! position); the budget commitments of the proposals; and the names of the
//! people, teams and groups the bundle registers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::assurance::bundle::Line;
use crate::domain::budget::BudgetEvent;
use crate::domain::events::DomainEvent;
use crate::domain::group::GroupEvent;
use crate::domain::metadata::Metadata;
use crate::domain::person::PersonEvent;
use crate::domain::proposal::{evolve, ProposalEvent, ProposalId, ProposalState};
use crate::domain::team::TeamEvent;
use crate::domain::{GroupId, PersonId, TeamId};

/// Who did something, when, and where in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Acted {
    /// The actor (`None`: the operator, from the command line).
    pub(super) by: Option<PersonId>,
    /// When it was recorded.
    pub(super) at: DateTime<Utc>,
    /// Its log position.
    pub(super) position: u64,
}

/// A move of the advice deadline.
#[derive(Debug, Clone)]
pub(super) struct DeadlineMove {
    /// The new deadline.
    pub(super) deadline: DateTime<Utc>,
    /// Why.
    pub(super) reason: String,
    /// Who moved it, and when.
    pub(super) acted: Acted,
}

/// A proposal's spend committed to, or released from, its group's budget.
#[derive(Debug, Clone)]
pub(super) struct BudgetEntry {
    /// The group whose budget it is.
    pub(super) group: Option<GroupId>,
    /// Committed (`true`) or released.
    pub(super) committed: bool,
    /// Minor units (pence).
    pub(super) amount: i64,
    /// When, and at which position.
    pub(super) acted: Acted,
}

/// One proposal as the bundle's events tell it.
#[derive(Debug, Clone)]
pub(super) struct Folded {
    /// The proposal.
    pub(super) id: ProposalId,
    /// Its state, folded by the domain.
    pub(super) state: ProposalState,
    /// The position of its raising (`None` if the bundle lacks it).
    pub(super) raised: Option<Acted>,
    /// The position of its first event in the bundle.
    pub(super) first_position: u64,
    /// Who asked each adviser, by request id.
    pub(super) requested: BTreeMap<Uuid, Acted>,
    /// Who resolved each objection, by objection id.
    pub(super) resolved: BTreeMap<Uuid, Acted>,
    /// Who made each amendment, in the order of `state.amendments`.
    pub(super) amended: Vec<Acted>,
    /// Moves of the advice deadline, in order.
    pub(super) deadlines: Vec<DeadlineMove>,
    /// Who recorded the decision.
    pub(super) decided: Option<Acted>,
    /// Who withdrew it.
    pub(super) withdrawn: Option<Acted>,
    /// When a later decision superseded it.
    pub(super) superseded: Option<Acted>,
    /// Who recorded each review, in the order of `state.reviews`.
    pub(super) reviewed: Vec<Acted>,
    /// Its budget commitments and releases, in order.
    pub(super) budget: Vec<BudgetEntry>,
}

/// Names of the people, teams and groups the bundle registers.
#[derive(Debug, Default)]
pub(super) struct Directory {
    people: BTreeMap<Uuid, String>,
    teams: BTreeMap<Uuid, String>,
    groups: BTreeMap<Uuid, String>,
}

impl Directory {
    /// A person's name.
    pub(super) fn person(&self, id: PersonId) -> String {
        self.people
            .get(&id.0)
            .cloned()
            .unwrap_or_else(|| format!("someone ({id})"))
    }

    /// Whoever acted: a person by name, or the operator.
    pub(super) fn actor(&self, by: Option<PersonId>) -> String {
        by.map(|p| self.person(p))
            .unwrap_or_else(|| "the operator".into())
    }

    /// A team's name.
    pub(super) fn team(&self, id: TeamId) -> String {
        self.teams
            .get(&id.0)
            .cloned()
            .unwrap_or_else(|| format!("a team ({id})"))
    }

    /// A group's name.
    pub(super) fn group(&self, id: GroupId) -> String {
        self.groups
            .get(&id.0)
            .cloned()
            .unwrap_or_else(|| format!("a group ({id})"))
    }

    /// A person's or team's name, as the verdict's details name them.
    pub(super) fn any(&self, id: Uuid) -> String {
        self.people
            .get(&id)
            .or_else(|| self.teams.get(&id))
            .or_else(|| self.groups.get(&id))
            .cloned()
            .unwrap_or_else(|| format!("someone ({id})"))
    }
}

/// What the report is made from.
#[derive(Debug)]
pub(super) struct Bundle {
    /// Each proposal, in the order it was raised (log position).
    pub(super) proposals: Vec<Folded>,
    /// Names.
    pub(super) directory: Directory,
    /// The time of the bundle's last event: open proposals are judged as
    /// they stood then.
    pub(super) as_of: Option<DateTime<Utc>>,
}

/// A bundle line's envelope, read.
struct Envelope<'a> {
    stream: String,
    event_type: String,
    schema_version: i32,
    payload: &'a Value,
    acted: Acted,
}

/// Why an event could not be read, naming its position.
fn unreadable(position: u64, why: impl std::fmt::Display) -> String {
    format!("the event at position {position}: {why}")
}

fn envelope(line: &Line) -> Result<Envelope<'_>, String> {
    let position = line.position();
    let at = DateTime::parse_from_rfc3339(&line.str("/recorded_at"))
        .map_err(|e| unreadable(position, format!("recorded_at: {e}")))?
        .with_timezone(&Utc);
    let metadata = Metadata::from_value(&line.doc["metadata"])
        .map_err(|e| unreadable(position, format!("metadata: {e}")))?;
    let schema_version = line.doc["schema_version"]
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or(1);
    Ok(Envelope {
        stream: line.str("/stream_id"),
        event_type: line.str("/event_type"),
        schema_version,
        payload: &line.doc["payload"],
        acted: Acted {
            by: metadata.actor,
            at,
            position,
        },
    })
}

fn decode<E: DomainEvent>(e: &Envelope<'_>) -> Result<Option<E>, String> {
    E::decode(&e.event_type, e.schema_version, e.payload)
        .map_err(|why| unreadable(e.acted.position, why))
}

/// Reads the bundle's events (in the order the bundle holds them, which is
/// log order). An event the domain cannot read is an error naming its
/// position.
pub(super) fn read(lines: &[Line]) -> Result<Bundle, String> {
    let mut directory = Directory::default();
    let mut proposals: BTreeMap<ProposalId, Folded> = BTreeMap::new();
    let mut budget: Vec<(ProposalId, BudgetEntry)> = Vec::new();
    let mut as_of: Option<DateTime<Utc>> = None;
    for line in lines {
        let e = envelope(line)?;
        as_of = as_of.max(Some(e.acted.at));
        if let Some(id) = ProposalId::from_stream(&e.stream) {
            let Some(event) = decode::<ProposalEvent>(&e)? else {
                continue;
            };
            let folded = proposals.entry(id).or_insert_with(|| Folded {
                id,
                state: ProposalState::default(),
                raised: None,
                first_position: e.acted.position,
                requested: BTreeMap::new(),
                resolved: BTreeMap::new(),
                amended: Vec::new(),
                deadlines: Vec::new(),
                decided: None,
                withdrawn: None,
                superseded: None,
                reviewed: Vec::new(),
                budget: Vec::new(),
            });
            note(folded, &event, e.acted);
            folded.state = evolve(std::mem::take(&mut folded.state), &event, e.acted.at);
            continue;
        }
        match e.event_type.as_str() {
            "PersonRegistered" | "PersonDetailsCorrected" | "PersonErased" => {
                let id = PersonId::from_stream(&e.stream);
                let name = match decode(&e)? {
                    Some(PersonEvent::PersonRegistered { name, .. })
                    | Some(PersonEvent::PersonDetailsCorrected { name, .. }) => Some(name),
                    Some(PersonEvent::PersonErased { .. }) => {
                        Some(crate::domain::person::ERASED_NAME.to_string())
                    }
                    _ => None,
                };
                if let (Some(id), Some(name)) = (id, name) {
                    directory.people.insert(id.0, name);
                }
            }
            "TeamFormed" => {
                if let (Some(id), Some(TeamEvent::TeamFormed { name })) =
                    (TeamId::from_stream(&e.stream), decode(&e)?)
                {
                    directory.teams.insert(id.0, name);
                }
            }
            "GroupFormed" => {
                if let (Some(id), Some(GroupEvent::GroupFormed { name, .. })) =
                    (GroupId::from_stream(&e.stream), decode(&e)?)
                {
                    directory.groups.insert(id.0, name);
                }
            }
            "SpendCommitted" | "SpendReleased" => {
                let group = e
                    .stream
                    .strip_prefix("budget-")
                    .and_then(|rest| Uuid::parse_str(rest).ok())
                    .map(GroupId);
                let (proposal, committed, amount) = match decode::<BudgetEvent>(&e)? {
                    Some(BudgetEvent::SpendCommitted {
                        proposal_id,
                        amount,
                    }) => (proposal_id, true, amount),
                    Some(BudgetEvent::SpendReleased {
                        proposal_id,
                        amount,
                    }) => (proposal_id, false, amount),
                    Some(BudgetEvent::BudgetAllocated { .. }) | None => continue,
                };
                budget.push((
                    proposal,
                    BudgetEntry {
                        group,
                        committed,
                        amount,
                        acted: e.acted,
                    },
                ));
            }
            _ => {}
        }
    }
    for (proposal, entry) in budget {
        if let Some(folded) = proposals.get_mut(&proposal) {
            folded.budget.push(entry);
        }
    }
    let mut proposals: Vec<Folded> = proposals.into_values().collect();
    proposals.sort_by_key(|p| (p.raised.map_or(u64::MAX, |r| r.position), p.first_position));
    Ok(Bundle {
        proposals,
        directory,
        as_of,
    })
}

/// Keeps what the state does not: who acted, when and where.
fn note(folded: &mut Folded, event: &ProposalEvent, acted: Acted) {
    match event {
        ProposalEvent::ProposalRaised { .. } => folded.raised = Some(acted),
        ProposalEvent::AdviceRequested { request_id, .. } => {
            folded.requested.insert(*request_id, acted);
        }
        ProposalEvent::AdviceDeadlineSet { deadline, reason } => {
            folded.deadlines.push(DeadlineMove {
                deadline: *deadline,
                reason: reason.clone(),
                acted,
            })
        }
        ProposalEvent::ObjectionResolved { objection_id, .. } => {
            folded.resolved.insert(*objection_id, acted);
        }
        ProposalEvent::ProposalDecided { .. } => folded.decided = Some(acted),
        ProposalEvent::ProposalWithdrawn { .. } => folded.withdrawn = Some(acted),
        ProposalEvent::DecisionSuperseded { .. } => folded.superseded = Some(acted),
        ProposalEvent::DecisionReviewed { .. } => folded.reviewed.push(acted),
        ProposalEvent::ProposalAmended { .. } => folded.amended.push(acted),
        ProposalEvent::AdviceGiven { .. }
        | ProposalEvent::ObjectionRaised { .. }
        | ProposalEvent::VoteCast { .. }
        | ProposalEvent::TextRedacted { .. } => {}
    }
}
