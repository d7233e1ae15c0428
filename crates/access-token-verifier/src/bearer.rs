//! Reading the access token from `Authorization` (`Bearer` or `DPoP`), and
//! [`Authenticated`]: a request's token verified, then its DPoP binding
//! ([`Verifier::authenticate`]; with the `axum` feature also an extractor).

use std::sync::Arc;

use http::request::Parts;
use http::{header, HeaderMap};

use super::dpop::{access_token_hash, DpopMode};
use super::error::{Refusal, TokenProblem};
use super::scheme::Scheme;
use super::verifier::check_token_length;
use super::{metrics, AuthError, Claims, Verifier};

/// The access token of `Authorization: Bearer <token>` or `DPoP <token>`.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(
    /// The token's text.
    pub String,
);

// Never print the token itself.
impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// Which bytes RFC 6750's `b64token` allows (`=` only as trailing padding, checked
/// apart). A table: one load per byte, for the one scan every protected request
/// makes over its whole token.
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        byte += 1;
    }
    table
};

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &[u8]) -> bool {
    let end = token
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(0, |last| last + 1);
    end > 0 && token[..end].iter().all(|&b| B64TOKEN[usize::from(b)])
}

/// `text` without leading and trailing spaces and tabs (what may surround a
/// header value's parts).
fn trim_whitespace(mut text: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = text {
        text = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = text {
        text = rest;
    }
    text
}

/// `Authorization: <scheme> <token>` split: `Bearer` unless DPoP is required,
/// `DPoP` unless DPoP is off (schemes case-insensitive); the token's grammar is
/// not checked yet. Another scheme counts as no credentials (the answer is the
/// bare challenge naming the schemes to use, RFC 6750 3.1).
fn split_authorization(
    headers: &HeaderMap,
    mode: DpopMode,
) -> Result<(Scheme, &[u8]), (AuthError, Scheme)> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err((AuthError::MissingToken, Scheme::Bearer));
    };
    if values.next().is_some() {
        return Err((
            AuthError::InvalidRequest("Send exactly one Authorization header"),
            Scheme::Bearer,
        ));
    }
    let value = trim_whitespace(value.as_bytes());
    let (scheme, token) = match value.iter().position(|&b| b == b' ') {
        Some(space) => (&value[..space], trim_whitespace(&value[space + 1..])),
        None => (value, &b""[..]),
    };
    if scheme.eq_ignore_ascii_case(b"bearer") && mode != DpopMode::Required {
        Ok((Scheme::Bearer, token))
    } else if scheme.eq_ignore_ascii_case(b"dpop") && mode != DpopMode::Off {
        Ok((Scheme::Dpop, token))
    } else {
        Err((AuthError::MissingToken, Scheme::Bearer))
    }
}

/// `token` as text if it is an RFC 6750 `b64token`, else `invalid_request`.
fn well_formed(token: &[u8]) -> Result<&str, AuthError> {
    const MALFORMED: AuthError = AuthError::InvalidRequest("The Authorization header is malformed");
    if !is_b64token(token) {
        return Err(MALFORMED);
    }
    // ASCII, just checked.
    std::str::from_utf8(token).map_err(|_| MALFORMED)
}

/// Reads `Authorization: <scheme> <token>`: `Bearer` unless DPoP is required,
/// `DPoP` unless DPoP is off (schemes case-insensitive), the token an RFC 6750
/// `b64token`. Another scheme counts as no credentials (the answer is the bare
/// challenge naming the schemes to use, RFC 6750 3.1). Errors carry the scheme
/// the request used.
pub fn credentials(
    headers: &HeaderMap,
    mode: DpopMode,
) -> Result<(Scheme, &str), (AuthError, Scheme)> {
    let (scheme, token) = split_authorization(headers, mode)?;
    let token = well_formed(token).map_err(|error| (error, scheme))?;
    Ok((scheme, token))
}

impl BearerToken {
    /// The token of `Authorization: Bearer <token>` (an API without DPoP).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, AuthError> {
        credentials(headers, DpopMode::Off)
            .map(|(_, token)| Self(token.to_owned()))
            .map_err(|(error, _)| error)
    }
}

/// A request whose access token verified (and, for a DPoP-bound one, whose
/// proof did): its claims and how it came. Made by [`Verifier::authenticate`];
/// with the `axum` feature also an extractor, which needs
/// `Extension<Arc<Verifier>>` on the router (so it works with any router state
/// and in Leptos server functions) and answers a failure with the [`Refusal`].
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The token's claims.
    pub claims: Arc<Claims>,
    /// The scheme the token came with.
    pub scheme: Scheme,
    mode: DpopMode,
    permissions_only: bool,
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authenticated {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Refusal> {
        let parts: &Parts = parts;
        let Some(verifier) = parts.extensions.get::<Arc<Verifier>>() else {
            tracing::error!(
                "no Verifier extension on the router: protected routes refuse everything"
            );
            metrics::token_check(AuthError::KeysUnavailable.outcome());
            return Err(AuthError::KeysUnavailable.into());
        };
        verifier.authenticate(parts).await
    }
}

impl Verifier {
    /// Every check of a request's credentials: `Authorization` read in the
    /// schemes the DPoP mode allows, the token verified (from the cache when seen
    /// before), then its binding: a bound token needs `DPoP` and a valid proof, an
    /// unbound one `Bearer`. Reports the outcome to the metrics.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Authenticated, Refusal> {
        let result = self.check_request(parts).await;
        metrics::token_check(match &result {
            Ok(_) => "ok",
            Err(refusal) => refusal.error.outcome(),
        });
        result
    }

    async fn check_request(&self, parts: &Parts) -> Result<Authenticated, Refusal> {
        let dpop = self.dpop();
        let (scheme, token) = split_authorization(&parts.headers, dpop.mode())
            .map_err(|(error, scheme)| dpop.refusal(error, scheme))?;
        let refuse = |error| dpop.refusal(error, scheme);
        // A token seen and verified before is found before its grammar is
        // scanned (it passed that scan then): the whole cached path is one hash
        // lookup and one comparison.
        check_token_length(token).map_err(refuse)?;
        let claims = match self.cached(token) {
            Some(claims) => claims,
            None => {
                let token = well_formed(token).map_err(refuse)?;
                self.verify_and_remember(token).await.map_err(refuse)?
            }
        };
        match (scheme, claims.confirmation().map_err(refuse)?) {
            // RFC 9449 7.1: a bound token is only good with its proof.
            (Scheme::Bearer, Some(_)) => Err(refuse(AuthError::InvalidToken(
                TokenProblem::BoundTokenAsBearer,
            ))),
            (Scheme::Bearer, None) => Ok(()),
            (Scheme::Dpop, None) => Err(refuse(AuthError::InvalidToken(TokenProblem::NotBound))),
            // The proof's `ath` is the token's SHA-256.
            (Scheme::Dpop, Some(jkt)) => dpop.check(parts, &access_token_hash(token), jkt).await,
        }?;
        Ok(Authenticated {
            claims,
            scheme,
            mode: dpop.mode(),
            permissions_only: self.permissions_only(),
        })
    }
}

impl Authenticated {
    /// `Ok` when the token grants `scope` (by `permissions` alone with
    /// `API_PERMISSIONS_ONLY`), else the 403 answer (in the scheme used).
    pub fn require_scope(&self, scope: &'static str) -> Result<(), Refusal> {
        self.claims
            .require_scope(scope, self.permissions_only)
            .map_err(|error| Refusal {
                error,
                scheme: self.scheme,
                mode: self.mode,
                nonce: None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

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
