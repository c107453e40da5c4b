//! Stored events as GraphQL objects, the raw `events` list and the live
//! `events` subscription (both for admins and auditors only).

use async_graphql::{Context, Json, Object, Subscription, ID};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use super::connection::{page, Paged, Paging};
use super::error::{actor, forbidden, not_found, to_graphql, Credential, GqlResult, OrGraphql};
use super::scalars::Position;
use super::types::app;
use crate::app::{App, AppError};
use crate::domain::proposal::Owner;
use crate::domain::{GroupId, ProposalId, TeamId};
use crate::store::{RecordedEvent, StoreError};

/// How long a subscription waits for the read models to reach an event.
const READ_MODEL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How often a quiet subscription checks that its token is still valid.
const TOKEN_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// One event of the log, exactly as stored.
pub struct Event(pub RecordedEvent);

#[Object]
impl Event {
    /// Its global position (1..n, gap-free).
    async fn position(&self) -> Position {
        Position(self.0.position)
    }

    /// Its id.
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }

    /// The stream it belongs to.
    async fn stream_id(&self) -> &str {
        &self.0.stream_id
    }

    /// Its version within the stream.
    async fn stream_version(&self) -> Position {
        Position(self.0.stream_version)
    }

    /// What happened.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// The version of the payload's shape.
    async fn schema_version(&self) -> i32 {
        self.0.schema_version
    }

    /// What happened, as JSON.
    async fn payload(&self) -> Json<&serde_json::Value> {
        Json(&self.0.payload)
    }

    /// Actor, acting role, command id, correlation id, reason.
    async fn metadata(&self) -> Json<&serde_json::Value> {
        Json(&self.0.metadata)
    }

    /// When the server recorded it.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }

    /// SHA-256(0x00 || canonical bytes), hex.
    async fn leaf_hash(&self) -> String {
        hex::encode(self.0.leaf_hash)
    }
}

/// Which events a team or group follows.
#[derive(Debug, Clone, Copy)]
pub struct EventFilter {
    team: Option<TeamId>,
    group: Option<GroupId>,
}

impl EventFilter {
    /// Whether the event belongs to the team or group followed: its own
    /// stream (and a group's budget), or the stream of one of its proposals
    /// (`owner` tells whose a proposal is).
    pub async fn admits<F, Fut>(&self, event: &RecordedEvent, owner: F) -> Result<bool, AppError>
    where
        F: FnOnce(ProposalId) -> Fut,
        Fut: std::future::Future<Output = Result<Option<Owner>, AppError>>,
    {
        let stream = event.stream_id.as_str();
        if self.team.is_some_and(|t| stream == t.stream())
            || self.group.is_some_and(|g| stream == g.stream())
        {
            return Ok(true);
        }
        let Some(proposal) = ProposalId::from_stream(stream) else {
            return Ok(false);
        };
        Ok(match owner(proposal).await? {
            Some(Owner::Team(team)) => self.team == Some(team),
            Some(Owner::Group(group)) => self.group == Some(group),
            None => false,
        })
    }
}

/// The raw log, for admins and auditors.
#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// The raw event log in position order (admins and auditors only), or one
    /// stream's events with `streamId`.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        stream_id: Option<String>,
    ) -> GqlResult<Paged<u64, Event>> {
        let viewer = actor(ctx)?;
        if !(viewer.is_admin() || viewer.is_auditor()) {
            return Err(forbidden("the raw event log is for admins and auditors"));
        }
        let paging = Paging::new(first, after, last, before);
        let store = &app(ctx).store;
        let stream_id = stream_id
            .map(|stream| crate::domain::validate::name("a stream id", &stream))
            .transpose()
            .gql()?;
        match stream_id {
            // One stream is read whole (as its aggregate is) and paged here.
            Some(stream) => {
                let all = store.read_stream(&stream).await.gql()?;
                let items = all.into_iter().map(|e| (e.position, Event(e))).collect();
                page(items, paging)
            }
            // The whole log is paged in the database, both ways.
            None => {
                let slice = paging.decode::<u64>()?;
                let events = store.read_window(slice.window()).await.gql()?;
                Ok(slice.connection(events.into_iter().map(|e| (e.position, Event(e))).collect()))
            }
        }
    }
}

