//! Cost of verifying one access token, next to the raw RSA-2048 signature check it
//! contains (the goal: uncached within 1.2x of raw; see README "Benchmarks"), and
//! the cached path a protected request takes, whole and in its parts (reading
//! `Authorization`, hashing the token, the cache lookup).
//!
//! `cargo bench -p access-token-verifier --bench verify`

use std::hint::black_box;

use access_token_verifier::dpop::{access_token_hash, DpopMode};
use access_token_verifier::keys::VerifyKey;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::Algorithm;
use test_issuer::{claims, TestIssuer, TestKey};

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let key = TestKey::rsa_a();
    let (issuer, verifier) = runtime.block_on(async {
        let issuer = TestIssuer::start(&[&key]).await;
        let verifier = issuer.verifier().await;
        (issuer, verifier)
    });
    let token = key.sign(&claims(&issuer.issuer));

    // Baseline: only the RS256 signature check of the same token with the same parsed
    // key (what `openssl speed rsa2048` measures as "verify").
    let (message, signature) = token.rsplit_once('.').expect("three parts");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64");
    let jwk = serde_json::from_value(key.jwk.clone()).expect("jwk");
    let public = VerifyKey::from_jwk(&jwk).expect("usable key");
    assert!(public.verify(Algorithm::RS256, message.as_bytes(), &signature));
    c.bench_function("rsa2048_signature_only", |b| {
        b.iter(|| {
            public.verify(
                Algorithm::RS256,
                black_box(message.as_bytes()),
                black_box(&signature),
            )
        })
    });

    c.bench_function("verify_uncached_rs256", |b| {
        b.iter(|| {
            runtime
                .block_on(verifier.verify_uncached(black_box(&token)))
                .expect("valid")
        })
    });

    // The cached path completes without awaiting anything: polled by a minimal
    // executor, so the figures are the verifier's, not a runtime's.
    runtime.block_on(verifier.verify(&token)).expect("valid");
    c.bench_function("verify_cached_rs256", |b| {
        b.iter(|| futures::executor::block_on(verifier.verify(black_box(&token))).expect("valid"))
    });

    // What the extractor does for a protected request with a cached token.
    let (parts, ()) = http::Request::get("/api/private")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .expect("request")
        .into_parts();
    c.bench_function("authenticate_cached_bearer", |b| {
        b.iter(|| {
            futures::executor::block_on(verifier.authenticate(black_box(&parts))).expect("valid")
        })
    });
    c.bench_function("read_authorization_header", |b| {
        b.iter(|| {
            access_token_verifier::bearer::credentials(black_box(&parts.headers), DpopMode::Allowed)
                .expect("well-formed")
        })
    });
    c.bench_function("token_sha256", |b| {
        b.iter(|| access_token_hash(black_box(&token)))
    });
    println!("(token of {} bytes)", token.len());
}

criterion_group!(benches, verify);
criterion_main!(benches);
