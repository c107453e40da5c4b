//! The web app: server-rendered pages on the NHS.UK frontend, for the
//! people who make and check decisions, in the same binary as the API.
//!
//! Every page works without JavaScript: forms post and redirect after
//! post, and each action's error is shown beside the field it concerns.
//! Templates (askama, under `templates/pages/`) are checked at compile time
//! and escape what they print.

mod admin;
mod audit;
mod error;
pub mod format;
pub mod forms;
mod group;
mod home;
mod oidc;
mod preferences;
mod proposal;
mod register;
mod search;
mod session;
mod sign_in;
mod team;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::Key;
use chrono_tz::Tz;
use sha2::{Digest, Sha512};

use crate::app::App;
use crate::domain::{Actor, OrgRole};

pub use error::PageError;
pub use format::Formatter;
pub use forms::{FormErrors, SelectOption};
pub use proposal::raise_href;
pub use session::{Identified, Session, SignedIn, SESSION_HOURS};

/// The organisation's time zone when none is configured.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::London;

/// What every page handler can reach.
#[derive(Clone)]
pub struct PagesState {
    /// The application.
    pub app: Arc<App>,
    /// Seals the session cookies.
    pub session_key: session::SessionKey,
    /// The organisation's time zone: every time is shown in it.
    pub time_zone: Tz,
    /// Turns true when the server begins to shut down, so long-lived
    /// responses (a proposal page's updates) end and let it.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Whether a webhook may be registered at a private or loopback address.
    pub webhook_allow_private: bool,
    /// The organisation's identity provider, when sign-in with it is on.
    pub oidc: Option<Arc<crate::oidc::RelyingParty>>,
}

impl PagesState {
    /// The pages of `app`, with session cookies sealed by a key derived from
    /// the log's signing key (so every server sharing it reads them), or a
    /// random key for this process when there is no signing key.
    pub fn new(app: Arc<App>, time_zone: Tz) -> Self {
        let key = match &app.assurance {
            Some(assurance) => {
                // Ed25519 signatures are deterministic, and the server signs
                // nothing else of this shape: only the key's holder can make it.
                let signature = assurance
                    .key
                    .sign(b"advice-log session cookie key, version 1");
                let seed = Sha512::digest(signature.to_bytes());
                Key::from(seed.as_slice())
            }
            None => Key::generate(),
        };
        PagesState {
            app,
            session_key: session::SessionKey(key),
            time_zone,
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
            webhook_allow_private: false,
            oidc: None,
        }
    }

    /// The same pages, offering sign-in with `oidc` when it is some.
    pub fn with_oidc(mut self, oidc: Option<Arc<crate::oidc::RelyingParty>>) -> Self {
        self.oidc = oidc;
        self
    }

    /// The same pages, accepting webhooks at private or loopback addresses
    /// when `allow` is true.
    pub fn allowing_private_webhooks(mut self, allow: bool) -> Self {
        self.webhook_allow_private = allow;
        self
    }

    /// A formatter for times and money in the organisation's time zone, now.
    pub fn formatter(&self) -> Formatter {
        Formatter::new(self.time_zone, self.app.clock.now())
    }
}

