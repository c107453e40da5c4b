//! The decision rules, in one place: for each rule, how it takes part
//! (votes), which checks its adoption must pass, and how each check is
//! judged. `decide` refuses an adoption by the same checks the verdict
//! shows, so the two cannot drift apart. Every `match` here over [`Rule`]
//! and [`CheckName`] is exhaustive: a fourth rule or a new check makes the
//! compiler point at each place that must say what it means for it.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{
    required_votes, Adviser, Outcome, Owner, ProposalState, Rule, Stance, WeighingNote,
    MIN_THRESHOLD_BP,
};
use crate::domain::DomainError;

/// The shortest fair time to answer a request for advice, in hours, where
/// the owner set none.
pub const MIN_WINDOW_HOURS: u32 = 24;

/// The named checks of the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckName {
    /// Advice was sought from someone other than the proposer and decider.
    AdviceSought,
    /// Every adviser asked answered, or their time to answer had passed.
    AdvisersHeard,
    /// Every request gave at least the minimum window to answer.
    FairWindow,
    /// Every concern, objecting advice and objection has a note.
    ViewsWeighed,
    /// Those who may object had the chance: the deadline passed, or every
    /// eligible member consented or objected.
    ObjectionWindow,
    /// No objection is open.
    ObjectionsResolved,
    /// Enough eligible members agree.
    ThresholdMet,
    /// A group's proposal falls within its mandate.
    WithinMandate,
    /// The spend was within what was left of the group's budget.
    WithinBudget,
}

impl CheckName {
    /// Its name as the API shows it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What it checks, in the words of the people who use it.
    pub fn label(self) -> &'static str {
        match self {
            CheckName::AdviceSought => "Advice was sought",
            CheckName::AdvisersHeard => "Everyone asked was heard",
            CheckName::FairWindow => "Everyone asked had a fair time to answer",
            CheckName::ViewsWeighed => "Every view was weighed",
            CheckName::ObjectionWindow => "Everyone could object",
            CheckName::ObjectionsResolved => "No objection was left open",
            CheckName::ThresholdMet => "Enough members agreed",
            CheckName::WithinMandate => "Within the group's mandate",
            CheckName::WithinBudget => "Within the group's budget",
        }
    }

    /// Whether a failing check stops an adoption (`FAIR_WINDOW` is reported
    /// in the verdict but allowed).
    pub fn blocks(self) -> bool {
        match self {
            CheckName::FairWindow => false,
            CheckName::AdviceSought
            | CheckName::AdvisersHeard
            | CheckName::ViewsWeighed
            | CheckName::ObjectionWindow
            | CheckName::ObjectionsResolved
            | CheckName::ThresholdMet
            | CheckName::WithinMandate
            | CheckName::WithinBudget => true,
        }
    }
}

/// One check of the verdict, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Which check.
    pub name: CheckName,
    /// Whether it passed.
    pub passed: bool,
    /// What was found, in words.
    pub detail: String,
}

/// How a rule takes votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voting {
    /// No votes: the decider decides.
    NoVotes,
    /// `agree: true` means "no objection"; objecting is `raiseObjection`.
    ConsentOnly,
    /// Agree or disagree; the latest vote of each eligible member counts.
    AgreeOrDisagree,
}

/// Who takes part under a rule, and how: which votes it takes (eligible
/// members vote; members and advisers asked may object under every rule).
pub fn voting(rule: Rule) -> Voting {
    match rule {
        Rule::Advice => Voting::NoVotes,
        Rule::Consent => Voting::ConsentOnly,
        Rule::Threshold => Voting::AgreeOrDisagree,
    }
}

/// What a rule takes as its threshold: the share of eligible members who
/// must agree, in basis points, for `THRESHOLD` (from 0.01 to 1), and
/// nothing for the others.
pub fn threshold_bp(rule: Rule, threshold: Option<f64>) -> Result<Option<u32>, DomainError> {
    match (rule, threshold) {
        (Rule::Threshold, Some(p)) if (0.01..=1.0).contains(&p) => {
            // Basis points, exact to 0.01%: from 100 (1%) to 10,000.
            Ok(Some(
                ((p * 10_000.0).round() as u32).clamp(MIN_THRESHOLD_BP, 10_000),
            ))
        }
        (Rule::Threshold, Some(p)) => Err(DomainError::InvalidInput(format!(
            "the threshold is the share of members who must agree, from 0.01 (1%) to 1 \
             (everyone); {p} is outside that"
        ))),
        (Rule::Threshold, None) => Err(DomainError::InvalidInput(
            "the THRESHOLD rule needs a threshold, e.g. 0.5".into(),
        )),
        (Rule::Advice | Rule::Consent, Some(_)) => Err(DomainError::InvalidInput(
            "threshold applies only to the THRESHOLD rule".into(),
        )),
        (Rule::Advice | Rule::Consent, None) => Ok(None),
    }
}

