//! One proposal's section of the report, from its folded state: every
//! value is plain text, names not ids, times readable, money in pounds.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fold::{Acted, Directory, Folded};
use super::records::{
    advice, asked, decision, objections, reviews, verdict, voting, AdviceRow, AskedRow,
    DecisionView, ObjectionRow, ReviewRow, Verdict, Voting,
};
use crate::domain::proposal::rules::pounds;
use crate::domain::proposal::{Owner, Rule, Status};

/// A time as the report shows it, e.g. `27 Nov 2026 17:15 UTC`.
pub(super) fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M UTC").to_string()
}

/// A share in basis points as a percentage: `50%`, `33.33%`, `12.5%`.
pub(super) fn percent(bp: u32) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => format!("{whole}%"),
        part if part % 10 == 0 => format!("{whole}.{}%", part / 10),
        part => format!("{whole}.{part:02}%"),
    }
}

/// A time, and the log position it was recorded at.
pub(super) fn at(acted: &Acted) -> String {
    format!("{} (position {})", when(acted.at), acted.position)
}

/// A line of the proposal's facts table.
pub(super) struct Fact {
    /// What it is.
    pub(super) label: &'static str,
    /// Its value.
    pub(super) value: String,
}

/// A version of the body: as raised, or an amendment.
pub(super) struct Version {
    /// 1 as raised, then 2, 3, ...
    pub(super) version: u32,
    /// When (and, for an amendment, by whom).
    pub(super) made: String,
    /// Why it was amended (empty for the first version).
    pub(super) reason: String,
    /// The body.
    pub(super) body: String,
}

/// One proposal's section.
pub(super) struct Section {
    /// Its number in the report (1 for the first raised).
    pub(super) number: usize,
    /// Its title.
    pub(super) title: String,
    /// Its id.
    pub(super) id: String,
    /// Its owner, by name.
    pub(super) owner: String,
    /// Its rule.
    pub(super) rule: String,
    /// When it was raised.
    pub(super) raised: String,
    /// Where it stands (`OPEN`, `ADOPTED`, `REJECTED`, `WITHDRAWN`).
    pub(super) status: &'static str,
    /// Owner, rule, who, when, deadline, spend, supersession.
    pub(super) facts: Vec<Fact>,
    /// The body as raised and every amendment.
    pub(super) versions: Vec<Version>,
    /// Who was asked.
    pub(super) asked: Vec<AskedRow>,
    /// What they said.
    pub(super) advice: Vec<AdviceRow>,
    /// The objections.
    pub(super) objections: Vec<ObjectionRow>,
    /// The votes (not under `ADVICE`).
    pub(super) voting: Option<Voting>,
    /// The decision, once made.
    pub(super) decision: Option<DecisionView>,
    /// Who withdrew it, when and why.
    pub(super) withdrawn: Option<String>,
    /// Reviews of the decision.
    pub(super) reviews: Vec<ReviewRow>,
    /// The verdict.
    pub(super) verdict: Verdict,
}

/// The section of proposal number `number`; open proposals are judged at
/// `as_of`.
pub(super) fn section(
    number: usize,
    folded: &Folded,
    names: &Directory,
    as_of: DateTime<Utc>,
) -> Section {
    let state = &folded.state;
    let name = |id: Uuid| names.any(id);
    let owner = match state.owner {
        Some(Owner::Team(team)) => format!("the team {}", names.team(team)),
        Some(Owner::Group(group)) => format!("the group {}", names.group(group)),
        None => "not recorded".into(),
    };
    let rule = match (state.rule, state.threshold_bp) {
        (Some(Rule::Threshold), Some(bp)) => {
            format!("THRESHOLD: {} of eligible members agree", percent(bp))
        }
        (Some(rule), _) => <&str>::from(rule).to_string(),
        (None, _) => "not recorded".into(),
    };
    let status: &'static str = match (&state.status, &state.decision) {
        (Status::Decided, Some(d)) => d.outcome.into(),
        (status, _) => (*status).into(),
    };
    Section {
        number,
        title: state.title.clone(),
        id: folded.id.to_string(),
        facts: facts(folded, names, &owner, &rule),
        owner,
        rule,
        raised: state.raised_at.map(when).unwrap_or_default(),
        status,
        versions: versions(folded, names),
        asked: asked(folded, names, &name),
        advice: advice(state, names),
        objections: objections(folded, names),
        voting: voting(state, names),
        decision: decision(folded, names, &name),
        withdrawn: folded.withdrawn.as_ref().map(|w| {
            format!(
                "Withdrawn by {} on {}: {}",
                names.actor(w.by),
                at(w),
                state.withdrawn_reason.clone().unwrap_or_default()
            )
        }),
        reviews: reviews(folded, names),
        verdict: verdict(state, as_of, &name),
    }
}

