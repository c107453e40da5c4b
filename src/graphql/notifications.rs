//! Notifications over GraphQL: a person's choice of how often to hear by
//! e-mail, the webhooks admins register (the secret answered once) and
//! delete, and the delivery log admins and auditors read.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::connection::{Paged, Paging};
use super::error::{actor, forbidden, invalid_input, not_found, GqlResult, OrGraphql};
use super::mutation::{command_meta, PersonPayload};
use super::proposal::Proposal;
use super::scalars::Position;
use super::types::{app, Group, Person, Team};
use super::WebhookAddresses;
use crate::domain::webhook::Scope;
use crate::domain::{Actor, GroupId, PersonId, TeamId, WebhookId};
use crate::outbox::{self, Notification};
use crate::read::directory::WebhookView;

/// How often a person hears by e-mail.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::notification::Frequency")]
pub enum NotificationFrequency {
    /// Each notification as it happens.
    Immediate,
    /// One digest a day.
    Daily,
    /// Nothing by e-mail.
    Off,
}

/// What a webhook receives.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookScope {
    /// Every proposal's events.
    Organisation,
    /// One team's: its proposals' events and the requests made to it.
    Team,
    /// One group's proposals' events.
    Group,
}

/// How a notification is sent.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::outbox::Channel")]
pub enum DeliveryChannel {
    /// An e-mail to a person.
    Email,
    /// A signed call to a webhook.
    Webhook,
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::outbox::Status")]
pub enum DeliveryStatus {
    /// Waiting for its time, or for another try.
    Pending,
    /// Delivered.
    Sent,
    /// Given up on: `lastError` says why.
    Failed,
    /// Not sent on purpose: `lastError` says why.
    Cancelled,
}

/// Refuses anyone but admins and auditors.
fn require_reader(actor: &Actor, what: &str) -> GqlResult<()> {
    if actor.is_admin() || actor.is_auditor() {
        Ok(())
    } else {
        Err(forbidden(&format!(
            "{what} are shown only to admins and auditors"
        )))
    }
}

/// A webhook: where signed calls go when something happens to the
/// organisation's, a team's or a group's proposals.
pub struct Webhook {
    view: WebhookView,
    disabled: Option<outbox::Disabled>,
}

impl Webhook {
    /// The webhook `id` as the directory and the outbox know it now.
    async fn load(ctx: &Context<'_>, id: WebhookId) -> GqlResult<Webhook> {
        let view = app(ctx)
            .read
            .directory()
            .webhook(id)
            .cloned()
            .ok_or_else(|| not_found("webhook", id.0))?;
        let disabled = app(ctx)
            .outbox
            .disabled_webhooks()
            .await
            .gql()?
            .into_iter()
            .find(|d| d.webhook == id);
        Ok(Webhook { view, disabled })
    }
}

#[Object]
impl Webhook {
    /// Its id (also the `webhook-id` of its calls' signatures' key).
    async fn id(&self) -> ID {
        ID(self.view.id.0.to_string())
    }

    /// Where its calls go.
    async fn url(&self) -> &str {
        &self.view.url
    }

    /// What it receives.
    async fn scope(&self) -> WebhookScope {
        match self.view.scope {
            Scope::Organisation => WebhookScope::Organisation,
            Scope::Team(_) => WebhookScope::Team,
            Scope::Group(_) => WebhookScope::Group,
        }
    }

    /// The team whose events it receives, for a team's webhook.
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        let Scope::Team(id) = self.view.scope else {
            return None;
        };
        app(ctx).read.directory().team(id).cloned().map(Team)
    }

    /// The group whose events it receives, for a group's webhook.
    async fn group(&self, ctx: &Context<'_>) -> Option<Group> {
        let Scope::Group(id) = self.view.scope else {
            return None;
        };
        app(ctx).read.directory().group(id).cloned().map(Group)
    }

