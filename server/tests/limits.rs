//! The server under slow and hostile clients, over real TCP on 127.0.0.1:
//! slowloris connections, partial HTTP/2 prefaces, idle keep-alive connections,
//! stalled uploads, a full queue, HTTP/2's caps, and the bounded drain.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use server::settings::ServerSettings;
use test_issuer::{TestIssuer, TestKey};
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
    raw_request(addr, path)
        .await
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
        &app::config::AppConfig::new(issuer.config()),
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
    // The handler says when it runs: the request is then in flight for sure.
    let (started, in_handler) = tokio::sync::mpsc::unbounded_channel::<()>();
    let app = Router::new().route(
        "/slow",
        get(move || {
            let _ = started.send(());
            async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }
        }),
    );
    let mut in_handler = in_handler;
    let settings = ServerSettings {
        shutdown_grace: Duration::from_secs(1),
        ..ServerSettings::default()
    };
    let (addr, stop, handle) = start(app, settings).await;
    let in_flight = tokio::spawn(request(addr, "/slow"));
    tokio::time::timeout(Duration::from_secs(5), in_handler.recv())
        .await
        .expect("the request reaches its handler");
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

/// The whole app (pages, API, probes) against a test issuer, with `settings`.
async fn whole_app(settings: &ServerSettings) -> (Router, TestIssuer) {
    let issuer = TestIssuer::start(&[&TestKey::rsa_a()]).await;
    let app = server::app(
        LeptosOptions::builder().output_name("auth0-leptos").build(),
        &app::config::AppConfig::new(issuer.config()),
        settings,
        issuer.verifier().await,
    );
    (app, issuer)
}

/// The HTTP/2 connection preface (RFC 9113 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[tokio::test]
async fn partial_requests_of_any_kind_cannot_hold_every_connection_slot() {
    let settings = ServerSettings {
        max_connections: 4,
        header_read_timeout: Duration::from_secs(1),
        ..ServerSettings::default()
    };
    let (app, _issuer) = whole_app(&settings).await;
    let (addr, stop, handle) = start(app, settings).await;
    // An empty SETTINGS frame: a complete preface, then no request.
    let settings_frame: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];
    let with_settings = [PREFACE, settings_frame].concat();
    for prefix in [
        &b"P"[..],
        &PREFACE[..10],
        PREFACE,
        &with_settings,
        b"GET / HTTP/1.1\r\nHost: test\r\n",
    ] {
        // Every slot taken by a connection that sent `prefix` and then nothing.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(prefix).await.unwrap();
            held.push(stream);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let status = tokio::time::timeout(Duration::from_secs(2), request(addr, "/healthz"))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "not served within the header timeout + 1 s with every slot held by {:?}",
                    String::from_utf8_lossy(prefix)
                )
            });
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // The holders were closed by the server (end of file, or a reset).
        for mut stream in held {
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut rest))
                .await
                .expect("closed by the server")
                .ok();
        }
    }
    stop.send(()).unwrap();
    handle.await.unwrap();
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_http1_and_http2() {
    let settings = ServerSettings {
        idle_timeout: Duration::from_secs(1),
        header_read_timeout: Duration::from_secs(5),
        max_streams_per_connection: 7,
        max_header_bytes: 16 * 1024,
        ..ServerSettings::default()
    };
    let (app, _issuer) = whole_app(&settings).await;
    let (addr, stop, handle) = start(app, settings).await;

    // HTTP/1.1: one request kept alive, then nothing: closed after the idle timeout
    // (the header timeout, 5 s, is not what closes it).
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = vec![0u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle HTTP/1.1 connection stays open");
    assert!(idle_from.elapsed() >= Duration::from_millis(900));

    // HTTP/2: the same, with the server's caps visible in its SETTINGS.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let request = http::Request::get(format!("http://{addr}/healthz"))
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let response = response.await.expect("answered");
    assert_eq!(response.status(), 200);
    assert_eq!(client.current_max_send_streams(), 7);
    let idle_from = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), connection)
        .await
        .expect("an idle HTTP/2 connection is closed")
        .unwrap()
        .ok();
    assert!(idle_from.elapsed() >= Duration::from_millis(900));
    drop(client);

    // A header list over MAX_HEADER_BYTES is refused, not processed.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let big = http::Request::get(format!("http://{addr}/healthz"))
        .header("x-big", "b".repeat(20 * 1024))
        .body(())
        .unwrap();
    let status = match client.send_request(big, true) {
        Err(_) => None,
        Ok((response, _)) => response.await.ok().map(|response| response.status()),
    };
    assert!(
        status.is_none_or(|status| status == 431),
        "a 20 KB header list was answered {status:?}"
    );
    stop.send(()).unwrap();
    handle.await.unwrap();
}

