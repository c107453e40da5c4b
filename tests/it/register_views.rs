//! The read models the web app's register and team charts read: the
//! register filters every decision by owner, rule, dates and failing checks
//! and pages through them once each; the months count what was decided; a
//! rebuild gives the same register, search (see `search_views`) and months.

use std::collections::BTreeMap;
use std::sync::Arc;

use advice_log::app::ManualClock;
use advice_log::domain::events::DomainEvent;
use advice_log::domain::proposal::{
    compliance, AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalId, ReviewOutcome,
    Rule, Stance,
};
use advice_log::domain::{GroupId, PersonId, TeamId};
use advice_log::projection::projected::ProjectedProposal;
use advice_log::projection::rows::{MonthRow, Page, RegisterFilter, ANY_FAILING_CHECK};
use advice_log::projection::{Projector, ViewStore};
use advice_log::store::{Append, Backend, EventData, ExpectedVersion, Feed};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use crate::on_both_backends;
use crate::search_views::{search, searchable};
use crate::support::{TestApp, TestDb};

/// A log written event by event on a clock the test moves, with the read
/// models caught up after each event (so rows are updated, not only
/// written once).
pub(crate) struct Log {
    _db: TestDb,
    pub(crate) storage: advice_log::backend::Storage,
    clock: Arc<ManualClock>,
    projector: Arc<Projector>,
    alice: PersonId,
    bob: PersonId,
}

impl Log {
    pub(crate) async fn new(backend: Backend) -> Log {
        let db = TestDb::new(backend).await;
        let start = Utc
            .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
            .single()
            .expect("time");
        let clock = Arc::new(ManualClock::new(start));
        let storage = advice_log::backend::open_with_clock(&db.url, clock.clone())
            .await
            .expect("open");
        let feed = Feed::start(storage.events.clone()).await.expect("feed");
        let projector = Projector::new(feed, storage.views.clone())
            .await
            .expect("projector");
        Log {
            _db: db,
            storage,
            clock,
            projector,
            alice: PersonId::random(),
            bob: PersonId::random(),
        }
    }

    pub(crate) fn views(&self) -> &Arc<dyn ViewStore> {
        self.projector.views()
    }

    fn days(&self, days: i64) {
        self.clock.advance(Duration::days(days));
    }

    pub(crate) async fn append(&self, id: ProposalId, event: ProposalEvent) {
        let (event_type, payload) = event.to_stored();
        let data = EventData {
            event_id: uuid::Uuid::new_v4(),
            event_type,
            schema_version: 1,
            payload,
            metadata: json!({}),
        };
        self.storage
            .events
            .append(Append::to_stream(
                id.stream(),
                ExpectedVersion::Any,
                vec![data],
            ))
            .await
            .expect("append");
        self.projector.catch_up(&|_| {}).await.expect("catch up");
    }

    pub(crate) async fn raise(
        &self,
        owner: Owner,
        rule: Rule,
        title: &str,
        body: &str,
    ) -> ProposalId {
        let id = ProposalId::random();
        let event = ProposalEvent::ProposalRaised {
            owner,
            proposer: self.alice,
            decider: self.alice,
            title: title.into(),
            body: body.into(),
            rule,
            threshold_bp: (rule == Rule::Threshold).then_some(5000),
            advice_deadline: None,
            area: None,
            spend: None,
            review_by: None,
            eligible: vec![self.alice, self.bob],
            supersedes: None,
            advice_window_hours: None,
        };
        self.append(id, event).await;
        id
    }

    /// Bob is asked for advice and gives it.
    pub(crate) async fn advised(&self, id: ProposalId) {
        let request = uuid::Uuid::new_v4();
        let asked = ProposalEvent::AdviceRequested {
            request_id: request,
            adviser: Adviser::Person(self.bob),
            reason: AdviceReason::Expert,
            respond_by: None,
        };
        self.append(id, asked).await;
        let given = ProposalEvent::AdviceGiven {
            advice_id: uuid::Uuid::new_v4(),
            by: self.bob,
            stance: Stance::Support,
            text: "Fine by me".into(),
            answers: vec![request],
        };
        self.append(id, given).await;
    }

    pub(crate) async fn decide(&self, id: ProposalId, outcome: Outcome, rationale: &str) {
        let event = ProposalEvent::ProposalDecided {
            outcome,
            rationale: rationale.into(),
            notes: vec![],
            missing_advisers: vec![],
            agree_votes: 0,
            required_votes: 0,
            budget_remaining: None,
        };
        self.append(id, event).await;
    }

