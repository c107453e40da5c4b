//! What the log accepted never stops the read models, a row they cannot read
//! is reported by its position, and writes come back after a full disk
//! (issue 13).

use std::process::Command;
use std::time::{Duration, Instant};

use advice_log::domain::proposal::ProposalId;
use advice_log::store::{Append, EventData, ExpectedVersion};
use serde_json::json;
use sqlx::Connection;

use crate::hostile::Team;
use crate::on_both_backends;
use crate::support::{error_code, TestDb};

on_both_backends! {
    async fn text_the_log_accepted_never_stops_the_read_models(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let (_, body) = team.raise(json!({})).await;
        let id = body["data"]["raiseProposal"]["proposal"]["id"].as_str().expect("raised").to_string();
        // The same event as that raise, for a new proposal whose title and
        // body hold NUL and other control characters, written straight into
        // the log as an older server (or another writer) might have.
        let raised = team
            .app
            .store
            .read_stream(&format!("proposal-{id}"))
            .await
            .expect("the proposal's stream")
            .remove(0);
        let mut payload = raised.payload.clone();
        payload["title"] = json!("a\u{0}b");
        payload["body"] = json!("bell\u{7} and NUL\u{0} and escape\u{1b}");
        let forged = ProposalId(uuid::Uuid::new_v4());
        let appended = team
            .app
            .store
            .append(Append::to_stream(
                forged.stream(),
                ExpectedVersion::NoStream,
                vec![EventData {
                    event_id: uuid::Uuid::new_v4(),
                    event_type: raised.event_type.clone(),
                    schema_version: raised.schema_version,
                    payload,
                    metadata: raised.metadata.clone(),
                }],
            ))
            .await
            .expect("the log accepts it");
        assert!(
            team.app.app.wait_for(appended.last_position(), Duration::from_secs(10)).await,
            "the read models apply it: {:?}",
            team.app.app.projector.stall()
        );
        assert_eq!(team.app.readyz().await.0, 200);
        let read = team
            .app
            .ok(
                &team.member,
                "query($id: ID!, $t: ID!) { proposal(id: $id) { title } \
                 team(id: $t) { proposals(first: 10) { edges { node { title } } } } }",
                json!({ "id": forged.0.to_string(), "t": team.team }),
            )
            .await;
        assert_eq!(read["proposal"]["title"], "a\u{0}b");
        assert_eq!(read["team"]["proposals"]["edges"].as_array().map(Vec::len), Some(2));
        // And the log goes on: a later mutation is applied at once.
        let (_, body) = team.raise(json!({ "title": "After" })).await;
        let position = body["data"]["raiseProposal"]["position"].as_u64().expect("position");
        assert!(team.app.app.wait_for(position, Duration::from_secs(5)).await);
    }
}

/// Writes a row the read models cannot read (its payload holds a lone UTF-16
/// surrogate, which JSON parsers refuse) straight into the log, after the
/// last one. Answers its position.
async fn write_unreadable_row(db: &TestDb, after: u64) -> u64 {
    let position = i64::try_from(after + 1).expect("position");
    let stream = ProposalId(uuid::Uuid::new_v4()).stream();
    let payload = r#"{"title":"\ud800"}"#;
    let sql = "INSERT INTO events (position, event_id, stream_id, stream_version, event_type, \
               schema_version, payload, metadata, recorded_at, leaf_hash) VALUES ";
    let id = uuid::Uuid::new_v4();
    let hash = vec![7u8; 32];
    match db.raw_url() {
        url if url.starts_with("sqlite") => {
            let mut connection = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query(&format!(
                "{sql} (?, ?, ?, 1, 'ProposalRaised', 1, ?, '{{}}', ?, ?)"
            ))
            .bind(position)
            .bind(id.to_string())
            .bind(&stream)
            .bind(payload)
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(hash)
            .execute(&mut connection)
            .await
            .expect("insert");
        }
        url => {
            let mut connection = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query(&format!(
                "{sql} ($1, $2, $3, 1, 'ProposalRaised', 1, $4::json, '{{}}'::json, now(), $5)"
            ))
            .bind(position)
            .bind(id)
            .bind(&stream)
            .bind(payload)
            .bind(hash)
            .execute(&mut connection)
            .await
            .expect("insert");
        }
    }
    after + 1
}

on_both_backends! {
    async fn a_row_the_read_models_cannot_read_is_reported_by_its_position(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        assert_eq!(team.app.readyz().await.0, 200);
        let head = team.app.store.head().await.expect("head");
        let bad = write_unreadable_row(&db, head).await;
        let (status, body) = team.app.ready_becomes(503, Duration::from_secs(10)).await;
        assert_eq!(status, 503, "{body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(&format!("position {bad}")), "{reason}");
        let metrics = team
            .app
            .client
            .get(format!("{}/metrics", team.app.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        assert!(
            metrics.contains(&format!("advice_log_projector_stalled_position {bad}")),
            "{metrics}"
        );
    }
}

/// A tmpfs of `size` mounted on a new folder, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "this test mounts a small tmpfs to fill it, which needs root (CI runs as root)"
        );
        SmallDisk { dir }
    }

    /// Fills the disk with a file, until it refuses more.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).and_then(|_| file.flush()).is_ok() {}
        // Whatever fits in smaller pieces, too.
        while file
            .write_all(&chunk[..512])
            .and_then(|_| file.flush())
            .is_ok()
        {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status()
            .ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writes_recover_once_a_full_disk_has_room_again() {
    let disk = SmallDisk::mount("6m");
    let db = TestDb::sqlite_at(&disk.dir.path().join("advice-log.db"));
    let team = Team::new(&db).await;
    let filler = disk.fill();
    // Appends fail once the log's file cannot grow (the first few may still
    // fit in pages SQLite already has).
    let body = "x".repeat(20_000);
    let mut failed = 0;
    for _ in 0..200 {
        let (_, answer) = team.raise(json!({ "body": body })).await;
        if answer.get("errors").is_some() {
            assert_eq!(error_code(&answer), Some("INTERNAL"), "{answer}");
            failed += 1;
            if failed == 3 {
                break;
            }
        }
    }
    assert_eq!(failed, 3, "appends fail on a full disk");
    let (status, body) = team.app.readyz().await;
    assert_eq!(status, 503, "readiness says appends fail: {body}");

    std::fs::remove_file(filler).expect("free the space");
    let freed = Instant::now();
    let (status, body) = team.app.ready_becomes(200, Duration::from_secs(10)).await;
    assert_eq!(status, 200, "ready again: {body}");
    let mut succeeded = 0;
    for i in 0..10 {
        let (_, answer) = team
            .raise(json!({ "title": format!("After the disk filled {i}") }))
            .await;
        if answer.get("errors").is_none() {
            succeeded += 1;
        }
    }
    let recovered = freed.elapsed();
    assert_eq!(succeeded, 10, "every write after space returned succeeds");
    eprintln!("recovered in {recovered:?} after space returned");
    let head = team.app.store.head().await.expect("head");
    assert!(
        team.app.app.wait_for(head, Duration::from_secs(10)).await,
        "read models catch up"
    );
}
