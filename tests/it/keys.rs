//! The key layer for erasure on real databases: keys survive a restart, two
//! servers agree on one person's key, erasing and redacting read as erased
//! here and (after a refresh) on another server, and a wrong key-encryption
//! key is refused with nothing written, and a free-text value's key is
//! stored in its event's transaction (`key_bytes.rs`: a destroyed key's
//! bytes are gone). The keyring runs as the least-privilege application
//! role on PostgreSQL, so the grants are tested too.

use std::sync::Arc;

use advice_log::backend::Storage;
use advice_log::domain::metadata::Metadata;
use advice_log::domain::PersonId;
use advice_log::erasure::{DataKey, ErasureError, KeyEncryptionKey, KeyLookup, KeyState, Keyring};
use advice_log::store::{
    Append, DestroyedKeys, EventData, ExpectedVersion, KeyDestruction, StoreError,
};
use chrono::Utc;
use sqlx::Connection;

use crate::on_both_backends;
use crate::support::TestDb;

/// A database set up as the server finds it, and a folder for key files.
pub struct Setup {
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub async fn new(backend: advice_log::store::Backend) -> Setup {
        let db = TestDb::new(backend).await;
        db.migrate_and_grant().await;
        Setup {
            db,
            dir: tempfile::tempdir().expect("key folder"),
        }
    }

    /// A server's view of the database (as the application role).
    pub async fn storage(&self) -> Storage {
        advice_log::backend::open(&self.db.app_database())
            .await
            .expect("open the database")
    }

    /// The key-encryption key file `name` in the key folder (created on
    /// first use).
    pub fn kek(&self, name: &str) -> KeyEncryptionKey {
        KeyEncryptionKey::load_or_create(&self.dir.path().join(name))
            .expect("key-encryption key")
            .0
    }

    /// A keyring on a fresh connection to the database (another "server").
    pub async fn keyring(&self, kek: &str) -> (Keyring, Storage) {
        let storage = self.storage().await;
        let keyring = Keyring::open(self.kek(kek), storage.keys.clone())
            .await
            .expect("open the keyring");
        (keyring, storage)
    }
}

fn live(lookup: KeyLookup) -> Arc<DataKey> {
    match lookup {
        KeyLookup::Live(key) => key,
        other => panic!("expected a live key, got {other:?}"),
    }
}

fn erased(lookup: KeyLookup) -> bool {
    matches!(lookup, KeyLookup::Erased)
}

on_both_backends! {
    async fn the_keyring_survives_a_restart(backend: Backend) {
        let setup = Setup::new(backend).await;
        let ann = PersonId::random();
        let (keyring, storage) = setup.keyring("data.key").await;
        let person = keyring.person_key_for_writing(ann).await.expect("person key");
        let (field_id, field) = keyring.new_field_key(ann).await.expect("field key");
        assert_eq!(*live(keyring.person_key(ann)), *person);
        assert_eq!(*live(keyring.field_key(field_id)), *field);
        assert!(matches!(keyring.person_key(PersonId::random()), KeyLookup::Unknown));
        storage.close().await;
        drop(keyring);

        let (restarted, storage) = setup.keyring("data.key").await;
        assert_eq!(*live(restarted.person_key(ann)), *person);
        assert_eq!(*live(restarted.field_key(field_id)), *field);
        // Asking to write for Ann again gives her one key, not a new one.
        assert_eq!(*restarted.person_key_for_writing(ann).await.expect("again"), *person);
        assert_eq!(storage.keys.all_person_keys().await.expect("keys").len(), 1);
        storage.close().await;
    }
}

on_both_backends! {
    async fn two_servers_racing_for_a_person_key_end_with_one_key(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (first, first_storage) = setup.keyring("data.key").await;
        let (second, second_storage) = setup.keyring("data.key").await;
        let people: Vec<PersonId> = (0..20).map(|_| PersonId::random()).collect();
        let race = people.iter().map(|&person| {
            let (first, second) = (&first, &second);
            async move {
                let (a, b) = tokio::join!(
                    first.person_key_for_writing(person),
                    second.person_key_for_writing(person)
                );
                (a.expect("first server"), b.expect("second server"))
            }
        });
        for (a, b) in futures::future::join_all(race).await {
            assert_eq!(*a, *b, "both servers use the key the store kept");
        }
        let stored = first_storage.keys.all_person_keys().await.expect("keys");
        assert_eq!(stored.len(), people.len(), "one key per person");
        // A third server reads the same keys.
        let (third, third_storage) = setup.keyring("data.key").await;
        for &person in &people {
            assert_eq!(*live(third.person_key(person)), *live(first.person_key(person)));
        }
        for storage in [first_storage, second_storage, third_storage] {
            storage.close().await;
        }
    }
}

