//! What the IdP sends back, read the same way by the browser's login and the
//! server's (`server` token storage): the discovery document (it must name our
//! issuer), the token endpoint's answer, a JWT's claims and when an access token
//! expires. Free of browser APIs, so tested natively.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::checks::access_token_expiry;
use super::urls::with_slash;

/// The endpoints an OpenID provider's discovery document names.
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// RFC 7009 (Auth0: `/oauth/revoke`).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

impl Discovery {
    /// Where `issuer` publishes its discovery document.
    pub fn url(issuer: &str) -> String {
        format!("{}.well-known/openid-configuration", with_slash(issuer))
    }

    /// OpenID Discovery 4.3: the document must name the issuer it was fetched for.
    pub fn check_issuer(&self, issuer: &str) -> Result<(), String> {
        if self.issuer == issuer {
            Ok(())
        } else {
            Err("the login service names another issuer".into())
        }
    }
}

/// A token endpoint's success.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<f64>,
}

impl TokenResponse {
    /// When the access token expires: `expires_in`, else the token's own `exp`
    /// ([`access_token_expiry`]).
    pub fn expires_at(&self, now: f64) -> f64 {
        let token_exp =
            jwt_claims(&self.access_token).and_then(|claims| claims.get("exp")?.as_f64());
        access_token_expiry(now, self.expires_in, token_exp)
    }
}

/// The claims of a JWT, without checking its signature (the ID token comes straight
/// from the token endpoint over the connection we opened, OIDC Core 3.1.3.7).
pub fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_expiry_and_issuer() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"auth0|alice","exp":1700000600}"#);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig");
        assert_eq!(jwt_claims(&token).unwrap()["sub"], "auth0|alice");
        assert_eq!(jwt_claims("not-a-jwt"), None);
        let tokens = TokenResponse {
            access_token: token,
            token_type: None,
            id_token: None,
            refresh_token: None,
            expires_in: None,
        };
        assert_eq!(tokens.expires_at(1_700_000_000.0), 1_700_000_600.0);
        let with_expires_in = TokenResponse {
            expires_in: Some(60.0),
            ..tokens
        };
        assert_eq!(with_expires_in.expires_at(1_700_000_000.0), 1_700_000_060.0);

        let discovery: Discovery = serde_json::from_value(serde_json::json!({
            "issuer": "https://t.auth0.com/",
            "authorization_endpoint": "https://t.auth0.com/authorize",
            "token_endpoint": "https://t.auth0.com/oauth/token",
        }))
        .unwrap();
        assert!(discovery.check_issuer("https://t.auth0.com/").is_ok());
        assert!(discovery.check_issuer("https://evil.example/").is_err());
        assert_eq!(
            Discovery::url("https://t.auth0.com"),
            "https://t.auth0.com/.well-known/openid-configuration"
        );
    }
}
