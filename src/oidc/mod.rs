//! Sign-in with the organisation's OpenID Connect provider, as a relying
//! party (the `openidconnect` crate): discovery at start, the authorization
//! code flow with PKCE (S256), `state` and `nonce`, the code exchanged for
//! tokens, the ID token checked (issuer, audience, expiry with a small skew,
//! nonce, signature against the provider's published keys, fetched again
//! once when a token names a key not seen yet), and RP-initiated sign-out.
//!
//! Nothing here knows the web framework: the pages (`src/pages/oidc.rs`)
//! keep what a sign-in in flight needs in the visitor's sealed session
//! cookie and call these functions.

mod access_token;
mod args;
mod relying_party;

use serde::{Deserialize, Serialize};

use crate::domain::PersonId;
use crate::read::directory::Directory;

pub use access_token::looks_like_jwt;
pub use args::{Incomplete, OidcArgs};
pub use relying_party::RelyingParty;

/// How long a started sign-in may take at the provider, in minutes.
pub const PENDING_MINUTES: i64 = 10;

/// How far past an ID token's expiry it is still taken, in seconds (clocks
/// of two machines differ a little).
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// The three settings that turn sign-in with the provider on, and the
/// service's public address the redirect URI is made from.
#[derive(Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL (discovery is at
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// advice-log's client id at the provider.
    pub client_id: String,
    /// advice-log's client secret at the provider (never logged).
    pub client_secret: String,
    /// The service's public address, without a trailing slash; the redirect
    /// URI is `<public URL>/auth/callback`.
    pub public_url: String,
    /// The audience the provider's access tokens must name to be taken on
    /// the API (`--oidc-audience`); the client id when not set.
    pub audience: Option<String>,
    /// Whether a person may be found by an e-mail address the provider
    /// says it verified (`--oidc-match-email`); when false, only a linked
    /// identity signs anyone in.
    pub match_email: bool,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[hidden]")
            .field("public_url", &self.public_url)
            .field("audience", &self.audience)
            .field("match_email", &self.match_email)
            .finish()
    }
}

impl OidcSettings {
    /// The redirect URI to register at the provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_url.trim_end_matches('/'))
    }

    /// The audience an access token must name: `--oidc-audience`, or the
    /// client id.
    pub fn api_audience(&self) -> &str {
        self.audience.as_deref().unwrap_or(&self.client_id)
    }

    /// Where the provider sends the browser after signing out.
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.public_url.trim_end_matches('/'))
    }
}

/// What went wrong talking to the provider or checking what it sent.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// A setting is not a usable URL.
    #[error("{what} {value:?} is not a usable URL: {reason}")]
    BadUrl {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
    /// Discovery failed: the provider could not be reached or its
    /// configuration could not be read.
    #[error("the OpenID provider {issuer} could not be reached or read: {reason}")]
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// The provider publishes no token endpoint.
    #[error("the OpenID provider {0} publishes no token endpoint")]
    NoTokenEndpoint(String),
    /// The code could not be exchanged for tokens.
    #[error("the provider did not exchange the code for tokens: {0}")]
    Exchange(String),
    /// The token response carried no ID token.
    #[error("the provider's answer carried no ID token")]
    NoIdToken,
    /// The ID token is not well formed.
    #[error("the ID token is not well formed: {0}")]
    Malformed(String),
    /// The ID token failed a check (issuer, audience, expiry, nonce or
    /// signature).
    #[error("the ID token was refused: {0}")]
    Refused(String),
    /// The token names a signing key the provider has not published (as far
    /// as the keys held say).
    #[error("the token names a signing key the provider has not published")]
    UnknownKey,
    /// The provider's keys could not be fetched again.
    #[error("the provider's keys could not be fetched: {0}")]
    Keys(String),
}

/// Who the provider says signed in, from a checked ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer (`iss`).
    pub issuer: String,
    /// The subject (`sub`), stable for the person at this issuer.
    pub subject: String,
    /// Their e-mail address, if the provider released it.
    pub email: Option<String>,
    /// Whether the provider says it checked that e-mail address.
    pub email_verified: bool,
    /// Their name, if released.
    pub name: Option<String>,
}

/// A sign-in started and not yet finished: what the callback checks and
/// needs, kept in the visitor's sealed session cookie only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The `state` sent to the provider (single use).
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The local path to go to after signing in.
    pub next: String,
    /// When this attempt lapses.
    pub expires: chrono::DateTime<chrono::Utc>,
}

/// How a signed-in identity was matched to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// An admin linked this (issuer, subject) to them (`linkIdentity`):
    /// unlinking it ends the sessions it opened.
    Linked,
    /// The provider vouches for an e-mail address registered to them.
    VerifiedEmail,
}

/// The person in advice-log this identity belongs to, if any, and how it
/// was matched: first a linked (issuer, subject); else, only when the
/// organisation allows it (`match_email`) and the provider says the address
/// is verified, the person registered with that e-mail address. People who
/// have left match neither way.
pub fn find_person(
    directory: &Directory,
    identity: &Identity,
    match_email: bool,
) -> Option<(PersonId, Matched)> {
    if let Some(person) = directory.person_by_identity(&identity.issuer, &identity.subject) {
        return (!person.left()).then_some((person.id, Matched::Linked));
    }
    if !match_email || !identity.email_verified {
        return None;
    }
    let email = identity.email.as_deref()?.trim();
    if email.is_empty() {
        return None;
    }
    directory
        .person_by_verified_email(email)
        .map(|person| (person.id, Matched::VerifiedEmail))
}
