//! One DPoP proof (RFC 9449 section 4.3): [`verify_proof`] checks a `DPoP` header
//! against the request it came with; [`ProofKeyCache`] keeps clients' parsed proof
//! headers (key and thumbprint) so a key is decoded once, not per call. The replay
//! check is [`super::replay`]'s, the nonce check [`super::nonce`]'s. Each check
//! here is tested with real keys and real signed proofs in this file's tests.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::borrow::Cow;
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use serde::de::IgnoredAny;
use serde::Deserialize;

pub use crate::error::DpopError;
use crate::keys::{rsa_public_key_der, VerifyKey};
pub use crate::scheme::{PROOF_ALGORITHMS, PROOF_ALGS};

/// Longest proof accepted, in bytes: a proof signed with an RSA-4096 key (the
/// largest accepted) and a long URL is about 2.5 KB.
pub const MAX_PROOF_LEN: usize = 4 * 1024;

/// Largest RSA proof key, in modulus bytes (4096 bits). Bigger keys cost more to
/// verify and to remember, and no client needs them.
pub const MAX_RSA_MODULUS_BYTES: usize = 512;

/// What a verified proof tells: the key's RFC 7638 thumbprint (to compare with the
/// token's `cnf.jkt`) and the `jti` (for the replay store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key.
    pub jkt: String,
    /// The proof's unique id.
    pub jti: String,
    /// When the proof was made, seconds since the epoch.
    pub iat: u64,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
}

/// The request a proof must be for.
pub struct ProofTarget<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The request's public URL (scheme, host, port, path; query and fragment are
    /// ignored on both sides).
    pub url: &'a str,
    /// SHA-256 of the access token sent with the proof, if any (then `ath` must
    /// match it); the verifier's token cache hashes the token the same way, so
    /// one hash serves both.
    pub access_token_hash: Option<&'a [u8; 32]>,
    /// The thumbprint the access token is bound to (`cnf.jkt`), if any: a proof
    /// whose key has another is refused before its signature is checked or its
    /// header remembered.
    pub key_thumbprint: Option<&'a str>,
}

#[derive(Deserialize)]
struct ProofHeader<'a> {
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    jwk: Option<ProofJwk<'a>>,
}

/// The members of a proof's `jwk` that matter; any private-key member is noted.
#[derive(Deserialize)]
struct ProofJwk<'a> {
    #[serde(borrow)]
    kty: Cow<'a, str>,
    #[serde(borrow, default)]
    crv: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    x: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    y: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    n: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    e: Option<Cow<'a, str>>,
    // Private-key members (RFC 7518 6.2.2, 6.3.2, 6.4.1): present means refused.
    // Named fields rather than a flattened map: serde's flatten buffers the
    // whole object first, a few µs per proof.
    #[serde(default)]
    d: Option<IgnoredAny>,
    #[serde(default)]
    p: Option<IgnoredAny>,
    #[serde(default)]
    q: Option<IgnoredAny>,
    #[serde(default)]
    dp: Option<IgnoredAny>,
    #[serde(default)]
    dq: Option<IgnoredAny>,
    #[serde(default)]
    qi: Option<IgnoredAny>,
    #[serde(default)]
    oth: Option<IgnoredAny>,
    #[serde(default)]
    k: Option<IgnoredAny>,
}

impl ProofJwk<'_> {
    fn has_private_members(&self) -> bool {
        [
            &self.d, &self.p, &self.q, &self.dp, &self.dq, &self.qi, &self.oth, &self.k,
        ]
        .iter()
        .any(|member| member.is_some())
    }
}

#[derive(Deserialize)]
struct ProofClaims<'a> {
    #[serde(borrow, default)]
    htm: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    htu: Option<Cow<'a, str>>,
    /// Any JSON (a string `iat` is a bad `iat`, not a malformed proof).
    #[serde(default)]
    iat: Option<serde_json::Value>,
    #[serde(borrow, default)]
    jti: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ath: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    nonce: Option<Cow<'a, str>>,
}

