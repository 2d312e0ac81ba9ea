//! Attempt counts and answers in this process's memory.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{AttemptStore, ReserveFuture, StoreError, ValueFuture};

/// Attempt counts and answers in this process's memory: the embedded
/// default, for a hook that runs as one process.
///
/// They are lost on restart and not shared between replicas; use
/// `RedisStore` (feature `redis`) for either.
///
/// # Restarts
///
/// A session whose token was issued before the store was made gets no
/// attempt and no answer ([`AttemptError::SessionBeforeStore`]): its
/// earlier attempts and its answer, if it had one, were in the memory of
/// the process that ended, and serving it again would grant fresh
/// attempts or sign a second response. Its holder starts again from their
/// wallet. [`serve_earlier_sessions`](Self::serve_earlier_sessions) turns
/// that off, for an application that accepts those risks.
///
/// [`AttemptError::SessionBeforeStore`]: super::AttemptError::SessionBeforeStore
///
/// The store holds at most `max_entries` counts. Expired counts are dropped
/// as later attempts come in, each in O(log n), without scanning. When the
/// store is full of live counts, an attempt for a new session is refused
/// with [`StoreError::Full`]: dropping a live count would reset it and
/// grant that session fresh attempts.
pub struct MemoryStore {
    max_entries: usize,
    entries: Mutex<Entries>,
    /// When the store was made, unless it serves earlier sessions too.
    started: Option<Instant>,
}

#[derive(Default)]
struct Entries {
    counts: HashMap<Arc<str>, Entry>,
    /// The same keys, ordered by expiry, so that the expired ones are
    /// found at the front.
    expiries: BTreeSet<(u64, Arc<str>)>,
}

struct Entry {
    value: Value,
    expires_at: u64,
}

/// What a key holds: a count ([`AttemptStore::reserve`]) or a value
/// ([`AttemptStore::put_if_absent`]). Callers keep the two on different
/// keys; a key used both ways is an error, never a silent overwrite.
enum Value {
    Count(u64),
    Text(Box<str>),
}

impl MemoryStore {
    /// The capacity of [`MemoryStore::default`]: 100,000 sessions, a few
    /// tens of megabytes at most with MATTR VII's short states.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

    /// A store holding at most `max_entries` live counts (one per session
    /// and limiter name).
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries,
            entries: Mutex::default(),
            started: Some(Instant::now()),
        }
    }

    /// Serves sessions whose tokens were issued before the store was made,
    /// instead of refusing them: after a restart such a session gets fresh
    /// attempts, and one answered before it can be answered again. Only
    /// for an application with its own guard against both, or for tests
    /// whose clock is not the system's.
    #[must_use]
    pub fn serve_earlier_sessions(mut self) -> Self {
        self.started = None;
        self
    }

    /// The capacity, in counts.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// How many counts the store holds, including expired ones that the
    /// next attempt will drop.
    pub fn len(&self) -> usize {
        self.lock().counts.len()
    }

    /// Whether the store holds no counts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every update below leaves the maps consistent before anything
        // that could panic, so a poisoned lock is safe to keep using.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reserve_now(&self, key: &str, now: u64, expires_at: u64) -> Result<u64, StoreError> {
        // An entry lives at least into the next second, whatever it is told.
        let expires_at = expires_at.max(now.saturating_add(1));
        let mut entries = self.lock();
        entries.drop_expired(now);
        if let Some(entry) = entries.counts.get_mut(key) {
            let Value::Count(count) = &mut entry.value else {
                return Err(mixed_key());
            };
            *count = count.saturating_add(1);
            let count = *count;
            entries.extend(key, expires_at);
            return Ok(count);
        }
        entries.insert(key, Value::Count(1), expires_at, self.max_entries)?;
        Ok(1)
    }

    fn put_now(
        &self,
        key: &str,
        value: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<Option<String>, StoreError> {
        let expires_at = expires_at.max(now.saturating_add(1));
        let mut entries = self.lock();
        entries.drop_expired(now);
        if let Some(entry) = entries.counts.get(key) {
            return match &entry.value {
                Value::Text(there) => Ok(Some(there.to_string())),
                Value::Count(_) => Err(mixed_key()),
            };
        }
        entries.insert(key, Value::Text(value.into()), expires_at, self.max_entries)?;
        Ok(None)
    }

    fn get_now(&self, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let entries = self.lock();
        match entries
            .counts
            .get(key)
            .filter(|entry| entry.expires_at > now)
        {
            None => Ok(None),
            Some(Entry {
                value: Value::Text(there),
                ..
            }) => Ok(Some(there.to_string())),
            Some(_) => Err(mixed_key()),
        }
    }
}

