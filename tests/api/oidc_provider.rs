//! The test OpenID provider itself (`tests/oidc/provider.mjs` through `support::oidc`): what the
//! login tests rely on, checked on its own, so a failure there points at the harness and not at
//! the dashboard.

use crate::support::oidc::{
    jwt_header, jwt_payload, token_for, AuthMethod, Client, Provider, ProviderConfig, Tamper, User,
};
use std::time::{Duration, Instant};

const CALLBACK: &str = "http://127.0.0.1:9/callback";

fn config() -> ProviderConfig {
    let mut other = Client::new("other", "other-secret", CALLBACK);
    other.auth_method = AuthMethod::Post;
    other.id_token_ttl = Some(Duration::from_secs(5));
    ProviderConfig::new(
        vec![Client::new("rqdash", "s3cret", CALLBACK), other],
        vec![User::new("alice", "alice-pw", &["ops", "dev"])],
    )
}

#[test]
fn id_tokens_carry_the_users_claims_and_verify_with_the_published_key() {
    // Arrange
    let provider = Provider::start(config());

    // Act
    let discovery = provider.discovery();
    let token = token_for(
        &provider, "rqdash", "s3cret", CALLBACK, "alice", "alice-pw", "n-1",
    );

    // Assert
    assert_eq!(discovery["issuer"], provider.issuer());
    assert!(discovery["end_session_endpoint"].is_string(), "{discovery}");
    assert_eq!(discovery["code_challenge_methods_supported"][0], "S256");
    let claims = jwt_payload(&token);
    assert_eq!(claims["iss"], provider.issuer());
    assert_eq!(claims["aud"], "rqdash");
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["groups"], serde_json::json!(["ops", "dev"]));
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(jwt_header(&token)["alg"], "RS256");
    assert_eq!(jwt_header(&token)["kid"], "key-1");
    assert!(provider.verifies(&token));
}

#[test]
fn a_client_secret_post_client_gets_its_own_audience_and_lifetime() {
    let provider = Provider::start(config());

    let token = token_for(
        &provider,
        "other",
        "other-secret",
        CALLBACK,
        "alice",
        "alice-pw",
        "n-2",
    );

    let claims = jwt_payload(&token);
    assert_eq!(claims["aud"], "other");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        5
    );
    assert!(provider.verifies(&token));
}

#[test]
fn the_proxy_is_the_issuer_and_tampers_with_token_answers_only_when_told() {
    let provider = Provider::start(ProviderConfig {
        behind_proxy: true,
        ..config()
    });
    let proxy = provider.proxy();
    let alice = |nonce| {
        token_for(
            &provider, "rqdash", "s3cret", CALLBACK, "alice", "alice-pw", nonce,
        )
    };

    // Everything goes through the proxy, whose URL is the issuer.
    assert_eq!(provider.issuer(), proxy.url());
    let discovery = provider.discovery();
    assert_eq!(discovery["issuer"], proxy.url());
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap();
    assert!(token_endpoint.starts_with(proxy.url()), "{token_endpoint}");
    let honest = alice("n-3");
    assert!(provider.verifies(&honest));
    assert_eq!(proxy.token_calls(), 1);
    assert!(proxy.last_rewrite().is_none());

    // FlipSignature: same header and claims, a signature that no longer verifies.
    proxy.set_mode(Tamper::FlipSignature);
    let flipped = alice("n-4");
    let (original, sent) = proxy.last_rewrite().expect("a rewritten token");
    assert_eq!(sent, flipped);
    let signed = |t: &str| t.rsplit_once('.').unwrap().0.to_string();
    assert_eq!(signed(&original), signed(&flipped));
    assert_ne!(original, flipped);
    assert!(provider.verifies(&original));
    assert!(!provider.verifies(&flipped));

    // Replace: whatever token the test gives.
    proxy.set_mode(Tamper::Replace(honest.clone()));
    assert_eq!(alice("n-5"), honest);

    // Delay, then the real answer.
    proxy.set_mode(Tamper::Delay(Duration::from_secs(1)));
    let t0 = Instant::now();
    let late = alice("n-6");
    assert!(t0.elapsed() >= Duration::from_secs(1));
    assert_eq!(jwt_payload(&late)["nonce"], "n-6");
    assert_eq!(proxy.token_calls(), 4);
}

#[test]
fn a_restart_with_a_new_key_id_signs_with_a_new_key_under_the_same_issuer() {
    let mut provider = Provider::start(config());
    let issuer = provider.issuer().to_string();
    let alice = |p: &Provider| token_for(p, "rqdash", "s3cret", CALLBACK, "alice", "alice-pw", "n");
    let first = alice(&provider);

    provider.restart_with_keys(&["key-2"]);
    let second = alice(&provider);

    assert_eq!(provider.issuer(), issuer);
    assert_eq!(jwt_header(&second)["kid"], "key-2");
    assert!(provider.verifies(&second));
    assert!(!provider.verifies(&first), "key-1 is no longer published");

    // Back to key-1 (key-2 still published): the old key, so the first token verifies again.
    provider.restart_with_keys(&["key-1", "key-2"]);
    assert!(provider.verifies(&first));
    assert!(provider.verifies(&second));
    assert_eq!(jwt_header(&alice(&provider))["kid"], "key-1");
}
