//! What the read-model tables hold, as the queries answer it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::projected::ProjectedProposal;
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
    /// The names of the verdict's checks that failed when it was decided,
    /// as the column holds them: `,ADVICE_SOUGHT,FAIR_WINDOW,` (commas
    /// around each name), empty when none failed or it is not decided.
    pub failing_checks: String,
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

/// Which decisions the register lists: every decision of any owner
/// unless a field narrows it (the default lists them all).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegisterFilter {
    /// Only decisions of these teams or groups (empty: of every owner).
    /// A team filter passes the team, a group filter the group.
    pub owners: Vec<Owner>,
    /// Only decisions under this rule (API name: `ADVICE`, `CONSENT`,
    /// `THRESHOLD`).
    pub rule: Option<String>,
    /// Only decisions made at or after this time.
    pub decided_from: Option<DateTime<Utc>>,
    /// Only decisions made before this time (exclusive).
    pub decided_to: Option<DateTime<Utc>>,
    /// Only decisions whose verdict failed this check (API name, e.g.
    /// `FAIR_WINDOW`, any case), or any check at all: [`ANY_FAILING_CHECK`].
    pub failing_check: Option<String>,
}

/// The [`RegisterFilter::failing_check`] that means "any failing check".
pub const ANY_FAILING_CHECK: &str = "ANY";

/// One answer of a search: a proposal and how well it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The proposal found.
    pub proposal: ProjectedProposal,
    /// How well it matched, higher is better. Scores compare only within
    /// one search on one backend (SQLite's is the negated BM25, PostgreSQL's
    /// `ts_rank`).
    pub rank: f64,
}

/// An owner's decisions of one calendar month (UTC), for the team and group
/// pages' small charts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonthRow {
    /// The month, `2026-11`.
    pub month: String,
    /// Decisions made in it.
    pub decisions: u64,
    /// Of which adopted.
    pub adopted: u64,
    /// Of which every check of the verdict passed (the advice process was
    /// followed).
    pub followed: u64,
    /// Seconds from raise to decision, one per decision, in decision order.
    pub seconds_to_decision: Vec<i64>,
}

impl MonthRow {
    /// The median time from raise to decision in seconds, or `None` when
    /// there were no decisions.
    pub fn median_seconds(&self) -> Option<f64> {
        super::projected::median_seconds(self.seconds_to_decision.clone())
    }
}

/// A proposal's text as the search index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchText {
    /// The proposal.
    pub proposal: ProposalId,
    /// The position of its raising (SQLite's index row id).
    pub raised_position: u64,
    /// Its title.
    pub title: String,
    /// Its current body.
    pub body: String,
    /// Why things were done to it, one per line: its decision's rationale,
    /// its amendments' reasons, its reviews' notes, its withdrawal's reason.
    pub rationales: String,
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
