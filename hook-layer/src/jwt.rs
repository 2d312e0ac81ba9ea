//! Compact JWS with HS256, on top of jsonwebtoken's crypto provider.
//!
//! The layer parses tokens itself (so that every refusal has a precise cause
//! and the claims are parsed once), but all cryptography goes through the
//! [`CryptoProvider`] that jsonwebtoken resolves from its backend features.
//! The provider is resolved once, when the secret is built, so a build with
//! no usable backend fails there and never inside a request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// `{"alg":"HS256","typ":"JWT"}`, base64url-encoded: the only header this
/// crate ever signs, so it is encoded once here rather than per token.
pub(crate) const HS256_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// The length of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;

/// The signing and verifying halves of one HMAC key, with the provider that
/// runs them. Both keys zeroize their bytes on drop.
#[derive(Clone)]
pub(crate) struct Keys {
    provider: &'static CryptoProvider,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// Why a key could not be made usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// No crypto backend is compiled in and none was installed.
    NoProvider,
    /// The provider refused to build an HS256 signer or verifier.
    Unsupported,
}

impl Keys {
    /// Builds the keys and proves, once, that the provider can sign and
    /// verify HS256 with them.
    pub(crate) fn new(secret: &[u8]) -> Result<Self, KeyError> {
        let provider = resolve_provider().ok_or(KeyError::NoProvider)?;
        let encoding = EncodingKey::from_secret(secret).map_err(|_| KeyError::Unsupported)?;
        let decoding = DecodingKey::from_secret(secret).map_err(|_| KeyError::Unsupported)?;
        (provider.signer_factory)(&Algorithm::HS256, &encoding)
            .map_err(|_| KeyError::Unsupported)?;
        (provider.verifier_factory)(&Algorithm::HS256, &decoding)
            .map_err(|_| KeyError::Unsupported)?;
        Ok(Self {
            provider,
            encoding,
            decoding,
        })
    }

    /// Signs `payload` (JSON bytes) under the standard HS256 header and
    /// returns the compact token.
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
        let payload_len = base64::encoded_len(payload.len(), false).unwrap_or(0);
        let mut token = String::with_capacity(HS256_HEADER.len() + payload_len + 45);
        token.push_str(HS256_HEADER);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        self.append_signature(token)
    }

    /// Signs arbitrary header and payload bytes: for tests and fuzzing,
    /// which need well-signed tokens with hostile contents.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn sign_raw(
        &self,
        header: &[u8],
        payload: &[u8],
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        self.append_signature(token)
    }

    fn append_signature(
        &self,
        mut signing_input: String,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let signer = (self.provider.signer_factory)(&Algorithm::HS256, &self.encoding)?;
        let tag = signer.try_sign(signing_input.as_bytes())?;
        signing_input.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut signing_input);
        Ok(signing_input)
    }

    /// The verifying key, for an independent verifier in tests.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Checks an HS256 tag over `signing_input` in constant time.
    ///
    /// `Ok(false)` means the tag is wrong (or not canonical base64url);
    /// `Err` means the provider itself failed.
    pub(crate) fn verify(
        &self,
        signing_input: &[u8],
        encoded_tag: &str,
    ) -> Result<bool, jsonwebtoken::errors::Error> {
        // A tag of the wrong length cannot be right; refusing it here also
        // bounds the decode below.
        if encoded_tag.len() != base64::encoded_len(TAG_LEN, false).unwrap_or(0) {
            return Ok(false);
        }
        let Ok(tag) = URL_SAFE_NO_PAD.decode(encoded_tag) else {
            return Ok(false);
        };
        let verifier = (self.provider.verifier_factory)(&Algorithm::HS256, &self.decoding)?;
        Ok(verifier.verify(signing_input, &tag).is_ok())
    }
}

/// Installs the provider this crate resolved as jsonwebtoken's process
/// default, if there is none yet, so that `jsonwebtoken::decode` (used as an
/// independent verifier in tests) works under any feature combination.
#[cfg(any(test, feature = "test-util"))]
pub(crate) fn ensure_default_provider() {
    if CryptoProvider::try_get_default().is_none()
        && let Some(provider) = resolve_provider()
    {
        // Losing a race to another installer is fine: there is one now.
        let _ = provider.install_default();
    }
}

/// The provider jsonwebtoken would use, without its panic when there is
/// none: an installed process default first, then the compiled-in backend.
/// When both backend features are on (cargo features add up across a
/// dependency graph), aws-lc-rs wins, since it is the one asked for
/// explicitly next to the default.
fn resolve_provider() -> Option<&'static CryptoProvider> {
    if let Some(provider) = CryptoProvider::try_get_default() {
        return Some(provider);
    }
    #[cfg(feature = "aws-lc-rs")]
    {
        Some(&jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER)
    }
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    {
        Some(&jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER)
    }
    #[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn header_constant_is_the_standard_header() {
        let decoded = URL_SAFE_NO_PAD.decode(HS256_HEADER).unwrap();
        assert_eq!(decoded, br#"{"alg":"HS256","typ":"JWT"}"#);
    }

    #[test]
    fn signs_what_jsonwebtoken_verifies() {
        ensure_default_provider();
        let keys = Keys::new(KEY).unwrap();
        let token = keys.sign(br#"{"state":"s","exp":4102444800}"#).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(KEY).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["state"], "s");
    }

    #[test]
    fn verify_accepts_its_own_tag_and_refuses_others() {
        let keys = Keys::new(KEY).unwrap();
        let token = keys.sign(b"{}").unwrap();
        let (input, tag) = token.rsplit_once('.').unwrap();
        assert!(keys.verify(input.as_bytes(), tag).unwrap());
        assert!(!keys.verify(b"other input", tag).unwrap());
        assert!(!keys.verify(input.as_bytes(), "").unwrap());
        assert!(!keys.verify(input.as_bytes(), &tag[1..]).unwrap());
        let other = Keys::new(b"another key, also thirty-two byt").unwrap();
        assert!(!other.verify(input.as_bytes(), tag).unwrap());
    }

    #[test]
    fn verify_refuses_non_canonical_base64_of_the_right_tag() {
        let keys = Keys::new(KEY).unwrap();
        let token = keys.sign(b"{}").unwrap();
        let (input, tag) = token.rsplit_once('.').unwrap();
        // 43 characters carry 258 bits for a 256-bit tag: the last character
        // has two spare bits. Setting them must not yield a second valid form.
        let last = tag.chars().last().unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.iter().position(|&c| c == last as u8).unwrap();
        for spare in 1..4 {
            let twin = alphabet[(index & !3) | spare] as char;
            let forged = format!("{}{}", &tag[..tag.len() - 1], twin);
            assert!(!keys.verify(input.as_bytes(), &forged).unwrap(), "{forged}");
        }
    }
}
