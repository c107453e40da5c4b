//! Registering a webhook as the API and the pages do it: the address is
//! checked (a private or loopback address is refused unless allowed), the
//! domain registers it, and its secret is derived from the log's signing
//! key and its id, so it is never stored and can be answered once.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha512};
use uuid::Uuid;

use crate::app::{App, AppError, CommandMeta, Outcome};
use crate::assurance::keys::LogKey;
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
    // MERGE: check the address here before registering, as
    //   crate::notify::webhook::check_url(url, allow_private).await
    //       .map_err(|refused| AppError::Domain(DomainError::InvalidInput(refused.to_string())))?;
    // (the syntax is checked by the domain; the name lookup and the private
    // and loopback refusal come with check_url).
    let _ = allow_private;
    let outcome = app.register_webhook(meta, url, scope).await?;
    // MERGE: replace with crate::notify::webhook::webhook_secret(key, outcome.subject).
    let secret = webhook_secret(key, outcome.subject);
    Ok((outcome, secret))
}

/// The domain-separation text the webhook secrets are derived under.
const SECRET_LABEL: &[u8] = b"advice-log webhook secret, version 1\n";

/// A webhook's secret: the first 32 bytes of SHA-512 of the signing key's
/// Ed25519 signature (deterministic) of [`SECRET_LABEL`] followed by the
/// webhook id's 16 bytes, in standard base64 after `whsec_`.
// MERGE: replace with notify::webhook::webhook_secret
fn webhook_secret(key: &LogKey, id: Uuid) -> String {
    let mut message = SECRET_LABEL.to_vec();
    message.extend_from_slice(id.as_bytes());
    let digest = Sha512::digest(key.sign(&message).to_bytes());
    format!("whsec_{}", BASE64.encode(&digest[..32]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_the_same_for_one_webhook_and_differs_between_webhooks() {
        let dir = tempfile::tempdir().expect("folder");
        let (key, _) = LogKey::load_or_create(&dir.path().join("k")).expect("key");
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let secret = webhook_secret(&key, a);
        assert!(secret.starts_with("whsec_"), "{secret}");
        let raw = BASE64
            .decode(secret.trim_start_matches("whsec_"))
            .expect("base64");
        assert_eq!(raw.len(), 32);
        assert_eq!(secret, webhook_secret(&key, a));
        assert_ne!(secret, webhook_secret(&key, b));
    }
}
