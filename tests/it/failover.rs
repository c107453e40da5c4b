//! Fenced checkpoints and leader failover (issue 15): a deposed leader
//! stores no checkpoint, a size is never signed twice with different notes,
//! and real `advice-log serve` processes on one PostgreSQL database survive
//! the leader's `kill -9` with read-your-writes intact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use advice_log::store::leader::Leadership;
use advice_log::store::{StoreError, StoredCheckpoint};
use serde_json::{json, Value};
use sqlx::Connection;

use crate::hostile::Team;
use crate::on_both_backends;
use crate::support::{served_url, TestApp, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_advice-log");

/// A checkpoint of `size` with a made-up note (the store does not read it).
fn checkpoint(size: u64, note: &str) -> StoredCheckpoint {
    StoredCheckpoint {
        tree_size: size,
        root: [7; 32],
        note: note.to_string(),
        issued_at: chrono::Utc::now(),
    }
}

on_both_backends! {
    async fn a_size_takes_one_note_the_same_one_again_but_no_other(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        store.store_checkpoint(&checkpoint(3, "first\n")).await.expect("stored");
        store.store_checkpoint(&checkpoint(3, "first\n")).await.expect("the same note again is fine");
        let refused = store.store_checkpoint(&checkpoint(3, "second\n")).await;
        assert!(
            matches!(refused, Err(StoreError::CheckpointDiffers { tree_size: 3 })),
            "{refused:?}"
        );
        let stored = store.checkpoints().await.expect("checkpoints");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].note, "first\n", "the stored note is kept");
        store.close().await;
    }
}

/// Waits up to `within` for `lead` to say it leads (or not).
async fn leads(lead: &Leadership, want: bool, within: Duration) -> bool {
    let mut changes = lead.subscribe();
    tokio::time::timeout(within, changes.wait_for(|l| *l == want))
        .await
        .is_ok_and(|r| r.is_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_deposed_leader_stores_no_checkpoint_and_the_new_one_does() {
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    let store = db.store().await;
    let options: sqlx::postgres::PgConnectOptions = db.raw_url().parse().expect("options");
    let first = Leadership::by_advisory_lock(options.clone());
    assert!(
        leads(&first, true, Duration::from_secs(5)).await,
        "the first takes the lead"
    );
    let second = Leadership::by_advisory_lock(options);
    tokio::time::sleep(advice_log::store::leader::POLL * 2).await;
    assert!(!second.is_leader(), "one leader at a time");

    // Only the leader stores; the same note again is fine, another is not.
    let refused = second
        .store_checkpoint(store.as_ref(), &checkpoint(1, "one\n"))
        .await;
    assert!(matches!(refused, Err(StoreError::NotLeader)), "{refused:?}");
    first
        .store_checkpoint(store.as_ref(), &checkpoint(1, "one\n"))
        .await
        .expect("the leader stores");
    first
        .store_checkpoint(store.as_ref(), &checkpoint(1, "one\n"))
        .await
        .expect("the same note again");
    let differs = first
        .store_checkpoint(store.as_ref(), &checkpoint(1, "another\n"))
        .await;
    assert!(
        matches!(differs, Err(StoreError::CheckpointDiffers { tree_size: 1 })),
        "{differs:?}"
    );

    // The leader's session ends behind its back (as when its connection
    // drops): it still believes it leads, but what it asks now is refused.
    let mut owner = sqlx::PgConnection::connect(db.raw_url())
        .await
        .expect("connect as owner");
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks \
         WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295)",
    )
    .bind(0x6164_7669_6365_4c64_i64)
    .fetch_all(&mut owner)
    .await
    .expect("terminate the leader's session");
    assert_eq!(terminated, vec![true], "one session held the lead");
    assert!(first.is_leader(), "the deposed leader has not noticed yet");
    let deposed = first
        .store_checkpoint(store.as_ref(), &checkpoint(2, "two, deposed\n"))
        .await;
    assert!(matches!(deposed, Err(StoreError::NotLeader)), "{deposed:?}");
    assert!(!first.is_leader(), "it knows now");
    assert_eq!(
        store.checkpoints().await.expect("checkpoints").len(),
        1,
        "the deposed leader stored nothing"
    );

    // The lead is free again: one of the two takes it (the deposed one may,
    // on a new session) and stores; the other cannot.
    let started = Instant::now();
    while !(first.is_leader() || second.is_leader()) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "someone leads within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "a new leader {:?} after the old session ended",
        started.elapsed()
    );
    let (leader, follower) = if first.is_leader() {
        (&first, &second)
    } else {
        (&second, &first)
    };
    leader
        .store_checkpoint(store.as_ref(), &checkpoint(2, "two\n"))
        .await
        .expect("the new leader stores");
    tokio::time::sleep(advice_log::store::leader::POLL * 2).await;
    assert!(!follower.is_leader(), "still one leader");
    let late = follower
        .store_checkpoint(store.as_ref(), &checkpoint(3, "three, late\n"))
        .await;
    assert!(matches!(late, Err(StoreError::NotLeader)), "{late:?}");
    // A stopped leadership stores nothing either.
    leader.stop();
    let stopped = leader
        .store_checkpoint(store.as_ref(), &checkpoint(3, "three, stopped\n"))
        .await;
    assert!(matches!(stopped, Err(StoreError::NotLeader)), "{stopped:?}");
    let notes: Vec<(u64, String)> = store
        .checkpoints()
        .await
        .expect("checkpoints")
        .into_iter()
        .map(|c| (c.tree_size, c.note))
        .collect();
    assert_eq!(notes, vec![(1, "one\n".into()), (2, "two\n".into())]);
    follower.stop();
    owner.close().await.ok();
    store.close().await;
}

