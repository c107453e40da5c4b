//! Limits every GraphQL request must keep before it runs, and a fence on
//! what it may answer.
//!
//! async-graphql's own complexity limit does not count `__typename`, and it
//! expands fragments by walking them, so a document of a kilobyte whose
//! fragments spread each other twice over costs nothing to it and yet asks
//! for millions of fields. Here the document is measured once, each fragment
//! costed once (memoised), with every selected field counting one,
//! `__typename` included, after fragments are expanded. A request over any
//! limit is refused with `INVALID_INPUT` before validation or execution.
//! The request timeout of the HTTP layer and [`MAX_RESPONSE_BYTES`] are the
//! second fence, for what the count cannot see (long lists).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{
    BatchRequest, BatchResponse, Data, Executor, Positioned, Request, Response, ServerError, Value,
};
use futures::stream::{BoxStream, StreamExt};
use tracing::Instrument as _;

use super::operation;
use super::request_errors::{self, EnumValues};
use super::variables;
use super::AppSchema;

/// The most fields a request may select, counted after fragments are
/// expanded, `__typename` included.
pub const MAX_FIELDS: u64 = 5_000;
/// The most aliased fields a document may hold.
pub const MAX_ALIASES: usize = 200;
/// The most fragment spreads a document may hold.
pub const MAX_SPREADS: usize = 500;
/// The most fragment definitions a document may hold.
pub const MAX_FRAGMENTS: usize = 200;
/// How deeply selections and fragments may nest, fragments included.
pub const MAX_NESTING: usize = 64;
/// The largest answer, in bytes of JSON (about), before it is replaced by an
/// error.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Too many fields after fragments are expanded.
    #[error("the query asks for {0} fields or more once its fragments are expanded; at most {MAX_FIELDS} are allowed")]
    TooManyFields(u64),
    /// Too many aliases.
    #[error("the query uses {0} aliases; at most {MAX_ALIASES} are allowed")]
    TooManyAliases(usize),
    /// Too many fragment spreads.
    #[error("the query uses {0} fragment spreads; at most {MAX_SPREADS} are allowed")]
    TooManySpreads(usize),
    /// Too many fragment definitions.
    #[error("the query defines {0} fragments; at most {MAX_FRAGMENTS} are allowed")]
    TooManyFragments(usize),
    /// Nested too deeply.
    #[error("the query nests selections and fragments more than {MAX_NESTING} deep")]
    TooDeep,
}

/// What a document asks for, measured without expanding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Measure {
    /// Fields selected once fragments are expanded (saturating).
    pub fields: u64,
    /// Aliased fields written in the document.
    pub aliases: usize,
    /// Fragment spreads written in the document.
    pub spreads: usize,
}

/// Measures a parsed document, or says which limit it breaks first.
pub fn check(document: &ExecutableDocument) -> Result<Measure, LimitError> {
    if document.fragments.len() > MAX_FRAGMENTS {
        return Err(LimitError::TooManyFragments(document.fragments.len()));
    }
    let mut written = Written::default();
    for fragment in document.fragments.values() {
        written.count(&fragment.node.selection_set.node, 0)?;
    }
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    for operation in &operations {
        written.count(&operation.node.selection_set.node, 0)?;
    }
    if written.aliases > MAX_ALIASES {
        return Err(LimitError::TooManyAliases(written.aliases));
    }
    if written.spreads > MAX_SPREADS {
        return Err(LimitError::TooManySpreads(written.spreads));
    }
    let mut expanded = Expanded {
        fragments: &document.fragments,
        costs: HashMap::new(),
    };
    let mut fields: u64 = 0;
    for operation in &operations {
        fields = fields.saturating_add(expanded.cost(&operation.node.selection_set.node, 0)?);
    }
    if fields > MAX_FIELDS {
        return Err(LimitError::TooManyFields(fields));
    }
    Ok(Measure {
        fields,
        aliases: written.aliases,
        spreads: written.spreads,
    })
}

/// Counts what is written in the document, fragments not expanded.
#[derive(Default)]
struct Written {
    aliases: usize,
    spreads: usize,
}

impl Written {
    fn count(&mut self, set: &SelectionSet, depth: usize) -> Result<(), LimitError> {
        if depth > MAX_NESTING {
            return Err(LimitError::TooDeep);
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    self.count(&field.node.selection_set.node, depth + 1)?;
                }
                Selection::FragmentSpread(_) => self.spreads += 1,
                Selection::InlineFragment(inline) => {
                    self.count(&inline.node.selection_set.node, depth + 1)?
                }
            }
        }
        Ok(())
    }
}

