//! Browser-only half of the login (feature `hydrate`).
//!
//! - [`pkce`]: [`pkce::PkceSession`], the redirect to the authorize endpoint.
//! - [`oidc`]: discovery, the code exchange and refresh at the token endpoint, the
//!   ID-token checks, and the callback route's work.
//! - [`store`]: the token store (memory, sessionStorage or localStorage), expiry with
//!   leeway, refresh one at a time.

pub mod oidc;
pub mod pkce;
pub mod store;

use leptos::prelude::*;

use super::{AuthStatus, PublicAuthConfig, CONFIG_ELEMENT_ID};

/// Seconds since the epoch, from the browser's clock.
pub fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The config the server rendered into the page.
pub fn read_page_config() -> PublicAuthConfig {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(CONFIG_ELEMENT_ID))
        .and_then(|element| element.text_content())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Clears the store, then sends the browser to the IdP's logout: the OpenID
/// `end_session_endpoint` when discovery has one, else Auth0's `/v2/logout`.
pub async fn logout(config: &PublicAuthConfig, status: RwSignal<AuthStatus>) {
    let id_token = store::take_session().map(|session| session.id_token);
    // The status stays as it is while the page leaves: "logged out" now would make a
    // guarded page (Profile) start a login at the same moment.
    let return_to = format!("{}/", origin());
    let url = match oidc::discover(&config.issuer)
        .await
        .ok()
        .and_then(|d| d.end_session_endpoint)
    {
        Some(endpoint) => {
            let mut params = vec![
                ("client_id", config.client_id.as_str()),
                ("post_logout_redirect_uri", return_to.as_str()),
            ];
            if let Some(hint) = id_token.as_deref() {
                params.push(("id_token_hint", hint));
            }
            format!("{endpoint}?{}", oidc::form(&params))
        }
        None => format!(
            "{}v2/logout?{}",
            oidc::with_slash(&config.issuer),
            oidc::form(&[
                ("client_id", config.client_id.as_str()),
                ("returnTo", return_to.as_str())
            ])
        ),
    };
    match web_sys::window().map(|window| window.location().assign(&url)) {
        Some(Ok(())) => {}
        _ => status.set(AuthStatus::LoggedOut),
    }
}
