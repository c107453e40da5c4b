//! Everything a proposal's page shows about it, in names and words, built
//! from the proposal as loaded from its stream (no query per row: names come
//! from the in-memory directory).

use std::collections::HashMap;

use uuid::Uuid;

use super::rows::{
    AdviceRow, AdviserRow, CheckRow, DecisionView, Link, ObjectionRow, ReviewRow, VersionRow,
    VoteRow, WeighedRow,
};
use super::trail::{trail, TrailRow};
use super::words;
use crate::app::proposals::LoadedProposal;
use crate::domain::proposal::compliance::compliance_named;
use crate::domain::proposal::{
    required_votes, Adviser, Outcome, ProposalEvent, ProposalState, Rule, Status,
};
use crate::domain::PersonId;
use crate::pages::format::{any_name, owner_link, owner_name, person_name, pounds, Formatter};
use crate::read::directory::Directory;

/// Everything about a proposal, in words.
pub struct ProposalView {
    /// Its id (for form actions).
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its team or group, by name.
    pub owner: String,
    /// The owner's page.
    pub owner_href: String,
    /// Where it stands, in words, and the tag's colour class.
    pub state: (&'static str, &'static str),
    /// Whether it is open.
    pub open: bool,
    /// The rule in words.
    pub rule: String,
    /// Who raised it.
    pub proposer: String,
    /// Who records the decision.
    pub decider: String,
    /// When it was raised.
    pub raised: String,
    /// The advice deadline, with how far away.
    pub deadline: Option<String>,
    /// The decision area.
    pub area: Option<String>,
    /// The spend, in pounds.
    pub spend: Option<String>,
    /// The next review date.
    pub review_by: Option<String>,
    /// The decision it would replace.
    pub supersedes: Option<Link>,
    /// The decision that replaced it.
    pub superseded_by: Option<Link>,
    /// The current body.
    pub body: String,
    /// The current version.
    pub version: u32,
    /// Earlier versions, newest first.
    pub versions: Vec<VersionRow>,
    /// Who was asked.
    pub advisers: Vec<AdviserRow>,
    /// Advice given.
    pub advice: Vec<AdviceRow>,
    /// Objections.
    pub objections: Vec<ObjectionRow>,
    /// Votes (or consents).
    pub votes: Vec<VoteRow>,
    /// How the votes stand, in words, if the rule takes votes.
    pub votes_summary: Option<String>,
    /// Who may vote.
    pub eligible: Vec<String>,
    /// The decision.
    pub decision: Option<DecisionView>,
    /// Why it was withdrawn.
    pub withdrawn: Option<String>,
    /// Reviews.
    pub reviews: Vec<ReviewRow>,
    /// Whether every check passed.
    pub followed: bool,
    /// The checks.
    pub checks: Vec<CheckRow>,
    /// Every event, in order.
    pub trail: Vec<TrailRow>,
}

/// How `state` stands, in words and a tag colour.
fn state_tag(state: &ProposalState) -> (&'static str, &'static str) {
    match (state.status, state.decision.as_ref().map(|d| d.outcome)) {
        (Status::Open, _) | (Status::Unraised, _) => ("Open", "nhsuk-tag--blue"),
        (Status::Withdrawn, _) => ("Withdrawn", "nhsuk-tag--grey"),
        (Status::Decided, _) if state.superseded_by.is_some() => {
            ("Adopted, since superseded", "nhsuk-tag--grey")
        }
        (Status::Decided, _) if state.revoked() => ("Revoked", "nhsuk-tag--grey"),
        (Status::Decided, Some(Outcome::Adopted)) => ("Adopted", "nhsuk-tag--green"),
        (Status::Decided, _) => ("Rejected", "nhsuk-tag--red"),
    }
}

