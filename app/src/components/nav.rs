use leptos::prelude::*;
use leptos_router::components::A;

use crate::APP_NAME;

/// Top navigation: brand and one link per page. `A` marks the current page with
/// `aria-current="page"`, which the stylesheet highlights.
#[component]
pub fn NavBar() -> impl IntoView {
    view! {
        <header class="navbar">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">
                    {APP_NAME}
                </A>
                <ul>
                    <li>
                        <A href="/" exact=true>
                            "Home"
                        </A>
                    </li>
                    <li>
                        <A href="/external-api">"External API"</A>
                    </li>
                    <li>
                        <A href="/profile">"Profile"</A>
                    </li>
                </ul>
            </nav>
        </header>
    }
}