    /// When it was registered.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.view.registered_at
    }

    /// Whether an admin deleted it: nothing more is sent to it.
    async fn deleted(&self) -> bool {
        self.view.deleted
    }

    /// Whether delivery to it was stopped after a day of failed calls.
    async fn disabled(&self) -> bool {
        self.disabled.is_some()
    }

    /// When delivery to it was stopped, if it was.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.disabled.as_ref().map(|d| d.at)
    }

    /// Why delivery to it was stopped, if it was.
    async fn disabled_reason(&self) -> Option<&str> {
        self.disabled.as_ref().map(|d| d.reason.as_str())
    }
}

/// One notification in the outbox: planned for a person (by e-mail) or a
/// webhook, and where its delivery stands.
pub struct Delivery(Notification);

#[Object]
impl Delivery {
    /// Its id in the outbox (rows are numbered in the order they were added).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What it tells: a notification kind (`ADVICE_REQUESTED`...) for an
    /// e-mail, the event's type for a webhook.
    async fn kind(&self) -> &str {
        &self.0.planned.kind
    }

    /// How it is sent.
    async fn channel(&self) -> DeliveryChannel {
        self.0.planned.channel.into()
    }

    /// The id of the person (e-mail) or webhook it goes to.
    async fn recipient_id(&self) -> ID {
        ID(self.0.planned.recipient.to_string())
    }

    /// The person it goes to, for an e-mail.
    async fn person(&self, ctx: &Context<'_>) -> Option<Person> {
        if self.0.planned.channel != outbox::Channel::Email {
            return None;
        }
        let id = PersonId(self.0.planned.recipient);
        app(ctx).read.directory().person(id).cloned().map(Person)
    }

    /// The webhook it goes to, for a webhook call.
    async fn webhook(&self, ctx: &Context<'_>) -> GqlResult<Option<Webhook>> {
        if self.0.planned.channel != outbox::Channel::Webhook {
            return Ok(None);
        }
        let id = WebhookId(self.0.planned.recipient);
        if app(ctx).read.directory().webhook(id).is_none() {
            return Ok(None);
        }
        Webhook::load(ctx, id).await.map(Some)
    }

    /// The proposal it is about, if any.
    async fn proposal(&self, ctx: &Context<'_>) -> GqlResult<Option<Proposal>> {
        let Some(id) = self.0.planned.proposal else {
            return Ok(None);
        };
        let loaded = app(ctx).load_proposal(id, None).await.gql()?;
        Ok(Some(Proposal::new(loaded, app(ctx).clock.now())))
    }

    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }

    /// How many times sending it was tried.
    async fn attempts(&self) -> i32 {
        super::scalars::count(self.0.attempts)
    }

    /// Whether it waits for its person's daily digest.
    async fn digest(&self) -> bool {
        self.0.planned.digest
    }

    /// When it was planned.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.planned.created_at
    }

    /// When it is due to be sent.
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.planned.due_at
    }

    /// When the next try is due, while it is pending.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == outbox::Status::Pending).then_some(self.0.next_attempt_at)
    }

    /// When it was first tried.
    async fn first_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_attempt_at
    }

    /// The last error, or why it was cancelled.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// When it was sent, given up on or cancelled.
    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.0.done_at
    }
}

/// Queries about notifications.
#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// Every webhook registered, in the order they were registered, with
    /// whether it is deleted or disabled (admins and auditors). A bounded
    /// list: only admins register webhooks. Deleted ones only with
    /// `includeDeleted`.
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_deleted: bool,
    ) -> GqlResult<Vec<Webhook>> {
        require_reader(&actor(ctx)?, "webhooks")?;
        let disabled = app(ctx).outbox.disabled_webhooks().await.gql()?;
        let hooks = app(ctx)
            .read
            .directory()
            .webhooks()
            .iter()
            .filter(|w| include_deleted || !w.deleted)
            .map(|view| Webhook {
                view: view.clone(),
                disabled: disabled.iter().find(|d| d.webhook == view.id).cloned(),
            })
            .collect();
        Ok(hooks)
    }

    /// The delivery log, newest first: every notification planned, or only
    /// those with `status` (admins and auditors).
    async fn notification_deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<DeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<i64, Delivery>> {
        require_reader(&actor(ctx)?, "deliveries")?;
        let slice = Paging::new(first, after, last, before).decode::<i64>()?;
        let rows = app(ctx)
            .outbox
            .list_window(status.map(Into::into), slice.window())
            .await
            .gql()?;
        Ok(slice.connection(
            rows.into_iter()
                .map(|row| (row.id, Delivery(row)))
                .collect(),
        ))
    }
}

