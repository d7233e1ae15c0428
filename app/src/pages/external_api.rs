use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{ping_protected, ping_public, ping_scoped, ApiError, Message};
use crate::components::hydration::use_hydrated;
use crate::lazy::lazy_fn;
use crate::login::{use_auth, AuthStatus};

/// The three API calls the page offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Public,
    Protected,
    Scoped,
}

impl Endpoint {
    const ALL: [Endpoint; 3] = [Endpoint::Public, Endpoint::Protected, Endpoint::Scoped];

    fn label(self) -> &'static str {
        match self {
            Endpoint::Public => "Ping public",
            Endpoint::Protected => "Ping protected",
            Endpoint::Scoped => "Ping scoped",
        }
    }

    async fn call_once(self) -> Result<Message, ApiError> {
        match self {
            Endpoint::Public => ping_public().await,
            Endpoint::Protected => ping_protected().await,
            Endpoint::Scoped => ping_scoped().await,
        }
    }
}

lazy_fn! {
    api,
    /// Calls the endpoint, with the client's retry policy for the protected ones
    /// ([`crate::client::with_retries`]: a fresh DPoP nonce, one renewal on 401).
    ///
    /// `lazy_fn!` (chunk `api`): this and what only it uses (the server-function
    /// client: request encoding, JSON answers, the token and DPoP lookup) is a wasm
    /// chunk of its own, fetched on the first click rather than with the page
    /// (README "Benchmarks").
    async fn call_api(endpoint: Endpoint) -> Result<Message, ApiError> {
        crate::client::with_retries(endpoint != Endpoint::Public, || endpoint.call_once()).await
    }
}

/// `/external-api`: buttons that call the API through server functions and show
/// the answer, a loading state while waiting, and the error when a call fails.
#[component]
pub fn ExternalApiPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let auth = use_auth();
    let login = move |_| auth.login("/external-api".into(), None);
    // Local: the browser's token lookup is not `Send` (single-threaded wasm).
    let ping = Action::new_local(|endpoint: &Endpoint| {
        let endpoint = *endpoint;
        async move {
            let answer = call_api(endpoint)
                .await
                .unwrap_or_else(|error| Err(ApiError::Failed(error.to_string())));
            (endpoint, answer)
        }
    });
    let pending = ping.pending();

    let result = move || {
        ping.value().get().map(|(endpoint, answer)| match answer {
            Ok(message) => view! {
                <p class="result ok" role="status" data-testid="api-result" data-endpoint=endpoint.label()>
                    {message.message}
                </p>
            }
            .into_any(),
            Err(error) => {
                let needs_login = error.status() == Some(401) && !auth.is_logged_in();
                view! {
                    <p class="result error" role="alert" data-testid="api-error" data-endpoint=endpoint.label()>
                        {format!("{}: ", endpoint.label())}
                        {error.to_string()}
                    </p>
                    <Show when=move || needs_login>
                        <button type="button" data-testid="api-login" on:click=login>"Log in"</button>
                    </Show>
                }
                .into_any()
            }
        })
    };

    view! {
        <Title text="External API" />
        <h1>"External API"</h1>
        <Show when=move || auth.config.with_value(|c| c.audience.is_empty())>
            <p class="warning" role="alert">
                "No audience is configured (AUTH0_AUDIENCE): the access token will not be a JWT "
                "for the API, and the protected calls will fail."
            </p>
        </Show>
        <Show when=move || auth.status.get() == AuthStatus::Expired>
            <p class="warning" role="alert" data-testid="session-expired">
                "Your session has ended. "
                <button type="button" on:click=login>"Log in again"</button>
            </p>
        </Show>
        <p>
            "Ping the API. The public endpoint needs no login; the protected one needs an "
            "access token; the scoped one also needs the " <code>"read:messages"</code> " permission."
        </p>
        <div class="actions">
            {Endpoint::ALL
                .into_iter()
                .map(|endpoint| {
                    view! {
                        <button
                            type="button"
                            disabled=move || !hydrated.get() || pending.get()
                            on:click=move |_| {
                                ping.dispatch(endpoint);
                            }
                        >
                            {endpoint.label()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
        <Show when=move || pending.get()>
            <p class="loading" aria-busy="true" data-testid="api-loading">
                "Calling the API…"
            </p>
        </Show>
        {result}
    }
}
