//! One composition root per backend: opens a database and builds every part
//! that lives in it (the event log, the read-model tables, the start-up
//! snapshots, the outbox, the wrapped keys) on the same connections. The
//! parts themselves know nothing of each other; only this module puts them
//! together.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::erasure::{
    ErasureError, KeyEncryptionKey, KeyStore, Keyring, PgKeyStore, SealedStore, SqliteKeyStore,
};
use crate::outbox::{Outbox, PgOutbox, SqliteOutbox};
use crate::projection::postgres::PgViews;
use crate::projection::sqlite::SqliteViews;
use crate::projection::ViewStore;
use crate::store::{
    Backend, DatabaseUrl, EventStore, PostgresStore, Snapshots, SqliteStore, StoreError,
};

/// How many pooled connections a PostgreSQL server opens.
const POSTGRES_CONNECTIONS: u32 = 16;

/// Everything one database holds, opened together.
#[derive(Clone)]
pub struct Storage {
    /// The append-only event log.
    pub events: Arc<dyn EventStore>,
    /// The read-model tables fed from it.
    pub views: Arc<dyn ViewStore>,
    /// The start-up snapshots kept beside it.
    pub snapshots: Arc<dyn Snapshots>,
    /// The notification outbox.
    pub outbox: Arc<dyn Outbox>,
    /// The wrapped keys that make personal data erasable.
    pub keys: Arc<dyn KeyStore>,
    /// The keys themselves, once unlocked with the operator's
    /// key-encryption key ([`Storage::unlock`]): then the application seals
    /// personal data as it appends and opens it as it reads.
    pub keyring: Option<Arc<Keyring>>,
}

impl Storage {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.events.backend()
    }

    /// Finishes every queued append, then closes the connections.
    pub async fn close(&self) {
        self.events.close().await;
    }

    /// Unlocks the personal data with the operator's key-encryption key:
    /// checks it is the database's own (on first use it becomes so), loads
    /// every wrapped key. Another key is refused and nothing is written.
    pub async fn unlock(mut self, kek: KeyEncryptionKey) -> Result<Storage, ErasureError> {
        let keyring = Keyring::open(kek, self.keys.clone()).await?;
        self.keyring = Some(Arc::new(keyring));
        Ok(self)
    }

    /// The event log as the application uses it: sealing and opening
    /// personal data when unlocked, else the log as stored.
    pub fn sealed_events(&self) -> Arc<dyn EventStore> {
        match &self.keyring {
            Some(keyring) => Arc::new(SealedStore::new(self.events.clone(), keyring.clone())),
            None => self.events.clone(),
        }
    }
}

/// Opens (creating and migrating as needed) the database the URL names,
/// recording events by the system clock.
pub async fn open(url: &DatabaseUrl) -> Result<Storage, StoreError> {
    open_with_clock(url, Arc::new(SystemClock)).await
}

/// Opens the database the URL names, recording events by `clock`.
pub async fn open_with_clock(
    url: &DatabaseUrl,
    clock: Arc<dyn Clock>,
) -> Result<Storage, StoreError> {
    Ok(match url {
        DatabaseUrl::Sqlite(url) => {
            let store = Arc::new(SqliteStore::open(url, clock).await?);
            Storage {
                views: Arc::new(SqliteViews::new(store.writer(), store.reader())),
                outbox: Arc::new(SqliteOutbox::new(store.writer(), store.reader())),
                keys: Arc::new(SqliteKeyStore::new(store.writer(), store.reader())),
                keyring: None,
                snapshots: store.clone(),
                events: store,
            }
        }
        DatabaseUrl::Postgres(url) => {
            let store = Arc::new(PostgresStore::open(url, POSTGRES_CONNECTIONS, clock).await?);
            Storage {
                views: Arc::new(PgViews::new(store.pool())),
                outbox: Arc::new(PgOutbox::new(store.pool(), store.pool())),
                keys: Arc::new(PgKeyStore::new(store.pool(), store.pool())),
                keyring: None,
                snapshots: store.clone(),
                events: store,
            }
        }
    })
}
