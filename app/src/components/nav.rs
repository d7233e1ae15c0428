use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::login::{use_auth, AuthStatus};
use crate::APP_NAME;

/// Top navigation: brand, one link per page, and the login state: "Log in", or the
/// user's picture and name with Profile and "Log out". `A` marks the current page
/// with `aria-current="page"`, which the stylesheet highlights.
#[component]
pub fn NavBar() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let login = move |_| auth.login(location.pathname.get_untracked(), None);

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
                <div class="session" data-testid="session">
                    {move || match auth.status.get() {
                        AuthStatus::LoggedIn(user) => view! {
                            {user.picture.map(|src| view! { <img class="avatar" src=src alt="" /> })}
                            <span class="user-name" data-testid="user-name">{user.name}</span>
                            <button type="button" class="secondary" on:click=move |_| auth.logout()>"Log out"</button>
                            <button type="button" class="link" on:click=move |_| auth.logout_local()>"Log out of this app only"</button>
                        }
                        .into_any(),
                        AuthStatus::Loading => view! {
                            <span class="session-pending" aria-busy="true" data-testid="session-pending">"…"</span>
                        }
                        .into_any(),
                        AuthStatus::LoggedOut | AuthStatus::Expired => view! {
                            <button type="button" on:click=login>"Log in"</button>
                        }
                        .into_any(),
                        AuthStatus::Error(message) => view! {
                            <span class="login-error" role="alert" data-testid="auth-error">{message}</span>
                            <button type="button" on:click=login>"Log in"</button>
                        }
                        .into_any(),
                    }}
                </div>
            </nav>
        </header>
    }
}
