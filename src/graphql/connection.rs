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
    let first = page_size(first)?;
    let after = decode_after(after)?;
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

/// The page size a client asked for, defaulted and capped.
pub fn page_size(first: Option<i32>) -> GqlResult<usize> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(invalid_input("first must not be negative".into())),
        Some(n) => Ok(usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
    }
}

/// The key an `after` cursor stands for.
pub fn decode_after<K: serde::Serialize + serde::de::DeserializeOwned>(
    after: Option<String>,
) -> GqlResult<Option<K>> {
    match after {
        None => Ok(None),
        Some(cursor) => OpaqueCursor::<K>::decode_cursor(&cursor)
            .map(|c| Some(c.0))
            .map_err(|_| invalid_input(format!("{cursor:?} is not a cursor of this list"))),
    }
}
