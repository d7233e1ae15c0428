//! [`AuthError`]: every way a request can fail authentication (with
//! [`TokenProblem`] and [`DpopError`], the causes of `invalid_token` and
//! `invalid_dpop_proof`); [`Refusal`]: that error answered per RFC 6750 (Bearer)
//! and RFC 9449 section 7 (DPoP), with the challenges the API's DPoP mode offers.
//! Depends on [`super::scheme`] only: the DPoP checks use these types, not the
//! other way round.

use http::{header, HeaderName, HeaderValue, StatusCode};
use serde::Serialize;

pub use super::scheme::Scheme;
use super::scheme::{DpopMode, PROOF_ALGS};

/// The `realm` of every `WWW-Authenticate` challenge.
pub const REALM: &str = "api";

/// Why a request was not let through. Descriptions are fixed strings: nothing from
/// the token or from internals ever reaches a client or a log through this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header, or one of another scheme (RFC 6750 3.1: no error code).
    MissingToken,
    /// The header is malformed: two of them, `Bearer` without a token, junk.
    InvalidRequest(&'static str),
    /// The token was read but fails a check (signature, expiry, issuer, ...).
    InvalidToken(TokenProblem),
    /// The token is valid but lacks this scope.
    InsufficientScope(&'static str),
    /// The issuer's keys could not be loaded yet (IdP down at start).
    KeysUnavailable,
    /// The `DPoP` proof fails a check (RFC 9449 `invalid_dpop_proof`).
    InvalidProof(DpopError),
    /// The proof lacks the server nonce, or has an old one (`use_dpop_nonce`; the
    /// answer carries a fresh `DPoP-Nonce`).
    UseDpopNonce,
    /// The shared replay store (Redis) does not answer: DPoP requests fail closed.
    ReplayStoreUnavailable,
    /// This DPoP key sent more proofs than its quota (`429`, `Retry-After`).
    TooManyProofs {
        /// Seconds until that key may send proofs again (`Retry-After`).
        retry_after_secs: u32,
    },
}

/// Why a token was refused: a fixed description for clients and logs, and a
/// short label for metrics (`auth_token_checks_total{outcome}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not a compact JWS, or a part is not valid base64url JSON.
    Malformed,
    /// Longer than the verifier accepts.
    TooLong,
    /// `exp`, `iss`, `aud` or `sub` is missing.
    MissingClaim,
    /// A `crit` header names an extension this API does not support.
    UnsupportedExtension,
    /// `alg` is not an asymmetric algorithm a key could allow (`none`, HMAC, unknown).
    AlgorithmNotAllowed,
    /// No key of the issuer has the token's `kid`.
    UnknownKey,
    /// `alg` is not one the signing key allows.
    AlgorithmNotForKey,
    /// The signature does not verify.
    BadSignature,
    /// `exp` is past (beyond the clock tolerance).
    Expired,
    /// `nbf` is in the future (beyond the clock tolerance).
    NotYetValid,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    WrongAudience,
    /// A DPoP-bound token (`cnf.jkt`) sent as a Bearer token.
    BoundTokenAsBearer,
    /// A token without `cnf.jkt` sent with the DPoP scheme.
    NotBound,
    /// A `cnf` binding this API cannot check (e.g. a certificate's `x5t#S256`).
    UnsupportedConfirmation,
}

impl TokenProblem {
    /// The fixed `error_description` for this cause.
    pub fn description(self) -> &'static str {
        match self {
            Self::Malformed => "The token is malformed",
            Self::TooLong => "The token is too long",
            Self::MissingClaim => "The token lacks a required claim (exp, iss, aud or sub)",
            Self::UnsupportedExtension => "The token requires extensions this API does not support",
            Self::AlgorithmNotAllowed => "The token's algorithm is not allowed",
            Self::UnknownKey => "The token is signed with an unknown key",
            Self::AlgorithmNotForKey => "The token's algorithm is not allowed for its key",
            Self::BadSignature => "The token's signature is invalid",
            Self::Expired => "The token has expired",
            Self::NotYetValid => "The token is not valid yet",
            Self::WrongIssuer => "The token was issued by another issuer",
            Self::WrongAudience => "The token is meant for another audience",
            Self::BoundTokenAsBearer => {
                "The token is DPoP-bound: send it with the DPoP scheme and a proof"
            }
            Self::NotBound => "The token is not DPoP-bound: send it with the Bearer scheme",
            Self::UnsupportedConfirmation => {
                "The token is bound (cnf) in a way this API cannot check"
            }
        }
    }

    /// The metrics label: one per cause an operator tells apart.
    pub fn label(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLong => "malformed",
            Self::MissingClaim => "missing_claim",
            Self::UnsupportedExtension => "malformed",
            Self::AlgorithmNotAllowed => "bad_algorithm",
            Self::UnknownKey => "unknown_key",
            Self::AlgorithmNotForKey => "bad_algorithm",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::BoundTokenAsBearer => "bound_token_as_bearer",
            Self::NotBound => "not_bound",
            Self::UnsupportedConfirmation => "unsupported_binding",
        }
    }
}

