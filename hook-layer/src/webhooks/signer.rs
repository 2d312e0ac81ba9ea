//! [`WebhookSigner`]: MATTR VII's side of a signed webhook, for tests
//! (re-exported by `testing`, feature `test-util`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use http::{HeaderValue, Request};

use super::content_digest::sha256_field;
use super::keys::WebhookKeys;
use super::signature_base::{SignedTarget, signature_base};
use super::signature_fields::SignatureInput;
use super::structured::{BareItem, Item, serialize_bare};
use crate::clock::{SystemClock, unix_seconds};

/// Signs webhook deliveries as MATTR VII does (its library
/// `@mattrglobal/http-signatures`): `Content-Digest` (SHA-256) over the
/// body, and a `sig1` signature with Ed25519 over `"@request-target"
/// "@method" "content-digest"`, `created` and `keyid`, unless
/// [`SignOptions`] say otherwise. A test key only: the seed is given.
///
/// ```
/// use hook_layer::testing::WebhookSigner;
/// use hook_layer::webhooks::WebhookVerifier;
///
/// let signer = WebhookSigner::from_seed("test-key", [7; 32]);
/// let body = WebhookSigner::delivery("my-webhook", "event-1", "OpenIdCredentialIssued",
///     serde_json::json!({"userId": "u-1"}));
/// let request = signer.sign(http::Request::post("https://hook.example.com/webhooks/mattr")
///     .body(body)?);
///
/// let verifier = WebhookVerifier::new("my-webhook", signer.keys());
/// let (parts, body) = request.into_parts();
/// let delivery = verifier.verify(&parts.method, &parts.uri, &parts.headers, &body)?;
/// assert_eq!(delivery.event.id, "event-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WebhookSigner {
    kid: String,
    key: SigningKey,
}

/// How [`WebhookSigner::sign_with`] signs: the components, the times, the
/// label, and knobs for tests of refusals.
#[derive(Debug, Clone)]
pub struct SignOptions {
    components: Option<Vec<String>>,
    created: Option<u64>,
    expires: Option<u64>,
    label: String,
    alg: bool,
    digest_of: Option<Vec<u8>>,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            components: None,
            created: None,
            expires: None,
            label: "sig1".to_owned(),
            alg: false,
            digest_of: None,
        }
    }
}

impl SignOptions {
    /// The components to cover, in order, instead of MATTR's default
    /// `"@request-target" "@method" "content-digest"`.
    pub fn components(mut self, components: &[&str]) -> Self {
        self.components = Some(components.iter().map(|c| (*c).to_owned()).collect());
        self
    }

    /// `created`, in Unix seconds, instead of now.
    pub fn created(mut self, created: u64) -> Self {
        self.created = Some(created);
        self
    }

    /// An `expires` parameter, in Unix seconds.
    pub fn expires(mut self, expires: u64) -> Self {
        self.expires = Some(expires);
        self
    }

    /// The signature's label instead of `sig1`.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.to_owned();
        self
    }

    /// An `alg="ed25519"` parameter.
    pub fn with_alg(mut self) -> Self {
        self.alg = true;
        self
    }

    /// `Content-Digest` computed over `body` instead of the request's body:
    /// a signed digest that does not match.
    pub fn digest_of(mut self, body: &[u8]) -> Self {
        self.digest_of = Some(body.to_vec());
        self
    }
}

