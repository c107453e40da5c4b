//! The keyring: every person's and field's key, unwrapped in memory for
//! the server's reads (which look keys up without waiting), and the one
//! way keys are made and destroyed. The store is written first, the memory
//! after: a key in memory is always one the store holds. A field key is
//! stored with the append whose event it seals, in the same transaction.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::ErasureError;
use super::kek::KeyEncryptionKey;
use super::key::DataKey;
use super::seal::{unwrap, wrap, Sealed};
use super::store::{
    field_key_aad, person_key_aad, FieldKeyRecord, KeyState, KeyStore, PersonKeyRecord, PutOutcome,
};
use crate::domain::PersonId;
use crate::store::{DestroyedKeys, FieldKeyRow, KeyDestruction};

/// What the keyring knows of a key.
#[derive(Debug, Clone)]
pub enum KeyLookup {
    /// The key, unwrapped.
    Live(Arc<DataKey>),
    /// The key was destroyed (for a field key: or its author's was): what
    /// it sealed is erased.
    Erased,
    /// The keyring holds no such key (another server may have made it
    /// since the last refresh; [`Keyring::load_field_key`] asks the store).
    Unknown,
}

/// A field key in memory: its author, whether it outlives them, and the
/// key unless it is erased.
#[derive(Debug, Clone)]
struct FieldEntry {
    author: PersonId,
    kept: bool,
    key: Option<Arc<DataKey>>,
}

/// The keys in memory; `None` is a destroyed key.
#[derive(Debug, Default)]
struct Cache {
    persons: HashMap<PersonId, Option<Arc<DataKey>>>,
    fields: HashMap<Uuid, FieldEntry>,
}

/// The key-encryption key, the store of wrapped keys and the unwrapped keys.
pub struct Keyring {
    kek: KeyEncryptionKey,
    store: Arc<dyn KeyStore>,
    cache: RwLock<Cache>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cache = self.read();
        f.debug_struct("Keyring")
            .field("kek", &self.kek)
            .field("person_keys", &cache.persons.len())
            .field("field_keys", &cache.fields.len())
            .finish()
    }
}

fn unreadable(what: String) -> ErasureError {
    ErasureError::Key(format!(
        "{what} does not unwrap: its stored bytes were changed"
    ))
}

impl Keyring {
    /// Checks that `kek` is the database's key (writing the check on first
    /// use; another key is [`ErasureError::WrongKek`] and writes nothing),
    /// then loads and unwraps every stored key.
    pub async fn open(
        kek: KeyEncryptionKey,
        store: Arc<dyn KeyStore>,
    ) -> Result<Keyring, ErasureError> {
        store.check_kek(&kek).await?;
        let keyring = Keyring {
            kek,
            store,
            cache: RwLock::new(Cache::default()),
        };
        keyring.refresh().await?;
        Ok(keyring)
    }

    /// The key-encryption key's fingerprint, for messages.
    pub fn kek_fingerprint(&self) -> String {
        self.kek.fingerprint()
    }

    /// Reloads every key from the store: another server on the same
    /// database may have made keys or destroyed them. Keys this keyring
    /// made meanwhile are kept; a destroyed key is dropped from memory.
    pub async fn refresh(&self) -> Result<(), ErasureError> {
        let persons = self.store.all_person_keys().await?;
        let fields = self.store.all_field_keys().await?;
        let mut fresh = Cache::default();
        for record in persons {
            let key = self.person_entry(&record)?;
            fresh.persons.insert(record.person, key);
        }
        for record in fields {
            let author = fresh.persons.get(&record.author).cloned().flatten();
            let entry = self.field_entry(&record, author.as_deref())?;
            fresh.fields.insert(record.key_id, entry);
        }
        let mut cache = self.write();
        // What happened here while the store was read: a key made here is
        // kept (the store has it too), and a key destroyed here stays
        // destroyed even if the store was read before (destruction is for
        // good, so a tombstone seen anywhere wins).
        for (person, key) in cache.persons.drain() {
            match key {
                None => {
                    fresh.persons.insert(person, None);
                }
                Some(key) => {
                    fresh.persons.entry(person).or_insert(Some(key));
                }
            }
        }
        for (key_id, entry) in cache.fields.drain() {
            if entry.key.is_none() {
                fresh.fields.insert(key_id, entry);
            } else {
                fresh.fields.entry(key_id).or_insert(entry);
            }
        }
        let Cache { persons, fields } = &mut fresh;
        for entry in fields.values_mut() {
            if !entry.kept && !matches!(persons.get(&entry.author), Some(Some(_))) {
                entry.key = None;
            }
        }
        *cache = fresh;
        Ok(())
    }

