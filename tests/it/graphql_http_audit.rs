//! GraphQL over HTTP under its own tool: graphql-http's `serverAudits`, run
//! by `tests/standards/audit.mjs` (Node, with the packages `scripts/test`
//! installs) against the real server. Every MUST must pass; a SHOULD or MAY
//! that fails must be in [`ALLOWED`] with its reason (README, "GraphQL over
//! HTTP", lists the same). Also the headers the audit does not look at:
//! `Allow` on a GET mutation's 405, `WWW-Authenticate` on a 401, and 406 for
//! an `Accept` the server cannot answer.

use std::process::Command;

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

/// The audits allowed to fail, each with why. None today: the server passes
/// every MUST, SHOULD and MAY of graphql-http 1.23.1.
const ALLOWED: &[(&str, &str)] = &[];

/// Runs the audit against `app` and answers its results.
async fn audit(app: &TestApp) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standards/audit.mjs");
    let url = format!("{}/graphql", app.base);
    let output =
        tokio::task::spawn_blocking(move || Command::new("node").args([script, &url]).output())
            .await
            .expect("join")
            .expect("node runs (install Node.js; scripts/test installs the packages)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the audit did not run: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("the audit's JSON, not {stdout:?}: {e}"))
}

on_both_backends! {
    async fn graphql_http_audit_passes_every_must_and_each_failure_is_explained(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let results = audit(&app).await;
        assert!(results.len() > 50, "the whole audit ran: {} results", results.len());
        let failed: Vec<&Value> = results.iter().filter(|r| r["status"] != "ok").collect();
        let musts: Vec<&&Value> = failed.iter().filter(|r| r["status"] == "error").collect();
        assert!(musts.is_empty(), "MUST failures: {musts:#?}");
        let unexplained: Vec<&&Value> = failed
            .iter()
            .filter(|r| !ALLOWED.iter().any(|(id, _)| r["id"] == *id))
            .collect();
        assert!(unexplained.is_empty(), "failures not in the allow-list: {unexplained:#?}");
        // An allowed failure that now passes comes off the list.
        for (id, why) in ALLOWED {
            assert!(failed.iter().any(|r| r["id"] == *id), "{id} passes now ({why}): remove it from ALLOWED");
        }
        app.stop().await;
    }
}

on_both_backends! {
    async fn status_codes_and_headers_follow_the_standards(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let url = format!("{}/graphql", app.base);

        // A GET that names a mutation: 405 and what is allowed.
        let refused = app.client.get(format!("{url}?query=mutation%20%7B%20issueCheckpoint%20%7B%20position%20%7D%20%7D")).send().await.expect("get");
        assert_eq!(refused.status().as_u16(), 405);
        assert_eq!(refused.headers()["allow"], "POST");
        let body: Value = refused.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");

        // A bad token: 401 with a bearer challenge naming the error
        // (RFC 6750); a header of another scheme: a challenge without one.
        for (authorization, challenge) in [
            ("Bearer not-a-token", "Bearer realm=\"advice-log\", error=\"invalid_token\""),
            ("Basic dXNlcjpwYXNz", "Bearer realm=\"advice-log\""),
        ] {
            for request in [
                app.client.post(&url).json(&json!({ "query": "{ me { id } }" })),
                app.client.get(format!("{url}?query=%7B%20__typename%20%7D")),
            ] {
                let answer = request.header("authorization", authorization).send().await.expect("answer");
                assert_eq!(answer.status().as_u16(), 401, "{authorization}");
                let header = answer.headers()["www-authenticate"].to_str().expect("ASCII").to_string();
                assert!(header.starts_with(challenge), "{authorization}: {header}");
                if !authorization.starts_with("Bearer") {
                    assert!(!header.contains("error="), "{header}");
                }
                let body: Value = answer.json().await.expect("JSON");
                assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
            }
        }

        // Accept: each media type is answered as itself, no Accept and a
        // wildcard as application/json, and one it cannot answer is 406.
        for (accept, expected) in [
            (Some("application/graphql-response+json"), "application/graphql-response+json"),
            (Some("application/json"), "application/json"),
            (Some("*/*"), "application/json"),
            (None, "application/json"),
        ] {
            let mut request = app.client.post(&url).json(&json!({ "query": "{ __typename }" }));
            if let Some(accept) = accept {
                request = request.header("accept", accept);
            }
            let answer = request.send().await.expect("answer");
            assert_eq!(answer.status().as_u16(), 200, "{accept:?}");
            assert_eq!(answer.headers()["content-type"], expected, "{accept:?}");
        }
        let refused = app.client.post(&url).header("accept", "text/html").json(&json!({ "query": "{ __typename }" })).send().await.expect("answer");
        assert_eq!(refused.status().as_u16(), 406);

        // A request error: no `data`; 400 in the GraphQL response type, 200 in JSON.
        for (accept, status) in [("application/graphql-response+json", 400), ("application/json", 200)] {
            for query in ["{", "{ noSuchField }", "query($n: Int!) { __typename }"] {
                let answer = app.client.post(&url).header("accept", accept).json(&json!({ "query": query })).send().await.expect("answer");
                assert_eq!(answer.status().as_u16(), status, "{accept} {query}");
                let body: Value = answer.json().await.expect("JSON");
                assert!(body.get("data").is_none(), "{accept} {query}: {body}");
                assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{body}");
            }
        }
        // A field error is not a request error: 200 and `data`, in either type.
        let answer = app.client.post(&url).header("accept", "application/graphql-response+json").json(&json!({ "query": "{ me { id } }" })).send().await.expect("answer");
        assert_eq!(answer.status().as_u16(), 200);
        let body: Value = answer.json().await.expect("JSON");
        assert!(body.get("data").is_some(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
        app.stop().await;
    }
}
