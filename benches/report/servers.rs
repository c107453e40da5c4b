//! Items 9-11: the release server binary as an operator runs it. Start-up
//! time on the big logs of items 5-8 (9); GraphQL mutations with one and with
//! two servers on one PostgreSQL database (10); leader failover between two
//! servers (11).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use advice_log::store::{Backend, DatabaseUrl};
use serde_json::json;

use super::{
    cpu_seconds, drive_clients, fresh, graphql_crews, postgres_cpu_seconds, raw_url, Crew, Mode,
    Server,
};

/// How often the waits below ask the server again.
const POLL: Duration = Duration::from_millis(5);

/// One start of the server: from spawning the binary until `/readyz` answers
/// 200 and a first authenticated query (`me`) answers; its peak memory then.
pub struct Start {
    pub ms: f64,
    pub peak_kib: u64,
}

/// Start-up on one big log: the first start without a stored snapshot (it
/// writes one) and the median of three starts after it.
pub struct Startup {
    pub events: u64,
    pub first: Start,
    pub second: Start,
    /// The size of the directory's stored snapshot after the first start.
    pub snapshot_kib: u64,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client")
}

/// Waits until the server at `base` answers `/readyz` with 200.
async fn ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let answer = client.get(format!("{base}/readyz")).send().await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(POLL).await;
    }
}

/// Spawns the server on `url` and times it until it is ready and has
/// answered an authenticated query as `token`.
async fn start_once(url: &DatabaseUrl, key: &std::path::Path, token: &str) -> Start {
    let client = client();
    let started = Instant::now();
    let server = Server::start(url, key);
    ready(&client, &server.base).await;
    let me = super::graphql(
        &client,
        &server.base,
        token,
        &json!({"query": "{ me { id } }"}),
    )
    .await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let peak_kib = server.peak_memory_kib();
    drop(server);
    Start { ms, peak_kib }
}

/// Removes every stored start-up snapshot, so that the next start reads the
/// whole log (as the first start on a log written before snapshots would).
async fn forget_snapshots(backend: Backend, url: &DatabaseUrl) {
    let _: Option<i64> = query(backend, url, "DELETE FROM snapshots").await;
}

/// The stored snapshots' total size in bytes.
async fn snapshot_bytes(backend: Backend, url: &DatabaseUrl) -> u64 {
    let sql = "SELECT CAST(COALESCE(SUM(LENGTH(body)), 0) AS BIGINT) FROM snapshots";
    query(backend, url, sql).await.unwrap_or(0) as u64
}

/// Runs `sql` on its own connection; its first row's first column, if any.
async fn query(backend: Backend, url: &DatabaseUrl, sql: &str) -> Option<i64> {
    use sqlx::Connection;
    match backend {
        Backend::Sqlite => {
            let mut db = sqlx::SqliteConnection::connect(raw_url(url))
                .await
                .expect("connect");
            let row: Option<(i64,)> = sqlx::query_as(sql)
                .fetch_optional(&mut db)
                .await
                .expect(sql);
            db.close().await.expect("close");
            row.map(|r| r.0)
        }
        Backend::Postgres => {
            let mut db = sqlx::PgConnection::connect(raw_url(url))
                .await
                .expect("connect");
            let row: Option<(i64,)> = sqlx::query_as(sql)
                .fetch_optional(&mut db)
                .await
                .expect(sql);
            db.close().await.expect("close");
            row.map(|r| r.0)
        }
    }
}

/// Item 9 on one big log of `events` events.
pub async fn startup(
    backend: Backend,
    url: &DatabaseUrl,
    events: u64,
    key: &std::path::Path,
    token: &str,
) -> Startup {
    forget_snapshots(backend, url).await;
    let first = start_once(url, key, token).await;
    let snapshot_kib = snapshot_bytes(backend, url).await / 1024;
    let mut again = Vec::new();
    for _ in 0..3 {
        again.push(start_once(url, key, token).await);
    }
    again.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    let second = again.swap_remove(1);
    Startup {
        events,
        first,
        second,
        snapshot_kib,
    }
}

