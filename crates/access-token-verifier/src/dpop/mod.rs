//! DPoP (RFC 9449): access tokens bound to a key the client holds, so a stolen
//! token is useless without that key.
//!
//! - [`proof`]: one `DPoP` header checked against its request (section 4.3).
//! - [`replay`]: [`ReplayStore`], each proof accepted once: in process, or in Redis
//!   shared by replicas.
//! - [`nonce`]: server nonces (section 8), stateless rotating HMAC tags.
//! - here: [`DpopSettings`] and [`Dpop`], the whole check of a DPoP request, used
//!   by [`crate::Verifier::authenticate`] after the token itself
//!   verified. ([`DpopMode`] lives in [`crate::scheme`], the errors in
//!   [`crate::error`]: this module uses them, they never use it.)

pub mod nonce;
pub mod proof;
pub mod replay;

use std::time::Duration;

use http::request::Parts;
use http::{header, HeaderName};
use jsonwebtoken::get_current_timestamp;

pub use nonce::Nonces;
pub use proof::{access_token_hash, verify_proof, ProofKeyCache, ProofTarget, VerifiedProof};
// Defined beside the errors and the schemes (which must not depend on this module),
// re-exported here where DPoP users look for them.
pub use super::error::DpopError;
pub use super::scheme::{DpopMode, PROOF_ALGORITHMS, PROOF_ALGS};
pub use replay::{ReplayError, ReplayStore};

use super::error::{AuthError, Refusal};
use super::scheme::Scheme;

/// DPoP settings ([`crate::VerifierConfig::dpop`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopSettings {
    /// Which schemes the API accepts (`DPOP_MODE`).
    pub mode: DpopMode,
    /// How far a proof's `iat` may be from now, either way.
    pub iat_window: Duration,
    /// `Some(period)`: proofs must carry a server nonce, rotated every period.
    pub nonce_period: Option<Duration>,
    /// Proofs one key (`cnf.jkt`) may send a minute; past it, `429`.
    pub proofs_per_key_per_minute: u32,
}

impl Default for DpopSettings {
    fn default() -> Self {
        Self {
            mode: DpopMode::Allowed,
            iat_window: Duration::from_secs(60),
            nonce_period: None,
            proofs_per_key_per_minute: 600,
        }
    }
}

/// Proofs the in-process replay store holds per generation (twice the `iat`
/// window): about 4 000 DPoP requests a second with the default window, 32 bytes
/// each. More than that per server: use Redis (`REDIS_URL`).
pub const MEMORY_REPLAY_CAPACITY: u64 = 500_000;

/// Memory for clients' parsed proof headers ([`ProofKeyCache`]): about 4 000
/// clients' keys.
pub const PROOF_KEY_CACHE_BYTES: u64 = 8 << 20;

/// The `DPoP` request header (the proof).
pub const DPOP: HeaderName = HeaderName::from_static("dpop");

/// The API's DPoP policy: mode, window, replay store, nonces, public URL.
pub struct Dpop {
    settings: DpopSettings,
    public_url: Option<url::Url>,
    replay: ReplayStore,
    keys: ProofKeyCache,
    /// Made on first use: with Redis the secret is shared, fetched when reachable.
    nonces: tokio::sync::OnceCell<Nonces>,
}

impl Dpop {
    /// `public_url`: the origin browsers use (`PUBLIC_URL`), to rebuild each
    /// request's `htu` behind a proxy; without it, `http://` + the `Host` header.
    pub fn new(settings: DpopSettings, public_url: Option<url::Url>, replay: ReplayStore) -> Self {
        Self {
            settings,
            public_url,
            replay,
            keys: ProofKeyCache::new(PROOF_KEY_CACHE_BYTES),
            nonces: tokio::sync::OnceCell::new(),
        }
    }

    /// With the in-process replay store ([`MEMORY_REPLAY_CAPACITY`]).
    pub fn in_memory(settings: DpopSettings, public_url: Option<url::Url>) -> Self {
        let replay = ReplayStore::memory(
            MEMORY_REPLAY_CAPACITY,
            settings.iat_window,
            settings.proofs_per_key_per_minute,
        );
        Self::new(settings, public_url, replay)
    }

    /// Which schemes the API accepts.
    pub fn mode(&self) -> DpopMode {
        self.settings.mode
    }

    /// The remembered proof headers (their memory is bounded; tests look).
    pub fn proof_keys(&self) -> &ProofKeyCache {
        &self.keys
    }

    /// Ready unless DPoP is on and its shared store does not answer.
    pub async fn is_ready(&self) -> bool {
        self.settings.mode == DpopMode::Off || self.replay.is_ready().await
    }

    /// A refusal for a request that used `scheme`, under this policy.
    pub fn refusal(&self, error: AuthError, scheme: Scheme) -> Refusal {
        Refusal {
            error,
            scheme,
            mode: self.settings.mode,
            nonce: None,
        }
    }