/// The proof key's public bytes (for [`verify_once`]) and its RFC 7638
/// thumbprint. The key type must suit `alg`; members are base64url (checked by
/// decoding), so they go into the canonical JSON as they are.
fn proof_key(jwk: &ProofJwk<'_>, alg: Algorithm) -> Result<(Vec<u8>, String), DpopError> {
    let decode = |member: &Option<Cow<'_, str>>| {
        member
            .as_deref()
            .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
            .ok_or(DpopError::BadKey)
    };
    let text = |member: &Option<Cow<'_, str>>| member.as_deref().unwrap_or_default().to_owned();
    let crv = jwk.crv.as_deref();
    let (public_key, canonical) = match (jwk.kty.as_ref(), alg) {
        ("EC", Algorithm::ES256 | Algorithm::ES384) => {
            let (curve, size) = if alg == Algorithm::ES256 {
                ("P-256", 32)
            } else {
                ("P-384", 48)
            };
            if crv != Some(curve) {
                return Err(DpopError::BadKey);
            }
            let (x, y) = (decode(&jwk.x)?, decode(&jwk.y)?);
            if x.len() != size || y.len() != size {
                return Err(DpopError::BadKey);
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(4);
            point.extend(x);
            point.extend(y);
            let canonical = format!(
                r#"{{"crv":"{curve}","kty":"EC","x":"{}","y":"{}"}}"#,
                text(&jwk.x),
                text(&jwk.y)
            );
            (point, canonical)
        }
        ("OKP", Algorithm::EdDSA) => {
            if crv != Some("Ed25519") {
                return Err(DpopError::BadKey);
            }
            let x = decode(&jwk.x)?;
            let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, text(&jwk.x));
            (x, canonical)
        }
        ("RSA", Algorithm::RS256 | Algorithm::PS256) => {
            let n = decode(&jwk.n)?;
            if n.len() > MAX_RSA_MODULUS_BYTES {
                return Err(DpopError::BadKey);
            }
            let der = rsa_public_key_der(&n, &decode(&jwk.e)?).ok_or(DpopError::BadKey)?;
            let canonical = format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                text(&jwk.e),
                text(&jwk.n)
            );
            (der, canonical)
        }
        ("EC" | "OKP" | "RSA", _) => return Err(DpopError::AlgorithmNotAllowed),
        _ => return Err(DpopError::BadKey),
    };
    let thumbprint = URL_SAFE_NO_PAD.encode(crate::hash::sha256(&[canonical.as_bytes()]));
    Ok((public_key, thumbprint))
}

/// `scheme://host[:port]/path`, lower-cased scheme and host, default ports
/// dropped, no query or fragment (RFC 9449 4.3 step 9, RFC 3986 normalization).
pub fn normalize_htu(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{}://{host}{port}{}", url.scheme(), url.path()))
}

/// `SHA-256(token)`: what a proof's `ath` encodes (computed only for DPoP
/// requests; the verified-token cache needs no hash of the token).
pub fn access_token_hash(token: impl AsRef<[u8]>) -> [u8; 32] {
    crate::hash::sha256(&[token.as_ref()])
}

/// `b64url(SHA-256(token))`, the `ath` of a proof sent with `token`.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(access_token_hash(token))
}

/// A proof header (`typ`, `alg`, `jwk`) checked and parsed: the algorithm, the
/// key ready to verify, and its RFC 7638 thumbprint.
struct ProofKey {
    alg: Algorithm,
    key: VerifyKey,
    jkt: String,
}

/// A client signs every proof with one key, so its proofs share one header:
/// headers are parsed once and remembered by their exact base64url text (which
/// the signature covers), after a first valid signature, and only when the key
/// is the one the token is bound to. Bounded in bytes, not entries (moka with a
/// weigher): a client that varies its header (extra members) to make each one
/// new can only push its own and others' entries out, never grow the process.
pub struct ProofKeyCache(moka::sync::Cache<String, Arc<ProofKey>>);

/// What an entry costs beyond its header text: the parsed key (aws-lc keeps a
/// few hundred bytes, an RSA key up to about 1 KB), the thumbprint, moka's own.
const ENTRY_OVERHEAD_BYTES: usize = 1024;

