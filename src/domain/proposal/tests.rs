//! Given/when/then tests for every rule and refusal, and a property test that
//! no sequence of commands reaches an adoption in breach of its rule.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::{Actor, Caller, DomainError, OrgRole, PersonId, TeamId, TeamRole};

/// A small team: two members (ann, bob), a third member (cat), a coach, and
/// an outsider who is in another team.
struct World {
    team: TeamId,
    other_team: TeamId,
    ann: PersonId,
    bob: PersonId,
    cat: PersonId,
    coach: PersonId,
    outsider: PersonId,
    now: DateTime<Utc>,
}

impl World {
    fn new() -> World {
        World {
            team: TeamId::random(),
            other_team: TeamId::random(),
            ann: PersonId::random(),
            bob: PersonId::random(),
            cat: PersonId::random(),
            coach: PersonId::random(),
            outsider: PersonId::random(),
            now: DateTime::parse_from_rfc3339("2026-11-22T09:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
        }
    }

    fn members(&self) -> BTreeMap<PersonId, TeamRole> {
        BTreeMap::from([
            (self.ann, TeamRole::Member),
            (self.bob, TeamRole::Member),
            (self.cat, TeamRole::Member),
            (self.coach, TeamRole::Coach),
        ])
    }

    fn ctx(&self, who: PersonId) -> ProposalContext {
        let mut teams = BTreeSet::new();
        if self.members().contains_key(&who) {
            teams.insert(self.team);
        }
        if who == self.outsider {
            teams.insert(self.other_team);
        }
        ProposalContext {
            caller: Caller::Person(Actor {
                person: who,
                org_role: None,
            }),
            now: self.now,
            owner_members: self.members(),
            caller_teams: teams,
            mandate: None,
            budget_remaining: None,
            names: BTreeMap::new(),
            superseded: None,
            advice_window_hours: 24,
        }
    }

    /// A raise with this advice deadline (or none).
    fn raise_until(&self, rule: Rule, deadline: Option<DateTime<Utc>>) -> ProposalCommand {
        let mut command = self.raise(rule, None);
        if let ProposalCommand::Raise {
            advice_deadline, ..
        } = &mut command
        {
            *advice_deadline = deadline;
        }
        command
    }

    fn raise(&self, rule: Rule, threshold: Option<f64>) -> ProposalCommand {
        ProposalCommand::Raise {
            owner: Owner::Team(self.team),
            title: "Swap the Friday night shift".into(),
            body: "Move one paramedic from days to nights on Fridays.".into(),
            rule,
            threshold,
            advice_deadline: Some(self.now + Duration::days(7)),
            area: None,
            spend: None,
            review_by: None,
            decider: None,
            auto_requests: vec![],
            supersedes: None,
        }
    }
}

/// Runs a command against a state, applying its events at `ctx.now`.
fn run(
    state: ProposalState,
    command: ProposalCommand,
    ctx: &ProposalContext,
) -> Result<ProposalState, DomainError> {
    let decided = decide(&state, command, ctx)?;
    Ok(decided
        .events
        .iter()
        .fold(state, |s, e| evolve(s, e, ctx.now)))
}

fn ok(state: ProposalState, command: ProposalCommand, ctx: &ProposalContext) -> ProposalState {
    run(state, command, ctx).expect("accepted")
}

fn refused(state: &ProposalState, command: ProposalCommand, ctx: &ProposalContext) -> &'static str {
    let error = decide(state, command, ctx).expect_err("refused");
    error.code()
}

fn raised(w: &World, rule: Rule, threshold: Option<f64>) -> ProposalState {
    ok(
        ProposalState::default(),
        w.raise(rule, threshold),
        &w.ctx(w.ann),
    )
}

fn ask(state: ProposalState, w: &World, adviser: Adviser) -> (ProposalState, Uuid) {
    let id = Uuid::new_v4();
    let command = ProposalCommand::RequestAdvice {
        request_id: id,
        adviser,
        reason: AdviceReason::Affected,
        adviser_exists: true,
        team_people: vec![PersonId::random()],
        respond_by: None,
    };
    (ok(state, command, &w.ctx(w.ann)), id)
}

fn advise(state: ProposalState, w: &World, who: PersonId, stance: Stance) -> (ProposalState, Uuid) {
    let id = Uuid::new_v4();
    let command = ProposalCommand::GiveAdvice {
        advice_id: id,
        stance,
        text: "Think of the handover.".into(),
    };
    (ok(state, command, &w.ctx(who)), id)
}

fn object(state: ProposalState, w: &World, who: PersonId) -> (ProposalState, Uuid) {
    let id = Uuid::new_v4();
    let command = ProposalCommand::RaiseObjection {
        objection_id: id,
        reason: "Nights would be unsafe with one crew.".into(),
    };
    (ok(state, command, &w.ctx(who)), id)
}

fn decide_cmd(outcome: Outcome, notes: &[Uuid]) -> ProposalCommand {
    ProposalCommand::Decide {
        outcome,
        rationale: "Heard everyone; the swap is safe to try.".into(),
        notes: notes
            .iter()
            .map(|id| WeighingNote {
                ref_id: *id,
                note: "Handover moved to 19:00.".into(),
            })
            .collect(),
    }
}

fn amend(state: ProposalState, w: &World) -> ProposalState {
    let command = ProposalCommand::Amend {
        body: format!("{} Handover at 19:00.", state.body()),
        reason: "Meets the objection.".into(),
    };
    ok(state, command, &w.ctx(w.ann))
}

