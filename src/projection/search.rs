//! What a search asks of each backend's full-text index, built from what
//! someone typed so that no input, however odd, is a syntax error there:
//! the whitespace-separated terms, cleaned and bounded; on SQLite an FTS5
//! query of quoted strings; on PostgreSQL the text for
//! `websearch_to_tsquery` and, for a last term that is a plain word, a
//! prefix of it (so `rot` finds `rota` while it is being typed).

/// The most terms of a query taken (those after are dropped).
const MAX_TERMS: usize = 32;
/// The longest term taken, in bytes (a longer one is dropped: no index
/// keeps a word that long).
const MAX_TERM_BYTES: usize = 256;

/// A search query as terms.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Terms(Vec<String>);

impl Terms {
    /// The whitespace-separated terms of `query`, with control characters
    /// (NUL among them) taken as whitespace, terms with no letter or digit
    /// and over-long terms dropped, and at most [`MAX_TERMS`] kept.
    pub(super) fn parse(query: &str) -> Terms {
        Terms(
            query
                .split(|c: char| c.is_whitespace() || c.is_control())
                .filter(|term| term.len() <= MAX_TERM_BYTES)
                .filter(|term| term.chars().any(char::is_alphanumeric))
                .take(MAX_TERMS)
                .map(str::to_string)
                .collect(),
        )
    }

    /// Whether nothing is left to search for.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The last term, when it is a plain word (letters and digits only),
    /// which is then also matched as a prefix.
    fn prefix(&self) -> Option<&str> {
        self.0
            .last()
            .map(String::as_str)
            .filter(|term| term.chars().all(char::is_alphanumeric))
    }

    /// The FTS5 query: every term an FTS5 string (`"te""rm"`), all of them
    /// required, the last a prefix when it is a plain word.
    pub(super) fn fts5(&self) -> String {
        let prefix = self.prefix().is_some();
        let last = self.0.len().saturating_sub(1);
        self.0
            .iter()
            .enumerate()
            .map(|(i, term)| {
                let star = if prefix && i == last { "*" } else { "" };
                format!("\"{}\"{star}", term.replace('"', "\"\""))
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// What PostgreSQL takes: the whole query for `websearch_to_tsquery`;
    /// with a plain last word, also the query without it (for
    /// `websearch_to_tsquery`) and that word as a prefix for `to_tsquery`
    /// (`word:*`, safe there as it holds only letters and digits).
    pub(super) fn postgres(&self) -> (String, Option<(String, String)>) {
        let whole = self.0.join(" ");
        let prefix = self.prefix().map(|last| {
            let rest = self.0[..self.0.len() - 1].join(" ");
            (rest, format!("{last}:*"))
        });
        (whole, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_becomes_quoted_terms() {
        assert!(Terms::parse("").is_empty());
        assert!(Terms::parse("  \t\n ").is_empty());
        assert!(Terms::parse("\" * ( ) - :").is_empty());
        assert_eq!(Terms::parse("night rota").fts5(), "\"night\" AND \"rota\"*");
        assert_eq!(
            Terms::parse("AND OR NOT ( say\"hi\"").fts5(),
            "\"AND\" AND \"OR\" AND \"NOT\" AND \"say\"\"hi\"\"\""
        );
        assert_eq!(Terms::parse("a\0b").fts5(), "\"a\" AND \"b\"*");
        assert_eq!(Terms::parse(&"x".repeat(300)).0.len(), 0);
        assert_eq!(Terms::parse(&"x ".repeat(100)).0.len(), MAX_TERMS);
    }

    #[test]
    fn postgres_gets_a_prefix_only_for_a_plain_last_word() {
        assert_eq!(
            Terms::parse("night rot").postgres(),
            ("night rot".into(), Some(("night".into(), "rot:*".into())))
        );
        assert_eq!(
            Terms::parse("rota -night").postgres(),
            ("rota -night".into(), None)
        );
        assert_eq!(
            Terms::parse("\"night shift\"").postgres(),
            ("\"night shift\"".into(), None)
        );
    }
}
