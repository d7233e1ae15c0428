//! What DPoP adds to a protected call: the cached bearer path, the same token
//! with a fresh proof checked (signature, claims, `cnf.jkt`, replay store), and
//! one ES256 signature check alone. Goal: the extra cost is at most one ES256
//! verification plus 5 µs (see README "Benchmarks").
//!
//! `cargo bench -p app --features ssr --bench dpop`

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use app::auth::keys::VerifyKey;
use axum::http::{header, Request};
use base64::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use jsonwebtoken::Algorithm;
use serde_json::json;
use support::{claims, TestIssuer, TestKey};

const URL: &str = "http://api.test.local/api/private";

fn dpop(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let issuer_key = TestKey::rsa_a();
    let client_key = TestKey::ec_p256();
    let (issuer, verifier) = runtime.block_on(async {
        let issuer = TestIssuer::start(&[&issuer_key]).await;
        let verifier = issuer.verifier().await;
        (issuer, verifier)
    });
    let mut token_claims = claims(&issuer.issuer);
    token_claims["cnf"] = json!({"jkt": client_key.thumbprint()});
    let token = issuer_key.sign(&token_claims);
    // Fresh parts with a fresh proof per iteration (made outside the timing).
    let parts = || {
        let proof = client_key.proof("GET", URL, Some(&token), json!({}));
        Request::get("/api/private")
            .header(header::HOST, "api.test.local")
            .header("DPoP", proof)
            .body(())
            .expect("request")
            .into_parts()
            .0
    };

    // Baseline: one ES256 signature check of a proof with its parsed key.
    let proof = client_key.proof("GET", URL, Some(&token), json!({}));
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

    runtime.block_on(verifier.verify(&token)).expect("valid");
    c.bench_function("bearer_cached_token", |b| {
        b.iter(|| {
            runtime
                .block_on(verifier.verify(black_box(&token)))
                .expect("valid")
        })
    });

    c.bench_function("dpop_cached_token_plus_proof", |b| {
        b.iter_batched(
            parts,
            |parts| {
                runtime.block_on(async {
                    let claims = verifier.verify(black_box(&token)).await.expect("valid");
                    verifier
                        .dpop()
                        .check(&parts, &token, &claims)
                        .await
                        .expect("valid proof");
                })
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, dpop);
criterion_main!(benches);
