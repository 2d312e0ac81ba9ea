//! `WebhookLayer` through `tower::ServiceExt::oneshot` and axum: verified
//! deliveries reach the handler once per event; refusals never do. With
//! `redis`, two replicas on one real `redis-server` run the handler once
//! for an event delivered to both at the same time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::routing::post;
use axum::{Router, http::StatusCode};
use hook_layer::attempts::{AttemptStore, MemoryStore, ReserveFuture, StoreError};
use hook_layer::testing::{SignOptions, WebhookSigner};
use hook_layer::webhooks::{EventType, WebhookDelivery, WebhookLayer, WebhookVerifier};
use serde_json::json;
use tower::ServiceExt;

const NOW: u64 = 1_764_422_400;
const URL: &str = "https://hook.example.com/webhooks/mattr";
const WEBHOOK: &str = "webhook-1";

fn mattr() -> WebhookSigner {
    WebhookSigner::from_seed("tenant-key-1", [7; 32])
}

/// A clock the test moves, shared by the verifier and its event marks.
#[derive(Clone, Default)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn at(now: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now)))
    }
    fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }
    fn verifier(&self) -> WebhookVerifier {
        let clock = self.0.clone();
        WebhookVerifier::new(WEBHOOK, mattr().keys())
            .public_url(URL)
            .unwrap()
            .clock(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst)))
    }
}

/// The handler: counts its runs, answers with `status`.
fn app(layer: WebhookLayer, runs: Arc<AtomicUsize>, status: StatusCode) -> Router {
    Router::new()
        .route(
            "/webhooks/mattr",
            post(move |delivery: WebhookDelivery| async move {
                assert_eq!(delivery.event.event_type, EventType::OpenIdCredentialIssued);
                runs.fetch_add(1, Ordering::SeqCst);
                status
            }),
        )
        .route_layer(layer)
}

fn delivery(event: &str, created: u64) -> http::Request<Body> {
    let body = WebhookSigner::delivery(
        WEBHOOK,
        event,
        "OpenIdCredentialIssued",
        json!({"userId": "u-1"}),
    );
    let request = http::Request::post(URL).body(body).unwrap();
    mattr()
        .sign_with(request, &SignOptions::default().created(created))
        .map(Body::from)
}

async fn code(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    json["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn runs_the_handler_once_per_event_and_acknowledges_redeliveries() {
    let clock = TestClock::at(NOW);
    let runs = Arc::new(AtomicUsize::new(0));
    let app = app(
        WebhookLayer::new(clock.verifier()),
        runs.clone(),
        StatusCode::OK,
    );

    let first = app.clone().oneshot(delivery("event-1", NOW)).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // MATTR VII redelivers, signed anew a minute later.
    clock.set(NOW + 60);
    let again = app
        .clone()
        .oneshot(delivery("event-1", NOW + 60))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let other = app
        .clone()
        .oneshot(delivery("event-2", NOW + 60))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_handler_runs_again_once_its_claim_lapses() {
    let clock = TestClock::at(NOW);
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = WebhookLayer::new(clock.verifier()).claim_for(Duration::from_secs(20));
    let failing = app(
        layer.clone(),
        runs.clone(),
        StatusCode::INTERNAL_SERVER_ERROR,
    );
    let response = failing.oneshot(delivery("event-1", NOW)).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let working = app(layer, runs.clone(), StatusCode::OK);
    clock.set(NOW + 5);
    let busy = working
        .clone()
        .oneshot(delivery("event-1", NOW + 5))
        .await
        .unwrap();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "5");
    assert_eq!(code(busy).await, "event_in_progress");

    clock.set(NOW + 20);
    let retried = working
        .clone()
        .oneshot(delivery("event-1", NOW + 20))
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refusals_never_reach_the_handler() {
    let clock = TestClock::at(NOW);
    let runs = Arc::new(AtomicUsize::new(0));
    let app = app(
        WebhookLayer::new(clock.verifier().max_body(300)),
        runs.clone(),
        StatusCode::OK,
    );

    let unsigned = http::Request::post(URL).body(Body::from("{}")).unwrap();
    let response = app.clone().oneshot(unsigned).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(code(response).await, "missing_signature");

    let stale = app
        .clone()
        .oneshot(delivery("event-1", NOW - 3600))
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(stale).await, "stale_signature");

    // Over the bound by its Content-Length, and while streaming.
    let big = vec![b'x'; 301];
    let declared = http::Request::post(URL)
        .header("content-length", "301")
        .body(Body::from(big.clone()))
        .unwrap();
    let response = app.clone().oneshot(declared).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(response).await, "body_too_large");
    let chunks = futures_chunks(big);
    let streamed = http::Request::post(URL).body(chunks).unwrap();
    let response = app.clone().oneshot(streamed).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

/// A body without a length, in two chunks.
fn futures_chunks(bytes: Vec<u8>) -> Body {
    let (a, b) = bytes.split_at(bytes.len() / 2);
    Body::new(Chunks(vec![
        bytes::Bytes::copy_from_slice(b),
        bytes::Bytes::copy_from_slice(a),
    ]))
}

/// Chunks, last first, of unknown total length.
struct Chunks(Vec<bytes::Bytes>);

impl http_body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop().map(|chunk| Ok(http_body::Frame::data(chunk))))
    }
}

