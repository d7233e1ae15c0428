//! [`Verifier`]: every check an access token must pass before the API trusts it.
//!
//! In order: length bound; compact JWS shape; header (`alg` must parse and be an
//! asymmetric algorithm some key could allow, before any key lookup can cause a
//! JWKS refetch; any `crit` is refused since no extension is supported;
//! `jku`/`x5u`/`jwk`/`x5c` are ignored: they name keys the sender chose); the key by
//! `kid` from the issuer's JWKS; `alg` must be one the key allows (never `none`,
//! never HMAC); the signature; then the claims: `exp` required, `nbf` honoured (both
//! with the clock tolerance), `iss` exact, `aud` (string or array) containing our
//! audience, `sub` present.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{get_current_timestamp, Algorithm};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::{ConfigError, VerifierConfig};
use super::dpop::Dpop;
use super::error::TokenProblem;
use super::jwks::{JwksCache, KeyLookupError};
use super::keys::{is_supported, VerifyKey};
use super::metrics;
use super::token_cache::{CachedToken, VerifiedTokenCache};
use super::{AuthError, Claims};

/// Longest token accepted, in bytes. Auth0 tokens with many permissions stay far
/// below; anything longer is refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Memory for verified tokens and their claims: about 10 000 typical tokens.
pub const TOKEN_CACHE_BYTES: u64 = 24 << 20;

const MALFORMED: AuthError = AuthError::InvalidToken(TokenProblem::Malformed);
const TOO_LONG: AuthError = AuthError::InvalidToken(TokenProblem::TooLong);

/// A token longer than [`MAX_TOKEN_LEN`] is refused before anything else is done
/// with it (hashing it for the cache included).
pub fn check_token_length(token: &[u8]) -> Result<(), AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        Err(TOO_LONG)
    } else {
        Ok(())
    }
}
const MISSING_CLAIM: AuthError = AuthError::InvalidToken(TokenProblem::MissingClaim);

/// The JOSE header fields we read; every other field is ignored.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// Checks access tokens against one issuer and audience: the keys
/// ([`JwksCache`]), the verified-token cache, the DPoP policy ([`Dpop`]).
/// Share one per process (`Arc<Verifier>`).
pub struct Verifier {
    jwks: Arc<JwksCache>,
    issuer: String,
    audience: String,
    leeway: u64,
    cache: VerifiedTokenCache,
    dpop: Dpop,
    permissions_only: bool,
}

fn decode_json<T: DeserializeOwned>(segment: &str) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| MALFORMED)?;
    serde_json::from_slice(&bytes).map_err(|_| MALFORMED)
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or(MALFORMED),
    }
}

impl Verifier {
    /// Everything `config` describes: the key cache for its issuer, the DPoP
    /// policy with its `public_url` and replay store (Redis with `redis_url`,
    /// which needs the `redis` feature; else in process). Nothing is fetched
    /// yet: start [`JwksCache::run_refresh`] (or [`Self::spawn_refresh`]).
    /// Errors: the HTTP client cannot be built, `redis_url` is malformed or the
    /// `redis` feature is off.
    pub fn from_config(config: &VerifierConfig) -> Result<Self, ConfigError> {
        let jwks = Arc::new(JwksCache::new(config.issuer.clone(), config.jwks.clone())?);
        let (settings, public_url) = (config.dpop.clone(), config.public_url.clone());
        let dpop = match &config.redis_url {
            None => Dpop::in_memory(settings, public_url),
            #[cfg(feature = "redis")]
            Some(url) => {
                let (window, per_key) = (settings.iat_window, settings.proofs_per_key_per_minute);
                // Not the parser's text: it may echo the URL, password included.
                let replay = super::dpop::ReplayStore::redis(url, window, per_key)
                    .map_err(|_| ConfigError("REDIS_URL is not a valid redis:// URL".into()))?;
                Dpop::new(settings, public_url, replay)
            }
            #[cfg(not(feature = "redis"))]
            Some(_) => {
                return Err(ConfigError(
                    "REDIS_URL is set but this build has no Redis support (the \
                     access-token-verifier crate's `redis` feature)"
                        .into(),
                ))
            }
        };
        Ok(Self::with_dpop_policy(config, jwks, dpop))
    }

    /// Checks tokens as `config` says with the keys of `jwks`; DPoP replays
    /// remembered in process and proofs' `htu` checked against
    /// `config.public_url` (see [`Self::from_config`] for Redis).
    pub fn new(config: &VerifierConfig, jwks: Arc<JwksCache>) -> Self {
        let dpop = Dpop::in_memory(config.dpop.clone(), config.public_url.clone());
        Self::with_dpop_policy(config, jwks, dpop)
    }

    fn with_dpop_policy(config: &VerifierConfig, jwks: Arc<JwksCache>, dpop: Dpop) -> Self {
        Self {
            jwks,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config.clock_tolerance_secs,
            cache: VerifiedTokenCache::new(TOKEN_CACHE_BYTES, config.clock_tolerance_secs),
            dpop,
            permissions_only: config.permissions_only,
        }
    }