    /// The person's key, to seal their data with: made, stored and kept on
    /// first use. Two servers asking at once end with the one key the
    /// store kept. An erased person is [`ErasureError::Erased`].
    pub async fn person_key_for_writing(
        &self,
        person: PersonId,
    ) -> Result<Arc<DataKey>, ErasureError> {
        match self.person_key(person) {
            KeyLookup::Live(key) => return Ok(key),
            KeyLookup::Erased => return Err(ErasureError::Erased(person)),
            KeyLookup::Unknown => {}
        }
        let key = DataKey::random()?;
        let wrapped = wrap(self.kek.key(), &key, &person_key_aad(person))?;
        let stored = match self
            .store
            .put_person_key(person, &wrapped, Utc::now())
            .await?
        {
            PutOutcome::Stored => Some(Arc::new(key)),
            PutOutcome::Existing(state) => self.person_entry(&PersonKeyRecord { person, state })?,
        };
        let mut cache = self.write();
        // Another task here may have cached the same stored key first.
        let kept = cache.persons.entry(person).or_insert(stored).clone();
        kept.ok_or(ErasureError::Erased(person))
    }

    /// The person's key from memory, without waiting.
    pub fn person_key(&self, person: PersonId) -> KeyLookup {
        match self.read().persons.get(&person) {
            Some(Some(key)) => KeyLookup::Live(key.clone()),
            Some(None) => KeyLookup::Erased,
            None => KeyLookup::Unknown,
        }
    }

    /// The person's key, from the store when memory does not hold it
    /// (another server made it after this one's last refresh); never makes
    /// one. `Unknown` when the store has none either.
    pub async fn load_person_key(&self, person: PersonId) -> Result<KeyLookup, ErasureError> {
        if let found @ (KeyLookup::Live(_) | KeyLookup::Erased) = self.person_key(person) {
            return Ok(found);
        }
        let state = self.store.person_key(person).await?;
        if matches!(state, KeyState::Missing) {
            return Ok(KeyLookup::Unknown);
        }
        let key = self.person_entry(&PersonKeyRecord { person, state })?;
        self.write().persons.entry(person).or_insert(key);
        Ok(self.person_key(person))
    }

    /// A new key for one field written by `author`, wrapped under the
    /// author's key, not yet stored: the row to store with the append that
    /// seals the field under it (see [`FieldKeyRow`]), and the key. Once
    /// that append is stored, [`Keyring::remember_field_keys`] keeps it in
    /// memory. An erased author is [`ErasureError::Erased`].
    pub async fn make_field_key(
        &self,
        author: PersonId,
    ) -> Result<(FieldKeyRow, Arc<DataKey>), ErasureError> {
        let author_key = self.person_key_for_writing(author).await?;
        // Time-ordered, so each new key goes at the end of the keys' index
        // (a random id would land on a random page of it, and every group
        // commit would rewrite as many pages as it stores keys).
        let key_id = Uuid::now_v7();
        let key = DataKey::random()?;
        let wrapped = wrap(&author_key, &key, &field_key_aad(key_id))?;
        let row = FieldKeyRow {
            key_id,
            author: author.0,
            wrapped: wrapped.to_bytes(),
            created_at: Utc::now(),
        };
        Ok((row, Arc::new(key)))
    }

    /// Keeps in memory the field keys of an append that was stored (each
    /// row with its key, as [`Keyring::make_field_key`] made them). A key
    /// whose author was erased meanwhile is kept as erased.
    pub fn remember_field_keys(&self, made: &[(FieldKeyRow, Arc<DataKey>)]) {
        let mut cache = self.write();
        for (row, key) in made {
            let author = PersonId(row.author);
            let author_erased = matches!(cache.persons.get(&author), Some(None));
            cache.fields.entry(row.key_id).or_insert(FieldEntry {
                author,
                kept: false,
                key: (!author_erased).then(|| key.clone()),
            });
        }
    }

    /// A new key for one field written by `author`, made and stored on its
    /// own (outside any append): its id and the key. An erased author is
    /// [`ErasureError::Erased`].
    pub async fn new_field_key(
        &self,
        author: PersonId,
    ) -> Result<(Uuid, Arc<DataKey>), ErasureError> {
        let (row, key) = self.make_field_key(author).await?;
        let wrapped = Sealed::from_bytes(&row.wrapped)?;
        match self
            .store
            .put_field_key(row.key_id, author, &wrapped, row.created_at)
            .await?
        {
            PutOutcome::Stored => {}
            PutOutcome::Existing(_) => {
                return Err(ErasureError::Key(format!(
                    "field key id {} is taken",
                    row.key_id
                )))
            }
        }
        let key_id = row.key_id;
        self.remember_field_keys(&[(row, key.clone())]);
        if matches!(self.person_key(author), KeyLookup::Erased) {
            return Err(ErasureError::Erased(author));
        }
        Ok((key_id, key))
    }

