//! Relay, under its own compiler: relay-compiler (from `tests/standards`)
//! compiles the small Relay project in `tests/standards/relay` against
//! `schema/schema.graphql` (a `@refetchable` `@connection` pagination
//! fragment on `Team.proposals`, a refetchable fragment on `Proposal` with its
//! advice and objections connections, a `node` lookup), and refuses nothing.
//! The query texts it generated (`params.text`) then run against the real
//! server: forward and backward pages of a team's proposals, the refetch
//! of a proposal and of a team's next page through `node(id)`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::proposals::station;
use crate::support::{error_code, TestDb};

const STANDARDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standards");

/// Runs relay-compiler on the project's documents and the committed
/// schema, writing into a temporary directory (through a config written
/// there: relay-compiler takes no paths on its command line when a project
/// has a config), and answers each generated operation's query text by name.
fn compile() -> serde_json::Map<String, Value> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("__generated__");
    std::fs::create_dir(&out).expect("the output directory");
    let project = Path::new(STANDARDS).join("relay");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let config = dir.path().join("relay.config.json");
    let settings = json!({
        "src": project.join("src"),
        "schema": schema,
        "language": "javascript",
        "artifactDirectory": out,
    });
    std::fs::write(&config, settings.to_string()).expect("the config");
    let compiler = Path::new(STANDARDS).join("node_modules/.bin/relay-compiler");
    let compiled = Command::new(&compiler)
        .arg(&config)
        .current_dir(dir.path())
        .env("FORCE_NO_WATCHMAN", "1")
        .output()
        .expect("relay-compiler runs (scripts/test installs tests/standards' packages)");
    assert!(
        compiled.status.success(),
        "relay-compiler refused the schema or the documents:\n{}\n{}",
        String::from_utf8_lossy(&compiled.stdout),
        String::from_utf8_lossy(&compiled.stderr)
    );
    let listed = Command::new("node")
        .arg(project.join("operations.mjs"))
        .arg(&out)
        .output()
        .expect("node runs");
    assert!(
        listed.status.success(),
        "reading the generated operations failed: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let operations: Value = serde_json::from_slice(&listed.stdout).expect("the operations as JSON");
    operations.as_object().expect("an object").clone()
}

fn text<'a>(operations: &'a serde_json::Map<String, Value>, name: &str) -> &'a str {
    operations[name]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("relay-compiler generated no {name}: {operations:?}"))
}

fn titles(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["title"].as_str().expect("title").to_string())
        .collect()
}

