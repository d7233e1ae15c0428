//! [`PkceSession`]: one login transaction, what the browser keeps between the
//! redirect to the IdP and the callback (verifier, nonce, where to return), in
//! sessionStorage keyed by `state`. Used once, and only within
//! [`crate::login::checks::TRANSACTION_TTL_SECS`]; expired ones are purged on
//! every callback, and all of them on logout.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::{Deserialize, Serialize};

use super::oidc::{discover, redirect_uri};
use super::window::{now, origin, random_b64, web_storage};
use crate::lazy::lazy_fn;
use crate::login::checks::transaction_expired;
use crate::login::urls::safe_return_to;
use crate::login::{PublicAuthConfig, TokenStorage};

const KEY_PREFIX: &str = "auth.pkce.";

#[derive(Serialize, Deserialize)]
pub struct PkceSession {
    pub verifier: String,
    pub nonce: String,
    /// The page to go back to after login (a path on this origin).
    pub return_to: String,
    /// When the login started, seconds since the epoch.
    pub created_at: f64,
}

fn storage() -> Option<web_sys::Storage> {
    web_storage(TokenStorage::Session)
}

impl PkceSession {
    fn save(&self, state: &str) -> Result<(), String> {
        let json = serde_json::to_string(self).map_err(|e| e.to_string())?;
        storage()
            .ok_or("this browser has no sessionStorage")?
            .set_item(&format!("{KEY_PREFIX}{state}"), &json)
            .map_err(|_| "cannot write to sessionStorage".to_owned())
    }

    /// The transaction started for `state`, removed so it cannot be used twice.
    /// `None` for an unknown (forged, replayed or foreign) or expired state.
    pub fn take(state: &str) -> Option<Self> {
        let storage = storage()?;
        let key = format!("{KEY_PREFIX}{state}");
        let json = storage.get_item(&key).ok()??;
        let _ = storage.remove_item(&key);
        let session: Self = serde_json::from_str(&json).ok()?;
        (!transaction_expired(session.created_at, now())).then_some(session)
    }

    /// Removes expired transactions (`all`: every one, as on logout).
    pub fn purge(all: bool) {
        let Some(storage) = storage() else {
            return;
        };
        let keys: Vec<String> = (0..storage.length().unwrap_or(0))
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|key| key.starts_with(KEY_PREFIX))
            .collect();
        let now = now();
        for key in keys {
            let expired = storage
                .get_item(&key)
                .ok()
                .flatten()
                .and_then(|json| serde_json::from_str::<Self>(&json).ok())
                .is_none_or(|session| transaction_expired(session.created_at, now));
            if all || expired {
                let _ = storage.remove_item(&key);
            }
        }
    }
}

/// Builds the authorize URL (PKCE S256, random state and nonce, Auth0's `audience`,
/// `prompt` if any) for `redirect_uri`, and remembers the transaction under its
/// `state`. `return_to` must resolve to this origin, else the login returns to `/`.
pub async fn authorize_url(
    config: &PublicAuthConfig,
    return_to: &str,
    prompt: Option<&str>,
    redirect_uri: String,
) -> Result<(String, String), String> {
    if config.client_id.is_empty() {
        return Err("no client id is configured (AUTH0_CLIENT_ID)".into());
    }
    let discovery = discover(&config.issuer).await?;
    let client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_auth_uri(AuthUrl::new(discovery.authorization_endpoint).map_err(|e| e.to_string())?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri).map_err(|e| e.to_string())?);
    // 256 random bits from the browser's CSPRNG, base64url (a 43-character verifier,
    // RFC 7636), rather than oauth2's `new_random`, which brings a userspace ChaCha
    // RNG into the wasm on top of the browser's own.
    let verifier = PkceCodeVerifier::new(random_b64::<32>()?);
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let nonce = CsrfToken::new(random_b64::<32>()?);
    let state = CsrfToken::new(random_b64::<32>()?);
    let mut request = client
        .authorize_url(|| state)
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
    PkceSession::purge(false);
    PkceSession {
        verifier: verifier.secret().clone(),
        nonce: nonce.secret().clone(),
        // Only this origin: an open redirect after login would be a phishing aid.
        return_to: safe_return_to(&origin(), return_to),
        created_at: now(),
    }
    .save(state.secret())?;
    Ok((url.to_string(), state.secret().clone()))
}

lazy_fn! {
    login,
    /// The full-page login: to the IdP, back to `/callback`, then to `return_to`.
    pub async fn start_login(
        config: PublicAuthConfig,
        return_to: String,
        prompt: Option<&'static str>,
    ) -> Result<(), String> {
        let (url, _) = authorize_url(&config, &return_to, prompt, redirect_uri()).await?;
        web_sys::window()
            .ok_or("no window")?
            .location()
            .assign(&url)
            .map_err(|_| "cannot navigate to the login page".to_owned())
    }
}
