//! The real binary refuses to start without issuer and audience.

use std::process::Command;

fn run(env: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env_remove("AUTH0_DOMAIN")
        .env_remove("AUTH0_ISSUER")
        .env_remove("AUTH0_AUDIENCE")
        .env("AUTH0_CONFIG", "/nonexistent/auth_config.json")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "auth0-leptos");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("server runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn exits_with_one_clear_line_when_issuer_or_audience_is_missing() {
    for (env, names) in [
        (&[("AUTH0_AUDIENCE", "https://api")][..], "AUTH0_DOMAIN"),
        (
            &[("AUTH0_DOMAIN", "tenant.auth0.com")][..],
            "AUTH0_AUDIENCE",
        ),
        (
            &[
                ("AUTH0_ISSUER", "http://example.com/"),
                ("AUTH0_AUDIENCE", "a"),
            ][..],
            "AUTH0_ISSUER",
        ),
    ] {
        let (code, stderr) = run(env);
        assert_eq!(code, 2, "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(names),
            "{stderr}"
        );
    }
}

/// DPoP settings the server cannot honour stop the start with one line naming
/// the setting, and never echo a password from `REDIS_URL`.
#[test]
fn exits_with_one_clear_line_on_bad_dpop_settings() {
    let base = [
        ("AUTH0_ISSUER", "http://127.0.0.1:9/"),
        ("AUTH0_AUDIENCE", "https://api.test"),
    ];
    for (extra, names) in [
        (
            &[("AUTH0_USE_DPOP", "true"), ("DPOP_MODE", "off")][..],
            "DPOP_MODE",
        ),
        (&[("DPOP_MODE", "sometimes")][..], "DPOP_MODE"),
        (
            &[("REDIS_URL", "rediss://:hunter2@cache.example.com:6380/")][..],
            "REDIS_URL",
        ),
        (&[("REDIS_URL", "redis://:hunter2@[::1/")][..], "REDIS_URL"),
    ] {
        let env: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
        let (code, stderr) = run(&env);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(names), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

/// `LOG_FORMAT=json`: every line is one JSON object with the usual fields, and
/// neither the query string nor the Authorization header reaches the log;
/// `METRICS_ADDR`: `/metrics` is served there, not on the app's address.
#[test]
fn json_logs_are_one_object_per_line_without_secrets() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let mut server = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("AUTH0_CONFIG", "/nonexistent/auth_config.json")
        .env("AUTH0_ISSUER", "http://127.0.0.1:9/")
        .env("AUTH0_AUDIENCE", "https://api.test")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "auth0-leptos")
        .env("LOG_FORMAT", "json")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts");
    // Lines arrive through a channel read with a deadline: a server that stops
    // logging fails the test instead of hanging it.
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    let stderr = server.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |what: &str| {
        receiver
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no log line within 20 s: waiting for {what}"))
    };
    let mut seen = Vec::new();
    let mut metrics_addr = None;
    let addr = loop {
        let line = next_line("the listening line");
        let value: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        seen.push(value.clone());
        let message = value["fields"]["message"].as_str().unwrap_or_default();
        if message == "metrics on /metrics" {
            metrics_addr = value["fields"]["addr"].as_str().map(str::to_owned);
        }
        if let Some(addr) = message.strip_prefix("listening on http://") {
            break addr.to_owned();
        }
    };
    // DPoP is on (allowed, the default) and PUBLIC_URL is not set: one warning says why
    // it should be.
    let warnings: Vec<_> = seen
        .iter()
        .filter(|v| {
            v["level"] == "WARN"
                && v["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("PUBLIC_URL"))
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{seen:?}");
    let get = |addr: &str, path: &str| {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            b"GET /callback?code=SECRET-CODE&state=s HTTP/1.1\r\nHost: t\r\n\
              Authorization: Bearer SECRET.TOKEN.VALUE\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The request's own line (its span carries method and path).
    let request_line = loop {
        let line = next_line("the request's log line");
        let value: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        seen.push(value.clone());
        if value["span"]["path"] == "/callback" {
            break value;
        }
    };
    // METRICS_ADDR: /metrics on its own address, and only there.
    let metrics_addr = metrics_addr.expect("the metrics address is logged");
    let metrics = get(&metrics_addr, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains("http_requests_total{") && metrics.contains("route=\"/callback\""),
        "{metrics}"
    );
    assert!(!metrics.contains("SECRET"));
    assert!(get(&addr, "/metrics").starts_with("HTTP/1.1 404"));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(request_line["span"]["method"], "GET");
    assert!(request_line["level"].is_string() && request_line["timestamp"].is_string());
    let all = serde_json::to_string(&seen).unwrap();
    assert!(!all.contains("SECRET"), "a secret reached the log: {all}");
}

/// `server` token storage it cannot run safely stops the start with one line
/// naming the setting (and never echoes a key).
#[test]
fn exits_with_one_clear_line_on_bad_server_session_settings() {
    let dir = std::env::temp_dir().join(format!("startup-sessions-{}", std::process::id()));
    let file = dir.join("sessions.redb");
    let file = file.to_str().unwrap();
    let base = [
        ("AUTH0_ISSUER", "http://127.0.0.1:9/"),
        ("AUTH0_AUDIENCE", "https://api.test"),
        ("AUTH0_TOKEN_STORAGE", "server"),
        ("AUTH0_CLIENT_ID", "web-client"),
        ("SESSION_FILE", file),
    ];
    let good_key = "a-session-key-that-is-long-enough-0123456789";
    for (extra, names) in [
        (&[][..], "SESSION_SECRET is not set"),
        (
            &[("SESSION_SECRET", "too-short-a-secret")][..],
            "SESSION_SECRET",
        ),
        (
            &[("SESSION_SECRET", good_key), ("AUTH0_USE_DPOP", "true")][..],
            "AUTH0_USE_DPOP",
        ),
        (
            &[
                ("SESSION_SECRET", good_key),
                ("AUTH0_CLIENT_AUTH_METHOD", "private_key_jwt"),
            ][..],
            "AUTH0_CLIENT_AUTH_METHOD",
        ),
        (
            &[
                ("SESSION_SECRET", good_key),
                ("SESSION_IDLE_TIMEOUT_SECS", "999999"),
                ("SESSION_MAX_AGE_SECS", "3600"),
            ][..],
            "SESSION_IDLE_TIMEOUT_SECS",
        ),
        (
            &[
                ("SESSION_SECRET", good_key),
                ("SESSION_FILE", "/proc/no-such-dir/sessions.redb"),
            ][..],
            "SESSION_FILE",
        ),
    ] {
        let env: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
        let (code, stderr) = run(&env);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(names),
            "{extra:?}: {stderr}"
        );
        assert!(
            !stderr.contains("too-short-a-secret") && !stderr.contains(good_key),
            "{stderr}"
        );
    }
    let without_client = [
        ("AUTH0_ISSUER", "http://127.0.0.1:9/"),
        ("AUTH0_AUDIENCE", "https://api.test"),
        ("AUTH0_TOKEN_STORAGE", "server"),
        ("SESSION_SECRET", good_key),
    ];
    let (code, stderr) = run(&without_client);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("AUTH0_CLIENT_ID"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
