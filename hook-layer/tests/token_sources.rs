//! Where the token comes from: the query parameter (the default), an
//! `Authorization: Bearer` header (and then never the query), or either;
//! conflicting tokens; JSON refusals and JSON completions for a native
//! app's backend.
#![cfg(feature = "axum")]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer, JsonOnRejection, TokenSource};
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"token source tests use this key!").unwrap()
}

async fn state(session: HookSession) -> String {
    session.state().to_owned()
}

async fn finish(session: HookSession) -> Response {
    match session.complete().claim("done", true) {
        Ok(completion) => match completion.redirect() {
            Ok(redirect) => redirect.json().into_response(),
            Err(error) => error.into_response(),
        },
        Err(error) => error.into_response(),
    }
}

fn app(source: TokenSource) -> Router {
    Router::new()
        .route("/api/session", get(state))
        .route("/api/finish", post(finish))
        .route_layer(InteractionHookLayer::new(secret()).token_source(source))
}

fn json_app() -> Router {
    Router::new().route("/api/session", get(state)).route_layer(
        InteractionHookLayer::new(secret())
            .token_source(TokenSource::Bearer)
            .on_rejection(JsonOnRejection),
    )
}

/// A GET of `path` (query included) with these `Authorization` headers.
fn request(path: &str, authorization: &[&str]) -> Request<Body> {
    let mut builder = Request::get(path);
    for value in authorization {
        builder = builder.header(AUTHORIZATION, *value);
    }
    builder.body(Body::empty()).unwrap()
}

async fn call(app: Router, request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|value| value.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn by_default_only_the_query_counts() {
    let mock = MockIssuer::new(secret());
    let token = mock.session().state("from-query").token();
    let other = mock.session().state("from-header").token();
    let uri = format!("/api/session?session_token={token}");
    // An Authorization header of any kind is none of the layer's business.
    let bearer = format!("Bearer {other}");
    let (status, _, body) = call(app(TokenSource::Query), request(&uri, &[&bearer])).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "from-query"));
    let header_only = request("/api/session", &[&bearer]);
    let (status, challenge, _) = call(app(TokenSource::Query), header_only).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn a_bearer_source_reads_the_authorization_header() {
    let mock = MockIssuer::new(secret());
    let token = mock.session().state("native").token();
    let bearer = format!("Bearer {token}");
    let ok = call(
        app(TokenSource::Bearer),
        request("/api/session", &[&bearer]),
    )
    .await;
    assert_eq!((ok.0, ok.2.as_str()), (StatusCode::OK, "native"));
    // The scheme is case-insensitive.
    let lower = format!("bearer {token}");
    let ok = call(app(TokenSource::Bearer), request("/api/session", &[&lower])).await;
    assert_eq!(ok.0, StatusCode::OK);

    // Other query parameters are none of the layer's business.
    let other = call(
        app(TokenSource::Bearer),
        request("/api/session?lang=en&session=1", &[&bearer]),
    )
    .await;
    assert_eq!((other.0, other.2.as_str()), (StatusCode::OK, "native"));
    // No header: a bare challenge.
    let (status, challenge, _) = call(app(TokenSource::Bearer), request("/api/session", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));

    // A forged or expired token: 401 with RFC 6750's invalid_token.
    let forged = MockIssuer::new(HookSecret::from_bytes(&[1; 32]).unwrap());
    let forged = format!("Bearer {}", forged.session().token());
    let expired = format!("Bearer {}", mock.session().expired().token());
    for header in [&forged, &expired] {
        let (status, challenge, _) =
            call(app(TokenSource::Bearer), request("/api/session", &[header])).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""));
    }
    // A header that is not `Bearer <token>`, and two headers.
    let (status, challenge, _) = call(
        app(TokenSource::Bearer),
        request("/api/session", &["Bearer"]),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""));
    let (status, challenge, _) = call(
        app(TokenSource::Bearer),
        request("/api/session", &[&bearer, &bearer]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer error=\"invalid_request\"")
    );
}

