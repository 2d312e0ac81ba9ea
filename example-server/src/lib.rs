//! An example MATTR VII interaction hook on axum: a welcome page, terms of
//! service, a details form and a one-time code, then back to MATTR VII with
//! the collected claims. With no secret configured it also plays MATTR VII,
//! so the whole journey runs in a browser without a tenant. The same
//! journey is a JSON API for a native app under the hook's path
//! (`{hook}/api/...`), and each session is answered once, whichever way.
//!
//! The binary (`cargo run -p example-server`) wraps [`app`]; tests use it
//! directly.
//!
//! Pages are askama templates in `example-server/templates/` (see
//! [`pages`]); one-time codes go out through a [`delivery::CodeSender`].
//!
//! Dev mode (the simulated MATTR VII, `--dev-issuer`, starting without a
//! secret, codes shown on screen) is compiled in only with the `dev`
//! feature, on by default; build production binaries with
//! `--no-default-features`.

#![forbid(unsafe_code)]

mod answered;
mod api;
mod claims;
pub mod config;
pub mod delivery;
pub mod details;
#[cfg(feature = "dev")]
mod dev_issuer;
mod journey;
pub mod otp;
pub mod pages;
pub mod progress;
mod steps;

use std::future::Future;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use tokio::net::TcpListener;

pub use claims::UserClaims;
pub use config::{Args, Config, ConfigError};
#[cfg(feature = "dev")]
pub use dev_issuer::{CALLBACK_PATH, START_PATH};

/// The whole server: the hook journey, `/healthz`, the stylesheet, a 404
/// page for anything else and, in dev mode, the simulated MATTR VII under
/// `/dev`.
pub fn app(config: &Config) -> Router {
    let dev_start = dev_start(config);
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/assets/style.css", get(stylesheet))
        .merge(journey::router(config));
    #[cfg(feature = "dev")]
    if config.dev_issuer {
        app = app.merge(dev_issuer::router(config));
    }
    // `/` belongs to the journey when the hook URL has no path; otherwise
    // it leads to the simulated MATTR VII in dev mode, or explains itself.
    if config.hook_path() != "/" {
        app = match dev_start {
            Some(start) => app.route("/", get(move || async move { Redirect::to(start) })),
            None => app.route("/", get(|| async { pages::landing() })),
        };
    }
    app.fallback(move || async move { pages::not_found(dev_start) })
        .layer(middleware::from_fn(log_request))
}

/// The simulated MATTR VII's start page, when it is served: the way on
/// from pages that would otherwise be dead ends in dev mode.
fn dev_start(config: &Config) -> Option<&'static str> {
    #[cfg(feature = "dev")]
    if config.dev_issuer {
        return Some(START_PATH);
    }
    let _ = config;
    None
}

/// Serves `config` on `listener` until `shutdown` completes, then lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(config))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("assets/style.css"),
    )
        .into_response()
}

/// One line per request, at debug level. The query string is left out: on
/// hook routes it holds the session token, a bearer credential.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(%method, path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}
