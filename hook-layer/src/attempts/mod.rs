//! Attempt limits that hold across requests: wrong one-time codes, code
//! resends, anything a journey must allow only a few times per session.
//!
//! An [`AttemptLimiter`] *reserves* an attempt before the answer is checked:
//! the store adds one to the session's count atomically and only a count
//! within the limit may go on to the check. However requests interleave,
//! across threads, processes or replicas, no more than `limit` checks run
//! per session. A store that fails refuses the attempt; it never grants an
//! unlimited one.
//!
//! ```
//! use std::sync::Arc;
//! use hook_layer::attempts::{AttemptError, AttemptLimiter, MemoryStore};
//! use hook_layer::testing::MockIssuer;
//! use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = HookSecret::from_bytes(&[7; 32])?;
//! let layer = InteractionHookLayer::new(secret.clone());
//! let session: HookSession = layer.verify_token(&MockIssuer::new(secret).session().token())?;
//!
//! let codes = AttemptLimiter::new("code", 3, Arc::new(MemoryStore::default()));
//! for _ in 0..3 {
//!     let attempt = codes.attempt(&session).await?;
//!     // ... check the code here; it was wrong.
//!     # let _ = attempt;
//! }
//! assert!(matches!(
//!     codes.attempt(&session).await,
//!     Err(AttemptError::Exhausted { limit: 3 })
//! ));
//! # Ok(())
//! # }
//! ```
//!
//! Stores: [`MemoryStore`], bounded and in this process, the embedded
//! default; and, with the `redis` feature, [`RedisStore`], which every
//! replica of a hook shares and which keeps counts across restarts. Counts
//! expire one leeway after their session's token stops being accepted.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{AttemptOutcome, LimiterMetrics};
use crate::session::{HookSession, SessionCore};

mod answers;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use answers::{AnswerError, Answered, Answers, StoredAnswer};

#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use memory::MemoryStore;

/// The future an [`AttemptStore`] returns: the count after this attempt.
///
/// Boxed so that stores work as `Arc<dyn AttemptStore>` and an application
/// can choose one at run time (memory for one replica, Redis for several)
/// without a type parameter spreading through its state. One allocation per
/// attempt is noise next to a Redis round trip and small next to the memory
/// store's lock.
pub type ReserveFuture<'a> = Pin<Box<dyn Future<Output = Result<u64, StoreError>> + Send + 'a>>;

/// The future of [`AttemptStore::put_if_absent`] and
/// [`AttemptStore::get`]: the value already under the key, `None` for none.
pub type ValueFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<String>, StoreError>> + Send + 'a>>;

