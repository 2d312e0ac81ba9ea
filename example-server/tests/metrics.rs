//! `HOOK_METRICS_BIND`: the binary serves Prometheus text at `/metrics` on
//! an address of its own, and what the hook did shows there: journeys
//! completed, codes checked, forged tokens refused.

mod support;

use std::collections::BTreeMap;

use reqwest::StatusCode;
use support::{Server, client, issuer, wrong_right_and_forged};

/// The samples of a Prometheus text page: `name{labels}` to value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The value of the series `name` whose labels include every one of
/// `labels` (`key="value"`), or 0 when there is none.
fn value(samples: &BTreeMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split_once('{').is_some_and(|(series_name, rest)| {
                series_name == name && labels.iter().all(|label| rest.contains(label))
            })
        })
        .map(|(_, value)| value)
        .sum()
}

async fn scrape(url: &str) -> String {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"].to_str().unwrap();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_scrape_shows_journeys_codes_and_forged_tokens() {
    let server = Server::start(&[("HOOK_METRICS_BIND", "127.0.0.1:0")]);
    let line = server
        .lines()
        .into_iter()
        .find(|line| line.contains("metrics at http://"))
        .expect("the metrics address is logged before the hook's");
    let metrics = format!(
        "http://{}/metrics",
        support::address(line.split("metrics at http://").nth(1).unwrap())
    );
    assert_ne!(
        metrics,
        server.url("/metrics"),
        "metrics are on their own address"
    );
    // Not on the hook's address.
    let on_hook = client().get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(on_hook.status(), StatusCode::NOT_FOUND);

    let walked = wrong_right_and_forged(&server, issuer().session().token()).await;

    let text = scrape(&metrics).await;
    let samples = samples(&text);
    let at_least = |name: &str, labels: &[&str], wanted: f64| {
        let found = value(&samples, name, labels);
        assert!(
            found >= wanted,
            "{name}{labels:?} is {found}, not at least {wanted}:\n{text}"
        );
    };
    at_least(
        "hook_layer_completions_total",
        &[r#"outcome="completed""#],
        1.0,
    );
    at_least(
        "hook_layer_attempts_total",
        &[r#"limiter="code-check""#, r#"outcome="granted""#],
        2.0,
    );
    at_least(
        "hook_layer_attempts_total",
        &[r#"limiter="code-send""#, r#"outcome="granted""#],
        1.0,
    );
    at_least(
        "hook_layer_tokens_refused_total",
        &[r#"reason="bad_signature""#],
        1.0,
    );
    at_least(
        "hook_layer_tokens_accepted_total",
        &[&format!(r#"tenant="{}""#, support::TENANT)],
        5.0,
    );
    at_least(
        "example_server_journeys_ended_total",
        &[r#"ending="completed""#],
        1.0,
    );
    at_least("example_server_responses_total", &[r#"class="4xx""#], 2.0);
    // Store round trips are a histogram with the configured buckets.
    at_least(
        "hook_layer_store_duration_seconds_count",
        &[r#"limiter="code-check""#],
        2.0,
    );
    at_least(
        "hook_layer_store_duration_seconds_bucket",
        &[r#"limiter="code-check""#, r#"le="2""#],
        2.0,
    );
    assert!(
        text.contains("# HELP hook_layer_tokens_refused_total"),
        "{text}"
    );
    // Labels come from fixed sets and the configuration, never a token.
    for token in &walked.tokens {
        for segment in token.split('.') {
            assert!(!text.contains(segment), "part of a token: {text}");
        }
    }
}

/// Off unless asked for: nothing says it listens.
#[test]
fn metrics_are_off_by_default() {
    let server = Server::start(&[]);
    assert!(
        server
            .lines()
            .iter()
            .all(|line| !line.contains("metrics at")),
        "{:?}",
        server.lines()
    );
}
