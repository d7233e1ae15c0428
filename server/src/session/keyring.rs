//! [`KeyRing`]: `SESSION_SECRET`'s keys, and authenticated encryption with them
//! (AES-256-GCM, random nonces) for the session records at rest and the login
//! transaction cookies.
//!
//! Written on aws-lc-rs (already the verifier's crypto) rather than `cookie`'s
//! private jar: that jar holds one key, and a ring must decrypt with every old key
//! while encrypting with the first, for records in a store as well as cookies.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf::{KeyType, Salt, HKDF_SHA256};

/// The shortest key `SESSION_SECRET` accepts, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// The first byte of every sealed value: the format, should it ever change.
const FORMAT: u8 = 1;

/// One or more keys: the first encrypts, all decrypt (so keys rotate without
/// ending anyone's session). Its `Debug` shows how many keys, never them.
#[derive(Clone)]
pub struct KeyRing {
    /// The secrets as given (kept for equality), and the derived AEAD keys.
    secrets: Vec<Vec<u8>>,
    keys: std::sync::Arc<Vec<RandomizedNonceKey>>,
}

impl PartialEq for KeyRing {
    fn eq(&self, other: &Self) -> bool {
        self.secrets == other.secrets
    }
}
impl Eq for KeyRing {}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({} keys)", self.secrets.len())
    }
}

struct KeyLength;
impl KeyType for KeyLength {
    fn len(&self) -> usize {
        32
    }
}

impl KeyRing {
    /// `SESSION_SECRET`: keys separated by commas, each at least
    /// [`MIN_KEY_BYTES`] long. The error is one line naming the setting.
    pub fn parse(text: &str) -> Result<Self, String> {
        let secrets: Vec<Vec<u8>> = text
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(|key| key.as_bytes().to_vec())
            .collect();
        if secrets.is_empty() {
            return Err("SESSION_SECRET has no key".into());
        }
        if let Some(position) = secrets.iter().position(|key| key.len() < MIN_KEY_BYTES) {
            return Err(format!(
                "SESSION_SECRET: key {} is {} bytes; each must be at least {MIN_KEY_BYTES} \
                 (e.g. `openssl rand -base64 32`)",
                position + 1,
                secrets[position].len()
            ));
        }
        Ok(Self::from_secrets(secrets))
    }

    fn from_secrets(secrets: Vec<Vec<u8>>) -> Self {
        // HKDF: the secrets are passwords-like text of any length; the AEAD wants
        // exactly 32 uniformly random bytes.
        let salt = Salt::new(HKDF_SHA256, b"auth0-leptos session keys");
        let keys = secrets
            .iter()
            .map(|secret| {
                let mut key = [0u8; 32];
                salt.extract(secret)
                    .expand(&[b"aes-256-gcm v1"], KeyLength)
                    .and_then(|okm| okm.fill(&mut key))
                    .expect("32 bytes is a valid HKDF-SHA256 output length");
                RandomizedNonceKey::new(&AES_256_GCM, &key).expect("a 32-byte AES-256 key")
            })
            .collect();
        Self {
            secrets,
            keys: std::sync::Arc::new(keys),
        }
    }

    /// `plaintext` encrypted with the first key, bound to `context` (what it is:
    /// the same bytes sealed for one purpose do not open for another).
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut in_out = plaintext.to_vec();
        let nonce = self.keys[0]
            .seal_in_place_append_tag(Aad::from(context), &mut in_out)
            .expect("AES-GCM seals any length this app uses");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&in_out);
        sealed
    }

    /// The plaintext, if any key of the ring sealed `sealed` for `context`.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.keys.iter().find_map(|key| {
            let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
            let mut in_out = ciphertext.to_vec();
            key.open_in_place(nonce, Aad::from(context), &mut in_out)
                .ok()
                .map(|plain| plain.to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "an-old-key-that-is-at-least-32-bytes-long";
    const NEW: &str = "a-new-key-that-is-also-32-bytes-or-longer";

    #[test]
    fn keys_must_be_long_enough_and_the_error_names_the_setting() {
        let error = KeyRing::parse("short").unwrap_err();
        assert!(error.starts_with("SESSION_SECRET"), "{error}");
        let error = KeyRing::parse(&format!("{NEW},short")).unwrap_err();
        assert!(error.contains("key 2"), "{error}");
        assert!(KeyRing::parse(" , ").is_err());
        assert!(KeyRing::parse(NEW).is_ok());
    }

    #[test]
    fn an_old_key_still_opens_and_an_unknown_key_does_not() {
        let old = KeyRing::parse(OLD).unwrap();
        let sealed = old.seal(b"session", b"tokens");
        let rotated = KeyRing::parse(&format!("{NEW},{OLD}")).unwrap();
        assert_eq!(
            rotated.open(b"session", &sealed).as_deref(),
            Some(&b"tokens"[..])
        );
        // What the rotated ring seals, the old ring alone cannot open.
        let fresh = rotated.seal(b"session", b"tokens");
        assert_eq!(old.open(b"session", &fresh), None);
        assert_eq!(KeyRing::parse(NEW).unwrap().open(b"session", &sealed), None);
    }

    #[test]
    fn sealed_values_are_bound_to_their_purpose_and_tamper_evident() {
        let ring = KeyRing::parse(NEW).unwrap();
        let sealed = ring.seal(b"session:a", b"tokens");
        assert_eq!(ring.open(b"session:b", &sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(ring.open(b"session:a", &tampered), None);
        assert_eq!(ring.open(b"session:a", &sealed[..5]), None);
        assert_ne!(
            ring.seal(b"session:a", b"tokens"),
            sealed,
            "a fresh nonce each time"
        );
        assert!(!format!("{ring:?}").contains(NEW));
    }
}
