//! Given/when/then tests of what a proposal's page offers each person, read
//! as the rules, and a property: every action offered is one `decide` does
//! not forbid that person, and every form `decide` accepts is offered.

use super::*;
use crate::domain::proposal::actions::{actions_for, Action, ActionKind};

fn kinds(actions: &[Action]) -> Vec<ActionKind> {
    actions.iter().map(|a| a.kind).collect()
}

fn offers(state: &ProposalState, ctx: &ProposalContext, kind: ActionKind) -> bool {
    actions_for(state, ctx).iter().any(|a| a.kind == kind)
}

fn waits(state: &ProposalState, ctx: &ProposalContext, kind: ActionKind) -> Option<&'static str> {
    actions_for(state, ctx)
        .into_iter()
        .find(|a| a.kind == kind)
        .and_then(|a| a.waits_for)
        .map(|refusal| refusal.code())
}

#[test]
fn a_coach_may_advise_and_rule_an_objection_invalid_but_never_vote_or_decide() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    let (state, objection) = object(state, &w, w.bob);
    let coach = kinds(&actions_for(&state, &w.ctx(w.coach)));
    assert!(coach.contains(&ActionKind::GiveAdvice));
    assert!(coach.contains(&ActionKind::RuleInvalid(objection)));
    for never in [
        ActionKind::Vote,
        ActionKind::Decide,
        ActionKind::RaiseObjection,
        ActionKind::Amend,
        ActionKind::Withdraw,
        ActionKind::WithdrawObjection(objection),
    ] {
        assert!(!coach.contains(&never), "a coach is not offered {never:?}");
    }
}

#[test]
fn the_decider_may_record_the_decision_others_may_not() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    assert!(offers(&state, &w.ctx(w.ann), ActionKind::Decide));
    for other in [w.bob, w.cat, w.coach, w.outsider] {
        assert!(!offers(&state, &w.ctx(other), ActionKind::Decide));
    }
}

#[test]
fn given_a_threshold_not_met_then_deciding_is_offered_with_what_it_waits_for() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    assert_eq!(
        waits(&state, &w.ctx(w.ann), ActionKind::Decide),
        Some("THRESHOLD_NOT_MET")
    );
    let state = vote(vote(state, &w, w.bob, true), &w, w.cat, true);
    assert_eq!(waits(&state, &w.ctx(w.ann), ActionKind::Decide), None);
}

#[test]
fn given_an_adviser_with_time_left_then_deciding_waits_for_their_advice() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    let (state, _) = ask(state, &w, Adviser::Person(w.outsider));
    assert_eq!(
        waits(&state, &w.ctx(w.ann), ActionKind::Decide),
        Some("ADVICE_PENDING")
    );
}

#[test]
fn eligible_members_vote_under_a_threshold_and_nobody_votes_under_the_advice_rule() {
    let w = World::new();
    let threshold = raised(&w, Rule::Threshold, Some(0.5));
    for member in [w.ann, w.bob, w.cat] {
        assert!(offers(&threshold, &w.ctx(member), ActionKind::Vote));
    }
    assert!(!offers(&threshold, &w.ctx(w.outsider), ActionKind::Vote));
    let advice = raised(&w, Rule::Advice, None);
    for anyone in [w.ann, w.bob, w.coach] {
        assert!(!offers(&advice, &w.ctx(anyone), ActionKind::Vote));
    }
}

#[test]
fn the_proposer_may_ask_for_advice_move_the_deadline_amend_and_withdraw_others_may_not() {
    let w = World::new();
    let state = raised(&w, Rule::Consent, None);
    let proposer = kinds(&actions_for(&state, &w.ctx(w.ann)));
    let member = kinds(&actions_for(&state, &w.ctx(w.bob)));
    for kind in [
        ActionKind::RequestAdvice,
        ActionKind::SetAdviceDeadline,
        ActionKind::Amend,
        ActionKind::Withdraw,
    ] {
        assert!(proposer.contains(&kind), "the proposer may {kind:?}");
        assert!(!member.contains(&kind), "another member may not {kind:?}");
    }
    assert!(member.contains(&ActionKind::RaiseObjection));
    assert!(member.contains(&ActionKind::Vote), "consent is a vote");
}

