//! `/admin/webhooks`: the organisation's webhooks (where each sends, what
//! it receives, whether it is active, disabled or deleted), a form to
//! register one, whose signing secret is shown once on the page that
//! answers, and a button to delete each.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{beside, require_admin, Done};
use crate::app::{AppError, CommandMeta};
use crate::domain::webhook::Scope;
use crate::domain::{Actor, Caller, DomainError, GroupId, TeamId, WebhookId};
use crate::pages::error::PageError;
use crate::pages::session::{CsrfForm, Session, SignedIn};
use crate::pages::team::render;
use crate::pages::{Chrome, FormErrors, PagesState, SelectOption};
use crate::read::directory::Directory;

/// What the forms of the page post.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct WebhookForm {
    /// The form's command id: a form sent twice acts once.
    pub command: String,
    /// Register: where its calls go.
    pub webhook_url: String,
    /// What it receives: `everything`, `team:ID` or `group:ID`.
    pub webhook_scope: String,
    /// Delete: which (an id).
    pub webhook: String,
}

/// One webhook as the list shows it.
pub struct WebhookRow {
    url: String,
    receives: String,
    registered: String,
    /// `Active`, `Disabled` or `Deleted`.
    status: &'static str,
    /// The tag's colour class.
    tag: &'static str,
    /// For a disabled one: since when and why.
    why: Option<String>,
    deletable: bool,
    id: String,
    command: String,
}

/// A secret just issued, shown this once.
pub struct Issued {
    url: String,
    /// The secret, or `None` when this repeats a form already answered.
    secret: Option<String>,
}

/// The webhooks page.
#[derive(Template)]
#[template(path = "pages/admin_webhooks.html")]
pub struct WebhooksPage {
    chrome: Chrome,
    errors: FormErrors,
    form: WebhookForm,
    issued: Option<Issued>,
    rows: Vec<WebhookRow>,
    scopes: Vec<SelectOption>,
    /// The register form's command id.
    command: String,
    allow_private: bool,
}

/// The confirmation shown after an action, by its key.
fn confirmation(key: &str) -> Option<String> {
    match key {
        "webhook-deleted" => Some("The webhook is deleted: nothing more is sent to it.".into()),
        _ => None,
    }
}

/// What a webhook receives, in words.
fn receives(directory: &Directory, scope: Scope) -> String {
    match scope {
        Scope::Organisation => "Everything".into(),
        Scope::Team(id) => directory
            .team(id)
            .map(|t| format!("Team: {}", t.name))
            .unwrap_or_else(|| "A team no longer known".into()),
        Scope::Group(id) => directory
            .group(id)
            .map(|g| format!("Group: {}", g.name))
            .unwrap_or_else(|| "A group no longer known".into()),
    }
}

/// Reads the scope select's value.
fn scope(value: &str) -> Option<Scope> {
    let value = value.trim();
    if value == "everything" {
        return Some(Scope::Organisation);
    }
    let (kind, id) = value.split_once(':')?;
    let id = Uuid::parse_str(id).ok()?;
    match kind {
        "team" => Some(Scope::Team(TeamId(id))),
        "group" => Some(Scope::Group(GroupId(id))),
        _ => None,
    }
}

impl WebhooksPage {
    /// The page as the directory and the outbox stand.
    async fn build(
        state: &PagesState,
        chrome: Chrome,
        errors: FormErrors,
        form: WebhookForm,
        issued: Option<Issued>,
    ) -> Result<Self, PageError> {
        let f = state.formatter();
        let disabled = state.app.outbox.disabled_webhooks().await?;
        let page_id = Uuid::new_v4();
        let command = |what: &str| Uuid::new_v5(&page_id, what.as_bytes()).to_string();
        let directory = state.app.read.directory();
        let rows = directory
            .webhooks()
            .iter()
            .rev()
            .map(|w| {
                let off = disabled.iter().find(|d| d.webhook == w.id);
                let (status, tag, why) = match (w.deleted, off) {
                    (true, _) => ("Deleted", "nhsuk-tag--grey", None),
                    (false, Some(d)) => (
                        "Disabled",
                        "nhsuk-tag--red",
                        Some(format!("Since {}: {}", f.time(d.at), d.reason)),
                    ),
                    (false, None) => ("Active", "nhsuk-tag--green", None),
                };
                WebhookRow {
                    url: w.url.clone(),
                    receives: receives(&directory, w.scope),
                    registered: f.time(w.registered_at),
                    status,
                    tag,
                    why,
                    deletable: !w.deleted,
                    id: w.id.0.to_string(),
                    command: command(&format!("delete/{}", w.id.0)),
                }
            })
            .collect();
        let chosen = if form.webhook_scope.is_empty() {
            "everything"
        } else {
            form.webhook_scope.as_str()
        };
        let mut scopes = vec![SelectOption::new(
            "everything",
            "Everything: every team's and group's proposals",
            chosen,
        )];
        scopes.extend(directory.teams().map(|t| {
            SelectOption::new(
                format!("team:{}", t.id.0),
                format!("Team: {}", t.name),
                chosen,
            )
        }));
        scopes.extend(directory.groups().map(|g| {
            SelectOption::new(
                format!("group:{}", g.id.0),
                format!("Group: {}", g.name),
                chosen,
            )
        }));
        Ok(WebhooksPage {
            chrome,
            errors,
            form,
            issued,
            rows,
            scopes,
            command: command("register"),
            allow_private: state.webhook_allow_private,
        })
    }
}

