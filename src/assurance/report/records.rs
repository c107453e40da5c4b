//! The records of a proposal's section: who was asked, advice, objections,
//! votes, the decision with its weighing, reviews and the verdict.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fold::{Directory, Folded};
use super::section::{at, percent, when};
use crate::domain::proposal::compliance::compliance_named;
use crate::domain::proposal::rules::adviser_name;
use crate::domain::proposal::{required_votes, ProposalState, Rule, Stance, Status};

/// A row of "Who was asked".
pub(super) struct AskedRow {
    /// The person or team asked.
    pub(super) adviser: String,
    /// Why (`AFFECTED`, `EXPERT`).
    pub(super) reason: String,
    /// When, and by whom.
    pub(super) asked: String,
    /// Their time to answer.
    pub(super) due: String,
    /// Whether and when they answered.
    pub(super) answered: String,
}

/// A row of "Advice".
pub(super) struct AdviceRow {
    /// Who gave it.
    pub(super) by: String,
    /// `SUPPORT`, `CONCERN` or `OBJECT`.
    pub(super) stance: String,
    /// What they said.
    pub(super) text: String,
    /// When.
    pub(super) at: String,
}

/// A row of "Objections".
pub(super) struct ObjectionRow {
    /// Who raised it.
    pub(super) by: String,
    /// The harm it claims.
    pub(super) reason: String,
    /// When, against which version.
    pub(super) raised: String,
    /// `OPEN`, or how it was resolved (with the validity test it failed).
    pub(super) resolution: String,
    /// The resolution's note.
    pub(super) note: String,
    /// Who resolved it, and when.
    pub(super) resolved: String,
}

/// A row of "Votes".
pub(super) struct VoteRow {
    /// Who.
    pub(super) by: String,
    /// What their latest vote says.
    pub(super) vote: String,
    /// When they cast it.
    pub(super) at: String,
}

/// The votes, under a rule that takes them.
pub(super) struct Voting {
    /// What a vote means under the rule, and for a threshold the count.
    pub(super) summary: String,
    /// Each voter's latest vote.
    pub(super) votes: Vec<VoteRow>,
}

/// A row of the decision's weighing: a view and how it was weighed.
pub(super) struct WeighedRow {
    /// The view: advice or objection, by whom.
    pub(super) view: String,
    /// What it said.
    pub(super) said: String,
    /// How it was weighed (or that no note weighs it).
    pub(super) note: String,
}

/// The decision.
pub(super) struct DecisionView {
    /// `ADOPTED` or `REJECTED`.
    pub(super) outcome: String,
    /// Who recorded it, and when.
    pub(super) by: String,
    /// Why.
    pub(super) rationale: String,
    /// Each view beside how it was weighed.
    pub(super) weighed: Vec<WeighedRow>,
    /// Advisers never heard (their time had run out).
    pub(super) missing: String,
}

/// A row of "Reviews".
pub(super) struct ReviewRow {
    /// `KEEP` (or, in older reviews, `AMEND` / `REVOKE`).
    pub(super) outcome: String,
    /// Who, and when.
    pub(super) by: String,
    /// What the review found.
    pub(super) note: String,
    /// When to review next.
    pub(super) next: String,
}

/// A row of the verdict.
pub(super) struct CheckRow {
    /// The check's name, as the API names it.
    pub(super) name: &'static str,
    /// `passed` or `FAILED`.
    pub(super) passed: &'static str,
    /// What was found.
    pub(super) detail: String,
}

/// The verdict, as `compliance` judges it.
pub(super) struct Verdict {
    /// `yes` or `no` (`yes (no check applies)` when nothing was judged).
    pub(super) followed: &'static str,
    /// What it was judged at.
    pub(super) basis: String,
    /// Every check that applies.
    pub(super) checks: Vec<CheckRow>,
}

/// What each adviser said.
pub(super) fn advice(state: &ProposalState, names: &Directory) -> Vec<AdviceRow> {
    state
        .advice
        .iter()
        .map(|a| AdviceRow {
            by: names.person(a.by),
            stance: <&str>::from(a.stance).into(),
            text: a.text.clone(),
            at: when(a.at),
        })
        .collect()
}

