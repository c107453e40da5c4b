//! Running a command: load the state it needs, decide, append with expected
//! versions, retry on a concurrent change, answer a repeated `commandId` with
//! the original result, and wait for the read models to see the write.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{App, AppError};
use crate::domain::events::{DomainEvent, Upcasters};
use crate::domain::metadata::Metadata;
use crate::domain::{ActingRole, Caller, Decided};
use crate::read::aggregates::Step;
use crate::store::{
    Append, EventData, ExpectedVersion, KeyDestruction, RecordedEvent, StoreError, StreamAppend,
};

/// How often a command is re-decided after a concurrent change before the
/// caller is told `CONFLICT`. Every round of a contended stream lets at least
/// one command through, so this bounds the contenders that all succeed or
/// get their own answer (say, 64 adoptions racing for one budget).
const ATTEMPTS: usize = 256;
/// How long a mutation waits for the read models to show its own write.
pub(super) const READ_YOUR_WRITES: Duration = Duration::from_secs(5);
/// Names the event ids derived from a command id.
const COMMAND_NAMESPACE: Uuid = Uuid::from_u128(0x5d1e_7c0a_93b4_4f6e_8a21_6c0f_d2b9_a417);

/// Who sends a command, with its optional id and reason.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    /// Who is calling.
    pub caller: Caller,
    /// The client's id for the command: sending it twice appends once.
    pub command_id: Option<Uuid>,
    /// Why, where the command carries a reason.
    pub reason: Option<String>,
}

impl CommandMeta {
    /// The same command, recording why.
    pub fn with_reason(&self, reason: &str) -> Self {
        CommandMeta {
            reason: Some(reason.trim().to_string()),
            ..self.clone()
        }
    }
}

impl CommandMeta {
    /// A command from `caller` with an optional command id.
    pub fn new(caller: Caller, command_id: Option<Uuid>) -> Self {
        CommandMeta {
            caller,
            command_id,
            reason: None,
        }
    }
}

/// What a command answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The highest position it appended.
    pub position: u64,
    /// The id of the object it touched (its first stream's aggregate).
    pub subject: Uuid,
    /// True when this repeats an earlier command with the same id.
    pub replayed: bool,
}

/// What one attempt decided to write.
#[derive(Debug, Default)]
pub struct Plan {
    role: Option<ActingRole>,
    streams: Vec<PlannedWrite>,
    key_destructions: Vec<KeyDestruction>,
}

/// Events of one stream as `(event_type, payload)`, with the version expected.
#[derive(Debug)]
struct PlannedWrite {
    stream: String,
    expected: ExpectedVersion,
    events: Vec<(String, Value)>,
}

impl Plan {
    /// Writes a decision's events to a stream expected at `version`
    /// (0: the stream must not exist yet). The first stream names the subject.
    pub fn write<E: DomainEvent>(
        mut self,
        stream: String,
        version: u64,
        decided: Decided<E>,
    ) -> Self {
        self.role.get_or_insert(decided.role);
        let events = decided.events.iter().map(DomainEvent::to_stored).collect();
        self.streams.push(PlannedWrite {
            stream,
            expected: expected(version),
            events,
        });
        self
    }

    /// Destroys keys (an erasure, a redaction) in the same transaction as
    /// the events that record it.
    pub fn destroy_keys(mut self, destruction: KeyDestruction) -> Self {
        self.key_destructions.push(destruction);
        self
    }

    /// Requires a stream to still be at `version` when the write commits,
    /// without writing to it (a fact the decision relied on).
    pub fn check(mut self, stream: String, version: u64) -> Self {
        self.streams.push(PlannedWrite {
            stream,
            expected: expected(version),
            events: Vec::new(),
        });
        self
    }
}

fn expected(version: u64) -> ExpectedVersion {
    if version == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(version)
    }
}

