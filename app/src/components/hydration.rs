use leptos::prelude::*;

/// `true` once the wasm has hydrated the page, `false` in the server-rendered HTML.
///
/// Effects run only in the browser, after hydration, so the signal flips exactly when
/// event handlers are attached. Buttons use it as `disabled=move || !hydrated.get()`:
/// a click before hydration would otherwise be lost, and tests can wait for the
/// button to become enabled instead of sleeping.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}