/// The future of [`AttemptStore::ready`]: `Ok` when the store can count.
pub type ReadyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// Where attempt counts and answers live.
///
/// Implement it to keep them elsewhere; [`MemoryStore`] and (feature
/// `redis`) [`RedisStore`] are provided. Every operation is one atomic step
/// on one key, so a store can shard keys (Redis Cluster does).
pub trait AttemptStore: Send + Sync + 'static {
    /// Adds one to the count under `key`, atomically, creating it at 1, and
    /// returns the new count.
    ///
    /// `now` is the current Unix second by the layer's clock. A new entry
    /// must live until at least the Unix second `expires_at` (always after
    /// `now`) by that clock and may be dropped from then on; an existing
    /// entry must never expire earlier than it would have. Any failure must
    /// be an error: a store that cannot count must not report a low count.
    fn reserve<'a>(&'a self, key: &'a str, now: u64, expires_at: u64) -> ReserveFuture<'a>;

    /// Puts `value` under `key` unless a value is there already, atomically,
    /// and returns what was there: `None` when `value` was put. Lifetimes
    /// as in [`reserve`](Self::reserve). This is how a session's one signed
    /// response is kept ([`Answers`]): the first request to put it wins, and
    /// every later one reads the winner's back.
    ///
    /// The default fails: a store of the application's that cannot keep
    /// values cannot keep answers, and says so.
    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        now: u64,
        expires_at: u64,
    ) -> ValueFuture<'a> {
        let _ = (key, value, now, expires_at);
        Box::pin(std::future::ready(Err(StoreError::unavailable(
            "this attempt store cannot keep answers",
        ))))
    }

    /// The value under `key` now (`now` as in [`reserve`](Self::reserve)),
    /// `None` when there is none or it expired. Used to ask how a session
    /// was answered ([`Answers::answered`]). The default fails, as
    /// [`put_if_absent`](Self::put_if_absent)'s does.
    fn get<'a>(&'a self, key: &'a str, now: u64) -> ValueFuture<'a> {
        let _ = (key, now);
        Box::pin(std::future::ready(Err(StoreError::unavailable(
            "this attempt store cannot keep answers",
        ))))
    }

    /// For how long this store has kept everything written to it, when it
    /// keeps nothing from before then: a store in this process's memory
    /// starts empty at each restart. Sessions whose tokens were issued
    /// longer ago than that are refused
    /// ([`AttemptError::SessionBeforeStore`]): their earlier attempts and
    /// answer, made before a restart, would be forgotten, and a session
    /// could then be answered twice or get fresh attempts.
    ///
    /// `None`, the default, is a store that outlives the process (Redis):
    /// it answers for every session.
    fn remembers_for(&self) -> Option<Duration> {
        None
    }

    /// Whether the store can count now, for a readiness check: a shared
    /// store answers within its timeout, or fails. The default, for a
    /// store in this process, is always ready.
    fn ready(&self) -> ReadyFuture<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Limits attempts per session, for one purpose (checking a code, sending
/// one), in a shared [`AttemptStore`].
///
/// Counts are kept per limiter name, tenant (the session's issuer) and
/// session `state`, for as long as the session's token is accepted (`exp`,
/// or `iat` plus the maximum age, plus the leeway, by the layer's clock)
/// and one more leeway beyond: a count must outlive the token on every
/// replica, and the replicas' clocks may be apart.
///
/// # Clocks
///
/// Replicas that share a store may have clocks up to the layer's leeway
/// apart (30 s by default; see `InteractionHookLayer::leeway`). A replica
/// whose clock is further behind than that could still accept a token
/// after its count expired, and so count it again from zero. Keep replica
/// clocks synchronised (NTP); raise the leeway rather than let them drift.
///
/// # Sessions longer than a count may live
///
/// A count lives at most [`max_count_lifetime`](Self::max_count_lifetime)
/// (a day by default) so that a token that claims a very long life cannot
/// fill a shared store. A session accepted for longer than that from now,
/// including a token with no lifetime at all (accepted only after
/// `allow_tokens_without_lifetime`), is refused with
/// [`AttemptError::SessionTooLong`]: its count could expire while the
/// token is still accepted, and start again.
///
/// Cloning is cheap.
#[derive(Clone)]
pub struct AttemptLimiter {
    store: Arc<dyn AttemptStore>,
    name: Arc<str>,
    limit: u64,
    max_count_lifetime: u64,
    metrics: Arc<LimiterMetrics>,
    /// Before every key: empty for a limiter (whose keys start with a
    /// digit), `answered:` for [`Answers`], so the two never share a key.
    key_prefix: &'static str,
}

impl AttemptLimiter {
    /// A limiter that allows `limit` attempts per session under `name`
    /// (for example `"code"` or `"resend"`; limiters with different names
    /// count separately in one store).
    pub fn new(name: &str, limit: u64, store: Arc<dyn AttemptStore>) -> Self {
        Self {
            store,
            name: Arc::from(name),
            limit,
            max_count_lifetime: Self::DEFAULT_MAX_COUNT_LIFETIME.as_secs(),
            metrics: Arc::default(),
            key_prefix: "",
        }
    }

    /// The longest a count may be kept by default: a day, far beyond any
    /// interaction hook session.
    pub const DEFAULT_MAX_COUNT_LIFETIME: Duration = Duration::from_secs(86_400);

    /// Sets the longest a count may be kept, from the attempt that makes it
    /// (default [`DEFAULT_MAX_COUNT_LIFETIME`](Self::DEFAULT_MAX_COUNT_LIFETIME),
    /// whole seconds). Attempts for a session whose count would have to
    /// live longer are refused with [`AttemptError::SessionTooLong`].
    #[must_use]
    pub fn max_count_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_count_lifetime = lifetime.as_secs();
        self
    }

    /// The number of attempts allowed per session.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The name the limiter counts under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reserves one attempt for `session`. `Ok` means the answer may be
    /// checked now; any error means it must not be.
    ///
    /// Every call counts, whatever happens next, so call it right before
    /// the check, and only for requests that carry an answer.
    pub fn attempt<C>(
        &self,
        session: &HookSession<C>,
    ) -> impl Future<Output = Result<Attempt, AttemptError>> + Send + '_ {
        // Everything the future needs is taken here, so that it holds
        // neither the session nor its claims across the await.
        let core = session.core();
        let expiry = self.count_expiry(core);
        let key = self.key(core);
        async move {
            let result = match expiry {
                Ok((now, expires_at)) => self.reserve(&key, now, expires_at).await,
                Err(error) => Err(error),
            };
            let outcome = match &result {
                Ok(_) => AttemptOutcome::Granted,
                Err(AttemptError::Exhausted { .. }) => AttemptOutcome::Exhausted,
                Err(AttemptError::SessionOver) => AttemptOutcome::SessionOver,
                Err(AttemptError::SessionTooLong { .. }) => AttemptOutcome::SessionTooLong,
                Err(AttemptError::SessionBeforeStore) => AttemptOutcome::SessionBeforeStore,
                Err(AttemptError::Store(_)) => AttemptOutcome::StoreError,
            };
            self.metrics.attempt(&self.name, outcome);
            result
        }
    }

    /// The store key of `session`'s count.
    fn key(&self, session: &SessionCore) -> String {
        key(self.key_prefix, &self.name, &session.issuer, &session.state)
    }

    /// The current Unix second and when a count made now must expire, or
    /// why no count may be made.
    fn count_expiry(&self, session: &SessionCore) -> Result<(u64, u64), AttemptError> {
        let now = session.policy.now();
        let accepted_until = session.accepted_until();
        if accepted_until.is_some_and(|end| now >= end) {
            return Err(AttemptError::SessionOver);
        }
        if !self.store_has_seen(session, now) {
            return Err(AttemptError::SessionBeforeStore);
        }
        // One more leeway past the token's end: another replica whose clock
        // is up to the leeway behind this one's still accepts the token
        // then, and must still find the count.
        match accepted_until.map(|end| end.saturating_add(session.leeway())) {
            Some(at) if at - now <= self.max_count_lifetime => Ok((now, at)),
            // A count that expired while its token is still accepted would
            // start again: refuse rather than count for less than the
            // session's life.
            _ => Err(AttemptError::SessionTooLong {
                max: Duration::from_secs(self.max_count_lifetime),
            }),
        }
    }

    /// Whether the store has kept everything since `session`'s token was
    /// issued (see [`AttemptStore::remembers_for`]). Ages are compared
    /// rather than instants, so that a layer whose clock is not the
    /// system's (a test's) judges by its own. Both are whole seconds here:
    /// a second's grace keeps a token issued just after the store started
    /// from being refused, at the price of one issued up to a second or
    /// two before it being served.
    fn store_has_seen(&self, session: &SessionCore, now: u64) -> bool {
        let Some(remembered) = self.store.remembers_for() else {
            return true;
        };
        match session.issued_at {
            Some(iat) => now.saturating_sub(iat) <= remembered.as_secs().saturating_add(1),
            // No `iat`: no way to tell when the session began.
            None => false,
        }
    }

    /// Adds one to the count in the store and judges the result.
    async fn reserve(&self, key: &str, now: u64, expires_at: u64) -> Result<Attempt, AttemptError> {
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let reserved = self.store.reserve(key, now, expires_at).await;
        #[cfg(feature = "metrics")]
        self.metrics.store_round_trip(&self.name, started.elapsed());
        let number = reserved.map_err(AttemptError::Store)?;
        // 0 cannot follow an increment: a broken store, refused.
        if number == 0 || number > self.limit {
            return Err(AttemptError::Exhausted { limit: self.limit });
        }
        Ok(Attempt {
            number,
            remaining: self.limit - number,
        })
    }
}