/// Item 9's section, from the starts on the smaller and the larger log.
pub fn report_startup(starts: &[Startup], report: &mut String) {
    let [small, large] = starts else { return };
    let _ = writeln!(report, "\n### 9. Start-up of the release server binary at {} and {} events\n\nFrom spawning `advice-log serve` on the logs of items 5-8 until `/readyz` answers 200 and a first authenticated query (`{{ me {{ id }} }}`) answers, and the server's peak resident memory by then. First start: no stored snapshot (the bench deletes the `snapshots` rows first, so the server reads the whole log and writes the directory's snapshot, whose stored size is given); second start: the median of three starts after it, with the snapshot present.\n\n| events | first start ms | first start peak KiB | snapshot KiB | second start ms | second start peak KiB |\n| ---: | ---: | ---: | ---: | ---: | ---: |", small.events, large.events);
    for s in starts {
        let _ = writeln!(
            report,
            "| {} | {:.0} | {} | {} | {:.0} | {} |",
            s.events, s.first.ms, s.first.peak_kib, s.snapshot_kib, s.second.ms, s.second.peak_kib
        );
    }
    let _ = writeln!(report, "\nSecond start at the larger log / at the smaller = **{:.2}** (target <= 1.5); first start: {:.2}.", large.second.ms / small.second.ms, large.first.ms / small.first.ms);
}