/// A store that is down: every operation fails.
struct DownStore;

impl AttemptStore for DownStore {
    fn reserve<'a>(&'a self, _: &'a str, _: u64, _: u64) -> ReserveFuture<'a> {
        Box::pin(std::future::ready(Err(StoreError::unavailable("down"))))
    }
}

#[tokio::test]
async fn a_store_that_cannot_answer_is_a_503_and_the_handler_does_not_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = WebhookLayer::new(TestClock::at(NOW).verifier()).store(Arc::new(DownStore));
    let response = app(layer, runs.clone(), StatusCode::OK)
        .oneshot(delivery("event-1", NOW))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(response).await, "store_unavailable");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_memory_store_run_a_parallel_event_once() {
    let store: Arc<dyn AttemptStore> = Arc::new(MemoryStore::new(1000));
    let clock = TestClock::at(NOW);
    let runs = Arc::new(AtomicUsize::new(0));
    let a = app(
        WebhookLayer::new(clock.verifier()).store(store.clone()),
        runs.clone(),
        StatusCode::OK,
    );
    let b = app(
        WebhookLayer::new(clock.verifier()).store(store),
        runs.clone(),
        StatusCode::OK,
    );
    let (ra, rb) = tokio::join!(
        a.oneshot(delivery("event-1", NOW)),
        b.oneshot(delivery("event-1", NOW))
    );
    let statuses = [ra.unwrap().status(), rb.unwrap().status()];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[cfg(feature = "redis")]
mod redis_replicas {
    use hook_layer::attempts::RedisStore;
    use hook_layer::testing::RedisServer;

    use super::*;

    #[test]
    fn redis_server_is_installed_where_required() {
        RedisServer::assert_installed_where_required(cfg!(redis_installed));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
    async fn two_replicas_on_one_redis_run_a_parallel_event_once() {
        let server = RedisServer::start().expect("redis-server");
        let clock = TestClock::at(NOW);
        let runs = Arc::new(AtomicUsize::new(0));
        let replica = |store: RedisStore| {
            app(
                WebhookLayer::new(clock.verifier()).store(Arc::new(store)),
                runs.clone(),
                StatusCode::OK,
            )
        };
        let a = replica(RedisStore::connect(&server.url()).await.unwrap());
        let b = replica(RedisStore::connect(&server.url()).await.unwrap());
        for round in 0..20 {
            let event = format!("event-{round}");
            let (ra, rb) = tokio::join!(
                a.clone().oneshot(delivery(&event, NOW)),
                b.clone().oneshot(delivery(&event, NOW))
            );
            let statuses = [ra.unwrap().status(), rb.unwrap().status()];
            assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
            assert!(
                statuses
                    .iter()
                    .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
                "{statuses:?}"
            );
            assert_eq!(runs.load(Ordering::SeqCst), round + 1, "event {round}");
        }
        // A later redelivery to either replica is acknowledged, not run.
        let again = b.clone().oneshot(delivery("event-0", NOW)).await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(runs.load(Ordering::SeqCst), 20);
    }
}