impl App {
    /// Loads an aggregate: its state folded from its stream, and its version.
    /// An event of the stream that cannot be read is an error naming its
    /// position.
    pub async fn load<E, S>(
        &self,
        stream: &str,
        evolve: fn(S, &E) -> S,
    ) -> Result<(S, u64), AppError>
    where
        E: DomainEvent + 'static,
        S: Clone + Default + Send + Sync + 'static,
    {
        let step = move |state: S, stored: &RecordedEvent| {
            Ok(match crate::stored::decode::<E>(stored)? {
                Some(event) => evolve(state, &event),
                None => state,
            })
        };
        let (state, version) = self.load_folded(stream, Arc::new(step)).await?;
        Ok((Arc::unwrap_or_clone(state), version))
    }

    /// A stream's state folded by `step`, and its version: from the cache of
    /// folded aggregates when it holds the stream, else read from the log
    /// (and kept there for the next command). An event `step` cannot read
    /// is an error naming its position.
    pub async fn load_folded<S>(
        &self,
        stream: &str,
        step: Step<S>,
    ) -> Result<(Arc<S>, u64), AppError>
    where
        S: Clone + Default + Send + Sync + 'static,
    {
        let cache = self.read.aggregates();
        if let Some(hit) = cache.get::<S>(stream) {
            return Ok(hit);
        }
        cache.watch(stream);
        let events = self.store.read_stream(stream).await?;
        let version = events.last().map(|e| e.stream_version).unwrap_or(0);
        let state = Arc::new(events.iter().try_fold(S::default(), |s, e| step(s, e))?);
        cache.fill(stream, state.clone(), version, step);
        Ok((state, version))
    }

    /// A refusal may rest on cached states that were behind the log (another
    /// server's write not yet followed): it stands if the read models had
    /// seen everything committed when it was made (`seen`); otherwise the
    /// command is decided again once they have caught up, or, if they
    /// cannot, on states read from the log alone.
    async fn recheck_refusal<F, Fut>(
        &self,
        seen: u64,
        refusal: crate::domain::DomainError,
        attempt: &F,
    ) -> Result<Plan, AppError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Plan, AppError>>,
    {
        let head = self.store.head().await?;
        if seen >= head {
            return Err(AppError::Domain(refusal));
        }
        if !self.read.wait_for(head, READ_YOUR_WRITES).await {
            self.read.aggregates().clear();
        }
        attempt().await
    }

