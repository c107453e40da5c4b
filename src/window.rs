//! A window on an ordered list: the keys it lies strictly between, how many
//! rows it holds, and which end of that range it is taken from. Lists read
//! from the database (read models, the event log, the delivery log) are
//! paged both ways with it.

/// Up to `limit` rows of an ordered list strictly between `after` and
/// `before` (both in the list's own order), taken from the start of that
/// range, or with `from_end` from its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<K> {
    /// Only rows after this key, or from the start of the list.
    pub after: Option<K>,
    /// Only rows before this key, or to the end of the list.
    pub before: Option<K>,
    /// At most this many rows.
    pub limit: u32,
    /// Take the rows nearest `before` (the end of the range) rather than
    /// those nearest `after`; they are answered in reverse list order.
    pub from_end: bool,
}

impl<K> Window<K> {
    /// The first `limit` rows after `after` (or from the start).
    pub fn first(after: Option<K>, limit: u32) -> Self {
        Window {
            after,
            before: None,
            limit,
            from_end: false,
        }
    }

    /// Whether this is the list's first page read forward: no cursor, from
    /// the start.
    pub fn is_head(&self) -> bool {
        self.after.is_none() && self.before.is_none() && !self.from_end
    }
}
