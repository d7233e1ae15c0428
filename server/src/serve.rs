//! The accept loop: [`serve`] is `axum::serve` plus what it does not offer.
//!
//! - A header read timeout: a client that sends its request headers slowly
//!   (slowloris), or connects and sends nothing, is cut off after
//!   `HEADER_READ_TIMEOUT_SECS`.
//! - A cap on open connections (`MAX_CONNECTIONS`): past it, new connections wait
//!   in the kernel's accept queue instead of eating memory and file descriptors.
//! - Graceful shutdown that drains in-flight requests for at most
//!   `SHUTDOWN_GRACE_SECS`, then exits anyway.
//!
//! hyper-util's connection builder and graceful-shutdown watcher do the work;
//! this file only wires them to the listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::settings::ServerSettings;

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &ServerSettings,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)));
    let builder = Arc::new(builder);
    let connections = Arc::new(Semaphore::new(settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (builder, app, watcher) = (builder.clone(), app.clone(), graceful.watcher());
        let first_bytes_within = settings.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header timeout starts once it parses HTTP/1, but telling HTTP/1
            // from HTTP/2 waits for the first bytes with no deadline: a client that
            // connects and sends nothing would hold its slot for ever.
            // (A peek, not `readable()`: a new socket counts as readable at first.)
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(first_bytes_within, stream.peek(&mut first)).await,
                Ok(Ok(1))
            ) {
                drop(permit);
                return;
            }
            let service = TowerToHyperService::new(app);
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            // Client resets and timeouts end up here: nothing to report.
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(settings.shutdown_grace) => {
            tracing::warn!(
                grace_secs = settings.shutdown_grace.as_secs(),
                "connections still open after the grace period; exiting anyway"
            );
        }
    }
}
