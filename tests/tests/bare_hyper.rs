//! The layer on a bare hyper server, no axum: any tower stack works.

use std::convert::Infallible;

use bytes::Bytes;
use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;

const SECRET: &[u8; 32] = b"bare hyper test secret, 32 bytes";

/// `/interaction` greets; `/interaction/done` completes the journey.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let session = request
        .extensions()
        .get::<HookSession>()
        .expect("the layer ran")
        .clone();
    if request.uri().path() == "/interaction/done" {
        let redirect = session
            .complete()
            .claim("ok", true)
            .and_then(|c| c.redirect());
        return Ok(match redirect {
            Ok(redirect) => redirect.into_http(),
            Err(error) => Response::builder()
                .status(500)
                .body(Full::from(error.to_string()))
                .unwrap(),
        });
    }
    let name = session
        .claims()
        .get("given_name")
        .and_then(|v| v.as_str())
        .unwrap_or("?");
    Ok(Response::new(Full::from(format!("hello {name}"))))
}

async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let layer = InteractionHookLayer::new(HookSecret::from_bytes(SECRET).unwrap())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL);
    let service = ServiceBuilder::new().layer(layer).service_fn(handle);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    base
}

#[tokio::test]
async fn hyper_without_axum() {
    let base = serve().await;
    let issuer = MockIssuer::new(HookSecret::from_bytes(SECRET).unwrap());
    let http = hook_tests::client();

    let uri = issuer
        .session()
        .claim("given_name", "Ada")
        .uri("/interaction");
    let response = http.get(format!("{base}{uri}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert_eq!(response.text().await.unwrap(), "hello Ada");

    let forged = issuer
        .session()
        .signed_with(&HookSecret::from_bytes(&[1; 32]).unwrap())
        .uri("/interaction");
    let response = http.get(format!("{base}{forged}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.text().await.unwrap(),
        "the session token signature is not valid"
    );

    let done = issuer.session().uri("/interaction/done");
    let response = http.get(format!("{base}{done}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(response.bytes().await.unwrap().is_empty());
    let read = issuer.read_redirect(&location).unwrap();
    let Outcome::Completed { claims, .. } = read.outcome else {
        panic!("{:?}", read.outcome)
    };
    assert_eq!(claims["ok"], true);
}

#[tokio::test]
async fn full_bodies_work_with_the_default_rejection() {
    // Checked without a socket too: the body type is hyper's `Full<Bytes>`.
    use tower::{Layer, ServiceExt};
    let layer = InteractionHookLayer::new(HookSecret::from_bytes(SECRET).unwrap());
    let inner = tower::service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
    });
    let response = layer
        .layer(inner)
        .oneshot(Request::get("/").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "the request carries no session token");
}