/// The reviews, each with who recorded it.
pub(super) fn reviews(folded: &Folded, names: &Directory) -> Vec<ReviewRow> {
    let mut recorded = folded.reviewed.iter();
    folded
        .state
        .reviews
        .iter()
        .map(|review| ReviewRow {
            outcome: <&str>::from(review.outcome).into(),
            by: recorded
                .next()
                .map(|a| format!("{}, {}", names.actor(a.by), at(a)))
                .unwrap_or_else(|| when(review.at)),
            note: review.note.clone(),
            next: review.next_review_by.map(when).unwrap_or_default(),
        })
        .collect()
}

/// Who was asked, why, when, their time to answer and their answer.
pub(super) fn asked(
    folded: &Folded,
    names: &Directory,
    name: &dyn Fn(Uuid) -> String,
) -> Vec<AskedRow> {
    let state = &folded.state;
    let missing = state
        .decision
        .as_ref()
        .map(|d| d.missing_advisers.as_slice())
        .unwrap_or_default();
    state
        .requests
        .iter()
        .map(|r| {
            let answered = r
                .answered_by
                .and_then(|id| state.advice.iter().find(|a| a.id == id));
            AskedRow {
                adviser: adviser_name(r.adviser, name),
                reason: <&str>::from(r.reason).into(),
                asked: match folded.requested.get(&r.id) {
                    Some(acted) => format!("{}, {}", names.actor(acted.by), at(acted)),
                    None => when(r.at),
                },
                due: state
                    .due(r)
                    .map(when)
                    .unwrap_or_else(|| "no deadline".into()),
                answered: match answered {
                    Some(a) => format!(
                        "yes, {} by {} ({})",
                        when(a.at),
                        names.person(a.by),
                        <&str>::from(a.stance)
                    ),
                    None if missing.contains(&r.id) => {
                        "no: never answered (their time had run out)".into()
                    }
                    None => "no".into(),
                },
            }
        })
        .collect()
}

