//! The tower `Service` that verifies webhook deliveries and runs the
//! handler once per event.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tower_service::Service;

use super::once::{Begin, EventMarks};
use super::rejection::WebhookRejection;
use super::verifier::WebhookVerifier;

/// The future of [`WebhookService`]: boxed, since it reads the body and
/// asks the store before it calls the handler.
pub type WebhookFuture<ResBody, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResBody>, E>> + Send + 'static>>;

pub(crate) struct Shared {
    pub(crate) verifier: WebhookVerifier,
    pub(crate) marks: EventMarks,
}

/// The middleware made by [`WebhookLayer`](super::WebhookLayer).
///
/// It reads the body up to the verifier's bound, verifies the delivery,
/// and calls the inner service with the body and, in the request's
/// extensions, the [`WebhookDelivery`](super::WebhookDelivery), unless the
/// event was handled before (`200` without calling it) or is being handled
/// (`503`). When the inner service answers with a success, the event is
/// marked handled.
///
/// The request body is any `http_body::Body` that can be made again from
/// the bytes read (`From<Bytes>`: axum's `Body`, `http_body_util::Full`);
/// on plain hyper, map `Incoming` into one of those first, or call
/// [`WebhookVerifier::verify_fetching`] with the body read yourself.
pub struct WebhookService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> WebhookService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Body + From<Bytes> + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = WebhookFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready handles this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let verifier = &shared.verifier;
            let declared = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > verifier.body_limit() as u64) {
                return Ok(refuse(&WebhookRejection::BodyTooLarge));
            }
            let bytes = match Limited::new(body, verifier.body_limit()).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) if error.is::<LengthLimitError>() => {
                    return Ok(refuse(&WebhookRejection::BodyTooLarge));
                }
                Err(_) => return Ok(refuse(&WebhookRejection::UnreadableBody)),
            };
            let delivery = match verifier
                .verify_fetching(&parts.method, &parts.uri, &parts.headers, &bytes)
                .await
            {
                Ok(delivery) => delivery,
                Err(rejection) => return Ok(refuse(&rejection)),
            };
            match shared.marks.begin(&delivery, verifier.now()).await {
                Ok(Begin::Run) => {}
                Ok(Begin::Handled) => {
                    trace_event("webhook event already handled", &delivery);
                    return Ok(already_handled());
                }
                Ok(Begin::InProgress) => return Ok(refuse(&WebhookRejection::EventInProgress)),
                Err(_) => return Ok(refuse(&WebhookRejection::StoreUnavailable)),
            }
            let mut request = Request::from_parts(parts, ReqBody::from(bytes));
            request.extensions_mut().insert(delivery.clone());
            let response = inner.call(request).await?;
            if response.status().is_success() {
                // A mark that cannot be written leaves the claim to lapse:
                // a later redelivery runs the handler again (at least once
                // rather than never).
                if shared
                    .marks
                    .finish(&delivery, verifier.now())
                    .await
                    .is_err()
                {
                    trace_event("webhook event handled, but not marked", &delivery);
                }
            }
            Ok(response)
        })
    }
}

fn refuse<B: From<String>>(rejection: &WebhookRejection) -> Response<B> {
    #[cfg(feature = "tracing")]
    tracing::debug!(code = rejection.code(), "webhook delivery refused");
    rejection.to_response()
}

/// `200`, for a redelivery of an event already handled.
fn already_handled<B: From<String>>() -> Response<B> {
    let mut response = Response::new(B::from(String::new()));
    *response.status_mut() = StatusCode::OK;
    response
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn trace_event(message: &'static str, delivery: &super::WebhookDelivery) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        event_id = %delivery.event.id,
        event_type = %delivery.event.event_type,
        "{message}"
    );
}

impl<S: Clone> Clone for WebhookService<S> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), Arc::clone(&self.shared))
    }
}

impl<S: fmt::Debug> fmt::Debug for WebhookService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookService")
            .field("inner", &self.inner)
            .field("verifier", &self.shared.verifier)
            .finish_non_exhaustive()
    }
}
