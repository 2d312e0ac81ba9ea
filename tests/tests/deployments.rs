//! The example server on Redis as deployments run it: `/readyz` following
//! the store, a Redis outage in the middle of a journey, Redis over TLS
//! with a private CA (`HOOK_REDIS_CA_FILE`), and two replicas sharing a
//! Redis Cluster (`HOOK_REDIS_CLUSTER_URLS`). Real `redis-server`
//! processes on loopback (see `redis_fixtures`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use example_server::{Args, Config};
use hook_layer::attempts::{AttemptStore, RedisStore};
use hook_layer::testing::{MockIssuer, Outcome};
use hook_tests::redis_fixtures::{RedisCluster, RestartableRedis, TlsRedis};
use hook_tests::{TestServer, client, element_text, reach_code_step};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

/// `/readyz` on `server`: the status and the body.
async fn readyz(server: &TestServer) -> (StatusCode, String) {
    let response = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("/readyz answers");
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// Asks `/readyz` until it answers `wanted`, for at most 20 s (a bound on
/// the wait, so that a broken reconnection fails rather than hangs).
async fn until_readyz(server: &TestServer, wanted: StatusCode) -> String {
    let started = Instant::now();
    loop {
        let (status, body) = readyz(server).await;
        if status == wanted {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "/readyz still {status} ({body}) after 20 s, not {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readyz_is_ok_with_the_memory_store_and_outside_the_layer() {
    let server = TestServer::start_with(false).await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ready\n");
    server.stop().await;
}

#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test]
async fn readyz_follows_redis_down_and_back_without_a_restart_of_the_hook() {
    let mut redis = RestartableRedis::start(false);
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let server = TestServer::start_with_store(Arc::new(store)).await;
    assert_eq!(readyz(&server).await.0, StatusCode::OK);

    redis.kill();
    let body = until_readyz(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(body.starts_with("not ready: the attempt store"), "{body}");
    assert!(!body.contains("127.0.0.1"), "{body}");
    // Liveness is not readiness: restarting the hook would not help.
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    redis.start_again().unwrap();
    assert_eq!(until_readyz(&server, StatusCode::OK).await, "ready\n");
    server.stop().await;
}

/// Posts `code` to the code form of `page` on `server`: the status and
/// the page (followed, when it redirects to one of the hook's), or the
/// redirect's location.
async fn submit_code(server: &TestServer, page: &str, code: &str) -> (StatusCode, String) {
    let response = hook_tests::post_code(server, page, code).await;
    let status = response.status();
    match response.headers().get(LOCATION) {
        // Back to a page of the hook (a wrong code, post/redirect/get): the
        // page it leads to.
        Some(location) if location.to_str().unwrap().starts_with('/') => {
            let page = client()
                .get(server.url(location.to_str().unwrap()))
                .send()
                .await
                .unwrap();
            (status, page.text().await.unwrap())
        }
        Some(location) => (status, location.to_str().unwrap().to_owned()),
        None => (status, response.text().await.unwrap()),
    }
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

/// Redis goes down at the code step: the page asks to try again and checks
/// nothing; once Redis is back (with persistence, so the count survived),
/// the same server carries the journey on.
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test]
async fn a_redis_outage_mid_journey_asks_to_try_again_and_the_journey_goes_on() {
    let mut redis = RestartableRedis::start(true);
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let server = TestServer::start_with_store(Arc::new(store)).await;
    let token = server.issuer().session().token();
    let page = reach_code_step(&server, &token).await;
    let code = element_text(&page, "dev-code").unwrap().to_owned();

    let (status, text) = submit_code(&server, &page, wrong(&code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(text.contains("2 attempts left"), "{text}");

    redis.kill();
    // Even the right code is not checked without a count.
    let (status, text) = submit_code(&server, &page, &code).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("Please try again in a moment"), "{text}");
    assert!(text.contains("Nothing was checked"), "{text}");

    redis.start_again().unwrap();
    until_readyz(&server, StatusCode::OK).await;
    let (status, text) = submit_code(&server, &page, wrong(&code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        text.contains("1 attempt left"),
        "the count survived: {text}"
    );
    let (status, location) = submit_code(&server, &page, &code).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let read = server.issuer().read_redirect(&location).unwrap();
    assert!(
        matches!(read.outcome, Outcome::Completed { .. }),
        "{:?}",
        read.outcome
    );
    server.stop().await;
}

/// The settings as the binary reads them (command line here, environment
/// in production).
fn args(list: &[&str]) -> Args {
    Args::try_parse_from(std::iter::once("example-server").chain(list.iter().copied()))
        .expect("valid arguments")
}

/// The attempt store `Config::connect_store` makes of `list`, and its kind.
async fn store_from(list: &[&str]) -> (Arc<dyn AttemptStore>, &'static str) {
    let args = args(list);
    let config = Config::from_args(&args, "127.0.0.1:3000".parse().unwrap())
        .unwrap()
        .connect_store(&args)
        .await
        .unwrap_or_else(|error| panic!("{list:?}: {error}"));
    (config.attempts, config.attempts_kind)
}

/// Wrong codes for one session, alternating between replicas `a` and `b`:
/// try again (2 left), try again (1 left), then the issuance fails. Only a
/// count both replicas share gets there.
async fn wrong_codes_count_together(a: &TestServer, b: &TestServer, issuer: &MockIssuer) {
    let token = issuer.session().token();
    let page = reach_code_step(a, &token).await;
    let code = element_text(&page, "dev-code").unwrap().to_owned();
    let (status, text) = submit_code(b, &page, wrong(&code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    assert!(text.contains("2 attempts left"), "{text}");
    let (status, text) = submit_code(a, &page, wrong(&code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    assert!(text.contains("1 attempt left"), "{text}");
    let (status, location) = submit_code(b, &page, wrong(&code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let read = issuer.read_redirect(&location).unwrap();
    assert!(
        matches!(read.outcome, Outcome::Failed { .. }),
        "{:?}",
        read.outcome
    );
    // And the right code, on either replica, no longer completes: the
    // session was answered, and both replicas know it.
    for server in [a, b] {
        let (status, text) = submit_code(server, &page, &code).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(text.contains("This issuance has already ended"), "{text}");
    }
}

#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test]
async fn two_replicas_count_wrong_codes_through_tls_with_a_private_ca_file() {
    let redis = TlsRedis::start();
    let url = redis.url();
    let ca_file = redis.ca_file();
    let settings = [
        "--redis-url",
        url.as_str(),
        "--redis-ca-file",
        ca_file.to_str().unwrap(),
    ];
    let (store, kind) = store_from(&settings).await;
    assert_eq!(kind, "redis");
    let a = TestServer::start_with_store(store).await;
    let b = a.replica(store_from(&settings).await.0).await;
    wrong_codes_count_together(&a, &b, &a.issuer()).await;

    // Without the CA file the server's certificate is not trusted: the
    // setting is named, the URL is not shown.
    let args = args(&["--redis-url", &url]);
    let error = Config::from_args(&args, "127.0.0.1:3000".parse().unwrap())
        .unwrap()
        .connect_store(&args)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("HOOK_REDIS_URL: cannot use Redis"),
        "{error}"
    );
    assert!(!error.contains(&url), "{error}");
    a.stop().await;
    b.stop().await;
}

#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_a_redis_cluster_count_wrong_codes_together() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let (store, kind) = store_from(&["--redis-cluster-urls", &urls.join(",")]).await;
    assert_eq!(kind, "redis-cluster");
    let a = TestServer::start_with_store(store).await;
    // The second replica knows one node, and finds the others.
    let (one_node, _) = store_from(&["--redis-cluster-urls", &urls[2]]).await;
    let b = a.replica(one_node).await;
    let issuer = a.issuer();
    // Enough sessions that their counts fall on more than one node.
    let sessions = 8;
    for _ in 0..sessions {
        wrong_codes_count_together(&a, &b, &issuer).await;
    }
    // Four keys per session: codes sent, codes checked, wrong codes, and
    // the answer (a failure, which writes no "completed" mark).
    let key_counts = cluster.key_counts();
    assert_eq!(
        key_counts.iter().sum::<u64>(),
        4 * sessions,
        "{key_counts:?}"
    );
    assert!(
        key_counts.iter().filter(|keys| **keys > 0).count() >= 2,
        "{key_counts:?}"
    );
    a.stop().await;
    b.stop().await;
}
