//! The verifier against a real issuer on 127.0.0.1 with real keys and tokens.

use std::sync::Arc;

use access_token_verifier::AuthError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use test_issuer::{b64, claims, now, TestIssuer, TestKey, AUDIENCE};

fn invalid(result: Result<Arc<access_token_verifier::Claims>, AuthError>) -> &'static str {
    match result {
        Err(AuthError::InvalidToken(problem)) => problem.description(),
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn accepts_valid_tokens_of_every_allowed_key_type() {
    let keys = [
        TestKey::rsa_a(),
        TestKey::ec_p256(),
        TestKey::ec_p384(),
        TestKey::ed25519(),
    ];
    let issuer = TestIssuer::start(&keys.iter().collect::<Vec<_>>()).await;
    let verifier = issuer.verifier().await;
    for key in &keys {
        let token = key.sign(&claims(&issuer.issuer));
        let verified = verifier
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", key.alg));
        assert_eq!(verified.sub, "auth0|test-user");
        assert_eq!(verified.scopes, ["openid", "profile", "email"]);
    }
    // RSA keys also verify the PS and larger RS algorithms.
    let rsa = &keys[0];
    for alg in [
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS512,
    ] {
        let token = rsa.sign_with(
            Header {
                kid: Some(rsa.kid.clone()),
                ..Header::new(alg)
            },
            &claims(&issuer.issuer),
        );
        assert!(verifier.verify(&token).await.is_ok(), "{alg:?}");
    }
}

#[tokio::test]
async fn rejects_forged_and_wrong_tokens() {
    let rsa = TestKey::rsa_a();
    let ec = TestKey::ec_p256();
    let issuer = TestIssuer::start(&[&rsa, &ec]).await;
    let verifier = issuer.verifier().await;
    let iss = issuer.issuer.clone();
    let good = claims(&iss);
    let header = |alg| Header {
        kid: Some(rsa.kid.clone()),
        ..Header::new(alg)
    };

    // alg "none": no signature at all.
    let payload = b64(serde_json::to_string(&good).unwrap().as_bytes());
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","kid":"rsa-a"}"#));
    assert_eq!(
        invalid(verifier.verify(&none).await),
        "The token's algorithm is not allowed"
    );

    // HS256 keyed with the RSA public key (the classic algorithm confusion):
    // refused on its `alg` alone, before any key is looked up.
    let public_pem = serde_json::to_vec(&rsa.jwk).unwrap();
    let hmac = EncodingKey::from_secret(&public_pem).unwrap();
    let confused = jsonwebtoken::encode(&header(Algorithm::HS256), &good, &hmac).unwrap();
    assert_eq!(
        invalid(verifier.verify(&confused).await),
        "The token's algorithm is not allowed"
    );

    // Signed by another key under our key's kid.
    let other = TestKey::rsa_b();
    let forged = other.sign_with(header(Algorithm::RS256), &good);
    assert_eq!(
        invalid(verifier.verify(&forged).await),
        "The token's signature is invalid"
    );

    // Payload altered after signing.
    let token = rsa.sign(&good);
    let parts: Vec<&str> = token.split('.').collect();
    let mut altered = good.clone();
    altered["sub"] = json!("auth0|admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(altered.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        invalid(verifier.verify(&tampered).await),
        "The token's signature is invalid"
    );

    // ES256 header on an RSA key, and an RSA algorithm on the EC key.
    for (signer, kid, alg) in [
        (&ec, &rsa.kid, Algorithm::ES256),
        (&rsa, &ec.kid, Algorithm::RS256),
    ] {
        let mismatched = signer.sign_with(
            Header {
                kid: Some(kid.clone()),
                ..Header::new(alg)
            },
            &good,
        );
        assert_eq!(
            invalid(verifier.verify(&mismatched).await),
            "The token's algorithm is not allowed for its key"
        );
    }

    // Wrong issuer, wrong audience, expired, not yet valid, no exp.
    let with = |patch: serde_json::Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        rsa.sign(&c)
    };
    assert_eq!(
        invalid(
            verifier
                .verify(&with(json!({"iss": "https://evil.example/"})))
                .await
        ),
        "The token was issued by another issuer"
    );
    assert_eq!(
        invalid(
            verifier
                .verify(&with(json!({"iss": iss.trim_end_matches('/')})))
                .await
        ),
        "The token was issued by another issuer"
    );
    assert_eq!(
        invalid(
            verifier
                .verify(&with(json!({"aud": "https://other-api"})))
                .await
        ),
        "The token is meant for another audience"
    );
    assert_eq!(
        invalid(verifier.verify(&with(json!({"exp": now() - 60}))).await),
        "The token has expired"
    );
    assert_eq!(
        invalid(verifier.verify(&with(json!({"nbf": now() + 60}))).await),
        "The token is not valid yet"
    );
    assert_eq!(
        invalid(verifier.verify(&with(json!({"exp": null}))).await),
        "The token lacks a required claim (exp, iss, aud or sub)"
    );
    assert_eq!(
        invalid(verifier.verify(&with(json!({"aud": null}))).await),
        "The token lacks a required claim (exp, iss, aud or sub)"
    );
    for no_subject in [json!({"sub": null}), json!({"sub": ""}), json!({"sub": 42})] {
        assert_eq!(
            invalid(verifier.verify(&with(no_subject)).await),
            "The token lacks a required claim (exp, iss, aud or sub)"
        );
    }

    // Type confusion: a far-future expiry as a string is not a number.
    assert_eq!(
        invalid(verifier.verify(&with(json!({"exp": "9999999999"}))).await),
        "The token is malformed"
    );
    assert_eq!(
        invalid(verifier.verify(&with(json!({"iss": [iss.clone()]}))).await),
        "The token was issued by another issuer"
    );

    // Garbage and oversize input.
    assert_eq!(
        invalid(verifier.verify("not-a-jwt").await),
        "The token is malformed"
    );
    let huge = format!(
        "{}.{}.sig",
        b64(br#"{"alg":"RS256","kid":"rsa-a"}"#),
        "A".repeat(20_000)
    );
    assert_eq!(
        invalid(verifier.verify(&huge).await),
        "The token is too long"
    );
}

#[tokio::test]
async fn clock_tolerance_is_five_seconds() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let mut c = claims(&issuer.issuer);
    c["exp"] = json!(now() - 2);
    c["nbf"] = json!(now() + 2);
    assert!(
        verifier.verify(&rsa.sign(&c)).await.is_ok(),
        "within tolerance"
    );
    c["exp"] = json!(now() - 30);
    assert_eq!(
        invalid(verifier.verify(&rsa.sign(&c)).await),
        "The token has expired"
    );
}

