//! Erasing personal data without breaking the record's proof: the real
//! server, its API, the database's bytes (the SQLite file and its WAL, or
//! `pg_dump`), export bundles made before and after, and `verify`.

use advice_log::assurance::bundle::{export, verify_bundle, Selection};
use advice_log::assurance::verify::verify_log;
use advice_log::domain::proposal::ProposalId;
use serde_json::{json, Value};

use crate::hostile::Team;
use crate::key_bytes::database_bytes;
use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

const NAME: &str = "Samira Quartermaine-Osei";
const EMAIL: &str = "samira.quartermaine@example.org";
const BODY: &str = "Mrs Philippa Whitcombe-Farrington at number 12 needs a second carer.";
const ERASED_TEXT: &str = "[This text has been erased]";

const PERSON: &str =
    "query($id: ID!) { node(id: $id) { ... on Person { name email erased erasedAt left } } }";
const PROPOSAL: &str = "query($id: ID!) { proposal(id: $id) { title body advice { edges { node { text } } } trail { eventId eventType actor { name } } } }";

/// A team whose member (Sam) is renamed to a name found nowhere else, and
/// a proposal Sam raised whose body names a patient.
struct Scene {
    team: Team,
    sam: String,
    proposal: String,
}

impl Scene {
    async fn new(db: &TestDb) -> Scene {
        let team = Team::new(db).await;
        let app = &team.app;
        let sam = app.ok(&team.member, "{ me { id } }", json!({})).await["me"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let corrected = app
            .ok(
                &team.admin,
                "mutation($i: CorrectPersonInput!) { correctPerson(input: $i) { person { name email } } }",
                json!({ "i": { "personId": sam, "name": NAME, "email": EMAIL } }),
            )
            .await;
        assert_eq!(corrected["correctPerson"]["person"]["name"], NAME);
        let (status, raised) = team
            .raise(json!({ "body": BODY, "rule": "THRESHOLD", "threshold": 0.25 }))
            .await;
        assert_eq!(status, 200, "{raised}");
        let proposal = raised["data"]["raiseProposal"]["proposal"]["id"]
            .as_str()
            .expect("raised")
            .to_string();
        Scene {
            team,
            sam,
            proposal,
        }
    }

    fn app(&self) -> &TestApp {
        &self.team.app
    }

    async fn erase(&self, include_contributions: bool) -> Value {
        self.app()
            .ok(
                &self.team.admin,
                "mutation($i: ErasePersonInput!) { erasePerson(input: $i) { person { name } position } }",
                json!({ "i": { "personId": self.sam, "reason": "erasure request ER-17",
                               "includeContributions": include_contributions } }),
            )
            .await
    }

    async fn proposal(&self) -> Value {
        self.app()
            .ok(&self.team.admin, PROPOSAL, json!({ "id": self.proposal }))
            .await["proposal"]
            .clone()
    }

    /// A bundle of the proposal, written to `dir`; checked offline.
    async fn bundle(&self, dir: &std::path::Path) -> String {
        let app = &self.app().app;
        let assurance = app.assurance.as_ref().expect("assurance").clone();
        let id = ProposalId::parse(&self.proposal).expect("id");
        export(
            app.log.as_ref(),
            app.keyring.as_deref(),
            &assurance,
            Selection::Proposal(id),
            dir,
            chrono::Utc::now(),
            &|_| {},
        )
        .await
        .expect("export");
        verify_bundle(dir, Some(&assurance.key.verifier())).expect("the bundle verifies");
        let mut text = String::new();
        for file in std::fs::read_dir(dir).expect("bundle") {
            text.push_str(&std::fs::read_to_string(file.expect("file").path()).expect("text"));
        }
        text
    }
}

/// How often any of `needles` is found in `haystack`, ignoring case.
fn found(haystack: &[u8], needles: &[&str]) -> Vec<String> {
    let hay = String::from_utf8_lossy(haystack).to_lowercase();
    needles
        .iter()
        .filter(|n| hay.contains(&n.to_lowercase()))
        .map(|n| n.to_string())
        .collect()
}

on_both_backends! {
    async fn an_erased_person_and_what_they_wrote_leave_no_trace_and_the_record_still_verifies(backend: Backend) {
        let db = TestDb::new(backend).await;
        let scene = Scene::new(&db).await;
        let before = tempfile::tempdir().expect("dir");
        let bundle_before = scene.bundle(&before.path().join("b")).await;
        assert_eq!(found(bundle_before.as_bytes(), &[NAME, BODY]).len(), 2, "a bundle made before names them");
        // Before: the log holds the name, e-mail and body sealed, never
        // plain (the read models hold what they show until the erasure).
        let log = scene.app().app.log.read_all(0, 10_000).await.expect("the log");
        let stored: String = log.iter().map(|e| e.payload.to_string()).collect();
        assert_eq!(found(stored.as_bytes(), &[NAME, EMAIL, BODY]), Vec::<String>::new(), "sealed in the log");

        // Sam votes and decides (a 25% threshold); the verdict is kept.
        scene.app().ok(&scene.team.member, "mutation($p: ID!) { castVote(input: {proposalId: $p, agree: true}) { position } }",
            json!({ "p": scene.proposal })).await;
        let decide = "mutation($p: ID!) { decide(input: {proposalId: $p, outcome: ADOPTED, rationale: \"Mrs Whitcombe-Farrington agreed.\"}) { position } }";
        scene.app().ok(&scene.team.member, decide, json!({ "p": scene.proposal })).await;
        let verdict = "query($id: ID!) { proposal(id: $id) { decision { outcome } compliance { adviceProcessFollowed checks { name passed } } } }";
        let verdict_before = scene.app().ok(&scene.team.admin, verdict, json!({ "id": scene.proposal })).await;

        let erased = scene.erase(true).await;
        assert_eq!(erased["erasePerson"]["person"]["name"], "Erased person");
        let verdict_after = scene.app().ok(&scene.team.admin, verdict, json!({ "id": scene.proposal })).await;
        assert_eq!(verdict_after, verdict_before, "the decision keeps its verdict");
        assert_eq!(verdict_after["proposal"]["decision"]["outcome"], "ADOPTED");

        // The pages and the register's CSV, as an admin sees them.
        let mut visitor = crate::page_visitor::Visitor::new(scene.app());
        visitor.sign_in(&scene.team.admin).await;
        let mut shown = String::new();
        for path in [format!("/proposals/{}", scene.proposal), "/register".into(), "/register.csv".into(), "/admin".into(), format!("/audit/proposals/{}", scene.proposal)] {
            let page = visitor.get(&path).await;
            assert_eq!(page.status, 200, "{path}");
            shown.push_str(&page.body);
        }
        assert!(shown.contains("Erased person"), "the pages say who was erased");
        assert_eq!(found(shown.as_bytes(), &[NAME, EMAIL, BODY, "Whitcombe-Farrington"]), Vec::<String>::new(), "the pages");

        // The API: the person and their text read as erased; the structure stays.
        let person = scene.app().ok(&scene.team.admin, PERSON, json!({ "id": scene.sam })).await;
        assert_eq!(person["node"]["name"], "Erased person");
        assert_eq!(person["node"]["email"], "");
        assert_eq!(person["node"]["erased"], true);
        assert_eq!(person["node"]["left"], true);
        let proposal = scene.proposal().await;
        assert_eq!(proposal["title"], "Bank holiday cover", "structure stays");
        assert_eq!(proposal["body"], ERASED_TEXT);
        let trail = proposal["trail"].as_array().expect("trail");
        assert_eq!(trail[0]["eventType"], "ProposalRaised");
        assert_eq!(trail[0]["actor"]["name"], "Erased person");
        let everything = scene.app().ok(&scene.team.admin, "{ events(first: 500) { edges { node { payload } } } }", json!({})).await;
        assert_eq!(found(everything.to_string().as_bytes(), &[NAME, EMAIL, BODY]), Vec::<String>::new(), "events");

        // Their tokens no longer work.
        let (status, _) = scene.app().graphql_as(Some(&scene.team.member), "{ me { id } }", json!({})).await;
        assert_eq!(status, 401);

        // The bytes: nowhere in the database.
        let stored = database_bytes(&db, true).await;
        assert_eq!(found(&stored, &[NAME, EMAIL, BODY, "Whitcombe-Farrington"]), Vec::<String>::new(), "the database");

        // The proof: the log verifies; the bundle made before still does; a
        // new bundle verifies and holds no trace.
        let assurance = scene.app().app.assurance.as_ref().expect("assurance").clone();
        let log = scene.app().app.log.clone();
        let tree = advice_log::assurance::tree::LogTree::new(log.clone());
        let report = verify_log(log.as_ref(), &tree, &assurance.key.verifier(), &|_| {})
            .await
            .expect("verify");
        assert_eq!(report.finding, None, "the log verifies after the erasure");
        verify_bundle(&before.path().join("b"), Some(&assurance.key.verifier())).expect("the earlier bundle");
        let after = tempfile::tempdir().expect("dir");
        let bundle_after = scene.bundle(&after.path().join("b")).await;
        assert_eq!(found(bundle_after.as_bytes(), &[NAME, EMAIL, BODY]), Vec::<String>::new(), "the new bundle");
        assert!(bundle_after.contains("Erased person"));

        // Erasing again is refused.
        let (_, again) = scene.app().graphql_as(Some(&scene.team.admin),
            "mutation($i: ErasePersonInput!) { erasePerson(input: $i) { position } }",
            json!({ "i": { "personId": scene.sam, "reason": "again" } })).await;
        assert_eq!(again["errors"][0]["extensions"]["code"], "INVALID_STATE", "{again}");
        scene.team.app.stop().await;
    }
}

on_both_backends! {
    async fn an_erased_persons_contributions_can_stay_and_one_field_can_be_redacted_alone(backend: Backend) {
        let db = TestDb::new(backend).await;
        let scene = Scene::new(&db).await;
        let erased = scene.erase(false).await;
        assert_eq!(erased["erasePerson"]["person"]["name"], "Erased person");
        let proposal = scene.proposal().await;
        assert_eq!(proposal["body"], BODY, "kept: only the person is erased");
        let stored = database_bytes(&db, true).await;
        assert_eq!(found(&stored, &[NAME, EMAIL]), Vec::<String>::new());

        // Then the body alone is redacted (it names a patient).
        let raised = proposal["trail"][0]["eventId"].as_str().expect("event id").to_string();
        let redact = "mutation($i: RedactTextInput!) { redactText(input: $i) { position } }";
        let input = json!({ "i": { "eventId": raised, "field": "body", "reason": "names a patient" } });
        let (_, refused) = scene.app().graphql_as(Some(&scene.team.member), redact, input.clone()).await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "an erased member's token is gone: {refused}");
        scene.app().ok(&scene.team.admin, redact, input.clone()).await;
        let proposal = scene.proposal().await;
        assert_eq!(proposal["body"], ERASED_TEXT);
        assert_eq!(proposal["title"], "Bank holiday cover");
        let last = proposal["trail"].as_array().and_then(|t| t.last()).expect("trail").clone();
        assert_eq!(last["eventType"], "TextRedacted");
        let (_, again) = scene.app().graphql_as(Some(&scene.team.admin), redact, input).await;
        assert_eq!(again["errors"][0]["extensions"]["code"], "INVALID_STATE", "{again}");
        let wrong = json!({ "i": { "eventId": raised, "field": "title", "reason": "r" } });
        let (_, wrong) = scene.app().graphql_as(Some(&scene.team.admin), redact, wrong).await;
        assert_eq!(wrong["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{wrong}");
        let stored = database_bytes(&db, true).await;
        assert_eq!(found(&stored, &[BODY]), Vec::<String>::new(), "the redacted body is gone from the database");
        scene.team.app.stop().await;
    }
}

on_both_backends! {
    async fn a_server_started_with_another_data_key_refuses_and_writes_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let scene = Scene::new(&db).await;
        let head = scene.app().store.head().await.expect("head");
        scene.team.app.stop().await;
        let keys = tempfile::tempdir().expect("dir");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_advice-log"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", db.raw_url())
            .env("ADVICE_LOG_SIGNING_KEY", keys.path().join("signing.key"))
            .env("ADVICE_LOG_DATA_KEY", keys.path().join("another.datakey"))
            .env("ADVICE_LOG_LOG", "warn")
            .output()
            .expect("run advice-log serve");
        assert!(!output.status.success(), "it does not start");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains("is not the one this database was set up with"), "{said}");
        assert!(said.contains("nothing was written"), "{said}");
        let store = db.store().await;
        assert_eq!(store.head().await.expect("head"), head, "nothing was written");
        store.close().await;
    }
}

