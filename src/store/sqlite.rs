//! The event store on SQLite: one file, WAL mode, `synchronous=FULL`, one
//! writer connection used only by the sequencer (`BEGIN IMMEDIATE`), and a pool
//! of read-only connections.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, Transaction};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::canonical::format_time;
use super::error::StoreError;
use super::event::{Append, Appended, RecordedEvent};
use super::plan::{plan_batch, touched, BatchPlan, LogSnapshot};
use super::sequencer::{advance, BatchCommit, Sequencer};
use super::{from_i64, to_i64, Backend, EventStore};
use crate::clock::Clock;

/// SQLite's limit on bound parameters is 32766; stay well below it.
const IDS_PER_QUERY: usize = 500;
const ROWS_PER_INSERT: usize = 500;
/// How often to look for appends made by another process on the same file.
const EXTERNAL_POLL: Duration = Duration::from_secs(1);

const COLUMNS: &str = "position, event_id, stream_id, stream_version, event_type, \
                       schema_version, payload, metadata, recorded_at, leaf_hash";

/// The SQLite event store.
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    sequencer: Sequencer,
    head: Arc<watch::Sender<u64>>,
    poller: JoinHandle<()>,
    leadership: Arc<super::leader::Leadership>,
}

impl SqliteStore {
    /// The pool of the one connection that writes, for the tables that
    /// live beside the log in the same file.
    pub fn writer(&self) -> SqlitePool {
        self.writer.clone()
    }

    /// The pool of read-only connections.
    pub fn reader(&self) -> SqlitePool {
        self.reader.clone()
    }

