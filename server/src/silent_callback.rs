//! `GET /silent-callback`: where the hidden iframe of a silent session check
//! (`prompt=none`) lands. It hands the answer's query (`code` and `state`, or
//! `error`) to the app's page that framed it, by `postMessage` to this origin only,
//! and does nothing else: no app, no wasm. The script runs under the response's
//! CSP nonce (see [`crate::headers`], which also lets only this origin frame it).

use app::login::SILENT_CALLBACK_MESSAGE;
use axum::response::Html;
use axum::Extension;
use leptos::nonce::Nonce;

pub async fn page(nonce: Option<Extension<Nonce>>) -> Html<String> {
    let nonce = nonce
        .map(|Extension(nonce)| nonce.to_string())
        .unwrap_or_default();
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Checking your session</title>\
         <script nonce=\"{nonce}\">window.parent.postMessage({{type: \"{SILENT_CALLBACK_MESSAGE}\", search: location.search}}, location.origin);</script>\
         </head><body></body></html>"
    ))
}
