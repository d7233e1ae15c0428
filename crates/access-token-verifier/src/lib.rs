#![doc = include_str!("../README.md")]
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