fn vote(state: ProposalState, w: &World, who: PersonId, agree: bool) -> ProposalState {
    ok(state, ProposalCommand::CastVote { agree }, &w.ctx(who))
}

/// Under consent: every eligible member who has not objected consents, so
/// the objection window closes before the deadline.
fn consented(state: ProposalState, w: &World) -> ProposalState {
    [w.ann, w.bob, w.cat].into_iter().fold(state, |state, who| {
        if state.objections.iter().any(|o| o.by == who) {
            state
        } else {
            vote(state, w, who, true)
        }
    })
}

// ---- raising ----

#[test]
fn given_a_member_when_raising_then_the_members_at_that_moment_are_eligible() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    assert_eq!(state.status, Status::Open);
    assert_eq!(state.eligible.len(), 3, "the coach is not eligible");
    assert_eq!(
        state.decider,
        Some(w.ann),
        "the proposer decides unless another is named"
    );
    assert_eq!(state.threshold_bp, Some(5000));
}

#[test]
fn coaches_outsiders_auditors_and_the_operator_cannot_raise() {
    let w = World::new();
    for who in [w.coach, w.outsider] {
        assert_eq!(
            refused(
                &ProposalState::default(),
                w.raise(Rule::Consent, None),
                &w.ctx(who)
            ),
            "FORBIDDEN"
        );
    }
    let mut auditor = w.ctx(w.ann);
    auditor.caller = Caller::Person(Actor {
        person: PersonId::random(),
        org_role: Some(OrgRole::Auditor),
    });
    assert_eq!(
        refused(
            &ProposalState::default(),
            w.raise(Rule::Consent, None),
            &auditor
        ),
        "FORBIDDEN"
    );
    let mut operator = w.ctx(w.ann);
    operator.caller = Caller::Operator;
    assert_eq!(
        refused(
            &ProposalState::default(),
            w.raise(Rule::Consent, None),
            &operator
        ),
        "FORBIDDEN"
    );
}

#[test]
fn raising_with_bad_input_is_refused() {
    let w = World::new();
    let ctx = w.ctx(w.ann);
    let empty = ProposalState::default();
    let with = |f: &dyn Fn(&mut ProposalCommand)| {
        let mut command = w.raise(Rule::Threshold, Some(0.5));
        f(&mut command);
        command
    };
    let cases: Vec<ProposalCommand> = vec![
        w.raise(Rule::Threshold, None),
        w.raise(Rule::Threshold, Some(0.0)),
        w.raise(Rule::Threshold, Some(1.5)),
        w.raise(Rule::Consent, Some(0.5)),
        with(&|c| {
            if let ProposalCommand::Raise { title, .. } = c {
                *title = " ".into()
            }
        }),
        with(&|c| {
            if let ProposalCommand::Raise { body, .. } = c {
                *body = "".into()
            }
        }),
        with(&|c| {
            if let ProposalCommand::Raise {
                advice_deadline, ..
            } = c
            {
                *advice_deadline = Some(w.now - Duration::hours(1))
            }
        }),
        with(&|c| {
            if let ProposalCommand::Raise { spend, .. } = c {
                *spend = Some(100)
            }
        }),
        with(&|c| {
            if let ProposalCommand::Raise { decider, .. } = c {
                *decider = Some(w.coach)
            }
        }),
    ];
    for command in cases {
        assert_eq!(
            refused(&empty, command.clone(), &ctx),
            "INVALID_INPUT",
            "{command:?}"
        );
    }
}

#[test]
fn another_member_may_be_named_decider() {
    let w = World::new();
    let mut command = w.raise(Rule::Consent, None);
    if let ProposalCommand::Raise { decider, .. } = &mut command {
        *decider = Some(w.bob);
    }
    let state = consented(ok(ProposalState::default(), command, &w.ctx(w.ann)), &w);
    assert_eq!(state.decider, Some(w.bob));
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "FORBIDDEN",
        "only the decider decides"
    );
    assert!(run(state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.bob)).is_ok());
}

// ---- the advice rule ----

#[test]
fn given_the_advice_rule_when_no_advice_was_asked_then_decide_is_advice_pending() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "ADVICE_PENDING"
    );
}

#[test]
fn given_an_unanswered_adviser_before_the_deadline_then_decide_is_advice_pending() {
    let w = World::new();
    let (state, _) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "ADVICE_PENDING"
    );
    // Rejecting needs no advice: a proposal is never stuck.
    assert!(run(state, decide_cmd(Outcome::Rejected, &[]), &w.ctx(w.ann)).is_ok());
}

#[test]
fn given_an_unanswered_adviser_after_the_deadline_then_the_decision_stands_and_names_them() {
    let mut w = World::new();
    let (state, request) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    w.now += Duration::days(8);
    let state = ok(state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann));
    let decision = state.decision.clone().expect("decided");
    assert_eq!(decision.missing_advisers, vec![request]);
    let c = compliance(&state, w.now);
    assert!(c.advice_process_followed);
    assert_eq!(c.missing_advisers, vec![request]);
}

#[test]
fn given_a_concern_and_an_objection_then_each_needs_a_note() {
    let w = World::new();
    let (state, _) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    let (state, concern) = advise(state, &w, w.outsider, Stance::Concern);
    let (state, support) = advise(state, &w, w.coach, Stance::Support);
    let (state, objection) = object(state, &w, w.bob);
    let error = decide(
        &state,
        decide_cmd(Outcome::Adopted, &[concern]),
        &w.ctx(w.ann),
    )
    .expect_err("missing note");
    assert_eq!(error.code(), "INVALID_INPUT");
    assert!(
        error.to_string().contains(&objection.to_string()),
        "the error names the missing one: {error}"
    );
    let state = ok(
        state,
        decide_cmd(Outcome::Adopted, &[concern, objection]),
        &w.ctx(w.ann),
    );
    assert!(compliance(&state, w.now).advice_process_followed);
    let _ = support;
}

