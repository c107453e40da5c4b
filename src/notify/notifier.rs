//! The notifier: follows the log from its checkpoint and writes, for each
//! proposal event, the outbox rows it causes (an e-mail per person told, a
//! call per webhook that receives it), moving its checkpoint in the same
//! transaction. Only the leading server plans; another takes over from the
//! stored checkpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::schedule::next_digest;
use super::Settings;
use crate::app::App;
use crate::domain::metadata::Metadata;
use crate::domain::notification::{plan, Frequency, People, Planned};
use crate::domain::proposal::{evolve, Adviser, Owner, ProposalEvent, ProposalState};
use crate::domain::webhook::Scope;
use crate::domain::{PersonId, ProposalId, TeamId, TeamRole};
use crate::outbox::{Channel, NewNotification};
use crate::read::directory::Directory;
use crate::store::{RecordedEvent, StoreError};

/// How many events one outbox transaction takes.
pub const PAGE: u32 = 500;
/// How many proposals' states the notifier keeps between events.
const KEPT_STATES: usize = 10_000;

/// Plans the notifications of the log's events.
pub struct Notifier {
    app: Arc<App>,
    settings: Arc<Settings>,
    /// Proposal states as of the last event planned for, with their stream
    /// version.
    states: Mutex<HashMap<ProposalId, (u64, ProposalState)>>,
}

impl Notifier {
    /// A notifier for `app`'s log.
    pub fn new(app: Arc<App>, settings: Arc<Settings>) -> Self {
        Notifier {
            app,
            settings,
            states: Mutex::new(HashMap::new()),
        }
    }

