//! The tenants a hook serves and the secrets each signs with: secret
//! rotation, and several MATTR VII tenants behind one hook.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::expected::Expected;
use crate::secret::HookSecret;

/// One MATTR VII tenant behind the hook: its URL (the tokens' `iss`), this
/// hook's URL as configured on it (their `aud`), and the secrets it signs
/// with, the current one first.
///
/// A layer built with [`InteractionHookLayer::new`](crate::InteractionHookLayer::new)
/// serves one tenant; [`InteractionHookLayer::with_tenants`](crate::InteractionHookLayer::with_tenants)
/// serves several, choosing the tenant by the token's `iss` before the
/// signature is checked (the issuer chooses which secrets to try; it grants
/// nothing).
///
/// ```
/// use hook_layer::{HookSecret, Tenant};
///
/// # let current = HookSecret::from_bytes(&[1; 32])?;
/// # let previous = HookSecret::from_bytes(&[2; 32])?;
/// let staging = Tenant::new("https://staging.vii.au01.mattr.global", current)
///     .audience("https://hook.example.com/interaction")
///     // Still accepted while journeys that began before the rotation end.
///     .previous_secret(previous)
///     .name("staging");
/// assert_eq!(staging.secret_count(), 2);
/// # Ok::<(), hook_layer::SecretError>(())
/// ```
///
/// `Debug` shows the URLs and how many secrets, never a secret.
#[derive(Clone)]
pub struct Tenant {
    pub(crate) issuer: Option<Expected>,
    pub(crate) audience: Option<Expected>,
    pub(crate) secrets: Vec<HookSecret>,
    pub(crate) name: Option<Arc<str>>,
}

impl Tenant {
    /// The tenant at `issuer` (e.g. `https://tenant.vii.au01.mattr.global`,
    /// compared with `iss` as a URL), signing with `secret`.
    pub fn new(issuer: impl Into<String>, secret: HookSecret) -> Self {
        Self {
            issuer: Some(Expected::new(issuer.into())),
            ..Self::any_issuer(secret)
        }
    }

    /// A tenant whose issuer is not checked: the single tenant of
    /// `InteractionHookLayer::new` until `.issuer(..)` is set.
    pub(crate) fn any_issuer(secret: HookSecret) -> Self {
        Self {
            issuer: None,
            audience: None,
            secrets: vec![secret],
            name: None,
        }
    }

    /// Requires `aud` to name this hook's URL as configured on this tenant
    /// (compared as a URL). Without it, any audience is accepted.
    #[must_use]
    pub fn audience(mut self, hook_url: impl Into<String>) -> Self {
        self.audience = Some(Expected::new(hook_url.into()));
        self
    }

    /// Also accepts tokens signed with `secret`, an earlier secret of this
    /// tenant, during a rotation. Secrets are tried in the order given, the
    /// current one first; the response to a token is signed with the secret
    /// that verified it, so a journey that began before the rotation ends
    /// as it began.
    #[must_use]
    pub fn previous_secret(mut self, secret: HookSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// A name for the tenant, for handlers that vary the journey per
    /// tenant and for logs (e.g. `"staging"`, or a customer's name).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into().into());
        self
    }

    /// The tenant URL as configured; empty for a layer that checks no
    /// issuer.
    pub fn issuer(&self) -> &str {
        self.issuer.as_ref().map_or("", Expected::value)
    }

    /// The hook URL this tenant is configured with, if one was set.
    pub fn hook_url(&self) -> Option<&str> {
        self.audience.as_ref().map(Expected::value)
    }

    /// The name given with [`Tenant::name`], if any.
    pub fn tenant_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// How many secrets the tenant's tokens may be signed with.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }
}

/// Refuses two tenants with one secret. Secrets are compared by a tag over
/// a fixed label (key material itself is never compared or kept), once,
/// when the layer is built.
fn shared_secret(tenants: &[Tenant]) -> Result<(), TenantError> {
    let mut owners: HashMap<[u8; crate::jwt::TAG_LEN], usize> = HashMap::new();
    for (position, tenant) in tenants.iter().enumerate() {
        for secret in &tenant.secrets {
            // A backend that cannot tag here would fail every request too;
            // that is reported there, not as a configuration error.
            let Ok(tag) = secret
                .keys()
                .tag(b"hook-layer: is this secret another tenant's?")
            else {
                continue;
            };
            match owners.insert(tag, position) {
                Some(other) if other != position => {
                    return Err(TenantError::SharedSecret {
                        first: tenants[other].issuer().to_owned(),
                        second: tenant.issuer().to_owned(),
                    });
                }
                _ => {}
            }
        }
    }
    Ok(())
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

/// Why tenants could not make a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantError {
    /// No tenant was given.
    Empty,
    /// Two tenants have the same issuer (compared as URLs): a token could
    /// not tell them apart.
    DuplicateIssuer(String),
    /// Two tenants share a secret: whoever holds it could sign tokens for
    /// either, so the issuer would no longer bind a token to one tenant.
    /// Each tenant of MATTR VII has a secret of its own.
    SharedSecret {
        /// The issuer of the first tenant holding it.
        first: String,
        /// The issuer of the second.
        second: String,
    },
}

