//! The read-model tables: rebuilt from zero they equal what the projector
//! built step by step; a crash between an event's changes and its checkpoint
//! applies it exactly once; lists page through everything once; and
//! read-your-writes.

use std::sync::Arc;

use advice_log::app::{App, CommandMeta, ManualClock, RaiseProposal};
use advice_log::domain::events::DomainEvent;
use advice_log::domain::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalId, Resolution, ReviewOutcome,
    Rule, Stance, ValidityTest, WeighingNote,
};
use advice_log::domain::{Actor, Caller, OrgRole, PersonId, TeamId, TeamRole};
use advice_log::projection::Projector;
use advice_log::store::{Append, Backend, DatabaseUrl, EventData, ExpectedVersion};
use chrono::{Duration, Utc};
use proptest::prelude::*;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{as_person, TestApp, TestDb};

/// A small organisation driven through the application itself.
struct Org {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    team: TeamId,
    members: Vec<PersonId>,
    coach: PersonId,
    outsider: PersonId,
    other_team: TeamId,
}

impl Org {
    async fn new(db: &TestDb) -> Org {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let storage = advice_log::backend::open_with_clock(&db.url, clock.clone())
            .await
            .expect("store");
        let app = App::start_with_clock(storage, clock.clone())
            .await
            .expect("app");
        let boot = app
            .bootstrap("Ada", "ada@example.org")
            .await
            .expect("bootstrap");
        let admin = CommandMeta::new(
            Caller::Person(Actor {
                person: PersonId(boot.outcome.subject),
                org_role: Some(OrgRole::Admin),
            }),
            None,
        );
        let mut people = Vec::new();
        for n in 0..5 {
            let outcome = app
                .register_person(&admin, &format!("P{n}"), &format!("p{n}@example.org"), None)
                .await
                .expect("person");
            people.push(PersonId(outcome.subject));
        }
        let team = TeamId(
            app.form_team(&admin, "Station")
                .await
                .expect("team")
                .subject,
        );
        let other_team = TeamId(
            app.form_team(&admin, "Nursing")
                .await
                .expect("team")
                .subject,
        );
        for member in &people[0..3] {
            app.join_team(&admin, team, *member, TeamRole::Member)
                .await
                .expect("join");
        }
        app.join_team(&admin, team, people[3], TeamRole::Coach)
            .await
            .expect("join");
        app.join_team(&admin, other_team, people[4], TeamRole::Member)
            .await
            .expect("join");
        Org {
            app,
            clock,
            team,
            members: people[0..3].to_vec(),
            coach: people[3],
            outsider: people[4],
            other_team,
        }
    }

