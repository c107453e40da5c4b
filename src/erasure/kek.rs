//! The key-encryption key: the one key the operator supplies (a file beside
//! the signing key, created on first start like it). It wraps every
//! person's key; without it no personal data can be read.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::ErasureError;
use super::key::DataKey;

/// The first line of a key file this server writes.
const HEADER: &str = "# advice-log key-encryption key (base64 of 32 random bytes). It unlocks \
    every person's personal data in the log: keep it secret and back it up apart from the \
    database; losing it makes all personal data unreadable.";

/// The operator's key-encryption key. `Debug` never shows its bytes.
pub struct KeyEncryptionKey {
    key: DataKey,
    origin: String,
}

fn io(path: &Path, error: std::io::Error) -> ErasureError {
    ErasureError::Io {
        path: path.display().to_string(),
        error,
    }
}

impl KeyEncryptionKey {
    /// Reads the key at `path`, or creates a new random one there (with
    /// `create_new`, readable by its owner only). Answers the key and
    /// whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(KeyEncryptionKey, bool), ErasureError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                Ok((
                    Self::parse(&text)?.named(&path.display().to_string()),
                    false,
                ))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = DataKey::random()?;
                let text = Zeroizing::new(format!("{HEADER}\n{}\n", BASE64.encode(key.as_bytes())));
                crate::secret_file::create(path, text.as_bytes()).map_err(|e| io(path, e))?;
                let kek = KeyEncryptionKey {
                    key,
                    origin: path.display().to_string(),
                };
                Ok((kek, true))
            }
            Err(error) => Err(io(path, error)),
        }
    }

    /// Reads a key from its text: base64 of 32 bytes on the first line that
    /// is neither empty nor a `#` comment (so the whole file, or just the
    /// key, as an environment variable would hold it).
    pub fn parse(text: &str) -> Result<KeyEncryptionKey, ErasureError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .ok_or_else(|| ErasureError::Key("the data key holds no key".into()))?;
        let bytes = Zeroizing::new(
            BASE64
                .decode(line)
                .map_err(|_| ErasureError::Key("the data key is not base64".into()))?,
        );
        let key = DataKey::from_slice(&bytes).map_err(|_| {
            ErasureError::Key(format!("the data key is not 32 bytes but {}", bytes.len()))
        })?;
        Ok(KeyEncryptionKey {
            key,
            origin: "the given text".into(),
        })
    }

    /// The same key, saying it came from `origin` (a path, an environment
    /// variable's name) in messages.
    pub fn named(mut self, origin: &str) -> KeyEncryptionKey {
        self.origin = origin.to_string();
        self
    }

    /// Where the key came from, for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The first 16 hex digits of SHA-256 of the key: tells keys apart in
    /// messages without showing them.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        hex::encode(&digest[..8])
    }

    /// The key itself, to wrap and unwrap person keys with.
    pub fn key(&self) -> &DataKey {
        &self.key
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEncryptionKey")
            .field("origin", &self.origin)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("advice-log.datakey");
        let (created, was_created) = KeyEncryptionKey::load_or_create(&path).expect("create");
        assert!(was_created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let first = text.lines().next().expect("a first line");
        assert!(
            first.starts_with('#')
                && first.contains("losing it makes all personal data unreadable")
        );
        let (read, was_created) = KeyEncryptionKey::load_or_create(&path).expect("read");
        assert!(!was_created);
        assert_eq!(read.key(), created.key());
        assert_eq!(read.fingerprint(), created.fingerprint());
        assert_eq!(read.origin(), path.display().to_string());
        // The key alone (as an environment variable holds it) reads too.
        let line = text.lines().nth(1).expect("the key line");
        assert_eq!(
            KeyEncryptionKey::parse(line).expect("parse").key(),
            created.key()
        );
    }

    #[test]
    fn a_malformed_key_is_refused() {
        for text in [
            "",
            "# only a comment\n",
            "not base64!",
            "AAAA",
            &BASE64.encode([1u8; 31]),
        ] {
            assert!(
                matches!(KeyEncryptionKey::parse(text), Err(ErasureError::Key(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn debug_and_fingerprint_never_show_the_key() {
        let kek = KeyEncryptionKey::parse(&BASE64.encode([42u8; 32])).expect("parse");
        let fingerprint = kek.fingerprint();
        assert_eq!(fingerprint.len(), 16);
        assert!(fingerprint.chars().all(|c| c.is_ascii_hexdigit()));
        let shown = format!("{kek:?}");
        assert!(shown.contains(&fingerprint));
        for secret in [
            BASE64.encode([42u8; 32]),
            hex::encode([42u8; 32]),
            "42, 42".into(),
        ] {
            assert!(!shown.contains(&secret), "{shown}");
            assert!(!fingerprint.contains(&secret));
        }
        let other = KeyEncryptionKey::parse(&BASE64.encode([43u8; 32])).expect("parse");
        assert_ne!(other.fingerprint(), fingerprint);
    }
}
