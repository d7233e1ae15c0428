//! The token-endpoint client: discovery, the code exchange and the refresh grant
//! (with DPoP proofs when `useDpop` is on, [`super::dpop`]), each answer checked
//! (ID token, same user on refresh) and turned into a [`Session`]. Stores nothing: the token store ([`super::store`]) and the
//! callback ([`super::callback`]) decide what to keep.

use std::cell::RefCell;

use gloo_net::http::Request;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::dpop;
use super::window::{now, origin};
use crate::login::checks::{check_id_token, check_same_subject};
use crate::login::protocol::{jwt_claims, Discovery, TokenResponse};
use crate::login::urls::form;
use crate::login::{PublicAuthConfig, SILENT_CALLBACK_PATH};

/// The tokens of a logged-in user, as the token store keeps them.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
    /// When the access token expires, seconds since the epoch.
    pub expires_at: f64,
    /// The ID token's claims.
    pub claims: Map<String, Value>,
    /// The access token is DPoP-bound (`token_type` `DPoP`): API calls send it as
    /// `Authorization: DPoP` with a proof.
    #[serde(default)]
    pub dpop: bool,
}

// Never print tokens.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where the IdP sends the browser back after login.
pub fn redirect_uri() -> String {
    format!("{}/callback", origin())
}

/// Where the IdP sends the hidden iframe of a silent session check.
pub fn silent_redirect_uri() -> String {
    format!("{}{SILENT_CALLBACK_PATH}", origin())
}

thread_local! {
    static DISCOVERY: RefCell<Option<Discovery>> = const { RefCell::new(None) };
}

