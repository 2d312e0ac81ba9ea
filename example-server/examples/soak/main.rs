//! A soak run, driven by `scripts/soak.sh`: one Redis on loopback with
//! persistence on (`appendonly yes`, every write fsynced), two
//! example-server replicas sharing it, and journeys with wrong and right
//! codes spread over both replicas for a while, as Redis is killed and
//! started again, or paused (writes only, or every command), at random
//! moments drawn from a seed. After the traffic, every holder who reached
//! the code page comes back once and submits the right code again. Then a
//! report:
//!
//! - journeys run, and how they ended (by the response MATTR VII would
//!   read);
//! - sessions by the number of distinct response tokens any client saw,
//!   in a redirect to MATTR VII or offered on an answered page: 0, 1, 2
//!   or more (must be 0);
//! - sessions whose page said "already been completed" (or "already
//!   ended") without a completing (or failing) response given out (must
//!   be 0);
//! - stranded sessions: the code page reached, and no response by the end,
//!   the return included (must be 0);
//! - sessions that got more code checks than the limit (must be 0);
//! - sessions failed with "could not be checked" none of whose own
//!   requests failed (must be 0);
//! - 5xx answers outside the outage windows (must be 0);
//! - for the record: holders who gave up after a minute of failures at
//!   one step, sessions answered only on the return, answers whose reply
//!   was lost (first seen offered again), responses offered again after
//!   they expired, and sessions ended before their third wrong code;
//! - each outage, and how long the replicas took to be ready after it;
//! - each replica's resident memory at the start and the end.
//!
//! It exits with status 1 if a must-be-0 figure is not, or a page was
//! unexpected, and stops everything it started, whatever happens.
//! Loopback only.
//!
//! ```sh
//! cargo run --release -p example-server --example soak -- \
//!     --server target/release/example-server --duration 180
//! ```

mod journeys;
mod outages;
mod processes;
mod report;
mod sessions;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use clap::Parser;
use hook_layer::HookSecret;
use hook_layer::testing::MockIssuer;

use journeys::{Run, Tally};
use outages::{Rng, outages};
use processes::{Redis, Replica, Scratch};
use report::{Report, report};
use sessions::Readers;

const TENANT: &str = "http://127.0.0.1:9";
const HOOK_URL: &str = "http://127.0.0.1:9/interaction";

/// A soak run of two example-server replicas sharing a Redis that is
/// killed and paused under load.
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
    /// The longest outage, in seconds: each lasts from 0.2 s to this.
    /// Pauses longer than the store's timeout (2 s) lose replies.
    #[arg(long, default_value_t = 4.0)]
    down: f64,
    /// The seed of the outages' kinds, lengths and gaps (random if not
    /// given; printed either way).
    #[arg(long)]
    seed: Option<u64>,
    /// Copy the replicas' and Redis's logs into this directory at the end
    /// (they are otherwise removed with the run's temporary directory).
    #[arg(long)]
    keep_logs: Option<PathBuf>,
    /// Run Redis without persistence, as a control: its restarts forget
    /// the counts and the answers, and the run should find sessions over
    /// the limit and sessions with two responses.
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

    // A code submitted after every check of its session was used waits
    // up to 5 s for the session's answer, and each store call may take
    // its 2 s timeout: 20 s is beyond any answer the hook should give.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(io::Error::other)?;
    let reader = |key: &[u8]| -> io::Result<MockIssuer> {
        let secret = HookSecret::from_bytes(key).map_err(io::Error::other)?;
        Ok(MockIssuer::new(secret).tenant(TENANT).hook_url(HOOK_URL))
    };
    // Every response of the run is signed after this, so none has expired
    // by this time.
    let at_start = SystemTime::now();
    let run = Arc::new(Run {
        readers: Readers {
            now: reader(&key)?,
            at_start: reader(&key)?.clock(move || at_start),
        },
        bases: replicas
            .iter()
            .map(|replica| replica.base.clone())
            .collect(),
        http,
        sessions: AtomicU64::new(0),
        tally: Mutex::new(Tally::default()),
        seen: Mutex::new(Vec::new()),
    });
    let persistence = if args.no_persistence {
        "no persistence"
    } else {
        "appendonly yes, appendfsync always"
    };
    let seed = match args.seed {
        Some(seed) => seed,
        None => {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).map_err(io::Error::other)?;
            u64::from_le_bytes(bytes)
        }
    };
    println!(
        "soak: {} s, {} journeys at a time on 2 replicas; Redis ({persistence}) killed or \
         paused at random, 0.2 to {} s each; seed {seed}",
        args.duration, args.workers, args.down
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
        let longest = Duration::from_secs_f64(args.down);
        let duration = Duration::from_secs(args.duration);
        tokio::spawn(async move {
            let mut rng = Rng::new(seed);
            outages(&run, &redis, &mut rng, started, duration, longest).await
        })
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

    // The return: with every outage over, each holder who reached the code
    // page submits the right code once more, as many at a time as there
    // were journeys.
    let returned = Instant::now();
    let mut seen = std::mem::take(&mut *lock(&run.seen));
    seen.sort_by_key(|seen| seen.number);
    let per_worker = seen.len().div_ceil(args.workers.max(1) as usize).max(1);
    let mut chunks = Vec::new();
    while !seen.is_empty() {
        let rest = seen.split_off(per_worker.min(seen.len()));
        chunks.push(std::mem::replace(&mut seen, rest));
    }
    let comebacks: Vec<_> = chunks
        .into_iter()
        .map(|mut chunk| {
            let run = Arc::clone(&run);
            tokio::spawn(async move {
                for seen in &mut chunk {
                    let mut replica = seen.number as usize + 1;
                    run.come_back(seen, &mut replica).await;
                }
                chunk
            })
        })
        .collect();
    let comebacks_end = async {
        let mut seen = Vec::new();
        for comeback in comebacks {
            seen.extend(comeback.await.map_err(io::Error::other)?);
        }
        Ok::<_, io::Error>(seen)
    };
    let seen = tokio::time::timeout(Duration::from_secs(180), comebacks_end)
        .await
        .map_err(|_| io::Error::other("the return after the run took over three minutes"))??;
    let returned = returned.elapsed();

    let rss_end: Vec<_> = replicas.iter().map(Replica::memory).collect();
    for replica in replicas {
        replica.stop();
    }
    lock(&redis).kill();
    if let Some(dir) = &args.keep_logs {
        std::fs::create_dir_all(dir)?;
        for (from, to) in [
            (scratch.0.join("replica-a.log"), "replica-a.log"),
            (scratch.0.join("replica-b.log"), "replica-b.log"),
            (scratch.0.join("redis").join("redis.log"), "redis.log"),
        ] {
            std::fs::copy(from, dir.join(to))?;
        }
    }

    let tally = lock(&run.tally);
    Ok(report(&Report {
        tally: &tally,
        seen: &seen,
        outages: &outages,
        seed,
        started,
        elapsed,
        returned,
        rss_start: &rss_start,
        rss_end: &rss_end,
    }))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
