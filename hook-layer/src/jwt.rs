//! Compact JWS with HS256.
//!
//! The layer parses tokens itself (so that every refusal has a precise cause
//! and the claims are parsed once); this module only computes and checks
//! the HMAC-SHA256 tag, through one of:
//!
//! - `rust-crypto` (default): [`Hs256`], the RustCrypto `hmac` and `sha2`
//!   crates behind jsonwebtoken's [`JwtSigner`] and [`JwtVerifier`]
//!   interfaces, with the key's state prepared once, when the secret is
//!   built. HS256 needs nothing else: no RSA, elliptic-curve or Ed25519
//!   code is compiled in.
//! - `aws-lc-rs`: jsonwebtoken's aws-lc-rs provider (a FIPS-validated
//!   module), preferred when both features are on, since it is the one
//!   asked for explicitly next to the default.
//! - neither: a jsonwebtoken [`CryptoProvider`] that the application
//!   installed as its process default.
//!
//! The backend is chosen when the secret is built, so a build without one
//! fails there and never inside a request. Nothing here installs anything
//! process-wide: the application's own provider, if it has one, is left
//! alone.

use base64::Engine;
use jsonwebtoken::crypto::CryptoProvider;
#[cfg(feature = "rust-crypto")]
use jsonwebtoken::crypto::{JwtSigner, JwtVerifier};
#[cfg(feature = "rust-crypto")]
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::base64url::BASE64URL;

/// `{"alg":"HS256","typ":"JWT"}`, base64url-encoded: the only header this
/// crate ever signs, so it is encoded once here rather than per token.
pub(crate) const HS256_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// The length of an HMAC-SHA256 tag.
pub(crate) const TAG_LEN: usize = 32;
/// The length of a tag in base64url without padding.
pub(crate) const ENCODED_TAG_LEN: usize = 43;

/// `header.payload` for `payload` (JSON bytes) under the standard HS256
/// header: what the signature covers.
pub(crate) fn signing_input(payload: &[u8]) -> String {
    let payload_len = base64::encoded_len(payload.len(), false).unwrap_or(0);
    let mut token = String::with_capacity(HS256_HEADER.len() + payload_len + 45);
    token.push_str(HS256_HEADER);
    token.push('.');
    BASE64URL.encode_string(payload, &mut token);
    token
}

/// One HMAC key, ready to sign and verify.
#[derive(Clone)]
pub(crate) struct Keys {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    /// Unused when aws-lc-rs is on too, which is then preferred.
    #[cfg(feature = "rust-crypto")]
    #[cfg_attr(feature = "aws-lc-rs", allow(dead_code))]
    RustCrypto(Hs256),
    /// A jsonwebtoken provider: aws-lc-rs, or the application's own. Both
    /// keys zeroize their bytes on drop. (Unused in the default build.)
    #[cfg_attr(
        all(feature = "rust-crypto", not(feature = "aws-lc-rs")),
        allow(dead_code)
    )]
    Provider {
        provider: &'static CryptoProvider,
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
}

/// Why a key could not be made usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// No crypto backend is compiled in and none was installed.
    #[cfg_attr(any(feature = "rust-crypto", feature = "aws-lc-rs"), allow(dead_code))]
    NoProvider,
    /// The backend refused to build an HS256 signer or verifier.
    Unsupported,
}

/// Why a tag could not be computed: only a provider can fail.
pub(crate) type CryptoError = jsonwebtoken::errors::Error;

impl Keys {
    /// Prepares the key for the backend in use and proves, once, that it
    /// can sign and verify HS256 with it.
    pub(crate) fn new(secret: &[u8]) -> Result<Self, KeyError> {
        #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
        let backend = Backend::RustCrypto(Hs256::new(secret)?);
        #[cfg(not(all(feature = "rust-crypto", not(feature = "aws-lc-rs"))))]
        let backend = provider_backend(secret)?;
        Ok(Self { backend })
    }

    /// Signs `payload` (JSON bytes) under the standard HS256 header and
    /// returns the compact token.
    #[cfg(test)]
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<String, CryptoError> {
        self.append_signature(signing_input(payload))
    }

