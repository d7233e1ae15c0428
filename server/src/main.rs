//! `server`: reads the configuration, starts loading the issuer's keys, binds
//! `LEPTOS_SITE_ADDR` (default 127.0.0.1:3000) and serves [`server::app`].

use std::process::ExitCode;
use std::sync::Arc;

use app::auth::dpop::{Dpop, DpopMode, ReplayStore, MEMORY_REPLAY_CAPACITY};
use app::auth::{AuthConfig, JwksCache, Verifier};
use leptos::prelude::get_configuration;
use server::settings::ServerSettings;

#[tokio::main]
async fn main() -> ExitCode {
    server::telemetry::init(std::env::var("LOG_FORMAT").ok().as_deref());

    // Without issuer and audience the protected routes cannot be protected: refuse to start.
    let (config, settings) =
        match AuthConfig::from_env().and_then(|config| Ok((config, ServerSettings::from_env()?))) {
            Ok(both) => both,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
    // DPoP: proofs' `htu` checked against PUBLIC_URL when set; replays refused
    // across replicas when REDIS_URL is set.
    let per_key = config.dpop.proofs_per_key_per_minute;
    let replay = match &settings.redis_url {
        None => ReplayStore::memory(MEMORY_REPLAY_CAPACITY, config.dpop.iat_window, per_key),
        Some(url) => match ReplayStore::redis(url, config.dpop.iat_window, per_key) {
            Ok(store) => store,
            Err(_) => {
                // Not the parser's text: it may echo the URL, password included.
                eprintln!("error: REDIS_URL is not a valid redis:// URL");
                return ExitCode::from(2);
            }
        },
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
    let jwks = match JwksCache::new(config.issuer.clone(), config.jwks.clone()) {
        Ok(jwks) => Arc::new(jwks),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    tokio::spawn(jwks.clone().run_refresh());
    if config.dpop.mode != DpopMode::Off && settings.public_url.is_none() {
        tracing::warn!(
            "DPoP is on but PUBLIC_URL is not set: proofs are checked against http:// and \
             the Host header. Behind a proxy or with https, set PUBLIC_URL to the origin \
             clients use, or their proofs will not match"
        );
    }
    let dpop = Dpop::new(config.dpop.clone(), settings.public_url.clone(), replay);
    let verifier = Arc::new(Verifier::new(&config, jwks).with_dpop(dpop));
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
        issuer = %config.issuer,
        audience = %config.audience,
        dpop = ?config.dpop.mode,
        dpop_nonce = config.dpop.nonce_period.is_some(),
        shared_replay_store = settings.redis_url.is_some(),
        "listening on http://{local}"
    );

    let app = server::app(options, &config, &settings, verifier);
    server::serve::serve(listener, app, &settings, server::shutdown::signal()).await;
    ExitCode::SUCCESS
}
