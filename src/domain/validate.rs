//! Checks on text a client sends.

use super::DomainError;

/// The longest name accepted, in characters.
pub const MAX_NAME: usize = 200;
/// The most items a list in one command may hold (mandate areas, member
/// teams, weighing notes).
pub const MAX_ITEMS: usize = 100;

/// A trimmed, non-empty name of at most [`MAX_NAME`] characters, on one
/// line: no control characters at all.
pub fn name(what: &str, text: &str) -> Result<String, DomainError> {
    let trimmed = text.trim();
    if let Some(bad) = trimmed.chars().find(|c| c.is_control()) {
        return Err(control(what, bad));
    }
    bounded(what, trimmed, MAX_NAME)
}

/// Trimmed, non-empty text of at most `max` characters. Newlines and tabs
/// are kept (Windows and old Mac line ends become `\n`); every other control
/// character, NUL among them, is refused.
pub fn text(what: &str, text: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = text.trim();
    if let Some(bad) = trimmed
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(control(what, bad));
    }
    let normalised = if trimmed.contains('\r') {
        trimmed.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        trimmed.to_string()
    };
    bounded(what, &normalised, max)
}

/// The longest minimum window for answering advice an owner may set, in
/// hours (30 days).
pub const MAX_WINDOW_HOURS: u32 = 720;

/// A team's or group's minimum window for answering advice: 1 to
/// [`MAX_WINDOW_HOURS`] hours.
pub fn advice_window(hours: u32) -> Result<u32, DomainError> {
    if (1..=MAX_WINDOW_HOURS).contains(&hours) {
        Ok(hours)
    } else {
        Err(DomainError::InvalidInput(format!(
            "the minimum time to answer advice is from 1 to {MAX_WINDOW_HOURS} hours; {hours} is outside that"
        )))
    }
}

/// At most [`MAX_ITEMS`] items in a list.
pub fn items<T>(what: &str, list: &[T]) -> Result<(), DomainError> {
    if list.len() > MAX_ITEMS {
        return Err(DomainError::InvalidInput(format!(
            "{what} may hold at most {MAX_ITEMS} items; this one holds {}",
            list.len()
        )));
    }
    Ok(())
}

/// The longest subject of an identity accepted, in characters (what OpenID
/// Connect itself allows a `sub`).
pub const MAX_SUBJECT: usize = 255;

/// An identity provider's issuer: an absolute `https` or `http` URL with a
/// host, trimmed and otherwise kept exactly as given (OpenID Connect
/// compares issuers as exact strings, so nothing is normalised).
pub fn issuer(text: &str) -> Result<String, DomainError> {
    let trimmed = text.trim();
    let refuse = || {
        DomainError::InvalidInput(format!(
            "an identity provider's issuer must be an https or http URL, like https://login.example.org/tenant; {trimmed:?} is not"
        ))
    };
    let parsed = url::Url::parse(trimmed).map_err(|_| refuse())?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(refuse());
    }
    if trimmed.chars().count() > MAX_NAME * 5 {
        return Err(DomainError::InvalidInput(format!(
            "an identity provider's issuer must be at most {} characters",
            MAX_NAME * 5
        )));
    }
    Ok(trimmed.to_string())
}

/// The subject a provider knows someone by: trimmed, non-empty, at most
/// [`MAX_SUBJECT`] characters, no control characters.
pub fn subject(text: &str) -> Result<String, DomainError> {
    let what = "an identity's subject";
    let trimmed = text.trim();
    if let Some(bad) = trimmed.chars().find(|c| c.is_control()) {
        return Err(control(what, bad));
    }
    bounded(what, trimmed, MAX_SUBJECT)
}

fn bounded(what: &str, text: &str, max: usize) -> Result<String, DomainError> {
    if text.is_empty() {
        return Err(DomainError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    if text.chars().count() > max {
        return Err(DomainError::InvalidInput(format!(
            "{what} must be at most {max} characters"
        )));
    }
    Ok(text.to_string())
}

fn control(what: &str, bad: char) -> DomainError {
    DomainError::InvalidInput(format!(
        "{what} contains a control character (U+{:04X}) that cannot be stored; \
         remove it and try again",
        u32::from(bad)
    ))
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
        || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
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
    fn control_characters_are_refused_but_newlines_and_tabs_kept_in_text() {
        for bad in ["a\u{0}b", "a\u{7}b", "a\u{1b}[31mb", "a\u{7f}b", "a\u{85}b"] {
            assert!(
                matches!(text("advice", bad, 100), Err(DomainError::InvalidInput(_))),
                "{bad:?}"
            );
            assert!(name("a title", bad).is_err(), "{bad:?}");
            assert!(email(&format!("{bad}@example.org")).is_err(), "{bad:?}");
        }
        assert_eq!(
            text("advice", "one\r\ntwo\rthree\n\tfour", 100).as_deref(),
            Ok("one\ntwo\nthree\n\tfour")
        );
        assert!(name("a title", "one\ntwo").is_err());
    }

    #[test]
    fn lists_are_bounded() {
        assert!(items("the mandate", &[0; MAX_ITEMS]).is_ok());
        assert!(items("the mandate", &[0; MAX_ITEMS + 1]).is_err());
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
