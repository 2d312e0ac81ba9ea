//! The layer on bare hyper 1, without axum: `InteractionHookLayer` is a
//! plain tower layer, so any stack that takes one can use it. Here a tower
//! `ServiceBuilder` puts it in front of a `service_fn`, and hyper-util's
//! `TowerToHyperService` hands the result to hyper's HTTP/1 connections.
//!
//! ```text
//! cargo run -p hook-layer --example hyper
//! ```
//!
//! With `HOOK_SECRET` (base64, as MATTR VII returns it), `HOOK_ISSUER` (the
//! tenant URL) and `HOOK_URL` (the hook URL configured on the tenant) set, it
//! serves a real tenant. Without them it plays MATTR VII itself with
//! `MockIssuer` and prints a URL to open in a browser; the journey ends on a
//! `/callback` page that shows what MATTR VII would have read. `PORT` picks
//! the port (default 3000; 0 for any free one).

mod demo;

use std::convert::Infallible;
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use demo::{Settings, escape};
use hook_layer::{HookSession, InteractionHookLayer};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// Any body type works with the layer as long as it has a `Default` (the
/// body of its refusals); `String` is enough here.
type Body = String;

/// The hook's pages, behind the layer: the verified session is in the
/// request extensions.
async fn interaction(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let Some(session) = request.extensions().get::<HookSession>() else {
        // Only if the layer were missing: a server bug.
        return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, "no session"));
    };
    let path = request.uri().path();
    let redirect = match (request.method(), path) {
        (&Method::GET, "/interaction") => return Ok(welcome(session)),
        // The buttons post an empty form: nothing to read from the body.
        (&Method::POST, "/interaction/finish") => session
            .complete()
            .claim("termsAccepted", true)
            .and_then(|completion| completion.redirect()),
        (&Method::POST, "/interaction/decline") => {
            session.fail("The holder declined the terms").redirect()
        }
        _ => return Ok(plain(StatusCode::NOT_FOUND, "not found")),
    };
    Ok(match redirect {
        // A `303 See Other` back to MATTR VII, with the signed response.
        Ok(redirect) => redirect.into_http(),
        Err(error) => {
            eprintln!("could not complete: {error}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "could not complete")
        }
    })
}

/// Terms to accept or decline. The session token travels in each form's
/// action, since the layer verifies it on every request.
fn welcome(session: &HookSession) -> Response<Body> {
    let name = session
        .claims()
        .get("given_name")
        .and_then(|name| name.as_str())
        .unwrap_or("there");
    let token = session.token();
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Terms</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Hello, {name}</h1>
<p>Do you accept the terms of service?</p>
<form method="post" action="/interaction/finish?session_token={token}">
  <button type="submit">Accept</button>
</form>
<form method="post" action="/interaction/decline?session_token={token}">
  <button type="submit">Decline</button>
</form>
</body></html>"#,
        name = escape(name),
    );
    let mut response = Response::new(page);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[tokio::main]
async fn main() -> ExitCode {
    demo::run(serve).await
}

/// The hook's pages behind the layer and, in the demo, MATTR VII's.
async fn serve(listener: TcpListener, settings: Settings) -> Result<(), Box<dyn Error>> {
    let mut layer = InteractionHookLayer::new(settings.secret)
        .issuer(settings.issuer)
        .audience(settings.hook_url);
    if settings.demo.is_some() {
        // The demo's MATTR VII is this process, on 127.0.0.1; a real
        // tenant's redirect URL is always https on the tenant.
        layer = layer.allow_loopback_redirects();
    }
    let hook = ServiceBuilder::new().layer(layer).service_fn(interaction);

    // The demo's MATTR VII, outside the layer; everything else goes
    // through it.
    let demo = settings.demo.map(Arc::new);
    let app = service_fn(move |request: Request<Incoming>| {
        let (hook, demo) = (hook.clone(), demo.clone());
        async move {
            match (demo, request.uri().path()) {
                (Some(demo), "/") => Ok(demo.start()),
                (Some(demo), "/callback") => Ok(demo.callback(request.uri())),
                _ => hook.oneshot(request).await,
            }
        }
    });

    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                eprintln!("connection error: {error}");
            }
        });
    }
}

/// A plain-text response that no cache keeps.
fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(text.to_owned());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