    /// Plans every event after the stored checkpoint it can read now, a page
    /// per transaction; answers how many events it planned for and the
    /// checkpoint reached. [`StoreError::ReadModelsMoved`] when another
    /// server planned first.
    pub async fn catch_up(&self) -> Result<(u64, u64), StoreError> {
        let mut planned = 0;
        loop {
            let checkpoint = self.app.outbox.checkpoint().await?;
            let page = self.app.feed.read(checkpoint, PAGE).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                return Ok((planned, checkpoint));
            };
            let mut rows = Vec::new();
            for event in &page {
                match self.plan_event(event).await {
                    Ok(mut more) => rows.append(&mut more),
                    Err(error) => {
                        // Forget what may be half-applied, then report.
                        self.lock_states().clear();
                        return Err(error);
                    }
                }
            }
            if let Err(error) = self.app.outbox.record(&rows, checkpoint, last).await {
                self.lock_states().clear();
                return Err(error);
            }
            planned += page.len() as u64;
        }
    }

    fn lock_states(&self) -> std::sync::MutexGuard<'_, HashMap<ProposalId, (u64, ProposalState)>> {
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The rows one event causes.
    async fn plan_event(&self, event: &RecordedEvent) -> Result<Vec<NewNotification>, StoreError> {
        let Some(id) = ProposalId::from_stream(&event.stream_id) else {
            return Ok(Vec::new());
        };
        let Some(decoded) = crate::stored::decode::<ProposalEvent>(event)? else {
            return Ok(Vec::new());
        };
        let before = self.state_before(id, event).await?;
        let after = evolve(before.clone(), &decoded, event.recorded_at);
        {
            let mut states = self.lock_states();
            if states.len() >= KEPT_STATES {
                states.clear();
            }
            states.insert(id, (event.stream_version, after.clone()));
        }
        let actor = Metadata::from_value(&event.metadata)
            .ok()
            .and_then(|m| m.actor);
        let now = self.app.clock.now();
        let directory = self.app.read.directory();
        let people = DirectoryPeople(&directory);
        let planned = plan(&decoded, actor, &before, &after, &people);
        let mut rows: Vec<NewNotification> = planned
            .iter()
            .filter_map(|p| self.email_row(&directory, event, id, &after, p, now))
            .collect();
        rows.extend(self.webhook_rows(&directory, event, id, &decoded, &after, &planned, now));
        Ok(rows)
    }

    /// The proposal's state before `event`: kept from the last event, or
    /// folded from its stream.
    async fn state_before(
        &self,
        id: ProposalId,
        event: &RecordedEvent,
    ) -> Result<ProposalState, StoreError> {
        if let Some((version, state)) = self.lock_states().get(&id) {
            if *version + 1 == event.stream_version {
                return Ok(state.clone());
            }
        }
        let events = self.app.store.read_stream(&event.stream_id).await?;
        events
            .iter()
            .take_while(|e| e.stream_version < event.stream_version)
            .try_fold(ProposalState::default(), |state, e| {
                crate::stored::proposal_step(state, e)
            })
    }

    /// The e-mail row of one planned notification, unless the person is
    /// gone, has no address or chose no e-mail.
    fn email_row(
        &self,
        directory: &Directory,
        event: &RecordedEvent,
        id: ProposalId,
        state: &ProposalState,
        planned: &Planned,
        now: DateTime<Utc>,
    ) -> Option<NewNotification> {
        let person = directory.person(planned.person)?;
        if person.email.is_empty() || person.frequency == Frequency::Off {
            return None;
        }
        let at = planned.send_at.unwrap_or(event.recorded_at);
        // Reminders come on time; the rest wait for the digest if chosen.
        let digest = person.frequency == Frequency::Daily && planned.send_at.is_none();
        let due_at = if digest {
            next_digest(at, self.settings.time_zone, self.settings.digest_at)
        } else {
            at
        };
        Some(NewNotification {
            position: event.position,
            channel: Channel::Email,
            recipient: planned.person.0,
            kind: <&'static str>::from(planned.kind).to_string(),
            proposal: Some(id),
            detail: json!({
                "title": state.title,
                "act_by": planned.act_by,
                "note": planned.note,
                "at": event.recorded_at,
            }),
            digest,
            created_at: now,
            due_at,
        })
    }

    /// One call per webhook that receives this event: the organisation's,
    /// the owner team's or group's, and a team's asked for advice.
    #[allow(clippy::too_many_arguments)]
    fn webhook_rows(
        &self,
        directory: &Directory,
        event: &RecordedEvent,
        id: ProposalId,
        decoded: &ProposalEvent,
        state: &ProposalState,
        planned: &[Planned],
        now: DateTime<Utc>,
    ) -> Vec<NewNotification> {
        let asked_team = match decoded {
            ProposalEvent::AdviceRequested {
                adviser: Adviser::Team(team),
                ..
            } => Some(*team),
            _ => None,
        };
        let mut kinds: Vec<&'static str> = planned.iter().map(|p| p.kind.into()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let body = json!({
            "type": event.event_type,
            "timestamp": event.recorded_at,
            "data": {
                "event": {
                    "id": event.event_id,
                    "type": event.event_type,
                    "position": event.position,
                    "recordedAt": event.recorded_at,
                },
                "proposal": {
                    "id": id.0,
                    "title": state.title,
                    "link": format!("{}/proposals/{}", self.settings.public_url, id.0),
                },
                "notifications": kinds,
            }
        });
        directory
            .webhooks()
            .iter()
            .filter(|hook| !hook.deleted)
            .filter(|hook| match hook.scope {
                Scope::Organisation => true,
                Scope::Team(team) => {
                    state.owner == Some(Owner::Team(team)) || asked_team == Some(team)
                }
                Scope::Group(group) => state.owner == Some(Owner::Group(group)),
            })
            .map(|hook| NewNotification {
                position: event.position,
                channel: Channel::Webhook,
                recipient: hook.id.0,
                kind: event.event_type.clone(),
                proposal: Some(id),
                detail: body.clone(),
                digest: false,
                created_at: now,
                due_at: event.recorded_at,
            })
            .collect()
    }
}

/// The directory as planning sees it.
struct DirectoryPeople<'a>(&'a Directory);

impl People for DirectoryPeople<'_> {
    fn in_team(&self, team: TeamId) -> Vec<PersonId> {
        self.0
            .team(team)
            .map(|t| t.current_members().map(|m| m.person).collect())
            .unwrap_or_default()
    }

    fn reviewers(&self, owner: Owner) -> Vec<PersonId> {
        match owner {
            Owner::Team(team) => self
                .0
                .team(team)
                .map(|t| {
                    t.current_members()
                        .filter(|m| m.role == TeamRole::Member)
                        .map(|m| m.person)
                        .collect()
                })
                .unwrap_or_default(),
            Owner::Group(group) => self
                .0
                .group(group)
                .map(|g| g.representatives.iter().map(|r| r.person).collect())
                .unwrap_or_default(),
        }
    }
}
