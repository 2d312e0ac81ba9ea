//! With the `tracing` feature, every refusal is one event with its code and
//! reason, and no event carries the token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn refusals_are_logged_without_the_token() {
    let secret = HookSecret::from_bytes(b"logging test secret of 32 bytes!").unwrap();
    let issuer = MockIssuer::new(secret.clone());
    let layer = InteractionHookLayer::new(secret).audience(MockIssuer::HOOK_URL);
    let other = HookSecret::from_bytes(&[3; 32]).unwrap();
    let forged = issuer.session().signed_with(&other).token();
    let misaddressed = issuer
        .session()
        .audience("https://elsewhere.example/hook")
        .token();
    let valid = issuer.session().token();

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for token in [&forged, &misaddressed, &valid] {
            let uri = format!("/interaction?session_token={token}")
                .parse()
                .unwrap();
            let _: Result<HookSession, _> = layer.verify(&uri);
        }
    });

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let events: Vec<&str> = log.lines().collect();
    assert_eq!(
        events.len(),
        2,
        "one event per refusal, none for the valid token: {log}"
    );
    assert!(
        events[0].contains("code=\"bad_signature\"") || events[0].contains("code=bad_signature"),
        "{log}"
    );
    assert!(events[1].contains("wrong_audience"), "{log}");
    assert!(events.iter().all(
        |event| event.contains("path=\"/interaction\"") || event.contains("path=/interaction")
    ));
    for token in [&forged, &misaddressed, &valid] {
        for segment in token.split('.') {
            assert!(
                !log.contains(segment),
                "a log line holds part of a token: {log}"
            );
        }
    }
}
