//! Code the browser downloads on first use, not with the page.
//!
//! A first visit needs only what renders and hydrates the page. The login (PKCE,
//! the token endpoint, ID-token checks, DPoP proofs, JSON) and the server-function
//! client are fetched when first needed: a click on "Log in" or on a "Ping"
//! button, the callback, a stored session. [`lazy_fn!`] marks such a function;
//! `cargo leptos build --split` (cfg `wasm_split`, set by `build.rs`) then moves
//! it, and what only it uses, into a wasm chunk of the named group (`login`,
//! `api`), loaded on the first call. Other builds (the server, tests,
//! `cargo leptos watch` without `--split`) call it directly.
//!
//! Unlike Leptos's `#[lazy]`, whose failed download panics (and a panic kills the
//! wasm), every call answers `Err(NotLoaded)` when the chunk cannot be fetched
//! (offline, server down, or a deploy replaced the files this page knows); the
//! caller says so, and the next call tries the download again.

use std::fmt;

/// The lazily loaded code could not be downloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotLoaded;

impl fmt::Display for NotLoaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "part of this page could not be downloaded (offline, or the app was updated: \
             reload the page)",
        )
    }
}

impl std::error::Error for NotLoaded {}

#[cfg(wasm_split)]
impl From<wasm_split_helpers::SplitLoaderError> for NotLoaded {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Self {
        Self
    }
}

/// `lazy_fn! { group, /// docs  pub async fn name(arg: Type, ...) -> Output { body } }`
///
/// Defines `pub async fn name(arg: Type, ...) -> Result<Output, NotLoaded>`, in
/// the wasm chunk `group` when split. Arguments are owned (the call may wait
/// for a download).
macro_rules! lazy_fn {
    (
        $group:ident,
        $(#[$attr:meta])*
        $vis:vis async fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty $body:block
    ) => {
        $(#[$attr])*
        #[cfg(wasm_split)]
        #[wasm_split_helpers::wasm_split(
            $group,
            return_wrapper(let future = _; { future.await } -> Result<$out, $crate::lazy::NotLoaded>),
            fallible
        )]
        $vis fn $name($($arg: $ty),*) -> ::std::pin::Pin<::std::boxed::Box<
            dyn ::std::future::Future<Output = Result<$out, $crate::lazy::NotLoaded>>,
        >> {
            ::std::boxed::Box::pin(async move { Ok(async move $body.await) })
        }

        $(#[$attr])*
        #[cfg(not(wasm_split))]
        $vis async fn $name($($arg: $ty),*) -> Result<$out, $crate::lazy::NotLoaded> {
            Ok(async move $body.await)
        }
    };
}

pub(crate) use lazy_fn;

#[cfg(test)]
mod tests {
    lazy_fn! {
        login,
        /// Early `return` and `?` leave the body, not the caller.
        async fn first_even(numbers: Vec<u32>) -> Option<u32> {
            for n in numbers {
                if n % 2 == 0 {
                    return Some(n);
                }
            }
            let none: Option<u32> = None;
            none?;
            unreachable!()
        }
    }

    #[test]
    fn unsplit_a_lazy_fn_is_called_directly() {
        let run = |numbers| futures::executor::block_on(first_even(numbers));
        assert_eq!(run(vec![1, 3, 4, 6]), Ok(Some(4)));
        assert_eq!(run(vec![1, 3]), Ok(None));
    }
}
