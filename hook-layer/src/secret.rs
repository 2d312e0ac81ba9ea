//! The hook secret, as MATTR VII hands it out.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::jwt::{KeyError, Keys};

/// The shortest key this crate accepts, in bytes: RFC 7518 section 3.2
/// requires at least 256 bits for HS256, and MATTR VII issues 32 bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// The fewest distinct byte values a configured secret may hold. MATTR VII
/// generates 32 random bytes, which hold about 30 distinct values; fewer
/// than 16 happens by chance about once in 3 × 10^16 secrets. A
/// placeholder (32 zero bytes, one byte repeated, a short word repeated)
/// holds far fewer.
const MIN_DISTINCT_BYTES: usize = 16;

/// The interaction hook secret: the HMAC key that MATTR VII and the hook
/// share.
///
/// MATTR VII returns it, when the hook is configured, as standard base64
/// (for example `dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=`). The key is
/// the *decoded* bytes, not the string; [`HookSecret::from_base64`] does
/// that decoding.
///
/// Two ways in, for two purposes:
///
/// - [`from_base64_checked`](Self::from_base64_checked) is for the secret a
///   deployment is configured with. Besides the length, it refuses secrets
///   that MATTR VII cannot have generated: fewer than 16 distinct byte
///   values (32 random bytes hold about 30; a placeholder such as 32 zero
///   bytes, one), or an example secret
///   published in documentation (MATTR VII's and this crate's), which
///   anyone could sign tokens with. The `config` module reads `HOOK_SECRET`
///   and tenants files this way.
/// - [`from_base64`](Self::from_base64), [`from_bytes`](Self::from_bytes)
///   and `parse` check the length only: for tests, examples and
///   `MockIssuer` keys such as `[7; 32]`, and for applications that check
///   their secrets themselves.
///
/// Key bytes are zeroized when the last clone is dropped, and neither
/// `Debug` nor any error message prints them. Cloning is cheap.
///
/// ```
/// use hook_layer::HookSecret;
///
/// let secret: HookSecret = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=".parse()?;
/// assert_eq!(format!("{secret:?}"), "HookSecret(<redacted>)");
/// # Ok::<(), hook_layer::SecretError>(())
/// ```
#[derive(Clone)]
pub struct HookSecret {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    /// The key that seals journey state: derived from the secret once, with
    /// HKDF under its own label, so it is never the JWT key itself.
    #[cfg(feature = "seal")]
    seal_key: crate::seal_key::SealKey,
    /// The key bytes themselves, for `MockIssuer`'s independent verifier.
    #[cfg(any(test, feature = "test-util"))]
    bytes: Zeroizing<Vec<u8>>,
}

impl HookSecret {
    /// Reads the secret in the standard base64 form MATTR VII returns
    /// (surrounding whitespace is ignored, padding is required).
    pub fn from_base64(encoded: &str) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(encoded.trim())
                .map_err(|_| SecretError::InvalidBase64)?,
        );
        Self::from_bytes(&bytes)
    }

    /// Reads a configured secret, as [`from_base64`](Self::from_base64)
    /// does, and refuses one too weak to be a secret MATTR VII generated:
    /// [`SecretError::TooLittleVariety`] for fewer than 16 distinct byte
    /// values (32 zero bytes, say),
    /// [`SecretError::PublishedExample`] for an example secret from
    /// documentation. No error shows the secret.
    ///
    /// ```
    /// use hook_layer::{HookSecret, SecretError};
    ///
    /// // 32 zero bytes: a placeholder, not a secret.
    /// let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    /// assert_eq!(
    ///     HookSecret::from_base64_checked(zeros).unwrap_err(),
    ///     SecretError::TooLittleVariety
    /// );
    /// // MATTR VII's example: everyone has it.
    /// let example = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
    /// assert_eq!(
    ///     HookSecret::from_base64_checked(example).unwrap_err(),
    ///     SecretError::PublishedExample
    /// );
    /// ```
    pub fn from_base64_checked(encoded: &str) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(encoded.trim())
                .map_err(|_| SecretError::InvalidBase64)?,
        );
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        check_strength(&bytes)?;
        Self::from_bytes(&bytes)
    }

    /// Uses `bytes` as the key directly, for a secret that is already
    /// decoded. The caller keeps ownership of (and should zeroize) `bytes`.
    ///
    /// Only the length is checked, so that tests can use keys such as
    /// `[7; 32]`; a configured secret is read with
    /// [`from_base64_checked`](Self::from_base64_checked).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretError> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        let keys = Keys::new(bytes).map_err(|error| match error {
            KeyError::NoProvider => SecretError::NoCryptoProvider,
            KeyError::Unsupported => SecretError::Unsupported,
        })?;
        let inner = Inner {
            keys,
            #[cfg(feature = "seal")]
            seal_key: crate::seal_key::SealKey::derive(bytes).ok_or(SecretError::Unsupported)?,
            #[cfg(any(test, feature = "test-util"))]
            bytes: Zeroizing::new(bytes.to_vec()),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    #[cfg(feature = "seal")]
    pub(crate) fn seal_key(&self) -> &crate::seal_key::SealKey {
        &self.inner.seal_key
    }

    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.inner.bytes
    }
}

