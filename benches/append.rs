//! Store-level append throughput at 1, 8 and 64 concurrent writers, on SQLite
//! and PostgreSQL. Each writer appends commands of two events to its own
//! proposal streams with an exact expected version, as the decision lifecycle
//! does. Run: `cargo bench --bench append` (PostgreSQL from
//! `ADVICE_LOG_TEST_POSTGRES`, or the local cluster via `scripts/postgres-for-tests`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use advice_log::store::{self, Append, DatabaseUrl, EventData, EventStore, ExpectedVersion};
use serde_json::json;
use sqlx::Connection;

const RUN_FOR: Duration = Duration::from_secs(3);
const WRITERS: [usize; 3] = [1, 8, 64];

fn command(writer: usize, n: u64) -> Append {
    let meta = json!({ "actor": uuid::Uuid::new_v4(), "role": "MEMBER", "command_id": uuid::Uuid::new_v4() });
    let event = |kind: &str, payload| EventData {
        event_id: uuid::Uuid::new_v4(),
        event_type: kind.into(),
        schema_version: 1,
        payload,
        metadata: meta.clone(),
    };
    let stream = format!("proposal-{writer}-{}", n / 10);
    let expected = if n % 10 == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact((n % 10) * 2)
    };
    Append::to_stream(
        stream,
        expected,
        vec![
            event(
                "AdviceGiven",
                json!({ "stance": "CONCERN", "text": "The night shift would be one paramedic short on Fridays; could we swap with the day team?" }),
            ),
            event(
                "AdviceRequested",
                json!({ "person": uuid::Uuid::new_v4(), "reason": "EXPERT" }),
            ),
        ],
    )
}

async fn measure(store: Arc<dyn EventStore>, writers: usize) -> (f64, f64) {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while start.elapsed() < RUN_FOR {
                store.append(command(writer, n)).await.expect("append");
                n += 1;
            }
            n
        }));
    }
    let mut commands = 0u64;
    for task in tasks {
        commands += task.await.expect("writer");
    }
    let seconds = start.elapsed().as_secs_f64();
    (commands as f64 / seconds, 2.0 * commands as f64 / seconds)
}

async fn postgres_url() -> String {
    let server = match std::env::var("ADVICE_LOG_TEST_POSTGRES") {
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
    };
    let name = format!("advice_log_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    format!("{server}/{name}")
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    println!("| backend | writers | commands/s | events/s |");
    println!("| --- | ---: | ---: | ---: |");
    for backend in ["sqlite", "postgres"] {
        for writers in WRITERS {
            let url = match backend {
                "sqlite" => DatabaseUrl::Sqlite(format!(
                    "sqlite://{}/bench-{writers}.db",
                    dir.path().display()
                )),
                _ => DatabaseUrl::Postgres(postgres_url().await),
            };
            let store = store::open(&url).await.expect("open store");
            let (commands, events) = measure(store.clone(), writers).await;
            store.close().await;
            println!("| {backend} | {writers} | {commands:.0} | {events:.0} |");
        }
    }
}
