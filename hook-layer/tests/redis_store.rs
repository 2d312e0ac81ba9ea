//! `RedisStore` against a real `redis-server`, started by each test on a
//! free loopback port. Without redis-server (as found when the tests are
//! built, see build.rs) those tests are `ignored`; `HOOK_REQUIRE_REDIS=1`
//! makes that a failure.

#![cfg(all(feature = "redis", feature = "test-util"))]

use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use hook_layer::attempts::{
    AnswerError, Answered, Answers, AttemptError, AttemptLimiter, AttemptStore, RedisStore,
    StoreError,
};
use hook_layer::testing::{MockIssuer, RedisServer};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};

const NOW: u64 = 1_764_422_400;

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"redis store tests use this key 32").unwrap()
}

fn issuer() -> MockIssuer {
    MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

/// A layer whose clock stands still at `NOW`: tokens live until
/// `NOW + 1200`, accepted until `NOW + 1230`.
fn layer() -> InteractionHookLayer {
    InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

fn session() -> HookSession {
    layer().verify_token(&issuer().session().token()).unwrap()
}

async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn keys(server: &RedisServer) -> Vec<String> {
    redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw(server).await)
        .await
        .unwrap()
}

/// A redis-server of its own, with extra arguments.
fn redis_server(args: &[&str]) -> RedisServer {
    RedisServer::start_with(args)
        .unwrap_or_else(|error| panic!("redis-server did not start: {error}"))
}

/// The tests above are ignored when redis-server is missing; with
/// `HOOK_REQUIRE_REDIS=1` (as `.ci/run` sets) that fails here instead.
#[test]
fn redis_server_is_installed_where_required() {
    RedisServer::assert_installed_where_required(cfg!(redis_installed));
}

fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// 64 concurrent attempts, from one store and from four stores (four
/// replicas), on a multi-thread runtime: exactly `limit` get through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn concurrent_attempts_never_exceed_the_limit() {
    let server = redis_server(&[]);
    let mut replicas = Vec::new();
    for _ in 0..4 {
        let store = RedisStore::connect(&server.url()).await.unwrap();
        replicas.push(AttemptLimiter::new("code", 3, Arc::new(store)));
    }
    for (round, limiters) in [&replicas[..1], &replicas[..]].into_iter().enumerate() {
        let token = issuer().session().state(format!("round-{round}")).token();
        let session: HookSession = layer().verify_token(&token).unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let limiter = limiters[i % limiters.len()].clone();
                let (session, barrier) = (session.clone(), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    limiter.attempt(&session).await
                })
            })
            .collect();
        let mut granted = Vec::new();
        let mut exhausted = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(attempt) => granted.push(attempt.number),
                Err(AttemptError::Exhausted { limit: 3 }) => exhausted += 1,
                Err(other) => panic!("{other}"),
            }
        }
        granted.sort_unstable();
        assert_eq!(granted, [1, 2, 3]);
        assert_eq!(exhausted, 61);
    }
}

/// The key lives as long as the session (`exp` + leeway, by the layer's
/// clock) and one more leeway, for replicas whose clocks are apart, and
/// keeps that expiry as attempts go on.
#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn the_key_lives_as_long_as_the_session() {
    let server = redis_server(&[]);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let limiter = AttemptLimiter::new("code", 5, Arc::new(store));
    let session = session();
    limiter.attempt(&session).await.unwrap();
    let keys = keys(&server).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(RedisStore::DEFAULT_PREFIX), "{keys:?}");
    assert!(keys[0].ends_with(session.state()), "{keys:?}");
    let ends_at = 1200 + 30 + 30; // seconds from NOW
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut raw(&server).await)
        .await
        .unwrap();
    assert!((ends_at - 1..=ends_at).contains(&ttl), "TTL {ttl}");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut raw(&server).await)
        .await
        .unwrap();
    assert!(
        pttl > (ends_at - 2) * 1000 && pttl <= ends_at * 1000,
        "PTTL {pttl}"
    );
    assert_eq!(limiter.attempt(&session).await.unwrap().number, 2);
}