/// A proposal's view, judged at the formatter's now; `titles` are the titles
/// of the proposals it supersedes or was superseded by.
pub fn build(
    loaded: &LoadedProposal,
    directory: &Directory,
    f: &Formatter,
    titles: &HashMap<Uuid, String>,
) -> ProposalView {
    let state = &loaded.projected.state;
    let person = |id: PersonId| person_name(directory, id);
    let name = |id: Uuid| any_name(directory, id);
    let link = |id: Option<crate::domain::proposal::ProposalId>| {
        id.map(|id| Link {
            title: titles
                .get(&id.0)
                .cloned()
                .unwrap_or_else(|| "an earlier decision".into()),
            href: format!("/proposals/{}", id.0),
        })
    };
    let resolvers: HashMap<Uuid, PersonId> = loaded
        .events
        .iter()
        .zip(&loaded.metadata)
        .filter_map(|(event, meta)| {
            match crate::stored::decode::<ProposalEvent>(event).ok()?? {
                ProposalEvent::ObjectionResolved { objection_id, .. } => {
                    Some((objection_id, meta.actor?))
                }
                _ => None,
            }
        })
        .collect();
    let mut bodies: Vec<&str> = vec![&state.original_body];
    bodies.extend(state.amendments.iter().map(|a| a.body.as_str()));
    let mut versions: Vec<VersionRow> = state
        .amendments
        .iter()
        .enumerate()
        .map(|(i, a)| VersionRow {
            version: a.version,
            reason: a.reason.clone(),
            when: f.time(a.at),
            before: bodies[i].to_string(),
            diff: words::diff(bodies[i], &a.body),
        })
        .collect();
    versions.reverse();
    let notes: HashMap<Uuid, &str> = state
        .decision
        .iter()
        .flat_map(|d| d.notes.iter().map(|n| (n.ref_id, n.note.as_str())))
        .collect();
    let mut weighed = Vec::new();
    for a in &state.advice {
        if let Some(note) = notes.get(&a.id) {
            weighed.push(WeighedRow {
                view: format!("The {} of {}", words::view_kind(a.stance), person(a.by)),
                said: a.text.clone(),
                note: note.to_string(),
            });
        }
    }
    for o in &state.objections {
        if let Some(note) = notes.get(&o.id) {
            weighed.push(WeighedRow {
                view: format!("The objection of {}", person(o.by)),
                said: o.reason.clone(),
                note: note.to_string(),
            });
        }
    }
    let threshold = state.rule == Some(Rule::Threshold);
    let decision = state.decision.as_ref().map(|d| DecisionView {
        outcome: words::outcome(d.outcome),
        rationale: d.rationale.clone(),
        by: loaded
            .projected
            .decided_by
            .map(person)
            .unwrap_or_else(|| "someone no longer registered".into()),
        when: f.time(d.at),
        votes: threshold.then(|| {
            format!(
                "{} agree votes counted; {} were needed",
                d.agree_votes, d.required_votes
            )
        }),
        missing: state
            .requests
            .iter()
            .filter(|r| d.missing_advisers.contains(&r.id))
            .map(|r| adviser(r.adviser, &name))
            .collect(),
        weighed,
    });
    let verdict = compliance_named(state, f.now(), &name);
    let eligible = state.eligible.len();
    let votes_summary = match state.rule {
        Some(Rule::Threshold) => Some(format!(
            "{} of {eligible} eligible members agree; {} must.",
            state.agree_votes(),
            required_votes(state.threshold_bp.unwrap_or(10_000), eligible)
        )),
        Some(Rule::Consent) => Some(format!(
            "{} of {eligible} eligible members have said they have no objection.",
            state.agree_votes()
        )),
        Some(Rule::Advice) | None => None,
    };
    ProposalView {
        id: loaded.id.0.to_string(),
        title: state.title.clone(),
        owner: state
            .owner
            .map(|o| owner_name(directory, o))
            .unwrap_or_default(),
        owner_href: state.owner.map(owner_link).unwrap_or_default(),
        state: state_tag(state),
        open: state.status == Status::Open,
        rule: words::rule(state),
        proposer: state.proposer.map(person).unwrap_or_default(),
        decider: state.decider.map(person).unwrap_or_default(),
        raised: state.raised_at.map(|at| f.time(at)).unwrap_or_default(),
        deadline: state.advice_deadline.map(|at| f.when(at)),
        area: state.area.clone(),
        spend: state.spend.map(pounds),
        review_by: state.next_review_by().map(|at| f.date(at)),
        supersedes: link(state.supersedes),
        superseded_by: link(state.superseded_by),
        body: state.body().to_string(),
        version: state.version(),
        versions,
        advisers: state
            .requests
            .iter()
            .map(|r| AdviserRow {
                who: adviser(r.adviser, &name),
                reason: words::reason(r.reason),
                asked: f.time(r.at),
                due: state.due(r).map(|at| f.when(at)),
                answered: r.answered_by.is_some(),
            })
            .collect(),
        advice: state
            .advice
            .iter()
            .map(|a| AdviceRow {
                by: person(a.by),
                stance: words::stance(a.stance),
                tag: match a.stance {
                    crate::domain::proposal::Stance::Support => "nhsuk-tag--green",
                    crate::domain::proposal::Stance::Concern => "nhsuk-tag--yellow",
                    crate::domain::proposal::Stance::Object => "nhsuk-tag--red",
                },
                text: a.text.clone(),
                when: f.time(a.at),
            })
            .collect(),
        objections: state
            .objections
            .iter()
            .map(|o| ObjectionRow {
                by: person(o.by),
                reason: o.reason.clone(),
                when: f.time(o.at),
                state: o
                    .resolution
                    .as_ref()
                    .map(|(r, _, _)| words::resolution(*r))
                    .unwrap_or("Open"),
                note: o.resolution.as_ref().map(|(_, note, _)| note.clone()),
                resolved_by: resolvers.get(&o.id).map(|p| person(*p)),
                validity_test: o
                    .resolution
                    .as_ref()
                    .and_then(|(_, _, t)| t.map(words::validity_test)),
            })
            .collect(),
        votes: state
            .votes
            .iter()
            .map(|v| VoteRow {
                by: person(v.by),
                vote: match (state.rule, v.agree) {
                    (Some(Rule::Consent), _) => "No objection",
                    (_, true) => "Agrees",
                    (_, false) => "Disagrees",
                },
                when: f.time(v.at),
            })
            .collect(),
        votes_summary,
        eligible: {
            let mut names: Vec<String> = state.eligible.iter().map(|p| person(*p)).collect();
            names.sort();
            names
        },
        decision,
        withdrawn: state.withdrawn_reason.clone(),
        reviews: state
            .reviews
            .iter()
            .zip(
                loaded
                    .projected
                    .reviewed_by
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(None)),
            )
            .map(|(r, by)| ReviewRow {
                outcome: words::review(r.outcome),
                note: r.note.clone(),
                by: by
                    .map(person)
                    .unwrap_or_else(|| "someone no longer registered".into()),
                when: f.time(r.at),
                next: r.next_review_by.map(|at| f.date(at)),
            })
            .collect(),
        followed: verdict.advice_process_followed,
        checks: verdict
            .checks
            .iter()
            .map(|c| CheckRow {
                name: words::check(c.name),
                passed: c.passed,
                detail: words::local_times(&words::plain(&c.detail), f),
            })
            .collect(),
        trail: trail(loaded, directory, f),
    }
}

/// Whom a request asked, by name.
pub fn adviser(adviser: Adviser, name: &dyn Fn(Uuid) -> String) -> String {
    crate::domain::proposal::rules::adviser_name(adviser, name)
}
