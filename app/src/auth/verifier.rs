//! [`Verifier`]: every check an access token must pass before the API trusts it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, get_current_timestamp, Validation};
use serde_json::{Map, Value};

use super::jwks::{JwksCache, KeyLookupError};
use super::token_cache::VerifiedTokenCache;
use super::{AuthConfig, AuthError, Claims};

/// Longest token accepted, in bytes. Auth0 tokens with many permissions stay far
/// below; anything longer is refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Verified tokens remembered at most.
pub const TOKEN_CACHE_CAPACITY: usize = 10_000;

pub struct Verifier {
    jwks: Arc<JwksCache>,
    issuer: String,
    audience: String,
    leeway: u64,
    cache: VerifiedTokenCache,
    /// The key revocation count the cache's entries were verified under.
    cache_epoch: AtomicU64,
}

impl Verifier {
    pub fn new(config: &AuthConfig, jwks: Arc<JwksCache>) -> Self {
        Self {
            jwks,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config.clock_tolerance_secs,
            cache: VerifiedTokenCache::new(TOKEN_CACHE_CAPACITY),
            cache_epoch: AtomicU64::new(0),
        }
    }

    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }

    /// Verifies `token` (the part after `Bearer `) and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken("The token is too long"));
        }
        let now = get_current_timestamp();
        let hash = VerifiedTokenCache::hash(token);
        self.drop_cache_if_keys_were_revoked();
        if let Some(claims) = self.cache.get(&hash, now, self.leeway) {
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_uncached(token).await?);
        self.cache.insert(hash, claims.clone(), now);
        Ok(claims)
    }

    /// The full verification, without the cache (benchmarks compare the two).
    pub async fn verify_uncached(&self, token: &str) -> Result<Claims, AuthError> {
        // Only `alg` and `kid` are read from the header: `jku`, `x5u`, `jwk` and `x5c`
        // name keys the sender chose, and are ignored.
        let header = decode_header(token).map_err(|_| header_error(token))?;
        let key = self
            .jwks
            .key_for(header.kid.as_deref())
            .await
            .map_err(|error| match error {
                KeyLookupError::UnknownKey => {
                    AuthError::InvalidToken("The token is signed with an unknown key")
                }
                KeyLookupError::NotLoaded => AuthError::KeysUnavailable,
            })?;
        if !key.algorithms.contains(&header.alg) {
            return Err(AuthError::InvalidToken(
                "The token's algorithm is not allowed for its key",
            ));
        }

        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;

        // `decode` checks the signature, `crit`, `exp`, `nbf`, `iss` and `aud`.
        let data = decode::<Map<String, Value>>(token, &key.key, &validation).map_err(|error| {
            AuthError::InvalidToken(match error.kind() {
                ErrorKind::ExpiredSignature => "The token has expired",
                ErrorKind::ImmatureSignature => "The token is not valid yet",
                ErrorKind::InvalidIssuer => "The token was issued by another issuer",
                ErrorKind::InvalidAudience => "The token is meant for another audience",
                ErrorKind::InvalidSignature => "The token's signature is invalid",
                ErrorKind::InvalidAlgorithm => "The token's algorithm is not allowed for its key",
                ErrorKind::MissingRequiredClaim(_) => {
                    "The token lacks a required claim (exp, iss or aud)"
                }
                _ => "The token is malformed",
            })
        })?;
        Ok(Claims::from_verified(data.claims))
    }

    /// When a key refresh removed a key, tokens signed with it must be checked again.
    fn drop_cache_if_keys_were_revoked(&self) {
        let revocations = self.jwks.revocations();
        if self.cache_epoch.swap(revocations, Ordering::AcqRel) != revocations {
            self.cache.clear();
        }
    }
}

/// Why a header did not parse: an algorithm we never accept (`none`, unknown names)
/// deserves a clearer answer than "malformed". Only runs on the failure path.
fn header_error(token: &str) -> AuthError {
    use base64::Engine;
    let alg = token
        .split('.')
        .next()
        .and_then(|segment| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(segment)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
        .and_then(|header| header.get("alg").and_then(Value::as_str).map(str::to_owned));
    match alg {
        Some(alg) if alg.parse::<jsonwebtoken::Algorithm>().is_err() => {
            AuthError::InvalidToken("The token's algorithm is not allowed")
        }
        _ => AuthError::InvalidToken("The token is malformed"),
    }
}
