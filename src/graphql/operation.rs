//! The span of one GraphQL query or mutation: a child of the request's
//! span, named for the operation (`query ProposalPage`), so a trace shows
//! which operation a request ran and every line logged while it runs
//! names it.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::Request;
use tracing::field::Empty;
use tracing::Span;

/// A span for `request`; its operation's type is recorded by [`record`]
/// once the document is parsed, before the span is entered.
pub fn span(request: &Request) -> Span {
    tracing::info_span!(
        "graphql",
        otel.name = Empty,
        graphql.operation.name = request.operation_name.as_deref().map(tracing::field::display),
        graphql.operation.type = Empty,
    )
}

/// Records the type and name of the operation `document` runs (the one
/// named `operation_name`, or its only one) on `span`, before it is first
/// entered (an OpenTelemetry span's name is fixed once it starts).
pub fn record(span: &Span, document: &ExecutableDocument, operation_name: Option<&str>) {
    let (name, kind) = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => (None, operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(wanted)) => match operations.get(wanted) {
            Some(operation) => (Some(wanted), operation.node.ty),
            None => return,
        },
        (DocumentOperations::Multiple(_), None) => return,
    };
    let kind = match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    span.record("graphql.operation.type", kind);
    let name = match name.or(operation_name) {
        Some(name) => format!("{kind} {name}"),
        None => kind.to_string(),
    };
    span.record("otel.name", tracing::field::display(name));
}
