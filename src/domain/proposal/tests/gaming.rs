//! Given/when/then tests for every way issue 14 found to game the verdict,
//! and for the rules as DESIGN.md's "Rules a decision must pass" words them.

use super::*;

fn check(state: &ProposalState, now: DateTime<Utc>, name: CheckName) -> Option<Check> {
    compliance(state, now)
        .checks
        .into_iter()
        .find(|c| c.name == name)
}

fn ask_by(
    state: ProposalState,
    w: &World,
    adviser: Adviser,
    respond_by: Option<DateTime<Utc>>,
) -> Result<ProposalState, DomainError> {
    let command = ProposalCommand::RequestAdvice {
        request_id: Uuid::new_v4(),
        adviser,
        reason: AdviceReason::Expert,
        adviser_exists: true,
        team_people: vec![],
        respond_by,
    };
    run(state, command, &w.ctx(w.ann))
}

fn set_deadline(deadline: DateTime<Utc>) -> ProposalCommand {
    ProposalCommand::SetAdviceDeadline {
        deadline,
        reason: "More time for the night crews.".into(),
    }
}

fn at(w: &World, who: PersonId, now: DateTime<Utc>) -> ProposalContext {
    let mut ctx = w.ctx(who);
    ctx.now = now;
    ctx
}

#[test]
fn given_the_advice_rule_when_the_proposer_asks_only_themself_then_it_is_refused_and_never_counts()
{
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    let refused = ask_by(state.clone(), &w, Adviser::Person(w.ann), None).expect_err("refused");
    assert_eq!(refused.code(), "INVALID_INPUT");
    assert_eq!(
        super::refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "ADVICE_PENDING"
    );
    let sought = check(&state, w.now, CheckName::AdviceSought).expect("applies");
    assert!(!sought.passed, "{sought:?}");
    assert!(!compliance(&state, w.now).advice_process_followed);
}

#[test]
fn given_a_passed_deadline_when_asking_someone_new_then_it_is_refused_until_the_deadline_moves() {
    let w = World::new();
    let (state, _) = ask(raised(&w, Rule::Advice, None), &w, Adviser::Person(w.bob));
    let later = w.now + Duration::days(8);
    let refused = run(
        state.clone(),
        ProposalCommand::RequestAdvice {
            request_id: Uuid::new_v4(),
            adviser: Adviser::Person(w.outsider),
            reason: AdviceReason::Affected,
            adviser_exists: true,
            team_people: vec![],
            respond_by: None,
        },
        &at(&w, w.ann, later),
    )
    .expect_err("refused");
    assert_eq!(refused.code(), "INVALID_STATE");
    // Moving the deadline earlier once anyone was asked is refused; later is fine.
    assert_eq!(
        super::refused(
            &state,
            set_deadline(w.now + Duration::days(1)),
            &w.ctx(w.ann)
        ),
        "INVALID_INPUT"
    );
    let moved = run(
        state,
        set_deadline(later + Duration::days(3)),
        &at(&w, w.ann, later),
    )
    .expect("moved later");
    let asked = run(
        moved,
        ProposalCommand::RequestAdvice {
            request_id: Uuid::new_v4(),
            adviser: Adviser::Person(w.outsider),
            reason: AdviceReason::Affected,
            adviser_exists: true,
            team_people: vec![],
            respond_by: None,
        },
        &at(&w, w.ann, later),
    );
    assert!(asked.is_ok(), "{asked:?}");
}

#[test]
fn given_a_threshold_when_adopting_over_an_unweighed_concern_and_objection_then_it_is_refused() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    let (state, concern) = advise(state, &w, w.cat, Stance::Concern);
    let (state, objection) = object(state, &w, w.bob);
    let state = vote(vote(state, &w, w.ann, true), &w, w.cat, true);
    assert_eq!(
        super::refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "INVALID_INPUT",
        "every view is weighed under every rule"
    );
    let decided = ok(
        state,
        decide_cmd(Outcome::Adopted, &[concern, objection]),
        &w.ctx(w.ann),
    );
    let verdict = compliance(&decided, w.now);
    assert!(verdict.advice_process_followed, "{:?}", verdict.checks);
    assert!(
        check(&decided, w.now, CheckName::ThresholdMet)
            .expect("applies")
            .passed
    );
}

