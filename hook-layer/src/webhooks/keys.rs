//! MATTR VII's webhook signing keys: Ed25519 public keys as JWKs
//! (RFC 8037, `"kty": "OKP"`, `"crv": "Ed25519"`), selected by `kid`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;

/// The most keys a set holds; a tenant publishes a few.
pub const MAX_KEYS: usize = 32;

/// A tenant's webhook signing keys, each named by its `kid`, which a
/// signature's `keyid` selects.
///
/// Build it from the tenant's JWKS (`GET https://{tenant}/v1/webhooks/jwks`,
/// public) with [`from_jwks`](Self::from_jwks), or key by key.
///
/// ```
/// use hook_layer::webhooks::WebhookKeys;
///
/// let keys = WebhookKeys::from_jwks(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519",
///     "kid": "test-key-ed25519",
///     "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"}]}"#)?;
/// assert!(keys.contains("test-key-ed25519"));
/// # Ok::<(), hook_layer::webhooks::KeyError>(())
/// ```
#[derive(Clone, Default)]
pub struct WebhookKeys {
    keys: Vec<(String, VerifyingKey)>,
}

/// Why a key or key set was not accepted. Never shows key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a JSON object of the shape of a JWK or JWKS.
    Malformed,
    /// A JWK that is not an Ed25519 public key (`kty` `OKP`, `crv`
    /// `Ed25519`).
    NotEd25519,
    /// A JWK with a private part (`d`): only public keys belong here.
    PrivateKey,
    /// `x` is not 32 bytes of base64url, or not a point on the curve.
    BadKey,
    /// A JWK without a `kid`, or with an empty one.
    MissingKid,
    /// Two keys with one `kid`.
    DuplicateKid,
    /// A JWKS without a single Ed25519 key, or with more than
    /// [`MAX_KEYS`].
    NoUsableKeys,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "not a JWK or JWKS",
            Self::NotEd25519 => "the JWK is not an Ed25519 public key (kty OKP, crv Ed25519)",
            Self::PrivateKey => "the JWK holds a private key; give the public key only",
            Self::BadKey => "the JWK's x is not a valid Ed25519 public key",
            Self::MissingKid => "the JWK has no kid",
            Self::DuplicateKid => "two keys have the same kid",
            Self::NoUsableKeys => "the JWKS has no Ed25519 key, or too many keys",
        })
    }
}

impl std::error::Error for KeyError {}

#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    d: Option<serde::de::IgnoredAny>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

impl WebhookKeys {
    /// An empty set, to add keys to.
    pub fn new() -> Self {
        Self::default()
    }

    /// The Ed25519 keys of a JWKS (`{"keys": [...]}`). Keys of other types
    /// are skipped; a set with none, an Ed25519 key that is invalid or has
    /// no `kid`, or two keys with one `kid`, is refused.
    pub fn from_jwks(json: &str) -> Result<Self, KeyError> {
        let jwks: Jwks = serde_json::from_str(json).map_err(|_| KeyError::Malformed)?;
        if jwks.keys.len() > MAX_KEYS {
            return Err(KeyError::NoUsableKeys);
        }
        let mut keys = Self::new();
        for value in jwks.keys {
            let jwk: Jwk = serde_json::from_value(value).map_err(|_| KeyError::Malformed)?;
            match keys.add(jwk) {
                Err(KeyError::NotEd25519) => continue,
                other => other?,
            }
        }
        if keys.keys.is_empty() {
            return Err(KeyError::NoUsableKeys);
        }
        Ok(keys)
    }