/// Posts a GraphQL query to a server at `url` as `token`; answers `data`.
async fn gql(url: &str, token: &str, query: &str, variables: Value) -> Value {
    let body: Value = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    body["data"].clone()
}

on_both_backends! {
    async fn the_servers_log_never_shows_the_personal_data(backend: Backend) {
        use std::process::{Command, Stdio};
        let db = TestDb::new(backend).await;
        let keys = tempfile::tempdir().expect("dir");
        let log = tempfile::NamedTempFile::new().expect("a file for the log");
        let command = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_advice-log"));
            command
                .args(args)
                .env("DATABASE_URL", db.raw_url())
                .env("ADVICE_LOG_SIGNING_KEY", keys.path().join("signing.key"))
                .env("ADVICE_LOG_DATA_KEY", db.data_key())
                .env("ADVICE_LOG_LOG", "info");
            command
        };
        let boot = command(&["bootstrap", "--name", "Ada Admin", "--email", "ada@example.org"]).output().expect("bootstrap");
        assert!(boot.status.success(), "{boot:?}");
        let admin = String::from_utf8_lossy(&boot.stdout).lines().last().expect("a token").trim().to_string();
        let mut child = command(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("the log file"))
            .spawn()
            .expect("start advice-log serve");
        let (url, lines) = crate::support::served_url(&mut child);
        let stdout = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));

        let register = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { person { id } } }";
        let person = gql(&url, &admin, register, json!({ "i": { "name": NAME, "email": EMAIL } })).await;
        let person = person["registerPerson"]["person"]["id"].as_str().expect("registered").to_string();
        // A refusal that names the address (a second registration with it).
        gql(&url, &admin, register, json!({ "i": { "name": NAME, "email": EMAIL } })).await;
        let team = gql(&url, &admin, "mutation { formTeam(input: { name: \"Ward 7\" }) { team { id } } }", json!({})).await;
        let team = team["formTeam"]["team"]["id"].as_str().expect("team").to_string();
        gql(&url, &admin, "mutation($i: JoinTeamInput!) { joinTeam(input: $i) { position } }",
            json!({ "i": { "teamId": team, "personId": person, "role": "MEMBER" } })).await;
        let token = gql(&url, &admin, "mutation($i: IssueTokenInput!) { issueToken(input: $i) { token } }",
            json!({ "i": { "personId": person } })).await;
        let token = token["issueToken"]["token"].as_str().expect("token").to_string();
        let raised = gql(&url, &token, "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id } } }",
            json!({ "i": { "teamId": team, "title": "Visits", "body": BODY, "rule": "ADVICE" } })).await;
        assert!(raised["raiseProposal"]["proposal"]["id"].is_string(), "{raised}");
        let erased = gql(&url, &admin, "mutation($i: ErasePersonInput!) { erasePerson(input: $i) { person { name } } }",
            json!({ "i": { "personId": person, "reason": "ER-18", "includeContributions": true } })).await;
        assert_eq!(erased["erasePerson"]["person"]["name"], "Erased person");

        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
        assert!(killed.success());
        assert!(child.wait().expect("wait").success());
        let said = format!(
            "{}\n{}\n{}",
            String::from_utf8_lossy(&boot.stdout),
            stdout.join().expect("stdout"),
            std::fs::read_to_string(log.path()).expect("the log")
        );
        assert!(said.contains("POST /graphql"), "the log has the requests: {said}");
        assert_eq!(found(said.as_bytes(), &[NAME, EMAIL, BODY]), Vec::<String>::new(), "{said}");
    }
}

