//! Destroying a key leaves no bytes behind: after a person is erased and
//! fields redacted, no piece of their wrapped keys is in the SQLite file or
//! its WAL, nor in PostgreSQL's `pg_dump --data-only`, while the keys kept
//! are still there (so the search would find them).

use std::path::{Path, PathBuf};

use advice_log::domain::PersonId;
use advice_log::erasure::KeyState;
use advice_log::store::DatabaseUrl;
use chrono::Utc;
use sqlx::Connection;

use crate::keys::Setup;
use crate::on_both_backends;
use crate::support::TestDb;

/// Every form a wrapped key's bytes could be stored or dumped in: raw,
/// hex (as `pg_dump` writes `bytea`), base64 and base64url.
fn forms(bytes: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine;
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut forms = vec![bytes.to_vec(), hex::encode(bytes).into_bytes()];
    forms.extend(engines.iter().map(|e| e.encode(bytes).into_bytes()));
    forms
}

/// The shortest piece of a key that counts as a trace of it: 12 bytes (or
/// 24 characters of text). A random 12-byte run turns up by chance with
/// odds of about 2^-96 per place: found, it is what is left of the key
/// (a freed cell that was unlinked but not overwritten keeps pieces).
const TRACE: usize = 12;

/// Whether any piece of any form of `bytes` is in the copy.
fn traces(copy: &Copy, bytes: &[u8]) -> usize {
    forms(bytes)
        .iter()
        .enumerate()
        .map(|(i, form)| {
            let (width, pieces) = if i == 0 {
                (TRACE, &copy.short)
            } else {
                (2 * TRACE, &copy.long)
            };
            form.windows(width)
                .filter(|piece| pieces.contains(*piece))
                .count()
        })
        .sum()
}

/// Every 12- and 24-byte run of a copy of the database, to look pieces up.
struct Copy {
    whole: Vec<u8>,
    short: std::collections::HashSet<Vec<u8>>,
    long: std::collections::HashSet<Vec<u8>>,
}

impl Copy {
    fn new(whole: Vec<u8>) -> Copy {
        let short = whole.windows(TRACE).map(<[u8]>::to_vec).collect();
        let long = whole.windows(2 * TRACE).map(<[u8]>::to_vec).collect();
        Copy { whole, short, long }
    }

    /// Whether a whole form of `bytes` is in the copy.
    fn holds(&self, bytes: &[u8]) -> bool {
        forms(bytes)
            .iter()
            .any(|form| self.whole.windows(form.len()).any(|w| w == form.as_slice()))
    }
}

/// Everything a copy of the database shows: the SQLite file and its WAL
/// (as they are, or after a checkpoint of our own), or PostgreSQL's
/// `pg_dump --data-only`.
pub(crate) async fn database_bytes(db: &TestDb, checkpoint: bool) -> Vec<u8> {
    match &db.url {
        DatabaseUrl::Sqlite(url) if checkpoint => {
            let mut connection = sqlx::SqliteConnection::connect(url).await.expect("connect");
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut connection)
                .await
                .expect("checkpoint");
            assert_eq!(busy, 0, "the checkpoint completed");
            connection.close().await.expect("close");
            Box::pin(database_bytes(db, false)).await
        }
        DatabaseUrl::Sqlite(url) => {
            let path = PathBuf::from(url.trim_start_matches("sqlite://"));
            let mut bytes = std::fs::read(&path).expect("database file");
            let wal = wal_path(&path);
            if wal.exists() {
                bytes.extend(std::fs::read(&wal).expect("wal file"));
            }
            bytes
        }
        DatabaseUrl::Postgres(url) => {
            let dump = std::process::Command::new("pg_dump")
                .args(["--data-only", "--no-owner", "-d", url])
                .output()
                .expect("run pg_dump");
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            dump.stdout
        }
    }
}

fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

on_both_backends! {
    async fn a_destroyed_keys_bytes_are_gone_from_the_database(backend: Backend) {
        let setup = Setup::new(backend).await;
        let (keyring, storage) = setup.keyring("data.key").await;
        let (ann, bob) = (PersonId::random(), PersonId::random());
        let (ann_field, _) = keyring.new_field_key(ann).await.expect("field key");
        let (bob_redacted, _) = keyring.new_field_key(bob).await.expect("field key");
        let (bob_kept, _) = keyring.new_field_key(bob).await.expect("field key");
        let wrapped = |state: KeyState| match state {
            KeyState::Live(sealed) => sealed.to_bytes(),
            other => panic!("expected a live key, got {other:?}"),
        };
        let keys = storage.keys.clone();
        let field = |id| {
            let keys = keys.clone();
            async move { wrapped(keys.field_key(id).await.expect("field").expect("stored").state) }
        };
        let destroyed = [
            wrapped(keys.person_key(ann).await.expect("ann")),
            field(ann_field).await,
            field(bob_redacted).await,
        ];
        let kept = [wrapped(keys.person_key(bob).await.expect("bob")), field(bob_kept).await];

        // The search finds them while they live.
        let before = Copy::new(database_bytes(&setup.db, true).await);
        for bytes in destroyed.iter().chain(&kept) {
            assert!(before.holds(bytes), "a live wrapped key is found in the copy");
        }

        keyring.erase_person(ann, "erasure request", Utc::now(), false).await.expect("erase");
        keyring.redact_field(ann_field, "also its own", Utc::now()).await.expect("redact");
        keyring.redact_field(bob_redacted, "a patient's name", Utc::now()).await.expect("redact");

        // As the files are (the store checkpointed the WAL itself), and
        // after a checkpoint of our own.
        for checkpoint in [false, true] {
            let after = Copy::new(database_bytes(&setup.db, checkpoint).await);
            for (which, bytes) in destroyed.iter().enumerate() {
                let found = traces(&after, bytes);
                assert_eq!(found, 0, "{found} pieces of destroyed key {which} are in the copy");
            }
            for bytes in &kept {
                assert!(after.holds(bytes), "a kept key stays");
            }
        }
        storage.close().await;
    }
}
