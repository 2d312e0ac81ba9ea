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
//! MATTR VII's signed webhooks (`HOOK_WEBHOOK_ID`) are received beside
//! the journey, each event handled once (see `webhooks`).
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
pub mod args;
mod claims;
pub mod config;
pub mod delivery;
pub mod details;
#[cfg(feature = "dev")]
mod dev_issuer;
#[cfg(feature = "dev")]
mod dev_webhooks;
mod http_client;
mod journey;
mod jwks_client;
pub mod otp;
pub mod pages;
pub mod progress;
pub mod prometheus;
mod steps;
mod store;
pub mod webhook_settings;
mod webhooks;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hook_layer::attempts::AttemptStore;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use tokio::net::TcpListener;

pub use claims::UserClaims;
pub use config::{Args, Config, ConfigError, LogFormat};
#[cfg(feature = "dev")]
pub use dev_issuer::{CALLBACK_PATH, START_PATH};

/// The whole server: the hook journey, `/healthz` and `/readyz`, the
/// stylesheet, MATTR VII's webhooks when configured (or in dev mode), a 404
/// page for anything else and, in dev mode, the simulated MATTR VII under
/// `/dev`.
pub fn app(config: &Config) -> Router {
    let dev_start = dev_start(config);
    let store = Arc::clone(&config.attempts);
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || readiness(Arc::clone(&store), READY_WITHIN)),
        )
        .route("/assets/style.css", get(stylesheet))
        .merge(journey::router(config));
    if let Some(webhook) = &config.webhook {
        app = app.merge(webhooks::router(webhook, Arc::clone(&config.attempts)));
    }
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

/// How long `/readyz` waits for the attempt store before it says "not
/// ready": well within a probe's usual timeout, and far beyond a healthy
/// Redis round trip.
pub const READY_WITHIN: Duration = Duration::from_secs(1);

/// `/readyz`: whether the hook can serve a whole journey now. Verifying
/// tokens needs nothing but the secret; the code step needs the attempt
/// store, so readiness is the store answering within `within`. (`/healthz`
/// only says that the process serves requests: restarting it would not
/// bring Redis back.)
async fn readiness(store: Arc<dyn AttemptStore>, within: Duration) -> Response {
    let (status, body) = match tokio::time::timeout(within, store.ready()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the attempt store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the attempt store does not answer\n",
            )
        }
        Err(_) => {
            tracing::warn!(
                within_ms = within.as_millis() as u64,
                "not ready: the attempt store did not answer in time"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the attempt store did not answer in time\n",
            )
        }
    };
    (
        status,
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
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

/// One line per request, at debug level, and one count by status class
/// (see [`prometheus`]). The query string is left out: on hook routes it
/// holds the session token, a bearer credential.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    metrics::counter!(prometheus::RESPONSES, "class" => prometheus::status_class(status))
        .increment(1);
    tracing::debug!(%method, path, status = status.as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}
