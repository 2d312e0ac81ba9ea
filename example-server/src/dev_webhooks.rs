//! The simulated MATTR VII's webhooks: after an issuance completes, an
//! `OpenIdCredentialIssued` event signed with its own key (whose JWKS it
//! serves at [`DEV_JWKS_PATH`](crate::webhook_settings::DEV_JWKS_PATH)),
//! delivered twice to this server's webhook route, as MATTR VII may
//! deliver an event more than once: the hook handles it once.
//!
//! Deliveries go over loopback HTTP to the address this server listens
//! on, in a task of their own: the holder's page never waits for them, and
//! a delivery that fails is logged, nothing more.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hook_layer::ClaimsMap;
use hook_layer::testing::WebhookSigner;
use http::header::{CONTENT_TYPE, HOST};
use http::{Request, Uri};
use tokio::net::TcpStream;

use crate::http_client::exchange;
use crate::webhook_settings::WebhookSettings;

/// How many times each event is delivered.
const DELIVERIES: usize = 2;
/// How long a delivery may take: MATTR VII waits 3 s for an answer.
const DELIVERY_WITHIN: Duration = Duration::from_secs(3);
/// The longest answer read.
const MAX_ANSWER: usize = 4096;

/// The simulated MATTR VII's webhook: its key, and where it delivers.
pub struct SimulatedWebhooks {
    signer: WebhookSigner,
    webhook_id: String,
    /// The URL signed, as MATTR VII signs the webhook URL configured.
    public_url: String,
    /// Where deliveries are sent: this server.
    target: SocketAddr,
    path: String,
}

impl SimulatedWebhooks {
    /// The simulated tenant's webhook for `settings`, with a fresh random
    /// key; `None` outside dev mode or without randomness.
    pub fn new(settings: &WebhookSettings) -> Option<Self> {
        let target = settings.simulated_at?;
        let mut seed = [0u8; 32];
        if let Err(error) = getrandom::fill(&mut seed) {
            tracing::error!(%error, "the simulated MATTR VII has no webhook key");
            return None;
        }
        Some(Self {
            signer: WebhookSigner::from_seed("dev-webhook-key", seed),
            webhook_id: settings.id.clone(),
            public_url: settings.public_url.clone(),
            target,
            path: settings.path.clone(),
        })
    }

    /// The JWKS with the simulated tenant's public key.
    pub fn jwks(&self) -> String {
        self.signer.jwks()
    }

    /// Sends `OpenIdCredentialIssued` for the issuance `state`, which
    /// issued `claims`, twice, in a task of its own.
    pub fn issued(self: &Arc<Self>, state: &str, claims: &ClaimsMap) {
        let webhooks = Arc::clone(self);
        let payload = serde_json::json!({ "state": state, "claims": claims });
        tokio::spawn(async move {
            let event_id = random_id();
            // One after the other, as MATTR VII retries: the second finds
            // the event handled.
            for attempt in 1..=DELIVERIES {
                let body = webhooks.delivery_body(&event_id, &payload);
                let outcome = webhooks.deliver(body).await;
                match outcome {
                    Ok(status) => tracing::info!(
                        event_id,
                        delivery = attempt,
                        status,
                        "simulated MATTR VII: webhook delivery answered"
                    ),
                    Err(error) => tracing::warn!(
                        event_id,
                        delivery = attempt,
                        %error,
                        "simulated MATTR VII: webhook delivery failed"
                    ),
                }
            }
        });
    }

    /// A delivery of the event, with its own delivery id.
    fn delivery_body(&self, event_id: &str, payload: &serde_json::Value) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        serde_json::json!({
            "deliveryId": random_id(),
            "deliveryTimestamp": now,
            "webhookId": self.webhook_id,
            "event": {
                "id": event_id,
                "type": "OpenIdCredentialIssued",
                "payload": payload,
                "timestamp": now,
            },
        })
        .to_string()
        .into_bytes()
    }

    /// Signs `body` for the public URL and posts it to this server: the
    /// answer's status.
    async fn deliver(
        &self,
        body: Vec<u8>,
    ) -> Result<u16, Box<dyn std::error::Error + Send + Sync>> {
        let request = Request::post(self.public_url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header("x-mattr-webhook-id", self.webhook_id.as_str())
            .header("x-mattr-event-type", "OpenIdCredentialIssued")
            .body(body)?;
        let mut request = self.signer.sign(request);
        // Sent to the path this server mounts, as a proxy in front of it
        // would: the signature covers the public URL's.
        *request.uri_mut() = Uri::try_from(self.path.as_str())?;
        request
            .headers_mut()
            .insert(HOST, self.target.to_string().try_into()?);
        let answer = async {
            let tcp = TcpStream::connect(self.target).await?;
            let (status, _) = exchange(tcp, request, MAX_ANSWER).await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(status.as_u16())
        };
        tokio::time::timeout(DELIVERY_WITHIN, answer)
            .await
            .map_err(|_| "timed out")?
    }
}

/// 16 random bytes as a UUID-shaped string, as MATTR VII's ids are.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness, ids are all zero: the event is then one event.
    let _ = getrandom::fill(&mut bytes);
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