    fn person(&self, n: usize) -> PersonId {
        match n % 5 {
            0..=2 => self.members[n % 5],
            3 => self.coach,
            _ => self.outsider,
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Raise(u8, usize),
    Ask(usize, usize, bool),
    Advise(usize, usize, u8),
    Object(usize, usize),
    Resolve(usize, usize, u8),
    Amend(usize),
    Vote(usize, usize, bool),
    Decide(usize, bool),
    Withdraw(usize),
    Review(usize, usize, u8),
    Tick(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..3u8, 0..5usize).prop_map(|(r, p)| Step::Raise(r, p)),
        (0..8usize, 0..5usize, any::<bool>()).prop_map(|(i, p, t)| Step::Ask(i, p, t)),
        (0..8usize, 0..5usize, 0..3u8).prop_map(|(i, p, s)| Step::Advise(i, p, s)),
        (0..8usize, 0..5usize).prop_map(|(i, p)| Step::Object(i, p)),
        (0..8usize, 0..5usize, 0..3u8).prop_map(|(i, p, r)| Step::Resolve(i, p, r)),
        (0..8usize).prop_map(Step::Amend),
        (0..8usize, 0..5usize, any::<bool>()).prop_map(|(i, p, a)| Step::Vote(i, p, a)),
        (0..8usize, any::<bool>()).prop_map(|(i, a)| Step::Decide(i, a)),
        (0..8usize).prop_map(Step::Withdraw),
        (0..8usize, 0..5usize, 0..3u8).prop_map(|(i, p, o)| Step::Review(i, p, o)),
        (1..20i64).prop_map(Step::Tick),
    ]
}

/// Runs one step; refused commands are part of life and are ignored.
async fn run(org: &Org, proposals: &mut Vec<ProposalId>, step: Step) {
    let app = &org.app;
    let pick = |i: usize| proposals.get(i % proposals.len().max(1)).copied();
    let now = advice_log::app::Clock::now(&*org.clock);
    match step {
        Step::Raise(rule, p) => {
            let rule = [Rule::Advice, Rule::Consent, Rule::Threshold][rule as usize];
            let args = RaiseProposal {
                owner: Owner::Team(org.team),
                title: "Rota change".into(),
                body: format!("Body {}", proposals.len()),
                rule,
                threshold: (rule == Rule::Threshold).then_some(0.5),
                advice_deadline: Some(now + Duration::days(10)),
                area: None,
                spend: None,
                review_by: Some(now + Duration::days(30)),
                decider: None,
                supersedes: None,
            };
            if let Ok(outcome) = app.raise_proposal(&as_person(org.person(p)), args).await {
                proposals.push(ProposalId(outcome.subject));
            }
        }
        _ if proposals.is_empty() => {}
        Step::Ask(i, p, team) => {
            let Some(id) = pick(i) else { return };
            let adviser = if team {
                Adviser::Team(org.other_team)
            } else {
                Adviser::Person(org.person(p))
            };
            let _ = app
                .request_advice(
                    &as_person(org.members[0]),
                    id,
                    adviser,
                    AdviceReason::Affected,
                    None,
                )
                .await;
        }
        Step::Advise(i, p, s) => {
            let Some(id) = pick(i) else { return };
            let stance = [Stance::Support, Stance::Concern, Stance::Object][s as usize];
            let _ = app
                .give_advice(&as_person(org.person(p)), id, stance, "advice")
                .await;
        }
        Step::Object(i, p) => {
            let Some(id) = pick(i) else { return };
            let _ = app
                .raise_objection(&as_person(org.person(p)), id, "harm")
                .await;
        }
        Step::Resolve(i, p, r) => {
            let Some(id) = pick(i) else { return };
            let Ok(loaded) = app.load_proposal(id, None).await else {
                return;
            };
            let Some(objection) = loaded
                .projected
                .state
                .objections
                .iter()
                .find(|o| o.is_open())
            else {
                return;
            };
            let resolution = [
                Resolution::Integrated,
                Resolution::Withdrawn,
                Resolution::RuledInvalid,
            ][r as usize];
            let test = (resolution == Resolution::RuledInvalid).then_some(ValidityTest::SafeToTry);
            let _ = app
                .resolve_objection(
                    &as_person(org.person(p)),
                    id,
                    objection.id,
                    resolution,
                    "note",
                    test,
                )
                .await;
        }
        Step::Amend(i) => {
            let Some(id) = pick(i) else { return };
            let Ok(loaded) = app.load_proposal(id, None).await else {
                return;
            };
            let Some(proposer) = loaded.projected.state.proposer else {
                return;
            };
            let _ = app
                .amend_proposal(
                    &as_person(proposer),
                    id,
                    &format!("{} +", loaded.projected.state.body()),
                    "why",
                )
                .await;
        }
        Step::Vote(i, p, agree) => {
            let Some(id) = pick(i) else { return };
            let _ = app.cast_vote(&as_person(org.person(p)), id, agree).await;
        }
        Step::Decide(i, adopt) => {
            let Some(id) = pick(i) else { return };
            let Ok(loaded) = app.load_proposal(id, None).await else {
                return;
            };
            let Some(decider) = loaded.projected.state.decider else {
                return;
            };
            let notes = loaded
                .projected
                .state
                .advice
                .iter()
                .map(|a| a.id)
                .chain(loaded.projected.state.objections.iter().map(|o| o.id))
                .map(|ref_id| WeighingNote {
                    ref_id,
                    note: "weighed".into(),
                })
                .collect();
            let outcome = if adopt {
                Outcome::Adopted
            } else {
                Outcome::Rejected
            };
            let _ = app
                .decide_proposal(&as_person(decider), id, outcome, "because", notes)
                .await;
        }
        Step::Withdraw(i) => {
            let Some(id) = pick(i) else { return };
            let Ok(loaded) = app.load_proposal(id, None).await else {
                return;
            };
            let Some(proposer) = loaded.projected.state.proposer else {
                return;
            };
            let _ = app
                .withdraw_proposal(&as_person(proposer), id, "no longer needed")
                .await;
        }
        Step::Review(i, p, o) => {
            let Some(id) = pick(i) else { return };
            let outcome = [
                ReviewOutcome::Keep,
                ReviewOutcome::Amend,
                ReviewOutcome::Revoke,
            ][o as usize];
            let next = (outcome != ReviewOutcome::Revoke).then(|| now + Duration::days(40));
            let _ = app
                .review_decision(&as_person(org.person(p)), id, outcome, "reviewed", next)
                .await;
        }
        Step::Tick(days) => org.clock.advance(Duration::days(days)),
    }
}

fn incremental_equals_rebuilt(backend: Backend) {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 6,
        ..ProptestConfig::default()
    });
    let strategy = prop::collection::vec(step(), 10..60);
    runner
        .run(&strategy, |steps| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let (incremental, rebuilt) = runtime.block_on(async {
                let db = TestDb::new(backend).await;
                let org = Org::new(&db).await;
                let mut proposals = Vec::new();
                for step in steps {
                    run(&org, &mut proposals, step).await;
                }
                let head = org.app.store.head().await.expect("head");
                assert!(
                    org.app
                        .projector
                        .wait_for(head, std::time::Duration::from_secs(10))
                        .await
                );
                let views = org.app.projector.views().clone();
                let incremental = views.dump().await.expect("dump");
                // Rebuild from zero with a fresh projector, as `advice-log rebuild` does.
                let fresh = Projector::new(org.app.feed.clone(), views.clone())
                    .await
                    .expect("projector");
                org.app.stop_projector();
                views.reset().await.expect("reset");
                assert_eq!(fresh.catch_up(&|_| {}).await.expect("rebuild"), head);
                let rebuilt = views.dump().await.expect("dump");
                org.app.store.close().await;
                (incremental, rebuilt)
            });
            prop_assert_eq!(incremental, rebuilt);
            Ok(())
        })
        .expect("incremental and rebuilt read models agree");
}

