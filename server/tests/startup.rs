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
