//! The bundle's printable `report.html`: an auditor's record of each
//! proposal, in the order raised, with names not ids, rendered from the
//! bundle's events alone (so `verify-bundle` re-renders it and any edit
//! fails), and bundles exported before this layout still verify.

use std::path::Path;

use advice_log::assurance::bundle::{export, verify_bundle, Selection};
use advice_log::domain::proposal::ProposalId;
use advice_log::domain::TeamId;
use serde_json::{json, Value};
use sha2::Digest;

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

struct Who {
    id: String,
    token: String,
}

async fn person(app: &TestApp, admin: &str, name: &str) -> Who {
    let id = app
        .ok(
            admin,
            "mutation($n: String!, $e: String!) { registerPerson(input: {name: $n, email: $e}) { person { id } } }",
            json!({"n": name, "e": format!("{}@example.org", name.replace(' ', "."))}),
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

async fn raise(app: &TestApp, who: &Who, input: Value) -> String {
    app.ok(
        &who.token,
        "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id } } }",
        json!({"i": input}),
    )
    .await["raiseProposal"]["proposal"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn act(app: &TestApp, who: &Who, mutation: &str, input: Value) -> Value {
    app.ok(
        &who.token,
        &format!(
            "mutation($i: {}Input!) {{ {mutation}(input: $i) {{ position }} }}",
            {
                let mut name = mutation.to_string();
                name[..1].make_ascii_uppercase();
                name
            }
        ),
        json!({"i": input}),
    )
    .await
}

/// The ids the three proposals were given, the team's, and the app.
struct Record {
    app: TestApp,
    nursing: String,
    rota: String,
    course: String,
    handover: String,
}

/// Two teams and a group with a budget; a threshold proposal taken through
/// every step, a group's consent proposal with spend, and an open one.
async fn record(db: &TestDb) -> Record {
    let app = TestApp::spawn(db).await;
    let (_, admin) = app.bootstrap().await;
    let nell = person(&app, &admin, "Nell Adams").await;
    let rena = person(&app, &admin, "Rena Shah").await;
    let tariq = person(&app, &admin, "Tariq Ali").await;
    let cora = person(&app, &admin, "Cora Lee").await;
    let sam = person(&app, &admin, "Sam Okoro").await;
    let nursing = team(
        &app,
        &admin,
        "Community nursing",
        &[
            (&nell, "MEMBER"),
            (&rena, "MEMBER"),
            (&tariq, "MEMBER"),
            (&cora, "COACH"),
        ],
    )
    .await;
    let station = team(&app, &admin, "North station", &[(&sam, "MEMBER")]).await;
    let group = app.ok(&admin, "mutation($t: [ID!]!) { formGroup(input: {name: \"Staff training\", teamIds: $t, mandate: [\"training\"]}) { group { id } } }",
        json!({"t": [nursing, station]})).await["formGroup"]["group"]["id"].as_str().expect("id").to_string();
    for (team, rep) in [(&nursing, &rena), (&station, &sam)] {
        app.ok(&admin, "mutation($g: ID!, $t: ID!, $p: ID!) { delegateRepresentative(input: {groupId: $g, teamId: $t, personId: $p}) { position } }",
            json!({"g": group, "t": team, "p": rep.id})).await;
    }
    app.ok(&admin, "mutation($g: ID!) { allocateBudget(input: {groupId: $g, amount: 500000, reason: \"Annual training budget\"}) { position } }", json!({"g": group})).await;

    // A threshold proposal: advice, an objection met by an amendment, votes.
    let rota = raise(&app, &nell, json!({"teamId": nursing, "title": "Winter rota", "body": "Nights get a float nurse.", "rule": "THRESHOLD", "threshold": 0.5})).await;
    act(
        &app,
        &nell,
        "requestAdvice",
        json!({"proposalId": rota, "teamId": station, "reason": "AFFECTED"}),
    )
    .await;
    act(
        &app,
        &nell,
        "requestAdvice",
        json!({"proposalId": rota, "personId": cora.id, "reason": "EXPERT"}),
    )
    .await;
    act(
        &app,
        &cora,
        "giveAdvice",
        json!({"proposalId": rota, "stance": "CONCERN", "text": "Watch the 07:00 handover."}),
    )
    .await;
    act(
        &app,
        &sam,
        "giveAdvice",
        json!({"proposalId": rota, "stance": "SUPPORT", "text": "Station can cover the gap."}),
    )
    .await;
    act(
        &app,
        &rena,
        "raiseObjection",
        json!({"proposalId": rota, "reason": "One float is too few on Fridays."}),
    )
    .await;
    act(&app, &nell, "amendProposal", json!({"proposalId": rota, "body": "Nights get a float nurse, two on Fridays.", "reason": "Meets Rena's objection."})).await;
    let views = app
        .ok(
            &nell.token,
            "query($p: ID!) { proposal(id: $p) { advice { nodes { id stance } } objections { nodes { id } } } }",
            json!({"p": rota}),
        )
        .await;
    let concern = views["proposal"]["advice"]["nodes"]
        .as_array()
        .expect("advice")
        .iter()
        .find(|a| a["stance"] == "CONCERN")
        .expect("the concern")["id"]
        .clone();
    let objection = views["proposal"]["objections"]["nodes"][0]["id"].clone();
    act(&app, &rena, "resolveObjection", json!({"proposalId": rota, "objectionId": objection, "resolution": "INTEGRATED", "note": "Two on Fridays meets it."})).await;
    for (voter, agree) in [(&nell, true), (&rena, true), (&tariq, false)] {
        act(
            &app,
            voter,
            "castVote",
            json!({"proposalId": rota, "agree": agree}),
        )
        .await;
    }
    act(&app, &nell, "decide", json!({"proposalId": rota, "outcome": "ADOPTED", "rationale": "Two of three agree; two were needed.",
        "notes": [{"refId": concern, "note": "Handover moves to 07:15."}, {"refId": objection, "note": "Integrated: two floats on Fridays."}]})).await;

    // A group's proposal with spend, against the group's budget.
    let course = raise(&app, &rena, json!({"groupId": group, "title": "First-aid course", "body": "Two trainers in March.", "rule": "CONSENT", "area": "training", "spend": 123450})).await;
    for adviser in [&nell, &sam] {
        act(
            &app,
            adviser,
            "giveAdvice",
            json!({"proposalId": course, "stance": "SUPPORT", "text": "Yes please."}),
        )
        .await;
    }
    for rep in [&rena, &sam] {
        act(
            &app,
            rep,
            "castVote",
            json!({"proposalId": course, "agree": true}),
        )
        .await;
    }
    act(
        &app,
        &rena,
        "decide",
        json!({"proposalId": course, "outcome": "ADOPTED", "rationale": "Everyone consents."}),
    )
    .await;

    // An advice proposal, still open.
    let handover = raise(&app, &tariq, json!({"teamId": nursing, "title": "Earlier handover", "body": "Handover at 07:45.", "rule": "ADVICE"})).await;
    act(
        &app,
        &tariq,
        "requestAdvice",
        json!({"proposalId": handover, "personId": sam.id, "reason": "EXPERT"}),
    )
    .await;
    Record {
        app,
        nursing,
        rota,
        course,
        handover,
    }
}

async fn bundle(record: &Record, selection: Selection, dir: &Path) -> String {
    let assurance = record
        .app
        .app
        .assurance
        .as_ref()
        .expect("assurance")
        .clone();
    export(
        record.app.app.log.as_ref(),
        record.app.app.keyring.as_deref(),
        &assurance,
        selection,
        dir,
        chrono::Utc::now(),
        &|_| {},
    )
    .await
    .expect("export");
    verify_bundle(dir, Some(&assurance.key.verifier())).expect("the bundle verifies");
    std::fs::read_to_string(dir.join("report.html")).expect("report")
}

/// Rewrites a bundle's file and its sum in the manifest, as someone editing
/// the bundle would.
fn rewrite(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
    let path = dir.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    manifest["sha256"][name] = json!(hex::encode(sha2::Sha256::digest(text.as_bytes())));
    std::fs::write(
        &path,
        format!(
            "{}\n",
            serde_json::to_string_pretty(&manifest).expect("json")
        ),
    )
    .expect("write");
}

on_both_backends! {
    async fn the_report_is_an_auditors_record_of_each_proposal_in_the_order_raised(backend: Backend) {
        let db = TestDb::new(backend).await;
        let record = record(&db).await;
        let out = tempfile::tempdir().expect("dir");
        let dir = out.path().join("all");
        let html = bundle(&record, Selection::All, &dir).await;

        let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle:?} is not in the report:\n{html}"));
        // In the order raised (whatever their ids), in the summary and as sections.
        assert!(at("1. Winter rota</h2>") < at("2. First-aid course</h2>") && at("2. First-aid course</h2>") < at("3. Earlier handover</h2>"));
        // The body as raised and as amended.
        for text in ["Nights get a float nurse.</div>", "Why amended: Meets Rena's objection.", "Nights get a float nurse, two on Fridays.</div>", "Two trainers in March."] {
            at(text);
        }
        for id in [&record.rota, &record.course, &record.handover] {
            at(&format!("<tr><th scope=\"row\">Proposal id</th><td>{id}</td></tr>"));
        }
        // Teams and groups by name, never "team <uuid>"; people by name.
        at("<td>the team Community nursing</td>");
        at("<td>the team North station</td><td>AFFECTED</td>");
        at("£1,234.50 from the budget of the group Staff training");
        assert!(!html.contains(&format!("team {}", record.nursing)) && !html.contains(&record.nursing), "the team's id is shown: {html}");
        for name in ["Nell Adams", "Rena Shah", "Tariq Ali", "Cora Lee", "Sam Okoro"] {
            at(name);
        }
        // Who was asked and their answers, advice, the objection's resolution.
        at("<tr><td>Cora Lee</td><td>EXPERT</td>");
        at("by Sam Okoro (SUPPORT)</td></tr>");
        at("<td>CONCERN</td><td class=\"text\">Watch the 07:00 handover.</td>");
        at("<td>INTEGRATED</td><td class=\"text\">Two on Fridays meets it.</td><td>Rena Shah, ");
        // Votes, the count a threshold needs and the count.
        at("THRESHOLD: 50% of eligible members agree");
        at("Required: 2 agree votes (50% of the 3 eligible when raised: Nell Adams, Rena Shah, Tariq Ali). Agree votes when decided: 2.");
        at("<tr><td>Tariq Ali</td><td>does not agree</td>");
        at("<tr><td>Sam Okoro</td><td>no objection (consents)</td>");
        // The decision, each note beside the view it weighs.
        at("<p><strong>ADOPTED</strong>, recorded by Nell Adams, ");
        at("<tr><td>Advice from Cora Lee (CONCERN)</td><td class=\"text\">Watch the 07:00 handover.</td><td class=\"text\">Handover moves to 07:15.</td></tr>");
        at("<tr><td>Objection from Rena Shah</td><td class=\"text\">One float is too few on Fridays.</td><td class=\"text\">Integrated: two floats on Fridays.</td></tr>");
        // Spend in pounds, the budget it was committed against.
        at("<td>£5,000.00 before this decision's spend</td>");
        at("<tr><th scope=\"row\">Committed</th><td>£1,234.50 against the budget of the group Staff training on ");
        // The verdict, every check by name.
        for check in ["ADVICE_SOUGHT", "ADVISERS_HEARD", "FAIR_WINDOW", "VIEWS_WEIGHED", "OBJECTION_WINDOW", "OBJECTIONS_RESOLVED", "THRESHOLD_MET", "WITHIN_MANDATE", "WITHIN_BUDGET"] {
            at(&format!("<tr><td>{check}</td><td>"));
        }
        at("<tr><td>THRESHOLD_MET</td><td>passed</td><td>2 of 3 eligible members agree; 2 must</td></tr>");
        at("<tr><td>WITHIN_BUDGET</td><td>passed</td><td>the spend of £1,234.50 was within the £5,000.00 left</td></tr>");
        at("<tr><td>ADVISERS_HEARD</td><td>FAILED</td><td>waiting for advice from Sam Okoro");
        // Readable times, never RFC 3339.
        assert!(!regex_like_rfc3339(&html), "an RFC 3339 time in the report: {html}");
        assert!(html.contains(" UTC"), "{html}");

        // Editing the report fails, even with the manifest's sum made to match.
        let original = std::fs::read_to_string(dir.join("report.html")).expect("read");
        rewrite(&dir, "report.html", &original.replace("does not agree", "agrees"));
        let key = record.app.app.assurance.as_ref().expect("assurance").key.verifier();
        let error = verify_bundle(&dir, Some(&key)).expect_err("an edited report");
        assert!(error.to_string().contains("report.html"), "{error}");
        // So does claiming another layout for it.
        rewrite(&dir, "report.html", &original);
        verify_bundle(&dir, Some(&key)).expect("restored");
        let mut manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("read")).expect("json");
        manifest["report_layout"] = json!(1);
        std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest).expect("json")).expect("write");
        assert!(verify_bundle(&dir, Some(&key)).is_err(), "the report is not of layout 1");
        record.app.stop().await;
    }
}

