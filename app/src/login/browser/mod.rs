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

use super::urls::logout_url;
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
    let end_session = oidc::discover(&config.issuer)
        .await
        .ok()
        .and_then(|d| d.end_session_endpoint);
    let url = logout_url(
        config,
        end_session.as_deref(),
        id_token.as_deref(),
        &origin(),
    );
    match web_sys::window().map(|window| window.location().assign(&url)) {
        Some(Ok(())) => {}
        _ => status.set(AuthStatus::LoggedOut),
    }
}
