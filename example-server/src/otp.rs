//! The second factor: a random six-digit one-time code, and the limits on
//! checking and sending codes.
//!
//! The code travels sealed in the page (see `progress`), so it needs no
//! server-side storage; how often a session may check or be sent a code is
//! counted by `hook_layer::attempts` limiters, in memory or in Redis, so
//! the limits hold across requests, replicas and restarts.

/// How many wrong codes end the journey.
pub const MAX_FAILED_CODES: u64 = 3;
/// How many codes a session may be sent, the first one included.
pub const MAX_CODES_SENT: u64 = 3;

/// A fresh code: six uniformly random digits.
pub fn new_code() -> Result<String, getrandom::Error> {
    // The largest multiple of a million that fits in a u32: values at or
    // above it are drawn again, so every code is equally likely.
    const LIMIT: u32 = u32::MAX / 1_000_000 * 1_000_000;
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes)?;
        let value = u32::from_be_bytes(bytes);
        if value < LIMIT {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}

/// The code as typed, without the spaces people put in codes.
pub fn normalize(submitted: &str) -> String {
    submitted.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Compares a submitted code with the expected one without an early exit.
pub fn matches(expected: &str, submitted: &str) -> bool {
    let submitted = normalize(submitted);
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
    fn codes_are_six_random_digits() {
        let codes: Vec<String> = (0..50).map(|_| new_code().unwrap()).collect();
        assert!(
            codes
                .iter()
                .all(|code| code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
        );
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 40, "{codes:?}");
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
