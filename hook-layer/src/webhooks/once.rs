//! Once per event: marks in an [`AttemptStore`], so that a redelivered
//! event is acknowledged without running the handler again, on every
//! replica that shares the store.

use std::sync::Arc;
use std::time::Duration;

use crate::attempts::{AttemptStore, StoreError};

use super::event::WebhookDelivery;

/// What to do with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// This delivery holds the event's claim: run the handler.
    Run,
    /// The event was handled before: acknowledge it.
    Handled,
    /// Another delivery of the event holds the claim: retry later.
    InProgress,
}

/// The marks of one layer: a claim per event while a handler runs (for
/// `claim_for`), and a mark per handled event (for `remember_for`).
#[derive(Clone)]
pub(crate) struct EventMarks {
    pub(crate) store: Arc<dyn AttemptStore>,
    pub(crate) claim_for: Duration,
    pub(crate) remember_for: Duration,
}

impl EventMarks {
    fn key(kind: &str, delivery: &WebhookDelivery) -> String {
        // The webhook id is the configured one (checked), the event id
        // bounded and printable (parse_delivery). The webhook id's length
        // goes first, so that no two (webhook, event) pairs share a key
        // when several webhooks share a store, whatever `:` they hold.
        format!(
            "hook-layer:webhook-{kind}:{}:{}:{}",
            delivery.webhook_id.len(),
            delivery.webhook_id,
            delivery.event.id
        )
    }

    /// Claims the event unless it was handled or is being handled: one
    /// atomic `put_if_absent` decides between parallel deliveries.
    pub(crate) async fn begin(
        &self,
        delivery: &WebhookDelivery,
        now: u64,
    ) -> Result<Begin, StoreError> {
        let done = Self::key("done", delivery);
        if self.store.get(&done, now).await?.is_some() {
            return Ok(Begin::Handled);
        }
        let claim = Self::key("claim", delivery);
        let until = now.saturating_add(self.claim_for.as_secs().max(1));
        match self
            .store
            .put_if_absent(&claim, &delivery.delivery_id, now, until)
            .await?
        {
            None => Ok(Begin::Run),
            // The claim's holder may have finished in between.
            Some(_) if self.store.get(&done, now).await?.is_some() => Ok(Begin::Handled),
            Some(_) => Ok(Begin::InProgress),
        }
    }

    /// Marks the event handled, after its handler succeeded.
    pub(crate) async fn finish(
        &self,
        delivery: &WebhookDelivery,
        now: u64,
    ) -> Result<(), StoreError> {
        let done = Self::key("done", delivery);
        let until = now.saturating_add(self.remember_for.as_secs().max(1));
        self.store
            .put_if_absent(&done, &delivery.delivery_id, now, until)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempts::MemoryStore;
    use crate::webhooks::event::parse_delivery;

    fn delivery(event: &str) -> WebhookDelivery {
        let body = crate::webhooks::signer::WebhookSigner::delivery(
            "w",
            event,
            "T",
            serde_json::json!({}),
        );
        parse_delivery(&body).unwrap()
    }

    #[test]
    fn keys_tell_webhooks_apart_whatever_their_ids_hold() {
        let mut a = delivery("b:c");
        a.webhook_id = "a".into();
        let mut b = delivery("c");
        b.webhook_id = "a:b".into();
        assert_ne!(EventMarks::key("done", &a), EventMarks::key("done", &b));
        assert_ne!(EventMarks::key("done", &a), EventMarks::key("claim", &a));
    }

    #[tokio::test]
    async fn claims_once_then_acknowledges_and_lets_a_lapsed_claim_go() {
        let marks = EventMarks {
            store: Arc::new(MemoryStore::new(100)),
            claim_for: Duration::from_secs(30),
            remember_for: Duration::from_secs(3600),
        };
        let first = delivery("e-1");
        assert_eq!(marks.begin(&first, 1000).await.unwrap(), Begin::Run);
        assert_eq!(marks.begin(&first, 1001).await.unwrap(), Begin::InProgress);
        // Another event is independent.
        assert_eq!(
            marks.begin(&delivery("e-2"), 1001).await.unwrap(),
            Begin::Run
        );
        // A handler that failed leaves the claim to lapse; then a retry runs.
        assert_eq!(marks.begin(&first, 1030).await.unwrap(), Begin::Run);
        marks.finish(&first, 1031).await.unwrap();
        assert_eq!(marks.begin(&first, 1032).await.unwrap(), Begin::Handled);
        assert_eq!(marks.begin(&first, 4630).await.unwrap(), Begin::Handled);
        assert_eq!(marks.begin(&first, 4631).await.unwrap(), Begin::Run);
    }
}
