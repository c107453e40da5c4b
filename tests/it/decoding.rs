//! A stored event that cannot be read is an error naming its position, never
//! a gap: a known type whose payload does not decode, a type nobody knows,
//! and a schema version newer than this server reads (issue 14).

use std::time::Duration;

use advice_log::domain::proposal::ProposalId;
use advice_log::store::{Append, EventData, ExpectedVersion};
use serde_json::{json, Value};

use crate::hostile::Team;
use crate::on_both_backends;
use crate::support::{error_code, TestDb};

/// Appends one event straight into the log, as another writer (or an older
/// or newer server) might have; answers its position.
async fn write_raw(
    team: &Team,
    stream: &str,
    expected: ExpectedVersion,
    event_type: &str,
    schema_version: i32,
    payload: Value,
) -> u64 {
    team.app
        .store
        .append(Append::to_stream(
            stream,
            expected,
            vec![EventData {
                event_id: uuid::Uuid::new_v4(),
                event_type: event_type.into(),
                schema_version,
                payload,
                metadata: json!({}),
            }],
        ))
        .await
        .expect("the log takes any bytes")
        .last_position()
}

/// An error and its sources, as the server logs it.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The proposal the member raises, with its id.
async fn raised(team: &Team) -> ProposalId {
    let (_, body) = team.raise(json!({})).await;
    let id = body["data"]["raiseProposal"]["proposal"]["id"]
        .as_str()
        .expect("raised");
    ProposalId(uuid::Uuid::parse_str(id).expect("uuid"))
}

/// Waits up to ten seconds for `/readyz` to answer 503; answers its reason.
async fn unready_reason(team: &Team) -> String {
    let (status, body) = team.app.ready_becomes(503, Duration::from_secs(10)).await;
    assert_eq!(status, 503, "{body}");
    body["reason"].as_str().unwrap_or_default().to_string()
}

on_both_backends! {
    async fn a_proposal_event_whose_payload_does_not_decode_is_an_error_naming_its_position(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let id = raised(&team).await;
        let bad = write_raw(
            &team,
            &id.stream(),
            ExpectedVersion::Exact(1),
            "AdviceRequested",
            1,
            json!({ "request_id": "not a uuid" }),
        )
        .await;
        // Reading the proposal from the log is an error at that position,
        // not the proposal without its request.
        let error = team.app.app.load_proposal(id, None).await.expect_err("an error");
        let text = chain(&error);
        assert!(text.contains(&format!("position {bad}")), "{text}");
        assert!(text.contains("AdviceRequested"), "{text}");
        // Through the API: an internal error and no proposal.
        let (_, body) = team
            .app
            .graphql_as(
                Some(&team.member),
                "query($id: ID!) { proposal(id: $id) { title } }",
                json!({ "id": id.0.to_string() }),
            )
            .await;
        assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
        assert!(body["data"]["proposal"].is_null(), "{body}");
        // A command on it is refused the same way, and nothing is appended.
        let (_, body) = team
            .app
            .graphql_as(
                Some(&team.member),
                "mutation($i: WithdrawProposalInput!) { withdrawProposal(input: $i) { position } }",
                json!({ "i": { "proposalId": id.0.to_string(), "reason": "Changed our minds" } }),
            )
            .await;
        assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
        assert_eq!(team.app.store.head().await.expect("head"), bad);
        // The read models stop there and say so.
        let reason = unready_reason(&team).await;
        assert!(reason.contains(&format!("position {bad}")), "{reason}");
    }
}

on_both_backends! {
    async fn an_event_type_nobody_knows_is_reported_by_its_position(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let stream = format!("team-{}", team.team);
        let version = team.app.store.read_stream(&stream).await.expect("team").len() as u64;
        let bad = write_raw(
            &team,
            &stream,
            ExpectedVersion::Exact(version),
            "TeamRenamedByTheFuture",
            1,
            json!({ "name": "South Station" }),
        )
        .await;
        let reason = unready_reason(&team).await;
        assert!(reason.contains(&format!("position {bad}")), "{reason}");
        assert!(reason.contains("TeamRenamedByTheFuture"), "{reason}");
    }
}

on_both_backends! {
    async fn a_schema_version_newer_than_the_server_reads_is_an_error_naming_its_position(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let id = raised(&team).await;
        let raise = team.app.store.read_stream(&id.stream()).await.expect("stream").remove(0);
        let newer = ProposalId(uuid::Uuid::new_v4());
        let bad = write_raw(
            &team,
            &newer.stream(),
            ExpectedVersion::NoStream,
            "ProposalRaised",
            raise.schema_version + 1,
            raise.payload.clone(),
        )
        .await;
        let error = team.app.app.load_proposal(newer, None).await.expect_err("an error");
        let text = chain(&error);
        assert!(text.contains(&format!("position {bad}")), "{text}");
        assert!(text.contains("schema version"), "{text}");
    }
}

on_both_backends! {
    async fn metadata_is_written_typed_and_read_back(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let id = raised(&team).await;
        let command_id = uuid::Uuid::new_v4();
        let (_, body) = team
            .app
            .graphql_as(
                Some(&team.member),
                "mutation($i: WithdrawProposalInput!) { withdrawProposal(input: $i) { position } }",
                json!({ "i": { "proposalId": id.0.to_string(), "reason": " Changed our minds ",
                               "commandId": command_id.to_string() } }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let events = team.app.store.read_stream(&id.stream()).await.expect("stream");
        let withdrawn = events.last().expect("withdrawn");
        let metadata = advice_log::stored::metadata_of(withdrawn).expect("typed metadata");
        assert_eq!(metadata.command_id, Some(command_id));
        assert_eq!(metadata.correlation_id, Some(command_id));
        // A withdrawal's reason is its own free text (sealed, erasable): it is
        // not copied into the metadata, which is never sealed.
        assert_eq!(metadata.reason, None);
        assert_eq!(metadata.role, Some(advice_log::domain::ActingRole::Member));
        assert!(metadata.actor.is_some());
        // The trail reads the same fields, and the reason from the event.
        let read = team
            .app
            .ok(
                &team.member,
                "query($id: ID!) { proposal(id: $id) { trail { eventType role reason commandId actor { name } } } }",
                json!({ "id": id.0.to_string() }),
            )
            .await;
        let last = read["proposal"]["trail"].as_array().and_then(|t| t.last().cloned()).expect("trail");
        assert_eq!(last["role"], "MEMBER", "{last}");
        assert_eq!(last["reason"], "Changed our minds", "{last}");
        assert_eq!(last["commandId"], command_id.to_string(), "{last}");
        assert_eq!(last["actor"]["name"], "Sam", "{last}");
    }
}
