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

use std::fs::File;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use clap::Parser;
use example_server::otp::MAX_FAILED_CODES;
use hook_layer::HookSecret;
use hook_layer::testing::{MockIssuer, Outcome};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

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

/// A fresh directory under the temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> io::Result<Self> {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).map_err(io::Error::other)?;
        let name: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = std::env::temp_dir().join(format!("hook-soak-{name}"));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server on loopback with its own data directory, killed and
/// started again on the same port.
struct Redis {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    /// `appendonly yes` with every write fsynced, or nothing on disk.
    persistent: bool,
    child: Option<Child>,
}

impl Redis {
    fn new(binary: &Path, dir: PathBuf, persistent: bool) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        Ok(Self {
            binary: binary.to_owned(),
            dir,
            port,
            persistent,
            child: None,
        })
    }

    /// Starts it and waits until it accepts connections.
    fn start(&mut self) -> io::Result<()> {
        let mut child = Command::new(&self.binary)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendfsync", "always"])
            .args(["--appendonly", if self.persistent { "yes" } else { "no" }])
            .args(["--maxmemory-policy", "noeviction"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--logfile", "redis.log"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server exited with {status}"
                )));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(io::Error::other("redis-server did not listen within 10 s"))
    }

    /// SIGKILL: no shutdown save; what was acknowledged is on disk.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One example-server process, its log in a file.
struct Replica {
    name: &'static str,
    child: Child,
    base: String,
}

impl Replica {
    fn start(
        name: &'static str,
        binary: &Path,
        secret: &str,
        redis_url: &str,
        dir: &Path,
    ) -> io::Result<Self> {
        let log_path = dir.join(format!("replica-{name}.log"));
        let log = File::create(&log_path)?;
        let child = Command::new(binary)
            .arg("--dev-issuer")
            .env_clear()
            .env("HOOK_SECRET", secret)
            .env("HOOK_ISSUER", TENANT)
            .env("HOOK_URL", HOOK_URL)
            .env("HOOK_BIND", "127.0.0.1:0")
            .env("HOOK_REDIS_URL", redis_url)
            .env("RUST_LOG", "warn,example_server=info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        // Built first, so that the process is killed if it never listens.
        let mut replica = Self {
            name,
            child,
            base: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let mut text = String::new();
            File::open(&log_path)?.read_to_string(&mut text)?;
            if let Some(rest) = text.split("listening on ").nth(1) {
                let address: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ':'))
                    .collect();
                replica.base = format!("http://{address}");
                return Ok(replica);
            }
            if let Some(status) = replica.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "replica {name} exited with {status}: {text}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(io::Error::other(format!(
            "replica {name} did not listen within 20 s"
        )))
    }

    /// Resident and peak resident memory, in KiB, from `/proc`.
    fn memory(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(name))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// SIGTERM, and SIGKILL if it has not stopped within 10 s.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("replica {} did not stop within 10 s of SIGTERM", self.name);
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 5xx answer or a failed request, with when it was in flight.
struct Failure {
    sent: Instant,
    done: Instant,
    what: String,
}

/// What the journeys saw.
#[derive(Default)]
struct Tally {
    completed: u64,
    failed: u64,
    /// Journeys given up after a minute of 5xx or errors at one step.
    abandoned: u64,
    /// Journeys that met a page they should not have (a 4xx, say).
    unexpected: Vec<String>,
    requests: u64,
    /// Answers to a code that say whether it was right (a "not right"
    /// page or a redirect), when each came.
    code_answers: Vec<Instant>,
    /// Sessions with more code checks than the limit: a third "not
    /// right" page, or a completion after the limit of wrong codes.
    over_limit: u64,
    /// Right codes refused although fewer than the limit of wrong codes
    /// had been answered.
    refused_early: u64,
    failures: Vec<Failure>,
}

/// Everything the workers share.
struct Run {
    issuer: MockIssuer,
    bases: Vec<String>,
    http: reqwest::Client,
    sessions: AtomicU64,
    tally: Mutex<Tally>,
}

/// An answer: the status, and the redirect's location or the page.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

