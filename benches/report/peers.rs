//! Item 2 of the report: the peer event stores (cqrs-es with sqlite-es or
//! postgres-es, and disintegrate-postgres) driving the same proposal
//! lifecycles as item 1 through their own command APIs, each on its own
//! fresh database next to ours; and, for the like-for-like comparison, our
//! application's command path (`App`: load through the aggregate cache,
//! decide, append) driving the same lifecycles, next to our store alone
//! doing the peers' simple check (read the stream, check, append).
//!
//! Every peer loads the proposal's state before each command, checks the
//! command against it in the same simple way (the first command only on a
//! fresh proposal, later ones only on a raised and undecided one) and
//! appends the command's events with its own optimistic concurrency check.
//! The events carry our payloads (`ProposalEvent::to_stored()`), so the
//! stored bytes are comparable.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use advice_log::app::{App, CommandMeta, RaiseProposal};
use advice_log::domain::events::DomainEvent as _;
use advice_log::domain::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalId, Resolution, Rule, Stance,
    WeighingNote,
};
use advice_log::domain::{Actor, Caller, PersonId};
use advice_log::store::{Append, Backend, DatabaseUrl, EventStore, ExpectedVersion, StoreError};
use async_trait::async_trait;
use cqrs_es::{Aggregate, AggregateError};
use disintegrate::serde::json::Json;
use disintegrate::{Decision, DecisionError, NoSnapshot, StateMutate, StateQuery};
use disintegrate_postgres::{PgDecisionMaker, PgEventStore};
use postgres_es::PostgresCqrs;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlite_es::SqliteCqrs;
use sqlx::Executor as _;
use uuid::Uuid;

use super::{data, fresh, lifecycle, raw_url, Team};

/// How many times one command may be retried (after a concurrency error or
/// a stale read) before the run gives up on it as stuck.
const MAX_RETRIES: u32 = 1000;

/// Connections per peer pool on PostgreSQL: the same as our store's.
const POSTGRES_CONNECTIONS: u32 = 16;

/// Connections in sqlite-es's pool: what its `default_sqlite_pool` uses.
const SQLITE_CONNECTIONS: u32 = 10;