#[tokio::test]
async fn audience_may_be_a_string_or_an_array() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let mut c = claims(&issuer.issuer);
    c["aud"] = json!(AUDIENCE);
    assert!(verifier.verify(&rsa.sign(&c)).await.is_ok());
    c["aud"] = json!(["https://first", AUDIENCE]);
    assert!(verifier.verify(&rsa.sign(&c)).await.is_ok());
}

#[tokio::test]
async fn header_fields_naming_other_keys_are_ignored_and_unknown_crit_rejected() {
    let rsa = TestKey::rsa_a();
    let attacker = TestKey::rsa_b();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let c = claims(&issuer.issuer);

    // The attacker signs with their key and points jku/x5u/jwk at it, under our kid.
    let attacker_jwk = serde_json::from_value(attacker.jwk.clone()).unwrap();
    let header = Header {
        kid: Some(rsa.kid.clone()),
        jku: Some("http://127.0.0.1:1/attacker-jwks.json".into()),
        x5u: Some("http://127.0.0.1:1/attacker.pem".into()),
        jwk: Some(attacker_jwk),
        ..Header::new(Algorithm::RS256)
    };
    assert_eq!(
        invalid(
            verifier
                .verify(&attacker.sign_with(header.clone(), &c))
                .await
        ),
        "The token's signature is invalid"
    );
    // The same header fields on an honestly signed token change nothing.
    assert!(verifier.verify(&rsa.sign_with(header, &c)).await.is_ok());

    let crit = Header {
        kid: Some(rsa.kid.clone()),
        crit: Some(vec!["exp-policy".into()]),
        ..Header::new(Algorithm::RS256)
    };
    assert!(matches!(
        verifier.verify(&rsa.sign_with(crit, &c)).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    issuer.set_discovery_issuer("https://evil.example/");
    let verifier = issuer.verifier_not_loaded();
    assert!(verifier.jwks().refresh().await.is_err());
    assert!(!verifier.jwks().is_ready());
    let result = verifier.verify(&rsa.sign(&claims(&issuer.issuer))).await;
    assert_eq!(result.unwrap_err(), AuthError::KeysUnavailable);
    assert_eq!(
        issuer.jwks_fetches(),
        0,
        "keys are not fetched from an issuer that is not ours"
    );
}

#[tokio::test]
async fn unknown_kid_triggers_one_refetch_then_rotated_keys_verify() {
    let old = TestKey::rsa_a();
    let new = TestKey::rsa_b();
    let issuer = TestIssuer::start(&[&old]).await;
    let verifier = issuer.verifier().await;
    assert_eq!(issuer.jwks_fetches(), 1);

    issuer.set_keys(&[&new]); // rotation at the IdP
    let token = new.sign(&claims(&issuer.issuer));
    // Many requests with the new kid at once share one refetch.
    let results = futures::future::join_all((0..20).map(|_| verifier.verify(&token))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(issuer.jwks_fetches(), 2, "one refetch for all waiters");

    // The old key was dropped by the refresh: its tokens no longer verify.
    let old_token = old.sign(&claims(&issuer.issuer));
    assert_eq!(
        invalid(verifier.verify(&old_token).await),
        "The token is signed with an unknown key"
    );
}

#[tokio::test]
async fn an_overlong_kid_is_unknown_without_a_lookup_or_a_fetch() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let fetches = issuer.jwks_fetches();
    // Even published under that kid: a kid past the bound is never looked up.
    let long_kid = "k".repeat(access_token_verifier::jwks::MAX_KID_LEN + 1);
    let mut published = rsa.jwk.clone();
    published["kid"] = json!(long_kid);
    issuer.set_raw_keys(vec![rsa.jwk.clone(), published]);
    let token = rsa.sign_with(
        Header {
            kid: Some(long_kid),
            ..Header::new(Algorithm::RS256)
        },
        &claims(&issuer.issuer),
    );
    assert_eq!(
        invalid(verifier.verify(&token).await),
        "The token is signed with an unknown key"
    );
    assert_eq!(issuer.jwks_fetches(), fetches, "no refetch for it");
    // A kid at the bound is looked up as usual (and refetched once).
    let kid = "k".repeat(access_token_verifier::jwks::MAX_KID_LEN);
    let mut published = rsa.jwk.clone();
    published["kid"] = json!(kid);
    issuer.set_raw_keys(vec![rsa.jwk.clone(), published]);
    let token = rsa.sign_with(
        Header {
            kid: Some(kid),
            ..Header::new(Algorithm::RS256)
        },
        &claims(&issuer.issuer),
    );
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(issuer.jwks_fetches(), fetches + 1);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_causes_bounded_fetches() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let c = claims(&issuer.issuer);
    let tokens: Vec<String> = (0..200)
        .map(|i| {
            rsa.sign_with(
                Header {
                    kid: Some(format!("made-up-{i}")),
                    ..Header::new(Algorithm::RS256)
                },
                &c,
            )
        })
        .collect();
    // Sequential and concurrent floods alike.
    for token in &tokens[..100] {
        assert_eq!(
            invalid(verifier.verify(token).await),
            "The token is signed with an unknown key"
        );
    }
    let results = futures::future::join_all(tokens[100..].iter().map(|t| verifier.verify(t))).await;
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(AuthError::InvalidToken(_)))));
    assert!(
        issuer.jwks_fetches() <= 1 + 5,
        "fetches: {}",
        issuer.jwks_fetches()
    );
    // Known keys keep working meanwhile.
    assert!(verifier.verify(&rsa.sign(&c)).await.is_ok());
}

