//! Following the log: every event after a position, in order, then new ones as
//! they are committed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::watch;

use super::error::StoreError;
use super::event::RecordedEvent;
use super::EventStore;

/// How many events a follower reads at a time.
const PAGE: u32 = 512;
/// How long a follower waits for a notification before looking anyway.
const RECHECK: Duration = Duration::from_secs(1);

struct Follower {
    store: Arc<dyn EventStore>,
    cursor: u64,
    buffer: VecDeque<RecordedEvent>,
    head: watch::Receiver<u64>,
    /// The last read reached the head: wait for a commit before reading.
    caught_up: bool,
}

/// A stream of every event after position `after`, in position order, that
/// goes on with new events as they are committed. It ends when the store is
/// closed, and yields an error (then ends) if a read fails.
pub fn follow(
    store: Arc<dyn EventStore>,
    after: u64,
) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send {
    let head = store.watch_head();
    let follower = Follower {
        store,
        cursor: after,
        buffer: VecDeque::new(),
        head,
        caught_up: false,
    };
    futures::stream::unfold(Some(follower), |state| async move {
        let mut follower = state?;
        loop {
            if let Some(event) = follower.buffer.pop_front() {
                follower.cursor = event.position;
                return Some((Ok(event), Some(follower)));
            }
            if follower.caught_up {
                follower.caught_up = false;
                let waited = tokio::time::timeout(RECHECK, follower.head.changed()).await;
                if let Ok(Err(_)) = waited {
                    // The store is gone: nothing more will be written.
                    return None;
                }
            }
            // Mark the current head as seen before reading, so a commit that
            // lands after the read still wakes the wait above.
            let seen = *follower.head.borrow_and_update();
            match follower.store.read_all(follower.cursor, PAGE).await {
                Ok(page) => {
                    // A page that reaches the head seen before the read (or
                    // an empty one) is the end for now: after it, wait for
                    // the next commit rather than read an empty page to
                    // learn that.
                    follower.caught_up = page.last().is_none_or(|e| e.position >= seen);
                    follower.buffer.extend(page);
                }
                Err(error) => return Some((Err(error), None)),
            }
        }
    })
}
