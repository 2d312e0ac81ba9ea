//! Metrics for Prometheus (`HOOK_METRICS_BIND`): the recorder that
//! hook-layer's counters and this server's own go to, and `/metrics` on an
//! address of its own, apart from the hook's pages.
//!
//! hook-layer registers its per-tenant and per-limiter counters when they
//! are first used, so [`install_recorder`] must run before the hook serves
//! its first request; `main` installs it before it starts serving.
//!
//! This server's own metrics, beside hook-layer's (see `hook_layer::metrics`):
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `example_server_responses_total` | counter | `class` | responses by status class: `2xx`, `3xx`, `4xx`, `5xx` |
//! | `example_server_journeys_ended_total` | counter | `ending` | journeys that went back to MATTR VII: `completed`, `declined`, `too_many_wrong_codes`, `code_unchecked` (every code check lost to store outages) |
//! | `example_server_webhook_events_total` | counter | `event_type` | MATTR VII webhook events handled, once each (redeliveries not counted): `OpenIdCredentialIssued`, `OpenIdCredentialIssuedSummary`, `OidcIssuerCredentialIssued`, `other` |

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use hook_layer::metrics as hook;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use metrics::{Unit, describe_counter, describe_histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Responses by status class; label `class`.
pub const RESPONSES: &str = "example_server_responses_total";
/// Journeys that went back to MATTR VII; label `ending`.
pub const JOURNEYS_ENDED: &str = "example_server_journeys_ended_total";
/// MATTR VII webhook events handled, once each; label `event_type`.
pub const WEBHOOK_EVENTS: &str = "example_server_webhook_events_total";

/// Upper bounds of the buckets of `hook_layer_store_duration_seconds`, in
/// seconds: from half a millisecond (Redis on the same network) to 2 s,
/// the store's timeout, past which an attempt fails anyway.
pub const STORE_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0,
];

/// How often histogram samples are folded into their buckets when nobody
/// scrapes (a scrape folds them too): without it, samples recorded between
/// scrapes pile up unbounded.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The Prometheus text format's media type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Builds the Prometheus recorder and installs it as the process's
/// `metrics` recorder, with every metric described; the handle renders
/// what it holds. Fails if a recorder is already installed.
pub fn install_recorder() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(hook::STORE_DURATION.to_owned()),
            &STORE_BUCKETS,
        )?
        .install_recorder()?;
    describe();
    Ok(handle)
}

/// `# HELP` lines for every metric.
fn describe() {
    describe_counter!(
        hook::TOKENS_ACCEPTED,
        "Session tokens the layer accepted, by tenant."
    );
    describe_counter!(
        hook::TOKENS_REFUSED,
        "Requests the layer refused, by reason (bad_signature, expired, wrong_audience, ...)."
    );
    describe_counter!(
        hook::COMPLETIONS,
        "Response tokens signed, by tenant and outcome (completed or failed)."
    );
    describe_counter!(
        hook::COMPLETION_ERRORS,
        "Completions that could not be signed, by kind."
    );
    describe_counter!(
        hook::ATTEMPTS,
        "Attempt limiter attempts (codes checked, codes sent), by limiter and outcome."
    );
    describe_histogram!(
        hook::STORE_DURATION,
        Unit::Seconds,
        "The attempt store's round trip, by limiter."
    );
    describe_counter!(RESPONSES, "Responses, by status class.");
    describe_counter!(
        JOURNEYS_ENDED,
        "Journeys that went back to MATTR VII, by ending."
    );
    describe_counter!(
        WEBHOOK_EVENTS,
        "MATTR VII webhook events handled (once each, redeliveries not counted), by type."
    );
}

/// `GET /metrics`: what `handle` holds, in Prometheus's text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = handle.render();
            async move {
                (
                    [(CONTENT_TYPE, TEXT_FORMAT), (CACHE_CONTROL, "no-store")],
                    text,
                )
                    .into_response()
            }
        }),
    )
}

/// Serves [`router`] on `listener` until `shutdown` completes, and folds
/// histogram samples into their buckets every few seconds meanwhile.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let upkeep = handle.clone();
    let upkeep = tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let served = axum::serve(listener, router(handle))
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    served
}

/// A response's status class, for [`RESPONSES`].
pub(crate) fn status_class(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        for (status, class) in [(200, "2xx"), (303, "3xx"), (422, "4xx"), (503, "5xx")] {
            let status = http::StatusCode::from_u16(status).unwrap();
            assert_eq!(status_class(status), class);
        }
    }

    /// The recorder is process-wide, so this test builds one without
    /// installing it: the buckets apply to the store histogram only.
    #[test]
    fn store_round_trips_get_buckets_and_other_histograms_do_not() {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(hook::STORE_DURATION.to_owned()),
                &STORE_BUCKETS,
            )
            .unwrap()
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::histogram!(hook::STORE_DURATION, "limiter" => "code-check").record(0.0007);
            metrics::histogram!("other_seconds").record(0.0007);
        });
        let text = handle.render();
        assert!(
            text.contains(
                r#"hook_layer_store_duration_seconds_bucket{limiter="code-check",le="0.001"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"hook_layer_store_duration_seconds_bucket{limiter="code-check",le="0.0005"} 0"#
            ),
            "{text}"
        );
        assert!(!text.contains("other_seconds_bucket"), "{text}");
    }
}
