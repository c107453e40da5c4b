//! The event store on PostgreSQL: the sequencer's transaction takes a
//! transaction-scoped advisory lock, so positions are assigned and committed in
//! order even with several server processes on one database; a `NOTIFY` tells
//! every process's followers about new positions.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::error::StoreError;
use super::event::{Append, Appended, RecordedEvent};
use super::plan::{plan_batch, touched, BatchPlan, LogSnapshot};
use super::sequencer::{advance, BatchCommit, Sequencer};
use super::{from_i64, to_i64, Backend, EventStore};
use crate::clock::Clock;

/// The channel that carries the new head after each commit.
const CHANNEL: &str = "advice_log_events";
/// Starts an append transaction holding the advisory lock that serialises
/// appends, key 0x616476696365_6c6f ("advicelo" in ASCII), in one round
/// trip: a statement without parameters goes over the simple query protocol.
///
/// The batch's statements are planned for their actual arguments
/// (`plan_cache_mode`, for this transaction only). With PostgreSQL's default
/// a pooled connection keeps, after five runs, one generic plan of the
/// snapshot query; made while the log was still small, that plan scans the
/// whole table for the batch's event ids (`event_id = ANY($2)`), under the
/// lock, until an `ANALYZE` happens to drop it.
const BEGIN_LOCKED: &str = "BEGIN; SELECT pg_advisory_xact_lock(7017864314361310319); \
                            SET LOCAL plan_cache_mode = force_custom_plan";

const COLUMNS: &str = "position, event_id, stream_id, stream_version, event_type, \
                       schema_version, payload::text AS payload, metadata::text AS metadata, \
                       recorded_at, leaf_hash";

/// The PostgreSQL event store.
pub struct PostgresStore {
    pool: PgPool,
    sequencer: Sequencer,
    head: Arc<watch::Sender<u64>>,
    listener: JoinHandle<()>,
    /// Contends for the lead once a server first asks (commands that only
    /// read or append never do).
    leadership: std::sync::OnceLock<Arc<super::leader::Leadership>>,
}

impl PostgresStore {
    /// The connection pool, for the tables that live beside the log in the
    /// same database.
    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    /// Connects to the database at `url` (`postgres://...`), with at most
    /// `max_connections` pooled connections, and applies any pending
    /// migration. A role that may only read and append (the least-privilege
    /// application role) opens a database whose migrations are all applied,
    /// and is told to have the owner run `advice-log migrate` otherwise.
    pub async fn open(
        url: &str,
        max_connections: u32,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        migrate_if_pending(&pool).await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let initial = read_head(&pool).await?;
        let head = Arc::new(watch::Sender::new(initial));
        let sequencer = Sequencer::start(
            PgCommitter {
                clock,
                pool: pool.clone(),
                connection: tokio::sync::Mutex::new(None),
            },
            head.clone(),
        );
        let listener = tokio::spawn(listen(listener, pool.clone(), head.clone()));
        let leadership = std::sync::OnceLock::new();
        Ok(PostgresStore {
            pool,
            sequencer,
            head,
            listener,
            leadership,
        })
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        self.sequencer.append(append).await
    }

    async fn read_event(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = $1");
        let row = sqlx::query(&sql)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn read_streams(&self, stream_ids: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM events WHERE stream_id = ANY($1) ORDER BY position");
        let rows = sqlx::query(&sql)
            .bind(stream_ids)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT position, leaf_hash FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(position, hash)| {
                hash.try_into().map_err(|_| StoreError::Corrupt {
                    position: from_i64(position),
                    reason: "leaf hash is not 32 bytes".into(),
                })
            })
            .collect()
    }

    async fn store_checkpoint(
        &self,
        checkpoint: &super::StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        insert_checkpoint(&mut connection, checkpoint, None).await
    }

