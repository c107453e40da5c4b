//! Sessions: who is signed in to the pages, kept in an encrypted,
//! authenticated cookie (`axum-extra`'s private cookie jar, AES-256-GCM),
//! and the CSRF token every form carries.
//!
//! The session layer knows only a person and how they were identified
//! ([`Identified`]); signing in with a pasted token is one way in, the
//! organisation's identity provider another (whose sign-in in flight, its
//! `state`, `nonce` and PKCE verifier, waits in the session too). Every visitor has a
//! session, so the sign-in form carries a CSRF token too. A session ends
//! [`SESSION_HOURS`] after it began, at sign-out, or when the token it was
//! opened with is revoked. Because the cookie holds it all, any server
//! sharing the signing key reads it (several servers on one database).

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::error::PageError;
use super::PagesState;
use crate::domain::{Actor, PersonId, TokenId};
use crate::oidc::PendingSignIn;
use crate::read::directory::Directory;

/// The session cookie's name.
pub const COOKIE: &str = "advice_log_session";
/// How long a session lasts from sign-in (a long shift), in hours.
pub const SESSION_HOURS: i64 = 12;

/// How a person was identified when they signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Identified {
    /// By pasting one of their advice-log tokens; the session ends when it
    /// is revoked.
    Token {
        /// The token's id (never its secret).
        id: TokenId,
    },
    /// By the organisation's identity provider.
    Provider {
        /// The provider's issuer.
        issuer: String,
        /// The person's subject there.
        subject: String,
        /// Whether it was matched by a link (`linkIdentity`) rather than a
        /// verified e-mail address: then unlinking ends the session.
        #[serde(default)]
        linked: bool,
    },
}

/// One visitor's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// Who is signed in, and how they were identified.
    pub person: Option<(PersonId, Identified)>,
    /// When the session ends.
    pub expires: DateTime<Utc>,
    /// A sign-in through the identity provider started and not finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingSignIn>,
}

impl Session {
    /// A new session with nobody signed in.
    pub fn anonymous(now: DateTime<Utc>) -> Self {
        Session {
            csrf: random_hex(),
            person: None,
            expires: now + Duration::hours(SESSION_HOURS),
            pending: None,
        }
    }

    /// A new session for a person just identified (a new CSRF token too, so
    /// nothing from before sign-in carries over).
    pub fn signed_in(person: PersonId, how: Identified, now: DateTime<Utc>) -> Self {
        Session {
            person: Some((person, how)),
            ..Session::anonymous(now)
        }
    }

    /// Whether `token` is this session's CSRF token (in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        !token.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }

    /// The signed-in person as the directory knows them now, if the session
    /// is still good: the person exists, has not left, and the way in was
    /// not revoked.
    pub fn actor(&self, directory: &Directory) -> Option<Actor> {
        let (person, how) = self.person.as_ref()?;
        let person = *person;
        let view = directory.person(person)?;
        match how {
            Identified::Token { id } => {
                let token = directory.token(*id)?;
                if token.revoked || token.person != person {
                    return None;
                }
            }
            // A linked identity must still be among their links (a look at
            // their own few, not a search of everyone's on each request).
            Identified::Provider {
                issuer,
                subject,
                linked,
            } => {
                let still_linked = || {
                    view.identities
                        .iter()
                        .any(|i| &i.issuer == issuer && &i.subject == subject)
                };
                if *linked && !still_linked() {
                    return None;
                }
            }
        }
        if view.left() {
            return None;
        }
        Some(Actor {
            person,
            org_role: view.org_role,
        })
    }

    /// The session as a cookie (HttpOnly, SameSite=Lax, Secure behind https).
    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        let value = serde_json::to_string(self).unwrap_or_default();
        let mut cookie = Cookie::new(COOKIE, value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(secure);
        cookie.set_path("/");
        cookie
    }
}

/// 32 hex digits of operating-system randomness (a UUIDv4's 122 random
/// bits come from the same source).
fn random_hex() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The key the session cookies are sealed with.
#[derive(Clone)]
pub struct SessionKey(pub Key);

impl FromRef<PagesState> for Key {
    fn from_ref(state: &PagesState) -> Key {
        state.session_key.0.clone()
    }
}

/// Whether the request came over https (directly or through a proxy that
/// says so), so cookies are marked Secure.
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Gives every page request a session: the one in its cookie if it is good
/// and unexpired, or a new anonymous one, set on the response.
pub async fn layer(
    State(state): State<PagesState>,
    jar: PrivateCookieJar,
    mut request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let now = state.app.clock.now();
    let found = jar
        .get(COOKIE)
        .and_then(|c| serde_json::from_str::<Session>(c.value()).ok())
        .filter(|s| s.expires > now);
    let secure = over_https(request.headers());
    let (session, fresh) = match found {
        Some(session) => (session, false),
        None => (Session::anonymous(now), true),
    };
    request.extensions_mut().insert(session.clone());
    let response = next.run(request).await;
    if fresh && !response.headers().contains_key(header::SET_COOKIE) {
        let (mut parts, body) = response.into_parts();
        let jar = jar.add(session.cookie(secure));
        let cookies = jar.into_response();
        for value in cookies.headers().get_all(header::SET_COOKIE) {
            parts.headers.append(header::SET_COOKIE, value.clone());
        }
        return Response::from_parts(parts, body);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or_else(|| {
            PageError::Internal("a page was served without the session layer".into())
        })
    }
}

/// The signed-in person on a page that needs one; anyone else is sent to
/// sign in and brought back.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who.
    pub actor: Actor,
    /// Their session.
    pub session: Session,
}

impl FromRequestParts<PagesState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PagesState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let actor = session.actor(&state.app.read.directory());
        match actor {
            Some(actor) => Ok(SignedIn { actor, session }),
            None => Err(PageError::SignInNeeded(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into()),
            )),
        }
    }
}

/// The fields every form posts besides its own.
#[derive(Debug, Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A posted form whose CSRF token matched the session's: `T` is read from
/// the body only then. A missing or wrong token is answered 403 and nothing
/// changes.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for CsrfForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(
        request: Request<axum::body::Body>,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| PageError::BadForm("the form could not be read".into()))?;
        let csrf: CsrfField = serde_html_form::from_bytes(&bytes).map_err(|_| PageError::Csrf)?;
        if !session.csrf_matches(&csrf.csrf) {
            return Err(PageError::Csrf);
        }
        serde_html_form::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|e| PageError::BadForm(e.to_string()))
    }
}
