//! Many writers at once: optimistic concurrency on one stream, a gap-free
//! global order, and a follower that sees every event exactly once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use advice_log::store::{Append, ExpectedVersion, Feed, StoreError};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::Barrier;

use crate::on_both_backends;
use crate::support::{event, TestDb};

const TASKS: usize = 64;
const ROUNDS: u64 = 8;

on_both_backends! {
    async fn on_one_stream_exactly_one_append_wins_per_version(backend: Backend) {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let barrier = Arc::new(Barrier::new(TASKS));
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait().await;
                    let expected = if round == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(round) };
                    let append = Append::to_stream("rota", expected, vec![event(json!({"task": task, "round": round}))]);
                    outcomes.push((round, store.append(append).await));
                }
                outcomes
            }));
        }
        let mut wins = vec![0usize; ROUNDS as usize];
        let mut conflicts = vec![0usize; ROUNDS as usize];
        for task in tasks {
            for (round, outcome) in task.await.expect("task") {
                match outcome {
                    Ok(appended) => {
                        assert_eq!(appended.events[0].stream_version, round + 1);
                        wins[round as usize] += 1;
                    }
                    Err(StoreError::Conflict { stream_id, expected, actual }) => {
                        assert_eq!(stream_id, "rota");
                        assert_eq!(actual, round + 1, "the winner of round {round} moved the stream on");
                        assert!(!expected.admits(actual));
                        conflicts[round as usize] += 1;
                    }
                    Err(other) => panic!("unexpected error {other:?}"),
                }
            }
        }
        assert_eq!(wins, vec![1; ROUNDS as usize]);
        assert_eq!(conflicts, vec![TASKS - 1; ROUNDS as usize]);
        let stored = store.read_all(0, 1000).await.expect("read");
        assert_eq!(stored.iter().map(|e| e.position).collect::<Vec<_>>(), (1..=ROUNDS).collect::<Vec<_>>());
        assert_eq!(stored.iter().map(|e| e.stream_version).collect::<Vec<_>>(), (1..=ROUNDS).collect::<Vec<_>>());
        store.close().await;
    }
}

on_both_backends! {
    async fn writers_on_many_streams_all_succeed_and_a_follower_sees_each_event_once(backend: Backend) {
        const PER_TASK: usize = 20;
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let total = TASKS * PER_TASK * 2;

        // Two followers of the server's one feed, each at its own pace...
        let feed = Feed::start(Arc::clone(&store)).await.expect("feed");
        let follower = tokio::spawn(feed.follow(0).take(total).collect::<Vec<_>>());
        let slow = tokio::spawn(
            feed.follow(0)
                .then(|e| async move {
                    tokio::task::yield_now().await;
                    e
                })
                .take(total)
                .collect::<Vec<_>>(),
        );
        // ...and a naive poller reading `position > cursor` as fast as it can,
        // which would see a hole if positions ever became visible out of order.
        let poller = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut cursor = 0u64;
                let mut reads = 0usize;
                while cursor < total as u64 {
                    let page = store.read_all(cursor, 10_000).await.expect("read");
                    for stored in &page {
                        assert_eq!(stored.position, cursor + 1, "a reader saw position {} right after {}", stored.position, cursor);
                        cursor = stored.position;
                    }
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            })
        };

        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..PER_TASK {
                    let expected = if n == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(2 * n as u64) };
                    let append = Append::to_stream(
                        format!("team-{task}"),
                        expected,
                        vec![event(json!({"task": task, "n": n})), event(json!({"task": task, "n": n, "second": true}))],
                    );
                    ids.extend(append.events().map(|(_, e)| e.event_id));
                    store.append(append).await.expect("every append on its own stream succeeds");
                }
                ids
            }));
        }
        let mut written = HashSet::new();
        for task in tasks {
            written.extend(task.await.expect("task"));
        }
        assert_eq!(written.len(), total);

        let seen = tokio::time::timeout(Duration::from_secs(30), follower)
            .await
            .expect("the follower caught up")
            .expect("follower task");
        let positions: Vec<u64> = seen.iter().map(|e| e.as_ref().expect("event").position).collect();
        assert_eq!(positions, (1..=total as u64).collect::<Vec<_>>(), "in order, once each, no gap");
        let seen_ids: HashSet<_> = seen.iter().map(|e| e.as_ref().expect("event").event_id).collect();
        assert_eq!(seen_ids, written);
        let slow = tokio::time::timeout(Duration::from_secs(30), slow)
            .await
            .expect("the second follower caught up")
            .expect("follower task");
        let slow: Vec<u64> = slow.iter().map(|e| e.as_ref().expect("event").position).collect();
        assert_eq!(slow, positions, "the second follower saw the same events in the same order");
        let reads = tokio::time::timeout(Duration::from_secs(30), poller)
            .await
            .expect("the poller caught up")
            .expect("poller task");
        assert!(reads > 1, "the poller read while the writers wrote");

        // Each stream kept its own gap-free version sequence.
        for task in 0..TASKS {
            let stream = store.read_stream(&format!("team-{task}")).await.expect("read stream");
            assert_eq!(stream.iter().map(|e| e.stream_version).collect::<Vec<_>>(), (1..=(2 * PER_TASK) as u64).collect::<Vec<_>>());
        }
        store.close().await;
    }
}
