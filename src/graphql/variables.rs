//! The parts of variable coercion (GraphQL, "CoerceVariableValues") that
//! async-graphql leaves to execution, done before it, so that their failure
//! is a request error (no `data`; 400 in `application/graphql-response+json`)
//! rather than a field error: a non-null variable that is missing or null,
//! and an `Int` variable outside the signed 32 bits GraphQL gives `Int`.
//! The value's shape otherwise is checked by async-graphql's validation where
//! the variable is used, and by the scalars' own parsing.

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Type,
};
use async_graphql::{Positioned, Value as ConstValue, Variables};

/// Why a variable cannot be coerced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// A non-null variable without a default was not given.
    #[error("the variable ${name} ({ty}) is required, but it was not given")]
    Missing {
        /// The variable.
        name: String,
        /// Its type.
        ty: String,
    },
    /// A non-null variable was given null.
    #[error("the variable ${name} ({ty}) must not be null")]
    Null {
        /// The variable.
        name: String,
        /// Its type.
        ty: String,
    },
    /// An `Int` out of range.
    #[error("the variable ${name} is an Int, a 32-bit integer from -2147483648 to 2147483647; {value} is not one")]
    IntRange {
        /// The variable.
        name: String,
        /// What it was given.
        value: String,
    },
}

/// Checks the variables of the operation `document` runs (the one named
/// `operation_name`, or its only one) against their definitions.
pub fn coerce(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<(), VariableError> {
    let Some(operation) = selected(document, operation_name) else {
        // No such operation: execution says so.
        return Ok(());
    };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        let ty = &definition.var_type.node;
        match variables.get(name) {
            None if !ty.nullable && definition.default_value.is_none() => {
                return Err(VariableError::Missing {
                    name: name.to_string(),
                    ty: ty.to_string(),
                })
            }
            None => {}
            Some(ConstValue::Null) if !ty.nullable => {
                return Err(VariableError::Null {
                    name: name.to_string(),
                    ty: ty.to_string(),
                })
            }
            Some(value) => ints_in_range(name, ty, value)?,
        }
    }
    Ok(())
}

/// The operation a request runs.
fn selected<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Refuses a value of an `Int` type (or a list of them) outside 32 bits.
fn ints_in_range(name: &str, ty: &Type, value: &ConstValue) -> Result<(), VariableError> {
    match (&ty.base, value) {
        (BaseType::Named(named), ConstValue::Number(number)) if named.as_str() == "Int" => {
            if number
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .is_none()
            {
                return Err(VariableError::IntRange {
                    name: name.to_string(),
                    value: number.to_string(),
                });
            }
            Ok(())
        }
        (BaseType::List(item), ConstValue::List(values)) => values
            .iter()
            .try_for_each(|value| ints_in_range(name, item.as_ref(), value)),
        // A single value where a list belongs is coerced to a list of one.
        (BaseType::List(item), value) => ints_in_range(name, item.as_ref(), value),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, variables: serde_json::Value) -> Result<(), VariableError> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        coerce(&document, None, &Variables::from_json(variables))
    }

    #[test]
    fn required_variables_must_be_given_and_not_null() {
        let query = "query($id: ID!) { __typename }";
        assert!(matches!(
            check(query, serde_json::json!({})),
            Err(VariableError::Missing { .. })
        ));
        assert!(matches!(
            check(query, serde_json::json!({ "id": null })),
            Err(VariableError::Null { .. })
        ));
        assert_eq!(check(query, serde_json::json!({ "id": "x" })), Ok(()));
        assert_eq!(
            check("query($id: ID! = \"x\") { a }", serde_json::json!({})),
            Ok(())
        );
        assert_eq!(check("query($id: ID) { a }", serde_json::json!({})), Ok(()));
    }

    #[test]
    fn ints_are_32_bit() {
        let query = "query($n: Int, $ns: [Int!]) { a }";
        assert_eq!(
            check(query, serde_json::json!({ "n": 2_147_483_647 })),
            Ok(())
        );
        assert!(matches!(
            check(query, serde_json::json!({ "n": 2_147_483_648_i64 })),
            Err(VariableError::IntRange { .. })
        ));
        assert!(matches!(
            check(query, serde_json::json!({ "ns": [1, -2_147_483_649_i64] })),
            Err(VariableError::IntRange { .. })
        ));
        assert!(matches!(
            check(query, serde_json::json!({ "ns": 1e10 })),
            Err(VariableError::IntRange { .. })
        ));
    }
}
