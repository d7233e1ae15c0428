//! `server`: binds `LEPTOS_SITE_ADDR` (default 127.0.0.1:3000) and serves [`server::app`].

use std::process::ExitCode;

use leptos::prelude::get_configuration;

#[tokio::main]
async fn main() -> ExitCode {
    server::telemetry::init();

    // `None`: settings come from the environment cargo-leptos sets (and compiles in),
    // so `target/release/server` runs from the repo root without cargo-leptos.
    let options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("error: invalid Leptos configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = options.site_addr;

    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "error: cannot listen on {addr}: {error} (set LEPTOS_SITE_ADDR to another address)"
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{addr}");

    let served = axum::serve(listener, server::app(options))
        .with_graceful_shutdown(server::shutdown::signal())
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server error");
            ExitCode::FAILURE
        }
    }
}
