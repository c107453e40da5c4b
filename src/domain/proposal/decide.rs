//! Deciding proposal commands: every rule of DESIGN.md's "Rules a decision
//! must pass", and who may do what.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rules::{self, Moment};
use super::{
    required_votes, AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalId,
    ProposalState, Resolution, ReviewOutcome, Rule, Stance, Status, ValidityTest, WeighingNote,
};
use crate::domain::{
    validate, ActingRole, Caller, Decided, DomainError, PersonId, TeamId, TeamRole,
};

/// The longest body accepted, in characters.
pub const MAX_BODY: usize = 20_000;
/// The longest advice, reason, note or rationale accepted, in characters.
pub const MAX_TEXT: usize = 10_000;

/// What the caller and the clock bring to a decision.
#[derive(Debug, Clone)]
pub struct ProposalContext {
    /// Who is calling.
    pub caller: Caller,
    /// The time now.
    pub now: DateTime<Utc>,
    /// The owner's current members and roles (for a group, its
    /// representatives count as `MEMBER`s).
    pub owner_members: BTreeMap<PersonId, TeamRole>,
    /// The teams the caller is in now, in any role.
    pub caller_teams: BTreeSet<TeamId>,
    /// For a group's proposal: the decision areas of its mandate.
    pub mandate: Option<Vec<String>>,
    /// For a group's proposal: what is left of its budget.
    pub budget_remaining: Option<i64>,
    /// Names of the people and teams a message may mention, by id.
    pub names: BTreeMap<Uuid, String>,
    /// For a proposal that would supersede a decision: that decision.
    pub superseded: Option<SupersededDecision>,
    /// The owner's shortest fair time to answer advice, in hours.
    pub advice_window_hours: u32,
}

impl ProposalContext {
    /// A person's or team's name, or "someone" with the id if unknown.
    pub fn name(&self, id: Uuid) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("someone ({id})"))
    }
}

/// What a superseding proposal needs to know of the decision it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupersededDecision {
    /// Its proposal.
    pub id: ProposalId,
    /// Its owner.
    pub owner: Owner,
    /// Whether it is an adopted decision still in force.
    pub in_force: bool,
    /// Its title.
    pub title: String,
}