#[test]
fn given_consent_when_adopting_before_anyone_could_object_then_it_waits_for_the_objection_window() {
    let w = World::new();
    let state = raised(&w, Rule::Consent, None);
    assert_eq!(
        super::refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "ADVICE_PENDING"
    );
    let window = check(&state, w.now, CheckName::ObjectionWindow).expect("applies");
    assert!(
        !window.passed && window.detail.contains("neither consented nor objected"),
        "{window:?}"
    );
    // Once the deadline has passed, the window is closed.
    let after = w.now + Duration::days(8);
    assert!(run(
        state,
        decide_cmd(Outcome::Adopted, &[]),
        &at(&w, w.ann, after)
    )
    .is_ok());
}

#[test]
fn given_an_advice_proposal_with_no_deadline_and_a_silent_adviser_then_setting_a_deadline_unsticks_it(
) {
    let w = World::new();
    let raise = w.raise_until(Rule::Advice, None);
    let state = ok(ProposalState::default(), raise, &w.ctx(w.ann));
    let (state, _) = ask(state, &w, Adviser::Person(w.outsider));
    let much_later = w.now + Duration::days(60);
    assert_eq!(
        super::refused(
            &state,
            decide_cmd(Outcome::Adopted, &[]),
            &at(&w, w.ann, much_later)
        ),
        "ADVICE_PENDING"
    );
    let state = ok(
        state,
        set_deadline(much_later + Duration::days(2)),
        &at(&w, w.ann, much_later),
    );
    let after = much_later + Duration::days(3);
    let decided = ok(
        state,
        decide_cmd(Outcome::Adopted, &[]),
        &at(&w, w.ann, after),
    );
    let verdict = compliance(&decided, after);
    assert!(verdict.advice_process_followed, "{:?}", verdict.checks);
    assert_eq!(verdict.missing_advisers.len(), 1);
}

#[test]
fn given_a_request_with_less_than_a_day_to_answer_then_it_is_allowed_but_fails_fair_window() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    // respondBy earlier than the deadline is refused: it only gives more time.
    let early = ask_by(
        state.clone(),
        &w,
        Adviser::Person(w.outsider),
        Some(w.now + Duration::hours(2)),
    );
    assert_eq!(early.expect_err("refused").code(), "INVALID_INPUT");
    // A deadline set two hours ahead, after asking, leaves the adviser too little time.
    let (state, _) = ask(state, &w, Adviser::Person(w.outsider));
    let state = ok(
        state,
        set_deadline(w.now + Duration::days(8)),
        &w.ctx(w.ann),
    );
    let fair = check(&state, w.now, CheckName::FairWindow).expect("applies");
    assert!(fair.passed, "{fair:?}");
    let raise = w.raise_until(Rule::Advice, Some(w.now + Duration::hours(2)));
    let hurried = ok(ProposalState::default(), raise, &w.ctx(w.ann));
    let (hurried, _) = ask(hurried, &w, Adviser::Person(w.outsider));
    let after = w.now + Duration::hours(3);
    let decided = ok(
        hurried,
        decide_cmd(Outcome::Adopted, &[]),
        &at(&w, w.ann, after),
    );
    let verdict = compliance(&decided, after);
    let fair = verdict
        .checks
        .iter()
        .find(|c| c.name == CheckName::FairWindow)
        .expect("applies");
    assert!(!fair.passed, "{fair:?}");
    assert!(
        !verdict.advice_process_followed,
        "a failing check means not followed"
    );
}

#[test]
fn given_an_adopted_decision_when_a_proposal_supersedes_it_then_only_the_same_owner_may_and_only_while_in_force(
) {
    let w = World::new();
    let old = ProposalId::random();
    let mut ctx = w.ctx(w.ann);
    let raise = |supersedes| {
        let mut command = w.raise(Rule::Consent, None);
        if let ProposalCommand::Raise { supersedes: s, .. } = &mut command {
            *s = supersedes;
        }
        command
    };
    assert_eq!(
        super::refused(&ProposalState::default(), raise(Some(old)), &ctx),
        "NOT_FOUND"
    );
    ctx.superseded = Some(decide::SupersededDecision {
        id: old,
        owner: Owner::Team(w.other_team),
        in_force: true,
        title: "Night rota".into(),
    });
    assert_eq!(
        super::refused(&ProposalState::default(), raise(Some(old)), &ctx),
        "INVALID_INPUT"
    );
    ctx.superseded = Some(decide::SupersededDecision {
        id: old,
        owner: Owner::Team(w.team),
        in_force: false,
        title: "Night rota".into(),
    });
    assert_eq!(
        super::refused(&ProposalState::default(), raise(Some(old)), &ctx),
        "INVALID_STATE"
    );
    if let Some(target) = &mut ctx.superseded {
        target.in_force = true;
    }
    let state = ok(ProposalState::default(), raise(Some(old)), &ctx);
    assert_eq!(state.supersedes, Some(old));
    // Marked superseded, a decision is no longer in force and takes no reviews.
    let decided = ok(
        consented(raised(&w, Rule::Consent, None), &w),
        decide_cmd(Outcome::Adopted, &[]),
        &w.ctx(w.ann),
    );
    assert!(decided.in_force());
    let replaced = evolve(
        decided,
        &ProposalEvent::DecisionSuperseded {
            by: ProposalId::random(),
        },
        w.now,
    );
    assert!(!replaced.in_force());
    let keep = ProposalCommand::Review {
        outcome: ReviewOutcome::Keep,
        note: "n".into(),
        next_review_by: None,
    };
    assert_eq!(
        super::refused(&replaced, keep, &w.ctx(w.ann)),
        "INVALID_STATE"
    );
}