fn chrome(state: &PagesState, session: &Session, actor: &Actor) -> Chrome {
    Chrome::new(state, session, Some(actor), "Webhooks", "/admin")
}

/// The page again with `errors` beside their fields and what was typed
/// kept (422).
async fn refused(
    state: &PagesState,
    actor: &Actor,
    session: &Session,
    errors: FormErrors,
    form: WebhookForm,
) -> Result<Response, PageError> {
    let chrome = chrome(state, session, actor).with_errors(&errors);
    let page = WebhooksPage::build(state, chrome, errors, form, None).await?;
    let mut response = render(&page)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

fn meta(actor: &Actor, form: &WebhookForm) -> CommandMeta {
    CommandMeta::new(
        Caller::Person(*actor),
        Uuid::parse_str(form.command.trim()).ok(),
    )
}

/// `GET /admin/webhooks`.
pub async fn page(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let chrome = chrome(&state, &session, &actor).with_flash(confirmation(done.key()));
    let page = WebhooksPage::build(
        &state,
        chrome,
        FormErrors::default(),
        WebhookForm::default(),
        None,
    )
    .await?;
    render(&page)
}

/// `POST /admin/webhooks`: registers a webhook and shows its secret, once.
pub async fn register(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let url = form.webhook_url.trim();
    if url.is_empty() {
        errors.add(
            "webhook-url",
            "Enter the address advice-log should call, like https://hooks.example.org/advice-log.",
        );
    }
    let scope = scope(&form.webhook_scope);
    if scope.is_none() {
        errors.add(
            "webhook-scope",
            "Choose what the webhook receives: everything, a team or a group.",
        );
    }
    let (Some(scope), true) = (scope, errors.is_empty()) else {
        return refused(&state, &actor, &session, errors, form).await;
    };
    let registered = crate::notify::registration::register_webhook(
        &state.app,
        &meta(&actor, &form),
        url,
        scope,
        state.webhook_allow_private,
    )
    .await;
    match registered {
        Ok((outcome, secret)) => {
            let url = state
                .app
                .read
                .directory()
                .webhook(WebhookId(outcome.subject))
                .map(|w| w.url.clone())
                .unwrap_or_else(|| url.to_string());
            let issued = Issued {
                url,
                secret: (!outcome.replayed).then_some(secret),
            };
            let chrome = chrome(&state, &session, &actor);
            let page = WebhooksPage::build(
                &state,
                chrome,
                FormErrors::default(),
                WebhookForm::default(),
                Some(issued),
            )
            .await?;
            let mut response = render(&page)?;
            // The secret is on this page alone: no cache may keep it.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        Err(error) => {
            let field = match &error {
                AppError::Domain(DomainError::NotFound(_)) => "webhook-scope",
                _ => "webhook-url",
            };
            beside(&mut errors, field, error)?;
            refused(&state, &actor, &session, errors, form).await
        }
    }
}

/// `POST /admin/webhooks/delete`: deletes a webhook.
pub async fn delete(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let Some(id) = super::form::id(&form.webhook).map(WebhookId) else {
        errors.add("webhooks", "Choose a webhook to delete from the list.");
        return refused(&state, &actor, &session, errors, form).await;
    };
    match state.app.delete_webhook(&meta(&actor, &form), id).await {
        Ok(_) => Ok(Redirect::to("/admin/webhooks?done=webhook-deleted").into_response()),
        Err(error) => {
            beside(&mut errors, "webhooks", error)?;
            refused(&state, &actor, &session, errors, form).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_select_is_read() {
        let id = Uuid::new_v4();
        assert_eq!(scope("everything"), Some(Scope::Organisation));
        assert_eq!(scope(&format!("team:{id}")), Some(Scope::Team(TeamId(id))));
        assert_eq!(
            scope(&format!("group:{id}")),
            Some(Scope::Group(GroupId(id)))
        );
        assert_eq!(scope("team:nonsense"), None);
        assert_eq!(scope(""), None);
        assert_eq!(confirmation("<b>x</b>"), None);
    }
}
