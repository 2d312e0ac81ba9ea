//! What the hook counts, through the [`metrics`](https://docs.rs/metrics)
//! facade (feature `metrics`): the library records, the application
//! installs the recorder and exporter of its choice (Prometheus, StatsD,
//! OpenTelemetry, ...). Without a recorder every record is a no-op.
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `hook_layer_tokens_accepted_total` | counter | `tenant` | session tokens the layer accepted |
//! | `hook_layer_tokens_refused_total` | counter | `reason` | requests the layer refused, by [`Rejection::code`](crate::Rejection::code) (`bad_signature`, `expired`, `wrong_audience`, ...) |
//! | `hook_layer_completions_total` | counter | `tenant`, `outcome` | response tokens signed: `outcome` is `completed` (claims) or `failed` (an error that fails the issuance) |
//! | `hook_layer_completion_errors_total` | counter | `kind` | completions that could not be signed, by [`CompletionError`](crate::CompletionError) kind: `serialize`, `claims_not_an_object`, `persist_unknown_claim`, `url_too_long`, `signing` |
//! | `hook_layer_attempts_total` | counter | `limiter`, `outcome` | [`AttemptLimiter`](crate::attempts::AttemptLimiter) attempts: `granted`, `exhausted`, `store_error`, `session_over`, `session_too_long`, `session_before_store` |
//! | `hook_layer_store_duration_seconds` | histogram | `limiter` | the attempt store's round trip, per attempt that reached it |
//!
//! Label values come from the configuration and from fixed sets, never from
//! a token: `tenant` is the tenant's configured
//! [name](crate::Tenant::name), or its configured issuer URL when it has
//! none; `limiter` is the limiter's name; `reason`, `outcome` and `kind`
//! are the fixed codes above. So every series is bounded.
//!
//! The accepted, completion and attempt counters are registered with the
//! recorder when a layer (or limiter) first records, and kept: install the
//! recorder before the hook serves its first request, as an application
//! does at startup.
//!
//! Useful views: refusals by reason (a rotated secret shows as
//! `bad_signature`, a wrong hook URL on the tenant as `wrong_audience`,
//! clock skew as `expired` or `not_yet_valid`); completions by outcome;
//! attempts that end `exhausted` (the one-time code limit) or `store_error`
//! (the shared store is down).

/// Session tokens the layer accepted; label `tenant`.
#[cfg(feature = "metrics")]
pub const TOKENS_ACCEPTED: &str = "hook_layer_tokens_accepted_total";
/// Requests the layer refused; label `reason`.
#[cfg(feature = "metrics")]
pub const TOKENS_REFUSED: &str = "hook_layer_tokens_refused_total";
/// Response tokens signed; labels `tenant` and `outcome`.
#[cfg(feature = "metrics")]
pub const COMPLETIONS: &str = "hook_layer_completions_total";
/// Completions that could not be signed; label `kind`.
#[cfg(feature = "metrics")]
pub const COMPLETION_ERRORS: &str = "hook_layer_completion_errors_total";
/// Attempts asked of an attempt limiter; labels `limiter` and `outcome`.
#[cfg(feature = "metrics")]
pub const ATTEMPTS: &str = "hook_layer_attempts_total";
/// The attempt store's round trip, in seconds; label `limiter`.
#[cfg(feature = "metrics")]
pub const STORE_DURATION: &str = "hook_layer_store_duration_seconds";

#[cfg(feature = "metrics")]
use std::sync::OnceLock;

#[cfg(feature = "metrics")]
use metrics::{Counter, counter};

/// The layer's per-tenant counters, registered on first use.
#[derive(Clone, Default)]
pub(crate) struct LayerMetrics {
    #[cfg(feature = "metrics")]
    handles: OnceLock<TenantCounters>,
}

#[cfg(feature = "metrics")]
#[derive(Clone)]
struct TenantCounters {
    /// Per tenant, in the layer's order.
    accepted: Box<[Counter]>,
    completed: Box<[Counter]>,
    failed: Box<[Counter]>,
}

