//! Checkpoints in the C2SP tlog-checkpoint signed-note format:
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(key id || Ed25519 signature of the three lines)>
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::error::AssuranceError;
use super::keys::{LogKey, VerifierKey};
use super::merkle::Hash;

/// A checkpoint's signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (the signing key's name).
    pub origin: String,
    /// How many events the tree covers.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: the lines that are signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// The signed note.
    pub fn sign(&self, key: &LogKey) -> String {
        let body = self.body();
        let signature = key.sign(body.as_bytes());
        let mut blob = key.verifier().key_id().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{body}\n\u{2014} {} {}\n", key.name(), BASE64.encode(blob))
    }

    /// Reads a signed note and checks its signature by `verifier`.
    pub fn open(note: &str, verifier: &VerifierKey) -> Result<Checkpoint, AssuranceError> {
        let bad = |why: &str| AssuranceError::Note(why.to_string());
        let (body, signatures) = note
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line between the body and its signatures"))?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let origin = lines.next().unwrap_or_default().to_string();
        let size = lines
            .next()
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or_else(|| bad("the second line is not a tree size"))?;
        let root: Hash = lines
            .next()
            .and_then(|l| BASE64.decode(l).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the third line is not a base64 SHA-256 root"))?;
        let mut signed = false;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(bad("a signature line does not start with an em dash"));
            };
            let Some((name, blob)) = rest.split_once(' ') else {
                return Err(bad("a signature line has no signature"));
            };
            let blob = BASE64
                .decode(blob)
                .map_err(|_| bad("a signature is not base64"))?;
            if name == verifier.name && blob.len() == 68 && blob[..4] == verifier.key_id() {
                if !verifier.verify(body.as_bytes(), &blob[4..]) {
                    return Err(bad("the signature does not verify"));
                }
                signed = true;
            }
        }
        if !signed {
            return Err(bad("no signature by the log's key"));
        }
        if origin != verifier.name {
            return Err(bad("the origin is not the key's name"));
        }
        Ok(Checkpoint { origin, size, root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LogKey {
        let dir = tempfile::tempdir().expect("dir");
        LogKey::load_or_create(&dir.path().join("key"))
            .expect("key")
            .0
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_not_another() {
        let key = key();
        let checkpoint = Checkpoint {
            origin: key.name().to_string(),
            size: 42,
            root: [7; 32],
        };
        let note = checkpoint.sign(&key);
        assert!(note.starts_with(&format!("{}\n42\n", key.name())));
        assert_eq!(
            Checkpoint::open(&note, &key.verifier()).expect("opens"),
            checkpoint
        );
        let other = self::key();
        assert!(Checkpoint::open(&note, &other.verifier()).is_err());
        let tampered = note.replace("\n42\n", "\n43\n");
        assert!(Checkpoint::open(&tampered, &key.verifier()).is_err());
    }

    #[test]
    fn verifier_keys_round_trip() {
        let key = key();
        let encoded = key.verifier().encode();
        assert_eq!(
            VerifierKey::decode(&encoded).expect("decodes"),
            key.verifier()
        );
        assert!(VerifierKey::decode(&encoded.replacen('+', "+0", 1)).is_err());
    }

    #[test]
    fn a_key_file_is_reread_and_private() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("key");
        let (first, created) = LogKey::load_or_create(&path).expect("create");
        assert!(created);
        let (again, created) = LogKey::load_or_create(&path).expect("read");
        assert!(!created);
        assert_eq!(first.verifier(), again.verifier());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
