//! Relay cursor connections, paged both ways (`first`/`after` and
//! `last`/`before`, as the Relay cursor connections specification says),
//! with opaque cursors. The arguments are checked here once; lists held in
//! memory are paged here; lists in the database are read through the
//! [`Window`] a [`Slice`] names and assembled into a page here.

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, DefaultConnectionName, DefaultEdgeName, Edge,
    EdgeNameType, EmptyFields, OpaqueCursor,
};
use async_graphql::OutputType;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{invalid_input, GqlResult};
use crate::window::Window;

/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: usize = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE: usize = 500;

/// A connection with opaque cursors over keys `K` and the given type names.
pub type Paged<K, T, N = DefaultConnectionName, E = DefaultEdgeName> =
    Connection<OpaqueCursor<K>, T, EmptyFields, EmptyFields, N, E>;

/// Declares the two marker types that name a connection and its edges in
/// the schema (`<Name>Connection`, `<Name>Edge`), for a list whose item
/// type is also listed elsewhere under the default names.
#[macro_export]
macro_rules! connection_names {
    ($(#[$doc:meta])* $connection:ident, $edge:ident) => {
        $(#[$doc])*
        pub struct $connection;

        impl async_graphql::connection::ConnectionNameType for $connection {
            fn type_name<T: async_graphql::OutputType>() -> String {
                stringify!($connection).into()
            }
        }

        /// Names the edges of the connection of the same name.
        pub struct $edge;

        impl async_graphql::connection::EdgeNameType for $edge {
            fn type_name<T: async_graphql::OutputType>() -> String {
                stringify!($edge).into()
            }
        }
    };
}

/// The paging arguments of a connection field, as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    /// At most this many items from the start of the range.
    pub first: Option<i32>,
    /// Only items after the one with this cursor.
    pub after: Option<String>,
    /// At most this many items from the end of the range.
    pub last: Option<i32>,
    /// Only items before the one with this cursor.
    pub before: Option<String>,
}

impl Paging {
    /// The arguments in the order connection fields take them.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Paging {
            first,
            after,
            last,
            before,
        }
    }

    /// The arguments checked: `INVALID_INPUT` for both `first` and `last`,
    /// a negative count, or a cursor that is not one of a list keyed by `K`.
    pub fn decode<K: Serialize + DeserializeOwned>(self) -> GqlResult<Slice<K>> {
        let (size, backward) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(invalid_input(
                    "give first or last, not both (page forward or backward)".into(),
                ))
            }
            (first, None) => (count("first", first)?, false),
            (None, last) => (count("last", last)?, true),
        };
        Ok(Slice {
            after: decode_cursor(self.after)?,
            before: decode_cursor(self.before)?,
            size,
            backward,
        })
    }
}

