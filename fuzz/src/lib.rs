//! What the fuzz targets share: one secret, one fixed clock, one layer, and
//! the invariants every accepted session must satisfy.

use std::time::{Duration, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer, Tenant};
use sha2::Sha256;

/// The fuzzing key (32 bytes). The seed corpus is signed with it.
pub const SECRET: &[u8; 32] = b"fuzzing secret, exactly 32 bytes";

/// 2025-11-29T13:20:00Z: the clock every target runs at. Seeds are issued
/// at this time and expire 1200 s later.
pub const NOW: u64 = 1_764_422_400;

/// The secret.
pub fn secret() -> HookSecret {
    HookSecret::from_bytes(SECRET).expect("a 32-byte secret")
}

/// The layer under test: issuer and audience checked, fixed clock.
pub fn layer() -> InteractionHookLayer {
    InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

/// A layer serving two tenants: the fuzzing tenant (with a previous
/// secret too) and another with a secret of its own. Tokens are signed with
/// [`SECRET`], so only the fuzzing tenant can accept them.
pub fn tenants_layer() -> InteractionHookLayer {
    InteractionHookLayer::with_tenants([
        Tenant::new(
            "https://other.vii.au01.mattr.global",
            HookSecret::from_bytes(&[0x33; 32]).expect("a 32-byte secret"),
        )
        .audience("https://hook.example.com/other"),
        Tenant::new(MockIssuer::TENANT, secret())
            .previous_secret(HookSecret::from_bytes(&[0x44; 32]).expect("a 32-byte secret"))
            .audience(MockIssuer::HOOK_URL),
    ])
    .expect("two distinct tenants")
    .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

/// A MATTR VII stand-in on the same secret and clock.
pub fn issuer() -> MockIssuer {
    MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

/// The oracle for anything the layer accepts: the token really is signed
/// with the secret (checked by an independent verifier), and the session
/// obeys every documented rule.
pub fn check_accepted(session: &HookSession) {
    let token = session.token();
    let (signing_input, signature) = token.rsplit_once('.').expect("three segments");
    // HMAC-SHA256 straight from the RustCrypto crates, not through the
    // layer's code. A tag that is not canonical base64url is no tag.
    let signed =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .is_ok_and(|tag| {
                <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET)
                    .expect("any key length")
                    .chain_update(signing_input.as_bytes())
                    .verify_slice(&tag)
                    .is_ok()
            });
    assert!(signed, "accepted a token without a valid signature");
    for segment in signing_input.split('.') {
        let json =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, segment)
                .expect("base64url");
        let text = std::str::from_utf8(&json).expect("accepted JSON that is not UTF-8");
        assert!(
            serde_json::from_str::<UniqueNames>(text).is_ok(),
            "accepted a segment that is not a JSON object with unique names"
        );
    }
    assert!(!session.state().is_empty(), "accepted an empty state");
    assert_eq!(
        session.secret_index(),
        0,
        "accepted a token signed with another secret"
    );
    // Compared as URLs: the session keeps the token's spelling.
    let same_url = |a: &str, b: &str| url::Url::parse(a).ok() == Some(url::Url::parse(b).unwrap());
    assert!(
        same_url(session.issuer(), MockIssuer::TENANT),
        "iss {}",
        session.issuer()
    );
    assert!(
        same_url(session.audience(), MockIssuer::HOOK_URL),
        "aud {}",
        session.audience()
    );
    let url = session.redirect_url();
    // This layer allows no loopback redirects, so only https to a named,
    // non-local host.
    assert_eq!(url.scheme(), "https", "redirect to {url}");
    let host = url.host_str().unwrap_or_default();
    let local = host.trim_end_matches('.');
    assert!(
        matches!(url.host(), Some(url::Host::Domain(_)))
            && local != "localhost"
            && !local.ends_with(".localhost"),
        "redirect to {url}"
    );
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "userinfo in {url}"
    );
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let leeway = Duration::from_secs(30);
    if let Some(expires) = session.expires_at() {
        assert!(now < expires + leeway, "accepted an expired token");
    } else {
        let issued = session.issued_at().expect("exp or iat");
        assert!(
            now <= issued + Duration::from_secs(1200) + leeway,
            "accepted a stale token"
        );
    }
    if let Some(issued) = session.issued_at() {
        assert!(issued <= now + leeway, "accepted a token from the future");
    }
}

/// A JSON object whose member names are all different; values are skipped,
/// not read (numbers beyond f64 are valid JSON in claims nobody reads).
struct UniqueNames;

impl<'de> serde::Deserialize<'de> for UniqueNames {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueNames;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object with unique names")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueNames, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if !seen.insert(name) {
                        return Err(serde::de::Error::custom("repeated name"));
                    }
                }
                Ok(UniqueNames)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
