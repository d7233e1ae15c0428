//! `examples/api.rs` run as a user runs it (its own process, configured by the
//! environment) against a real issuer: the answers and refusals of the Auth0
//! sample's API. `cargo test` builds the example before running this.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use test_issuer::{claims, TestIssuer, TestKey, AUDIENCE};

/// The example's process, killed when dropped.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the example on a free port; its origin.
fn start(issuer: &str) -> (Example, String) {
    let exe = std::env::current_exe().expect("test path");
    let example = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples/api");
    assert!(
        example.exists(),
        "{} is missing: run `cargo test -p access-token-verifier`, which builds the example",
        example.display()
    );
    // `cargo test --test example_api` alone does not rebuild the example: refuse
    // to test a binary older than its sources rather than pass on a stale one.
    let built = modified(&example);
    let sources = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for source in [sources.join("examples/api.rs"), sources.join("src")] {
        assert!(
            newest(&source) <= built,
            "{} is older than {}: run `cargo test -p access-token-verifier`, which rebuilds it",
            example.display(),
            source.display()
        );
    }
    let mut child = Command::new(example)
        .env("AUTH0_ISSUER", issuer)
        .env("AUTH0_AUDIENCE", AUDIENCE)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env_remove("AUTH0_DOMAIN")
        .env_remove("REDIS_URL")
        .env_remove("PUBLIC_URL")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("it says where it listens");
    let origin = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Example(child), origin)
}

fn modified(path: &std::path::Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The newest modification time of `path` or, for a directory, of any file in it.
fn newest(path: &std::path::Path) -> std::time::SystemTime {
    if !path.is_dir() {
        return modified(path);
    }
    std::fs::read_dir(path)
        .expect("readable source directory")
        .map(|entry| newest(&entry.expect("entry").path()))
        .max()
        .unwrap_or(std::time::UNIX_EPOCH)
}

async fn get(url: &str, token: Option<&str>) -> (u16, String, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the example answers");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (
        status,
        challenge,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_example_api_answers_and_refuses_like_the_samples_api() {
    let key = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&key]).await;
    let (_example, origin) = start(&issuer.issuer);
    let url = |path: &str| format!("{origin}{path}");

    // The keys load in the background: wait until a valid token passes.
    let token = key.sign(&claims(&issuer.issuer));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while get(&url("/api/private"), Some(&token)).await.0 != 200 {
        assert!(std::time::Instant::now() < deadline, "keys never loaded");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (status, _, body) = get(&url("/api/public"), None).await;
    assert_eq!(status, 200);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("public endpoint"));

    let (status, challenge, _) = get(&url("/api/private"), None).await;
    assert_eq!(status, 401);
    assert!(challenge.starts_with("Bearer realm=\"api\""), "{challenge}");

    let (status, _, body) = get(&url("/api/private"), Some(&token)).await;
    assert_eq!(status, 200);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("private endpoint"));

    // No read:messages: 403 naming the scope.
    let (status, challenge, body) = get(&url("/api/private-scoped"), Some(&token)).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "insufficient_scope");
    assert!(challenge.contains("scope=\"read:messages\""), "{challenge}");

    let mut scoped = claims(&issuer.issuer);
    scoped["permissions"] = json!(["read:messages"]);
    let (status, _, body) = get(&url("/api/private-scoped"), Some(&key.sign(&scoped))).await;
    assert_eq!(status, 200);
    assert!(body["message"].as_str().unwrap().contains("read:messages"));

    // Signed by a key the issuer does not publish, expired, for another audience.
    let forged = TestKey::rsa_b().sign_with(
        jsonwebtoken::Header {
            kid: Some(key.kid.clone()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256)
        },
        &claims(&issuer.issuer),
    );
    let mut expired = claims(&issuer.issuer);
    expired["exp"] = json!(test_issuer::now() - 3600);
    let mut elsewhere = claims(&issuer.issuer);
    elsewhere["aud"] = json!("https://another.api");
    // Bound to a DPoP key, sent as Bearer.
    let mut bound = claims(&issuer.issuer);
    bound["cnf"] = json!({"jkt": TestKey::ec_p256().thumbprint()});
    for refused in [
        forged,
        key.sign(&expired),
        key.sign(&elsewhere),
        key.sign(&bound),
    ] {
        let (status, challenge, body) = get(&url("/api/private"), Some(&refused)).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "invalid_token");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
}