/// Two replicas whose clocks are 3 s apart, within the leeway, share one
/// count to the end: the replica whose clock is behind accepts the token
/// for 3 s longer than the one ahead, and must still find the count that
/// the one ahead wrote near the token's end. (Real time: about 3.5 s.)
#[tokio::test]
async fn replicas_with_clocks_apart_share_a_count_to_the_end() {
    use std::time::SystemTime;
    let Some(server) = RedisServer::start_or_skip("redis_store::clocks_apart") else {
        return;
    };
    const SKEW: u64 = 3;
    let leeway = Duration::from_secs(SKEW);
    let start = SystemTime::now();
    let base = start.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let replica = |ahead: u64| {
        InteractionHookLayer::new(secret())
            .leeway(leeway)
            .clock(move || SystemTime::now() + Duration::from_secs(ahead))
    };
    let (ahead, behind) = (replica(SKEW), replica(0));
    let token = MockIssuer::new(secret())
        .clock(move || UNIX_EPOCH + Duration::from_secs(base))
        .session()
        .set("exp", base + 2)
        .token();
    let limiter = |store: RedisStore| AttemptLimiter::new("code", 3, Arc::new(store));
    let on_ahead = limiter(RedisStore::connect(&server.url()).await.unwrap());
    let on_behind = limiter(RedisStore::connect(&server.url()).await.unwrap());

    // The replica ahead sees the token near its end (accepted until
    // `exp` + 3 s by its clock) and spends the whole budget.
    let session: HookSession = ahead.verify_token(&token).unwrap();
    for number in 1..=3 {
        assert_eq!(on_ahead.attempt(&session).await.unwrap().number, number);
    }
    // Past the end by the clock ahead, not yet by the clock behind.
    let wait = Duration::from_millis(3_500).saturating_sub(start.elapsed().unwrap());
    tokio::time::sleep(wait).await;
    assert!(ahead.verify_token(&token).is_err());
    let session: HookSession = behind.verify_token(&token).unwrap();
    let result = on_behind.attempt(&session).await;
    assert!(
        matches!(result, Err(AttemptError::Exhausted { limit: 3 })),
        "the count started again on the replica behind: {result:?}"
    );
}

/// 32 concurrent last steps of one session across four replicas: exactly
/// one response is signed, every other request gets that one back, and
/// every replica then reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_is_answered_once_across_replicas() {
    let Some(server) = RedisServer::start_or_skip("redis_store::answered_once") else {
        return;
    };
    let replicas = replicas(&server, 4).await;
    let session = session();
    assert!(replicas[0].answered(&session).await.unwrap().is_none());
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let answers = replicas[i % replicas.len()].clone();
            let (session, barrier) = (session.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                session
                    .complete()
                    .claim("n", i)
                    .unwrap()
                    .redirect_once(&answers)
                    .await
            })
        })
        .collect();
    let mut signed = Vec::new();
    let mut given_back = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(redirect) => {
                issuer().read_redirect(redirect.url()).unwrap();
                signed.push(redirect);
            }
            Err(AnswerError::AlreadyAnswered(answer)) => given_back.push(answer),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!((signed.len(), given_back.len()), (1, 31));
    assert!(
        given_back
            .iter()
            .all(|answer| answer.redirect().url() == signed[0].url())
    );
    for answers in &replicas {
        let stored = answers.answered(&session).await.unwrap().unwrap();
        assert_eq!(stored.outcome(), Answered::Completed);
        assert_eq!(stored.redirect().token(), signed[0].token());
    }
    let keys = keys(&server).await;
    assert!(
        keys.iter()
            .any(|key| key.starts_with(&format!("{}answered:", RedisStore::DEFAULT_PREFIX))),
        "{keys:?}"
    );
}

/// `count` answer stores on `server`, as replicas of one hook have.
async fn replicas(server: &RedisServer, count: usize) -> Vec<Answers> {
    let mut replicas = Vec::new();
    for _ in 0..count {
        let store = RedisStore::connect(&server.url()).await.unwrap();
        replicas.push(Answers::new(Arc::new(store)));
    }
    replicas
}

