//! The whole check of one delivery: signature fields, signature base,
//! Ed25519, time window, `Content-Digest`, body, webhook id.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::Signature;
use http::{HeaderMap, Method, Uri};

use super::content_digest;
use super::event::{WebhookDelivery, parse_delivery};
use super::keys::WebhookKeys;
use super::rejection::WebhookRejection;
use super::remote_keys::{Lookup, RemoteKeys};
use super::signature_base::{BaseError, SignedTarget, signature_base};
use super::signature_fields::{FieldError, SignatureInput, parse_signature, parse_signature_input};
use crate::clock::{Clock, SystemClock, unix_seconds};

/// The default bound on a delivery's body: 256 KiB.
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;
/// The default tolerance on a signature's `created`: five minutes either
/// way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Verifies MATTR VII webhook deliveries for one webhook: the raw body and
/// the request's method, target and headers in, a typed
/// [`WebhookDelivery`] or a [`WebhookRejection`] out.
///
/// Every signature the request carries must verify (as MATTR's own
/// library requires), each with an Ed25519 key of `keys` named by its
/// `keyid`, each covering `content-digest`, each created within the
/// tolerance and not expired; then the body must match `Content-Digest`
/// and name this webhook.
///
/// ```
/// use hook_layer::webhooks::{WebhookKeys, WebhookVerifier, WebhookRejection};
///
/// let keys = WebhookKeys::from_jwks(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519",
///     "kid": "k-1", "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"}]}"#)?;
/// let verifier = WebhookVerifier::new("my-webhook-id", keys)
///     .public_url("https://hook.example.com/webhooks/mattr")?;
///
/// let request = http::Request::post("/webhooks/mattr").body(())?;
/// let (parts, ()) = request.into_parts();
/// let refused = verifier.verify(&parts.method, &parts.uri, &parts.headers, b"{}");
/// assert_eq!(refused.unwrap_err(), WebhookRejection::MissingSignature);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    webhook_id: String,
    keys: Keys,
    tolerance: Duration,
    max_body: usize,
    public: Option<PublicUrl>,
    clock: Arc<dyn Clock>,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
enum Keys {
    Given(WebhookKeys),
    Remote(RemoteKeys),
}

#[derive(Debug, Clone)]
struct PublicUrl {
    scheme: String,
    authority: String,
    path: String,
}

/// The public URL given to [`WebhookVerifier::public_url`] is not an
/// absolute URL with a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicUrlError;

impl fmt::Display for PublicUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the webhook's public URL is not an absolute URL with a host and no query")
    }
}

impl std::error::Error for PublicUrlError {}

impl WebhookVerifier {
    /// A verifier for the webhook `webhook_id` (as the MATTR VII tenant
    /// created it), whose deliveries are signed with one of `keys`.
    pub fn new(webhook_id: impl Into<String>, keys: WebhookKeys) -> Self {
        Self::with_keys(webhook_id.into(), Keys::Given(keys))
    }

    /// A verifier for the webhook `webhook_id` whose keys are fetched from
    /// the tenant's JWKS ([`RemoteKeys`]) by
    /// [`verify_fetching`](Self::verify_fetching), which
    /// [`WebhookLayer`](super::WebhookLayer) uses.
    pub fn with_jwks(webhook_id: impl Into<String>, keys: RemoteKeys) -> Self {
        Self::with_keys(webhook_id.into(), Keys::Remote(keys))
    }

