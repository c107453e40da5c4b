//! Sealing: XChaCha20-Poly1305 authenticated encryption under a [`DataKey`],
//! with a fresh random 24-byte nonce per value (long enough that random
//! nonces never repeat in practice) and associated data that binds a sealed
//! value to where it belongs (so a value moved elsewhere does not open).
//! Wrapping a key is sealing its 32 bytes under another key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::error::ErasureError;
use super::key::{fill_random, DataKey};

/// The length of a nonce in bytes.
pub const NONCE_LEN: usize = 24;

/// The length of the authentication tag at the end of a ciphertext.
pub const TAG_LEN: usize = 16;

/// A sealed value: the nonce it was sealed with and the ciphertext (which
/// ends with the 16-byte tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The random nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The encrypted bytes followed by the tag.
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// The stored form: nonce || ciphertext.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(NONCE_LEN + self.ciphertext.len());
        bytes.extend_from_slice(&self.nonce);
        bytes.extend_from_slice(&self.ciphertext);
        bytes
    }

    /// Reads the stored form; anything shorter than a nonce and a tag is
    /// refused as unreadable.
    pub fn from_bytes(bytes: &[u8]) -> Result<Sealed, ErasureError> {
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(ErasureError::Unreadable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        Ok(Sealed {
            nonce: nonce.try_into().map_err(|_| ErasureError::Unreadable)?,
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// A compact text form for JSON: base64url, without padding, of
    /// nonce || ciphertext.
    pub fn to_text(&self) -> String {
        BASE64URL.encode(self.to_bytes())
    }

    /// Reads the text form; anything else is refused as unreadable.
    pub fn from_text(text: &str) -> Result<Sealed, ErasureError> {
        let bytes = BASE64URL
            .decode(text)
            .map_err(|_| ErasureError::Unreadable)?;
        Sealed::from_bytes(&bytes)
    }
}

fn cipher(key: &DataKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(key.as_bytes()))
}

/// Encrypts `plaintext` under `key`, binding it to `aad` (which is needed,
/// unchanged, to open it).
pub fn seal(key: &DataKey, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, ErasureError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let ciphertext = cipher(key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| ErasureError::Key("the value is too long to seal".into()))?;
    Ok(Sealed { nonce, ciphertext })
}

/// Decrypts a sealed value. The wrong key, other associated data or any
/// changed byte is [`ErasureError::Unreadable`].
pub fn open(key: &DataKey, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, ErasureError> {
    cipher(key)
        .decrypt(
            XNonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad,
            },
        )
        .map_err(|_| ErasureError::Unreadable)
}

/// Wraps `key` under `wrapping` (the key-encryption key's or a person's
/// key), bound to `aad`.
pub fn wrap(wrapping: &DataKey, key: &DataKey, aad: &[u8]) -> Result<Sealed, ErasureError> {
    seal(wrapping, key.as_bytes(), aad)
}

/// Unwraps a key wrapped by [`wrap`].
pub fn unwrap(wrapping: &DataKey, sealed: &Sealed, aad: &[u8]) -> Result<DataKey, ErasureError> {
    let bytes = Zeroizing::new(open(wrapping, sealed, aad)?);
    DataKey::from_slice(&bytes).map_err(|_| ErasureError::Unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::random().expect("key")
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_aad() {
        let key = key();
        let sealed = seal(&key, b"Ada Lovelace", b"event 1 name").expect("seal");
        assert_eq!(sealed.ciphertext.len(), b"Ada Lovelace".len() + TAG_LEN);
        assert!(!sealed.ciphertext.windows(b"Ada".len()).any(|w| w == b"Ada"));
        assert_eq!(
            open(&key, &sealed, b"event 1 name").expect("open"),
            b"Ada Lovelace"
        );
        // A fresh nonce each time: the same plaintext seals differently.
        let again = seal(&key, b"Ada Lovelace", b"event 1 name").expect("seal");
        assert_ne!(again.nonce, sealed.nonce);
        assert_ne!(again.ciphertext, sealed.ciphertext);
    }

    #[test]
    fn the_wrong_key_the_wrong_aad_or_a_flipped_byte_is_unreadable() {
        let key = key();
        let sealed = seal(&key, b"a patient's name", b"aad").expect("seal");
        let unreadable =
            |result: Result<Vec<u8>, ErasureError>| matches!(result, Err(ErasureError::Unreadable));
        assert!(unreadable(open(&self::key(), &sealed, b"aad")));
        assert!(unreadable(open(&key, &sealed, b"aaD")));
        assert!(unreadable(open(&key, &sealed, b"")));
        for at in 0..sealed.ciphertext.len() {
            let mut flipped = sealed.clone();
            flipped.ciphertext[at] ^= 0x01;
            assert!(unreadable(open(&key, &flipped, b"aad")), "byte {at}");
        }
        let mut nonce = sealed.clone();
        nonce.nonce[5] ^= 0x80;
        assert!(unreadable(open(&key, &nonce, b"aad")));
        let mut short = sealed.clone();
        short.ciphertext.truncate(TAG_LEN - 1);
        assert!(unreadable(open(&key, &short, b"aad")));
    }

    #[test]
    fn the_text_form_round_trips_and_garbage_is_refused() {
        let key = key();
        let sealed = seal(&key, b"", b"empty").expect("seal");
        let text = sealed.to_text();
        assert!(!text.contains('=') && !text.contains('+') && !text.contains('/'));
        assert_eq!(Sealed::from_text(&text).expect("text"), sealed);
        assert_eq!(
            open(&key, &Sealed::from_text(&text).expect("text"), b"empty").expect("open"),
            b""
        );
        for garbage in [
            "",
            "not base64!",
            "AAAA",
            &text[..text.len() - 2],
            &format!("{text}="),
        ] {
            assert!(
                matches!(Sealed::from_text(garbage), Err(ErasureError::Unreadable)),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_wrapping_key_and_aad() {
        let kek = key();
        let inner = key();
        let wrapped = wrap(&kek, &inner, b"advice-log person key x").expect("wrap");
        assert_eq!(
            unwrap(&kek, &wrapped, b"advice-log person key x").expect("unwrap"),
            inner
        );
        assert!(matches!(
            unwrap(&kek, &wrapped, b"advice-log person key y"),
            Err(ErasureError::Unreadable)
        ));
        assert!(matches!(
            unwrap(&inner, &wrapped, b"advice-log person key x"),
            Err(ErasureError::Unreadable)
        ));
        // A sealed value that is not 32 bytes does not unwrap as a key.
        let not_a_key = seal(&kek, b"short", b"aad").expect("seal");
        assert!(matches!(
            unwrap(&kek, &not_a_key, b"aad"),
            Err(ErasureError::Unreadable)
        ));
    }
}
