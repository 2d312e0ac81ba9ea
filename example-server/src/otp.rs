//! The second factor: a six-digit one-time code derived from the session.
//!
//! The code is an HMAC of the session token under a key derived from the
//! hook secret, so it needs no storage, differs for every session and
//! cannot be computed without the secret. In dev mode it is shown on the
//! page; a real hook would send it by SMS or email instead.
//!
//! The count of wrong codes is the journey's one piece of server-side
//! state: a count carried by the browser could be reset by replaying an
//! earlier page, which would let a million codes be tried in turn.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::keys::JourneyKeys;

/// How many wrong codes end the journey.
pub const MAX_FAILED_CODES: u8 = 3;

/// The code for the session whose token is `session_token`.
pub fn code(keys: &JourneyKeys, session_token: &str) -> String {
    let mac = keys.otp_mac(session_token.as_bytes());
    let number = u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]]) % 1_000_000;
    format!("{number:06}")
}

/// Wrong codes per session (by `state`), in memory. Entries live until the
/// session expires; after the limit, every further attempt fails at once.
/// Sessions come only from tokens the tenant signed, so the map grows with
/// real traffic only. It is per process: behind several instances, keep
/// it in a shared store keyed by `state`.
#[derive(Debug, Default)]
pub struct Attempts {
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug)]
struct Failures {
    count: u8,
    /// Unix seconds after which the session, and so this entry, is dead.
    expires_at: u64,
}

/// Past this many tracked sessions, expired entries are swept out.
const SWEEP_AT: usize = 10_000;

impl Attempts {
    /// Wrong codes so far for the session.
    pub fn failures(&self, state: &str) -> u8 {
        self.lock().get(state).map_or(0, |failures| failures.count)
    }

    /// Records a wrong code; returns the count so far.
    pub fn record_failure(&self, state: &str, expires_at: u64, now: u64) -> u8 {
        let mut map = self.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, failures| failures.expires_at > now);
        }
        let failures = map.entry(state.to_owned()).or_insert(Failures {
            count: 0,
            expires_at,
        });
        failures.count = failures.count.saturating_add(1);
        failures.count
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Compares a submitted code with the expected one without an early exit,
/// after trimming the spaces people type in codes.
pub fn matches(expected: &str, submitted: &str) -> bool {
    let submitted: String = submitted.chars().filter(|c| !c.is_whitespace()).collect();
    submitted.len() == expected.len()
        && submitted
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_per_session() {
        let keys = JourneyKeys::derive(&[5; 32]);
        let one = code(&keys, "token-one");
        assert_eq!(one.len(), 6);
        assert!(one.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(one, code(&keys, "token-one"));
        assert_ne!(one, code(&keys, "token-two"));
        assert_ne!(one, code(&JourneyKeys::derive(&[6; 32]), "token-one"));
    }

    #[test]
    fn failures_are_counted_per_session_and_swept_when_expired() {
        let attempts = Attempts::default();
        assert_eq!(attempts.record_failure("a", 100, 10), 1);
        assert_eq!(attempts.record_failure("a", 100, 11), 2);
        assert_eq!(attempts.record_failure("b", 100, 11), 1);
        assert_eq!(attempts.failures("a"), 2);
        assert_eq!(attempts.failures("c"), 0);
        for i in 0..SWEEP_AT {
            attempts.record_failure(&i.to_string(), 50, 10);
        }
        // Sweeping at `now` 60 drops the sessions that expired at 50.
        attempts.record_failure("late", 200, 60);
        assert_eq!(attempts.failures("0"), 0);
        assert_eq!(attempts.failures("a"), 2);
    }

    #[test]
    fn matching_ignores_spaces_only() {
        assert!(matches("123456", "123456"));
        assert!(matches("123456", " 123 456 "));
        assert!(!matches("123456", "123457"));
        assert!(!matches("123456", "12345"));
        assert!(!matches("123456", ""));
    }
}
