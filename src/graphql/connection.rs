//! Relay connections over lists ordered by a stable key (the position of
//! each item's founding event), with opaque cursors.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::OutputType;

use super::error::{invalid_input, GqlResult};

/// The page size when `first` is not given.
pub const DEFAULT_PAGE: usize = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE: usize = 500;

/// A page of `items` (ordered by their key, ascending) after the cursor.
pub fn page<T: OutputType>(
    items: Vec<(u64, T)>,
    first: Option<i32>,
    after: Option<String>,
) -> GqlResult<Connection<OpaqueCursor<u64>, T>> {
    let first = match first {
        None => DEFAULT_PAGE,
        Some(n) if n < 0 => return Err(invalid_input("first must not be negative".into())),
        Some(n) => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
    let after = match after {
        None => None,
        Some(cursor) => Some(
            OpaqueCursor::<u64>::decode_cursor(&cursor)
                .map_err(|_| invalid_input(format!("{cursor:?} is not a cursor of this list")))?
                .0,
        ),
    };
    let mut rest = items
        .into_iter()
        .filter(|(key, _)| after.is_none_or(|a| *key > a))
        .peekable();
    let mut edges = Vec::new();
    while edges.len() < first {
        match rest.next() {
            Some((key, node)) => edges.push(Edge::new(OpaqueCursor(key), node)),
            None => break,
        }
    }
    let mut connection = Connection::new(after.is_some(), rest.peek().is_some());
    connection.edges = edges;
    Ok(connection)
}