/// Whether `text` holds a time like `2026-11-27T17:15:00`.
fn regex_like_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(19).any(|w| {
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        digits(0..4)
            && w[4] == b'-'
            && digits(5..7)
            && w[7] == b'-'
            && digits(8..10)
            && w[10] == b'T'
            && digits(11..13)
            && w[13] == b':'
    })
}

on_both_backends! {
    async fn a_bundle_of_one_proposal_or_team_names_everyone_from_its_own_events(backend: Backend) {
        let db = TestDb::new(backend).await;
        let record = record(&db).await;
        let out = tempfile::tempdir().expect("dir");

        // A group's proposal: the group, its member teams (asked) and the
        // budget commitment come with it.
        let dir = out.path().join("course");
        let html = bundle(&record, Selection::Proposal(ProposalId::parse(&record.course).expect("id")), &dir).await;
        let events = std::fs::read_to_string(dir.join("events.jsonl")).expect("events");
        for event_type in ["GroupFormed", "TeamFormed", "SpendCommitted", "PersonRegistered"] {
            assert!(events.contains(&format!("\"event_type\":\"{event_type}\"")), "{event_type} is not in the bundle");
        }
        for text in ["the group Staff training", "<td>the team Community nursing</td><td>AFFECTED</td>", "<td>the team North station</td><td>AFFECTED</td>", "£1,234.50", "Rena Shah", "Sam Okoro"] {
            assert!(html.contains(text), "{text}: {html}");
        }
        assert!(!html.contains("Winter rota"), "only the one proposal");

        // A team's proposals, with the other team it asked named.
        let dir = out.path().join("nursing");
        let html = bundle(&record, Selection::Team(TeamId(uuid::Uuid::parse_str(&record.nursing).expect("id"))), &dir).await;
        assert!(html.find("1. Winter rota</h2>") < html.find("2. Earlier handover</h2>"), "{html}");
        for text in ["<td>the team North station</td><td>AFFECTED</td>", "Cora Lee", "Sam Okoro", "Nell Adams"] {
            assert!(html.contains(text), "{text}: {html}");
        }
        assert!(!html.contains("First-aid course"), "the group's proposal is not the team's");
        record.app.stop().await;
    }
}

#[test]
fn a_bundle_exported_before_report_layouts_still_verifies_byte_for_byte() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bundle-layout-1");
    let checked = verify_bundle(&fixture, None).expect("the layout 1 bundle verifies");
    assert_eq!(checked.events, 87);
    let manifest = std::fs::read_to_string(fixture.join("manifest.json")).expect("manifest");
    assert!(
        !manifest.contains("report_layout"),
        "it names no layout: {manifest}"
    );

    // An edit to its report still fails, even with the sum made to match.
    let out = tempfile::tempdir().expect("dir");
    let dir = out.path().join("bundle");
    std::fs::create_dir(&dir).expect("dir");
    for entry in std::fs::read_dir(&fixture).expect("fixture") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
    verify_bundle(&dir, None).expect("the copy verifies");
    let report = std::fs::read_to_string(dir.join("report.html")).expect("report");
    rewrite(&dir, "report.html", &report.replace("OPEN", "WITHDRAWN"));
    assert!(
        verify_bundle(&dir, None).is_err(),
        "an edited layout 1 report"
    );
}
