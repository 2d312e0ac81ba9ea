//! [`MockIssuer`]: MATTR VII's side of the interaction hook, for tests.
//!
//! It mints session tokens exactly as MATTR VII sends them, with knobs to
//! make them expired, wrongly signed or wrongly addressed, and it reads a
//! completion redirect back and checks it as MATTR VII would.
//!
//! ```
//! use hook_layer::testing::{MockIssuer, Outcome};
//! use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
//! use serde_json::json;
//!
//! let secret = HookSecret::from_bytes(&[7; 32])?;
//! let issuer = MockIssuer::new(secret.clone());
//! let layer = InteractionHookLayer::new(secret)
//!     .issuer(MockIssuer::TENANT)
//!     .audience(MockIssuer::HOOK_URL);
//!
//! // What MATTR VII would put in the browser's address bar.
//! let uri = issuer.session().claim("email", "ada@example.com").uri("/interaction");
//! let session: HookSession = layer.verify(&uri.parse()?)?;
//! assert_eq!(session.claims()["email"], json!("ada@example.com"));
//!
//! // What the hook sends back, read as MATTR VII would.
//! let redirect = session.complete().claim("termsAccepted", true)?.redirect()?;
//! let response = issuer.read_redirect(redirect.url())?;
//! assert_eq!(response.state, session.state());
//! assert_eq!(response.outcome, Outcome::Completed {
//!     claims: json!({ "termsAccepted": true }).as_object().unwrap().clone(),
//!     claims_to_persist: vec![],
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One `MockIssuer` plays one tenant with one secret. For a hook serving
//! several tenants, make one per tenant ([`MockIssuer::tenant`] sets its
//! URL); for a rotation, one with the previous secret mints the tokens of
//! journeys begun before it, and reads their responses:
//!
//! ```
//! use hook_layer::testing::MockIssuer;
//! use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
//!
//! let (current, previous) = (HookSecret::from_bytes(&[1; 32])?, HookSecret::from_bytes(&[2; 32])?);
//! let layer = InteractionHookLayer::new(current).previous_secret(previous.clone());
//! let before_rotation = MockIssuer::new(previous);
//! let session: HookSession = layer.verify_token(&before_rotation.session().token())?;
//! assert_eq!(session.secret_index(), 1);
//! let redirect = session.complete().redirect()?;
//! assert!(before_rotation.read_redirect(redirect.url()).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::clock::{Clock, SystemClock, to_unix, unix_seconds};
use crate::policy::SESSION_TOKEN_PARAM;
use crate::query;
use crate::secret::HookSecret;
use crate::session::ClaimsMap;

#[cfg(feature = "redis")]
mod redis_server;
mod tenant;
#[cfg(feature = "webhooks")]
pub use crate::webhooks::signer::{SignOptions, WebhookSigner};
#[cfg(feature = "redis")]
pub use redis_server::RedisServer;
pub use tenant::{Callback, MAX_CALLBACK_URL_LEN, SimulatedTenant, Start, StartError};

/// Plays MATTR VII: mints session tokens and reads responses.
pub struct MockIssuer {
    secret: HookSecret,
    tenant: String,
    hook_url: String,
    redirect_url: String,
    clock: Arc<dyn Clock>,
}

/// Sessions minted in this process, by every `MockIssuer`: each gets a
/// `state` of its own, as a tenant's do, even from two issuers in one second.
static SESSIONS: AtomicU64 = AtomicU64::new(0);

impl MockIssuer {
    /// The default tenant URL (`iss` of session tokens).
    pub const TENANT: &str = "https://tenant.vii.au01.mattr.global";
    /// The default hook URL (`aud` of session tokens).
    pub const HOOK_URL: &str = "https://hook.example.com/interaction";
    /// The default `redirectUrl`: an illustrative address on the tenant.
    pub const REDIRECT_URL: &str =
        "https://tenant.vii.au01.mattr.global/core/v1/openid/interaction-hook/callback";
    /// How long minted tokens live by default: MATTR VII's example
    /// `sessionTimeoutInSec`.
    pub const SESSION_TIMEOUT: Duration = Duration::from_secs(1200);

