use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/`: what the sample shows and where to go next.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home" />
        <section class="hero">
            <h1>"Log in with Auth0, call a protected API"</h1>
            <p class="lead">
                "A full-stack Rust sample: a Leptos app rendered on the server and hydrated in the browser, "
                "talking to an Axum API that verifies Auth0 access tokens."
            </p>
            <p>
                "Log in, then open " <A href="/external-api">"External API"</A>
                " to call the API's public, protected and scoped endpoints, or "
                <A href="/profile">"Profile"</A> " to see what the ID token says about you."
            </p>
        </section>
    }
}
