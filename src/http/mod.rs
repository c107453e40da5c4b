//! The HTTP surface: the web app's pages (at `/`), GraphQL at `/graphql`,
//! GraphiQL at `/graphiql`, the static files and the health endpoints,
//! each request with its id, span and log line ([`trace`]).

mod assets;
mod graphql;
mod media_type;
mod metrics;
mod request_body;
mod trace;
mod websocket;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::app::App;
use crate::graphql::limits::LimitedSchema;
use crate::pages::{self, PagesState};

/// The default largest request body, in bytes.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long one request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The executable GraphQL schema, behind its limits.
    pub schema: LimitedSchema,
    /// The application behind it.
    pub app: Arc<App>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The web app's state.
    pub pages: PagesState,
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let body_limit = state.body_limit;
    let pages = pages::routes(state.pages.clone());
    let routes = Router::new()
        .route("/graphiql", get(graphiql))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/public-key", get(public_key))
        .route("/metrics", get(metrics::serve))
        .route("/assets/{*path}", get(assets::serve))
        .with_state(state)
        .merge(pages)
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    trace::around(routes)
}

/// GraphiQL, served with its scripts from this server (no CDN needed).
async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql.html"))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The key that signs checkpoints, as a C2SP verifier key.
async fn public_key(State(state): State<AppState>) -> Response {
    match &state.app.assurance {
        Some(assurance) => format!("{}\n", assurance.key.verifier().encode()).into_response(),
        None => (StatusCode::NOT_FOUND, "this server has no signing key\n").into_response(),
    }
}

/// The process is up, its database answers, appends work and the read
/// models (the projected tables and the in-memory directory) are applying
/// the log.
async fn readyz(State(state): State<AppState>) -> Response {
    let unavailable = |reason: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
            .into_response()
    };
    if let Err(error) = state.app.store.ping().await {
        tracing::warn!(%error, "readiness check failed");
        return unavailable("the database does not answer or does not take writes".into());
    }
    if let Some(stall) = state.app.projector.stall() {
        return unavailable(format!(
            "the read models cannot apply the event at position {}: {}",
            stall.position, stall.reason
        ));
    }
    if let Some(stall) = state.app.read.stall() {
        return unavailable(format!(
            "the directory cannot apply the event at position {}: {}",
            stall.position, stall.reason
        ));
    }
    Json(json!({ "status": "ready", "backend": state.app.store.backend().to_string() }))
        .into_response()
}