/// The subscription root.
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// A team's or group's raw events, with their metadata: every one after
    /// position `after` (0 for all), then new ones as they are committed, in
    /// order, once each. For admins and auditors only, like the `events`
    /// query: anyone else is refused with `FORBIDDEN` before anything is
    /// sent. Members follow their work through `myWork`, a proposal's
    /// `trail`, e-mail and webhooks.
    async fn events(
        &self,
        ctx: &Context<'_>,
        team_id: Option<ID>,
        group_id: Option<ID>,
        #[graphql(default)] after: Position,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Event>>> {
        let Position(after) = after;
        let viewer = actor(ctx)?;
        if !(viewer.is_admin() || viewer.is_auditor()) {
            return Err(forbidden(
                "the raw event log is for admins and auditors; follow your work with `myWork`",
            ));
        }
        let app = app(ctx).clone();
        let team = team_id.map(|id| TeamId::parse(&id)).transpose().gql()?;
        let group = group_id.map(|id| GroupId::parse(&id)).transpose().gql()?;
        {
            let directory = app.read.directory();
            if let Some(team) = team {
                directory
                    .team(team)
                    .ok_or_else(|| not_found("team", team))?;
            }
            if let Some(group) = group {
                directory
                    .group(group)
                    .ok_or_else(|| not_found("group", group))?;
            }
        }
        if team.is_none() && group.is_none() {
            return Err(super::error::invalid_input(
                "name a teamId or a groupId to follow".into(),
            ));
        }
        let filter = EventFilter { team, group };
        let credential = ctx.data_opt::<Credential>().cloned();
        // Ownership of proposal streams comes from the read models: let them
        // reach each event before judging it. The token is checked again
        // with every event and every few seconds, so a revoked token stops
        // the subscription; a failed read ends it with an error.
        let ticks = futures::stream::unfold(
            tokio::time::interval(TOKEN_RECHECK),
            |mut interval| async move {
                interval.tick().await;
                Some((Next::Tick, interval))
            },
        );
        let merged =
            futures::stream::select(app.feed.follow(after).map(Next::Event), ticks).boxed();
        let state = Following {
            merged,
            app,
            filter,
            credential,
            finished: false,
        };
        let events = futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        });
        Ok(events)
    }
}

/// What a subscription hears next: an event (or a failed read), or a tick.
enum Next {
    Event(Result<std::sync::Arc<RecordedEvent>, StoreError>),
    Tick,
}

/// A live `events` subscription.
struct Following {
    merged: futures::stream::BoxStream<'static, Next>,
    app: std::sync::Arc<App>,
    filter: EventFilter,
    credential: Option<Credential>,
    finished: bool,
}

impl Following {
    /// The next event to send, an error that ends the subscription, or
    /// `None` once it has ended.
    async fn next(&mut self) -> Option<async_graphql::Result<Event>> {
        if self.finished {
            return None;
        }
        loop {
            let next = self.merged.next().await?;
            if let Some(Credential(token)) = &self.credential {
                if !self.app.still_valid(token) {
                    self.finished = true;
                    return Some(Err(to_graphql(AppError::Unauthenticated)));
                }
            }
            match next {
                Next::Tick => continue,
                Next::Event(Err(error)) => {
                    self.finished = true;
                    tracing::error!(%error, "a subscription could not read the log");
                    return Some(Err(async_graphql::ErrorExtensions::extend_with(
                        async_graphql::Error::new(
                            "the log could not be read; subscribe again with `after` \
                             set to the last position you received",
                        ),
                        |_, e| e.set("code", "INTERNAL"),
                    )));
                }
                Next::Event(Ok(event)) => {
                    self.app
                        .read
                        .wait_for(event.position, READ_MODEL_WAIT)
                        .await;
                    let app = &self.app;
                    match self
                        .filter
                        .admits(&event, |id| app.proposal_owner(id))
                        .await
                    {
                        Ok(true) => {
                            return Some(Ok(Event(std::sync::Arc::unwrap_or_clone(event))));
                        }
                        Ok(false) => {}
                        Err(error) => {
                            self.finished = true;
                            return Some(Err(to_graphql(error)));
                        }
                    }
                }
            }
        }
    }
}
