//! The processes a soak run starts: Redis (killed, started again and
//! paused), and the example-server replicas; each is killed when dropped.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{HOOK_URL, TENANT};

/// A fresh directory under the temporary directory, removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new() -> io::Result<Self> {
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
pub(crate) struct Redis {
    pub(crate) binary: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
    /// `appendonly yes` with every write fsynced, or nothing on disk.
    pub(crate) persistent: bool,
    pub(crate) child: Option<Child>,
}

impl Redis {
    pub(crate) fn new(binary: &Path, dir: PathBuf, persistent: bool) -> io::Result<Self> {
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
    pub(crate) fn start(&mut self) -> io::Result<()> {
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
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `CLIENT PAUSE <ms> WRITE` (or `ALL`) to the Redis on `port`, over a
/// connection of its own: Redis holds its clients' commands (only writes,
/// or all) until the pause is over, then runs them. The reply comes at
/// once; a blocking exchange of a few bytes on loopback, off the runtime's
/// threads.
pub(crate) async fn pause(port: u16, length: Duration, all: bool) -> io::Result<()> {
    let milliseconds = length.as_millis().to_string();
    let mode = if all { "ALL" } else { "WRITE" };
    let mut command = String::from("*4\r\n");
    for word in ["CLIENT", "PAUSE", &milliseconds, mode] {
        command.push_str(&format!("${}\r\n{word}\r\n", word.len()));
    }
    let reply = tokio::task::spawn_blocking(move || {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(command.as_bytes())?;
        let mut reply = [0u8; 64];
        let read = stream.read(&mut reply)?;
        Ok::<_, io::Error>(reply[..read].to_vec())
    })
    .await
    .map_err(io::Error::other)??;
    if reply.starts_with(b"+OK") {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "CLIENT PAUSE: {}",
            String::from_utf8_lossy(&reply).trim_end()
        )))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One example-server process, its log in a file.
pub(crate) struct Replica {
    pub(crate) name: &'static str,
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Replica {
    pub(crate) fn start(
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
    pub(crate) fn memory(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(name))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// SIGTERM, and SIGKILL if it has not stopped within 10 s.
    pub(crate) fn stop(mut self) {
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
