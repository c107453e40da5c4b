//! Issue 13, point 5: someone who can write the database must not rewrite
//! history unseen. Checkpoints leave the database (`--checkpoint-dir`),
//! follow an append within a second, and `verify --trusted-checkpoint`
//! proves today's log extends them; on PostgreSQL the server runs as a role
//! that may only read and append.
//!
//! The attacks run as someone with the database's owner rights (SQLite:
//! the file; PostgreSQL: the owner role) who also knows to recompute leaf
//! hashes and to delete the stored checkpoints, so the stored log is
//! self-consistent and plain `verify` passes: only checkpoints kept out of
//! the database's reach can tell.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use advice_log::store::canonical::{canonical_json, event_leaf_hash, format_time};
use advice_log::store::{Backend, RecordedEvent};
use serde_json::json;

use crate::on_both_backends;
use crate::support::{TestDb, APP_ROLE};

const BIN: &str = env!("CARGO_BIN_EXE_advice-log");

/// A database, a signing key and a checkpoint folder, driven through the
/// real binary.
struct Setup {
    db: TestDb,
    backend: Backend,
    _keys: tempfile::TempDir,
    key: PathBuf,
    out: tempfile::TempDir,
    dir: PathBuf,
}

impl Setup {
    /// Migrates as the owner and grants the application role (PostgreSQL).
    async fn new(backend: Backend) -> Setup {
        let db = TestDb::new(backend).await;
        let keys = tempfile::tempdir().expect("dir");
        let out = tempfile::tempdir().expect("dir");
        let setup = Setup {
            db,
            backend,
            key: keys.path().join("signing.key"),
            _keys: keys,
            dir: out.path().join("checkpoints"),
            out,
        };
        advice_log::assurance::keys::LogKey::load_or_create(&setup.key).expect("signing key");
        let migrated = match backend {
            Backend::Sqlite => setup.owner(&["migrate"]),
            Backend::Postgres => setup.owner(&["migrate", "--grant-to", APP_ROLE]),
        };
        assert!(migrated.status.success(), "{}", text(&migrated));
        setup
    }

    fn command(&self, url: &str, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("DATABASE_URL", url)
            .env("ADVICE_LOG_SIGNING_KEY", &self.key)
            .env("ADVICE_LOG_LOG", "warn")
            .env_remove("ADVICE_LOG_CHECKPOINT_DIR");
        command
    }

    /// Runs the binary as the database's owner.
    fn owner(&self, args: &[&str]) -> Output {
        self.command(self.db.raw_url(), args)
            .output()
            .expect("run advice-log")
    }

    /// Runs the binary as the application (the least-privilege role on
    /// PostgreSQL).
    fn app(&self, args: &[&str]) -> Output {
        self.command(&self.db.app_url(), args)
            .output()
            .expect("run advice-log")
    }

    /// Issues a checkpoint into the checkpoint folder and answers its size.
    fn checkpoint(&self) -> u64 {
        let dir = self.dir.to_str().expect("path").to_string();
        let issued = self.app(&["checkpoint", "--checkpoint-dir", &dir]);
        assert!(issued.status.success(), "{}", text(&issued));
        String::from_utf8_lossy(&issued.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .expect("the note's second line is its size")
    }

    /// Appends an event (a token for the admin) as the application.
    fn append(&self, admin: &str) {
        let created = self.app(&["token", "create", "--person", admin]);
        assert!(created.status.success(), "{}", text(&created));
    }

    /// `verify` with extra arguments.
    fn verify(&self, args: &[&str]) -> Output {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        self.owner(&all)
    }

    fn verify_trusted(&self, trusted: &Path) -> Output {
        self.verify(&["--trusted-checkpoint", trusted.to_str().expect("path")])
    }

    /// Runs SQL as the owner with the append-only triggers out of the way
    /// (SQLite: dropped, as anyone with the file can; PostgreSQL: disabled,
    /// as the owner role can).
    async fn attack(&self, statements: &[String]) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(self.db.raw_url())
                    .await
                    .expect("connect");
                for sql in [
                    "DROP TRIGGER IF EXISTS events_refuse_update",
                    "DROP TRIGGER IF EXISTS events_refuse_delete",
                    "DROP TRIGGER IF EXISTS checkpoints_refuse_update",
                    "DROP TRIGGER IF EXISTS checkpoints_refuse_delete",
                ]
                .into_iter()
                .chain(statements.iter().map(String::as_str))
                {
                    sqlx::query(sql)
                        .execute(&pool)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(self.db.raw_url())
                    .await
                    .expect("connect");
                for sql in [
                    "ALTER TABLE events DISABLE TRIGGER USER",
                    "ALTER TABLE checkpoints DISABLE TRIGGER USER",
                ]
                .into_iter()
                .chain(statements.iter().map(String::as_str))
                {
                    sqlx::query(sql)
                        .execute(&pool)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                pool.close().await;
            }
        }
    }