on_both_backends! {
    async fn relay_compiler_accepts_the_schema_and_its_queries_run(backend: Backend) {
        let operations = compile();
        let expected: BTreeSet<&str> = [
            "TeamProposalsQuery",
            "TeamProposalsPaginationQuery",
            "ProposalDetailRefetchQuery",
            "NodeLookupQuery",
        ]
        .into();
        let generated: BTreeSet<&str> = operations.keys().map(String::as_str).collect();
        assert_eq!(generated, expected);

        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let mut ids = Vec::new();
        for n in 1..=5 {
            ids.push(s.raise("ADVICE", json!({"title": format!("Proposal {n}")})).await);
        }
        let first = &ids[0];
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", json!({"proposalId": first, "personId": s.expert.id, "reason": "EXPERT"})).await;
        s.ok(&s.expert, "giveAdvice", "GiveAdviceInput", json!({"proposalId": first, "stance": "CONCERN", "text": "Fatigue risk."})).await;
        s.ok(&s.cat, "raiseObjection", "RaiseObjectionInput", json!({"proposalId": first, "reason": "Clashes with school runs."})).await;
        let token = &s.coach.token;
        // The team's proposal list is a read model: let it apply the writes.
        let head = s.app.store.head().await.expect("head");
        assert!(s.app.app.wait_for(head, std::time::Duration::from_secs(10)).await);

        // The first page, newest first, through the query with the fragment spread.
        let query = text(&operations, "TeamProposalsQuery");
        let data = s.app.ok(token, query, json!({"id": s.team, "count": 2})).await;
        let page = &data["team"]["proposals"];
        assert_eq!(titles(page), ["Proposal 5", "Proposal 4"]);
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        let end = page["pageInfo"]["endCursor"].clone();

        // The next page, as usePaginationFragment's loadNext asks: through node(id).
        let pagination = text(&operations, "TeamProposalsPaginationQuery");
        assert!(pagination.contains("node(id: $id)"), "{pagination}");
        let vars = json!({"id": s.team, "count": 2, "cursor": end, "last": null, "before": null});
        let data = s.app.ok(token, pagination, vars).await;
        assert_eq!(data["node"]["__typename"], "Team");
        let next = &data["node"]["proposals"];
        assert_eq!(titles(next), ["Proposal 3", "Proposal 2"]);
        assert_eq!(next["pageInfo"]["hasNextPage"], true);
        assert_eq!(next["pageInfo"]["hasPreviousPage"], true);

        // Backward from there, as loadPrevious asks (the forward arguments null).
        let start = next["pageInfo"]["startCursor"].clone();
        let vars = json!({"id": s.team, "count": null, "cursor": null, "last": 2, "before": start});
        let back = s.app.ok(token, pagination, vars).await["node"]["proposals"].clone();
        assert_eq!(titles(&back), ["Proposal 5", "Proposal 4"]);
        assert_eq!(back["pageInfo"]["hasPreviousPage"], false);
        assert_eq!(back["pageInfo"]["hasNextPage"], true);

        // The last page from the end of the list.
        let vars = json!({"id": s.team, "count": null, "cursor": null, "last": 2, "before": null});
        let tail = s.app.ok(token, pagination, vars).await["node"]["proposals"].clone();
        assert_eq!(titles(&tail), ["Proposal 2", "Proposal 1"]);
        assert_eq!(tail["pageInfo"]["hasPreviousPage"], true);

        // Both directions at once, or a cursor of nothing, is INVALID_INPUT.
        let vars = json!({"id": s.team, "count": 2, "cursor": null, "last": 2, "before": null});
        let (_, body) = s.app.graphql_as(Some(token), pagination, vars).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        let vars = json!({"id": s.team, "count": 2, "cursor": "not a cursor", "last": null, "before": null});
        let (_, body) = s.app.graphql_as(Some(token), pagination, vars).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");

        // A proposal refetched through node(id), with its connections.
        let refetch = text(&operations, "ProposalDetailRefetchQuery");
        let data = s.app.ok(token, refetch, json!({"id": first})).await;
        let proposal = &data["node"];
        assert_eq!(proposal["__typename"], "Proposal");
        assert_eq!(proposal["id"], json!(first));
        assert_eq!(proposal["title"], "Proposal 1");
        assert_eq!(proposal["advice"]["edges"][0]["node"]["text"], "Fatigue risk.");
        assert_eq!(proposal["advice"]["edges"][0]["node"]["by"]["id"], json!(s.expert.id));
        assert_eq!(proposal["objections"]["edges"][0]["node"]["reason"], "Clashes with school runs.");
        assert_eq!(proposal["objections"]["pageInfo"]["hasNextPage"], false);

        // node(id) finds people and teams too, and nothing for an unknown id.
        let lookup = text(&operations, "NodeLookupQuery");
        let data = s.app.ok(token, lookup, json!({"id": s.ann.id})).await;
        assert_eq!(data["node"], json!({"__typename": "Person", "id": s.ann.id, "name": "Ann"}));
        let data = s.app.ok(token, lookup, json!({"id": s.team})).await;
        assert_eq!(data["node"]["__typename"], "Team");
        assert_eq!(data["node"]["name"], "North ambulance station");
        let unknown = uuid::Uuid::new_v4().to_string();
        assert_eq!(s.app.ok(token, lookup, json!({"id": unknown})).await["node"], Value::Null);
        let (_, body) = s.app.graphql_as(None, lookup, json!({"id": s.team})).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

        s.app.stop().await;
    }
}