    /// Runs a command named `name` with `input` (its arguments, for telling a
    /// repeated command id from a reused one). `attempt` loads and decides;
    /// it runs again if a stream changed concurrently.
    pub async fn execute<F, Fut>(
        &self,
        meta: &CommandMeta,
        name: &str,
        input: &Value,
        attempt: F,
    ) -> Result<Outcome, AppError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Plan, AppError>>,
    {
        let fingerprint = fingerprint(name, &meta.caller, input);
        if let Some(command_id) = meta.command_id {
            if let Some(outcome) = self.replay(command_id, &fingerprint).await? {
                return Ok(outcome);
            }
        }
        let mut tries = 0;
        loop {
            tries += 1;
            let seen = self.read.position();
            let plan = match attempt().await {
                Err(AppError::Domain(refusal)) => {
                    self.recheck_refusal(seen, refusal, &attempt).await?
                }
                other => other?,
            };
            let append = self.to_append(meta, name, &fingerprint, plan)?;
            let subject = subject_of(&append);
            match self.store.append(append).await {
                Ok(appended) => {
                    let position = appended.last_position();
                    if !self.read.wait_for(position, READ_YOUR_WRITES).await {
                        tracing::warn!(position, "the read models are slow to show a write");
                    }
                    return Ok(Outcome {
                        position,
                        subject,
                        replayed: appended.replayed,
                    });
                }
                Err(StoreError::Conflict { stream_id, .. }) if tries < ATTEMPTS => {
                    // What was cached of that stream is behind; another
                    // stale stream of the plan conflicts on the next try.
                    self.read.aggregates().forget(&stream_id);
                }
                Err(StoreError::EventIdReused { .. }) if meta.command_id.is_some() => {
                    // The same command id raced in from elsewhere and won.
                    let command_id = meta.command_id.unwrap_or_default();
                    return self
                        .replay(command_id, &fingerprint)
                        .await?
                        .ok_or(AppError::CommandIdReused(command_id));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    fn to_append(
        &self,
        meta: &CommandMeta,
        name: &str,
        fingerprint: &str,
        plan: Plan,
    ) -> Result<Append, AppError> {
        let role = plan.role.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("command {name} decided no events"))
        })?;
        let metadata = Metadata {
            actor: meta.caller.person(),
            role: Some(role),
            command: Some(name.to_string()),
            command_id: meta.command_id,
            correlation_id: Some(meta.command_id.unwrap_or_else(Uuid::new_v4)),
            causation_id: None,
            reason: meta.reason.clone(),
            fingerprint: Some(fingerprint.to_string()),
        }
        .to_value();
        let mut index = 0u32;
        let mut next_id = || {
            let id = match meta.command_id {
                Some(command_id) => derived_event_id(command_id, index),
                None => Uuid::new_v4(),
            };
            index += 1;
            id
        };
        let streams = plan
            .streams
            .into_iter()
            .map(|write| StreamAppend {
                stream_id: write.stream,
                expected: write.expected,
                events: write
                    .events
                    .into_iter()
                    .map(|(event_type, payload)| EventData {
                        event_id: next_id(),
                        schema_version: Upcasters::standard().current_version(&event_type),
                        event_type,
                        payload,
                        metadata: metadata.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(Append {
            streams,
            field_keys: Vec::new(),
            key_destructions: plan.key_destructions,
        })
    }

    /// The earlier outcome of a command id, if it was used; refuses a command
    /// id that was used for a different command.
    async fn replay(
        &self,
        command_id: Uuid,
        fingerprint: &str,
    ) -> Result<Option<Outcome>, AppError> {
        let Some(first) = self
            .store
            .read_event(derived_event_id(command_id, 0))
            .await?
        else {
            return Ok(None);
        };
        if crate::stored::metadata_of(&first)?.fingerprint.as_deref() != Some(fingerprint) {
            return Err(AppError::CommandIdReused(command_id));
        }
        let mut position = first.position;
        let mut index = 1;
        while let Some(event) = self
            .store
            .read_event(derived_event_id(command_id, index))
            .await?
        {
            position = position.max(event.position);
            index += 1;
        }
        self.read.wait_for(position, READ_YOUR_WRITES).await;
        Ok(Some(Outcome {
            position,
            subject: stream_subject(&first),
            replayed: true,
        }))
    }
}

/// The id of the `index`th event a command appends.
fn derived_event_id(command_id: Uuid, index: u32) -> Uuid {
    Uuid::new_v5(
        &COMMAND_NAMESPACE,
        format!("{command_id}/{index}").as_bytes(),
    )
}

/// A digest of who sent which command with which arguments.
fn fingerprint(name: &str, caller: &Caller, input: &Value) -> String {
    let document = json!({ "command": name, "caller": caller.person(), "input": input });
    let bytes = crate::store::canonical::canonical_json(&document);
    hex::encode(Sha256::digest(bytes.as_bytes()))
}

fn subject_of(append: &Append) -> Uuid {
    append
        .streams
        .first()
        .and_then(|s| stream_uuid(&s.stream_id))
        .unwrap_or_default()
}

fn stream_subject(event: &RecordedEvent) -> Uuid {
    stream_uuid(&event.stream_id).unwrap_or_default()
}

/// The uuid at the end of a stream name such as `team-<uuid>`.
fn stream_uuid(stream: &str) -> Option<Uuid> {
    stream
        .split_once('-')
        .and_then(|(_, rest)| Uuid::parse_str(rest).ok())
}