impl LayerMetrics {
    /// `labels` gives each tenant's label, in the layer's order; it is
    /// called once, on the first record.
    #[cfg(feature = "metrics")]
    fn handles<I>(&self, labels: impl FnOnce() -> I) -> &TenantCounters
    where
        I: IntoIterator<Item = String>,
    {
        self.handles.get_or_init(|| {
            let labels: Vec<String> = labels().into_iter().collect();
            let each = |register: &dyn Fn(String) -> Counter| -> Box<[Counter]> {
                labels.iter().cloned().map(register).collect()
            };
            TenantCounters {
                accepted: each(&|tenant| counter!(TOKENS_ACCEPTED, "tenant" => tenant)),
                completed: each(
                    &|tenant| counter!(COMPLETIONS, "tenant" => tenant, "outcome" => "completed"),
                ),
                failed: each(
                    &|tenant| counter!(COMPLETIONS, "tenant" => tenant, "outcome" => "failed"),
                ),
            }
        })
    }

    /// A token of tenant number `tenant` was accepted.
    #[inline]
    pub(crate) fn accepted<I>(&self, tenant: usize, labels: impl FnOnce() -> I)
    where
        I: IntoIterator<Item = String>,
    {
        #[cfg(feature = "metrics")]
        if let Some(counter) = self.handles(labels).accepted.get(tenant) {
            counter.increment(1);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (tenant, labels);
    }

    /// A response token was signed for tenant number `tenant`.
    #[inline]
    pub(crate) fn completed<I>(&self, tenant: usize, failed: bool, labels: impl FnOnce() -> I)
    where
        I: IntoIterator<Item = String>,
    {
        #[cfg(feature = "metrics")]
        {
            let handles = self.handles(labels);
            let counters = if failed {
                &handles.failed
            } else {
                &handles.completed
            };
            if let Some(counter) = counters.get(tenant) {
                counter.increment(1);
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (tenant, failed, labels);
    }
}

/// A request was refused for `reason` (a rejection code).
#[inline]
pub(crate) fn refused(reason: &'static str) {
    #[cfg(feature = "metrics")]
    counter!(TOKENS_REFUSED, "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// A completion could not be signed, for `kind`.
#[inline]
pub(crate) fn completion_error(kind: &'static str) {
    #[cfg(feature = "metrics")]
    counter!(COMPLETION_ERRORS, "kind" => kind).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// An attempt limiter's counters and histogram, registered on first use.
#[cfg(feature = "attempts")]
#[derive(Default)]
pub(crate) struct LimiterMetrics {
    #[cfg(feature = "metrics")]
    handles: OnceLock<LimiterHandles>,
}

#[cfg(all(feature = "attempts", feature = "metrics"))]
struct LimiterHandles {
    /// By [`AttemptOutcome`], in its order.
    outcomes: [Counter; 6],
    store: metrics::Histogram,
}

/// How an attempt ended, for [`ATTEMPTS`]'s `outcome` label.
#[cfg(feature = "attempts")]
#[derive(Clone, Copy)]
pub(crate) enum AttemptOutcome {
    Granted = 0,
    Exhausted = 1,
    StoreError = 2,
    SessionOver = 3,
    SessionTooLong = 4,
    SessionBeforeStore = 5,
}

#[cfg(all(feature = "attempts", feature = "metrics"))]
const OUTCOMES: [&str; 6] = [
    "granted",
    "exhausted",
    "store_error",
    "session_over",
    "session_too_long",
    "session_before_store",
];

#[cfg(feature = "attempts")]
impl LimiterMetrics {
    #[cfg(feature = "metrics")]
    fn handles(&self, limiter: &str) -> &LimiterHandles {
        self.handles.get_or_init(|| LimiterHandles {
            outcomes: OUTCOMES.map(
                |outcome| counter!(ATTEMPTS, "limiter" => limiter.to_owned(), "outcome" => outcome),
            ),
            store: metrics::histogram!(STORE_DURATION, "limiter" => limiter.to_owned()),
        })
    }

    /// An attempt of limiter `limiter` ended with `outcome`.
    #[inline]
    pub(crate) fn attempt(&self, limiter: &str, outcome: AttemptOutcome) {
        #[cfg(feature = "metrics")]
        self.handles(limiter).outcomes[outcome as usize].increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = (limiter, outcome);
    }

    /// The store took `elapsed` to answer one attempt.
    #[cfg(feature = "metrics")]
    #[inline]
    pub(crate) fn store_round_trip(&self, limiter: &str, elapsed: std::time::Duration) {
        self.handles(limiter).store.record(elapsed.as_secs_f64());
    }
}
