//! The verdict as the API shows it: `compliance { adviceProcessFollowed
//! checks { name passed detail } missingAdvisers openObjections }`, people
//! and teams named.

use async_graphql::{Context, Enum, SimpleObject};
use chrono::{DateTime, Utc};

use super::proposal::{AdviserEntry, Objection};
use super::types::app;
use crate::domain::proposal::{self, compliance::compliance_named, ProposalState};

/// The named checks of the verdict (DESIGN.md, "Rules a decision must pass").
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::proposal::CheckName")]
pub enum CheckName {
    /// Advice was sought from someone other than the proposer and decider.
    AdviceSought,
    /// Every adviser asked answered, or their time to answer had passed.
    AdvisersHeard,
    /// Every request gave at least the minimum window (24 hours) to answer.
    FairWindow,
    /// Every concern, objecting advice and objection has a note.
    ViewsWeighed,
    /// Under consent: the deadline passed, or every eligible member consented or objected.
    ObjectionWindow,
    /// Under consent: no objection is open.
    ObjectionsResolved,
    /// Under a threshold: enough eligible members agree.
    ThresholdMet,
    /// A group's proposal falls within its mandate.
    WithinMandate,
    /// The spend was within what was left of the group's budget.
    WithinBudget,
}

/// One check, judged.
#[derive(SimpleObject)]
pub struct Check {
    /// Which check.
    name: CheckName,
    /// Whether it passed.
    passed: bool,
    /// What was found, in words, naming people and teams.
    detail: String,
}

/// Whether the process was followed, check by check.
#[derive(SimpleObject)]
pub struct Compliance {
    /// True exactly when every check that applies passed: for a decision,
    /// those of its outcome and rule when it was made; for an open proposal,
    /// those an adoption now would face.
    advice_process_followed: bool,
    /// The checks that apply, in order.
    checks: Vec<Check>,
    /// Advisers who have not answered (or never did).
    missing_advisers: Vec<AdviserEntry>,
    /// Objections still open.
    open_objections: Vec<Objection>,
}

impl Compliance {
    /// The verdict on a proposal at `at`, people and teams named from the
    /// directory.
    pub fn of(ctx: &Context<'_>, state: &ProposalState, at: DateTime<Utc>) -> Compliance {
        let directory = app(ctx).read.directory();
        let name = |id: uuid::Uuid| {
            directory
                .person(crate::domain::PersonId(id))
                .map(|p| p.name.clone())
                .or_else(|| {
                    directory
                        .team(crate::domain::TeamId(id))
                        .map(|t| t.name.clone())
                })
                .unwrap_or_else(|| format!("someone ({id})"))
        };
        let verdict = compliance_named(state, at, &name);
        drop(directory);
        Compliance {
            advice_process_followed: verdict.advice_process_followed,
            checks: verdict
                .checks
                .into_iter()
                .map(|c: proposal::Check| Check {
                    name: c.name.into(),
                    passed: c.passed,
                    detail: c.detail,
                })
                .collect(),
            missing_advisers: state
                .requests
                .iter()
                .filter(|r| verdict.missing_advisers.contains(&r.id))
                .cloned()
                .map(AdviserEntry)
                .collect(),
            open_objections: state
                .objections
                .iter()
                .filter(|o| verdict.open_objections.contains(&o.id))
                .cloned()
                .map(Objection)
                .collect(),
        }
    }
}