    pub(crate) async fn amend(&self, id: ProposalId, version: u32, body: &str, reason: &str) {
        let event = ProposalEvent::ProposalAmended {
            version,
            body: body.into(),
            reason: reason.into(),
        };
        self.append(id, event).await;
    }

    pub(crate) async fn review(&self, id: ProposalId, note: &str) {
        let event = ProposalEvent::DecisionReviewed {
            outcome: ReviewOutcome::Keep,
            note: note.into(),
            next_review_by: None,
        };
        self.append(id, event).await;
    }
}

/// The owners of [`decisions`].
struct Owners {
    a: Owner,
    b: Owner,
    g: Owner,
}

/// 24 proposals over three owners and about three months: by `i % 4` an
/// adoption after advice (every check passes), an adoption without advice
/// (`ADVICE_SOUGHT` fails), a threshold adoption without votes
/// (`THRESHOLD_MET` fails), a consent rejection (nothing fails); every
/// seventh is left open and one is withdrawn.
async fn decisions(log: &Log) -> Owners {
    let owners = Owners {
        a: Owner::Team(TeamId::random()),
        b: Owner::Team(TeamId::random()),
        g: Owner::Group(GroupId::random()),
    };
    for i in 0..24usize {
        let owner = [owners.a, owners.b, owners.g][i % 3];
        let rule = [Rule::Advice, Rule::Advice, Rule::Threshold, Rule::Consent][i % 4];
        let id = log
            .raise(owner, rule, &format!("Proposal {i}"), "Body")
            .await;
        log.days(1 + (i % 3) as i64);
        if i % 7 == 6 {
            continue;
        }
        if i == 9 {
            let withdrawn = ProposalEvent::ProposalWithdrawn {
                reason: "No longer needed".into(),
            };
            log.append(id, withdrawn).await;
            continue;
        }
        if i % 4 == 0 {
            log.advised(id).await;
        }
        let outcome = if i % 4 == 3 {
            Outcome::Rejected
        } else {
            Outcome::Adopted
        };
        log.decide(id, outcome, "Because").await;
        log.days(2);
    }
    owners
}

const ALL: Page<u64> = Page {
    after: None,
    limit: 1000,
};

/// The names of the checks that failed, judged afresh from the state.
fn failing(proposal: &ProjectedProposal) -> Vec<&'static str> {
    let decision = proposal.state.decision.as_ref().expect("decided");
    compliance(&proposal.state, decision.at)
        .checks
        .iter()
        .filter(|check| !check.passed)
        .map(|check| check.name.as_str())
        .collect()
}

fn decided_at(proposal: &ProjectedProposal) -> DateTime<Utc> {
    proposal.state.decision.as_ref().expect("decided").at
}

fn ids(proposals: &[ProjectedProposal]) -> Vec<ProposalId> {
    proposals.iter().map(|p| p.id).collect()
}

fn failing_filter(check: &str) -> RegisterFilter {
    RegisterFilter {
        failing_check: Some(check.into()),
        ..Default::default()
    }
}

