//! Response headers, set in one place for every answer: security headers (a
//! Content-Security-Policy with a fresh nonce per page) and the caching policy.
//!
//! - Pages (HTML): `script-src 'nonce-…' 'wasm-unsafe-eval'` (the nonce is the one
//!   Leptos puts on its hydration scripts: this layer makes it and hands it to the
//!   renderer as a request extension), `connect-src 'self'` plus the issuer's origin,
//!   `img-src 'self' data: https:` plus the issuer (avatars), `frame-ancestors 'none'`, `base-uri 'none'`,
//!   `object-src 'none'`, `form-action 'self'` plus the issuer (the login and logout forms of
//!   `server` token storage are redirected there). Debug builds also allow the
//!   `cargo leptos watch` live-reload websocket.
//!   `frame-src 'self'` plus the issuer (the silent session check's iframe).
//! - `/silent-callback`: its own nonce for its one script, `frame-ancestors 'self'`.
//! - Everything else: `default-src 'none'; frame-ancestors 'none'` (nothing to run).
//! - Always: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (the
//!   callback URL carries a code), `Cross-Origin-Opener-Policy: same-origin`,
//!   `X-Frame-Options: DENY`, and HSTS when the public URL is https.
//! - Caching: `/api/*`, the probes and `/callback` `no-store`; other pages `no-cache` (each has its
//!   own nonce); `/pkg/*` `immutable` for a year when the names carry content hashes
//!   (else `no-cache`); other static files an hour. `/pkg/*` also `Vary:
//!   Accept-Encoding` (its precompressed variants).

use std::sync::Arc;

use app::login::SILENT_CALLBACK_PATH;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;

use crate::settings::ServerSettings;

/// What the headers depend on, worked out once at start.
pub struct HeaderPolicy {
    /// The page CSP up to the nonce, and after it.
    page_csp: (String, String),
    hsts: Option<HeaderValue>,
    pkg_cache: HeaderValue,
}

const CSP_NOT_A_PAGE: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const STATIC_FILE: HeaderValue = HeaderValue::from_static("public, max-age=3600");

/// `scheme://host[:port]` of a URL (what CSP sources and `Origin` compare).
fn origin(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

impl HeaderPolicy {
    /// `issuer`: the token issuer (the browser talks to its discovery and token
    /// endpoints). `reload_port`: the live-reload websocket, allowed in debug builds.
    pub fn new(
        issuer: &str,
        settings: &ServerSettings,
        hashed_assets: bool,
        reload_port: u32,
    ) -> Self {
        let issuer = origin(issuer).map(|o| format!(" {o}")).unwrap_or_default();
        // The browser talks to the issuer (discovery, token endpoint) and may show
        // avatars from it (the dev IdP serves them over loopback http).
        let mut connect = format!("'self'{issuer}");
        let img = format!("'self' data: https:{issuer}");
        // The silent session check frames the issuer's authorize endpoint, which
        // sends the frame back to /silent-callback here.
        let frame = format!("'self'{issuer}");
        // `server` token storage: the login and logout forms post here and are
        // redirected on to the issuer (authorize, end_session), which
        // `form-action` governs too (Chromium checks the redirect).
        let form = format!("'self'{issuer}");
        if cfg!(debug_assertions) {
            connect.push_str(&format!(
                " ws://127.0.0.1:{reload_port} ws://localhost:{reload_port}"
            ));
        }
        let page_csp = (
            "default-src 'self'; script-src 'nonce-".to_owned(),
            format!(
                "' 'wasm-unsafe-eval'; connect-src {connect}; img-src {img}; \
                 frame-src {frame}; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; \
                 form-action {form}"
            ),
        );
        Self {
            page_csp,
            hsts: settings
                .hsts()
                .then_some(HeaderValue::from_static("max-age=63072000")),
            pkg_cache: if hashed_assets { IMMUTABLE } else { NO_CACHE },
        }
    }

    /// The CSP of a page rendered with `nonce`.
    pub fn page_csp(&self, nonce: &str) -> String {
        format!("{}{nonce}{}", self.page_csp.0, self.page_csp.1)
    }

    /// The CSP of `/silent-callback`: its one script, framed by this origin only.
    pub fn silent_callback_csp(nonce: &str) -> String {
        format!("default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors 'self'; base-uri 'none'")
    }
}

/// Where a request goes, as far as headers care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Api,
    Package,
    Callback,
    /// `/silent-callback`: framed by the app itself (`frame-ancestors 'self'`).
    SilentCallback,
    Other,
}

fn kind(path: &str) -> Kind {
    if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        Kind::Api
    } else if path.starts_with("/pkg/") {
        Kind::Package
    } else if path == "/callback" {
        Kind::Callback
    } else if path == SILENT_CALLBACK_PATH {
        Kind::SilentCallback
    } else {
        Kind::Other
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn set_headers(
    State(policy): State<Arc<HeaderPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let kind = kind(request.uri().path());
    // Pages get a nonce; the Leptos renderer finds it in the request (see `crate::app`).
    let nonce =
        matches!(kind, Kind::Callback | Kind::SilentCallback | Kind::Other).then(Nonce::new);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(nonce.clone());
    }
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let ok = response.status().is_success() || response.status().as_u16() == 304;
    let headers = response.headers_mut();

    let csp = match (&nonce, is_html) {
        (Some(nonce), true) if kind == Kind::SilentCallback => {
            HeaderValue::from_str(&HeaderPolicy::silent_callback_csp(nonce)).ok()
        }
        (Some(nonce), true) => HeaderValue::from_str(&policy.page_csp(nonce)).ok(),
        _ => None,
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        csp.unwrap_or(CSP_NOT_A_PAGE),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(if kind == Kind::SilentCallback {
            "SAMEORIGIN"
        } else {
            "DENY"
        }),
    );
    if let Some(hsts) = &policy.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }

    let cache = match kind {
        Kind::Api | Kind::Callback | Kind::SilentCallback => Some(NO_STORE),
        // A page rendered for a session (server token storage) says so itself.
        _ if is_html && is_private(headers) => None,
        _ if is_html => Some(NO_CACHE),
        Kind::Package if ok => Some(policy.pkg_cache.clone()),
        Kind::Other if ok => Some(STATIC_FILE),
        _ => None,
    };
    if let Some(cache) = cache {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    // ServeDir picks the brotli, gzip or plain file by Accept-Encoding but does not
    // say so: without `Vary` a shared cache could hand brotli to a client that
    // cannot read it. (The compression layer says so for what it compresses.)
    if kind == Kind::Package && ok && !varies_by_encoding(headers) {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

fn varies_by_encoding(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding") || name.trim() == "*")
}

/// The response already says `Cache-Control: private, ...`.
fn is_private(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .is_some_and(|value| value.as_bytes().starts_with(b"private"))
}
