//! [`WebhookLayer`]: where a webhook endpoint is configured.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::attempts::{AttemptStore, MemoryStore};

use super::once::EventMarks;
use super::service::{Shared, WebhookService};
use super::verifier::WebhookVerifier;

/// How long a delivery holds its event's claim while the handler runs, by
/// default: 30 s (MATTR VII waits 3 s for an answer).
pub const DEFAULT_CLAIM: Duration = Duration::from_secs(30);
/// How long a handled event is remembered, by default: 7 days.
pub const DEFAULT_REMEMBER: Duration = Duration::from_secs(7 * 24 * 3600);

/// A tower layer for a MATTR VII webhook endpoint: verifies each delivery
/// ([`WebhookVerifier`]), hands the handler the
/// [`WebhookDelivery`](super::WebhookDelivery) (an axum extractor, with
/// `axum`), and runs it once per event.
///
/// Once per event: before the handler runs, the delivery claims its
/// `event.id` in the store with one atomic `put_if_absent`; after the
/// handler answers with a success, the event is marked handled. A
/// redelivery of a handled event gets `200` without the handler; a
/// delivery while another holds the claim gets `503` (MATTR VII retries);
/// a handler that fails leaves the claim to lapse after
/// [`claim_for`](Self::claim_for), so a retry after that runs it again. A
/// store that does not answer is a `503`, never an acceptance. Give every
/// replica the same store ([`RedisStore`](crate::attempts::RedisStore));
/// the default, a [`MemoryStore`], holds for this process only.
///
/// ```
/// use axum::{Router, routing::post};
/// use hook_layer::testing::WebhookSigner;
/// use hook_layer::webhooks::{WebhookDelivery, WebhookLayer, WebhookVerifier};
/// use tower::ServiceExt;
///
/// async fn issued(delivery: WebhookDelivery) -> &'static str {
///     // Record delivery.event.id, delivery.event.payload, ...
///     "recorded"
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mattr = WebhookSigner::from_seed("test-key", [7; 32]); // MATTR VII's side
/// let verifier = WebhookVerifier::new("my-webhook", mattr.keys())
///     .public_url("https://hook.example.com/webhooks/mattr")?;
/// let app = Router::new()
///     .route("/webhooks/mattr", post(issued))
///     .route_layer(WebhookLayer::new(verifier));
///
/// let body = WebhookSigner::delivery("my-webhook", "event-1", "OpenIdCredentialIssued",
///     serde_json::json!({}));
/// let request = mattr.sign(http::Request::post("https://hook.example.com/webhooks/mattr")
///     .body(body)?);
/// let response = app.oneshot(request.map(axum::body::Body::from)).await?;
/// assert_eq!(response.status(), 200);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct WebhookLayer {
    shared: Arc<Shared>,
}

impl WebhookLayer {
    /// A layer verifying with `verifier`, remembering events in a
    /// [`MemoryStore`] of this process.
    pub fn new(verifier: WebhookVerifier) -> Self {
        Self {
            shared: Arc::new(Shared {
                verifier,
                marks: EventMarks {
                    store: Arc::new(MemoryStore::default()),
                    claim_for: DEFAULT_CLAIM,
                    remember_for: DEFAULT_REMEMBER,
                },
            }),
        }
    }

    /// Where events are claimed and marked handled: the store every replica
    /// shares (the attempt limits' store serves).
    pub fn store(self, store: Arc<dyn AttemptStore>) -> Self {
        self.with_marks(|marks| marks.store = store)
    }

    /// How long a delivery holds its event's claim while the handler runs
    /// (30 s by default): longer than the handler takes, shorter than
    /// MATTR VII's retry interval.
    pub fn claim_for(self, duration: Duration) -> Self {
        self.with_marks(|marks| marks.claim_for = duration)
    }

    /// How long a handled event is remembered (7 days by default): longer
    /// than MATTR VII goes on redelivering it.
    pub fn remember_for(self, duration: Duration) -> Self {
        self.with_marks(|marks| marks.remember_for = duration)
    }

    /// The verifier.
    pub fn verifier(&self) -> &WebhookVerifier {
        &self.shared.verifier
    }

    fn with_marks(self, change: impl FnOnce(&mut EventMarks)) -> Self {
        let mut marks = self.shared.marks.clone();
        change(&mut marks);
        Self {
            shared: Arc::new(Shared {
                verifier: self.shared.verifier.clone(),
                marks,
            }),
        }
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService::new(inner, Arc::clone(&self.shared))
    }
}

impl fmt::Debug for WebhookLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookLayer")
            .field("verifier", &self.shared.verifier)
            .field("claim_for", &self.shared.marks.claim_for)
            .field("remember_for", &self.shared.marks.remember_for)
            .finish_non_exhaustive()
    }
}