/// `registerWebhook` input: name a team or a group, or neither for the
/// whole organisation.
#[derive(InputObject)]
pub struct RegisterWebhookInput {
    /// Where its calls go: `https://` (or `http://`) on a public address.
    pub url: String,
    /// The team whose events it receives.
    pub team_id: Option<ID>,
    /// Or the group whose events it receives.
    pub group_id: Option<ID>,
    /// Your id for this command: sending it again appends nothing and
    /// answers the same, without the secret.
    pub command_id: Option<ID>,
}

/// `deleteWebhook` input.
#[derive(InputObject)]
pub struct DeleteWebhookInput {
    /// The webhook.
    pub webhook_id: ID,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `setNotificationPreference` input.
#[derive(InputObject)]
pub struct SetNotificationPreferenceInput {
    /// How often you want to hear by e-mail.
    pub frequency: NotificationFrequency,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `registerWebhook`'s answer.
#[derive(SimpleObject)]
pub struct RegisterWebhookPayload {
    /// The webhook.
    pub webhook: Webhook,
    /// Its signing secret (`whsec_...`, per the Standard Webhooks spec),
    /// answered this once; null when the command id repeats an earlier
    /// command.
    pub secret: Option<String>,
    /// The log position of the last event appended.
    pub position: Position,
    /// True when this repeats an earlier command id.
    pub replayed: bool,
}

/// A mutation's answer about a webhook.
#[derive(SimpleObject)]
pub struct WebhookPayload {
    /// The webhook.
    pub webhook: Webhook,
    /// The log position of the last event appended.
    pub position: Position,
    /// True when this repeats an earlier command id.
    pub replayed: bool,
}

/// Mutations about notifications.
#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Registers a webhook for the whole organisation, a team or a group
    /// (admin). Its secret is answered once.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        input: RegisterWebhookInput,
    ) -> GqlResult<RegisterWebhookPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let scope = match (&input.team_id, &input.group_id) {
            (None, None) => Scope::Organisation,
            (Some(team), None) => Scope::Team(TeamId::parse(team).gql()?),
            (None, Some(group)) => Scope::Group(GroupId::parse(group).gql()?),
            (Some(_), Some(_)) => {
                return Err(invalid_input(
                    "name a teamId or a groupId (or neither, for everything), not both".into(),
                ))
            }
        };
        let allow_private = ctx
            .data_opt::<WebhookAddresses>()
            .is_some_and(|w| w.allow_private);
        let (outcome, secret) = crate::notify::registration::register_webhook(
            app(ctx),
            &meta,
            &input.url,
            scope,
            allow_private,
        )
        .await
        .gql()?;
        Ok(RegisterWebhookPayload {
            webhook: Webhook::load(ctx, WebhookId(outcome.subject)).await?,
            secret: (!outcome.replayed).then_some(secret),
            position: outcome.position.into(),
            replayed: outcome.replayed,
        })
    }

    /// Deletes a webhook (admin): nothing more is sent to it.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        input: DeleteWebhookInput,
    ) -> GqlResult<WebhookPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = WebhookId::parse(&input.webhook_id).gql()?;
        let outcome = app(ctx).delete_webhook(&meta, id).await.gql()?;
        Ok(WebhookPayload {
            webhook: Webhook::load(ctx, id).await?,
            position: outcome.position.into(),
            replayed: outcome.replayed,
        })
    }

    /// Sets how often you hear by e-mail: `IMMEDIATE`, `DAILY` (one digest)
    /// or `OFF`.
    async fn set_notification_preference(
        &self,
        ctx: &Context<'_>,
        input: SetNotificationPreferenceInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let outcome = app(ctx)
            .set_notification_preference(&meta, input.frequency.into())
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }
}