    /// Learns whether the store of keys takes writes again (for readiness,
    /// after a person's key could not be stored).
    pub async fn probe_store(&self) -> Result<(), ErasureError> {
        Ok(self.store.probe().await?)
    }

    /// A field's key from memory, without waiting: erased when the field's
    /// key or its author's key was destroyed.
    pub fn field_key(&self, key_id: Uuid) -> KeyLookup {
        let cache = self.read();
        match cache.fields.get(&key_id) {
            Some(FieldEntry {
                key: Some(key),
                kept: true,
                ..
            }) => KeyLookup::Live(key.clone()),
            Some(FieldEntry {
                key: Some(key),
                author,
                ..
            }) => match cache.persons.get(author) {
                Some(Some(_)) => KeyLookup::Live(key.clone()),
                _ => KeyLookup::Erased,
            },
            Some(FieldEntry { key: None, .. }) => KeyLookup::Erased,
            None => KeyLookup::Unknown,
        }
    }

    /// A field's key from the store, for one that memory does not hold
    /// (another server made it after this one's last refresh); kept in
    /// memory from then on.
    pub async fn load_field_key(&self, key_id: Uuid) -> Result<KeyLookup, ErasureError> {
        if let found @ (KeyLookup::Live(_) | KeyLookup::Erased) = self.field_key(key_id) {
            return Ok(found);
        }
        let Some(record) = self.store.field_key(key_id).await? else {
            return Ok(KeyLookup::Unknown);
        };
        let author = match self.person_key(record.author) {
            KeyLookup::Live(key) => Some(key),
            KeyLookup::Erased => None,
            KeyLookup::Unknown => {
                let state = self.store.person_key(record.author).await?;
                let person = PersonKeyRecord {
                    person: record.author,
                    state,
                };
                let key = self.person_entry(&person)?;
                self.write()
                    .persons
                    .entry(record.author)
                    .or_insert(key)
                    .clone()
            }
        };
        let entry = self.field_entry(&record, author.as_deref())?;
        self.write().fields.entry(key_id).or_insert(entry);
        Ok(self.field_key(key_id))
    }

    /// Erases a person outside any append (the application records an
    /// erasure and destroys the keys in one append instead): destroys their
    /// key in the store (leaving a tombstone with `reason` and `at`), then
    /// drops it from memory, with every field key they wrote unless
    /// `keep_contributions`: then each of those is first wrapped again under
    /// the key-encryption key, so what they wrote stays readable without
    /// them. Everything else sealed under them is unreadable from then on,
    /// here and (after a refresh) on every other server.
    pub async fn erase_person(
        &self,
        person: PersonId,
        reason: &str,
        at: DateTime<Utc>,
        keep_contributions: bool,
    ) -> Result<(), ErasureError> {
        if keep_contributions {
            self.keep_contributions(person).await?;
        }
        let destructions = person_erasure(person, reason, at, keep_contributions);
        for destruction in &destructions {
            self.store.destroy(destruction).await?;
        }
        self.forget_destroyed(&destructions);
        Ok(())
    }

    /// Drops destroyed keys from memory (once the store destroyed them).
    pub fn forget_destroyed(&self, destructions: &[KeyDestruction]) {
        let mut cache = self.write();
        for destruction in destructions {
            match destruction.keys {
                DestroyedKeys::Person(person) => {
                    let person = PersonId(person);
                    cache.persons.insert(person, None);
                    for entry in cache.fields.values_mut() {
                        if entry.author == person && !entry.kept {
                            entry.key = None;
                        }
                    }
                }
                DestroyedKeys::Field(key_id) => {
                    // The author of a key never loaded here does not
                    // matter: a destroyed key reads as erased whoever
                    // wrote it.
                    cache
                        .fields
                        .entry(key_id)
                        .or_insert(FieldEntry {
                            author: PersonId(Uuid::nil()),
                            kept: false,
                            key: None,
                        })
                        .key = None;
                }
                DestroyedKeys::KeptFieldsOf(author) => {
                    for entry in cache.fields.values_mut() {
                        if entry.author.0 == author && entry.kept {
                            entry.key = None;
                        }
                    }
                }
            }
        }
    }

    /// Drops a person's key and every field key they wrote from memory, so
    /// the next use reads them from the store again: after an erasure that
    /// another server made (the store says what was destroyed, and which of
    /// their field keys were kept).
    pub fn forget_person(&self, person: PersonId) {
        let mut cache = self.write();
        cache.persons.remove(&person);
        cache.fields.retain(|_, entry| entry.author != person);
    }

    /// Drops field keys from memory, so the next use reads them from the
    /// store again (after a redaction another server made).
    pub fn forget_fields(&self, key_ids: &[Uuid]) {
        let mut cache = self.write();
        for key_id in key_ids {
            cache.fields.remove(key_id);
        }
    }