/// A completion on one replica and a decline on another, racing, over
/// many sessions: one of them wins each time, the other gets the winner
/// back, and both replicas read the winner's outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn a_completion_and_a_decline_racing_on_two_replicas_end_one_way() {
    let server = redis_server(&[]);
    let replicas = replicas(&server, 2).await;
    let mut wins = [0; 2];
    for round in 0..200 {
        let session = layer()
            .verify_token(&issuer().session().state(format!("race-{round}")).token())
            .unwrap();
        let complete = {
            let (answers, session): (Answers, HookSession) = (replicas[0].clone(), session.clone());
            tokio::spawn(async move { session.complete().redirect_once(&answers).await })
        };
        let decline = {
            let (answers, session): (Answers, HookSession) = (replicas[1].clone(), session.clone());
            tokio::spawn(async move { session.fail("Declined.").redirect_once(&answers).await })
        };
        let (winner, outcome, loser) = match (complete.await.unwrap(), decline.await.unwrap()) {
            (Ok(won), Err(AnswerError::AlreadyAnswered(lost))) => {
                wins[0] += 1;
                (won, Answered::Completed, lost)
            }
            (Err(AnswerError::AlreadyAnswered(lost)), Ok(won)) => {
                wins[1] += 1;
                (won, Answered::Ended, lost)
            }
            (a, b) => panic!("round {round}: {a:?} / {b:?}"),
        };
        assert_eq!(loser.outcome(), outcome);
        assert_eq!(loser.redirect().token(), winner.token());
        for answers in &replicas {
            let stored = answers.answered(&session).await.unwrap().unwrap();
            assert_eq!(stored.outcome(), outcome, "round {round}");
            assert_eq!(stored.redirect().url(), winner.url());
        }
    }
    eprintln!("completions won {}, declines won {}", wins[0], wins[1]);
}

/// Redis pauses writes while a completion is being kept: the hook's call
/// times out, so the holder is told nothing was sent and to try again.
/// The write still lands when Redis resumes, and the retry gets that very
/// response back instead of a second one.
#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn a_reply_lost_after_the_answer_was_kept_is_given_back() {
    let server = redis_server(&[]);
    let store = RedisStore::connect(&server.url())
        .await
        .unwrap()
        .timeout(Duration::from_millis(300));
    let answers = Answers::new(Arc::new(store));
    let session = session();
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1_000)
        .arg("WRITE")
        .query_async::<()>(&mut raw(&server).await)
        .await
        .unwrap();
    let lost = session
        .complete()
        .claim("n", 1)
        .unwrap()
        .redirect_once(&answers)
        .await;
    assert!(
        matches!(lost, Err(AnswerError::Store(StoreError::Timeout { .. }))),
        "{lost:?}"
    );
    // The pause ends, and the queued write runs.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let kept = answers.answered(&session).await.unwrap().unwrap();
    assert_eq!(kept.outcome(), Answered::Completed);
    let read = issuer().read_redirect(kept.redirect().url()).unwrap();
    assert_eq!(read.state, session.state());
    let retry = session.fail("Declined.").redirect_once(&answers).await;
    let Err(AnswerError::AlreadyAnswered(again)) = retry else {
        panic!("a second response: {retry:?}");
    };
    assert_eq!(again.redirect().token(), kept.redirect().token());
    assert_eq!(again.outcome(), Answered::Completed);
}

/// `put_if_absent` is `SET NX GET` with the session's expiry: the first
/// value stays, later ones read it back, and the key expires.
#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn a_value_is_put_once_with_an_expiry() {
    let server = redis_server(&[]);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    assert_eq!(store.get("v", NOW).await.unwrap(), None);
    assert_eq!(
        store
            .put_if_absent("v", "one", NOW, NOW + 60)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .put_if_absent("v", "two", NOW, NOW + 60)
            .await
            .unwrap()
            .as_deref(),
        Some("one")
    );
    assert_eq!(store.get("v", NOW).await.unwrap().as_deref(), Some("one"));
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}v", RedisStore::DEFAULT_PREFIX))
        .query_async(&mut raw(&server).await)
        .await
        .unwrap();
    assert!((55_000..=60_000).contains(&ttl), "{ttl}");
    assert_eq!(store.remembers_for(), None);
}

