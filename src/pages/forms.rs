//! What forms share: errors beside their fields, select and radio options,
//! and reading what people type (money in pounds, dates and times in the
//! organisation's time zone).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A form's errors, each beside the field it concerns, in the order found.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(Vec<FieldError>);

/// One error of a form.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The id of the field it concerns.
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl FormErrors {
    /// Adds an error beside `field` (only the first per field is kept).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.has(field) {
            self.0.push(FieldError {
                field: field.to_string(),
                message: message.into(),
            });
        }
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// The error beside `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Every error, in order.
    pub fn list(&self) -> &[FieldError] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One option of a select or radio group.
#[derive(Debug, Clone)]
pub struct SelectOption {
    /// What is posted.
    pub value: String,
    /// What is shown.
    pub label: String,
    /// Whether it is chosen.
    pub selected: bool,
}

impl SelectOption {
    /// An option, chosen when `value == chosen`.
    pub fn new(value: impl Into<String>, label: impl Into<String>, chosen: &str) -> Self {
        let value = value.into();
        SelectOption {
            selected: value == chosen,
            value,
            label: label.into(),
        }
    }
}

/// Reads an amount in pounds ("£1,250.50", "1250.5", "30") as pence.
pub fn parse_pounds(text: &str) -> Result<i64, String> {
    let cleaned: String = text
        .trim()
        .trim_start_matches('£')
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    let bad = || {
        format!(
            "Enter an amount in pounds, like 250 or 1,250.50 (you entered \"{}\")",
            text.trim()
        )
    };
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
    {
        return Err(bad());
    }
    let pounds: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let pence: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pence))
        .ok_or_else(bad)
}

/// Reads a date ("2026-12-24", as a date field posts it) and an optional
/// time ("17:00"; end of the working day, 17:00, when empty) in `zone`.
pub fn parse_local(date: &str, time: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| "Enter a real date, like 24 December 2026".to_string())?;
    let time = if time.trim().is_empty() {
        NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default()
    } else {
        NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .map_err(|_| "Enter a time on the 24-hour clock, like 17:00".to_string())?
    };
    zone.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            "That time does not exist on that day (the clocks change): choose another".to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_are_read_as_pence() {
        assert_eq!(parse_pounds("£1,250.50"), Ok(125_050));
        assert_eq!(parse_pounds("30"), Ok(3_000));
        assert_eq!(parse_pounds("0.5"), Ok(50));
        assert!(parse_pounds("1.234").is_err());
        assert!(parse_pounds("-5").is_err());
        assert!(parse_pounds("").is_err());
        assert!(parse_pounds("99999999999999999999").is_err());
    }

    #[test]
    fn local_times_are_read_in_the_organisation_zone() {
        let summer = parse_local("2026-07-01", "09:00", chrono_tz::Europe::London).unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-07-01T08:00:00+00:00");
        let winter = parse_local("2026-12-01", "", chrono_tz::Europe::London).unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-01T17:00:00+00:00");
        assert!(parse_local("2026-02-30", "", chrono_tz::Europe::London).is_err());
    }
}