#[test]
fn incremental_projections_equal_a_rebuild_sqlite() {
    incremental_equals_rebuilt(Backend::Sqlite);
}

#[test]
fn incremental_projections_equal_a_rebuild_postgres() {
    incremental_equals_rebuilt(Backend::Postgres);
}

fn raw(event: ProposalEvent) -> EventData {
    let (event_type, payload) = event.to_stored();
    EventData {
        event_id: uuid::Uuid::new_v4(),
        event_type,
        schema_version: 1,
        payload,
        metadata: json!({}),
    }
}

on_both_backends! {
    async fn a_crash_between_changes_and_checkpoint_applies_the_event_exactly_once(backend: Backend) {
        let db = TestDb::new(backend).await;
        let storage = db.unlocked().await;
        let store = storage.events.clone();
        let team = TeamId::random();
        let proposal = ProposalId::random();
        let raised = ProposalEvent::ProposalRaised {
            owner: Owner::Team(team), proposer: PersonId::random(), decider: PersonId::random(),
            title: "T".into(), body: "B".into(), rule: Rule::Consent, threshold_bp: None,
            advice_deadline: None, area: None, spend: None, review_by: None, eligible: vec![], supersedes: None, advice_window_hours: None,
        };
        let objection = || raw(ProposalEvent::ObjectionRaised { objection_id: uuid::Uuid::new_v4(), by: PersonId::random(), reason: "harm".into() });
        store.append(Append::to_stream(proposal.stream(), ExpectedVersion::NoStream, vec![raw(raised), objection()])).await.expect("append");

        let projector = Projector::new(advice_log::store::Feed::start(store.clone()).await.expect("feed"), storage.views.clone()).await.expect("projector");
        assert_eq!(projector.catch_up(&|_| {}).await.expect("catch up"), 2);
        assert_eq!(projector.views().stats(Owner::Team(team)).await.expect("stats").objections_raised, 1);

        store.append(Append::to_stream(proposal.stream(), ExpectedVersion::Exact(2), vec![objection()])).await.expect("append");
        // The database itself fails the checkpoint's move, after the page's
        // changes were written in the same transaction, as a crash would.
        crash_at_checkpoint(&db, 3).await;
        let crashed = projector.catch_up(&|_| {}).await;
        assert!(format!("{crashed:?}").contains("crash before checkpoint 3"), "{crashed:?}");
        assert_eq!(projector.views().checkpoint().await.expect("checkpoint"), 2, "the checkpoint did not move");
        assert_eq!(projector.views().stats(Owner::Team(team)).await.expect("stats").objections_raised, 1, "nor did the changes stay");

        no_crash(&db).await;
        // A restarted projector picks up from the checkpoint and applies the event once.
        let restarted = Projector::new(advice_log::store::Feed::start(store.clone()).await.expect("feed"), storage.views.clone()).await.expect("projector");
        assert_eq!(restarted.catch_up(&|_| {}).await.expect("catch up"), 3);
        assert_eq!(restarted.views().stats(Owner::Team(team)).await.expect("stats").objections_raised, 2);
        assert_eq!(restarted.catch_up(&|_| {}).await.expect("again"), 3, "nothing is applied twice");
        assert_eq!(restarted.views().stats(Owner::Team(team)).await.expect("stats").objections_raised, 2);
        store.close().await;
    }
}