impl WebhookSigner {
    /// A signer whose Ed25519 key is the 32-byte `seed`, published under
    /// `kid`.
    pub fn from_seed(kid: &str, seed: [u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The key's id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`OKP`, `Ed25519`, `kid`, `x`), as MATTR
    /// VII's JWKS lists it.
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
        })
    }

    /// The JWKS with this signer's public key: what
    /// `GET https://{tenant}/v1/webhooks/jwks` returns.
    pub fn jwks(&self) -> String {
        serde_json::json!({ "keys": [self.public_jwk()] }).to_string()
    }

    /// The public key, for [`WebhookVerifier::new`](crate::webhooks::WebhookVerifier::new).
    pub fn keys(&self) -> WebhookKeys {
        WebhookKeys::new()
            .with_key(&self.kid, self.key.verifying_key().as_bytes())
            .unwrap_or_default()
    }

    /// A delivery body as MATTR VII posts it, with a delivery id derived
    /// from the event id.
    pub fn delivery(
        webhook_id: &str,
        event_id: &str,
        event_type: &str,
        payload: serde_json::Value,
    ) -> Vec<u8> {
        serde_json::json!({
            "deliveryId": format!("delivery-{event_id}"),
            "deliveryTimestamp": "2026-01-01T00:00:00.000Z",
            "webhookId": webhook_id,
            "event": {
                "id": event_id,
                "type": event_type,
                "payload": payload,
                "timestamp": "2026-01-01T00:00:00.000Z",
            },
        })
        .to_string()
        .into_bytes()
    }

    /// Signs `request` as MATTR VII does, created now.
    pub fn sign(&self, request: Request<Vec<u8>>) -> Request<Vec<u8>> {
        self.sign_with(request, &SignOptions::default())
    }

    /// Signs `request` with `options`. The request's URI should be
    /// absolute (the webhook URL), or carry a `Host` header; a covered
    /// component the request lacks is left out of the signature base
    /// (which no verifier accepts), so that refusals can be tested.
    pub fn sign_with(
        &self,
        mut request: Request<Vec<u8>>,
        options: &SignOptions,
    ) -> Request<Vec<u8>> {
        let digest = sha256_field(options.digest_of.as_deref().unwrap_or(request.body()));
        if let Ok(value) = HeaderValue::from_str(&digest) {
            request.headers_mut().insert("content-digest", value);
        }
        let components = options.components.clone().unwrap_or_else(|| {
            ["@request-target", "@method", "content-digest"]
                .map(str::to_owned)
                .to_vec()
        });
        let created = options
            .created
            .unwrap_or_else(|| unix_seconds(&SystemClock));
        let mut params = vec![(
            "created".to_owned(),
            BareItem::Integer(i64::try_from(created).unwrap_or(i64::MAX)),
        )];
        if let Some(expires) = options.expires {
            params.push((
                "expires".to_owned(),
                BareItem::Integer(i64::try_from(expires).unwrap_or(i64::MAX)),
            ));
        }
        if options.alg {
            params.push(("alg".to_owned(), BareItem::String("ed25519".to_owned())));
        }
        params.push(("keyid".to_owned(), BareItem::String(self.kid.clone())));
        let input = SignatureInput {
            label: options.label.clone(),
            components: components
                .iter()
                .map(|c| Item {
                    bare: BareItem::String(c.clone()),
                    params: vec![],
                })
                .collect(),
            params,
            created: 0,
            expires: None,
            keyid: self.kid.clone(),
            alg: None,
        };

        let uri = request.uri().clone();
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
        let target = SignedTarget {
            method: request.method().as_str(),
            scheme: uri.scheme_str().unwrap_or("https"),
            authority: host.as_deref(),
            path: uri.path(),
            query: uri.query(),
            headers: request.headers(),
        };
        let base = match signature_base(&input, &target) {
            Ok(base) => base,
            // Sign something no verifier rebuilds: the refusal under test
            // is the verifier's.
            Err(_) => b"unbuildable".to_vec(),
        };
        let signature = self.key.sign(&base).to_bytes();
        let mut signature_field = format!("{}=", options.label);
        serialize_bare(&BareItem::Bytes(signature.to_vec()), &mut signature_field);
        let input_field = format!("{}={}", options.label, input.signature_params());
        if let (Ok(input_value), Ok(signature_value)) = (
            HeaderValue::from_str(&input_field),
            HeaderValue::from_str(&signature_field),
        ) {
            let headers = request.headers_mut();
            headers.insert("signature-input", input_value);
            headers.insert("signature", signature_value);
        }
        request
    }
}

impl fmt::Debug for WebhookSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}
