//! The proposals and decisions of a team or group as its page lists them:
//! open proposals by the stage they are at, decisions with their outcome
//! and verdict. Each list is one query of the read models; names come from
//! the directory in memory.

use uuid::Uuid;

use super::super::error::PageError;
use super::super::format::{any_name, person_name, pounds, Formatter};
use super::super::PagesState;
use crate::domain::proposal::compliance::compliance_named;
use crate::domain::proposal::rules::CheckName;
use crate::domain::proposal::{Outcome, Owner, Rule};
use crate::projection::projected::ProjectedProposal;
use crate::read::directory::Directory;
use crate::window::Window;

/// How many open proposals a page lists.
const OPEN_ROWS: u32 = 200;
/// How many decisions a page lists (the register has them all).
const DECISION_ROWS: u32 = 50;

/// Where an open proposal stands: what it waits for before it can be
/// adopted, judged by the same checks as the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Nobody other than the proposer has been asked yet.
    AdviceToSeek,
    /// Someone asked has not answered and their time has not passed.
    WaitingForAdvice,
    /// Under consent: members may still object.
    OpenForObjections,
    /// An objection is open.
    ObjectionsOpen,
    /// Too few members agree yet.
    WaitingForVotes,
    /// Nothing stops the decision.
    ReadyToDecide,
}

impl Stage {
    /// The stage a proposal is at now.
    pub fn of(proposal: &ProjectedProposal, f: &Formatter, name: &dyn Fn(Uuid) -> String) -> Self {
        let verdict = compliance_named(&proposal.state, f.now(), name);
        let failing = |wanted: &[CheckName]| {
            verdict
                .checks
                .iter()
                .any(|c| !c.passed && wanted.contains(&c.name))
        };
        if failing(&[CheckName::ObjectionsResolved]) {
            Stage::ObjectionsOpen
        } else if failing(&[CheckName::AdviceSought]) {
            Stage::AdviceToSeek
        } else if failing(&[CheckName::AdvisersHeard]) {
            Stage::WaitingForAdvice
        } else if failing(&[CheckName::ObjectionWindow]) {
            Stage::OpenForObjections
        } else if failing(&[CheckName::ThresholdMet]) {
            Stage::WaitingForVotes
        } else {
            Stage::ReadyToDecide
        }
    }

    /// Its heading.
    pub fn heading(self) -> &'static str {
        match self {
            Stage::AdviceToSeek => "Advice still to be sought",
            Stage::WaitingForAdvice => "Waiting for advice",
            Stage::OpenForObjections => "Open for objections",
            Stage::ObjectionsOpen => "Objections to resolve",
            Stage::WaitingForVotes => "Waiting for votes",
            Stage::ReadyToDecide => "Ready to decide",
        }
    }

    /// What it means, in a sentence.
    pub fn hint(self) -> &'static str {
        match self {
            Stage::AdviceToSeek => "Nobody other than the proposer has been asked for advice yet.",
            Stage::WaitingForAdvice => {
                "Someone asked for advice has not answered, and their time to answer has not passed."
            }
            Stage::OpenForObjections => {
                "Members may still object: the deadline has not passed, and not everyone has consented or objected."
            }
            Stage::ObjectionsOpen => {
                "An objection is open: it must be integrated, withdrawn or ruled invalid first."
            }
            Stage::WaitingForVotes => "Not enough members agree yet.",
            Stage::ReadyToDecide => "Nothing stops the decider recording the decision now.",
        }
    }

    /// Its anchor on the page.
    pub fn id(self) -> &'static str {
        match self {
            Stage::AdviceToSeek => "stage-advice-to-seek",
            Stage::WaitingForAdvice => "stage-waiting-for-advice",
            Stage::OpenForObjections => "stage-open-for-objections",
            Stage::ObjectionsOpen => "stage-objections-open",
            Stage::WaitingForVotes => "stage-waiting-for-votes",
            Stage::ReadyToDecide => "stage-ready-to-decide",
        }
    }
}

/// A decision rule in words: "Advice", "Consent", "Threshold (50%)".
pub fn rule_words(rule: Option<Rule>, threshold_bp: Option<u32>) -> String {
    match rule {
        Some(Rule::Advice) => "Advice".into(),
        Some(Rule::Consent) => "Consent".into(),
        Some(Rule::Threshold) => match threshold_bp {
            Some(bp) if bp % 100 == 0 => format!("Threshold ({}% must agree)", bp / 100),
            Some(bp) => format!("Threshold ({:.2}% must agree)", f64::from(bp) / 100.0),
            None => "Threshold".into(),
        },
        None => "Unknown".into(),
    }
}

