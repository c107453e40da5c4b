//! The group-commit sequencer: one task per database that takes every append
//! waiting at that moment into one transaction.

use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::error::StoreError;
use super::event::{Append, Appended};
use super::plan::BatchPlan;

/// The most commands one transaction takes.
const MAX_BATCH: usize = 1024;
/// How many scheduler turns in a row the sequencer waits for another writer
/// to join a batch, when the last batch had more than one.
const JOIN_TURNS: usize = 4;
/// How many appends may wait for the sequencer before callers wait to queue.
const QUEUE_DEPTH: usize = 8192;

/// A backend's way of committing one batch: open a transaction that holds the
/// log's write lock, read a snapshot, plan with [`super::plan::plan_batch`],
/// insert the planned rows and commit. It answers the plan once committed.
#[async_trait]
pub trait BatchCommit: Send + Sync + 'static {
    /// Commits the batch; an `Err` means nothing of it was written (or, if the
    /// commit itself failed, that the outcome is unknown).
    async fn commit_batch(&self, appends: &[Append]) -> Result<BatchPlan, StoreError>;
}

struct Job {
    append: Append,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// Handle to the running sequencer task.
pub struct Sequencer {
    sender: RwLock<Option<mpsc::Sender<Job>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Sequencer {
    /// Starts the sequencer; every committed batch moves `head` forward.
    pub fn start<C: BatchCommit>(committer: C, head: Arc<watch::Sender<u64>>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let task = tokio::spawn(run(committer, receiver, head));
        Sequencer {
            sender: RwLock::new(Some(sender)),
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues an append and waits until its batch is committed.
    pub async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        let sender = match self.sender.read() {
            Ok(guard) => guard.clone().ok_or(StoreError::Closed)?,
            Err(_) => return Err(StoreError::Closed),
        };
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job { append, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        drop(sender);
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops taking appends, lets every queued append finish, and waits for
    /// the task to end.
    pub async fn close(&self) {
        if let Ok(mut guard) = self.sender.write() {
            guard.take();
        }
        let task = self.task.lock().ok().and_then(|mut guard| guard.take());
        if let Some(task) = task {
            if let Err(error) = task.await {
                tracing::error!(%error, "the sequencer task failed");
            }
        }
    }
}

async fn run<C: BatchCommit>(
    committer: C,
    mut receiver: mpsc::Receiver<Job>,
    head: Arc<watch::Sender<u64>>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut last_batch = 0;
    while let Some(first) = receiver.recv().await {
        jobs.push(first);
        let mut idle = 0;
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => {
                    jobs.push(job);
                    idle = 0;
                }
                // Under concurrent writers, the writers of the last batch
                // are turning round with their next append: give them a few
                // turns of the scheduler to join this batch (one commit for
                // all, like PostgreSQL's commit_delay). A lone writer never
                // waits.
                Err(_) if last_batch > 1 && idle < JOIN_TURNS => {
                    idle += 1;
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        last_batch = jobs.len();
        let (appends, replies): (Vec<Append>, Vec<_>) =
            jobs.drain(..).map(|job| (job.append, job.reply)).unzip();
        let started = std::time::Instant::now();
        let committed = committer.commit_batch(&appends).await;
        crate::metrics::batch(started.elapsed().as_secs_f64(), appends.len());
        match committed {
            Ok(plan) => {
                head.send_if_modified(|current| advance(current, plan.head));
                for (reply, result) in replies.into_iter().zip(plan.results) {
                    // A caller that stopped waiting does not undo the commit.
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                tracing::error!(%error, commands = appends.len(), "a batch failed to commit");
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Moves a head forward, never back; answers whether it moved.
pub fn advance(current: &mut u64, new: u64) -> bool {
    if new > *current {
        *current = new;
        true
    } else {
        false
    }
}
