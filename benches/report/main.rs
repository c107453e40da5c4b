//! The benchmark report: `cargo bench --bench report -- [--quick|--full]`
//! writes BENCHMARKS.md with every number and ratio, measured side by side
//! in one run on SQLite and on the local PostgreSQL (from
//! `ADVICE_LOG_TEST_POSTGRES`, or started by `scripts/postgres-for-tests`).
//!
//! Quick mode (the default) uses logs of 10k and 50k events; full mode 10k
//! and 1M. The peers (cqrs-es with sqlite-es / postgres-es, disintegrate
//! with disintegrate-postgres) are in `peers.rs`; the server binary's
//! start-up (item 9), two servers on one PostgreSQL database (10) and leader
//! failover (11) in `servers.rs`. `--writes-only`: items 1-4 and 10-11;
//! `--logs-only`: items 5-9; `--servers-only`: items 10-11;
//! `--no-sqlite` / `--no-postgres` leave a backend out.

/// The same allocator as the server binary (`src/main.rs`), so that the
/// store-level items and item 4 are measured on equal terms.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use advice_log::app::{App, CommandMeta};
use advice_log::assurance::keys::LogKey;
use advice_log::assurance::service::Assurance;
use advice_log::assurance::tree::LogTree;
use advice_log::assurance::verify::verify_log;
use advice_log::domain::events::DomainEvent;
use advice_log::domain::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalId, Resolution, Rule, Stance,
};
use advice_log::domain::{Actor, Caller, OrgRole, PersonId, TeamId, TeamRole};
use advice_log::projection::Projector;
use advice_log::store::canonical::{canonical_json, event_bytes};
use advice_log::store::{
    Append, Backend, DatabaseUrl, EventData, EventStore, ExpectedVersion, RecordedEvent,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use uuid::Uuid;

mod pages;
mod peers;
mod servers;

struct Mode {
    name: &'static str,
    /// Items 1-4 (appends, peers, ceiling, mutations); off with `--logs-only`.
    writes: bool,
    /// Items 5-9 (page, rebuild, verify, memory, start-up); off with
    /// `--writes-only`.
    logs: bool,
    /// Items 10-11 (two servers, failover); off with `--logs-only`, alone
    /// with `--servers-only`.
    servers: bool,
    run_for: Duration,
    small: u64,
    large: u64,
    samples: usize,
}

type Team = (TeamId, Vec<PersonId>);

/// One proposal's lifecycle as commands: raise with two advice requests, two
/// pieces of advice, an objection, an amendment, its integration, and the
/// decision. Nine events in seven commands.
fn lifecycle(team: TeamId, people: &[PersonId]) -> Vec<Vec<ProposalEvent>> {
    let (a, b, c) = (people[0], people[1], people[2]);
    let objection = Uuid::new_v4();
    let requests = [Uuid::new_v4(), Uuid::new_v4()];
    vec![
        vec![
            ProposalEvent::ProposalRaised {
                owner: Owner::Team(team),
                proposer: a,
                decider: a,
                title: "Winter rota: swap Friday nights".into(),
                body: "From December the Friday night shift moves one paramedic from the day crew so nights have two double-crewed ambulances.".into(),
                rule: Rule::Consent,
                threshold_bp: None,
                advice_deadline: None,
                area: None,
                spend: None,
                review_by: None,
                eligible: people.to_vec(),
                supersedes: None,
                advice_window_hours: None,
            },
            ProposalEvent::AdviceRequested { request_id: requests[0], adviser: Adviser::Person(b), reason: AdviceReason::Affected, respond_by: None },
            ProposalEvent::AdviceRequested { request_id: requests[1], adviser: Adviser::Person(c), reason: AdviceReason::Expert, respond_by: None },
        ],
        vec![ProposalEvent::AdviceGiven { advice_id: Uuid::new_v4(), by: b, stance: Stance::Concern, text: "Handover at 19:00 clashes with the school run; 19:30 would work.".into(), answers: vec![requests[0]] }],
        vec![ProposalEvent::AdviceGiven { advice_id: Uuid::new_v4(), by: c, stance: Stance::Support, text: "Fatigue data supports two crews on Friday nights.".into(), answers: vec![requests[1]] }],
        vec![ProposalEvent::ObjectionRaised { objection_id: objection, by: b, reason: "Saturday mornings would be one crew short.".into() }],
        vec![ProposalEvent::ProposalAmended { version: 2, body: "As before; Saturday mornings keep two crews.".into(), reason: "Meets the objection.".into() }],
        vec![ProposalEvent::ObjectionResolved { objection_id: objection, resolution: Resolution::Integrated, note: "Saturday cover kept.".into(), validity_test: None }],
        vec![ProposalEvent::ProposalDecided { outcome: Outcome::Adopted, rationale: "No objection stands.".into(), notes: vec![], missing_advisers: vec![], agree_votes: 0, required_votes: 0, budget_remaining: None }],
    ]
}

fn data(events: &[ProposalEvent], actor: PersonId) -> Vec<EventData> {
    let metadata = json!({ "actor": actor, "role": "MEMBER", "command": "bench", "command_id": null,
        "correlation_id": Uuid::new_v4(), "causation_id": null, "reason": null });
    events
        .iter()
        .map(|e| {
            let (event_type, payload) = e.to_stored();
            EventData {
                event_id: Uuid::new_v4(),
                event_type,
                schema_version: 1,
                payload,
                metadata: metadata.clone(),
            }
        })
        .collect()
}

/// Appends proposal lifecycles from `writers` tasks until `stop(events
/// written, elapsed)` says so; answers (commands, events).
async fn drive<F>(store: Arc<dyn EventStore>, writers: usize, teams: &[Team], stop: F) -> (u64, u64)
where
    F: Fn(u64, Duration) -> bool + Send + Sync + Clone + 'static,
{
    let written = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let (team, people) = teams[w % teams.len()].clone();
        let stop = stop.clone();
        let written = written.clone();
        tasks.push(tokio::spawn(async move {
            let mut commands = 0u64;
            'outer: loop {
                let proposal = ProposalId::random();
                let mut version = 0;
                for command in lifecycle(team, &people) {
                    if stop(written.load(Ordering::Relaxed), started.elapsed()) {
                        break 'outer;
                    }
                    let expected = if version == 0 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(version)
                    };
                    let n = command.len() as u64;
                    store
                        .append(Append::to_stream(
                            proposal.stream(),
                            expected,
                            data(&command, people[0]),
                        ))
                        .await
                        .expect("append");
                    version += n;
                    commands += 1;
                    written.fetch_add(n, Ordering::Relaxed);
                }
            }
            commands
        }));
    }
    let mut commands = 0;
    for task in tasks {
        commands += task.await.expect("writer");
    }
    (commands, written.load(Ordering::Relaxed))
}