#[test]
fn given_the_deadline_passed_then_asking_for_advice_waits_for_it_to_move() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    let mut later = w.ctx(w.ann);
    later.now = w.now + Duration::days(8);
    assert_eq!(
        waits(&state, &later, ActionKind::RequestAdvice),
        Some("INVALID_STATE")
    );
    assert_eq!(waits(&state, &later, ActionKind::SetAdviceDeadline), None);
}

#[test]
fn the_objector_may_withdraw_and_may_confirm_integrated_only_after_an_amendment() {
    let w = World::new();
    let state = raised(&w, Rule::Consent, None);
    let (state, objection) = object(state, &w, w.bob);
    let bob = w.ctx(w.bob);
    assert!(offers(
        &state,
        &bob,
        ActionKind::WithdrawObjection(objection)
    ));
    assert_eq!(
        waits(&state, &bob, ActionKind::ConfirmIntegrated(objection)),
        Some("INVALID_STATE"),
        "confirming waits for an amendment"
    );
    let amended = amend(state.clone(), &w);
    assert_eq!(
        waits(&amended, &bob, ActionKind::ConfirmIntegrated(objection)),
        None
    );
    for other in [w.ann, w.cat] {
        let ctx = w.ctx(other);
        assert!(!offers(
            &amended,
            &ctx,
            ActionKind::ConfirmIntegrated(objection)
        ));
        assert!(!offers(
            &amended,
            &ctx,
            ActionKind::WithdrawObjection(objection)
        ));
        assert!(!offers(&amended, &ctx, ActionKind::RuleInvalid(objection)));
    }
}

#[test]
fn an_auditor_may_do_nothing() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    let mut auditor = w.ctx(w.ann);
    auditor.caller = Caller::Person(Actor {
        person: PersonId::random(),
        org_role: Some(OrgRole::Auditor),
    });
    assert!(actions_for(&state, &auditor).is_empty());
}

#[test]
fn once_adopted_members_and_the_decider_may_only_review_and_once_rejected_nothing() {
    let w = World::new();
    let state = raised(&w, Rule::Threshold, Some(0.5));
    let state = vote(vote(state, &w, w.bob, true), &w, w.cat, true);
    let adopted = ok(
        state.clone(),
        decide_cmd(Outcome::Adopted, &[]),
        &w.ctx(w.ann),
    );
    for member in [w.ann, w.bob] {
        assert_eq!(
            kinds(&actions_for(&adopted, &w.ctx(member))),
            vec![ActionKind::Review]
        );
    }
    assert!(actions_for(&adopted, &w.ctx(w.coach)).is_empty());
    let rejected = ok(state, decide_cmd(Outcome::Rejected, &[]), &w.ctx(w.ann));
    assert!(actions_for(&rejected, &w.ctx(w.ann)).is_empty());
}

#[test]
fn a_withdrawn_proposal_offers_nothing() {
    let w = World::new();
    let state = raised(&w, Rule::Advice, None);
    let state = ok(
        state,
        ProposalCommand::Withdraw {
            reason: "Superseded by the rota review.".into(),
        },
        &w.ctx(w.ann),
    );
    for anyone in [w.ann, w.bob, w.coach, w.outsider] {
        assert!(actions_for(&state, &w.ctx(anyone)).is_empty());
    }
}

mod property {
    use proptest::prelude::*;

    use super::*;

