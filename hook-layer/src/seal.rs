//! Sealed journey state: values a handler hands to the browser for the next
//! page, which the browser can carry but cannot read, forge, keep past the
//! session or move to another session.
//!
//! Format (before base64url without padding):
//!
//! ```text
//! version (1) || nonce (24) || XChaCha20-Poly1305( expiry (8, BE) || JSON ) || tag (16)
//! ```
//!
//! The associated data binds the value to one session of one hook:
//! `version || len || issuer || len || audience || len || state`, each
//! length a big-endian `u64`. The key is derived from the hook secret once,
//! when the [`HookSecret`](crate::HookSecret) is built, with HKDF-SHA256
//! (see `seal_key`); the JWT HMAC key is the raw secret, so the two never
//! coincide.

use std::fmt;
use std::io;

use base64::Engine;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{Tag, XNonce};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::base64url::BASE64URL;
use crate::session::{HookSession, SessionCore};

/// The longest sealed string [`HookSession::open`] reads (and so the
/// longest [`HookSession::seal`] writes), in bytes: 8 KiB. Longer input is
/// refused as [`OpenError::Malformed`] before any decoding.
pub const MAX_SEALED_LEN: usize = 8 * 1024;

/// The format version, first byte of every sealed value.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const EXPIRY_LEN: usize = 8;
const TAG_LEN: usize = 16;
/// Version and nonce: the part of a sealed value sent in the clear.
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// What sealing adds to the JSON of a value, in bytes before base64url:
/// version, nonce, expiry and tag.
const OVERHEAD: usize = HEADER_LEN + EXPIRY_LEN + TAG_LEN;

/// The associated data: the session a sealed value belongs to, and what it
/// was sealed for.
fn associated_data(core: &SessionCore, purpose: &str) -> Vec<u8> {
    let parts: [&str; 4] = [&core.issuer, &core.audience, &core.state, purpose];
    let mut data = Vec::with_capacity(1 + parts.iter().map(|p| 8 + p.len()).sum::<usize>());
    data.push(VERSION);
    for part in parts {
        data.extend_from_slice(&(part.len() as u64).to_be_bytes());
        data.extend_from_slice(part.as_bytes());
    }
    data
}

