//! The GraphQL schema: its root types, limits and SDL export.

pub mod assurance;
pub mod budget;
pub mod connection;
pub mod erasure;
pub mod error;
pub mod event;
pub mod identity;
pub mod limits;
pub mod mutation;
pub mod node;
pub mod notifications;
pub mod operation;
pub mod proposal;
pub mod query;
pub mod request_errors;
pub mod scalars;
pub mod types;
pub mod variables;
pub mod verdict;
pub mod views;
pub mod work;

use std::sync::Arc;

use async_graphql::{MergedObject, SDLExportOptions, Schema};

use crate::app::App;
pub use error::{Credential, Viewer};
pub use event::Subscription;

/// The root of every query.
#[derive(MergedObject, Default)]
pub struct Query(
    query::OrganisationQuery,
    node::NodeQuery,
    proposal::ProposalQuery,
    event::EventsQuery,
    assurance::AssuranceQuery,
    work::WorkQuery,
    notifications::NotificationsQuery,
);

/// The root of every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::OrganisationMutation,
    proposal::ProposalMutation,
    assurance::AssuranceMutation,
    notifications::NotificationsMutation,
    identity::IdentityMutation,
    erasure::ErasureMutation,
);

/// The deepest query the server runs.
pub const MAX_DEPTH: usize = 16;
/// The most complex query the server runs (each field counts 1 by default).
pub const MAX_COMPLEXITY: usize = 5_000;

/// The schema the server executes.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Where webhooks may be registered: a private or loopback address only
/// when allowed (`--webhook-allow-private`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookAddresses {
    /// Whether private and loopback addresses are accepted.
    pub allow_private: bool,
}

/// Builds the schema over the application, with depth and complexity
/// limits, behind the limits of [`limits`] that count every field.
pub fn build(app: Arc<App>) -> limits::LimitedSchema {
    build_with(app, WebhookAddresses::default())
}

/// Builds the schema as [`build`] does, accepting webhook addresses as
/// `webhooks` says.
pub fn build_with(app: Arc<App>, webhooks: WebhookAddresses) -> limits::LimitedSchema {
    limits::LimitedSchema::new(
        Schema::build(Query::default(), Mutation::default(), Subscription)
            .data(app)
            .data(webhooks)
            .limit_depth(MAX_DEPTH)
            .limit_complexity(MAX_COMPLEXITY)
            .finish(),
    )
}

/// The schema as SDL, with types, fields, arguments and enum items sorted, as
/// kept in `schema/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl_with_options(
            SDLExportOptions::new()
                .sorted_fields()
                .sorted_arguments()
                .sorted_enum_items(),
        )
}
