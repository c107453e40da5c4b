//! A proposal as the read models keep it: its folded state, the log
//! positions of its milestones and who acted at them. It is stored whole
//! with its row, so a page of proposals is one query and no stream reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rows::{ProposalRow, RequestRow, SearchText};
use crate::domain::proposal::{
    compliance, evolve, ProposalEvent, ProposalId, ProposalState, Resolution, Status,
};
use crate::domain::PersonId;
use crate::store::{RecordedEvent, StoreError};
use crate::stored::{actor_of, decode};

/// One proposal's read model, folded from its events in log order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectedProposal {
    /// The proposal.
    pub id: ProposalId,
    /// Its state.
    pub state: ProposalState,
    /// The position of its raising.
    pub raised_position: u64,
    /// The position of its decision.
    pub decided_position: Option<u64>,
    /// Whether its advice process was followed, judged when it was decided.
    pub advice_followed: Option<bool>,
    /// The position of each advice request.
    pub request_positions: BTreeMap<Uuid, u64>,
    /// Who recorded the decision.
    pub decided_by: Option<PersonId>,
    /// Who recorded each review, in order.
    pub reviewed_by: Vec<Option<PersonId>>,
    /// The names of the verdict's checks that failed, judged when it was
    /// decided (empty before).
    #[serde(default)]
    pub failing_checks: Vec<String>,
}

impl ProjectedProposal {
    /// A proposal with no events applied yet.
    pub fn new(id: ProposalId) -> Self {
        ProjectedProposal {
            id,
            state: ProposalState::default(),
            raised_position: 0,
            decided_position: None,
            advice_followed: None,
            request_positions: BTreeMap::new(),
            decided_by: None,
            reviewed_by: Vec::new(),
            failing_checks: Vec::new(),
        }
    }

    /// Applies one of the proposal's events (another aggregate's known
    /// event is passed over). An event that cannot be read, or whose
    /// metadata cannot, is an error naming its position.
    pub fn apply(&mut self, event: &RecordedEvent) -> Result<(), StoreError> {
        let Some(decoded) = decode::<ProposalEvent>(event)? else {
            return Ok(());
        };
        let actor = actor_of(event)?;
        match &decoded {
            ProposalEvent::ProposalRaised { .. } => self.raised_position = event.position,
            ProposalEvent::AdviceRequested { request_id, .. } => {
                self.request_positions.insert(*request_id, event.position);
            }
            ProposalEvent::DecisionReviewed { .. } => self.reviewed_by.push(actor),
            _ => {}
        }
        self.state = evolve(std::mem::take(&mut self.state), &decoded, event.recorded_at);
        if let ProposalEvent::ProposalDecided { .. } = decoded {
            self.decided_position = Some(event.position);
            self.decided_by = actor;
            let verdict = compliance(&self.state, event.recorded_at);
            self.advice_followed = Some(verdict.advice_process_followed);
            self.failing_checks = verdict
                .checks
                .iter()
                .filter(|check| !check.passed)
                .map(|check| check.name.as_str().to_string())
                .collect();
        }
        Ok(())
    }

    /// Whether it was raised (only raised proposals have rows).
    pub fn is_raised(&self) -> bool {
        self.state.status != Status::Unraised
    }

    /// Its row in the proposals table, once raised.
    pub fn row(&self) -> Option<ProposalRow> {
        let state = &self.state;
        let owner = state.owner?;
        let raised_at = state.raised_at?;
        if state.status == Status::Unraised {
            return None;
        }
        let status: &str = state.status.into();
        Some(ProposalRow {
            id: self.id,
            owner,
            title: state.title.clone(),
            rule: state.rule.map(api_name).unwrap_or_default(),
            state: status.into(),
            outcome: state.decision.as_ref().map(|d| api_name(d.outcome)),
            raised_position: self.raised_position,
            raised_at,
            decided_position: self.decided_position,
            decided_at: state.decision.as_ref().map(|d| d.at),
            review_by: state.next_review_by(),
            // A superseded decision is no longer due for review, like a revoked one.
            revoked: state.revoked() || state.superseded_by.is_some(),
            advice_followed: self.advice_followed,
            requests: count(state.requests.len()),
            requests_answered: count(
                state
                    .requests
                    .iter()
                    .filter(|r| r.answered_by.is_some())
                    .count(),
            ),
            objections_raised: count(state.objections.len()),
            objections_integrated: count(
                state
                    .objections
                    .iter()
                    .filter(|o| matches!(o.resolution, Some((Resolution::Integrated, _, _))))
                    .count(),
            ),
            failing_checks: self.failing_checks_column(),
        })
    }

