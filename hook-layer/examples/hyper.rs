//! The layer on bare hyper 1, without axum: `InteractionHookLayer` is a
//! plain tower layer, so any stack that takes one can use it. Here a tower
//! `ServiceBuilder` puts it in front of a `service_fn`, and hyper-util's
//! `TowerToHyperService` hands the result to hyper's HTTP/1 connections.
//!
//! ```text
//! cargo run -p hook-layer --example hyper
//! ```
//!
//! With `HOOK_SECRET` (base64, as MATTR VII returns it; during a rotation
//! the current secret first, then older ones, comma-separated), `HOOK_ISSUER`
//! (the tenant URL) and `HOOK_URL` (the hook URL configured on the tenant)
//! set, or `HOOK_TENANTS` (a tenants file) instead, it serves those tenants
//! at `HOOK_URL`'s path: the settings are read as the `config` feature reads
//! them. Without any of them it plays MATTR VII itself with `MockIssuer` and
//! prints a URL to open in a browser; the journey ends on a `/callback` page
//! that shows what MATTR VII would have read. It listens on 127.0.0.1, port
//! `PORT` (default 3000; 0 for any free one).

mod demo;

use std::convert::Infallible;
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use demo::{Settings, escape};
use hook_layer::HookSession;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// The response body. The layer builds its refusals' bodies with
/// `From<String>`, and a `HookRedirect` its empty one with `Default`:
/// `String` is both.
type Body = String;

/// Where the hook's pages are: below the hook URL's path.
struct Paths {
    welcome: String,
    finish: String,
    decline: String,
}

/// The hook's pages, behind the layer: the verified session is in the
/// request extensions.
async fn interaction(
    paths: Arc<Paths>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let Some(session) = request.extensions().get::<HookSession>() else {
        // Only if the layer were missing: a server bug.
        return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, "no session"));
    };
    let path = request.uri().path();
    let method = request.method();
    let redirect = if method == Method::GET && path == paths.welcome {
        return Ok(welcome(&paths, session));
    } else if method == Method::POST && path == paths.finish {
        // The buttons post an empty form: nothing to read from the body.
        session
            .complete()
            .claim("termsAccepted", true)
            .and_then(|completion| completion.redirect())
    } else if method == Method::POST && path == paths.decline {
        session.fail("The holder declined the terms").redirect()
    } else {
        return Ok(plain(StatusCode::NOT_FOUND, "not found"));
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
fn welcome(paths: &Paths, session: &HookSession) -> Response<Body> {
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
<form method="post" action="{finish}?session_token={token}">
  <button type="submit">Accept</button>
</form>
<form method="post" action="{decline}?session_token={token}">
  <button type="submit">Decline</button>
</form>
</body></html>"#,
        name = escape(name),
        finish = paths.finish,
        decline = paths.decline,
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

/// The hook's pages behind the layer, at the hook URL's path, and, in the
/// demo, MATTR VII's.
async fn serve(listener: TcpListener, settings: Settings) -> Result<(), Box<dyn Error>> {
    let paths = Arc::new(Paths {
        welcome: settings.path(""),
        finish: settings.path("finish"),
        decline: settings.path("decline"),
    });
    let hook = ServiceBuilder::new()
        .layer(settings.layer())
        .service_fn(move |request| interaction(Arc::clone(&paths), request));

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
