//! Subscriptions over `graphql-transport-ws`, authenticated in the
//! connection-init payload.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

/// A client WebSocket to the test server.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a `graphql-transport-ws` connection to `app`.
pub async fn connect(app: &TestApp) -> Socket {
    let url = format!("{}/graphql", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}

/// Sends one JSON message.
pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// The next JSON message, or, if the server closed the connection, its close
/// code and reason.
pub async fn next(socket: &mut Socket) -> Result<Value, Option<(u16, String)>> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).expect("JSON")),
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map(|f| (u16::from(f.code), f.reason.to_string())))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

const FORM_TEAM: &str =
    "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id } position } }";
const REGISTER: &str =
    "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } } }";
const JOIN: &str = "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { position } }";

on_both_backends! {
    async fn a_token_in_connection_init_opens_a_live_feed_of_a_team(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Rota"}})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        let other = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Elsewhere"}})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        let join = |person: String, team: String| json!({"input": {"teamId": team, "personId": person, "role": "MEMBER"}});
        let first = app.ok(&admin, REGISTER, json!({"input": {"name": "A", "email": "a@example.org"}})).await["registerPerson"]["person"]["id"].as_str().expect("id").to_string();
        app.ok(&admin, JOIN, join(first.clone(), team.clone())).await;

        let mut socket = connect(&app).await;
        send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {admin}")}})).await;
        assert_eq!(next(&mut socket).await.expect("ack")["type"], "connection_ack");
        send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($team: ID!) { events(teamId: $team) { position eventType streamId } }",
            "variables": {"team": team},
        }})).await;
        let mut seen = Vec::new();
        for _ in 0..2 {
            let message = next(&mut socket).await.expect("an event");
            assert_eq!(message["type"], "next", "{message}");
            seen.push(message["payload"]["data"]["events"].clone());
        }
        assert_eq!(seen.iter().map(|e| e["eventType"].clone()).collect::<Vec<_>>(), vec![json!("TeamFormed"), json!("MemberJoined")]);

        // Live: a write to the team arrives; a write elsewhere does not.
        let second = app.ok(&admin, REGISTER, json!({"input": {"name": "B", "email": "b@example.org"}})).await["registerPerson"]["person"]["id"].as_str().expect("id").to_string();
        app.ok(&admin, JOIN, join(second.clone(), other.clone())).await;
        let position = app.ok(&admin, JOIN, join(second, team.clone())).await["joinTeam"]["position"].as_u64().expect("position");
        let live = next(&mut socket).await.expect("a live event");
        assert_eq!(live["payload"]["data"]["events"]["position"].as_u64(), Some(position), "{live}");
        assert_eq!(live["payload"]["data"]["events"]["streamId"], json!(format!("team-{team}")));
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_bad_token_in_connection_init_is_refused(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let mut socket = connect(&app).await;
        let bad = format!("al_{}_{}", uuid::Uuid::new_v4().simple(), "ab".repeat(32));
        send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {bad}")}})).await;
        // 4403 Forbidden, as the protocol document recommends; nothing is
        // served on the connection.
        let (code, reason) = next(&mut socket).await.expect_err("closed").expect("a close frame");
        assert_eq!((code, reason.as_str()), (4403, "Forbidden"));
        app.stop().await;
    }
}

on_both_backends! {
    async fn no_token_gets_unauthenticated(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Rota"}})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        let mut socket = connect(&app).await;
        send(&mut socket, json!({"type": "connection_init", "payload": {}})).await;
        assert_eq!(next(&mut socket).await.expect("ack")["type"], "connection_ack");
        send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($team: ID!) { events(teamId: $team) { position } }", "variables": {"team": team},
        }})).await;
        let message = next(&mut socket).await.expect("an answer");
        let text = message.to_string();
        assert!(text.contains("UNAUTHENTICATED"), "{message}");
        assert!(!text.contains("\"position\""), "no event leaks: {message}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn replay_then_live_with_no_gap_and_no_duplicate_at_the_seam(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Rota"}})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        let other = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Elsewhere"}})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        let member = app.ok(&admin, REGISTER, json!({"input": {"name": "M", "email": "m@example.org"}})).await["registerPerson"]["person"]["id"].as_str().expect("id").to_string();
        app.ok(&admin, JOIN, json!({"input": {"teamId": team, "personId": member, "role": "MEMBER"}})).await;
        let token = app.ok(&admin, "mutation($p: ID!) { issueToken(input: {personId: $p}) { token } }", json!({"p": member})).await["issueToken"]["token"].as_str().expect("token").to_string();
        let proposal = app.ok(&token, "mutation($t: ID!) { raiseProposal(input: {teamId: $t, title: \"T\", body: \"B\", rule: CONSENT}) { proposal { id } } }", json!({"t": team})).await["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string();
        let advise = "mutation($p: ID!, $n: String!) { giveAdvice(input: {proposalId: $p, stance: SUPPORT, text: $n}) { position } }";
        for n in 0..5 {
            app.ok(&token, advise, json!({"p": proposal, "n": format!("before {n}")})).await;
        }
        let after = app.store.head().await.expect("head") - 3;

        // Another client keeps writing (to this team and elsewhere) while we subscribe.
        let writer = {
            let app_client = app.client.clone();
            let url = format!("{}/graphql", app.base);
            let (token, admin, proposal, other) = (token.clone(), admin.clone(), proposal.clone(), other.clone());
            tokio::spawn(async move {
                for n in 0..30 {
                    let body = json!({"query": advise, "variables": {"p": proposal, "n": format!("during {n}")}});
                    app_client.post(&url).bearer_auth(&token).json(&body).send().await.expect("write");
                    if n % 3 == 0 {
                        let body = json!({"query": "mutation($i: FormTeamInput!) { formTeam(input: $i) { position } }", "variables": {"i": {"name": format!("noise {n}")}}});
                        app_client.post(&url).bearer_auth(&admin).json(&body).send().await.expect("noise");
                    }
                }
                let _ = other;
            })
        };
        // The events subscription is for admins and auditors: the admin follows.
        let mut socket = connect(&app).await;
        send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {admin}")}})).await;
        assert_eq!(next(&mut socket).await.expect("ack")["type"], "connection_ack");
        send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($team: ID!, $after: Position!) { events(teamId: $team, after: $after) { position streamId } }",
            "variables": {"team": team, "after": after},
        }})).await;
        writer.await.expect("writer");

        // Everything of this team after `after`, as the log has it.
        let mut expected = Vec::new();
        let mut cursor = after;
        loop {
            let page = app.store.read_all(cursor, 1000).await.expect("read");
            let Some(last) = page.last() else { break };
            cursor = last.position;
            expected.extend(page.iter().filter(|e| e.stream_id == format!("team-{team}") || e.stream_id == format!("proposal-{proposal}")).map(|e| e.position));
        }
        assert_eq!(expected.len(), 33, "3 before subscribing, 30 during");
        let mut seen = Vec::new();
        while seen.len() < expected.len() {
            let message = next(&mut socket).await.expect("an event");
            assert_eq!(message["type"], "next", "{message}");
            seen.push(message["payload"]["data"]["events"]["position"].as_u64().expect("position"));
        }
        assert_eq!(seen, expected, "every event once, in order, across the seam");
        app.stop().await;
    }
}