on_both_backends! {
    async fn an_erased_person_and_all_they_wrote_read_as_erased_everywhere(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (here, here_storage) = setup.keyring("data.key").await;
        let (ann, bob) = (PersonId::random(), PersonId::random());
        let (ann_note, _) = here.new_field_key(ann).await.expect("field key");
        let (ann_reason, _) = here.new_field_key(ann).await.expect("field key");
        let (bob_note, bob_key) = here.new_field_key(bob).await.expect("field key");
        // Another server that loaded the keys before the erasure.
        let (there, there_storage) = setup.keyring("data.key").await;
        assert!(matches!(there.field_key(ann_note), KeyLookup::Live(_)));

        let at = Utc::now();
        here.erase_person(ann, "erasure request 2026-17", at, false).await.expect("erase");
        assert!(erased(here.person_key(ann)));
        assert!(erased(here.field_key(ann_note)));
        assert!(erased(here.field_key(ann_reason)));
        assert_eq!(*live(here.field_key(bob_note)), *bob_key, "Bob is untouched");
        assert!(matches!(here.person_key_for_writing(ann).await, Err(ErasureError::Erased(p)) if p == ann));
        assert!(matches!(here.new_field_key(ann).await, Err(ErasureError::Erased(_))));
        match here_storage.keys.person_key(ann).await.expect("stored") {
            KeyState::Destroyed { at: when, reason } => {
                assert_eq!(reason, "erasure request 2026-17");
                assert_eq!(when.timestamp_millis(), at.timestamp_millis());
            }
            other => panic!("expected a tombstone, got {other:?}"),
        }

        there.refresh().await.expect("refresh");
        assert!(erased(there.person_key(ann)));
        assert!(erased(there.field_key(ann_note)));
        assert!(erased(there.field_key(ann_reason)));
        assert_eq!(*live(there.field_key(bob_note)), *bob_key);
        assert!(matches!(there.person_key_for_writing(ann).await, Err(ErasureError::Erased(_))));

        // A server started afterwards, and one asking for a key it never saw.
        let (later, later_storage) = setup.keyring("data.key").await;
        assert!(erased(later.person_key(ann)));
        assert!(erased(later.field_key(ann_note)));
        // Erasing someone who never had a key leaves a tombstone: no key is
        // made for them later.
        let never = PersonId::random();
        here.erase_person(never, "asked before writing anything", at, false).await.expect("erase");
        later.refresh().await.expect("refresh");
        assert!(matches!(later.person_key_for_writing(never).await, Err(ErasureError::Erased(_))));
        for storage in [here_storage, there_storage, later_storage] {
            storage.close().await;
        }
    }
}

on_both_backends! {
    async fn redacting_one_field_leaves_the_authors_other_fields(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (here, here_storage) = setup.keyring("data.key").await;
        let ann = PersonId::random();
        let (named_patient, _) = here.new_field_key(ann).await.expect("field key");
        let (other, other_key) = here.new_field_key(ann).await.expect("field key");
        let (there, there_storage) = setup.keyring("data.key").await;

        here.redact_field(named_patient, "a patient's name", Utc::now()).await.expect("redact");
        assert!(erased(here.field_key(named_patient)));
        assert_eq!(*live(here.field_key(other)), *other_key);
        assert!(matches!(here.person_key(ann), KeyLookup::Live(_)));

        there.refresh().await.expect("refresh");
        assert!(erased(there.field_key(named_patient)));
        assert_eq!(*live(there.field_key(other)), *other_key);
        // A field key made on one server is found by the other on demand.
        let (fresh, fresh_key) = here.new_field_key(ann).await.expect("field key");
        assert!(matches!(there.field_key(fresh), KeyLookup::Unknown));
        assert_eq!(*live(there.load_field_key(fresh).await.expect("load")), *fresh_key);
        assert_eq!(*live(there.field_key(fresh)), *fresh_key);

        let nowhere = uuid::Uuid::new_v4();
        assert!(matches!(
            here.redact_field(nowhere, "no such field", Utc::now()).await,
            Err(ErasureError::NoSuchFieldKey(id)) if id == nowhere
        ));
        here_storage.close().await;
        there_storage.close().await;
    }
}