/// Whether a vote may be cast under a rule, or why not.
pub fn check_vote(rule: Rule, agree: bool) -> Result<(), DomainError> {
    match (voting(rule), agree) {
        (Voting::NoVotes, _) => Err(DomainError::InvalidState(
            "proposals under the ADVICE rule are not voted on: the decider decides".into(),
        )),
        (Voting::ConsentOnly, false) => Err(DomainError::InvalidInput(
            "under CONSENT a vote means \"no objection\" (agree: true); to object, use \
             raiseObjection with the harm you see"
                .into(),
        )),
        (Voting::ConsentOnly, true) | (Voting::AgreeOrDisagree, _) => Ok(()),
    }
}

/// The checks a rule's adoption must pass, besides the owner's
/// (mandate and budget).
pub fn rule_checks(rule: Rule) -> &'static [CheckName] {
    match rule {
        Rule::Advice => &[
            CheckName::AdviceSought,
            CheckName::AdvisersHeard,
            CheckName::FairWindow,
            CheckName::ViewsWeighed,
        ],
        Rule::Consent => &[
            CheckName::AdvisersHeard,
            CheckName::ObjectionWindow,
            CheckName::ObjectionsResolved,
            CheckName::FairWindow,
            CheckName::ViewsWeighed,
        ],
        Rule::Threshold => &[
            CheckName::AdvisersHeard,
            CheckName::ThresholdMet,
            CheckName::FairWindow,
            CheckName::ViewsWeighed,
        ],
    }
}

/// Every check that applies to a decision with `outcome`: for an adoption,
/// its rule's, then the group's mandate and budget where they apply; a
/// rejection needs no advice, only that every view it heard was weighed.
pub fn applicable(state: &ProposalState, rule: Rule, outcome: Outcome) -> Vec<CheckName> {
    match outcome {
        Outcome::Rejected => vec![CheckName::ViewsWeighed],
        Outcome::Adopted => {
            let mut checks = rule_checks(rule).to_vec();
            if matches!(state.owner, Some(Owner::Group(_))) {
                checks.push(CheckName::WithinMandate);
            }
            if state.spend.is_some() {
                checks.push(CheckName::WithinBudget);
            }
            checks
        }
    }
}

/// What a check is judged against: the moment, the notes of the decision
/// (made or proposed), what was left of the budget, and how to name people
/// and teams.
pub struct Moment<'a> {
    /// When: the decision's time, or now.
    pub at: DateTime<Utc>,
    /// How each view was weighed.
    pub notes: &'a [WeighingNote],
    /// For a group's spend: what was left of its budget (`None` if not known).
    pub budget_remaining: Option<i64>,
    /// The name of a person or team, by id.
    pub name: &'a dyn Fn(Uuid) -> String,
}

/// Judges one check of a proposal at a moment.
pub fn judge(name: CheckName, state: &ProposalState, moment: &Moment<'_>) -> Check {
    let (passed, detail) = match name {
        CheckName::AdviceSought => advice_sought(state, moment),
        CheckName::AdvisersHeard => advisers_heard(state, moment),
        CheckName::FairWindow => fair_window(state, moment),
        CheckName::ViewsWeighed => views_weighed(state, moment),
        CheckName::ObjectionWindow => objection_window(state, moment),
        CheckName::ObjectionsResolved => objections_resolved(state, moment),
        CheckName::ThresholdMet => threshold_met(state),
        CheckName::WithinMandate => within_mandate(state),
        CheckName::WithinBudget => within_budget(state, moment),
    };
    Check {
        name,
        passed,
        detail,
    }
}

/// Why an adoption is refused: the first blocking check that fails, as the
/// error a care worker reads (with its stable code).
pub fn refusal(check: &Check) -> Option<DomainError> {
    if check.passed || !check.name.blocks() {
        return None;
    }
    let detail = check.detail.clone();
    Some(match check.name {
        CheckName::AdviceSought | CheckName::AdvisersHeard | CheckName::ObjectionWindow => {
            DomainError::AdvicePending(detail)
        }
        CheckName::ViewsWeighed => DomainError::InvalidInput(detail),
        CheckName::ObjectionsResolved => DomainError::ObjectionsOpen(detail),
        CheckName::ThresholdMet => DomainError::ThresholdNotMet(detail),
        CheckName::WithinMandate => DomainError::OutsideMandate(detail),
        CheckName::WithinBudget => DomainError::BudgetExceeded(detail),
        CheckName::FairWindow => return None,
    })
}

