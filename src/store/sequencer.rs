//! The group-commit sequencer: one task per database that takes every append
//! waiting at that moment into one transaction.

use std::sync::atomic::{AtomicBool, Ordering};
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

    /// Writes something small and commits it, to learn whether appends work
    /// again after a batch failed (a full disk, an I/O error, a lost
    /// connection). Nothing is added to the log.
    async fn probe(&self) -> Result<(), StoreError>;
}

enum Job {
    Append {
        append: Append,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Probe {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// Handle to the running sequencer task.
pub struct Sequencer {
    sender: RwLock<Option<mpsc::Sender<Job>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Whether the last commit (batch or probe) failed.
    failing: Arc<AtomicBool>,
}

impl Sequencer {
    /// Starts the sequencer; every committed batch moves `head` forward.
    pub fn start<C: BatchCommit>(committer: C, head: Arc<watch::Sender<u64>>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let failing = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(committer, receiver, head, failing.clone()));
        Sequencer {
            sender: RwLock::new(Some(sender)),
            task: Mutex::new(Some(task)),
            failing,
        }
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, StoreError> {
        match self.sender.read() {
            Ok(guard) => guard.clone().ok_or(StoreError::Closed),
            Err(_) => Err(StoreError::Closed),
        }
    }

    /// Queues an append and waits until its batch is committed.
    pub async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        let sender = self.sender()?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job::Append { append, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        drop(sender);
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Whether appends work: at once if the last commit succeeded; after a
    /// failed one, by committing a probe in turn with the batches (so a disk
    /// that has room again is noticed without waiting for an append).
    pub async fn writable(&self) -> Result<(), StoreError> {
        if !self.failing.load(Ordering::Acquire) {
            return Ok(());
        }
        let sender = self.sender()?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job::Probe { reply })
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
    failing: Arc<AtomicBool>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut probes = Vec::new();
    let mut last_batch = 0;
    while let Some(first) = receiver.recv().await {
        take(first, &mut jobs, &mut probes);
        let mut idle = 0;
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => {
                    take(job, &mut jobs, &mut probes);
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
        if !jobs.is_empty() {
            commit(&committer, &head, &failing, &mut jobs).await;
        }
        for reply in probes.drain(..) {
            let probed = committer.probe().await;
            match &probed {
                Ok(()) => {
                    if failing.swap(false, Ordering::AcqRel) {
                        tracing::info!("appends work again");
                    }
                }
                Err(error) => tracing::warn!(%error, "appends still fail"),
            }
            let _ = reply.send(probed);
        }
    }
}

/// An append waiting for its batch, and where to answer it.
type Waiting = (Append, oneshot::Sender<Result<Appended, StoreError>>);

/// Sorts a job into the appends of the next batch or the probes after it.
fn take(
    job: Job,
    jobs: &mut Vec<Waiting>,
    probes: &mut Vec<oneshot::Sender<Result<(), StoreError>>>,
) {
    match job {
        Job::Append { append, reply } => jobs.push((append, reply)),
        Job::Probe { reply } => probes.push(reply),
    }
}

/// Commits the waiting appends as one batch and answers each caller.
async fn commit<C: BatchCommit>(
    committer: &C,
    head: &watch::Sender<u64>,
    failing: &AtomicBool,
    jobs: &mut Vec<Waiting>,
) {
    let (appends, replies): (Vec<Append>, Vec<_>) = jobs.drain(..).unzip();
    let started = std::time::Instant::now();
    let committed = committer.commit_batch(&appends).await;
    crate::metrics::batch(started.elapsed().as_secs_f64(), appends.len());
    match committed {
        Ok(plan) => {
            if failing.swap(false, Ordering::AcqRel) {
                tracing::info!("appends work again");
            }
            head.send_if_modified(|current| advance(current, plan.head));
            for (reply, result) in replies.into_iter().zip(plan.results) {
                // A caller that stopped waiting does not undo the commit.
                let _ = reply.send(result);
            }
        }
        Err(error) => {
            failing.store(true, Ordering::Release);
            tracing::error!(%error, commands = appends.len(), "a batch failed to commit");
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
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