/// The text between `before` and the next `"` or `<`.
fn after<'h>(html: &'h str, before: &str) -> Option<&'h str> {
    let start = html.find(before)? + before.len();
    let end = html[start..].find(['"', '<'])?;
    Some(&html[start..start + end])
}

impl Run {
    /// Sends the request `build` makes for a replica's base URL, moving to
    /// the other replica and trying again after any 5xx or failed request,
    /// for at most a minute; `None` then.
    async fn send(
        &self,
        replica: &mut usize,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Option<Answer> {
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            let base = &self.bases[*replica % self.bases.len()];
            *replica += 1;
            let sent = Instant::now();
            let result = build(base).send().await;
            let done = Instant::now();
            lock(&self.tally).requests += 1;
            let what = match result {
                Ok(response) if response.status().is_server_error() => {
                    format!("{} from {base}", response.status())
                }
                Ok(response) => {
                    let status = response.status();
                    let location = response
                        .headers()
                        .get(LOCATION)
                        .and_then(|location| location.to_str().ok())
                        .map(str::to_owned);
                    let body = response.text().await.unwrap_or_default();
                    return Some(Answer {
                        status,
                        location,
                        body,
                    });
                }
                Err(error) => format!("{base}: {error}"),
            };
            lock(&self.tally)
                .failures
                .push(Failure { sent, done, what });
            if Instant::now() > give_up {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One journey from the welcome page to a redirect back: a number of
    /// wrong codes set by the session's number (0 to 5), then the right
    /// code, each request on the other replica.
    async fn journey(&self) {
        let number = self.sessions.fetch_add(1, Ordering::Relaxed);
        let token = self
            .issuer
            .session()
            .state(format!("soak-{number}"))
            .claim("given_name", "Ada")
            .claim("email", "ada@example.com")
            .token();
        let mut replica = number as usize;
        let outcome = self.walk(&token, number % 6, &mut replica).await;
        let mut tally = lock(&self.tally);
        match outcome {
            Ok(Some(true)) => tally.completed += 1,
            Ok(Some(false)) => tally.failed += 1,
            Ok(None) => tally.abandoned += 1,
            Err(unexpected) => tally.unexpected.push(unexpected),
        }
    }

    /// `Ok(Some(completed))`, `Ok(None)` if abandoned, or what was
    /// unexpected.
    async fn walk(
        &self,
        token: &str,
        wrong_codes: u64,
        replica: &mut usize,
    ) -> Result<Option<bool>, String> {
        let query = format!("session_token={token}");
        let page = |answer: Option<Answer>, step: &str| match answer {
            None => Ok(None),
            Some(answer) if answer.status == StatusCode::OK => Ok(Some(answer.body)),
            Some(answer) => Err(format!("{step}: {}", answer.status)),
        };
        let welcome = self
            .send(replica, |base| {
                self.http.get(format!("{base}/interaction?{query}"))
            })
            .await;
        if page(welcome, "welcome")?.is_none() {
            return Ok(None);
        }
        let terms = self
            .send(replica, |base| {
                self.http
                    .post(format!("{base}/interaction/terms?{query}"))
                    .form(&[("decision", "accept")])
            })
            .await;
        let Some(details) = page(terms, "terms")? else {
            return Ok(None);
        };
        let progress = after(&details, r#"name="progress" value=""#).ok_or("details: no form")?;
        let sent = self
            .send(replica, |base| {
                self.http
                    .post(format!("{base}/interaction/details?{query}"))
                    .form(&[
                        ("progress", progress),
                        ("preferred_name", "Ada"),
                        ("date_of_birth", "1990-04-21"),
                    ])
            })
            .await;
        let Some(code_page) = page(sent, "details")? else {
            return Ok(None);
        };
        let progress = after(&code_page, r#"name="progress" value=""#)
            .ok_or("code page: no form")?
            .to_owned();
        let code = after(&code_page, r#"id="dev-code">"#)
            .ok_or("code page: no code")?
            .to_owned();
        let wrong = if code == "000000" { "111111" } else { "000000" };

        let mut session = Session::default();
        for _ in 0..wrong_codes {
            let Some(answer) = self.submit(replica, &query, &progress, wrong).await else {
                return Ok(None);
            };
            if session.wrong_answered(&answer, &self.issuer)? {
                break;
            }
        }
        let Some(answer) = self.submit(replica, &query, &progress, &code).await else {
            return Ok(None);
        };
        let completed = session.right_answered(&answer, &self.issuer)?;
        let mut tally = lock(&self.tally);
        if session.over_limit {
            tally.over_limit += 1;
        }
        if session.refused_early {
            tally.refused_early += 1;
        }
        Ok(Some(completed))
    }

    async fn submit(
        &self,
        replica: &mut usize,
        query: &str,
        progress: &str,
        code: &str,
    ) -> Option<Answer> {
        let answer = self
            .send(replica, |base| {
                self.http
                    .post(format!("{base}/interaction/verify?{query}"))
                    .form(&[("progress", progress), ("code", code)])
            })
            .await?;
        lock(&self.tally).code_answers.push(Instant::now());
        Some(answer)
    }
}

/// What one session's code answers showed.
#[derive(Default)]
struct Session {
    /// "That code is not right" pages.
    try_again: u64,
    /// Wrong codes answered (a "not right" page or a failing redirect):
    /// each took one attempt from the session's count.
    wrong_answered: u64,
    /// The issuance was failed: no code may complete it any more.
    ended: bool,
    over_limit: bool,
    refused_early: bool,
}

impl Session {
    /// Whether the wrong code ended the issuance.
    fn wrong_answered(&mut self, answer: &Answer, issuer: &MockIssuer) -> Result<bool, String> {
        self.wrong_answered += 1;
        match (answer.status, outcome(answer, issuer)?) {
            (StatusCode::UNPROCESSABLE_ENTITY, None)
                if answer.body.contains("That code is not right") =>
            {
                self.try_again += 1;
                // With a limit of 3, the third wrong code fails the
                // issuance: a third "not right" page is a fourth check.
                if self.try_again >= MAX_FAILED_CODES {
                    self.over_limit = true;
                }
                Ok(false)
            }
            (StatusCode::SEE_OTHER, Some(false)) => {
                self.ended = true;
                if self.wrong_answered < MAX_FAILED_CODES {
                    self.refused_early = true;
                }
                Ok(true)
            }
            (StatusCode::SEE_OTHER, Some(true)) => Err("a wrong code completed".to_owned()),
            (status, _) => Err(format!("wrong code: {status}")),
        }
    }

    /// Whether the right code completed the issuance.
    fn right_answered(&mut self, answer: &Answer, issuer: &MockIssuer) -> Result<bool, String> {
        match (answer.status, outcome(answer, issuer)?) {
            (StatusCode::SEE_OTHER, Some(true)) => {
                if self.ended || self.wrong_answered >= MAX_FAILED_CODES {
                    self.over_limit = true;
                }
                Ok(true)
            }
            (StatusCode::SEE_OTHER, Some(false)) => {
                if self.wrong_answered < MAX_FAILED_CODES {
                    self.refused_early = true;
                }
                Ok(false)
            }
            (status, _) => Err(format!("right code: {status}")),
        }
    }
}

/// For a redirect back, whether it completes the issuance.
fn outcome(answer: &Answer, issuer: &MockIssuer) -> Result<Option<bool>, String> {
    let Some(location) = &answer.location else {
        return Ok(None);
    };
    match issuer.read_redirect(location) {
        Ok(read) => Ok(Some(matches!(read.outcome, Outcome::Completed { .. }))),
        Err(error) => Err(format!("a redirect MATTR VII would refuse: {error}")),
    }
}

/// One restart of Redis and the replicas' way back.
struct Outage {
    killed: Instant,
    /// Redis accepts connections again.
    listening: Instant,
    /// Each replica's `/readyz` is 200 again.
    ready: Vec<Instant>,
}

impl Outage {
    /// Requests in flight between the kill and the last replica being
    /// ready again may fail.
    fn covers(&self, failure: &Failure) -> bool {
        let end = self.ready.iter().max().copied().unwrap_or(self.listening);
        failure.done >= self.killed && failure.sent <= end
    }
}

/// Kills Redis `restarts` times, evenly spaced over `duration` from
/// `started`, starts it again after `down`, and waits for both replicas to
/// be ready.
async fn outages(
    run: &Run,
    redis: &Mutex<Redis>,
    started: Instant,
    duration: Duration,
    restarts: u32,
    down: Duration,
) -> io::Result<Vec<Outage>> {
    let mut outages = Vec::new();
    for restart in 1..=restarts {
        let at = started + duration * restart / (restarts + 1);
        tokio::time::sleep_until(at.into()).await;
        let killed = Instant::now();
        lock(redis).kill();
        tokio::time::sleep(down).await;
        lock(redis).start()?;
        let listening = Instant::now();
        let mut ready = Vec::new();
        for base in &run.bases {
            let give_up = Instant::now() + Duration::from_secs(60);
            loop {
                let answer = run.http.get(format!("{base}/readyz")).send().await;
                if answer.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                    break;
                }
                if Instant::now() > give_up {
                    return Err(io::Error::other(format!(
                        "{base} not ready a minute after Redis came back"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ready.push(Instant::now());
        }
        outages.push(Outage {
            killed,
            listening,
            ready,
        });
    }
    Ok(outages)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Prints the report; whether the run passed.
fn report(
    tally: &Tally,
    outages: &[Outage],
    started: Instant,
    elapsed: Duration,
    rss_start: &[Option<(u64, u64)>],
    rss_end: &[Option<(u64, u64)>],
) -> bool {
    let journeys = tally.completed + tally.failed + tally.abandoned + tally.unexpected.len() as u64;
    let seconds = elapsed.as_secs_f64();
    println!(
        "journeys: {journeys} run ({:.1}/s): {} completed, {} failed (too many wrong codes), {} abandoned, {} unexpected",
        journeys as f64 / seconds,
        tally.completed,
        tally.failed,
        tally.abandoned,
        tally.unexpected.len()
    );
    for unexpected in tally.unexpected.iter().take(5) {
        println!("  unexpected: {unexpected}");
    }
    println!(
        "requests: {} ({:.0}/s), {} code answers",
        tally.requests,
        tally.requests as f64 / seconds,
        tally.code_answers.len()
    );
    println!(
        "sessions with more code checks than the limit ({MAX_FAILED_CODES}): {}",
        tally.over_limit
    );
    println!(
        "right codes refused before the limit was reached: {}",
        tally.refused_early
    );
    let outside: Vec<&Failure> = tally
        .failures
        .iter()
        .filter(|failure| !outages.iter().any(|outage| outage.covers(failure)))
        .collect();
    println!(
        "5xx or failed requests: {} during outages, {} outside them",
        tally.failures.len() - outside.len(),
        outside.len()
    );
    for failure in outside.iter().take(5) {
        println!(
            "  at {:.1} s: {}",
            (failure.sent - started).as_secs_f64(),
            failure.what
        );
    }
    for (number, outage) in outages.iter().enumerate() {
        let since = |at: Instant| (at - outage.listening).as_secs_f64();
        let first_code = tally
            .code_answers
            .iter()
            .find(|at| **at > outage.listening)
            .map_or_else(|| "none".to_owned(), |at| format!("{:.2} s", since(*at)));
        let ready: Vec<String> = outage
            .ready
            .iter()
            .zip(["a", "b"])
            .map(|(at, name)| format!("replica {name} {:.2} s", since(*at)))
            .collect();
        println!(
            "restart {} at {:.0} s: Redis down {:.1} s; after it listened again: {}, first code answered {first_code}",
            number + 1,
            (outage.killed - started).as_secs_f64(),
            (outage.listening - outage.killed).as_secs_f64(),
            ready.join(", ")
        );
    }
    for (index, name) in ["a", "b"].into_iter().enumerate() {
        let show = |memory: Option<(u64, u64)>| memory.map_or("?".to_owned(), |(rss, _)| mib(rss));
        let peak = rss_end[index].map_or("?".to_owned(), |(_, hwm)| mib(hwm));
        println!(
            "replica {name} RSS: {} at start, {} at end (peak {peak})",
            show(rss_start[index]),
            show(rss_end[index])
        );
    }
    let passed =
        tally.over_limit == 0 && outside.is_empty() && tally.unexpected.is_empty() && journeys > 0;
    println!("{}", if passed { "PASS" } else { "FAIL" });
    passed
}