impl fmt::Debug for AttemptLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptLimiter")
            .field("name", &self.name)
            .field("limit", &self.limit)
            .field("max_count_lifetime", &self.max_count_lifetime)
            .finish_non_exhaustive()
    }
}

/// The store key of one session's count: a prefix (empty for a limiter,
/// whose keys then start with a digit), limiter name, issuer and state,
/// name and issuer length-prefixed, so that no two sessions or limiters
/// share a key. It is bounded by the layer's token cap (the issuer and
/// state come from a verified token) plus the name; MATTR VII's states are
/// short, so keys are typically under 120 bytes.
fn key(prefix: &str, name: &str, issuer: &str, state: &str) -> String {
    let mut key =
        String::with_capacity(prefix.len() + name.len() + issuer.len() + state.len() + 24);
    key.push_str(prefix);
    for part in [name, issuer] {
        key.push_str(&part.len().to_string());
        key.push(':');
        key.push_str(part);
        key.push(':');
    }
    key.push_str(state);
    key
}

/// A reserved attempt: the answer may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// Which attempt this is for the session, from 1.
    pub number: u64,
    /// How many attempts are left after this one.
    pub remaining: u64,
}

/// Why an attempt was refused. In every case the answer must not be
/// checked.
#[derive(Debug)]
#[non_exhaustive]
pub enum AttemptError {
    /// The session has used all its attempts.
    Exhausted {
        /// The limit, for a message such as "you can try 3 times".
        limit: u64,
    },
    /// The session's token is no longer accepted by the layer's clock, so
    /// it gets no more attempts (its count could not outlive it).
    SessionOver,
    /// The session's token is accepted for longer than a count may be kept
    /// ([`AttemptLimiter::max_count_lifetime`]), or has no lifetime at all:
    /// its count could expire while the token is still accepted and start
    /// again, so no attempt is granted.
    SessionTooLong {
        /// The longest a count is kept.
        max: Duration,
    },
    /// The session's token was issued before the store started keeping
    /// counts (the hook restarted since, and its store is in memory: see
    /// [`AttemptStore::remembers_for`]). Its earlier attempts are forgotten,
    /// so it gets none: the holder must start again from their wallet.
    SessionBeforeStore,
    /// The store failed or did not answer in time. The attempt is refused
    /// rather than allowed without a count.
    Store(StoreError),
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exhausted { limit } => {
                write!(f, "all {limit} attempts for this session are used")
            }
            Self::SessionOver => f.write_str("the session is over; start again"),
            Self::SessionTooLong { max } => write!(
                f,
                "the session lasts longer than attempt counts are kept ({} s), \
                 so no attempt is granted",
                max.as_secs()
            ),
            Self::SessionBeforeStore => f.write_str(
                "the session began before the hook last restarted, and its earlier \
                 attempts are forgotten; start again",
            ),
            Self::Store(error) => write!(f, "no attempt could be reserved: {error}"),
        }
    }
}