/// The tables sqlite-es reads and writes, from its
/// `migrations/20221114171845_init.sql` (without the example view).
const SQLITE_ES_SCHEMA: &str = "
CREATE TABLE events
(
  aggregate_type text                          NOT NULL,
  aggregate_id   text                          NOT NULL,
  sequence       integer CHECK (sequence >= 0) NOT NULL,
  event_type     text                          NOT NULL,
  event_version  text                          NOT NULL,
  payload        text                          NOT NULL,
  metadata       text                          NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;
CREATE TABLE snapshots
(
  aggregate_type   text                                  NOT NULL,
  aggregate_id     text                                  NOT NULL,
  last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload          text                                  NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;
";

/// The tables postgres-es reads and writes, from its `db/init.sql`
/// (without the example view, row and user).
const POSTGRES_ES_SCHEMA: &str = "
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);
";

/// The tables and functions `PgEventStore::try_new` creates, from
/// disintegrate-postgres's `src/event_store/sql/*.sql` and its migrator's
/// column and index for the `proposal_id` domain identifier. Written out here
/// because its `event_store_begin_epoch()` spells a mask as the hexadecimal
/// literal `0xFFFFFFFF`, which PostgreSQL accepts only from version 16 on; the
/// one change is that literal, written in decimal.
const DISINTEGRATE_SCHEMA: &str = "
CREATE SEQUENCE IF NOT EXISTS seq_event_event_id;
CREATE TABLE IF NOT EXISTS event (
    event_id BIGINT PRIMARY KEY DEFAULT nextval('seq_event_event_id'),
    event_type VARCHAR(255),
    payload BYTEA,
    inserted_at TIMESTAMP DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_event_type_btree ON event(event_type);
CREATE OR REPLACE FUNCTION event_store_current_epoch()
RETURNS BIGINT AS $$
DECLARE
    persisted_event_id BIGINT;
    pending_event_id BIGINT;
    db_id INT;
BEGIN
    SELECT COALESCE(MAX(event_id), 0) INTO persisted_event_id FROM event;
    SELECT oid INTO db_id FROM pg_database WHERE datname = current_database();

    SELECT MIN((l3.objid::bigint << 32) + l2.objid::bigint)
    INTO pending_event_id
    FROM pg_locks l1
    INNER JOIN pg_locks l2 ON l1.pid = l2.pid
    INNER JOIN pg_locks l3 ON l1.pid = l3.pid
    WHERE
        l1.classid = db_id
        AND l2.classid = 1
        AND l3.classid = 2
        AND l1.locktype = 'advisory';

    RETURN LEAST(COALESCE(pending_event_id, persisted_event_id), persisted_event_id);
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION event_store_begin_epoch()
RETURNS void AS $$
DECLARE
    id BIGINT;
    db_id INT;
BEGIN
    SELECT last_value INTO id FROM seq_event_event_id;
    SELECT oid INTO db_id FROM pg_database WHERE datname = current_database();

    PERFORM pg_try_advisory_xact_lock_shared(db_id, 0);
    PERFORM pg_try_advisory_xact_lock_shared(1, (id & 4294967295)::bit(32)::integer);
    PERFORM pg_try_advisory_xact_lock_shared(2, (id >> 32)::bit(32)::integer);
END;
$$ LANGUAGE plpgsql;
ALTER TABLE event ADD COLUMN IF NOT EXISTS proposal_id UUID;
CREATE INDEX IF NOT EXISTS idx_event_proposal_id ON event (proposal_id) WHERE proposal_id IS NOT NULL;
";

/// A peer event store measured next to ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// cqrs-es's `CqrsFramework` over sqlite-es.
    CqrsEsSqlite,
    /// cqrs-es's `CqrsFramework` over postgres-es.
    CqrsEsPostgres,
    /// disintegrate's `DecisionMaker` over disintegrate-postgres.
    DisintegratePostgres,
}

impl Peer {
    /// Every peer, in the report's order.
    pub const ALL: [Peer; 3] = [
        Peer::CqrsEsSqlite,
        Peer::CqrsEsPostgres,
        Peer::DisintegratePostgres,
    ];

    /// The peer's name in the report.
    pub fn name(&self) -> &'static str {
        match self {
            Peer::CqrsEsSqlite => "cqrs-es 0.4 + sqlite-es",
            Peer::CqrsEsPostgres => "cqrs-es 0.4 + postgres-es",
            Peer::DisintegratePostgres => "disintegrate 4 + disintegrate-postgres",
        }
    }

    /// The database it runs on.
    pub fn backend(&self) -> Backend {
        match self {
            Peer::CqrsEsSqlite => Backend::Sqlite,
            Peer::CqrsEsPostgres | Peer::DisintegratePostgres => Backend::Postgres,
        }
    }

    /// A short name for its database file or database.
    fn slug(&self) -> &'static str {
        match self {
            Peer::CqrsEsSqlite => "peer_cqrs_sqlite",
            Peer::CqrsEsPostgres => "peer_cqrs_postgres",
            Peer::DisintegratePostgres => "peer_disintegrate",
        }
    }
}

/// What one timed run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    /// Commands that succeeded.
    pub commands: u64,
    /// Events those commands appended.
    pub events: u64,
    /// Attempts that met a concurrency error and were retried (not counted
    /// in `commands`).
    pub retries: u64,
    /// Attempts refused because the state loaded for them lacked events this
    /// writer had already appended (a stale read), and retried.
    pub stale_reads: u64,
    /// From the writers' start until the last one stopped.
    pub elapsed: Duration,
}

impl Run {
    /// Successful commands per second.
    pub fn commands_per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }

    /// Appended events per second.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// A command refused by the simple lifecycle check.
#[derive(Debug, thiserror::Error)]
#[error("command {step} refused: raised={raised}, decided={decided}, {seen} events loaded")]
struct Refused {
    step: usize,
    raised: bool,
    decided: bool,
    seen: u64,
}

/// The check every contender makes before appending: the first command
/// (raise) only on a fresh proposal, the others only on a raised and
/// undecided one. `seen` is how many events the loaded state folded.
fn admit(step: usize, raised: bool, decided: bool, seen: u64) -> Result<(), Refused> {
    let ok = if step == 0 {
        !raised
    } else {
        raised && !decided
    };
    if ok {
        Ok(())
    } else {
        Err(Refused {
            step,
            raised,
            decided,
            seen,
        })
    }
}

/// An event as cqrs-es stores it: our event type and payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredEvent {
    event_type: String,
    payload: Value,
}

