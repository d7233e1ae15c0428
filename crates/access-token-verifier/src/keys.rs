//! A JSON Web Key turned into ready-to-use signature verifiers, one per algorithm
//! the key may verify.
//!
//! Keys are parsed once, when the JWKS is loaded (aws-lc `ParsedPublicKey`), not on
//! every request: that alone is ~15% of an RS256 check. See README "Benchmarks".

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    self, ParsedPublicKey, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::Algorithm;
use serde_json::Value;

/// RSA moduli shorter than this are refused (NIST: 2048 bits minimum).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// The aws-lc verification algorithm for a JWS `alg`.
fn verification(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        _ => return None,
    })
}

/// True for the algorithms a JWKS key could allow (asymmetric, in `verification`'s
/// list): anything else is refused before a key is even looked up.
pub fn is_supported(alg: Algorithm) -> bool {
    verification(alg).is_some()
}

/// A public key from the issuer's JWKS, parsed for each algorithm a token signed with
/// it may use. The list comes from the key, never from the token: an `HS256` token
/// (HMAC keyed with the public key) or `none` can never match.
pub struct VerifyKey {
    verifiers: Vec<(Algorithm, ParsedPublicKey)>,
}

impl VerifyKey {
    /// The algorithms this key verifies.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.verifiers.iter().map(|(alg, _)| *alg)
    }

    /// Checks `signature` over `message` with `alg`; false when the key does not
    /// allow `alg` or the signature does not match.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.verifiers
            .iter()
            .find(|(allowed, _)| *allowed == alg)
            .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }

    /// Whether this key may verify `alg`.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.verifiers.iter().any(|(allowed, _)| *allowed == alg)
    }

    /// `None` for keys that must not or cannot verify tokens: encryption keys,
    /// symmetric (`oct`) keys, unknown types or curves, short RSA keys.
    /// A key for `alg` alone from its raw public bytes (a DPoP proof's): an
    /// uncompressed EC point, Ed25519 bytes, or RSA DER ([`rsa_public_key_der`]).
    pub fn single(alg: Algorithm, public_key: &[u8]) -> Option<Self> {
        let parsed = UnparsedPublicKey::new(verification(alg)?, public_key)
            .parse()
            .ok()?;
        Some(Self {
            verifiers: vec![(alg, parsed)],
        })
    }

    /// A signature key from a JWK (`use` absent or `sig`; RSA of 2048 to 4096
    /// bits, P-256, P-384 or Ed25519), `None` when it is not one.
    pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return None;
        }
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok();
        let (family, public_key): (Vec<Algorithm>, Vec<u8>) = match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                let der = rsa_public_key_der(&decode(&rsa.n)?, &decode(&rsa.e)?)?;
                let family = vec![
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ];
                (family, der)
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let alg = match ec.curve {
                    EllipticCurve::P256 => Algorithm::ES256,
                    EllipticCurve::P384 => Algorithm::ES384,
                    _ => return None,
                };
                // Uncompressed point: 0x04 || x || y.
                let mut point = vec![4];
                point.extend(decode(&ec.x)?);
                point.extend(decode(&ec.y)?);
                (vec![alg], point)
            }
            AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
                EllipticCurve::Ed25519 => (vec![Algorithm::EdDSA], decode(&okp.x)?),
                _ => return None,
            },
            _ => return None,
        };
        // A key that names its algorithm allows only that one (if it fits the key type).
        let allowed = match jwk.common.key_algorithm {
            Some(named) => match Algorithm::try_from(named) {
                Ok(alg) if family.contains(&alg) => vec![alg],
                _ => return None,
            },
            None => family,
        };
        let verifiers = allowed
            .into_iter()
            .map(|alg| {
                let parsed = UnparsedPublicKey::new(verification(alg)?, &public_key)
                    .parse()
                    .ok()?;
                Some((alg, parsed))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { verifiers })
    }
}

/// Parses each entry of a JWKS `keys` array on its own, so one odd key (an unknown
/// type, say) does not take the others down with it. Returns `(kid, key)` pairs.
/// An RSA public key (modulus and exponent, big-endian) as DER, if the modulus is
/// at least 2048 bits.
pub fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Option<Vec<u8>> {
    if n.len() < MIN_RSA_MODULUS_BYTES {
        return None;
    }
    let der = RsaPublicKeyComponents { n, e }.as_der().ok()?;
    Some(der.as_ref().to_vec())
}

/// The usable keys of a JWKS document, with their `kid`s; others are skipped.
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