    /// The `failing_checks` column: each failing check's name with a comma
    /// either side (`,ADVICE_SOUGHT,FAIR_WINDOW,`), or empty when none failed.
    fn failing_checks_column(&self) -> String {
        if self.failing_checks.is_empty() {
            String::new()
        } else {
            format!(",{},", self.failing_checks.join(","))
        }
    }

    /// Its text in the search index, once raised: the title, the current
    /// body and the rationales, each cut to a bound (so no text, however
    /// long, can overflow an index entry) and with control characters but
    /// newlines and tabs made spaces.
    pub fn search_text(&self) -> Option<SearchText> {
        if !self.is_raised() {
            return None;
        }
        let state = &self.state;
        let rationales = state
            .decision
            .iter()
            .map(|d| d.rationale.as_str())
            .chain(state.amendments.iter().map(|a| a.reason.as_str()))
            .chain(state.reviews.iter().map(|r| r.note.as_str()))
            .chain(state.withdrawn_reason.as_deref())
            .collect::<Vec<_>>()
            .join("\n");
        Some(SearchText {
            proposal: self.id,
            raised_position: self.raised_position,
            title: searchable(&state.title, MAX_SEARCH_TITLE),
            body: searchable(state.body(), MAX_SEARCH_TEXT),
            rationales: searchable(&rationales, MAX_SEARCH_TEXT),
        })
    }

    /// Its advice requests' rows.
    pub fn request_rows(&self) -> Vec<RequestRow> {
        let open = self.state.status == Status::Open;
        self.state
            .requests
            .iter()
            .map(|request| RequestRow {
                request_id: request.id,
                proposal: self.id,
                adviser: request.adviser,
                reason: api_name(request.reason),
                requested_position: self
                    .request_positions
                    .get(&request.id)
                    .copied()
                    .unwrap_or(self.raised_position),
                requested_at: request.at,
                answered: request.answered_by.is_some(),
                open,
            })
            .collect()
    }
}

/// The most bytes of a title the search index keeps.
const MAX_SEARCH_TITLE: usize = 4 * 1024;
/// The most bytes of a body, or of the rationales, the search index keeps
/// (PostgreSQL's `tsvector` of all three stays far below its 1 MB bound).
const MAX_SEARCH_TEXT: usize = 64 * 1024;

/// `text` cut to at most `max` bytes (at a character boundary), with every
/// control character but newline and tab (NUL among them) made a space.
fn searchable(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end]
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The API name of an enum value (`AFFECTED`, `ADOPTED`, ...), as its
/// `strum` derive names it.
fn api_name(value: impl Into<&'static str>) -> String {
    value.into().to_string()
}