on_both_backends! {
    async fn a_wrong_key_encryption_key_is_refused_and_writes_nothing(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (keyring, storage) = setup.keyring("right.key").await;
        keyring.new_field_key(PersonId::random()).await.expect("field key");
        let right = keyring.kek_fingerprint();
        let before = (
            storage.keys.kek_check().await.expect("check"),
            storage.keys.all_person_keys().await.expect("persons"),
            storage.keys.all_field_keys().await.expect("fields"),
        );

        let wrong = setup.kek("wrong.key");
        let given = wrong.fingerprint();
        let path = setup.dir.path().join("wrong.key").display().to_string();
        let refused = Keyring::open(wrong, storage.keys.clone()).await.expect_err("refused");
        let message = refused.to_string();
        match refused {
            ErasureError::WrongKek { path: named, expected_fingerprint, given_fingerprint } => {
                assert_eq!(named, path);
                assert_eq!(expected_fingerprint, right);
                assert_eq!(given_fingerprint, given);
            }
            other => panic!("expected WrongKek, got {other:?}"),
        }
        for needed in [&path, &right, &given, "--data-key", "nothing was written"] {
            assert!(message.contains(needed), "{message:?} lacks {needed:?}");
        }
        let after = (
            storage.keys.kek_check().await.expect("check"),
            storage.keys.all_person_keys().await.expect("persons"),
            storage.keys.all_field_keys().await.expect("fields"),
        );
        assert_eq!(after, before, "nothing was written");
        // The right key still opens it.
        assert!(Keyring::open(setup.kek("right.key"), storage.keys.clone()).await.is_ok());
        storage.close().await;
    }
}

on_both_backends! {
    async fn two_servers_setting_up_with_different_keys_end_with_one(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (one, two) = (setup.storage().await, setup.storage().await);
        let (a, b) = tokio::join!(
            Keyring::open(setup.kek("a.key"), one.keys.clone()),
            Keyring::open(setup.kek("b.key"), two.keys.clone())
        );
        let refused = match (a, b) {
            (Ok(_), Err(refused)) | (Err(refused), Ok(_)) => refused,
            (a, b) => panic!("exactly one key wins: {a:?} / {b:?}"),
        };
        assert!(matches!(refused, ErasureError::WrongKek { .. }), "{refused:?}");
        one.close().await;
        two.close().await;
    }
}

/// The application role may add and destroy keys but never delete a key's
/// tombstone nor replace the key check row (to slip in another key). Only
/// PostgreSQL has roles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_cannot_delete_keys_or_replace_the_check() {
    let setup = Setup::new(advice_log::store::Backend::Postgres).await;
    let (keyring, storage) = setup.keyring("data.key").await;
    keyring
        .new_field_key(PersonId::random())
        .await
        .expect("field key");
    let mut app = sqlx::PgConnection::connect(&setup.db.app_url())
        .await
        .expect("connect");
    for statement in [
        "DELETE FROM person_keys",
        "DELETE FROM field_keys",
        "DELETE FROM key_check",
        "UPDATE key_check SET fingerprint = 'other'",
        "TRUNCATE person_keys",
    ] {
        let error = sqlx::query(statement)
            .execute(&mut app)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("permission denied"),
            "{statement}: {error}"
        );
    }
    app.close().await.ok();
    storage.close().await;
}

