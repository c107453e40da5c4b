//! Which server leads: when several servers share one PostgreSQL database,
//! exactly one at a time writes the shared read models and issues
//! checkpoints. The leader holds a session-level advisory lock on a
//! connection of its own; when that connection ends (the server stops or
//! dies), PostgreSQL releases the lock and another server takes it within
//! [`POLL`]. On SQLite (one file, one server) the server always leads.

use std::sync::Mutex;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The advisory lock the leader holds ("advice-log leader").
const LOCK_KEY: i64 = 0x6164_7669_6365_4c64;
/// How often a follower tries to take the lead, and the leader checks its
/// connection.
pub const POLL: Duration = Duration::from_millis(500);

/// Whether this server leads, kept current by a task of its own.
pub struct Leadership {
    leading: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Leadership {
    /// A server that always leads (the only one on its database).
    pub fn always() -> Self {
        Leadership {
            leading: watch::Sender::new(true),
            task: Mutex::new(None),
        }
    }

    /// A server that leads while it holds the advisory lock on the database
    /// `options` connect to.
    pub fn by_advisory_lock(options: PgConnectOptions) -> Self {
        let leading = watch::Sender::new(false);
        let task = tokio::spawn(contend(options, leading.clone()));
        Leadership {
            leading,
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

/// Takes the lock when it is free and holds it while the connection lives;
/// reconnects after losing it.
async fn contend(options: PgConnectOptions, leading: watch::Sender<bool>) {
    loop {
        match PgConnection::connect_with(&options).await {
            Ok(mut connection) => {
                if let Err(error) = hold(&mut connection, &leading).await {
                    if leading.send_replace(false) {
                        tracing::warn!(%error, "this server lost the lead");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not connect to contend for the lead"),
        }
        leading.send_replace(false);
        tokio::time::sleep(POLL).await;
    }
}

/// Tries for the lock until it is taken, then checks the connection; an
/// error means the lock is (or may be) gone.
async fn hold(
    connection: &mut PgConnection,
    leading: &watch::Sender<bool>,
) -> Result<(), sqlx::Error> {
    loop {
        if *leading.borrow() {
            sqlx::query("SELECT 1").execute(&mut *connection).await?;
        } else {
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(LOCK_KEY)
                .fetch_one(&mut *connection)
                .await?;
            if taken {
                tracing::info!(
                    "this server leads: it writes the read models and issues checkpoints"
                );
                leading.send_replace(true);
            }
        }
        tokio::time::sleep(POLL).await;
    }
}
