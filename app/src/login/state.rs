//! [`AuthContext`]: the login state, provided once by the app and read by the nav
//! bar, the pages and the API client.

use leptos::prelude::*;
use serde_json::{Map, Value};

use super::{PublicAuthConfig, TokenStorage};

/// The logged-in user, from the ID token's claims.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub name: String,
    pub email: Option<String>,
    pub picture: Option<String>,
    /// Every ID-token claim as indented JSON, for the Profile page (printed here,
    /// in the login's code, so the page's own code needs no JSON printer).
    pub claims_json: String,
}

impl User {
    pub fn from_claims(claims: Map<String, Value>) -> Self {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            name: text("name")
                .or_else(|| text("nickname"))
                .or_else(|| text("email"))
                .unwrap_or_else(|| "You".into()),
            email: text("email"),
            picture: text("picture"),
            claims_json: serde_json::to_string_pretty(&claims).unwrap_or_default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthStatus {
    /// Server render, the moment before the browser has read its token store, and
    /// a silent session check at the IdP: the nav shows neither "Log in" nor a user.
    Loading,
    LoggedOut,
    /// Was logged in, but the session ended (tokens expired, nothing to refresh
    /// from): the page offers "Log in again", as Auth0's `login_required` asks.
    Expired,
    LoggedIn(User),
    /// Login could not start or finish (the IdP is unreachable, say): shown in the
    /// nav bar beside "Log in".
    Error(String),
}

#[derive(Clone, Copy)]
pub struct AuthContext {
    pub config: StoredValue<PublicAuthConfig>,
    pub status: RwSignal<AuthStatus>,
}

impl AuthContext {
    pub fn is_logged_in(&self) -> bool {
        matches!(self.status.get(), AuthStatus::LoggedIn(_))
    }

    /// `server` token storage: the server logs in and keeps the tokens.
    pub fn server_sessions(&self) -> bool {
        self.config
            .with_value(|config| config.storage == TokenStorage::Server)
    }

    /// Sends the browser to the IdP's login; afterwards the app returns to `return_to`.
    pub fn login(&self, return_to: String, prompt: Option<&'static str>) {
        #[cfg(feature = "hydrate")]
        if self.server_sessions() {
            // The server's login route does the rest.
            if let Some(window) = web_sys::window() {
                let href = super::server_session::login_href(&return_to, prompt);
                let _ = window.location().assign(&href);
            }
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let config = self.config.get_value();
            let status = self.status;
            leptos::task::spawn_local(async move {
                let started = super::browser::pkce::start_login(config, return_to, prompt)
                    .await
                    .unwrap_or_else(|error| Err(error.to_string()));
                if let Err(error) = started {
                    status.set(AuthStatus::Error(format!(
                        "Login could not start: {error}."
                    )));
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (return_to, prompt);
    }

    /// Logs out of this app only (the IdP session stays).
    pub fn logout_local(&self) {
        #[cfg(feature = "hydrate")]
        {
            let status = self.status;
            leptos::task::spawn_local(async move {
                if let Err(error) = super::browser::logout_local(status).await {
                    status.set(AuthStatus::Error(format!(
                        "Logout could not finish: {error}."
                    )));
                }
            });
        }
    }

    /// Forgets the tokens here, then logs out at the IdP.
    pub fn logout(&self) {
        #[cfg(feature = "hydrate")]
        {
            let config = self.config.get_value();
            let status = self.status;
            leptos::task::spawn_local(async move {
                if let Err(error) = super::browser::logout(config, status).await {
                    status.set(AuthStatus::Error(format!(
                        "Logout could not finish: {error}."
                    )));
                }
            });
        }
    }
}

/// Provides the context. On the server the config comes from the request's context;
/// in the browser from the `<script id="auth-config">` the server rendered, and the
/// status is then read from the token store once the page has hydrated. With
/// `server` token storage the status is known from the start: the server read the
/// session and rendered it ([`super::server_session::ServerAuthState`], also provided as
/// context, in an `Arc`).
pub fn provide_auth() -> AuthContext {
    #[cfg(feature = "hydrate")]
    let config = super::browser::read_page_config();
    #[cfg(not(feature = "hydrate"))]
    let config = use_context::<PublicAuthConfig>().unwrap_or_default();

    let status = if config.storage == TokenStorage::Server {
        #[cfg(feature = "hydrate")]
        let state = std::sync::Arc::new(super::browser::window::read_server_state());
        #[cfg(not(feature = "hydrate"))]
        let state = use_context::<std::sync::Arc<super::server_session::ServerAuthState>>()
            .unwrap_or_default();
        let status = state.status();
        provide_context(state);
        status
    } else {
        AuthStatus::Loading
    };
    let context = AuthContext {
        config: StoredValue::new(config),
        status: RwSignal::new(status),
    };
    provide_context(context);

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| super::browser::store::init(context.config.get_value(), context.status));

    context
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}
