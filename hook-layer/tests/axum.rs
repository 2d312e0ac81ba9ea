//! `HookSession` as an axum extractor.
#![cfg(feature = "axum")]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::routing::get;
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use http::{Request, StatusCode};
use serde::Deserialize;
use tower::ServiceExt;

#[derive(Clone, Deserialize)]
struct Profile {
    email: String,
    given_name: String,
}

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"axum tests use this 32-byte key!").unwrap()
}

async fn body_text(response: axum::response::Response) -> String {
    String::from_utf8(
        to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

fn request(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

async fn greet(session: HookSession<Profile>) -> String {
    format!(
        "{} <{}>",
        session.claims().given_name,
        session.claims().email
    )
}

#[tokio::test]
async fn handlers_read_typed_claims() {
    let issuer = MockIssuer::new(secret());
    let app = Router::new()
        .route("/interaction", get(greet))
        .layer(InteractionHookLayer::new(secret()).claims::<Profile>());
    let uri = issuer
        .session()
        .claim("email", "ada@example.com")
        .claim("given_name", "Ada")
        .uri("/interaction");
    let response = app.oneshot(request(&uri)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "Ada <ada@example.com>");
}

#[tokio::test]
async fn claims_of_the_wrong_shape_are_refused_before_the_handler() {
    let issuer = MockIssuer::new(secret());
    let app = Router::new()
        .route("/interaction", get(greet))
        .layer(InteractionHookLayer::new(secret()).claims::<Profile>());
    let uri = issuer
        .session()
        .claim("email", "ada@example.com")
        .uri("/interaction");
    let response = app.oneshot(request(&uri)).await.unwrap();
    // Authentic, but not what the hook expects: the server's configuration.
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body_text(response).await,
        "the session token's user claims do not have the expected shape"
    );
}

#[tokio::test]
async fn without_the_layer_the_extractor_is_a_500_naming_it() {
    let issuer = MockIssuer::new(secret());
    let app = Router::new().route("/interaction", get(greet));
    let response = app
        .oneshot(request(&issuer.session().uri("/interaction")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body_text(response).await,
        "Server misconfiguration: this route is not behind InteractionHookLayer."
    );
}

#[tokio::test]
async fn a_layer_with_another_claims_type_is_a_500_too() {
    let issuer = MockIssuer::new(secret());
    // The layer stores `HookSession<ClaimsMap>`; the handler asks for `Profile`.
    let app = Router::new()
        .route("/interaction", get(greet))
        .layer(InteractionHookLayer::new(secret()));
    let response = app
        .oneshot(request(&issuer.session().uri("/interaction")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = body_text(response).await;
    // It says the layer is there, and names both types.
    assert!(body.contains("is behind InteractionHookLayer"), "{body}");
    assert!(!body.contains("not behind"), "{body}");
    assert!(body.contains("serde_json::map::Map<"), "{body}");
    assert!(body.contains("HookSession<axum::Profile>"), "{body}");
}

#[tokio::test]
async fn option_extractor_is_none_without_the_layer() {
    async fn maybe(session: Option<HookSession>) -> String {
        session.map_or_else(|| "anonymous".to_owned(), |s| s.state().to_owned())
    }
    let issuer = MockIssuer::new(secret());
    let open = Router::new().route("/", get(maybe));
    let guarded = Router::new()
        .route("/", get(maybe))
        .layer(InteractionHookLayer::new(secret()));
    let uri = issuer.session().state("s-1").uri("/");

    let response = open.oneshot(request(&uri)).await.unwrap();
    assert_eq!(body_text(response).await, "anonymous");
    let response = guarded.oneshot(request(&uri)).await.unwrap();
    assert_eq!(body_text(response).await, "s-1");
}

#[tokio::test]
async fn routes_outside_the_layer_are_untouched() {
    let issuer = MockIssuer::new(secret());
    let hook = Router::new()
        .route("/interaction", get(greet))
        .layer(InteractionHookLayer::new(secret()).claims::<Profile>());
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(hook);
    let response = app.clone().oneshot(request("/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("referrer-policy").is_none());
    let forged = issuer
        .session()
        .signed_with(&HookSecret::from_bytes(&[2; 32]).unwrap())
        .uri("/interaction");
    let response = app.oneshot(request(&forged)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
