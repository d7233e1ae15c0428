//! Reading the bearer token from a request, and the [`Authenticated`] extractor.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::{metrics, AuthError, Claims, Verifier};

/// The credentials of `Authorization: Bearer <token>` (scheme case-insensitive).
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(pub String);

// Never print the token itself.
impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// RFC 6750 `b64token` characters.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

impl BearerToken {
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, AuthError> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Err(AuthError::MissingToken);
        };
        if values.next().is_some() {
            return Err(AuthError::InvalidRequest(
                "Send exactly one Authorization header",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| AuthError::InvalidRequest("The Authorization header is malformed"))?
            .trim();
        let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
        let credentials = credentials.trim_start();
        if !scheme.eq_ignore_ascii_case("bearer") {
            // Another scheme (Basic, ...): no Bearer credentials were sent, so the
            // answer is the bare challenge that names the scheme to use (RFC 6750 3.1).
            return Err(AuthError::MissingToken);
        }
        if !is_b64token(credentials) {
            return Err(AuthError::InvalidRequest(
                "The Authorization header is malformed",
            ));
        }
        Ok(Self(credentials.to_owned()))
    }
}

/// Extractor: the claims of a verified bearer token, or the request is answered
/// with the [`AuthError`]. Needs `Extension<Arc<Verifier>>` on the router, so it
/// works with any router state and in server functions (`leptos_axum::extract`).
#[derive(Clone, Debug)]
pub struct Authenticated(pub Arc<Claims>);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AuthError> {
        let result = Self::check(parts).await;
        metrics::token_check(match &result {
            Ok(_) => "ok",
            Err(error) => error.outcome(),
        });
        result
    }
}

impl Authenticated {
    async fn check(parts: &Parts) -> Result<Self, AuthError> {
        let token = BearerToken::from_headers(&parts.headers)?;
        let Some(verifier) = parts.extensions.get::<Arc<Verifier>>().cloned() else {
            tracing::error!(
                "no Verifier extension on the router: protected routes refuse everything"
            );
            return Err(AuthError::KeysUnavailable);
        };
        verifier.verify(&token.0).await.map(Authenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for value in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER abc.def.ghi",
        ] {
            assert_eq!(
                BearerToken::from_headers(&headers(&[value])),
                Ok(BearerToken("abc.def.ghi".into()))
            );
        }
    }

    #[test]
    fn malformed_headers_are_invalid_requests_and_absent_ones_missing() {
        assert_eq!(
            BearerToken::from_headers(&headers(&[])),
            Err(AuthError::MissingToken)
        );
        for other_scheme in ["Basic", "Basic dXNlcjpwYXNz", "DPoPx a.b.c", "Token a.b.c"] {
            assert_eq!(
                BearerToken::from_headers(&headers(&[other_scheme])),
                Err(AuthError::MissingToken),
                "{other_scheme}"
            );
        }
        for bad in [
            &["Bearer a.b.c", "Bearer a.b.c"][..],
            &["Bearer"],
            &["Bearer a b"],
            &["Bearer a\"b"],
        ] {
            let result = BearerToken::from_headers(&headers(bad));
            assert!(
                matches!(result, Err(AuthError::InvalidRequest(_))),
                "{bad:?}: {result:?}"
            );
        }
    }
}