impl cqrs_es::DomainEvent for StoredEvent {
    fn event_type(&self) -> String {
        self.event_type.clone()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

/// One step of a proposal's lifecycle, with the events it records.
struct BenchCommand {
    step: usize,
    events: Vec<StoredEvent>,
}

/// The cqrs-es aggregate: just enough state for the lifecycle check.
#[derive(Debug, Default, Serialize, Deserialize)]
struct BenchProposal {
    raised: bool,
    decided: bool,
    events: u64,
}

#[async_trait]
impl Aggregate for BenchProposal {
    type Command = BenchCommand;
    type Event = StoredEvent;
    type Error = Refused;
    type Services = ();

    fn aggregate_type() -> String {
        "Proposal".to_string()
    }

    async fn handle(
        &self,
        command: BenchCommand,
        _services: &(),
    ) -> Result<Vec<StoredEvent>, Refused> {
        admit(command.step, self.raised, self.decided, self.events)?;
        Ok(command.events)
    }

    fn apply(&mut self, event: StoredEvent) {
        self.events += 1;
        match event.event_type.as_str() {
            "ProposalRaised" => self.raised = true,
            "ProposalDecided" => self.decided = true,
            _ => {}
        }
    }
}

/// The disintegrate events: our event types, each with the proposal's id as
/// its domain identifier and our payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, disintegrate::Event)]
enum PeerEvent {
    ProposalRaised {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
    AdviceRequested {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
    AdviceGiven {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
    ObjectionRaised {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
    ProposalAmended {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
    ObjectionResolved {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
    ProposalDecided {
        #[id]
        proposal_id: Uuid,
        payload: Value,
    },
}

impl PeerEvent {
    fn new(proposal_id: Uuid, event: &ProposalEvent) -> PeerEvent {
        let (event_type, payload) = event.to_stored();
        match event_type.as_str() {
            "ProposalRaised" => PeerEvent::ProposalRaised {
                proposal_id,
                payload,
            },
            "AdviceRequested" => PeerEvent::AdviceRequested {
                proposal_id,
                payload,
            },
            "AdviceGiven" => PeerEvent::AdviceGiven {
                proposal_id,
                payload,
            },
            "ObjectionRaised" => PeerEvent::ObjectionRaised {
                proposal_id,
                payload,
            },
            "ProposalAmended" => PeerEvent::ProposalAmended {
                proposal_id,
                payload,
            },
            "ObjectionResolved" => PeerEvent::ObjectionResolved {
                proposal_id,
                payload,
            },
            "ProposalDecided" => PeerEvent::ProposalDecided {
                proposal_id,
                payload,
            },
            other => panic!("the lifecycle has an event the disintegrate peer lacks: {other}"),
        }
    }
}

/// The disintegrate state query: one proposal's events.
#[derive(Debug, Default, Clone, Serialize, Deserialize, StateQuery)]
#[state_query(PeerEvent)]
struct ProposalState {
    #[id]
    proposal_id: Uuid,
    raised: bool,
    decided: bool,
    events: u64,
}

impl StateMutate for ProposalState {
    fn mutate(&mut self, event: PeerEvent) {
        self.events += 1;
        match event {
            PeerEvent::ProposalRaised { .. } => self.raised = true,
            PeerEvent::ProposalDecided { .. } => self.decided = true,
            _ => {}
        }
    }
}

/// One step of a proposal's lifecycle as a disintegrate decision.
struct PeerDecision {
    proposal_id: Uuid,
    step: usize,
    events: Vec<PeerEvent>,
}

impl Decision for PeerDecision {
    type Event = PeerEvent;
    type StateQuery = ProposalState;
    type Error = Refused;

    fn state_query(&self) -> ProposalState {
        ProposalState {
            proposal_id: self.proposal_id,
            ..ProposalState::default()
        }
    }

    fn process(&self, state: &ProposalState) -> Result<Vec<PeerEvent>, Refused> {
        admit(self.step, state.raised, state.decided, state.events)?;
        Ok(self.events.clone())
    }
}

type Disintegrate = PgDecisionMaker<PeerEvent, Json<PeerEvent>, NoSnapshot>;

/// A peer, ready to take commands.
enum Engine {
    Sqlite(SqliteCqrs<BenchProposal>),
    Postgres(PostgresCqrs<BenchProposal>),
    Disintegrate(Disintegrate),
}

/// The metadata cqrs-es stores with each event: the fields ours stores.
fn metadata(actor: PersonId) -> HashMap<String, String> {
    HashMap::from([
        ("actor".to_string(), actor.0.to_string()),
        ("role".to_string(), "MEMBER".to_string()),
        ("command".to_string(), "bench".to_string()),
        ("correlation_id".to_string(), Uuid::new_v4().to_string()),
    ])
}

/// Whether a sqlx error is the database refusing a write because of a
/// concurrent one (PostgreSQL serialization failure or deadlock, SQLite
/// busy).
fn sqlx_concurrency(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => matches!(
            e.code().as_deref(),
            Some("40001") | Some("40P01") | Some("5") | Some("517")
        ),
        _ => false,
    }
}

/// Whether a cqrs-es failure is a concurrency error worth retrying.
fn cqrs_concurrency(error: &AggregateError<Refused>) -> bool {
    match error {
        AggregateError::AggregateConflict => true,
        AggregateError::UnexpectedError(e) | AggregateError::DatabaseConnectionError(e) => e
            .downcast_ref::<sqlx::Error>()
            .is_some_and(sqlx_concurrency),
        _ => false,
    }
}

/// Whether a disintegrate failure is a concurrency error worth retrying.
fn disintegrate_concurrency(error: &DecisionError<Refused>) -> bool {
    match error {
        DecisionError::StateStore(e) | DecisionError::EventStore(e) => {
            match e.downcast_ref::<disintegrate_postgres::Error>() {
                Some(disintegrate_postgres::Error::Concurrency) => true,
                Some(disintegrate_postgres::Error::Database(e)) => sqlx_concurrency(e),
                _ => false,
            }
        }
        DecisionError::Domain(_) => false,
    }
}

/// How one attempt at a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Its events were appended.
    Done,
    /// The store refused it on a concurrency check: retry.
    Conflict,
    /// The lifecycle check refused it because the loaded state lacked events
    /// this writer had already appended: retry.
    Stale,
}

/// Whether a lifecycle refusal comes from a stale read: the loaded state
/// lacked events this writer had already appended (`written`). Any other
/// refusal is a bug in the bench.
fn stale(refusal: &Refused, written: u64) -> bool {
    refusal.seen < written
}

impl Engine {
    /// Runs one command on a proposal to which this writer has appended
    /// `written` events. Panics on anything but a concurrency error or a
    /// stale read.
    async fn execute(
        &self,
        proposal: Uuid,
        step: usize,
        command: &[ProposalEvent],
        actor: PersonId,
        written: u64,
    ) -> Attempt {
        let outcome = match self {
            Engine::Sqlite(cqrs) => {
                cqrs.execute_with_metadata(
                    &proposal.to_string(),
                    cqrs_command(step, command),
                    metadata(actor),
                )
                .await
            }
            Engine::Postgres(cqrs) => {
                cqrs.execute_with_metadata(
                    &proposal.to_string(),
                    cqrs_command(step, command),
                    metadata(actor),
                )
                .await
            }
            Engine::Disintegrate(maker) => {
                let decision = PeerDecision {
                    proposal_id: proposal,
                    step,
                    events: command
                        .iter()
                        .map(|e| PeerEvent::new(proposal, e))
                        .collect(),
                };
                return match maker.make(decision).await {
                    Ok(_) => Attempt::Done,
                    Err(e) if disintegrate_concurrency(&e) => Attempt::Conflict,
                    Err(DecisionError::Domain(r)) if stale(&r, written) => Attempt::Stale,
                    Err(e) => panic!("disintegrate decision {step} on proposal {proposal}: {e}"),
                };
            }
        };
        match outcome {
            Ok(()) => Attempt::Done,
            Err(e) if cqrs_concurrency(&e) => Attempt::Conflict,
            Err(AggregateError::UserError(r)) if stale(&r, written) => Attempt::Stale,
            Err(e) => panic!("cqrs-es command {step} on proposal {proposal}: {e}"),
        }
    }
}

/// One lifecycle step as a cqrs-es command.
fn cqrs_command(step: usize, command: &[ProposalEvent]) -> BenchCommand {
    BenchCommand {
        step,
        events: command
            .iter()
            .map(|e| {
                let (event_type, payload) = e.to_stored();
                StoredEvent {
                    event_type,
                    payload,
                }
            })
            .collect(),
    }
}

/// Runs `writers` concurrent writers for `run_for` against `peer` on the
/// fresh database `url` (made by `fresh()`, on the peer's backend), each
/// writer driving proposal lifecycles through the peer's command API, one
/// command after another. Creates the peer's tables first (not timed).
/// Answers what the writers did: successful commands, their events, the
/// retried attempts and the time taken.
pub async fn run(
    peer: Peer,
    url: &DatabaseUrl,
    writers: usize,
    teams: &[Team],
    run_for: Duration,
) -> Run {
    let (engine, pool) = match peer {
        Peer::CqrsEsSqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions =
                raw_url(url).parse().expect("sqlite url");
            let options = options
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10));
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(SQLITE_CONNECTIONS)
                .connect_with(options)
                .await
                .expect("connect to the sqlite-es database");
            pool.execute(SQLITE_ES_SCHEMA)
                .await
                .expect("create the sqlite-es tables");
            let cqrs = sqlite_es::sqlite_cqrs(pool.clone(), vec![], ());
            (Engine::Sqlite(cqrs), Pool::Sqlite(pool))
        }
        Peer::CqrsEsPostgres => {
            let pool = postgres_pool(url).await;
            pool.execute(POSTGRES_ES_SCHEMA)
                .await
                .expect("create the postgres-es tables");
            let cqrs = postgres_es::postgres_cqrs(pool.clone(), vec![], ());
            (Engine::Postgres(cqrs), Pool::Postgres(pool))
        }
        Peer::DisintegratePostgres => {
            let pool = postgres_pool(url).await;
            pool.execute(DISINTEGRATE_SCHEMA)
                .await
                .expect("create the disintegrate-postgres tables");
            let events =
                PgEventStore::new_uninitialized(pool.clone(), Json::<PeerEvent>::default());
            let maker = disintegrate_postgres::decision_maker(events, NoSnapshot);
            (Engine::Disintegrate(maker), Pool::Postgres(pool))
        }
    };
    let engine = Arc::new(engine);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let engine = engine.clone();
        let (team, people) = teams[w % teams.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            'outer: loop {
                let proposal = Uuid::new_v4();
                let mut written = 0;
                for (step, command) in lifecycle(team, &people).into_iter().enumerate() {
                    if started.elapsed() >= run_for {
                        break 'outer;
                    }
                    let mut tries = 0;
                    loop {
                        match engine
                            .execute(proposal, step, &command, people[0], written)
                            .await
                        {
                            Attempt::Done => break,
                            Attempt::Conflict => run.retries += 1,
                            Attempt::Stale => run.stale_reads += 1,
                        }
                        tries += 1;
                        assert!(
                            tries < MAX_RETRIES,
                            "command {step} on proposal {proposal} was retried {tries} times"
                        );
                    }
                    written += command.len() as u64;
                    run.commands += 1;
                    run.events += command.len() as u64;
                }
            }
            run
        }));
    }
    let total = join(tasks, started).await;
    pool.close().await;
    total
}

