//! Hook secrets as settings hold them: standard base64, as MATTR VII
//! returned them, the current one first. Nothing here ever shows one.
//!
//! A configured secret is checked as
//! [`HookSecret::from_base64_checked`] checks it: a placeholder or a
//! documentation's example is refused, so a deployment cannot start with
//! a key that anyone could sign tokens with.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::secret::{HookSecret, MIN_SECRET_LEN, SecretError, check_strength};

/// Why a secret list could not be read. Never shows a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretsError {
    /// The list is empty.
    Empty,
    /// The secret at this position (from 1) is not standard base64.
    NotBase64(usize),
    /// The secret at this position is too short.
    TooShort(usize, SecretError),
    /// The secret at this position is a placeholder or a published
    /// example.
    Weak(usize, SecretError),
    /// The secret at this position cannot be used.
    Unusable(usize, SecretError),
}

impl fmt::Display for SecretsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no secret given"),
            Self::NotBase64(position) => write!(
                f,
                "not standard base64 (secret {position}); paste it exactly as MATTR VII returned it"
            ),
            Self::TooShort(position, error)
            | Self::Weak(position, error)
            | Self::Unusable(position, error) => {
                write!(f, "{error} (secret {position})")
            }
        }
    }
}

/// Reads base64 secrets, the current one first: the pieces of `HOOK_SECRET`
/// during a rotation (`"<new>,<old>"`), or a tenant's `secrets`.
pub(crate) fn parse_secrets<'a>(
    encoded: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<HookSecret>, SecretsError> {
    let mut secrets = Vec::new();
    for (index, one) in encoded.into_iter().enumerate() {
        let position = index + 1;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(one.trim())
                .map_err(|_| SecretsError::NotBase64(position))?,
        );
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretsError::TooShort(
                position,
                SecretError::TooShort { len: bytes.len() },
            ));
        }
        check_strength(&bytes).map_err(|error| SecretsError::Weak(position, error))?;
        let secret = HookSecret::from_bytes(&bytes)
            .map_err(|error| SecretsError::Unusable(position, error))?;
        secrets.push(secret);
    }
    if secrets.is_empty() {
        return Err(SecretsError::Empty);
    }
    Ok(secrets)
}

/// Whether `text` is a secret as MATTR VII hands them out: standard base64
/// of at least [`MIN_SECRET_LEN`] bytes. For hints ("this looks like a
/// secret"), never for showing anything.
pub(crate) fn is_secret(text: &str) -> bool {
    STANDARD
        .decode(text.trim())
        .is_ok_and(|bytes| Zeroizing::new(bytes).len() >= MIN_SECRET_LEN)
}

/// Whether `text` could hold key material in any spelling: a run of at
/// least 43 characters from the base64 alphabets (standard or URL-safe),
/// which is what 32 bytes take with or without padding, alone or inside a
/// longer value. For deciding what must never be shown back, even where a
/// plain name or a path would be.
pub(crate) fn could_be_secret(text: &str) -> bool {
    /// 32 bytes in base64, unpadded.
    const SHORTEST: usize = MIN_SECRET_LEN.div_ceil(3) * 4 - 1;
    let mut run = 0;
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_') {
            run += 1;
            if run >= SHORTEST {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    const TWO: &str = "XzaUHKqJR/xgvJgYN0u14IJu6aretqp+Dyf3TL17U6Q=";

    #[test]
    fn secrets_are_read_current_first() {
        let secrets = parse_secrets([ONE, TWO]).unwrap();
        assert_eq!(secrets.len(), 2);
        assert_eq!(
            parse_secrets([ONE, "nope!"]).unwrap_err(),
            SecretsError::NotBase64(2)
        );
        assert!(matches!(
            parse_secrets(["c2hvcnQ="]).unwrap_err(),
            SecretsError::TooShort(1, _)
        ));
        assert_eq!(parse_secrets([]).unwrap_err(), SecretsError::Empty);
        let message = parse_secrets([ONE, "nope!"]).unwrap_err().to_string();
        assert!(
            !message.contains("nope") && !message.contains("7cUZ"),
            "{message}"
        );
    }

    /// A placeholder or a published example is refused by its position,
    /// never shown.
    #[test]
    fn weak_secrets_are_refused() {
        let zeros = STANDARD.encode([0u8; 32]);
        let example = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
        let cases = [
            (
                parse_secrets([zeros.as_str()]),
                SecretsError::Weak(1, SecretError::TooLittleVariety),
            ),
            (
                parse_secrets([ONE, example]),
                SecretsError::Weak(2, SecretError::PublishedExample),
            ),
        ];
        for (result, expected) in cases {
            let error = result.unwrap_err();
            assert_eq!(error, expected);
            let message = error.to_string();
            assert!(
                !message.contains("AAAAAAAA") && !message.contains(&example[..8]),
                "{message}"
            );
            assert!(message.contains("MATTR VII returned"), "{message}");
        }
    }

    #[test]
    fn secrets_are_recognised_in_any_base64_spelling() {
        assert!(is_secret(ONE) && could_be_secret(ONE));
        // Without padding, or URL-safe: not what MATTR VII returns, but
        // still key material.
        let unpadded = ONE.trim_end_matches('=');
        assert!(!is_secret(unpadded) && could_be_secret(unpadded));
        let url_safe = ONE.replace('/', "_");
        assert!(!is_secret(&url_safe) && could_be_secret(&url_safe));
        // Inside a longer value, or beside another.
        assert!(could_be_secret(&format!("/run/{ONE}")));
        assert!(could_be_secret(&format!("{TWO},{ONE}")));
        for name in [
            "STAGING_HOOK_SECRET",
            "HOOK_SECRET_PREVIOUS",
            "c2hvcnQ=",
            "/etc/hook/tenants.toml",
            &ONE[..42],
        ] {
            assert!(!could_be_secret(name), "{name}");
        }
    }
}
