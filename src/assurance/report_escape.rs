//! How the bundle's `report.html` escapes text: `&`, `<`, `>` and `"` as
//! the named entities reports were written with before they were rendered
//! from a template. `verify-bundle` renders the report again and compares
//! it byte for byte, so this must not change, or bundles exported earlier
//! would no longer verify. (askama's own HTML escaper writes numeric
//! entities and escapes `'` too.) The template quotes every attribute with
//! `"`, so a `'` is safe as it is.

use std::fmt;

/// The report's HTML escaper, selected in the template by
/// `escape = "report"` (see `askama.toml`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportHtml;

impl askama::filters::Escaper for ReportHtml {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        let mut written = 0;
        for (at, c) in string.char_indices() {
            let entity = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                _ => continue,
            };
            dest.write_str(&string[written..at])?;
            dest.write_str(entity)?;
            written = at + 1;
        }
        dest.write_str(&string[written..])
    }
}