    /// Starts [`JwksCache::run_refresh`] on the current Tokio runtime: the keys
    /// load now (retrying with backoff while the issuer is down), then refresh
    /// every `JWKS_REFRESH_SECS`. Until they load, checks answer `503`.
    pub fn spawn_refresh(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.jwks.clone().run_refresh())
    }

    /// Whether a required scope counts only from `permissions` (`API_PERMISSIONS_ONLY`).
    pub fn permissions_only(&self) -> bool {
        self.permissions_only
    }

    /// Replaces the DPoP policy (the server's: its public URL, Redis when shared).
    pub fn with_dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = dpop;
        self
    }

    /// The DPoP policy.
    pub fn dpop(&self) -> &Dpop {
        &self.dpop
    }

    /// The issuer's keys.
    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }

    /// The claims of `token` if it was verified before and still counts (its
    /// `exp`, its key still published); reported to the metrics as a hit. Any
    /// bytes may be asked: only tokens that passed every check are in the cache.
    pub fn cached(&self, token: &[u8]) -> Option<Arc<Claims>> {
        let now = get_current_timestamp();
        let claims = self
            .cache
            .get(token, now, |kid, key| self.jwks.is_current(kid, key))?;
        metrics::token_cache(true);
        Some(claims)
    }

    /// Verifies `token` (the part after `Bearer `) and returns its claims. Tokens
    /// verified before are answered from the cache until their `exp`, while the key
    /// that verified them is still published.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, AuthError> {
        check_token_length(token.as_bytes())?;
        match self.cached(token.as_bytes()) {
            Some(claims) => Ok(claims),
            None => self.verify_and_remember(token).await,
        }
    }

    /// The cache miss: every check, then the token is remembered. For callers
    /// that just asked [`Self::cached`] (the extractor), so the cache is asked once.
    pub(crate) async fn verify_and_remember(&self, token: &str) -> Result<Arc<Claims>, AuthError> {
        metrics::token_cache(false);
        let started = std::time::Instant::now();
        let verified = self.verify_with_key(token).await;
        metrics::verify_time(started.elapsed());
        let (claims, key, kid) = verified?;
        let claims = Arc::new(claims);
        self.cache.insert(
            token,
            CachedToken {
                claims: claims.clone(),
                key,
                kid,
            },
        );
        Ok(claims)
    }

    /// The full verification, without the cache (benchmarks compare the two).
    pub async fn verify_uncached(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_with_key(token)
            .await
            .map(|(claims, _, _)| claims)
    }

    /// Every check; returns the claims with the key (and its `kid`) that verified them.
    async fn verify_with_key(
        &self,
        token: &str,
    ) -> Result<(Claims, Arc<VerifyKey>, Option<String>), AuthError> {
        check_token_length(token.as_bytes())?;
        let (message, signature) = token.rsplit_once('.').ok_or(MALFORMED)?;
        let (header, payload) = message.split_once('.').ok_or(MALFORMED)?;
        if payload.contains('.') {
            return Err(MALFORMED);
        }

        let header: JoseHeader = decode_json(header)?;
        if header.crit.is_some() {
            return Err(AuthError::InvalidToken(TokenProblem::UnsupportedExtension));
        }
        // Before the key lookup: an HMAC or `none` token must never cause a refetch.
        let alg: Algorithm = header
            .alg
            .parse()
            .ok()
            .filter(|alg| is_supported(*alg))
            .ok_or(AuthError::InvalidToken(TokenProblem::AlgorithmNotAllowed))?;
        let key = self
            .jwks
            .key_for(header.kid.as_deref())
            .await
            .map_err(|error| match error {
                KeyLookupError::UnknownKey => AuthError::InvalidToken(TokenProblem::UnknownKey),
                KeyLookupError::NotLoaded => AuthError::KeysUnavailable,
            })?;
        if !key.allows(alg) {
            return Err(AuthError::InvalidToken(TokenProblem::AlgorithmNotForKey));
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| MALFORMED)?;
        if !key.verify(alg, message.as_bytes(), &signature) {
            return Err(AuthError::InvalidToken(TokenProblem::BadSignature));
        }

        let claims: Map<String, Value> = decode_json(payload)?;
        self.check_claims(&claims, get_current_timestamp())?;
        Ok((Claims::from_verified(claims), key, header.kid))
    }

    fn check_claims(&self, claims: &Map<String, Value>, now: u64) -> Result<(), AuthError> {
        let sub = claims.get("sub").and_then(Value::as_str);
        let (Some(exp), Some(iss), Some(aud), Some(_)) = (
            number(claims, "exp")?,
            claims.get("iss"),
            claims.get("aud"),
            sub.filter(|sub| !sub.is_empty()),
        ) else {
            return Err(MISSING_CLAIM);
        };
        let now = now as f64;
        let leeway = self.leeway as f64;
        if exp + leeway < now {
            return Err(AuthError::InvalidToken(TokenProblem::Expired));
        }
        if number(claims, "nbf")?.is_some_and(|nbf| nbf - leeway > now) {
            return Err(AuthError::InvalidToken(TokenProblem::NotYetValid));
        }
        if iss.as_str() != Some(self.issuer.as_str()) {
            return Err(AuthError::InvalidToken(TokenProblem::WrongIssuer));
        }
        let ours = |value: &Value| value.as_str() == Some(self.audience.as_str());
        let audience_ok = match aud {
            Value::Array(audiences) => audiences.iter().any(ours),
            single => ours(single),
        };
        if !audience_ok {
            return Err(AuthError::InvalidToken(TokenProblem::WrongAudience));
        }
        Ok(())
    }
}
