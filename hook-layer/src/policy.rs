//! The verification settings behind a layer: what `verify` checks a token
//! against, shared by the layer, its services and every session they make.
//! The checks themselves are in `verify`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use url::Origin;

use crate::clock::{Clock, SystemClock, unix_seconds};
use crate::metrics::LayerMetrics;
use crate::tenant::Tenants;
use crate::token_source::TokenSource;

/// The name of the query parameter that carries the token, both ways.
pub const SESSION_TOKEN_PARAM: &str = "session_token";

/// Default clock-skew allowance, in seconds.
pub(crate) const DEFAULT_LEEWAY: u64 = 30;
/// Default maximum age of a token without `exp`, in seconds: MATTR VII's
/// example `sessionTimeoutInSec`.
pub(crate) const DEFAULT_MAX_AGE: u64 = 1200;
/// Default cap on the token parameter, in bytes.
pub(crate) const DEFAULT_MAX_TOKEN_LEN: usize = 4096;
/// Default lifetime of a response token, in seconds, as MATTR's samples use.
pub(crate) const DEFAULT_RESPONSE_LIFETIME: u64 = 60;
/// Default limit on the redirect URL back to MATTR VII: the safe limit MATTR
/// gives for URLs in browsers.
pub(crate) const DEFAULT_MAX_URL_LEN: usize = 2000;

/// The shared, immutable configuration behind a layer, its services and
/// every session they create.
#[derive(Clone)]
pub(crate) struct Policy {
    pub(crate) tenants: Tenants,
    pub(crate) leeway: u64,
    pub(crate) max_age: u64,
    pub(crate) max_token_len: usize,
    pub(crate) param: Cow<'static, str>,
    pub(crate) source: TokenSource,
    pub(crate) redirect_origins: Vec<Origin>,
    pub(crate) allow_loopback: bool,
    pub(crate) allow_no_lifetime: bool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) response_lifetime: u64,
    pub(crate) max_url_len: usize,
    /// The per-tenant counters, registered on the first request.
    pub(crate) metrics: LayerMetrics,
}

impl Policy {
    pub(crate) fn new(tenants: Tenants) -> Self {
        Self {
            tenants,
            leeway: DEFAULT_LEEWAY,
            max_age: DEFAULT_MAX_AGE,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            param: Cow::Borrowed(SESSION_TOKEN_PARAM),
            source: TokenSource::Query,
            redirect_origins: Vec::new(),
            allow_loopback: false,
            allow_no_lifetime: false,
            clock: Arc::new(SystemClock),
            response_lifetime: DEFAULT_RESPONSE_LIFETIME,
            max_url_len: DEFAULT_MAX_URL_LEN,
            metrics: LayerMetrics::default(),
        }
    }

    /// Each tenant's metrics label, in order: its configured name, or its
    /// configured issuer URL. Never anything from a token.
    pub(crate) fn tenant_labels(&self) -> impl Iterator<Item = String> + '_ {
        self.tenants.list.iter().map(|tenant| {
            tenant
                .tenant_name()
                .unwrap_or_else(|| tenant.issuer())
                .to_owned()
        })
    }

    pub(crate) fn now(&self) -> u64 {
        unix_seconds(&*self.clock)
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("tenants", &self.tenants.list)
            .field("leeway", &self.leeway)
            .field("max_age", &self.max_age)
            .field("max_token_len", &self.max_token_len)
            .field("param", &self.param)
            .field("source", &self.source)
            .field("redirect_origins", &self.redirect_origins)
            .field("allow_loopback", &self.allow_loopback)
            .field("allow_no_lifetime", &self.allow_no_lifetime)
            .field("response_lifetime", &self.response_lifetime)
            .field("max_url_len", &self.max_url_len)
            .finish_non_exhaustive()
    }
}
