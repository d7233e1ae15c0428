use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::PingPublic;
use crate::components::hydration::use_hydrated;

/// `/external-api`: buttons that call the API through server functions and show
/// the answer, a loading state while waiting, and the error when a call fails.
#[component]
pub fn ExternalApiPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let ping_public = ServerAction::<PingPublic>::new();
    let pending = ping_public.pending();

    let result = move || {
        ping_public.value().get().map(|answer| match answer {
            Ok(message) => view! {
                <p class="result ok" role="status" data-testid="api-result">
                    {message.message}
                </p>
            }
            .into_any(),
            Err(error) => view! {
                <p class="result error" role="alert" data-testid="api-error">
                    "The call failed: "
                    {error.to_string()}
                </p>
            }
            .into_any(),
        })
    };

    view! {
        <Title text="External API" />
        <h1>"External API"</h1>
        <p>"Ping the API. The public endpoint needs no login."</p>
        <div class="actions">
            <button
                type="button"
                disabled=move || !hydrated.get() || pending.get()
                on:click=move |_| {
                    ping_public.dispatch(PingPublic {});
                }
            >
                "Ping public"
            </button>
        </div>
        <Show when=move || pending.get()>
            <p class="loading" aria-busy="true" data-testid="api-loading">
                "Calling the API…"
            </p>
        </Show>
        {result}
    }
}
