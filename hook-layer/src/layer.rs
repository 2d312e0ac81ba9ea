//! The tower `Layer` and its configuration.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tower_layer::Layer;
use url::Url;

use crate::clock::Clock;
use crate::expected::Expected;
use crate::policy::Policy;
use crate::rejection::{DefaultOnRejection, Rejection};
use crate::secret::HookSecret;
use crate::service::InteractionHook;
use crate::session::{ClaimsMap, HookSession};
use crate::tenant::{Tenant, TenantError, Tenants};
use crate::token_source::TokenSource;

/// Verifies the MATTR VII session token on every request and hands the
/// handler a typed [`HookSession`].
///
/// The layer reads the session token from where its
/// [`token_source`](Self::token_source) says (by default the
/// `session_token` query parameter, as MATTR VII sends it), verifies the
/// HS256 JWT with the hook secret and checks its claims. A request that
/// passes reaches the inner service with the [`HookSession<C>`] in its
/// extensions; any other gets the [rejection response](crate::OnRejection)
/// and never reaches it.
///
/// The inner service may use any response body type `B` that the
/// rejection response can build: `B: From<String>` for the default one
/// and [`JsonOnRejection`](crate::JsonOnRejection) (`String`, axum's
/// `Body`, `http_body_util::Full<Bytes>`).
///
/// Set the issuer and audience in production: they bind tokens to your
/// tenant and to this hook.
///
/// ```
/// use hook_layer::{HookSecret, InteractionHookLayer};
/// use std::time::Duration;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Profile {
///     email: String,
/// }
///
/// let secret: HookSecret = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=".parse()?;
/// let layer = InteractionHookLayer::new(secret)
///     .issuer("https://tenant.vii.au01.mattr.global")
///     .audience("https://hook.example.com/interaction")
///     .leeway(Duration::from_secs(10))
///     .claims::<Profile>();
/// # Ok::<(), hook_layer::SecretError>(())
/// ```
#[must_use]
pub struct InteractionHookLayer<C = ClaimsMap, R = DefaultOnRejection> {
    policy: Arc<Policy>,
    on_rejection: R,
    _claims: PhantomData<fn() -> C>,
}

impl InteractionHookLayer {
    /// A layer verifying tokens signed with `secret`, with the defaults:
    /// issuer and audience unchecked, 30 s leeway, 1200 s maximum age for
    /// tokens without `exp`, 4096-byte token cap, `session_token`
    /// parameter, any https redirect origin, the system clock, 60 s
    /// response tokens, 2000-character redirect URLs, claims as a JSON map.
    pub fn new(secret: HookSecret) -> Self {
        Self::from_tenants(Tenants::one(Tenant::any_issuer(secret)))
    }

    /// A layer serving several MATTR VII tenants, each with its own issuer,
    /// hook URL and secrets (see [`Tenant`]). A token's `iss` chooses the
    /// tenant before anything else is checked; an unknown issuer is refused
    /// ([`Rejection::WrongIssuer`]) without any HMAC work, and a token is
    /// accepted only with a secret of the tenant it names. The session says
    /// which tenant it belongs to ([`HookSession::tenant`]).
    ///
    /// ```
    /// use hook_layer::{HookSecret, InteractionHookLayer, Tenant};
    ///
    /// # let (staging_secret, production_secret) =
    /// #     (HookSecret::from_bytes(&[1; 32])?, HookSecret::from_bytes(&[2; 32])?);
    /// let layer = InteractionHookLayer::with_tenants([
    ///     Tenant::new("https://staging.vii.au01.mattr.global", staging_secret)
    ///         .audience("https://hook.example.com/interaction")
    ///         .name("staging"),
    ///     Tenant::new("https://acme.vii.au01.mattr.global", production_secret)
    ///         .audience("https://hook.example.com/interaction")
    ///         .name("production"),
    /// ])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// No tenant, two with the same issuer (compared as URLs), or two that
    /// share a secret.
    pub fn with_tenants(tenants: impl IntoIterator<Item = Tenant>) -> Result<Self, TenantError> {
        let tenants = Tenants::several(tenants.into_iter().collect())?;
        Ok(Self::from_tenants(tenants))
    }