fn count(name: &str, n: Option<i32>) -> GqlResult<usize> {
    match n {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(invalid_input(format!("{name} must not be negative"))),
        Some(n) => Ok(usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
    }
}

/// The key a cursor stands for.
fn decode_cursor<K: Serialize + DeserializeOwned>(cursor: Option<String>) -> GqlResult<Option<K>> {
    match cursor {
        None => Ok(None),
        Some(cursor) => OpaqueCursor::<K>::decode_cursor(&cursor)
            .map(|c| Some(c.0))
            .map_err(|_| invalid_input(format!("{cursor:?} is not a cursor of this list"))),
    }
}

/// A checked paging request: the keys the page lies between, its size, and
/// whether it is taken from the end of that range (`last`).
#[derive(Debug, Clone)]
pub struct Slice<K> {
    /// Only items after this key.
    pub after: Option<K>,
    /// Only items before this key.
    pub before: Option<K>,
    /// At most this many items.
    pub size: usize,
    /// Taken from the end of the range (`last`), not its start (`first`).
    pub backward: bool,
}

impl<K: Clone> Slice<K> {
    /// The window to read from the database: one row past the page, so
    /// [`Slice::connection`] can tell whether there is more that way.
    pub fn window(&self) -> Window<K> {
        Window {
            after: self.after.clone(),
            before: self.before.clone(),
            limit: u32::try_from(self.size + 1).unwrap_or(u32::MAX),
            from_end: self.backward,
        }
    }

    /// The page of rows read through [`Slice::window`] (in list order, or
    /// in reverse list order when paging backward). Paging forward,
    /// `hasNextPage` says whether a row lay past the page and
    /// `hasPreviousPage` whether `after` was given (the item it names lies
    /// before); backward, the other way round, as the specification allows.
    pub fn connection<T, N, E>(&self, mut rows: Vec<(K, T)>) -> Paged<K, T, N, E>
    where
        K: Serialize + DeserializeOwned + Send + Sync,
        T: OutputType,
        N: ConnectionNameType,
        E: EdgeNameType,
    {
        let more = rows.len() > self.size;
        rows.truncate(self.size);
        if self.backward {
            rows.reverse();
        }
        let (previous, next) = if self.backward {
            (more, self.before.is_some())
        } else {
            (self.after.is_some(), more)
        };
        let mut connection = Connection::new(previous, next);
        connection.edges = rows
            .into_iter()
            .map(|(key, node)| Edge::new(OpaqueCursor(key), node))
            .collect();
        connection
    }
}

/// A page of a list held in memory, given in list order with its keys
/// ascending. `hasPreviousPage` and `hasNextPage` are exact: whether any
/// item of the list lies before or after the page.
pub fn page<K, T, N, E>(items: Vec<(K, T)>, paging: Paging) -> GqlResult<Paged<K, T, N, E>>
where
    K: Serialize + DeserializeOwned + PartialOrd + Send + Sync,
    T: OutputType,
    N: ConnectionNameType,
    E: EdgeNameType,
{
    let slice = paging.decode::<K>()?;
    let total = items.len();
    let start = slice.after.as_ref().map_or(0, |after| {
        items.iter().take_while(|(k, _)| k <= after).count()
    });
    let end = slice.before.as_ref().map_or(total, |before| {
        items.iter().take_while(|(k, _)| k < before).count()
    });
    let end = end.max(start);
    let (from, to) = if slice.backward {
        (end.saturating_sub(slice.size).max(start), end)
    } else {
        (start, (start + slice.size).min(end))
    };
    let mut connection = Connection::new(from > 0, to < total);
    connection.edges = items
        .into_iter()
        .skip(from)
        .take(to - from)
        .map(|(key, node)| Edge::new(OpaqueCursor(key), node))
        .collect();
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(connection: &Paged<u64, u64>) -> Vec<u64> {
        connection.edges.iter().map(|e| e.node).collect()
    }

    fn cursor(key: u64) -> Option<String> {
        Some(OpaqueCursor(key).encode_cursor())
    }

    fn items() -> Vec<(u64, u64)> {
        (1..=10).map(|k| (k, k)).collect()
    }

    #[test]
    fn pages_forward_and_backward_between_cursors() {
        let forward: Paged<u64, u64> =
            page(items(), Paging::new(Some(3), cursor(2), None, None)).unwrap();
        assert_eq!(keys(&forward), [3, 4, 5]);
        assert!(forward.has_previous_page && forward.has_next_page);
        let backward: Paged<u64, u64> =
            page(items(), Paging::new(None, None, Some(3), cursor(9))).unwrap();
        assert_eq!(keys(&backward), [6, 7, 8]);
        assert!(backward.has_previous_page && backward.has_next_page);
        let tail: Paged<u64, u64> = page(items(), Paging::new(None, None, Some(4), None)).unwrap();
        assert_eq!(keys(&tail), [7, 8, 9, 10]);
        assert!(tail.has_previous_page && !tail.has_next_page);
        let between: Paged<u64, u64> =
            page(items(), Paging::new(None, cursor(3), Some(10), cursor(6))).unwrap();
        assert_eq!(keys(&between), [4, 5]);
    }

    #[test]
    fn refuses_first_with_last_and_bad_cursors() {
        assert!(Paging::new(Some(1), None, Some(1), None)
            .decode::<u64>()
            .is_err());
        assert!(Paging::new(None, Some("nope".into()), None, None)
            .decode::<u64>()
            .is_err());
        assert!(Paging::new(None, None, Some(-1), None)
            .decode::<u64>()
            .is_err());
    }

    #[test]
    fn assembles_a_backward_database_page_in_list_order() {
        let slice = Paging::new(None, None, Some(2), cursor(9))
            .decode::<u64>()
            .unwrap();
        assert!(slice.window().from_end);
        assert_eq!(slice.window().limit, 3);
        let page: Paged<u64, u64> = slice.connection(vec![(8, 8), (7, 7), (6, 6)]);
        assert_eq!(keys(&page), [7, 8]);
        assert!(page.has_previous_page && page.has_next_page);
    }
}
