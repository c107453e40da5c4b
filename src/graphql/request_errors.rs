//! The errors async-graphql answers by itself (a document that does not
//! parse, fails validation, or carries a variable of the wrong shape), made
//! to read like the application's own: every one gets `extensions.code`
//! (`INVALID_INPUT`), and a bad enum value is answered with the values the
//! schema accepts, e.g. `rule must be one of ADVICE, CONSENT or THRESHOLD;
//! "VOTE" is not one of them`.
//!
//! async-graphql words these errors for programmers and attaches no code;
//! its messages are stable text, matched here once, so that an unmatched
//! message is still answered (with its code) as async-graphql put it.

use std::collections::HashMap;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use async_graphql::{ErrorExtensionValues, Response, ServerError};

/// The code of every error async-graphql raises about the request itself.
pub const REQUEST_ERROR_CODE: &str = "INVALID_INPUT";

/// Why the schema's enums could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EnumValuesError {
    /// The schema's own SDL did not parse.
    #[error("the schema's SDL does not parse: {0}")]
    Sdl(#[from] async_graphql::parser::Error),
}

/// The values each enum of the schema accepts, in the schema's order.
#[derive(Debug, Clone, Default)]
pub struct EnumValues(HashMap<String, Vec<String>>);

impl EnumValues {
    /// Reads every enum and its values from a schema's SDL.
    pub fn from_sdl(sdl: &str) -> Result<Self, EnumValuesError> {
        let document = async_graphql::parser::parse_schema(sdl)?;
        let enums = document
            .definitions
            .into_iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) => match ty.node.kind {
                    TypeKind::Enum(values) => Some((
                        ty.node.name.node.to_string(),
                        values
                            .values
                            .iter()
                            .map(|value| value.node.value.node.to_string())
                            .collect(),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        Ok(Self(enums))
    }

    /// The values enum `name` accepts, if the schema has such an enum.
    pub fn of(&self, name: &str) -> Option<&[String]> {
        self.0.get(name).map(Vec::as_slice)
    }
}

/// Gives every error of `response` a code (those without one are the
/// request's fault: `INVALID_INPUT`) and words enum errors with the values
/// accepted.
pub fn explain(mut response: Response, enums: &EnumValues) -> Response {
    for error in &mut response.errors {
        explain_error(error, enums);
    }
    response
}

/// Gives one error a code and, for a bad enum value, the accepted values.
/// An error that already has a code (the application's own) is left as it is.
pub fn explain_error(error: &mut ServerError, enums: &EnumValues) {
    let coded = error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some());
    if coded {
        return;
    }
    if let Some(message) = reword(&error.message, enums) {
        error.message = message;
    }
    crate::metrics::error(REQUEST_ERROR_CODE);
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", REQUEST_ERROR_CODE);
}

/// async-graphql's message in a care worker's words, when it is one this
/// module knows.
fn reword(message: &str, enums: &EnumValues) -> Option<String> {
    if let Some(rest) = message.strip_prefix("Invalid value for argument \"") {
        let (path, reason) = rest.split_once("\", ")?;
        return argument(path, reason, enums);
    }
    // A value that passed validation but not the resolver's own parsing:
    // `Failed to parse "Rule": Enumeration type does not contain value "VOTE".`
    let rest = message.strip_prefix("Failed to parse \"")?;
    let (type_name, reason) = rest.split_once("\": ")?;
    let value = between(reason, "Enumeration type does not contain value \"", "\"")?;
    let values = enums.of(type_name)?;
    Some(not_one_of(&field_word(type_name), Some(value), values))
}

/// Words a validation error about an argument's value at `path` (e.g.
/// `input.rule`).
fn argument(path: &str, reason: &str, enums: &EnumValues) -> Option<String> {
    let name = field_name(path);
    if let Some(rest) = reason.strip_prefix("enumeration type \"") {
        let (type_name, rest) = rest.split_once('"')?;
        let value = between(rest, "does not contain the value \"", "\"")?;
        return Some(not_one_of(name, Some(value), enums.of(type_name)?));
    }
    if let Some(type_name) = between(reason, "expected type \"", "\"") {
        if let Some(values) = enums.of(type_name.trim_end_matches('!')) {
            return Some(not_one_of(name, None, values));
        }
        return None;
    }
    if let Some(rest) = reason.strip_prefix("field \"") {
        let (missing, rest) = rest.split_once('"')?;
        if rest.ends_with("is required but not provided") {
            return Some(format!(
                "{missing} is required in {name}, but it was not given"
            ));
        }
    }
    None
}

/// `rule must be one of ADVICE, CONSENT or THRESHOLD; "VOTE" is not one of them`.
fn not_one_of(name: &str, value: Option<&str>, values: &[String]) -> String {
    let listed = match values {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    match value {
        Some(value) => format!("{name} must be one of {listed}; \"{value}\" is not one of them"),
        None => format!("{name} must be one of {listed}"),
    }
}

/// The field an argument path ends in: `input.notes.0.stance` is `stance`.
fn field_name(path: &str) -> &str {
    path.rsplit('.')
        .find(|segment| segment.parse::<usize>().is_err())
        .unwrap_or(path)
}

/// A type name as a word in a sentence: `ReviewOutcome` is `the review outcome`.
fn field_word(type_name: &str) -> String {
    let mut word = String::from("the");
    for c in type_name.chars() {
        if c.is_uppercase() {
            word.push(' ');
        }
        word.extend(c.to_lowercase());
    }
    word
}

/// The text between `start` and the next `end` in `text`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let rest = &text[from..];
    rest.find(end).map(|to| &rest[..to])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enums() -> EnumValues {
        EnumValues::from_sdl("enum Rule { ADVICE CONSENT THRESHOLD } enum Stance { SUPPORT CONCERN OBJECT } type Query { a: Int }")
            .expect("parses")
    }

    #[test]
    fn a_bad_enum_literal_names_the_accepted_values() {
        let message = "Invalid value for argument \"input.rule\", enumeration type \"Rule\" does not contain the value \"VOTE\"";
        assert_eq!(
            reword(message, &enums()).as_deref(),
            Some("rule must be one of ADVICE, CONSENT or THRESHOLD; \"VOTE\" is not one of them")
        );
    }

    #[test]
    fn a_value_of_the_wrong_kind_for_an_enum_names_the_accepted_values() {
        let message =
            "Invalid value for argument \"input.notes.0.stance\", expected type \"Stance\"";
        assert_eq!(
            reword(message, &enums()).as_deref(),
            Some("stance must be one of SUPPORT, CONCERN or OBJECT")
        );
    }

    #[test]
    fn a_resolver_parse_error_names_the_accepted_values() {
        let message = "Failed to parse \"Rule\": Enumeration type does not contain value \"VOTE\".";
        assert_eq!(
            reword(message, &enums()).as_deref(),
            Some(
                "the rule must be one of ADVICE, CONSENT or THRESHOLD; \"VOTE\" is not one of them"
            )
        );
    }

    #[test]
    fn a_missing_field_is_named() {
        let message = "Invalid value for argument \"input\", field \"title\" of type \"String!\" is required but not provided";
        assert_eq!(
            reword(message, &enums()).as_deref(),
            Some("title is required in input, but it was not given")
        );
    }

    #[test]
    fn every_uncoded_error_gets_a_code_and_coded_ones_keep_theirs() {
        let mut plain = ServerError::new("Unknown field \"nope\" on type \"Query\".", None);
        explain_error(&mut plain, &enums());
        let code = plain
            .extensions
            .as_ref()
            .and_then(|e| e.get("code").cloned());
        assert_eq!(code, Some(async_graphql::Value::from("INVALID_INPUT")));

        let mut coded = ServerError::new("no", None);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", "FORBIDDEN");
        coded.extensions = Some(extensions);
        explain_error(&mut coded, &enums());
        let code = coded
            .extensions
            .as_ref()
            .and_then(|e| e.get("code").cloned());
        assert_eq!(code, Some(async_graphql::Value::from("FORBIDDEN")));
    }
}
