//! The web app in a real browser: Debian's Chromium, driven by
//! playwright-core, walks the journeys of `tests/browser/journeys/` against
//! the real server loaded with the demo, on each backend; axe-core checks
//! every page visited (WCAG 2.2 A and AA) and each page is saved as a
//! screenshot under `target/journeys/<backend>/`. Needs Debian's
//! `chromium` and `tests/browser`'s npm packages (`scripts/test` installs
//! both); it fails, never skips, when they are missing.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

on_both_backends! {
    async fn every_journey_works_in_chromium_with_no_accessibility_violation(backend: Backend) {
        let db = TestDb::new(backend).await;
        let clock = advice_log::demo::demo_clock();
        let app = TestApp::spawn_with_clock(&db, clock.clone()).await;
        let tokens = advice_log::demo::load(&app.app, &clock, &|_| {}).await.expect("the demo loads");
        clock.advance(chrono::Utc::now() - advice_log::app::Clock::now(&*clock));
        let head = app.store.head().await.expect("head");
        assert!(app.app.wait_for(head, Duration::from_secs(10)).await);
        // As `serve` does, tell people by e-mail (a real SMTP server): the
        // demo's notifications, then the journeys'.
        let smtp = crate::smtp::SmtpServer::start();
        let mut notify = advice_log::notify::Settings::new(&app.base, chrono_tz::Europe::London);
        notify.smtp_url = Some(smtp.url());
        notify.tick = Duration::from_millis(200);
        let _notifications = advice_log::notify::Notifications::start(app.app.clone(), notify)
            .expect("notifications start");
        smtp.wait_for(1, Duration::from_secs(30)).await;
        // As `serve` does within a second of any append: sign a checkpoint.
        let assurance = app.app.assurance.clone().expect("the test server signs checkpoints");
        assurance.issue(chrono::Utc::now()).await.expect("a checkpoint");

        let dir = tempfile::tempdir().expect("temp dir");
        let people_file = dir.path().join("people.json");
        let people: Vec<serde_json::Value> = tokens
            .people
            .iter()
            .map(|p| {
                let token = if p.role == "ADMIN" { tokens.admin.clone() } else { p.token.clone() };
                json!({ "name": p.name, "role": p.role, "team": p.team, "token": token })
            })
            .collect();
        std::fs::write(&people_file, serde_json::to_vec(&people).expect("json")).expect("write people");
        let shots = format!("{}/target/journeys/{}", env!("CARGO_MANIFEST_DIR"), backend);
        let _ = std::fs::remove_dir_all(&shots);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/journeys.mjs");
        let base = app.base.clone();
        // While the journeys act, keep signing checkpoints as `serve` does
        // within a second of any append, so what they record is proven too.
        let signer = {
            let assurance = assurance.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let _ = assurance.issue(chrono::Utc::now()).await;
                }
            })
        };
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .args([script, &base, people_file.to_str().expect("utf-8 path"), &shots])
                .output()
        })
        .await
        .expect("join")
        .expect("node runs (install Node.js; scripts/test installs the rest)");
        signer.abort();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let results: Vec<serde_json::Value> = stdout
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        assert!(
            output.status.success() && !results.is_empty(),
            "a journey failed or axe found violations:\n{}\n{}",
            results.iter().map(|r| serde_json::to_string_pretty(r).unwrap_or_default()).collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&output.stderr)
        );
        for result in &results {
            assert_eq!(result["ok"], true, "{result}");
            assert!(result["pages"].as_array().is_some_and(|p| !p.is_empty()), "the journey visited pages: {result}");
            assert_eq!(result["violations"], json!([]), "{result}");
        }
        app.stop().await;
    }
}
