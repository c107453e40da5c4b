//! advice-log as a relying party of one OpenID provider.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet,
};
use openidconnect::{AuthUrl, TokenResponse};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, IssuerUrl,
    JsonWebKeySetUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenUrl,
};

use super::{
    Identity, OidcError, OidcSettings, PendingSignIn, CLOCK_SKEW_SECONDS, PENDING_MINUTES,
};

/// One discovered provider and advice-log's registration with it.
pub struct RelyingParty {
    settings: OidcSettings,
    issuer: IssuerUrl,
    auth_url: AuthUrl,
    token_url: TokenUrl,
    jwks_uri: JsonWebKeySetUrl,
    end_session: Option<EndSessionUrl>,
    redirect: RedirectUrl,
    /// The provider's published keys as last fetched.
    keys: RwLock<CoreJsonWebKeySet>,
    /// `state`s already used, with when they lapse, so a replay is refused.
    used_states: Mutex<HashMap<String, DateTime<Utc>>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("settings", &self.settings)
            .field("end_session", &self.end_session.is_some())
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Reads the provider's discovery document and keys. Fails, naming the
    /// issuer, when the provider cannot be reached or read.
    pub async fn discover(settings: OidcSettings) -> Result<RelyingParty, OidcError> {
        let issuer = IssuerUrl::new(settings.issuer.trim_end_matches('/').to_string())
            .or_else(|_| IssuerUrl::new(settings.issuer.clone()))
            .map_err(|e| OidcError::BadUrl {
                what: "--oidc-issuer",
                value: settings.issuer.clone(),
                reason: e.to_string(),
            })?;
        let redirect =
            RedirectUrl::new(settings.redirect_uri()).map_err(|e| OidcError::BadUrl {
                what: "--public-url",
                value: settings.public_url.clone(),
                reason: e.to_string(),
            })?;
        // No redirects followed: the provider's endpoints answer directly.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| OidcError::Discovery {
                issuer: settings.issuer.clone(),
                reason: e.to_string(),
            })?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer.clone(), &http)
            .await
            .map_err(|e| OidcError::Discovery {
                issuer: settings.issuer.clone(),
                reason: error_chain(&e),
            })?;
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| OidcError::NoTokenEndpoint(settings.issuer.clone()))?;
        Ok(RelyingParty {
            issuer: metadata.issuer().clone(),
            auth_url: metadata.authorization_endpoint().clone(),
            token_url,
            jwks_uri: metadata.jwks_uri().clone(),
            end_session: metadata.additional_metadata().end_session_endpoint.clone(),
            keys: RwLock::new(metadata.jwks().clone()),
            redirect,
            settings,
            used_states: Mutex::new(HashMap::new()),
            http,
        })
    }

    /// The issuer, as its tokens name it.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The settings it was started with.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The provider's published keys as last fetched.
    pub(super) fn keys(&self) -> CoreJsonWebKeySet {
        self.keys
            .read()
            .map(|keys| keys.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The issuer as a URL, to check tokens' `iss` against.
    pub(super) fn issuer_url(&self) -> &IssuerUrl {
        &self.issuer
    }

    /// Fetches the provider's published keys again (it may have rotated
    /// them) and keeps them.
    pub(super) async fn refetch_keys(&self) -> Result<(), OidcError> {
        let keys = CoreJsonWebKeySet::fetch_async(&self.jwks_uri, &self.http)
            .await
            .map_err(|e| OidcError::Keys(error_chain(&e)))?;
        match self.keys.write() {
            Ok(mut held) => *held = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
        Ok(())
    }

    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
    > {
        CoreClient::new(
            ClientId::new(self.settings.client_id.clone()),
            self.issuer.clone(),
            self.keys(),
        )
        .set_client_secret(ClientSecret::new(self.settings.client_secret.clone()))
        .set_auth_uri(self.auth_url.clone())
        .set_token_uri(self.token_url.clone())
        .set_redirect_uri(self.redirect.clone())
    }

    /// Starts a sign-in: the provider's authorization URL to send the
    /// browser to (code flow, PKCE S256, scopes `openid email profile`), and
    /// what the callback will need, to keep until then.
    pub fn start(&self, next: &str, now: DateTime<Utc>) -> (String, PendingSignIn) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client()
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingSignIn {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_string(),
            expires: now + Duration::minutes(PENDING_MINUTES),
        };
        (url.to_string(), pending)
    }

    /// Records `state` as used; false when it was used before (a replay).
    pub fn use_state(&self, state: &str, now: DateTime<Utc>) -> bool {
        let mut used = self
            .used_states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        used.retain(|_, lapses| *lapses > now);
        used.insert(
            state.to_string(),
            now + Duration::minutes(PENDING_MINUTES + 1),
        )
        .is_none()
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens
    /// and answers the raw ID token.
    pub async fn exchange(&self, code: &str, verifier: &str) -> Result<String, OidcError> {
        let response = self
            .client()
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        // The access token is not kept: advice-log needs only who this is.
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?;
        Ok(id_token.to_string())
    }

    /// Checks a raw ID token: signature against the provider's keys (fetched
    /// again once when it names a key not seen yet), issuer, audience (this
    /// client), expiry (with [`CLOCK_SKEW_SECONDS`]) and `nonce`.
    pub async fn verify(&self, raw: &str, nonce: &str) -> Result<Identity, OidcError> {
        self.verify_at(raw, nonce, Utc::now()).await
    }

    /// [`RelyingParty::verify`] as if it were `now` (the expiry check).
    pub async fn verify_at(
        &self,
        raw: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        let token: CoreIdToken = raw
            .parse()
            .map_err(|e: serde_json::Error| OidcError::Malformed(e.to_string()))?;
        match self.check(&token, nonce, now) {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                // The provider may have rotated its keys: fetch them once.
                self.refetch_keys().await?;
                self.check(&token, nonce, now)
            }
            other => other,
        }
        .map_err(|e| OidcError::Refused(e.to_string()))
    }

    fn check(
        &self,
        token: &CoreIdToken,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, openidconnect::ClaimsVerificationError> {
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(self.settings.client_id.clone()),
            ClientSecret::new(self.settings.client_secret.clone()),
            self.issuer.clone(),
            self.keys(),
        )
        .set_time_fn(move || now - Duration::seconds(CLOCK_SKEW_SECONDS));
        let claims = token.claims(&verifier, &Nonce::new(nonce.to_string()))?;
        Ok(Identity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|email| email.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|name| name.get(None))
                .map(|name| name.to_string()),
        })
    }

    /// Where to send the browser to sign out at the provider too, when it
    /// offers RP-initiated logout: its end-session endpoint with this
    /// client's id and the public URL to come back to.
    pub fn logout_url(&self) -> Option<String> {
        let endpoint = self.end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Ok(back) = PostLogoutRedirectUrl::new(self.settings.post_logout_redirect_uri()) {
            request = request.set_post_logout_redirect_uri(back);
        }
        Some(request.http_get_url().to_string())
    }
}

/// An error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
