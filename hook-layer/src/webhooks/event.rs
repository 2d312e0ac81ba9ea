//! The body of a MATTR VII webhook delivery, typed.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The longest `event.id` accepted, in bytes (MATTR VII's are UUIDs).
pub const MAX_EVENT_ID_LEN: usize = 128;

/// One delivery of one event: the body MATTR VII posts, `{deliveryId,
/// deliveryTimestamp, webhookId, event}`.
///
/// A redelivery of an event has a new `delivery_id` and the same
/// `event.id`, which is what "once per event" keys on.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// This delivery's id; changes on every retry.
    pub delivery_id: String,
    /// When this delivery was sent, as MATTR VII wrote it.
    #[serde(default)]
    pub delivery_timestamp: Option<String>,
    /// The webhook (subscription) this delivery is for.
    pub webhook_id: String,
    /// The event.
    pub event: WebhookEvent,
}

/// An event: its id, its type and its payload.
///
/// `Debug` shows the id and type, never the payload, which holds
/// personal data (the credential's claims).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event's id, the same on every delivery of it.
    pub id: String,
    /// The event's type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the event happened, as MATTR VII wrote it.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The payload, as sent; read it into a type with
    /// [`payload_as`](Self::payload_as).
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl WebhookEvent {
    /// The payload read into `T`: a type with the fields the application
    /// uses, each payload's shape being MATTR VII's to evolve.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEvent")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookDelivery")
            .field("delivery_id", &self.delivery_id)
            .field("webhook_id", &self.webhook_id)
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

/// The type of an event: those an issuer records by name, any other as
/// sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum EventType {
    /// `OpenIdCredentialIssued`: a credential was issued over OpenID4VCI.
    OpenIdCredentialIssued,
    /// `OpenIdCredentialIssuedSummary`: the same, without the claims.
    OpenIdCredentialIssuedSummary,
    /// `OidcIssuerCredentialIssued`: a credential was issued by an OIDC
    /// issuer.
    OidcIssuerCredentialIssued,
    /// Any other type, as sent.
    Other(String),
}

impl EventType {
    /// The type's name, as MATTR VII sends it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::OpenIdCredentialIssued => "OpenIdCredentialIssued",
            Self::OpenIdCredentialIssuedSummary => "OpenIdCredentialIssuedSummary",
            Self::OidcIssuerCredentialIssued => "OidcIssuerCredentialIssued",
            Self::Other(name) => name,
        }
    }
}

impl From<String> for EventType {
    fn from(name: String) -> Self {
        match name.as_str() {
            "OpenIdCredentialIssued" => Self::OpenIdCredentialIssued,
            "OpenIdCredentialIssuedSummary" => Self::OpenIdCredentialIssuedSummary,
            "OidcIssuerCredentialIssued" => Self::OidcIssuerCredentialIssued,
            _ => Self::Other(name),
        }
    }
}

impl From<EventType> for String {
    fn from(event_type: EventType) -> Self {
        event_type.as_str().to_owned()
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a delivery from the (already authenticated) body; the reason
/// names what is wrong, never a value.
pub(crate) fn parse_delivery(body: &[u8]) -> Result<WebhookDelivery, &'static str> {
    let delivery: WebhookDelivery =
        serde_json::from_slice(body).map_err(|_| "the body is not a webhook delivery")?;
    let id = &delivery.event.id;
    if id.is_empty() || id.len() > MAX_EVENT_ID_LEN {
        return Err("event.id is empty or too long");
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("event.id holds characters other than printable ASCII");
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"deliveryId": "d-1", "deliveryTimestamp": "2026-01-01T00:00:00Z",
        "webhookId": "w-1", "event": {"id": "e-1", "type": "OpenIdCredentialIssued",
        "timestamp": "2026-01-01T00:00:00Z", "payload": {"userId": "u-1", "claims": {"name": "Ana"}}}}"#;

    #[test]
    fn reads_a_delivery_and_hides_its_payload_from_debug() {
        let delivery = parse_delivery(BODY.as_bytes()).unwrap();
        assert_eq!(delivery.webhook_id, "w-1");
        assert_eq!(delivery.event.event_type, EventType::OpenIdCredentialIssued);
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Issued {
            user_id: String,
        }
        assert_eq!(
            delivery.event.payload_as::<Issued>().unwrap().user_id,
            "u-1"
        );
        let debug = format!("{delivery:?}");
        assert!(debug.contains("e-1") && debug.contains("OpenIdCredentialIssued"));
        assert!(!debug.contains("Ana") && !debug.contains("u-1"), "{debug}");
    }

    #[test]
    fn keeps_unknown_types_and_refuses_bad_ids() {
        let other = BODY.replace("OpenIdCredentialIssued", "SomethingNew");
        let delivery = parse_delivery(other.as_bytes()).unwrap();
        assert_eq!(
            delivery.event.event_type,
            EventType::Other("SomethingNew".into())
        );
        assert_eq!(delivery.event.event_type.to_string(), "SomethingNew");
        let empty = BODY.replace("\"e-1\"", "\"\"");
        assert!(parse_delivery(empty.as_bytes()).is_err());
        let spaced = BODY.replace("\"e-1\"", "\"e 1\"");
        assert!(parse_delivery(spaced.as_bytes()).is_err());
        let long = BODY.replace("e-1", &"e".repeat(MAX_EVENT_ID_LEN + 1));
        assert!(parse_delivery(long.as_bytes()).is_err());
        assert!(parse_delivery(b"{}").is_err());
        assert!(parse_delivery(b"not json").is_err());
    }
}