/// The pages' routes, each with a session.
pub fn routes(state: PagesState) -> Router {
    Router::new()
        .route("/", get(home::page))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/auth/sign-in", get(oidc::start))
        .route("/auth/callback", get(oidc::callback))
        // A proposal, raising one, and every action on one (src/pages/proposal/).
        .route(
            "/proposals/new",
            get(proposal::raise::form).post(proposal::raise::submit),
        )
        .route("/proposals/{id}", get(proposal::page))
        .route("/proposals/{id}/updates", get(proposal::updates::stream))
        .route(
            "/proposals/{id}/redact",
            get(proposal::redact::form).post(proposal::redact::submit),
        )
        .route(
            "/proposals/{id}/{action}",
            get(proposal::back).post(proposal::submit),
        )
        .route(
            "/proposals/{id}/objections/{objection}/resolve",
            get(proposal::back).post(proposal::resolve),
        )
        .route("/audit", get(audit::page))
        .route("/audit/bundle", post(audit::bundle))
        .route("/audit/proposals/{id}", get(audit::proposal))
        .route("/register", get(register::page))
        .route("/register.csv", get(register::csv))
        .route("/search", get(search::page))
        // Team, group and admin pages.
        .route("/teams/{id}", get(team::page))
        .route("/groups/{id}", get(group::page))
        .route("/admin", get(admin::page))
        .route("/admin/people", post(admin::people::register))
        .route("/admin/tokens", post(admin::people::issue))
        .route("/admin/tokens/revoke", post(admin::people::revoke))
        .route("/admin/identities", post(admin::identities::link))
        .route("/admin/identities/unlink", post(admin::identities::unlink))
        .route("/admin/leavers", post(admin::identities::mark_left))
        .route("/admin/erasures", post(admin::erasures::erase))
        .route("/admin/corrections", post(admin::erasures::correct))
        .route("/admin/teams", post(admin::teams::form_team))
        .route("/admin/members", post(admin::teams::join))
        .route("/admin/members/remove", post(admin::teams::leave))
        .route("/admin/groups", post(admin::groups::form_group))
        .route("/admin/representatives", post(admin::groups::delegate))
        .route("/admin/budgets", post(admin::groups::allocate))
        // Notifications: the person's choice, webhooks and the delivery log.
        .route(
            "/preferences",
            get(preferences::page).post(preferences::save),
        )
        .route(
            "/admin/webhooks",
            get(admin::webhooks::page).post(admin::webhooks::register),
        )
        .route("/admin/webhooks/delete", post(admin::webhooks::delete))
        .route("/admin/deliveries", get(admin::deliveries::page))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .with_state(state)
}

/// One link in the menu.
#[derive(Debug, Clone)]
pub struct MenuItem {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub text: &'static str,
    /// Whether it is the page shown.
    pub current: bool,
}

/// Who is signed in, as the header shows them.
#[derive(Debug, Clone)]
pub struct ViewerChrome {
    /// Their name.
    pub name: String,
    /// Their organisation role, in words, if any.
    pub role: Option<&'static str>,
    /// The menu they see.
    pub menu: Vec<MenuItem>,
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// The session's CSRF token, for every form.
    pub csrf: String,
    /// Who is signed in.
    pub viewer: Option<ViewerChrome>,
    /// A message carried over from the last action, if any.
    pub flash: Option<String>,
    /// Whether the page shows errors (the title says so first).
    pub has_errors: bool,
    /// The organisation's time zone, by name.
    pub time_zone: &'static str,
}

impl Chrome {
    /// The chrome of a page titled `title` for this session and viewer;
    /// `current` is the menu link of the page, if it has one.
    pub fn new(
        state: &PagesState,
        session: &Session,
        actor: Option<&Actor>,
        title: impl Into<String>,
        current: &str,
    ) -> Self {
        let viewer = actor.map(|actor| {
            let name = state
                .app
                .read
                .directory()
                .person(actor.person)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let mut menu = vec![("/", "What needs me")];
            if !actor.is_auditor() {
                menu.push(("/proposals/new", "Raise a proposal"));
            }
            menu.push(("/register", "Register"));
            menu.push(("/audit", "Audit"));
            if actor.is_admin() {
                menu.push(("/admin", "Admin"));
            }
            ViewerChrome {
                name,
                role: actor.org_role.map(|role| match role {
                    OrgRole::Admin => "admin",
                    OrgRole::Auditor => "auditor",
                }),
                menu: menu
                    .into_iter()
                    .map(|(href, text)| MenuItem {
                        href,
                        text,
                        current: href == current,
                    })
                    .collect(),
            }
        });
        Chrome {
            title: title.into(),
            csrf: session.csrf.clone(),
            viewer,
            flash: None,
            has_errors: false,
            time_zone: state.time_zone.name(),
        }
    }

    /// The same chrome, with a message carried over from the last action.
    pub fn with_flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash;
        self
    }

    /// The same chrome, marking the page as showing errors.
    pub fn with_errors(mut self, errors: &FormErrors) -> Self {
        self.has_errors = !errors.is_empty();
        self
    }
}
