//! A JSON Web Key turned into something that verifies signatures, and the
//! algorithms it is allowed to verify.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// RSA moduli shorter than this are refused (NIST: 2048 bits minimum).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A public key from the issuer's JWKS and the algorithms a token signed with it may
/// use. The list comes from the key, never from the token: an `HS256` token (HMAC
/// with the public key as secret) or `none` can never match.
pub struct VerifyKey {
    pub key: DecodingKey,
    pub algorithms: Vec<Algorithm>,
}

impl VerifyKey {
    /// `None` for keys that must not or cannot verify tokens: encryption keys,
    /// symmetric (`oct`) keys, unknown types or curves, short RSA keys.
    pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return None;
        }
        let family: Vec<Algorithm> = match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                let modulus = base64_len(&rsa.n);
                if modulus < MIN_RSA_MODULUS_BYTES {
                    return None;
                }
                RSA_ALGORITHMS.to_vec()
            }
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
                EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
                _ => return None,
            },
            _ => return None,
        };
        // A key that names its algorithm allows only that one (if it fits the key type).
        let algorithms = match jwk.common.key_algorithm {
            Some(named) => match Algorithm::try_from(named) {
                Ok(algorithm) if family.contains(&algorithm) => vec![algorithm],
                _ => return None,
            },
            None => family,
        };
        let key = DecodingKey::from_jwk(jwk).ok()?;
        Some(Self { key, algorithms })
    }
}

/// Decoded length of unpadded base64url text.
fn base64_len(text: &str) -> usize {
    text.trim_end_matches('=').len() * 3 / 4
}

/// Parses each entry of a JWKS `keys` array on its own, so one odd key (an unknown
/// type, say) does not take the others down with it. Returns `(kid, key)` pairs.
pub fn parse_jwks(document: &Value) -> Vec<(Option<String>, VerifyKey)> {
    let Some(entries) = document.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
        .filter_map(|jwk| {
            let key = VerifyKey::from_jwk(&jwk)?;
            Some((jwk.common.key_id.clone(), key))
        })
        .collect()
}