/// The median of some durations in seconds, or `None` for none.
pub fn median_seconds(mut seconds: Vec<i64>) -> Option<f64> {
    if seconds.is_empty() {
        return None;
    }
    seconds.sort_unstable();
    let mid = seconds.len() / 2;
    Some(if seconds.len() % 2 == 0 {
        (seconds[mid - 1] as f64 + seconds[mid] as f64) / 2.0
    } else {
        seconds[mid] as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::DomainEvent;
    use crate::domain::proposal::{AdviceReason, Adviser, Outcome, Owner, Rule, Stance};
    use crate::domain::TeamId;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn recorded(position: u64, event: ProposalEvent, actor: PersonId) -> RecordedEvent {
        let (event_type, payload) = event.to_stored();
        RecordedEvent {
            position,
            event_id: Uuid::new_v4(),
            stream_id: "proposal-x".into(),
            stream_version: position,
            event_type,
            schema_version: 1,
            payload,
            metadata: json!({ "actor": actor }),
            recorded_at: Utc
                .timestamp_opt(1_700_000_000 + position as i64 * 60, 0)
                .unwrap(),
            leaf_hash: [0; 32],
        }
    }

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median_seconds(vec![]), None);
        assert_eq!(median_seconds(vec![30, 10, 20]), Some(20.0));
        assert_eq!(median_seconds(vec![40, 10, 20, 30]), Some(25.0));
    }

    #[test]
    fn given_a_decision_without_advice_its_failing_checks_are_kept_and_text_is_bounded() {
        let alice = PersonId::random();
        let mut projected = ProjectedProposal::new(ProposalId::random());
        let raised = ProposalEvent::ProposalRaised {
            owner: Owner::Team(TeamId::random()),
            proposer: alice,
            decider: alice,
            title: "Rota\0night".into(),
            body: format!("x{}", "é".repeat(MAX_SEARCH_TEXT)),
            rule: Rule::Advice,
            threshold_bp: None,
            advice_deadline: None,
            area: None,
            spend: None,
            review_by: None,
            eligible: vec![alice],
            supersedes: None,
            advice_window_hours: None,
        };
        let decided = ProposalEvent::ProposalDecided {
            outcome: Outcome::Adopted,
            rationale: "Urgent".into(),
            notes: vec![],
            missing_advisers: vec![],
            agree_votes: 0,
            required_votes: 0,
            budget_remaining: None,
        };
        projected.apply(&recorded(1, raised, alice)).expect("raise");
        assert_eq!(projected.row().expect("row").failing_checks, "");
        projected
            .apply(&recorded(2, decided, alice))
            .expect("decide");
        let row = projected.row().expect("row");
        assert_eq!(row.advice_followed, Some(false));
        assert_eq!(row.failing_checks, ",ADVICE_SOUGHT,");
        let text = projected.search_text().expect("search text");
        assert_eq!(text.title, "Rota night", "NUL is a space in the index");
        assert_eq!(
            text.body.len(),
            MAX_SEARCH_TEXT - 1,
            "cut at a character boundary"
        );
        assert_eq!(text.raised_position, 1);
    }

    #[test]
    fn enum_values_keep_their_api_names() {
        assert_eq!(api_name(AdviceReason::Affected), "AFFECTED");
        assert_eq!(api_name(Outcome::Adopted), "ADOPTED");
        assert_eq!(api_name(Rule::Threshold), "THRESHOLD");
        assert_eq!(api_name(Status::Withdrawn), "WITHDRAWN");
    }

    #[test]
    fn given_a_lifecycle_the_row_and_requests_say_where_it_stands() {
        let (alice, bob) = (PersonId::random(), PersonId::random());
        let team = TeamId::random();
        let request = Uuid::new_v4();
        let mut projected = ProjectedProposal::new(ProposalId::random());
        assert!(projected.row().is_none(), "no row before it is raised");
        let events = [
            (
                ProposalEvent::ProposalRaised {
                    owner: Owner::Team(team),
                    proposer: alice,
                    decider: alice,
                    title: "Rota".into(),
                    body: "Swap nights".into(),
                    rule: Rule::Advice,
                    threshold_bp: None,
                    advice_deadline: None,
                    area: None,
                    spend: None,
                    review_by: None,
                    eligible: vec![alice, bob],
                    supersedes: None,
                    advice_window_hours: None,
                },
                alice,
            ),
            (
                ProposalEvent::AdviceRequested {
                    request_id: request,
                    adviser: Adviser::Person(bob),
                    reason: AdviceReason::Expert,
                    respond_by: None,
                },
                alice,
            ),
            (
                ProposalEvent::AdviceGiven {
                    advice_id: Uuid::new_v4(),
                    by: bob,
                    stance: Stance::Support,
                    text: "Yes".into(),
                    answers: vec![request],
                },
                bob,
            ),
            (
                ProposalEvent::ProposalDecided {
                    outcome: Outcome::Adopted,
                    rationale: "Advised".into(),
                    notes: vec![],
                    missing_advisers: vec![],
                    agree_votes: 0,
                    required_votes: 0,
                    budget_remaining: None,
                },
                alice,
            ),
        ];
        for (i, (event, actor)) in events.into_iter().enumerate() {
            projected
                .apply(&recorded(10 + i as u64, event, actor))
                .expect("applies");
        }
        let row = projected.row().expect("a row once raised");
        assert_eq!(
            (row.state.as_str(), row.outcome.as_deref()),
            ("DECIDED", Some("ADOPTED"))
        );
        assert_eq!((row.raised_position, row.decided_position), (10, Some(13)));
        assert_eq!((row.requests, row.requests_answered), (1, 1));
        assert_eq!(row.advice_followed, Some(true));
        assert_eq!(row.failing_checks, "", "every check passed");
        let text = projected.search_text().expect("search text");
        assert_eq!(
            (
                text.title.as_str(),
                text.body.as_str(),
                text.rationales.as_str()
            ),
            ("Rota", "Swap nights", "Advised")
        );
        assert_eq!(projected.decided_by, Some(alice));
        let requests = projected.request_rows();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (
                requests[0].requested_position,
                requests[0].answered,
                requests[0].open
            ),
            (11, true, false)
        );
        let stored = serde_json::to_string(&projected).expect("serialize");
        let back: ProjectedProposal = serde_json::from_str(&stored).expect("deserialize");
        assert_eq!(back, projected, "the stored document reads back the same");
    }
}
