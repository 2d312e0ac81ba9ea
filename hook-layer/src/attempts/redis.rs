//! Attempt counts and answers in Redis, shared by every replica of a hook.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{RedisError, RedisResult, Script, ScriptInvocation};

use super::{AttemptStore, ReadyFuture, ReserveFuture, StoreError, ValueFuture};

/// One round trip per attempt: add one, make sure the key lives at least
/// `ARGV[1]` more milliseconds (never shortening it), return the count. A
/// key without an expiry reports a PTTL of -1, so it gets one too. The
/// milliseconds are computed in Rust, so no arithmetic happens in Lua.
const RESERVE: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return count
";

/// Attempt counts in Redis: shared by every replica of the hook, kept
/// across restarts, the store for a hook behind a load balancer.
///
/// Each attempt is one round trip: a Lua script that increments the
/// session's key and, when needed, sets its expiry. The expiry is sent as a
/// number of seconds from now by the layer's clock, so a skew between the
/// hook's clock and Redis's cannot make a count expire early (or at once,
/// which would reset it); the key lives until one leeway after the
/// session is over (see [`AttemptLimiter`](super::AttemptLimiter) on
/// clocks), never shorter, and at most a second longer.
///
/// An answer ([`Answers`](super::Answers)) is one `SET key value NX GET`
/// (Redis 7.0 or later): it is put only if none is there, and whatever is
/// there comes back in the same round trip.
///
/// Counts and answers are only as durable as the Redis that holds them:
/// run it with the `noeviction` memory policy (any other may evict a
/// count or an answer, and so reset it), and with persistence (AOF with
/// `appendfsync everysec` or `always`) if they must survive a restart of
/// Redis itself; a failover to a replica that missed the last writes can
/// lose increments and answers. The store reports that it remembers
/// everything ([`AttemptStore::remembers_for`] is `None`): that is what
/// those settings must make true.
///
/// Every call is bounded by a timeout ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)
/// unless changed), so an outage refuses attempts with a [`StoreError`]
/// within seconds and never leaves requests hanging. Needs a Tokio runtime
/// with timers enabled (`#[tokio::main]` has them).
///
/// ```no_run
/// use std::sync::Arc;
/// use hook_layer::attempts::{AttemptLimiter, RedisStore};
///
/// # async fn run() -> Result<(), hook_layer::attempts::StoreError> {
/// // Fails here, at startup, when Redis cannot be reached.
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let codes = AttemptLimiter::new("code", 5, Arc::new(store));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: Connection,
    script: Script,
    prefix: Cow<'static, str>,
    timeout: Duration,
}

impl RedisStore {
    /// The default prefix of every key the store writes.
    pub const DEFAULT_PREFIX: &str = "hook-layer:attempts:";