/// Whom a request asked, by name.
pub fn adviser_name(adviser: Adviser, name: &dyn Fn(Uuid) -> String) -> String {
    match adviser {
        Adviser::Person(person) => name(person.0),
        Adviser::Team(team) => format!("the team {}", name(team.0)),
    }
}

/// Money in minor units as pounds, e.g. `£4,500.00`.
pub fn pounds(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}£{grouped}.{:02}", minor % 100)
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn advice_sought(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let others: Vec<String> = state
        .requests
        .iter()
        .filter(|r| match r.adviser {
            Adviser::Team(_) => true,
            Adviser::Person(p) => Some(p) != state.proposer && Some(p) != state.decider,
        })
        .map(|r| adviser_name(r.adviser, moment.name))
        .collect();
    if others.is_empty() {
        (
            false,
            "no one but the proposer and decider was asked for advice: ask the people \
             affected and those who know first"
                .into(),
        )
    } else {
        (true, format!("advice was asked of {}", list(&others)))
    }
}

fn advisers_heard(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let mut waiting = Vec::new();
    let mut lapsed = Vec::new();
    for request in state.unanswered() {
        let who = adviser_name(request.adviser, moment.name);
        match state.due(request) {
            Some(due) if due <= moment.at => lapsed.push(who),
            Some(due) => waiting.push(format!(
                "{who} (until {})",
                due.format("%-d %b %Y %H:%M UTC")
            )),
            None => waiting.push(format!(
                "{who} (no deadline: set one with setAdviceDeadline)"
            )),
        }
    }
    if !waiting.is_empty() {
        return (false, format!("waiting for advice from {}", list(&waiting)));
    }
    if state.requests.is_empty() {
        return (true, "no one was asked for advice".into());
    }
    if lapsed.is_empty() {
        (true, "everyone asked answered".into())
    } else {
        (
            true,
            format!(
                "everyone asked answered or their time ran out (never answered: {})",
                list(&lapsed)
            ),
        )
    }
}

fn fair_window(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let hours = state.advice_window_hours.unwrap_or(MIN_WINDOW_HOURS);
    let minimum = Duration::hours(i64::from(hours));
    let short: Vec<String> = state
        .unanswered()
        .filter_map(|request| {
            let due = state.due(request)?;
            // The window starts when they were asked, or when the deadline
            // they answer by was last set, whichever is later.
            let start = match (request.due_when_asked, state.deadline_set_at) {
                (false, Some(set)) if set > request.at => set,
                _ => request.at,
            };
            (due - start < minimum).then(|| adviser_name(request.adviser, moment.name))
        })
        .collect();
    if short.is_empty() {
        (
            true,
            format!("everyone asked had at least {hours} hours to answer, or answered"),
        )
    } else {
        (
            false,
            format!(
                "{} had less than {hours} hours to answer and did not",
                list(&short)
            ),
        )
    }
}

fn views_weighed(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let noted = |id: Uuid| moment.notes.iter().any(|n| n.ref_id == id);
    let mut lacking = Vec::new();
    for advice in &state.advice {
        if advice.stance != Stance::Support && !noted(advice.id) {
            let kind = match advice.stance {
                Stance::Concern => "concern",
                Stance::Object | Stance::Support => "objecting advice",
            };
            lacking.push(format!(
                "the {kind} of {} ({})",
                (moment.name)(advice.by.0),
                advice.id
            ));
        }
    }
    for objection in &state.objections {
        if !noted(objection.id) {
            lacking.push(format!(
                "the objection of {} ({})",
                (moment.name)(objection.by.0),
                objection.id
            ));
        }
    }
    if lacking.is_empty() {
        (
            true,
            "every concern and objection has a note on how it was weighed".into(),
        )
    } else {
        (
            false,
            format!(
                "the decision must say how each concern and objection was weighed; no note for {}",
                list(&lacking)
            ),
        )
    }
}