/// A peer's connection pool, kept to close it after the run.
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

async fn postgres_pool(url: &DatabaseUrl) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(30))
        .connect(raw_url(url))
        .await
        .expect("connect to the peer's database")
}

/// Adds up the writers' runs, timing them from `started`.
async fn join(tasks: Vec<tokio::task::JoinHandle<Run>>, started: Instant) -> Run {
    let mut total = Run::default();
    for task in tasks {
        let run = task.await.expect("writer");
        total.commands += run.commands;
        total.events += run.events;
        total.retries += run.retries;
        total.stale_reads += run.stale_reads;
    }
    total.elapsed = started.elapsed();
    total
}

/// Our store doing the peers' work: for each command, read the proposal's
/// stream, check the command against it, then append with the stream's
/// version as the expected version (retrying on a conflict). `writers`
/// tasks for `run_for`.
pub async fn drive_loading(
    store: Arc<dyn EventStore>,
    writers: usize,
    teams: &[Team],
    run_for: Duration,
) -> Run {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let (team, people) = teams[w % teams.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            'outer: loop {
                let proposal = ProposalId::random();
                let stream_id = proposal.stream();
                let mut written = 0;
                for (step, command) in lifecycle(team, &people).into_iter().enumerate() {
                    if started.elapsed() >= run_for {
                        break 'outer;
                    }
                    let mut tries = 0;
                    loop {
                        let stream = store.read_stream(&stream_id).await.expect("read stream");
                        let raised = stream.iter().any(|e| e.event_type == "ProposalRaised");
                        let decided = stream.iter().any(|e| e.event_type == "ProposalDecided");
                        let seen = stream.len() as u64;
                        if let Err(refusal) = admit(step, raised, decided, seen) {
                            assert!(stale(&refusal, written), "{stream_id}: {refusal}");
                            run.stale_reads += 1;
                            tries += 1;
                            assert!(tries < MAX_RETRIES, "{stream_id}: {tries} stale reads");
                            continue;
                        }
                        let expected = match stream.last() {
                            None => ExpectedVersion::NoStream,
                            Some(last) => ExpectedVersion::Exact(last.stream_version),
                        };
                        let append = Append::to_stream(
                            stream_id.clone(),
                            expected,
                            data(&command, people[0]),
                        );
                        match store.append(append).await {
                            Ok(_) => break,
                            Err(StoreError::Conflict { .. }) => {
                                run.retries += 1;
                                tries += 1;
                                assert!(
                                    tries < MAX_RETRIES,
                                    "command {step} on {stream_id} met {tries} conflicts"
                                );
                            }
                            Err(e) => panic!("append command {step} to {stream_id}: {e}"),
                        }
                    }
                    written += command.len() as u64;
                    run.commands += 1;
                    run.events += command.len() as u64;
                }
            }
            run
        }));
    }
    join(tasks, started).await
}

