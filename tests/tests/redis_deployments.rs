//! `RedisStore` on Redis as deployments run it: over TLS with a private
//! certificate authority, as a three-primary cluster shared by two
//! replicas, and across restarts of Redis with and without persistence.
//! Real `redis-server` processes on loopback (see `redis_fixtures`).

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use hook_layer::attempts::{AttemptError, AttemptLimiter, AttemptStore, RedisStore};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use hook_tests::redis_fixtures::{RedisCluster, RestartableRedis, TlsRedis};

const NOW: u64 = 1_764_422_400;

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"redis deployments use this key 32").unwrap()
}

/// A session with its own `state`, verified at `NOW`.
fn session(state: &str) -> HookSession {
    let clock = || UNIX_EPOCH + Duration::from_secs(NOW);
    let token = MockIssuer::new(secret())
        .clock(clock)
        .session()
        .state(state)
        .token();
    InteractionHookLayer::new(secret())
        .clock(clock)
        .verify_token(&token)
        .unwrap()
}

fn limiter(store: RedisStore) -> AttemptLimiter {
    AttemptLimiter::new("code", 3, Arc::new(store))
}

/// Attempts numbered 1 to 3, then `Exhausted`, whichever limiters ask in
/// turn.
async fn spends_the_budget_once(limiters: &[&AttemptLimiter], session: &HookSession) {
    for number in 1..=3 {
        let limiter = limiters[(number as usize - 1) % limiters.len()];
        assert_eq!(limiter.attempt(session).await.unwrap().number, number);
    }
    for limiter in limiters {
        let result = limiter.attempt(session).await;
        assert!(
            matches!(result, Err(AttemptError::Exhausted { limit: 3 })),
            "{result:?}"
        );
    }
}

#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test]
async fn counts_through_a_server_that_only_speaks_tls() {
    let server = TlsRedis::start();
    let store = RedisStore::connect_with_root_ca(&server.url(), &server.ca_pem)
        .await
        .unwrap();
    store.ready().await.unwrap();
    let codes = limiter(store);
    spends_the_budget_once(&[&codes], &session("tls")).await;

    // Without the private CA, the certificate is not trusted: an error at
    // startup that does not show the URL.
    let error = RedisStore::connect(&server.url()).await.unwrap_err();
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
    // And plain text to a TLS port is no Redis at all.
    let plain = server.url().replace("rediss://", "redis://");
    assert!(RedisStore::connect(&plain).await.is_err());
}

#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_a_cluster_count_together() {
    let cluster = RedisCluster::start();
    let one = limiter(RedisStore::connect_cluster(cluster.urls()).await.unwrap());
    // The second replica knows only one node, and finds the others.
    let two = limiter(
        RedisStore::connect_cluster(&cluster.urls()[2..])
            .await
            .unwrap(),
    );
    // Enough sessions that their keys fall in every node's slots.
    for index in 0..24 {
        let session = session(&format!("cluster-{index}"));
        let order: [&AttemptLimiter; 2] = if index % 2 == 0 {
            [&one, &two]
        } else {
            [&two, &one]
        };
        spends_the_budget_once(&order, &session).await;
    }
    let key_counts = cluster.key_counts();
    let nodes_with_counts = key_counts.iter().filter(|keys| **keys > 0).count();
    assert!(nodes_with_counts >= 2, "counts per node: {key_counts:?}");
    assert_eq!(key_counts.iter().sum::<u64>(), 24);
}

#[tokio::test]
async fn a_cluster_with_no_node_reachable_fails_at_startup() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let result = RedisStore::connect_cluster([format!("redis://127.0.0.1:{closed}/")]).await;
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(10));
    let none: [&str; 0] = [];
    let error = RedisStore::connect_cluster(none).await.unwrap_err();
    assert!(
        error.to_string().contains("no Redis Cluster node"),
        "{error}"
    );
}

/// Waits (up to 15 s) until `store` is ready again, and says how long it
/// took.
async fn until_ready(store: &RedisStore) -> Duration {
    let started = Instant::now();
    while store.ready().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the store did not reconnect within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

/// With `appendonly yes`, a count survives Redis being killed and started
/// again; the same store reconnects by itself.
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test]
async fn with_persistence_counts_survive_a_restart_of_redis() {
    let mut server = RestartableRedis::start(true);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let codes = AttemptLimiter::new("code", 3, Arc::new(store.clone()));
    let session = session("persistent");
    assert_eq!(codes.attempt(&session).await.unwrap().number, 1);
    assert_eq!(codes.attempt(&session).await.unwrap().number, 2);

    server.kill();
    assert!(store.ready().await.is_err(), "ready with Redis down");
    assert!(matches!(
        codes.attempt(&session).await,
        Err(AttemptError::Store(_))
    ));
    server.start_again().unwrap();
    until_ready(&store).await;
    assert_eq!(codes.attempt(&session).await.unwrap().number, 3);
    assert!(matches!(
        codes.attempt(&session).await,
        Err(AttemptError::Exhausted { limit: 3 })
    ));
}

/// Without persistence a restart of Redis forgets every count: each
/// restart can grant a session one more budget. (Documented; the fix is
/// persistence.)
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
#[tokio::test]
async fn without_persistence_a_restart_of_redis_forgets_counts() {
    let mut server = RestartableRedis::start(false);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let codes = AttemptLimiter::new("code", 3, Arc::new(store.clone()));
    let session = session("volatile");
    assert_eq!(codes.attempt(&session).await.unwrap().number, 1);
    assert_eq!(codes.attempt(&session).await.unwrap().number, 2);
    server.kill();
    server.start_again().unwrap();
    until_ready(&store).await;
    assert_eq!(codes.attempt(&session).await.unwrap().number, 1);
}
