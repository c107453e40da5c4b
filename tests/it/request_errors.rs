//! Errors async-graphql raises about the request itself (a document that does
//! not parse or validate, a bad variable) carry `extensions.code` like the
//! application's own, and a bad enum value is answered with the accepted
//! values, in words a care worker understands. Nothing is appended.

use serde_json::{json, Value};

use crate::hostile::Team;
use crate::on_both_backends;
use crate::subscription::{connect, next, send};

/// Every error of `body` has a code, and the first one is `INVALID_INPUT`;
/// answers the first message.
fn invalid_input(body: &Value) -> String {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors in {body}"));
    assert!(!errors.is_empty(), "{body}");
    for error in errors {
        assert!(
            error["extensions"]["code"].is_string(),
            "an error without a code: {body}"
        );
    }
    assert_eq!(errors[0]["extensions"]["code"], "INVALID_INPUT", "{body}");
    errors[0]["message"]
        .as_str()
        .expect("a message")
        .to_string()
}

/// The errors the next WebSocket message carries, as `{ "errors": [...] }`
/// (graphql-transport-ws sends them as a `next` or an `error` message).
async fn ws_errors(socket: &mut crate::subscription::Socket) -> Value {
    loop {
        let answer = next(socket).await.expect("an answer");
        match answer["type"].as_str() {
            Some("next") => return json!({ "errors": answer["payload"]["errors"] }),
            Some("error") => return json!({ "errors": answer["payload"] }),
            // The end of an earlier operation.
            Some("complete") => continue,
            _ => panic!("errors, not {answer}"),
        }
    }
}

on_both_backends! {
    async fn a_bad_enum_value_names_the_accepted_values_and_appends_nothing(backend: Backend) {
        let db = crate::support::TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let before = team.app.store.head().await.expect("head");

        // Written in the document.
        let literal = format!(
            "mutation {{ raiseProposal(input: {{ teamId: \"{}\", title: \"T\", body: \"B\", rule: VOTE }}) {{ position }} }}",
            team.team
        );
        let (_, body) = team.app.graphql_as(Some(&team.member), &literal, json!({})).await;
        let message = invalid_input(&body);
        assert_eq!(message, "rule must be one of ADVICE, CONSENT or THRESHOLD; \"VOTE\" is not one of them", "{body}");

        // Inside a JSON variable.
        let (_, body) = team.raise(json!({ "rule": "VOTE" })).await;
        let message = invalid_input(&body);
        assert_eq!(message, "rule must be one of ADVICE, CONSENT or THRESHOLD; \"VOTE\" is not one of them", "{body}");

        // A value of the wrong kind where an enum belongs.
        let (_, body) = team.raise(json!({ "rule": 3 })).await;
        let message = invalid_input(&body);
        assert!(message.contains("ADVICE, CONSENT or THRESHOLD"), "{body}");

        // An argument of a query, not a mutation.
        let (_, body) = team.app.graphql_as(Some(&team.member),
            "query($t: ID!) { team(id: $t) { proposals(state: SHUT) { edges { cursor } } } }",
            json!({ "t": team.team })).await;
        let message = invalid_input(&body);
        assert!(message.starts_with("state must be one of ") && message.contains("OPEN") && message.ends_with("\"SHUT\" is not one of them"), "{body}");

        assert_eq!(team.app.store.head().await.expect("head"), before, "nothing is appended");
        team.app.stop().await;
    }
}

on_both_backends! {
    async fn syntax_errors_unknown_fields_and_missing_fields_answer_invalid_input(backend: Backend) {
        let db = crate::support::TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let before = team.app.store.head().await.expect("head");

        let (_, body) = team.app.graphql_as(Some(&team.member), "mutation { raiseProposal(input: {", json!({})).await;
        invalid_input(&body);
        let (_, body) = team.app.graphql_as(Some(&team.member), "{ me { name shoeSize } }", json!({})).await;
        invalid_input(&body);
        let (_, body) = team.app.graphql_as(Some(&team.member), "{ nope }", json!({})).await;
        invalid_input(&body);
        // A required field left out of a variable.
        let (_, body) = team.app.graphql_as(Some(&team.member),
            "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { position } }",
            json!({ "i": { "teamId": team.team, "body": "B", "rule": "ADVICE" } })).await;
        let message = invalid_input(&body);
        assert!(message.contains("title"), "{body}");
        // A variable that is not declared, and one of the wrong type.
        let (_, body) = team.app.graphql_as(Some(&team.member),
            "mutation { raiseProposal(input: $i) { position } }", json!({})).await;
        invalid_input(&body);
        let (_, body) = team.app.graphql_as(Some(&team.member),
            "mutation($i: String) { raiseProposal(input: $i) { position } }", json!({ "i": "x" })).await;
        invalid_input(&body);

        assert_eq!(team.app.store.head().await.expect("head"), before, "nothing is appended");
        team.app.stop().await;
    }
}

on_both_backends! {
    async fn over_a_websocket_request_errors_carry_a_code_and_the_accepted_values(backend: Backend) {
        let db = crate::support::TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let mut socket = connect(&team.app).await;
        send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", team.member)}})).await;
        assert_eq!(next(&mut socket).await.expect("ack")["type"], "connection_ack");

        send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { nope }"}})).await;
        invalid_input(&ws_errors(&mut socket).await);

        send(&mut socket, json!({"id": "2", "type": "subscribe", "payload": {
            "query": "query($t: ID!, $s: ProposalState) { team(id: $t) { proposals(state: $s) { edges { cursor } } } }",
            "variables": { "t": team.team, "s": "SHUT" } }})).await;
        let errors = ws_errors(&mut socket).await;
        let message = invalid_input(&errors);
        assert!(message.starts_with("state must be one of ") && message.contains("\"SHUT\""), "{errors}");
        team.app.stop().await;
    }
}
