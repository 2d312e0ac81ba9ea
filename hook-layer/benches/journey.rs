//! What a multi-page journey's state and limits cost per request:
//!
//! - `seal`, `open`: sealing and opening a small journey value (84 bytes
//!   of JSON, sealed to 178 characters);
//! - `attempt/memory`: one attempt on the in-memory store, alone and with
//!   100,000 other sessions held;
//! - `attempt/redis`: one attempt on a local `redis-server` (loopback round
//!   trip included), started by the bench; skipped when redis-server is not
//!   installed or the `redis` feature is off.
//!
//! After the criterion groups, `latencies` times each operation call by
//! call, all four interleaved round by round in one loop, and prints the
//! median and the 99th percentile of each side by side: criterion reports
//! no percentiles, and a Redis round trip's tail is what a page feels.
//!
//! `cargo bench -p hook-layer --features seal,redis,test-util --bench
//! journey`. Results are in BENCHMARKS.md.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group};
use hook_layer::attempts::{AttemptLimiter, AttemptStore, MemoryStore};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use serde::{Deserialize, Serialize};

const KEY: &[u8; 32] = b"benchmark secret key of 32 bytes";

/// A journey value of the usual kind: who, what was sent, when.
#[derive(Serialize, Deserialize)]
struct CodeSent {
    email: String,
    code_hash: String,
    sent_at: u64,
}

fn value() -> CodeSent {
    CodeSent {
        email: "ada.lovelace@example.com".into(),
        code_hash: "kq3V7t0Y1nXb".into(),
        sent_at: 1_764_422_400,
    }
}

// Real time, as in production; sessions live 20 minutes.
fn session() -> HookSession {
    let secret = HookSecret::from_bytes(KEY).unwrap();
    let token = MockIssuer::new(secret.clone()).session().token();
    InteractionHookLayer::new(secret)
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .verify_token(&token)
        .unwrap()
}

/// Polls a future that is ready at once (the memory store's), without an
/// executor.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the memory store answers at once"),
    }
}

fn seal(c: &mut Criterion) {
    let session = session();
    let sealed = session.seal(&value()).unwrap();
    println!("sealed value: {} characters", sealed.len());
    c.bench_function("seal", |b| {
        b.iter(|| black_box(&session).seal(black_box(&value())).unwrap())
    });
    c.bench_function("open", |b| {
        b.iter(|| {
            black_box(&session)
                .open::<CodeSent>(black_box(&sealed))
                .unwrap()
        })
    });
}

fn attempt(c: &mut Criterion) {
    let session = session();
    let mut group = c.benchmark_group("attempt");

    let alone = AttemptLimiter::new("code", u64::MAX, Arc::new(MemoryStore::default()));
    group.bench_function("memory", |b| {
        b.iter(|| ready(alone.attempt(black_box(&session))).unwrap())
    });

    let crowded = Arc::new(MemoryStore::default());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for i in 0..MemoryStore::DEFAULT_MAX_ENTRIES - 1 {
        let key = format!("4:code:36:{}:other-session-{i}", MockIssuer::TENANT);
        ready(crowded.reserve(&key, now, now + 3600)).unwrap();
    }
    let crowded = AttemptLimiter::new("code", u64::MAX, crowded);
    group.bench_function("memory_100k_sessions", |b| {
        b.iter(|| ready(crowded.attempt(black_box(&session))).unwrap())
    });

    #[cfg(feature = "redis")]
    redis(&mut group, &session);
    #[cfg(not(feature = "redis"))]
    eprintln!("SKIPPED: attempt/redis: the `redis` feature is off");
    group.finish();
}

#[cfg(feature = "redis")]
fn redis(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    session: &HookSession,
) {
    // The server stops when dropped, after the benchmark.
    let Some((runtime, limiter, _server)) = redis_limiter("attempt/redis") else {
        return;
    };
    group.bench_function("redis", |b| {
        b.iter(|| {
            runtime
                .block_on(limiter.attempt(black_box(session)))
                .unwrap()
        })
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// Per-call latencies, interleaved: one call of each operation per round.
fn latencies() {
    // `cargo bench -- --test` (CI) only checks that this runs.
    let rounds = if std::env::args().any(|arg| arg == "--test") {
        100
    } else {
        20_000
    };
    let session = session();
    let sealed = session.seal(&value()).unwrap();
    let memory = AttemptLimiter::new("code", u64::MAX, Arc::new(MemoryStore::default()));
    #[cfg(feature = "redis")]
    let redis = redis_limiter("latencies of attempt/redis");
    let mut times: Vec<(&str, Vec<Duration>)> = ["seal", "open", "attempt/memory", "attempt/redis"]
        .into_iter()
        .map(|name| (name, Vec::with_capacity(rounds)))
        .collect();
    let time = |run: &mut dyn FnMut()| {
        let started = Instant::now();
        run();
        started.elapsed()
    };
    for _ in 0..rounds {
        times[0].1.push(time(&mut || {
            black_box(session.seal(black_box(&value())).unwrap());
        }));
        times[1].1.push(time(&mut || {
            black_box(session.open::<CodeSent>(black_box(&sealed)).unwrap());
        }));
        times[2].1.push(time(&mut || {
            black_box(ready(memory.attempt(black_box(&session))).unwrap());
        }));
        #[cfg(feature = "redis")]
        if let Some((runtime, limiter, _server)) = &redis {
            times[3].1.push(time(&mut || {
                black_box(
                    runtime
                        .block_on(limiter.attempt(black_box(&session)))
                        .unwrap(),
                );
            }));
        }
    }
    println!("\nper call, {rounds} interleaved rounds:");
    println!("| operation | median | p99 |");
    println!("|---|---|---|");
    for (name, mut samples) in times {
        if samples.is_empty() {
            println!("| {name} | skipped | |");
            continue;
        }
        samples.sort_unstable();
        let at = |quantile: f64| samples[((samples.len() - 1) as f64 * quantile).round() as usize];
        println!("| {name} | {:.2?} | {:.2?} |", at(0.5), at(0.99));
    }
}

/// A throwaway Redis, a runtime and a limiter on it with no limit, or
/// `None` (said loudly, naming `bench`) when `redis-server` is missing.
#[cfg(feature = "redis")]
fn redis_limiter(
    bench: &str,
) -> Option<(
    tokio::runtime::Runtime,
    AttemptLimiter,
    hook_layer::testing::RedisServer,
)> {
    use hook_layer::attempts::RedisStore;
    use hook_layer::testing::RedisServer;

    let server = RedisServer::start_or_skip(bench)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime
        .block_on(RedisStore::connect(&server.url()))
        .unwrap();
    let limiter = AttemptLimiter::new("code", u64::MAX, Arc::new(store));
    Some((runtime, limiter, server))
}

criterion_group! {
    name = benches;
    config = config();
    targets = seal, attempt
}

fn main() {
    benches();
    latencies();
    Criterion::default().configure_from_args().final_summary();
}