    fn from_tenants(tenants: Tenants) -> Self {
        Self {
            policy: Arc::new(Policy::new(tenants)),
            on_rejection: DefaultOnRejection,
            _claims: PhantomData,
        }
    }
}

impl<C, R> InteractionHookLayer<C, R> {
    fn with(mut self, change: impl FnOnce(&mut Policy)) -> Self {
        let policy = Arc::make_mut(&mut self.policy);
        change(policy);
        // Counters registered for the old settings (tenant labels) are not
        // this layer's: register anew on its first request.
        policy.metrics = Default::default();
        self
    }

    /// The single tenant of a layer made by [`InteractionHookLayer::new`].
    ///
    /// Panics on a layer with several tenants: there, each [`Tenant`]
    /// carries its own issuer, audience and secrets, and a layer-wide
    /// setting would be ambiguous. A configuration error, caught when the
    /// layer is built.
    fn with_tenant(self, method: &str, change: impl FnOnce(&mut Tenant)) -> Self {
        self.with(|policy| {
            assert!(
                policy.tenants.is_single(),
                "InteractionHookLayer::{method}: this layer serves several tenants; \
                 set it on each Tenant instead"
            );
            change(&mut policy.tenants.list[0]);
        })
    }

    /// Requires `iss` to be `issuer`: the tenant URL, e.g.
    /// `https://tenant.vii.au01.mattr.global`.
    ///
    /// The two are compared as URLs, so the spelling of the scheme and host,
    /// an explicit default port (`:443`) and a trailing `/` after the host
    /// do not matter; any other difference does. A claim is compared as a
    /// URL only when it is written plainly (ASCII, no whitespace, control
    /// characters, backslashes, percent-escapes or dot segments, and the
    /// host right after `://`); otherwise it must equal the configured value
    /// exactly. The session records the token's own spelling, which the
    /// response echoes back.
    ///
    /// # Panics
    ///
    /// On a layer built [`with_tenants`](InteractionHookLayer::with_tenants),
    /// whose tenants each have their own.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.with_tenant("issuer", |tenant| {
            tenant.issuer = Some(Expected::new(issuer));
        })
    }

    /// Requires `aud` (a string, or an array) to contain `audience`: this
    /// hook's URL as configured on the tenant, e.g.
    /// `https://hook.example.com/interaction`, or a bare origin such as
    /// `https://abcd.ngrok.app` for a hook mounted at the root.
    ///
    /// Compared as URLs, like [`issuer`](Self::issuer): `https://abcd.ngrok.app`
    /// and `https://abcd.ngrok.app/` are the same hook URL, while
    /// `https://hook.example.com/interaction/` (a trailing slash after a
    /// path) is not `https://hook.example.com/interaction`.
    ///
    /// # Panics
    ///
    /// On a layer built [`with_tenants`](InteractionHookLayer::with_tenants),
    /// whose tenants each have their own.
    pub fn audience(self, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        self.with_tenant("audience", |tenant| {
            tenant.audience = Some(Expected::new(audience));
        })
    }

    /// Also accepts tokens signed with `secret`, an earlier hook secret,
    /// while a rotation is under way: call once per previous secret, most
    /// recent first. The current secret (the one given to `new`) is tried
    /// first. The response to a token is signed with the secret that
    /// verified it, so a journey that began before the rotation completes
    /// after it. The [security guide](crate::guide::security) has the
    /// rotation step by step.
    ///
    /// # Panics
    ///
    /// On a layer built [`with_tenants`](InteractionHookLayer::with_tenants):
    /// use [`Tenant::previous_secret`] there.
    pub fn previous_secret(self, secret: HookSecret) -> Self {
        self.with_tenant("previous_secret", |tenant| tenant.secrets.push(secret))
    }

    /// Clock-skew allowance for `exp`, `nbf`, `iat` and the maximum age
    /// (default 30 s). Whole seconds; fractions are dropped.
    pub fn leeway(self, leeway: Duration) -> Self {
        self.with(|policy| policy.leeway = leeway.as_secs())
    }

    /// The maximum age, from `iat`, of a token that has no `exp`
    /// (default 1200 s, MATTR VII's example session timeout). A token with
    /// `exp` is governed by its `exp`.
    pub fn max_age(self, max_age: Duration) -> Self {
        self.with(|policy| policy.max_age = max_age.as_secs())
    }

    /// Accepts tokens that carry neither `exp` nor `iat`, which are refused
    /// by default ([`Rejection::NoLifetime`]).
    ///
    /// Use it only if your tenant turns out to send such tokens: MATTR's
    /// own sample verifier would accept them, but nothing then bounds how
    /// long a token stays usable. A session URL that leaks (browser
    /// history, a shared screen, a proxy log) would open the hook, with the
    /// user's claims, for as long as the hook secret lives; the response
    /// would still be refused by MATTR VII once its session is over.
    /// Tokens with `exp` or `iat` are still held to them. For such a
    /// session, sealed values and attempt counts (features `seal` and
    /// `attempts`) last a day from when they are made, since the session
    /// itself has no end: an attempt limit then holds per day.
    pub fn allow_tokens_without_lifetime(self) -> Self {
        self.with(|policy| policy.allow_no_lifetime = true)
    }

    /// The longest token parameter accepted, in bytes as sent (default
    /// 4096). Longer ones are refused before any decoding.
    pub fn max_token_length(self, max: usize) -> Self {
        self.with(|policy| policy.max_token_len = max)
    }

    /// The query parameter the incoming token is read from (default
    /// `session_token`, as MATTR VII sends it). The response token always
    /// goes back as `session_token`.
    ///
    /// # Panics
    ///
    /// If `name` is empty or has a character that cannot appear unencoded
    /// in a query parameter name (`&`, `=`, `#`, `%`, `+`, whitespace or
    /// controls): such a layer could never find its token. This is a
    /// configuration error, caught when the layer is built.
    pub fn query_param(self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty()
                && !name
                    .chars()
                    .any(|c| "&=#%+".contains(c) || c.is_whitespace() || c.is_control()),
            "InteractionHookLayer::query_param: {name:?} cannot be a query parameter name"
        );
        self.with(|policy| policy.param = name)
    }

    /// Where the token is read from: the query parameter (the default, as
    /// MATTR VII redirects the browser), an `Authorization: Bearer` header
    /// (a native app's calls to its backend), or either. With a source that
    /// reads the header, a request carrying different tokens in the two
    /// places is refused, and refusals carry an RFC 6750
    /// `WWW-Authenticate: Bearer` challenge.
    ///
    /// ```
    /// use hook_layer::{HookSecret, InteractionHookLayer, TokenSource};
    ///
    /// let secret = HookSecret::from_bytes(&[7; 32])?;
    /// // The JSON API a native app calls, token in `Authorization: Bearer`.
    /// let api = InteractionHookLayer::new(secret).token_source(TokenSource::Bearer);
    /// # Ok::<(), hook_layer::SecretError>(())
    /// ```
    pub fn token_source(self, source: TokenSource) -> Self {
        self.with(|policy| policy.source = source)
    }

    /// Allows `redirectUrl` to point at `origin`'s origin (scheme, host and
    /// port; any path). Call once per origin. Once any origin is allowed,
    /// all others are refused; by default any https origin is accepted.
    pub fn allow_redirect_origin(self, origin: &Url) -> Self {
        let origin = origin.origin();
        self.with(|policy| policy.redirect_origins.push(origin))
    }

    /// Allows `redirectUrl` to point at this machine (`localhost`,
    /// `127.0.0.0/8`, `[::1]`), over http or https: for development and
    /// tests, e.g. a simulated issuer on `http://127.0.0.1:3000`. Off by
    /// default: MATTR VII never sends the browser to the hook's own machine.
    pub fn allow_loopback_redirects(self) -> Self {
        self.with(|policy| policy.allow_loopback = true)
    }

    /// The source of time for lifetime checks and response tokens.
    pub fn clock(self, clock: impl Clock) -> Self {
        let clock = Arc::new(clock);
        self.with(|policy| policy.clock = clock)
    }

    /// How long a response token is valid (`exp - iat`, default 60 s).
    /// Whole seconds, at least one: a token with `exp == iat` would arrive
    /// already expired.
    pub fn response_lifetime(self, lifetime: Duration) -> Self {
        self.with(|policy| policy.response_lifetime = lifetime.as_secs().max(1))
    }

    /// The longest redirect URL back to MATTR VII, in characters (default
    /// 2000). A completion that would exceed it is an error, never a
    /// truncated redirect.
    pub fn max_redirect_url_length(self, max: usize) -> Self {
        self.with(|policy| policy.max_url_len = max)
    }

    /// Reads the user claims as `C2` instead of a JSON map. A token whose
    /// claims do not deserialize into `C2` is refused
    /// ([`Rejection::ClaimsMismatch`]); an absent `claims` is read as `{}`.
    pub fn claims<C2>(self) -> InteractionHookLayer<C2, R>
    where
        C2: DeserializeOwned + Send + Sync + 'static,
    {
        InteractionHookLayer {
            policy: self.policy,
            on_rejection: self.on_rejection,
            _claims: PhantomData,
        }
    }

    /// Replaces the response to refused requests, e.g. with an HTML page.
    ///
    /// ```
    /// use hook_layer::{HookSecret, InteractionHookLayer, Rejection};
    ///
    /// # let secret = HookSecret::from_bytes(&[7; 32])?;
    /// let layer = InteractionHookLayer::new(secret).on_rejection(|rejection: &Rejection| {
    ///     let page = format!("<h1>Sorry</h1><p>{rejection}. Please start again.</p>");
    ///     let mut response = rejection.to_response(page);
    ///     response.headers_mut().insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    ///     response
    /// });
    /// # Ok::<(), hook_layer::SecretError>(())
    /// ```
    pub fn on_rejection<R2>(self, on_rejection: R2) -> InteractionHookLayer<C, R2> {
        InteractionHookLayer {
            policy: self.policy,
            on_rejection,
            _claims: PhantomData,
        }
    }
}

