//! The key that seals journey state, derived from the hook secret.
//!
//! It is derived once, when the [`HookSecret`](crate::HookSecret) is
//! built, with HKDF-SHA256 under [`SEAL_KEY_LABEL`]; the JWT HMAC key is
//! the raw secret, so the two never coincide. The sealing itself is in
//! `seal`.

use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroize;

/// The HKDF `info` label of the sealing key. Changing it (or the secret)
/// makes every sealed value unreadable.
pub(crate) const SEAL_KEY_LABEL: &[u8] = b"hook-layer seal v1";

/// The XChaCha20-Poly1305 key that seals journey state. It zeroizes on
/// drop and has no `Debug`.
pub(crate) struct SealKey(pub(crate) XChaCha20Poly1305);

impl SealKey {
    /// HKDF-SHA256 of the secret bytes (no salt: the secret is uniformly
    /// random) under [`SEAL_KEY_LABEL`]. `None` only if HKDF refuses the
    /// output length, which it cannot for a 32-byte key.
    pub(crate) fn derive(secret: &[u8]) -> Option<Self> {
        let mut key = chacha20poly1305::Key::default();
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so this
        // cannot fail; mapping it keeps even that path panic-free.
        let expanded = Hkdf::<Sha256>::new(None, secret).expand(SEAL_KEY_LABEL, &mut key);
        let cipher = expanded.map(|()| XChaCha20Poly1305::new(&key));
        key.as_mut_slice().zeroize();
        cipher.ok().map(Self)
    }
}
