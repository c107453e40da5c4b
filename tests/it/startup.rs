//! Start-up reads only the log's tail (issue 15): the directory and the
//! Merkle tree's chunk hashes are kept as snapshots beside the log, and a
//! snapshot that does not match the log is rebuilt, never trusted.

use std::sync::Arc;

use advice_log::app::App;
use advice_log::assurance::tree::LogTree;
use advice_log::domain::events::DomainEvent;
use advice_log::domain::person::PersonEvent;
use advice_log::domain::PersonId;
use advice_log::store::{Append, EventData, EventStore, ExpectedVersion, Snapshot, StreamAppend};
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestDb;

/// Registers `count` people straight into the log, 500 per append.
async fn register(store: &Arc<dyn EventStore>, count: usize) {
    for batch in 0..count.div_ceil(500) {
        let streams = (0..500.min(count - batch * 500))
            .map(|n| {
                let (event_type, payload) = PersonEvent::PersonRegistered {
                    name: format!("Nurse {batch}.{n}"),
                    email: format!("nurse{batch}.{n}@example.org"),
                    org_role: None,
                }
                .to_stored();
                StreamAppend {
                    stream_id: PersonId::random().stream(),
                    expected: ExpectedVersion::NoStream,
                    events: vec![EventData {
                        event_id: uuid::Uuid::new_v4(),
                        event_type,
                        schema_version: 1,
                        payload,
                        metadata: json!({}),
                    }],
                }
            })
            .collect();
        store
            .append(Append {
                streams,
                ..Append::default()
            })
            .await
            .expect("append");
    }
}

on_both_backends! {
    async fn the_directory_starts_from_its_snapshot_and_reads_only_the_tail(backend: Backend) {
        let db = TestDb::new(backend).await;
        let storage = db.unlocked().await;
        register(&storage.events, 10_050).await;

        // The first start reads the whole log and keeps a snapshot of it.
        let first = App::start(storage.clone()).await.expect("start");
        assert_eq!(first.read.position(), 10_050);
        let stored = storage.snapshots.load_snapshot("directory").await.expect("load").expect("a snapshot");
        assert_eq!(stored.position, 10_050);
        drop(first);

        // Two more people; the next start takes the snapshot and the tail.
        register(&storage.events, 2).await;
        let second = App::start(storage.clone()).await.expect("start");
        assert_eq!(second.read.position(), 10_052);
        let people = second.read.directory().person_count();
        assert_eq!(people, 10_052, "everyone, from the snapshot and the tail");
        drop(second);

        // A snapshot of another format is not read, even one that would
        // parse (here with everyone missing): the log is.
        let mut body: serde_json::Value = serde_json::from_slice(&stored.body).expect("JSON");
        body["persons"] = json!({});
        let mut other = stored.clone();
        other.format = "directory/0".into();
        other.body = serde_json::to_vec(&body).expect("JSON");
        storage.snapshots.save_snapshot("directory", &other).await.expect("save");
        let third = App::start(storage.clone()).await.expect("start");
        assert_eq!(third.read.directory().person_count(), 10_052);
        storage.close().await;
    }
}

on_both_backends! {
    async fn the_merkle_tree_keeps_its_chunks_and_ignores_a_false_snapshot(backend: Backend) {
        let db = TestDb::new(backend).await;
        let storage = db.unlocked().await;
        register(&storage.events, 4 * 1024 + 10).await;
        let size = storage.events.head().await.expect("head");
        let tree = || LogTree::new(storage.events.clone()).with_snapshots(storage.snapshots.clone());
        let expected = LogTree::new(storage.events.clone()).root(size).await.expect("root from the log alone");

        assert_eq!(tree().root(size).await.expect("root"), expected);
        let stored = storage.snapshots.load_snapshot("merkle-chunks").await.expect("load").expect("kept");
        assert_eq!(stored.position, 4 * 1024, "the complete chunks the root used");
        assert_eq!(stored.body.len(), 4 * 32);

        // A restarted tree takes the stored chunks and answers the same root.
        assert_eq!(tree().root(size).await.expect("root"), expected);

        // A false chunk hash is caught (the last one is checked against the
        // log) and the tree is hashed from the log again.
        let mut body = stored.body.clone();
        body[4 * 32 - 1] ^= 1;
        let forged = Snapshot { body, ..stored.clone() };
        storage.snapshots.save_snapshot("merkle-chunks", &forged).await.expect("save");
        assert_eq!(tree().root(size).await.expect("root"), expected);
        let repaired = storage.snapshots.load_snapshot("merkle-chunks").await.expect("load").expect("kept");
        assert_eq!(repaired.body, stored.body, "the snapshot is stored again from the log");
        storage.close().await;
    }
}
