//! The GraphQL schema: its root types, limits and SDL export.

use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription, Object, SDLExportOptions, Schema};

use crate::store::EventStore;

/// The deepest query the server runs.
pub const MAX_DEPTH: usize = 16;
/// The most complex query the server runs (each field counts 1 by default).
pub const MAX_COMPLEXITY: usize = 5_000;

/// The schema the server executes.
pub type AppSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The root of every query.
pub struct Query;

#[Object]
impl Query {
    /// The version of advice-log answering this request.
    async fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}

/// Builds the schema over a store, with depth and complexity limits.
pub fn build(store: Arc<dyn EventStore>) -> AppSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(store)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema as SDL, with types, fields, arguments and enum items sorted, as
/// kept in `schema/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .finish()
        .sdl_with_options(
            SDLExportOptions::new()
                .sorted_fields()
                .sorted_arguments()
                .sorted_enum_items(),
        )
}