impl fmt::Display for TenantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a hook needs at least one tenant"),
            Self::DuplicateIssuer(issuer) => {
                write!(f, "two tenants have the issuer {issuer}")
            }
            Self::SharedSecret { first, second } => write!(
                f,
                "the tenants {first} and {second} share a secret; each needs its own"
            ),
        }
    }
}

impl std::error::Error for TenantError {}

/// The tenants of a layer, with an index from issuer to tenant when there
/// are several.
#[derive(Clone)]
pub(crate) struct Tenants {
    pub(crate) list: Vec<Tenant>,
    /// Each issuer as configured and as its URL serializes, to its tenant.
    index: HashMap<Box<str>, usize>,
}

impl Tenants {
    pub(crate) fn one(tenant: Tenant) -> Self {
        Self {
            list: vec![tenant],
            index: HashMap::new(),
        }
    }

    pub(crate) fn several(list: Vec<Tenant>) -> Result<Self, TenantError> {
        if list.is_empty() {
            return Err(TenantError::Empty);
        }
        let mut index = HashMap::new();
        let mut canonical = HashMap::new();
        for (position, tenant) in list.iter().enumerate() {
            let issuer = tenant.issuer();
            let key = Url::parse(issuer).map_or_else(|_| issuer.to_owned(), String::from);
            if canonical.insert(key.clone(), position).is_some() {
                return Err(TenantError::DuplicateIssuer(issuer.to_owned()));
            }
            index.insert(issuer.into(), position);
            index.insert(key.into(), position);
        }
        shared_secret(&list)?;
        Ok(Self { list, index })
    }

    pub(crate) fn is_single(&self) -> bool {
        self.list.len() == 1
    }

    /// The tenant whose issuer is `iss`: by its spelling, or else as a URL.
    pub(crate) fn find(&self, iss: &str) -> Option<usize> {
        if let Some(&position) = self.index.get(iss) {
            return Some(position);
        }
        if !crate::url_spelling::plain_url(iss) {
            return None;
        }
        let url = Url::parse(iss).ok()?;
        self.index.get(url.as_str()).copied()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::jwt::HMACS;
    use crate::testing::{MockIssuer, Outcome};
    use crate::{HookSession, InteractionHookLayer, Rejection};

    const NOW: u64 = 1_764_422_400;
    const A: &str = "https://a.vii.au01.mattr.global";
    const B: &str = "https://b.vii.au01.mattr.global";
    const HOOK_A: &str = "https://hook.example.com/a";
    const HOOK_B: &str = "https://hook.example.com/b";

    fn secret(byte: u8) -> HookSecret {
        HookSecret::from_bytes(&[byte; 32]).unwrap()
    }

    fn at() -> impl Fn() -> std::time::SystemTime + Clone + Send + Sync + 'static {
        || UNIX_EPOCH + Duration::from_secs(NOW)
    }

    /// MATTR VII as tenant `issuer`, signing with `key`.
    fn mattr(key: &HookSecret, issuer: &str, hook_url: &str) -> MockIssuer {
        MockIssuer::new(key.clone())
            .tenant(issuer)
            .hook_url(hook_url)
            .clock(at())
    }

    /// HMACs computed on this thread while `run` runs.
    fn hmacs<T>(run: impl FnOnce() -> T) -> (T, usize) {
        let before = HMACS.with(std::cell::Cell::get);
        let result = run();
        (result, HMACS.with(std::cell::Cell::get) - before)
    }

    #[test]
    fn a_rotation_accepts_the_previous_secret_and_answers_with_it() {
        let (current, previous, stranger) = (secret(1), secret(2), secret(3));
        let layer = InteractionHookLayer::new(current.clone())
            .previous_secret(previous.clone())
            .issuer(A)
            .audience(HOOK_A)
            .clock(at());

        let new_journey = mattr(&current, A, HOOK_A).session().token();
        let (session, cost) = hmacs(|| layer.verify_token(&new_journey));
        let session: HookSession = session.unwrap();
        assert_eq!((session.secret_index(), cost), (0, 1), "current first");

        let old_journey = mattr(&previous, A, HOOK_A);
        let (session, cost) = hmacs(|| layer.verify_token(&old_journey.session().token()));
        let session: HookSession = session.unwrap();
        assert_eq!((session.secret_index(), cost), (1, 2));
        // The journey that began under the old secret ends under it.
        let redirect = session.fail("Declined.").redirect().unwrap();
        let read = old_journey.read_redirect(redirect.url()).unwrap();
        assert_eq!(
            read.outcome,
            Outcome::Failed {
                message: "Declined.".into()
            }
        );
        assert!(
            mattr(&current, A, HOOK_A)
                .read_redirect(redirect.url())
                .is_err()
        );

        let forged = mattr(&stranger, A, HOOK_A).session().token();
        let (refused, cost) = hmacs(|| layer.verify_token(&forged).map(|_: HookSession| ()));
        assert_eq!((refused.unwrap_err(), cost), (Rejection::BadSignature, 2));
    }

