//! Which server leads: when several servers share one PostgreSQL database,
//! exactly one at a time writes the shared read models and issues
//! checkpoints. The leader holds a session-level advisory lock on a
//! connection of its own; when that connection ends (the server stops or
//! dies), PostgreSQL releases the lock and another server takes it within
//! [`POLL`]. On SQLite (one file, one server) the server always leads.
//!
//! Checkpoints are fenced: the leader stores them on the lock's own
//! connection, in a statement that first finds the lock held by that very
//! session ([`Leadership::store_checkpoint`]). While a session holds the lock
//! nobody else can, and a session that ended (the lock gone with it) runs no
//! statement, so a deposed leader, however late its request, stores nothing.

use std::sync::Mutex;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::{EventStore, StoreError, StoredCheckpoint};

/// The advisory lock the leader holds ("advice-log leader").
const LOCK_KEY: i64 = 0x6164_7669_6365_4c64;
/// How often a follower tries to take the lead, and the leader checks its
/// connection.
pub const POLL: Duration = Duration::from_millis(500);

/// A checkpoint to store on the lock's connection, and where to answer.
struct Fenced {
    checkpoint: StoredCheckpoint,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Whether this server leads, kept current by a task of its own.
pub struct Leadership {
    leading: watch::Sender<bool>,
    /// Fenced writes for the task holding the lock (`None`: always leads).
    fenced: Option<mpsc::Sender<Fenced>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Leadership {
    /// A server that always leads (the only one on its database).
    pub fn always() -> Self {
        Leadership {
            leading: watch::Sender::new(true),
            fenced: None,
            task: Mutex::new(None),
        }
    }

    /// A server that leads while it holds the advisory lock on the database
    /// `options` connect to.
    pub fn by_advisory_lock(options: PgConnectOptions) -> Self {
        let leading = watch::Sender::new(false);
        let (fenced, requests) = mpsc::channel(16);
        let task = tokio::spawn(contend(options, leading.clone(), requests));
        Leadership {
            leading,
            fenced: Some(fenced),
            task: Mutex::new(Some(task)),
        }
    }

    /// Whether this server leads now.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    /// Hears when this server takes or loses the lead.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// Stores a checkpoint if, and only if, this server leads when the
    /// database takes it: on the advisory lock's own connection, in one
    /// statement that checks the lock is held by that connection's session.
    /// [`StoreError::NotLeader`] when it is not (another server leads, this
    /// one lost its connection, or stopped). A server that always leads
    /// stores it in `store` directly.
    pub async fn store_checkpoint(
        &self,
        store: &dyn EventStore,
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let Some(fenced) = &self.fenced else {
            return store.store_checkpoint(checkpoint).await;
        };
        let (reply, answer) = oneshot::channel();
        let request = Fenced {
            checkpoint: checkpoint.clone(),
            reply,
        };
        // A task that has stopped holds no lock.
        fenced
            .send(request)
            .await
            .map_err(|_| StoreError::NotLeader)?;
        answer.await.map_err(|_| StoreError::NotLeader)?
    }

    /// Gives the lead up (the lock's connection closes) and stops contending.
    pub fn stop(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task {
            task.abort();
        }
        self.leading.send_replace(false);
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Takes the lock when it is free and holds it while the connection lives,
/// reconnecting after losing it; meanwhile stores the checkpoints asked for
/// on that connection.
async fn contend(
    options: PgConnectOptions,
    leading: watch::Sender<bool>,
    mut requests: mpsc::Receiver<Fenced>,
) {
    let mut connection: Option<PgConnection> = None;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(error) = poll(&options, &mut connection, &leading).await {
                    lose(&mut connection, &leading, &error);
                }
            }
            request = requests.recv() => {
                let Some(Fenced { checkpoint, reply }) = request else {
                    // The `Leadership` is gone.
                    return;
                };
                let stored = store(&mut connection, &leading, &checkpoint).await;
                reply.send(stored).ok();
            }
        }
    }
}

/// One round: connects if need be, then checks the connection (leading) or
/// tries for the lock (following). An error means the lock is (or may be)
/// gone.
async fn poll(
    options: &PgConnectOptions,
    connection: &mut Option<PgConnection>,
    leading: &watch::Sender<bool>,
) -> Result<(), sqlx::Error> {
    let connection = match connection {
        Some(connection) => connection,
        None => connection.insert(PgConnection::connect_with(options).await?),
    };
    if *leading.borrow() {
        sqlx::query("SELECT 1").execute(&mut *connection).await?;
    } else {
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK_KEY)
            .fetch_one(&mut *connection)
            .await?;
        if taken {
            tracing::info!("this server leads: it writes the read models and issues checkpoints");
            leading.send_replace(true);
        }
    }
    Ok(())
}

/// Drops the connection (and with it the lock, if it still held it): the
/// next round connects afresh and contends again.
fn lose(
    connection: &mut Option<PgConnection>,
    leading: &watch::Sender<bool>,
    error: &dyn std::fmt::Display,
) {
    *connection = None;
    if leading.send_replace(false) {
        tracing::warn!(%error, "this server lost the lead");
    } else {
        tracing::warn!(%error, "could not contend for the lead");
    }
}

/// Stores a checkpoint on the lock's connection if this server leads.
async fn store(
    connection: &mut Option<PgConnection>,
    leading: &watch::Sender<bool>,
    checkpoint: &StoredCheckpoint,
) -> Result<(), StoreError> {
    let is_leading = *leading.borrow();
    let Some(held) = connection.as_mut().filter(|_| is_leading) else {
        return Err(StoreError::NotLeader);
    };
    let stored = super::postgres::insert_checkpoint(&mut *held, checkpoint, Some(LOCK_KEY)).await;
    match stored {
        Err(StoreError::NotLeader) => {
            // Only this session could have let the lock go; it never does.
            lose(connection, leading, &"the lock is no longer held");
            Err(StoreError::NotLeader)
        }
        Err(StoreError::Database(error)) => {
            // The statement failed: if the connection did too, so did the
            // lock, and nothing was stored.
            if let Err(lost) = sqlx::query("SELECT 1").execute(&mut *held).await {
                lose(connection, leading, &lost);
                return Err(StoreError::NotLeader);
            }
            Err(StoreError::Database(error))
        }
        other => other,
    }
}