/// The PostgreSQL server: `ADVICE_LOG_TEST_POSTGRES`, or the local one that
/// `scripts/postgres-for-tests` starts (asked once per run).
async fn postgres_server() -> String {
    static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("ADVICE_LOG_TEST_POSTGRES") {
            Ok(url) => url,
            Err(_) => {
                let out = std::process::Command::new("scripts/postgres-for-tests")
                    .output()
                    .expect("run scripts/postgres-for-tests");
                String::from_utf8(out.stdout)
                    .expect("utf-8")
                    .trim()
                    .to_string()
            }
        })
        .clone()
}

async fn fresh(backend: Backend, dir: &std::path::Path, name: &str) -> DatabaseUrl {
    match backend {
        Backend::Sqlite => DatabaseUrl::Sqlite(format!("sqlite://{}/{name}.db", dir.display())),
        Backend::Postgres => {
            let server = postgres_server().await;
            let db = format!("advice_log_bench_{}", Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("connect");
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&mut admin)
                .await
                .expect("create database");
            DatabaseUrl::Postgres(format!("{server}/{db}"))
        }
    }
}

fn raw_url(url: &DatabaseUrl) -> &str {
    match url {
        DatabaseUrl::Sqlite(u) | DatabaseUrl::Postgres(u) => u,
    }
}

fn people(n: usize) -> Vec<PersonId> {
    (0..n).map(|_| PersonId::random()).collect()
}