    /// A mock tenant signing with `secret`, at [`TENANT`](Self::TENANT),
    /// calling the hook at [`HOOK_URL`](Self::HOOK_URL).
    pub fn new(secret: HookSecret) -> Self {
        Self {
            secret,
            tenant: Self::TENANT.to_owned(),
            hook_url: Self::HOOK_URL.to_owned(),
            redirect_url: Self::REDIRECT_URL.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets the tenant URL: the `iss` of minted tokens and the `aud`
    /// expected in responses.
    #[must_use]
    pub fn tenant(mut self, url: impl Into<String>) -> Self {
        self.tenant = url.into();
        self
    }

    /// Sets the hook URL: the `aud` of minted tokens and the `iss` expected
    /// in responses.
    #[must_use]
    pub fn hook_url(mut self, url: impl Into<String>) -> Self {
        self.hook_url = url.into();
        self
    }

    /// Sets the `redirectUrl` of minted tokens, where responses must go.
    #[must_use]
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = url.into();
        self
    }

    /// Sets the clock used for `iat`/`exp` and for checking responses.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The tenant URL.
    pub fn tenant_url(&self) -> &str {
        &self.tenant
    }

    /// The `redirectUrl` of minted tokens, where responses must go.
    pub fn redirect_target(&self) -> &str {
        &self.redirect_url
    }

    /// Starts a session token: by default shaped exactly like MATTR VII's,
    /// with a fresh `state`, `iat` now, `exp` after
    /// [`SESSION_TIMEOUT`](Self::SESSION_TIMEOUT) and empty claims.
    pub fn session(&self) -> SessionToken<'_> {
        let now = unix_seconds(&*self.clock);
        let number = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
        let payload = json!({
            "iss": self.tenant,
            "aud": self.hook_url,
            "iat": now,
            "exp": now.saturating_add(Self::SESSION_TIMEOUT.as_secs()),
            "state": format!("mock-state-{number}-{now}"),
            "redirectUrl": self.redirect_url,
            "claims": {},
        });
        let Value::Object(payload) = payload else {
            unreachable!("a JSON object literal")
        };
        SessionToken {
            issuer: self,
            payload,
            header: None,
            secret: None,
        }
    }

    /// Signs arbitrary header and payload bytes with HS256 and the secret:
    /// a token that passes the signature check whatever it says, for
    /// hostile-input tests and fuzzing.
    pub fn sign_raw(&self, header: &[u8], payload: &[u8]) -> String {
        self.secret
            .keys()
            .sign_raw(header, payload)
            .unwrap_or_else(|error| panic!("the mock issuer could not sign: {error}"))
    }

    /// Reads a completion redirect (a `Location` value or any URL) as MATTR
    /// VII would: it must be at most [`MAX_CALLBACK_URL_LEN`] long, go to
    /// the `redirectUrl`, carry one `session_token`, and that token must
    /// pass [`read_token`](Self::read_token).
    pub fn read_redirect(&self, location: &str) -> Result<HookResponse, MockIssuerError> {
        if location.len() > MAX_CALLBACK_URL_LEN {
            return Err(MockIssuerError::TooLong {
                len: location.len(),
            });
        }
        let url = Url::parse(location).map_err(|_| MockIssuerError::NotAUrl)?;
        let expected = Url::parse(&self.redirect_url).map_err(|_| MockIssuerError::NotAUrl)?;
        if url.origin() != expected.origin() || url.path() != expected.path() {
            return Err(MockIssuerError::WrongDestination);
        }
        let token = match query::find_raw(url.query().unwrap_or(""), SESSION_TOKEN_PARAM) {
            Ok(Some(token)) if !token.is_empty() => token,
            Ok(_) => return Err(MockIssuerError::NoToken),
            Err(_) => return Err(MockIssuerError::BadQuery),
        };
        let token = query::decode_strict(token).map_err(|_| MockIssuerError::BadQuery)?;
        self.read_token(&token)
    }

    /// Verifies a response token as MATTR VII would, independently of the
    /// layer's own parsing and keys: the header must say HS256, the tag is
    /// checked with the RustCrypto `hmac` crate over the secret's bytes,
    /// the claims are read by `jsonwebtoken`, and `iss` must be the hook
    /// URL, `aud` the tenant, `exp` in the future by this issuer's clock,
    /// `state` present, and exactly one of `claims` and `error` there.
    pub fn read_token(&self, token: &str) -> Result<HookResponse, MockIssuerError> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use hmac::{KeyInit, Mac};

