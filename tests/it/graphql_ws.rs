//! graphql-transport-ws as its protocol document says, heard by the
//! protocol's own client (`graphql-ws`'s `createClient` over `ws`) and by raw
//! `ws` frames, from `tests/standards/ws.mjs` run by Node against the real
//! server. Needs `tests/standards`' npm packages (`scripts/test` installs
//! them); it fails, never skips, when they are missing.

use std::process::Command;

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

const FORM_TEAM: &str =
    "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id } position } }";
const REGISTER: &str =
    "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } } }";
const JOIN: &str = "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { position } }";
const ISSUE: &str = "mutation($p: ID!) { issueToken(input: {personId: $p}) { token } }";
const RAISE: &str = "mutation($t: ID!) { raiseProposal(input: {teamId: $t, title: \"T\", body: \"B\", rule: CONSENT}) { position } }";
const EVENTS: &str =
    "subscription($team: ID!) { events(teamId: $team) { position eventType streamId } }";

/// A server with an admin, a team and a member of it.
struct Org {
    app: TestApp,
    admin: String,
    member: String,
    team: String,
}

impl Org {
    async fn new(db: &TestDb) -> Org {
        let app = TestApp::spawn(db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app
            .ok(&admin, FORM_TEAM, json!({"input": {"name": "Rota"}}))
            .await["formTeam"]["team"]["id"]
            .as_str()
            .expect("team id")
            .to_string();
        let member_id = app
            .ok(
                &admin,
                REGISTER,
                json!({"input": {"name": "M", "email": "m@example.org"}}),
            )
            .await["registerPerson"]["person"]["id"]
            .as_str()
            .expect("person id")
            .to_string();
        app.ok(
            &admin,
            JOIN,
            json!({"input": {"teamId": team, "personId": member_id, "role": "MEMBER"}}),
        )
        .await;
        let member = app.ok(&admin, ISSUE, json!({"p": member_id})).await["issueToken"]["token"]
            .as_str()
            .expect("token")
            .to_string();
        Org {
            app,
            admin,
            member,
            team,
        }
    }

    fn url(&self) -> String {
        format!("{}/graphql", self.app.base.replace("http://", "ws://"))
    }

    /// Runs `tests/standards/ws.mjs` in `mode` with `spec`; what it heard.
    async fn node(&self, mode: &str, spec: Value) -> Value {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standards/ws.mjs");
        let url = self.url();
        let mode = mode.to_string();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .args([script, &mode, &url, &spec.to_string()])
                .output()
        })
        .await
        .expect("join")
        .expect("node runs (install Node.js; scripts/test installs the npm packages)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "ws.mjs failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout).expect("ws.mjs prints JSON")
    }

    /// Raw frames: `steps`, then up to `wait` ms for the server to close.
    async fn raw(&self, steps: Value, wait: u64) -> Value {
        self.node("raw", json!({"steps": steps, "wait": wait}))
            .await
    }

    fn init(&self, token: &str) -> Value {
        json!({"json": {"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}})
    }

    fn subscribe(&self, id: &str) -> Value {
        json!({"json": {"id": id, "type": "subscribe", "payload": {"query": EVENTS, "variables": {"team": self.team}}}})
    }
}

/// The close the server sent: its code, and a reason that fits a control
/// frame (RFC 6455: at most 125 bytes of payload, 2 of them the code).
fn closed_with(heard: &Value, code: u64) -> String {
    let close = &heard["close"];
    assert_eq!(close["code"].as_u64(), Some(code), "{heard}");
    assert!(
        close["reasonBytes"].as_u64().expect("reason length") <= 123,
        "{heard}"
    );
    assert!(heard["errored"].is_null(), "a clean close: {heard}");
    close["reason"].as_str().expect("reason").to_string()
}

on_both_backends! {
    async fn the_client_subscribes_hears_events_and_completes(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = Org::new(&db).await;

        // A subscription: the team's events in order, until the client stops.
        let heard = org.node("client", json!({"token": org.admin, "query": EVENTS, "variables": {"team": org.team}, "take": 2})).await;
        assert_eq!(heard["end"], "unsubscribed", "{heard}");
        let types: Vec<&Value> = heard["results"].as_array().expect("results").iter().map(|r| &r["data"]["events"]["eventType"]).collect();
        assert_eq!(types, vec!["TeamFormed", "MemberJoined"], "{heard}");
        assert_eq!(heard["closed"]["code"], 1000, "the client closes normally: {heard}");

        // A query: one `next`, then the server's `complete`.
        let heard = org.node("client", json!({"token": org.admin, "query": "{ me { orgRole } }"})).await;
        assert_eq!(heard["end"], "complete", "{heard}");
        assert_eq!(heard["results"], json!([{"data": {"me": {"orgRole": "ADMIN"}}}]), "{heard}");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn a_bad_token_is_forbidden_4403(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = Org::new(&db).await;
        let bad = format!("al_{}_{}", uuid::Uuid::new_v4().simple(), "ab".repeat(32));
        let heard = org.node("client", json!({"token": bad, "query": EVENTS, "variables": {"team": org.team}})).await;
        assert_eq!(heard["end"], "closed", "{heard}");
        assert_eq!(heard["code"], 4403, "{heard}");
        assert_eq!(heard["closed"]["code"], 4403, "{heard}");
        assert!(heard["results"].as_array().expect("results").is_empty(), "{heard}");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn the_events_subscription_is_for_admins_and_auditors(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = Org::new(&db).await;
        // A member is refused before anything runs: an `error` message.
        let heard = org.node("client", json!({"token": org.member, "query": EVENTS, "variables": {"team": org.team}})).await;
        assert_eq!(heard["end"], "error", "{heard}");
        assert_eq!(heard["errors"][0]["extensions"]["code"], "FORBIDDEN", "{heard}");
        assert!(heard["results"].as_array().expect("results").is_empty(), "no event leaks: {heard}");

        // An auditor follows the team.
        let auditor = org.app.ok(&org.admin, REGISTER, json!({"input": {"name": "Au", "email": "au@example.org", "orgRole": "AUDITOR"}})).await["registerPerson"]["person"]["id"].as_str().expect("id").to_string();
        let token = org.app.ok(&org.admin, ISSUE, json!({"p": auditor})).await["issueToken"]["token"].as_str().expect("token").to_string();
        let heard = org.node("client", json!({"token": token, "query": EVENTS, "variables": {"team": org.team}, "take": 1})).await;
        assert_eq!(heard["results"][0]["data"]["events"]["eventType"], "TeamFormed", "{heard}");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn operations_run_complete_and_stop_as_the_protocol_says(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = Org::new(&db).await;
        let raise = json!({"token": org.member, "query": RAISE, "variables": {"t": org.team}});
        let heard = org.raw(json!([
            org.init(&org.admin),
            {"expect": "connection_ack"},
            {"json": {"type": "ping", "payload": {"n": 1}}},
            {"expect": "pong"},
            // The client stops `a`; `b` goes on and hears the next write alone.
            org.subscribe("a"),
            {"expect": "next", "id": "a"},
            {"json": {"id": "a", "type": "complete"}},
            org.subscribe("b"),
            {"expect": "next", "id": "b"},
            {"expect": "next", "id": "b"},
            {"post": raise},
            {"expect": "next", "id": "b"},
            // A validation error is an `error` message, and the id is free again.
            {"json": {"id": "c", "type": "subscribe", "payload": {"query": "subscription { nope }"}}},
            {"expect": "error", "id": "c"},
            {"json": {"id": "c", "type": "subscribe", "payload": {"query": "{ me { orgRole } }"}}},
            {"expect": "complete", "id": "c"},
            {"sleep": 300},
        ]), 0).await;
        assert!(heard["close"].is_null(), "the connection stays open: {heard}");
        let messages = heard["messages"].as_array().expect("messages");
        assert_eq!(messages[1], json!({"type": "pong", "payload": {"n": 1}}), "{heard}");
        let of = |id: &str, kind: &str| messages.iter().filter(|m| m["id"] == id && m["type"] == kind).collect::<Vec<_>>();
        assert!(of("a", "next").len() <= 2, "nothing after the client's complete: {heard}");
        assert!(of("a", "next").iter().all(|m| m["payload"]["data"]["events"]["eventType"] != "ProposalRaised"), "{heard}");
        assert_eq!(of("b", "next").len(), 3, "{heard}");
        assert_eq!(of("b", "next")[2]["payload"]["data"]["events"]["eventType"], "ProposalRaised", "{heard}");
        let errors = of("c", "error");
        assert_eq!(errors.len(), 1, "{heard}");
        assert_eq!(errors[0]["payload"][0]["extensions"]["code"], "INVALID_INPUT", "{heard}");
        assert!(errors[0]["payload"].is_array(), "{heard}");
        assert_eq!(of("c", "next").len(), 1, "only the query's result: {heard}");
        assert_eq!(of("c", "next")[0]["payload"]["data"]["me"]["orgRole"], "ADMIN", "{heard}");
        assert_eq!(of("c", "complete").len(), 1, "no complete after an error: {heard}");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn protocol_violations_close_with_the_documented_codes(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = Org::new(&db).await;
        let ack = json!({"expect": "connection_ack"});

        let duplicate = org.raw(json!([org.init(&org.admin), ack, org.subscribe("a"), {"expect": "next"}, org.subscribe("a")]), 5000);
        let early = org.raw(json!([org.subscribe("a")]), 5000);
        let unknown = org.raw(json!([org.init(&org.admin), ack, {"json": {"type": "what-is-this", "payload": "x".repeat(200)}}]), 5000);
        let not_json = org.raw(json!([org.init(&org.admin), ack, {"send": "{ this is not JSON"}]), 5000);
        let no_payload = org.raw(json!([org.init(&org.admin), ack, {"json": {"id": "a", "type": "subscribe"}}]), 5000);
        let second_init = org.raw(json!([org.init(&org.admin), ack, org.init(&org.admin)]), 5000);
        let no_init = org.raw(json!([]), 8000);
        // No subprotocol asked for: accepted, then closed as the reference
        // server does. (A client that asks for another one fails the
        // handshake itself, as RFC 6455 says, when none is chosen.)
        let no_protocol = org.node("raw", json!({"steps": [], "wait": 5000, "protocol": []}));
        let (duplicate, early, unknown, not_json, no_payload, second_init, no_init, no_protocol) =
            tokio::join!(duplicate, early, unknown, not_json, no_payload, second_init, no_init, no_protocol);

        assert_eq!(closed_with(&duplicate, 4409), "Subscriber for a already exists");
        assert_eq!(closed_with(&early, 4401), "Unauthorized");
        closed_with(&unknown, 4400);
        closed_with(&not_json, 4400);
        closed_with(&no_payload, 4400);
        assert_eq!(closed_with(&second_init, 4429), "Too many initialisation requests");
        assert_eq!(closed_with(&no_protocol, 4406), "Subprotocol not acceptable");
        assert_eq!(closed_with(&no_init, 4408), "Connection initialisation timeout");
        let after = no_init["close"]["afterMs"].as_u64().expect("ms");
        assert!((2500..6000).contains(&after), "about three seconds: {no_init}");
        org.app.stop().await;
    }
}