on_both_backends! {
    async fn the_register_lists_every_decision_newest_first_and_filters_them(backend: Backend) {
        let log = Log::new(backend).await;
        let owners = decisions(&log).await;
        let views = log.views();
        let all = views.register(&RegisterFilter::default(), ALL).await.expect("register");
        // 24 raised, 3 left open (6, 13, 20), one withdrawn (9).
        assert_eq!(all.len(), 24 - 3 - 1);
        let positions: Vec<u64> = all.iter().map(|p| p.decided_position.expect("decided")).collect();
        assert!(positions.windows(2).all(|w| w[0] > w[1]), "newest decision first: {positions:?}");

        // Each filter lets through exactly what the state says it should.
        let feb = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).single().expect("time");
        let mar = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single().expect("time");
        type Keep = Box<dyn Fn(&ProjectedProposal) -> bool>;
        let (a, b, g) = (owners.a, owners.b, owners.g);
        let cases: Vec<(RegisterFilter, Keep)> = vec![
            (RegisterFilter { owners: vec![a], ..Default::default() },
             Box::new(move |p: &ProjectedProposal| p.state.owner == Some(a))),
            (RegisterFilter { owners: vec![g], ..Default::default() },
             Box::new(move |p: &ProjectedProposal| p.state.owner == Some(g))),
            (RegisterFilter { owners: vec![a, b], ..Default::default() },
             Box::new(move |p: &ProjectedProposal| p.state.owner != Some(g))),
            (RegisterFilter { rule: Some("THRESHOLD".into()), ..Default::default() },
             Box::new(|p: &ProjectedProposal| p.state.rule == Some(Rule::Threshold))),
            (RegisterFilter { decided_from: Some(feb), decided_to: Some(mar), ..Default::default() },
             Box::new(move |p: &ProjectedProposal| decided_at(p) >= feb && decided_at(p) < mar)),
            (RegisterFilter { decided_to: Some(feb), ..Default::default() },
             Box::new(move |p: &ProjectedProposal| decided_at(p) < feb)),
            (failing_filter(ANY_FAILING_CHECK), Box::new(|p: &ProjectedProposal| !failing(p).is_empty())),
            (failing_filter("ADVICE_SOUGHT"), Box::new(|p: &ProjectedProposal| failing(p).contains(&"ADVICE_SOUGHT"))),
            (failing_filter("threshold_met"), Box::new(|p: &ProjectedProposal| failing(p).contains(&"THRESHOLD_MET"))),
            (RegisterFilter {
                owners: vec![b],
                rule: Some("ADVICE".into()),
                failing_check: Some(ANY_FAILING_CHECK.into()),
                decided_from: Some(feb),
                ..Default::default()
             },
             Box::new(move |p: &ProjectedProposal| p.state.owner == Some(b) && p.state.rule == Some(Rule::Advice)
                 && !failing(p).is_empty() && decided_at(p) >= feb)),
            (failing_filter("NO_SUCH_CHECK"), Box::new(|_: &ProjectedProposal| false)),
            (failing_filter("%"), Box::new(|_: &ProjectedProposal| false)),
            (failing_filter("_DVICE_SOUGHT"), Box::new(|_: &ProjectedProposal| false)),
            (failing_filter("ADVICE_SOUGHT,THRESHOLD_MET"), Box::new(|_: &ProjectedProposal| false)),
            (RegisterFilter { rule: Some("' OR 1=1 --".into()), ..Default::default() },
             Box::new(|_: &ProjectedProposal| false)),
        ];
        for (filter, keep) in cases {
            let expected: Vec<ProposalId> = all.iter().filter(|p| keep(p)).map(|p| p.id).collect();
            let found = views.register(&filter, ALL).await.expect("register");
            assert_eq!(ids(&found), expected, "{filter:?}");
        }

        // The cases are not vacuous: each kind of decision is there.
        let any = views.register(&failing_filter("ANY"), ALL).await.expect("register");
        let sought = views.register(&failing_filter("ADVICE_SOUGHT"), ALL).await.expect("register");
        assert!(!sought.is_empty() && any.len() > sought.len() && any.len() < all.len());
        assert!(sought.iter().all(|p| p.advice_followed == Some(false)));
        let february = RegisterFilter { decided_from: Some(feb), decided_to: Some(mar), ..Default::default() };
        let february = views.register(&february, ALL).await.expect("register");
        assert!(!february.is_empty() && february.len() < all.len());
        log.storage.close().await;
    }
}

on_both_backends! {
    async fn paging_through_the_register_shows_each_decision_once(backend: Backend) {
        let log = Log::new(backend).await;
        let owners = decisions(&log).await;
        let views = log.views();
        for filter in [
            RegisterFilter::default(),
            RegisterFilter { owners: vec![owners.a, owners.g], ..Default::default() },
            failing_filter(ANY_FAILING_CHECK),
        ] {
            let whole = views.register(&filter, ALL).await.expect("register");
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = views.register(&filter, Page { after, limit: 4 }).await.expect("page");
                assert!(page.len() <= 4);
                seen.extend(ids(&page));
                match page.last() {
                    Some(last) if page.len() == 4 => after = last.decided_position,
                    _ => break,
                }
            }
            assert_eq!(seen, ids(&whole), "each once, in order: {filter:?}");
        }
        let none = Page { after: None, limit: 0 };
        assert!(views.register(&RegisterFilter::default(), none).await.expect("empty page").is_empty());
        log.storage.close().await;
    }
}