        let rejected = |why: &str| MockIssuerError::Rejected(why.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| rejected("InvalidToken"))?;
        if header.alg != jsonwebtoken::Algorithm::HS256 {
            return Err(rejected("InvalidAlgorithm"));
        }
        let (signing_input, tag) = token.rsplit_once('.').ok_or(rejected("InvalidToken"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| rejected("InvalidSignature"))?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.bytes())
            .map_err(|_| rejected("InvalidKeyFormat"))?;
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| rejected("InvalidSignature"))?;
        let data = jsonwebtoken::dangerous::insecure_decode::<ResponseClaims>(token)
            .map_err(|error| MockIssuerError::Rejected(format!("{:?}", error.kind())))?;
        let claims = data.claims;
        if claims.iss != self.hook_url {
            return Err(rejected("InvalidIssuer"));
        }
        if !claims.aud.contains(&self.tenant) {
            return Err(rejected("InvalidAudience"));
        }
        let now = unix_seconds(&*self.clock);
        if claims.exp <= now {
            return Err(MockIssuerError::Expired);
        }
        if claims.state.is_empty() {
            return Err(MockIssuerError::Shape("`state` is empty"));
        }
        let outcome = match (claims.claims, claims.error) {
            (Some(claims_map), None) => Outcome::Completed {
                claims: claims_map,
                claims_to_persist: claims.claims_to_persist.unwrap_or_default(),
            },
            (None, Some(error)) if claims.claims_to_persist.is_none() => Outcome::Failed {
                message: error.message,
            },
            (Some(_), Some(_)) => return Err(MockIssuerError::Shape("both `claims` and `error`")),
            (None, None) => return Err(MockIssuerError::Shape("neither `claims` nor `error`")),
            (None, Some(_)) => {
                return Err(MockIssuerError::Shape("`claimsToPersist` with `error`"));
            }
        };
        Ok(HookResponse {
            state: claims.state,
            issued_at: claims.iat,
            expires_at: claims.exp,
            outcome,
        })
    }
}

impl fmt::Debug for MockIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockIssuer")
            .field("tenant", &self.tenant)
            .field("hook_url", &self.hook_url)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

/// A session token being minted by [`MockIssuer::session`]. Every claim can
/// be changed, removed or made hostile.
#[must_use]
pub struct SessionToken<'a> {
    issuer: &'a MockIssuer,
    payload: ClaimsMap,
    header: Option<Vec<u8>>,
    secret: Option<HookSecret>,
}

