//! What the read-model tables hold, as the queries answer it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::proposal::{Adviser, Owner, ProposalId};

/// One proposal as the read model shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRow {
    /// The proposal.
    pub id: ProposalId,
    /// Its team or group.
    pub owner: Owner,
    /// Its title.
    pub title: String,
    /// Its rule (API name).
    pub rule: String,
    /// `OPEN`, `DECIDED` or `WITHDRAWN`.
    pub state: String,
    /// `ADOPTED` or `REJECTED`, once decided.
    pub outcome: Option<String>,
    /// The position of its raising (its place in lists).
    pub raised_position: u64,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// The position of its decision.
    pub decided_position: Option<u64>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// When its decision is next due for review.
    pub review_by: Option<DateTime<Utc>>,
    /// Whether its decision was revoked.
    pub revoked: bool,
    /// Whether its advice process was followed (once decided).
    pub advice_followed: Option<bool>,
    /// Advice requests made.
    pub requests: u64,
    /// Advice requests answered.
    pub requests_answered: u64,
    /// Objections raised.
    pub objections_raised: u64,
    /// Objections integrated.
    pub objections_integrated: u64,
}

/// One request for advice as the read model shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    /// The request.
    pub request_id: Uuid,
    /// Its proposal.
    pub proposal: ProposalId,
    /// Who was asked.
    pub adviser: Adviser,
    /// Why (API name).
    pub reason: String,
    /// The position of the request (its place in lists).
    pub requested_position: u64,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Whether it was answered.
    pub answered: bool,
    /// Whether its proposal is still open.
    pub open: bool,
}

/// A team's or group's decision statistics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsRow {
    /// Proposals raised.
    pub proposals: u64,
    /// Decisions made.
    pub decisions: u64,
    /// Of which adopted.
    pub adopted: u64,
    /// Seconds from raise to decision, one per decision.
    pub seconds_to_decision: Vec<i64>,
    /// Advice requests made.
    pub requests: u64,
    /// Advice requests answered.
    pub requests_answered: u64,
    /// Decisions whose advice process was followed.
    pub followed: u64,
    /// Objections raised.
    pub objections_raised: u64,
    /// Objections integrated.
    pub objections_integrated: u64,
}

/// Which slice of a list to read: up to `limit` rows after the cursor key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Page<K> {
    /// Rows strictly after this key (in the list's order), or from the start.
    pub after: Option<K>,
    /// At most this many rows.
    pub limit: u32,
}

/// The kind and id columns of an owner.
pub fn owner_columns(owner: Owner) -> (&'static str, Uuid) {
    match owner {
        Owner::Team(team) => ("team", team.0),
        Owner::Group(group) => ("group", group.0),
    }
}

/// An owner from its kind and id columns.
pub fn owner_from(kind: &str, id: Uuid) -> Owner {
    match kind {
        "group" => Owner::Group(crate::domain::GroupId(id)),
        _ => Owner::Team(crate::domain::TeamId(id)),
    }
}

/// The kind and id columns of an adviser.
pub fn adviser_columns(adviser: Adviser) -> (&'static str, Uuid) {
    match adviser {
        Adviser::Person(person) => ("person", person.0),
        Adviser::Team(team) => ("team", team.0),
    }
}

/// An adviser from its kind and id columns.
pub fn adviser_from(kind: &str, id: Uuid) -> Adviser {
    match kind {
        "team" => Adviser::Team(crate::domain::TeamId(id)),
        _ => Adviser::Person(crate::domain::PersonId(id)),
    }
}
