//! The tower service, driven with `oneshot` and `service_fn`: what reaches
//! the inner service, what it is handed, and what comes back.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer, Rejection};
use http::header::{CACHE_CONTROL, REFERRER_POLICY};
use http::{Request, Response, StatusCode};
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};

fn secret() -> HookSecret {
    HookSecret::from_base64("dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=").unwrap()
}

fn layer() -> InteractionHookLayer {
    InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
}

fn get(uri: &str) -> Request<()> {
    Request::get(uri).body(()).unwrap()
}

/// An inner service that counts its calls and echoes the session's state.
fn echo_state(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<()>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<String>, Infallible>>,
> + Clone {
    service_fn(move |request: Request<()>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let session = request.extensions().get::<HookSession>().cloned();
        async move {
            let state = session.map_or_else(|| "no session".to_owned(), |s| s.state().to_owned());
            Ok(Response::new(state))
        }
    })
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_session() {
    let issuer = MockIssuer::new(secret());
    let calls = Arc::new(AtomicUsize::new(0));
    let service = layer().layer(echo_state(calls.clone()));
    let uri = issuer.session().state("state-123").uri("/interaction");

    let response = service.oneshot(get(&uri)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "state-123");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn a_refused_request_never_reaches_the_handler() {
    let issuer = MockIssuer::new(secret());
    let other = HookSecret::from_bytes(&[9; 32]).unwrap();
    let cases = [
        ("/interaction".to_owned(), Rejection::MissingToken),
        (
            issuer.session().signed_with(&other).uri("/interaction"),
            Rejection::BadSignature,
        ),
        (
            issuer.session().expired().uri("/interaction"),
            Rejection::Expired,
        ),
        (
            issuer
                .session()
                .audience("https://other.example/hook")
                .uri("/i"),
            Rejection::WrongAudience,
        ),
        (
            issuer.session().issuer("https://other.example").uri("/i"),
            Rejection::WrongIssuer,
        ),
    ];
    for (uri, expected) in cases {
        let calls = Arc::new(AtomicUsize::new(0));
        let response = layer()
            .layer(echo_state(calls.clone()))
            .oneshot(get(&uri))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 0, "{expected:?}");
        assert_eq!(response.status(), expected.status());
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.body(), &expected.to_string());
        assert_eq!(response.extensions().get::<Rejection>(), Some(&expected));
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
        let token = uri
            .split_once('=')
            .map(|(_, token)| token)
            .unwrap_or("no token");
        assert!(!response.body().contains(token));
    }
}

#[tokio::test]
async fn handler_headers_are_kept() {
    let issuer = MockIssuer::new(secret());
    let inner = service_fn(|_: Request<()>| async {
        let response = Response::builder()
            .header(CACHE_CONTROL, "private, max-age=5")
            .body(String::new())
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let response = layer()
        .layer(inner)
        .oneshot(get(&issuer.session().uri("/i")))
        .await
        .unwrap();
    assert_eq!(response.headers()[CACHE_CONTROL], "private, max-age=5");
    assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn a_custom_rejection_response_replaces_the_default() {
    let layer = layer().on_rejection(|rejection: &Rejection| {
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header("content-type", "text/html")
            .body(format!("<p>{}</p>", rejection.code()))
            .unwrap()
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let response = layer
        .layer(echo_state(calls))
        .oneshot(get("/i?session_token=a.b.c"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.body(), "<p>malformed_token</p>");
    assert!(matches!(
        response.extensions().get::<Rejection>(),
        Some(Rejection::MalformedToken(_))
    ));
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn typed_claims_reach_the_handler() {
    #[derive(Clone, serde::Deserialize)]
    struct Profile {
        email: String,
    }
    let issuer = MockIssuer::new(secret());
    let inner = service_fn(|request: Request<()>| async move {
        let session = request.extensions().get::<HookSession<Profile>>().unwrap();
        Ok::<_, Infallible>(Response::new(session.claims().email.clone()))
    });
    let service = layer().claims::<Profile>().layer(inner);
    let uri = issuer.session().claim("email", "ada@example.com").uri("/i");
    let response = service.oneshot(get(&uri)).await.unwrap();
    assert_eq!(response.body(), "ada@example.com");
}

/// Readiness is the inner service's: behind a concurrency limit of one, a
/// second clone is not ready while the first holds the only permit, and
/// becomes ready once it is released.
#[tokio::test]
async fn readiness_is_delegated_to_the_inner_service() {
    let issuer = MockIssuer::new(secret());
    let calls = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .layer(layer())
        .concurrency_limit(1)
        .service(echo_state(calls.clone()));

    let mut first = service.clone();
    let mut second = service;
    first.ready().await.unwrap();
    let blocked = tokio::time::timeout(Duration::from_millis(50), second.ready()).await;
    assert!(
        blocked.is_err(),
        "the second clone must wait for the only permit"
    );

    let response = first.call(get(&issuer.session().uri("/i"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    drop(first);
    tokio::time::timeout(Duration::from_secs(5), second.ready())
        .await
        .unwrap()
        .unwrap();
    let response = second.call(get(&issuer.session().uri("/i"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// The layer works behind `Buffer`, which needs `Send + 'static` futures
/// and services: the service and its future are both.
#[tokio::test]
async fn works_behind_a_buffer() {
    let issuer = MockIssuer::new(secret());
    let calls = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .buffer(4)
        .layer(layer())
        .service(echo_state(calls.clone()));
    let (first, second) = tokio::join!(
        service
            .clone()
            .oneshot(get(&issuer.session().state("one").uri("/i"))),
        service.oneshot(get("/i?session_token=forged.x.y")),
    );
    assert_eq!(first.unwrap().body(), "one");
    assert_eq!(second.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
