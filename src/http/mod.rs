//! The HTTP surface: GraphQL at `/graphql`, GraphiQL at `/`, and the health
//! endpoints.

mod graphql;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::graphql::AppSchema;

/// The default largest request body, in bytes.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long one request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The executable GraphQL schema.
    pub schema: AppSchema,
    /// The application behind it.
    pub app: Arc<App>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let body_limit = state.body_limit;
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/public-key", get(public_key))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("advice-log")
            .finish(),
    )
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

/// The process is up and its database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.store.ping().await {
        Ok(()) => {
            Json(json!({ "status": "ready", "backend": state.app.store.backend().to_string() }))
                .into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "the database does not answer" })),
            )
                .into_response()
        }
    }
}