/// A key asked for as a count and as a value: a caller's mistake, refused.
fn mixed_key() -> StoreError {
    StoreError::unavailable("this key holds a count, not a value, or the other way round")
}

impl Entries {
    /// Adds a new entry, unless the store is full of live ones.
    fn insert(
        &mut self,
        key: &str,
        value: Value,
        expires_at: u64,
        max_entries: usize,
    ) -> Result<(), StoreError> {
        if self.counts.len() >= max_entries {
            return Err(StoreError::Full { max_entries });
        }
        let key: Arc<str> = Arc::from(key);
        self.expiries.insert((expires_at, Arc::clone(&key)));
        self.counts.insert(key, Entry { value, expires_at });
        Ok(())
    }

    /// Makes the live entry under `key` last until `expires_at`, if that
    /// is later than it would have: an expiry is never brought forward.
    fn extend(&mut self, key: &str, expires_at: u64) {
        let Some(entry) = self.counts.get_mut(key) else {
            return;
        };
        if expires_at > entry.expires_at {
            // Rare (the same session's expiry only grows if the layer's
            // leeway does), so a fresh `Arc` for the lookup is fine.
            let key: Arc<str> = Arc::from(key);
            self.expiries.remove(&(entry.expires_at, Arc::clone(&key)));
            self.expiries.insert((expires_at, key));
            entry.expires_at = expires_at;
        }
    }

    /// Drops every count that expired at or before `now`: amortised
    /// O(log n) per count, since each is dropped once.
    fn drop_expired(&mut self, now: u64) {
        while self
            .expiries
            .first()
            .is_some_and(|(expires_at, _)| *expires_at <= now)
        {
            if let Some((_, key)) = self.expiries.pop_first() {
                self.counts.remove(&key);
            }
        }
    }
}

impl Default for MemoryStore {
    /// A store of [`DEFAULT_MAX_ENTRIES`](Self::DEFAULT_MAX_ENTRIES).
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_ENTRIES)
    }
}