on_both_backends! {
    async fn an_erasure_recorded_without_its_keys_destruction_is_finished_at_start(backend: Backend) {
        use advice_log::domain::events::DomainEvent;
        use advice_log::domain::person::PersonEvent;
        use advice_log::domain::PersonId;
        use advice_log::erasure::{KeyLookup, KeyState};
        use advice_log::store::{Append, EventData, ExpectedVersion};

        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let app = &team.app;
        let sam = app.ok(&team.member, "{ me { id } }", json!({})).await["me"]["id"]
            .as_str()
            .expect("id")
            .parse::<uuid::Uuid>()
            .map(PersonId)
            .expect("uuid");
        // As the first release with erasure could leave it when it stopped
        // between the two steps: the erasure recorded, the key still there.
        let (event_type, payload) =
            PersonEvent::PersonErased { include_contributions: true }.to_stored();
        let recorded = app
            .store
            .append(Append::to_stream(
                sam.stream(),
                ExpectedVersion::Any,
                vec![EventData {
                    event_id: uuid::Uuid::new_v4(),
                    event_type,
                    schema_version: 1,
                    payload,
                    metadata: json!({}),
                }],
            ))
            .await
            .expect("recorded");
        let position = recorded.events[0].position;
        assert!(app.app.read.wait_for(position, std::time::Duration::from_secs(10)).await);
        let keyring = app.app.keyring.clone().expect("unlocked");
        let storage = db.storage().await;
        let stored = storage.keys.person_key(sam).await.expect("read");
        assert!(matches!(stored, KeyState::Live(_)), "not destroyed yet");

        app.app.finish_erasures().await.expect("finished");
        assert!(matches!(keyring.person_key(sam), KeyLookup::Erased));
        match storage.keys.person_key(sam).await.expect("read") {
            KeyState::Destroyed { reason, .. } => assert_eq!(reason, "erased (finished at start)"),
            other => panic!("expected a destroyed key, got {other:?}"),
        }
        // Nothing is left to finish.
        app.app.finish_erasures().await.expect("again");
        storage.close().await;
    }
}