/// A team for our command path: its id and its members' command metadata
/// (the first raises, amends and decides; the second and third advise; the
/// second objects and resolves).
type Crew = (advice_log::domain::TeamId, Vec<(PersonId, CommandMeta)>);

/// An organisation for our command path on the fresh database `url`: the
/// application over our store (its projector stopped, see `drive_commands`)
/// and 8 teams of 4 members, made through the application as an admin would
/// (not timed).
async fn command_app(url: &DatabaseUrl) -> (Arc<dyn EventStore>, Arc<App>, Vec<Crew>) {
    let (store, app, admin) = super::bootstrapped(url).await;
    // The peers run with no query side (cqrs-es with no queries); the
    // projector writes the read-model tables, which no command reads.
    app.stop_projector();
    let crews = super::staffed_teams(&app, &admin, 8, 4)
        .await
        .into_iter()
        .map(|(team, people)| {
            let members = people
                .into_iter()
                .map(|person| {
                    let actor = Actor {
                        person,
                        org_role: None,
                    };
                    (person, CommandMeta::new(Caller::Person(actor), None))
                })
                .collect();
            (team, members)
        })
        .collect();
    (store, app, crews)
}

/// One proposal's lifecycle through our application's commands, as the
/// people involved would send them: raise (advice rule), two advice
/// requests, two pieces of advice, an objection, an amendment, its
/// integration and the decision. Nine commands, nine events (the peers send
/// the same nine events in seven commands: the raise carries the requests).
/// Stops before a command once `done()` says so; answers the commands run.
async fn command_lifecycle(app: &App, crew: &Crew, done: impl Fn() -> bool) -> u64 {
    let (team, members) = crew;
    let [(_, a), (b_id, b), (c_id, c), ..] = &members[..] else {
        panic!("a crew has four members");
    };
    if done() {
        return 0;
    }
    let raised = app
        .raise_proposal(
            a,
            RaiseProposal {
                owner: Owner::Team(*team),
                title: "Winter rota: swap Friday nights".into(),
                body: "From December the Friday night shift moves one paramedic from the day crew so nights have two double-crewed ambulances.".into(),
                rule: Rule::Advice,
                threshold: None,
                advice_deadline: None,
                area: None,
                spend: None,
                review_by: None,
                decider: None,
                supersedes: None,
            },
        )
        .await
        .expect("raise");
    let id = ProposalId(raised.subject);
    let mut commands = 1;
    macro_rules! step {
        ($e:expr) => {{
            if done() {
                return commands;
            }
            let r = $e.await.expect(stringify!($e));
            commands += 1;
            r
        }};
    }
    step!(app.request_advice(a, id, Adviser::Person(*b_id), AdviceReason::Affected, None));
    step!(app.request_advice(a, id, Adviser::Person(*c_id), AdviceReason::Expert, None));
    let concern = step!(app.give_advice(
        b,
        id,
        Stance::Concern,
        "Handover at 19:00 clashes with the school run; 19:30 would work."
    ))
    .id;
    step!(app.give_advice(
        c,
        id,
        Stance::Support,
        "Fatigue data supports two crews on Friday nights."
    ));
    let objection =
        step!(app.raise_objection(b, id, "Saturday mornings would be one crew short.")).id;
    step!(app.amend_proposal(
        a,
        id,
        "As before, with handover at 19:30 and a Saturday relief crew.",
        "Integrates the objection and the concern."
    ));
    step!(app.resolve_objection(
        b,
        id,
        objection,
        Resolution::Integrated,
        "The relief crew covers Saturday.",
        None
    ));
    step!(app.decide_proposal(
        a,
        id,
        Outcome::Adopted,
        "Two crews on Friday nights, handover at 19:30.",
        vec![
            WeighingNote {
                ref_id: concern,
                note: "Handover moved to 19:30.".into()
            },
            WeighingNote {
                ref_id: objection,
                note: "Integrated with a Saturday relief crew.".into()
            },
        ]
    ));
    commands
}

