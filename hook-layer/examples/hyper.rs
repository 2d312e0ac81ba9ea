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

use std::convert::Infallible;
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
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
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let settings = settings(&base)?;

    let mut layer = InteractionHookLayer::new(settings.secret)
        .issuer(settings.issuer)
        .audience(settings.hook_url);
    if settings.demo.is_some() {
        // The demo's MATTR VII is this process, on 127.0.0.1; a real
        // tenant's redirect URL is always https on the tenant.
        layer = layer.allow_loopback_redirects();
    }
    let hook = ServiceBuilder::new().layer(layer).service_fn(interaction);

    let demo = settings.demo.map(Arc::new);
    match &demo {
        Some(demo) => println!("open this in a browser: {base}{}", demo.start_uri()),
        None => println!("listening on {base}; MATTR VII sends holders to /interaction"),
    }
    // The demo's own pages are outside the layer; everything else goes
    // through it.
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

/// What the hook needs to know about its tenant, and, in the demo, the
/// stand-in for MATTR VII.
struct Settings {
    secret: HookSecret,
    issuer: String,
    hook_url: String,
    /// Plays MATTR VII when no tenant is configured.
    demo: Option<Demo>,
}

/// The tenant from `HOOK_SECRET`, `HOOK_ISSUER` and `HOOK_URL` when all
/// three are set; otherwise a demo tenant, played by `MockIssuer`, that
/// sends holders back to this server's `/callback`.
fn settings(base: &str) -> Result<Settings, Box<dyn Error>> {
    let names = ["HOOK_SECRET", "HOOK_ISSUER", "HOOK_URL"];
    match names.map(|name| std::env::var(name).ok()) {
        [Some(secret), Some(issuer), Some(hook_url)] => Ok(Settings {
            // Parsing the base64 secret never echoes it in an error.
            secret: secret
                .trim()
                .parse()
                .map_err(|error| format!("HOOK_SECRET: {error}"))?,
            issuer,
            hook_url,
            demo: None,
        }),
        [None, None, None] => {
            // A fixed secret is fine for a demo on 127.0.0.1 and nothing
            // else: anyone who reads this file can sign tokens with it.
            let secret = HookSecret::from_bytes(b"demo only, never in production!!")?;
            let hook_url = format!("{base}/interaction");
            let mattr = MockIssuer::new(secret.clone())
                .hook_url(&hook_url)
                .redirect_url(format!("{base}/callback"));
            Ok(Settings {
                secret,
                issuer: mattr.tenant_url().to_owned(),
                hook_url,
                demo: Some(Demo {
                    mattr,
                    base: base.to_owned(),
                }),
            })
        }
        _ => Err("set all of HOOK_SECRET, HOOK_ISSUER and HOOK_URL, or none for the demo".into()),
    }
}

/// `PORT`, or 3000.
fn port() -> Result<u16, Box<dyn Error>> {
    match std::env::var("PORT") {
        Ok(port) => Ok(port.parse().map_err(|_| "PORT must be a port number")?),
        Err(_) => Ok(3000),
    }
}

/// The demo's MATTR VII, on this server: `/` starts an issuance and
/// `/callback` is where the holder comes back.
struct Demo {
    mattr: MockIssuer,
    /// `http://127.0.0.1:<port>`.
    base: String,
}

impl Demo {
    /// A fresh session token for a sample holder, as MATTR VII would send
    /// the browser to the hook with it.
    fn start_uri(&self) -> String {
        self.mattr
            .session()
            .claim("given_name", "Ada")
            .uri("/interaction")
    }

    /// `/`: starts another issuance.
    fn start(&self) -> Response<Body> {
        let mut response = plain(StatusCode::SEE_OTHER, "");
        if let Ok(location) = HeaderValue::try_from(self.start_uri()) {
            response.headers_mut().insert(LOCATION, location);
        }
        response
    }

    /// `/callback`: where MATTR VII would continue the issuance. It reads
    /// the response token as MATTR VII would and shows the outcome.
    fn callback(&self, uri: &http::Uri) -> Response<Body> {
        let outcome = match self.mattr.read_redirect(&format!("{}{uri}", self.base)) {
            Ok(response) => match response.outcome {
                Outcome::Completed {
                    claims,
                    claims_to_persist,
                } => json!({
                    "outcome": "completed",
                    "claims": claims,
                    "claimsToPersist": claims_to_persist,
                }),
                Outcome::Failed { message } => json!({ "outcome": "failed", "message": message }),
            },
            Err(error) => {
                let refusal = format!("MATTR VII would refuse this response: {error}");
                return plain(StatusCode::BAD_REQUEST, &refusal);
            }
        };
        println!(
            "MATTR VII read: {outcome}; open {}/ to start again",
            self.base
        );
        let mut response = plain(StatusCode::OK, &format!("{outcome:#}\n"));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
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

/// Text for an HTML page: claims come from outside.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
