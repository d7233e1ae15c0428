//! Probes: `/healthz` says the process serves; `/readyz` says it can also verify
//! tokens (the issuer's keys are loaded).

use std::sync::Arc;

use app::auth::Verifier;
use axum::http::StatusCode;
use axum::{extract::State, routing::get, Json, Router};
use serde_json::{json, Value};

pub fn routes<S>(verifier: Arc<Verifier>) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
        .with_state(verifier)
}

async fn ready(State(verifier): State<Arc<Verifier>>) -> (StatusCode, Json<Value>) {
    if verifier.jwks().is_ready() {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "waiting for the issuer's keys"})),
        )
    }
}