/// A restart of the hook (a new store and limiter) keeps the count.
#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn counts_survive_a_restart_of_the_hook() {
    let server = redis_server(&[]);
    let session = session();
    for expected in 1..=3 {
        let store = RedisStore::connect(&server.url()).await.unwrap();
        let limiter = AttemptLimiter::new("code", 3, Arc::new(store));
        assert_eq!(limiter.attempt(&session).await.unwrap().number, expected);
    }
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let limiter = AttemptLimiter::new("code", 3, Arc::new(store));
    assert!(matches!(
        limiter.attempt(&session).await,
        Err(AttemptError::Exhausted { limit: 3 })
    ));
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn the_prefix_is_configurable() {
    let server = redis_server(&[]);
    let store = RedisStore::connect(&server.url())
        .await
        .unwrap()
        .prefix("hook-a:");
    assert_eq!(store.reserve("k", NOW, NOW + 60).await.unwrap(), 1);
    assert_eq!(store.reserve("k", NOW, NOW + 60).await.unwrap(), 2);
    assert_eq!(keys(&server).await, ["hook-a:k"]);
}

/// Nothing listening: `connect` fails at once, with a message that names
/// neither the URL nor its password.
#[tokio::test]
async fn an_unreachable_server_fails_fast_at_startup() {
    let url = format!("redis://:hunter2-password@127.0.0.1:{}/", closed_port());
    let started = Instant::now();
    let error = RedisStore::connect(&url).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let message = format!("{error} {error:?}");
    eprintln!("unreachable: {:?}: {message}", started.elapsed());
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("127.0.0.1"), "{message}");
    assert!(matches!(
        error,
        StoreError::Unavailable(_) | StoreError::Timeout { .. }
    ));
    let bad = RedisStore::connect("redis://:hunter2@[not-a-host")
        .await
        .unwrap_err();
    assert!(!format!("{bad} {bad:?}").contains("hunter2"), "{bad}");
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn a_wrong_password_fails_at_startup_without_printing_it() {
    let server = redis_server(&["--requirepass", "right-password"]);
    let wrong = format!("redis://:wrong-password@127.0.0.1:{}/", server.port());
    let error = RedisStore::connect(&wrong).await.unwrap_err();
    let message = format!("{error} {error:?}");
    eprintln!("wrong password: {message}");
    assert!(!message.contains("wrong-password"), "{message}");
    let right = format!("redis://:right-password@127.0.0.1:{}/", server.port());
    let store = RedisStore::connect(&right).await.unwrap();
    assert_eq!(store.reserve("k", NOW, NOW + 60).await.unwrap(), 1);
    assert!(!format!("{store:?}").contains("right-password"));
}

/// Redis goes away after startup: attempts are refused with a store error
/// within seconds, never granted and never left hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn an_outage_refuses_attempts_quickly() {
    let server = redis_server(&[]);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let limiter = AttemptLimiter::new("code", 3, Arc::new(store));
    let session = session();
    assert!(limiter.attempt(&session).await.is_ok());
    drop(server);
    for _ in 0..3 {
        let started = Instant::now();
        let result = limiter.attempt(&session).await;
        let elapsed = started.elapsed();
        eprintln!("outage: {elapsed:?}: {}", result.as_ref().unwrap_err());
        assert!(matches!(result, Err(AttemptError::Store(_))), "{result:?}");
        assert!(elapsed <= Duration::from_millis(2500), "{elapsed:?}");
    }
}

/// A server that accepts connections but never answers: `connect` gives up
/// within its timeout, and so does an attempt on a store that was built
/// without connecting first.
#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let url = format!("redis://127.0.0.1:{port}/");
    let started = Instant::now();
    let error = RedisStore::connect(&url).await.unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("silent server, connect: {elapsed:?}: {error}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");

    let client = redis::Client::open(url).unwrap();
    let lazy =
        redis::aio::ConnectionManager::new_lazy_with_config(client, RedisStore::manager_config())
            .unwrap();
    let store = RedisStore::new(lazy).timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = store.reserve("k", NOW, NOW + 60).await.unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("silent server, attempt: {elapsed:?}: {error}");
    assert!(
        matches!(error, StoreError::Timeout { after } if after == Duration::from_millis(300)),
        "{error}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}
