//! Hostile and odd input, tried as an attacker would (issue 13): a fragment
//! bomb against the real binary, control characters in text, a threshold too
//! small to need a vote, and a bounded fuzz of the GraphQL endpoint.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, served_url, TestApp, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_advice-log");

/// The fragment bomb of issue 13: each fragment spreads the one before it
/// twice, so `levels` fragments ask for about 2^levels `__typename`s in a
/// document of about 50 bytes a level.
pub fn fragment_bomb(levels: usize) -> String {
    let mut text = String::from("fragment F0 on Query { __typename }");
    for i in 1..=levels {
        text.push_str(&format!(
            " fragment F{i} on Query {{ a{i}: __typename ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    text.push_str(&format!(" {{ ...F{levels} }}"));
    text
}

/// A kilobyte of peak resident memory of a process, from `/proc`.
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `advice-log serve` as its own process on a random port.
struct Served {
    child: Child,
    url: String,
    _keys: tempfile::TempDir,
}

impl Served {
    fn start(db: &TestDb) -> Served {
        let keys = tempfile::tempdir().expect("dir");
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", db.raw_url())
            .env("ADVICE_LOG_DATA_KEY", db.data_key())
            .env("ADVICE_LOG_SIGNING_KEY", keys.path().join("signing.key"))
            .env("ADVICE_LOG_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start advice-log serve");
        let (url, _) = served_url(&mut child);
        Served {
            child,
            url,
            _keys: keys,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

on_both_backends! {
    async fn a_fragment_bomb_is_refused_at_once_and_costs_no_memory(backend: Backend) {
        let db = TestDb::new(backend).await;
        let served = Served::start(&db);
        let pid = served.child.id();
        let client = reqwest::Client::new();
        // The server is up once it answers.
        let (status, _) = post(&client, &served.url, "{ __typename }").await;
        assert_eq!(status, 200);
        let before = memory_kib(pid, "VmRSS:").expect("the server's memory");

        let bomb = fragment_bomb(24);
        assert!(bomb.len() < 1500, "the bomb is small: {} bytes", bomb.len());
        let started = Instant::now();
        let request = post(&client, &served.url, &bomb);
        tokio::pin!(request);
        // Watch the server's memory while it answers; stop it before it
        // takes the machine down (as it did before the limit).
        let (status, body) = loop {
            tokio::select! {
                answer = &mut request => break answer,
                _ = tokio::time::sleep(Duration::from_millis(20)) => {
                    let now = memory_kib(pid, "VmRSS:").unwrap_or(0);
                    assert!(
                        now < 1024 * 1024,
                        "the server took {} MB for one request of {} bytes",
                        now / 1024,
                        bomb.len()
                    );
                    assert!(started.elapsed() < Duration::from_secs(10), "no answer in 10 s");
                }
            }
        };
        let took = started.elapsed();
        let peak = memory_kib(pid, "VmHWM:").expect("the server's peak memory");
        eprintln!("fragment bomb refused in {took:?}; server peak {} MB", peak / 1024);
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{status} {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("fields"), "{body}");
        assert!(took < Duration::from_secs(1), "refused in {took:?}");
        assert!(peak < 200 * 1024, "peak memory {} MB (was {} MB before)", peak / 1024, before / 1024);
        // Many aliases of one cheap field, and a batch of bombs, fare the same.
        let aliases: String = (0..300).map(|i| format!(" a{i}: __typename")).collect();
        let (_, body) = post(&client, &served.url, &format!("{{{aliases} }}")).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        let batch: Vec<Value> = (0..25).map(|_| json!({ "query": "{ __typename }" })).collect();
        let answer = client.post(format!("{}/graphql", served.url)).json(&batch).send().await.expect("answer");
        let body: Value = answer.json().await.expect("json");
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        // And the server still serves.
        let (status, body) = post(&client, &served.url, "{ __typename }").await;
        assert_eq!((status, body["data"]["__typename"].as_str()), (200, Some("Query")));
    }
}

async fn post(client: &reqwest::Client, url: &str, query: &str) -> (u16, Value) {
    let response = client
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON, not {text:?}: {e}"));
    (status, body)
}

/// An admin, a member and the member's team, through the API.
pub struct Team {
    /// The running server.
    pub app: TestApp,
    /// The admin's token.
    pub admin: String,
    /// The member's token.
    pub member: String,
    /// The team's id.
    pub team: String,
}

impl Team {
    /// A team of four members on a fresh server on `db`.
    pub async fn new(db: &TestDb) -> Team {
        let app = TestApp::spawn(db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app
            .ok(
                &admin,
                "mutation { formTeam(input: { name: \"North Station\" }) { team { id } } }",
                json!({}),
            )
            .await["formTeam"]["team"]["id"]
            .as_str()
            .expect("team id")
            .to_string();
        let mut member = String::new();
        for name in ["Sam", "Kit", "Lee", "Max"] {
            let person = app
                .ok(
                    &admin,
                    "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { person { id } } }",
                    json!({ "i": { "name": name, "email": format!("{name}@example.org") } }),
                )
                .await["registerPerson"]["person"]["id"]
                .as_str()
                .expect("person id")
                .to_string();
            app.ok(
                &admin,
                "mutation($i: JoinTeamInput!) { joinTeam(input: $i) { position } }",
                json!({ "i": { "teamId": team, "personId": person, "role": "MEMBER" } }),
            )
            .await;
            if member.is_empty() {
                member = app
                    .ok(
                        &admin,
                        "mutation($i: IssueTokenInput!) { issueToken(input: $i) { token } }",
                        json!({ "i": { "personId": person } }),
                    )
                    .await["issueToken"]["token"]
                    .as_str()
                    .expect("token")
                    .to_string();
            }
        }
        Team {
            app,
            admin,
            member,
            team,
        }
    }

    /// Raises a proposal as the member with `fields` added to the input.
    pub async fn raise(&self, fields: Value) -> (u16, Value) {
        let mut input = json!({ "teamId": self.team, "title": "Bank holiday cover",
            "body": "Add a fourth crew.", "rule": "ADVICE" });
        if let (Some(input), Some(fields)) = (input.as_object_mut(), fields.as_object()) {
            input.extend(fields.clone());
        }
        self.app
            .graphql_as(
                Some(&self.member),
                "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id } position } }",
                json!({ "i": input }),
            )
            .await
    }
}

on_both_backends! {
    async fn control_characters_are_refused_and_nothing_is_written(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let head = team.app.store.head().await.expect("head");
        for bad in ["a\u{0}b", "bell\u{7}", "escape \u{1b}[2J", "del\u{7f}"] {
            for field in ["title", "body"] {
                let (status, body) = team.raise(json!({ field: bad })).await;
                assert_eq!(status, 200);
                assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{field} {bad:?}: {body}");
                let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(message.contains("control character"), "{message}");
            }
            let (_, body) = team
                .app
                .graphql_as(
                    Some(&team.admin),
                    "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { person { id } } }",
                    json!({ "i": { "name": bad, "email": "x@example.org" } }),
                )
                .await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        }
        assert_eq!(team.app.store.head().await.expect("head"), head, "nothing was appended");
        // Newlines and tabs are text, and Windows line ends become newlines.
        let (_, body) = team.raise(json!({ "body": "Line one\r\n\tLine two" })).await;
        let id = body["data"]["raiseProposal"]["proposal"]["id"].as_str().expect("raised").to_string();
        let read = team
            .app
            .ok(&team.member, "query($id: ID!) { proposal(id: $id) { body } }", json!({ "id": id }))
            .await;
        assert_eq!(read["proposal"]["body"], "Line one\n\tLine two");
    }
}

on_both_backends! {
    async fn a_threshold_too_small_to_need_a_vote_is_refused(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        for tiny in [0.00001, 0.009, 0.0] {
            let (_, body) = team.raise(json!({ "rule": "THRESHOLD", "threshold": tiny })).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{tiny}: {body}");
        }
        // The smallest threshold allowed still needs one agree vote.
        let (_, body) = team.raise(json!({ "rule": "THRESHOLD", "threshold": 0.01 })).await;
        let id = body["data"]["raiseProposal"]["proposal"]["id"].as_str().expect("raised").to_string();
        let decide = "mutation($i: DecideInput!) { decide(input: $i) { proposal { decision { agreeVotes requiredVotes } } } }";
        let input = json!({ "i": { "proposalId": id, "outcome": "ADOPTED", "rationale": "Agreed." } });
        let (_, body) = team.app.graphql_as(Some(&team.member), decide, input.clone()).await;
        assert_eq!(error_code(&body), Some("THRESHOLD_NOT_MET"), "{body}");
        team.app
            .ok(
                &team.member,
                "mutation($i: CastVoteInput!) { castVote(input: $i) { position } }",
                json!({ "i": { "proposalId": id, "agree": true } }),
            )
            .await;
        let decided = team.app.ok(&team.member, decide, input).await;
        assert_eq!(
            decided["decide"]["proposal"]["decision"],
            json!({ "agreeVotes": 1, "requiredVotes": 1 })
        );
    }
}

on_both_backends! {
    async fn a_mandate_of_a_hundred_thousand_areas_is_refused_quickly(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let mandate: Vec<String> = (0..100_000).map(|i| format!("a{i}")).collect();
        let started = Instant::now();
        let (_, body) = team
            .app
            .graphql_as(
                Some(&team.admin),
                "mutation($i: FormGroupInput!) { formGroup(input: $i) { group { id } } }",
                json!({ "i": { "name": "Training", "teamIds": [team.team], "mandate": mandate } }),
            )
            .await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        eprintln!("a mandate of 100,000 areas refused in {:?}", started.elapsed());
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }
}

on_both_backends! {
    async fn the_command_line_refuses_control_characters_too(backend: Backend) {
        let db = TestDb::new(backend).await;
        let output = Command::new(BIN)
            .args(["bootstrap", "--name", "Ada\u{7}\u{1b}[2J", "--email", "ada@example.org"])
            .env("DATABASE_URL", db.raw_url())
            .env("ADVICE_LOG_DATA_KEY", db.data_key())
            .env("ADVICE_LOG_LOG", "warn")
            .output()
            .expect("run advice-log");
        assert!(!output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("control character"), "{stderr}");
        let store = db.store().await;
        assert_eq!(store.head().await.expect("head"), 0, "nothing was written");
        store.close().await;
    }
}