impl<C> HookSession<C> {
    /// Seals `value` for a later page of this session's journey: the
    /// result is a URL- and form-safe string to put in a hidden form field
    /// or a query parameter, and [`open`](Self::open) gives the value back.
    ///
    /// The browser can neither read nor change the value (XChaCha20-Poly1305
    /// under a key derived from the hook secret), nor use it in another
    /// session, for another tenant or hook, or after this session's token
    /// stops being accepted (its `exp`, or `iat` plus the maximum age, plus
    /// the leeway, by the layer's clock).
    ///
    /// Within the session a sealed value can be replayed: the browser may
    /// send an earlier one again. Do not count on it for anything that must
    /// happen once; limit attempts with an `AttemptLimiter` (feature
    /// `attempts`) instead.
    ///
    /// Size: the JSON of `value` plus 49 bytes (version, nonce, expiry,
    /// tag), times 4/3 for base64url; a 20-byte JSON value seals to 92
    /// characters. The result is at most [`MAX_SEALED_LEN`] bytes.
    ///
    /// ```
    /// use hook_layer::testing::MockIssuer;
    /// use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
    ///
    /// let secret = HookSecret::from_bytes(&[7; 32])?;
    /// let layer = InteractionHookLayer::new(secret.clone());
    /// let session: HookSession = layer.verify_token(&MockIssuer::new(secret).session().token())?;
    ///
    /// let sealed = session.seal(&("ada@example.com", 2))?;
    /// let (email, step): (String, u8) = session.open(&sealed)?;
    /// assert_eq!((email.as_str(), step), ("ada@example.com", 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seal<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, SealError> {
        self.seal_for("", value)
    }

    /// Seals `value` for one `purpose` (e.g. `"terms"`, `"code-sent"`):
    /// [`open_for`](Self::open_for) with the same purpose gives it back, and
    /// any other purpose (or plain [`open`](Self::open)) refuses it as
    /// [`OpenError::Invalid`]. Use it when a journey seals several values
    /// whose types could read one another (two booleans, say), so that the
    /// browser cannot hand back one where the other is expected.
    ///
    /// ```
    /// use hook_layer::testing::MockIssuer;
    /// use hook_layer::{HookSecret, HookSession, InteractionHookLayer, OpenError};
    ///
    /// let secret = HookSecret::from_bytes(&[7; 32])?;
    /// let layer = InteractionHookLayer::new(secret.clone());
    /// let session: HookSession = layer.verify_token(&MockIssuer::new(secret).session().token())?;
    ///
    /// let terms_accepted = session.seal_for("terms", &true)?;
    /// assert!(session.open_for::<bool>("terms", &terms_accepted)?);
    /// assert_eq!(
    ///     session.open_for::<bool>("second-factor-passed", &terms_accepted),
    ///     Err(OpenError::Invalid)
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seal_for<T: Serialize + ?Sized>(
        &self,
        purpose: &str,
        value: &T,
    ) -> Result<String, SealError> {
        let core = self.core();
        let mut nonce = XNonce::default();
        getrandom::fill(&mut nonce).map_err(|_| SealError::NoRandomness)?;

        let mut buffer = WipingBuffer(Zeroizing::new(Vec::with_capacity(OVERHEAD + 64)));
        buffer.0.push(VERSION);
        buffer.0.extend_from_slice(&nonce);
        buffer.0.extend_from_slice(&core.ends_at().to_be_bytes());
        serde_json::to_writer(&mut buffer, value).map_err(|_| SealError::Serialize)?;
        let mut buffer = buffer.0;
        let len = base64::encoded_len(buffer.len() + TAG_LEN, false).unwrap_or(usize::MAX);
        if len > MAX_SEALED_LEN {
            return Err(SealError::TooLarge {
                len,
                max: MAX_SEALED_LEN,
            });
        }

        let tag = core
            .secret()
            .seal_key()
            .0
            .encrypt_inout_detached(
                &nonce,
                &associated_data(core, purpose),
                (&mut buffer[HEADER_LEN..]).into(),
            )
            // Only a plaintext of 256 GiB or more fails, far above the cap.
            .map_err(|_| SealError::TooLarge {
                len,
                max: MAX_SEALED_LEN,
            })?;
        buffer.extend_from_slice(&tag);
        Ok(BASE64URL.encode(&buffer))
    }

    /// Opens a value [`seal`](Self::seal)ed earlier in this session.
    ///
    /// Refuses, without panicking on any input: text that is not a sealed
    /// value ([`OpenError::Malformed`]); a value that was changed, sealed
    /// with another hook secret, or sealed in another session, for another
    /// tenant or for another hook ([`OpenError::Invalid`], one error for
    /// all of these on purpose); a value whose session is over by the
    /// layer's clock ([`OpenError::Expired`]); and an authentic value that
    /// does not deserialize as `T` ([`OpenError::Deserialize`]).
    pub fn open<T: DeserializeOwned>(&self, sealed: &str) -> Result<T, OpenError> {
        self.open_for("", sealed)
    }

    /// Opens a value sealed with [`seal_for`](Self::seal_for) and the same
    /// `purpose`; refuses as [`open`](Self::open) does, and a value sealed
    /// for another purpose as [`OpenError::Invalid`].
    pub fn open_for<T: DeserializeOwned>(
        &self,
        purpose: &str,
        sealed: &str,
    ) -> Result<T, OpenError> {
        if sealed.len() > MAX_SEALED_LEN {
            return Err(OpenError::Malformed);
        }
        // Decrypted in place: once it holds the plaintext (a one-time code,
        // a date of birth), it is zeroed when dropped, however `open` ends.
        let mut bytes = Zeroizing::new(BASE64URL.decode(sealed).map_err(|_| OpenError::Malformed)?);
        if bytes.len() < OVERHEAD || bytes[0] != VERSION {
            return Err(OpenError::Malformed);
        }
        let (header, rest) = bytes.split_at_mut(HEADER_LEN);
        let (ciphertext, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let (Ok(nonce), Ok(tag)) = (XNonce::try_from(&header[1..]), Tag::try_from(&*tag)) else {
            return Err(OpenError::Malformed);
        };
        let core = self.core();
        core.secret()
            .seal_key()
            .0
            .decrypt_inout_detached(
                &nonce,
                &associated_data(core, purpose),
                (&mut *ciphertext).into(),
                &tag,
            )
            .map_err(|_| OpenError::Invalid)?;

        let (expiry, json) = ciphertext.split_at(EXPIRY_LEN);
        let mut expiry_bytes = [0; EXPIRY_LEN];
        expiry_bytes.copy_from_slice(expiry);
        if core.policy.now() >= u64::from_be_bytes(expiry_bytes) {
            return Err(OpenError::Expired);
        }
        serde_json::from_slice(json).map_err(|_| OpenError::Deserialize)
    }
}