/// The issuer's discovery document (fetched once per page load).
pub async fn discover(issuer: &str) -> Result<Discovery, String> {
    if let Some(found) = DISCOVERY.with(|d| d.borrow().clone()) {
        return Ok(found);
    }
    let response = Request::get(&Discovery::url(issuer))
        .send()
        .await
        .map_err(|e| format!("the login service is unreachable ({e})"))?;
    if !response.ok() {
        return Err(format!("the login service answered {}", response.status()));
    }
    let discovery: Discovery = response
        .json()
        .await
        .map_err(|e| format!("unreadable discovery document ({e})"))?;
    discovery.check_issuer(issuer)?;
    DISCOVERY.with(|d| *d.borrow_mut() = Some(discovery.clone()));
    Ok(discovery)
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// An error from the token endpoint: the OAuth code (`invalid_grant`, ...) and text.
#[derive(Clone, Debug)]
pub struct OAuthError {
    pub code: String,
    pub description: String,
}

impl OAuthError {
    /// The IdP could not be reached or failed (network, 5xx, unreadable answer):
    /// worth retrying, and no reason to end the session.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.code.as_str(),
            "unavailable" | "server_error" | "temporarily_unavailable" | "invalid_response"
        )
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

/// A POST to the token endpoint; with DPoP on, with a proof, and once more with
/// the server's nonce when it answers `use_dpop_nonce`.
async fn token_request(
    config: &PublicAuthConfig,
    body: String,
) -> Result<TokenResponse, OAuthError> {
    let failed = |code: &str, description: String| OAuthError {
        code: code.into(),
        description,
    };
    let discovery = discover(&config.issuer)
        .await
        .map_err(|e| failed("unavailable", e))?;
    let endpoint = &discovery.token_endpoint;
    let mut attempts = if config.use_dpop { 2 } else { 1 };
    loop {
        attempts -= 1;
        let mut request =
            Request::post(endpoint).header("content-type", "application/x-www-form-urlencoded");
        if config.use_dpop {
            let proof = dpop::proof(config.storage, "POST".into(), endpoint.to_owned(), None)
                .await
                .unwrap_or_else(|error| Err(error.to_string()))
                .map_err(|e| failed("dpop", e))?;
            request = request.header("DPoP", &proof);
        }
        let response = request
            .body(body.clone())
            .map_err(|e| failed("request", e.to_string()))?
            .send()
            .await
            .map_err(|e| {
                failed(
                    "unavailable",
                    format!("the login service is unreachable ({e})"),
                )
            })?;
        if config.use_dpop {
            dpop::remember_nonce(endpoint, response.headers().get("dpop-nonce"));
        }
        if response.ok() {
            return response
                .json()
                .await
                .map_err(|e| failed("invalid_response", e.to_string()));
        }
        let status = response.status();
        let mut error: TokenError = response.json().await.unwrap_or(TokenError {
            error: "server_error".into(),
            error_description: None,
        });
        if status >= 500 {
            error.error = "server_error".into();
        }
        if error.error == "use_dpop_nonce" && attempts > 0 {
            continue;
        }
        return Err(failed(
            &error.error,
            error.error_description.unwrap_or_default(),
        ));
    }
}

fn session_from(
    config: &PublicAuthConfig,
    tokens: TokenResponse,
    nonce: Option<&str>,
    previous: Option<&Session>,
) -> Result<Session, String> {
    let expires_at = tokens.expires_at(now());
    // A refresh may omit the ID token; keep the one we have then.
    let (id_token, claims) = match (tokens.id_token, previous) {
        (Some(id_token), _) => {
            let claims = jwt_claims(&id_token).ok_or("the ID token is malformed")?;
            check_id_token(config, &claims, nonce, now())?;
            if let Some(previous) = previous {
                check_same_subject(&previous.claims, &claims)?;
            }
            (id_token, claims)
        }
        (None, Some(previous)) => (previous.id_token.clone(), previous.claims.clone()),
        (None, None) => return Err("the login service sent no ID token".into()),
    };
    Ok(Session {
        dpop: tokens
            .token_type
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop")),
        expires_at,
        access_token: tokens.access_token,
        id_token,
        refresh_token: tokens
            .refresh_token
            .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        claims,
    })
}

/// The authorization-code grant with the PKCE verifier; the ID token must carry
/// the login's `nonce`.
pub async fn exchange_code(
    config: &PublicAuthConfig,
    code: &str,
    verifier: &str,
    nonce: &str,
    redirect_uri: &str,
) -> Result<Session, String> {
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", &config.client_id),
        ("code_verifier", verifier),
    ]);
    let tokens = token_request(config, body)
        .await
        .map_err(|e| format!("The login could not be completed: {e}"))?;
    session_from(config, tokens, Some(nonce), None)
        .map_err(|e| format!("The login was refused: {e}"))
}

/// The refresh-token grant (the IdP rotates the refresh token: the old one is dead).
pub async fn refresh(config: &PublicAuthConfig, previous: &Session) -> Result<Session, OAuthError> {
    let Some(refresh_token) = previous.refresh_token.as_deref() else {
        return Err(OAuthError {
            code: "login_required".into(),
            description: "nothing to refresh from".into(),
        });
    };
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", &config.client_id),
    ]);
    let tokens = token_request(config, body).await?;
    session_from(config, tokens, None, Some(previous)).map_err(|e| OAuthError {
        code: "invalid_id_token".into(),
        description: e,
    })
}

/// RFC 7009: revokes a refresh token (logout), so a copy of it is worthless. No
/// revocation endpoint: nothing to do.
pub async fn revoke(config: &PublicAuthConfig, refresh_token: &str) -> Result<(), String> {
    let discovery = discover(&config.issuer).await?;
    let Some(endpoint) = discovery.revocation_endpoint else {
        return Ok(());
    };
    let body = form(&[
        ("token", refresh_token),
        ("token_type_hint", "refresh_token"),
        ("client_id", &config.client_id),
    ]);
    let response = Request::post(&endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| format!("the login service is unreachable ({e})"))?;
    if response.ok() {
        Ok(())
    } else {
        Err(format!("revocation answered {}", response.status()))
    }
}