    /// The command a page's form sends for an action, with what people type.
    fn form(kind: ActionKind, state: &ProposalState, w: &World, agree: bool) -> ProposalCommand {
        let resolve = |objection_id, resolution, validity_test| ProposalCommand::ResolveObjection {
            objection_id,
            resolution,
            note: "Met by the amendment.".into(),
            validity_test,
        };
        match kind {
            ActionKind::RequestAdvice => ProposalCommand::RequestAdvice {
                request_id: Uuid::new_v4(),
                adviser: Adviser::Team(w.other_team),
                reason: AdviceReason::Expert,
                adviser_exists: true,
                team_people: vec![w.outsider],
                respond_by: None,
            },
            ActionKind::SetAdviceDeadline => ProposalCommand::SetAdviceDeadline {
                deadline: w.now + Duration::days(30),
                reason: "More time for nights.".into(),
            },
            ActionKind::GiveAdvice => ProposalCommand::GiveAdvice {
                advice_id: Uuid::new_v4(),
                stance: Stance::Concern,
                text: "Mind the handover.".into(),
            },
            ActionKind::RaiseObjection => ProposalCommand::RaiseObjection {
                objection_id: Uuid::new_v4(),
                reason: "Unsafe at night.".into(),
            },
            ActionKind::ConfirmIntegrated(id) => resolve(id, Resolution::Integrated, None),
            ActionKind::WithdrawObjection(id) => resolve(id, Resolution::Withdrawn, None),
            ActionKind::RuleInvalid(id) => resolve(
                id,
                Resolution::RuledInvalid,
                Some(ValidityTest::NotAboutProposal),
            ),
            ActionKind::Amend => ProposalCommand::Amend {
                body: format!("{} Handover at 19:00.", state.body()),
                reason: "Meets the objection.".into(),
            },
            ActionKind::Vote => ProposalCommand::CastVote { agree },
            ActionKind::Decide => {
                let views: Vec<Uuid> = state
                    .advice
                    .iter()
                    .map(|a| a.id)
                    .chain(state.objections.iter().map(|o| o.id))
                    .collect();
                decide_cmd(Outcome::Rejected, &views)
            }
            ActionKind::Withdraw => ProposalCommand::Withdraw {
                reason: "No longer needed.".into(),
            },
            ActionKind::Review => ProposalCommand::Review {
                outcome: ReviewOutcome::Keep,
                note: "Still works.".into(),
                next_review_by: Some(w.now + Duration::days(90)),
            },
        }
    }

    /// Every kind of action there could be on `state`.
    fn every_kind(state: &ProposalState) -> Vec<ActionKind> {
        let mut all = vec![
            ActionKind::RequestAdvice,
            ActionKind::SetAdviceDeadline,
            ActionKind::GiveAdvice,
            ActionKind::RaiseObjection,
            ActionKind::Amend,
            ActionKind::Vote,
            ActionKind::Decide,
            ActionKind::Withdraw,
            ActionKind::Review,
        ];
        for objection in &state.objections {
            all.push(ActionKind::ConfirmIntegrated(objection.id));
            all.push(ActionKind::WithdrawObjection(objection.id));
            all.push(ActionKind::RuleInvalid(objection.id));
        }
        all
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn every_action_offered_is_not_forbidden_and_every_form_accepted_is_offered(
            rule in prop_oneof![Just(Rule::Advice), Just(Rule::Consent), Just(Rule::Threshold)],
            steps in prop::collection::vec((0..5usize, 0..12usize, any::<bool>()), 0..30),
        ) {
            let w = World::new();
            let people = [w.ann, w.bob, w.cat, w.coach, w.outsider];
            let threshold = (rule == Rule::Threshold).then_some(0.5);
            let mut state = raised(&w, rule, threshold);
            for (who, pick, agree) in steps {
                let ctx = w.ctx(people[who]);
                let offered = actions_for(&state, &ctx);
                for kind in every_kind(&state) {
                    let result = decide(&state, form(kind, &state, &w, agree), &ctx);
                    let is_offered = offered.iter().any(|a| a.kind == kind);
                    if is_offered {
                        prop_assert!(
                            !matches!(result, Err(DomainError::Forbidden(_))),
                            "{kind:?} offered to {who} but forbidden: {result:?}"
                        );
                    }
                    if result.is_ok() {
                        prop_assert!(is_offered, "{kind:?} accepted for {who} but not offered");
                    }
                }
                // Take one of the actions offered, as the person would.
                if let Some(action) = offered.get(pick % offered.len().max(1)) {
                    if let Ok(next) = run(state.clone(), form(action.kind, &state, &w, agree), &ctx) {
                        state = next;
                    }
                }
            }
        }
    }
}
