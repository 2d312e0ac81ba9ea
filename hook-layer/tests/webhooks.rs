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
use serde_json::{Value, json};
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

mod jwks {
    use std::sync::Mutex;

    use hook_layer::webhooks::{FetchError, JwksUrlError, RemoteKeys, WebhookRejection};

    use super::*;

    /// A tenant's JWKS endpoint, in memory: what it serves now, and how
    /// often it was asked.
    #[derive(Clone, Default)]
    struct Tenant {
        jwks: Arc<Mutex<Option<String>>>,
        fetches: Arc<AtomicUsize>,
    }

    impl Tenant {
        fn serving(signer: &WebhookSigner) -> Self {
            let tenant = Self::default();
            tenant.serve(Some(signer));
            tenant
        }
        fn serve(&self, signer: Option<&WebhookSigner>) {
            *self.jwks.lock().unwrap() = signer.map(WebhookSigner::jwks);
        }
        fn keys(&self, clock: &TestClock) -> RemoteKeys {
            let tenant = self.clone();
            let fetch = move |url: url::Url| {
                assert_eq!(url.as_str(), "https://tenant.example.com/v1/webhooks/jwks");
                tenant.fetches.fetch_add(1, Ordering::SeqCst);
                let served = tenant.jwks.lock().unwrap().clone();
                async move { served.ok_or_else(|| FetchError::new("connection refused")) }
            };
            let now = clock.0.clone();
            RemoteKeys::new("https://tenant.example.com/v1/webhooks/jwks", fetch)
                .unwrap()
                .refresh_interval(Duration::from_secs(300))
                .clock(move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
        }
        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    fn verifier(tenant: &Tenant, clock: &TestClock) -> WebhookVerifier {
        let now = clock.0.clone();
        WebhookVerifier::with_jwks(WEBHOOK, tenant.keys(clock))
            .clock(move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
    }

    fn signed(signer: &WebhookSigner, created: u64) -> http::Request<Vec<u8>> {
        let body = WebhookSigner::delivery(WEBHOOK, "event-1", "OpenIdCredentialIssued", json!({}));
        signer.sign_with(
            http::Request::post(URL).body(body).unwrap(),
            &SignOptions::default().created(created),
        )
    }

    async fn check(
        verifier: &WebhookVerifier,
        request: &http::Request<Vec<u8>>,
    ) -> Result<(), &'static str> {
        verifier
            .verify_fetching(
                request.method(),
                request.uri(),
                request.headers(),
                request.body(),
            )
            .await
            .map(|_| ())
            .map_err(|rejection| rejection.code())
    }

    #[test]
    fn jwks_urls_are_https_or_loopback_http() {
        let fetch = |_: url::Url| async { Err::<String, _>(FetchError::new("unused")) };
        for good in [
            "https://tenant.example.com/v1/webhooks/jwks",
            "http://127.0.0.1:8080/v1/webhooks/jwks",
            "http://[::1]/jwks",
            "http://localhost:3000/jwks",
        ] {
            assert!(RemoteKeys::new(good, fetch).is_ok(), "{good}");
        }
        for bad in [
            "http://tenant.example.com/jwks",
            "http://10.0.0.1/jwks",
            "ftp://h/jwks",
            "/jwks",
            "file:///jwks",
        ] {
            assert_eq!(
                RemoteKeys::new(bad, fetch).err(),
                Some(JwksUrlError),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn fetched_once_cached_and_fetched_again_for_a_new_key_at_most_once_per_interval() {
        let clock = TestClock::at(NOW);
        let old = mattr();
        let tenant = Tenant::serving(&old);
        let verifier = verifier(&tenant, &clock);

        assert_eq!(check(&verifier, &signed(&old, NOW)).await, Ok(()));
        assert_eq!(check(&verifier, &signed(&old, NOW)).await, Ok(()));
        assert_eq!(tenant.fetches(), 1);

        // The tenant rotates to a new key.
        let new = WebhookSigner::from_seed("tenant-key-2", [8; 32]);
        tenant.serve(Some(&new));
        // Within the interval of the last fetch, an unknown key is not
        // fetched for: refused.
        clock.set(NOW + 10);
        assert_eq!(
            check(&verifier, &signed(&new, NOW + 10)).await,
            Err("unknown_key")
        );
        assert_eq!(tenant.fetches(), 1);
        // Once the interval has passed, it is fetched for, once.
        clock.set(NOW + 300);
        assert_eq!(check(&verifier, &signed(&new, NOW + 300)).await, Ok(()));
        assert_eq!(check(&verifier, &signed(&new, NOW + 300)).await, Ok(()));
        assert_eq!(tenant.fetches(), 2);
        // A forged key id a little later does not fetch again.
        let forged = WebhookSigner::from_seed("forged", [9; 32]);
        assert_eq!(
            check(&verifier, &signed(&forged, NOW + 301)).await,
            Err("unknown_key")
        );
        assert_eq!(tenant.fetches(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_jwks_is_a_503_never_an_acceptance() {
        let clock = TestClock::at(NOW);
        let tenant = Tenant::default();
        let verifier = verifier(&tenant, &clock);
        assert_eq!(
            check(&verifier, &signed(&mattr(), NOW)).await,
            Err("keys_unavailable")
        );
        assert_eq!(
            verifier.verify(
                &http::Method::POST,
                &URL.parse().unwrap(),
                &http::HeaderMap::new(),
                b"{}"
            ),
            Err(WebhookRejection::KeysUnavailable)
        );

        // Through the layer: 503, the handler not run.
        let runs = Arc::new(AtomicUsize::new(0));
        let app = app(
            WebhookLayer::new(verifier.clone()),
            runs.clone(),
            StatusCode::OK,
        );
        clock.set(NOW + 300);
        let response = app
            .clone()
            .oneshot(delivery("event-1", NOW + 300))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(code(response).await, "keys_unavailable");
        assert_eq!(runs.load(Ordering::SeqCst), 0);

        // The tenant is back: after the interval the delivery is accepted.
        tenant.serve(Some(&mattr()));
        clock.set(NOW + 600);
        let response = app.oneshot(delivery("event-1", NOW + 600)).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{:?} fetches {}",
            response.extensions().get::<WebhookRejection>(),
            tenant.fetches()
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_oversized_or_unreadable_jwks_gives_no_keys() {
        let clock = TestClock::at(NOW);
        let tenant = Tenant::default();
        let verifier = verifier(&tenant, &clock);
        let padded = format!(
            r#"{{"keys": {}, "padding": "{}"}}"#,
            serde_json::from_str::<Value>(&mattr().jwks()).unwrap()["keys"],
            "x".repeat(hook_layer::webhooks::MAX_JWKS_LEN)
        );
        *tenant.jwks.lock().unwrap() = Some(padded);
        assert_eq!(
            check(&verifier, &signed(&mattr(), NOW)).await,
            Err("keys_unavailable")
        );
        *tenant.jwks.lock().unwrap() = Some("<html>not a JWKS</html>".into());
        clock.set(NOW + 300);
        assert_eq!(
            check(&verifier, &signed(&mattr(), NOW + 300)).await,
            Err("keys_unavailable")
        );
        assert_eq!(tenant.fetches(), 2);
    }

    #[tokio::test]
    async fn tenants_keep_their_own_keys() {
        let clock = TestClock::at(NOW);
        let a = Tenant::serving(&mattr());
        let other = WebhookSigner::from_seed("tenant-b-key", [9; 32]);
        let b = Tenant::serving(&other);
        let (va, vb) = (verifier(&a, &clock), verifier(&b, &clock));
        assert_eq!(check(&va, &signed(&mattr(), NOW)).await, Ok(()));
        assert_eq!(check(&vb, &signed(&other, NOW)).await, Ok(()));
        assert_eq!(check(&va, &signed(&other, NOW)).await, Err("unknown_key"));
        assert_eq!(check(&vb, &signed(&mattr(), NOW)).await, Err("unknown_key"));
    }
}
