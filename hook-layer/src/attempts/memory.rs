//! Attempt counts in this process's memory.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::{AttemptStore, CountFuture, ReserveFuture, StoreError};

/// Attempt counts in this process's memory: the embedded default, for a
/// hook that runs as one process.
///
/// Counts are lost on restart and not shared between replicas; use
/// `RedisStore` (feature `redis`) for either.
///
/// The store holds at most `max_entries` counts. Expired counts are dropped
/// as later attempts come in, each in O(log n), without scanning. When the
/// store is full of live counts, an attempt for a new session is refused
/// with [`StoreError::Full`]: dropping a live count would reset it and
/// grant that session fresh attempts.
pub struct MemoryStore {
    max_entries: usize,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    counts: HashMap<Arc<str>, Count>,
    /// The same keys, ordered by expiry, so that the expired ones are
    /// found at the front.
    expiries: BTreeSet<(u64, Arc<str>)>,
}

struct Count {
    count: u64,
    expires_at: u64,
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
        }
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
        let Entries { counts, expiries } = &mut *entries;
        if let Some(entry) = counts.get_mut(key) {
            entry.count = entry.count.saturating_add(1);
            if expires_at > entry.expires_at {
                // Rare (the same session's expiry only grows if the layer's
                // leeway does), so a fresh `Arc` for the lookup is fine.
                let key: Arc<str> = Arc::from(key);
                expiries.remove(&(entry.expires_at, Arc::clone(&key)));
                expiries.insert((expires_at, key));
                entry.expires_at = expires_at;
            }
            return Ok(entry.count);
        }
        if counts.len() >= self.max_entries {
            return Err(StoreError::Full {
                max_entries: self.max_entries,
            });
        }
        let key: Arc<str> = Arc::from(key);
        expiries.insert((expires_at, Arc::clone(&key)));
        counts.insert(
            key,
            Count {
                count: 1,
                expires_at,
            },
        );
        Ok(1)
    }
}

impl Entries {
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

    fn count<'a>(&'a self, key: &'a str, now: u64) -> CountFuture<'a> {
        let entries = self.lock();
        let count = entries
            .counts
            .get(key)
            .filter(|entry| entry.expires_at > now)
            .map_or(0, |entry| entry.count);
        Box::pin(std::future::ready(Ok(count)))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.max_entries)
            .field("len", &self.len())
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
