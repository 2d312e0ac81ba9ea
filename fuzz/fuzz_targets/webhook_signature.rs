//! Arbitrary `Signature-Input`, `Signature` and `Content-Digest` fields
//! and bodies through the webhook verifier, which parses all three. The
//! input is four parts split at newlines (fields, then the body). Nothing
//! may panic, and the only body ever accepted is the genuine one, which the
//! fuzzer cannot sign anew: it can only reformat the seed's fields.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use hook_layer::testing::{SignOptions, WebhookSigner};
use hook_layer::webhooks::WebhookVerifier;
use hook_layer_fuzz::NOW;
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://hook.example.com/webhooks/mattr";

/// The seed corpus's genuine delivery: this key, at `NOW`.
static GENUINE: LazyLock<http::Request<Vec<u8>>> = LazyLock::new(|| {
    let signer = WebhookSigner::from_seed("fuzz-key", [7; 32]);
    let body = WebhookSigner::delivery("fuzz-webhook", "event-1", "OpenIdCredentialIssued", serde_json::json!({}));
    signer.sign_with(
        http::Request::post(URL).body(body).expect("a request"),
        &SignOptions::default().created(NOW),
    )
});

static VERIFIER: LazyLock<WebhookVerifier> = LazyLock::new(|| {
    WebhookVerifier::new(
        "fuzz-webhook",
        WebhookSigner::from_seed("fuzz-key", [7; 32]).keys(),
    )
    .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
});

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let (Some(input), Some(signature), Some(digest)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let body = parts.next().unwrap_or_default();
    let mut headers = http::HeaderMap::new();
    for (name, value) in [("signature-input", input), ("signature", signature), ("content-digest", digest)] {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
    }
    let uri: http::Uri = URL.parse().expect("the URL");
    if let Ok(delivery) = VERIFIER.verify(&http::Method::POST, &uri, &headers, body) {
        assert_eq!(body, GENUINE.body().as_slice(), "only the genuine body verifies");
        assert_eq!(delivery.event.id, "event-1");
    }
});