fn objection_window(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let hours = state.advice_window_hours.unwrap_or(MIN_WINDOW_HOURS);
    // A deadline closes the window only if it gave the owner's minimum
    // time to object.
    let fair = state
        .deadline_window()
        .is_some_and(|window| window >= Duration::hours(i64::from(hours)));
    if let Some(deadline) = state.advice_deadline {
        if deadline <= moment.at && fair {
            return (
                true,
                "the advice deadline, which closes the objection window, has passed".into(),
            );
        }
    }
    let silent: Vec<String> = state
        .eligible
        .iter()
        .filter(|member| {
            let consented = state.votes.iter().any(|v| v.by == **member && v.agree);
            let objected = state.objections.iter().any(|o| o.by == **member);
            !consented && !objected
        })
        .map(|member| (moment.name)(member.0))
        .collect();
    if silent.is_empty() {
        (true, "every eligible member consented or objected".into())
    } else {
        (
            false,
            format!(
                "the objection window is open: {} {} neither consented nor objected{}",
                list(&silent),
                if silent.len() == 1 { "has" } else { "have" },
                match (state.advice_deadline, fair) {
                    (Some(deadline), true) => format!(
                        ", and the deadline is {}",
                        deadline.format("%-d %b %Y %H:%M UTC")
                    ),
                    (Some(_), false) => format!(
                        " (the deadline gave less than {hours} hours to object, so it does not close the window)"
                    ),
                    (None, _) => " (set an advice deadline to close it)".into(),
                }
            ),
        )
    }
}

fn objections_resolved(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let open: Vec<String> = state
        .objections
        .iter()
        .filter(|o| o.is_open())
        .map(|o| format!("{} ({})", (moment.name)(o.by.0), o.id))
        .collect();
    if open.is_empty() {
        (true, "no objection is open".into())
    } else {
        (false, format!("objections still open from {}", list(&open)))
    }
}

fn threshold_met(state: &ProposalState) -> (bool, String) {
    let agree = state.agree_votes();
    let eligible = state.eligible.len();
    let required = required_votes(state.threshold_bp.unwrap_or(10_000), eligible);
    let detail = format!("{agree} of {eligible} eligible members agree; {required} must");
    (agree >= required, detail)
}

fn within_mandate(state: &ProposalState) -> (bool, String) {
    match &state.area {
        Some(area) => (
            true,
            format!(
                "{area:?} is within the group's mandate (checked when raised and when decided)"
            ),
        ),
        None => (
            false,
            "a group's proposal must name a decision area of its mandate".into(),
        ),
    }
}

fn within_budget(state: &ProposalState, moment: &Moment<'_>) -> (bool, String) {
    let Some(spend) = state.spend else {
        return (true, "no spend".into());
    };
    match moment.budget_remaining {
        Some(left) if spend <= left => (
            true,
            format!(
                "the spend of {} was within the {} left",
                pounds(spend),
                pounds(left)
            ),
        ),
        Some(left) => (
            false,
            format!(
                "the spend of {} is more than the {} left in the group's budget",
                pounds(spend),
                pounds(left)
            ),
        ),
        None => (
            true,
            format!(
                "the spend of {} was committed against the budget in the same append \
                 (the amount left was not recorded then)",
                pounds(spend)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_keep_their_api_names() {
        assert_eq!(CheckName::AdviceSought.as_str(), "ADVICE_SOUGHT");
        assert_eq!(
            CheckName::ObjectionsResolved.as_str(),
            "OBJECTIONS_RESOLVED"
        );
        assert_eq!(CheckName::WithinBudget.as_str(), "WITHIN_BUDGET");
    }

    #[test]
    fn money_reads_as_pounds() {
        assert_eq!(pounds(450_000), "£4,500.00");
        assert_eq!(pounds(80_000_000), "£800,000.00");
        assert_eq!(pounds(5), "£0.05");
        assert_eq!(pounds(-12_345), "-£123.45");
    }

    #[test]
    fn every_rule_has_the_checks_of_design_md() {
        use CheckName::*;
        assert_eq!(
            rule_checks(Rule::Advice),
            &[AdviceSought, AdvisersHeard, FairWindow, ViewsWeighed]
        );
        assert!(rule_checks(Rule::Consent).contains(&ObjectionWindow));
        assert!(rule_checks(Rule::Consent).contains(&ObjectionsResolved));
        assert!(rule_checks(Rule::Threshold).contains(&ThresholdMet));
        for rule in [Rule::Advice, Rule::Consent, Rule::Threshold] {
            // Everyone asked is heard, and every view weighed, under every rule.
            assert!(rule_checks(rule).contains(&AdvisersHeard));
            assert!(rule_checks(rule).contains(&ViewsWeighed));
            assert!(rule_checks(rule).contains(&FairWindow));
        }
    }

    #[test]
    fn votes_by_rule() {
        assert!(check_vote(Rule::Advice, true).is_err());
        assert!(check_vote(Rule::Consent, true).is_ok());
        assert!(matches!(
            check_vote(Rule::Consent, false),
            Err(DomainError::InvalidInput(_))
        ));
        assert!(check_vote(Rule::Threshold, false).is_ok());
    }
}
