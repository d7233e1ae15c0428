//! The Axum server: serves the Leptos app (SSR + server functions), the static site
//! built by cargo-leptos, and the plain REST API.
//!
//! Layout:
//! - [`app`]: the whole [`Router`], built in one place so tests can drive it with
//!   `tower::ServiceExt::oneshot`.
//! - [`rest`]: JSON routes for non-browser clients (`/api/public`, `/api/private`,
//!   `/api/private-scoped`) and their CORS policy.
//! - [`health`]: `/healthz` (alive) and `/readyz` (issuer keys loaded).
//! - [`telemetry`]: `tracing` setup and the request-logging layer.
//! - [`shutdown`]: graceful shutdown on Ctrl-C and SIGTERM.
//!
//! Token verification itself lives in `app::auth`, shared with the server functions.
//! `main.rs` reads the configuration, starts the key refresh, binds and serves.

pub mod health;
pub mod rest;
pub mod shutdown;
pub mod telemetry;

use std::sync::Arc;

use app::auth::{AuthConfig, Verifier};
use axum::{Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// The complete application router. `verifier` checks bearer tokens for the REST
/// routes and the server functions alike (they find it as a request extension).
pub fn app(leptos_options: LeptosOptions, config: &AuthConfig, verifier: Arc<Verifier>) -> Router {
    let routes = generate_route_list(app::App);
    // The browser's login settings, rendered into every page (404s included).
    let public = config.public();
    let provide_public = move || provide_context(public.clone());

    Router::new()
        .merge(rest::routes(&config.cors_allowed_origins))
        .merge(health::routes(verifier.clone()))
        .leptos_routes_with_context(&leptos_options, routes, provide_public.clone(), {
            let leptos_options = leptos_options.clone();
            move || app::shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            provide_public,
            app::shell,
        ))
        .with_state(leptos_options)
        .layer(Extension(verifier))
        .layer(telemetry::http_trace_layer())
}
