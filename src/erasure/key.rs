//! A data key: 32 random bytes that encrypt one person's or one field's
//! personal data. Destroying every copy of it (the wrapped one in the
//! database, the unwrapped one in memory) is what erases that data.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::error::ErasureError;

/// The length of a key in bytes (256 bits).
pub const KEY_LEN: usize = 32;

/// A 256-bit symmetric key. Its bytes are wiped when it is dropped, and its
/// `Debug` never shows them.
#[derive(Clone)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// A new key from the operating system's random source.
    pub fn random() -> Result<DataKey, ErasureError> {
        let mut bytes = [0u8; KEY_LEN];
        fill_random(&mut bytes)?;
        Ok(DataKey(bytes))
    }

    /// A key of these bytes (an unwrapped key, a key read from a file).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> DataKey {
        DataKey(bytes)
    }

    /// A key of a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<DataKey, ErasureError> {
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            ErasureError::Key(format!("a key is {KEY_LEN} bytes, not {}", bytes.len()))
        })?;
        Ok(DataKey(bytes))
    }

    /// The key's bytes, to encrypt with or to wrap.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Fills `bytes` from the operating system's random source.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), ErasureError> {
    getrandom::fill(bytes).map_err(|e| ErasureError::Key(format!("no random bytes: {e}")))
}

impl Zeroize for DataKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for DataKey {}

/// Compared in constant time.
impl PartialEq for DataKey {
    fn eq(&self, other: &DataKey) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for DataKey {}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_differ_and_debug_hides_the_bytes() {
        let a = DataKey::random().expect("key");
        let b = DataKey::random().expect("key");
        assert_ne!(a, b);
        let shown = format!("{a:?}");
        assert_eq!(shown, "DataKey(..)");
        assert!(!shown.contains(&hex::encode(a.as_bytes())));
    }

    #[test]
    fn a_key_is_exactly_32_bytes() {
        assert!(DataKey::from_slice(&[7; 31]).is_err());
        assert!(DataKey::from_slice(&[7; 33]).is_err());
        assert_eq!(
            DataKey::from_slice(&[7; 32]).expect("key"),
            DataKey::from_bytes([7; 32])
        );
    }

    #[test]
    fn zeroize_wipes_the_bytes() {
        let mut key = DataKey::from_bytes([9; KEY_LEN]);
        key.zeroize();
        assert_eq!(key.as_bytes(), &[0; KEY_LEN]);
    }
}