/// Refuses key material that MATTR VII cannot have generated (see
/// [`HookSecret::from_base64_checked`]). The length is checked apart.
pub(crate) fn check_strength(bytes: &[u8]) -> Result<(), SecretError> {
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &byte in bytes {
        if !std::mem::replace(&mut seen[usize::from(byte)], true) {
            distinct += 1;
        }
    }
    if distinct < MIN_DISTINCT_BYTES {
        return Err(SecretError::TooLittleVariety);
    }
    let published = PUBLISHED_BASE64
        .iter()
        .any(|example| STANDARD.decode(example).is_ok_and(|key| key == bytes))
        || PUBLISHED_TEXT.contains(&bytes);
    if published {
        return Err(SecretError::PublishedExample);
    }
    Ok(())
}

/// Example secrets shown in documentation, as base64: MATTR VII's (which
/// this crate's documentation repeats), and the byte sequences 1 to 32 and
/// 32 to 63 that earlier versions of this crate's documentation used.
/// Secrets with too little variety (`[7; 32]`) need no entry.
const PUBLISHED_BASE64: [&str; 3] = [
    "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=",
    "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
];

/// Example secrets shown in this crate's examples and sources, as text.
const PUBLISHED_TEXT: [&[u8]; 2] = [
    b"an example hook secret, 32 bytes",
    b"demo only, never in production!!",
];

impl FromStr for HookSecret {
    type Err = SecretError;

    /// Same as [`HookSecret::from_base64`].
    fn from_str(encoded: &str) -> Result<Self, Self::Err> {
        Self::from_base64(encoded)
    }
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HookSecret(<redacted>)")
    }
}

/// Why a [`HookSecret`] could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretError {
    /// The text is not standard base64 (alphabet `A-Z a-z 0-9 + /`, with
    /// `=` padding).
    InvalidBase64,
    /// The decoded key is shorter than [`MIN_SECRET_LEN`] bytes.
    TooShort {
        /// The decoded length, in bytes.
        len: usize,
    },
    /// No crypto backend: enable the `rust-crypto` (default) or `aws-lc-rs`
    /// feature, or install a `jsonwebtoken::crypto::CryptoProvider` as the
    /// process default first.
    NoCryptoProvider,
    /// The installed crypto provider cannot do HS256 with this key.
    Unsupported,
    /// The key holds fewer than 16 distinct byte values: a placeholder,
    /// not a secret MATTR VII generated
    /// ([`HookSecret::from_base64_checked`] only).
    TooLittleVariety,
    /// The key is an example secret published in documentation, which
    /// anyone can sign tokens with ([`HookSecret::from_base64_checked`]
    /// only).
    PublishedExample,
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBase64 => f.write_str(
                "the hook secret is not standard base64; paste it exactly as MATTR VII returned it",
            ),
            Self::TooShort { len } => write!(
                f,
                "the hook secret decodes to {len} bytes; HS256 needs at least {MIN_SECRET_LEN}"
            ),
            Self::NoCryptoProvider => f.write_str(
                "no crypto backend: enable the `rust-crypto` or `aws-lc-rs` feature of hook-layer, \
                 or install a jsonwebtoken CryptoProvider before building the secret",
            ),
            Self::Unsupported => {
                f.write_str("the installed crypto provider cannot sign or verify HS256")
            }
            Self::TooLittleVariety => write!(
                f,
                "the hook secret holds fewer than {MIN_DISTINCT_BYTES} distinct byte values, so \
                 it is a placeholder, not a secret MATTR VII generated; paste the secret MATTR \
                 VII returned for this hook"
            ),
            Self::PublishedExample => f.write_str(
                "the hook secret is an example from documentation, which anyone can sign tokens \
                 with; paste the secret MATTR VII returned for this hook",
            ),
        }
    }
}

