//! Browser side of the API calls: the server-function client that attaches the
//! access token, and where the token is kept.

use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

pub mod token_store {
    //! The access token, in memory only (gone on reload). Browser login (PKCE)
    //! fills it; until then it is empty and protected calls go out without a token.

    use std::sync::Mutex;

    static ACCESS_TOKEN: Mutex<Option<String>> = Mutex::new(None);

    pub fn access_token() -> Option<String> {
        ACCESS_TOKEN.lock().ok()?.clone()
    }

    pub fn set_access_token(token: Option<String>) {
        if let Ok(mut slot) = ACCESS_TOKEN.lock() {
            *slot = token;
        }
    }
}

/// Sends server-function calls like the default browser client, plus
/// `Authorization: Bearer <access token>` when the page has one.
pub struct BearerClient;

impl<E, IS, OS> Client<E, IS, OS> for BearerClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(
        req: Self::Request,
    ) -> impl std::future::Future<Output = Result<Self::Response, E>> + Send {
        if let Some(token) = token_store::access_token() {
            req.headers()
                .append("Authorization", &format!("Bearer {token}"));
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    fn open_websocket(
        path: &str,
    ) -> impl std::future::Future<
        Output = Result<
            (
                impl futures::Stream<
                        Item = Result<leptos::server_fn::Bytes, leptos::server_fn::Bytes>,
                    > + Send
                    + 'static,
                impl futures::Sink<leptos::server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