on_both_backends! {
    async fn an_erased_person_can_leave_what_they_wrote_readable(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (here, here_storage) = setup.keyring("data.key").await;
        let ann = PersonId::random();
        let (advice, advice_key) = here.new_field_key(ann).await.expect("field key");
        let (redacted, _) = here.new_field_key(ann).await.expect("field key");
        here.redact_field(redacted, "a patient's name", Utc::now()).await.expect("redact");
        let (there, there_storage) = setup.keyring("data.key").await;

        here.erase_person(ann, "erasure request, contributions kept", Utc::now(), true)
            .await
            .expect("erase");
        assert!(erased(here.person_key(ann)));
        assert_eq!(*live(here.field_key(advice)), *advice_key, "kept, under the KEK");
        assert!(erased(here.field_key(redacted)), "a redacted field stays redacted");
        let stored = here_storage.keys.field_key(advice).await.expect("read").expect("stored");
        assert!(stored.kept);

        // Another server, after a refresh, and one started afterwards.
        there.refresh().await.expect("refresh");
        assert_eq!(*live(there.field_key(advice)), *advice_key);
        let (later, later_storage) = setup.keyring("data.key").await;
        assert_eq!(*live(later.field_key(advice)), *advice_key);
        assert!(erased(later.person_key(ann)));
        for storage in [here_storage, there_storage, later_storage] {
            storage.close().await;
        }
    }
}

/// An event raising a proposal whose body is free text of `author`'s.
fn raised_by(author: PersonId, body: &str) -> EventData {
    let metadata = Metadata {
        actor: Some(author),
        ..Metadata::default()
    };
    EventData {
        event_id: uuid::Uuid::new_v4(),
        event_type: "ProposalRaised".into(),
        schema_version: 1,
        payload: serde_json::json!({ "title": "Rota", "body": body }),
        metadata: metadata.to_value(),
    }
}

on_both_backends! {
    async fn keys_are_stored_and_destroyed_with_their_events_and_never_without_them(backend: Backend) {
        let db = TestDb::new(backend).await;
        let storage = db.unlocked().await;
        let log = storage.sealed_events();
        let keyring = storage.keyring.clone().expect("unlocked");
        let ann = PersonId::random();
        let stream = "proposal-keys";
        log.append(Append::to_stream(stream, ExpectedVersion::NoStream, vec![raised_by(ann, "first")]))
            .await
            .expect("stored");
        let stored = storage.keys.all_field_keys().await.expect("keys");
        assert_eq!(stored.len(), 1, "the body's key is stored with it");
        assert_eq!(stored[0].author, ann);
        let key_id = stored[0].key_id;
        assert!(matches!(keyring.field_key(key_id), KeyLookup::Live(_)), "kept in memory once stored");

        // Refused (the stream exists): its key is not stored either.
        let refused = log
            .append(Append::to_stream(stream, ExpectedVersion::NoStream, vec![raised_by(ann, "second")]))
            .await;
        assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
        assert_eq!(storage.keys.all_field_keys().await.expect("keys").len(), 1, "no key without its event");

        // A redaction refused with its event destroys nothing...
        let redaction = |expected| {
            let mut append = Append::to_stream(stream, expected, vec![raised_by(ann, "the redaction's record")]);
            append.key_destructions.push(KeyDestruction {
                keys: DestroyedKeys::Field(key_id),
                reason: "a patient's name".into(),
                at: Utc::now(),
            });
            append
        };
        let refused = log.append(redaction(ExpectedVersion::Exact(7))).await;
        assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
        assert!(matches!(keyring.field_key(key_id), KeyLookup::Live(_)));
        let read = log.read_stream(stream).await.expect("read");
        assert_eq!(read[0].payload["body"], "first");

        // ...and stored with it, destroys the key in the same commit.
        log.append(redaction(ExpectedVersion::Exact(1))).await.expect("stored");
        assert!(erased(keyring.field_key(key_id)), "forgotten here");
        let tombstone = storage.keys.field_key(key_id).await.expect("read").expect("row");
        assert!(matches!(tombstone.state, KeyState::Destroyed { ref reason, .. } if reason == "a patient's name"));
        let read = log.read_stream(stream).await.expect("read");
        assert_eq!(read[0].payload["body"], "[This text has been erased]");
        assert_eq!(read[1].payload["body"], "the redaction's record", "its own key is live");
        storage.close().await;

        // A server that starts now reads the same.
        let again = db.unlocked().await;
        let read = again.sealed_events().read_stream(stream).await.expect("read again");
        assert_eq!(read[0].payload["body"], "[This text has been erased]");
        assert_eq!(read[1].payload["body"], "the redaction's record");
        again.close().await;
    }
}