#[tokio::test]
async fn cached_keys_keep_verifying_when_the_issuer_is_down() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    issuer.stop();
    // A refresh attempt fails (nothing answers any more) but the keys stay.
    assert!(
        verifier.jwks().refresh().await.is_err(),
        "the stopped issuer still answered"
    );
    assert!(verifier.jwks().is_ready());
    let mut c = claims(&issuer.issuer);
    c["jti"] = json!("fresh-token-not-in-the-token-cache");
    assert!(verifier.verify(&rsa.sign(&c)).await.is_ok());
}

#[tokio::test]
async fn verified_tokens_are_cached_and_failures_are_not() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let token = rsa.sign(&claims(&issuer.issuer));
    let first = verifier.verify(&token).await.unwrap();
    let second = verifier.verify(&token).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &second),
        "second call is served from the cache"
    );

    // A token of a key not yet published fails, then verifies once the key appears
    // (at the next fetch: its unknown `kid` is remembered until then, so asking
    // again does not refetch): the failure was not cached as a verdict.
    let new = TestKey::rsa_b();
    let pending = new.sign(&claims(&issuer.issuer));
    assert!(verifier.verify(&pending).await.is_err());
    issuer.set_keys(&[&rsa, &new]);
    let fetches = issuer.jwks_fetches();
    assert!(verifier.verify(&pending).await.is_err());
    assert_eq!(
        issuer.jwks_fetches(),
        fetches,
        "a remembered unknown kid does not refetch"
    );
    verifier.jwks().refresh().await.unwrap();
    assert!(verifier.verify(&pending).await.is_ok());
}

