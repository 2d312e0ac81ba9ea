//! [`RedisServer`]: a throwaway `redis-server` for tests and benchmarks.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A `redis-server` of its own on a free loopback port, with persistence
/// off, killed when dropped.
///
/// The binary is `$REDIS_SERVER` when set, otherwise `redis-server` on the
/// `PATH` (Debian and Ubuntu: `apt-get install redis-server`).
///
/// ```no_run
/// use hook_layer::testing::RedisServer;
///
/// // Prints a SKIPPED line and returns None when redis-server is not
/// // installed, unless HOOK_REQUIRE_REDIS=1, when it panics instead.
/// let Some(server) = RedisServer::start_or_skip("my test") else { return };
/// let url = server.url(); // redis://127.0.0.1:<port>/
/// ```
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// The environment variable that turns a missing `redis-server` from a
    /// skip into a failure, when set to `1` (for CI).
    pub const REQUIRE_ENV: &str = "HOOK_REQUIRE_REDIS";

    /// Starts a server and waits (up to 10 s) until it answers `PING`.
    ///
    /// Fails with [`io::ErrorKind::NotFound`] when the binary is missing.
    pub fn start() -> io::Result<Self> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with extra `redis-server` arguments
    /// (for example `["--requirepass", "secret"]`).
    pub fn start_with(args: &[&str]) -> io::Result<Self> {
        let binary = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        let mut last_error = None;
        // A port found free may be taken before the server binds it: retry.
        for _ in 0..5 {
            let port = free_port()?;
            let mut child = Command::new(&binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            match wait_until_ready(&mut child, port, args) {
                Ok(()) => return Ok(Self { child, port }),
                Err(error) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    /// Starts a server, or, when `redis-server` is not installed, prints a
    /// `SKIPPED: <what>: ...` line to stderr and returns `None`; with
    /// `HOOK_REQUIRE_REDIS=1` it panics instead. Any other failure to
    /// start panics.
    pub fn start_or_skip(what: &str) -> Option<Self> {
        Self::start_or_skip_with(what, &[])
    }

    /// [`start_or_skip`](Self::start_or_skip) with extra `redis-server`
    /// arguments.
    pub fn start_or_skip_with(what: &str, args: &[&str]) -> Option<Self> {
        match Self::start_with(args) {
            Ok(server) => Some(server),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let message = format!(
                    "SKIPPED: {what}: redis-server is not installed ({error}); \
                     `apt-get install redis-server` or set REDIS_SERVER"
                );
                if Self::required() {
                    panic!("{message}, and {}=1", Self::REQUIRE_ENV);
                }
                // Straight to standard error: the test harness captures
                // `eprintln!`, which would hide the skip.
                let _ = writeln!(std::io::stderr(), "\n*** {message}\n");
                None
            }
            Err(error) => panic!("{what}: redis-server did not start: {error}"),
        }
    }

    /// Panics when `redis-server` is required here (`HOOK_REQUIRE_REDIS=1`,
    /// as CI sets) but `installed` says it was not found.
    ///
    /// A build script that finds no `redis-server` marks the tests that
    /// need it `ignored`, through a `redis_installed` cfg. Those tests
    /// never run where it is missing, so none of them can notice that it
    /// should be there; one plain test calling this with
    /// `cfg!(redis_installed)` does, and turns a run that would pass
    /// without testing Redis into a failure.
    ///
    /// ```no_run
    /// use hook_layer::testing::RedisServer;
    ///
    /// // A `#[test]`, next to the tests that need Redis.
    /// fn redis_server_is_installed_where_required() {
    ///     RedisServer::assert_installed_where_required(cfg!(redis_installed));
    /// }
    /// ```
    #[track_caller]
    pub fn assert_installed_where_required(installed: bool) {
        assert!(
            installed || !Self::required(),
            "{}=1, but redis-server was not found when the tests were built: \
             `apt-get install redis-server` or set REDIS_SERVER",
            Self::REQUIRE_ENV
        );
    }

    /// Whether a missing `redis-server` fails rather than skips.
    fn required() -> bool {
        std::env::var(Self::REQUIRE_ENV).is_ok_and(|value| value == "1")
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn wait_until_ready(child: &mut Child, port: u16, args: &[&str]) -> io::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(10);
    // With a password set, an unauthenticated PING gets NOAUTH: it answers.
    let answers: &[&[u8]] = if args.contains(&"--requirepass") {
        &[b"+PONG", b"-NOAUTH"]
    } else {
        &[b"+PONG"]
    };
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "redis-server exited with {status} (port {port} taken?)"
            )));
        }
        if ping(address).is_ok_and(|reply| answers.iter().any(|a| reply.starts_with(a))) {
            return Ok(());
        }
        sleep(Duration::from_millis(20));
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "redis-server did not answer within 10 s",
    ))
}

fn ping(address: SocketAddr) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0; 64];
    let read = stream.read(&mut reply)?;
    Ok(reply[..read].to_vec())
}
