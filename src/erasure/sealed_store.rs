//! The event store as the application sees it: personal data sealed on the
//! way in and opened on the way out ([`super::sealing`]), around the store
//! that keeps the bytes. Leaf hashes, canonical bytes and checkpoints pass
//! through untouched: they cover the sealed bytes, which never change, so
//! proofs and `verify` hold before and after an erasure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;
use uuid::Uuid;

use super::keyring::Keyring;
use super::sealing::{field_keys_of, open_event, seal_event};
use crate::domain::events::DomainEvent;
use crate::domain::proposal::ProposalEvent;
use crate::domain::PersonId;

use crate::store::{
    canonical, leader, Append, Appended, Backend, EventStore, RecordedEvent, StoreError,
    StoredCheckpoint,
};

/// An event store whose personal data is sealed under the keyring's keys.
pub struct SealedStore {
    inner: Arc<dyn EventStore>,
    keyring: Arc<Keyring>,
    /// Whether the last append failed because a person's key could not be
    /// stored (a full disk, say): readiness then probes the key tables.
    sealing_failed: AtomicBool,
}

impl SealedStore {
    /// Seals and opens through `keyring` around `inner`.
    pub fn new(inner: Arc<dyn EventStore>, keyring: Arc<Keyring>) -> SealedStore {
        SealedStore {
            inner,
            keyring,
            sealing_failed: AtomicBool::new(false),
        }
    }

    /// The store that keeps the bytes (sealed), for proofs and exports.
    pub fn inner(&self) -> &Arc<dyn EventStore> {
        &self.inner
    }

    /// The keyring it seals and opens with.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    async fn opened(
        &self,
        mut events: Vec<RecordedEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.forget_what_was_erased(&events).await?;
        for event in &mut events {
            open_event(&self.keyring, event).await?;
        }
        Ok(events)
    }

    /// Erasures and redactions among `events` may have been made by another
    /// server on the database: the keys they destroyed (with the event, in
    /// one transaction) are dropped from memory before anything is opened,
    /// so they are read from the store again, where they are gone.
    async fn forget_what_was_erased(&self, events: &[RecordedEvent]) -> Result<(), StoreError> {
        for event in events {
            match event.event_type.as_str() {
                "PersonErased" => {
                    if let Some(person) = PersonId::from_stream(&event.stream_id) {
                        self.keyring.forget_person(person);
                    }
                }
                "TextRedacted" => {
                    let decoded = ProposalEvent::decode(
                        &event.event_type,
                        event.schema_version,
                        &event.payload,
                    );
                    let Ok(Some(ProposalEvent::TextRedacted { event_id, field })) = decoded else {
                        continue;
                    };
                    if let Some(target) = self.inner.read_event(event_id).await? {
                        let keys = field_keys_of(&target.event_type, &target.payload, &field);
                        self.keyring.forget_fields(&keys);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// An append that reuses event ids already stored: a replay when every
    /// stored event, opened, is the plain event asked for again (sealing
    /// anew draws new nonces, so the stored bytes differ); else the
    /// store's refusal.
    async fn replayed(&self, plain: &Append, refusal: StoreError) -> Result<Appended, StoreError> {
        let mut events = Vec::new();
        for (stream_id, data) in plain.events() {
            let Some(mut stored) = self.inner.read_event(data.event_id).await? else {
                return Err(refusal);
            };
            open_event(&self.keyring, &mut stored).await?;
            if !stored.has_content_of(stream_id, data) {
                return Err(refusal);
            }
            events.push(stored.position_info());
        }
        Ok(Appended {
            events,
            replayed: true,
        })
    }
}

#[async_trait]
impl EventStore for SealedStore {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        let mut sealed = append.clone();
        let mut made = Vec::new();
        for stream in &mut sealed.streams {
            for event in &mut stream.events {
                match seal_event(&self.keyring, &stream.stream_id, event).await {
                    Ok(keys) => made.extend(keys),
                    Err(error) => {
                        self.sealing_failed.store(true, Ordering::Release);
                        return Err(StoreError::Sealing(error.to_string()));
                    }
                }
            }
        }
        self.sealing_failed.store(false, Ordering::Release);
        // The field keys are stored in the append's own transaction.
        sealed
            .field_keys
            .extend(made.iter().map(|(row, _)| row.clone()));
        let result = match self.inner.append(sealed).await {
            Ok(appended) => {
                if !appended.replayed {
                    self.keyring.remember_field_keys(&made);
                }
                Ok(appended)
            }
            Err(refusal @ StoreError::EventIdReused { .. }) => {
                self.replayed(&append, refusal).await
            }
            Err(other) => Err(other),
        };
        if result.is_ok() && !append.key_destructions.is_empty() {
            // Destroyed with the events (or, for a replay, with them before).
            self.keyring.forget_destroyed(&append.key_destructions);
            if let Err(error) = self.keyring.after_destruction().await {
                // The keys are destroyed; the pages that held them leave
                // the WAL at its next checkpoint instead.
                tracing::warn!(%error, "could not empty the WAL after destroying keys");
            }
        }
        result
    }

    async fn read_event(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        match self.inner.read_event(event_id).await? {
            Some(mut event) => {
                open_event(&self.keyring, &mut event).await?;
                Ok(Some(event))
            }
            None => Ok(None),
        }
    }

    async fn read_streams(&self, stream_ids: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.inner.read_streams(stream_ids).await?;
        self.opened(events).await
    }

    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        self.inner.leaf_hashes(after, limit).await
    }

    async fn store_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError> {
        self.inner.store_checkpoint(checkpoint).await
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.inner.checkpoints().await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.inner.latest_checkpoint().await
    }

    async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.inner.read_stream(stream_id).await?;
        self.opened(events).await
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.inner.read_all(after, limit).await?;
        self.opened(events).await
    }

    async fn read_window(
        &self,
        window: crate::window::Window<u64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.inner.read_window(window).await?;
        self.opened(events).await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.inner.head().await
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.inner.watch_head()
    }

    fn leadership(&self) -> Arc<leader::Leadership> {
        self.inner.leadership()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await?;
        if self.sealing_failed.load(Ordering::Acquire) {
            // A person's key could not be stored: can the key tables be
            // written again? (Field keys go with their append, so the log's
            // own readiness covers them.)
            self.keyring
                .probe_store()
                .await
                .map_err(|e| StoreError::Sealing(e.to_string()))?;
            self.sealing_failed.store(false, Ordering::Release);
        }
        Ok(())
    }

    async fn close(&self) {
        self.inner.close().await
    }

    async fn read_canonical(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<canonical::CanonicalPage, StoreError> {
        self.inner.read_canonical(after, limit).await
    }
}