/// A second server on the scene's database, which has read the proposal
/// (so its keys and caches hold the body).
async fn other_server(db: &TestDb, scene: &Scene) -> TestApp {
    let other = TestApp::spawn(db).await;
    settled(&other).await;
    let before = other
        .ok(&scene.team.admin, PROPOSAL, json!({ "id": scene.proposal }))
        .await;
    assert_eq!(before["proposal"]["body"], BODY);
    other
}

/// Waits until `app`'s read models have applied the whole log.
async fn settled(app: &TestApp) {
    let head = app.store.head().await.expect("head");
    assert!(
        app.app
            .wait_for(head, std::time::Duration::from_secs(10))
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_another_server_on_the_database_shows_the_erasure_too() {
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    let scene = Scene::new(&db).await;
    let other = other_server(&db, &scene).await;
    let on_other = |query: &'static str, variables: Value| {
        let (other, admin) = (&other, scene.team.admin.clone());
        async move { other.ok(&admin, query, variables).await }
    };
    assert_eq!(
        on_other(PERSON, json!({ "id": scene.sam })).await["node"]["name"],
        NAME
    );

    scene.erase(true).await;
    settled(&other).await;
    let after = on_other(PROPOSAL, json!({ "id": scene.proposal })).await;
    assert_eq!(
        after["proposal"]["body"], ERASED_TEXT,
        "the other server shows the body erased"
    );
    let trail = after["proposal"]["trail"].to_string();
    assert!(!trail.contains(NAME), "{trail}");
    let person = on_other(PERSON, json!({ "id": scene.sam })).await;
    assert_eq!(person["node"]["name"], "Erased person");
    let events = on_other(
        "{ events(first: 500) { edges { node { payload } } } }",
        json!({}),
    )
    .await
    .to_string();
    assert!(
        !events.contains(BODY) && !events.contains(NAME),
        "the other server's events hold no trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_another_server_on_the_database_shows_a_redaction_too() {
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    let scene = Scene::new(&db).await;
    let other = other_server(&db, &scene).await;
    let raised = scene.proposal().await["trail"][0]["eventId"]
        .as_str()
        .expect("event id")
        .to_string();
    scene
        .app()
        .ok(
            &scene.team.admin,
            "mutation($i: RedactTextInput!) { redactText(input: $i) { position } }",
            json!({ "i": { "eventId": raised, "field": "body", "reason": "names a patient" } }),
        )
        .await;
    settled(&other).await;
    let after = other
        .ok(&scene.team.admin, PROPOSAL, json!({ "id": scene.proposal }))
        .await;
    assert_eq!(
        after["proposal"]["body"], ERASED_TEXT,
        "the other server shows the body redacted"
    );
    assert_eq!(
        after["proposal"]["trail"][0]["actor"]["name"], NAME,
        "only the body"
    );
}
