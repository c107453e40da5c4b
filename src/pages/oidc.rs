//! Signing in with the organisation's identity provider: `GET /auth/sign-in`
//! sends the browser there, `GET /auth/callback` brings it back, checks
//! what came and opens the same session as token sign-in.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::PageError;
use super::session::{over_https, Identified, Session};
use super::sign_in::local_path;
use super::{Chrome, PagesState};
use crate::domain::OrgRole;
use crate::oidc::{find_person, Identity, Matched};

/// What `GET /auth/sign-in` takes.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

/// What the provider sends back to `GET /auth/callback`.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    iss: Option<String>,
}

/// A sign-in that did not end in a session, in plain words.
#[derive(Template)]
#[template(path = "pages/provider_sign_in.html")]
struct ProblemPage {
    chrome: Chrome,
    heading: String,
    message: String,
    admins: Vec<String>,
}

/// The provider's relying party, or "not found" where sign-in with an
/// organisation account is not set up.
fn relying_party(
    state: &PagesState,
) -> Result<std::sync::Arc<crate::oidc::RelyingParty>, PageError> {
    state.oidc.clone().ok_or_else(|| {
        PageError::NotFound(
            "Sign-in with an organisation account is not set up here: sign in with a token.".into(),
        )
    })
}

/// `GET /auth/sign-in`: starts the authorization code flow (PKCE, `state`,
/// `nonce`, kept in the sealed session cookie) and sends the browser to the
/// provider.
pub async fn start(
    State(state): State<PagesState>,
    session: Session,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Result<Response, PageError> {
    let oidc = relying_party(&state)?;
    let now = state.app.clock.now();
    let (url, pending) = oidc.start(&local_path(&query.next), now);
    let mut waiting = session;
    waiting.pending = Some(pending);
    let jar = jar.add(waiting.cookie(over_https(&headers)));
    Ok((jar, Redirect::to(&url)).into_response())
}

/// `GET /auth/callback`: checks `state` (once only), exchanges the code,
/// checks the ID token, finds the person and signs them in.
pub async fn callback(
    State(state): State<PagesState>,
    session: Session,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let oidc = relying_party(&state)?;
    let secure = over_https(&headers);
    let now = state.app.clock.now();
    // Whatever happens, the attempt in flight is over.
    let mut cleared = session.clone();
    let pending = cleared.pending.take();
    let jar = jar.add(cleared.cookie(secure));
    let problem = |status: StatusCode, heading: &str, message: &str, admins: bool| {
        let admins = if admins {
            admin_names(&state)
        } else {
            Vec::new()
        };
        let page = ProblemPage {
            chrome: Chrome::new(&state, &cleared, None, heading, ""),
            heading: heading.to_string(),
            message: message.to_string(),
            admins,
        };
        page.render()
            .map(|html| (status, Html(html)).into_response())
            .map_err(|e| PageError::Internal(e.to_string()))
    };

    if let Some(error) = query.error.as_deref() {
        tracing::info!(error, "the identity provider did not sign someone in");
        let message = if error == "access_denied" {
            "You did not give advice-log permission, or the sign-in was cancelled, so you are not signed in. To sign in, start again and allow advice-log to know who you are."
        } else {
            "Your organisation's sign-in service could not sign you in, so you are not signed in. Try again; if it keeps happening, tell your advice-log administrator."
        };
        return problem(
            StatusCode::FORBIDDEN,
            "You are not signed in",
            message,
            false,
        )
        .map(|page| (jar, page).into_response());
    }

    let start_again = "This sign-in link has been used already or has expired. Start again from the sign-in page.";
    let given = query.state.as_deref().unwrap_or_default();
    let Some(pending) = pending.filter(|p| {
        p.expires > now
            && !given.is_empty()
            && bool::from(p.state.as_bytes().ct_eq(given.as_bytes()))
    }) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be finished",
            start_again,
            false,
        )
        .map(|page| (jar, page).into_response());
    };
    if !oidc.use_state(&pending.state, now) {
        tracing::warn!("a sign-in callback replayed a state already used");
        return problem(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be finished",
            start_again,
            false,
        )
        .map(|page| (jar, page).into_response());
    }
    if query.iss.as_deref().is_some_and(|iss| iss != oidc.issuer()) {
        tracing::warn!("a sign-in callback named another issuer");
        return problem(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be finished",
            start_again,
            false,
        )
        .map(|page| (jar, page).into_response());
    }
    let code = query.code.as_deref().unwrap_or_default();
    let identity = match oidc.exchange(code, &pending.verifier).await {
        Ok(raw) => oidc.verify(&raw, &pending.nonce).await,
        Err(error) => Err(error),
    };
    let identity: Identity = match identity {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(%error, "a sign-in through the identity provider was refused");
            return problem(
                StatusCode::FORBIDDEN,
                "You are not signed in",
                "advice-log could not confirm your sign-in with your organisation's sign-in service, so you are not signed in. Start again; if it keeps happening, tell your advice-log administrator.",
                false,
            )
            .map(|page| (jar, page).into_response());
        }
    };
    let person = find_person(
        &state.app.read.directory(),
        &identity,
        oidc.settings().match_email,
    );
    let Some((person, matched)) = person else {
        tracing::info!(
            issuer = %identity.issuer,
            subject = %identity.subject,
            "an account the identity provider signed in is not anyone in advice-log"
        );
        let account = identity
            .email
            .clone()
            .unwrap_or_else(|| identity.subject.clone());
        let message = format!(
            "Your organisation signed you in as {account}, but nobody in advice-log has that account, so you cannot use advice-log yet. Ask one of advice-log's administrators to add you (with this e-mail address) or to link your account."
        );
        return problem(
            StatusCode::FORBIDDEN,
            "advice-log does not know this account",
            &message,
            true,
        )
        .map(|page| (jar, page).into_response());
    };
    let signed_in = Session::signed_in(
        person,
        Identified::Provider {
            issuer: identity.issuer,
            subject: identity.subject,
            linked: matched == Matched::Linked,
        },
        now,
    );
    let jar = jar.add(signed_in.cookie(secure));
    Ok((jar, Redirect::to(&local_path(&pending.next))).into_response())
}

/// The names of the organisation's admins, whom an unknown person asks.
fn admin_names(state: &PagesState) -> Vec<String> {
    state
        .app
        .read
        .directory()
        .people_by_name()
        .into_iter()
        .filter(|person| person.org_role == Some(OrgRole::Admin))
        .map(|person| person.name.clone())
        .collect()
}