impl std::error::Error for SecretError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example secret from MATTR VII's documentation.
    const MATTR_EXAMPLE: &str = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";

    /// Built without a backend, the secret says so instead of panicking in
    /// the first request. (`cargo test -p hook-layer --no-default-features
    /// --lib no_backend`)
    #[test]
    #[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
    fn no_backend_is_an_error_when_the_secret_is_built() {
        assert_eq!(
            HookSecret::from_bytes(&[1; 32]).unwrap_err(),
            SecretError::NoCryptoProvider
        );
        assert!(
            SecretError::NoCryptoProvider
                .to_string()
                .contains("rust-crypto")
        );
    }

    #[test]
    fn reads_mattrs_example_secret() {
        assert!(HookSecret::from_base64(MATTR_EXAMPLE).is_ok());
        assert!(format!(" {MATTR_EXAMPLE}\n").parse::<HookSecret>().is_ok());
    }

    #[test]
    fn the_key_is_the_decoded_bytes_not_the_text() {
        let decoded = STANDARD.decode(MATTR_EXAMPLE).unwrap();
        let from_text = HookSecret::from_base64(MATTR_EXAMPLE).unwrap();
        let from_bytes = HookSecret::from_bytes(&decoded).unwrap();
        let token = from_text.keys().sign(b"{}").unwrap();
        assert_eq!(token, from_bytes.keys().sign(b"{}").unwrap());
        let as_text = HookSecret::from_bytes(MATTR_EXAMPLE.as_bytes()).unwrap();
        assert_ne!(token, as_text.keys().sign(b"{}").unwrap());
    }

    #[test]
    fn refuses_bad_base64() {
        for bad in [
            "not base64!",
            "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk_sPbWTa7c=",
            "dGtU rijB",
            "abc",
        ] {
            assert_eq!(
                HookSecret::from_base64(bad).unwrap_err(),
                SecretError::InvalidBase64,
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_short_keys() {
        // 24 bytes of key material, valid base64.
        let short = STANDARD.encode([7u8; 24]);
        assert_eq!(
            HookSecret::from_base64(&short).unwrap_err(),
            SecretError::TooShort { len: 24 }
        );
        assert_eq!(
            HookSecret::from_bytes(&[1; 31]).unwrap_err(),
            SecretError::TooShort { len: 31 }
        );
        assert_eq!(
            HookSecret::from_bytes(&[]).unwrap_err(),
            SecretError::TooShort { len: 0 }
        );
        assert!(HookSecret::from_bytes(&[1; 32]).is_ok());
        assert!(HookSecret::from_bytes(&[1; 64]).is_ok());
    }

    /// 32 random bytes, as MATTR VII generates them.
    const GENERATED: &str = "1GVJd9nLjQby6fP05iuNnlMrRhh1SHiEsubk31Tw9q4=";

    #[test]
    fn a_configured_secret_must_have_variety() {
        assert!(HookSecret::from_base64_checked(GENERATED).is_ok());
        // One byte, a short word, or 15 byte values repeated: placeholders.
        let mut fifteen = [0u8; 32];
        for (index, byte) in fifteen.iter_mut().enumerate() {
            *byte = (index % 15) as u8;
        }
        for weak in [
            [0; 32],
            [7; 32],
            *b"changemechangemechangemechangeme",
            fifteen,
        ] {
            let encoded = STANDARD.encode(weak);
            assert_eq!(
                HookSecret::from_base64_checked(&encoded).unwrap_err(),
                SecretError::TooLittleVariety,
                "{encoded}"
            );
            // Tests and mock issuers still take them.
            assert!(HookSecret::from_base64(&encoded).is_ok());
            assert!(HookSecret::from_bytes(&weak).is_ok());
        }
        // 16 values is enough; so is a long key of few values repeated, as
        // long as 16 are there.
        let mut sixteen = [0u8; 64];
        for (index, byte) in sixteen.iter_mut().enumerate() {
            *byte = (index % 16) as u8;
        }
        assert!(HookSecret::from_base64_checked(&STANDARD.encode(sixteen)).is_ok());
        // Length first, then variety: a short placeholder is too short.
        assert_eq!(
            HookSecret::from_base64_checked(&STANDARD.encode([0; 16])).unwrap_err(),
            SecretError::TooShort { len: 16 }
        );
        assert_eq!(
            HookSecret::from_base64_checked("not base64!").unwrap_err(),
            SecretError::InvalidBase64
        );
    }

    #[test]
    fn a_configured_secret_is_no_published_example() {
        let examples = PUBLISHED_BASE64
            .iter()
            .map(|example| (*example).to_owned())
            .chain(PUBLISHED_TEXT.iter().map(|text| STANDARD.encode(text)));
        for example in examples {
            assert_eq!(
                HookSecret::from_base64_checked(&example).unwrap_err(),
                SecretError::PublishedExample,
                "{example}"
            );
            // Surrounding whitespace changes nothing.
            assert!(HookSecret::from_base64_checked(&format!(" {example}\n")).is_err());
            assert!(HookSecret::from_base64(&example).is_ok());
        }
        assert_eq!(
            HookSecret::from_base64_checked(MATTR_EXAMPLE).unwrap_err(),
            SecretError::PublishedExample
        );
    }

    #[test]
    fn weak_secret_errors_say_what_to_do_without_the_secret() {
        for error in [SecretError::TooLittleVariety, SecretError::PublishedExample] {
            let message = error.to_string();
            assert!(message.contains("MATTR VII returned"), "{message}");
            assert!(
                !message.contains("dGtU") && !message.contains("AAAA"),
                "{message}"
            );
        }
    }

    #[test]
    fn nothing_prints_key_material() {
        let secret = HookSecret::from_base64(MATTR_EXAMPLE).unwrap();
        let debug = format!("{secret:?} {:?}", secret.clone());
        assert!(!debug.contains("dGtU"));
        assert_eq!(debug, "HookSecret(<redacted>) HookSecret(<redacted>)");
        let error = HookSecret::from_base64("short").unwrap_err().to_string();
        assert!(!error.contains("short"));
    }
}