/// `advice-log serve` as a process of its own on the test database, as the
/// application role, with the shared signing key and a checkpoint folder.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Served {
    /// Starts a server.
    pub fn start(db: &TestDb, key: &Path, checkpoints: &Path) -> Served {
        Self::start_with(db, key, checkpoints, &[])
    }

    /// Starts a server with more arguments to `serve`.
    pub fn start_with(db: &TestDb, key: &Path, checkpoints: &Path, more: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--checkpoint-every-seconds",
                "1",
                "--checkpoint-every-events",
                "5",
            ])
            .args(more)
            .env("DATABASE_URL", db.app_url())
            .env("ADVICE_LOG_DATA_KEY", db.data_key())
            .env("ADVICE_LOG_SIGNING_KEY", key)
            .env("ADVICE_LOG_CHECKPOINT_DIR", checkpoints)
            .env("ADVICE_LOG_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start advice-log serve");
        let (url, lines) = served_url(&mut child);
        // Keep reading what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served { child, url }
    }

    /// Whether `/metrics` says this server leads (`None`: no answer).
    async fn leads(&self, client: &reqwest::Client) -> Option<bool> {
        leads_at(client, &self.url).await
    }

    /// Stops the process with SIGKILL: no clean-up of any kind.
    pub fn kill(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Posts a GraphQL request to `url` as `token`, with
/// `Advice-Log-Min-Position` when given; answers the status and body.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
    min_position: Option<u64>,
) -> (u16, Value) {
    let mut request = client
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(15))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(position) = min_position {
        request = request.header("advice-log-min-position", position.to_string());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON, not {text:?}: {e}"));
    (status, body)
}

pub const RAISE: &str =
    "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id } position } }";
const READ: &str = "query($p: ID!) { proposal(id: $p) { id title } }";
const LIST: &str = "query($t: ID!) { team(id: $t) { proposals(first: 200) { edges { node { id title advisers { nodes { id } } } } }
    stats { proposalsRaised decisionsMade } } }";