/// Costs selections with fragments expanded, each fragment costed once.
struct Expanded<'a> {
    fragments: &'a HashMap<async_graphql::Name, Positioned<FragmentDefinition>>,
    /// A fragment's cost, or `None` while it is being costed (a cycle, which
    /// validation refuses; it costs nothing here).
    costs: HashMap<&'a str, Option<u64>>,
}

impl<'a> Expanded<'a> {
    fn cost(&mut self, set: &'a SelectionSet, depth: usize) -> Result<u64, LimitError> {
        if depth > MAX_NESTING {
            return Err(LimitError::TooDeep);
        }
        let mut total: u64 = 0;
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(field) => {
                    1u64.saturating_add(self.cost(&field.node.selection_set.node, depth + 1)?)
                }
                Selection::InlineFragment(inline) => {
                    self.cost(&inline.node.selection_set.node, depth + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.costs.get(name) {
                        Some(Some(cost)) => *cost,
                        Some(None) => 0,
                        None => match self.fragments.get_key_value(name) {
                            Some((key, fragment)) => {
                                self.costs.insert(key.as_str(), None);
                                let cost =
                                    self.cost(&fragment.node.selection_set.node, depth + 1)?;
                                self.costs.insert(key.as_str(), Some(cost));
                                cost
                            }
                            // An unknown fragment: validation names it.
                            None => 0,
                        },
                    }
                }
            };
            total = total.saturating_add(cost);
            if total > MAX_FIELDS {
                return Err(LimitError::TooManyFields(total));
            }
        }
        Ok(total)
    }
}

/// The most requests one batch may hold.
pub const MAX_BATCH: usize = 20;

/// The schema behind the limits: every request is measured after parsing and
/// before validation (the HTTP handlers and the WebSocket both execute
/// through it), and an answer over [`MAX_RESPONSE_BYTES`] is replaced by an
/// error. It is an [`Executor`] rather than a schema extension because an
/// extension would put every resolved field on async-graphql's slower path.
/// Every answer it gives passes through [`request_errors::explain`], so each
/// error carries `extensions.code` and a bad enum value names the values
/// accepted.
#[derive(Clone)]
pub struct LimitedSchema {
    schema: AppSchema,
    enums: Arc<EnumValues>,
}

impl LimitedSchema {
    /// Puts `schema` behind the limits, reading its enums once for the
    /// wording of errors.
    pub fn new(schema: AppSchema) -> Self {
        let enums = EnumValues::from_sdl(&schema.sdl()).unwrap_or_else(|error| {
            tracing::error!(%error, "errors about enum values will not list the accepted values");
            EnumValues::default()
        });
        Self {
            schema,
            enums: Arc::new(enums),
        }
    }

    /// The fields `request` selects, or why it is refused (a limit, or a
    /// variable that cannot be coerced: see [`variables`]), naming `span`
    /// after the operation. A document that does not parse is left for
    /// execution to report.
    fn admit(request: &Request, span: &tracing::Span) -> Result<u64, ServerError> {
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            return Ok(0);
        };
        operation::record(span, &document, request.operation_name.as_deref());
        let refuse = |message: String| {
            crate::metrics::error("INVALID_INPUT");
            coded(message)
        };
        let fields = check(&document)
            .map(|m| m.fields)
            .map_err(|error| refuse(error.to_string()))?;
        variables::coerce(
            &document,
            request.operation_name.as_deref(),
            &request.variables,
        )
        .map_err(|error| refuse(error.to_string()))?;
        Ok(fields)
    }
}

impl Executor for LimitedSchema {
    async fn execute(&self, request: Request) -> Response {
        let span = operation::span(&request);
        if let Err(error) = Self::admit(&request, &span) {
            return Response::from_errors(vec![error]);
        }
        async move {
            let response = request_errors::explain(
                Executor::execute(&self.schema, request).await,
                &self.enums,
            );
            if json_size(&response.data, MAX_RESPONSE_BYTES) > MAX_RESPONSE_BYTES {
                crate::metrics::error("INVALID_INPUT");
                return Response::from_errors(vec![coded(format!(
                    "the answer would be larger than {} MB; ask for fewer fields or smaller pages",
                    MAX_RESPONSE_BYTES / (1024 * 1024)
                ))]);
            }
            response
        }
        .instrument(span)
        .await
    }

