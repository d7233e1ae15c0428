//! [`AuthError`]: every way a request can fail authentication, and its RFC 6750 answer.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

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
}

impl TokenProblem {
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
        }
    }
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECS: u32 = 5;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The OAuth error code of the JSON body (and of the challenge, where RFC 6750 has one).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "unauthorized",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::KeysUnavailable => "temporarily_unavailable",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => "Authorization header with a Bearer token is required",
            Self::InvalidRequest(why) => why,
            Self::InvalidToken(problem) => problem.description(),
            Self::InsufficientScope(_) => "The token lacks the scope this endpoint requires",
            Self::KeysUnavailable => "The token issuer's keys are not available yet; retry later",
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
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 section 3), if this error has one.
    pub fn challenge(&self) -> Option<String> {
        match self {
            Self::MissingToken => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidRequest(_) | Self::InvalidToken(_) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"{}\", error_description=\"{}\"",
                self.code(),
                self.description()
            )),
            Self::InsufficientScope(scope) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\", \
                 error_description=\"{}\"",
                self.description()
            )),
            Self::KeysUnavailable => None,
        }
    }

    /// Status and headers, shared by the REST answer and the server functions.
    pub fn headers(&self) -> Vec<(header::HeaderName, HeaderValue)> {
        let mut headers = vec![(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
        if let Some(challenge) = self.challenge() {
            // Descriptions are fixed ASCII strings, so this cannot fail.
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.push((header::WWW_AUTHENTICATE, value));
            }
        }
        if matches!(self, Self::KeysUnavailable) {
            headers.push((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS)));
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

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: self.code(),
            error_description: self.description(),
        });
        let mut response = (self.status(), body).into_response();
        response.headers_mut().extend(self.headers());
        response
    }
}
