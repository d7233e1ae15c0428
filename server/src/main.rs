//! `server`: reads the configuration, starts loading the issuer's keys, binds
//! `LEPTOS_SITE_ADDR` (default 127.0.0.1:3000) and serves [`server::app`].

use std::process::ExitCode;
use std::sync::Arc;

use access_token_verifier::dpop::DpopMode;
use access_token_verifier::Verifier;
use leptos::prelude::get_configuration;
use server::settings::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    server::telemetry::init(
        server::settings::log_format(|name| std::env::var(name).ok()).as_deref(),
    );

    // Without issuer and audience the protected routes cannot be protected: refuse to start.
    let Settings {
        app: config,
        server: settings,
        session: session_settings,
    } = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    // The verifier: the issuer's keys (not fetched yet), DPoP proofs' `htu`
    // checked against PUBLIC_URL when set, replays refused across replicas when
    // REDIS_URL is set.
    let verifier = match Verifier::from_config(&config.verifier) {
        Ok(verifier) => Arc::new(verifier),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    // `server` token storage: the session store (Redis when REDIS_URL is set, else
    // the embedded file), opened now so a problem stops the start, in one line.
    let sessions = match session_settings.map(|s| server::session::Sessions::open(&config, &s)) {
        None => None,
        Some(Ok(sessions)) => Some(sessions),
        Some(Err(error)) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    // `None`: settings come from the environment cargo-leptos sets (and compiles in),
    // so `target/release/server` runs from the repo root without cargo-leptos.
    let options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("error: invalid Leptos configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let addr = options.site_addr;

    // Metrics first, so the recorder sees everything from the start.
    let metrics = match settings.metrics_addr {
        None => None,
        Some(metrics_addr) => {
            let handle = match server::metrics::install() {
                Ok(handle) => handle,
                Err(error) => {
                    eprintln!("error: cannot set up metrics: {error}");
                    return ExitCode::FAILURE;
                }
            };
            match tokio::net::TcpListener::bind(metrics_addr).await {
                Ok(listener) => Some((listener, handle)),
                Err(error) => {
                    eprintln!("error: cannot listen on METRICS_ADDR {metrics_addr}: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };

    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "error: cannot listen on {addr}: {error} (set LEPTOS_SITE_ADDR to another address)"
            );
            return ExitCode::FAILURE;
        }
    };

    // The IdP being down is not fatal: public routes serve, protected ones answer 503
    // until the keys arrive.
    verifier.spawn_refresh();
    let dpop = &config.verifier.dpop;
    if dpop.mode != DpopMode::Off && settings.public_url.is_none() {
        tracing::warn!(
            "DPoP is on but PUBLIC_URL is not set: proofs are checked against http:// and \
             the Host header. Behind a proxy or with https, set PUBLIC_URL to the origin \
             clients use, or their proofs will not match"
        );
    }
    if let Some((metrics_listener, handle)) = metrics {
        if let Ok(local) = metrics_listener.local_addr() {
            tracing::info!(addr = %local, "metrics on /metrics");
        }
        let routes = server::metrics::routes(handle, verifier.jwks().clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(metrics_listener, routes).await {
                tracing::error!(%error, "metrics listener failed");
            }
        });
    }
    let local = listener.local_addr().map_or(addr, |local| local);
    tracing::info!(
        issuer = %config.verifier.issuer,
        audience = %config.verifier.audience,
        dpop = ?dpop.mode,
        dpop_nonce = dpop.nonce_period.is_some(),
        shared_replay_store = config.verifier.redis_url.is_some(),
        "listening on http://{local}"
    );

    if let Some(sessions) = &sessions {
        sessions.spawn_purge();
    }
    let app = server::app_with_sessions(options, &config, &settings, verifier, sessions);
    server::serve::serve(listener, app, &settings, server::shutdown::signal()).await;
    ExitCode::SUCCESS
}
