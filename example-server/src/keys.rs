//! Keys for the example's own signed data, derived from the hook secret.
//!
//! The journey keeps no server-side state: what the user has done so far
//! travels in the page as a signed progress token, and the one-time code is
//! computed from the session token. Both need keys of their own; deriving
//! them from the hook secret (HMAC with a fixed label) means every instance
//! of the server agrees on them without another setting.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The derived keys. Cheap to clone; `Debug` shows nothing.
#[derive(Clone)]
pub struct JourneyKeys {
    inner: Arc<Inner>,
}

struct Inner {
    progress_signing: EncodingKey,
    progress_verifying: DecodingKey,
    otp: Zeroizing<[u8; 32]>,
}

impl JourneyKeys {
    /// Derives the keys from the hook secret's bytes.
    pub fn derive(secret: &[u8]) -> Self {
        let progress = derive(secret, b"example-server progress v1");
        let inner = Inner {
            progress_signing: EncodingKey::from_secret(&*progress)
                .expect("a 32-byte key is never empty"),
            progress_verifying: DecodingKey::from_secret(&*progress)
                .expect("a 32-byte key is never empty"),
            otp: derive(secret, b"example-server one-time code v1"),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn progress_signing(&self) -> &EncodingKey {
        &self.inner.progress_signing
    }

    pub(crate) fn progress_verifying(&self) -> &DecodingKey {
        &self.inner.progress_verifying
    }

    /// HMAC-SHA256 of `message` with the one-time-code key.
    pub(crate) fn otp_mac(&self, message: &[u8]) -> [u8; 32] {
        mac(&*self.inner.otp, message)
    }
}

fn derive(secret: &[u8], label: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(mac(secret, label))
}

fn mac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl fmt::Debug for JourneyKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JourneyKeys(<redacted>)")
    }
}
