//! API tokens: random, shown once, stored only as the SHA-256 of their
//! secret, checked in constant time.
//!
//! A token reads `al_<token id, 32 hex>_<secret, 64 hex>`: the id finds the
//! stored hash, the secret is what is hashed.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::domain::{Actor, TokenId};
use crate::read::directory::Directory;

const PREFIX: &str = "al_";

/// A freshly made token.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Its id.
    pub id: TokenId,
    /// Hex SHA-256 of its secret: all that is stored.
    pub secret_hash: String,
    /// The whole token, to show once.
    pub token: String,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system gave no randomness: {0}")]
pub struct NoRandomness(String);

/// Makes a new token from 32 bytes of operating-system randomness.
pub fn new_token() -> Result<NewToken, NoRandomness> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| NoRandomness(e.to_string()))?;
    let id = TokenId::random();
    let secret = hex::encode(secret);
    Ok(NewToken {
        id,
        secret_hash: hash_secret(&secret),
        token: format!("{PREFIX}{}_{secret}", id.0.simple()),
    })
}

/// Hex SHA-256 of a token secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Splits a token into its id and secret; `None` if it is not shaped like one.
pub fn parse(token: &str) -> Option<(TokenId, &str)> {
    let rest = token.trim().strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((TokenId(Uuid::try_parse(id).ok()?), secret))
}

/// Reads a token id given as a UUID or as the 32 hex digits in a token.
pub fn parse_token_id(text: &str) -> Result<TokenId, crate::domain::DomainError> {
    let text = text.trim();
    let id = text
        .strip_prefix(PREFIX)
        .map(|rest| rest.split('_').next().unwrap_or_default())
        .unwrap_or(text);
    TokenId::parse(id)
}

/// What checking a token found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// A good token of this person.
    Valid(Actor),
    /// No token with that id is known (yet).
    Unknown,
    /// Malformed, wrong secret, revoked, or its person is gone.
    Invalid,
}

/// Checks a presented token against the directory.
pub fn check(directory: &Directory, token: &str) -> TokenCheck {
    let Some((id, secret)) = parse(token) else {
        return TokenCheck::Invalid;
    };
    let Some(stored) = directory.token(id) else {
        return TokenCheck::Unknown;
    };
    let presented = hash_secret(secret);
    let matches: bool = presented
        .as_bytes()
        .ct_eq(stored.secret_hash.as_bytes())
        .into();
    if !matches || stored.revoked {
        return TokenCheck::Invalid;
    }
    match directory.person(stored.person) {
        // Leaving revokes every token in the same append; a person who left
        // is refused here all the same.
        Some(person) if person.left() => TokenCheck::Invalid,
        Some(person) => TokenCheck::Valid(Actor {
            person: person.id,
            org_role: person.org_role,
        }),
        None => TokenCheck::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_parses_back_to_its_id_and_hashes_to_its_stored_hash() {
        let token = new_token().expect("randomness");
        let (id, secret) = parse(&token.token).expect("parses");
        assert_eq!(id, token.id);
        assert_eq!(hash_secret(secret), token.secret_hash);
        assert!(!token.token.contains(&token.secret_hash));
    }

    #[test]
    fn tokens_are_unique() {
        let a = new_token().expect("randomness");
        let b = new_token().expect("randomness");
        assert_ne!(a.token, b.token);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "al_",
            "al_x_y",
            "Bearer al_",
            &format!("al_{}_{}", Uuid::new_v4().simple(), "zz".repeat(32)),
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_tokens_are_told_apart_from_bad_ones() {
        let directory = Directory::default();
        let token = new_token().expect("randomness");
        assert_eq!(check(&directory, &token.token), TokenCheck::Unknown);
        assert_eq!(check(&directory, "nonsense"), TokenCheck::Invalid);
    }
}
