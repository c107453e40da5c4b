//! The schema's own integer scalars, for the quantities that do not fit
//! GraphQL's `Int` (a signed 32-bit integer): log positions and tree sizes
//! ([`Position`]) and money in minor units ([`Money`]). Both travel as JSON
//! numbers and stay within 2^53 − 1, the largest integer every JSON client
//! (JavaScript's included) reads exactly.

use async_graphql::{InputValueError, InputValueResult, Number, Scalar, ScalarType, Value};

/// The largest integer a JSON number carries exactly everywhere: 2^53 − 1.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A log position or a tree size: a non-negative integer up to 2^53 − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position(pub u64);

/// Money in minor units (e.g. pence): an integer from −(2^53 − 1) to
/// 2^53 − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

/// A log position (1 is the first event) or a tree size (how many events
/// a tree covers; 0 for none): a non-negative integer up to
/// 9007199254740991 (2^53 − 1), sent as a JSON number.
#[Scalar(name = "Position")]
impl ScalarType for Position {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_u64()
                .filter(|n| i64::try_from(*n).is_ok_and(|n| n <= MAX_SAFE_INTEGER))
                .map(Position)
                .ok_or_else(|| {
                    InputValueError::custom(format!(
                        "a position is an integer from 0 to {MAX_SAFE_INTEGER}"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::Number(n) if n.as_u64().is_some_and(|n| n <= MAX_SAFE_INTEGER as u64))
    }

    fn to_value(&self) -> Value {
        Value::Number(Number::from(self.0))
    }
}

/// An amount of money in minor units (e.g. pence; negative for an
/// adjustment down): an integer from -9007199254740991 to 9007199254740991
/// (±(2^53 − 1)), sent as a JSON number.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_i64()
                .filter(|n| n.abs() <= MAX_SAFE_INTEGER)
                .map(Money)
                .ok_or_else(|| {
                    InputValueError::custom(format!(
                        "an amount of money is an integer of minor units from -{MAX_SAFE_INTEGER} to {MAX_SAFE_INTEGER}"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::Number(n) if n.as_i64().is_some_and(|n| n.abs() <= MAX_SAFE_INTEGER))
    }

    fn to_value(&self) -> Value {
        Value::Number(Number::from(self.0))
    }
}

impl From<u64> for Position {
    fn from(position: u64) -> Self {
        Position(position)
    }
}

impl From<i64> for Money {
    fn from(amount: i64) -> Self {
        Money(amount)
    }
}

/// A count as GraphQL's 32-bit `Int`, saturating at its largest value.
pub fn count<T: TryInto<i32>>(n: T) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    #[test]
    fn positions_are_non_negative_and_json_safe() {
        assert_eq!(Position::parse(number(0u64)).ok(), Some(Position(0)));
        assert!(Position::is_valid(&number(MAX_SAFE_INTEGER)));
        assert!(!Position::is_valid(&number(MAX_SAFE_INTEGER + 1)));
        assert!(!Position::is_valid(&number(-1i64)));
        assert!(!Position::is_valid(&Value::String("1".into())));
        assert!(Position::parse(number(MAX_SAFE_INTEGER + 1)).is_err());
        assert!(Position::parse(number(-1i64)).is_err());
        assert_eq!(Position(7).to_value(), number(7u64));
    }

    #[test]
    fn money_is_signed_and_json_safe() {
        assert!(Money::is_valid(&number(-MAX_SAFE_INTEGER)));
        assert!(!Money::is_valid(&number(-MAX_SAFE_INTEGER - 1)));
        assert!(!Money::is_valid(&Value::Number(
            Number::from_f64(1.5).expect("finite")
        )));
        assert!(Money::parse(number(MAX_SAFE_INTEGER + 1)).is_err());
        assert_eq!(Money(-250).to_value(), number(-250i64));
    }

    #[test]
    fn counts_saturate() {
        assert_eq!(count(5u64), 5);
        assert_eq!(count(u64::MAX), i32::MAX);
    }
}
