//! Running the service: open the store, bind, serve until asked to stop, then
//! let in-flight requests and queued appends finish before closing.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::app::App;
use crate::graphql;
use crate::http::{router, AppState};
use crate::oidc::RelyingParty;
use crate::pages::PagesState;

/// How the service is offered: the largest request body, the time zone
/// the pages show times in, whether webhooks may be registered on
/// private or loopback addresses, and the identity provider people may
/// sign in with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The organisation's time zone.
    pub time_zone: chrono_tz::Tz,
    /// Whether a webhook may be registered at a private or loopback
    /// address (`--webhook-allow-private`, for tests and closed networks).
    pub webhook_allow_private: bool,
    /// The organisation's OpenID provider, discovered, when sign-in with
    /// it is configured.
    pub oidc: Option<Arc<RelyingParty>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            body_limit: crate::http::DEFAULT_BODY_LIMIT,
            time_zone: crate::pages::DEFAULT_TIME_ZONE,
            webhook_allow_private: false,
            oidc: None,
        }
    }
}

/// Serves the application on `listener` until `shutdown` resolves. In-flight
/// requests finish first; then every queued append is committed and the
/// store is closed.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Some(provider) = &settings.oidc {
        app.accept_provider_tokens(provider.clone());
    }
    let state = AppState {
        schema: graphql::build_with(
            app.clone(),
            graphql::WebhookAddresses {
                allow_private: settings.webhook_allow_private,
            },
        ),
        app: app.clone(),
        body_limit: settings.body_limit,
        pages: PagesState::new(app.clone(), settings.time_zone)
            .allowing_private_webhooks(settings.webhook_allow_private)
            .with_oidc(settings.oidc.clone()),
    };
    // Long-lived responses (a proposal page's updates) end when shutting
    // down begins, so in-flight requests can finish.
    let closing = state.pages.closing.clone();
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    let result = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    app.store.close().await;
    result
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests and appends");
}