/// The ceiling: the same rows, inserted in batches of `batch` by one
/// connection with the same durability, into a copy of the events table.
async fn raw_ceiling(
    backend: Backend,
    url: &DatabaseUrl,
    rows: &[RecordedEvent],
    batch: usize,
) -> f64 {
    let started;
    match backend {
        Backend::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = raw_url(url).parse().expect("url");
            let options = options
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
            let pool = sqlx::SqlitePool::connect_with(options)
                .await
                .expect("connect");
            sqlx::query("CREATE TABLE events_raw (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL, payload TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, leaf_hash BLOB NOT NULL, UNIQUE (stream_id, stream_version))")
                .execute(&pool).await.expect("create");
            started = Instant::now();
            for chunk in rows.chunks(batch) {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO events_raw ");
                q.push_values(chunk, |mut r, e| {
                    r.push_bind(e.position as i64)
                        .push_bind(e.event_id.to_string())
                        .push_bind(e.stream_id.as_str())
                        .push_bind(e.stream_version as i64)
                        .push_bind(e.event_type.as_str())
                        .push_bind(e.schema_version)
                        .push_bind(canonical_json(&e.payload))
                        .push_bind(canonical_json(&e.metadata))
                        .push_bind(e.recorded_at.to_rfc3339())
                        .push_bind(e.leaf_hash.to_vec());
                });
                q.build().execute(&mut *tx).await.expect("insert");
                tx.commit().await.expect("commit");
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(raw_url(url)).await.expect("connect");
            sqlx::query("CREATE TABLE events_raw (LIKE events INCLUDING ALL)")
                .execute(&pool)
                .await
                .expect("create");
            started = Instant::now();
            for chunk in rows.chunks(batch) {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("INSERT INTO events_raw SELECT p, e, s, v, t, sv, pl::json, md::json, ra, lh FROM UNNEST($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[], $8::text[], $9::timestamptz[], $10::bytea[]) AS u(p, e, s, v, t, sv, pl, md, ra, lh)")
                    .bind(chunk.iter().map(|r| r.position as i64).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.event_id).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.stream_id.as_str()).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.stream_version as i64).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.event_type.as_str()).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.schema_version).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| canonical_json(&r.payload)).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| canonical_json(&r.metadata)).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.recorded_at).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.leaf_hash.to_vec()).collect::<Vec<_>>())
                    .execute(&mut *tx).await.expect("insert");
                tx.commit().await.expect("commit");
            }
            pool.close().await;
        }
    }
    rows.len() as f64 / started.elapsed().as_secs_f64()
}

/// The release server binary, on a log, on a random port.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(url: &DatabaseUrl, key: &std::path::Path) -> Server {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_advice-log"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", raw_url(url))
            .env("ADVICE_LOG_SIGNING_KEY", key)
            .env("ADVICE_LOG_DATA_KEY", data_key().join("advice-log.datakey"))
            .env("ADVICE_LOG_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .map(|u| u.trim_end_matches('/').to_string())
            })
            .expect("the server's URL");
        // Keep reading what it prints, so its standard output stays open.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Server { child, base }
    }

    /// The server's peak resident memory so far, from /proc.
    fn peak_memory_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// CPU seconds the server has used so far (user and system).
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.child.id().to_string())
    }
}

/// CPU seconds (user and system) used so far by process `pid` ("self" for
/// this one), from /proc; 0 when it cannot be read.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime and
    // stime are the 12th and 13th of them, in clock ticks (100 per second).
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used so far by every PostgreSQL server process.
fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|pid| cpu_seconds(&pid))
        .sum()
}