    /// Adds one JWK, given as JSON.
    pub fn with_jwk(mut self, json: &str) -> Result<Self, KeyError> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|_| KeyError::Malformed)?;
        self.add(jwk)?;
        Ok(self)
    }

    /// Adds one key from its 32 bytes.
    pub fn with_key(mut self, kid: &str, public_key: &[u8; 32]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::BadKey)?;
        self.insert(kid, key)?;
        Ok(self)
    }

    /// Whether a key with this `kid` is in the set.
    pub fn contains(&self, kid: &str) -> bool {
        self.get(kid).is_some()
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key)
    }

    fn add(&mut self, jwk: Jwk) -> Result<(), KeyError> {
        if jwk.kty.as_deref() != Some("OKP") || jwk.crv.as_deref() != Some("Ed25519") {
            return Err(KeyError::NotEd25519);
        }
        if jwk.d.is_some() {
            return Err(KeyError::PrivateKey);
        }
        let kid = jwk
            .kid
            .filter(|kid| !kid.is_empty())
            .ok_or(KeyError::MissingKid)?;
        let x = jwk.x.ok_or(KeyError::BadKey)?;
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(KeyError::BadKey)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadKey)?;
        self.insert(&kid, key)
    }

    fn insert(&mut self, kid: &str, key: VerifyingKey) -> Result<(), KeyError> {
        if kid.is_empty() {
            return Err(KeyError::MissingKid);
        }
        if self.contains(kid) {
            return Err(KeyError::DuplicateKid);
        }
        if self.keys.len() == MAX_KEYS {
            return Err(KeyError::NoUsableKeys);
        }
        self.keys.push((kid.to_owned(), key));
        Ok(())
    }
}

impl fmt::Debug for WebhookKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookKeys")
            .field(
                "kids",
                &self.keys.iter().map(|(kid, _)| kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 9421 appendix B.1.4.
    const RFC_JWK: &str = r#"{"kty": "OKP", "crv": "Ed25519", "kid": "test-key-ed25519",
        "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"}"#;

    #[test]
    fn reads_ed25519_keys_and_skips_others() {
        let jwks = format!(
            r#"{{"keys": [{{"kty": "EC", "crv": "P-256", "kid": "ec", "x": "a", "y": "b"}}, {RFC_JWK}]}}"#
        );
        let keys = WebhookKeys::from_jwks(&jwks).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys.contains("test-key-ed25519"));
        assert!(!keys.contains("ec"));
        assert_eq!(
            format!("{keys:?}"),
            r#"WebhookKeys { kids: ["test-key-ed25519"] }"#
        );
    }

    #[test]
    fn refuses_bad_keys_and_sets() {
        let x = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";
        let jwk = |extra: &str| format!(r#"{{"kty": "OKP", "crv": "Ed25519", "x": "{x}"{extra}}}"#);
        let new = WebhookKeys::new;
        assert_eq!(new().with_jwk(&jwk("")).err(), Some(KeyError::MissingKid));
        assert_eq!(
            new().with_jwk(&jwk(r#", "kid": """#)).err(),
            Some(KeyError::MissingKid)
        );
        assert_eq!(
            new().with_jwk(&jwk(r#", "kid": "k", "d": "secret""#)).err(),
            Some(KeyError::PrivateKey)
        );
        assert_eq!(
            new()
                .with_jwk(r#"{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": "AAAA"}"#)
                .err(),
            Some(KeyError::BadKey)
        );
        assert_eq!(
            new()
                .with_jwk(r#"{"kty": "OKP", "crv": "X25519", "kid": "k", "x": "AAAA"}"#)
                .err(),
            Some(KeyError::NotEd25519)
        );
        assert_eq!(new().with_jwk("[]").err(), Some(KeyError::Malformed));
        let twice = format!(r#"{{"keys": [{RFC_JWK}, {RFC_JWK}]}}"#);
        assert_eq!(
            WebhookKeys::from_jwks(&twice).err(),
            Some(KeyError::DuplicateKid)
        );
        assert_eq!(
            WebhookKeys::from_jwks(r#"{"keys": []}"#).err(),
            Some(KeyError::NoUsableKeys)
        );
        assert_eq!(
            WebhookKeys::from_jwks("{}").err(),
            Some(KeyError::Malformed)
        );
    }
}