    async fn nonces(&self) -> Result<Option<&Nonces>, AuthError> {
        let Some(period) = self.settings.nonce_period else {
            return Ok(None);
        };
        self.nonces
            .get_or_try_init(|| async {
                let secret = self
                    .replay
                    .shared_secret(&nonce::random_secret())
                    .await
                    .map_err(|_| AuthError::ReplayStoreUnavailable)?;
                Ok(Nonces::new(&secret, period))
            })
            .await
            .map(Some)
    }

    /// The public URL of the request (`htu` must match it): `PUBLIC_URL` and the
    /// path, else `http://` + the `Host` header (HTTP/2: the `:authority`) + the
    /// path, where the host must be a host name or IP address and an optional
    /// port, nothing else (`400` otherwise: a `Host` such as `a.example/x?` would
    /// otherwise make up a URL of the client's choosing).
    fn request_url(&self, parts: &Parts) -> Result<String, AuthError> {
        let path = parts.uri.path();
        match &self.public_url {
            Some(origin) => origin
                .join(path)
                .map(String::from)
                .map_err(|_| AuthError::InvalidProof(DpopError::WrongUrl)),
            None => {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|host| host.to_str().ok())
                    .or_else(|| parts.uri.authority().map(|a| a.as_str()))
                    .filter(|host| is_host_and_port(host))
                    .ok_or(AuthError::InvalidRequest("The Host header is malformed"))?;
                Ok(format!("http://{host}{path}"))
            }
        }
    }

    /// Every DPoP check of a request that sent `Authorization: DPoP <token>` and
    /// whose token already verified, bound to the key thumbprint `jkt` (its
    /// `cnf.jkt`, [`crate::Claims::confirmation`]): one proof, valid for this
    /// request and token (`token_hash`: [`proof::access_token_hash`]), signed by
    /// that key, with a current nonce (when nonces are on), never seen before.
    pub async fn check(
        &self,
        parts: &Parts,
        token_hash: &[u8; 32],
        jkt: &str,
    ) -> Result<(), Refusal> {
        let refuse = |error| self.refusal(error, Scheme::Dpop);
        let mut proofs = parts.headers.get_all(DPOP).iter();
        let (Some(proof), None) = (proofs.next(), proofs.next()) else {
            return Err(refuse(AuthError::InvalidProof(DpopError::NotOneProof)));
        };
        let proof = proof
            .to_str()
            .map_err(|_| refuse(AuthError::InvalidProof(DpopError::NotOneProof)))?;
        let url = self.request_url(parts).map_err(refuse)?;
        let target = ProofTarget {
            method: parts.method.as_str(),
            url: &url,
            access_token_hash: Some(token_hash),
            key_thumbprint: Some(jkt),
        };
        let now = get_current_timestamp();
        let verified = verify_proof(proof, &target, now, self.settings.iat_window, &self.keys)
            .map_err(|error| refuse(AuthError::InvalidProof(error)))?;
        if let Some(nonces) = self.nonces().await.map_err(refuse)? {
            let fresh = verified
                .nonce
                .as_deref()
                .is_some_and(|nonce| nonces.is_valid(nonce, now));
            if !fresh {
                return Err(Refusal {
                    nonce: Some(nonces.current(now)),
                    ..refuse(AuthError::UseDpopNonce)
                });
            }
        }
        self.replay
            .remember(&verified.jkt, &verified.jti, now)
            .await
            .map_err(|error| {
                refuse(match error {
                    ReplayError::Replayed => AuthError::InvalidProof(DpopError::Replayed),
                    ReplayError::Unavailable => AuthError::ReplayStoreUnavailable,
                    ReplayError::OverQuota { retry_after_secs } => {
                        AuthError::TooManyProofs { retry_after_secs }
                    }
                })
            })
    }
}

/// `host` or `host:port`, where host is a DNS name, an IPv4 address or a
/// bracketed IPv6 address: what a `Host` header may hold (RFC 9110 7.2), with
/// nothing (path, query, user info, spaces) that could change the URL built from it.
fn is_host_and_port(text: &str) -> bool {
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (text, None),
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    let host_ok = if let Some(ip6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        ip6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
    };
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_header_is_a_host_and_an_optional_port_nothing_else() {
        for good in [
            "api.example.com",
            "localhost:3000",
            "127.0.0.1:8080",
            "[::1]:3000",
            "[::1]",
            "API.Example.COM",
        ] {
            assert!(is_host_and_port(good), "{good}");
        }
        for bad in [
            "",
            "other.example/x?",
            "other.example/x#",
            "a b",
            "user@api.example.com",
            "api.example.com:",
            "api.example.com:80x",
            "api.example.com:123456",
            "[::1",
            "[not-ip]:80",
            "api.example.com\\x",
            "api.example.com?x",
        ] {
            assert!(!is_host_and_port(bad), "{bad:?}");
        }
    }
}
