//! The Axum server: serves the Leptos app (SSR + server functions), the static site
//! built by cargo-leptos, and the plain REST API.
//!
//! Layout:
//! - [`app`]: the whole [`Router`] and its layers, built in one place so tests can
//!   drive it with `tower::ServiceExt::oneshot`.
//! - [`rest`]: JSON routes for non-browser clients (`/api/public`, `/api/private`,
//!   `/api/private-scoped`) and their CORS policy.
//! - [`health`]: `/healthz` (alive) and `/readyz` (issuer keys loaded).
//! - [`headers`]: security headers (CSP with a per-page nonce) and caching policy.
//! - [`limits`]: the body read (size and deadline) and the slots requests wait for.
//! - [`metrics`]: Prometheus recorder, the HTTP metrics layer, `/metrics` (own address).
//! - [`serve`]: the accept loop: first-request and idle deadlines, connection and
//!   stream caps, bounded drain.
//! - [`silent_callback`]: `/silent-callback`, the landing page of silent session checks.
//! - [`session`]: `server` token storage (a backend for frontend): login, callback
//!   and logout routes, the session store, renewal, and the layer that gives
//!   pages their user and server functions their access token.
//! - [`settings`]: [`settings::ServerSettings`] (public URL, limits) from the environment.
//! - [`telemetry`]: `tracing` setup and the request-logging layer.
//! - [`shutdown`]: the Ctrl-C / SIGTERM signal.
//!
//! Token verification itself is the `access-token-verifier` crate (its extractor
//! serves the REST routes and, through `app`, the server functions).
//! `main.rs` reads the configuration, starts the key refresh, binds and serves.

pub mod headers;
pub mod health;
pub mod limits;
pub mod metrics;
pub mod rest;
pub mod serve;
pub mod session;
pub mod settings;
pub mod shutdown;
pub mod silent_callback;
pub mod telemetry;

use std::path::Path;
use std::sync::Arc;

use access_token_verifier::Verifier;
use app::assets::SiteAssets;
use app::config::AppConfig;
use app::login::server_session::ServerAuthState;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{middleware, Extension, Router};
use leptos::nonce::Nonce;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use headers::HeaderPolicy;
use session::Sessions;
use settings::ServerSettings;

/// The complete application router. `verifier` checks bearer tokens for the REST
/// routes and the server functions alike (they find it as a request extension).
pub fn app(
    leptos_options: LeptosOptions,
    config: &AppConfig,
    settings: &ServerSettings,
    verifier: Arc<Verifier>,
) -> Router {
    app_with_sessions(leptos_options, config, settings, verifier, None)
}

/// [`app`], with `server` token storage when `sessions` is given: the login and
/// logout routes, the server's `/callback`, and the session layer.
pub fn app_with_sessions(
    leptos_options: LeptosOptions,
    config: &AppConfig,
    settings: &ServerSettings,
    verifier: Arc<Verifier>,
    sessions: Option<Arc<Sessions>>,
) -> Router {
    let routes = generate_route_list(app::App);
    let assets = SiteAssets::load(&leptos_options);
    let policy = Arc::new(HeaderPolicy::new(
        &config.verifier.issuer,
        settings,
        assets.hashed,
        leptos_options.reload_port,
    ));
    // What every page (404s included) renders with: the browser's login settings,
    // the built files' names, and the CSP nonce the header layer made for it.
    let public = config.public();
    let page_context = move || {
        provide_context(public.clone());
        provide_context(assets.clone());
        if let Some(parts) = use_context::<axum::http::request::Parts>() {
            if let Some(nonce) = parts.extensions.get::<Nonce>() {
                provide_context(nonce.clone());
            }
            // `server` token storage: what the session layer read of the session.
            if let Some(session) = parts.extensions.get::<Arc<ServerAuthState>>() {
                provide_context(session.clone());
            }
        }
    };
    // Built files: precompressed variants (`cargo leptos build --precompress`) when
    // present, so the wasm goes out as brotli without compressing per request.
    let pkg_dir =
        Path::new(leptos_options.site_root.as_ref()).join(leptos_options.site_pkg_dir.as_ref());
    let pkg = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();

    let router = Router::new()
        .merge(rest::routes(&config.cors_allowed_origins))
        .merge(health::routes(verifier.clone()))
        .route(
            app::login::SILENT_CALLBACK_PATH,
            axum::routing::get(silent_callback::page),
        )
        .nest_service(&format!("/{}", leptos_options.site_pkg_dir), pkg)
        .leptos_routes_with_context(&leptos_options, routes, page_context.clone(), {
            let leptos_options = leptos_options.clone();
            move || app::shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            page_context,
            app::shell,
        ))
        .with_state(leptos_options);
    let router = match sessions {
        Some(sessions) => router
            .merge(session::routes::routes(sessions.clone()))
            .layer(middleware::from_fn_with_state(
                sessions,
                session::routes::layer,
            )),
        None => router,
    };
    let router = router.layer(Extension(verifier));
    // HTTP metrics only when they are served (`METRICS_ADDR`): no cost otherwise.
    // Inside the router's layers, so the matched route template is known.
    let router = if settings.metrics_addr.is_some() {
        router.layer(middleware::from_fn(metrics::track_http))
    } else {
        router
    };
    // Outermost first: logging, headers, compression; then the body, read whole
    // (bounded in size and time) before the request takes a slot (bounded wait;
    // the probes never wait); then the handler's own timeout.
    router.layer(
        ServiceBuilder::new()
            .layer(telemetry::http_trace_layer())
            .layer(middleware::from_fn_with_state(policy, headers::set_headers))
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn_with_state(
                limits::BodyLimits {
                    max_bytes: settings.body_limit_bytes,
                    deadline: settings.body_read_timeout,
                },
                limits::read_body,
            ))
            .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
            .layer(middleware::from_fn_with_state(
                limits::Slots::new(
                    settings.max_concurrent_requests,
                    settings.queue_timeout,
                    health::PATHS,
                ),
                limits::take_slot,
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                settings.request_timeout,
            )),
    )
}
