//! A soak run, driven by `scripts/soak.sh`: one Redis on loopback with
//! persistence on (`appendonly yes`, every write fsynced), two
//! example-server replicas sharing it, and journeys with wrong and right
//! codes spread over both replicas for a while, as Redis is killed and
//! started again a few times. Then a report:
//!
//! - journeys run, and how they ended;
//! - sessions that got more code checks than the limit (must be 0);
//! - 5xx answers outside the outage windows (must be 0);
//! - how long each replica took to be ready again after each restart;
//! - each replica's resident memory at the start and the end.
//!
//! It exits with status 1 if either must-be-0 figure is not, and stops
//! everything it started, whatever happens. Loopback only.
//!
//! ```sh
//! cargo run --release -p example-server --example soak -- \
//!     --server target/release/example-server --duration 180
//! ```

mod journeys;
mod outages;
mod processes;
mod report;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use clap::Parser;
use hook_layer::HookSecret;
use hook_layer::testing::MockIssuer;

use journeys::{Run, Tally};
use outages::outages;
use processes::{Redis, Replica, Scratch};
use report::report;

const TENANT: &str = "http://127.0.0.1:9";
const HOOK_URL: &str = "http://127.0.0.1:9/interaction";

/// A soak run of two example-server replicas sharing a Redis that is
/// restarted under load.
#[derive(Parser)]
struct Args {
    /// The example-server binary (built with the `dev` feature).
    #[arg(long)]
    server: PathBuf,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis_server: PathBuf,
    /// Seconds of traffic.
    #[arg(long, default_value_t = 180)]
    duration: u64,
    /// Journeys in flight at once.
    #[arg(long, default_value_t = 8)]
    workers: u64,
    /// Restarts of Redis, evenly spaced over the run.
    #[arg(long, default_value_t = 2)]
    restarts: u32,
    /// Seconds Redis stays down at each restart.
    #[arg(long, default_value_t = 2.0)]
    down: f64,
    /// Run Redis without persistence, as a control: its restarts forget
    /// the counts, and the run should find sessions over the limit.
    #[arg(long)]
    no_persistence: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // On Ctrl-C or SIGTERM the soak is dropped, and with it every process
    // it started (each is killed when dropped) and its directory.
    tokio::select! {
        result = soak(&args) => match result {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(error) => {
                eprintln!("soak: {error}");
                ExitCode::from(2)
            }
        },
        code = stopped() => {
            eprintln!("soak: stopped before the end");
            code
        }
    }
}

/// Completes on Ctrl-C (status 130) or SIGTERM (143).
async fn stopped() -> ExitCode {
    let terminate = async {
        #[cfg(unix)]
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => ExitCode::from(130),
        () = terminate => ExitCode::from(143),
    }
}

/// Runs the soak; whether it passed.
async fn soak(args: &Args) -> io::Result<bool> {
    let scratch = Scratch::new()?;
    let mut redis = Redis::new(
        &args.redis_server,
        scratch.0.join("redis"),
        !args.no_persistence,
    )?;
    redis.start()?;
    let redis = Arc::new(Mutex::new(redis));
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(io::Error::other)?;
    let secret = base64::engine::general_purpose::STANDARD.encode(key);
    let redis_url = format!("redis://127.0.0.1:{}/", lock(&redis).port);
    let replicas = [
        Replica::start("a", &args.server, &secret, &redis_url, &scratch.0)?,
        Replica::start("b", &args.server, &secret, &redis_url, &scratch.0)?,
    ];
    let rss_start: Vec<_> = replicas.iter().map(Replica::memory).collect();

    let run = Arc::new(Run {
        issuer: MockIssuer::new(HookSecret::from_bytes(&key).map_err(io::Error::other)?)
            .tenant(TENANT)
            .hook_url(HOOK_URL),
        bases: replicas
            .iter()
            .map(|replica| replica.base.clone())
            .collect(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(io::Error::other)?,
        sessions: AtomicU64::new(0),
        tally: Mutex::new(Tally::default()),
    });
    let persistence = if args.no_persistence {
        "no persistence"
    } else {
        "appendonly yes, appendfsync always"
    };
    println!(
        "soak: {} s, {} journeys at a time on 2 replicas; Redis ({persistence}) killed and \
         started again {} times, down {} s each",
        args.duration, args.workers, args.restarts, args.down
    );

    let started = Instant::now();
    let until = started + Duration::from_secs(args.duration);
    let workers: Vec<_> = (0..args.workers)
        .map(|_| {
            let run = Arc::clone(&run);
            tokio::spawn(async move {
                while Instant::now() < until {
                    run.journey().await;
                }
            })
        })
        .collect();
    let outages = {
        let run = Arc::clone(&run);
        let redis = Arc::clone(&redis);
        let (restarts, down) = (args.restarts, Duration::from_secs_f64(args.down));
        let duration = Duration::from_secs(args.duration);
        tokio::spawn(async move { outages(&run, &redis, started, duration, restarts, down).await })
    };
    // Each request gives up after a minute of failures, so journeys end;
    // should they not, the run does, two minutes after its end.
    let journeys_end = async {
        for worker in workers {
            worker.await.map_err(io::Error::other)?;
        }
        Ok::<_, io::Error>(())
    };
    tokio::time::timeout_at((until + Duration::from_secs(120)).into(), journeys_end)
        .await
        .map_err(|_| io::Error::other("journeys still running two minutes after the end"))??;
    let outages = outages.await.map_err(io::Error::other)??;
    let elapsed = started.elapsed();
    let rss_end: Vec<_> = replicas.iter().map(Replica::memory).collect();
    for replica in replicas {
        replica.stop();
    }
    lock(&redis).kill();

    let tally = lock(&run.tally);
    Ok(report(
        &tally, &outages, started, elapsed, &rss_start, &rss_end,
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
