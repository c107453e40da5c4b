//! Checks on text a client sends.

use super::DomainError;

/// The longest name accepted, in characters.
pub const MAX_NAME: usize = 200;

/// A trimmed, non-empty name of at most [`MAX_NAME`] characters.
pub fn name(what: &str, text: &str) -> Result<String, DomainError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DomainError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    if trimmed.chars().count() > MAX_NAME {
        return Err(DomainError::InvalidInput(format!(
            "{what} must be at most {MAX_NAME} characters"
        )));
    }
    Ok(trimmed.to_string())
}

/// Trimmed, non-empty text of at most `max` characters.
pub fn text(what: &str, text: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DomainError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::InvalidInput(format!(
            "{what} must be at most {max} characters"
        )));
    }
    Ok(trimmed.to_string())
}

/// A plausible e-mail address, trimmed: one `@` with text on both sides, no
/// white space, a dot in the domain, at most 254 characters.
pub fn email(text: &str) -> Result<String, DomainError> {
    let trimmed = text.trim();
    let bad = || DomainError::InvalidInput(format!("{trimmed:?} is not an e-mail address"));
    let (local, domain) = trimmed.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || trimmed.chars().any(char::is_whitespace)
        || trimmed.len() > 254
    {
        return Err(bad());
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_empty() {
        assert_eq!(name("name", "  Rota team ").as_deref(), Ok("Rota team"));
        assert!(matches!(
            name("name", "   "),
            Err(DomainError::InvalidInput(_))
        ));
        assert!(matches!(
            name("name", &"x".repeat(201)),
            Err(DomainError::InvalidInput(_))
        ));
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert_eq!(email(" ann@example.org ").as_deref(), Ok("ann@example.org"));
        for bad in [
            "",
            "ann",
            "@example.org",
            "ann@",
            "ann@example",
            "a nn@example.org",
            "a@b@c.org",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