    /// How long an attempt (and [`connect`](Self::connect)) may take
    /// before it fails with [`StoreError::Timeout`]: 2 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connects to the Redis server at `url` (for example
    /// `redis://:password@redis.internal:6379/0`, or, with the `redis-tls`
    /// feature, `rediss://` for TLS with the system's trusted roots) with
    /// [`manager_config`](Self::manager_config), checks that it answers,
    /// and loads the script.
    ///
    /// Fails, rather than starting without a working store, when the URL
    /// does not parse or the server cannot be reached or refuses the
    /// credentials, within [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    /// Error messages never include the URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        #[cfg(feature = "redis-tls")]
        tls::ensure_provider();
        let client = ::redis::Client::open(url).map_err(StoreError::unavailable)?;
        Self::connect_client(client).await
    }

    /// Connects to the Redis server at a `rediss://` `url` whose
    /// certificate is signed by the certificate authority in `root_ca_pem`
    /// (PEM), instead of one the system trusts: a private CA, as managed
    /// Redis services and in-cluster deployments often use.
    ///
    /// TLS goes through rustls. When the process has no default rustls
    /// crypto provider yet, this installs *ring*'s as the default.
    #[cfg(feature = "redis-tls")]
    pub async fn connect_with_root_ca(url: &str, root_ca_pem: &[u8]) -> Result<Self, StoreError> {
        tls::ensure_provider();
        let client = ::redis::Client::build_with_tls(url, tls::certificates(root_ca_pem))
            .map_err(StoreError::unavailable)?;
        Self::connect_client(client).await
    }

    async fn connect_client(client: ::redis::Client) -> Result<Self, StoreError> {
        let started = async move {
            let connection =
                ConnectionManager::new_with_config(client, Self::manager_config()).await?;
            Ok(Self::new(connection))
        };
        Self::started(started).await
    }

    /// Connects to a Redis Cluster through its `seed_urls` (any of its
    /// nodes, `redis://` or, with `redis-tls`, `rediss://`), learns the
    /// others from them, checks that the cluster answers, and loads the
    /// script on every primary. Each count is one key, so it lives on one
    /// node and needs nothing cluster-wide; the connection follows slot
    /// moves and failovers.
    ///
    /// Fails as [`connect`](Self::connect) does.
    #[cfg(feature = "redis-cluster")]
    pub async fn connect_cluster<I, S>(seed_urls: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::connect_cluster_builder(Self::cluster_builder(seed_urls)?).await
    }

    /// [`connect_cluster`](Self::connect_cluster) to `rediss://` nodes
    /// whose certificates are signed by the CA in `root_ca_pem`, as
    /// [`connect_with_root_ca`](Self::connect_with_root_ca).
    #[cfg(all(feature = "redis-cluster", feature = "redis-tls"))]
    pub async fn connect_cluster_with_root_ca<I, S>(
        seed_urls: I,
        root_ca_pem: &[u8],
    ) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let builder = Self::cluster_builder(seed_urls)?.certs(tls::certificates(root_ca_pem));
        Self::connect_cluster_builder(builder).await
    }

    #[cfg(feature = "redis-cluster")]
    fn cluster_builder<I, S>(
        seed_urls: I,
    ) -> Result<::redis::cluster::ClusterClientBuilder, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        #[cfg(feature = "redis-tls")]
        tls::ensure_provider();
        let mut nodes = Vec::new();
        for url in seed_urls {
            // Parsed here, so that a bad URL is an error without the URL.
            let info = ::redis::IntoConnectionInfo::into_connection_info(url.as_ref())
                .map_err(StoreError::unavailable)?;
            nodes.push(info);
        }
        if nodes.is_empty() {
            return Err(StoreError::unavailable("no Redis Cluster node was given"));
        }
        // The same bounds as `manager_config`, so that an outage shows
        // within the store's timeout.
        Ok(::redis::cluster::ClusterClientBuilder::new(nodes)
            .connection_timeout(Duration::from_secs(1))
            .response_timeout(Duration::from_secs(1))
            .retries(1)
            .max_retry_wait(200))
    }

    #[cfg(feature = "redis-cluster")]
    async fn connect_cluster_builder(
        builder: ::redis::cluster::ClusterClientBuilder,
    ) -> Result<Self, StoreError> {
        let started = async move {
            let client = builder.build()?;
            let connection = client.get_async_connection().await?;
            Ok(Self::with_connection(Connection::Cluster(connection)))
        };
        Self::started(started).await
    }

    /// Waits for `started` within the timeout, then checks that the store
    /// answers and loads its script.
    async fn started(started: impl Future<Output = RedisResult<Self>>) -> Result<Self, StoreError> {
        let timeout = Self::DEFAULT_TIMEOUT;
        let started = async move {
            let store = started.await?;
            store.connection.load(&store.script).await?;
            Ok::<_, RedisError>(store)
        };
        match tokio::time::timeout(timeout, started).await {
            Ok(result) => result.map_err(StoreError::unavailable),
            Err(_) => Err(StoreError::Timeout { after: timeout }),
        }
    }

    /// A store on an existing connection manager, with the default prefix
    /// and timeout. Build the manager with
    /// [`manager_config`](Self::manager_config), or with short timeouts of
    /// your own.
    pub fn new(connection: ConnectionManager) -> Self {
        Self::with_connection(Connection::Single(connection))
    }

    fn with_connection(connection: Connection) -> Self {
        Self {
            connection,
            script: Script::new(RESERVE),
            prefix: Cow::Borrowed(Self::DEFAULT_PREFIX),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// The connection settings [`connect`](Self::connect) uses: 1 s to
    /// connect, 1 s for a response, one reconnection retry after at most
    /// 200 ms, so that a failure shows within the timeout rather than after
    /// the crate's default of six retries.
    pub fn manager_config() -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200))
    }

    /// Sets the prefix of every key (default
    /// [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX)), for example to keep two
    /// hooks that share a Redis database apart.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets how long one attempt may take before it fails with
    /// [`StoreError::Timeout`] (default
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl AttemptStore for RedisStore {
    fn reserve<'a>(&'a self, key: &'a str, now: u64, expires_at: u64) -> ReserveFuture<'a> {
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation.arg(ttl_ms(now, expires_at));
        // On a timeout the increment may or may not have happened: either
        // way the attempt is refused, so the count never undercounts.
        self.within_timeout(self.connection.clone().invoke(invocation))
    }

    /// `SET key value NX GET PX ttl`, within the store's timeout: one
    /// round trip that puts the value if the key is free and returns what
    /// was there. A timeout leaves it unknown whether the value was put;
    /// the next call reads back whichever value won.
    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        now: u64,
        expires_at: u64,
    ) -> ValueFuture<'a> {
        let mut set = ::redis::cmd("SET");
        set.arg(format!("{}{key}", self.prefix))
            .arg(value)
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(ttl_ms(now, expires_at));
        self.within_timeout(self.connection.clone().query(set))
    }

    /// `GET`, within the store's timeout (Redis expires keys itself).
    fn get<'a>(&'a self, key: &'a str, _now: u64) -> ValueFuture<'a> {
        let mut get = ::redis::cmd("GET");
        get.arg(format!("{}{key}", self.prefix));
        self.within_timeout(self.connection.clone().query(get))
    }

    /// `PING`, within the store's timeout.
    fn ready(&self) -> ReadyFuture<'_> {
        self.within_timeout(self.connection.clone().query(::redis::cmd("PING")))
    }
}