    /// The event at `position`, read as the owner.
    async fn event(&self, position: u64) -> RecordedEvent {
        let store = self.db.store().await;
        let event = store
            .read_all(position - 1, 1)
            .await
            .expect("read")
            .pop()
            .expect("the event");
        store.close().await;
        event
    }

    /// SQL that stores `event` at its position with a leaf hash that matches
    /// its content, replacing what is there.
    fn forge(&self, event: &RecordedEvent) -> Vec<String> {
        let hex = hex::encode(event_leaf_hash(event));
        let quote = |s: &str| s.replace('\'', "''");
        let (payload, metadata) = (
            quote(&canonical_json(&event.payload)),
            quote(&canonical_json(&event.metadata)),
        );
        let (hash, json) = match self.backend {
            Backend::Sqlite => (format!("X'{hex}'"), ""),
            Backend::Postgres => (format!("'\\x{hex}'::bytea"), "::json"),
        };
        vec![
            format!("DELETE FROM events WHERE position = {}", event.position),
            format!(
                "INSERT INTO events (position, event_id, stream_id, stream_version, event_type, \
                 schema_version, payload, metadata, recorded_at, leaf_hash) VALUES \
                 ({}, '{}', '{}', {}, '{}', {}, '{payload}'{json}, '{metadata}'{json}, '{}', {hash})",
                event.position,
                event.event_id,
                quote(&event.stream_id),
                event.stream_version,
                quote(&event.event_type),
                event.schema_version,
                format_time(&event.recorded_at),
            ),
        ]
    }
}