    /// Opens (creating if missing) and migrates the database at `url`
    /// (`sqlite://PATH` or `sqlite:PATH`).
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Deleted content is overwritten with zeros, not just unlinked:
            // a destroyed key (crate::erasure) leaves no bytes in the file.
            .pragma("secure_delete", "ON");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .after_release(|connection, _| {
                Box::pin(async move {
                    // A dropped transaction queues its rollback on the
                    // connection; once a round trip has passed it, a
                    // connection still in a transaction is one whose
                    // rollback failed (SQLite had rolled back already, as it
                    // does when the disk is full). It is closed, not reused,
                    // so the next write gets a fresh one.
                    connection.ping().await?;
                    Ok(!connection.is_in_transaction())
                })
            })
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        let initial = read_head(&reader).await?;
        let head = Arc::new(watch::Sender::new(initial));
        let sequencer = Sequencer::start(
            SqliteCommitter {
                clock,
                pool: writer.clone(),
            },
            head.clone(),
        );
        let poller = tokio::spawn(poll_external(reader.clone(), head.clone()));
        Ok(SqliteStore {
            reader,
            writer,
            sequencer,
            head,
            poller,
            leadership: Arc::new(super::leader::Leadership::always()),
        })
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        self.sequencer.append(append).await
    }

    async fn read_event(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = ?");
        let row = sqlx::query(&sql)
            .bind(event_id.to_string())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn read_streams(&self, stream_ids: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = Vec::new();
        for chunk in stream_ids.chunks(IDS_PER_QUERY) {
            let mut query = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {COLUMNS} FROM events WHERE stream_id IN ("
            ));
            let mut list = query.separated(", ");
            for stream in chunk {
                list.push_bind(stream.as_str());
            }
            query.push(") ORDER BY position");
            for row in query.build().fetch_all(&self.reader).await? {
                events.push(decode(&row)?);
            }
        }
        events.sort_by_key(|e| e.position);
        Ok(events)
    }

    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT position, leaf_hash FROM events WHERE position > ? ORDER BY position LIMIT ?",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
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
        let inserted = sqlx::query(
            "INSERT INTO checkpoints (tree_size, root, note, issued_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(to_i64(checkpoint.tree_size))
        .bind(checkpoint.root.to_vec())
        .bind(&checkpoint.note)
        .bind(format_time(&checkpoint.issued_at))
        .execute(&self.writer)
        .await?
        .rows_affected();
        if inserted > 0 {
            return Ok(());
        }
        // The same note again is fine; another one of the same size is not.
        let stored: Option<String> =
            sqlx::query_scalar("SELECT note FROM checkpoints WHERE tree_size = ?")
                .bind(to_i64(checkpoint.tree_size))
                .fetch_optional(&self.writer)
                .await?;
        super::checkpoint_found(stored, checkpoint)
    }

    async fn checkpoints(&self) -> Result<Vec<super::StoredCheckpoint>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, String, String)> = sqlx::query_as(
            "SELECT tree_size, root, note, issued_at FROM checkpoints ORDER BY tree_size",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(checkpoint_row).collect()
    }

    async fn latest_checkpoint(&self) -> Result<Option<super::StoredCheckpoint>, StoreError> {
        let row: Option<(i64, Vec<u8>, String, String)> = sqlx::query_as(
            "SELECT tree_size, root, note, issued_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await?;
        row.map(checkpoint_row).transpose()
    }

    async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version");
        let rows = sqlx::query(&sql)
            .bind(stream_id)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(to_i64(after))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_window(
        &self,
        window: crate::window::Window<u64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let order = if window.from_end { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE position > ? AND position < ? \
             ORDER BY position {order} LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(to_i64(window.after.unwrap_or(0)))
            .bind(window.before.map_or(i64::MAX, to_i64))
            .bind(i64::from(window.limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn head(&self) -> Result<u64, StoreError> {
        read_head(&self.reader).await
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        self.sequencer.writable().await
    }

    fn leadership(&self) -> Arc<super::leader::Leadership> {
        self.leadership.clone()
    }

    async fn close(&self) {
        self.sequencer.close().await;
        self.poller.abort();
        // The writer closes last so it can checkpoint the WAL into the file.
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn read_canonical(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<super::canonical::CanonicalPage, StoreError> {
        let row = sqlx::query(CANONICAL_PAGE)
            .bind(to_i64(after))
            .bind(i64::from(limit))
            .fetch_one(&self.reader)
            .await?;
        let count: i64 = row.try_get(0)?;
        let packed: Option<&[u8]> = row.try_get(1)?;
        let packed = packed.unwrap_or_default();
        let rows = unpack_frames(packed, after, count)
            .map(|frames| frames.into_iter().map(|f| (f.position, f.event)).collect());
        super::canonical_page(self, after, limit, rows, packed.len()).await
    }
}

struct SqliteCommitter {
    clock: Arc<dyn Clock>,
    pool: SqlitePool,
}

#[async_trait]
impl BatchCommit for SqliteCommitter {
    async fn commit_batch(&self, appends: &[Append]) -> Result<BatchPlan, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let committed = commit_on(&mut connection, self.clock.now(), appends).await;
        if committed.is_err() {
            // After a failed COMMIT (a full disk, an I/O error) sqlx still
            // counts the transaction as open on this connection, and every
            // later BEGIN on it is refused: open a fresh one instead.
            connection.close_on_drop();
        }
        committed
    }

    async fn probe(&self) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        let written = sqlx::query(
            "INSERT INTO write_probe (id, at) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .bind(format_time(&self.clock.now()))
        .execute(&mut *connection)
        .await;
        if written.is_err() {
            connection.close_on_drop();
        }
        written?;
        Ok(())
    }
}

/// One batch on the writer connection: `BEGIN IMMEDIATE`, snapshot, plan,
/// insert, commit.
async fn commit_on(
    connection: &mut sqlx::SqliteConnection,
    now: DateTime<Utc>,
    appends: &[Append],
) -> Result<BatchPlan, StoreError> {
    use sqlx::Connection;
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    let snapshot = snapshot(&mut tx, appends).await?;
    let plan = plan_batch(snapshot, appends, now);
    let rows: Vec<_> = plan.rows.iter().zip(&plan.texts).collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(format!("INSERT INTO events ({COLUMNS}) "));
        insert.push_values(chunk, |mut row, (event, text)| {
            row.push_bind(to_i64(event.position))
                .push_bind(event.event_id.to_string())
                .push_bind(event.stream_id.as_str())
                .push_bind(to_i64(event.stream_version))
                .push_bind(event.event_type.as_str())
                .push_bind(event.schema_version)
                .push_bind(text.payload.as_str())
                .push_bind(text.metadata.as_str())
                .push_bind(format_time(&event.recorded_at))
                .push_bind(event.leaf_hash.to_vec());
        });
        insert.build().execute(&mut *tx).await?;
    }
    for chunk in plan.field_keys.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO field_keys (key_id, author_id, wrapped, created_at) ",
        );
        insert.push_values(chunk, |mut row, key| {
            row.push_bind(key.key_id.to_string())
                .push_bind(key.author.to_string())
                .push_bind(key.wrapped.as_slice())
                .push_bind(key.created_at.timestamp_millis());
        });
        insert.build().execute(&mut *tx).await?;
    }
    crate::destroy_keys_in!(tx, &plan.key_destructions);
    tx.commit().await?;
    Ok(plan)
}

async fn snapshot(
    tx: &mut Transaction<'_, Sqlite>,
    appends: &[Append],
) -> Result<LogSnapshot, StoreError> {
    let mut snapshot = LogSnapshot::default();
    let last =
        sqlx::query("SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(row) = last {
        snapshot.head = from_i64(row.try_get("position")?);
        let at: String = row.try_get("recorded_at")?;
        snapshot.last_recorded_at = Some(parse_time(snapshot.head, &at)?);
    }
    let (streams, ids) = touched(appends);
    for chunk in streams.chunks(IDS_PER_QUERY) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT stream_id, MAX(stream_version) AS version FROM events WHERE stream_id IN (",
        );
        let mut list = query.separated(", ");
        for stream in chunk {
            list.push_bind(stream.as_str());
        }
        query.push(") GROUP BY stream_id");
        for row in query.build().fetch_all(&mut **tx).await? {
            let version: i64 = row.try_get("version")?;
            snapshot
                .versions
                .insert(row.try_get("stream_id")?, from_i64(version));
        }
    }
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {COLUMNS} FROM events WHERE event_id IN ("
        ));
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        query.push(")");
        for row in query.build().fetch_all(&mut **tx).await? {
            let event = decode(&row)?;
            snapshot.existing.insert(event.event_id, event);
        }
    }
    Ok(snapshot)
}