impl RedisStore {
    /// `call`, failing with [`StoreError::Timeout`] past the store's
    /// timeout.
    fn within_timeout<'a, T: 'a>(
        &'a self,
        call: impl Future<Output = RedisResult<T>> + Send + 'a,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, call).await {
                Ok(result) => result.map_err(StoreError::unavailable),
                Err(_) => Err(StoreError::Timeout {
                    after: self.timeout,
                }),
            }
        })
    }
}

/// Milliseconds from `now` to `expires_at`, at least one second: the
/// expiry is sent as a span of the layer's clock, never as an instant of
/// Redis's.
fn ttl_ms(now: u64, expires_at: u64) -> u64 {
    expires_at.saturating_sub(now).max(1).saturating_mul(1000)
}

/// A connection to one server (reconnecting by itself) or to a cluster.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    #[cfg(feature = "redis-cluster")]
    Cluster(::redis::cluster_async::ClusterConnection),
}

impl Connection {
    async fn invoke(mut self, invocation: ScriptInvocation<'_>) -> RedisResult<u64> {
        match &mut self {
            Self::Single(connection) => invocation.invoke_async(connection).await,
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(connection) => invocation.invoke_async(connection).await,
        }
    }

    /// Checks that the store answers and, on one server, loads the script
    /// so that the first attempt is one round trip. (On a cluster, each
    /// primary loads it on first use; any node that lost it, after a
    /// restart say, reloads it then too.)
    async fn load(&self, script: &Script) -> RedisResult<()> {
        match self.clone() {
            Self::Single(mut connection) => script.load_async(&mut connection).await.map(drop),
            #[cfg(feature = "redis-cluster")]
            cluster @ Self::Cluster(_) => cluster.query(::redis::cmd("PING")).await,
        }
    }

    /// Runs one command.
    async fn query<T: ::redis::FromRedisValue>(mut self, command: ::redis::Cmd) -> RedisResult<T> {
        match &mut self {
            Self::Single(connection) => command.query_async(connection).await,
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(connection) => command.query_async(connection).await,
        }
    }
}

/// TLS through rustls.
#[cfg(feature = "redis-tls")]
mod tls {
    /// Installs *ring*'s provider as rustls's process default, unless the
    /// application installed one: the `redis` crate builds its TLS
    /// configuration from the default, and a process with no provider
    /// (or two compiled in and none chosen) could not build one.
    pub(super) fn ensure_provider() {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race to another installer is fine: one is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    }

    /// Trust `root_ca_pem` instead of the system's roots; no client
    /// certificate.
    pub(super) fn certificates(root_ca_pem: &[u8]) -> ::redis::TlsCertificates {
        ::redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root_ca_pem.to_vec()),
        }
    }
}

impl fmt::Debug for RedisStore {
    /// The connection is left out: its settings hold the server address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
