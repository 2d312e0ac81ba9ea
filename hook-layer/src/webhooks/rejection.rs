//! Why a webhook delivery was refused, and the response it gets.

use std::fmt;

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};

/// Why a webhook delivery was refused. The handler never sees a refused
/// delivery.
///
/// Every variant has a stable [status](Self::status) and machine-readable
/// [code](Self::code), and a `Display` message that never repeats the
/// request: not a header, not the body, not a key id. `401` is a signature
/// that does not verify or does not cover what it must, `400` a request
/// that cannot be read, `413` a body past the bound, `503` a store or key
/// source that cannot answer now (MATTR VII retries).
///
/// | code | status |
/// |---|---|
/// | `missing_signature`, `unknown_key`, `bad_signature`, `unsupported_algorithm` | 401 |
/// | `unsupported_component`, `missing_component`, `digest_not_covered`, `digest_mismatch` | 401 |
/// | `signature_expired`, `stale_signature`, `signature_in_future`, `wrong_webhook` | 401 |
/// | `malformed_signature`, `malformed_digest`, `malformed_event`, `unreadable_body` | 400 |
/// | `body_too_large` | 413 |
/// | `store_unavailable`, `event_in_progress`, `keys_unavailable` | 503 |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No `Signature` or no `Signature-Input` field.
    MissingSignature,
    /// `Signature` or `Signature-Input` is not what RFC 9421 describes, or
    /// their labels differ; the reason names the rule.
    MalformedSignature(&'static str),
    /// The signature's `alg` is not `ed25519`.
    UnsupportedAlgorithm,
    /// The signature covers a component this verifier does not rebuild
    /// (`@scheme`, `@query-param`, `@status`, parameters on a component).
    UnsupportedComponent,
    /// The signature covers a header (or the query, or the authority) that
    /// the request does not have.
    MissingComponent,
    /// The signature does not cover `content-digest`, so the body is not
    /// signed.
    DigestNotCovered,
    /// `Content-Digest` cannot be read, or has no `sha-256`/`sha-512`.
    MalformedDigest(&'static str),
    /// The body does not match `Content-Digest`.
    DigestMismatch,
    /// No key with the signature's `keyid`.
    UnknownKey,
    /// The signature does not verify with the key its `keyid` names.
    BadSignature,
    /// Past the signature's `expires` (beyond the tolerance).
    Expired,
    /// `created` is further in the past than the tolerance allows.
    Stale,
    /// `created` is in the future beyond the tolerance.
    NotYetValid,
    /// The body could not be read.
    UnreadableBody,
    /// The body is longer than the bound.
    BodyTooLarge,
    /// The signed body is not a MATTR VII webhook delivery; the reason
    /// names the field.
    MalformedEvent(&'static str),
    /// The delivery's `webhookId` is not the one this endpoint accepts.
    WrongWebhook,
    /// The store of handled events did not answer: MATTR VII retries.
    StoreUnavailable,
    /// Another delivery of this event is being handled now (a parallel
    /// redelivery, or one whose handler failed and whose claim has not yet
    /// lapsed): MATTR VII retries.
    EventInProgress,
    /// The tenant's JWKS could not be fetched, and no key held verifies
    /// the delivery: MATTR VII retries.
    KeysUnavailable,
}

impl WebhookRejection {
    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedSignature(_)
            | Self::MalformedDigest(_)
            | Self::MalformedEvent(_)
            | Self::UnreadableBody => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::StoreUnavailable | Self::EventInProgress | Self::KeysUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// A stable, machine-readable name for the cause, e.g. `bad_signature`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature(_) => "malformed_signature",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedComponent => "unsupported_component",
            Self::MissingComponent => "missing_component",
            Self::DigestNotCovered => "digest_not_covered",
            Self::MalformedDigest(_) => "malformed_digest",
            Self::DigestMismatch => "digest_mismatch",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "signature_expired",
            Self::Stale => "stale_signature",
            Self::NotYetValid => "signature_in_future",
            Self::UnreadableBody => "unreadable_body",
            Self::BodyTooLarge => "body_too_large",
            Self::MalformedEvent(_) => "malformed_event",
            Self::WrongWebhook => "wrong_webhook",
            Self::StoreUnavailable => "store_unavailable",
            Self::EventInProgress => "event_in_progress",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }

    /// The response: the status, `Content-Type: application/json`,
    /// `Cache-Control: no-store`, the body `{"error": "<code>", "message":
    /// "<message>"}`, and this rejection in the response's extensions.
    pub fn to_response<B: From<String>>(&self) -> Response<B> {
        let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        let mut response = Response::new(B::from(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSignature => {
                f.write_str("the request has no Signature or Signature-Input")
            }
            Self::MalformedSignature(why) => write!(f, "malformed signature fields: {why}"),
            Self::UnsupportedAlgorithm => f.write_str("the signature's algorithm is not ed25519"),
            Self::UnsupportedComponent => {
                f.write_str("the signature covers a component this verifier does not support")
            }
            Self::MissingComponent => {
                f.write_str("the signature covers a component the request does not have")
            }
            Self::DigestNotCovered => f.write_str("the signature does not cover content-digest"),
            Self::MalformedDigest(why) => write!(f, "malformed Content-Digest: {why}"),
            Self::DigestMismatch => f.write_str("the body does not match Content-Digest"),
            Self::UnknownKey => f.write_str("no key with the signature's keyid"),
            Self::BadSignature => f.write_str("the signature does not verify"),
            Self::Expired => f.write_str("the signature has expired"),
            Self::Stale => f.write_str("the signature was created too long ago"),
            Self::NotYetValid => f.write_str("the signature was created in the future"),
            Self::UnreadableBody => f.write_str("the body could not be read"),
            Self::BodyTooLarge => f.write_str("the body is longer than this endpoint accepts"),
            Self::MalformedEvent(why) => write!(f, "not a webhook delivery: {why}"),
            Self::WrongWebhook => f.write_str("the delivery is for another webhook"),
            Self::StoreUnavailable => f.write_str("the event store is unavailable; retry later"),
            Self::EventInProgress => f.write_str("this event is being handled; retry later"),
            Self::KeysUnavailable => f.write_str("the signing keys are unavailable; retry later"),
        }
    }
}

impl std::error::Error for WebhookRejection {}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for WebhookRejection {
    fn into_response(self) -> axum_core::response::Response {
        self.to_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_carry_code_status_and_no_input() {
        let response: Response<String> = WebhookRejection::DigestMismatch.to_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(body["error"], "digest_mismatch");
        assert_eq!(
            response.extensions().get::<WebhookRejection>(),
            Some(&WebhookRejection::DigestMismatch)
        );
        let busy: Response<String> = WebhookRejection::StoreUnavailable.to_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[http::header::RETRY_AFTER], "5");
        assert_eq!(
            WebhookRejection::BodyTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            WebhookRejection::MalformedEvent("event.id").status(),
            StatusCode::BAD_REQUEST
        );
    }
}