/// The objections and how each was resolved, by whom.
pub(super) fn objections(folded: &Folded, names: &Directory) -> Vec<ObjectionRow> {
    folded
        .state
        .objections
        .iter()
        .map(|o| {
            let (resolution, note) = match &o.resolution {
                Some((resolution, note, test)) => {
                    let resolution: &str = resolution.into();
                    let resolution = match test {
                        Some(test) => format!("{resolution} ({})", <&str>::from(test)),
                        None => resolution.to_string(),
                    };
                    (resolution, note.clone())
                }
                None => ("OPEN".into(), String::new()),
            };
            ObjectionRow {
                by: names.person(o.by),
                reason: o.reason.clone(),
                raised: format!("{}, against version {}", when(o.at), o.raised_at_version),
                resolution,
                note,
                resolved: folded
                    .resolved
                    .get(&o.id)
                    .map(|r| format!("{}, {}", names.actor(r.by), at(r)))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The votes, with what they mean under the rule and what a threshold needs.
pub(super) fn voting(state: &ProposalState, names: &Directory) -> Option<Voting> {
    let rule = state.rule?;
    let votes = state
        .votes
        .iter()
        .map(|v| VoteRow {
            by: names.person(v.by),
            vote: match (rule, v.agree) {
                (Rule::Consent, true) => "no objection (consents)".into(),
                (_, true) => "agrees".into(),
                (_, false) => "does not agree".into(),
            },
            at: when(v.at),
        })
        .collect();
    let mut eligible: Vec<String> = state.eligible.iter().map(|p| names.person(*p)).collect();
    eligible.sort();
    let eligible = format!(
        "{} eligible when raised: {}",
        state.eligible.len(),
        if eligible.is_empty() {
            "no one".into()
        } else {
            eligible.join(", ")
        }
    );
    let summary = match rule {
        Rule::Advice => return None,
        Rule::Consent => format!(
            "Under consent a vote means \u{201c}no objection\u{201d}; objections are listed \
             above. {eligible}."
        ),
        Rule::Threshold => {
            let share = state.threshold_bp.map(percent).unwrap_or_default();
            match &state.decision {
                Some(d) => format!(
                    "Required: {} agree votes ({share} of the {eligible}). \
                     Agree votes when decided: {}.",
                    d.required_votes, d.agree_votes
                ),
                None => format!(
                    "Required: {} agree votes ({share} of the {eligible}). Agree votes so far: {}.",
                    required_votes(state.threshold_bp.unwrap_or(10_000), state.eligible.len()),
                    state.agree_votes()
                ),
            }
        }
    };
    Some(Voting { summary, votes })
}

/// The decision, with each view beside how it was weighed.
pub(super) fn decision(
    folded: &Folded,
    names: &Directory,
    name: &dyn Fn(Uuid) -> String,
) -> Option<DecisionView> {
    let state = &folded.state;
    let d = state.decision.as_ref()?;
    let note_for = |id: Uuid| {
        d.notes
            .iter()
            .find(|n| n.ref_id == id)
            .map(|n| n.note.clone())
    };
    let mut weighed = Vec::new();
    for a in &state.advice {
        let needs = matches!(a.stance, Stance::Concern | Stance::Object);
        if let Some(note) = note_for(a.id).or_else(|| needs.then(String::new)) {
            weighed.push(WeighedRow {
                view: format!(
                    "Advice from {} ({})",
                    names.person(a.by),
                    <&str>::from(a.stance)
                ),
                said: a.text.clone(),
                note: if note.is_empty() {
                    "no note".into()
                } else {
                    note
                },
            });
        }
    }
    for o in &state.objections {
        let note = note_for(o.id).unwrap_or_default();
        weighed.push(WeighedRow {
            view: format!("Objection from {}", names.person(o.by)),
            said: o.reason.clone(),
            note: if note.is_empty() {
                "no note".into()
            } else {
                note
            },
        });
    }
    for n in &d.notes {
        let known = state.advice.iter().any(|a| a.id == n.ref_id)
            || state.objections.iter().any(|o| o.id == n.ref_id);
        if !known {
            weighed.push(WeighedRow {
                view: format!("A view not in this record ({})", n.ref_id),
                said: String::new(),
                note: n.note.clone(),
            });
        }
    }
    let missing: Vec<String> = state
        .requests
        .iter()
        .filter(|r| d.missing_advisers.contains(&r.id))
        .map(|r| adviser_name(r.adviser, name))
        .collect();
    let by = match &folded.decided {
        Some(acted) => format!("{}, {}", names.actor(acted.by), at(acted)),
        None => when(d.at),
    };
    Some(DecisionView {
        outcome: <&str>::from(d.outcome).into(),
        by,
        rationale: d.rationale.clone(),
        weighed,
        missing: missing.join(", "),
    })
}

/// The verdict, by the domain's `compliance` (as the API judges it).
pub(super) fn verdict(
    state: &ProposalState,
    as_of: DateTime<Utc>,
    name: &dyn Fn(Uuid) -> String,
) -> Verdict {
    let judged = compliance_named(state, as_of, name);
    let basis = match (&state.status, &state.decision) {
        (Status::Decided, Some(d)) => {
            let outcome: &str = d.outcome.into();
            format!(
                "Judged as the decision ({outcome}) stood when it was made, {}.",
                when(d.at)
            )
        }
        (Status::Open, _) => format!(
            "Still open: judged as an adoption at {} (this bundle's last event) would be.",
            when(as_of)
        ),
        (Status::Withdrawn, _) => "Withdrawn: nothing was decided, so no check applies.".into(),
        _ => "Not raised in this bundle: nothing to judge.".into(),
    };
    Verdict {
        followed: match (judged.advice_process_followed, judged.checks.is_empty()) {
            (true, false) => "yes",
            (true, true) => "yes (no check applies)",
            (false, _) => "no",
        },
        basis,
        checks: judged
            .checks
            .into_iter()
            .map(|c| CheckRow {
                name: c.name.as_str(),
                passed: if c.passed { "passed" } else { "FAILED" },
                detail: c.detail,
            })
            .collect(),
    }
}