impl SessionToken<'_> {
    /// Sets `state`.
    pub fn state(self, state: impl Into<String>) -> Self {
        self.set("state", state.into())
    }

    /// Sets `redirectUrl`.
    pub fn redirect_url(self, url: impl Into<String>) -> Self {
        self.set("redirectUrl", url.into())
    }

    /// Sets `iss` (normally the tenant URL).
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.set("iss", issuer.into())
    }

    /// Sets `aud` (normally the hook URL); any JSON, e.g. an array.
    pub fn audience(self, audience: impl Serialize) -> Self {
        self.set("aud", audience)
    }

    /// Replaces the user claims with `claims` (any JSON object).
    pub fn claims(self, claims: impl Serialize) -> Self {
        self.set("claims", claims)
    }

    /// Adds one user claim.
    pub fn claim(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        match self.payload.get_mut("claims") {
            Some(Value::Object(claims)) => {
                claims.insert(name.to_owned(), value);
            }
            _ => {
                self.payload
                    .insert("claims".to_owned(), json!({ name: value }));
            }
        }
        self
    }

    /// Sets `iat` to `at`, and `exp` to `at` plus the session timeout.
    pub fn issued_at(self, at: SystemTime) -> Self {
        let at = to_unix(at);
        self.set("iat", at).set(
            "exp",
            at.saturating_add(MockIssuer::SESSION_TIMEOUT.as_secs()),
        )
    }

    /// Sets `exp` to `lifetime` after `iat`.
    pub fn expires_in(self, lifetime: Duration) -> Self {
        let iat = self.payload.get("iat").and_then(Value::as_u64).unwrap_or(0);
        self.set("exp", iat.saturating_add(lifetime.as_secs()))
    }

    /// An hour past its expiry: refused under any sane leeway.
    pub fn expired(self) -> Self {
        let now = unix_seconds(&*self.issuer.clock);
        let exp = now.saturating_sub(3600);
        self.set(
            "iat",
            exp.saturating_sub(MockIssuer::SESSION_TIMEOUT.as_secs()),
        )
        .set("exp", exp)
    }

    /// Sets any claim to any JSON value.
    pub fn set(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.payload.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim.
    pub fn remove(mut self, name: &str) -> Self {
        self.payload.remove(name);
        self
    }

    /// Replaces the JOSE header (raw JSON bytes) and signs anyway, with
    /// HS256 and the secret, so that only the header is wrong.
    pub fn header(mut self, header: impl Into<Vec<u8>>) -> Self {
        self.header = Some(header.into());
        self
    }

    /// Signs with another secret: a forgery, as far as the hook can tell.
    pub fn signed_with(mut self, secret: &HookSecret) -> Self {
        self.secret = Some(secret.clone());
        self
    }

    /// The claims as they will be signed.
    pub fn payload(&self) -> &ClaimsMap {
        &self.payload
    }

    /// The signed compact token.
    pub fn token(&self) -> String {
        let keys = self.secret.as_ref().unwrap_or(&self.issuer.secret).keys();
        let payload = serde_json::to_vec(&self.payload).unwrap_or_default();
        let header = self
            .header
            .as_deref()
            .unwrap_or(br#"{"alg":"HS256","typ":"JWT"}"#);
        keys.sign_raw(header, &payload)
            .unwrap_or_else(|error| panic!("the mock issuer could not sign: {error}"))
    }

    /// `path?session_token=<token>`: the request target MATTR VII sends the
    /// browser to.
    pub fn uri(&self, path: &str) -> String {
        format!("{path}?{SESSION_TOKEN_PARAM}={}", self.token())
    }
}

/// A response token as MATTR VII read it.
#[derive(Debug, Clone, PartialEq)]
pub struct HookResponse {
    /// The echoed `state`.
    pub state: String,
    /// `iat`.
    pub issued_at: u64,
    /// `exp`.
    pub expires_at: u64,
    /// Claims, or the error that fails the issuance.
    pub outcome: Outcome,
}

/// What the hook decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The issuance continues with these claims.
    Completed {
        /// The returned claims.
        claims: ClaimsMap,
        /// The names to store on the user record (`claimsToPersist`).
        claims_to_persist: Vec<String>,
    },
    /// The issuance fails.
    Failed {
        /// `error.message`.
        message: String,
    },
}

#[derive(Deserialize)]
struct ResponseClaims {
    iss: String,
    #[serde(deserialize_with = "one_or_many")]
    aud: Vec<String>,
    iat: u64,
    exp: u64,
    state: String,
    claims: Option<ClaimsMap>,
    #[serde(rename = "claimsToPersist")]
    claims_to_persist: Option<Vec<String>>,
    error: Option<ErrorClaim>,
}

/// `aud`: a string, or an array of them (RFC 7519 section 4.1.3).
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

#[derive(Deserialize)]
struct ErrorClaim {
    message: String,
}

/// Why [`MockIssuer`] refused a response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MockIssuerError {
    /// The redirect is not an absolute URL.
    NotAUrl,
    /// The redirect is longer than [`MAX_CALLBACK_URL_LEN`], the safe
    /// limit MATTR gives for a URL in any browser.
    TooLong {
        /// The redirect's length, in bytes.
        len: usize,
    },
    /// The redirect does not go to the session's `redirectUrl`.
    WrongDestination,
    /// No `session_token` parameter.
    NoToken,
    /// A repeated or badly encoded `session_token` parameter.
    BadQuery,
    /// The token is refused: its signature, algorithm, `iss`, `aud` or
    /// shape (the reason, in jsonwebtoken's words).
    Rejected(String),
    /// `exp` is not in the future.
    Expired,
    /// The payload breaks the protocol.
    Shape(&'static str),
}

impl fmt::Display for MockIssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAUrl => f.write_str("the redirect is not an absolute URL"),
            Self::TooLong { len } => write!(
                f,
                "the callback URL is {len} characters; MATTR VII takes at most {MAX_CALLBACK_URL_LEN}"
            ),
            Self::WrongDestination => f.write_str("the redirect does not go to the redirectUrl"),
            Self::NoToken => f.write_str("the redirect has no session_token"),
            Self::BadQuery => {
                f.write_str("the redirect's session_token is repeated or badly encoded")
            }
            Self::Rejected(why) => write!(f, "the response token was refused: {why}"),
            Self::Expired => f.write_str("the response token has expired"),
            Self::Shape(why) => write!(f, "the response token breaks the protocol: {why}"),
        }
    }
}

impl std::error::Error for MockIssuerError {}