/// The only member consents, which closes a consent proposal's objection window.
const CONSENT: &str =
    "mutation($p: ID!) { castVote(input: {proposalId: $p, agree: true}) { position } }";

const PAGE: &str =
    "query($team: ID!, $after: String) { team(id: $team) { decisions(first: 7, after: $after) {
    edges { cursor node { id title decision { outcome } } } pageInfo { hasNextPage } } } }";

on_both_backends! {
    async fn paging_forward_through_decisions_returns_each_once_and_lists_agree(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let member = app.ok(&admin, "mutation { registerPerson(input: {name: \"M\", email: \"m@example.org\"}) { person { id } } }", json!({})).await["registerPerson"]["person"]["id"].as_str().expect("id").to_string();
        let token = app.ok(&admin, "mutation($p: ID!) { issueToken(input: {personId: $p}) { token } }", json!({"p": member})).await["issueToken"]["token"].as_str().expect("token").to_string();
        let team = app.ok(&admin, "mutation { formTeam(input: {name: \"Station\"}) { team { id } } }", json!({})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        app.ok(&admin, "mutation($t: ID!, $p: ID!) { joinTeam(input: {teamId: $t, personId: $p, role: MEMBER}) { position } }", json!({"t": team, "p": member})).await;

        let raise = "mutation($t: ID!, $title: String!, $review: DateTime) { raiseProposal(input: {teamId: $t, title: $title, body: \"b\", rule: CONSENT, reviewBy: $review}) { proposal { id } position } }";
        let decide = "mutation($p: ID!, $o: DecisionOutcome!) { decide(input: {proposalId: $p, outcome: $o, rationale: \"r\"}) { position } }";
        let mut decided = Vec::new();
        let mut rejected = 0;
        let mut last = 0;
        for n in 0..25 {
            let review = (n % 5 == 0).then(|| (Utc::now() + Duration::milliseconds(300)).to_rfc3339());
            let id = app.ok(&token, raise, json!({"t": team, "title": format!("P{n}"), "review": review})).await["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string();
            if n % 6 != 5 {
                app.ok(&token, CONSENT, json!({"p": id})).await;
                let outcome = if n % 4 == 3 { "REJECTED" } else { "ADOPTED" };
                rejected += usize::from(outcome == "REJECTED");
                last = app.ok(&token, decide, json!({"p": id, "o": outcome})).await["decide"]["position"].as_u64().expect("position");
                decided.push(id);
            }
        }

        // Read-your-writes: ask to see at least the last position written.
        let page = |after: Option<String>| {
            let client = app.client.clone();
            let url = format!("{}/graphql", app.base);
            let token = token.clone();
            let team = team.clone();
            async move {
                let body: serde_json::Value = client.post(url).bearer_auth(token)
                    .header("Advice-Log-Min-Position", last.to_string())
                    .json(&json!({"query": PAGE, "variables": {"team": team, "after": after}}))
                    .send().await.expect("send").json().await.expect("json");
                body
            }
        };
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let body = page(after.clone()).await;
            let decisions = &body["data"]["team"]["decisions"];
            let edges = decisions["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
            assert!(edges.len() <= 7);
            seen.extend(edges.iter().map(|e| e["node"]["id"].as_str().expect("id").to_string()));
            pages += 1;
            if !decisions["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
                break;
            }
            after = edges.last().map(|e| e["cursor"].as_str().expect("cursor").to_string());
        }
        assert_eq!(decided.len(), 21);
        assert_eq!(pages, 3);
        let mut expected = decided.clone();
        expected.reverse();
        assert_eq!(seen, expected, "every decision once, most recent first");

        // The first page is kept in memory once read; a new decision shows
        // on it as soon as the projector has it, with its trail and decider.
        let first_page = "query($t: ID!) { team(id: $t) { decisions(first: 3) { edges { node { id decision { outcome by { id } } trail { eventType } } } } } }";
        let read_first = |min: u64| {
            let client = app.client.clone();
            let url = format!("{}/graphql", app.base);
            let (token, team) = (token.clone(), team.clone());
            async move {
                let body: serde_json::Value = client.post(url).bearer_auth(token)
                    .header("Advice-Log-Min-Position", min.to_string())
                    .json(&json!({"query": first_page, "variables": {"t": team}}))
                    .send().await.expect("send").json().await.expect("json");
                body["data"]["team"]["decisions"]["edges"].as_array().unwrap_or_else(|| panic!("{body}")).clone()
            }
        };
        assert_eq!(read_first(last).await[0]["node"]["id"], expected[0].as_str());
        let id = app.ok(&token, raise, json!({"t": team, "title": "P25", "review": null})).await["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string();
        app.ok(&token, CONSENT, json!({"p": id})).await;
        let newest = app.ok(&token, decide, json!({"p": id, "o": "ADOPTED"})).await["decide"]["position"].as_u64().expect("position");
        let edges = read_first(newest).await;
        assert_eq!(edges.len(), 3);
        assert_eq!(edges[0]["node"]["id"], id.as_str(), "the new decision heads the first page");
        assert_eq!(edges[1]["node"]["id"], expected[0].as_str());
        assert_eq!(edges[0]["node"]["decision"]["by"]["id"], member.as_str());
        let trail: Vec<&str> = edges[0]["node"]["trail"].as_array().expect("trail").iter().map(|e| e["eventType"].as_str().expect("type")).collect();
        assert_eq!(trail, ["ProposalRaised", "VoteCast", "ProposalDecided"], "the trail is read from the log when asked for");
        decided.push(id);

        // The other lists and the numbers agree with what was written.
        let data = app.ok(&token, "query($t: ID!) { team(id: $t) {
            open: proposals(state: OPEN) { edges { node { id state } } }
            all: proposals(first: 100) { edges { node { id } } }
            stats { proposalsRaised decisionsMade adopted medianHoursToDecision adviceResponseRate adviceProcessFollowedShare objectionsRaised } } }", json!({"t": team})).await;
        assert_eq!(data["team"]["open"]["edges"].as_array().expect("open").len(), 26 - decided.len());
        assert_eq!(data["team"]["all"]["edges"].as_array().expect("all").len(), 26);
        let stats = &data["team"]["stats"];
        assert_eq!(stats["proposalsRaised"], 26);
        assert_eq!(stats["decisionsMade"], decided.len());
        assert_eq!(stats["adopted"], decided.len() - rejected);
        assert_eq!(stats["adviceResponseRate"], serde_json::Value::Null, "no advice was asked");
        assert_eq!(stats["adviceProcessFollowedShare"], 1.0);
        assert!(stats["medianHoursToDecision"].as_f64().expect("median") >= 0.0);

        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let due = app.ok(&token, "query($t: ID!) { dueForReview(teamId: $t) { edges { node { title decision { outcome } } } } }", json!({"t": team})).await;
        let titles: Vec<&str> = due["dueForReview"]["edges"].as_array().expect("due").iter().map(|e| e["node"]["title"].as_str().expect("title")).collect();
        assert_eq!(titles, ["P0", "P10", "P20"], "adopted decisions whose review date has come (P15 was rejected, P5 never decided)");
        app.stop().await;
    }
}

on_both_backends! {
    async fn advice_requests_wait_for_me_and_my_teams(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = Org::new(&db).await;
        let raise = RaiseProposal {
            owner: Owner::Team(org.team), title: "Rota".into(), body: "b".into(), rule: Rule::Advice, threshold: None,
            advice_deadline: None, area: None, spend: None, review_by: None, decider: None, supersedes: None,
        };
        let proposal = ProposalId(org.app.raise_proposal(&as_person(org.members[0]), raise).await.expect("raise").subject);
        let asker = as_person(org.members[0]);
        org.app.request_advice(&asker, proposal, Adviser::Team(org.other_team), AdviceReason::Affected, None).await.expect("ask team");
        let last = org.app.request_advice(&asker, proposal, Adviser::Person(org.coach), AdviceReason::Expert, None).await.expect("ask coach");
        assert!(org.app.wait_for(last.outcome.position, std::time::Duration::from_secs(5)).await);
        let views = org.app.projector.views();
        let page = advice_log::window::Window::first(None, 10);
        let for_outsider = views.pending_requests(&[org.outsider.0, org.other_team.0], page).await.expect("requests");
        assert_eq!(for_outsider.len(), 1, "the outsider's team was asked");
        let advice = org.app.give_advice(&as_person(org.outsider), proposal, Stance::Support, "fine").await.expect("advise");
        assert!(org.app.wait_for(advice.outcome.position, std::time::Duration::from_secs(5)).await);
        assert!(views.pending_requests(&[org.outsider.0, org.other_team.0], page).await.expect("requests").is_empty());
        assert_eq!(views.pending_requests(&[org.coach.0], page).await.expect("requests").len(), 1);
        org.app.store.close().await;
    }
}

/// Makes the database refuse to move the read models' checkpoint to
/// `position` (a trigger, installed as the owner), as a crash right before
/// that write would.
async fn crash_at_checkpoint(db: &TestDb, position: u64) {
    let statements: Vec<String> = match db.url {
        DatabaseUrl::Sqlite(_) => vec![format!(
            "CREATE TRIGGER crash BEFORE INSERT ON projection_checkpoints WHEN NEW.position = {position} \
             BEGIN SELECT RAISE(ABORT, 'crash before checkpoint {position}'); END"
        )],
        DatabaseUrl::Postgres(_) => vec![
            format!(
                "CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.position = {position} THEN RAISE EXCEPTION 'crash before checkpoint {position}'; END IF; \
                 RETURN NEW; END $$"
            ),
            "CREATE TRIGGER crash BEFORE INSERT OR UPDATE ON projection_checkpoints \
             FOR EACH ROW EXECUTE FUNCTION crash()"
                .to_string(),
        ],
    };
    run_as_owner(db, &statements).await;
}

/// Removes what [`crash_at_checkpoint`] installed.
async fn no_crash(db: &TestDb) {
    let statements: Vec<String> = match db.url {
        DatabaseUrl::Sqlite(_) => vec!["DROP TRIGGER crash".into()],
        DatabaseUrl::Postgres(_) => vec![
            "DROP TRIGGER crash ON projection_checkpoints".into(),
            "DROP FUNCTION crash()".into(),
        ],
    };
    run_as_owner(db, &statements).await;
}

async fn run_as_owner(db: &TestDb, statements: &[String]) {
    match &db.url {
        DatabaseUrl::Sqlite(url) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            for statement in statements {
                sqlx::query(statement)
                    .execute(&pool)
                    .await
                    .expect("owner statement");
            }
            pool.close().await;
        }
        DatabaseUrl::Postgres(url) => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            for statement in statements {
                sqlx::query(statement)
                    .execute(&pool)
                    .await
                    .expect("owner statement");
            }
            pool.close().await;
        }
    }
}
