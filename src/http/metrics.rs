//! `/metrics` and the middleware that counts and times every request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::metrics::{self, Progress};

/// Counts and times every request by its route.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::request(
        &route,
        response.status().as_str(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> Response {
    let progress = Progress {
        head: state.app.store.head().await.ok(),
        projector: state.app.projector.applied(),
        directory: state.app.read.position(),
        stalled: state
            .app
            .projector
            .stall()
            .map_or(0, |stall| stall.position),
        leader: state.app.store.leadership().is_leader(),
        notifications: outbox(&state).await,
    };
    match metrics::render(progress) {
        Some(text) => ([("content-type", "text/plain; version=0.0.4")], text).into_response(),
        None => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics are unavailable\n",
        )
            .into_response(),
    }
}

/// The outbox's counts for the gauges (`None`, logged, if they cannot be read).
async fn outbox(state: &AppState) -> Option<metrics::Outbox> {
    let now = state.app.clock.now();
    match state.app.outbox.counts(now).await {
        Ok(counts) => Some(metrics::Outbox {
            queued: counts.queued,
            scheduled: counts.scheduled,
            sent: counts.sent,
            failed: counts.failed,
            cancelled: counts.cancelled,
            oldest_undelivered_seconds: counts
                .oldest_due
                .map(|due| u64::try_from((now - due).num_seconds()).unwrap_or(0))
                .unwrap_or(0),
        }),
        Err(error) => {
            tracing::warn!(%error, "could not count the outbox for /metrics");
            None
        }
    }
}
