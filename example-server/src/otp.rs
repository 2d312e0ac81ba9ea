//! The second factor: a six-digit one-time code derived from the session.
//!
//! The code is an HMAC of the session token under a key derived from the
//! hook secret, so it needs no storage, differs for every session and
//! cannot be computed without the secret. In dev mode it is shown on the
//! page; a real hook would send it by SMS or email instead.

use crate::keys::JourneyKeys;

/// How many wrong codes end the journey.
pub const MAX_FAILED_CODES: u8 = 3;

/// The code for the session whose token is `session_token`.
pub fn code(keys: &JourneyKeys, session_token: &str) -> String {
    let mac = keys.otp_mac(session_token.as_bytes());
    let number = u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]]) % 1_000_000;
    format!("{number:06}")
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
    fn matching_ignores_spaces_only() {
        assert!(matches("123456", "123456"));
        assert!(matches("123456", " 123 456 "));
        assert!(!matches("123456", "123457"));
        assert!(!matches("123456", "12345"));
        assert!(!matches("123456", ""));
    }
}
