//! The Axum server: serves the Leptos app (SSR + server functions), the static site
//! built by cargo-leptos, and the plain REST API.
//!
//! Layout:
//! - [`app`]: the whole [`Router`], built in one place so tests can drive it with
//!   `tower::ServiceExt::oneshot`.
//! - [`rest`]: JSON routes for non-browser clients (`/api/public`).
//! - [`telemetry`]: `tracing` setup and the request-logging layer.
//! - [`shutdown`]: graceful shutdown on Ctrl-C and SIGTERM.
//!
//! `main.rs` only reads the configuration, binds and serves.

pub mod rest;
pub mod shutdown;
pub mod telemetry;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// The complete application router, with its request-logging layer.
pub fn app(leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(app::App);

    Router::new()
        .merge(rest::routes())
        .leptos_routes(&leptos_options, routes, {
            let leptos_options = leptos_options.clone();
            move || app::shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(leptos_options)
        .layer(telemetry::http_trace_layer())
}
