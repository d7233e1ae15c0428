//! Bearer-token verification for the API (server only, feature `ssr`).
//!
//! - [`config`]: issuer, audience and tuning, from `auth_config.json` and `AUTH0_*` variables.
//! - [`jwks`]: [`JwksCache`], the issuer's signing keys (discovery, refresh, single-flight
//!   refetch on an unknown `kid`, rate limit).
//! - [`keys`]: a JWK turned into a [`keys::VerifyKey`] with the algorithms it may verify.
//! - [`verifier`]: [`Verifier`], every check a token must pass, with a cache of verified tokens
//!   ([`token_cache`]).
//! - [`claims`]: [`Claims`], what handlers get, and the scope check.
//! - [`dpop`]: DPoP (RFC 9449): proof checks, the replay store (in process or
//!   Redis), server nonces, the mode (`off` / `allowed` / `required`).
//! - [`bearer`]: reading `Authorization: Bearer|DPoP ...` and the [`Authenticated`]
//!   extractor (token, then its DPoP binding).
//! - [`error`]: [`AuthError`], answered as [`Refusal`] (RFC 6750 and RFC 9449
//!   section 7 challenges) in one place.
//! - [`scheme`]: [`Scheme`], [`scheme::DpopMode`] and the proof algorithms: what
//!   `Authorization` may carry (used by `error` and `dpop`, depending on neither).
//! - [`metrics`]: what the checks report (outcomes, cache, JWKS) to the `metrics` facade.

pub mod bearer;
pub mod claims;
pub mod config;
pub mod dpop;
pub mod error;
pub mod jwks;
pub mod keys;
pub mod metrics;
pub mod scheme;
pub mod token_cache;
pub mod verifier;

pub use bearer::{Authenticated, BearerToken};
pub use claims::Claims;
pub use config::{AuthConfig, ConfigError};
pub use error::{AuthError, Refusal};
pub use jwks::JwksCache;
pub use scheme::Scheme;
pub use verifier::Verifier;

/// The scope the "scoped" endpoints require.
pub const READ_MESSAGES: &str = "read:messages";