/// A buffer for the plaintext being sealed that zeroes every block it
/// outgrows: a `Vec` that grows by itself frees the old block with the
/// plaintext still in it. The whole buffer is zeroed on drop.
struct WipingBuffer(Zeroizing<Vec<u8>>);

impl io::Write for WipingBuffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let needed = self.0.len().saturating_add(data.len());
        if needed > self.0.capacity() {
            let mut bigger = Vec::with_capacity(needed.max(self.0.capacity().saturating_mul(2)));
            bigger.extend_from_slice(&self.0);
            // The old block is zeroed (capacity included) as it drops.
            drop(std::mem::replace(&mut self.0, Zeroizing::new(bigger)));
        }
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why [`HookSession::seal`] could not seal a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The value's `Serialize` implementation failed (for example a map
    /// with keys that are not strings).
    Serialize,
    /// The sealed value would be longer than [`MAX_SEALED_LEN`]: keep large
    /// state on the server and seal a reference to it.
    TooLarge {
        /// The sealed length it would have, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// The operating system's random number generator failed, so no nonce
    /// could be drawn.
    NoRandomness,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serialize => f.write_str("the value to seal could not be serialized as JSON"),
            Self::TooLarge { len, max } => write!(
                f,
                "the sealed value would be {len} bytes, over the {max}-byte limit; \
                 keep large state on the server"
            ),
            Self::NoRandomness => {
                f.write_str("the system random number generator failed; nothing was sealed")
            }
        }
    }
}

impl std::error::Error for SealError {}

/// Why [`HookSession::open`] refused a sealed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// Not a sealed value: too long, not base64url, too short, or of an
    /// unknown format version.
    Malformed,
    /// The value failed authentication: it was changed, sealed with another
    /// hook secret, or belongs to another session, tenant or hook. These
    /// causes are indistinguishable on purpose.
    Invalid,
    /// The value is authentic, but the session it was sealed in is over.
    Expired,
    /// The value is authentic and current but does not deserialize as the
    /// type asked for.
    Deserialize,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the sealed value is malformed",
            Self::Invalid => {
                "the sealed value is not authentic for this session: changed, \
                 from another session, or sealed with another secret"
            }
            Self::Expired => "the sealed value has expired with its session",
            Self::Deserialize => "the sealed value does not have the expected shape",
        })
    }
}

