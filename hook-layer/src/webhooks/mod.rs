//! MATTR VII's signed webhooks (feature `webhooks`): each delivery
//! verified, handed to the handler as a typed event, once per event.
//!
//! MATTR VII signs every delivery with HTTP Message Signatures (RFC 9421;
//! draft 13, the same bytes for Ed25519) under a per-tenant Ed25519 key
//! published as a JWKS at `https://{tenant}/v1/webhooks/jwks`. It covers
//! the body with `Content-Digest` (RFC 9530), waits 3 s for a 2xx, retries,
//! and may deliver an event twice or out of order.
//!
//! [`WebhookVerifier`] checks one delivery, as svix's and Standard
//! Webhooks' verifiers do: raw body and headers in, a typed
//! [`WebhookDelivery`] or a [`WebhookRejection`] with a stable code out.
//! It refuses, each with its own code:
//!
//! - no signature, or signature fields that are not RFC 9421's shape
//!   (parsed strictly, bounded in length, members, items and parameters);
//! - a `keyid` with no key ([`WebhookKeys`]: a key of another tenant is
//!   unknown here), a signature that does not verify, an `alg` other than
//!   `ed25519`;
//! - a signature that does not cover `content-digest` (the body would not
//!   be signed), covers a header the request does not have (MATTR's own
//!   library would sign the text `undefined`), or covers a component it
//!   cannot rebuild (`@scheme`, which that library signs as `https:`,
//!   `@query-param`, parameters on a component);
//! - `created` further than the tolerance from now (stale, or from the
//!   future), a past `expires`;
//! - a body that does not match `Content-Digest` (SHA-256 or SHA-512),
//!   that is longer than the bound (`413`), that is not a delivery, or
//!   whose `webhookId` is another webhook's.
//!
//! The covered components may be any of `@method`, `@authority`,
//! `@target-uri`, `@path`, `@query`, `@request-target` and header fields;
//! [`WebhookVerifier::public_url`] gives the URL that MATTR VII signs,
//! when a proxy changes the path or host on the way.
//!
//! Keys are given directly ([`WebhookKeys`]), or fetched from the tenant's
//! JWKS ([`RemoteKeys`]: https, or http on loopback; cached; fetched again
//! for an unknown `keyid` at most once per interval; a JWKS that cannot be
//! fetched is a `503`) through the application's HTTP client
//! ([`FetchJwks`]). One verifier serves one webhook of one tenant; a hook
//! for several tenants gives each its own verifier, keys and route.
//!
//! [`WebhookLayer`] puts this in front of a route, reads the body up to
//! the bound, and runs the handler once per `event.id` across replicas
//! (through an [`AttemptStore`](crate::attempts::AttemptStore): memory or
//! Redis); with `axum`, the handler takes the [`WebhookDelivery`] as an
//! extractor.

mod structured;

mod content_digest;
mod signature_fields;

mod signature_base;

mod event;
mod keys;
mod rejection;
mod remote_keys;

mod verifier;

mod once;

#[cfg(feature = "axum")]
mod extract;
mod service;

mod layer;

pub use event::{EventType, MAX_EVENT_ID_LEN, WebhookDelivery, WebhookEvent};
#[cfg(feature = "axum")]
pub use extract::MissingWebhookLayer;
pub use keys::{KeyError, MAX_KEYS, WebhookKeys};
pub use layer::{DEFAULT_CLAIM, DEFAULT_REMEMBER, WebhookLayer};
pub use rejection::WebhookRejection;
pub use remote_keys::{
    DEFAULT_REFRESH_INTERVAL, FetchError, FetchFuture, FetchJwks, JwksUrlError, MAX_JWKS_LEN,
    RemoteKeys,
};
pub use service::{WebhookFuture, WebhookService};
pub use verifier::{DEFAULT_MAX_BODY, DEFAULT_TOLERANCE, PublicUrlError, WebhookVerifier};

// The signing side, for tests here and `testing::WebhookSigner`.
#[cfg(any(test, feature = "test-util"))]
pub(crate) mod signer;