impl<C, R> InteractionHookLayer<C, R>
where
    C: DeserializeOwned,
{
    /// Verifies the token in `uri`'s query exactly as the service does, for
    /// use outside a tower stack.
    pub fn verify(&self, uri: &http::Uri) -> Result<HookSession<C>, Rejection> {
        self.policy.verify_uri(uri)
    }

    /// Verifies the token of `request` from the configured
    /// [`token_source`](Self::token_source), exactly as the service does.
    pub fn verify_request<B>(
        &self,
        request: &http::Request<B>,
    ) -> Result<HookSession<C>, Rejection> {
        self.policy.verify_request(request.uri(), request.headers())
    }

    /// Verifies a bare token (no query-string handling), e.g. one received
    /// by a native app.
    pub fn verify_token(&self, token: &str) -> Result<HookSession<C>, Rejection> {
        self.policy.verify_token(token)
    }
}

impl<S, C, R: Clone> Layer<S> for InteractionHookLayer<C, R> {
    type Service = InteractionHook<S, C, R>;

    fn layer(&self, inner: S) -> Self::Service {
        InteractionHook::new(inner, Arc::clone(&self.policy), self.on_rejection.clone())
    }
}

impl<C, R: Clone> Clone for InteractionHookLayer<C, R> {
    fn clone(&self) -> Self {
        Self {
            policy: Arc::clone(&self.policy),
            on_rejection: self.on_rejection.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C, R> fmt::Debug for InteractionHookLayer<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractionHookLayer")
            .field("policy", &self.policy)
            .field("claims", &std::any::type_name::<C>())
            .finish_non_exhaustive()
    }
}