    /// Signs arbitrary header and payload bytes: for tests and fuzzing,
    /// which need well-signed tokens with hostile contents.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn sign_raw(&self, header: &[u8], payload: &[u8]) -> Result<String, CryptoError> {
        let mut token = BASE64URL.encode(header);
        token.push('.');
        BASE64URL.encode_string(payload, &mut token);
        self.append_signature(token)
    }

    /// Appends `.` and the signature to `header.payload`: the whole token.
    pub(crate) fn append_signature(
        &self,
        mut signing_input: String,
    ) -> Result<String, CryptoError> {
        let tag = self.tag(signing_input.as_bytes())?;
        signing_input.push('.');
        BASE64URL.encode_string(tag, &mut signing_input);
        Ok(signing_input)
    }

    pub(crate) fn tag(&self, signing_input: &[u8]) -> Result<[u8; TAG_LEN], CryptoError> {
        match &self.backend {
            #[cfg(feature = "rust-crypto")]
            Backend::RustCrypto(hs256) => Ok(hs256.tag(signing_input)),
            Backend::Provider {
                provider, encoding, ..
            } => {
                let signer = (provider.signer_factory)(&Algorithm::HS256, encoding)?;
                let tag = signer.try_sign(signing_input)?;
                tag.try_into().map_err(|_| {
                    jsonwebtoken::errors::new_error(
                        jsonwebtoken::errors::ErrorKind::InvalidSignature,
                    )
                })
            }
        }
    }

    /// Checks an encoded HS256 tag over `signing_input` in constant time.
    ///
    /// `Ok(false)` means the tag is wrong (or not canonical base64url);
    /// `Err` means the provider itself failed. (For the tests of a build
    /// with a backend, the only ones that call it.)
    #[cfg(all(test, any(feature = "rust-crypto", feature = "aws-lc-rs")))]
    pub(crate) fn verify(
        &self,
        signing_input: &[u8],
        encoded_tag: &str,
    ) -> Result<bool, CryptoError> {
        match decode_tag(encoded_tag) {
            Some(tag) => self.verify_tag(signing_input, &tag),
            None => Ok(false),
        }
    }

    /// Checks a decoded HS256 tag over `signing_input` in constant time.
    pub(crate) fn verify_tag(
        &self,
        signing_input: &[u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<bool, CryptoError> {
        #[cfg(test)]
        HMACS.with(|count| count.set(count.get() + 1));
        match &self.backend {
            #[cfg(feature = "rust-crypto")]
            Backend::RustCrypto(hs256) => Ok(hs256.check(signing_input, tag)),
            Backend::Provider {
                provider, decoding, ..
            } => {
                let verifier = (provider.verifier_factory)(&Algorithm::HS256, decoding)?;
                Ok(verifier.verify(signing_input, &tag.to_vec()).is_ok())
            }
        }
    }
}

/// A tag in base64url, decoded: `None` unless it is exactly 43 canonical
/// characters (the spare bits of the last one zero), so that no second
/// spelling of a valid tag exists. Needs no allocation.
pub(crate) fn decode_tag(encoded: &str) -> Option<[u8; TAG_LEN]> {
    if encoded.len() != ENCODED_TAG_LEN {
        return None;
    }
    let mut tag = [0u8; TAG_LEN];
    (BASE64URL.decode_slice(encoded, &mut tag) == Ok(TAG_LEN)).then_some(tag)
}

#[cfg(test)]
thread_local! {
    /// Tags checked on this thread, for tests that count HMAC work.
    pub(crate) static HMACS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A jsonwebtoken provider's keys: aws-lc-rs when compiled in, otherwise
/// the application's installed default.
#[cfg(not(all(feature = "rust-crypto", not(feature = "aws-lc-rs"))))]
fn provider_backend(secret: &[u8]) -> Result<Backend, KeyError> {
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = CryptoProvider::try_get_default().ok_or(KeyError::NoProvider)?;
    let encoding = EncodingKey::from_secret(secret).map_err(|_| KeyError::Unsupported)?;
    let decoding = DecodingKey::from_secret(secret).map_err(|_| KeyError::Unsupported)?;
    (provider.signer_factory)(&Algorithm::HS256, &encoding).map_err(|_| KeyError::Unsupported)?;
    (provider.verifier_factory)(&Algorithm::HS256, &decoding).map_err(|_| KeyError::Unsupported)?;
    Ok(Backend::Provider {
        provider,
        encoding,
        decoding,
    })
}

/// HMAC-SHA256 with its key state prepared: the key's inner and outer pads
/// are hashed once, when the secret is built, and each tag starts from a
/// copy of that state, saving two SHA-256 blocks per token.
///
/// That state (two SHA-256 chaining values) is as good as the key, so it
/// must not outlive the secret: `hmac`'s `HmacCore` holds it in two SHA-256
/// block cores, and with `sha2`'s `zeroize` feature each core wipes its
/// state when dropped (checked at compile time below). So does every copy
/// made for a tag. The block buffer holds no key material: the pads fill
/// whole blocks and are absorbed into the cores at once.
#[cfg(feature = "rust-crypto")]
#[derive(Clone)]
pub(crate) struct Hs256(hmac::Hmac<sha2::Sha256>);

#[cfg(feature = "rust-crypto")]
const _: () = {
    fn zeroizes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    let _ = zeroizes_on_drop::<<sha2::Sha256 as hmac::digest::block_api::CoreProxy>::Core>;
};

#[cfg(feature = "rust-crypto")]
impl Hs256 {
    #[cfg_attr(feature = "aws-lc-rs", allow(dead_code))]
    fn new(key: &[u8]) -> Result<Self, KeyError> {
        use hmac::KeyInit;
        hmac::Hmac::new_from_slice(key)
            .map(Self)
            .map_err(|_| KeyError::Unsupported)
    }

    fn tag(&self, input: &[u8]) -> [u8; TAG_LEN] {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(input);
        mac.finalize().into_bytes().into()
    }

    /// Constant-time comparison, by the `hmac` crate.
    fn check(&self, input: &[u8], tag: &[u8]) -> bool {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(input);
        mac.verify_slice(tag).is_ok()
    }
}

#[cfg(feature = "rust-crypto")]
impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.tag(message).to_vec())
    }
}