    async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        let requests = match batch {
            BatchRequest::Single(request) => {
                return BatchResponse::Single(self.execute(request).await)
            }
            BatchRequest::Batch(requests) => requests,
        };
        let refuse = |message: String| {
            crate::metrics::error("INVALID_INPUT");
            BatchResponse::Single(Response::from_errors(vec![coded(message)]))
        };
        if requests.len() > MAX_BATCH {
            return refuse(format!(
                "the batch holds {} requests; at most {MAX_BATCH} are allowed",
                requests.len()
            ));
        }
        let mut fields: u64 = 0;
        for request in &requests {
            match Self::admit(request, &tracing::Span::none()) {
                Ok(cost) => fields = fields.saturating_add(cost),
                Err(error) => return BatchResponse::Single(Response::from_errors(vec![error])),
            }
        }
        if fields > MAX_FIELDS {
            return refuse(LimitError::TooManyFields(fields).to_string());
        }
        let mut responses = Vec::with_capacity(requests.len());
        for request in requests {
            responses.push(self.execute(request).await);
        }
        BatchResponse::Batch(responses)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(error) = Self::admit(&request, &tracing::Span::none()) {
            return futures::stream::once(async move { Response::from_errors(vec![error]) })
                .boxed();
        }
        let enums = self.enums.clone();
        Executor::execute_stream(&self.schema, request, session_data)
            .map(move |response| request_errors::explain(response, &enums))
            .boxed()
    }
}

/// A request error with `extensions.code` `INVALID_INPUT`.
fn coded(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "INVALID_INPUT");
    error.extensions = Some(extensions);
    error
}

/// About how many bytes `value` takes as JSON; stops counting past `limit`.
pub fn json_size(value: &Value, limit: usize) -> usize {
    let mut size = 0usize;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        if size > limit {
            break;
        }
        size += match value {
            Value::Null | Value::Boolean(_) => 5,
            Value::Number(_) => 20,
            Value::String(text) => text.len() + 2,
            Value::Enum(name) => name.len() + 2,
            Value::Binary(bytes) => bytes.len() * 2 + 2,
            Value::List(items) => {
                stack.extend(items.iter());
                items.len() + 2
            }
            Value::Object(fields) => {
                stack.extend(fields.values());
                fields.keys().map(|key| key.len() + 4).sum::<usize>() + 2
            }
        };
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(query: &str) -> Result<Measure, LimitError> {
        check(&async_graphql::parser::parse_query(query).expect("parses"))
    }

    /// The fragment bomb of issue 13: each fragment spreads the one before
    /// twice, so 24 fragments ask for 2^24 `__typename`s.
    fn bomb(levels: usize) -> String {
        let mut text = String::from("fragment F0 on Query { __typename }");
        for i in 1..=levels {
            text.push_str(&format!(
                " fragment F{i} on Query {{ a{i}: __typename ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        text.push_str(&format!(" {{ ...F{levels} }}"));
        text
    }

    #[test]
    fn typename_counts_as_a_field() {
        assert_eq!(
            measure("{ __typename a: __typename }").map(|m| m.fields),
            Ok(2)
        );
    }

    #[test]
    fn fragments_count_once_per_spread() {
        let query = "fragment P on Query { version __typename } { ...P ...P x: version }";
        assert_eq!(
            measure(query),
            Ok(Measure {
                fields: 5,
                aliases: 1,
                spreads: 2
            })
        );
    }

    #[test]
    fn a_fragment_bomb_is_refused_without_expanding_it() {
        let started = std::time::Instant::now();
        assert!(matches!(
            measure(&bomb(24)),
            Err(LimitError::TooManyFields(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        // Eleven levels stay under the limit: 2^12 - 1 + 2^11 - 1 fields.
        assert!(measure(&bomb(11)).is_ok());
    }

    #[test]
    fn aliases_and_spreads_are_bounded() {
        let aliases: String = (0..=MAX_ALIASES)
            .map(|i| format!(" a{i}: version"))
            .collect();
        assert_eq!(
            measure(&format!("{{{aliases} }}")),
            Err(LimitError::TooManyAliases(MAX_ALIASES + 1))
        );
        let spreads = " ...P".repeat(MAX_SPREADS + 1);
        assert_eq!(
            measure(&format!("fragment P on Query {{ version }} {{{spreads} }}")),
            Err(LimitError::TooManySpreads(MAX_SPREADS + 1))
        );
    }

    #[test]
    fn a_fragment_cycle_costs_nothing_here() {
        let query = "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }";
        assert!(measure(query).is_ok());
    }

    #[test]
    fn json_size_stops_past_the_limit() {
        let big = Value::List(vec![Value::String("x".repeat(100)); 1000]);
        assert!(json_size(&big, 1_000_000) > 100_000);
        assert!(json_size(&big, 500) < 2_000);
    }
}
