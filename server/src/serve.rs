//! The accept loop: [`serve`] is `axum::serve` plus what it does not offer.
//!
//! - A first-request deadline: a connection that has not delivered one complete
//!   request (an HTTP/1 request head, or the HTTP/2 preface, settings and a first
//!   request's headers) within `HEADER_READ_TIMEOUT_SECS` is closed, whatever it
//!   sent: nothing, one byte, half a preface, a head without its end.
//! - Later HTTP/1 heads get the same timeout (hyper's `header_read_timeout`).
//! - An idle timeout (`IDLE_TIMEOUT_SECS`): a kept-alive connection, HTTP/1 or
//!   HTTP/2, with no request in flight for that long is closed (gracefully: an
//!   HTTP/2 client gets a GOAWAY), and dropped if it is still open a header timeout
//!   later.
//! - Per-connection caps: HTTP/2 streams (`MAX_STREAMS_PER_CONNECTION`) and the size
//!   of a request's headers (`MAX_HEADER_BYTES`, HTTP/1 and HTTP/2 alike).
//! - A cap on open connections (`MAX_CONNECTIONS`): past it, new connections wait
//!   in the kernel's accept queue instead of eating memory and file descriptors.
//! - Graceful shutdown that drains in-flight requests for at most
//!   `SHUTDOWN_GRACE_SECS`, then exits anyway.
//!
//! hyper-util's connection builder does the protocol work; this file owns the
//! deadlines around it. (hyper has a header timeout for HTTP/1 only, and its
//! HTTP/1-vs-2 detection waits for the first 24 bytes without one.)

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::{sleep_until, Instant};

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
        .header_read_timeout(settings.header_read_timeout)
        .max_buf_size(settings.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(settings.max_streams_per_connection)
        .max_header_list_size(settings.max_header_bytes as u32)
        .keep_alive_interval(Some(Duration::from_secs(20)));
    let builder = Arc::new(builder);
    let deadlines = Deadlines {
        first_request: settings.header_read_timeout,
        idle: settings.idle_timeout,
    };
    let max_connections = settings.max_connections;
    let connections = Arc::new(Semaphore::new(max_connections));
    let (stop, stopping) = watch::channel(false);
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
        let (builder, app, stopping) = (builder.clone(), app.clone(), stopping.clone());
        tokio::spawn(async move {
            serve_connection(stream, &builder, app, deadlines, stopping).await;
            drop(permit);
        });
    }

    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a permit until it is closed: all of them back means
    // every connection is done.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    tokio::select! {
        _ = connections.acquire_many(all) => tracing::info!("all connections closed"),
        () = tokio::time::sleep(settings.shutdown_grace) => {
            tracing::warn!(
                grace_secs = settings.shutdown_grace.as_secs(),
                "connections still open after the grace period; exiting anyway"
            );
        }
    }
}

#[derive(Clone, Copy)]
struct Deadlines {
    /// For the first complete request; also how long a closing connection gets.
    first_request: Duration,
    /// With no request in flight.
    idle: Duration,
}

/// What a connection's requests are doing, as the deadlines need it.
struct Activity {
    opened: Instant,
    /// Requests whose head arrived (the service was called).
    requests: AtomicU64,
    in_flight: AtomicUsize,
    /// When the last request finished, in milliseconds since `opened`.
    last_done_ms: AtomicU64,
    /// Told when the first request came (the deadline is no longer the
    /// first-request one). Later changes need no wake-up: the idle deadline is
    /// checked when it falls due, and pushed back if requests came meanwhile.
    first_request: Notify,
}

/// A request in flight; its drop marks the connection active until now.
struct InFlight(Arc<Activity>);

impl Activity {
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if self.requests.fetch_add(1, Ordering::AcqRel) == 0 {
            self.first_request.notify_one();
        }
        InFlight(self.clone())
    }

    /// When to look at the connection next: `Err(at)` before its first request
    /// (past `at`, it is closed without ceremony), `Ok(at)` after it (at `at`, it
    /// is closed if it has been idle that long).
    fn deadline(&self, deadlines: Deadlines) -> Result<Instant, Instant> {
        if self.requests.load(Ordering::Acquire) == 0 {
            return Err(self.opened + deadlines.first_request);
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // Busy: look again an idle period from now.
            return Ok(Instant::now() + deadlines.idle);
        }
        let last = Duration::from_millis(self.last_done_ms.load(Ordering::Acquire));
        Ok(self.opened + last + deadlines.idle)
    }

    fn is_idle_since(&self, deadlines: Deadlines, now: Instant) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
            && now
                >= self.opened
                    + Duration::from_millis(self.last_done_ms.load(Ordering::Acquire))
                    + deadlines.idle
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = self.0.opened.elapsed().as_millis();
        self.0
            .last_done_ms
            .fetch_max(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One connection, from its first byte to its close, under [`Deadlines`].
async fn serve_connection(
    stream: TcpStream,
    builder: &auto::Builder<TokioExecutor>,
    app: Router,
    deadlines: Deadlines,
    mut stopping: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity {
        opened: Instant::now(),
        requests: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        last_done_ms: AtomicU64::new(0),
        first_request: Notify::new(),
    });
    // The router, with each call counted in and out of `activity`.
    let service = {
        let activity = activity.clone();
        tower::util::MapFuture::new(app, move |response| {
            let in_flight = activity.begin();
            async move {
                let response = response.await;
                drop(in_flight);
                response
            }
        })
    };
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    let mut connection = std::pin::pin!(connection);
    // Set once the connection was asked to close: it has this long to do so.
    let mut closing_by: Option<Instant> = None;
    let mut awaiting_first = true;
    loop {
        let wake = match (closing_by, activity.deadline(deadlines)) {
            (Some(by), _) => by,
            (None, Ok(at) | Err(at)) => at,
        };
        tokio::select! {
            // Client resets and protocol errors end up here: nothing to report.
            _ = connection.as_mut() => return,
            // The first request: from now on, the idle deadline.
            () = activity.first_request.notified(), if awaiting_first => awaiting_first = false,
            () = sleep_until(wake) => {
                let now = Instant::now();
                if closing_by.is_some_and(|by| now >= by) {
                    return; // dropped: closed
                }
                match activity.deadline(deadlines) {
                    Err(first_request_by) if now >= first_request_by => return,
                    Ok(_) if closing_by.is_none() && activity.is_idle_since(deadlines, now) => {
                        connection.as_mut().graceful_shutdown();
                        closing_by = Some(now + deadlines.first_request);
                    }
                    _ => {}
                }
            }
            changed = stopping.changed(), if closing_by.is_none() => {
                if changed.is_err() || *stopping.borrow() {
                    // In-flight requests finish (bounded by the server's grace period).
                    connection.as_mut().graceful_shutdown();
                    closing_by = Some(Instant::now() + Duration::from_secs(3600));
                }
            }
        }
    }
}
