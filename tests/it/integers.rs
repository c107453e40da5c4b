//! Integers keep to their types: `Int` is GraphQL's signed 32-bit integer,
//! log positions and tree sizes are `Position` and money is `Money` (both
//! integers up to 2^53 − 1, sent as JSON numbers); a value out of range is
//! `INVALID_INPUT` and writes nothing. `issueCheckpoint` answers like every
//! other mutation, with the `position` its checkpoint covers.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, TestApp, TestDb};

/// 2^53 − 1.
const MAX_SAFE: i64 = 9_007_199_254_740_991;

on_both_backends! {
    async fn ints_are_32_bit_and_positions_and_money_have_their_own_scalars(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;

        // Int: a page size past 2^31 − 1 is refused, in a variable or written
        // in the document.
        for (query, variables) in [
            ("query($n: Int) { teams(first: $n) { edges { cursor } } }", json!({ "n": 2_147_483_648_i64 })),
            ("{ teams(first: 2147483648) { edges { cursor } } }", json!({})),
        ] {
            let (_, body) = app.graphql_as(Some(&admin), query, variables).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{query}: {body}");
        }
        let (_, body) = app.graphql_as(Some(&admin), "query($n: Int) { teams(first: $n) { edges { cursor } } }", json!({ "n": 2_147_483_647_i64 })).await;
        assert!(body.get("errors").is_none(), "{body}");

        // Money: more than an Int holds is fine, up to 2^53 − 1.
        let team = app.ok(&admin, "mutation { formTeam(input: {name: \"Estates\"}) { team { id } } }", json!({})).await["formTeam"]["team"]["id"].clone();
        let group = app.ok(&admin, "mutation($t: [ID!]!) { formGroup(input: {name: \"Capital works\", teamIds: $t, mandate: [\"buildings\"]}) { group { id } } }",
            json!({ "t": [team] })).await["formGroup"]["group"]["id"].clone();
        let allocate = "mutation($g: ID!, $a: Money!) { allocateBudget(input: {groupId: $g, amount: $a, reason: \"Capital plan\"}) { group { budget { allocated remaining entries { edges { node { amount position } } } } } position } }";
        let big = 5_000_000_000_i64;
        let answer = app.ok(&admin, allocate, json!({ "g": group, "a": big })).await["allocateBudget"].clone();
        assert_eq!(answer["group"]["budget"]["allocated"], big);
        assert_eq!(answer["group"]["budget"]["entries"]["edges"][0]["node"]["amount"], big);
        assert_eq!(answer["group"]["budget"]["entries"]["edges"][0]["node"]["position"], answer["position"]);
        let head = app.store.head().await.expect("head");
        for bad in [json!(MAX_SAFE + 1), json!(-MAX_SAFE - 1), json!(1.5), json!("100")] {
            let (_, body) = app.graphql_as(Some(&admin), allocate, json!({ "g": group, "a": bad })).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{bad}: {body}");
        }
        let literal = format!("mutation {{ allocateBudget(input: {{groupId: \"{}\", amount: {}, reason: \"x\"}}) {{ position }} }}", group.as_str().expect("id"), MAX_SAFE + 1);
        let (_, body) = app.graphql_as(Some(&admin), &literal, json!({})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(app.store.head().await.expect("head"), head, "nothing is written");

        // Position: negative or past 2^53 − 1 is refused before anything runs.
        for bad in [json!(-1), json!(MAX_SAFE + 1)] {
            let (_, body) = app.graphql_as(Some(&admin), "query($p: Position!) { inclusionProof(position: $p, treeSize: $p) { leafHash } }", json!({ "p": bad })).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{bad}: {body}");
            assert!(body.get("data").is_none(), "a request error has no data: {body}");
        }

        // issueCheckpoint takes an input and answers the size it covers.
        let issued = app.ok(&admin, "mutation($i: IssueCheckpointInput) { issueCheckpoint(input: $i) { checkpoint { treeSize } position } }",
            json!({ "i": { "commandId": "3f1c0d1e-6a57-4a8e-9a53-2f0f1d0c9b11" } })).await["issueCheckpoint"].clone();
        let head = app.store.head().await.expect("head");
        assert_eq!(issued["position"], json!(head), "{issued}");
        assert_eq!(issued["checkpoint"]["treeSize"], json!(head), "{issued}");
        let again = app.ok(&admin, "mutation { issueCheckpoint { checkpoint { treeSize } position } }", json!({})).await["issueCheckpoint"].clone();
        assert_eq!(again, issued, "the log did not grow: the same checkpoint");

        // The schema says so.
        let (_, body) = app.graphql("{ __type(name: \"Position\") { kind description } }").await;
        let described: &Value = &body["data"]["__type"];
        assert_eq!(described["kind"], "SCALAR");
        assert!(described["description"].as_str().is_some_and(|d| d.contains("9007199254740991")), "{body}");
        app.stop().await;
    }
}
