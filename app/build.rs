//! Sets `cfg(wasm_split)` when cargo-leptos builds the wasm for splitting
//! (`--split`: it links with `--emit-relocs` for the splitter to read).
//!
//! Functions written with `lazy_fn!` (`src/lazy.rs`) then become wasm chunks the
//! browser fetches on their first call. In every other build (the server, tests,
//! `cargo leptos watch` without `--split`) they are plain async functions: a split
//! point in a wasm that is not split would import a JS module that does not exist,
//! and the page would not hydrate.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wasm_split)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let wasm = std::env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|family| family == "wasm");
    let relocs = std::env::var("CARGO_ENCODED_RUSTFLAGS")
        .unwrap_or_default()
        .split('\x1f')
        .any(|flag| flag.contains("--emit-relocs"));
    if wasm && relocs {
        println!("cargo::rustc-cfg=wasm_split");
    }
}