on_both_backends! {
    async fn the_months_count_an_owners_decisions_oldest_first(backend: Backend) {
        let log = Log::new(backend).await;
        let owners = decisions(&log).await;
        let views = log.views();
        let all = views.register(&RegisterFilter::default(), ALL).await.expect("register");
        for owner in [owners.a, owners.g] {
            let mut expected: BTreeMap<String, MonthRow> = BTreeMap::new();
            for p in all.iter().rev().filter(|p| p.state.owner == Some(owner)) {
                let month = decided_at(p).format("%Y-%m").to_string();
                let row = expected
                    .entry(month.clone())
                    .or_insert_with(|| MonthRow { month, ..Default::default() });
                let outcome = p.state.decision.as_ref().expect("decided").outcome;
                let raised_at = p.state.raised_at.expect("raised");
                row.decisions += 1;
                row.adopted += u64::from(outcome == Outcome::Adopted);
                row.followed += u64::from(failing(p).is_empty());
                row.seconds_to_decision.push((decided_at(p) - raised_at).num_seconds());
            }
            let months = views.monthly(owner).await.expect("months");
            assert_eq!(months, expected.into_values().collect::<Vec<_>>());
            assert!(months.len() >= 3, "{months:?}");
            assert!(months.windows(2).all(|w| w[0].month < w[1].month), "oldest first");
            assert!(months[0].median_seconds().expect("median") >= 86_400.0);
        }
        assert!(views.monthly(Owner::Team(TeamId::random())).await.expect("none").is_empty());
        log.storage.close().await;
    }
}

on_both_backends! {
    async fn a_rebuild_gives_the_same_register_search_and_months(backend: Backend) {
        let log = Log::new(backend).await;
        let owners = decisions(&log).await;
        searchable(&log).await;
        let views = log.views().clone();
        let any = failing_filter(ANY_FAILING_CHECK);
        let read = || async {
            (
                views.register(&RegisterFilter::default(), ALL).await.expect("register"),
                views.register(&any, ALL).await.expect("register"),
                search(&views, "rota").await,
                search(&views, "handover").await,
                search(&views, "descaling").await,
                views.monthly(owners.a).await.expect("months"),
                views.dump().await.expect("dump"),
            )
        };
        let incremental = read().await;
        assert!(!incremental.1.is_empty() && incremental.3.len() == 12);
        views.reset().await.expect("reset");
        assert!(views.register(&RegisterFilter::default(), ALL).await.expect("register").is_empty());
        assert!(search(&views, "rota").await.is_empty(), "reset empties the search index");
        let head = log.storage.events.head().await.expect("head");
        let feed = Feed::start(log.storage.events.clone()).await.expect("feed");
        let fresh = Projector::new(feed, views.clone()).await.expect("projector");
        assert_eq!(fresh.catch_up(&|_| {}).await.expect("rebuild"), head);
        assert_eq!(read().await, incremental);
        log.storage.close().await;
    }
}

const RAISE: &str = "mutation($t: ID!) { raiseProposal(input: {teamId: $t, \
    title: \"Quiet hours on the ward\", body: \"Lights dim at ten\", rule: CONSENT}) \
    { proposal { id } } }";
const DECIDE: &str = "mutation($p: ID!) { decide(input: {proposalId: $p, outcome: ADOPTED, \
    rationale: \"Patients sleep better\"}) { position } }";

on_both_backends! {
    async fn through_the_server_a_decision_is_registered_found_and_counted(backend: Backend) {
        // On PostgreSQL the server runs as the application role, which
        // must be granted the search index.
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (me, admin) = app.bootstrap().await;
        let team = app.ok(&admin, "mutation { formTeam(input: {name: \"Station\"}) { team { id } } }", json!({})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        app.ok(&admin, "mutation($t: ID!, $p: ID!) { joinTeam(input: {teamId: $t, personId: $p, role: MEMBER}) { position } }", json!({"t": team, "p": me})).await;
        let id = app.ok(&admin, RAISE, json!({"t": team})).await["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string();
        app.ok(&admin, "mutation($p: ID!) { castVote(input: {proposalId: $p, agree: true}) { position } }", json!({"p": id})).await;
        let last = app.ok(&admin, DECIDE, json!({"p": id})).await["decide"]["position"].as_u64().expect("position");
        assert!(app.app.projector.wait_for(last, std::time::Duration::from_secs(10)).await);
        let views = app.app.projector.views();
        let team = Owner::Team(TeamId(uuid::Uuid::parse_str(&team).expect("uuid")));
        let id = ProposalId(uuid::Uuid::parse_str(&id).expect("uuid"));
        let mine = RegisterFilter { owners: vec![team], ..Default::default() };
        assert_eq!(ids(&views.register(&mine, ALL).await.expect("register")), [id]);
        let failed = views.register(&failing_filter(ANY_FAILING_CHECK), ALL).await.expect("register");
        assert!(failed.is_empty(), "every check passed");
        assert_eq!(search(views, "sleep").await, [id]);
        assert_eq!(search(views, "quiet ward").await, [id]);
        let months = views.monthly(team).await.expect("months");
        assert_eq!((months.len(), months[0].decisions, months[0].followed), (1, 1, 1));
        app.stop().await;
    }
}
