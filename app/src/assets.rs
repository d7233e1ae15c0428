//! [`SiteAssets`]: the URLs of the wasm, its JS glue and the stylesheet, with
//! cargo-leptos's content hashes in their names (`hash-files`), and
//! [`HydrationScripts`], which loads them under the page's CSP nonce.
//!
//! Leptos's own `HydrationScripts` reads the hash file on every request and leaves
//! the `modulepreload` link without the nonce (a CSP violation under a nonce-only
//! `script-src`); this one resolves the names once at start and puts the nonce on
//! every script and preload.

use leptos::prelude::*;

/// Where the browser finds the built files (paths under the site root).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteAssets {
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// The loader of the lazily loaded wasm chunks (`cargo leptos build --split`,
    /// see [`crate::lazy`]), when the build has one. The JS glue imports it, so it
    /// is preloaded beside the glue rather than discovered after it.
    pub split_loader: Option<String>,
    /// True when the names carry content hashes (then `/pkg` may be cached forever).
    pub hashed: bool,
}

#[cfg(feature = "ssr")]
impl SiteAssets {
    /// The names cargo-leptos gave the files: `hash.txt` beside the server binary
    /// lists the hashes (`js: ...`, `wasm: ...`, `css: ...`). Used only when the
    /// hashed files are really in the site directory; else the plain names.
    pub fn load(options: &LeptosOptions) -> Self {
        let pkg = format!("/{}", options.site_pkg_dir);
        let name = &options.output_name;
        // Without cargo-leptos's fixed output name, wasm-bindgen adds `_bg`.
        let bg = if std::option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            ""
        } else {
            "_bg"
        };
        let on_disk = |url: &str| {
            std::path::Path::new(options.site_root.as_ref())
                .join(url.trim_start_matches('/'))
                .is_file()
        };
        // cargo-leptos's name for the loader before hashing.
        let split_loader = format!("{pkg}/__wasm_split.______________________.js");
        let plain = Self {
            js: format!("{pkg}/{name}.js"),
            wasm: format!("{pkg}/{name}{bg}.wasm"),
            css: format!("{pkg}/{name}.css"),
            split_loader: on_disk(&split_loader).then_some(split_loader),
            hashed: false,
        };
        let hashes = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join(options.hash_file.as_ref())))
            .and_then(|path| std::fs::read_to_string(path).ok());
        let Some(hashes) = hashes else {
            return plain;
        };
        let hash_of = |kind: &str| {
            hashes.lines().find_map(|line| {
                let (file, hash) = line.split_once(':')?;
                (file.trim() == kind).then(|| hash.trim().to_owned())
            })
        };
        let (Some(js), Some(wasm), Some(css)) = (hash_of("js"), hash_of("wasm"), hash_of("css"))
        else {
            return plain;
        };
        let hashed = Self {
            js: format!("{pkg}/{name}.{js}.js"),
            wasm: format!("{pkg}/{name}.{wasm}.wasm"),
            css: format!("{pkg}/{name}.{css}.css"),
            split_loader: hash_of("split")
                .map(|split| format!("{pkg}/__wasm_split.{split}.js"))
                .filter(|url| on_disk(url)),
            hashed: true,
        };
        if [&hashed.js, &hashed.wasm, &hashed.css]
            .iter()
            .all(|url| on_disk(url))
        {
            hashed
        } else {
            plain
        }
    }
}

/// Preloads the JS and wasm, loads the stylesheet, and starts hydration from a
/// module script, every one of them under the response's CSP nonce.
#[component]
pub fn HydrationScripts() -> impl IntoView {
    let assets = use_context::<SiteAssets>().unwrap_or_default();
    let nonce = leptos::nonce::use_nonce();
    let loader = format!(
        "import({js:?}).then(async (m) => {{ await m.default({{ module_or_path: {wasm:?} }}); m.hydrate(); }});",
        js = assets.js,
        wasm = assets.wasm,
    );
    view! {
        <link rel="stylesheet" id="leptos" href=assets.css />
        <link rel="modulepreload" href=assets.js.clone() nonce=nonce.clone() />
        {assets.split_loader.map(|href| view! { <link rel="modulepreload" href=href nonce=nonce.clone() /> })}
        <link rel="preload" href=assets.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="" nonce=nonce.clone() />
        <script type="module" nonce=nonce>{loader}</script>
    }
}