impl Drop for Server {
    fn drop(&mut self) {
        // A server the bench killed and reaped has no process left to stop.
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Reads the whole log in order, a page at a time.
async fn each_page(store: &dyn EventStore, mut f: impl FnMut(&[RecordedEvent])) {
    let mut cursor = 0;
    loop {
        let page = store.read_all(cursor, 1000).await.expect("read");
        let Some(last) = page.last() else { break };
        cursor = last.position;
        f(&page);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn latencies(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
    samples: usize,
) -> (f64, f64) {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let response = graphql(client, base, token, body).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(response.get("errors").is_none(), "{response}");
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// The key-encryption key every database of this run is unlocked with, in
/// process and by the release server (`ADVICE_LOG_DATA_KEY`): so the
/// application seals personal data as a server does.
fn data_key() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("key folder"))
        .path()
}

/// The database at `url` opened and unlocked with [`data_key`], as a server
/// opens it.
async fn unlocked(url: &DatabaseUrl) -> advice_log::backend::Storage {
    let path = data_key().join("advice-log.datakey");
    let kek = advice_log::erasure::KeyEncryptionKey::load_or_create(&path)
        .expect("data key")
        .0;
    advice_log::backend::open(url)
        .await
        .expect("store")
        .unlock(kek)
        .await
        .expect("unlock")
}

/// An organisation on `url`, bootstrapped through the application as
/// `advice-log bootstrap` would: the store (as stored), the application
/// (sealing personal data) and the admin.
async fn bootstrapped(url: &DatabaseUrl) -> (Arc<dyn EventStore>, Arc<App>, CommandMeta) {
    let storage = unlocked(url).await;
    let store = storage.events.clone();
    let app = App::start(storage).await.expect("app");
    let boot = app
        .bootstrap("Bench Admin", "bench@example.org")
        .await
        .expect("bootstrap");
    let admin = CommandMeta::new(
        Caller::Person(Actor {
            person: PersonId(boot.outcome.subject),
            org_role: Some(OrgRole::Admin),
        }),
        None,
    );
    (store, app, admin)
}

/// A log of about `size` events, with 20 teams; answers the URL, a member's
/// token and the id of the member's team, whose decisions are paged.
async fn big_log(
    backend: Backend,
    dir: &std::path::Path,
    size: u64,
) -> (DatabaseUrl, String, String) {
    let url = fresh(backend, dir, &format!("log{size}")).await;
    let (store, app, admin) = bootstrapped(&url).await;
    let member = PersonId(
        app.register_person(&admin, "Member", "member@example.org", None)
            .await
            .expect("person")
            .subject,
    );
    let token = app
        .issue_token(&admin, member)
        .await
        .expect("token")
        .token
        .expect("token");
    let mut teams = Vec::new();
    for n in 0..20 {
        let team = TeamId(
            app.form_team(&admin, &format!("Team {n}"))
                .await
                .expect("team")
                .subject,
        );
        if n == 0 {
            app.join_team(&admin, team, member, TeamRole::Member)
                .await
                .expect("join");
        }
        teams.push((team, people(4)));
    }
    let target = teams[0].0;
    let head = store.head().await.expect("head");
    drive(store.clone(), 64, &teams, move |written, _| {
        written + head >= size
    })
    .await;
    drop(app);
    store.close().await;
    (url, token, target.0.to_string())
}

async fn measure_backend(backend: Backend, mode: &Mode, report: &mut String) {
    let dir = tempfile::tempdir().expect("dir");
    let key_path = dir.path().join("signing.key");
    let key = LogKey::load_or_create(&key_path).expect("key").0;
    let _ = writeln!(report, "\n## {backend}\n");

    if mode.writes {
        measure_writes(backend, mode, &dir, &key_path, report).await;
    }
    if mode.logs {
        measure_logs(backend, mode, &dir, &key_path, &key, report).await;
    }
    if mode.servers {
        servers::measure(backend, mode, dir.path(), &key_path, report).await;
    }
}

/// Items 1-4: appends, peers, the ceiling, GraphQL mutations.
async fn measure_writes(
    backend: Backend,
    mode: &Mode,
    dir: &tempfile::TempDir,
    key_path: &std::path::Path,
    report: &mut String,
) {
    let client = reqwest::Client::new();
    // 1. Store-level append throughput.
    let _ = writeln!(report, "### 1. Store-level append (the decision-lifecycle mix: 9 events in 7 commands per proposal)\n\n| writers | commands/s | events/s | commands per group commit | ms per group commit |\n| ---: | ---: | ---: | ---: | ---: |");
    let mut at_64 = (0.0, 0.0);
    for writers in [1, 8, 64] {
        let url = fresh(backend, dir.path(), &format!("append{writers}")).await;
        let store = advice_log::backend::open(&url).await.expect("store").events;
        let teams: Vec<Team> = (0..8).map(|_| (TeamId::random(), people(4))).collect();
        let run_for = mode.run_for;
        let before = advice_log::metrics::batch_totals();
        let started = Instant::now();
        let (commands, events) = drive(store.clone(), writers, &teams, move |_, elapsed| {
            elapsed >= run_for
        })
        .await;
        let seconds = started.elapsed().as_secs_f64();
        let after = advice_log::metrics::batch_totals();
        let batches = (after.0 - before.0).max(1) as f64;
        let (per_batch, batch_ms) = (
            (after.2 - before.2) / batches,
            (after.1 - before.1) * 1000.0 / batches,
        );
        store.close().await;
        let (c, e) = (commands as f64 / seconds, events as f64 / seconds);
        if writers == 64 {
            at_64 = (c, e);
        }
        let _ = writeln!(
            report,
            "| {writers} | {c:.0} | {e:.0} | {per_batch:.1} | {batch_ms:.2} |"
        );
    }

    // 2. Peers: the same lifecycles through cqrs-es and disintegrate (peers.rs).
    peers::measure(backend, dir.path(), mode.run_for, at_64, report).await;

    // 3. The ceiling: raw batched inserts of the same rows.
    let url = fresh(backend, dir.path(), "ceiling").await;
    let store = advice_log::backend::open(&url).await.expect("store").events;
    let teams: Vec<Team> = (0..8).map(|_| (TeamId::random(), people(4))).collect();
    drive(store.clone(), 64, &teams, |written, _| written >= 20_000).await;
    let rows = store.read_all(0, 20_000).await.expect("rows");
    store.close().await;
    let ceiling = raw_ceiling(backend, &url, &rows, 90).await;
    let _ = writeln!(report, "\n### 3. Ceiling: raw batched inserts of the same rows ({} rows, 90 per transaction, same table shape and durability)\n\n{ceiling:.0} events/s. Store append at 64 writers / ceiling = **{:.2}** (target >= 0.5).", rows.len(), at_64.1 / ceiling);

    // 4. GraphQL mutations over HTTP at 64 clients: the same lifecycles.
    let url = fresh(backend, dir.path(), "graphql").await;
    let crews = graphql_crews(&url, 8).await;
    let server = Server::start(&url, key_path);
    let cpu_before = (
        server.cpu_seconds(),
        cpu_seconds("self"),
        postgres_cpu_seconds(),
    );
    let (mutations, elapsed) =
        drive_clients(&client, &crews, mode.run_for, |_| server.base.clone()).await;
    let per_second = mutations as f64 / elapsed;
    let per_mutation_us = |before: f64, after: f64| (after - before) * 1e6 / mutations as f64;
    let cpu = format!(
        "CPU per mutation: server {:.0} µs, load generator {:.0} µs, PostgreSQL {:.0} µs (from /proc; {:.1} of 2 cores busy in all).",
        per_mutation_us(cpu_before.0, server.cpu_seconds()),
        per_mutation_us(cpu_before.1, cpu_seconds("self")),
        per_mutation_us(cpu_before.2, postgres_cpu_seconds()),
        (server.cpu_seconds() - cpu_before.0 + cpu_seconds("self") - cpu_before.1
            + postgres_cpu_seconds() - cpu_before.2)
            / elapsed,
    );
    drop(server);
    let _ = writeln!(report, "\n### 4. GraphQL mutations over HTTP on loopback, 64 concurrent clients (the release server binary)\n\nEach client runs the lifecycle of item 1 as the people involved would, one mutation per command: `raiseProposal`, `requestAdvice` twice, `giveAdvice` twice, `raiseObjection`, `amendProposal`, `resolveObjection`, `decide` (9 mutations, 9 events), on 8 teams of 3 members, each member with their own token. The load generator runs in the bench process on the same two cores.\n\n{per_second:.0} mutations/s. / store append at 64 writers ({:.0} commands/s) = **{:.2}** (target >= 0.4). {cpu}", at_64.0, per_second / at_64.0);
}

/// Item 4's load: 64 clients, client `n` running crew `n % crews.len()`'s
/// lifecycle against the server at `base_of(n)` until `run_for` is up.
/// Answers the mutations made and the seconds they took.
async fn drive_clients(
    client: &reqwest::Client,
    crews: &[Crew],
    run_for: Duration,
    base_of: impl Fn(usize) -> String,
) -> (u64, f64) {
    let started = Instant::now();
    let mut clients = Vec::new();
    for n in 0..64 {
        let (client, base, crew) = (client.clone(), base_of(n), crews[n % crews.len()].clone());
        clients.push(tokio::spawn(async move {
            let mut mutations = 0u64;
            while started.elapsed() < run_for {
                mutations += graphql_lifecycle(&client, &base, &crew).await;
            }
            mutations
        }));
    }
    let mut mutations = 0;
    for c in clients {
        mutations += c.await.expect("client");
    }
    (mutations, started.elapsed().as_secs_f64())
}

/// A team of three members for the GraphQL item: the team id and each
/// member's id and token (the first raises and decides, the second and
/// third advise, the second objects).
#[derive(Clone)]
struct Crew {
    team: String,
    members: Vec<(String, String)>,
}

/// Bootstraps an organisation of `teams` crews on `url` through the
/// application, as `advice-log bootstrap` and an admin would.
async fn graphql_crews(url: &DatabaseUrl, teams: usize) -> Vec<Crew> {
    let (store, app, admin) = bootstrapped(url).await;
    let mut crews = Vec::new();
    for (team, people) in staffed_teams(&app, &admin, teams, 3).await {
        let mut members = Vec::new();
        for person in people {
            let token = app
                .issue_token(&admin, person)
                .await
                .expect("token")
                .token
                .expect("token");
            members.push((person.0.to_string(), token));
        }
        crews.push(Crew {
            team: team.0.to_string(),
            members,
        });
    }
    drop(app);
    store.close().await;
    crews
}

/// Forms `teams` teams ("Crew t") of `size` new members each ("Pt.m"),
/// through the application as an admin would.
async fn staffed_teams(
    app: &App,
    admin: &CommandMeta,
    teams: usize,
    size: usize,
) -> Vec<(TeamId, Vec<PersonId>)> {
    let mut staffed = Vec::new();
    for t in 0..teams {
        let team = TeamId(
            app.form_team(admin, &format!("Crew {t}"))
                .await
                .expect("team")
                .subject,
        );
        let mut members = Vec::new();
        for m in 0..size {
            let person = PersonId(
                app.register_person(
                    admin,
                    &format!("P{t}.{m}"),
                    &format!("p{t}.{m}@example.org"),
                    None,
                )
                .await
                .expect("person")
                .subject,
            );
            app.join_team(admin, team, person, TeamRole::Member)
                .await
                .expect("join");
            members.push(person);
        }
        staffed.push((team, members));
    }
    staffed
}

/// One mutation as `token`; answers the payload's `createdId` or the
/// proposal id (for `raiseProposal`).
async fn mutate(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    field: &str,
    input: Value,
) -> String {
    let selection = if field == "raiseProposal" {
        "proposal { id }"
    } else {
        "createdId position"
    };
    let body = json!({
        "query": format!("mutation($i: {}Input!) {{ {field}(input: $i) {{ {selection} }} }}", upper_first(field)),
        "variables": {"i": input},
    });
    let answer = graphql(client, base, token, &body).await;
    assert!(answer.get("errors").is_none(), "{field}: {answer}");
    let payload = &answer["data"][field];
    let id = if field == "raiseProposal" {
        &payload["proposal"]["id"]
    } else {
        &payload["createdId"]
    };
    id.as_str().unwrap_or_default().to_string()
}

/// One GraphQL request to the server at `base` as `token`; its JSON answer.
async fn graphql(client: &reqwest::Client, base: &str, token: &str, body: &Value) -> Value {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

/// `raiseProposal` -> `RaiseProposal`: a mutation's input type prefix.
fn upper_first(field: &str) -> String {
    let mut chars = field.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Item 1's lifecycle through GraphQL; answers the number of mutations (9).
/// It runs under the advice rule: under consent the decision would also wait
/// for every member's consent (two more mutations), and the nine mutations
/// and nine events would no longer match item 1.
async fn graphql_lifecycle(client: &reqwest::Client, base: &str, crew: &Crew) -> u64 {
    let [(_, a), (b_id, b), (c_id, c)] = &crew.members[..] else {
        panic!("a crew has three members");
    };
    let m = |token: &str, field: &'static str, input: Value| {
        let (client, base, token) = (client.clone(), base.to_string(), token.to_string());
        async move { mutate(&client, &base, &token, field, input).await }
    };
    let p = m(a, "raiseProposal", json!({"teamId": crew.team, "title": "Winter rota: swap Friday nights", "body": "From December the Friday night shift moves one paramedic from the day crew.", "rule": "ADVICE"})).await;
    m(
        a,
        "requestAdvice",
        json!({"proposalId": p, "personId": b_id, "reason": "AFFECTED"}),
    )
    .await;
    m(
        a,
        "requestAdvice",
        json!({"proposalId": p, "personId": c_id, "reason": "EXPERT"}),
    )
    .await;
    let concern = m(b, "giveAdvice", json!({"proposalId": p, "stance": "CONCERN", "text": "Handover at 19:00 clashes with the school run; 19:30 would work."})).await;
    m(c, "giveAdvice", json!({"proposalId": p, "stance": "SUPPORT", "text": "Fatigue data supports two crews on Friday nights."})).await;
    let objection = m(
        b,
        "raiseObjection",
        json!({"proposalId": p, "reason": "Saturday mornings would be one crew short."}),
    )
    .await;
    m(a, "amendProposal", json!({"proposalId": p, "body": "As before, with handover at 19:30 and a Saturday relief crew.", "reason": "Integrates the objection and the concern."})).await;
    m(b, "resolveObjection", json!({"proposalId": p, "objectionId": objection, "resolution": "INTEGRATED", "note": "The relief crew covers Saturday."})).await;
    m(a, "decide", json!({"proposalId": p, "outcome": "ADOPTED", "rationale": "Two crews on Friday nights, handover at 19:30.", "notes": [{"refId": concern, "note": "Handover moved to 19:30."}, {"refId": objection, "note": "Integrated with a Saturday relief crew."}]})).await;
    9
}

/// Items 5-8 at two log sizes: the decisions page, rebuild, verify, memory.
async fn measure_logs(
    backend: Backend,
    mode: &Mode,
    dir: &tempfile::TempDir,
    key_path: &std::path::Path,
    key: &LogKey,
    report: &mut String,
) {
    let client = reqwest::Client::new();

    // 5-8 at two log sizes.
    let mut p50s = Vec::new();
    let mut peaks = Vec::new();
    let mut starts = Vec::new();
    let mut page_rows = Vec::new();
    let _ = writeln!(report, "\n### 5-8. A team's decisions page, rebuild, verify and memory at {} and {} events\n\n| events | page p50 ms | page p99 ms | floor p50 ms | floor p99 ms | p99 page/floor | page 2 p50 ms | page 2 p99 ms | rebuild ev/s | raw read+decode ev/s | rebuild/raw | verify ev/s | SHA-256 ev/s | verify/SHA | server peak KiB |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", mode.small, mode.large);
    for size in [mode.small, mode.large] {
        eprintln!("  building a log of {size} events...");
        let (url, token, team) = big_log(backend, dir.path(), size).await;
        let storage = unlocked(&url).await;
        // The log as the application reads it: personal data opened.
        let store = storage.sealed_events();
        let head = store.head().await.expect("head");

        // 6. Rebuild next to a raw ordered read-and-decode.
        let projector = Projector::new(
            advice_log::store::Feed::start(store.clone())
                .await
                .expect("feed"),
            storage.views.clone(),
        )
        .await
        .expect("projector");
        projector.views().reset().await.expect("reset");
        let started = Instant::now();
        projector.catch_up(&|_| {}).await.expect("rebuild");
        let rebuild = head as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut decoded = 0usize;
        each_page(store.as_ref(), |page| {
            decoded += page
                .iter()
                .filter(|e| {
                    matches!(
                        ProposalEvent::decode(&e.event_type, e.schema_version, &e.payload),
                        Ok(Some(_))
                    )
                })
                .count();
        })
        .await;
        std::hint::black_box(decoded);
        let raw_read = head as f64 / started.elapsed().as_secs_f64();

        // 7. Verify next to SHA-256 over the same canonical bytes: the
        // log as stored (personal data sealed), as `verify` reads it.
        let log = storage.events.clone();
        let assurance = Assurance::new(
            log.clone(),
            LogKey::load_or_create(key_path).expect("key").0,
        );
        assurance
            .issue(chrono::Utc::now())
            .await
            .expect("checkpoint");
        let started = Instant::now();
        let verified = verify_log(
            log.as_ref(),
            &LogTree::new(log.clone()),
            &key.verifier(),
            &|_| {},
        )
        .await
        .expect("verify");
        assert!(verified.finding.is_none(), "{:?}", verified.finding);
        let verify = head as f64 / started.elapsed().as_secs_f64();
        let mut hashing = Duration::ZERO;
        each_page(log.as_ref(), |page| {
            let bytes: Vec<Vec<u8>> = page.iter().map(event_bytes).collect();
            let started = Instant::now();
            for b in &bytes {
                let mut h = Sha256::new();
                h.update([0u8]);
                h.update(b);
                std::hint::black_box(h.finalize());
            }
            hashing += started.elapsed();
        })
        .await;
        let sha = head as f64 / hashing.as_secs_f64();
        store.close().await;

        // 5 and 8. The real server: page latency next to the floor, and its peak memory.
        let server = Server::start(&url, key_path);
        let page_query = json!({"query": "query($t: ID!) { team(id: $t) { decisions(first: 20) { edges { node { id title decision { outcome rationale } } } } } }", "variables": {"t": team}});
        let floor_query = json!({"query": "{ __typename }"});
        latencies(&client, &server.base, &token, &page_query, 20).await;
        // The second page (after a cursor) is always read from the database.
        let cursor_query = json!({"query": "query($t: ID!) { team(id: $t) { decisions(first: 20) { pageInfo { endCursor } } } }", "variables": {"t": team}});
        let first = graphql(&client, &server.base, &token, &cursor_query).await;
        let cursor = first["data"]["team"]["decisions"]["pageInfo"]["endCursor"].clone();
        let second_query = json!({"query": "query($t: ID!, $a: String) { team(id: $t) { decisions(first: 20, after: $a) { edges { node { id title decision { outcome rationale } } } } } }", "variables": {"t": team, "a": cursor}});
        let (second50, second99) =
            latencies(&client, &server.base, &token, &second_query, mode.samples).await;
        let (page50, page99) =
            latencies(&client, &server.base, &token, &page_query, mode.samples).await;
        let (floor50, floor99) =
            latencies(&client, &server.base, &token, &floor_query, mode.samples).await;
        let peak = server.peak_memory_kib();
        page_rows
            .push(pages::measure(&client, &server.base, &token, &team, head, mode.samples).await);
        drop(server);
        // 9. Start-up, without and with the stored snapshot.
        eprintln!("  start-up at {head} events...");
        starts.push(servers::startup(backend, &url, head, key_path, &token).await);
        p50s.push(page50);
        peaks.push(peak);
        let _ = writeln!(report, "| {head} | {page50:.2} | {page99:.2} | {floor50:.2} | {floor99:.2} | **{:.2}** | {second50:.2} | {second99:.2} | {rebuild:.0} | {raw_read:.0} | **{:.2}** | {verify:.0} | {sha:.0} | **{:.2}** | {peak} |", page99 / floor99, rebuild / raw_read, verify / sha);
    }
    let _ = writeln!(report, "\nTargets: page p99 <= 3x the floor; page p50 at the larger log / at the smaller = **{:.2}** (target <= 1.2); rebuild >= 0.5x raw; verify >= 0.5x SHA-256; server peak memory at the larger / smaller = **{:.2}** (target <= 1.5). The first page of each team's decisions is kept in memory by the server (the projector drops it whenever one of the team's proposals changes); page 2, after a cursor, is one query on the read-model table.", p50s[1] / p50s[0], peaks[1] as f64 / peaks[0].max(1) as f64);
    servers::report_startup(&starts, report);
    pages::report(&page_rows, report);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let full = flag("--full");
    let (mut writes, mut logs) = (!flag("--logs-only"), !flag("--writes-only"));
    let servers = writes;
    if flag("--servers-only") {
        (writes, logs) = (false, false);
    }
    let backends: Vec<Backend> = [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .filter(|b| !flag(&format!("--no-{b}")))
        .collect();
    let mode = if full {
        Mode {
            name: "full",
            writes,
            logs,
            servers,
            run_for: Duration::from_secs(5),
            small: 10_000,
            large: 1_000_000,
            samples: 500,
        }
    } else {
        Mode {
            name: "quick",
            writes,
            logs,
            servers,
            run_for: Duration::from_secs(2),
            small: 10_000,
            large: 50_000,
            samples: 200,
        }
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mut report = String::new();
    let _ = writeln!(report, "# advice-log benchmarks\n\nWritten by `cargo bench --bench report -- --{}` on {} ({cores} cores: {cpu}). Every ratio compares numbers measured side by side in this run; timings on this kind of machine are noisy, so read the ratios, not the absolute numbers. SQLite runs in WAL mode with `synchronous=FULL`; PostgreSQL with its default `synchronous_commit=on`: an acknowledged append is on disk. The peers of item 2 (cqrs-es 0.4 with sqlite-es / postgres-es, disintegrate 4 with disintegrate-postgres) run the same commands with the same durability, each on its own fresh database.", mode.name, chrono::Utc::now().format("%Y-%m-%d"));
    postgres_server().await;
    for backend in backends {
        eprintln!("measuring {backend} ({} mode)...", mode.name);
        measure_backend(backend, &mode, &mut report).await;
    }
    report.push_str(include_str!("findings.md"));
    std::fs::write("BENCHMARKS.md", &report).expect("write BENCHMARKS.md");
    println!("{report}");
}
