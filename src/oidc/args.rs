//! The `serve` settings that turn on sign-in with the identity provider.

use super::OidcSettings;

/// `--oidc-issuer`, `--oidc-client-id` and `--oidc-client-secret`: sign-in
/// with the organisation's OpenID provider is on when all three are set.
#[derive(Debug, Clone, clap::Args)]
pub struct OidcArgs {
    /// The organisation's OpenID provider (its issuer URL, e.g.
    /// `https://login.microsoftonline.com/<tenant>/v2.0`); with the client
    /// id and secret, people sign in with their organisation's account.
    #[arg(long, env = "ADVICE_LOG_OIDC_ISSUER", value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// advice-log's client id at the provider.
    #[arg(long, env = "ADVICE_LOG_OIDC_CLIENT_ID", value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// advice-log's client secret at the provider; prefer the environment
    /// variable (a command line is visible to other users). Never logged.
    #[arg(
        long,
        env = "ADVICE_LOG_OIDC_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,
    /// The audience (`aud`) the provider's access tokens must name to be
    /// taken on the API as `Authorization: Bearer`; the client id when not
    /// set.
    #[arg(long, env = "ADVICE_LOG_OIDC_AUDIENCE", value_name = "AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// Whether someone the provider signs in may be found by an e-mail
    /// address the provider says it verified (`true`, the default); with
    /// `false` only an identity an admin linked (`linkIdentity`) gets in.
    #[arg(
        long,
        env = "ADVICE_LOG_OIDC_MATCH_EMAIL",
        value_name = "true|false",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub oidc_match_email: bool,
}

/// Some but not all of the three settings were given.
#[derive(Debug, thiserror::Error)]
#[error("sign-in with an identity provider needs all three of --oidc-issuer, --oidc-client-id and --oidc-client-secret (missing: {0})")]
pub struct Incomplete(pub String);

impl OidcArgs {
    /// The settings, when all three are set; none when none is; an error
    /// naming what is missing otherwise.
    pub fn settings(&self, public_url: &str) -> Result<Option<OidcSettings>, Incomplete> {
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match (
            given(&self.oidc_issuer),
            given(&self.oidc_client_id),
            given(&self.oidc_client_secret),
        ) {
            (Some(issuer), Some(client_id), Some(client_secret)) => Ok(Some(OidcSettings {
                issuer,
                client_id,
                client_secret,
                public_url: public_url.trim_end_matches('/').to_string(),
                audience: given(&self.oidc_audience),
                match_email: self.oidc_match_email,
            })),
            (None, None, None) => Ok(None),
            (issuer, client_id, secret) => {
                let missing: Vec<&str> = [
                    ("--oidc-issuer", issuer.is_none()),
                    ("--oidc-client-id", client_id.is_none()),
                    ("--oidc-client-secret", secret.is_none()),
                ]
                .into_iter()
                .filter(|(_, missing)| *missing)
                .map(|(name, _)| name)
                .collect();
                Err(Incomplete(missing.join(", ")))
            }
        }
    }
}
