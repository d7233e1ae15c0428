use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::{html, web_sys};
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::components::hydration::use_hydrated;
use crate::login::server_session::{LOGIN_PATH, LOGOUT_PATH};
use crate::login::{use_auth, AuthStatus};
use crate::APP_NAME;

/// The `id` of the menu panel, for the menu button's `popovertarget` and `aria-controls`.
const MENU_ID: &str = "nav-menu";

/// Top navigation: brand, one link per page, and the login state: "Log in", or the
/// user's picture and name with "Log out". `A` marks the current page with
/// `aria-current="page"`, which the stylesheet highlights.
///
/// On wide screens everything sits in one row. On narrow ones (`style/main.css`
/// draws the line) the links and the login state collapse behind a "Menu" button.
/// The panel is an HTML popover (`popover="auto"`) that the button opens through
/// `popovertarget`, so the menu works in the server-rendered page before the wasm has
/// loaded (or if it never does), and the browser gives it Escape, light dismiss
/// (a tap outside closes it) and focus back on the button. The wasm adds what HTML
/// does not: `aria-expanded` kept in step with the panel, and closing the panel
/// after a choice (a link, "Log in", "Log out"), since a link here navigates
/// without a page load once the app has hydrated.
#[component]
pub fn NavBar() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let hydrated = use_hydrated();
    let menu = NodeRef::<html::Div>::new();
    let (open, set_open) = signal(false);
    let close_menu = move || {
        if let Some(menu) = menu.get_untracked() {
            hide_popover(&menu);
        }
    };
    let login = move |_| auth.login(location.pathname.get_untracked(), None);
    let server_sessions = auth.server_sessions();
    // The form posts and the page leaves; the other tabs hear of it first.
    let announce_logout = move |_: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        crate::login::browser::tabs::announce(crate::login::browser::tabs::TabEvent::LoggedOut);
    };
    // "Log in" and "Log out": buttons for the browser's login; with `server` token
    // storage plain forms to the server's routes, which work before (or without)
    // the wasm.
    let log_in = move || {
        if server_sessions {
            view! {
                <form method="get" action=LOGIN_PATH>
                    <input type="hidden" name="returnTo" value=move || location.pathname.get() />
                    <button type="submit">"Log in"</button>
                </form>
            }
            .into_any()
        } else {
            view! { <button type="button" on:click=login>"Log in"</button> }.into_any()
        }
    };
    let log_out = move || {
        if server_sessions {
            view! {
                <form method="post" action=LOGOUT_PATH on:submit=announce_logout>
                    <button type="submit" class="secondary">"Log out"</button>
                </form>
                <form method="post" action=LOGOUT_PATH on:submit=announce_logout>
                    <input type="hidden" name="scope" value="app" />
                    <button type="submit" class="link">"Log out of this app only"</button>
                </form>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="secondary" on:click=move |_| auth.logout()>"Log out"</button>
                <button type="button" class="link" on:click=move |_| auth.logout_local()>"Log out of this app only"</button>
            }
            .into_any()
        }
    };
    // A choice in the panel (any link or button in it) closes it; the click has
    // done its work by the time it bubbles up here.
    let close_after_choice = move |event: leptos::ev::MouseEvent| {
        let chose = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest("a, button").ok().flatten())
            .is_some();
        if chose {
            close_menu();
        }
    };
    // Before hydration the attribute is left out: the browser then derives the
    // state from the popover itself, which a fixed "false" would contradict.
    let expanded = move || {
        hydrated
            .get()
            .then(|| if open.get() { "true" } else { "false" })
    };

    view! {
        <header class="navbar">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">
                    {APP_NAME}
                </A>
                <button
                    type="button"
                    class="menu-button"
                    popovertarget=MENU_ID
                    aria-controls=MENU_ID
                    aria-expanded=expanded
                    data-testid="menu-button"
                >
                    <svg class="menu-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M3 6h18M3 12h18M3 18h18" />
                    </svg>
                    "Menu"
                </button>
                <div
                    id=MENU_ID
                    class="nav-menu"
                    popover="auto"
                    node_ref=menu
                    on:toggle=move |_| set_open.set(menu.get_untracked().is_some_and(|m| is_open(&m)))
                    on:click=close_after_choice
                >
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
                                <span class="user">
                                    {user.picture.map(|src| view! { <img class="avatar" src=src alt="" /> })}
                                    <span class="user-name" data-testid="user-name">{user.name}</span>
                                </span>
                                {log_out()}
                            }
                            .into_any(),
                            AuthStatus::Loading => view! {
                                <span class="session-pending" aria-busy="true" data-testid="session-pending">"…"</span>
                            }
                            .into_any(),
                            AuthStatus::LoggedOut | AuthStatus::Expired => log_in(),
                            AuthStatus::Error(message) => view! {
                                <span class="login-error" role="alert" data-testid="auth-error">{message}</span>
                                {log_in()}
                            }
                            .into_any(),
                        }}
                    </div>
                </div>
            </nav>
        </header>
    }
}

/// Whether the popover panel is showing (`:popover-open`).
fn is_open(menu: &web_sys::HtmlDivElement) -> bool {
    menu.matches(":popover-open").unwrap_or(false)
}

/// Closes the popover panel if it is showing; the browser moves focus back to the
/// button when it was inside the panel.
fn hide_popover(menu: &web_sys::HtmlDivElement) {
    if is_open(menu) {
        let _ = menu.hide_popover();
    }
}
