use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile`: the logged-in user's profile. Placeholder until browser login exists.
#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <Title text="Profile" />
        <h1>"Profile"</h1>
        <p>"Log in to see your profile. (Login is not available yet.)"</p>
    }
}