impl std::error::Error for OpenError {}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
    use hkdf::Hkdf;
    use serde::Deserialize;
    use sha2::Sha256;

    use super::*;
    use crate::fixtures::{NOW, at, issuer, layer_at, secret};
    use crate::seal_key::SEAL_KEY_LABEL;
    use crate::testing::MockIssuer;
    use crate::{HookSecret, InteractionHookLayer};

    /// A clock the test moves.
    fn movable(
        start: u64,
    ) -> (
        Arc<AtomicU64>,
        impl Fn() -> SystemTime + Send + Sync + 'static,
    ) {
        let now = Arc::new(AtomicU64::new(start));
        let read = Arc::clone(&now);
        (now, move || {
            UNIX_EPOCH + Duration::from_secs(read.load(Ordering::SeqCst))
        })
    }

    fn layer() -> InteractionHookLayer {
        layer_at(NOW)
    }

    fn session(token: &str) -> HookSession {
        layer().verify_token(token).unwrap()
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Step {
        email: String,
        code_sent_at: u64,
    }

    fn step() -> Step {
        Step {
            email: "ada@example.com".into(),
            code_sent_at: NOW,
        }
    }

    /// A session without any lifetime (accepted only after
    /// `allow_tokens_without_lifetime`) still seals: the value lasts a day
    /// from when it was sealed.
    #[test]
    fn sessions_without_lifetime_seal_for_a_day() {
        let (now, clock) = movable(NOW);
        let layer = layer().allow_tokens_without_lifetime().clock(clock);
        let token = issuer().session().remove("iat").remove("exp").token();
        let sealed = layer.verify_token(&token).unwrap().seal(&step()).unwrap();
        now.store(NOW + 86_400 - 1, Ordering::SeqCst);
        let later: HookSession = layer.verify_token(&token).unwrap();
        assert_eq!(later.open::<Step>(&sealed).unwrap(), step());
        now.store(NOW + 86_400, Ordering::SeqCst);
        let later: HookSession = layer.verify_token(&token).unwrap();
        assert_eq!(later.open::<Step>(&sealed).unwrap_err(), OpenError::Expired);
    }

    /// However far away a token's `exp`, a sealed value lives at most a
    /// day: a secret's holder cannot mint state that never expires.
    #[test]
    fn sealed_state_lives_at_most_a_day() {
        let (now, clock) = movable(NOW);
        let layer = layer().clock(clock);
        let token = issuer().session().set("exp", 253_402_300_799u64).token();
        let sealed = layer.verify_token(&token).unwrap().seal(&step()).unwrap();
        now.store(NOW + 86_400, Ordering::SeqCst);
        let later: HookSession = layer.verify_token(&token).unwrap();
        assert_eq!(later.open::<Step>(&sealed).unwrap_err(), OpenError::Expired);
    }

    #[test]
    fn round_trip() {
        let token = issuer().session().token();
        let sealed = session(&token).seal(&step()).unwrap();
        // A later request of the same session: the token verified again.
        assert_eq!(session(&token).open::<Step>(&sealed).unwrap(), step());
        assert!(
            sealed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        // The JSON is not visible.
        let decoded = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(!decoded.windows(3).any(|w| w == b"ada"));
    }

    #[test]
    fn documented_overhead() {
        let token = issuer().session().token();
        let value = "x".repeat(18); // 20 bytes of JSON with the quotes
        let sealed = session(&token).seal(&value).unwrap();
        assert_eq!(OVERHEAD, 49);
        assert_eq!(sealed.len(), 92);
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let s = session(&issuer().session().token());
        assert_ne!(s.seal(&step()).unwrap(), s.seal(&step()).unwrap());
    }

    #[test]
    fn another_session_refuses() {
        let mock = issuer();
        let sealed = session(&mock.session().token()).seal(&step()).unwrap();
        let other = session(&mock.session().token());
        assert_eq!(other.open::<Step>(&sealed).unwrap_err(), OpenError::Invalid);
    }

    #[test]
    fn another_tenant_or_hook_refuses() {
        // Unconfigured, so that the layer accepts any issuer and audience;
        // the state is the same in every token.
        let open = InteractionHookLayer::new(secret()).clock(at(NOW));
        let verify = |token: String| -> HookSession { open.verify_token(&token).unwrap() };
        let mock = issuer();
        let sealed = verify(mock.session().state("s1").token())
            .seal(&step())
            .unwrap();
        let same = verify(mock.session().state("s1").token());
        assert!(same.open::<Step>(&sealed).is_ok());
        let tenant = verify(
            mock.session()
                .state("s1")
                .issuer("https://other.vii.au01.mattr.global")
                .token(),
        );
        assert_eq!(
            tenant.open::<Step>(&sealed).unwrap_err(),
            OpenError::Invalid
        );
        let hook = verify(
            mock.session()
                .state("s1")
                .audience("https://other.example/interaction")
                .token(),
        );
        assert_eq!(hook.open::<Step>(&sealed).unwrap_err(), OpenError::Invalid);
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let open = InteractionHookLayer::new(secret()).clock(at(NOW));
        let verify = |token: String| -> HookSession { open.verify_token(&token).unwrap() };
        let mock = issuer();
        let sealed = verify(
            mock.session()
                .issuer("https://a.example")
                .state("bc")
                .token(),
        )
        .seal(&1)
        .unwrap();
        let shifted = verify(
            mock.session()
                .issuer("https://a.exampleb")
                .state("c")
                .token(),
        );
        assert_eq!(shifted.open::<u8>(&sealed).unwrap_err(), OpenError::Invalid);
    }

    #[test]
    fn a_value_opens_for_its_own_purpose_only() {
        let token = issuer().session().token();
        let session = session(&token);
        let sealed = session.seal_for("terms", &true).unwrap();
        assert!(session.open_for::<bool>("terms", &sealed).unwrap());
        for other in ["code", "", "terms "] {
            assert_eq!(
                session.open_for::<bool>(other, &sealed).unwrap_err(),
                OpenError::Invalid,
                "{other:?}"
            );
        }
        assert_eq!(
            session.open::<bool>(&sealed).unwrap_err(),
            OpenError::Invalid
        );
        let plain = session.seal(&true).unwrap();
        assert_eq!(
            session.open_for::<bool>("terms", &plain).unwrap_err(),
            OpenError::Invalid
        );
    }

    #[test]
    fn wrong_secret_refuses() {
        let other = HookSecret::from_bytes(b"another secret, also of 32 bytes").unwrap();
        let other_layer = InteractionHookLayer::new(other.clone())
            .issuer(MockIssuer::TENANT)
            .audience(MockIssuer::HOOK_URL)
            .clock(at(NOW));
        let mine = session(&issuer().session().state("s").token());
        let theirs: HookSession = other_layer
            .verify_token(
                &MockIssuer::new(other)
                    .clock(at(NOW))
                    .session()
                    .state("s")
                    .token(),
            )
            .unwrap();
        let sealed = theirs.seal(&step()).unwrap();
        assert!(theirs.open::<Step>(&sealed).is_ok());
        assert_eq!(mine.open::<Step>(&sealed).unwrap_err(), OpenError::Invalid);
    }

    #[test]
    fn the_seal_key_is_not_the_jwt_key() {
        let mut derived = chacha20poly1305::Key::default();
        Hkdf::<Sha256>::new(None, b"an example hook secret, 32 bytes")
            .expand(SEAL_KEY_LABEL, &mut derived)
            .unwrap();
        assert_ne!(derived.as_slice(), b"an example hook secret, 32 bytes");
        // A value sealed under the raw secret as the key does not open.
        let s = session(&issuer().session().token());
        let raw = XChaCha20Poly1305::new(b"an example hook secret, 32 bytes".into());
        let nonce = XNonce::default();
        let mut buffer = vec![VERSION];
        buffer.extend_from_slice(&nonce);
        buffer.extend_from_slice(&u64::MAX.to_be_bytes());
        buffer.extend_from_slice(b"1");
        let tag = raw
            .encrypt_inout_detached(
                &nonce,
                &associated_data(s.core(), ""),
                (&mut buffer[HEADER_LEN..]).into(),
            )
            .unwrap();
        buffer.extend_from_slice(&tag);
        let forged = URL_SAFE_NO_PAD.encode(&buffer);
        assert_eq!(s.open::<u8>(&forged).unwrap_err(), OpenError::Invalid);
    }

    #[test]
    fn garbage_truncation_and_empty_refuse() {
        let s = session(&issuer().session().token());
        let sealed = s.seal(&step()).unwrap();
        for bad in [
            "",
            "a",
            "!!!!",
            "not a sealed value",
            &format!("{sealed}="),
            &format!(" {sealed}"),
            &sealed.replace('-', "+").replace('_', "/"),
        ] {
            if bad == sealed {
                continue;
            }
            assert_eq!(
                s.open::<Step>(bad).unwrap_err(),
                OpenError::Malformed,
                "{bad:?}"
            );
        }
        for len in 0..sealed.len() {
            assert!(s.open::<Step>(&sealed[..len]).is_err(), "{len}");
        }
        // Well-formed base64url of the right length, but not a sealed value.
        let zeros = URL_SAFE_NO_PAD.encode([VERSION; 80]);
        assert_eq!(s.open::<Step>(&zeros).unwrap_err(), OpenError::Invalid);
        let version_2 = URL_SAFE_NO_PAD.encode([2; 80]);
        assert_eq!(
            s.open::<Step>(&version_2).unwrap_err(),
            OpenError::Malformed
        );
        let short = URL_SAFE_NO_PAD.encode([VERSION; OVERHEAD - 1]);
        assert_eq!(s.open::<Step>(&short).unwrap_err(), OpenError::Malformed);
    }

    #[test]
    fn caps_the_length_both_ways() {
        let s = session(&issuer().session().token());
        let huge = "A".repeat(MAX_SEALED_LEN + 1);
        assert_eq!(s.open::<Step>(&huge).unwrap_err(), OpenError::Malformed);
        // The largest JSON that fits: (8192 / 4 * 3) - 49 = 6095 bytes.
        let fits = "x".repeat(6095 - 2);
        let sealed = s.seal(&fits).unwrap();
        assert_eq!(sealed.len(), MAX_SEALED_LEN);
        assert_eq!(s.open::<String>(&sealed).unwrap(), fits);
        let too_big = "x".repeat(6095 - 1);
        assert!(matches!(
            s.seal(&too_big).unwrap_err(),
            SealError::TooLarge {
                max: MAX_SEALED_LEN,
                ..
            }
        ));
    }

    #[test]
    fn authentic_but_the_wrong_type() {
        let s = session(&issuer().session().token());
        let sealed = s.seal(&"just a string").unwrap();
        assert_eq!(s.open::<Step>(&sealed).unwrap_err(), OpenError::Deserialize);
        assert_eq!(s.open::<String>(&sealed).unwrap(), "just a string");
    }

    #[test]
    fn serialize_failures_are_errors() {
        use std::collections::BTreeMap;
        let s = session(&issuer().session().token());
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert_eq!(s.seal(&map).unwrap_err(), SealError::Serialize);
    }

    /// With `exp`: a value lives while the token does, `exp` plus the
    /// leeway, to the second, and the layer agrees.
    #[test]
    fn expiry_edges_to_the_second_with_exp() {
        let token = issuer().session().set("exp", NOW + 100).token();
        let (now, clock) = movable(NOW);
        let layer = layer().clock(clock);
        let first: HookSession = layer.verify_token(&token).unwrap();
        let sealed = first.seal(&step()).unwrap();
        let last = NOW + 100 + 30 - 1;
        now.store(last, Ordering::SeqCst);
        let s: HookSession = layer.verify_token(&token).unwrap();
        assert_eq!(s.open::<Step>(&sealed).unwrap(), step());
        now.store(last + 1, Ordering::SeqCst);
        assert!(layer.verify_token(&token).map(|_: HookSession| ()).is_err());
        assert_eq!(s.open::<Step>(&sealed).unwrap_err(), OpenError::Expired);
    }

    /// Without `exp`: `iat` plus the maximum age plus the leeway, inclusive,
    /// as the layer reads it.
    #[test]
    fn expiry_edges_to_the_second_without_exp() {
        let token = issuer().session().remove("exp").token();
        let (now, clock) = movable(NOW);
        let layer = layer().max_age(Duration::from_secs(300)).clock(clock);
        let s: HookSession = layer.verify_token(&token).unwrap();
        let sealed = s.seal(&step()).unwrap();
        let last = NOW + 300 + 30;
        now.store(last, Ordering::SeqCst);
        assert!(layer.verify_token(&token).map(|_: HookSession| ()).is_ok());
        assert_eq!(s.open::<Step>(&sealed).unwrap(), step());
        now.store(last + 1, Ordering::SeqCst);
        assert!(layer.verify_token(&token).map(|_: HookSession| ()).is_err());
        assert_eq!(s.open::<Step>(&sealed).unwrap_err(), OpenError::Expired);
    }

    /// The expiry is sealed in, so a layer with a longer leeway does not
    /// stretch a value's life.
    #[test]
    fn the_expiry_travels_with_the_value() {
        let token = issuer().session().set("exp", NOW + 100).token();
        let sealed = session(&token).seal(&step()).unwrap();
        let (now, clock) = movable(NOW);
        let lenient = layer().leeway(Duration::from_secs(600)).clock(clock);
        let s: HookSession = lenient.verify_token(&token).unwrap();
        now.store(NOW + 130, Ordering::SeqCst);
        assert_eq!(s.open::<Step>(&sealed).unwrap_err(), OpenError::Expired);
    }

    #[test]
    fn errors_say_what_happened() {
        assert!(OpenError::Expired.to_string().contains("expired"));
        assert!(
            SealError::TooLarge {
                len: 9000,
                max: 8192
            }
            .to_string()
            .contains("9000")
        );
    }
}
