//! MATTR VII's webhooks: `POST` at the webhook path (`HOOK_WEBHOOK_PATH`),
//! each delivery verified by `hook_layer::webhooks::WebhookLayer` with the
//! tenant's keys (fetched from `HOOK_WEBHOOK_JWKS_URL`), and handled once
//! per event across replicas, its marks in the attempt store.
//!
//! What an issuer does with an event (record which credential went to
//! whom, to revoke it later) is its own; this handler logs the event's id
//! and type, never its payload (the credential's claims), and counts it.

use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use hook_layer::attempts::AttemptStore;
use hook_layer::webhooks::{EventType, RemoteKeys, WebhookDelivery, WebhookLayer, WebhookVerifier};

use crate::jwks_client::JwksClient;
use crate::prometheus;
use crate::webhook_settings::WebhookSettings;

/// The webhook route, its events' marks kept in `store` (the attempt
/// store, shared by every replica when it is Redis).
pub fn router(settings: &WebhookSettings, store: Arc<dyn AttemptStore>) -> Router {
    let verifier = RemoteKeys::new(&settings.jwks_url, JwksClient::new())
        .map(|keys| WebhookVerifier::with_jwks(settings.id.clone(), keys))
        .map_err(|error| error.to_string())
        .and_then(|verifier| {
            verifier
                .public_url(&settings.public_url)
                .map_err(|error| error.to_string())
        });
    let verifier = match verifier {
        Ok(verifier) => verifier,
        // Not reached: the settings were checked as they were read.
        Err(error) => {
            tracing::error!(%error, "webhooks are not received");
            return Router::new();
        }
    };
    Router::new()
        .route(&settings.path, post(event))
        .route_layer(WebhookLayer::new(verifier).store(store))
}

/// One verified event, seen for the first time (a redelivery is
/// acknowledged by the layer without reaching here).
async fn event(delivery: WebhookDelivery) -> &'static str {
    let event_type = type_name(&delivery.event.event_type);
    tracing::info!(event_id = delivery.event.id, event_type, "webhook event");
    metrics::counter!(prometheus::WEBHOOK_EVENTS, "event_type" => event_type).increment(1);
    "recorded"
}

/// The type's name when it is one MATTR VII documents, `other` for the
/// rest: a label with a few values, and a log field that holds nothing
/// unexpected.
fn type_name(event_type: &EventType) -> &'static str {
    match event_type {
        EventType::OpenIdCredentialIssued => "OpenIdCredentialIssued",
        EventType::OpenIdCredentialIssuedSummary => "OpenIdCredentialIssuedSummary",
        EventType::OidcIssuerCredentialIssued => "OidcIssuerCredentialIssued",
        _ => "other",
    }
}
