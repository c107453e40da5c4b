//! Appends, reads, idempotency, the triggers, restarts and shutdown.

use std::collections::HashSet;
use std::sync::Arc;

use advice_log::store::canonical::event_leaf_hash;
use advice_log::store::{Append, ExpectedVersion, StoreError, StreamAppend};
use serde_json::json;

use crate::on_both_backends;
use crate::support::{event, TestDb};

on_both_backends! {
    async fn appends_are_read_back_in_order_with_their_hashes(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let first = store
            .append(Append::to_stream("a", ExpectedVersion::NoStream, vec![event(json!({"n": 1})), event(json!({"n": 2}))]))
            .await
            .expect("first append");
        assert!(!first.replayed);
        assert_eq!(first.events.iter().map(|e| (e.position, e.stream_version)).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
        store
            .append(Append::to_stream("b", ExpectedVersion::Any, vec![event(json!({"n": 3, "text": "émoji ✓ \u{0}"}))]))
            .await
            .expect("second append");
        store
            .append(Append::to_stream("a", ExpectedVersion::Exact(2), vec![event(json!({"n": 4}))]))
            .await
            .expect("third append");

        let all = store.read_all(0, 100).await.expect("read all");
        assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(all[2].payload, json!({"n": 3, "text": "émoji ✓ \u{0}"}));
        for stored in &all {
            assert_eq!(stored.leaf_hash, event_leaf_hash(stored), "leaf hash at {}", stored.position);
        }
        let a = store.read_stream("a").await.expect("read stream a");
        assert_eq!(a.iter().map(|e| e.stream_version).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(a.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(store.read_all(2, 1).await.expect("page").iter().map(|e| e.position).collect::<Vec<_>>(), [3]);
        assert_eq!(store.head().await.expect("head"), 4);
        assert_eq!(*store.watch_head().borrow(), 4);
        store.close().await;
    }
}

on_both_backends! {
    async fn a_conflict_names_the_stream_and_both_versions_and_appends_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        store.append(Append::to_stream("budget", ExpectedVersion::NoStream, vec![event(json!({}))])).await.expect("seed");
        let both = Append {
            streams: vec![
                StreamAppend { stream_id: "proposal".into(), expected: ExpectedVersion::NoStream, events: vec![event(json!({}))] },
                StreamAppend { stream_id: "budget".into(), expected: ExpectedVersion::Exact(0), events: vec![event(json!({}))] },
            ],
            ..Append::default()
        };
        let error = store.append(both).await.expect_err("budget is at version 1");
        match &error {
            StoreError::Conflict { stream_id, expected, actual } => {
                assert_eq!(stream_id, "budget");
                assert_eq!(*expected, ExpectedVersion::Exact(0));
                assert_eq!(*actual, 1);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(error.to_string(), "conflict on stream budget: expected version 0, but it is at version 1");
        assert_eq!(store.head().await.expect("head"), 1);
        assert!(store.read_stream("proposal").await.expect("read").is_empty());
        store.close().await;
    }
}

on_both_backends! {
    async fn a_retried_append_answers_the_original_positions(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let append = Append::to_stream("s", ExpectedVersion::NoStream, vec![event(json!({"n": 1})), event(json!({"n": 2}))]);
        let first = store.append(append.clone()).await.expect("first");
        store.append(Append::to_stream("s", ExpectedVersion::Any, vec![event(json!({"n": 3}))])).await.expect("another");
        let again = store.append(append.clone()).await.expect("retry");
        assert!(again.replayed);
        assert_eq!(again.events, first.events);
        assert_eq!(store.head().await.expect("head"), 3);

        let mut changed = append.clone();
        changed.streams[0].events[1].payload = json!({"n": 99});
        let error = store.append(changed).await.expect_err("same id, other content");
        assert!(matches!(error, StoreError::EventIdReused { event_id } if event_id == append.streams[0].events[1].event_id));
        assert_eq!(store.head().await.expect("head"), 3);
        store.close().await;
    }
}

on_both_backends! {
    async fn the_database_refuses_update_and_delete(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        store.append(Append::to_stream("s", ExpectedVersion::Any, vec![event(json!({"n": 1}))])).await.expect("append");
        let before = store.read_all(0, 10).await.expect("read");
        let statements = [
            "UPDATE events SET payload = '{\"n\":2}' WHERE position = 1",
            "UPDATE events SET stream_id = 'other'",
            "DELETE FROM events WHERE position = 1",
            "DELETE FROM events",
        ];
        match backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(db.raw_url()).await.expect("raw connection");
                for sql in statements {
                    let error = sqlx::query(sql).execute(&pool).await.expect_err(sql);
                    assert!(error.to_string().contains("append-only"), "{sql}: {error}");
                }
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(db.raw_url()).await.expect("raw connection");
                for sql in statements.into_iter().chain(["TRUNCATE events"]) {
                    let error = sqlx::query(sql).execute(&pool).await.expect_err(sql);
                    assert!(error.to_string().contains("append-only"), "{sql}: {error}");
                }
                pool.close().await;
            }
        }
        assert_eq!(store.read_all(0, 10).await.expect("read"), before);
        store.close().await;
    }
}

on_both_backends! {
    async fn data_survives_closing_and_reopening(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        for n in 0..5 {
            store.append(Append::to_stream(format!("s{n}"), ExpectedVersion::NoStream, vec![event(json!({"n": n}))])).await.expect("append");
        }
        let before = store.read_all(0, 100).await.expect("read");
        store.close().await;
        drop(store);

        let reopened = db.store().await;
        assert_eq!(reopened.read_all(0, 100).await.expect("read"), before);
        assert_eq!(*reopened.watch_head().borrow(), 5);
        let next = reopened
            .append(Append::to_stream("s0", ExpectedVersion::Exact(1), vec![event(json!({}))]))
            .await
            .expect("append after reopening");
        assert_eq!(next.events[0].position, 6);
        reopened.close().await;
    }
}

on_both_backends! {
    async fn closing_finishes_queued_appends_and_half_writes_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let mut tasks = Vec::new();
        for n in 0..200u64 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let append = Append::to_stream(format!("s{n}"), ExpectedVersion::NoStream, vec![event(json!({"n": n})), event(json!({"n": n}))]);
                let ids: Vec<_> = append.events().map(|(_, e)| e.event_id).collect();
                (ids, store.append(append).await)
            }));
        }
        tokio::task::yield_now().await;
        store.close().await;
        let mut acknowledged = HashSet::new();
        for task in tasks {
            let (ids, result) = task.await.expect("task");
            match result {
                Ok(appended) => {
                    assert_eq!(appended.events.len(), 2);
                    acknowledged.extend(ids);
                }
                Err(StoreError::Closed) => {}
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        drop(store);
        let reopened = db.store().await;
        let stored = reopened.read_all(0, 1000).await.expect("read");
        let stored_ids: HashSet<_> = stored.iter().map(|e| e.event_id).collect();
        assert_eq!(stored_ids, acknowledged, "exactly the acknowledged appends are stored");
        assert_eq!(stored.iter().map(|e| e.position).collect::<Vec<_>>(), (1..=stored.len() as u64).collect::<Vec<_>>());
        reopened.close().await;
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let db = TestDb::new(advice_log::store::Backend::Sqlite).await;
    let store = db.store().await;
    let pool = sqlx::SqlitePool::connect(db.raw_url())
        .await
        .expect("raw connection");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    pool.close().await;
    store.close().await;
}