    fn two_tenants() -> InteractionHookLayer {
        InteractionHookLayer::with_tenants([
            Tenant::new(A, secret(1)).audience(HOOK_A).name("a"),
            Tenant::new(B, secret(2))
                .previous_secret(secret(3))
                .audience(HOOK_B)
                .name("b"),
        ])
        .unwrap()
        .clock(at())
    }

    #[test]
    fn the_issuer_chooses_the_tenant() {
        let layer = two_tenants();
        for (key, issuer, hook, name, index) in [
            (secret(1), A, HOOK_A, "a", 0),
            (secret(2), B, HOOK_B, "b", 0),
            (secret(3), B, HOOK_B, "b", 1),
            // Another spelling of B's URL still names B.
            (
                secret(2),
                "https://B.vii.au01.mattr.global:443/",
                HOOK_B,
                "b",
                0,
            ),
        ] {
            let issuer_mock = mattr(&key, issuer, hook);
            let session: HookSession = layer.verify_token(&issuer_mock.session().token()).unwrap();
            assert_eq!(session.tenant().tenant_name(), Some(name), "{issuer}");
            assert_eq!(session.secret_index(), index);
            assert_eq!(session.issuer(), issuer, "the token's spelling is kept");
            // The response is addressed and signed for that tenant.
            let redirect = session.complete().redirect().unwrap();
            assert!(issuer_mock.read_redirect(redirect.url()).is_ok());
        }
    }

    #[test]
    fn tenants_cannot_be_confused() {
        let layer = two_tenants();
        let refuse = |key: u8, issuer: &str, hook: &str| {
            let token = mattr(&secret(key), issuer, hook).session().token();
            hmacs(|| {
                layer
                    .verify_token(&token)
                    .map(|_: HookSession| ())
                    .unwrap_err()
            })
        };
        // A's secret, B's issuer: B's secrets are tried, and fail.
        assert_eq!(refuse(1, B, HOOK_B), (Rejection::BadSignature, 2));
        // B's secret, A's issuer.
        assert_eq!(refuse(2, A, HOOK_A), (Rejection::BadSignature, 1));
        // Right secret and issuer, but the other tenant's hook URL.
        assert_eq!(refuse(1, A, HOOK_B).0, Rejection::WrongAudience);
        // An unknown issuer costs no HMAC at all.
        assert_eq!(
            refuse(1, "https://c.vii.au01.mattr.global", HOOK_A),
            (Rejection::WrongIssuer, 0)
        );
        let no_issuer = mattr(&secret(1), A, HOOK_A).session().remove("iss").token();
        let (refused, cost) = hmacs(|| layer.verify_token(&no_issuer).map(|_: HookSession| ()));
        assert_eq!(
            (refused.unwrap_err(), cost),
            (Rejection::MissingClaim("iss"), 0)
        );
    }

    #[test]
    fn tenants_must_be_distinct_and_present() {
        assert_eq!(
            InteractionHookLayer::with_tenants([]).unwrap_err(),
            TenantError::Empty
        );
        let same = InteractionHookLayer::with_tenants([
            Tenant::new(A, secret(1)),
            Tenant::new("https://A.vii.au01.mattr.global/", secret(2)),
        ]);
        assert!(matches!(same, Err(TenantError::DuplicateIssuer(_))));
        // One secret for two tenants, even as a previous one, would let its
        // holder sign for both.
        let shared = InteractionHookLayer::with_tenants([
            Tenant::new(A, secret(1)),
            Tenant::new(B, secret(2)).previous_secret(secret(1)),
        ]);
        assert_eq!(
            shared.unwrap_err(),
            TenantError::SharedSecret {
                first: A.to_owned(),
                second: B.to_owned()
            }
        );
        // A tenant may list a secret twice; that is its own business.
        assert!(
            InteractionHookLayer::with_tenants([
                Tenant::new(A, secret(1)).previous_secret(secret(1)),
                Tenant::new(B, secret(2)),
            ])
            .is_ok()
        );
    }

    #[test]
    #[should_panic(expected = "set it on each Tenant instead")]
    fn layer_wide_tenant_settings_are_refused_with_several_tenants() {
        let _ = two_tenants().issuer(A);
    }

    #[test]
    fn debug_shows_no_secret() {
        let debug = format!("{:?}", two_tenants());
        assert!(debug.contains("secrets: 2") && debug.contains(B), "{debug}");
        assert!(
            !debug.contains("[1, 1") && !debug.contains("\\u{1}"),
            "{debug}"
        );
    }
}
