//! The Leptos application: shell, router, pages, components and server functions.
//!
//! Layout:
//! - [`assets`]: the built files' (content-hashed) URLs and the hydration scripts
//!   that load them under the page's CSP nonce.
//! - [`api`]: server functions (`/api/ping_*`) and the messages they return; the
//!   server-only half lives in `api::ssr` so the wasm never sees it.
//! - `config` (feature `ssr`): [`config::AppConfig`], the verifier's settings
//!   (crate `access-token-verifier`, which checks the tokens) and the browser's.
//! - [`client`]: the browser's server-function client (adds the bearer token).
//! - [`login`]: browser login (PKCE), token store, the auth state context.
//! - [`pages`]: one module per route (Home, External API, Profile, 404).
//! - [`components`]: pieces shared by pages (nav bar, hydration state).
//! - [`lazy`]: code the browser downloads on first use (wasm chunks, `--split`).
//!
//! The same crate is compiled twice: with `ssr` into the Axum server (`server/`) and
//! with `hydrate` into the wasm (`frontend/`).

pub mod api;
pub mod assets;
pub mod client;
pub mod components;
#[cfg(feature = "ssr")]
pub mod config;
pub mod lazy;
pub mod login;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use components::nav::NavBar;
use login::{provide_auth, PublicAuthConfig, CONFIG_ELEMENT_ID};
use pages::{
    callback::CallbackPage, external_api::ExternalApiPage, home::HomePage, not_found::NotFound,
    profile::ProfilePage,
};

/// Product name, used in the nav bar and every page title.
pub const APP_NAME: &str = "Auth0 Leptos Sample";

/// The HTML document around [`App`]; the server renders it for every page, with
/// the public login settings (no secrets) for the browser to read.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let public = use_context::<PublicAuthConfig>().unwrap_or_default();
    let auth_config = public.to_script_json();
    // `server` token storage: who is signed in, as the server read the session.
    let server_state = (public.storage == login::TokenStorage::Server).then(|| {
        use_context::<std::sync::Arc<login::server_session::ServerAuthState>>()
            .unwrap_or_default()
            .to_script_json()
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options />
                <assets::HydrationScripts />
                <script id=CONFIG_ELEMENT_ID type="application/json" inner_html=auth_config></script>
                {server_state.map(|state| view! {
                    <script id=login::server_session::STATE_ELEMENT_ID type="application/json" inner_html=state></script>
                })}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: meta tags, nav bar and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_auth();

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Title formatter=|page: String| format!("{page} | {APP_NAME}") />
        <Router>
            <NavBar />
            <main class="container">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/external-api") view=ExternalApiPage />
                    <Route path=path!("/profile") view=ProfilePage />
                    <Route path=path!("/callback") view=CallbackPage />
                </Routes>
            </main>
        </Router>
    }
}
