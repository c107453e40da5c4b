//! Registering a webhook as the API and the pages do it: the address is
//! checked (a private or loopback address is refused unless allowed), the
//! domain registers it, and its secret is derived from the log's signing
//! key and its id, so it is never stored and can be answered once.

use super::webhook::{check_url, webhook_secret};
use crate::app::{App, AppError, CommandMeta, Outcome};
use crate::domain::webhook::Scope;
use crate::domain::DomainError;

/// What a registration answers: the command's outcome (its subject is the
/// webhook's id) and the webhook's signing secret (`whsec_...`). A caller
/// shows the secret only when the outcome is not a replay.
pub type Registered = (Outcome, String);

/// Registers a webhook for `scope` at `url` (admins). The address is refused
/// (`INVALID_INPUT`, in plain words) when it is not a web address, or when
/// it is on a private or loopback network and `allow_private` is false. A
/// server without a signing key cannot sign calls, so it registers none.
pub async fn register_webhook(
    app: &App,
    meta: &CommandMeta,
    url: &str,
    scope: Scope,
    allow_private: bool,
) -> Result<Registered, AppError> {
    let key = app.assurance.as_ref().map(|a| &a.key).ok_or_else(|| {
        AppError::Domain(DomainError::InvalidState(
            "this server has no signing key, so it cannot sign webhook calls: start it with one"
                .into(),
        ))
    })?;
    check_url(url, allow_private)
        .await
        .map_err(|refused| AppError::Domain(DomainError::InvalidInput(refused.to_string())))?;
    let outcome = app.register_webhook(meta, url, scope).await?;
    let secret = webhook_secret(key, outcome.subject);
    Ok((outcome, secret))
}