on_both_backends! {
    async fn revoking_a_token_ends_its_subscriptions(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Rota"}})).await["formTeam"]["team"]["id"].as_str().expect("id").to_string();
        // An auditor: the events subscription is for admins and auditors.
        let person = app.ok(&admin, REGISTER, json!({"input": {"name": "A", "email": "a@example.org", "orgRole": "AUDITOR"}})).await["registerPerson"]["person"]["id"].as_str().expect("id").to_string();
        let issued = app.ok(&admin, "mutation($i: IssueTokenInput!) { issueToken(input: $i) { tokenId token } }", json!({"i": {"personId": person}})).await;
        let token = issued["issueToken"]["token"].as_str().expect("token").to_string();
        let token_id = issued["issueToken"]["tokenId"].as_str().expect("token id").to_string();

        let mut socket = connect(&app).await;
        send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})).await;
        assert_eq!(next(&mut socket).await.expect("ack")["type"], "connection_ack");
        send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($team: ID!) { events(teamId: $team) { position eventType } }",
            "variables": {"team": team},
        }})).await;
        let first = next(&mut socket).await.expect("the team's first event");
        assert_eq!(first["payload"]["data"]["events"]["eventType"], "TeamFormed", "{first}");

        app.ok(&admin, "mutation($i: RevokeTokenInput!) { revokeToken(input: $i) { position } }", json!({"i": {"tokenId": token_id}})).await;
        // A write to the team after the revocation is not delivered: the
        // subscription ends with UNAUTHENTICATED instead.
        app.ok(&admin, JOIN, json!({"input": {"teamId": team, "personId": person, "role": "MEMBER"}})).await;
        let ended = next(&mut socket).await.expect("a message");
        assert_eq!(ended["type"], "next", "{ended}");
        assert_eq!(ended["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{ended}");
        let complete = next(&mut socket).await.expect("complete");
        assert_eq!(complete["type"], "complete", "{complete}");
        app.stop().await;
    }
}

/// A database that stops answering the server ends its subscriptions with
/// an error, not a plain `complete` a client would take for "no more events".
/// The failure is real: the owner revokes the server's right to read the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_failing_database_ends_subscriptions_with_an_error() {
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    let app = TestApp::spawn(&db).await;
    let (_, admin) = app.bootstrap().await;
    let team = app
        .ok(&admin, FORM_TEAM, json!({"input": {"name": "Rota"}}))
        .await["formTeam"]["team"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut socket = connect(&app).await;
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {admin}")}}),
    )
    .await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($team: ID!) { events(teamId: $team) { position } }",
            "variables": {"team": team},
        }}),
    )
    .await;
    assert_eq!(
        next(&mut socket).await.expect("the first event")["type"],
        "next"
    );

    let mut owner = <sqlx::PgConnection as sqlx::Connection>::connect(db.raw_url())
        .await
        .expect("connect as owner");
    sqlx::query(&format!(
        "REVOKE SELECT ON events FROM {}",
        crate::support::APP_ROLE
    ))
    .execute(&mut owner)
    .await
    .expect("revoke");
    let ended = next(&mut socket).await.expect("a message");
    assert_eq!(ended["type"], "next", "{ended}");
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"], "INTERNAL",
        "{ended}"
    );
    let message = ended["payload"]["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("subscribe again"), "{message}");
    assert!(
        !message.contains("permission"),
        "no detail leaks: {message}"
    );
    assert_eq!(
        next(&mut socket).await.expect("complete")["type"],
        "complete"
    );
}