/// Why a proof is refused (answered as `invalid_dpop_proof`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopError {
    /// Not a compact JWS, or a part is not valid base64url JSON.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// `alg` is not one of the accepted proof algorithms.
    AlgorithmNotAllowed,
    /// `jwk` is missing, of the wrong type, or not a valid public key.
    BadKey,
    /// `jwk` holds private key material.
    PrivateKey,
    /// The signature does not verify with `jwk`.
    BadSignature,
    /// `htm` is not the request's method.
    WrongMethod,
    /// `htu` is not the request's URL.
    WrongUrl,
    /// `iat` is outside the accepted window.
    StaleOrFuture,
    /// No `jti`.
    MissingJti,
    /// This proof (`jti`) was accepted before.
    Replayed,
    /// `ath` is not the hash of the access token sent with it.
    WrongTokenHash,
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`).
    KeyMismatch,
    /// Two `DPoP` headers, or one that is not text.
    NotOneProof,
}

impl DpopError {
    /// The fixed `error_description` for this cause.
    pub fn description(self) -> &'static str {
        match self {
            Self::Malformed => "The DPoP proof is malformed",
            Self::WrongType => "The DPoP proof's typ is not dpop+jwt",
            Self::AlgorithmNotAllowed => "The DPoP proof's algorithm is not allowed",
            Self::BadKey => "The DPoP proof's jwk is missing or unusable",
            Self::PrivateKey => "The DPoP proof's jwk contains a private key",
            Self::BadSignature => "The DPoP proof's signature is invalid",
            Self::WrongMethod => "The DPoP proof is for another HTTP method",
            Self::WrongUrl => "The DPoP proof is for another URL",
            Self::StaleOrFuture => "The DPoP proof's iat is outside the accepted window",
            Self::MissingJti => "The DPoP proof has no jti",
            Self::Replayed => "The DPoP proof was used before",
            Self::WrongTokenHash => "The DPoP proof's ath does not match the access token",
            Self::KeyMismatch => "The DPoP proof's key is not the one the token is bound to",
            Self::NotOneProof => "Send exactly one DPoP header",
        }
    }

    /// The metrics label (`auth_token_checks_total{outcome="dpop_..."}`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Malformed | Self::WrongType | Self::NotOneProof => "dpop_malformed",
            Self::AlgorithmNotAllowed => "dpop_bad_algorithm",
            Self::BadKey | Self::PrivateKey => "dpop_bad_key",
            Self::BadSignature => "dpop_bad_signature",
            Self::WrongMethod | Self::WrongUrl => "dpop_wrong_target",
            Self::StaleOrFuture => "dpop_stale",
            Self::MissingJti => "dpop_malformed",
            Self::Replayed => "dpop_replayed",
            Self::WrongTokenHash => "dpop_wrong_ath",
            Self::KeyMismatch => "dpop_key_mismatch",
        }
    }
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The JSON body of a refusal: `{"error": ..., "error_description": ...}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// The RFC 6750 / RFC 9449 error code ([`AuthError::code`]).
    pub error: &'static str,
    /// A fixed, human-readable description ([`AuthError::description`]).
    pub error_description: &'static str,
}