#[tokio::test]
async fn keys_that_must_not_verify_are_skipped() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[]).await;
    let mut enc = rsa.jwk.clone();
    enc["kid"] = json!("enc-key");
    enc["use"] = json!("enc");
    let hmac = json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"});
    let odd = json!({"kty": "weird", "kid": "odd"});
    issuer.set_raw_keys(vec![enc, hmac, odd, rsa.jwk.clone()]);
    let verifier = issuer.verifier().await;
    let c = claims(&issuer.issuer);
    assert!(
        verifier.verify(&rsa.sign(&c)).await.is_ok(),
        "the usable key still loads"
    );
    let under_enc = rsa.sign_with(
        Header {
            kid: Some("enc-key".into()),
            ..Header::new(Algorithm::RS256)
        },
        &c,
    );
    assert_eq!(
        invalid(verifier.verify(&under_enc).await),
        "The token is signed with an unknown key"
    );
    let secret = EncodingKey::from_secret(b"secret").unwrap();
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some("hmac".into()),
            ..Header::new(Algorithm::HS256)
        },
        &c,
        &secret,
    )
    .unwrap();
    assert!(matches!(
        verifier.verify(&hs).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn keys_are_refreshed_in_the_background() {
    let old = TestKey::rsa_a();
    let new = TestKey::rsa_b();
    let issuer = TestIssuer::start(&[&old]).await;
    // On-demand refetches off: only the background refresh can bring the new key.
    let jwks = Arc::new(
        access_token_verifier::JwksCache::new(
            issuer.issuer.clone(),
            access_token_verifier::config::JwksSettings {
                refresh_interval: std::time::Duration::from_millis(100),
                max_fetches_per_minute: 0,
                ..access_token_verifier::config::JwksSettings::default()
            },
        )
        .unwrap(),
    );
    let verifier = access_token_verifier::Verifier::new(&issuer.config(), jwks.clone());
    let refresher = tokio::spawn(jwks.clone().run_refresh());

    let token = new.sign(&claims(&issuer.issuer));
    test_issuer::wait_until("the first keys load", || jwks.is_ready()).await;
    assert_eq!(
        invalid(verifier.verify(&token).await),
        "The token is signed with an unknown key"
    );
    issuer.set_keys(&[&new]);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while verifier.verify(&token).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new key never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(issuer.jwks_fetches() >= 2);
    refresher.abort();
}

/// The flood of the issue: 500 made-up `kid`s cost at most the refetch budget, and
/// a key rotated in afterwards is still picked up within one window (a minute in
/// production; two seconds here), with no more than one extra fetch per window.
#[tokio::test]
async fn a_rotation_after_a_kid_flood_is_picked_up_within_a_window() {
    let old = TestKey::rsa_a();
    let new = TestKey::rsa_b();
    let issuer = TestIssuer::start(&[&old]).await;
    let window = std::time::Duration::from_secs(2);
    let budget = 5;
    let jwks = Arc::new(
        access_token_verifier::JwksCache::new(
            issuer.issuer.clone(),
            access_token_verifier::config::JwksSettings {
                max_fetches_per_minute: budget,
                fetch_window: window,
                ..access_token_verifier::config::JwksSettings::default()
            },
        )
        .unwrap(),
    );
    let verifier = access_token_verifier::Verifier::new(&issuer.config(), jwks.clone());
    let refresher = tokio::spawn(jwks.clone().run_refresh());
    test_issuer::wait_until("the first keys load", || jwks.is_ready()).await;
    let c = claims(&issuer.issuer);
    let flood: Vec<String> = (0..500)
        .map(|i| {
            old.sign_with(
                Header {
                    kid: Some(format!("random-{i}-{}", now())),
                    ..Header::new(Algorithm::RS256)
                },
                &c,
            )
        })
        .collect();
    let results = futures::future::join_all(flood.iter().map(|t| verifier.verify(t))).await;
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(AuthError::InvalidToken(_)))));
    let after_flood = issuer.jwks_fetches();
    assert!(
        after_flood <= 1 + budget as usize,
        "the flood caused {after_flood} fetches"
    );

    issuer.set_keys(&[&new]); // a real rotation, just after the flood
    let token = new.sign(&c);
    let started = std::time::Instant::now();
    while verifier.verify(&token).await.is_err() {
        assert!(
            started.elapsed() < window * 2,
            "the rotated key was not picked up within a window"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        issuer.jwks_fetches() <= 1 + 2 * budget as usize,
        "{} fetches",
        issuer.jwks_fetches()
    );
    refresher.abort();
}

