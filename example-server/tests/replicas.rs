//! Two example-server processes behind one hook URL, sharing one Redis, as
//! replicas behind a load balancer: attempt limits hold across them and
//! across a restart, and a Redis outage checks no code.
//!
//! Needs Debian's `redis-server`; without it (as found when the tests are
//! built, see build.rs) those tests are `ignored`, and
//! `HOOK_REQUIRE_REDIS=1` (as `.ci/run` sets) makes that a failure.

mod support;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use hook_layer::testing::RedisServer;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use support::{BINARY, Server, client, failed, page_at, reach_code_step, submit_code, wrong};

fn redis_server() -> RedisServer {
    RedisServer::start().unwrap_or_else(|error| panic!("redis-server did not start: {error}"))
}

/// The tests that need Redis are ignored when redis-server is missing; with
/// `HOOK_REQUIRE_REDIS=1` (as `.ci/run` sets) that fails here instead.
#[test]
fn redis_server_is_installed_where_required() {
    RedisServer::assert_installed_where_required(cfg!(redis_installed));
}

/// One example-server process with the shared secret and Redis.
fn replica(redis_url: &str) -> Server {
    let server = Server::start(&[("HOOK_REDIS_URL", redis_url)]);
    assert!(server.logged("attempts=\"redis\""), "{:?}", server.lines());
    server
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn wrong_codes_count_across_replicas_and_restarts() {
    let redis = redis_server();
    let a = replica(&redis.url());
    let mut b = replica(&redis.url());
    let http = client();
    let step = reach_code_step(&http, &[&a, &b]).await;

    // Each wrong code leads back to the code page, opened on the other
    // replica, which says how many attempts are left.
    let (status, location) = submit_code(&http, &a, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_at(&http, &b.url(&location)).await;
    assert!(page.contains("2 attempts left"), "{page}");
    let (status, location) = submit_code(&http, &b, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_at(&http, &a.url(&location)).await;
    assert!(page.contains("1 attempt left"), "{page}");

    // A restart keeps the count: it lives in Redis.
    drop(b);
    b = replica(&redis.url());
    let (status, location) = submit_code(&http, &b, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(failed(&location), "the third wrong code fails the issuance");

    // The right code, after the limit, on either replica, never succeeds:
    // the session was answered, and both replicas know it.
    for replica in [&a, &b] {
        let (status, page) = submit_code(&http, replica, &step, &step.code).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains("This issuance has already ended"), "{page}");
    }
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn parallel_wrong_codes_on_two_replicas_check_at_most_the_limit() {
    let redis = redis_server();
    let replicas = [replica(&redis.url()), replica(&redis.url())];
    let http = client();
    let step = reach_code_step(&http, &[&replicas[0], &replicas[1]]).await;
    let bad = wrong(&step.code);
    let requests: Vec<_> = (0..40)
        .map(|i| {
            let request = http
                .post(replicas[i % 2].url(&step.action))
                .form(&[("progress", step.progress.as_str()), ("code", bad)]);
            tokio::spawn(request.send())
        })
        .collect();
    // Three codes are checked: two lead back to the code page as wrong,
    // the third fails the issuance. The others check nothing: once the
    // failure is kept, their page says the issuance has ended and offers
    // that same failure, the one response of the session.
    let (mut try_again, mut failures, mut refused) = (0, Vec::new(), Vec::new());
    for request in requests {
        let response = request.await.unwrap().unwrap();
        let status = response.status();
        match response.headers().get(LOCATION) {
            Some(location) if location.to_str().unwrap().contains("note=wrong-") => {
                try_again += 1;
            }
            Some(location) => {
                assert!(failed(location.to_str().unwrap()));
                failures.push(location.to_str().unwrap().to_owned());
            }
            None => {
                assert_eq!(status, StatusCode::CONFLICT);
                let page = response.text().await.unwrap();
                assert!(page.contains("This issuance has already ended"), "{page}");
                refused.push(page);
            }
        }
    }
    assert_eq!((try_again, failures.len(), refused.len()), (2, 1, 37));
    let offered = failures[0].replace('&', "&amp;");
    assert!(refused.iter().all(|page| page.contains(&offered)));
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn a_redis_outage_checks_no_code() {
    let redis = redis_server();
    let replica = replica(&redis.url());
    let http = client();
    let step = reach_code_step(&http, &[&replica]).await;
    drop(redis);
    // Even the right code is not checked without a count.
    let started = Instant::now();
    let (status, page) = submit_code(&http, &replica, &step, &step.code).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains("Please try again in a moment"), "{page}");
    assert!(page.contains("Nothing was checked"), "{page}");
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert!(replica.logged("attempt store unavailable; no code sent or checked"));
}

#[test]
fn an_unreachable_redis_stops_startup_with_status_2() {
    // Nothing listens on port 1.
    let output = Command::new(BINARY)
        .env_remove("HOOK_SECRET")
        .env("HOOK_BIND", "127.0.0.1:0")
        .env("HOOK_REDIS_URL", "redis://:hunter2@127.0.0.1:1/")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("HOOK_REDIS_URL: cannot use Redis"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password was printed: {text}"
    );
    let _ = std::io::stderr().flush();
}
