//! Browser-only half of the login (feature `hydrate`), layered one way (each
//! module uses only those listed before it):
//!
//! - [`window`]: the clock, origin, storages, the page's config.
//! - [`oidc`]: the token-endpoint client: discovery, code exchange, refresh, each
//!   answer checked ([`crate::login::checks`]) into a [`oidc::Session`].
//! - [`pkce`]: login transactions ([`pkce::PkceSession`]) and the redirect to the
//!   authorize endpoint.
//! - [`store`]: the token store (memory, sessionStorage or localStorage); owns
//!   renewal, one refresh at a time.
//! - [`callback`]: the callback route's work (state, exchange, store, return).
//! - this file: logout.

pub mod callback;
pub mod oidc;
pub mod pkce;
pub mod store;
pub mod window;

use leptos::prelude::*;

use super::urls::logout_url;
use super::{AuthStatus, PublicAuthConfig};
pub use window::read_page_config;

/// Clears the store and any pending login, then sends the browser to the IdP's
/// logout: the OpenID `end_session_endpoint` when discovery has one, else Auth0's
/// `/v2/logout`.
pub async fn logout(config: &PublicAuthConfig, status: RwSignal<AuthStatus>) {
    let id_token = store::take_session().map(|session| session.id_token);
    pkce::PkceSession::purge(true);
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
        &window::origin(),
    );
    match web_sys::window().map(|window| window.location().assign(&url)) {
        Some(Ok(())) => {}
        _ => status.set(AuthStatus::LoggedOut),
    }
}
