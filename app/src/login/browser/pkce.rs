//! [`PkceSession`]: what the browser keeps between the redirect to the IdP and the
//! callback (sessionStorage, keyed by `state`, removed when used).

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use serde::{Deserialize, Serialize};

use super::{oidc, origin, store};
use crate::login::{PublicAuthConfig, TokenStorage};

const KEY_PREFIX: &str = "auth.pkce.";

#[derive(Serialize, Deserialize)]
pub struct PkceSession {
    pub verifier: String,
    pub nonce: String,
    /// The page to go back to after login.
    pub return_to: String,
}

fn storage() -> Option<web_sys::Storage> {
    store::web_storage(TokenStorage::Session)
}

impl PkceSession {
    fn save(&self, state: &str) -> Result<(), String> {
        let json = serde_json::to_string(self).map_err(|e| e.to_string())?;
        storage()
            .ok_or("this browser has no sessionStorage")?
            .set_item(&format!("{KEY_PREFIX}{state}"), &json)
            .map_err(|_| "cannot write to sessionStorage".to_owned())
    }

    /// The session started for `state`, removed so it cannot be used twice. `None`
    /// for an unknown (forged, replayed or foreign) state.
    pub fn take(state: &str) -> Option<Self> {
        let storage = storage()?;
        let key = format!("{KEY_PREFIX}{state}");
        let json = storage.get_item(&key).ok()??;
        let _ = storage.remove_item(&key);
        serde_json::from_str(&json).ok()
    }
}

pub fn redirect_uri() -> String {
    format!("{}/callback", origin())
}

/// Builds the authorize URL (PKCE S256, random state and nonce, Auth0's `audience`),
/// remembers the verifier, and navigates there.
pub async fn start_login(
    config: &PublicAuthConfig,
    return_to: &str,
    prompt: Option<&str>,
) -> Result<(), String> {
    if config.client_id.is_empty() {
        return Err("no client id is configured (AUTH0_CLIENT_ID)".into());
    }
    let discovery = oidc::discover(&config.issuer).await?;
    let client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_auth_uri(AuthUrl::new(discovery.authorization_endpoint).map_err(|e| e.to_string())?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri()).map_err(|e| e.to_string())?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(
            config
                .scope
                .split_whitespace()
                .map(|s| Scope::new(s.to_owned())),
        )
        .add_extra_param("nonce", nonce.secret())
        .set_pkce_challenge(challenge);
    if !config.audience.is_empty() {
        request = request.add_extra_param("audience", &config.audience);
    }
    if let Some(prompt) = prompt {
        request = request.add_extra_param("prompt", prompt);
    }
    let (url, state) = request.url();
    // Only same-site paths: an open redirect after login would be a phishing aid.
    let return_to = if return_to.starts_with('/') && !return_to.starts_with("//") {
        return_to
    } else {
        "/"
    };
    PkceSession {
        verifier: verifier.secret().clone(),
        nonce: nonce.secret().clone(),
        return_to: return_to.to_owned(),
    }
    .save(state.secret())?;
    web_sys::window()
        .ok_or("no window")?
        .location()
        .assign(url.as_str())
        .map_err(|_| "cannot navigate to the login page".to_owned())
}
