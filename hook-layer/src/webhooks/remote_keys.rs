//! A tenant's webhook keys fetched from its JWKS URL, cached, and fetched
//! again when a signature names a key the cache does not hold, at most
//! once per interval.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;

use crate::clock::{Clock, SystemClock, unix_seconds};

use super::keys::WebhookKeys;

/// The longest JWKS document read, in bytes.
pub const MAX_JWKS_LEN: usize = 64 * 1024;
/// The default least interval between two fetches: 5 minutes.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(300);

/// The future of [`FetchJwks::fetch`]: the document's text.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<String, FetchError>> + Send + 'a>>;

/// Fetches a JWKS document over HTTP: the application's HTTP client (with
/// the TLS stack it already uses), so that this crate brings none. Any
/// `Fn(Url) -> impl Future<Output = Result<String, FetchError>>` is one.
///
/// It should time out well within MATTR VII's 3 s, and fail on any status
/// but `200`.
pub trait FetchJwks: Send + Sync + 'static {
    /// `GET url`, the body as text.
    fn fetch<'a>(&'a self, url: &'a Url) -> FetchFuture<'a>;
}

impl<F, Fut> FetchJwks for F
where
    F: Fn(Url) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, FetchError>> + Send + 'static,
{
    fn fetch<'a>(&'a self, url: &'a Url) -> FetchFuture<'a> {
        Box::pin(self(url.clone()))
    }
}

/// A JWKS could not be fetched or read. Shown without the document.
#[derive(Debug)]
pub struct FetchError(Box<dyn std::error::Error + Send + Sync>);

impl FetchError {
    /// Wraps the HTTP client's error (or a status, or a timeout).
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the webhook JWKS could not be fetched: {}", self.0)
    }
}

impl std::error::Error for FetchError {}

/// A JWKS URL that is neither https nor http on a loopback address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksUrlError;

impl fmt::Display for JwksUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a JWKS URL is https, or http on a loopback address (127.0.0.1, [::1], localhost)",
        )
    }
}

impl std::error::Error for JwksUrlError {}

/// One tenant's webhook keys, fetched from its JWKS URL
/// (`https://{tenant}/v1/webhooks/jwks`) on first use, kept, and fetched
/// again when a signature's `keyid` is not among them, at most once per
/// [`refresh_interval`](Self::refresh_interval). A JWKS that cannot be
/// fetched (with no key to verify with) makes the delivery a `503`, which
/// MATTR VII retries; it never makes it accepted. Give each tenant its own.
#[derive(Clone)]
pub struct RemoteKeys {
    inner: Arc<Inner>,
}

struct Inner {
    url: Url,
    fetcher: Box<dyn FetchJwks>,
    refresh_interval: Duration,
    clock: Box<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: Option<WebhookKeys>,
    /// When a fetch last began, in Unix seconds.
    last_fetch: Option<u64>,
}

/// What [`RemoteKeys::keys_for`] found.
pub(crate) enum Lookup {
    /// Keys to verify with (which may still lack the `keyid`: then it is
    /// unknown, and a fetch was not due).
    Keys(WebhookKeys),
    /// No keys, and the JWKS could not be fetched.
    Unavailable,
}

impl RemoteKeys {
    /// Keys from `jwks_url`, fetched with `fetcher`. The URL must be https,
    /// or http on a loopback address (for tests and a local MATTR VII
    /// simulator).
    pub fn new(jwks_url: &str, fetcher: impl FetchJwks) -> Result<Self, JwksUrlError> {
        let url = Url::parse(jwks_url).map_err(|_| JwksUrlError)?;
        let loopback = match url.host() {
            Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            _ => return Err(JwksUrlError),
        }
        Ok(Self {
            inner: Arc::new(Inner {
                url,
                fetcher: Box::new(fetcher),
                refresh_interval: DEFAULT_REFRESH_INTERVAL,
                clock: Box::new(SystemClock),
                state: Mutex::default(),
            }),
        })
    }

    /// The least interval between two fetches (5 minutes by default): an
    /// unknown `keyid` fetches the JWKS again only when the last fetch
    /// began this long ago, so forged key ids cannot make this hook hammer
    /// the tenant.
    pub fn refresh_interval(self, interval: Duration) -> Self {
        self.rebuild(|inner| inner.refresh_interval = interval)
    }

    /// The clock the interval is measured by.
    pub fn clock(self, clock: impl Clock) -> Self {
        let clock: Box<dyn Clock> = Box::new(clock);
        self.rebuild(move |inner| inner.clock = clock)
    }

    /// The JWKS URL.
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// The keys held now, if a fetch has succeeded.
    pub fn cached(&self) -> Option<WebhookKeys> {
        self.lock().keys.clone()
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                change(&mut inner);
                Self {
                    inner: Arc::new(inner),
                }
            }
            // Shared already: settings are for building, before first use.
            Err(inner) => Self { inner },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keys holding every one of `kids`, fetching when one is missing and
    /// a fetch is due.
    pub(crate) async fn keys_for(&self, kids: &[String]) -> Lookup {
        let now = unix_seconds(self.inner.clock.as_ref());
        let (cached, due) = {
            let mut state = self.lock();
            let cached = state.keys.clone();
            let known = cached
                .as_ref()
                .is_some_and(|keys| kids.iter().all(|kid| keys.contains(kid)));
            let interval = self.inner.refresh_interval.as_secs();
            let due = !known
                && state
                    .last_fetch
                    .is_none_or(|last| now >= last.saturating_add(interval));
            if due {
                // Claimed before fetching: parallel requests do not stampede.
                state.last_fetch = Some(now);
            }
            (cached, due)
        };
        if !due {
            return cached.map_or(Lookup::Unavailable, Lookup::Keys);
        }
        let fetched = self
            .inner
            .fetcher
            .fetch(&self.inner.url)
            .await
            .ok()
            .filter(|text| text.len() <= MAX_JWKS_LEN)
            .and_then(|text| WebhookKeys::from_jwks(&text).ok());
        match fetched {
            Some(keys) => {
                self.lock().keys = Some(keys.clone());
                Lookup::Keys(keys)
            }
            // A fetch that fails while a key is missing: the delivery may
            // be signed with a new key that cannot be checked now, so it is
            // retried rather than refused for good.
            None => Lookup::Unavailable,
        }
    }
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("url", &self.inner.url.as_str())
            .field("refresh_interval", &self.inner.refresh_interval)
            .finish_non_exhaustive()
    }
}