/// Raises a proposal on `writer`, then reads it on `reader` at once with the
/// write's position (read-your-writes); answers the position.
async fn write_and_read(
    client: &reqwest::Client,
    writer: &str,
    reader: &str,
    team: &Team2,
    title: &str,
) -> u64 {
    let input = json!({"i": {"teamId": team.team, "title": title, "body": "Swap nights.", "rule": "ADVICE"}});
    let (status, raised) = post(client, writer, &team.member, RAISE, input, None).await;
    assert!(
        status == 200 && raised.get("errors").is_none(),
        "the write answers: {status} {raised}"
    );
    let id = raised["data"]["raiseProposal"]["proposal"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let position = raised["data"]["raiseProposal"]["position"]
        .as_u64()
        .expect("position");
    let (status, read) = post(
        client,
        reader,
        &team.member,
        READ,
        json!({"p": id}),
        Some(position),
    )
    .await;
    assert_eq!(status, 200, "read-your-writes answers: {read}");
    assert_eq!(
        read["data"]["proposal"]["title"].as_str(),
        Some(title),
        "the read sees the write: {read}"
    );
    position
}

/// The tokens and team the processes are driven with.
struct Team2 {
    member: String,
    team: String,
}

/// Every note in a checkpoint folder, by tree size (`<size>.txt`).
fn folder_notes(dir: &Path) -> BTreeMap<u64, String> {
    std::fs::read_dir(dir)
        .expect("the checkpoint folder")
        .map(|entry| entry.expect("entry").path())
        .filter_map(|path| {
            let size = path.file_stem()?.to_str()?.parse::<u64>().ok()?;
            Some((size, std::fs::read_to_string(&path).expect("note")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_9_the_leader_and_the_other_server_takes_over() {
    const ROUNDS: usize = 3;
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    // The organisation, made through an in-process server that then stops.
    let team = Team::new(&db).await;
    let Team {
        app, member, team, ..
    } = team;
    app.stop().await;
    let team = Team2 { member, team };

    let files = tempfile::tempdir().expect("dir");
    let key = files.path().join("signing.key");
    advice_log::assurance::keys::LogKey::load_or_create(&key).expect("the log's key");
    let folders: [PathBuf; 2] = [files.path().join("a"), files.path().join("b")];
    let mut servers = [
        Served::start(&db, &key, &folders[0]),
        Served::start(&db, &key, &folders[1]),
    ];
    let client = reqwest::Client::new();
    let store = db.store().await;
    let mut failovers = Vec::new();
    let mut written = 0;
    for round in 0..ROUNDS {
        // Writes alternate, each read at once on the other server.
        for n in 0..8 {
            let (writer, reader) = (&servers[n % 2], &servers[(n + 1) % 2]);
            write_and_read(
                &client,
                &writer.url,
                &reader.url,
                &team,
                &format!("Rota {round}.{n}"),
            )
            .await;
            written += 1;
        }
        // The leader signs what was written.
        let head = store.head().await.expect("head");
        checkpoint_covers(store.as_ref(), head).await;
        // Exactly one leads.
        let mut leading = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            leading.clear();
            for server in &servers {
                leading.push(server.leads(&client).await);
            }
            if leading.iter().filter(|l| **l == Some(true)).count() == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "one leader: {leading:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let dead = leading
            .iter()
            .position(|l| *l == Some(true))
            .expect("leader");
        let alive = 1 - dead;
        servers[dead].kill();
        let killed = Instant::now();
        // Watch the survivor take the lead while writing to it.
        let survivor = servers[alive].url.clone();
        let watcher = {
            let client = client.clone();
            let url = survivor.clone();
            tokio::spawn(async move { takes_lead(&client, &url, killed).await })
        };
        for n in 0..8 {
            write_and_read(
                &client,
                &survivor,
                &survivor,
                &team,
                &format!("After {round}.{n}"),
            )
            .await;
            written += 1;
        }
        let took = watcher.await.expect("watcher").unwrap_or_else(|| {
            panic!("the survivor leads within 10 s of the kill (round {round})")
        });
        eprintln!("round {round}: the survivor led {took:?} after the leader's kill -9");
        failovers.push(took);
        // The killed server comes back with its own folder, as a follower.
        servers[dead] = Served::start(&db, &key, &folders[dead]);
    }
    failovers.sort();
    eprintln!(
        "failover (kill -9 to the survivor leading) over {ROUNDS} rounds: min {:?}, max {:?}",
        failovers[0],
        failovers[ROUNDS - 1]
    );

    // Both answer the list alike once their read models reached the head.
    let head = store.head().await.expect("head");
    let mut answers = Vec::new();
    for server in &servers {
        let (status, body) = post(
            &client,
            &server.url,
            &team.member,
            LIST,
            json!({"t": team.team}),
            Some(head),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1], "both servers answer alike");
    let stats = &answers[0]["data"]["team"]["stats"];
    assert_eq!(stats["proposalsRaised"], written, "{stats}");

    // A checkpoint covers the head, then the servers stop (kill -9 again).
    checkpoint_covers(store.as_ref(), head).await;
    for server in &mut servers {
        server.kill();
    }

    // No size was signed twice with different notes: each folder's note is
    // the stored one of its size, and the stored ones are all the log's.
    let stored: BTreeMap<u64, String> = store
        .checkpoints()
        .await
        .expect("checkpoints")
        .into_iter()
        .map(|c| (c.tree_size, c.note))
        .collect();
    let mut in_folders = 0;
    for folder in &folders {
        let notes = folder_notes(folder);
        eprintln!(
            "{}: {} notes (sizes {:?}); the database holds {}",
            folder.display(),
            notes.len(),
            notes.keys().collect::<Vec<_>>(),
            stored.len()
        );
        for (size, note) in notes {
            assert_eq!(
                stored.get(&size),
                Some(&note),
                "{} holds size {size}",
                folder.display()
            );
            in_folders += 1;
        }
    }
    assert!(
        in_folders >= ROUNDS,
        "the folders hold the checkpoints: {in_folders}"
    );
    let verified = Command::new(BIN)
        .args(["verify", "--trusted-checkpoint"])
        .arg(&folders[0])
        .arg("--trusted-checkpoint")
        .arg(&folders[1])
        .env("DATABASE_URL", db.raw_url())
        .env("ADVICE_LOG_DATA_KEY", db.data_key())
        .env("ADVICE_LOG_SIGNING_KEY", &key)
        .output()
        .expect("run advice-log verify");
    assert!(
        verified.status.success(),
        "verify passes: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );

    // The shared read models equal a rebuild from the log, and so do the
    // answers of a server on the rebuilt ones.
    db.assert_views_equal_a_rebuild().await;
    let fresh = TestApp::spawn(&db).await;
    let (status, rebuilt_answer) = post(
        &client,
        &fresh.base,
        &team.member,
        LIST,
        json!({"t": team.team}),
        Some(head),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        rebuilt_answer, answers[0],
        "the survivors answered as a rebuild does"
    );
    fresh.stop().await;
    store.close().await;
}

/// Whether `url`'s `/metrics` says it leads (`None`: no answer).
async fn leads_at(client: &reqwest::Client, url: &str) -> Option<bool> {
    let text = client
        .get(format!("{url}/metrics"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("advice_log_leader "))
        .map(|value| value.trim() == "1")
}

/// Polls `url`'s `/metrics` until it says it leads; answers how long after
/// `since` that was (`None` after 10 s).
async fn takes_lead(client: &reqwest::Client, url: &str, since: Instant) -> Option<Duration> {
    while since.elapsed() < Duration::from_secs(10) {
        if leads_at(client, url).await == Some(true) {
            return Some(since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// Waits (at most 10 s) until a stored checkpoint covers `head` events.
async fn checkpoint_covers(store: &dyn advice_log::store::EventStore, head: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while store
        .latest_checkpoint()
        .await
        .expect("latest")
        .map_or(0, |c| c.tree_size)
        < head
    {
        assert!(
            Instant::now() < deadline,
            "a checkpoint covers {head} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
