//! hook-layer installs no jsonwebtoken crypto provider: an application that
//! installs its own (and uses jsonwebtoken for its own tokens) keeps
//! working, and so does the layer, whichever backend it was built with.

mod support;

use std::sync::atomic::Ordering;

use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use support::app_provider::{HMACS, PROVIDER};

#[test]
#[cfg(any(feature = "rust-crypto", feature = "aws-lc-rs"))]
fn an_applications_own_provider_and_the_layer_coexist() {
    // Building and using a secret installs nothing process-wide.
    let secret = HookSecret::from_bytes(&[9; 32]).unwrap();
    let issuer = MockIssuer::new(secret.clone());
    let layer = InteractionHookLayer::new(secret)
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL);
    let session: HookSession = layer.verify_token(&issuer.session().token()).unwrap();
    let redirect = session.complete().redirect().unwrap();
    issuer.read_redirect(redirect.url()).unwrap();

    // The application installs its own, and uses jsonwebtoken with it. That
    // it can proves the layer installed none (and did not make jsonwebtoken
    // settle on a default, which would refuse this too).
    PROVIDER
        .install_default()
        .expect("nothing was installed before the application's provider");
    let key = jsonwebtoken::EncodingKey::from_secret(b"the application's own key, 32 b!").unwrap();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "x", "exp": 4_102_444_800u64}),
        &key,
    )
    .unwrap();
    let decoding =
        jsonwebtoken::DecodingKey::from_secret(b"the application's own key, 32 b!").unwrap();
    let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    let decoded =
        jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
    assert_eq!(decoded.claims["sub"], "x");

    // The layer still verifies and signs.
    let again: HookSession = layer.verify_token(&issuer.session().token()).unwrap();
    let redirect = again.fail("Declined.").redirect().unwrap();
    let read = issuer.read_redirect(redirect.url()).unwrap();
    assert_eq!(
        read.outcome,
        Outcome::Failed {
            message: "Declined.".into()
        }
    );
    drop(session);

    // With its own backend, the layer never used the application's
    // provider: only the application's encode and decode did.
    assert_eq!(HMACS.load(Ordering::Relaxed), 2);
}

/// Built without a backend, the layer uses the provider the application
/// installed. (`cargo test -p hook-layer --no-default-features --features
/// test-util --test installed_provider`)
#[test]
#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
fn without_a_backend_the_layer_uses_the_installed_provider() {
    assert_eq!(
        HookSecret::from_bytes(&[9; 32]).unwrap_err(),
        hook_layer::SecretError::NoCryptoProvider
    );
    PROVIDER
        .install_default()
        .expect("the application installs first");
    let secret = HookSecret::from_bytes(&[9; 32]).unwrap();
    let issuer = MockIssuer::new(secret.clone());
    let before = HMACS.load(Ordering::Relaxed);
    let session: HookSession = InteractionHookLayer::new(secret)
        .verify_token(&issuer.session().token())
        .unwrap();
    let redirect = session.fail("Declined.").redirect().unwrap();
    assert_eq!(
        issuer.read_redirect(redirect.url()).unwrap().outcome,
        Outcome::Failed {
            message: "Declined.".into()
        }
    );
    // Minting the token, verifying it, signing the response.
    assert_eq!(HMACS.load(Ordering::Relaxed) - before, 3);
}