#[test]
fn under_the_advice_rule_an_open_objection_does_not_veto() {
    let w = World::new();
    let (state, _) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    let (state, advice) = advise(state, &w, w.outsider, Stance::Object);
    let (state, objection) = object(state, &w, w.bob);
    let state = ok(
        state,
        decide_cmd(Outcome::Adopted, &[advice, objection]),
        &w.ctx(w.ann),
    );
    assert_eq!(state.decision.expect("decided").outcome, Outcome::Adopted);
}

#[test]
fn a_team_counts_as_answered_once_any_of_its_people_advises() {
    let w = World::new();
    let (state, request) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Team(w.other_team),
    );
    let (state, advice) = advise(state, &w, w.outsider, Stance::Support);
    assert_eq!(state.requests[0].answered_by, Some(advice));
    assert!(compliance(&state, w.now).missing_advisers.is_empty());
    let state = ok(state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann));
    assert_eq!(
        state.decision.expect("decided").missing_advisers,
        Vec::<Uuid>::new()
    );
    let _ = request;
}

#[test]
fn advice_from_someone_not_asked_is_recorded_but_answers_no_request() {
    let w = World::new();
    let (state, _) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    let (state, _) = advise(state, &w, w.coach, Stance::Support);
    assert_eq!(state.advice.len(), 1);
    assert_eq!(compliance(&state, w.now).missing_advisers.len(), 1);
}

#[test]
fn only_the_proposer_or_decider_asks_for_advice_and_nobody_twice() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    let command = |adviser| ProposalCommand::RequestAdvice {
        request_id: Uuid::new_v4(),
        adviser,
        reason: AdviceReason::Expert,
        adviser_exists: true,
        team_people: vec![PersonId::random()],
        respond_by: None,
    };
    assert_eq!(
        refused(&state, command(Adviser::Person(w.outsider)), &w.ctx(w.bob)),
        "FORBIDDEN"
    );
    let (state, _) = ask(state, &w, Adviser::Person(w.outsider));
    assert_eq!(
        refused(&state, command(Adviser::Person(w.outsider)), &w.ctx(w.ann)),
        "INVALID_STATE"
    );
    let ghost = ProposalCommand::RequestAdvice {
        request_id: Uuid::new_v4(),
        adviser: Adviser::Team(TeamId::random()),
        reason: AdviceReason::Expert,
        adviser_exists: false,
        team_people: vec![],
        respond_by: None,
    };
    assert_eq!(refused(&state, ghost, &w.ctx(w.ann)), "NOT_FOUND");
}

// ---- the consent rule ----

#[test]
fn given_consent_and_an_open_objection_then_adopting_is_objections_open() {
    let w = World::new();
    let (state, objection) = object(raised(&w, Rule::Consent, None), &w, w.bob);
    let state = consented(state, &w);
    assert_eq!(
        refused(
            &state,
            decide_cmd(Outcome::Adopted, &[objection]),
            &w.ctx(w.ann)
        ),
        "OBJECTIONS_OPEN"
    );
    // Rejecting is always possible, once the objection it heard is weighed.
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Rejected, &[]), &w.ctx(w.ann)),
        "INVALID_INPUT"
    );
    assert!(run(
        state,
        decide_cmd(Outcome::Rejected, &[objection]),
        &w.ctx(w.ann)
    )
    .is_ok());
}

#[test]
fn an_objection_is_integrated_only_after_an_amendment_and_only_by_its_objector() {
    let w = World::new();
    let (state, objection) = object(raised(&w, Rule::Consent, None), &w, w.bob);
    let integrate = ProposalCommand::ResolveObjection {
        objection_id: objection,
        resolution: Resolution::Integrated,
        note: "Handover fixed.".into(),
        validity_test: None,
    };
    assert_eq!(
        refused(&state, integrate.clone(), &w.ctx(w.bob)),
        "INVALID_STATE",
        "no amendment yet"
    );
    let state = amend(state, &w);
    assert_eq!(
        refused(&state, integrate.clone(), &w.ctx(w.ann)),
        "FORBIDDEN",
        "only the objector confirms"
    );
    let state = ok(state, integrate.clone(), &w.ctx(w.bob));
    assert!(state.objections[0].resolution.is_some());
    assert_eq!(
        refused(&state, integrate, &w.ctx(w.bob)),
        "INVALID_STATE",
        "already resolved"
    );
    let state = ok(
        consented(state, &w),
        decide_cmd(Outcome::Adopted, &[objection]),
        &w.ctx(w.ann),
    );
    assert!(compliance(&state, w.now).open_objections.is_empty());
    assert!(compliance(&state, w.now).advice_process_followed);
}

#[test]
fn an_amendment_before_the_objection_does_not_integrate_it() {
    let w = World::new();
    let state = amend(raised(&w, Rule::Consent, None), &w);
    let (state, objection) = object(state, &w, w.bob);
    let integrate = ProposalCommand::ResolveObjection {
        objection_id: objection,
        resolution: Resolution::Integrated,
        note: "n".into(),
        validity_test: None,
    };
    assert_eq!(refused(&state, integrate, &w.ctx(w.bob)), "INVALID_STATE");
}

