//! Redis as deployments run it, for tests: a server that only speaks TLS
//! (with a certificate authority made for the test by the `openssl` CLI),
//! a three-primary Redis Cluster, and a server with persistence on that can
//! be killed and started again on the same port and data directory.
//!
//! Each lives in a fresh directory under the system's temporary directory,
//! listens on loopback only, and is killed (and its directory removed)
//! when dropped. `start` panics when it cannot start (tests that use these
//! are `ignored` where `redis-server` is not installed: see build.rs).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A directory of its own under the temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> io::Result<Self> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(io::Error::other)?;
        let name: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = std::env::temp_dir().join(format!("hook-{what}-{name}"));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The started value, or a panic that says what failed.
fn or_panic<T>(what: &str, started: io::Result<T>) -> T {
    started.unwrap_or_else(|error| panic!("{what} did not start: {error}"))
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn run(command: &mut Command) -> io::Result<Output> {
    let output = command.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(output)
}

/// Starts `redis-server` with `args` (loopback, no snapshots unless asked),
/// and waits until its `port` accepts connections.
fn spawn_redis(port: u16, dir: &Path, args: &[&str]) -> io::Result<Child> {
    let binary = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
    let mut child = Command::new(binary)
        .args(["--bind", "127.0.0.1", "--save", ""])
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "redis-server exited with {status} (port {port} taken?)"
            )));
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "redis-server did not listen within 10 s",
    ))
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A `redis-server` that listens with TLS only, its certificate signed by a
/// certificate authority made for it.
pub struct TlsRedis {
    child: Child,
    port: u16,
    /// The certificate authority's certificate, PEM: what a client trusts.
    pub ca_pem: Vec<u8>,
    scratch: Scratch,
}

impl TlsRedis {
    /// Makes a CA and a server certificate for 127.0.0.1 (with the
    /// `openssl` CLI) and starts the server.
    pub fn start() -> Self {
        or_panic("a TLS-only redis-server", Self::try_start())
    }

    fn try_start() -> io::Result<Self> {
        let scratch = Scratch::new("redis-tls")?;
        let dir = &scratch.0;
        let openssl = |args: &[&str]| run(Command::new("openssl").current_dir(dir).args(args));
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.crt", "-days", "2"],
                &["-subj", "/CN=hook-layer test CA"],
            ]
            .concat(),
        )?;
        openssl(
            &[
                &["req"][..],
                &ec,
                &["-keyout", "server.key", "-out", "server.csr"],
                &["-subj", "/CN=localhost"],
            ]
            .concat(),
        )?;
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ])?;
        let ca_pem = std::fs::read(dir.join("ca.crt"))?;
        let port = free_port()?;
        let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let child = spawn_redis(
            port,
            dir,
            &[
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                &file("server.crt"),
                "--tls-key-file",
                &file("server.key"),
                "--tls-ca-cert-file",
                &file("ca.crt"),
                "--tls-auth-clients",
                "no",
                "--appendonly",
                "no",
            ],
        )?;
        Ok(Self {
            child,
            port,
            ca_pem,
            scratch,
        })
    }

    /// `rediss://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.port)
    }

    /// Where the CA certificate is, as a file (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.scratch.0.join("ca.crt")
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A Redis Cluster of three primaries (no replicas), formed with
/// `redis-cli --cluster create`.
pub struct RedisCluster {
    nodes: Vec<(Child, u16)>,
    scratch: Scratch,
}

impl RedisCluster {
    /// Starts the nodes and forms the cluster (with `redis-cli`).
    pub fn start() -> Self {
        or_panic("a Redis Cluster", Self::try_start())
    }

    fn try_start() -> io::Result<Self> {
        // Built first, so that nodes already started are killed if a later
        // one fails.
        let mut cluster = Self {
            nodes: Vec::new(),
            scratch: Scratch::new("redis-cluster")?,
        };
        for index in 0..3 {
            let port = free_port()?;
            let dir = cluster.scratch.0.join(format!("node-{index}"));
            std::fs::create_dir_all(&dir)?;
            let child = spawn_redis(
                port,
                &dir,
                &[
                    "--port",
                    &port.to_string(),
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--appendonly",
                    "no",
                ],
            )?;
            cluster.nodes.push((child, port));
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|(_, port)| format!("127.0.0.1:{port}"))
            .collect();
        run(Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"]))?;
        // Every node must agree that all slots are served before use.
        let deadline = Instant::now() + Duration::from_secs(20);
        for (_, port) in &cluster.nodes {
            loop {
                let info = run(Command::new("redis-cli").args([
                    "-p",
                    &port.to_string(),
                    "cluster",
                    "info",
                ]))?;
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(io::Error::other("the cluster did not become ready in 20 s"));
                }
                sleep(Duration::from_millis(100));
            }
        }
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>/` of every node: the seed list.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|(_, port)| format!("redis://127.0.0.1:{port}/"))
            .collect()
    }

    /// How many keys each node holds (`DBSIZE`), in node order.
    pub fn key_counts(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|(_, port)| {
                let output =
                    run(Command::new("redis-cli").args(["-p", &port.to_string(), "dbsize"]))
                        .expect("redis-cli dbsize");
                String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse()
                    .expect("a key count")
            })
            .collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for (child, _) in &mut self.nodes {
            stop(child);
        }
    }
}

/// A `redis-server` with its own data directory that a test can kill and
/// start again on the same port, with or without persistence
/// (`appendonly yes`, every write fsynced).
pub struct RestartableRedis {
    child: Option<Child>,
    port: u16,
    persistent: bool,
    scratch: Scratch,
}

impl RestartableRedis {
    /// Starts the server.
    pub fn start(persistent: bool) -> Self {
        or_panic("a restartable redis-server", Self::try_start(persistent))
    }

    fn try_start(persistent: bool) -> io::Result<Self> {
        let mut server = Self {
            child: None,
            port: free_port()?,
            persistent,
            scratch: Scratch::new("redis-restart")?,
        };
        server.start_again()?;
        Ok(server)
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--port".to_owned(), self.port.to_string()];
        if self.persistent {
            args.extend(["--appendonly", "yes", "--appendfsync", "always"].map(str::to_owned));
        } else {
            args.extend(["--appendonly", "no"].map(str::to_owned));
        }
        args
    }

    /// `redis://127.0.0.1:<port>/`, the same across restarts.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server at once (SIGKILL: no shutdown save).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child);
        }
    }

    /// Starts the server again on the same port and data directory.
    pub fn start_again(&mut self) -> io::Result<()> {
        let args = self.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // The port was just released; another process may take it, rarely.
        let child = spawn_redis(self.port, &self.scratch.0, &args)?;
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for RestartableRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
