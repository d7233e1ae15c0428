use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::login::{use_auth, AuthStatus};

/// `/profile`: the logged-in user's picture, name, email and ID-token claims.
/// Guarded: a logged-out visit goes to login and comes back here.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    // `server` token storage: the server knows already; a signed-out visit is
    // redirected to the login route before any wasm runs.
    #[cfg(feature = "ssr")]
    if auth.server_sessions() && !auth.is_logged_in() {
        let href =
            crate::login::server_session::login_href(&location.pathname.get_untracked(), None);
        leptos_axum::redirect(&href);
    }
    Effect::new(move |_| {
        if matches!(
            auth.status.get(),
            AuthStatus::LoggedOut | AuthStatus::Expired
        ) {
            auth.login(location.pathname.get_untracked(), None);
        }
    });

    view! {
        <Title text="Profile" />
        <h1>"Profile"</h1>
        {move || match auth.status.get() {
            AuthStatus::LoggedIn(user) => {
                view! {
                    <div class="profile">
                        {user.picture.map(|src| view! { <img class="avatar-large" src=src alt="" /> })}
                        <div>
                            <h2 data-testid="profile-name">{user.name}</h2>
                            <p data-testid="profile-email">{user.email}</p>
                        </div>
                    </div>
                    <h3 id="claims-heading">"ID token claims"</h3>
                    // Scrolls sideways inside its box; focusable and named, so a
                    // keyboard user can reach and scroll it too.
                    <pre
                        class="claims"
                        tabindex="0"
                        role="region"
                        aria-labelledby="claims-heading"
                        data-testid="profile-claims"
                    >
                        {user.claims_json}
                    </pre>
                }
                .into_any()
            }
            AuthStatus::Error(_) => view! { <p>"Log in to see your profile."</p> }.into_any(),
            _ => view! { <p class="loading" aria-busy="true">"Loading your profile…"</p> }.into_any(),
        }}
    }
}
