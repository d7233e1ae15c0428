use leptos::prelude::*;
use leptos_meta::Title;

use crate::login::checks::unknown_state_message;
use crate::login::server_session::{LoginFailure, ServerAuthState};
use crate::login::use_auth;

/// `/callback`: where the IdP sends the browser back after login. Exchanges the
/// code (see `login::browser::callback::handle_callback`), then goes back to the page
/// the user wanted; on failure says why and offers to log in again.
#[component]
pub fn CallbackPage() -> impl IntoView {
    let auth = use_auth();
    let error = RwSignal::new(None::<(String, Option<&'static str>)>);
    // `server` token storage: the server did the callback's work; it renders this
    // page only when the login failed, with why.
    let server_sessions = auth.server_sessions();
    if server_sessions {
        let failure = use_context::<std::sync::Arc<ServerAuthState>>()
            .and_then(|state| state.login_failure.clone())
            .unwrap_or_else(|| LoginFailure {
                message: unknown_state_message(),
                retry_prompt: None,
            });
        error.set(Some((failure.message, failure.retry_prompt)));
    }

    #[cfg(feature = "hydrate")]
    let navigate = leptos_router::hooks::use_navigate();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if server_sessions {
            // The code and state leave the address bar.
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some("/callback"),
                );
            }
            return;
        }
        let navigate = navigate.clone();
        let config = auth.config.get_value();
        leptos::task::spawn_local(async move {
            let outcome = crate::login::browser::callback::handle_callback(config)
                .await
                .unwrap_or_else(|error| Err(error.into()));
            match outcome {
                Ok((_, return_to)) => {
                    navigate(
                        &return_to,
                        leptos_router::NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                }
                Err(failure) => {
                    // Nothing was stored; whoever was logged in before stays so
                    // (with `memory` storage, through a silent check).
                    crate::login::browser::store::restore_status_soon();
                    error.set(Some((failure.message, failure.retry_prompt)));
                }
            }
        });
    });

    view! {
        <Title text="Logging in" />
        {move || match error.get() {
            None => view! { <p class="loading" aria-busy="true">"Logging you in…"</p> }.into_any(),
            Some((message, prompt)) => view! {
                <h1>"Login failed"</h1>
                <p class="result error" role="alert" data-testid="login-error">{message}</p>
                <button type="button" on:click=move |_| auth.login("/".into(), prompt)>
                    "Log in again"
                </button>
            }
            .into_any(),
        }}
    }
}