/// Items 10 and 11 (PostgreSQL only: a SQLite file has one server).
pub async fn measure(
    backend: Backend,
    mode: &Mode,
    dir: &std::path::Path,
    key: &std::path::Path,
    report: &mut String,
) {
    if backend != Backend::Postgres {
        return;
    }
    let _ = writeln!(report, "\n### 10. GraphQL mutations with one and with two servers on one database, 64 concurrent clients (the release server binary)\n\nItem 4's load (the nine-mutation lifecycle, 8 teams of 3 members, 64 clients) on a fresh database with one server, then on another fresh database split across two `serve` processes: client n drives crew n mod 8 through server (n div 8) mod 2, so every team's members write through both servers. One server leads (writes the shared read models, issues checkpoints). Each server has its own sequencer; they take turns at the log's append lock. Commands per group commit from the servers' `advice_log_append_batch_commands`; CPU per mutation from /proc.\n\n| servers | mutations/s | commands per group commit | server 1 µs | server 2 µs | load generator µs | PostgreSQL µs | all µs | cores busy |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut rates = Vec::new();
    let mut last = None;
    for count in [1, 2] {
        let url = fresh(backend, dir, &format!("servers{count}")).await;
        let crews = graphql_crews(&url, 8).await;
        let servers: Vec<Server> = (0..count).map(|_| Server::start(&url, key)).collect();
        let client = client();
        for s in &servers {
            ready(&client, &s.base).await;
        }
        let rate = load(&servers, &crews, mode.run_for, report).await;
        rates.push(rate);
        drop(servers);
        last = Some(url);
    }
    let _ = writeln!(
        report,
        "\nTwo servers / one = **{:.2}** (no target; this machine has two cores for everything).",
        rates[1] / rates[0]
    );
    if let Some(url) = last {
        failover(&url, key, 5, report).await;
    }
}

/// Runs item 4's load through `servers` for `run_for`; writes a row and
/// answers mutations per second.
async fn load(servers: &[Server], crews: &[Crew], run_for: Duration, report: &mut String) -> f64 {
    let client = client();
    let batches_before = batches(&client, servers).await;
    let before: Vec<f64> = servers.iter().map(Server::cpu_seconds).collect();
    let (me, pg) = (cpu_seconds("self"), postgres_cpu_seconds());
    let (mutations, elapsed) = drive_clients(&client, crews, run_for, |n| {
        servers[(n / crews.len()) % servers.len()].base.clone()
    })
    .await;
    let per = |cpu: f64| cpu * 1e6 / mutations as f64;
    let used: Vec<f64> = servers
        .iter()
        .zip(&before)
        .map(|(s, b)| s.cpu_seconds() - b)
        .collect();
    let (me, pg) = (cpu_seconds("self") - me, postgres_cpu_seconds() - pg);
    let all = used.iter().sum::<f64>() + me + pg;
    let rate = mutations as f64 / elapsed;
    let batches_after = batches(&client, servers).await;
    let per_commit = (batches_after.1 - batches_before.1) / (batches_after.0 - batches_before.0);
    let second = used
        .get(1)
        .map_or("-".into(), |s| format!("{:.0}", per(*s)));
    let _ = writeln!(
        report,
        "| {} | {rate:.0} | {per_commit:.1} | {:.0} | {second} | {:.0} | {:.0} | {:.0} | {:.1} |",
        servers.len(),
        per(used[0]),
        per(me),
        per(pg),
        per(all),
        all / elapsed
    );
    rate
}

/// Group commits and the commands in them so far, over all `servers`
/// (`advice_log_append_batch_commands` from each one's `/metrics`).
async fn batches(client: &reqwest::Client, servers: &[Server]) -> (f64, f64) {
    let mut total = (0.0, 0.0);
    for server in servers {
        let text = metrics(client, &server.base).await;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        total.0 += value("advice_log_append_batch_commands_count ");
        total.1 += value("advice_log_append_batch_commands_sum ");
    }
    total
}

/// The server's `/metrics` text ("" if it does not answer).
async fn metrics(client: &reqwest::Client, base: &str) -> String {
    match client.get(format!("{base}/metrics")).send().await {
        Ok(answer) => answer.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Whether the server at `base` says it leads (`advice_log_leader 1`).
async fn leads(client: &reqwest::Client, base: &str) -> bool {
    metrics(client, base)
        .await
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["advice_log_leader", "1"])
}

/// Item 11: two servers on `url`; `rounds` times, SIGKILL the leader and
/// time until the other's `/metrics` says it leads, then start a new
/// second server.
async fn failover(url: &DatabaseUrl, key: &std::path::Path, rounds: usize, report: &mut String) {
    let client = client();
    let mut servers = vec![Server::start(url, key)];
    ready(&client, &servers[0].base).await;
    let mut times = Vec::new();
    for _ in 0..rounds {
        servers.push(Server::start(url, key));
        ready(&client, &servers[1].base).await;
        // The leader: the one that says so (the other must not).
        let deadline = Instant::now() + Duration::from_secs(30);
        let leader = loop {
            let (a, b) = (
                leads(&client, &servers[0].base).await,
                leads(&client, &servers[1].base).await,
            );
            match (a, b) {
                (true, false) => break 0,
                (false, true) => break 1,
                _ => {}
            }
            assert!(Instant::now() < deadline, "no single leader");
            tokio::time::sleep(POLL).await;
        };
        let mut dead = servers.remove(leader);
        let other = &servers[0];
        let killed = Instant::now();
        dead.child.kill().expect("SIGKILL the leader");
        loop {
            if leads(&client, &other.base).await {
                break;
            }
            assert!(
                killed.elapsed() < Duration::from_secs(60),
                "nobody took the lead"
            );
            tokio::time::sleep(POLL).await;
        }
        times.push(killed.elapsed().as_secs_f64() * 1000.0);
        let _ = dead.child.wait();
        drop(dead);
    }
    drop(servers);
    times.sort_by(|a, b| a.total_cmp(b));
    let _ = writeln!(report, "\n### 11. Leader failover between two servers on one database\n\nTwo `serve` processes on item 10's database; the leader is the one whose `/metrics` says `advice_log_leader 1`. The bench SIGKILLs it and times until the other's `/metrics` says it leads (asked every {} ms), then starts a new second server; {rounds} rounds. A follower tries to take the advisory lock every 500 ms (`store::leader::POLL`); PostgreSQL releases the lock when the killed leader's connection closes.\n\nFailover ms: min {:.0}, median {:.0}, max {:.0} (all: {}).", POLL.as_millis(), times[0], times[times.len() / 2], times[times.len() - 1], times.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(", "));
}
