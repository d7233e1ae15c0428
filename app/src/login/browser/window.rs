//! What the browser window gives the login: the clock, random bytes, the page's
//! origin, the storages and the config the server rendered into the page. The bottom layer:
//! it imports nothing else of the login.

use crate::login::server_session::{
    allowed_prompt, LoginFailure, ServerAuthState, STATE_ELEMENT_ID,
};
use crate::login::{PublicAuthConfig, TokenStorage, User, CONFIG_ELEMENT_ID};

/// Seconds since the epoch, from the browser's clock.
pub fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// `N` random bytes from the browser's CSPRNG (`crypto.getRandomValues`), base64url.
pub fn random_b64<const N: usize>() -> Result<String, String> {
    use base64::Engine;
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no secure random numbers: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The browser storage behind `kind` (`None` for memory, or when unavailable).
pub fn web_storage(kind: TokenStorage) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match kind {
        TokenStorage::Memory => None,
        TokenStorage::Session => window.session_storage().ok()?,
        TokenStorage::Local => window.local_storage().ok()?,
        TokenStorage::Server => None,
    }
}

/// The config the server rendered into the page.
///
/// Read with the browser's `JSON.parse` rather than serde_json (the keys are pinned
/// by a test in `login/mod.rs`): this runs on every
/// first visit, and serde_json (with float parsing and printing) would be the
/// largest part of the wasm a first visit downloads (README "Benchmarks").
pub fn read_page_config() -> PublicAuthConfig {
    let json = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(CONFIG_ELEMENT_ID))
        .and_then(|element| element.text_content())
        .and_then(|text| js_sys::JSON::parse(&text).ok());
    let Some(json) = json else {
        return PublicAuthConfig::default();
    };
    let field = |name: &str| js_sys::Reflect::get(&json, &name.into()).ok();
    let text = |name: &str| field(name).and_then(|v| v.as_string()).unwrap_or_default();
    PublicAuthConfig {
        issuer: text("issuer"),
        client_id: text("client_id"),
        audience: text("audience"),
        scope: text("scope"),
        storage: text("storage").parse().unwrap_or_default(),
        use_dpop: field("use_dpop").and_then(|v| v.as_bool()).unwrap_or(false),
    }
}

/// What the server rendered about its session (`server` token storage), read
/// like [`read_page_config`] (the keys are those of
/// `ServerAuthState::to_script_json`, pinned by a test there).
pub fn read_server_state() -> ServerAuthState {
    let json = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(STATE_ELEMENT_ID))
        .and_then(|element| element.text_content())
        .and_then(|text| js_sys::JSON::parse(&text).ok());
    let Some(json) = json else {
        return ServerAuthState::default();
    };
    let field = |value: &wasm_bindgen::JsValue, name: &str| {
        js_sys::Reflect::get(value, &name.into())
            .ok()
            .filter(|v| !v.is_null() && !v.is_undefined())
    };
    let text =
        |value: &wasm_bindgen::JsValue, name: &str| field(value, name).and_then(|v| v.as_string());
    let user = field(&json, "user").map(|user| User {
        name: text(&user, "name").unwrap_or_default(),
        email: text(&user, "email"),
        picture: text(&user, "picture"),
        claims_json: text(&user, "claims_json").unwrap_or_default(),
    });
    let login_failure = field(&json, "login_failure").map(|failure| LoginFailure {
        message: text(&failure, "message").unwrap_or_default(),
        retry_prompt: text(&failure, "retry_prompt")
            .as_deref()
            .and_then(allowed_prompt),
    });
    ServerAuthState {
        user,
        problem: text(&json, "problem"),
        login_failure,
    }
}
