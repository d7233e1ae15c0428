//! Probes: `/healthz` says the process serves; `/readyz` says it can also verify
//! tokens (the issuer's keys are loaded, and the shared DPoP replay store answers
//! when there is one).

use std::sync::Arc;

use access_token_verifier::Verifier;
use axum::http::StatusCode;
use axum::{extract::State, routing::get, Json, Router};
use serde_json::{json, Value};

pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
/// The probes' paths (exempt from the request slots, see `limits::take_slot`).
pub const PATHS: &[&str] = &[HEALTHZ, READYZ];

pub fn routes<S>(verifier: Arc<Verifier>) -> Router<S> {
    Router::new()
        .route(HEALTHZ, get(|| async { Json(json!({"status": "ok"})) }))
        .route(READYZ, get(ready))
        .with_state(verifier)
}

async fn ready(State(verifier): State<Arc<Verifier>>) -> (StatusCode, Json<Value>) {
    let not_ready = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": why})),
        )
    };
    if !verifier.jwks().is_ready() {
        not_ready("waiting for the issuer's keys")
    } else if !verifier.dpop().is_ready().await {
        not_ready("the DPoP replay store (Redis) does not answer")
    } else {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    }
}
