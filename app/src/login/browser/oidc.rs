//! OpenID Connect from the browser: discovery, the token endpoint (code exchange,
//! refresh), the ID-token checks, and the callback route's work.

use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gloo_net::http::Request;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::now;
use super::pkce::{redirect_uri, PkceSession};
use super::store::{self, Session};
use crate::login::urls::{form, with_slash};
use crate::login::PublicAuthConfig;

/// Leeway on ID-token and access-token times, for clocks that disagree.
pub const LEEWAY_SECS: f64 = 60.0;

#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

thread_local! {
    static DISCOVERY: RefCell<Option<Discovery>> = const { RefCell::new(None) };
}

/// The issuer's discovery document (fetched once per page load).
pub async fn discover(issuer: &str) -> Result<Discovery, String> {
    if let Some(found) = DISCOVERY.with(|d| d.borrow().clone()) {
        return Ok(found);
    }
    let url = format!("{}.well-known/openid-configuration", with_slash(issuer));
    let response = Request::get(&url)
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
    if discovery.issuer != issuer {
        return Err("the login service names another issuer".into());
    }
    DISCOVERY.with(|d| *d.borrow_mut() = Some(discovery.clone()));
    Ok(discovery)
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<f64>,
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

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

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
    let response = Request::post(&discovery.token_endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .map_err(|e| failed("request", e.to_string()))?
        .send()
        .await
        .map_err(|e| {
            failed(
                "unavailable",
                format!("the login service is unreachable ({e})"),
            )
        })?;
    if response.ok() {
        return response
            .json()
            .await
            .map_err(|e| failed("invalid_response", e.to_string()));
    }
    let error: TokenError = response.json().await.unwrap_or(TokenError {
        error: "server_error".into(),
        error_description: None,
    });
    Err(failed(
        &error.error,
        error.error_description.unwrap_or_default(),
    ))
}

/// The claims of a JWT, without checking its signature (the ID token comes straight
/// from the token endpoint over the connection we opened, OIDC Core 3.1.3.7).
pub fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// OIDC Core 3.1.3.7: iss, aud, azp, nonce, exp and iat (with leeway).
pub fn check_id_token(
    config: &PublicAuthConfig,
    id_token: &str,
    nonce: Option<&str>,
) -> Result<Map<String, Value>, String> {
    let claims = jwt_claims(id_token).ok_or("the ID token is malformed")?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(config.issuer.as_str()) {
        return Err("the ID token is from another issuer".into());
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&config.client_id.as_str()) {
        return Err("the ID token is for another application".into());
    }
    if (audiences.len() > 1 || claims.contains_key("azp"))
        && text("azp") != Some(config.client_id.as_str())
    {
        return Err("the ID token was issued to another party (azp)".into());
    }
    if let Some(nonce) = nonce {
        if text("nonce") != Some(nonce) {
            return Err("the ID token's nonce does not match this login".into());
        }
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_f64);
    let now = now();
    match number("exp") {
        Some(exp) if exp + LEEWAY_SECS >= now => {}
        _ => return Err("the ID token has expired".into()),
    }
    match number("iat") {
        Some(iat) if iat - LEEWAY_SECS <= now => {}
        _ => return Err("the ID token is issued in the future".into()),
    }
    Ok(claims)
}

fn session_from(
    config: &PublicAuthConfig,
    tokens: TokenResponse,
    nonce: Option<&str>,
    previous: Option<&Session>,
) -> Result<Session, String> {
    // A refresh may omit the ID token; keep the one we have then.
    let id_token = match (tokens.id_token, previous) {
        (Some(id_token), _) => id_token,
        (None, Some(previous)) => previous.id_token.clone(),
        (None, None) => return Err("the login service sent no ID token".into()),
    };
    let claims = check_id_token(config, &id_token, nonce)?;
    let expires_at = tokens
        .expires_in
        .map(|seconds| now() + seconds)
        .or_else(|| {
            jwt_claims(&tokens.access_token).and_then(|c| c.get("exp").and_then(Value::as_f64))
        })
        .unwrap_or_else(now);
    Ok(Session {
        access_token: tokens.access_token,
        id_token,
        refresh_token: tokens
            .refresh_token
            .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        expires_at,
        claims,
    })
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

/// What went wrong on the callback, with the action the page offers.
#[derive(Clone, Debug, PartialEq)]
pub struct CallbackError {
    pub message: String,
    /// `Some("consent")` when logging in again should ask for consent.
    pub retry_prompt: Option<&'static str>,
}

fn callback_error(message: impl Into<String>) -> CallbackError {
    CallbackError {
        message: message.into(),
        retry_prompt: None,
    }
}

/// The callback route's work: check `state`, exchange the code with the verifier,
/// check the ID token, store the tokens, clean the address bar. Returns where to go.
pub async fn handle_callback(
    config: &PublicAuthConfig,
) -> Result<(Session, String), CallbackError> {
    let window = web_sys::window().ok_or_else(|| callback_error("no window"))?;
    let search = window.location().search().unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search)
        .map_err(|_| callback_error("unreadable callback address"))?;
    // Whatever happens next, the code and state leave the address bar now.
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/callback"));
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").unwrap_or_default();
        let retry_prompt = (error == "consent_required").then_some("consent");
        let message = match error.as_str() {
            "login_required" => "You need to log in again.".to_owned(),
            "consent_required" => "The application needs your consent.".to_owned(),
            _ if description.is_empty() => format!("The login service refused: {error}"),
            _ => format!("The login service refused: {description} ({error})"),
        };
        return Err(CallbackError {
            message,
            retry_prompt,
        });
    }
    let (Some(code), Some(state)) = (params.get("code"), params.get("state")) else {
        return Err(callback_error(
            "This address is not a login callback (no code or state).",
        ));
    };
    let pkce = PkceSession::take(&state)
        .ok_or_else(|| callback_error("The login state does not match any login started here; nothing was stored. Please log in again."))?;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &redirect_uri()),
        ("client_id", &config.client_id),
        ("code_verifier", &pkce.verifier),
    ]);
    let tokens = token_request(config, body)
        .await
        .map_err(|e| callback_error(format!("The login could not be completed: {e}")))?;
    let session = session_from(config, tokens, Some(&pkce.nonce), None)
        .map_err(|e| callback_error(format!("The login was refused: {e}")))?;
    store::save(&session);
    Ok((session, pkce.return_to))
}
