//! Plain JSON routes for non-browser clients. The answers come from
//! `app::api::ssr`, the same functions the server functions use; authentication is
//! the [`Authenticated`] extractor, and its errors answer as RFC 6750 says.

use axum::http::{header, HeaderValue, Method};
use axum::{routing::get, Json, Router};
use leptos::config::LeptosOptions;
use tower_http::cors::{AllowOrigin, CorsLayer};

use access_token_verifier::{Authenticated, Refusal};
use app::api::READ_MESSAGES;
use app::api::{ssr, Message};

/// `GET /api/public`, `/api/private`, `/api/private-scoped`, with CORS for the
/// configured origins (none: browsers on other origins cannot read the answers).
pub fn routes(cors_allowed_origins: &[String]) -> Router<LeptosOptions> {
    let origins: Vec<HeaderValue> = cors_allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET])
        .allow_headers([header::AUTHORIZATION, access_token_verifier::dpop::DPOP])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            axum::http::HeaderName::from_static("dpop-nonce"),
        ]);

    Router::new()
        .route("/api/public", get(public))
        .route("/api/private", get(private))
        .route("/api/private-scoped", get(private_scoped))
        .layer(cors)
}

async fn public() -> Json<Message> {
    Json(ssr::public_message())
}

async fn private(_: Authenticated) -> Json<Message> {
    Json(ssr::private_message())
}

async fn private_scoped(auth: Authenticated) -> Result<Json<Message>, Refusal> {
    auth.require_scope(READ_MESSAGES)?;
    Ok(Json(ssr::scoped_message()))
}