impl ProofKeyCache {
    /// At most about `max_bytes` of memory.
    pub fn new(max_bytes: u64) -> Self {
        Self(
            moka::sync::Cache::builder()
                .weigher(|header: &String, _key: &Arc<ProofKey>| {
                    u32::try_from(header.len() + ENTRY_OVERHEAD_BYTES).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .build(),
        )
    }

    /// The estimated bytes held now (after pending evictions ran).
    pub fn weighted_size(&self) -> u64 {
        self.0.run_pending_tasks();
        self.0.weighted_size()
    }

    /// The headers remembered now (after pending evictions ran).
    pub fn entry_count(&self) -> u64 {
        self.0.run_pending_tasks();
        self.0.entry_count()
    }
}

/// `typ`, `alg` from [`PROOF_ALGORITHMS`], a public `jwk` suiting `alg`.
fn parse_header(header: &str) -> Result<ProofKey, DpopError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| DpopError::Malformed)?;
    let header: ProofHeader = serde_json::from_slice(&bytes).map_err(|_| DpopError::Malformed)?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(DpopError::WrongType);
    }
    let alg = header
        .alg
        .parse::<Algorithm>()
        .ok()
        .filter(|alg| PROOF_ALGORITHMS.contains(alg))
        .ok_or(DpopError::AlgorithmNotAllowed)?;
    let jwk = header.jwk.ok_or(DpopError::BadKey)?;
    if jwk.has_private_members() {
        return Err(DpopError::PrivateKey);
    }
    let (public_key, jkt) = proof_key(&jwk, alg)?;
    let key = VerifyKey::single(alg, &public_key).ok_or(DpopError::BadKey)?;
    Ok(ProofKey { alg, key, jkt })
}

/// Every check of RFC 9449 4.3 but the replay and the nonce: shape, `typ`,
/// `alg` from [`PROOF_ALGORITHMS`], a public `jwk` (its thumbprint the token's
/// `cnf.jkt` when the target names one), the signature with that key, `htm`,
/// `htu`, `iat` within `window` of `now` (both ways), `jti`, and `ath`. Headers
/// seen before come parsed from `keys`.
pub fn verify_proof(
    proof: &str,
    target: &ProofTarget<'_>,
    now: u64,
    window: Duration,
    keys: &ProofKeyCache,
) -> Result<VerifiedProof, DpopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(DpopError::Malformed);
    }
    let (message, signature) = proof.rsplit_once('.').ok_or(DpopError::Malformed)?;
    let (header, payload) = message.split_once('.').ok_or(DpopError::Malformed)?;
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| DpopError::Malformed)
    };
    let signature = decode(signature)?;
    // The bound key first: no signature check, and nothing remembered, for a key
    // the token is not bound to.
    let check = |key: &ProofKey| {
        if target.key_thumbprint.is_some_and(|jkt| jkt != key.jkt) {
            Err(DpopError::KeyMismatch)
        } else if key.key.verify(key.alg, message.as_bytes(), &signature) {
            Ok(())
        } else {
            Err(DpopError::BadSignature)
        }
    };
    // One signature check either way; a header is remembered only after one
    // passed, so junk keys with junk signatures cannot crowd out real clients'.
    let key = match keys.0.get(header) {
        Some(key) => {
            check(&key)?;
            key
        }
        None => {
            let key = Arc::new(parse_header(header)?);
            check(&key)?;
            keys.0.insert(header.to_owned(), key.clone());
            key
        }
    };
    check_claims(&key, payload, target, now, window)
}