/// What can be asked of a proposal.
#[derive(Debug, Clone, PartialEq)]
pub enum ProposalCommand {
    /// Raise it.
    Raise {
        /// Its team or group.
        owner: Owner,
        /// Its title.
        title: String,
        /// Its body.
        body: String,
        /// Its decision rule.
        rule: Rule,
        /// For `THRESHOLD`: the share (0 < p <= 1) of eligible members to agree.
        threshold: Option<f64>,
        /// After this, the decision may go ahead without advisers who never answered.
        advice_deadline: Option<DateTime<Utc>>,
        /// The decision area.
        area: Option<String>,
        /// Spend against the owner group's budget, in minor units.
        spend: Option<i64>,
        /// When the decision should be reviewed.
        review_by: Option<DateTime<Utc>>,
        /// Who records the decision, if not the proposer.
        decider: Option<PersonId>,
        /// For a group: each member team, asked for advice as affected, with
        /// the request's id.
        auto_requests: Vec<(Uuid, TeamId)>,
        /// The adopted decision it would replace (the context describes it).
        supersedes: Option<ProposalId>,
    },
    /// Set or move the advice deadline.
    SetAdviceDeadline {
        /// The new deadline.
        deadline: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Ask someone (or a whole team) for advice.
    RequestAdvice {
        /// The new request's id.
        request_id: Uuid,
        /// Who to ask.
        adviser: Adviser,
        /// Why.
        reason: AdviceReason,
        /// Whether that person or team exists.
        adviser_exists: bool,
        /// For a team: its current people (members and coaches).
        team_people: Vec<PersonId>,
        /// Their own time to answer, later than the advice deadline.
        respond_by: Option<DateTime<Utc>>,
    },
    /// Give advice.
    GiveAdvice {
        /// The new advice's id.
        advice_id: Uuid,
        /// The stance.
        stance: Stance,
        /// What to say.
        text: String,
    },
    /// Object: claim the proposal would cause harm.
    RaiseObjection {
        /// The new objection's id.
        objection_id: Uuid,
        /// The harm.
        reason: String,
    },
    /// Resolve an objection.
    ResolveObjection {
        /// Which.
        objection_id: Uuid,
        /// How.
        resolution: Resolution,
        /// Why, in words.
        note: String,
        /// For `RULED_INVALID`: the validity test it failed.
        validity_test: Option<ValidityTest>,
    },
    /// Amend the body.
    Amend {
        /// The new body.
        body: String,
        /// Why.
        reason: String,
    },
    /// Vote (threshold rule).
    CastVote {
        /// Agree or not.
        agree: bool,
    },
    /// Record the decision.
    Decide {
        /// Adopted or rejected.
        outcome: Outcome,
        /// Why.
        rationale: String,
        /// How each advice and objection was weighed.
        notes: Vec<WeighingNote>,
    },
    /// Withdraw it.
    Withdraw {
        /// Why.
        reason: String,
    },
    /// Review an adopted decision.
    Review {
        /// Keep, amend or revoke.
        outcome: ReviewOutcome,
        /// What the review found.
        note: String,
        /// When to review next.
        next_review_by: Option<DateTime<Utc>>,
    },
}

fn forbidden(message: &str) -> DomainError {
    DomainError::Forbidden(message.to_string())
}

/// The person calling; proposals are made by people, never by auditors or the
/// operator's command line.
fn person(ctx: &ProposalContext) -> Result<PersonId, DomainError> {
    match ctx.caller {
        Caller::Person(actor) if actor.is_auditor() => {
            Err(forbidden("auditors read everything and write nothing"))
        }
        Caller::Person(actor) => Ok(actor.person),
        Caller::Operator => Err(forbidden(
            "proposals are worked on by people, not the command line",
        )),
    }
}

/// The role a person acts in on this proposal.
fn role_of(ctx: &ProposalContext, person: PersonId) -> ActingRole {
    match ctx.owner_members.get(&person) {
        Some(TeamRole::Member) => ActingRole::Member,
        Some(TeamRole::Coach) => ActingRole::Coach,
        None => ActingRole::Adviser,
    }
}

fn require_open(state: &ProposalState) -> Result<(), DomainError> {
    match state.status {
        Status::Open => Ok(()),
        Status::Unraised => Err(DomainError::NotFound("no such proposal".into())),
        Status::Decided => Err(DomainError::InvalidState(
            "the proposal is decided: only a review may follow".into(),
        )),
        Status::Withdrawn => Err(DomainError::InvalidState(
            "the proposal was withdrawn".into(),
        )),
    }
}

fn future(what: &str, time: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), DomainError> {
    match time {
        Some(time) if time <= now => Err(DomainError::InvalidInput(format!(
            "{what} must be in the future"
        ))),
        _ => Ok(()),
    }
}

/// Whether a person was asked for advice, themselves or through a team they are in.
fn was_asked(state: &ProposalState, person: PersonId, teams: &BTreeSet<TeamId>) -> bool {
    state.requests.iter().any(|r| match r.adviser {
        Adviser::Person(p) => p == person,
        Adviser::Team(t) => teams.contains(&t),
    })
}

/// Decides a command against a proposal's state.
pub fn decide(
    state: &ProposalState,
    command: ProposalCommand,
    ctx: &ProposalContext,
) -> Result<Decided<ProposalEvent>, DomainError> {
    let me = person(ctx)?;
    let role = role_of(ctx, me);
    let one = |event| Ok(Decided::new(role, vec![event]));
    match command {
        ProposalCommand::Raise {
            owner,
            title,
            body,
            rule,
            threshold,
            advice_deadline,
            area,
            spend,
            review_by,
            decider,
            auto_requests,
            supersedes,
        } => {
            if ctx.owner_members.get(&me) != Some(&TeamRole::Member) {
                return Err(forbidden(match owner {
                    Owner::Team(_) => {
                        "only a MEMBER of the team can raise its proposals (coaches advise)"
                    }
                    Owner::Group(_) => "only a representative of the group can raise its proposals",
                }));
            }
            if state.status != Status::Unraised {
                return Err(DomainError::InvalidState(
                    "this proposal already exists".into(),
                ));
            }
            let title = validate::name("a proposal's title", &title)?;
            let body = validate::text("a proposal's body", &body, MAX_BODY)?;
            let threshold_bp = rules::threshold_bp(rule, threshold)?;
            future("the advice deadline", advice_deadline, ctx.now)?;
            future("the review date", review_by, ctx.now)?;
            let area = area
                .map(|a| validate::name("a decision area", &a))
                .transpose()?;
            if let Owner::Group(_) = owner {
                let mandate = ctx.mandate.as_deref().unwrap_or_default();
                match &area {
                    None => {
                        return Err(DomainError::InvalidInput(
                            "a group's proposal must name the decision area it falls in".into(),
                        ))
                    }
                    Some(area) if !mandate.iter().any(|m| m.eq_ignore_ascii_case(area)) => {
                        return Err(DomainError::OutsideMandate(format!(
                            "{area:?} is not in the group's mandate ({})",
                            mandate.join(", ")
                        )))
                    }
                    Some(_) => {}
                }
            }
            match (owner, spend) {
                (Owner::Team(_), Some(_)) => {
                    return Err(DomainError::InvalidInput(
                        "spend is committed against a group's budget: raise it in the group".into(),
                    ))
                }
                (_, Some(amount)) if amount <= 0 => {
                    return Err(DomainError::InvalidInput(
                        "spend must be a positive amount".into(),
                    ))
                }
                _ => {}
            }
            if let Some(id) = supersedes {
                match &ctx.superseded {
                    Some(target) if target.id == id && target.owner != owner => {
                        return Err(DomainError::InvalidInput(format!(
                            "\"{}\" was decided by another team or group: only its own may change it",
                            target.title
                        )))
                    }
                    Some(target) if target.id == id && !target.in_force => {
                        return Err(DomainError::InvalidState(format!(
                            "\"{}\" is not an adopted decision that still stands: only those can be superseded",
                            target.title
                        )))
                    }
                    Some(target) if target.id == id => {}
                    _ => return Err(DomainError::NotFound(format!("no decision {id} to supersede"))),
                }
            }
            let decider = decider.unwrap_or(me);
            if ctx.owner_members.get(&decider) != Some(&TeamRole::Member) {
                return Err(DomainError::InvalidInput(
                    "the decider must be a MEMBER of the proposal's team or group".into(),
                ));
            }
            let eligible = ctx
                .owner_members
                .iter()
                .filter(|(_, r)| **r == TeamRole::Member)
                .map(|(p, _)| *p)
                .collect();
            let mut events = vec![ProposalEvent::ProposalRaised {
                owner,
                proposer: me,
                decider,
                title,
                body,
                rule,
                threshold_bp,
                advice_deadline,
                area,
                spend,
                review_by,
                eligible,
                supersedes,
                advice_window_hours: Some(ctx.advice_window_hours),
            }];
            events.extend(auto_requests.into_iter().map(|(request_id, team)| {
                ProposalEvent::AdviceRequested {
                    request_id,
                    adviser: Adviser::Team(team),
                    reason: AdviceReason::Affected,
                    respond_by: None,
                }
            }));
            Ok(Decided::new(role, events))
        }
        ProposalCommand::RequestAdvice {
            request_id,
            adviser,
            reason,
            adviser_exists,
            team_people,
            respond_by,
        } => {
            require_open(state)?;
            if Some(me) != state.proposer && Some(me) != state.decider {
                return Err(forbidden(
                    "only the proposer or the decider asks for advice",
                ));
            }
            if let Adviser::Person(p) = adviser {
                if Some(p) == state.proposer || Some(p) == state.decider {
                    return Err(DomainError::InvalidInput(
                        "advice is sought from others: the proposer and the decider cannot advise themselves".into(),
                    ));
                }
            }
            if let Some(deadline) = state.advice_deadline {
                if deadline <= ctx.now {
                    return Err(DomainError::InvalidState(format!(
                        "the advice deadline passed on {}: move it later with setAdviceDeadline before asking anyone else",
                        deadline.format("%-d %b %Y %H:%M UTC")
                    )));
                }
            }
            if let Some(by) = respond_by {
                future("respondBy", Some(by), ctx.now)?;
                if state.advice_deadline.is_some_and(|deadline| by < deadline) {
                    return Err(DomainError::InvalidInput(
                        "respondBy gives one adviser more time: it must not be before the advice deadline".into(),
                    ));
                }
            }
            if !adviser_exists {
                return Err(DomainError::NotFound(match adviser {
                    Adviser::Person(p) => format!("no person {p}"),
                    Adviser::Team(t) => format!("no team {t}"),
                }));
            }
            if let Adviser::Team(_) = adviser {
                let others = team_people
                    .iter()
                    .any(|p| Some(*p) != state.proposer && Some(*p) != state.decider);
                if !others {
                    return Err(DomainError::InvalidInput(format!(
                        "{} has no one but the proposer and decider to give advice: ask others",
                        rules::adviser_name(adviser, &|id| ctx.name(id))
                    )));
                }
            }
            if state.requests.iter().any(|r| r.adviser == adviser) {
                return Err(DomainError::InvalidState(format!(
                    "{} has already been asked",
                    rules::adviser_name(adviser, &|id| ctx.name(id))
                )));
            }
            one(ProposalEvent::AdviceRequested {
                request_id,
                adviser,
                reason,
                respond_by,
            })
        }
        ProposalCommand::SetAdviceDeadline { deadline, reason } => {
            require_open(state)?;
            if Some(me) != state.proposer && Some(me) != state.decider {
                return Err(forbidden(
                    "only the proposer or the decider sets the advice deadline",
                ));
            }
            future("the advice deadline", Some(deadline), ctx.now)?;
            if let Some(current) = state.advice_deadline {
                if !state.requests.is_empty() && deadline <= current {
                    return Err(DomainError::InvalidInput(format!(
                        "once anyone was asked, the advice deadline only moves later than {}",
                        current.format("%-d %b %Y %H:%M UTC")
                    )));
                }
            }
            let reason = validate::text("the reason", &reason, MAX_TEXT)?;
            one(ProposalEvent::AdviceDeadlineSet { deadline, reason })
        }
        ProposalCommand::GiveAdvice {
            advice_id,
            stance,
            text,
        } => {
            require_open(state)?;
            let text = validate::text("advice", &text, MAX_TEXT)?;
            // The proposer's and the decider's own advice is recorded but
            // answers no request: they cannot hear themselves for a team.
            let own = Some(me) == state.proposer || Some(me) == state.decider;
            let answers = state
                .unanswered()
                .filter(|r| match r.adviser {
                    Adviser::Person(p) => p == me,
                    Adviser::Team(t) => ctx.caller_teams.contains(&t),
                })
                .filter(|_| !own)
                .map(|r| r.id)
                .collect();
            one(ProposalEvent::AdviceGiven {
                advice_id,
                by: me,
                stance,
                text,
                answers,
            })
        }
        ProposalCommand::RaiseObjection {
            objection_id,
            reason,
        } => {
            require_open(state)?;
            let member = ctx.owner_members.get(&me) == Some(&TeamRole::Member);
            if !member && !was_asked(state, me, &ctx.caller_teams) {
                return Err(forbidden(
                    "objections come from the proposal's members and the advisers asked (coaches advise)",
                ));
            }
            let reason = validate::text("an objection's reason", &reason, MAX_TEXT)?;
            one(ProposalEvent::ObjectionRaised {
                objection_id,
                by: me,
                reason,
            })
        }
        ProposalCommand::ResolveObjection {
            objection_id,
            resolution,
            note,
            validity_test,
        } => {
            require_open(state)?;
            let objection = state
                .objections
                .iter()
                .find(|o| o.id == objection_id)
                .ok_or_else(|| DomainError::NotFound(format!("no objection {objection_id}")))?;
            // Who may resolve it comes first: someone who never could is
            // told so, whatever state the objection is in.
            match resolution {
                Resolution::Integrated | Resolution::Withdrawn if objection.by != me => {
                    return Err(forbidden(
                        "only the objector can confirm an objection integrated or withdraw it",
                    ))
                }
                Resolution::RuledInvalid
                    if ctx.owner_members.get(&me) != Some(&TeamRole::Coach) =>
                {
                    return Err(forbidden("only a coach can rule an objection invalid"))
                }
                _ => {}
            }
            if !objection.is_open() {
                return Err(DomainError::InvalidState(
                    "that objection is already resolved".into(),
                ));
            }
            let note = validate::text("the resolution note", &note, MAX_TEXT)?;
            match (resolution, validity_test) {
                (Resolution::RuledInvalid, None) => {
                    return Err(DomainError::InvalidInput(
                        "ruling an objection invalid must name the validity test it failed".into(),
                    ))
                }
                (Resolution::Integrated | Resolution::Withdrawn, Some(_)) => {
                    return Err(DomainError::InvalidInput(
                        "a validity test is named only when ruling an objection invalid".into(),
                    ))
                }
                _ => {}
            }
            if resolution == Resolution::Integrated
                && state.version() <= objection.raised_at_version
            {
                return Err(DomainError::InvalidState(
                    "an objection is integrated by an amendment made after it: amend the proposal first".into(),
                ));
            }
            one(ProposalEvent::ObjectionResolved {
                objection_id,
                resolution,
                note,
                validity_test,
            })
        }
        ProposalCommand::Amend { body, reason } => {
            require_open(state)?;
            if Some(me) != state.proposer {
                return Err(forbidden("only the proposer amends a proposal"));
            }
            let body = validate::text("a proposal's body", &body, MAX_BODY)?;
            let reason = validate::text("the reason for an amendment", &reason, MAX_TEXT)?;
            if body == state.body() {
                return Err(DomainError::InvalidInput(
                    "the amendment does not change the body".into(),
                ));
            }
            one(ProposalEvent::ProposalAmended {
                version: state.version() + 1,
                body,
                reason,
            })
        }
        ProposalCommand::CastVote { agree } => {
            require_open(state)?;
            let rule = state
                .rule
                .ok_or_else(|| DomainError::NotFound("no such proposal".into()))?;
            rules::check_vote(rule, agree)?;
            if !state.eligible.contains(&me) {
                return Err(forbidden(
                    "only the MEMBERs of the team when the proposal was raised vote (coaches never do)",
                ));
            }
            one(ProposalEvent::VoteCast { by: me, agree })
        }
        ProposalCommand::Decide {
            outcome,
            rationale,
            notes,
        } => {
            require_open(state)?;
            if Some(me) != state.decider {
                return Err(forbidden("only the decider records the decision"));
            }
            let rationale = validate::text("the rationale", &rationale, MAX_TEXT)?;
            let notes = check_notes(state, notes)?;
            let rule = state
                .rule
                .ok_or_else(|| DomainError::NotFound("no such proposal".into()))?;
            if outcome == Outcome::Adopted {
                if let (Some(Owner::Group(_)), Some(area)) = (state.owner, &state.area) {
                    let mandate = ctx.mandate.as_deref().unwrap_or_default();
                    if !mandate.iter().any(|m| m.eq_ignore_ascii_case(area)) {
                        return Err(DomainError::OutsideMandate(format!(
                            "{area:?} is no longer in the group's mandate ({})",
                            mandate.join(", ")
                        )));
                    }
                }
                if let Some(target) = &ctx.superseded {
                    if !target.in_force {
                        return Err(DomainError::InvalidState(format!(
                            "\"{}\", which this proposal would replace, is no longer in force",
                            target.title
                        )));
                    }
                }
            }
            let name = |id: Uuid| ctx.name(id);
            let moment = Moment {
                at: ctx.now,
                notes: &notes,
                budget_remaining: ctx.budget_remaining,
                name: &name,
            };
            for check in rules::applicable(state, rule, outcome) {
                if let Some(refused) = rules::refusal(&rules::judge(check, state, &moment)) {
                    return Err(refused);
                }
            }
            let missing: Vec<Uuid> = state.unanswered().map(|r| r.id).collect();
            let (agree_votes, required) = match rules::voting(rule) {
                rules::Voting::AgreeOrDisagree => (
                    state.agree_votes(),
                    required_votes(state.threshold_bp.unwrap_or(10_000), state.eligible.len()),
                ),
                rules::Voting::NoVotes | rules::Voting::ConsentOnly => (0, 0),
            };
            let budget_remaining = match (outcome, state.spend) {
                (Outcome::Adopted, Some(_)) => ctx.budget_remaining,
                _ => None,
            };
            one(ProposalEvent::ProposalDecided {
                outcome,
                rationale,
                notes,
                missing_advisers: missing,
                agree_votes,
                required_votes: required,
                budget_remaining,
            })
        }
        ProposalCommand::Withdraw { reason } => {
            require_open(state)?;
            if Some(me) != state.proposer {
                return Err(forbidden("only the proposer withdraws a proposal"));
            }
            let reason = validate::text("the reason for withdrawing", &reason, MAX_TEXT)?;
            one(ProposalEvent::ProposalWithdrawn { reason })
        }
        ProposalCommand::Review {
            outcome,
            note,
            next_review_by,
        } => {
            match (&state.status, &state.decision) {
                (Status::Unraised, _) => {
                    return Err(DomainError::NotFound("no such proposal".into()))
                }
                (Status::Decided, Some(d)) if d.outcome == Outcome::Adopted => {}
                _ => {
                    return Err(DomainError::InvalidState(
                        "only an adopted decision can be reviewed".into(),
                    ))
                }
            }
            if state.revoked() {
                return Err(DomainError::InvalidState("the decision was revoked".into()));
            }
            if state.superseded_by.is_some() {
                return Err(DomainError::InvalidState(
                    "the decision was superseded: review the one that replaced it".into(),
                ));
            }
            let member = ctx.owner_members.get(&me) == Some(&TeamRole::Member);
            if !member && Some(me) != state.decider {
                return Err(forbidden(
                    "a decision is reviewed by its decider or a MEMBER of its team",
                ));
            }
            match outcome {
                ReviewOutcome::Keep => {}
                ReviewOutcome::Amend | ReviewOutcome::Revoke => {
                    return Err(DomainError::InvalidInput(
                        "a review keeps a decision; changing or revoking it is a decision too: \
                         raise a proposal that supersedes it"
                            .into(),
                    ))
                }
            }
            let note = validate::text("the review note", &note, MAX_TEXT)?;
            if next_review_by.is_none() {
                return Err(DomainError::InvalidInput(
                    "keeping a decision sets when it is next reviewed (nextReviewBy)".into(),
                ));
            }
            future("the next review date", next_review_by, ctx.now)?;
            one(ProposalEvent::DecisionReviewed {
                outcome,
                note,
                next_review_by,
            })
        }
    }
}

/// Notes must name this proposal's advice or objections, once each.
fn check_notes(
    state: &ProposalState,
    notes: Vec<WeighingNote>,
) -> Result<Vec<WeighingNote>, DomainError> {
    if notes.len() > state.advice.len() + state.objections.len() {
        return Err(DomainError::InvalidInput(format!(
            "{} notes, but this proposal has only {} advice and objections to weigh",
            notes.len(),
            state.advice.len() + state.objections.len()
        )));
    }
    let mut seen = BTreeSet::new();
    let mut checked = Vec::with_capacity(notes.len());
    for note in notes {
        let known = state.advice.iter().any(|a| a.id == note.ref_id)
            || state.objections.iter().any(|o| o.id == note.ref_id);
        if !known {
            return Err(DomainError::InvalidInput(format!(
                "note refId {} is not an advice or objection of this proposal",
                note.ref_id
            )));
        }
        if !seen.insert(note.ref_id) {
            return Err(DomainError::InvalidInput(format!(
                "two notes for {}",
                note.ref_id
            )));
        }
        let text = validate::text("a weighing note", &note.note, MAX_TEXT)?;
        checked.push(WeighingNote {
            ref_id: note.ref_id,
            note: text,
        });
    }
    Ok(checked)
}