async fn read_head(pool: &SqlitePool) -> Result<u64, StoreError> {
    let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(head.map(from_i64).unwrap_or(0))
}

/// Another process (say `advice-log demo` while the server runs) may append
/// to the same file; look now and then so followers hear of it.
async fn poll_external(pool: SqlitePool, head: Arc<watch::Sender<u64>>) {
    let mut interval = tokio::time::interval(EXTERNAL_POLL);
    loop {
        interval.tick().await;
        match read_head(&pool).await {
            Ok(now) => {
                head.send_if_modified(|current| advance(current, now));
            }
            Err(StoreError::Database(error)) if matches!(*error, sqlx::Error::PoolClosed) => return,
            Err(error) => tracing::warn!(%error, "could not read the head of the log"),
        }
    }
}

fn decode(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let position = from_i64(row.try_get("position")?);
    let corrupt = |reason: String| StoreError::Corrupt { position, reason };
    let event_id: String = row.try_get("event_id")?;
    let payload: String = row.try_get("payload")?;
    let metadata: String = row.try_get("metadata")?;
    let recorded_at: String = row.try_get("recorded_at")?;
    let leaf_hash: Vec<u8> = row.try_get("leaf_hash")?;
    Ok(RecordedEvent {
        position,
        event_id: Uuid::parse_str(&event_id).map_err(|e| corrupt(format!("event id: {e}")))?,
        stream_id: row.try_get("stream_id")?,
        stream_version: from_i64(row.try_get("stream_version")?),
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: serde_json::from_str(&payload).map_err(|e| corrupt(format!("payload: {e}")))?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt(format!("metadata: {e}")))?,
        recorded_at: parse_time(position, &recorded_at)?,
        leaf_hash: leaf_hash
            .try_into()
            .map_err(|_| corrupt("leaf hash is not 32 bytes".into()))?,
    })
}

fn parse_time(position: u64, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            position,
            reason: format!("recorded_at: {e}"),
        })
}

/// A stored checkpoint from its row.
fn checkpoint_row(
    (size, root, note, at): (i64, Vec<u8>, String, String),
) -> Result<super::StoredCheckpoint, StoreError> {
    let tree_size = from_i64(size);
    Ok(super::StoredCheckpoint {
        tree_size,
        root: root.try_into().map_err(|_| StoreError::Corrupt {
            position: tree_size,
            reason: "checkpoint root is not 32 bytes".into(),
        })?,
        note,
        issued_at: parse_time(tree_size, &at)?,
    })
}

