use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Fallback for unknown paths. On the server it also sets the HTTP status to 404,
/// so crawlers and `curl` see the same thing as a person.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text="Page not found" />
        <h1>"Page not found"</h1>
        <p>"There is nothing at this address. " <A href="/">"Go to the home page"</A> "."</p>
    }
}
