//! Plain JSON routes for non-browser clients. The answers come from
//! `app::api::ssr`, the same functions the server functions use.

use axum::{routing::get, Json, Router};
use leptos::config::LeptosOptions;

use app::api::{ssr, Message};

/// `GET /api/public`.
pub fn routes() -> Router<LeptosOptions> {
    Router::new().route("/api/public", get(public))
}

async fn public() -> Json<Message> {
    Json(ssr::public_message())
}