#[tokio::test]
async fn stalled_uploads_hold_no_slot_and_time_out() {
    let settings = ServerSettings {
        max_concurrent_requests: 20,
        body_read_timeout: Duration::from_secs(2),
        ..ServerSettings::default()
    };
    let (app, _issuer) = whole_app(&settings).await;
    let (addr, stop, handle) = start(app, settings).await;
    // More stalled uploads than there are slots: 8 KB announced, 2 bytes sent.
    let mut uploads = Vec::new();
    for _ in 0..30 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /api/ping_public HTTP/1.1\r\nHost: test\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\n\
                  Content-Length: 8000\r\n\r\nab",
            )
            .await
            .unwrap();
        uploads.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for path in ["/healthz", "/", "/api/public"] {
        let status = tokio::time::timeout(Duration::from_secs(1), request(addr, path))
            .await
            .unwrap_or_else(|_| panic!("{path} waited behind stalled uploads"));
        assert!(status.starts_with("HTTP/1.1 200"), "{path}: {status}");
    }
    // Each stalled upload is answered 408 at the body deadline.
    for mut stream in uploads {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(4), stream.read_to_end(&mut answer))
            .await
            .expect("answered at the body deadline")
            .ok();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    stop.send(()).unwrap();
    handle.await.unwrap();
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after_and_probes_never_wait() {
    // One slot, held by a request whose token has a new `kid`: its handler waits
    // for the (slow) issuer's keys.
    let settings = ServerSettings {
        max_concurrent_requests: 1,
        queue_timeout: Duration::from_millis(300),
        ..ServerSettings::default()
    };
    let (app, issuer) = whole_app(&settings).await;
    let (addr, stop, handle) = start(app, settings).await;
    issuer.set_jwks_delay(Duration::from_secs(3));
    let rotated = TestKey::load("rsa-b.pem", "rotated-key", jsonwebtoken::Algorithm::RS256);
    let token = rotated.sign(&test_issuer::claims(&issuer.issuer));
    let holder = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                format!(
                    "GET /api/private HTTP/1.1\r\nHost: test\r\n\
                     Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
    });
    // Until the holder has its slot, /api/public gets through; then it cannot.
    let deadline = Instant::now() + Duration::from_secs(2);
    let busy = loop {
        let answer = raw_request(addr, "/api/public").await;
        if answer.starts_with("HTTP/1.1 503") {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the slot was never taken: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        busy.to_ascii_lowercase().contains("retry-after: 1"),
        "{busy}"
    );
    assert!(busy.contains("temporarily_unavailable"), "{busy}");
    // The probes are not behind that slot.
    for path in ["/healthz", "/readyz"] {
        let started = Instant::now();
        let status = tokio::time::timeout(Duration::from_secs(1), request(addr, path))
            .await
            .unwrap_or_else(|_| panic!("{path} waited for a slot"));
        assert!(status.starts_with("HTTP/1.1 200"), "{path}: {status}");
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "{path} queued"
        );
    }
    holder.abort();
    stop.send(()).unwrap();
    handle.await.unwrap();
}

/// A whole HTTP/1.1 exchange; returns the whole answer.
async fn raw_request(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
