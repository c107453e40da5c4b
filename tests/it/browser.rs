//! A real browser: headless Chromium opens GraphiQL from the running server
//! (its scripts are served locally, so no network is needed) and runs a query.
//! Needs Debian's `chromium` and `tests/browser`'s npm packages; `scripts/test`
//! installs both. It fails, never skips, when they are missing.

use std::process::Command;

use serde_json::json;

use crate::support::{TestApp, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_in_headless_chromium() {
    let db = TestDb::new(advice_log::store::Backend::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let (_, admin) = app.bootstrap().await;
    app.ok(
        &admin,
        "mutation { formTeam(input: {name: \"North Station\"}) { position } }",
        json!({}),
    )
    .await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/graphiql.mjs");
    let url = format!("{}/graphiql", app.base);
    let token = admin.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args([
                script,
                &url,
                &token,
                "{ me { orgRole } teams { edges { node { name } } } }",
            ])
            .output()
    })
    .await
    .expect("join")
    .expect("node runs (install Node.js; scripts/test installs the rest)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser run failed: {}\n{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&stdout).expect("GraphiQL's response panel holds JSON");
    assert_eq!(result["data"]["me"]["orgRole"], "ADMIN");
    assert_eq!(
        result["data"]["teams"]["edges"][0]["node"]["name"],
        "North Station"
    );
    app.stop().await;
}