#[test]
fn a_rejection_needs_no_advice_but_weighs_what_it_heard_and_its_verdict_says_so() {
    let w = World::new();
    let (state, _) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    let (state, concern) = advise(state, &w, w.bob, Stance::Concern);
    assert_eq!(
        super::refused(&state, decide_cmd(Outcome::Rejected, &[]), &w.ctx(w.ann)),
        "INVALID_INPUT"
    );
    let rejected = ok(
        state,
        decide_cmd(Outcome::Rejected, &[concern]),
        &w.ctx(w.ann),
    );
    let verdict = compliance(&rejected, w.now);
    assert_eq!(
        verdict.checks.iter().map(|c| c.name).collect::<Vec<_>>(),
        vec![CheckName::ViewsWeighed]
    );
    assert!(verdict.advice_process_followed);
}

#[test]
fn the_proposers_own_advice_answers_no_request_not_even_for_their_team() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    // A team of no one but the proposer and decider cannot be asked.
    let lonely = run(
        state.clone(),
        ProposalCommand::RequestAdvice {
            request_id: Uuid::new_v4(),
            adviser: Adviser::Team(w.team),
            reason: AdviceReason::Affected,
            adviser_exists: true,
            team_people: vec![w.ann],
            respond_by: None,
        },
        &w.ctx(w.ann),
    );
    assert_eq!(lonely.expect_err("refused").code(), "INVALID_INPUT");
    // Asked, her own team waits for someone else in it.
    let (state, _) = ask(state, &w, Adviser::Team(w.team));
    let (state, _) = advise(state, &w, w.ann, Stance::Support);
    assert!(
        state.requests[0].answered_by.is_none(),
        "her advice answers nothing"
    );
    assert_eq!(
        super::refused(&state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)),
        "ADVICE_PENDING"
    );
    let (state, _) = advise(state, &w, w.bob, Stance::Support);
    assert!(run(state, decide_cmd(Outcome::Adopted, &[]), &w.ctx(w.ann)).is_ok());
}

#[test]
fn given_consent_a_deadline_shorter_than_the_window_does_not_close_the_objection_window() {
    let w = World::new();
    let raise = w.raise_until(Rule::Consent, Some(w.now + Duration::seconds(5)));
    let state = ok(ProposalState::default(), raise, &w.ctx(w.ann));
    let after = w.now + Duration::minutes(1);
    assert_eq!(
        super::refused(
            &state,
            decide_cmd(Outcome::Adopted, &[]),
            &at(&w, w.ann, after)
        ),
        "ADVICE_PENDING"
    );
    let window = check(&state, after, CheckName::ObjectionWindow).expect("applies");
    assert!(window.detail.contains("less than 24 hours"), "{window:?}");
    let state = consented(state, &w);
    assert!(run(
        state,
        decide_cmd(Outcome::Adopted, &[]),
        &at(&w, w.ann, after)
    )
    .is_ok());
}

#[test]
fn moving_the_deadline_later_keeps_the_window_of_those_already_asked() {
    let w = World::new();
    let (state, _) = ask(
        raised(&w, Rule::Advice, None),
        &w,
        Adviser::Person(w.outsider),
    );
    let almost = w.now + Duration::days(7) - Duration::hours(1);
    let moved = ok(
        state,
        set_deadline(w.now + Duration::days(7) + Duration::hours(2)),
        &at(&w, w.ann, almost),
    );
    let after = w.now + Duration::days(8);
    let fair = check(&moved, after, CheckName::FairWindow).expect("applies");
    assert!(fair.passed, "they had over a week: {fair:?}");
    assert_eq!(moved.due(&moved.requests[0]), moved.advice_deadline);
}
