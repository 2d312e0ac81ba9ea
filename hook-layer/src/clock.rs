//! Where the layer gets the time from.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, used for every lifetime rule and for the
/// `iat`/`exp` of response tokens.
///
/// The default is [`SystemClock`]. Any `Fn() -> SystemTime` is a clock,
/// which makes fixed times in tests a one-liner:
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use hook_layer::{HookSecret, InteractionHookLayer};
///
/// # let secret = HookSecret::from_bytes(&[7; 32])?;
/// let layer = InteractionHookLayer::new(secret)
///     .clock(|| UNIX_EPOCH + Duration::from_secs(1_764_422_400));
/// # Ok::<(), hook_layer::SecretError>(())
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> SystemTime + Send + Sync + 'static,
{
    fn now(&self) -> SystemTime {
        self()
    }
}

/// Seconds since the Unix epoch, as JWT NumericDates count them; a clock
/// set before 1970 reads as 0.
pub(crate) fn unix_seconds(clock: &dyn Clock) -> u64 {
    to_unix(clock.now())
}

/// `time` as whole seconds since the Unix epoch; 0 before 1970.
pub(crate) fn to_unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
