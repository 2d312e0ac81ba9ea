//! What the layer, completions and attempt limiters record through the
//! `metrics` facade, read back from a debugging recorder.

use std::collections::HashMap;
use std::sync::Arc;

use hook_layer::attempts::{
    AttemptError, AttemptLimiter, AttemptStore, MemoryStore, ReserveFuture, StoreError,
};
use hook_layer::metrics::{
    ATTEMPTS, COMPLETION_ERRORS, COMPLETIONS, STORE_DURATION, TOKENS_ACCEPTED, TOKENS_REFUSED,
};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer, Tenant};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tower::{Layer, ServiceExt};

/// Every series recorded: `name{label=value,...}` (labels sorted) to its
/// counter value, or to its number of histogram samples.
fn series(recorder: &DebuggingRecorder) -> HashMap<String, u64> {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            labels.sort();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            let value = match value {
                DebugValue::Counter(count) => count,
                DebugValue::Histogram(samples) => samples.len() as u64,
                DebugValue::Gauge(_) => panic!("no gauges are recorded"),
            };
            (name, value)
        })
        .collect()
}

struct Down;

impl AttemptStore for Down {
    fn reserve<'a>(&'a self, _: &'a str, _: u64, _: u64) -> ReserveFuture<'a> {
        Box::pin(std::future::ready(Err(StoreError::unavailable("down"))))
    }
}

#[test]
fn tokens_completions_and_attempts_are_counted_with_bounded_labels() {
    let recorder = DebuggingRecorder::new();
    let secret = HookSecret::from_bytes(&[3; 32]).unwrap();
    let other = HookSecret::from_bytes(&[4; 32]).unwrap();
    let layer = InteractionHookLayer::with_tenants([
        Tenant::new(MockIssuer::TENANT, secret.clone()).name("production"),
        // Unnamed: labelled with its configured issuer.
        Tenant::new("https://staging.vii.au01.mattr.global", other.clone()),
    ])
    .unwrap();
    let mock = MockIssuer::new(secret.clone());
    let staging = MockIssuer::new(other).tenant("https://staging.vii.au01.mattr.global");

    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // Accepted: two for one tenant, one for the other.
            let one: HookSession = layer.verify_token(&mock.session().token()).unwrap();
            let two: HookSession = layer.verify_token(&mock.session().token()).unwrap();
            let three: HookSession = layer.verify_token(&staging.session().token()).unwrap();

            // Refused: a forged token, an expired one, an issuer no tenant
            // has (which must not become a label), and, through the
            // service, a request without a token.
            let forged = MockIssuer::new(HookSecret::from_bytes(&[9; 32]).unwrap());
            assert!(layer.verify_token(&forged.session().token()).is_err());
            assert!(
                layer
                    .verify_token(&mock.session().expired().token())
                    .is_err()
            );
            let stranger = mock.session().issuer("https://attacker.example").token();
            assert!(layer.verify_token(&stranger).is_err());
            let service = layer.clone().layer(tower::service_fn(|_| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            }));
            let response = service
                .oneshot(http::Request::get("/interaction").body(()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED);

            // Completions: one success, two failures, one that cannot be
            // signed (a redirect URL over the limit).
            one.complete()
                .claim("done", true)
                .unwrap()
                .redirect()
                .unwrap();
            two.fail("Declined.").redirect().unwrap();
            three.fail("Declined.").redirect().unwrap();
            let huge = one.complete().claim("big", "x".repeat(4000)).unwrap();
            assert!(huge.redirect().is_err());

            // Attempts: two granted, one exhausted, one store error.
            let codes = AttemptLimiter::new("code", 2, Arc::new(MemoryStore::default()));
            codes.attempt(&one).await.unwrap();
            codes.attempt(&one).await.unwrap();
            assert!(matches!(
                codes.attempt(&one).await,
                Err(AttemptError::Exhausted { .. })
            ));
            let down = AttemptLimiter::new("resend", 2, Arc::new(Down));
            assert!(down.attempt(&one).await.is_err());
        });
    });

    let series = series(&recorder);
    let expected = [
        (format!("{TOKENS_ACCEPTED}{{tenant=production}}"), 2),
        (
            format!("{TOKENS_ACCEPTED}{{tenant=https://staging.vii.au01.mattr.global}}"),
            1,
        ),
        (format!("{TOKENS_REFUSED}{{reason=bad_signature}}"), 1),
        (format!("{TOKENS_REFUSED}{{reason=expired}}"), 1),
        (format!("{TOKENS_REFUSED}{{reason=wrong_issuer}}"), 1),
        (format!("{TOKENS_REFUSED}{{reason=missing_token}}"), 1),
        (
            format!("{COMPLETIONS}{{outcome=completed,tenant=production}}"),
            1,
        ),
        (
            format!("{COMPLETIONS}{{outcome=failed,tenant=production}}"),
            1,
        ),
        (
            format!("{COMPLETIONS}{{outcome=failed,tenant=https://staging.vii.au01.mattr.global}}"),
            1,
        ),
        (format!("{COMPLETION_ERRORS}{{kind=url_too_long}}"), 1),
        (format!("{ATTEMPTS}{{limiter=code,outcome=granted}}"), 2),
        (format!("{ATTEMPTS}{{limiter=code,outcome=exhausted}}"), 1),
        (
            format!("{ATTEMPTS}{{limiter=resend,outcome=store_error}}"),
            1,
        ),
        (format!("{STORE_DURATION}{{limiter=code}}"), 3),
        (format!("{STORE_DURATION}{{limiter=resend}}"), 1),
    ];
    for (name, value) in &expected {
        assert_eq!(series.get(name), Some(value), "{name} in {series:#?}");
    }
    // Nothing from a token became a label.
    assert!(
        series.keys().all(|name| !name.contains("attacker")),
        "{series:#?}"
    );
}
