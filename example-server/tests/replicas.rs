//! Two example-server processes behind one hook URL, sharing one Redis, as
//! replicas behind a load balancer: attempt limits hold across them and
//! across a restart, and a Redis outage checks no code.
//!
//! Needs Debian's `redis-server`; without it each test says it was skipped
//! (and fails under `HOOK_REQUIRE_REDIS=1`, as `.ci/run` sets).

mod support;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use hook_layer::testing::RedisServer;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use support::{BINARY, Server, client, failed, reach_code_step, submit_code, wrong};

/// One example-server process with the shared secret and Redis.
fn replica(redis_url: &str) -> Server {
    let server = Server::start(&[("HOOK_REDIS_URL", redis_url)]);
    assert!(server.logged("attempts=\"redis\""), "{:?}", server.lines());
    server
}

#[tokio::test]
async fn wrong_codes_count_across_replicas_and_restarts() {
    let Some(redis) = RedisServer::start_or_skip("replicas sharing Redis") else {
        return;
    };
    let a = replica(&redis.url());
    let mut b = replica(&redis.url());
    let http = client();
    let step = reach_code_step(&http, &[&a, &b]).await;

    let (status, page) = submit_code(&http, &a, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("2 attempts left"), "{page}");
    let (status, page) = submit_code(&http, &b, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("1 attempt left"), "{page}");

    // A restart keeps the count: it lives in Redis.
    drop(b);
    b = replica(&redis.url());
    let (status, location) = submit_code(&http, &b, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(failed(&location), "the third wrong code fails the issuance");

    // The right code, after the limit, on either replica, never succeeds.
    for replica in [&a, &b] {
        let (status, location) = submit_code(&http, replica, &step, &step.code).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(failed(&location));
    }
}

#[tokio::test]
async fn parallel_wrong_codes_on_two_replicas_check_at_most_the_limit() {
    let Some(redis) = RedisServer::start_or_skip("parallel codes on replicas") else {
        return;
    };
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
    let (mut try_again, mut failures) = (0, 0);
    for request in requests {
        let response = request.await.unwrap().unwrap();
        match response.headers().get(LOCATION) {
            Some(location) => {
                assert!(failed(location.to_str().unwrap()));
                failures += 1;
            }
            None => {
                assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
                try_again += 1;
            }
        }
    }
    assert!(try_again <= 2, "{try_again} try-again pages");
    assert_eq!(try_again + failures, 40);
}

#[tokio::test]
async fn a_redis_outage_checks_no_code() {
    let Some(redis) = RedisServer::start_or_skip("Redis outage") else {
        return;
    };
    let replica = replica(&redis.url());
    let http = client();
    let step = reach_code_step(&http, &[&replica]).await;
    drop(redis);
    // Even the right code is not checked without a count.
    let started = Instant::now();
    let (status, page) = submit_code(&http, &replica, &step, &step.code).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
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