impl StdError for AttemptError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Store(error) => Some(error),
            _ => None,
        }
    }
}

/// Why an [`AttemptStore`] could not count an attempt.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The memory store holds its maximum number of live counts; evicting
    /// one would reset it, so the new session is refused instead. Raise the
    /// capacity, or share counts in Redis.
    Full {
        /// The store's capacity, in sessions.
        max_entries: usize,
    },
    /// The store did not answer in time.
    Timeout {
        /// How long it was given.
        after: Duration,
    },
    /// The store failed or cannot be reached.
    Unavailable(Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    /// A store failure, for [`AttemptStore`] implementations. Its message
    /// is shown in this error's `Display`, so it must not hold credentials.
    pub fn unavailable(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Unavailable(error.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { max_entries } => write!(
                f,
                "the attempt store is full ({max_entries} live sessions); \
                 raise its capacity or use a shared store"
            ),
            Self::Timeout { after } => {
                write!(f, "the attempt store did not answer within {after:?}")
            }
            Self::Unavailable(error) => write!(f, "the attempt store is unavailable: {error}"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Unavailable(error) => Some(&**error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::InteractionHookLayer;
    use crate::fixtures::{NOW, at, issuer, layer_at, secret};

    /// Records what it was asked, and counts like a store.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<(String, u64, u64)>>);

    impl AttemptStore for Recorder {
        fn reserve<'a>(&'a self, key: &'a str, now: u64, expires_at: u64) -> ReserveFuture<'a> {
            let mut calls = self.0.lock().unwrap();
            calls.push((key.to_owned(), now, expires_at));
            let count = calls.iter().filter(|(k, ..)| k == key).count() as u64;
            Box::pin(std::future::ready(Ok(count)))
        }
    }

    struct Down;

    impl AttemptStore for Down {
        fn reserve<'a>(&'a self, _: &'a str, _: u64, _: u64) -> ReserveFuture<'a> {
            Box::pin(std::future::ready(Err(StoreError::unavailable(
                "connection refused",
            ))))
        }
    }

    #[tokio::test]
    async fn counts_to_the_limit_then_refuses() {
        let limiter = AttemptLimiter::new("code", 3, Arc::new(MemoryStore::default()));
        let session: HookSession = layer_at(NOW)
            .verify_token(&issuer().session().token())
            .unwrap();
        for (number, remaining) in [(1, 2), (2, 1), (3, 0)] {
            assert_eq!(
                limiter.attempt(&session).await.unwrap(),
                Attempt { number, remaining }
            );
        }
        for _ in 0..3 {
            assert!(matches!(
                limiter.attempt(&session).await,
                Err(AttemptError::Exhausted { limit: 3 })
            ));
        }
        let zero = AttemptLimiter::new("never", 0, Arc::new(MemoryStore::default()));
        assert!(matches!(
            zero.attempt(&session).await,
            Err(AttemptError::Exhausted { limit: 0 })
        ));
    }

    #[tokio::test]
    async fn sessions_and_limiters_count_apart() {
        let store: Arc<dyn AttemptStore> = Arc::new(MemoryStore::default());
        let codes = AttemptLimiter::new("code", 1, Arc::clone(&store));
        let resends = AttemptLimiter::new("resend", 1, store);
        let mock = issuer();
        let layer = layer_at(NOW);
        let one: HookSession = layer.verify_token(&mock.session().token()).unwrap();
        let two: HookSession = layer.verify_token(&mock.session().token()).unwrap();
        assert!(codes.attempt(&one).await.is_ok());
        assert!(codes.attempt(&two).await.is_ok());
        assert!(resends.attempt(&one).await.is_ok());
        assert!(codes.attempt(&one).await.is_err());
        assert!(resends.attempt(&one).await.is_err());
    }

    #[tokio::test]
    async fn the_same_state_at_another_tenant_counts_apart() {
        let open = InteractionHookLayer::new(secret()).clock(at(NOW));
        let mock = issuer();
        let here: HookSession = open
            .verify_token(&mock.session().state("s").token())
            .unwrap();
        let there: HookSession = open
            .verify_token(
                &mock
                    .session()
                    .state("s")
                    .issuer("https://other.vii.au01.mattr.global")
                    .token(),
            )
            .unwrap();
        let limiter = AttemptLimiter::new("code", 1, Arc::new(MemoryStore::default()));
        assert!(limiter.attempt(&here).await.is_ok());
        assert!(limiter.attempt(&there).await.is_ok());
    }

    #[test]
    fn keys_cannot_collide() {
        assert_ne!(key("", "a", "b:c", "d"), key("", "a", "b", "c:d"));
        assert_ne!(key("", "a:1", "b", "c"), key("", "a", "1:b", "c"));
        assert_eq!(
            key("", "code", "https://t.example", "xyz"),
            "4:code:17:https://t.example:xyz"
        );
    }

    /// The store is asked to keep the count until the token stops being
    /// accepted, by the layer's clock, and is given that clock's time.
    #[tokio::test]
    async fn counts_live_as_long_as_the_session() {
        let store = Arc::new(Recorder::default());
        let limiter = AttemptLimiter::new("code", 5, store.clone());
        let token = issuer().session().set("exp", NOW + 100).token();
        let session: HookSession = layer_at(NOW + 7).verify_token(&token).unwrap();
        limiter.attempt(&session).await.unwrap();
        let no_exp = issuer().session().remove("exp").token();
        let layer = layer_at(NOW).max_age(Duration::from_secs(300));
        let session: HookSession = layer.verify_token(&no_exp).unwrap();
        limiter.attempt(&session).await.unwrap();
        let calls = store.0.lock().unwrap();
        // The token's end (`exp` plus the 30 s leeway), plus one more
        // leeway for replicas whose clocks are apart.
        assert_eq!((calls[0].1, calls[0].2), (NOW + 7, NOW + 100 + 30 + 30));
        assert_eq!((calls[1].1, calls[1].2), (NOW, NOW + 300 + 30 + 1 + 30));
    }

    /// A token accepted for longer than a count may live gets no attempt,
    /// rather than a count that restarts while the token is still good.
    #[tokio::test]
    async fn a_session_longer_than_a_count_may_live_gets_no_attempt() {
        const DAY: u64 = 86_400;
        let store = Arc::new(Recorder::default());
        let limiter = AttemptLimiter::new("code", 3, store.clone());
        let layer = layer_at(NOW);
        let three_days = issuer().session().set("exp", NOW + 3 * DAY).token();
        let session: HookSession = layer.verify_token(&three_days).unwrap();
        for _ in 0..5 {
            let error = limiter.attempt(&session).await.unwrap_err();
            assert!(
                matches!(error, AttemptError::SessionTooLong { max } if max.as_secs() == DAY),
                "{error}"
            );
            assert_eq!(
                error.to_string(),
                "the session lasts longer than attempt counts are kept (86400 s), \
                 so no attempt is granted"
            );
        }
        let unbounded = issuer().session().remove("exp").remove("iat").token();
        let session: HookSession = layer
            .clone()
            .allow_tokens_without_lifetime()
            .verify_token(&unbounded)
            .unwrap();
        assert!(matches!(
            limiter.attempt(&session).await,
            Err(AttemptError::SessionTooLong { .. })
        ));
        assert!(store.0.lock().unwrap().is_empty(), "the store was asked");

        // A limiter allowed to keep counts longer counts such a session,
        // for its whole life.
        let longer = limiter.max_count_lifetime(Duration::from_secs(4 * DAY));
        let session: HookSession = layer.verify_token(&three_days).unwrap();
        assert_eq!(longer.attempt(&session).await.unwrap().number, 1);
        let calls = store.0.lock().unwrap();
        assert_eq!(calls[0].2, NOW + 3 * DAY + 30 + 30);
    }

    /// A session already over by the layer's clock (the handler ran long
    /// after verification) gets no attempt, and the store is not asked.
    #[tokio::test]
    async fn a_session_past_its_end_gets_no_attempt() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let now = Arc::new(AtomicU64::new(NOW));
        let read = Arc::clone(&now);
        let layer = layer_at(NOW)
            .clock(move || UNIX_EPOCH + Duration::from_secs(read.load(Ordering::SeqCst)));
        let store = Arc::new(Recorder::default());
        let limiter = AttemptLimiter::new("code", 5, store.clone());
        let token = issuer().session().set("exp", NOW + 100).token();
        let session: HookSession = layer.verify_token(&token).unwrap();
        now.store(NOW + 129, Ordering::SeqCst);
        assert!(limiter.attempt(&session).await.is_ok());
        now.store(NOW + 130, Ordering::SeqCst);
        assert!(matches!(
            limiter.attempt(&session).await,
            Err(AttemptError::SessionOver)
        ));
        assert_eq!(store.0.lock().unwrap().len(), 1);
    }

    /// On a store in memory, a session whose token was issued before the
    /// store was made (before a restart) gets no attempt: its earlier ones
    /// are forgotten. Its age is judged by the layer's clock.
    #[tokio::test]
    async fn a_session_older_than_a_memory_store_gets_no_attempt() {
        let store: Arc<dyn AttemptStore> = Arc::new(MemoryStore::default());
        let limiter = AttemptLimiter::new("code", 3, Arc::clone(&store));
        let layer = layer_at(NOW + 60);
        let older = issuer().session().set("exp", NOW + 300).token();
        let session: HookSession = layer.verify_token(&older).unwrap();
        let error = limiter.attempt(&session).await.unwrap_err();
        assert!(matches!(error, AttemptError::SessionBeforeStore), "{error}");
        assert_eq!(
            error.to_string(),
            "the session began before the hook last restarted, and its earlier attempts \
             are forgotten; start again"
        );
        // Issued a second ago (the grace for whole seconds): served.
        let just_now: HookSession = layer_at(NOW + 1)
            .verify_token(&issuer().session().token())
            .unwrap();
        assert!(limiter.attempt(&just_now).await.is_ok());
        // Without `iat` there is no telling: refused.
        let no_iat = issuer().session().remove("iat").token();
        let session: HookSession = layer_at(NOW).verify_token(&no_iat).unwrap();
        assert!(matches!(
            limiter.attempt(&session).await,
            Err(AttemptError::SessionBeforeStore)
        ));
        // A store that serves earlier sessions, or one that outlives the
        // process, counts it.
        let trusting = AttemptLimiter::new(
            "code",
            3,
            Arc::new(MemoryStore::default().serve_earlier_sessions()),
        );
        let session: HookSession = layer.verify_token(&older).unwrap();
        assert!(trusting.attempt(&session).await.is_ok());
        let durable = AttemptLimiter::new("code", 3, Arc::new(Recorder::default()));
        assert!(durable.attempt(&session).await.is_ok());
    }

    #[tokio::test]
    async fn a_failing_store_refuses() {
        let limiter = AttemptLimiter::new("code", 3, Arc::new(Down));
        let session: HookSession = layer_at(NOW)
            .verify_token(&issuer().session().token())
            .unwrap();
        let error = limiter.attempt(&session).await.unwrap_err();
        assert!(matches!(
            error,
            AttemptError::Store(StoreError::Unavailable(_))
        ));
        assert_eq!(
            error.to_string(),
            "no attempt could be reserved: the attempt store is unavailable: connection refused"
        );
        assert!(error.source().is_some());
    }

    /// 64 concurrent attempts on a multi-thread runtime: exactly `limit`
    /// get through.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_attempts_never_exceed_the_limit() {
        let limiter = AttemptLimiter::new("code", 3, Arc::new(MemoryStore::default()));
        let session: HookSession = layer_at(NOW)
            .verify_token(&issuer().session().token())
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (limiter, session, barrier) =
                    (limiter.clone(), session.clone(), Arc::clone(&barrier));
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

    /// The future holds neither the session nor its claims, so it is
    /// `Send` whatever the claims type (this compiles for every `C`).
    #[test]
    fn the_future_is_send_for_any_claims() {
        fn assert_send<T: Send>(_: T) {}
        fn check<C>(limiter: &AttemptLimiter, session: &HookSession<C>) {
            assert_send(limiter.attempt(session));
        }
        let limiter = AttemptLimiter::new("code", 1, Arc::new(MemoryStore::default()));
        let session: HookSession = layer_at(NOW)
            .verify_token(&issuer().session().token())
            .unwrap();
        check(&limiter, &session);
    }
}