fn facts(folded: &Folded, names: &Directory, owner: &str, rule: &str) -> Vec<Fact> {
    let state = &folded.state;
    let mut facts = vec![
        Fact {
            label: "Owner",
            value: owner.to_string(),
        },
        Fact {
            label: "Rule",
            value: rule.to_string(),
        },
    ];
    let mut add = |label: &'static str, value: Option<String>| {
        if let Some(value) = value {
            facts.push(Fact { label, value });
        }
    };
    add("Decision area", state.area.clone());
    add("Proposer", state.proposer.map(|p| names.person(p)));
    add("Decider", state.decider.map(|p| names.person(p)));
    add("Raised", folded.raised.as_ref().map(at));
    add(
        "Advice deadline",
        Some(match state.advice_deadline {
            Some(deadline) => when(deadline),
            None => "none set".into(),
        }),
    );
    for moved in &folded.deadlines {
        add(
            "Deadline set",
            Some(format!(
                "to {} by {} on {}: {}",
                when(moved.deadline),
                names.actor(moved.acted.by),
                at(&moved.acted),
                moved.reason
            )),
        );
    }
    add(
        "Spend",
        state.spend.map(|spend| match state.owner {
            Some(Owner::Group(group)) => format!(
                "{} from the budget of the group {}",
                pounds(spend),
                names.group(group)
            ),
            _ => pounds(spend),
        }),
    );
    if let Some(left) = state.decision.as_ref().and_then(|d| d.budget_remaining) {
        add(
            "Budget left",
            Some(format!("{} before this decision's spend", pounds(left))),
        );
    }
    for entry in &folded.budget {
        add(
            if entry.committed {
                "Committed"
            } else {
                "Released"
            },
            Some(format!(
                "{} {} the budget of the group {} on {}",
                pounds(entry.amount),
                if entry.committed { "against" } else { "to" },
                entry
                    .group
                    .map(|g| names.group(g))
                    .unwrap_or_else(|| "its group".into()),
                at(&entry.acted)
            )),
        );
    }
    add("Review by", state.review_by.map(when));
    add(
        "Supersedes",
        state
            .supersedes
            .map(|p| format!("the decision of proposal {p}")),
    );
    add(
        "Superseded",
        state.superseded_by.map(|p| {
            let on = folded
                .superseded
                .as_ref()
                .map(|s| format!(" on {}", at(s)))
                .unwrap_or_default();
            format!("by proposal {p}{on}")
        }),
    );
    facts
}

fn versions(folded: &Folded, names: &Directory) -> Vec<Version> {
    let state = &folded.state;
    let raised = folded
        .raised
        .as_ref()
        .map(|r| format!("as raised by {} on {}", names.actor(r.by), when(r.at)))
        .unwrap_or_else(|| "as raised".into());
    std::iter::once(Version {
        version: 1,
        made: raised,
        reason: String::new(),
        body: state.original_body.clone(),
    })
    .chain(state.amendments.iter().enumerate().map(|(n, a)| Version {
        version: a.version,
        made: match folded.amended.get(n) {
            Some(acted) => format!("amended by {} on {}", names.actor(acted.by), when(a.at)),
            None => format!("amended on {}", when(a.at)),
        },
        reason: a.reason.clone(),
        body: a.body.clone(),
    }))
    .collect()
}