/// One open proposal as a list shows it.
#[derive(Debug, Clone)]
pub struct ProposalItem {
    /// Its title.
    pub title: String,
    /// Its page.
    pub href: String,
    /// Its rule, in words.
    pub rule: String,
    /// Who raised it.
    pub proposer: String,
    /// Its advice deadline with how far away it is, if it has one.
    pub deadline: Option<String>,
    /// Its decision area, if it names one.
    pub area: Option<String>,
    /// Its spend against the group's budget, in pounds.
    pub spend: Option<String>,
}

/// The open proposals at one stage.
#[derive(Debug, Clone)]
pub struct StageGroup {
    /// Its heading.
    pub heading: &'static str,
    /// What it means.
    pub hint: &'static str,
    /// Its anchor.
    pub id: &'static str,
    /// Its proposals, newest first.
    pub items: Vec<ProposalItem>,
}

/// One decision as a list shows it.
#[derive(Debug, Clone)]
pub struct DecisionItem {
    /// The proposal's title.
    pub title: String,
    /// Its page.
    pub href: String,
    /// "Adopted" or "Rejected".
    pub outcome: &'static str,
    /// When it was decided.
    pub date: String,
    /// Whether every check of the verdict passed, if judged.
    pub followed: Option<bool>,
    /// "superseded" or "revoked" when it no longer stands.
    pub standing: Option<&'static str>,
}

/// An owner's open proposals by stage, in stage order (stages with none
/// left out): one query.
pub async fn open_by_stage(
    state: &PagesState,
    owner: Owner,
    f: &Formatter,
) -> Result<Vec<StageGroup>, PageError> {
    let rows = state
        .app
        .projector
        .views()
        .proposals(owner, Some("OPEN"), Window::first(None, OPEN_ROWS))
        .await?;
    let directory = state.app.read.directory();
    let name = |id| any_name(&directory, id);
    let mut staged: Vec<(Stage, ProposalItem)> = rows
        .iter()
        .map(|row| (Stage::of(row, f, &name), proposal_item(row, &directory, f)))
        .collect();
    // Stable: within a stage, newest first as the query answered.
    staged.sort_by_key(|(stage, _)| *stage);
    let mut groups: Vec<StageGroup> = Vec::new();
    for (stage, item) in staged {
        match groups.last_mut() {
            Some(group) if group.id == stage.id() => group.items.push(item),
            _ => groups.push(StageGroup {
                heading: stage.heading(),
                hint: stage.hint(),
                id: stage.id(),
                items: vec![item],
            }),
        }
    }
    Ok(groups)
}

fn proposal_item(row: &ProjectedProposal, directory: &Directory, f: &Formatter) -> ProposalItem {
    let state = &row.state;
    ProposalItem {
        title: state.title.clone(),
        href: format!("/proposals/{}", row.id.0),
        rule: rule_words(state.rule, state.threshold_bp),
        proposer: state
            .proposer
            .map(|p| person_name(directory, p))
            .unwrap_or_default(),
        deadline: state.advice_deadline.map(|at| f.when(at)),
        area: state.area.clone(),
        spend: state.spend.map(pounds),
    }
}

/// An owner's latest decisions, most recent first: one query (or none,
/// when the projector keeps the first page in memory).
pub async fn decisions(
    state: &PagesState,
    owner: Owner,
    f: &Formatter,
) -> Result<Vec<DecisionItem>, PageError> {
    let rows = state
        .app
        .projector
        .decisions(owner, Window::first(None, DECISION_ROWS))
        .await?;
    Ok(rows
        .iter()
        .take(DECISION_ROWS as usize)
        .filter_map(|row| {
            let decision = row.state.decision.as_ref()?;
            let standing = if row.state.superseded_by.is_some() {
                Some("superseded")
            } else if row.state.revoked() {
                Some("revoked")
            } else {
                None
            };
            Some(DecisionItem {
                title: row.state.title.clone(),
                href: format!("/proposals/{}", row.id.0),
                outcome: match decision.outcome {
                    Outcome::Adopted => "Adopted",
                    Outcome::Rejected => "Rejected",
                },
                date: f.date(decision.at),
                followed: row.advice_followed,
                standing,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_in_words_with_the_threshold_as_a_percentage() {
        assert_eq!(rule_words(Some(Rule::Advice), None), "Advice");
        assert_eq!(
            rule_words(Some(Rule::Threshold), Some(5_000)),
            "Threshold (50% must agree)"
        );
        assert_eq!(
            rule_words(Some(Rule::Threshold), Some(3_333)),
            "Threshold (33.33% must agree)"
        );
    }
}