impl AttemptStore for MemoryStore {
    fn reserve<'a>(&'a self, key: &'a str, now: u64, expires_at: u64) -> ReserveFuture<'a> {
        // The work is done here, under the lock, before the future exists:
        // the lock is never held across an await.
        Box::pin(std::future::ready(self.reserve_now(key, now, expires_at)))
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        now: u64,
        expires_at: u64,
    ) -> ValueFuture<'a> {
        Box::pin(std::future::ready(
            self.put_now(key, value, now, expires_at),
        ))
    }

    fn get<'a>(&'a self, key: &'a str, now: u64) -> ValueFuture<'a> {
        Box::pin(std::future::ready(self.get_now(key, now)))
    }

    /// The time since the store was made, unless it
    /// [serves earlier sessions](MemoryStore::serve_earlier_sessions).
    fn remembers_for(&self) -> Option<Duration> {
        self.started.map(|started| started.elapsed())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.max_entries)
            .field("len", &self.len())
            .field("serves_earlier_sessions", &self.started.is_none())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_000;

    #[test]
    fn counts_per_key() {
        let store = MemoryStore::default();
        assert!(store.is_empty());
        assert_eq!(store.reserve_now("a", T, T + 60).unwrap(), 1);
        assert_eq!(store.reserve_now("a", T, T + 60).unwrap(), 2);
        assert_eq!(store.reserve_now("b", T, T + 60).unwrap(), 1);
        assert_eq!(store.reserve_now("a", T + 1, T + 60).unwrap(), 3);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_count_lives_until_its_expiry_second() {
        let store = MemoryStore::default();
        assert_eq!(store.reserve_now("a", T, T + 60).unwrap(), 1);
        assert_eq!(store.reserve_now("a", T + 59, T + 60).unwrap(), 2);
        // At the expiry second it is gone, and counting starts again.
        assert_eq!(store.reserve_now("a", T + 60, T + 120).unwrap(), 1);
    }

    #[test]
    fn expiry_is_never_brought_forward() {
        let store = MemoryStore::default();
        store.reserve_now("a", T, T + 100).unwrap();
        // A later attempt with an earlier expiry keeps the later one.
        store.reserve_now("a", T, T + 10).unwrap();
        assert_eq!(store.reserve_now("a", T + 50, T + 10).unwrap(), 3);
        // A later expiry extends it.
        store.reserve_now("a", T + 50, T + 200).unwrap();
        assert_eq!(store.reserve_now("a", T + 150, T + 200).unwrap(), 5);
        let entries = store.lock();
        assert_eq!(entries.expiries.len(), 1, "no stale expiry left behind");
    }

    #[test]
    fn an_expiry_in_the_past_still_counts_for_this_second() {
        let store = MemoryStore::default();
        assert_eq!(store.reserve_now("a", T, T - 5).unwrap(), 1);
        assert_eq!(store.reserve_now("a", T, T - 5).unwrap(), 2);
        assert_eq!(store.reserve_now("a", T + 1, T + 5).unwrap(), 1);
    }

    #[test]
    fn full_of_live_counts_refuses_new_keys_only() {
        let store = MemoryStore::new(2);
        store.reserve_now("a", T, T + 60).unwrap();
        store.reserve_now("b", T, T + 90).unwrap();
        assert!(matches!(
            store.reserve_now("c", T, T + 60),
            Err(StoreError::Full { max_entries: 2 })
        ));
        // Live counts keep counting.
        assert_eq!(store.reserve_now("a", T + 1, T + 60).unwrap(), 2);
        // Once one expires, its place is free, and the other is intact.
        assert_eq!(store.reserve_now("c", T + 60, T + 120).unwrap(), 1);
        assert_eq!(store.reserve_now("b", T + 60, T + 90).unwrap(), 2);
        assert_eq!(store.len(), 2);
        assert!(
            store
                .reserve_now("d", T + 60, T + 120)
                .unwrap_err()
                .to_string()
                .contains("full (2 live sessions)")
        );
    }

    #[test]
    fn expired_counts_are_freed() {
        let store = MemoryStore::new(1_000);
        for i in 0..1_000 {
            store
                .reserve_now(&format!("k{i}"), T, T + 10 + i % 7)
                .unwrap();
        }
        assert_eq!(store.len(), 1_000);
        store.reserve_now("late", T + 13, T + 100).unwrap();
        // Expiries T+10..=T+13 are gone (i % 7 in 0..=3), T+14.. remain.
        let remaining = (0..1_000).filter(|i| i % 7 > 3).count();
        assert_eq!(store.len(), remaining + 1);
        store.reserve_now("later", T + 100, T + 200).unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(store.lock().expiries.len(), 1);
    }

    #[test]
    fn a_value_is_put_once_and_read_back() {
        let store = MemoryStore::default();
        assert_eq!(store.get_now("v", T).unwrap(), None);
        assert_eq!(store.put_now("v", "first", T, T + 60).unwrap(), None);
        assert_eq!(
            store
                .put_now("v", "second", T + 1, T + 60)
                .unwrap()
                .as_deref(),
            Some("first")
        );
        assert_eq!(
            store.get_now("v", T + 59).unwrap().as_deref(),
            Some("first")
        );
        // Gone at its expiry second, and free to be put again.
        assert_eq!(store.get_now("v", T + 60).unwrap(), None);
        assert_eq!(store.put_now("v", "third", T + 60, T + 90).unwrap(), None);
        // Values count towards the capacity, as counts do.
        let small = MemoryStore::new(1);
        small.put_now("a", "x", T, T + 60).unwrap();
        assert!(matches!(
            small.put_now("b", "y", T, T + 60),
            Err(StoreError::Full { max_entries: 1 })
        ));
    }

    #[test]
    fn a_key_is_a_count_or_a_value_never_both() {
        let store = MemoryStore::default();
        store.reserve_now("count", T, T + 60).unwrap();
        store.put_now("value", "x", T, T + 60).unwrap();
        assert!(store.put_now("count", "x", T, T + 60).is_err());
        assert!(store.get_now("count", T).is_err());
        assert!(store.reserve_now("value", T, T + 60).is_err());
        assert_eq!(store.reserve_now("count", T, T + 60).unwrap(), 2);
    }

    #[test]
    fn remembers_since_it_was_made_unless_told_otherwise() {
        let store = MemoryStore::default();
        let remembered = store.remembers_for().expect("a store in memory forgets");
        assert!(remembered < std::time::Duration::from_secs(60));
        assert_eq!(
            MemoryStore::default()
                .serve_earlier_sessions()
                .remembers_for(),
            None
        );
    }

    #[test]
    fn zero_capacity_refuses_everything() {
        let store = MemoryStore::new(0);
        assert!(store.reserve_now("a", T, T + 1).is_err());
    }

    #[test]
    fn survives_a_poisoned_lock() {
        let store = Arc::new(MemoryStore::default());
        store.reserve_now("a", T, T + 60).unwrap();
        let poisoner = Arc::clone(&store);
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.entries.lock();
            panic!("poison the lock");
        })
        .join();
        assert!(store.entries.is_poisoned());
        assert_eq!(store.reserve_now("a", T, T + 60).unwrap(), 2);
    }
}
