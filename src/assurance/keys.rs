//! The log's Ed25519 signing key, and verifier keys in the C2SP signed-note
//! format (`<name>+<key id hex>+<base64(0x01 || public key)>`).

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use super::error::AssuranceError;

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// A key that signs checkpoints.
pub struct LogKey {
    name: String,
    key: SigningKey,
}

/// A key that checks checkpoint signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key's name (the log's origin).
    pub name: String,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
}

fn io(path: &Path, error: std::io::Error) -> AssuranceError {
    AssuranceError::Io {
        path: path.display().to_string(),
        error,
    }
}

impl LogKey {
    /// Reads the key at `path`, or creates one there (readable by its owner
    /// only) named `advice-log/<first 8 hex digits of its public key hash>`.
    /// Answers the key and whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(LogKey, bool), AssuranceError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(&text)?, false)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| AssuranceError::Key(e.to_string()))?;
                let key = SigningKey::from_bytes(&seed);
                let digest = Sha256::digest(key.verifying_key().as_bytes());
                let name = format!("advice-log/{}", &hex::encode(digest)[..8]);
                let text = format!("{name}\n{}\n", BASE64.encode(seed));
                crate::secret_file::create(path, text.as_bytes()).map_err(|e| io(path, e))?;
                Ok((LogKey { name, key }, true))
            }
            Err(error) => Err(io(path, error)),
        }
    }

    fn parse(text: &str) -> Result<LogKey, AssuranceError> {
        let mut lines = text.lines();
        let name = lines.next().unwrap_or_default().trim().to_string();
        let seed = BASE64
            .decode(lines.next().unwrap_or_default().trim())
            .map_err(|e| AssuranceError::Key(format!("the key file's seed is not base64: {e}")))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| AssuranceError::Key("the key file's seed is not 32 bytes".into()))?;
        if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
            return Err(AssuranceError::Key(
                "the key file's name line is not a key name".into(),
            ));
        }
        Ok(LogKey {
            name,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key's name, which is also the log's origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }
}

impl VerifierKey {
    /// The 4-byte key id: SHA-256(name || "\n" || 0x01 || public key)[..4].
    pub fn key_id(&self) -> [u8; 4] {
        let mut hasher = Sha256::new();
        hasher.update(self.name.as_bytes());
        hasher.update(b"\n");
        hasher.update([ED25519]);
        hasher.update(self.key.as_bytes());
        let digest = hasher.finalize();
        [digest[0], digest[1], digest[2], digest[3]]
    }

    /// The verifier key string.
    pub fn encode(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            BASE64.encode(bytes)
        )
    }

    /// Reads a verifier key string.
    pub fn decode(text: &str) -> Result<VerifierKey, AssuranceError> {
        let bad = |why: &str| AssuranceError::Key(format!("not a verifier key ({why})"));
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+id+key"));
        };
        let bytes = BASE64.decode(key).map_err(|_| bad("key is not base64"))?;
        let (Some(&ED25519), Some(raw)) = (bytes.first(), bytes.get(1..)) else {
            return Err(bad("not an Ed25519 key"));
        };
        let raw: [u8; 32] = raw.try_into().map_err(|_| bad("key is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad("not a valid Ed25519 point"))?;
        let verifier = VerifierKey {
            name: name.to_string(),
            key,
        };
        if hex::encode(verifier.key_id()) != id {
            return Err(bad("key id does not match"));
        }
        Ok(verifier)
    }

    /// Checks a signature.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match Signature::from_slice(signature) {
            Ok(signature) => self.key.verify(message, &signature).is_ok(),
            Err(_) => false,
        }
    }
}
