//! Attempt counts in Redis, shared by every replica of a hook.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use ::redis::Script;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{AttemptStore, ReserveFuture, StoreError};

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
/// The counts are only as durable as the Redis that holds them: run it with
/// the `noeviction` memory policy (any other may evict a count, and so
/// reset it), and with persistence if counts must survive a restart of
/// Redis itself; a failover to a replica that missed the last writes can
/// lose increments.
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
    connection: ConnectionManager,
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
    /// `redis://:password@redis.internal:6379/0`, or `rediss://` with a TLS
    /// feature of the `redis` crate) with [`manager_config`](Self::manager_config),
    /// checks that it answers, and loads the script.
    ///
    /// Fails, rather than starting without a working store, when the URL
    /// does not parse or the server cannot be reached or refuses the
    /// credentials, within [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    /// Error messages never include the URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = ::redis::Client::open(url).map_err(StoreError::unavailable)?;
        let timeout = Self::DEFAULT_TIMEOUT;
        let started = async move {
            let mut connection =
                ConnectionManager::new_with_config(client, Self::manager_config()).await?;
            let store = Self::new(connection.clone());
            store.script.load_async(&mut connection).await?;
            Ok::<_, ::redis::RedisError>(store)
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
        let ttl_ms = expires_at.saturating_sub(now).max(1).saturating_mul(1000);
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation.arg(ttl_ms);
        let mut connection = self.connection.clone();
        Box::pin(async move {
            let call = invocation.invoke_async::<u64>(&mut connection);
            match tokio::time::timeout(self.timeout, call).await {
                Ok(result) => result.map_err(StoreError::unavailable),
                // The increment may or may not have happened: either way
                // the attempt is refused, so the count never undercounts.
                Err(_) => Err(StoreError::Timeout {
                    after: self.timeout,
                }),
            }
        })
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
