//! What the crate's unit tests share: one secret, one fixed time, MATTR VII
//! signing at that time, and a layer checking its tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::testing::MockIssuer;
use crate::{HookSecret, InteractionHookLayer};

/// 2025-11-29T13:20:00Z, the `iat` of PROTOCOL.md's example.
pub(crate) const NOW: u64 = 1_764_422_400;

/// The tests' hook secret.
pub(crate) fn secret() -> HookSecret {
    HookSecret::from_bytes(b"an example hook secret, 32 bytes").unwrap()
}

/// A clock stopped at `seconds` after the epoch.
pub(crate) fn at(seconds: u64) -> impl Fn() -> SystemTime + Clone + Send + Sync + 'static {
    move || UNIX_EPOCH + Duration::from_secs(seconds)
}

/// MATTR VII signing with [`secret`] at [`NOW`].
pub(crate) fn issuer() -> MockIssuer {
    MockIssuer::new(secret()).clock(at(NOW))
}

/// A layer for [`issuer`]'s tenant and hook URL whose clock reads `now`.
pub(crate) fn layer_at(now: u64) -> InteractionHookLayer {
    InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(at(now))
}
