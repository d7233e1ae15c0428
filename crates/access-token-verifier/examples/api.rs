//! A complete, minimal Axum API protected by this crate: the same routes, answers
//! and errors as the Auth0 sample's Express API (and this repository's server).
//!
//! ```sh
//! AUTH0_DOMAIN=your-tenant.us.auth0.com AUTH0_AUDIENCE=https://your-api \
//!   cargo run -p access-token-verifier --example api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3030/api/private
//! ```
//!
//! Settings: the crate's (`config` module: issuer, audience, DPoP, `PUBLIC_URL`,
//! `REDIS_URL`) and `LISTEN_ADDR` (default `127.0.0.1:3030`).

use std::sync::Arc;

use access_token_verifier::{Authenticated, Refusal, Verifier, VerifierConfig};
use axum::{routing::get, Extension, Json, Router};
use serde_json::{json, Value};

async fn public() -> Json<Value> {
    Json(
        json!({"message": "Hello from a public endpoint! You don't need to be authenticated to see this."}),
    )
}

async fn private(_: Authenticated) -> Json<Value> {
    Json(
        json!({"message": "Hello from a private endpoint! You need to be authenticated to see this."}),
    )
}

async fn private_scoped(auth: Authenticated) -> Result<Json<Value>, Refusal> {
    auth.require_scope("read:messages")?;
    Ok(Json(
        json!({"message": "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."}),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let config = VerifierConfig::from_env()?;
    let verifier = Arc::new(Verifier::from_config(&config)?);
    // The keys load in the background: until then protected routes answer 503.
    verifier.spawn_refresh();

    let app = Router::new()
        .route("/api/public", get(public))
        .route("/api/private", get(private))
        .route("/api/private-scoped", get(private_scoped))
        .layer(Extension(verifier));
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:3030".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
