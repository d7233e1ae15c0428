//! The silent session check, as Auth0's SPA SDK does it: an authorize request with
//! `prompt=none` in a hidden iframe, answered to `/silent-callback` (a page of the
//! server that only posts its query back to this window), then the same checks as
//! a full login: a transaction this tab started, the code exchange with PKCE, the
//! ID token's nonce. `login_required` and friends mean "not logged in at the IdP";
//! no answer within [`SILENT_TIMEOUT_MS`] (the IdP is down, or third-party cookies
//! are blocked and the IdP is on another site) means the same, quietly.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::oidc::{exchange_code, silent_redirect_uri, Session};
use super::pkce::{authorize_url, PkceSession};
use crate::login::{PublicAuthConfig, SILENT_CALLBACK_MESSAGE};

/// How long the IdP gets to answer a silent check.
pub const SILENT_TIMEOUT_MS: i32 = 6_000;

/// Why a silent check did not log anyone in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SilentError {
    /// The IdP answered: no session there (`login_required`, `consent_required`,
    /// `interaction_required`, ...), with its error code.
    NoSession(String),
    /// No answer in time, or the exchange could not reach the IdP: the session may
    /// still be there.
    Unavailable(String),
    /// The answer failed a check (state, nonce, ID token).
    Refused(String),
}

/// Runs the check; on success, the new session (not stored: the caller decides).
pub async fn silent_login(config: &PublicAuthConfig) -> Result<Session, SilentError> {
    let redirect = silent_redirect_uri();
    let (url, _) = authorize_url(config, "/", Some("none"), redirect.clone())
        .await
        .map_err(SilentError::Unavailable)?;
    let search = answer_in_frame(&url)
        .await
        .ok_or_else(|| SilentError::Unavailable("the login service did not answer".into()))?;
    let params = web_sys::UrlSearchParams::new_with_str(&search)
        .map_err(|_| SilentError::Refused("unreadable answer".into()))?;
    let pkce = params
        .get("state")
        .and_then(|state| PkceSession::take(&state))
        .ok_or_else(|| SilentError::Refused("the answer is not for a check of this tab".into()))?;
    if let Some(error) = params.get("error") {
        return Err(SilentError::NoSession(error));
    }
    let code = params
        .get("code")
        .ok_or_else(|| SilentError::Refused("no code in the answer".into()))?;
    exchange_code(config, &code, &pkce.verifier, &pkce.nonce, &redirect)
        .await
        .map_err(SilentError::Refused)
}

/// Loads `url` in a hidden iframe and waits for `/silent-callback`'s message from
/// that very frame and this origin; `None` on timeout. The frame is removed after.
async fn answer_in_frame(url: &str) -> Option<String> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let frame: web_sys::HtmlIFrameElement =
        document.create_element("iframe").ok()?.dyn_into().ok()?;
    frame.set_hidden(true);
    frame.set_title("Session check");
    let origin = window.location().origin().ok()?;

    let (send, receive) = oneshot::channel::<Option<String>>();
    let send = Rc::new(RefCell::new(Some(send)));
    let on_message =
        {
            let (send, frame) = (send.clone(), frame.clone());
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let from_frame = event.source().zip(frame.content_window()).is_some_and(
                    |(source, frame_window)| JsValue::from(source) == JsValue::from(frame_window),
                );
                if event.origin() != origin || !from_frame {
                    return;
                }
                let data = event.data();
                let field = |name: &str| {
                    js_sys::Reflect::get(&data, &JsValue::from_str(name))
                        .ok()
                        .and_then(|v| v.as_string())
                };
                if field("type").as_deref() == Some(SILENT_CALLBACK_MESSAGE) {
                    if let Some(send) = send.borrow_mut().take() {
                        let _ = send.send(field("search"));
                    }
                }
            })
        };
    let on_timeout = {
        let send = send.clone();
        Closure::once(move || {
            if let Some(send) = send.borrow_mut().take() {
                let _ = send.send(None);
            }
        })
    };
    window
        .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref())
        .ok()?;
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            on_timeout.as_ref().unchecked_ref(),
            SILENT_TIMEOUT_MS,
        )
        .ok();
    frame.set_src(url);
    let _ = document.body()?.append_child(&frame);

    let answer = receive.await.ok().flatten();

    let _ =
        window.remove_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    frame.remove();
    drop((on_message, on_timeout));
    answer
}