#[test]
fn an_objection_is_withdrawn_only_by_its_objector() {
    let w = World::new();
    let (state, objection) = object(raised(&w, Rule::Consent, None), &w, w.bob);
    let withdraw = ProposalCommand::ResolveObjection {
        objection_id: objection,
        resolution: Resolution::Withdrawn,
        note: "Talked it through.".into(),
        validity_test: None,
    };
    assert_eq!(
        refused(&state, withdraw.clone(), &w.ctx(w.cat)),
        "FORBIDDEN"
    );
    let state = consented(ok(state, withdraw.clone(), &w.ctx(w.bob)), &w);
    assert!(run(
        state.clone(),
        decide_cmd(Outcome::Adopted, &[objection]),
        &w.ctx(w.ann)
    )
    .is_ok());
    // Once resolved, someone who never could resolve it is still told so,
    // and its objector that it is resolved.
    assert_eq!(
        refused(&state, withdraw.clone(), &w.ctx(w.cat)),
        "FORBIDDEN"
    );
    assert_eq!(refused(&state, withdraw, &w.ctx(w.bob)), "INVALID_STATE");
}

#[test]
fn only_a_coach_rules_an_objection_invalid_and_must_name_the_test() {
    let w = World::new();
    let (state, objection) = object(raised(&w, Rule::Consent, None), &w, w.bob);
    let rule = |test| ProposalCommand::ResolveObjection {
        objection_id: objection,
        resolution: Resolution::RuledInvalid,
        note: "It names a preference, not a harm.".into(),
        validity_test: test,
    };
    assert_eq!(
        refused(&state, rule(Some(ValidityTest::NoHarmShown)), &w.ctx(w.cat)),
        "FORBIDDEN"
    );
    assert_eq!(
        refused(&state, rule(None), &w.ctx(w.coach)),
        "INVALID_INPUT"
    );
    let state = ok(
        state,
        rule(Some(ValidityTest::NoHarmShown)),
        &w.ctx(w.coach),
    );
    let state = consented(state, &w);
    assert!(run(
        state,
        decide_cmd(Outcome::Adopted, &[objection]),
        &w.ctx(w.ann)
    )
    .is_ok());
}

#[test]
fn coaches_and_strangers_cannot_object_but_asked_advisers_can() {
    let w = World::new();
    let state = raised(&w, Rule::Consent, None);
    let objection = || ProposalCommand::RaiseObjection {
        objection_id: Uuid::new_v4(),
        reason: "Harm.".into(),
    };
    assert_eq!(refused(&state, objection(), &w.ctx(w.coach)), "FORBIDDEN");
    assert_eq!(
        refused(&state, objection(), &w.ctx(w.outsider)),
        "FORBIDDEN"
    );
    let (state, _) = ask(state, &w, Adviser::Team(w.other_team));
    assert!(run(state, objection(), &w.ctx(w.outsider)).is_ok());
}

// ---- the threshold rule ----

#[test]
fn given_a_threshold_then_adoption_needs_ceil_p_times_eligible_agree_votes() {
    let w = World::new();
    // 3 eligible members at 50%: ceil(1.5) = 2 agree votes.
    let state = raised(&w, Rule::Threshold, Some(0.5));
    let state = vote(state, &w, w.ann, true);
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "THRESHOLD_NOT_MET"
    );
    let state = vote(state, &w, w.bob, true);
    let state = ok(state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann));
    let decision = state.decision.expect("decided");
    assert_eq!((decision.agree_votes, decision.required_votes), (2, 2));
}

#[test]
fn given_a_threshold_below_one_percent_when_raised_then_it_is_refused() {
    let w = World::new();
    for tiny in [0.00001, 0.0, -0.5, 1.5, f64::NAN] {
        assert_eq!(
            refused(
                &ProposalState::default(),
                w.raise(Rule::Threshold, Some(tiny)),
                &w.ctx(w.ann)
            ),
            "INVALID_INPUT",
            "threshold {tiny}"
        );
    }
}

#[test]
fn given_the_smallest_threshold_then_adoption_still_needs_one_agree_vote() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.01));
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "THRESHOLD_NOT_MET"
    );
    let state = vote(state, &w, w.ann, true);
    let state = ok(state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann));
    let decision = state.decision.expect("decided");
    assert_eq!((decision.agree_votes, decision.required_votes), (1, 1));
}

#[test]
fn a_threshold_recorded_as_zero_before_the_floor_still_needs_one_vote() {
    assert_eq!(super::required_votes(0, 4), 1);
    assert_eq!(super::required_votes(100, 3), 1);
    assert_eq!(super::required_votes(5_000, 4), 2);
}

#[test]
fn only_the_latest_vote_counts() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    let state = vote(vote(state, &w, w.ann, true), &w, w.bob, true);
    let state = vote(state, &w, w.bob, false);
    assert_eq!(state.agree_votes(), 1);
    assert_eq!(
        refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "THRESHOLD_NOT_MET"
    );
}

