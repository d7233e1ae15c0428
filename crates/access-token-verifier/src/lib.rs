//! Verifies the OAuth 2.0 access tokens (JWTs) an API receives, as a careful API
//! must: the issuer's keys discovered, cached and rotated; every claim checked;
//! refusals answered per RFC 6750; DPoP-bound tokens (RFC 9449) with their proofs,
//! server nonces and a replay store shared by replicas. Made for Auth0 (the
//! `AUTH0_DOMAIN` / `AUTH0_AUDIENCE` settings, `permissions` from RBAC) and works
//! with any OpenID provider.
//!
//! # Quick start (Axum, feature `axum`)
//!
//! ```no_run
//! use std::sync::Arc;
//! use access_token_verifier::{Authenticated, Refusal, Verifier, VerifierConfig};
//! use axum::{routing::get, Extension, Router};
//!
//! async fn private(auth: Authenticated) -> String {
//!     format!("hello {}", auth.claims.sub)
//! }
//!
//! async fn scoped(auth: Authenticated) -> Result<&'static str, Refusal> {
//!     auth.require_scope("read:messages")?;
//!     Ok("a secret message")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // AUTH0_DOMAIN (or AUTH0_ISSUER) and AUTH0_AUDIENCE, see `config`.
//! let config = VerifierConfig::from_env()?;
//! let verifier = Arc::new(Verifier::from_config(&config)?);
//! verifier.spawn_refresh();
//! let app = Router::new()
//!     .route("/api/private", get(private))
//!     .route("/api/private-scoped", get(scoped))
//!     .layer(Extension(verifier));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3030").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! A complete API is `examples/api.rs` (`cargo run -p access-token-verifier
//! --example api`). Without Axum, call [`Verifier::authenticate`] with the
//! request's [`http::request::Parts`] and answer a [`Refusal`] with its
//! [`Refusal::status`], [`Refusal::headers`] and [`Refusal::body`].
//!
//! # What is checked
//!
//! - `Authorization`: exactly one, `Bearer` or `DPoP` as the [`dpop::DpopMode`]
//!   allows, an RFC 6750 `b64token`, at most [`verifier::MAX_TOKEN_LEN`] bytes.
//! - The JWS: compact form; `alg` an asymmetric algorithm the signing key allows
//!   (never `none` or HMAC); no `crit`; the key by `kid` from the issuer's JWKS
//!   (never `jku`, `x5u`, `jwk` or `x5c` from the token); the signature.
//! - Claims: `exp` required and `nbf` honoured (with the clock tolerance), `iss`
//!   exactly the issuer, `aud` containing the audience, `sub` present; scopes from
//!   `scope` and `permissions` (or `permissions` only).
//! - DPoP: one proof, `typ`, `alg`, the embedded key, `htm`, `htu` (against
//!   `PUBLIC_URL`), `iat` window, `ath`, the token's `cnf.jkt`, a server nonce when
//!   on, each `jti` once, a per-key quota.
//! - The issuer's keys: discovery's `issuer` must match, size and count limits,
//!   same-origin redirects only, refreshed in the background, refetched (rate
//!   limited, single flight) on an unknown `kid`, the last good set kept when a
//!   refresh fails.
//!
//! # How errors map to HTTP
//!
//! | [`AuthError`] | status | `WWW-Authenticate` error |
//! |---|---|---|
//! | `MissingToken` | 401 | none (the bare challenge) |
//! | `InvalidRequest` | 400 | `invalid_request` |
//! | `InvalidToken` | 401 | `invalid_token` |
//! | `InsufficientScope` | 403 | `insufficient_scope` (with `scope`) |
//! | `InvalidProof` | 401 | `invalid_dpop_proof` |
//! | `UseDpopNonce` | 401 | `use_dpop_nonce` (and a `DPoP-Nonce` header) |
//! | `TooManyProofs` | 429 | none; `Retry-After` |
//! | `KeysUnavailable`, `ReplayStoreUnavailable` | 503 | none; `Retry-After` |
//!
//! # Layout
//!
//! - [`config`]: [`VerifierConfig`] and its environment variables.
//! - [`jwks`]: [`JwksCache`], the issuer's signing keys (discovery, refresh,
//!   single-flight refetch on an unknown `kid`, rate limit, stale on error).
//! - [`keys`]: a JWK turned into a [`keys::VerifyKey`] with the algorithms it may verify.
//! - [`verifier`]: [`Verifier`], every check a token must pass, with a cache of
//!   verified tokens ([`token_cache`]).
//! - [`claims`]: [`Claims`], what handlers get, and the scope check.
//! - [`dpop`]: DPoP: proof checks, the replay store (in process or Redis), server
//!   nonces, the mode (`off` / `allowed` / `required`).
//! - [`bearer`]: reading `Authorization`, [`Authenticated`] (the Axum extractor).
//! - [`error`]: [`AuthError`], answered as [`Refusal`] in one place.
//! - [`scheme`]: [`Scheme`], [`dpop::DpopMode`] and the proof algorithms (used by
//!   `error` and `dpop`, depending on neither).
//! - [`metrics`]: what the checks report to the `metrics` facade (feature `metrics`).
//! - `hash`: SHA-256.
//!
//! # Features
//!
//! - `axum`: the [`Authenticated`] extractor and `IntoResponse` for [`Refusal`].
//! - `redis`: [`dpop::ReplayStore::redis`], replays and nonces shared by replicas.
//! - `metrics`: counters and histograms through the `metrics` facade.
//!
//! None is on by default.

#![deny(missing_docs)]

pub mod bearer;
pub mod claims;
pub mod config;
pub mod dpop;
pub mod error;
mod hash;
pub mod jwks;
pub mod keys;
pub mod metrics;
pub mod scheme;
pub mod token_cache;
pub mod verifier;

pub use bearer::{Authenticated, BearerToken};
pub use claims::Claims;
pub use config::{ConfigError, VerifierConfig};
pub use error::{AuthError, Refusal};
pub use jwks::JwksCache;
pub use scheme::Scheme;
pub use verifier::Verifier;
