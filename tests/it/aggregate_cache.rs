//! The cache of folded aggregates never hides a write: two processes on one
//! database, each with its own cache, and a write by one is taken into
//! account at once by the other (a refusal is checked against the log, a
//! stale version ends in a conflict that is retried from the log).

use std::sync::Arc;

use advice_log::app::{App, CommandMeta, RaiseProposal};
use advice_log::domain::proposal::{Owner, ProposalState, Rule};
use advice_log::domain::team::TeamState;
use advice_log::domain::{Caller, PersonId, ProposalId, TeamId, TeamRole};

use crate::on_both_backends;
use crate::support::{as_person, TestDb};

fn rota(team: TeamId) -> RaiseProposal {
    RaiseProposal {
        owner: Owner::Team(team),
        title: "Winter rota".into(),
        body: "Two crews on Friday nights.".into(),
        rule: Rule::Threshold,
        threshold: Some(0.5),
        advice_deadline: None,
        area: None,
        spend: None,
        review_by: None,
        decider: None,
        supersedes: None,
    }
}

on_both_backends! {
    async fn another_process_writes_are_seen_at_once_through_the_cache(backend: Backend) {
        let db = TestDb::new(backend).await;
        let a = App::start(db.unlocked().await).await.expect("first process");
        let b = App::start(db.unlocked().await).await.expect("second process");
        let operator = CommandMeta::new(Caller::Operator, None);

        let person = |app: Arc<App>, name: &'static str| {
            let operator = operator.clone();
            async move {
                let email = format!("{}@example.org", name.to_lowercase());
                let outcome = app.register_person(&operator, name, &email, None).await.expect("register");
                PersonId(outcome.subject)
            }
        };
        let ann = person(a.clone(), "Ann").await;
        let bob = person(a.clone(), "Bob").await;
        let team = TeamId(a.form_team(&operator, "Night crew").await.expect("team").subject);
        a.join_team(&operator, team, ann, TeamRole::Member).await.expect("ann joins");

        // The first process raises, and so caches the team with Ann alone.
        let first = a.raise_proposal(&as_person(ann), rota(team)).await.expect("raise");
        let cached = a.read.aggregates().get::<TeamState>(&team.stream());
        assert_eq!(cached.map(|(state, _)| state.members.len()), Some(1), "the team is cached");

        // The second process adds Bob; the first at once lets Bob raise a
        // proposal (its cached team would refuse him) ...
        b.join_team(&operator, team, bob, TeamRole::Member).await.expect("bob joins");
        let second = a.raise_proposal(&as_person(bob), rota(team)).await.expect("bob raises");
        // ... and Ann's next proposal counts Bob among those who vote.
        let third = a.raise_proposal(&as_person(ann), rota(team)).await.expect("ann raises");
        let second = a.load_proposal(ProposalId(second.subject), None).await.expect("read").projected.state;
        assert_eq!(second.proposer, Some(bob), "Bob's proposal is stored");
        let third = a.load_proposal(ProposalId(third.subject), None).await.expect("read").projected.state;
        let mut eligible = third.eligible.clone();
        eligible.sort();
        let mut both = vec![ann, bob];
        both.sort();
        assert_eq!(eligible, both, "Ann and Bob vote on the third proposal");

        // Both processes vote on the first proposal, one after the other,
        // each from its own cache: neither vote is lost.
        let first = ProposalId(first.subject);
        let _ = a.load_folded::<ProposalState>(&first.stream(), Arc::new(advice_log::stored::proposal_step)).await.expect("cache it");
        b.cast_vote(&as_person(ann), first, false).await.expect("Ann votes no on the second process");
        a.cast_vote(&as_person(ann), first, true).await.expect("Ann changes her vote on the first");
        let stored = a.load_proposal(first, None).await.expect("read");
        assert_eq!(stored.version, 3, "raised, then two votes");
        let votes: Vec<(PersonId, bool)> = stored.projected.state.votes.iter().map(|v| (v.by, v.agree)).collect();
        assert_eq!(votes, vec![(ann, true)], "the later vote stands");
    }
}