    fn with_keys(webhook_id: String, keys: Keys) -> Self {
        Self {
            webhook_id,
            keys,
            tolerance: DEFAULT_TOLERANCE,
            max_body: DEFAULT_MAX_BODY,
            public: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The webhook URL as configured at MATTR VII, which the signer signs:
    /// its scheme, host and path are used for `@target-uri`,
    /// `@authority`, `@path` and `@request-target`, whatever path and
    /// `Host` the request arrives with (a proxy may rewrite them). Without
    /// it the request's own path and `Host` are used, with `https`.
    pub fn public_url(mut self, url: &str) -> Result<Self, PublicUrlError> {
        let url = url::Url::parse(url).map_err(|_| PublicUrlError)?;
        let host = url.host_str().ok_or(PublicUrlError)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(PublicUrlError);
        }
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        self.public = Some(PublicUrl {
            scheme: url.scheme().to_owned(),
            authority,
            path: url.path().to_owned(),
        });
        Ok(self)
    }

    /// How far `created` may be from now, either way (five minutes by
    /// default): older signatures are stale, newer ones from the future.
    /// `expires`, when sent, is checked exactly.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The longest body accepted, in bytes (256 KiB by default).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The clock that `created` and `expires` are checked against.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The webhook id this verifier accepts.
    pub fn webhook_id(&self) -> &str {
        &self.webhook_id
    }

    /// The body bound.
    pub fn body_limit(&self) -> usize {
        self.max_body
    }

    /// Now, by the verifier's clock, in Unix seconds.
    pub(crate) fn now(&self) -> u64 {
        unix_seconds(self.clock.as_ref())
    }

    /// Verifies one delivery: `body` is the raw body as received. Keys
    /// from a JWKS are those fetched already (none yet is
    /// [`KeysUnavailable`](WebhookRejection::KeysUnavailable)); use
    /// [`verify_fetching`](Self::verify_fetching) to fetch them.
    pub fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookDelivery, WebhookRejection> {
        match &self.keys {
            Keys::Given(keys) => self.verify_with(keys, method, uri, headers, body),
            Keys::Remote(remote) => match remote.cached() {
                Some(keys) => self.verify_with(&keys, method, uri, headers, body),
                None => Err(WebhookRejection::KeysUnavailable),
            },
        }
    }

    /// [`verify`](Self::verify), fetching the tenant's JWKS first when the
    /// keys come from one and a signature's `keyid` is not among those
    /// held (at most once per [`RemoteKeys::refresh_interval`]).
    pub async fn verify_fetching(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookDelivery, WebhookRejection> {
        let Keys::Remote(remote) = &self.keys else {
            return self.verify(method, uri, headers, body);
        };
        // The key ids named; fields that cannot be read are refused by the
        // verification itself, with keys or without.
        let kids: Vec<String> = field(headers, "signature-input")
            .ok()
            .and_then(|value| parse_signature_input(&value).ok())
            .map(|inputs| inputs.into_iter().map(|input| input.keyid).collect())
            .unwrap_or_default();
        if kids.is_empty() {
            return self.verify_with(&WebhookKeys::new(), method, uri, headers, body);
        }
        match remote.keys_for(&kids).await {
            Lookup::Keys(keys) => self.verify_with(&keys, method, uri, headers, body),
            Lookup::Unavailable => Err(WebhookRejection::KeysUnavailable),
        }
    }

    fn verify_with(
        &self,
        keys: &WebhookKeys,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookDelivery, WebhookRejection> {
        if body.len() > self.max_body {
            return Err(WebhookRejection::BodyTooLarge);
        }
        let inputs = field(headers, "signature-input")?;
        let signatures = field(headers, "signature")?;
        let inputs = parse_signature_input(&inputs).map_err(field_error)?;
        let signatures = parse_signature(&signatures).map_err(field_error)?;
        if inputs.len() != signatures.len()
            || inputs
                .iter()
                .any(|i| !signatures.iter().any(|(l, _)| *l == i.label))
        {
            return Err(WebhookRejection::MalformedSignature(
                "the labels of Signature and Signature-Input differ",
            ));
        }

        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase)
            .or_else(|| uri.authority().map(|a| a.as_str().to_ascii_lowercase()));
        let target = SignedTarget {
            method: method.as_str(),
            scheme: self.public.as_ref().map_or("https", |p| &p.scheme),
            authority: self
                .public
                .as_ref()
                .map(|p| p.authority.as_str())
                .or(host.as_deref()),
            path: self.public.as_ref().map_or(uri.path(), |p| &p.path),
            query: uri.query(),
            headers,
        };

        let now = i64::try_from(unix_seconds(self.clock.as_ref())).unwrap_or(i64::MAX);
        for input in &inputs {
            let signature = signatures
                .iter()
                .find(|(label, _)| *label == input.label)
                .map(|(_, bytes)| bytes.as_slice())
                .unwrap_or_default();
            self.check_one(keys, input, signature, &target, now)?;
        }

        // Every line of the field, as the signature base joined them.
        let digest = field(headers, "content-digest").map_err(|rejection| match rejection {
            WebhookRejection::MissingSignature => WebhookRejection::MissingComponent,
            _ => WebhookRejection::MalformedDigest("Content-Digest is not ASCII"),
        })?;
        let digests = content_digest::parse_content_digest(&digest)
            .map_err(WebhookRejection::MalformedDigest)?;
        if !content_digest::matches(&digests, body) {
            return Err(WebhookRejection::DigestMismatch);
        }

        let delivery = parse_delivery(body).map_err(WebhookRejection::MalformedEvent)?;
        if delivery.webhook_id != self.webhook_id {
            return Err(WebhookRejection::WrongWebhook);
        }
        Ok(delivery)
    }

    fn check_one(
        &self,
        keys: &WebhookKeys,
        input: &SignatureInput,
        signature: &[u8],
        target: &SignedTarget<'_>,
        now: i64,
    ) -> Result<(), WebhookRejection> {
        if input.alg.as_deref().is_some_and(|alg| alg != "ed25519") {
            return Err(WebhookRejection::UnsupportedAlgorithm);
        }
        let covers_digest = input.components.iter().any(|c| {
            matches!(&c.bare, super::structured::BareItem::String(name) if name == "content-digest")
        });
        if !covers_digest {
            return Err(WebhookRejection::DigestNotCovered);
        }
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if input.created > now.saturating_add(tolerance) {
            return Err(WebhookRejection::NotYetValid);
        }
        if input.created < now.saturating_sub(tolerance) {
            return Err(WebhookRejection::Stale);
        }
        if input.expires.is_some_and(|expires| expires < now) {
            return Err(WebhookRejection::Expired);
        }
        let key = keys.get(&input.keyid).ok_or(WebhookRejection::UnknownKey)?;
        let base = signature_base(input, target).map_err(|e| match e {
            BaseError::Unsupported => WebhookRejection::UnsupportedComponent,
            BaseError::Missing => WebhookRejection::MissingComponent,
            BaseError::Malformed => {
                WebhookRejection::MalformedSignature("a component is repeated or not lowercase")
            }
        })?;
        let signature = <[u8; 64]>::try_from(signature)
            .map(|bytes| Signature::from_bytes(&bytes))
            .map_err(|_| WebhookRejection::BadSignature)?;
        key.verify_strict(&base, &signature)
            .map_err(|_| WebhookRejection::BadSignature)
    }
}

/// A signature field, every line of it joined (RFC 9110 section 5.3).
fn field(headers: &HeaderMap, name: &str) -> Result<String, WebhookRejection> {
    let mut joined = String::new();
    for (i, value) in headers.get_all(name).iter().enumerate() {
        let value = value
            .to_str()
            .map_err(|_| WebhookRejection::MalformedSignature("a signature field is not ASCII"))?;
        if i > 0 {
            joined.push_str(", ");
        }
        joined.push_str(value);
    }
    if joined.trim().is_empty() {
        return Err(WebhookRejection::MissingSignature);
    }
    Ok(joined)
}

fn field_error(error: FieldError) -> WebhookRejection {
    match error {
        FieldError::Malformed(why) => WebhookRejection::MalformedSignature(why),
        FieldError::MissingParameter("created") => {
            WebhookRejection::MalformedSignature("a signature has no created parameter")
        }
        FieldError::MissingParameter(_) => {
            WebhookRejection::MalformedSignature("a signature has no keyid parameter")
        }
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("webhook_id", &self.webhook_id)
            .field("keys", &self.keys)
            .field("tolerance", &self.tolerance)
            .field("max_body", &self.max_body)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