#[tokio::test]
async fn tokens_with_algorithms_no_key_allows_never_cause_a_fetch() {
    let rsa = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&rsa]).await;
    let verifier = issuer.verifier().await;
    let c = claims(&issuer.issuer);
    let secret = EncodingKey::from_secret(b"secret").unwrap();
    for i in 0..50 {
        let hs = jsonwebtoken::encode(
            &Header {
                kid: Some(format!("unknown-{i}")),
                ..Header::new(Algorithm::HS256)
            },
            &c,
            &secret,
        )
        .unwrap();
        assert_eq!(
            invalid(verifier.verify(&hs).await),
            "The token's algorithm is not allowed"
        );
        let payload = b64(serde_json::to_string(&c).unwrap().as_bytes());
        let none = format!(
            "{}.{payload}.",
            b64(format!(r#"{{"alg":"none","kid":"unknown-{i}"}}"#).as_bytes())
        );
        assert!(verifier.verify(&none).await.is_err());
    }
    assert_eq!(issuer.jwks_fetches(), 1, "only the initial load");
}

#[tokio::test]
async fn a_key_replaced_under_the_same_kid_invalidates_cached_tokens() {
    let original = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&original]).await;
    let verifier = issuer.verifier().await;
    let token = original.sign(&claims(&issuer.issuer));
    assert!(verifier.verify(&token).await.is_ok(), "verified and cached");

    // The IdP now publishes another key under the same kid.
    let mut impostor = TestKey::rsa_b().jwk;
    impostor["kid"] = json!(original.kid);
    issuer.set_raw_keys(vec![impostor]);
    verifier.jwks().refresh().await.unwrap();
    assert_eq!(
        invalid(verifier.verify(&token).await),
        "The token's signature is invalid",
        "the cached verdict went with the key that gave it"
    );
}

#[tokio::test]
async fn jwks_fetches_refuse_what_an_issuer_should_not_send() {
    use access_token_verifier::jwks::FetchError;
    let rsa = TestKey::rsa_a();

    let issuer = TestIssuer::start(&[&rsa]).await;
    // A fresh cache each time: nothing loaded before.
    let refresh = || async { issuer.verifier_not_loaded().jwks().refresh().await };
    issuer.set_jwks_body("text/html", b"<html>login</html>".to_vec());
    let error = refresh().await.unwrap_err();
    assert!(matches!(error, FetchError::ContentType(_)), "{error}");

    let huge = format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(300 * 1024));
    issuer.set_jwks_body("application/json", huge.into_bytes());
    let error = refresh().await.unwrap_err();
    assert!(matches!(error, FetchError::TooLarge), "{error}");

    issuer.set_jwks_body("application/json", Vec::new()); // back to the real keys
    let many: Vec<_> = (0..65)
        .map(|i| {
            let mut jwk = rsa.jwk.clone();
            jwk["kid"] = json!(format!("k{i}"));
            jwk
        })
        .collect();
    issuer.set_raw_keys(many);
    let error = refresh().await.unwrap_err();
    assert!(matches!(error, FetchError::TooManyKeys(65)), "{error}");
    issuer.set_keys(&[&rsa]);

    // `application/jwk-set+json` is JSON too.
    issuer.set_jwks_content_type("application/jwk-set+json; charset=utf-8");
    assert!(refresh().await.is_ok());

    // jwks_uri over plain http off loopback.
    issuer.set_jwks_uri("http://keys.example.com/jwks.json");
    let error = refresh().await.unwrap_err();
    assert!(matches!(error, FetchError::InsecureUrl(_)), "{error}");

    // A redirect on the same origin is followed; one to another origin is not
    // (localhost and 127.0.0.1 are different origins, though the same server).
    let port = issuer
        .issuer
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    issuer.set_jwks_uri(&format!(
        "{}redirect?to=/.well-known/jwks.json",
        issuer.issuer
    ));
    assert!(refresh().await.is_ok());
    issuer.set_jwks_uri(&format!(
        "{}redirect?to=http://localhost:{port}/.well-known/jwks.json",
        issuer.issuer
    ));
    let error = refresh().await.unwrap_err();
    assert!(matches!(error, FetchError::Http(_)), "{error}");
    assert!(error.to_string().contains("redirect"), "{error}");
}