#[test]
fn coaches_outsiders_and_later_joiners_cannot_vote_and_other_rules_take_no_votes() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    for who in [w.coach, w.outsider] {
        assert_eq!(
            refused(
                &state,
                ProposalCommand::CastVote { agree: true },
                &w.ctx(who)
            ),
            "FORBIDDEN"
        );
    }
    let newcomer = PersonId::random();
    let mut ctx = w.ctx(newcomer);
    ctx.owner_members.insert(newcomer, TeamRole::Member);
    assert_eq!(
        refused(&state, ProposalCommand::CastVote { agree: true }, &ctx),
        "FORBIDDEN"
    );
    let advice = raised(&w, Rule::Advice, None);
    assert_eq!(
        refused(
            &advice,
            ProposalCommand::CastVote { agree: true },
            &w.ctx(w.ann)
        ),
        "INVALID_STATE"
    );
    // Under consent a vote means "no objection"; disagreeing is an objection.
    let consent = raised(&w, Rule::Consent, None);
    assert_eq!(
        refused(
            &consent,
            ProposalCommand::CastVote { agree: false },
            &w.ctx(w.ann)
        ),
        "INVALID_INPUT"
    );
    assert!(run(
        consent,
        ProposalCommand::CastVote { agree: true },
        &w.ctx(w.ann)
    )
    .is_ok());
}

#[test]
fn the_threshold_counts_members_not_votes_cast() {
    // 10 eligible at 70%: 7 must agree, however few vote.
    assert_eq!(required_votes(7000, 10), 7);
    assert_eq!(required_votes(5000, 7), 4);
    assert_eq!(required_votes(5000, 8), 4);
    assert_eq!(required_votes(10_000, 3), 3);
    assert_eq!(required_votes(1, 3), 1);
}

// ---- everyone else ----

#[test]
fn nothing_but_a_review_happens_once_decided_and_nothing_once_withdrawn() {
    let w = World::new();
    let decided = ok(
        consented(raised(&w, Rule::Consent, None), &w),
        decide_cmd(Outcome::Adopted, &[]),
        &w.ctx(w.ann),
    );
    let withdrawn = ok(
        raised(&w, Rule::Consent, None),
        ProposalCommand::Withdraw {
            reason: "Not needed.".into(),
        },
        &w.ctx(w.ann),
    );
    let commands = [
        ProposalCommand::GiveAdvice {
            advice_id: Uuid::new_v4(),
            stance: Stance::Support,
            text: "ok".into(),
        },
        ProposalCommand::RaiseObjection {
            objection_id: Uuid::new_v4(),
            reason: "harm".into(),
        },
        ProposalCommand::Amend {
            body: "new".into(),
            reason: "why".into(),
        },
        decide_cmd(Outcome::Rejected, &[]),
        ProposalCommand::Withdraw {
            reason: "late".into(),
        },
    ];
    for command in commands {
        assert_eq!(
            refused(&decided, command.clone(), &w.ctx(w.ann)),
            "INVALID_STATE",
            "{command:?}"
        );
        assert_eq!(refused(&withdrawn, command, &w.ctx(w.ann)), "INVALID_STATE");
    }
    let review = ProposalCommand::Review {
        outcome: ReviewOutcome::Keep,
        note: "Working well.".into(),
        next_review_by: Some(w.now + Duration::days(90)),
    };
    assert_eq!(
        refused(&withdrawn, review.clone(), &w.ctx(w.ann)),
        "INVALID_STATE"
    );
    assert!(run(decided, review, &w.ctx(w.bob)).is_ok());
}