impl AuthError {
    /// 400 (malformed request), 401 (no or bad credentials), 403 (scope), 429
    /// (DPoP quota) or 503 (keys or replay store unavailable).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken
            | Self::InvalidToken(_)
            | Self::InvalidProof(_)
            | Self::UseDpopNonce => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::KeysUnavailable | Self::ReplayStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyProofs { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The OAuth error code of the JSON body (and of the challenge, where RFC 6750 has one).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "unauthorized",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::KeysUnavailable | Self::ReplayStoreUnavailable => "temporarily_unavailable",
            Self::InvalidProof(_) => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::TooManyProofs { .. } => "rate_limited",
        }
    }

    /// The fixed `error_description`: never anything from the request.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => "Authorization header with a Bearer token is required",
            Self::InvalidRequest(why) => why,
            Self::InvalidToken(problem) => problem.description(),
            Self::InsufficientScope(_) => "The token lacks the scope this endpoint requires",
            Self::KeysUnavailable => "The token issuer's keys are not available yet; retry later",
            Self::InvalidProof(problem) => problem.description(),
            Self::UseDpopNonce => "Resource server requires nonce in DPoP proof",
            Self::ReplayStoreUnavailable => {
                "DPoP proofs cannot be checked for replay right now; retry later"
            }
            Self::TooManyProofs { .. } => {
                "Too many DPoP proofs from this key; retry after the time given"
            }
        }
    }

    /// The metrics label of this outcome (`auth_token_checks_total{outcome}`).
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(problem) => problem.label(),
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::KeysUnavailable => "keys_unavailable",
            Self::InvalidProof(problem) => problem.label(),
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::ReplayStoreUnavailable => "replay_store_unavailable",
            Self::TooManyProofs { .. } => "dpop_rate_limited",
        }
    }

    /// `error=..., error_description=...` (and `scope`) for a challenge; `None` for
    /// a request that sent no credentials, or an error without a challenge.
    fn challenge_params(&self) -> Option<String> {
        match self {
            Self::MissingToken
            | Self::KeysUnavailable
            | Self::ReplayStoreUnavailable
            | Self::TooManyProofs { .. } => None,
            Self::InsufficientScope(scope) => Some(format!(
                "error=\"insufficient_scope\", scope=\"{scope}\", error_description=\"{}\"",
                self.description()
            )),
            _ => Some(format!(
                "error=\"{}\", error_description=\"{}\"",
                self.code(),
                self.description()
            )),
        }
    }
}

/// A refused request, answered in one place: the [`AuthError`], the scheme the
/// request used (its challenge carries the error) and the DPoP mode (which
/// schemes are offered), plus a fresh server nonce when nonces are on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub error: AuthError,
    /// The scheme the request used (the challenge naming the error is this one).
    pub scheme: Scheme,
    /// The API's DPoP mode (which challenges are offered).
    pub mode: DpopMode,
    /// A fresh server nonce (`DPoP-Nonce`), for `use_dpop_nonce`.
    pub nonce: Option<String>,
}

/// Without context: a Bearer-only API (DPoP off).
impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        Self {
            error,
            scheme: Scheme::Bearer,
            mode: DpopMode::Off,
            nonce: None,
        }
    }
}

impl Refusal {
    /// The HTTP status: 400, 401, 403, 429 or 503 ([`AuthError::status`]).
    pub fn status(&self) -> StatusCode {
        self.error.status()
    }

    /// The JSON body to answer with (any framework: it is `Serialize`).
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.error.code(),
            error_description: self.error.description(),
        }
    }

    /// `WWW-Authenticate`: a `Bearer` challenge unless DPoP is required, a `DPoP`
    /// challenge (with `algs`) unless DPoP is off; the error's parameters go on the
    /// scheme the request used (on `DPoP` when it is the only one offered).
    pub fn challenge(&self) -> Option<String> {
        if matches!(
            self.error,
            AuthError::KeysUnavailable
                | AuthError::ReplayStoreUnavailable
                | AuthError::TooManyProofs { .. }
        ) {
            return None;
        }
        let params = self.error.challenge_params();
        let with = |challenge: String, here: bool| match (&params, here) {
            (Some(params), true) => format!("{challenge}, {params}"),
            _ => challenge,
        };
        let bearer = self.mode != DpopMode::Required;
        let mut challenges = Vec::with_capacity(2);
        if bearer {
            challenges.push(with(
                format!("Bearer realm=\"{REALM}\""),
                self.scheme == Scheme::Bearer,
            ));
        }
        if self.mode != DpopMode::Off {
            challenges.push(with(
                format!("DPoP realm=\"{REALM}\", algs=\"{PROOF_ALGS}\""),
                self.scheme == Scheme::Dpop || !bearer,
            ));
        }
        Some(challenges.join(", "))
    }

    /// Headers shared by the REST answer and the server functions: `no-store`, the
    /// challenge, `Retry-After` on a 503, `DPoP-Nonce` when there is one.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
        if let Some(challenge) = self.challenge() {
            // Descriptions are fixed ASCII strings, so this cannot fail.
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.push((header::WWW_AUTHENTICATE, value));
            }
        }
        if let AuthError::TooManyProofs { retry_after_secs } = self.error {
            headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs)));
        } else if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            headers.push((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS)));
        }
        if let Some(nonce) = self.nonce.as_deref() {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                headers.push((HeaderName::from_static("dpop-nonce"), value));
            }
        }
        headers
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.description())
    }
}

impl std::error::Error for AuthError {}

/// The answer: [`Refusal::status`], [`Refusal::headers`] and the
/// [`Refusal::body`] as JSON (feature `axum`).
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Refusal {
    fn into_response(self) -> axum::response::Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        response.headers_mut().extend(self.headers());
        response
    }
}
