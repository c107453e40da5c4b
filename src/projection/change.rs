//! What each event changes in the read models, decided without I/O.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::events::DomainEvent;
use crate::domain::proposal::{
    compliance, Adviser, Outcome, Owner, ProposalEvent, ProposalId, ProposalState, Resolution,
    ReviewOutcome, Rule,
};
use crate::store::RecordedEvent;

/// One change to the read-model tables.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A proposal row appears.
    ProposalRaised {
        /// The proposal.
        id: ProposalId,
        /// Its team or group.
        owner: Owner,
        /// Its title.
        title: String,
        /// Its rule.
        rule: Rule,
        /// The position of its raising.
        position: u64,
        /// When it was raised.
        at: DateTime<Utc>,
        /// When its decision is due for review.
        review_by: Option<DateTime<Utc>>,
    },
    /// An advice request row appears.
    AdviceRequested {
        /// The request.
        request_id: Uuid,
        /// Its proposal.
        proposal: ProposalId,
        /// Who was asked.
        adviser: Adviser,
        /// Why, as its API name.
        reason: String,
        /// The position of the request.
        position: u64,
        /// When.
        at: DateTime<Utc>,
    },
    /// Requests were answered.
    RequestsAnswered {
        /// Their proposal.
        proposal: ProposalId,
        /// The requests.
        requests: Vec<Uuid>,
    },
    /// An objection was raised.
    ObjectionRaised {
        /// Its proposal.
        proposal: ProposalId,
    },
    /// An objection was integrated.
    ObjectionIntegrated {
        /// Its proposal.
        proposal: ProposalId,
    },
    /// The proposal was decided; its requests close.
    Decided {
        /// The proposal.
        proposal: ProposalId,
        /// Adopted or rejected.
        outcome: Outcome,
        /// The position of the decision.
        position: u64,
        /// When.
        at: DateTime<Utc>,
        /// Whether its advice process was followed.
        advice_followed: bool,
    },
    /// The proposal was withdrawn; its requests close.
    Withdrawn {
        /// The proposal.
        proposal: ProposalId,
    },
    /// The decision was reviewed.
    Reviewed {
        /// The proposal.
        proposal: ProposalId,
        /// When it is next due for review.
        review_by: Option<DateTime<Utc>>,
        /// Whether the review revoked it.
        revoked: bool,
    },
}

/// The API name of an enum value (`AFFECTED`, `ADOPTED`, ...).
pub fn api_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What an event changes. `state_at_decision` is the proposal as it stood
/// just after its decision event (needed only for `ProposalDecided`).
pub fn changes(event: &RecordedEvent, state_at_decision: Option<&ProposalState>) -> Vec<Change> {
    let Some(proposal) = ProposalId::from_stream(&event.stream_id) else {
        return Vec::new();
    };
    let Some(decoded) = ProposalEvent::from_stored(&event.event_type, &event.payload) else {
        return Vec::new();
    };
    let change = match decoded {
        ProposalEvent::ProposalRaised {
            owner,
            title,
            rule,
            review_by,
            ..
        } => Change::ProposalRaised {
            id: proposal,
            owner,
            title,
            rule,
            position: event.position,
            at: event.recorded_at,
            review_by,
        },
        ProposalEvent::AdviceRequested {
            request_id,
            adviser,
            reason,
        } => Change::AdviceRequested {
            request_id,
            proposal,
            adviser,
            reason: api_name(&reason),
            position: event.position,
            at: event.recorded_at,
        },
        ProposalEvent::AdviceGiven { answers, .. } if !answers.is_empty() => {
            Change::RequestsAnswered {
                proposal,
                requests: answers,
            }
        }
        ProposalEvent::ObjectionRaised { .. } => Change::ObjectionRaised { proposal },
        ProposalEvent::ObjectionResolved {
            resolution: Resolution::Integrated,
            ..
        } => Change::ObjectionIntegrated { proposal },
        ProposalEvent::ProposalDecided { outcome, .. } => Change::Decided {
            proposal,
            outcome,
            position: event.position,
            at: event.recorded_at,
            advice_followed: state_at_decision
                .map(|state| compliance(state, event.recorded_at).advice_process_followed)
                .unwrap_or(false),
        },
        ProposalEvent::ProposalWithdrawn { .. } => Change::Withdrawn { proposal },
        ProposalEvent::DecisionReviewed {
            outcome,
            next_review_by,
            ..
        } => Change::Reviewed {
            proposal,
            review_by: next_review_by,
            revoked: outcome == ReviewOutcome::Revoke,
        },
        _ => return Vec::new(),
    };
    vec![change]
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

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median_seconds(vec![]), None);
        assert_eq!(median_seconds(vec![30, 10, 20]), Some(20.0));
        assert_eq!(median_seconds(vec![40, 10, 20, 30]), Some(25.0));
    }

    #[test]
    fn enum_values_keep_their_api_names() {
        assert_eq!(
            api_name(&crate::domain::proposal::AdviceReason::Affected),
            "AFFECTED"
        );
        assert_eq!(api_name(&Outcome::Adopted), "ADOPTED");
        assert_eq!(api_name(&Rule::Threshold), "THRESHOLD");
    }
}