fn text(output: &Output) -> String {
    format!(
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts `verify` failed and its message contains `want`.
fn assert_fails(output: &Output, want: &str) {
    assert!(!output.status.success(), "verify passed: {}", text(output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(want),
        "the message names {want:?}: {}",
        text(output)
    );
}

/// A log of `bootstrap` (3 events) and two more appended tokens, with
/// checkpoints at 3 and 5 in the checkpoint folder. Answers the admin's id.
async fn checkpointed(setup: &Setup) -> String {
    let bootstrap = setup.app(&["bootstrap", "--name", "Ada", "--email", "ada@example.org"]);
    assert!(bootstrap.status.success(), "{}", text(&bootstrap));
    let admin = String::from_utf8_lossy(&bootstrap.stdout)
        .split("(person ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the admin's id")
        .to_string();
    assert_eq!(setup.checkpoint(), 3);
    setup.append(&admin);
    setup.append(&admin);
    assert_eq!(setup.checkpoint(), 5);
    for size in [3, 5] {
        assert!(
            setup.dir.join(format!("{size}.txt")).is_file(),
            "the checkpoint of {size} events is in the folder"
        );
    }
    let clean = setup.verify_trusted(&setup.dir);
    assert!(clean.status.success(), "{}", text(&clean));
    admin
}

on_both_backends! {
    async fn a_rewritten_history_fails_against_the_kept_checkpoints(backend: Backend) {
        let setup = Setup::new(backend).await;
        checkpointed(&setup).await;

        // Position 4 (after the first checkpoint, covered by the second),
        // rewritten with a matching leaf hash, and every stored checkpoint
        // deleted: the stored log is self-consistent again.
        let mut event = setup.event(4).await;
        event.metadata["reason"] = json!("rewritten");
        let mut sql = setup.forge(&event);
        sql.push("DELETE FROM checkpoints".into());
        setup.attack(&sql).await;
        let plain = setup.verify(&[]);
        assert!(plain.status.success(), "without kept checkpoints nothing shows: {}", text(&plain));

        assert_fails(&setup.verify_trusted(&setup.dir), "position 5");
        assert_fails(&setup.verify_trusted(&setup.dir), "trusted checkpoint of 5 events");
        // The log still extends the first checkpoint: against it alone, only
        // its deletion from the database shows.
        let first = setup.verify_trusted(&setup.dir.join("3.txt"));
        assert_fails(&first, "the database lacks it");
        assert!(!String::from_utf8_lossy(&first.stderr).contains("rewritten"), "{}", text(&first));

        // Position 2, before the first checkpoint: named at 3.
        let mut event = setup.event(2).await;
        event.metadata["reason"] = json!("rewritten too");
        setup.attack(&setup.forge(&event)).await;
        assert_fails(&setup.verify_trusted(&setup.dir), "position 3");
        assert_fails(&setup.verify_trusted(&setup.dir.join("3.txt")), "trusted checkpoint of 3 events");
    }
}

on_both_backends! {
    async fn a_forged_event_fails_where_a_kept_checkpoint_covers_it(backend: Backend) {
        let setup = Setup::new(backend).await;
        checkpointed(&setup).await;

        // A forged row appended after every checkpoint extends the log: no
        // checkpoint can tell it from a real append (only the next one
        // would vouch for it). This is the limit of checkpoints.
        let mut forged = setup.event(5).await;
        forged.position = 6;
        forged.event_id = uuid::Uuid::new_v4();
        forged.stream_version += 1;
        forged.metadata["reason"] = json!("forged");
        setup.attack(&setup.forge(&forged)).await;
        let extended = setup.verify_trusted(&setup.dir);
        assert!(extended.status.success(), "{}", text(&extended));

        // The same forged row in place of the checkpointed event 5 (the
        // log's size unchanged at 6), stored checkpoints deleted.
        let mut sql = vec!["DELETE FROM events WHERE position = 6".to_string()];
        forged.position = 5;
        sql.extend(setup.forge(&forged));
        let mut another = forged.clone();
        another.position = 6;
        another.event_id = uuid::Uuid::new_v4();
        another.stream_version += 1;
        sql.extend(setup.forge(&another));
        sql.push("DELETE FROM checkpoints".into());
        setup.attack(&sql).await;
        let plain = setup.verify(&[]);
        assert!(plain.status.success(), "without kept checkpoints nothing shows: {}", text(&plain));
        assert_fails(&setup.verify_trusted(&setup.dir), "position 5");
        assert_fails(&setup.verify_trusted(&setup.dir), "trusted checkpoint of 5 events");
    }
}

on_both_backends! {
    async fn deleted_checkpoints_fail_against_the_checkpoint_folder(backend: Backend) {
        let setup = Setup::new(backend).await;
        checkpointed(&setup).await;
        setup.attack(&["DELETE FROM checkpoints".into()]).await;
        assert!(setup.verify(&[]).status.success());
        let failed = setup.verify_trusted(&setup.dir);
        assert_fails(&failed, "position 3");
        assert_fails(&failed, "the database lacks it");
        // Plain verify reads the folder the server writes to when it is
        // configured (`ADVICE_LOG_CHECKPOINT_DIR`, as for `serve`).
        let configured = setup
            .command(setup.db.raw_url(), &["verify"])
            .env("ADVICE_LOG_CHECKPOINT_DIR", &setup.dir)
            .output()
            .expect("run");
        assert_fails(&configured, "the database lacks it");
    }
}

on_both_backends! {
    async fn a_log_shorter_than_a_kept_checkpoint_fails(backend: Backend) {
        let setup = Setup::new(backend).await;
        checkpointed(&setup).await;
        setup
            .attack(&[
                "DELETE FROM events WHERE position > 4".into(),
                "DELETE FROM checkpoints WHERE tree_size > 4".into(),
            ])
            .await;
        assert!(setup.verify(&[]).status.success());
        let failed = setup.verify_trusted(&setup.dir);
        assert_fails(&failed, "position 5");
        assert_fails(&failed, "the log ends at 4");
        assert_fails(&setup.verify_trusted(&setup.dir.join("5.txt")), "the log ends at 4");
    }
}

on_both_backends! {
    async fn a_note_not_signed_by_the_log_key_is_refused(backend: Backend) {
        let setup = Setup::new(backend).await;
        checkpointed(&setup).await;
        let path = setup.dir.join("5.txt");
        let note = std::fs::read_to_string(&path).expect("note");
        let forged = setup.out.path().join("forged.txt");
        std::fs::write(&forged, note.replacen("\n5\n", "\n4\n", 1)).expect("write");
        assert_fails(&setup.verify_trusted(&forged), "forged.txt");
    }
}

/// A running `advice-log serve` and its URL.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(setup: &Setup, url: &str) -> Server {
        let mut child = setup
            .command(url, &["serve", "--listen", "127.0.0.1:0"])
            .env("ADVICE_LOG_CHECKPOINT_DIR", &setup.dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start advice-log serve");
        let (url, _) = crate::support::served_url(&mut child);
        Server { child, url }
    }

    async fn graphql(&self, token: &str, query: &str) -> serde_json::Value {
        reqwest::Client::new()
            .post(format!("{}/graphql", self.url))
            .bearer_auth(token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Waits up to `limit` for `path` to exist; answers how long it took.
async fn appears(path: &Path, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if path.is_file() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

on_both_backends! {
    async fn a_checkpoint_follows_an_append_within_a_second_into_the_folder(backend: Backend) {
        let setup = Setup::new(backend).await;
        let bootstrap = setup.app(&["bootstrap", "--name", "Ada", "--email", "ada@example.org"]);
        assert!(bootstrap.status.success(), "{}", text(&bootstrap));
        let token = String::from_utf8_lossy(&bootstrap.stdout).lines().last().expect("token").to_string();
        let server = Server::start(&setup, &setup.db.app_url());
        // The 3 events written before the start are checkpointed soon after it.
        assert!(appears(&setup.dir.join("3.txt"), Duration::from_secs(3)).await.is_some(), "3.txt");
        for i in 0..3 {
            let body = server
                .graphql(&token, &format!("mutation {{ registerPerson(input: {{name: \"P{i}\", email: \"p{i}@example.org\"}}) {{ position }} }}"))
                .await;
            let position = body["data"]["registerPerson"]["position"].as_u64().unwrap_or_else(|| panic!("{body}"));
            let took = appears(&setup.dir.join(format!("{position}.txt")), Duration::from_secs(5)).await;
            let took = took.unwrap_or_else(|| panic!("no checkpoint of {position} events in the folder"));
            assert!(took < Duration::from_millis(2500), "the checkpoint came {took:?} after the append (policy: 1 s)");
            let served = server.graphql(&token, "{ checkpoint { treeSize } }").await;
            assert!(served["data"]["checkpoint"]["treeSize"].as_u64() >= Some(position), "{served}");
            tokio::time::sleep(Duration::from_millis(300 * i)).await;
        }
        drop(server);
        let verified = setup.verify_trusted(&setup.dir);
        assert!(verified.status.success(), "{}", text(&verified));
    }
}

/// A PostgreSQL error's SQLSTATE.
fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_the_application_role_reads_and_appends_and_nothing_more() {
    let setup = Setup::new(Backend::Postgres).await;
    let admin = checkpointed(&setup).await;

    let app = sqlx::PgPool::connect(&setup.db.app_url())
        .await
        .expect("connect as the application role");
    for sql in [
        "DROP TRIGGER events_refuse_update_delete ON events",
        "ALTER TABLE events DISABLE TRIGGER USER",
        "ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete",
        "ALTER TABLE checkpoints DISABLE TRIGGER USER",
        "UPDATE events SET event_type = 'Forged' WHERE position = 1",
        "DELETE FROM events WHERE position = 5",
        "TRUNCATE events",
        "DELETE FROM checkpoints",
        "UPDATE checkpoints SET note = '' WHERE tree_size = 3",
        "DROP TABLE events",
        "CREATE TABLE forged (x INTEGER)",
        "DELETE FROM _sqlx_migrations",
    ] {
        let error = sqlx::query(sql).execute(&app).await.expect_err(sql);
        assert_eq!(sqlstate(&error).as_deref(), Some("42501"), "{sql}: {error}");
    }
    app.close().await;

    // The server runs as that role: a mutation through it succeeds, and
    // its checkpoint lands in the folder.
    let bootstrap = setup.app(&["token", "create", "--person", &admin]);
    assert!(bootstrap.status.success(), "{}", text(&bootstrap));
    let token = String::from_utf8_lossy(&bootstrap.stdout)
        .lines()
        .last()
        .expect("token")
        .to_string();
    let server = Server::start(&setup, &setup.db.app_url());
    let body = server
        .graphql(
            &token,
            "mutation { formTeam(input: {name: \"Night shift\"}) { position } }",
        )
        .await;
    let position = body["data"]["formTeam"]["position"]
        .as_u64()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(appears(
        &setup.dir.join(format!("{position}.txt")),
        Duration::from_secs(5)
    )
    .await
    .is_some());
    drop(server);
    let verified = setup.verify_trusted(&setup.dir);
    assert!(verified.status.success(), "{}", text(&verified));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_role_that_cannot_migrate_is_told_to_run_migrate_as_the_owner() {
    // A new database, never migrated: the application role may not create
    // the tables, and says what to do.
    let db = TestDb::new(Backend::Postgres).await;
    let output = Command::new(BIN)
        .args(["migrate"])
        .env("DATABASE_URL", db.app_url())
        .env("ADVICE_LOG_DATA_KEY", db.data_key())
        .env("ADVICE_LOG_LOG", "warn")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("advice-log migrate") && stderr.contains("owner"),
        "{stderr}"
    );

    // Migrated by the owner but nothing granted: the same advice.
    let owner = Command::new(BIN)
        .args(["migrate"])
        .env("DATABASE_URL", db.raw_url())
        .env("ADVICE_LOG_DATA_KEY", db.data_key())
        .env("ADVICE_LOG_LOG", "warn")
        .output()
        .expect("run");
    assert!(owner.status.success(), "{}", text(&owner));
    let output = Command::new(BIN)
        .args(["migrate"])
        .env("DATABASE_URL", db.app_url())
        .env("ADVICE_LOG_DATA_KEY", db.data_key())
        .env("ADVICE_LOG_LOG", "warn")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--grant-to"), "{stderr}");
}
