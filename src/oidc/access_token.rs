//! Access tokens from the provider, taken on the API as
//! `Authorization: Bearer`: JWTs (RFC 9068) signed by one of the provider's
//! published keys, issued by it, naming advice-log's API audience, and not
//! expired (with [`CLOCK_SKEW_SECONDS`]).
//!
//! An ID token is not an access token: a token typed `at+jwt` is one; a
//! token typed `JWT` (or untyped, as Microsoft Entra ID issues them) is
//! taken only when it carries the scopes it grants (`scope` or `scp`),
//! which ID tokens never do. The person is then found as at sign-in, by a
//! linked `sub` or (when allowed) a verified `email` claim.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier};
use openidconnect::{ClientId, JsonWebTokenType, Nonce};
use serde_json::Value;

use super::{Identity, OidcError, RelyingParty, CLOCK_SKEW_SECONDS};

/// The JOSE `typ` of a JWT access token (RFC 9068, 2.1), normalised.
const ACCESS_TOKEN_TYPE: &str = "application/at+jwt";

/// Whether `token` has the shape of a JWT (three base64url parts), so it is
/// worth checking as the provider's rather than as advice-log's own.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let shaped = |part: Option<&str>| {
        part.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    shaped(parts.next()) && shaped(parts.next()) && shaped(parts.next()) && parts.next().is_none()
}

impl RelyingParty {
    /// Checks an access token from the provider and answers whom it was
    /// issued for; the provider's keys are fetched again once when it names
    /// a key not seen yet.
    pub async fn verify_access_token(&self, raw: &str) -> Result<Identity, OidcError> {
        let now = Utc::now();
        match self.check_access_token(raw, now) {
            Err(OidcError::UnknownKey) => {
                self.refetch_keys().await?;
                self.check_access_token(raw, now)
            }
            other => other,
        }
    }

    /// Checks an access token against the keys already held, as if it were
    /// `now`; a token naming a key not held is [`OidcError::UnknownKey`].
    pub fn check_access_token(&self, raw: &str, now: DateTime<Utc>) -> Result<Identity, OidcError> {
        let (header, payload) = unverified_parts(raw)?;
        let typed = header
            .get("typ")
            .and_then(Value::as_str)
            .map(|typ| JsonWebTokenType::new(typ.to_string()).normalize());
        let is_access_token = match typed {
            Some(Ok(typ)) if typ.as_str() == ACCESS_TOKEN_TYPE => true,
            Some(Ok(typ)) if typ.as_str() == "application/jwt" => grants_scopes(&payload),
            None => grants_scopes(&payload),
            _ => false,
        };
        if !is_access_token {
            return Err(OidcError::Refused(
                "this is not an access token (an ID token or another kind of JWT)".into(),
            ));
        }
        let token: CoreIdToken = raw
            .parse()
            .map_err(|e: serde_json::Error| OidcError::Malformed(e.to_string()))?;
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.settings().api_audience().to_string()),
            self.issuer_url().clone(),
            self.keys(),
        )
        .allow_all_jose_types()
        .set_time_fn(move || now - Duration::seconds(CLOCK_SKEW_SECONDS));
        // Access tokens carry no nonce: any (or none) is accepted.
        let no_nonce = |_: Option<&Nonce>| Ok(());
        let claims = token.claims(&verifier, no_nonce).map_err(|e| match e {
            openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            ) => OidcError::UnknownKey,
            other => OidcError::Refused(other.to_string()),
        })?;
        Ok(Identity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|email| email.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: None,
        })
    }
}

/// Whether a token's claims say which scopes it grants (`scope`, RFC 9068;
/// `scp`, Microsoft Entra ID).
fn grants_scopes(payload: &Value) -> bool {
    ["scope", "scp"]
        .iter()
        .any(|claim| payload.get(*claim).is_some_and(|v| !v.is_null()))
}

/// A JWT's header and claims as JSON, before any check (to tell an access
/// token from an ID token; nothing in them is trusted until the signature
/// and claims are checked).
fn unverified_parts(raw: &str) -> Result<(Value, Value), OidcError> {
    let mut parts = raw.split('.');
    let mut next = |what: &str| -> Result<Value, OidcError> {
        let part = parts
            .next()
            .ok_or_else(|| OidcError::Malformed(format!("no {what}")))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| OidcError::Malformed(format!("{what}: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| OidcError::Malformed(format!("{what}: {e}")))
    };
    Ok((next("header")?, next("claims")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_three_base64url_parts_look_like_a_jwt() {
        assert!(looks_like_jwt("eyJh.eyJz.c2ln"));
        for not in [
            "",
            "al_0123_abcd",
            "a.b",
            "a.b.c.d",
            "a..c",
            "a b.c.d",
            "a.b.c=",
        ] {
            assert!(!looks_like_jwt(not), "{not:?}");
        }
    }

    #[test]
    fn scopes_in_either_claim_mark_an_access_token() {
        assert!(grants_scopes(&serde_json::json!({ "scope": "openid" })));
        assert!(grants_scopes(&serde_json::json!({ "scp": "api.read" })));
        assert!(!grants_scopes(&serde_json::json!({ "nonce": "n" })));
    }
}