    /// Finishes destructions in the store (see
    /// [`KeyStore::after_destruction`]).
    pub async fn after_destruction(&self) -> Result<(), ErasureError> {
        Ok(self.store.after_destruction().await?)
    }

    /// Wraps every live field key `author` wrote under the key-encryption
    /// key instead of theirs, in the store and in memory: what they wrote
    /// then outlives their key. Done before an erasure that keeps their
    /// contributions (if that erasure is then refused, the keys are merely
    /// kept; a later erasure with contributions destroys them).
    pub async fn keep_contributions(&self, author: PersonId) -> Result<(), ErasureError> {
        let author_key = match self.person_key(author) {
            KeyLookup::Live(key) => key,
            KeyLookup::Erased => return Ok(()),
            KeyLookup::Unknown => match self.store.person_key(author).await? {
                KeyState::Live(_) => self.person_key_for_writing(author).await?,
                _ => return Ok(()),
            },
        };
        let records = self.store.all_field_keys().await?;
        for record in records
            .into_iter()
            .filter(|r| r.author == author && !r.kept)
        {
            let KeyState::Live(wrapped) = &record.state else {
                continue;
            };
            let key = unwrap_field(&author_key, wrapped, record.key_id)?;
            let rewrapped = wrap(self.kek.key(), &key, &field_key_aad(record.key_id))?;
            if self.store.keep_field_key(record.key_id, &rewrapped).await? {
                self.write().fields.insert(
                    record.key_id,
                    FieldEntry {
                        author,
                        kept: true,
                        key: Some(Arc::new(key)),
                    },
                );
            }
        }
        Ok(())
    }

    /// Redacts one field outside any append (the application records a
    /// redaction and destroys the key in one append instead): destroys its
    /// key in the store (leaving a tombstone), then drops it from memory. A
    /// key the store does not hold is [`ErasureError::NoSuchFieldKey`].
    pub async fn redact_field(
        &self,
        key_id: Uuid,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), ErasureError> {
        let destruction = KeyDestruction {
            keys: DestroyedKeys::Field(key_id),
            reason: reason.to_string(),
            at,
        };
        if self.store.destroy(&destruction).await? == 0 {
            return Err(ErasureError::NoSuchFieldKey(key_id));
        }
        self.forget_destroyed(&[destruction]);
        Ok(())
    }

    /// A stored person key, unwrapped (`None`: destroyed).
    fn person_entry(&self, record: &PersonKeyRecord) -> Result<Option<Arc<DataKey>>, ErasureError> {
        match &record.state {
            KeyState::Live(wrapped) => {
                unwrap(self.kek.key(), wrapped, &person_key_aad(record.person))
                    .map(|key| Some(Arc::new(key)))
                    .map_err(|_| unreadable(format!("the key of person {}", record.person)))
            }
            KeyState::Destroyed { .. } => Ok(None),
            KeyState::Missing => Err(ErasureError::Key(format!(
                "the store kept no key for person {}",
                record.person
            ))),
        }
    }

    /// A stored field key, unwrapped under its author's key (or, when it
    /// is kept, the key-encryption key); no key when the author is erased
    /// (and it is not kept) or the field key was destroyed.
    fn field_entry(
        &self,
        record: &FieldKeyRecord,
        author: Option<&DataKey>,
    ) -> Result<FieldEntry, ErasureError> {
        let wrapping = if record.kept {
            Some(self.kek.key())
        } else {
            author
        };
        let key = match (&record.state, wrapping) {
            (KeyState::Live(wrapped), Some(wrapping)) => {
                Some(Arc::new(unwrap_field(wrapping, wrapped, record.key_id)?))
            }
            _ => None,
        };
        Ok(FieldEntry {
            author: record.author,
            kept: record.kept,
            key,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Cache> {
        // A panic while holding the lock cannot leave the maps half-changed
        // (each change is one insert or one flag), so a poisoned lock is
        // still good to read.
        self.cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Cache> {
        self.cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The key destructions that erase `person`: their key, and unless their
/// contributions are kept, any of their field keys kept earlier.
pub fn person_erasure(
    person: PersonId,
    reason: &str,
    at: DateTime<Utc>,
    keep_contributions: bool,
) -> Vec<KeyDestruction> {
    let destruction = |keys| KeyDestruction {
        keys,
        reason: reason.to_string(),
        at,
    };
    let mut destructions = vec![destruction(DestroyedKeys::Person(person.0))];
    if !keep_contributions {
        destructions.push(destruction(DestroyedKeys::KeptFieldsOf(person.0)));
    }
    destructions
}

fn unwrap_field(author: &DataKey, wrapped: &Sealed, key_id: Uuid) -> Result<DataKey, ErasureError> {
    unwrap(author, wrapped, &field_key_aad(key_id))
        .map_err(|_| unreadable(format!("field key {key_id}")))
}
