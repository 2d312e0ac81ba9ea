//! The verified session a handler works with.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use crate::policy::Policy;
use crate::secret::HookSecret;
use crate::tenant::Tenant;

/// The user claims type used when none is chosen: the JSON object as sent.
pub type ClaimsMap = serde_json::Map<String, serde_json::Value>;

/// A verified interaction hook session: what MATTR VII sent in the
/// `session_token`, after every check passed.
///
/// The layer puts one into the request extensions of every request it lets
/// through; with the `axum` feature it is also an extractor. `C` is the
/// type of the user claims, chosen with
/// [`InteractionHookLayer::claims`](crate::InteractionHookLayer::claims).
///
/// Cloning is cheap (one reference count). `Debug` shows neither the token
/// nor the claims.
pub struct HookSession<C = ClaimsMap> {
    inner: Arc<Inner<C>>,
}

pub(crate) struct Inner<C> {
    pub(crate) core: SessionCore,
    pub(crate) claims: C,
}

/// Everything but the user claims: what a completion needs, free of `C`.
pub(crate) struct SessionCore {
    pub(crate) state: String,
    /// Shared with the parse this thread remembers (see `url_memo`).
    pub(crate) redirect_url: Arc<Url>,
    /// Shared with the policy when configured, so not copied per request.
    pub(crate) issuer: Arc<str>,
    pub(crate) audience: Arc<str>,
    pub(crate) issued_at: Option<u64>,
    pub(crate) expires_at: Option<u64>,
    pub(crate) token: Box<str>,
    /// Which of the policy's tenants, and which of its secrets verified
    /// the token (and so signs the response and seals state).
    pub(crate) tenant: usize,
    pub(crate) secret: usize,
    pub(crate) policy: Arc<Policy>,
}

impl<C> HookSession<C> {
    pub(crate) fn new(core: SessionCore, claims: C) -> Self {
        Self {
            inner: Arc::new(Inner { core, claims }),
        }
    }

    pub(crate) fn core(&self) -> &SessionCore {
        &self.inner.core
    }

    /// The user claims from the authentication provider, limited to the
    /// names configured for the hook on the tenant.
    pub fn claims(&self) -> &C {
        &self.inner.claims
    }

    /// The opaque `state` that the response must echo (the completion
    /// helpers do that).
    pub fn state(&self) -> &str {
        &self.core().state
    }

    /// Where the browser goes back to when the interaction is over.
    pub fn redirect_url(&self) -> &Url {
        &self.core().redirect_url
    }

    /// The token's `iss`: the tenant URL, as the token spells it. The
    /// response's `aud` echoes it.
    pub fn issuer(&self) -> &str {
        &self.core().issuer
    }

    /// The token's `aud`: the hook URL, as the token spells it. With an
    /// [audience](crate::InteractionHookLayer::audience) configured, the
    /// entry that matched it (compared as URLs, so its spelling may differ
    /// from the configured one); without, the first entry. The response's
    /// `iss` echoes it.
    pub fn audience(&self) -> &str {
        &self.core().audience
    }

    /// The token's `iat`, when present.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.core().issued_at.map(from_unix)
    }

    /// The token's `exp`, when present.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.core().expires_at.map(from_unix)
    }

    /// The raw session token, to carry to the next page of a multi-step
    /// journey (as the layer's query parameter, `session_token` unless
    /// [changed](crate::InteractionHookLayer::query_param), of a link or a
    /// form action), where the layer verifies it again. It passed the
    /// layer's checks, so it holds only base64url characters and dots: it
    /// needs no escaping in a URL or an HTML attribute.
    ///
    /// It is a bearer credential: keep it out of logs and `Referer` headers.
    pub fn token(&self) -> &str {
        &self.core().token
    }

    /// The tenant this session belongs to, chosen by the token's `iss`:
    /// for a handler that varies the journey per tenant (its
    /// [name](Tenant::tenant_name), its [issuer](Tenant::issuer)).
    pub fn tenant(&self) -> &Tenant {
        &self.core().policy.tenants.list[self.core().tenant]
    }

    /// Which of the tenant's secrets verified the token: 0 for the current
    /// one, 1 for the first [previous](Tenant::previous_secret) one, and so
    /// on. The response is signed with that same secret. A handler may log
    /// it to see when journeys under an old secret have ended; no key
    /// material is exposed.
    pub fn secret_index(&self) -> usize {
        self.core().secret
    }
}

impl SessionCore {
    /// The secret that verified the token: it signs the response and seals
    /// the journey's state.
    pub(crate) fn secret(&self) -> &HookSecret {
        &self.policy.tenants.list[self.tenant].secrets[self.secret]
    }
}

impl SessionCore {
    /// The first Unix second at which the layer no longer accepts this
    /// session's token, by its clock: `exp` plus the leeway or, for a token
    /// without `exp`, one second after `iat` plus the maximum age plus the
    /// leeway (the rule in `Policy::check_lifetime`). `None` for a token
    /// with neither (accepted only after `allow_tokens_without_lifetime`),
    /// which nothing bounds.
    #[cfg(any(feature = "seal", feature = "attempts"))]
    pub(crate) fn accepted_until(&self) -> Option<u64> {
        let leeway = self.policy.leeway;
        match (self.expires_at, self.issued_at) {
            (Some(exp), _) => Some(exp.saturating_add(leeway)),
            (None, Some(iat)) => Some(
                iat.saturating_add(self.policy.max_age)
                    .saturating_add(leeway)
                    .saturating_add(1),
            ),
            (None, None) => None,
        }
    }

    /// When sealed state made now expires: when the token stops being
    /// accepted, but at most [`MAX_STATE_LIFETIME`] from now. A sealed value
    /// that expires early fails closed (the holder starts again), so the cap
    /// is safe here; attempt counts cannot be capped that way and refuse
    /// such sessions instead.
    #[cfg(feature = "seal")]
    pub(crate) fn ends_at(&self) -> u64 {
        // However long a token claims to live, what is sealed for it lives
        // at most a day.
        let cap = self.policy.now().saturating_add(MAX_STATE_LIFETIME);
        self.accepted_until().map_or(cap, |end| end.min(cap))
    }

    /// The layer's leeway, in seconds: how far apart it tolerates clocks.
    #[cfg(feature = "attempts")]
    pub(crate) fn leeway(&self) -> u64 {
        self.policy.leeway
    }
}

/// The longest that sealed state lives, in seconds from when it is made: a
/// day, far beyond any interaction hook session.
#[cfg(feature = "seal")]
pub(crate) const MAX_STATE_LIFETIME: u64 = 86_400;

fn from_unix(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

impl<C> Clone for HookSession<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C> fmt::Debug for HookSession<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.core();
        f.debug_struct("HookSession")
            .field("issuer", &core.issuer)
            .field("audience", &core.audience)
            // Origin and path only: the query may hold one-time values.
            .field(
                "redirect_origin",
                &core.redirect_url.origin().ascii_serialization(),
            )
            .field("redirect_path", &core.redirect_url.path())
            .field("issued_at", &core.issued_at)
            .field("expires_at", &core.expires_at)
            .finish_non_exhaustive()
    }
}