#[tokio::test]
async fn different_tokens_in_query_and_header_are_refused() {
    let mock = MockIssuer::new(secret());
    let one = mock.session().state("one").token();
    let two = mock.session().state("two").token();
    let uri = format!("/api/session?session_token={one}");
    let bearer = format!("Bearer {two}");
    let (status, challenge, body) =
        call(app(TokenSource::QueryOrBearer), request(&uri, &[&bearer])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer error=\"invalid_request\"")
    );
    assert!(body.contains("different session tokens"), "{body}");
    // Bearer-only takes no token in the query, whatever its value.
    let (status, _, body) = call(app(TokenSource::Bearer), request(&uri, &[&bearer])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not in the query"), "{body}");
}

/// A bearer-only endpoint never reads the query: a token parameter there
/// is refused whatever it holds (the header's own token, another, none,
/// twice, or badly encoded) and whether or not the header is there, with
/// RFC 6750's `invalid_request`, in JSON as in text, and the token never
/// shown.
#[tokio::test]
async fn a_bearer_source_refuses_any_token_in_the_query() {
    let mock = MockIssuer::new(secret());
    let token = mock.session().state("native").token();
    let other = mock.session().state("other").token();
    let bearer = format!("Bearer {token}");
    let queries = [
        format!("session_token={token}"),
        format!("session_token={other}"),
        format!("lang=en&session_token={token}"),
        "session_token=".to_owned(),
        format!("session_token={token}&session_token={token}"),
        "session_token=%ZZ".to_owned(),
        format!("session%5Ftoken={token}"),
    ];
    for query in &queries {
        let uri = format!("/api/session?{query}");
        for headers in [&[bearer.as_str()][..], &[]] {
            let (status, challenge, body) =
                call(app(TokenSource::Bearer), request(&uri, headers)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query} {headers:?}");
            assert_eq!(
                challenge.as_deref(),
                Some("Bearer error=\"invalid_request\""),
                "{query} {headers:?}"
            );
            assert_eq!(
                body,
                "the session token goes in the Authorization header (Bearer) only, not in the query"
            );
        }
        let (status, challenge, body) = call(json_app(), request(&uri, &[&bearer])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer error=\"invalid_request\"")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"],
            "token_in_query"
        );
        assert!(!body.contains(&token[..20]), "{body}");
    }
    // Nothing reached the handler, not even with the header's own token.
    let finish = Request::post(format!("/api/finish?session_token={token}"))
        .header(AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    let response = app(TokenSource::Bearer).oneshot(finish).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn either_source_takes_the_token_from_where_it_is() {
    let mock = MockIssuer::new(secret());
    let token = mock.session().state("either").token();
    let in_query = format!("/api/session?session_token={token}");
    let bearer = format!("Bearer {token}");
    for request in [
        request(&in_query, &[]),
        request("/api/session", &[&bearer]),
        request(&in_query, &[&bearer]),
    ] {
        let (status, _, body) = call(app(TokenSource::QueryOrBearer), request).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "either"));
    }
    let (status, challenge, _) = call(
        app(TokenSource::QueryOrBearer),
        request("/api/session", &[]),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn json_refusals_have_a_stable_body_and_never_the_token() {
    let forged = MockIssuer::new(HookSecret::from_bytes(&[1; 32]).unwrap());
    let token = forged.session().token();
    let header = format!("Bearer {token}");
    let response = json_app()
        .oneshot(request("/api/session", &[&header]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(
        response.headers()[WWW_AUTHENTICATE],
        "Bearer error=\"invalid_token\""
    );
    let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(!text.contains(&token[..20]), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        json!({"error": "bad_signature", "message": "the session token signature is not valid"})
    );
    let expired = format!(
        "Bearer {}",
        MockIssuer::new(secret()).session().expired().token()
    );
    let (status, _, body) = call(json_app(), request("/api/session", &[&expired])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "expired"
    );
}

#[tokio::test]
async fn a_completion_can_answer_json_for_the_app_to_open() {
    let mock = MockIssuer::new(secret());
    let token = mock.session().state("app").token();
    let finish = Request::post("/api/finish")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app(TokenSource::Bearer).oneshot(finish).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let url = body["redirectUrl"].as_str().unwrap();
    let read = mock.read_redirect(url).unwrap();
    assert_eq!(read.state, "app");
    assert!(matches!(read.outcome, Outcome::Completed { .. }));
}