/// The claim checks of [`verify_proof`], once the signature verified with `key`.
fn check_claims(
    key: &ProofKey,
    payload: &str,
    target: &ProofTarget<'_>,
    now: u64,
    window: Duration,
) -> Result<VerifiedProof, DpopError> {
    let payload_bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| DpopError::Malformed)?;
    let claims: ProofClaims =
        serde_json::from_slice(&payload_bytes).map_err(|_| DpopError::Malformed)?;
    if claims.htm.as_deref() != Some(target.method) {
        return Err(DpopError::WrongMethod);
    }
    let htu = claims.htu.as_deref().ok_or(DpopError::WrongUrl)?;
    // Most proofs name the URL exactly as the API sees it (a URL the API built,
    // so one that parses): normalize only if not, and then both sides must parse.
    let same_url = htu == target.url
        || normalize_htu(htu).is_some_and(|htu| Some(htu) == normalize_htu(target.url));
    if !same_url {
        return Err(DpopError::WrongUrl);
    }
    let iat = claims
        .iat
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .ok_or(DpopError::StaleOrFuture)?;
    if iat.abs_diff(now) > window.as_secs() {
        return Err(DpopError::StaleOrFuture);
    }
    let jti = claims
        .jti
        .as_deref()
        .filter(|jti| !jti.is_empty() && jti.len() <= 256)
        .ok_or(DpopError::MissingJti)?;
    if let Some(expected) = target.access_token_hash {
        let ath = claims
            .ath
            .as_deref()
            .and_then(|ath| URL_SAFE_NO_PAD.decode(ath).ok());
        if ath.as_deref() != Some(expected.as_slice()) {
            return Err(DpopError::WrongTokenHash);
        }
    }
    Ok(VerifiedProof {
        jkt: key.jkt.clone(),
        jti: jti.to_owned(),
        iat,
        nonce: claims.nonce.map(Cow::into_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;
    use serde_json::Value;

    const URL: &str = "https://api.example.com/api/private";
    const WINDOW: Duration = Duration::from_secs(60);
    const NOW: u64 = 1_800_000_000;

    fn key_from(file: &str) -> EncodingKey {
        let pem = std::fs::read(test_issuer::key_path(file)).unwrap();
        match file {
            "ed25519.pem" => EncodingKey::from_ed_pem(&pem),
            f if f.starts_with("ec") => EncodingKey::from_ec_pem(&pem),
            _ => EncodingKey::from_rsa_pem(&pem),
        }
        .unwrap()
    }

    /// A real proof signed with `file`'s key, its header and claims patched.
    fn proof(file: &str, alg: Algorithm, patch_header: Value, patch_claims: Value) -> String {
        let key = key_from(file);
        let mut header = Header::new(alg);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(Jwk::from_encoding_key(&key, alg).unwrap());
        let mut header_json = serde_json::to_value(&header).unwrap();
        for (k, v) in patch_header.as_object().unwrap() {
            header_json[k] = v.clone();
        }
        let mut claims = json!({
            "jti": "proof-1", "htm": "GET", "htu": URL, "iat": NOW,
            "ath": token_hash("the.access.token"),
        });
        for (k, v) in patch_claims.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        if patch_header.as_object().unwrap().is_empty() {
            return encode(&header, &claims, &key).unwrap();
        }
        // A patched header: sign the exact bytes by hand through jsonwebtoken's
        // signer on the message.
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header_json.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap();
        format!("{message}.{signature}")
    }

    fn target(token_hash: &[u8; 32]) -> ProofTarget<'_> {
        ProofTarget {
            method: "GET",
            url: URL,
            access_token_hash: Some(token_hash),
            key_thumbprint: None,
        }
    }

    const CACHE_BYTES: u64 = 1 << 20;

    fn check(proof: &str) -> Result<VerifiedProof, DpopError> {
        let hash = access_token_hash("the.access.token");
        verify_proof(
            proof,
            &target(&hash),
            NOW,
            WINDOW,
            &ProofKeyCache::new(CACHE_BYTES),
        )
    }

    #[test]
    fn accepts_real_proofs_of_each_key_type_and_computes_the_thumbprint() {
        for (file, alg) in [
            ("ec-p256.pem", Algorithm::ES256),
            ("ec-p384.pem", Algorithm::ES384),
            ("ed25519.pem", Algorithm::EdDSA),
            ("rsa-a.pem", Algorithm::RS256),
            ("rsa-a.pem", Algorithm::PS256),
        ] {
            let verified = check(&proof(file, alg, json!({}), json!({})))
                .unwrap_or_else(|e| panic!("{file} {alg:?}: {e:?}"));
            let expected = Jwk::from_encoding_key(&key_from(file), alg)
                .unwrap()
                .thumbprint(ThumbprintHash::SHA256)
                .unwrap();
            assert_eq!(verified.jkt, expected);
            assert_eq!(verified.jti, "proof-1");
        }
        // The query and a default port do not matter; the path does.
        let p = proof(
            "ec-p256.pem",
            Algorithm::ES256,
            json!({}),
            json!({"htu": "https://API.example.com:443/api/private"}),
        );
        let hash = access_token_hash("the.access.token");
        let t = ProofTarget {
            url: "https://api.example.com/api/private?x=1",
            ..target(&hash)
        };
        assert!(verify_proof(&p, &t, NOW, WINDOW, &ProofKeyCache::new(CACHE_BYTES)).is_ok());
    }

    #[test]
    fn refuses_each_wrong_field() {
        let es = |h: Value, c: Value| proof("ec-p256.pem", Algorithm::ES256, h, c);
        let cases = [
            (es(json!({"typ": "JWT"}), json!({})), DpopError::WrongType),
            (es(json!({"typ": null}), json!({})), DpopError::WrongType),
            (
                es(json!({}), json!({"htm": "POST"})),
                DpopError::WrongMethod,
            ),
            (
                es(
                    json!({}),
                    json!({"htu": "https://api.example.com/api/other"}),
                ),
                DpopError::WrongUrl,
            ),
            (
                es(
                    json!({}),
                    json!({"htu": "https://evil.example.com/api/private"}),
                ),
                DpopError::WrongUrl,
            ),
            (
                es(
                    json!({}),
                    json!({"htu": "http://api.example.com/api/private"}),
                ),
                DpopError::WrongUrl,
            ),
            (
                es(json!({}), json!({"iat": NOW - 61})),
                DpopError::StaleOrFuture,
            ),
            (
                es(json!({}), json!({"iat": NOW + 61})),
                DpopError::StaleOrFuture,
            ),
            (
                es(json!({}), json!({"iat": null})),
                DpopError::StaleOrFuture,
            ),
            (
                es(json!({}), json!({"iat": "1800000000"})),
                DpopError::StaleOrFuture,
            ),
            (es(json!({}), json!({"jti": null})), DpopError::MissingJti),
            (es(json!({}), json!({"jti": ""})), DpopError::MissingJti),
            (
                es(json!({}), json!({"ath": token_hash("another.token")})),
                DpopError::WrongTokenHash,
            ),
            (
                es(json!({}), json!({"ath": null})),
                DpopError::WrongTokenHash,
            ),
            (es(json!({"jwk": null}), json!({})), DpopError::BadKey),
        ];
        for (p, expected) in cases {
            assert_eq!(check(&p), Err(expected));
        }
        // A private key in the jwk (the EC key's own `d`).
        let mut with_d = serde_json::to_value(
            Jwk::from_encoding_key(&key_from("ec-p256.pem"), Algorithm::ES256).unwrap(),
        )
        .unwrap();
        with_d["d"] = json!("c2VjcmV0");
        assert_eq!(
            check(&es(json!({"jwk": with_d}), json!({}))),
            Err(DpopError::PrivateKey)
        );
        // Signed by another key than the one in the header.
        let other = serde_json::to_value(
            Jwk::from_encoding_key(&key_from("rsa-b.pem"), Algorithm::RS256).unwrap(),
        )
        .unwrap();
        let mismatched = proof(
            "rsa-a.pem",
            Algorithm::RS256,
            json!({"jwk": other}),
            json!({}),
        );
        assert_eq!(check(&mismatched), Err(DpopError::BadSignature));
        // Payload altered after signing.
        let good = es(json!({}), json!({}));
        let parts: Vec<&str> = good.split('.').collect();
        let altered = json!({"jti": "proof-1", "htm": "GET", "htu": URL, "iat": NOW, "ath": token_hash("the.access.token"), "x": 1});
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(altered.to_string()),
            parts[2]
        );
        assert_eq!(check(&tampered), Err(DpopError::BadSignature));
    }

    #[test]
    fn a_remembered_header_still_needs_a_valid_signature_every_time() {
        let keys = ProofKeyCache::new(CACHE_BYTES);
        let hash = access_token_hash("the.access.token");
        let es = |claims: Value| proof("ec-p256.pem", Algorithm::ES256, json!({}), claims);
        let first = verify_proof(&es(json!({})), &target(&hash), NOW, WINDOW, &keys).unwrap();
        // Same key, another proof: same header text, served from the cache.
        let second = es(json!({"jti": "proof-2"}));
        let again = verify_proof(&second, &target(&hash), NOW, WINDOW, &keys).unwrap();
        assert_eq!(again.jkt, first.jkt);
        keys.0.run_pending_tasks();
        assert_eq!(keys.0.entry_count(), 1);
        // The header is known, but a changed payload or signature still fails.
        let (message, signature) = second.rsplit_once('.').unwrap();
        let (header, _) = message.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(
            json!({"jti": "x", "htm": "GET", "htu": URL, "iat": NOW, "ath": token_hash("the.access.token")})
                .to_string(),
        );
        for forged in [
            format!("{header}.{forged_payload}.{signature}"),
            format!("{message}.{}", URL_SAFE_NO_PAD.encode([0u8; 64])),
        ] {
            assert_eq!(
                verify_proof(&forged, &target(&hash), NOW, WINDOW, &keys),
                Err(DpopError::BadSignature)
            );
        }
    }

    #[test]
    fn refuses_none_hmac_and_garbage() {
        let header = |alg: &str| {
            let jwk = serde_json::to_value(
                Jwk::from_encoding_key(&key_from("ec-p256.pem"), Algorithm::ES256).unwrap(),
            )
            .unwrap();
            URL_SAFE_NO_PAD.encode(json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk}).to_string())
        };
        let claims = URL_SAFE_NO_PAD
            .encode(json!({"jti": "j", "htm": "GET", "htu": URL, "iat": NOW}).to_string());
        assert_eq!(
            check(&format!("{}.{claims}.", header("none"))),
            Err(DpopError::AlgorithmNotAllowed)
        );
        assert_eq!(
            check(&format!("{}.{claims}.c2ln", header("HS256"))),
            Err(DpopError::AlgorithmNotAllowed)
        );
        // An EC key with an RSA algorithm.
        assert_eq!(
            check(&format!("{}.{claims}.c2ln", header("RS256"))),
            Err(DpopError::AlgorithmNotAllowed)
        );
        for junk in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.!!.!!",
            &"x".repeat(MAX_PROOF_LEN + 1),
        ] {
            assert_eq!(check(junk), Err(DpopError::Malformed), "{junk:.20}");
        }
    }

    /// Known answers from the RFCs themselves, not from this code's own helpers.
    #[test]
    fn thumbprints_and_ath_match_the_published_examples() {
        // RFC 9449 section 7.1: the access token and its `ath`.
        assert_eq!(
            token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
        let thumbprint = |jwk: Value, alg: Algorithm| {
            let text = jwk.to_string();
            let jwk: ProofJwk = serde_json::from_str(&text).unwrap();
            proof_key(&jwk, alg).unwrap().1
        };
        // RFC 9449 section 4.2 (the proof's key) and 6.1 (the token's cnf.jkt).
        assert_eq!(
            thumbprint(
                json!({"kty": "EC", "crv": "P-256",
                       "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                       "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}),
                Algorithm::ES256
            ),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
        // RFC 7638 section 3.1 (members in another order, and one extra).
        assert_eq!(
            thumbprint(
                json!({"kty": "RSA", "alg": "RS256", "kid": "2011-04-29", "e": "AQAB",
                       "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}),
                Algorithm::RS256
            ),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_key_other_than_the_bound_one_is_refused_and_not_remembered() {
        let keys = ProofKeyCache::new(CACHE_BYTES);
        let hash = access_token_hash("the.access.token");
        let p = proof("ec-p256.pem", Algorithm::ES256, json!({}), json!({}));
        let bound_elsewhere = ProofTarget {
            key_thumbprint: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"),
            ..target(&hash)
        };
        assert_eq!(
            verify_proof(&p, &bound_elsewhere, NOW, WINDOW, &keys),
            Err(DpopError::KeyMismatch)
        );
        assert_eq!(keys.entry_count(), 0);
        // Its own thumbprint: accepted and remembered.
        let jkt = verify_proof(&p, &target(&hash), NOW, WINDOW, &keys)
            .unwrap()
            .jkt;
        let bound_here = ProofTarget {
            key_thumbprint: Some(&jkt),
            ..target(&hash)
        };
        let again = proof(
            "ec-p256.pem",
            Algorithm::ES256,
            json!({}),
            json!({"jti": "proof-2"}),
        );
        assert!(verify_proof(&again, &bound_here, NOW, WINDOW, &keys).is_ok());
        assert_eq!(keys.entry_count(), 1);
        // Remembered, but still refused for a token bound to another key.
        assert_eq!(
            verify_proof(&again, &bound_elsewhere, NOW, WINDOW, &keys),
            Err(DpopError::KeyMismatch)
        );
    }

    #[test]
    fn rsa_proof_keys_past_4096_bits_are_refused() {
        let n = URL_SAFE_NO_PAD.encode([0xC5u8; MAX_RSA_MODULUS_BYTES + 1]);
        let text = json!({"kty": "RSA", "e": "AQAB", "n": n}).to_string();
        let jwk: ProofJwk = serde_json::from_str(&text).unwrap();
        assert_eq!(
            proof_key(&jwk, Algorithm::RS256).err(),
            Some(DpopError::BadKey)
        );
    }
}
