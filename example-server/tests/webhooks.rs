//! MATTR VII's webhooks, end to end on the binary: a signed delivery is
//! handled once (one log line, one count), its redelivery acknowledged
//! without the handler, a forged one or another webhook's refused; and in
//! dev mode the simulated MATTR VII's two deliveries of an issued
//! credential's event make one "webhook event"; two replicas sharing Redis
//! handle an event once between them.

mod support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use hook_layer::testing::{RedisServer, WebhookSigner};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use support::{Server, client, reach_code_step_with, submit_code};
use tokio::net::TcpListener;

/// The URL MATTR VII signs for the support server: HOOK_URL's origin and
/// the default webhook path.
const PUBLIC_URL: &str = "http://127.0.0.1:9/webhooks/mattr";
const WEBHOOK_ID: &str = "2b0c7a9e-webhook";
/// A claim value that must never reach the log.
const PERSONAL: &str = "Zephyrine Quillfeather";

/// Serves `jwks` at `/jwks` on a free loopback port: the tenant's keys.
async fn serve_jwks(jwks: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new().route(
        "/jwks",
        get(move || async move { ([("content-type", "application/json")], jwks) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/jwks")
}

/// Signs `body` as MATTR VII does for the public URL and posts it to the
/// server's webhook route: the status and the body.
async fn deliver(server: &Server, signer: &WebhookSigner, body: Vec<u8>) -> (StatusCode, String) {
    let signed = signer.sign(
        http::Request::post(PUBLIC_URL)
            .header("content-type", "application/json")
            .body(body)
            .unwrap(),
    );
    let mut request = client().post(server.url("/webhooks/mattr"));
    for (name, value) in signed.headers() {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let response = request.body(signed.into_body()).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn event(webhook_id: &str, event_id: &str) -> Vec<u8> {
    WebhookSigner::delivery(
        webhook_id,
        event_id,
        "OpenIdCredentialIssued",
        serde_json::json!({ "claims": { "name": PERSONAL } }),
    )
}

/// The log lines containing every one of `texts`.
fn count(lines: &[String], texts: &[&str]) -> usize {
    lines
        .iter()
        .filter(|line| texts.iter().all(|text| line.contains(text)))
        .count()
}

/// Waits up to 20 s for `n` log lines containing `text`.
fn wait_for(server: &Server, text: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = server.lines();
        if count(&lines, &[text]) >= n || Instant::now() >= deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The error code of a refusal's JSON body.
fn code(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_signed_event_is_handled_once_and_forgeries_are_refused() {
    let mattr = WebhookSigner::from_seed("tenant-key-1", [9; 32]);
    let jwks_url = serve_jwks(mattr.jwks()).await;
    let server = Server::start(&[
        ("HOOK_WEBHOOK_ID", WEBHOOK_ID),
        ("HOOK_WEBHOOK_JWKS_URL", &jwks_url),
        ("HOOK_METRICS_BIND", "127.0.0.1:0"),
    ]);

    let (status, _) = deliver(&server, &mattr, event(WEBHOOK_ID, "event-1")).await;
    assert_eq!(status, StatusCode::OK);
    // The same event again, as MATTR VII redelivers it: acknowledged.
    let (status, _) = deliver(&server, &mattr, event(WEBHOOK_ID, "event-1")).await;
    assert_eq!(status, StatusCode::OK);
    // Another event, whose line comes after any the redelivery wrote.
    let (status, _) = deliver(&server, &mattr, event(WEBHOOK_ID, "event-2")).await;
    assert_eq!(status, StatusCode::OK);
    let lines = wait_for(&server, "event-2", 1);
    assert_eq!(
        count(
            &lines,
            &["webhook event", "event-1", "OpenIdCredentialIssued"]
        ),
        1,
        "{lines:#?}"
    );
    assert_eq!(
        count(&lines, &["webhook event", "event-2"]),
        1,
        "{lines:#?}"
    );

    // Signed under the tenant's key id with another key: refused.
    let forger = WebhookSigner::from_seed("tenant-key-1", [4; 32]);
    let (status, body) = deliver(&server, &forger, event(WEBHOOK_ID, "event-3")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "bad_signature");
    // Correctly signed, for another webhook: refused.
    let (status, body) = deliver(&server, &mattr, event("another-webhook", "event-4")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "wrong_webhook");
    // Unsigned: refused.
    let unsigned = client()
        .post(server.url("/webhooks/mattr"))
        .body(event(WEBHOOK_ID, "event-5"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&unsigned.text().await.unwrap()), "missing_signature");

    // Two events handled, and counted so.
    let line = lines
        .iter()
        .find(|line| line.contains("metrics at http://"))
        .unwrap();
    let metrics = format!(
        "http://{}/metrics",
        support::address(line.split("metrics at http://").nth(1).unwrap())
    );
    let text = client()
        .get(metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "example_server_webhook_events_total{event_type=\"OpenIdCredentialIssued\"} 2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("# HELP example_server_webhook_events_total"),
        "{text}"
    );

    let lines = server.stop();
    assert_eq!(count(&lines, &["webhook event"]), 2, "{lines:#?}");
    assert_eq!(count(&lines, &[PERSONAL]), 0, "{lines:#?}");
}

#[tokio::test]
async fn in_dev_mode_an_issued_credential_is_one_event_for_two_deliveries() {
    let server = Server::start(&[]);
    let http = client();
    // The simulated MATTR VII starts an issuance for a sample user.
    let started = http
        .post(server.url("/dev/start"))
        .form(&[("given_name", PERSONAL), ("email", "z@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let location = started.headers()[LOCATION].to_str().unwrap().to_owned();
    let token = location
        .split("session_token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let step = reach_code_step_with(&http, &[&server], token).await;
    let (status, location) = submit_code(&http, &server, &step, &step.code).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Back to the simulated MATTR VII's callback, on this server.
    let callback = &location[location.find("/dev/callback").unwrap()..];
    let outcome = http.get(server.url(callback)).send().await.unwrap();
    assert_eq!(outcome.status(), StatusCode::OK);

    let lines = wait_for(&server, "webhook delivery answered", 2);
    let answered: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("webhook delivery answered"))
        .collect();
    assert_eq!(answered.len(), 2, "{lines:#?}");
    assert!(
        answered.iter().all(|line| line.contains("status=200")),
        "{answered:#?}"
    );
    assert_eq!(
        count(&lines, &["webhook event", "OpenIdCredentialIssued"]),
        1,
        "{lines:#?}"
    );
    assert_eq!(count(&lines, &["webhook event"]), 1, "{lines:#?}");
    assert_eq!(count(&lines, &[PERSONAL]), 0, "{lines:#?}");
}

/// An event delivered to one replica, then redelivered to another on the
/// same Redis: the second acknowledges it without handling it again.
#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn replicas_sharing_redis_handle_an_event_once_between_them() {
    let redis = RedisServer::start().expect("redis-server starts");
    let mattr = WebhookSigner::from_seed("tenant-key-1", [9; 32]);
    let jwks_url = serve_jwks(mattr.jwks()).await;
    let replica = || {
        Server::start(&[
            ("HOOK_WEBHOOK_ID", WEBHOOK_ID),
            ("HOOK_WEBHOOK_JWKS_URL", &jwks_url),
            ("HOOK_REDIS_URL", &redis.url()),
        ])
    };
    let (a, b) = (replica(), replica());
    let (status, _) = deliver(&a, &mattr, event(WEBHOOK_ID, "event-1")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = deliver(&b, &mattr, event(WEBHOOK_ID, "event-1")).await;
    assert_eq!(status, StatusCode::OK);
    // A later event on b: its line comes after any the redelivery wrote.
    let (status, _) = deliver(&b, &mattr, event(WEBHOOK_ID, "event-2")).await;
    assert_eq!(status, StatusCode::OK);
    let on_b = wait_for(&b, "event-2", 1);
    let on_a = wait_for(&a, "event-1", 1);
    assert_eq!(count(&on_a, &["webhook event", "event-1"]), 1, "{on_a:#?}");
    assert_eq!(count(&on_b, &["webhook event", "event-1"]), 0, "{on_b:#?}");
    assert_eq!(count(&on_b, &["webhook event", "event-2"]), 1, "{on_b:#?}");
}