    async fn checkpoints(&self) -> Result<Vec<super::StoredCheckpoint>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT tree_size, root, note, issued_at FROM checkpoints ORDER BY tree_size",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(checkpoint_row).collect()
    }

    async fn latest_checkpoint(&self) -> Result<Option<super::StoredCheckpoint>, StoreError> {
        let row: Option<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT tree_size, root, note, issued_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(checkpoint_row).transpose()
    }

    async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version");
        let rows = sqlx::query(&sql)
            .bind(stream_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(to_i64(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_window(
        &self,
        window: crate::window::Window<u64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let order = if window.from_end { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE position > $1 AND position < $2 \
             ORDER BY position {order} LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(to_i64(window.after.unwrap_or(0)))
            .bind(window.before.map_or(i64::MAX, to_i64))
            .bind(i64::from(window.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn head(&self) -> Result<u64, StoreError> {
        read_head(&self.pool).await
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        self.sequencer.writable().await
    }

    async fn close(&self) {
        self.sequencer.close().await;
        self.listener.abort();
        if let Some(leadership) = self.leadership.get() {
            leadership.stop();
        }
        self.pool.close().await;
    }

    fn leadership(&self) -> Arc<super::leader::Leadership> {
        self.leadership
            .get_or_init(|| {
                Arc::new(super::leader::Leadership::by_advisory_lock(
                    (*self.pool.connect_options()).clone(),
                ))
            })
            .clone()
    }

    async fn read_canonical(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<super::canonical::CanonicalPage, StoreError> {
        use futures::TryStreamExt;
        use sqlx::postgres::PgPoolCopyExt;
        // A binary COPY hands over the rows with none of a query's work per
        // row and column; it takes no parameters, so the two numbers are
        // written into the statement.
        let sql = format!(
            "COPY (SELECT {COLUMNS} FROM events WHERE position > {} ORDER BY position \
             LIMIT {limit}) TO STDOUT WITH (FORMAT binary)",
            to_i64(after)
        );
        // A COPY left unread would leave its connection to the next user of
        // the pool, so it is read to the end on a task of its own even if
        // this read is dropped.
        let pool = self.pool.clone();
        let reading = tokio::spawn(async move {
            let mut copy = pool.copy_out_raw(&sql).await?;
            let mut data = Vec::new();
            while let Some(chunk) = copy.try_next().await? {
                data.extend_from_slice(&chunk);
            }
            Ok::<_, sqlx::Error>(data)
        });
        let data = match reading.await {
            Ok(data) => data?,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => {
                return Err(StoreError::Interrupted(format!(
                    "reading the log was cut short: {error}"
                )))
            }
        };
        let rows = copy_rows(&data, after)
            .map(|rows| rows.into_iter().map(|r| (r.position, r.event)).collect());
        super::canonical_page(self, after, limit, rows, data.len()).await
    }
}

/// Stores a checkpoint; one of the same size with the same note is already
/// stored is fine (signing is deterministic, so whoever signed the same tree
/// with the same key wrote the same note), one with a different note is
/// [`StoreError::CheckpointDiffers`]. With `fence`, the key of a
/// session-level advisory lock, the checkpoint is stored only if the session
/// it runs on holds that lock, in the same statement
/// ([`StoreError::NotLeader`] if not): a session keeps such a lock until it
/// ends or lets it go, so nobody else can hold it meanwhile, and a session
/// that ended runs no statement.
pub(crate) async fn insert_checkpoint(
    connection: &mut sqlx::PgConnection,
    checkpoint: &super::StoredCheckpoint,
    fence: Option<i64>,
) -> Result<(), StoreError> {
    // A bigint advisory key shows in `pg_locks` as its high half in
    // `classid`, its low half in `objid`, and `objsubid` 1.
    let (held, inserted): (bool, bool) = sqlx::query_as(
        "WITH held AS ( \
           SELECT $5::bigint IS NULL OR EXISTS ( \
             SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
               AND pid = pg_backend_pid() AND objsubid = 1 \
               AND classid::bigint = ($5::bigint >> 32) \
               AND objid::bigint = ($5::bigint & 4294967295)) AS held), \
         inserted AS ( \
           INSERT INTO checkpoints (tree_size, root, note, issued_at) \
           SELECT $1, $2, $3, $4 FROM held WHERE held.held \
           ON CONFLICT (tree_size) DO NOTHING RETURNING 1) \
         SELECT held.held, EXISTS (SELECT 1 FROM inserted) FROM held",
    )
    .bind(to_i64(checkpoint.tree_size))
    .bind(checkpoint.root.to_vec())
    .bind(&checkpoint.note)
    .bind(checkpoint.issued_at)
    .bind(fence)
    .fetch_one(&mut *connection)
    .await?;
    if !held {
        return Err(StoreError::NotLeader);
    }
    if inserted {
        return Ok(());
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT note FROM checkpoints WHERE tree_size = $1")
            .bind(to_i64(checkpoint.tree_size))
            .fetch_optional(&mut *connection)
            .await?;
    super::checkpoint_found(stored, checkpoint)
}

struct PgCommitter {
    clock: Arc<dyn Clock>,
    pool: PgPool,
    /// The connection the last batch committed on, kept for the next one:
    /// taking a connection from the pool costs a round trip (the pool checks
    /// it with a ping), and one writer commits one batch at a time anyway.
    connection: tokio::sync::Mutex<Option<PoolConnection<Postgres>>>,
}

impl PgCommitter {
    /// Snapshot, plan, insert and commit in the append transaction `tx`.
    async fn run(
        &self,
        mut tx: Transaction<'_, Postgres>,
        appends: &[Append],
    ) -> Result<BatchPlan, StoreError> {
        let snapshot = snapshot(&mut tx, appends).await?;
        let plan = plan_batch(snapshot, appends, self.clock.now());
        if !plan.rows.is_empty() {
            insert(&mut tx, &plan, plan.head).await?;
            crate::destroy_keys_in!(tx, &plan.key_destructions);
        }
        tx.commit().await?;
        Ok(plan)
    }
}

/// Closes the kept connection instead of reusing it (after an error, its
/// state is unknown).
fn discard(kept: &mut Option<PoolConnection<Postgres>>) {
    if let Some(mut connection) = kept.take() {
        connection.close_on_drop();
    }
}

#[async_trait]
impl BatchCommit for PgCommitter {
    async fn commit_batch(&self, appends: &[Append]) -> Result<BatchPlan, StoreError> {
        use sqlx::Connection as _;
        // Round trips cost more than anything else here, so the batch takes
        // four: begin with the append lock, one snapshot query, one insert
        // that also notifies followers, commit; on a kept connection, so no
        // round trip to take one from the pool (which pings it).
        let mut kept = self.connection.lock().await;
        if let Some(connection) = kept.as_mut() {
            let outcome = match connection.begin_with(BEGIN_LOCKED).await {
                Ok(tx) => Some(self.run(tx, appends).await),
                Err(error) => {
                    // Nothing was written: a kept connection that broke
                    // while idle is replaced by one from the pool.
                    tracing::debug!(%error, "the kept append connection failed; taking another");
                    None
                }
            };
            match outcome {
                Some(Ok(plan)) => return Ok(plan),
                Some(Err(error)) => {
                    discard(&mut kept);
                    return Err(error);
                }
                None => discard(&mut kept),
            }
        }
        let connection = kept.insert(self.pool.acquire().await?);
        let result = match connection.begin_with(BEGIN_LOCKED).await {
            Ok(tx) => self.run(tx, appends).await,
            Err(error) => Err(error.into()),
        };
        if result.is_err() {
            discard(&mut kept);
        }
        result
    }

    /// PostgreSQL recovers from a full disk or a lost connection by itself
    /// (the pool drops broken connections), so a round trip on the pool is
    /// the probe.
    async fn probe(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    plan: &BatchPlan,
    head: u64,
) -> Result<(), StoreError> {
    let rows = &plan.rows;
    let keys = &plan.field_keys;
    sqlx::query(
        "WITH inserted AS ( \
           INSERT INTO events (position, event_id, stream_id, stream_version, event_type, \
                               schema_version, payload, metadata, recorded_at, leaf_hash) \
           SELECT p, e, s, v, t, sv, pl::json, md::json, ra, lh \
           FROM UNNEST($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], \
                       $6::int[], $7::text[], $8::text[], $9::timestamptz[], $10::bytea[]) \
                AS u(p, e, s, v, t, sv, pl, md, ra, lh) \
           RETURNING 1), \
         keys AS ( \
           INSERT INTO field_keys (key_id, author_id, wrapped, created_at) \
           SELECT * FROM UNNEST($13::text[], $14::text[], $15::bytea[], $16::bigint[])) \
         SELECT pg_notify($11, $12) FROM (SELECT COUNT(*) FROM inserted) AS done",
    )
    .bind(rows.iter().map(|r| to_i64(r.position)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.event_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.stream_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| to_i64(r.stream_version))
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.event_type.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.schema_version).collect::<Vec<_>>())
    .bind(
        plan.texts
            .iter()
            .map(|t| t.payload.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        plan.texts
            .iter()
            .map(|t| t.metadata.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.recorded_at).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.leaf_hash.to_vec())
            .collect::<Vec<_>>(),
    )
    .bind(CHANNEL)
    .bind(head.to_string())
    // The keys that seal the rows' free text: stored with them.
    .bind(
        keys.iter()
            .map(|k| k.key_id.to_string())
            .collect::<Vec<_>>(),
    )
    .bind(
        keys.iter()
            .map(|k| k.author.to_string())
            .collect::<Vec<_>>(),
    )
    .bind(keys.iter().map(|k| k.wrapped.clone()).collect::<Vec<_>>())
    .bind(
        keys.iter()
            .map(|k| k.created_at.timestamp_millis())
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn snapshot(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[Append],
) -> Result<LogSnapshot, StoreError> {
    let mut snapshot = LogSnapshot::default();
    let (streams, ids) = touched(appends);
    // One query: the head (kind 0), each touched stream's version (kind 1,
    // one index entry per stream, not the stream's rows) and which of the
    // batch's event ids are already stored (kind 2).
    let rows = sqlx::query(
        "SELECT * FROM (SELECT 0 AS kind, NULL::text AS name, position AS n, recorded_at \
                        FROM events ORDER BY position DESC LIMIT 1) AS head \
         UNION ALL SELECT 1, s.id, v.stream_version, NULL FROM UNNEST($1::text[]) AS s(id) \
                   CROSS JOIN LATERAL (SELECT stream_version FROM events \
                     WHERE stream_id = s.id ORDER BY stream_version DESC LIMIT 1) AS v \
         UNION ALL SELECT 2, event_id::text, position, NULL FROM events \
                   WHERE event_id = ANY($2)",
    )
    .bind(&streams)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let mut existing = Vec::new();
    for row in rows {
        let n = from_i64(row.try_get("n")?);
        match row.try_get::<i32, _>("kind")? {
            0 => {
                snapshot.head = n;
                snapshot.last_recorded_at = row.try_get("recorded_at")?;
            }
            1 => {
                snapshot.versions.insert(row.try_get("name")?, n);
            }
            _ => existing.push(to_i64(n)),
        }
    }
    if !existing.is_empty() {
        // A retried append: read back what is stored under its ids.
        let sql = format!("SELECT {COLUMNS} FROM events WHERE position = ANY($1)");
        for row in sqlx::query(&sql)
            .bind(&existing)
            .fetch_all(&mut **tx)
            .await?
        {
            let event = decode(&row)?;
            snapshot.existing.insert(event.event_id, event);
        }
    }
    Ok(snapshot)
}

async fn read_head(pool: &PgPool) -> Result<u64, StoreError> {
    let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(head.map(from_i64).unwrap_or(0))
}

/// Moves the head on every notification, from this process or another. If the
/// listener's connection drops, notifications may be missed: the head is
/// re-read on reconnection so followers never wait on a stale value for long.
async fn listen(mut listener: PgListener, pool: PgPool, head: Arc<watch::Sender<u64>>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Ok(now) = notification.payload().parse::<u64>() {
                    head.send_if_modified(|current| advance(current, now));
                }
            }
            Ok(None) => match read_head(&pool).await {
                Ok(now) => {
                    head.send_if_modified(|current| advance(current, now));
                }
                Err(error) => tracing::warn!(%error, "could not re-read the head of the log"),
            },
            Err(error) => {
                tracing::warn!(%error, "the notification listener failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn decode(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let position = from_i64(row.try_get("position")?);
    let corrupt = |reason: String| StoreError::Corrupt { position, reason };
    let payload: String = row.try_get("payload")?;
    let metadata: String = row.try_get("metadata")?;
    let leaf_hash: Vec<u8> = row.try_get("leaf_hash")?;
    Ok(RecordedEvent {
        position,
        event_id: row.try_get::<Uuid, _>("event_id")?,
        stream_id: row.try_get("stream_id")?,
        stream_version: from_i64(row.try_get("stream_version")?),
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: serde_json::from_str(&payload).map_err(|e| corrupt(format!("payload: {e}")))?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt(format!("metadata: {e}")))?,
        recorded_at: row.try_get("recorded_at")?,
        leaf_hash: leaf_hash
            .try_into()
            .map_err(|_| corrupt("leaf hash is not 32 bytes".into()))?,
    })
}

/// A stored checkpoint from its row.
fn checkpoint_row(
    (size, root, note, at): (i64, Vec<u8>, String, DateTime<Utc>),
) -> Result<super::StoredCheckpoint, StoreError> {
    let tree_size = from_i64(size);
    Ok(super::StoredCheckpoint {
        tree_size,
        root: root.try_into().map_err(|_| StoreError::Corrupt {
            position: tree_size,
            reason: "checkpoint root is not 32 bytes".into(),
        })?,
        note,
        issued_at: at,
    })
}

/// One row of a binary `COPY` of `SELECT {COLUMNS}`: its position, and its
/// columns when they are what `decode` expects (no NULL, UTF-8 text, a time
/// chrono can hold).
struct CopyRow<'a> {
    position: u64,
    event: Option<super::canonical::StoredEvent<'a>>,
}

/// The rows of a binary `COPY` of `SELECT {COLUMNS}`; `None` unless it is
/// well formed, with ten columns of the expected sizes in each row and
/// increasing positions after `after`.
fn copy_rows<'a>(data: &'a [u8], after: u64) -> Option<Vec<CopyRow<'a>>> {
    use super::canonical::{StoredEvent, StoredId, StoredTime};
    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
    const EPOCH_2000: i64 = 946_684_800_000_000;
    fn take<const N: usize>(data: &mut &[u8]) -> Option<[u8; N]> {
        let (head, rest) = data.split_first_chunk::<N>()?;
        *data = rest;
        Some(*head)
    }
    let mut rest = data.strip_prefix(b"PGCOPY\n\xff\r\n\0")?;
    let flags = u32::from_be_bytes(take(&mut rest)?);
    let extension = usize::try_from(u32::from_be_bytes(take(&mut rest)?)).ok()?;
    if flags != 0 {
        return None;
    }
    rest = rest.get(extension..)?;
    let mut rows = Vec::new();
    let mut last = after;
    loop {
        match i16::from_be_bytes(take(&mut rest)?) {
            -1 if rest.is_empty() => return Some(rows),
            10 => {}
            _ => return None,
        }
        let mut fields: [Option<&[u8]>; 10] = [None; 10];
        for field in &mut fields {
            let length = i32::from_be_bytes(take(&mut rest)?);
            if length >= 0 {
                let (bytes, tail) = rest.split_at_checked(usize::try_from(length).ok()?)?;
                *field = Some(bytes);
                rest = tail;
            }
        }
        let integer = |bytes: Option<&[u8]>| Some(i64::from_be_bytes(bytes?.try_into().ok()?));
        let position = u64::try_from(integer(fields[0])?).ok()?;
        if position <= last {
            return None;
        }
        last = position;
        let text = |bytes: Option<&'a [u8]>| std::str::from_utf8(bytes?).ok();
        let event = (|| {
            Some(StoredEvent {
                position,
                event_id: StoredId::Uuid(Uuid::from_slice(fields[1]?).ok()?),
                stream_id: text(fields[2])?,
                stream_version: from_i64(integer(fields[3])?),
                event_type: text(fields[4])?,
                schema_version: i32::from_be_bytes(fields[5]?.try_into().ok()?),
                payload: text(fields[6])?,
                metadata: text(fields[7])?,
                recorded_at: StoredTime::Time(DateTime::from_timestamp_micros(
                    EPOCH_2000.checked_add(integer(fields[8])?)?,
                )?),
                leaf_hash: fields[9]?,
            })
        })();
        rows.push(CopyRow { position, event });
    }
}

/// The tables the application role reads and appends to, and nothing more:
/// the log and its checkpoints.
pub const APPEND_ONLY_TABLES: [&str; 2] = ["events", "checkpoints"];

/// The read-model tables the application role rewrites (the projector
/// updates them; `advice-log rebuild` empties them; servers keep their
/// start-up snapshots).
pub const READ_MODEL_TABLES: [&str; 5] = [
    "proposal_view",
    "advice_request_view",
    "proposal_search",
    "projection_checkpoints",
    "snapshots",
];

/// The migrations the embedded schema needs.
fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("migrations/postgres")
}

/// Applies pending migrations, and only when some are pending: reading
/// `_sqlx_migrations` is all a role that cannot migrate may do.
async fn migrate_if_pending(pool: &PgPool) -> Result<(), StoreError> {
    let migrator = migrator();
    if !pending(pool, &migrator).await? {
        return Ok(());
    }
    match migrator.run(pool).await {
        Ok(()) => Ok(()),
        Err(error) if denied(&error) => {
            let role: String = sqlx::query_scalar("SELECT current_user::text")
                .fetch_one(pool)
                .await?;
            Err(StoreError::MigrateAsOwner {
                role,
                reason: error.to_string(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

/// Whether some embedded migration is not applied (or the applied ones
/// cannot be read: then migrating tells what is wrong).
async fn pending(pool: &PgPool, migrator: &sqlx::migrate::Migrator) -> Result<bool, StoreError> {
    let applied: Vec<(i64, Vec<u8>)> =
        match sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(error))
                if matches!(error.code().as_deref(), Some("42P01" | "42501")) =>
            {
                // No such table (a new database), or no right to read it.
                return Ok(true);
            }
            Err(error) => return Err(error.into()),
        };
    Ok(migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .any(|m| {
            !applied
                .iter()
                .any(|(version, checksum)| *version == m.version && *checksum == *m.checksum)
        }))
}

/// Whether a migration failed for want of a privilege (SQLSTATE 42501:
/// permission denied, must be owner).
fn denied(error: &sqlx::migrate::MigrateError) -> bool {
    use sqlx::migrate::MigrateError;
    let sqlx_error = match error {
        MigrateError::Execute(e) => e,
        MigrateError::ExecuteMigration(e, _) => e,
        _ => return false,
    };
    matches!(sqlx_error, sqlx::Error::Database(e) if e.code().as_deref() == Some("42501"))
}

/// The notification tables the application role writes and updates (the
/// outbox's rows change status as they are delivered; a rebuild leaves them).
pub const NOTIFICATION_TABLES: [&str; 3] = [
    "notification_outbox",
    "notifier_checkpoint",
    "webhook_status",
];

/// The tables of wrapped keys (crate::erasure) the application role
/// writes and updates: destroying a key sets its bytes to NULL. Never
/// `DELETE`: a destroyed key keeps its tombstone.
pub const KEY_TABLES: [&str; 2] = ["person_keys", "field_keys"];

/// The key-encryption key check row: written once, then only read (the
/// application role cannot replace it to slip another key in).
pub const KEY_CHECK_TABLE: &str = "key_check";

/// Grants `role` exactly what the server needs on a migrated database, as
/// its owner: `USAGE` on the schema, `SELECT` and `INSERT` on the log and
/// its checkpoints (no `UPDATE`, `DELETE`, `TRUNCATE`; owning nothing, it
/// cannot alter a table or drop or disable a trigger), `SELECT`, `INSERT`,
/// `UPDATE` and `DELETE` on the read models, `SELECT`, `INSERT` and
/// `UPDATE` on the notification tables (and their id sequence) and the key
/// tables, `SELECT` and `INSERT` on the key check row, and `SELECT` on
/// `_sqlx_migrations`. Anything else it held on these tables is revoked
/// first. Answers the statements run, for the operator to see.
pub async fn grant_to(pool: &PgPool, role: &str) -> Result<Vec<String>, StoreError> {
    // PostgreSQL's own quote_ident: quotes exactly when SQL needs it.
    let (role, schema): (String, String) =
        sqlx::query_as("SELECT quote_ident($1), quote_ident(current_schema())")
            .bind(role)
            .fetch_one(pool)
            .await?;
    let all: Vec<&str> = APPEND_ONLY_TABLES
        .iter()
        .chain(READ_MODEL_TABLES.iter())
        .chain(NOTIFICATION_TABLES.iter())
        .chain(KEY_TABLES.iter())
        .chain([KEY_CHECK_TABLE, "_sqlx_migrations"].iter())
        .copied()
        .collect();
    let statements = vec![
        format!("REVOKE ALL ON {} FROM {role}", all.join(", ")),
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!(
            "GRANT SELECT, INSERT ON {} TO {role}",
            APPEND_ONLY_TABLES.join(", ")
        ),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {role}",
            READ_MODEL_TABLES.join(", ")
        ),
        format!(
            "GRANT SELECT, INSERT, UPDATE ON {} TO {role}",
            NOTIFICATION_TABLES.join(", ")
        ),
        format!("GRANT USAGE ON SEQUENCE notification_outbox_id_seq TO {role}"),
        format!(
            "GRANT SELECT, INSERT, UPDATE ON {} TO {role}",
            KEY_TABLES.join(", ")
        ),
        format!("GRANT SELECT, INSERT ON {KEY_CHECK_TABLE} TO {role}"),
        format!("GRANT SELECT ON _sqlx_migrations TO {role}"),
    ];
    let mut transaction = pool.begin().await?;
    for statement in &statements {
        sqlx::query(statement).execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    Ok(statements)
}
