//! Browser login with Auth0 (or any OpenID provider): Authorization Code + PKCE.
//!
//! - [`PublicAuthConfig`]: what the browser needs (issuer, client id, audience, scope,
//!   token storage), sent by the server in each page, so one build serves any tenant.
//! - [`state`]: [`AuthContext`], the login state as Leptos context (loading, logged
//!   in with the user's claims, logged out, error).
//! - [`checks`], [`urls`]: the rules (ID-token checks, expiry, where to return, the
//!   logout URL), free of browser APIs and tested natively.
//! - [`protocol`]: what the IdP sends (discovery, token responses, JWT claims),
//!   read the same way by the browser's login and the server's.
//! - [`server_session`]: `server` token storage (the server is the OAuth client,
//!   the browser holds only a session cookie): what the server renders into the
//!   page about the session, and its login and logout routes.
//! - `browser` (feature `hydrate`): the browser half, layered one way (see its docs).

pub mod checks;
pub mod protocol;
pub mod server_session;
pub mod state;
pub mod urls;

#[cfg(feature = "hydrate")]
pub mod browser;

use serde::{Deserialize, Serialize};

pub use state::{provide_auth, use_auth, AuthContext, AuthStatus, User};

/// Where the tokens are kept. `Memory` (default) is gone on reload and out of
/// reach of other tabs and of scripts reading storage; `Session` survives reloads of
/// this tab; `Local` survives restarts. Both storages are readable by any script on
/// the origin (an XSS steals them). `Server`: the browser never sees a token; the
/// server keeps them in its session store and the browser an `HttpOnly` cookie
/// (a backend for frontend): see README "Token storage".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStorage {
    #[default]
    Memory,
    Session,
    Local,
    Server,
}

impl std::str::FromStr for TokenStorage {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "memory" => Ok(Self::Memory),
            "session" => Ok(Self::Session),
            "local" => Ok(Self::Local),
            "server" => Ok(Self::Server),
            _ => Err(()),
        }
    }
}

/// The login settings the browser needs; nothing secret (a SPA has no secret).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAuthConfig {
    pub issuer: String,
    pub client_id: String,
    pub audience: String,
    /// `openid profile email`, plus `offline_access` when refresh tokens are on.
    pub scope: String,
    pub storage: TokenStorage,
    /// DPoP-bound tokens: proofs at the token endpoint and on every API call.
    #[serde(default)]
    pub use_dpop: bool,
}

/// Where the silent session check's iframe lands (a server route; see
/// `login::browser::silent`), and the type of the message that page posts back.
/// Shared by both sides so they cannot drift apart.
pub const SILENT_CALLBACK_PATH: &str = "/silent-callback";
pub const SILENT_CALLBACK_MESSAGE: &str = "auth:silent-callback";

/// The id of the `<script type="application/json">` that carries the config.
pub const CONFIG_ELEMENT_ID: &str = "auth-config";

impl PublicAuthConfig {
    /// JSON safe to put inside a `<script>` element.
    pub fn to_script_json(&self) -> String {
        script_safe(serde_json::to_string(self).unwrap_or_default())
    }
}

/// JSON made safe inside a `<script>` element: no `<`, so no `</script>` (JSON
/// reads `\u003c` back as `<`). Copies only when there is one.
pub fn script_safe(json: String) -> String {
    if json.contains('<') {
        json.replace('<', "\\u003c")
    } else {
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser reads these keys one by one (`browser::window::read_page_config`,
    /// with `JSON.parse`, to keep serde_json off a first visit): a field added or
    /// renamed here must be read there too.
    #[test]
    fn the_page_config_has_the_keys_the_browser_reads() {
        let config = PublicAuthConfig {
            issuer: "https://tenant.example/".into(),
            client_id: "id".into(),
            audience: "https://api.example".into(),
            scope: "openid".into(),
            storage: TokenStorage::Session,
            use_dpop: true,
        };
        let json: serde_json::Value = serde_json::from_str(&config.to_script_json()).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "audience",
                "client_id",
                "issuer",
                "scope",
                "storage",
                "use_dpop"
            ]
        );
        assert_eq!(json["storage"], "session");
        assert_eq!("session".parse(), Ok(TokenStorage::Session));
    }

    #[test]
    fn the_page_config_cannot_close_its_script_element() {
        let config = PublicAuthConfig {
            issuer: "</script><script>alert(1)</script>".into(),
            ..Default::default()
        };
        let json = config.to_script_json();
        assert!(!json.contains('<'), "{json}");
        let back: PublicAuthConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }
}
