//! Browser-only half of the login (feature `hydrate`), layered one way (each
//! module uses only those listed before it):
//!
//! - [`window`]: the clock, random bytes, origin, storages, the page's config.
//!   [`idb`]: a key-value store in IndexedDB (what tabs must see at once; the
//!   DPoP key).
//! - [`dpop`]: the non-extractable DPoP key (WebCrypto) and proofs, with the
//!   servers' nonces.
//! - [`tabs`]: what tabs share: the renewal lock (Web Locks), login/logout news
//!   (`BroadcastChannel`).
//! - [`oidc`]: the token-endpoint client: discovery, code exchange, refresh,
//!   revocation, each answer checked ([`crate::login::checks`]) into a
//!   [`oidc::Session`].
//! - [`pkce`]: login transactions ([`pkce::PkceSession`]) and the authorize URL.
//! - [`silent`]: the silent session check (`prompt=none` in a hidden iframe).
//! - [`store`]: the token store (memory, sessionStorage or localStorage); owns the
//!   session's life: silent check on load, renewal under the lock, logout news.
//! - [`callback`]: the callback route's work (state, exchange, store, return).
//! - this file: logout (full, or of this app only).
//!
//! The work the page starts (a login, the callback, logout, restoring or renewing
//! a session, a DPoP proof) is in `lazy_fn!`s of the `login` chunk
//! ([`crate::lazy`]): a first visit downloads only what runs on every load
//! (reading the config, whether a session is stored, news from other tabs).

pub mod callback;
pub mod dpop;
pub mod idb;
pub mod oidc;
pub mod pkce;
pub mod silent;
pub mod store;
pub mod tabs;
pub mod window;

use leptos::prelude::*;

use super::urls::logout_url;
use super::{AuthStatus, PublicAuthConfig};
use crate::lazy::lazy_fn;
pub use window::read_page_config;

lazy_fn! {
    login,
    /// Forgets the session here and in every tab, revokes the refresh token and any
    /// pending login, then sends the browser to the IdP's logout: the OpenID
    /// `end_session_endpoint` when discovery has one, else Auth0's `/v2/logout`.
    pub async fn logout(config: PublicAuthConfig, status: RwSignal<AuthStatus>) -> () {
        let id_token = store::logged_out().await;
        pkce::PkceSession::purge(true);
        // The status stays as it is while the page leaves: "logged out" now would make a
        // guarded page (Profile) start a login at the same moment.
        let end_session = oidc::discover(&config.issuer)
            .await
            .ok()
            .and_then(|d| d.end_session_endpoint);
        let url = logout_url(
            &config,
            end_session.as_deref(),
            id_token.as_deref(),
            &window::origin(),
        );
        match web_sys::window().map(|window| window.location().assign(&url)) {
            Some(Ok(())) => {}
            _ => status.set(AuthStatus::LoggedOut),
        }
    }
}

lazy_fn! {
    login,
    /// Logs out of this app only: the same as [`logout`] here (tokens revoked, every
    /// tab told), but the IdP session stays, so "Log in" comes back without a password.
    pub async fn logout_local(status: RwSignal<AuthStatus>) -> () {
        store::logged_out().await;
        pkce::PkceSession::purge(true);
        status.set(AuthStatus::LoggedOut);
    }
}
