//! Cross-team groups deciding for their member teams, with a delegated
//! budget that no race can overspend.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, TestApp, TestDb};

struct Who {
    id: String,
    token: String,
}

struct Training {
    app: TestApp,
    admin: String,
    group: String,
    nursing: String,
    station: String,
    rep_nursing: Who,
    rep_station: Who,
    nurse: Who,
    coach: Who,
}

async fn person(app: &TestApp, admin: &str, name: &str) -> Who {
    let id = app
        .ok(
            admin,
            "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { person { id } } }",
            json!({"i": {"name": name, "email": format!("{}@example.org", name.to_lowercase())}}),
        )
        .await["registerPerson"]["person"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let token = app
        .ok(
            admin,
            "mutation($p: ID!) { issueToken(input: {personId: $p}) { token } }",
            json!({"p": id}),
        )
        .await["issueToken"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    Who { id, token }
}

async fn team(app: &TestApp, admin: &str, name: &str, members: &[(&Who, &str)]) -> String {
    let id = app
        .ok(
            admin,
            "mutation($n: String!) { formTeam(input: {name: $n}) { team { id } } }",
            json!({"n": name}),
        )
        .await["formTeam"]["team"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    for (who, role) in members {
        app.ok(admin, "mutation($t: ID!, $p: ID!, $r: TeamRole!) { joinTeam(input: {teamId: $t, personId: $p, role: $r}) { position } }",
            json!({"t": id, "p": who.id, "r": role})).await;
    }
    id
}

async fn training(db: &TestDb, budget: i64) -> Training {
    let app = TestApp::spawn(db).await;
    let (_, admin) = app.bootstrap().await;
    let rep_nursing = person(&app, &admin, "Rena").await;
    let rep_station = person(&app, &admin, "Sam").await;
    let nurse = person(&app, &admin, "Nell").await;
    let coach = person(&app, &admin, "Cora").await;
    let nursing = team(
        &app,
        &admin,
        "Community nursing",
        &[
            (&rep_nursing, "MEMBER"),
            (&nurse, "MEMBER"),
            (&coach, "COACH"),
        ],
    )
    .await;
    let station = team(&app, &admin, "North station", &[(&rep_station, "MEMBER")]).await;
    let group = app.ok(&admin, "mutation($t: [ID!]!) { formGroup(input: {name: \"Staff training\", teamIds: $t, mandate: [\"training\", \"courses\"]}) { group { id } } }",
        json!({"t": [nursing, station]})).await["formGroup"]["group"]["id"].as_str().expect("id").to_string();
    for (team, rep) in [(&nursing, &rep_nursing), (&station, &rep_station)] {
        app.ok(&admin, "mutation($g: ID!, $t: ID!, $p: ID!) { delegateRepresentative(input: {groupId: $g, teamId: $t, personId: $p}) { position } }",
            json!({"g": group, "t": team, "p": rep.id})).await;
    }
    app.ok(&admin, "mutation($g: ID!, $a: Money!) { allocateBudget(input: {groupId: $g, amount: $a, period: \"2026/27\", reason: \"Annual training budget\"}) { position } }",
        json!({"g": group, "a": budget})).await;
    Training {
        app,
        admin,
        group,
        nursing,
        station,
        rep_nursing,
        rep_station,
        nurse,
        coach,
    }
}

const RAISE: &str = "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id area spend group { id } advisers { nodes { team { id } reason } } } } }";
const DECIDE: &str = "mutation($p: ID!) { decide(input: {proposalId: $p, outcome: ADOPTED, rationale: \"Within budget\"}) { position } }";
const BUDGET: &str = "query($g: ID!) { group(id: $g) { budget { allocated committed remaining entries { nodes { kind amount period reason by { id } proposal { id } } } } } }";

/// `advisers` answer for their teams (the proposer's own advice answers
/// nothing) and `consenting` representatives consent.
async fn heard_and_consented_by(
    t: &Training,
    proposal: &str,
    advisers: &[&Who],
    consenting: &[&Who],
) {
    for adviser in advisers {
        t.app.ok(&adviser.token, "mutation($p: ID!) { giveAdvice(input: {proposalId: $p, stance: SUPPORT, text: \"Fine by us.\"}) { position } }", json!({"p": proposal})).await;
    }
    for rep in consenting {
        t.app
            .ok(
                &rep.token,
                "mutation($p: ID!) { castVote(input: {proposalId: $p, agree: true}) { position } }",
                json!({"p": proposal}),
            )
            .await;
    }
}

/// Every member team answers (the nurse for nursing, the station's
/// representative for the station) and both representatives consent, so a
/// consent decision raised by the nursing representative may go ahead.
async fn heard_and_consented(t: &Training, proposal: &str) {
    heard_and_consented_by(
        t,
        proposal,
        &[&t.nurse, &t.rep_station],
        &[&t.rep_nursing, &t.rep_station],
    )
    .await;
}

fn raise_input(t: &Training, extra: Value) -> Value {
    let mut input = json!({"groupId": t.group, "title": "First-aid refresher", "body": "Two trainers in March.", "rule": "CONSENT", "area": "training"});
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    json!({"i": input})
}

on_both_backends! {
    async fn sixty_four_racing_adoptions_never_overspend(backend: Backend) {
        let db = TestDb::new(backend).await;
        let t = training(&db, 100_000).await;
        let mut proposals = Vec::new();
        for n in 0..64 {
            let input = raise_input(&t, json!({"title": format!("Course {n}"), "spend": 10_000}));
            proposals.push(t.app.ok(&t.rep_nursing.token, RAISE, input).await["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string());
        }
        for proposal in &proposals {
            heard_and_consented(&t, proposal).await;
        }
        let answers = futures::future::join_all(
            proposals.iter().map(|p| t.app.graphql_as(Some(&t.rep_nursing.token), DECIDE, json!({"p": p}))),
        ).await;
        let adopted = answers.iter().filter(|(_, body)| body.get("errors").is_none()).count();
        let exceeded = answers.iter().filter(|(_, body)| error_code(body) == Some("BUDGET_EXCEEDED")).count();
        let others: Vec<&Value> = answers.iter().map(|(_, b)| b).filter(|b| b.get("errors").is_some() && error_code(b) != Some("BUDGET_EXCEEDED")).collect();
        assert!(others.is_empty(), "unexpected answers: {others:?}");
        assert_eq!((adopted, exceeded), (10, 54));

        let budget = &t.app.ok(&t.admin, BUDGET, json!({"g": t.group})).await["group"]["budget"];
        assert_eq!((budget["allocated"].clone(), budget["committed"].clone(), budget["remaining"].clone()), (json!(100_000), json!(100_000), json!(0)));
        let entries = budget["entries"]["nodes"].as_array().expect("entries");
        assert_eq!(entries.iter().filter(|e| e["kind"] == "COMMITMENT").count(), 10);
        let mut running = 0i64;
        for entry in entries {
            running += entry["amount"].as_i64().expect("amount");
            assert!(running >= 0, "the ledger went below zero: {entries:?}");
        }
        assert_eq!(running, 0, "allocations minus commitments is what remains");
        // Each commitment is linked to an adopted decision of the group.
        for entry in entries.iter().filter(|e| e["kind"] == "COMMITMENT") {
            assert!(proposals.contains(&entry["proposal"]["id"].as_str().expect("id").to_string()));
            assert_eq!(entry["by"]["id"], json!(t.rep_nursing.id));
        }
        let head = t.app.store.head().await.expect("head");
        assert!(t.app.app.wait_for(head, std::time::Duration::from_secs(5)).await);
        let decisions = t.app.ok(&t.rep_station.token, "query($g: ID!) { group(id: $g) { decisions(first: 100) { edges { node { id } } } } }", json!({"g": t.group})).await;
        assert_eq!(decisions["group"]["decisions"]["edges"].as_array().expect("edges").len(), 10);
        t.app.stop().await;
    }
}

on_both_backends! {
    async fn only_representatives_raise_within_the_mandate(backend: Backend) {
        let db = TestDb::new(backend).await;
        let t = training(&db, 50_000).await;
        let refused = |who: &Who, input: Value, code: &'static str| {
            let app = &t.app;
            let token = who.token.clone();
            async move {
                let before = app.store.head().await.expect("head");
                let (_, body) = app.graphql_as(Some(&token), RAISE, input).await;
                assert_eq!(error_code(&body), Some(code), "{body}");
                assert_eq!(app.store.head().await.expect("head"), before);
            }
        };
        // A member of a member team who is not its representative.
        refused(&t.nurse, raise_input(&t, json!({})), "FORBIDDEN").await;
        refused(&t.coach, raise_input(&t, json!({})), "FORBIDDEN").await;
        // An area outside the mandate, or none.
        refused(&t.rep_nursing, raise_input(&t, json!({"area": "rotas"})), "OUTSIDE_MANDATE").await;
        refused(&t.rep_nursing, raise_input(&t, json!({"area": null})), "INVALID_INPUT").await;

        let raised = t.app.ok(&t.rep_nursing.token, RAISE, raise_input(&t, json!({"spend": 20_000, "area": "Courses"}))).await;
        let proposal = &raised["raiseProposal"]["proposal"];
        let asked: std::collections::BTreeSet<&str> = proposal["advisers"]["nodes"].as_array().expect("advisers").iter().map(|a| a["team"]["id"].as_str().expect("team")).collect();
        assert_eq!(asked, [t.nursing.as_str(), t.station.as_str()].into(), "every member team is asked for advice");
        assert!(proposal["advisers"]["nodes"].as_array().expect("advisers").iter().all(|a| a["reason"] == "AFFECTED"));
        let id = proposal["id"].as_str().expect("id").to_string();

        // Consent listens to the member teams: the nurse was asked through her team and may object.
        let objection = t.app.ok(&t.nurse.token, "mutation($p: ID!) { raiseObjection(input: {proposalId: $p, reason: \"March is our busiest month.\"}) { createdId } }", json!({"p": id})).await["raiseObjection"]["createdId"].clone();
        // Adopting 4 seconds after raising, with the member teams unheard, waits.
        let (_, body) = t.app.graphql_as(Some(&t.rep_nursing.token), DECIDE, json!({"p": id})).await;
        assert_eq!(error_code(&body), Some("ADVICE_PENDING"), "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("the team North station"), "named: {body}");
        heard_and_consented(&t, &id).await;
        let decide_noted = "mutation($p: ID!, $o: ID!) { decide(input: {proposalId: $p, outcome: ADOPTED, rationale: \"Within budget\", notes: [{refId: $o, note: \"Dates can move.\"}]}) { position } }";
        let (_, body) = t.app.graphql_as(Some(&t.rep_nursing.token), decide_noted, json!({"p": id, "o": objection})).await;
        assert_eq!(error_code(&body), Some("OBJECTIONS_OPEN"), "{body}");
        // A coach of a member team may rule it invalid in the group.
        t.app.ok(&t.coach.token, "mutation($p: ID!, $o: ID!) { resolveObjection(input: {proposalId: $p, objectionId: $o, resolution: RULED_INVALID, validityTest: SAFE_TO_TRY, note: \"Dates can move; safe to try.\"}) { position } }", json!({"p": id, "o": objection})).await;
        t.app.ok(&t.rep_nursing.token, decide_noted, json!({"p": id, "o": objection})).await;
        let verdict = t.app.ok(&t.admin, "query($p: ID!) { proposal(id: $p) { compliance { adviceProcessFollowed checks { name passed } } } }", json!({"p": id})).await;
        assert_eq!(verdict["proposal"]["compliance"]["adviceProcessFollowed"], true, "{verdict}");
        let names: Vec<&str> = verdict["proposal"]["compliance"]["checks"].as_array().expect("checks").iter().map(|c| c["name"].as_str().expect("name")).collect();
        assert_eq!(names, ["ADVISERS_HEARD", "OBJECTION_WINDOW", "OBJECTIONS_RESOLVED", "FAIR_WINDOW", "VIEWS_WEIGHED", "WITHIN_MANDATE", "WITHIN_BUDGET"]);

        // The station team leaves the group: its representative no longer acts for it.
        t.app.ok(&t.rep_station.token, "mutation($g: ID!, $t: ID!) { leaveGroup(input: {groupId: $g, teamId: $t}) { group { teams { edges { node { id } } } representatives { nodes { person { id } } } } } }", json!({"g": t.group, "t": t.station})).await;
        refused(&t.rep_station, raise_input(&t, json!({})), "FORBIDDEN").await;
        let group = t.app.ok(&t.admin, "query($g: ID!) { group(id: $g) { teams { edges { node { id } } } representatives { nodes { person { id } } } } }", json!({"g": t.group})).await;
        assert_eq!(group["group"]["teams"]["edges"], json!([{"node": {"id": t.nursing}}]));
        assert_eq!(group["group"]["representatives"]["nodes"], json!([{"person": {"id": t.rep_nursing.id}}]));

        // One representative cannot revoke the group's decision alone: a
        // review only keeps it; changing it is a superseding decision.
        let budget = &t.app.ok(&t.admin, BUDGET, json!({"g": t.group})).await["group"]["budget"];
        assert_eq!(budget["remaining"], 30_000);
        let (_, body) = t.app.graphql_as(Some(&t.rep_nursing.token), "mutation($p: ID!) { reviewDecision(input: {proposalId: $p, outcome: REVOKE, note: \"Trainers cancelled.\"}) { position } }", json!({"p": id})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        let smaller = t.app.ok(&t.rep_nursing.token, RAISE, raise_input(&t, json!({"title": "One trainer instead", "spend": 5_000, "supersedes": id}))).await["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string();
        heard_and_consented_by(&t, &smaller, &[&t.nurse], &[&t.rep_nursing]).await;
        let head = t.app.store.head().await.expect("head");
        t.app.ok(&t.rep_nursing.token, DECIDE, json!({"p": smaller})).await;
        // The decision, the release, the new commitment and the mark on the
        // earlier decision landed in one append.
        let appended = t.app.store.read_all(head, 100).await.expect("events");
        let mut types: Vec<&str> = appended.iter().map(|e| e.event_type.as_str()).collect();
        types.sort_unstable();
        assert_eq!(types, ["DecisionSuperseded", "ProposalDecided", "SpendCommitted", "SpendReleased"]);
        let budget = &t.app.ok(&t.admin, BUDGET, json!({"g": t.group})).await["group"]["budget"];
        assert_eq!((budget["committed"].clone(), budget["remaining"].clone()), (json!(5_000), json!(45_000)));
        let kinds: Vec<&str> = budget["entries"]["nodes"].as_array().expect("entries").iter().map(|e| e["kind"].as_str().expect("kind")).collect();
        assert_eq!(kinds, ["ALLOCATION", "COMMITMENT", "RELEASE", "COMMITMENT"]);
        let old = t.app.ok(&t.admin, "query($p: ID!) { proposal(id: $p) { supersededBy { id title } } }", json!({"p": id})).await;
        assert_eq!(old["proposal"]["supersededBy"], json!({"id": smaller, "title": "One trainer instead"}));
        let new = t.app.ok(&t.admin, "query($p: ID!) { proposal(id: $p) { supersedes { id } } }", json!({"p": smaller})).await;
        assert_eq!(new["proposal"]["supersedes"]["id"], json!(id));
        // A decision already superseded cannot be superseded again.
        let (_, body) = t.app.graphql_as(Some(&t.rep_nursing.token), RAISE, raise_input(&t, json!({"supersedes": id}))).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        t.app.stop().await;
    }
}

on_both_backends! {
    async fn budgets_are_allocated_by_admins_with_reasons_for_cuts(backend: Backend) {
        let db = TestDb::new(backend).await;
        let t = training(&db, 10_000).await;
        let allocate = "mutation($g: ID!, $a: Money!, $r: String) { allocateBudget(input: {groupId: $g, amount: $a, reason: $r}) { group { budget { remaining } } } }";
        for (who, amount, reason, code) in [
            (&t.rep_nursing.token, 5_000, None, "FORBIDDEN"),
            (&t.admin, -1_000, None, "INVALID_INPUT"),
            (&t.admin, 0, None, "INVALID_INPUT"),
            (&t.admin, -10_001, Some("Cut"), "BUDGET_EXCEEDED"),
        ] {
            let (_, body) = t.app.graphql_as(Some(who), allocate, json!({"g": t.group, "a": amount, "r": reason})).await;
            assert_eq!(error_code(&body), Some(code), "{body}");
        }
        let (_, body) = t.app.graphql_as(Some(&t.admin), allocate, json!({"g": uuid::Uuid::new_v4(), "a": 5})).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"));
        let cut = t.app.ok(&t.admin, allocate, json!({"g": t.group, "a": -4_000, "r": "Mid-year cut"})).await;
        assert_eq!(cut["allocateBudget"]["group"]["budget"]["remaining"], 6_000);
        let budget = &t.app.ok(&t.rep_station.token, BUDGET, json!({"g": t.group})).await["group"]["budget"];
        assert_eq!(budget["entries"]["nodes"][0]["period"], "2026/27");
        assert_eq!(budget["entries"]["nodes"][1]["reason"], "Mid-year cut");
        t.app.stop().await;
    }
}