/// A page of the log as one value. sqlx hands each row of an answer from its
/// worker thread to the caller on its own (a thread wake-up per row), which
/// costs more than reading the row; so each row is packed as a frame
/// `position,stream_version,schema_version,plain,` then the byte lengths of
/// event_id, stream_id, event_type, payload, metadata, recorded_at and
/// leaf_hash, `:`, and those columns' bytes as stored; `plain` says every
/// column has the storage class `decode` expects. A row with a NULL has no
/// frame (and the count tells).
const CANONICAL_PAGE: &str = "SELECT count(*), CAST(group_concat(\
    position || ',' || stream_version || ',' || schema_version || ',' || \
    (typeof(stream_version) = 'integer' AND typeof(schema_version) = 'integer' \
     AND typeof(event_id) = 'text' AND typeof(stream_id) = 'text' \
     AND typeof(event_type) = 'text' AND typeof(payload) = 'text' \
     AND typeof(metadata) = 'text' AND typeof(recorded_at) = 'text' \
     AND typeof(leaf_hash) = 'blob') || ',' || \
    octet_length(event_id) || ',' || octet_length(stream_id) || ',' || \
    octet_length(event_type) || ',' || octet_length(payload) || ',' || \
    octet_length(metadata) || ',' || octet_length(recorded_at) || ',' || \
    octet_length(leaf_hash) || ':' || \
    event_id || stream_id || event_type || payload || metadata || recorded_at || leaf_hash, \
    '') AS BLOB) \
    FROM (SELECT * FROM events WHERE position > ?1 ORDER BY position LIMIT ?2)";

/// One row of [`CANONICAL_PAGE`]: its position, and its columns when they
/// are what `decode` expects (text that is UTF-8, a schema version that fits).
struct Frame<'a> {
    position: u64,
    event: Option<super::canonical::StoredEvent<'a>>,
}

/// The rows packed by [`CANONICAL_PAGE`]; `None` unless there are exactly
/// `count` well-formed frames at increasing positions after `after`.
fn unpack_frames<'a>(packed: &'a [u8], after: u64, count: i64) -> Option<Vec<Frame<'a>>> {
    use super::canonical::{StoredEvent, StoredId, StoredTime};
    let mut frames = Vec::with_capacity(usize::try_from(count).ok()?);
    let mut rest = packed;
    let mut last = after;
    while !rest.is_empty() {
        let mut numbers = [0i64; 11];
        for (i, number) in numbers.iter_mut().enumerate() {
            let end = if i == 10 { b':' } else { b',' };
            let length = rest.iter().position(|&b| b == end)?;
            *number = decimal(&rest[..length])?;
            rest = &rest[length + 1..];
        }
        let [position, stream_version, schema_version, plain, lengths @ ..] = numbers;
        let mut columns: [&[u8]; 7] = [&[]; 7];
        for (column, length) in columns.iter_mut().zip(lengths) {
            let length = usize::try_from(length).ok()?;
            if length > rest.len() {
                return None;
            }
            (*column, rest) = rest.split_at(length);
        }
        let position = u64::try_from(position).ok()?;
        if position <= last {
            return None;
        }
        last = position;
        let text = |bytes: &'a [u8]| std::str::from_utf8(bytes).ok();
        let [event_id, stream_id, event_type, payload, metadata, recorded_at, leaf_hash] = columns;
        let event = (|| {
            if plain != 1 {
                return None;
            }
            Some(StoredEvent {
                position,
                event_id: StoredId::Text(text(event_id)?),
                stream_id: text(stream_id)?,
                stream_version: from_i64(stream_version),
                event_type: text(event_type)?,
                schema_version: i32::try_from(schema_version).ok()?,
                payload: text(payload)?,
                metadata: text(metadata)?,
                recorded_at: StoredTime::Text(text(recorded_at)?),
                leaf_hash,
            })
        })();
        frames.push(Frame { position, event });
    }
    (i64::try_from(frames.len()).ok()? == count).then_some(frames)
}

/// An integer as SQLite writes it in text.
fn decimal(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        value = value
            .checked_mul(10)?
            .checked_add(if negative { -d } else { d })?;
    }
    Some(value)
}