/// Our application's command path doing the peers' work: `writers` tasks
/// for `run_for`, each driving proposal lifecycles of its team through
/// `App` (state loaded through the aggregate cache, the domain's decide,
/// append with expected versions, wait for the read models to show the
/// write), one command after another. Concurrency errors are retried inside
/// `App::execute` and not counted here.
pub async fn drive_commands(
    app: Arc<App>,
    writers: usize,
    crews: &[Crew],
    run_for: Duration,
) -> Run {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let app = app.clone();
        let crew = crews[w % crews.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let done = || started.elapsed() >= run_for;
            while !done() {
                let commands = command_lifecycle(&app, &crew, done).await;
                // One event per command on this path.
                run.commands += commands;
                run.events += commands;
            }
            run
        }));
    }
    join(tasks, started).await
}

/// Measures item 2 on `backend` and writes its section into `report`: each
/// peer of that backend at 1, 8 and 64 writers for `run_for`, our store
/// doing the same work at 64 writers, and the ratio of item 1's append
/// throughput at 64 writers (`append_at_64`: commands/s, events/s) to the
/// best peer's.
pub async fn measure(
    backend: Backend,
    dir: &std::path::Path,
    run_for: Duration,
    append_at_64: (f64, f64),
    report: &mut String,
) {
    let setup = match backend {
        Backend::Sqlite => format!("sqlite-es gets a pool of {SQLITE_CONNECTIONS} connections (its default pool's size; ours has 1 writer and 8 readers), in WAL mode with `synchronous=FULL` like ours"),
        Backend::Postgres => format!("each peer gets a pool of {POSTGRES_CONNECTIONS} connections, like ours; disintegrate-postgres's tables and functions are the ones its `PgEventStore::try_new` creates, written out with one hexadecimal literal in decimal because PostgreSQL 15 rejects it"),
    };
    let _ = writeln!(report, "\n### 2. Peer event stores (cqrs-es with postgres-es / sqlite-es, disintegrate-postgres)\n\nThe same proposal lifecycles as item 1 (7 commands, 9 events, our payloads), each command through the peer's own command API: load the proposal (cqrs-es: the aggregate's events; disintegrate: a state query on the proposal id), check the command against it, append its events with the peer's concurrency check. Each writer drives its own proposals. Each peer has its own fresh database on the same server or in the same directory as ours; {setup}. A command that meets a concurrency error is retried; only successes count. The rows \"advice-log (command path: `App`)\" are the like-for-like comparison: the same lifecycles through our application's commands, as people would send them (raise under the advice rule, two advice requests, two pieces of advice, an objection, an amendment, its integration, the decision: 9 commands, 9 events), each loading its state through the aggregate cache, deciding by the domain's rules and appending with expected versions, then waiting for the in-memory read models to show its write, on 8 teams of 4 members; the application's projector (the read-model tables) is stopped, as the peers run no queries. The row \"advice-log (store: read stream + append)\" is our store alone doing the peers' simple check: read the proposal's stream, check, append with the expected version. The last column is the CPU each successful command cost, from /proc: this process (the contender, its writers and its database driver; SQLite's work too) + PostgreSQL's processes; steadier than throughput on this shared two-core machine.\n\n| peer | writers | commands/s | events/s | CPU µs per command |\n| --- | ---: | ---: | ---: | ---: |");
    let mut best: Option<(Peer, (f64, f64))> = None;
    let mut retries = Vec::new();
    for peer in Peer::ALL.into_iter().filter(|p| p.backend() == backend) {
        for writers in [1, 8, 64] {
            eprintln!("  {} at {writers} writers...", peer.name());
            let url = fresh(backend, dir, &format!("{}_{writers}", peer.slug())).await;
            let teams = bench_teams();
            let cpu = cpu_now();
            let run = run(peer, &url, writers, &teams, run_for).await;
            let cpu = cpu_per_command(cpu, &run);
            let c = run.commands_per_second();
            let _ = writeln!(
                report,
                "| {} | {writers} | {c:.0} | {:.0} | {cpu} |",
                peer.name(),
                run.events_per_second()
            );
            if let Some(note) = retried(&run) {
                retries.push(format!("{} at {writers} writers: {note}", peer.name()));
            }
            if writers == 64 && best.is_none_or(|(_, (b, _))| c > b) {
                best = Some((peer, (c, run.events_per_second())));
            }
        }
    }
    let mut ours = Vec::new();
    for writers in [1, 8, 64] {
        eprintln!("  advice-log command path at {writers} writers...");
        let url = fresh(backend, dir, &format!("commands_{writers}")).await;
        let (store, app, crews) = command_app(&url).await;
        let cpu = cpu_now();
        let run = drive_commands(app.clone(), writers, &crews, run_for).await;
        let cpu = cpu_per_command(cpu, &run);
        drop(app);
        store.close().await;
        let _ = writeln!(
            report,
            "| **advice-log (command path: `App`)** | {writers} | {:.0} | {:.0} | {cpu} |",
            run.commands_per_second(),
            run.events_per_second()
        );
        ours.push(run);
    }
    let commands_at_64 = ours[2];
    let url = fresh(backend, dir, "loading_64").await;
    let store = advice_log::backend::open(&url).await.expect("store").events;
    let cpu = cpu_now();
    let loading = drive_loading(store.clone(), 64, &bench_teams(), run_for).await;
    let loading_cpu = cpu_per_command(cpu, &loading);
    store.close().await;
    if let Some(note) = retried(&loading) {
        retries.push(format!("advice-log (read stream + append): {note}"));
    }
    let _ = writeln!(
        report,
        "| advice-log (store: read stream + append) | 64 | {:.0} | {:.0} | {loading_cpu} |\n| advice-log (store: append only, item 1; not like for like) | 64 | {:.0} | {:.0} | |",
        loading.commands_per_second(),
        loading.events_per_second(),
        append_at_64.0,
        append_at_64.1
    );
    if !retries.is_empty() {
        let _ = writeln!(
            report,
            "\nAttempts retried (not counted as commands): {}. A stale read is a load that lacked events the same writer had already appended (disintegrate-postgres reads only up to its oldest in-flight append, so under concurrency a writer may not see its own last command yet); the check refuses the command and it is retried, as a concurrency error would be.",
            retries.join("; ")
        );
    }
    let (peer, best) = best.expect("every backend has a peer");
    let best_events = best.1;
    let _ = writeln!(report, "\n**Like for like: our command path at 64 writers / best peer at 64 writers ({}) = {:.2}** (target >= 3), in proposal lifecycles per second (events/s: both send the same 9 events per lifecycle, ours in 9 commands, the peers' in 7). By commands/s it is {:.2}. Our store reading the stream and appending, without the application, is {:.2} of the best peer (events/s). Not like for like: the store's append alone (item 1, no load and no decision) / best peer = {:.2}.", peer.name(), commands_at_64.events_per_second() / best_events, commands_at_64.commands_per_second() / best.0, loading.events_per_second() / best_events, append_at_64.1 / best_events);
}

/// CPU seconds used so far by this process and by PostgreSQL's processes.
fn cpu_now() -> (f64, f64) {
    (super::cpu_seconds("self"), super::postgres_cpu_seconds())
}

/// CPU per command since `before` (from `cpu_now`), in µs: this process
/// (the contender and its writers), PostgreSQL.
fn cpu_per_command(before: (f64, f64), run: &Run) -> String {
    let after = cpu_now();
    let per = |b: f64, a: f64| (a - b) * 1e6 / run.commands.max(1) as f64;
    format!(
        "{:.0} + {:.0}",
        per(before.0, after.0),
        per(before.1, after.1)
    )
}

/// The retries of a run, in words, if any.
fn retried(run: &Run) -> Option<String> {
    let mut parts = Vec::new();
    if run.retries > 0 {
        parts.push(format!("{} after a concurrency error", run.retries));
    }
    if run.stale_reads > 0 {
        parts.push(format!("{} after a stale read", run.stale_reads));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Eight teams of four, like item 1's.
fn bench_teams() -> Vec<Team> {
    (0..8)
        .map(|_| (advice_log::domain::TeamId::random(), super::people(4)))
        .collect()
}