#[test]
fn only_the_proposer_amends_or_withdraws() {
    let w = World::new();
    let state = raised(&w, Rule::Consent, None);
    assert_eq!(
        refused(
            &state,
            ProposalCommand::Amend {
                body: "x".into(),
                reason: "y".into()
            },
            &w.ctx(w.bob)
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        refused(
            &state,
            ProposalCommand::Withdraw { reason: "y".into() },
            &w.ctx(w.bob)
        ),
        "FORBIDDEN"
    );
    let body = state.body().to_string();
    assert_eq!(
        refused(
            &state,
            ProposalCommand::Amend {
                body,
                reason: "same".into()
            },
            &w.ctx(w.ann)
        ),
        "INVALID_INPUT"
    );
}

#[test]
fn every_version_of_the_body_is_kept() {
    let w = World::new();
    let state = amend(amend(raised(&w, Rule::Consent, None), &w), &w);
    assert_eq!(state.version(), 3);
    assert_eq!(state.amendments.len(), 2);
    assert_eq!(
        state.original_body,
        "Move one paramedic from days to nights on Fridays."
    );
    assert!(state
        .body()
        .ends_with("Handover at 19:00. Handover at 19:00."));
}

#[test]
fn a_review_keeps_a_decision_and_changing_it_takes_a_superseding_proposal() {
    let w = World::new();
    let state = ok(
        consented(raised(&w, Rule::Consent, None), &w),
        decide_cmd(Outcome::Adopted, &[]),
        &w.ctx(w.ann),
    );
    for outcome in [ReviewOutcome::Revoke, ReviewOutcome::Amend] {
        let review = ProposalCommand::Review {
            outcome,
            note: "Nights were short.".into(),
            next_review_by: None,
        };
        assert_eq!(
            refused(&state, review.clone(), &w.ctx(w.coach)),
            "FORBIDDEN",
            "coaches do not review"
        );
        assert_eq!(refused(&state, review, &w.ctx(w.bob)), "INVALID_INPUT");
    }
    // An older REVOKE review still reads: the decision stays, marked revoked,
    // and takes no more reviews.
    let revoked = evolve(
        state,
        &ProposalEvent::DecisionReviewed {
            outcome: ReviewOutcome::Revoke,
            note: "Nights were short.".into(),
            next_review_by: None,
        },
        w.now,
    );
    assert!(revoked.revoked());
    assert!(!revoked.in_force());
    assert_eq!(
        revoked.decision.as_ref().expect("still there").outcome,
        Outcome::Adopted
    );
    let keep = ProposalCommand::Review {
        outcome: ReviewOutcome::Keep,
        note: "n".into(),
        next_review_by: None,
    };
    assert_eq!(refused(&revoked, keep, &w.ctx(w.ann)), "INVALID_STATE");
}

#[test]
fn a_rejected_decision_is_not_reviewed_and_review_dates_move_forward() {
    let w = World::new();
    let rejected = ok(
        raised(&w, Rule::Consent, None),
        decide_cmd(Outcome::Rejected, &[]),
        &w.ctx(w.ann),
    );
    let keep = |next| ProposalCommand::Review {
        outcome: ReviewOutcome::Keep,
        note: "n".into(),
        next_review_by: next,
    };
    assert_eq!(
        refused(&rejected, keep(None), &w.ctx(w.ann)),
        "INVALID_STATE"
    );
    let adopted = ok(
        consented(raised(&w, Rule::Consent, None), &w),
        decide_cmd(Outcome::Adopted, &[]),
        &w.ctx(w.ann),
    );
    assert_eq!(
        refused(
            &adopted,
            keep(Some(w.now - Duration::days(1))),
            &w.ctx(w.ann)
        ),
        "INVALID_INPUT"
    );
    assert_eq!(
        refused(&adopted, keep(None), &w.ctx(w.ann)),
        "INVALID_INPUT",
        "keeping sets the next review"
    );
    let next = w.now + Duration::days(90);
    let reviewed = ok(adopted, keep(Some(next)), &w.ctx(w.ann));
    assert_eq!(reviewed.next_review_by(), Some(next));
}

#[test]
fn notes_must_name_this_proposals_advice_or_objections() {
    let w = World::new();
    let state = raised(&w, Rule::Consent, None);
    assert_eq!(
        refused(
            &state,
            decide_cmd(Outcome::Adopted, &[Uuid::new_v4()]),
            &w.ctx(w.ann)
        ),
        "INVALID_INPUT"
    );
    let (state, objection) = object(state, &w, w.bob);
    let withdraw = ProposalCommand::ResolveObjection {
        objection_id: objection,
        resolution: Resolution::Withdrawn,
        note: "n".into(),
        validity_test: None,
    };
    let state = ok(state, withdraw, &w.ctx(w.bob));
    assert_eq!(
        refused(
            &state,
            decide_cmd(Outcome::Adopted, &[objection, objection]),
            &w.ctx(w.ann)
        ),
        "INVALID_INPUT"
    );
}

#[test]
fn events_round_trip_through_their_stored_form() {
    let w = World::new();
    let decided = decide(
        &ProposalState::default(),
        w.raise(Rule::Threshold, Some(0.5)),
        &w.ctx(w.ann),
    )
    .expect("raised");
    for event in decided.events {
        let (event_type, payload) = crate::domain::events::DomainEvent::to_stored(&event);
        assert_eq!(
            <ProposalEvent as crate::domain::events::DomainEvent>::decode(
                &event_type,
                crate::domain::events::FIRST_VERSION,
                &payload
            ),
            Ok(Some(event))
        );
    }
}

// ---- the property: no sequence adopts in breach of its rule ----

mod property {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Ask(usize, bool),
        Advise(usize, u8),
        Object(usize),
        Resolve(usize, usize, u8),
        Amend,
        Vote(usize, bool),
        Decide(usize, bool, bool),
        Withdraw,
        Tick(i64),
        SetDeadline(i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..5usize, any::<bool>()).prop_map(|(p, team)| Step::Ask(p, team)),
            (0..5usize, 0..3u8).prop_map(|(p, s)| Step::Advise(p, s)),
            (0..5usize).prop_map(Step::Object),
            (0..5usize, 0..4usize, 0..3u8).prop_map(|(p, o, r)| Step::Resolve(p, o, r)),
            Just(Step::Amend),
            (0..5usize, any::<bool>()).prop_map(|(p, a)| Step::Vote(p, a)),
            (0..5usize, any::<bool>(), any::<bool>())
                .prop_map(|(p, adopt, notes)| Step::Decide(p, adopt, notes)),
            Just(Step::Withdraw),
            (1..5i64).prop_map(Step::Tick),
            (-2..10i64).prop_map(Step::SetDeadline),
        ]
    }

    fn rule() -> impl Strategy<Value = (Rule, Option<f64>)> {
        prop_oneof![
            Just((Rule::Advice, None)),
            Just((Rule::Consent, None)),
            (1..=100u32).prop_map(|p| (Rule::Threshold, Some(f64::from(p) / 100.0))),
        ]
    }

    /// An oracle written apart from `decide` and the rules module: was the
    /// rule met when adopted?
    fn breach(before: &ProposalState, after: &ProposalState, now: DateTime<Utc>) -> Option<String> {
        let decision = after.decision.as_ref()?;
        let noted = |id: Uuid| decision.notes.iter().any(|n| n.ref_id == id);
        let unweighed = before
            .advice
            .iter()
            .any(|a| a.stance != Stance::Support && !noted(a.id))
            || before.objections.iter().any(|o| !noted(o.id));
        if unweighed {
            return Some("decided without weighing every concern and objection".into());
        }
        if decision.outcome != Outcome::Adopted {
            return None;
        }
        let unheard = before.requests.iter().any(|r| {
            let due = match (r.respond_by, before.advice_deadline) {
                (Some(a), Some(b)) => Some(if a > b { a } else { b }),
                (a, b) => a.or(b),
            };
            r.answered_by.is_none() && due.is_none_or(|d| now < d)
        });
        if unheard {
            return Some("adopted while someone asked had time left to answer".into());
        }
        match before.rule? {
            Rule::Advice => {
                let others = before.requests.iter().any(|r| match r.adviser {
                    Adviser::Team(_) => true,
                    Adviser::Person(p) => Some(p) != before.proposer && Some(p) != before.decider,
                });
                (!others).then(|| "adopted without asking anyone else".into())
            }
            Rule::Consent => {
                if before.objections.iter().any(|o| o.resolution.is_none()) {
                    return Some("adopted with an open objection".into());
                }
                let gave_a_day = match (before.advice_deadline, before.deadline_set_at) {
                    (Some(d), Some(set)) => d - set >= Duration::hours(24),
                    _ => false,
                };
                let closed = (gave_a_day && before.advice_deadline.is_some_and(|d| now >= d))
                    || before.eligible.iter().all(|m| {
                        before.votes.iter().any(|v| v.by == *m && v.agree)
                            || before.objections.iter().any(|o| o.by == *m)
                    });
                (!closed).then(|| "adopted while the objection window was open".into())
            }
            Rule::Threshold => {
                let agree = before.votes.iter().filter(|v| v.agree).count() as f64;
                let p = f64::from(before.threshold_bp?) / 10_000.0;
                (agree < (p * before.eligible.len() as f64 - 1e-9).ceil().max(1.0)).then(|| {
                    format!(
                        "adopted with {agree} agree of {} at {p}",
                        before.eligible.len()
                    )
                })
            }
        }
    }

    /// Whether every unanswered request had at least a day to answer (from
    /// when it was made, or when the deadline it answers by was last set).
    fn fair(state: &ProposalState) -> bool {
        state
            .requests
            .iter()
            .filter(|r| r.answered_by.is_none())
            .all(|r| {
                let Some(due) = state.due(r) else {
                    return true;
                };
                // Asked with a time to answer: the window runs from the
                // asking; asked without one: from when a deadline was set.
                let start = match (r.due_when_asked, state.deadline_set_at) {
                    (false, Some(set)) if set > r.at => set,
                    _ => r.at,
                };
                due - start >= Duration::hours(24)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn no_sequence_adopts_in_breach_of_its_rule_or_gets_stuck((rule, threshold) in rule(), no_deadline in any::<bool>(), steps in prop::collection::vec(step(), 0..40)) {
            let mut w = World::new();
            let people = [w.ann, w.bob, w.cat, w.coach, w.outsider];
            let mut raise = w.raise(rule, threshold);
            if let (true, ProposalCommand::Raise { advice_deadline, .. }) = (no_deadline, &mut raise) {
                *advice_deadline = None;
            }
            let mut state = ok(ProposalState::default(), raise, &w.ctx(w.ann));
            for step in steps {
                let (who, command) = match step {
                    Step::Ask(p, team) => {
                        let adviser = if team { Adviser::Team(w.other_team) } else { Adviser::Person(people[p]) };
                        (w.ann, ProposalCommand::RequestAdvice { request_id: Uuid::new_v4(), adviser, reason: AdviceReason::Affected, adviser_exists: true, team_people: vec![w.outsider], respond_by: None })
                    }
                    Step::Advise(p, s) => {
                        let stance = [Stance::Support, Stance::Concern, Stance::Object][s as usize];
                        (people[p], ProposalCommand::GiveAdvice { advice_id: Uuid::new_v4(), stance, text: "t".into() })
                    }
                    Step::Object(p) => (people[p], ProposalCommand::RaiseObjection { objection_id: Uuid::new_v4(), reason: "r".into() }),
                    Step::Resolve(p, o, r) => {
                        let Some(objection) = state.objections.get(o) else { continue };
                        let resolution = [Resolution::Integrated, Resolution::Withdrawn, Resolution::RuledInvalid][r as usize];
                        let test = (resolution == Resolution::RuledInvalid).then_some(ValidityTest::NotAboutProposal);
                        (people[p], ProposalCommand::ResolveObjection { objection_id: objection.id, resolution, note: "n".into(), validity_test: test })
                    }
                    Step::Amend => (w.ann, ProposalCommand::Amend { body: format!("{} more", state.body()), reason: "r".into() }),
                    Step::Vote(p, agree) => (people[p], ProposalCommand::CastVote { agree }),
                    Step::Decide(p, adopt, with_notes) => {
                        let notes: Vec<Uuid> = if with_notes {
                            state.advice.iter().filter(|a| a.stance != Stance::Support).map(|a| a.id)
                                .chain(state.objections.iter().map(|o| o.id)).collect()
                        } else {
                            Vec::new()
                        };
                        let outcome = if adopt { Outcome::Adopted } else { Outcome::Rejected };
                        (people[p], decide_cmd(outcome, &notes))
                    }
                    Step::Withdraw => (w.ann, ProposalCommand::Withdraw { reason: "r".into() }),
                    Step::Tick(days) => {
                        w.now += Duration::days(days);
                        continue;
                    }
                    Step::SetDeadline(days) => (w.ann, ProposalCommand::SetAdviceDeadline {
                        deadline: w.now + Duration::days(days) + Duration::hours(1),
                        reason: "r".into(),
                    }),
                };
                if let Ok(next) = run(state.clone(), command, &w.ctx(who)) {
                    if let Some(why) = breach(&state, &next, w.now) {
                        prop_assert!(false, "{why}");
                    }
                    // The verdict agrees with the oracle: an adoption the
                    // rules let through is followed exactly when every
                    // request was fair; and no check fails when it says true.
                    if next.status == Status::Decided && state.status == Status::Open {
                        let verdict = compliance(&next, w.now);
                        prop_assert_eq!(verdict.advice_process_followed, verdict.checks.iter().all(|c| c.passed));
                        if next.decision.as_ref().is_some_and(|d| d.outcome == Outcome::Adopted) {
                            prop_assert_eq!(verdict.advice_process_followed, fair(&state), "{:?}", verdict.checks);
                        }
                    }
                    state = next;
                }
                // Never stuck: while open, the decider can always reject
                // (weighing what was heard) and the proposer can withdraw.
                if state.status == Status::Open {
                    let notes: Vec<Uuid> = state.advice.iter().filter(|a| a.stance != Stance::Support).map(|a| a.id)
                        .chain(state.objections.iter().map(|o| o.id)).collect();
                    let reject = decide(&state, decide_cmd(Outcome::Rejected, &notes), &w.ctx(w.ann));
                    prop_assert!(reject.is_ok(), "rejecting is refused: {:?}", reject);
                    let withdraw = ProposalCommand::Withdraw { reason: "r".into() };
                    let withdrawn = decide(&state, withdraw, &w.ctx(w.ann));
                    prop_assert!(withdrawn.is_ok(), "withdrawing is refused: {:?}", withdrawn);
                }
            }
        }
    }
}

// ---- groups: mandate, member teams, budget ----

mod groups {
    use super::*;
    use crate::domain::GroupId;

    fn group_ctx(w: &World, who: PersonId, remaining: i64) -> ProposalContext {
        let mut ctx = w.ctx(who);
        ctx.mandate = Some(vec!["training".into(), "courses".into()]);
        ctx.budget_remaining = Some(remaining);
        ctx
    }

    fn raise(w: &World, area: Option<&str>, spend: Option<i64>) -> ProposalCommand {
        ProposalCommand::Raise {
            owner: Owner::Group(GroupId::random()),
            title: "First-aid refresher for all stations".into(),
            body: "Book two trainers for March.".into(),
            rule: Rule::Consent,
            threshold: None,
            advice_deadline: None,
            area: area.map(str::to_string),
            spend,
            review_by: None,
            decider: None,
            auto_requests: vec![(Uuid::new_v4(), w.team), (Uuid::new_v4(), w.other_team)],
            supersedes: None,
        }
    }

    #[test]
    fn a_group_proposal_must_name_an_area_inside_the_mandate() {
        let w = World::new();
        let ctx = group_ctx(&w, w.ann, 1_000);
        assert_eq!(
            refused(&ProposalState::default(), raise(&w, None, None), &ctx),
            "INVALID_INPUT"
        );
        assert_eq!(
            refused(
                &ProposalState::default(),
                raise(&w, Some("rotas"), None),
                &ctx
            ),
            "OUTSIDE_MANDATE"
        );
        assert!(run(
            ProposalState::default(),
            raise(&w, Some("Training"), None),
            &ctx
        )
        .is_ok());
    }

    #[test]
    fn every_member_team_is_asked_for_advice_as_affected() {
        let w = World::new();
        let state = ok(
            ProposalState::default(),
            raise(&w, Some("training"), Some(500)),
            &group_ctx(&w, w.ann, 1_000),
        );
        let asked: Vec<Adviser> = state.requests.iter().map(|r| r.adviser).collect();
        assert_eq!(
            asked,
            vec![Adviser::Team(w.team), Adviser::Team(w.other_team)]
        );
        assert!(state
            .requests
            .iter()
            .all(|r| r.reason == AdviceReason::Affected));
    }

    #[test]
    fn adopting_a_spend_larger_than_the_remaining_budget_is_refused() {
        let w = World::new();
        let state = ok(
            ProposalState::default(),
            raise(&w, Some("training"), Some(500)),
            &group_ctx(&w, w.ann, 1_000),
        );
        // Every member team (asked automatically) must be heard first.
        assert_eq!(
            refused(
                &state,
                decide_cmd(Outcome::Adopted, &[]),
                &group_ctx(&w, w.ann, 1_000)
            ),
            "ADVICE_PENDING"
        );
        let (state, _) = advise(state, &w, w.bob, Stance::Support);
        let (state, _) = advise(state, &w, w.outsider, Stance::Support);
        let state = consented(state, &w);
        assert_eq!(
            refused(
                &state,
                decide_cmd(Outcome::Adopted, &[]),
                &group_ctx(&w, w.ann, 499)
            ),
            "BUDGET_EXCEEDED"
        );
        assert!(run(
            state.clone(),
            decide_cmd(Outcome::Rejected, &[]),
            &group_ctx(&w, w.ann, 0)
        )
        .is_ok());
        assert!(run(
            state,
            decide_cmd(Outcome::Adopted, &[]),
            &group_ctx(&w, w.ann, 500)
        )
        .is_ok());
    }

    #[test]
    fn a_spend_must_be_positive() {
        let w = World::new();
        assert_eq!(
            refused(
                &ProposalState::default(),
                raise(&w, Some("training"), Some(0)),
                &group_ctx(&w, w.ann, 1_000)
            ),
            "INVALID_INPUT"
        );
    }
}

// ---- the gaming routes of issue 14, and the rules as DESIGN.md words them ----

mod gaming;

// ---- what a person may do now: the actions a proposal's page offers ----

mod actions;
