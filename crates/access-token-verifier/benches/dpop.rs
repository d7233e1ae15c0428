//! What DPoP adds to a protected call: the cached bearer path, the same token
//! with a fresh proof checked (signature, claims, `cnf.jkt`, replay store), and
//! one ES256 signature check alone. Goal: the extra cost is at most one ES256
//! verification plus 5 µs (see README "Benchmarks").
//!
//! This machine's speed drifts by more than 5 µs between benchmarks, so
//! `dpop_extra_beyond_one_es256` measures the goal directly: each iteration times
//! the DPoP call and, next to it, the bearer call plus one ES256 check with an
//! already parsed key, and reports the difference.
//!
//! `cargo bench -p app --features ssr --bench dpop`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use access_token_verifier::dpop::access_token_hash;
use access_token_verifier::keys::VerifyKey;
use access_token_verifier::Verifier;
use axum::http::request::Parts;
use axum::http::{header, Request};
use base64::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use jsonwebtoken::Algorithm;
use serde_json::json;
use test_issuer::{claims, TestIssuer, TestKey};

const URL: &str = "http://api.test.local/api/private";

/// A real issuer with its keys loaded, the browser's ES256 key and an access
/// token bound to it.
struct Setup {
    runtime: tokio::runtime::Runtime,
    /// Kept alive: the verifier's issuer.
    _issuer: TestIssuer,
    verifier: Arc<Verifier>,
    client_key: TestKey,
    token: String,
}

/// `GET /api/private` with this `DPoP` header, as the extractor sees it.
fn request_with(proof: &str) -> Parts {
    Request::get("/api/private")
        .header(header::HOST, "api.test.local")
        .header("DPoP", proof)
        .body(())
        .expect("request")
        .into_parts()
        .0
}

impl Setup {
    fn parts(&self) -> (&tokio::runtime::Runtime, &Arc<Verifier>, &TestKey, &String) {
        (&self.runtime, &self.verifier, &self.client_key, &self.token)
    }

    /// What the extractor does for a DPoP request: the (cached) token, the hash
    /// of the token for `ath`, then the proof.
    fn dpop_call(&self, parts: &Parts) {
        self.runtime.block_on(async {
            let claims = self
                .verifier
                .verify(black_box(&self.token))
                .await
                .expect("valid");
            let hash = access_token_hash(&self.token);
            self.verifier
                .dpop()
                .check(parts, &hash, claims.dpop_jkt().expect("bound"))
                .await
                .expect("valid proof");
        })
    }

    fn new() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let issuer_key = TestKey::rsa_a();
        let client_key = TestKey::ec_p256();
        let (issuer, verifier) = runtime.block_on(async {
            let issuer = TestIssuer::start(&[&issuer_key]).await;
            // One client sends every proof here: far past the default per-key
            // quota (DPOP_PROOFS_PER_KEY_PER_MINUTE), which would answer 429.
            let mut config = issuer.config();
            config.dpop.proofs_per_key_per_minute = 1_000_000;
            let verifier = issuer.verifier_for(&config).await;
            (issuer, verifier)
        });
        let mut token_claims = claims(&issuer.issuer);
        token_claims["cnf"] = json!({"jkt": client_key.thumbprint()});
        let token = issuer_key.sign(&token_claims);
        Self {
            runtime,
            _issuer: issuer,
            verifier,
            client_key,
            token,
        }
    }
}

fn dpop(c: &mut Criterion) {
    let setup = Setup::new();
    let (runtime, verifier, client_key, token) = setup.parts();
    // Fresh parts with a fresh proof per iteration (made outside the timing).
    let parts = || request_with(&client_key.proof("GET", URL, Some(token), json!({})));

    // Baseline: one ES256 signature check of a proof with its parsed key.
    let proof = client_key.proof("GET", URL, Some(token), json!({}));
    let (message, signature) = proof.rsplit_once('.').expect("three parts");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64");
    let jwk = serde_json::from_value(client_key.jwk.clone()).expect("jwk");
    let public = VerifyKey::from_jwk(&jwk).expect("usable key");
    assert!(public.verify(Algorithm::ES256, message.as_bytes(), &signature));
    c.bench_function("es256_signature_only", |b| {
        b.iter(|| {
            public.verify(
                Algorithm::ES256,
                black_box(message.as_bytes()),
                black_box(&signature),
            )
        })
    });

    runtime.block_on(verifier.verify(token)).expect("valid");
    c.bench_function("bearer_cached_token", |b| {
        b.iter(|| {
            runtime
                .block_on(verifier.verify(black_box(token)))
                .expect("valid")
        })
    });

    c.bench_function("dpop_cached_token_plus_proof", |b| {
        b.iter_batched(
            parts,
            |parts| setup.dpop_call(&parts),
            BatchSize::SmallInput,
        )
    });
}

/// Interleaved: (bearer + DPoP proof) minus (bearer + one ES256 verification with
/// a parsed key). The DPoP side parses its key once too ([`access_token_verifier::dpop::ProofKeyCache`]),
/// as it does for a real client that signs every proof with one key.
fn extra(c: &mut Criterion) {
    let setup = Setup::new();
    let (runtime, verifier, client_key, token) = setup.parts();
    runtime.block_on(verifier.verify(token)).expect("valid");
    let jwk = serde_json::from_value(client_key.jwk.clone()).expect("jwk");
    let key = VerifyKey::from_jwk(&jwk).expect("usable key");
    c.bench_function("dpop_extra_beyond_one_es256", |b| {
        b.iter_custom(|iterations| {
            let (mut with_dpop, mut baseline) = (Duration::ZERO, Duration::ZERO);
            for iteration in 0..iterations {
                let proof = client_key.proof("GET", URL, Some(token), json!({}));
                let (message, signature) = proof.rsplit_once('.').expect("three parts");
                let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(signature)
                    .expect("base64");
                let parts = request_with(&proof);
                let dpop_call = || {
                    let started = Instant::now();
                    setup.dpop_call(&parts);
                    started.elapsed()
                };
                let bearer_and_es256 = || {
                    let started = Instant::now();
                    runtime.block_on(async {
                        verifier.verify(black_box(token)).await.expect("valid");
                    });
                    assert!(key.verify(
                        Algorithm::ES256,
                        black_box(message.as_bytes()),
                        &signature
                    ));
                    started.elapsed()
                };
                // Each goes first half the time: the first runs with caches the
                // proof's signing (setup) just cooled.
                if iteration % 2 == 0 {
                    with_dpop += dpop_call();
                    baseline += bearer_and_es256();
                } else {
                    baseline += bearer_and_es256();
                    with_dpop += dpop_call();
                }
            }
            with_dpop.saturating_sub(baseline)
        })
    });
}

criterion_group!(benches, dpop, extra);
criterion_main!(benches);
