//! [`WebhookDelivery`] as an axum extractor.

use std::fmt;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use super::event::WebhookDelivery;

impl<S: Send + Sync> FromRequestParts<S> for WebhookDelivery {
    type Rejection = MissingWebhookLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(MissingWebhookLayer)
    }
}

/// A handler asked for a [`WebhookDelivery`] on a route that is not behind
/// a [`WebhookLayer`](super::WebhookLayer): the server's mistake, a `500`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingWebhookLayer;

impl fmt::Display for MissingWebhookLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no WebhookDelivery in the request: is this route behind WebhookLayer?")
    }
}

impl std::error::Error for MissingWebhookLayer {}

impl IntoResponse for MissingWebhookLayer {
    fn into_response(self) -> Response {
        #[cfg(feature = "tracing")]
        tracing::error!("{self}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "webhook verification is not configured",
        )
            .into_response()
    }
}