#[cfg(feature = "rust-crypto")]
impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        if self.check(message, tag) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

#[cfg(feature = "rust-crypto")]
impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(feature = "rust-crypto")]
impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
#[cfg(any(feature = "rust-crypto", feature = "aws-lc-rs"))]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const KEY: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn header_constant_is_the_standard_header() {
        let decoded = URL_SAFE_NO_PAD.decode(HS256_HEADER).unwrap();
        assert_eq!(decoded, br#"{"alg":"HS256","typ":"JWT"}"#);
    }

    /// RFC 7515 appendix A.1: the HS256 example, key and all. An answer
    /// known from outside this crate and every HMAC implementation in it.
    #[test]
    fn verifies_rfc_7515_appendix_a1() {
        let key = URL_SAFE_NO_PAD
            .decode(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
            )
            .unwrap();
        let signing_input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
            eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let tag = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let keys = Keys::new(&key).unwrap();
        assert!(keys.verify(signing_input.as_bytes(), tag).unwrap());
        let signed = keys.append_signature(signing_input.to_owned()).unwrap();
        assert_eq!(signed.rsplit_once('.').unwrap().1, tag);
    }

    /// RFC 4231 test case 2: HMAC-SHA256 with a short key.
    #[test]
    fn matches_rfc_4231_test_case_2() {
        let keys = Keys::new(b"Jefe").unwrap();
        let tag = keys.tag(b"what do ya want for nothing?").unwrap();
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let hex: String = tag.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(hex, expected);
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
        assert!(!keys.verify(input.as_bytes(), &format!("{tag}A")).unwrap());
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

    /// The crate's signer and verifier, through jsonwebtoken's interfaces,
    /// agree with an HMAC-SHA256 computed apart from them.
    #[cfg(feature = "rust-crypto")]
    #[test]
    fn hs256_through_jsonwebtoken_interfaces_agrees_with_plain_hmac() {
        use hmac::{KeyInit, Mac};
        let hs256 = Hs256::new(KEY).unwrap();
        let signer: &dyn JwtSigner = &hs256;
        let verifier: &dyn JwtVerifier = &hs256;
        assert_eq!(signer.algorithm(), Algorithm::HS256);
        for message in [&b""[..], b"a.b", &[0x5a; 1000]] {
            let mut plain = hmac::Hmac::<sha2::Sha256>::new_from_slice(KEY).unwrap();
            plain.update(message);
            let expected = plain.finalize().into_bytes().to_vec();
            assert_eq!(signer.try_sign(message).unwrap(), expected);
            assert!(verifier.verify(message, &expected).is_ok());
            let mut wrong = expected.clone();
            wrong[0] ^= 1;
            assert!(verifier.verify(message, &wrong).is_err());
        }
    }
}
