//! The server under slow and hostile clients, over real TCP on 127.0.0.1:
//! slowloris connections, the header read timeout, and the bounded drain.

#[path = "../../app/tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use server::settings::ServerSettings;
use support::{TestIssuer, TestKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Serves `app` with `settings` on a free port; the sender stops it, the handle
/// ends when the server has drained.
async fn start(
    app: Router,
    settings: ServerSettings,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        server::serve::serve(listener, app, &settings, async {
            let _ = stopped.await;
        })
        .await;
    });
    (addr, stop, handle)
}

/// A whole HTTP/1.1 exchange; returns the status line.
async fn request(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn slowloris_clients_are_cut_off_and_do_not_starve_others() {
    let issuer = TestIssuer::start(&[&TestKey::rsa_a()]).await;
    let settings = ServerSettings {
        header_read_timeout: Duration::from_secs(1),
        ..ServerSettings::default()
    };
    let app = server::app(
        LeptosOptions::builder().output_name("auth0-leptos").build(),
        &issuer.config(),
        &settings,
        issuer.verifier().await,
    );
    let (addr, stop, handle) = start(app, settings).await;

    // 200 connections that send a request line and then one header byte at a time.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let dribble = tokio::spawn(async move {
        let started = Instant::now();
        let mut closed = vec![false; slow.len()];
        while started.elapsed() < Duration::from_secs(4) && closed.iter().any(|c| !c) {
            for (stream, closed) in slow.iter_mut().zip(closed.iter_mut()) {
                if !*closed && stream.write_all(b"a").await.is_err() {
                    *closed = true;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            // A connection the server closed reads as end of file (or a reset).
            for (stream, closed) in slow.iter_mut().zip(closed.iter_mut()) {
                let mut byte = [0u8; 1];
                if !*closed {
                    if let Ok(Ok(read)) =
                        tokio::time::timeout(Duration::from_millis(1), stream.read(&mut byte)).await
                    {
                        *closed = *closed || read == 0;
                    } else if let Ok(Err(_)) =
                        tokio::time::timeout(Duration::from_millis(1), stream.read(&mut byte)).await
                    {
                        *closed = true;
                    }
                }
            }
        }
        (started.elapsed(), closed.iter().filter(|c| **c).count())
    });

    // Meanwhile an ordinary client is served, page and API alike.
    for path in ["/healthz", "/", "/api/public"] {
        let status = tokio::time::timeout(Duration::from_secs(5), request(addr, path))
            .await
            .expect("a normal client is served while slowloris connections are open");
        assert!(status.starts_with("HTTP/1.1 200"), "{path}: {status}");
    }

    let (elapsed, closed) = dribble.await.unwrap();
    assert_eq!(closed, 200, "every slow connection was cut off");
    assert!(
        elapsed < Duration::from_secs(4),
        "cut off after the header timeout: {elapsed:?}"
    );
    stop.send(()).unwrap();
    handle.await.unwrap();
}

#[tokio::test]
async fn shutdown_drains_for_at_most_the_grace_period() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late"
        }),
    );
    let settings = ServerSettings {
        shutdown_grace: Duration::from_secs(1),
        ..ServerSettings::default()
    };
    let (addr, stop, handle) = start(app, settings).await;
    let in_flight = tokio::spawn(request(addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("the server stops after the grace period, not after the slow request")
        .unwrap();
    assert!(
        asked.elapsed() >= Duration::from_millis(900),
        "it did wait for the request"
    );
    in_flight.abort();
    // New connections are refused once it has stopped.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let app = Router::new().route("/", get(|| async { "ok" }));
    let settings = ServerSettings {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(1),
        ..ServerSettings::default()
    };
    let (addr, stop, handle) = start(app, settings).await;
    // Two connections that send nothing hold both slots until the header timeout.
    let idle = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), request(addr, "/"))
        .await
        .expect("served once a slot frees");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "a third connection waited for a slot: {:?}",
        started.elapsed()
    );
    drop(idle);
    stop.send(()).unwrap();
    handle.await.unwrap();
}
