//! The `advice-log` binary itself: bootstrap, tokens, migrate, and serve with
//! a clean stop on SIGTERM.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_advice-log");

fn run(db: &TestDb, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db.raw_url())
        .env("ADVICE_LOG_DATA_KEY", db.data_key())
        .env("ADVICE_LOG_LOG", "warn")
        .output()
        .expect("run advice-log")
}

fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// Waits (a little) until the server has seen what another process wrote.
async fn eventually_status(app: &TestApp, token: &str, want: u16) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = app
            .graphql_as(Some(token), "{ me { id } }", json!({}))
            .await;
        if status == want || Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends! {
    async fn bootstrap_and_tokens_from_the_command_line(backend: Backend) {
        let db = TestDb::new(backend).await;
        let migrated = run(&db, &["migrate"]);
        assert!(migrated.status.success(), "{migrated:?}");

        let boot = run(&db, &["bootstrap", "--name", "Ada Admin", "--email", "ada@example.org"]);
        assert!(boot.status.success(), "{boot:?}");
        let token = last_line(&boot);
        assert!(token.starts_with("al_"), "the token is alone on the last line: {token:?}");

        let again = run(&db, &["bootstrap", "--name", "Eve", "--email", "eve@example.org"]);
        assert!(!again.status.success(), "a second bootstrap is refused");
        assert!(String::from_utf8_lossy(&again.stderr).contains("an admin already exists"), "{again:?}");

        let app = TestApp::spawn(&db).await;
        let me = app.ok(&token, "{ me { id orgRole } }", json!({})).await;
        assert_eq!(me["me"]["orgRole"], "ADMIN");
        let admin_id = me["me"]["id"].as_str().expect("id").to_string();

        let created = run(&db, &["token", "create", "--person", &admin_id]);
        assert!(created.status.success(), "{created:?}");
        let second = last_line(&created);
        assert!(second.starts_with("al_") && second != token);
        assert_eq!(eventually_status(&app, &second, 200).await, 200);

        let revoked = run(&db, &["token", "revoke", "--id", &second]);
        assert!(revoked.status.success(), "{revoked:?}");
        assert_eq!(eventually_status(&app, &second, 401).await, 401, "a revoked token stops working");
        assert_eq!(eventually_status(&app, &token, 200).await, 200, "the other token still works");

        app.stop().await;
        let rebuilt = run(&db, &["rebuild"]);
        assert!(rebuilt.status.success(), "{rebuilt:?}");
        assert!(String::from_utf8_lossy(&rebuilt.stdout).contains("rebuilt the read models from"), "{rebuilt:?}");
        let app = TestApp::spawn(&db).await;

        let unknown = run(&db, &["token", "create", "--person", &uuid::Uuid::new_v4().to_string()]);
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("NOT_FOUND"), "{unknown:?}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn serve_answers_and_stops_cleanly_on_sigterm(backend: Backend) {
        let db = TestDb::new(backend).await;
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
        let (url, lines) = crate::support::served_url(&mut child);
        assert!(keys.path().join("signing.key").exists(), "the signing key is created on first start");
        let body: serde_json::Value = reqwest::Client::new()
            .post(format!("{url}/graphql"))
            .json(&json!({"query": "{ __typename }"}))
            .send().await.expect("request")
            .json().await.expect("JSON");
        assert_eq!(body, json!({"data": {"__typename": "Query"}}));

        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
        assert!(killed.success());
        let status = child.wait().expect("wait");
        assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        assert!(rest.iter().any(|l| l.contains("stopped cleanly")), "{rest:?}");
    }
}

on_both_backends! {
    async fn verify_export_and_verify_bundle_from_the_command_line(backend: Backend) {
        let db = TestDb::new(backend).await;
        let keys = tempfile::tempdir().expect("dir");
        let key_path = keys.path().join("signing.key");
        let (key, _) = advice_log::assurance::keys::LogKey::load_or_create(&key_path).expect("key");
        let with_key = |args: &[&str]| {
            Command::new(BIN)
                .args(args)
                .env("DATABASE_URL", db.raw_url())
                .env("ADVICE_LOG_DATA_KEY", db.data_key())
                .env("ADVICE_LOG_SIGNING_KEY", &key_path)
                .env("ADVICE_LOG_LOG", "warn")
                .output()
                .expect("run advice-log")
        };
        assert!(with_key(&["bootstrap", "--name", "Ada", "--email", "ada@example.org"]).status.success());
        let checkpoint = with_key(&["checkpoint"]);
        assert!(checkpoint.status.success(), "{checkpoint:?}");
        assert!(String::from_utf8_lossy(&checkpoint.stdout).contains(&format!("{}\n3\n", key.name())));

        let verified = with_key(&["verify"]);
        assert!(verified.status.success(), "{verified:?}");
        assert!(String::from_utf8_lossy(&verified.stdout).contains("verified: 3 events"), "{verified:?}");

        let out = tempfile::tempdir().expect("dir");
        let bundle = out.path().join("bundle");
        let exported = with_key(&["export", "--all", "--out", bundle.to_str().expect("path")]);
        assert!(exported.status.success(), "{exported:?}");
        let checked = Command::new(BIN).args(["verify-bundle", bundle.to_str().expect("path"), "--public-key", &key.verifier().encode()]).output().expect("run");
        assert!(checked.status.success(), "{checked:?}");
        assert!(String::from_utf8_lossy(&checked.stdout).contains("bundle verified"));

        // Tamper with the log; verify names the position and fails. (Ada's
        // name is sealed, so the stored payload has no "Ada" to change: her
        // role is changed instead.)
        let sql = match backend {
            Backend::Sqlite => vec!["DROP TRIGGER events_refuse_update", "UPDATE events SET payload = replace(payload, 'ADMIN', 'AUDITOR') WHERE position = 1"],
            Backend::Postgres => vec!["DROP TRIGGER events_refuse_update_delete ON events", "UPDATE events SET payload = replace(payload::text, 'ADMIN', 'AUDITOR')::json WHERE position = 1"],
        };
        match backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(db.raw_url()).await.expect("connect");
                for s in &sql { sqlx::query(s).execute(&pool).await.expect("tamper"); }
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(db.raw_url()).await.expect("connect");
                for s in &sql { sqlx::query(s).execute(&pool).await.expect("tamper"); }
                pool.close().await;
            }
        }
        let failed = with_key(&["verify"]);
        assert!(!failed.status.success());
        assert!(String::from_utf8_lossy(&failed.stderr).contains("FAILED at position 1"), "{failed:?}");
    }
}
