//! Commands about notifications: a person's choice of how often to hear,
//! and the webhooks admins register and delete. Whether a webhook's address
//! is on a private network is checked before these run (it needs name
//! lookups); here the domain decides.

use serde_json::json;

use super::{App, AppError, CommandMeta, Outcome, Plan};
use crate::domain::notification::Frequency;
use crate::domain::person::{self, PersonCommand};
use crate::domain::webhook::{self, Scope, WebhookCommand, WebhookState};
use crate::domain::{DomainError, WebhookId};

impl App {
    /// Sets how often the caller hears by e-mail.
    pub async fn set_notification_preference(
        &self,
        meta: &CommandMeta,
        frequency: Frequency,
    ) -> Result<Outcome, AppError> {
        let owner = meta
            .caller
            .person()
            .ok_or_else(|| DomainError::Forbidden("only a person has notifications".into()))?;
        let input = json!({ "frequency": <&'static str>::from(frequency) });
        self.execute(meta, "setNotificationPreference", &input, || async {
            let (state, version) = self.load(&owner.stream(), person::evolve).await?;
            let decided = person::decide(
                &state,
                PersonCommand::SetNotificationPreference { owner, frequency },
                &meta.caller,
            )?;
            Ok(Plan::default().write(owner.stream(), version, decided))
        })
        .await
    }

    /// Registers a webhook (admins) whose address was already checked; the
    /// outcome's subject is its id.
    pub async fn register_webhook(
        &self,
        meta: &CommandMeta,
        url: &str,
        scope: Scope,
    ) -> Result<Outcome, AppError> {
        let id = WebhookId::random();
        let input = json!({ "url": url, "scope": scope });
        self.execute(meta, "registerWebhook", &input, || async {
            {
                let directory = self.read.directory();
                let known = match scope {
                    Scope::Organisation => true,
                    Scope::Team(team) => directory.team(team).is_some(),
                    Scope::Group(group) => directory.group(group).is_some(),
                };
                if !known {
                    return Err(DomainError::NotFound(
                        "no such team or group for the webhook".into(),
                    )
                    .into());
                }
            }
            let command = WebhookCommand::Register {
                url: url.to_string(),
                scope,
            };
            let decided = webhook::decide(&WebhookState::default(), command, &meta.caller)?;
            Ok(Plan::default().write(id.stream(), 0, decided))
        })
        .await
    }

    /// Deletes a webhook (admins): nothing more is sent to it.
    pub async fn delete_webhook(
        &self,
        meta: &CommandMeta,
        id: WebhookId,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "webhookId": id });
        self.execute(meta, "deleteWebhook", &input, || async {
            let (state, version) = self.load(&id.stream(), webhook::evolve).await?;
            let decided = webhook::decide(&state, WebhookCommand::Delete, &meta.caller)?;
            Ok(Plan::default().write(id.stream(), version, decided))
        })
        .await
    }
}
