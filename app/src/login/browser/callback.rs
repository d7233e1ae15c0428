//! The callback route's work, on top of the other layers: check `state` against a
//! transaction this browser started ([`super::pkce`]), exchange the code
//! ([`super::oidc`]), keep the tokens ([`super::store`]), clean the address bar, and
//! say where to go (re-checked to stay on this origin).

use super::oidc::{exchange_code, redirect_uri, Session};
use super::pkce::PkceSession;
use super::store;
use super::window::origin;
use crate::lazy::{lazy_fn, NotLoaded};
use crate::login::checks::{idp_error_message, unknown_state_message};
use crate::login::urls::safe_return_to;

/// What went wrong on the callback, with the action the page offers.
#[derive(Clone, Debug, PartialEq)]
pub struct CallbackError {
    pub message: String,
    /// `Some("consent")` when logging in again should ask for consent.
    pub retry_prompt: Option<&'static str>,
}

impl From<NotLoaded> for CallbackError {
    fn from(error: NotLoaded) -> Self {
        callback_error(format!("The login could not finish: {error}."))
    }
}

fn callback_error(message: impl Into<String>) -> CallbackError {
    CallbackError {
        message: message.into(),
        retry_prompt: None,
    }
}

lazy_fn! {
    login,
    /// Check, exchange, store; returns the session and the path to go back to.
    pub async fn handle_callback(
        config: crate::login::PublicAuthConfig,
    ) -> Result<(Session, String), CallbackError> {
        let window = web_sys::window().ok_or_else(|| callback_error("no window"))?;
        let search = window.location().search().unwrap_or_default();
        let params = web_sys::UrlSearchParams::new_with_str(&search)
            .map_err(|_| callback_error("unreadable callback address"))?;
        // Whatever happens next, the code and state leave the address bar now.
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/callback"));
        }
        PkceSession::purge(false);
        // The IdP's error texts are shown only for a login this browser started.
        let pkce = params
            .get("state")
            .and_then(|state| PkceSession::take(&state));
        let Some(pkce) = pkce else {
            return Err(callback_error(unknown_state_message()));
        };
        if let Some(error) = params.get("error") {
            let description = params.get("error_description").unwrap_or_default();
            let (message, retry_prompt) = idp_error_message(&error, &description);
            return Err(CallbackError {
                message,
                retry_prompt,
            });
        }
        let Some(code) = params.get("code") else {
            return Err(callback_error(
                "This address is not a login callback (no code).",
            ));
        };
        let session = exchange_code(&config, &code, &pkce.verifier, &pkce.nonce, &redirect_uri())
            .await
            .map_err(callback_error)?;
        store::logged_in(&session).await;
        Ok((session, safe_return_to(&origin(), &pkce.return_to)))
    }
}
