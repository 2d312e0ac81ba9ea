//! Tower middleware for the MATTR VII interaction hook.
//!
//! MATTR VII sends the holder's browser to your hook with a `session_token`
//! query parameter: an HS256 JWT signed with the hook secret. This crate
//! verifies it, hands your handler a typed [`HookSession`], and, when the
//! interaction is over, signs the response token and redirects the browser
//! back to MATTR VII.
//!
//! ```
//! use axum::{Router, routing::get};
//! use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
//! use tower::ServiceExt;
//!
//! #[derive(Clone, serde::Deserialize)]
//! struct Profile {
//!     given_name: Option<String>,
//! }
//!
//! async fn welcome(session: HookSession<Profile>) -> String {
//!     let name = session.claims().given_name.as_deref().unwrap_or("there");
//!     format!("Welcome, {name}")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret: HookSecret = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=".parse()?;
//! let app = Router::new()
//!     .route("/interaction", get(welcome))
//!     // Guards the routes above only; unknown paths stay 404s.
//!     .route_layer(
//!         InteractionHookLayer::new(secret)
//!             .issuer("https://tenant.vii.au01.mattr.global")
//!             .audience("https://hook.example.com/interaction")
//!             .claims::<Profile>(),
//!     );
//!
//! // A request without a valid token never reaches `welcome`.
//! let request = axum::http::Request::get("/interaction?session_token=forged.token.here")
//!     .body(axum::body::Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), axum::http::StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```
//!
//! # Guides
//!
//! - [`guide::going_live`]: from the MATTR Portal to a live hook: the
//!   secret, the claims and their Rust types, an https address, tests.
//! - [`guide::journey`]: journeys of several pages: the token from page
//!   to page, sealed state, attempt limits, one answer per session.
//! - [`guide::protocol`]: both tokens, the redirect, size limits,
//!   answering once, a native hook.
//! - [`guide::security`]: the threat model, every check, rotating the
//!   secret, reporting a vulnerability.
//! - [`testing`]: [`MockIssuer`](testing::MockIssuer), MATTR VII's side,
//!   for your tests.
//!
//! # Features
//!
//! - `rust-crypto` (default): HMAC-SHA256 through the RustCrypto `hmac`
//!   and `sha2` crates, and no other signature code.
//! - `aws-lc-rs`: HMAC through aws-lc-rs (a FIPS-validated module);
//!   preferred when both are on. With neither, the application installs a
//!   jsonwebtoken `CryptoProvider`.
//! - `axum` (default): [`HookSession`] and `Option<HookSession>` as
//!   extractors ([`MissingSession`] when the layer is missing);
//!   `IntoResponse` for [`HookRedirect`], [`JsonRedirect`], [`Rejection`],
//!   [`CompletionError`] and [`attempts::AnswerError`].
//! - `tracing`: a `debug` event for each request the layer refuses, with
//!   its code and reason and never the token (the service, and
//!   [`verify`](InteractionHookLayer::verify) and
//!   [`verify_request`](InteractionHookLayer::verify_request), not
//!   [`verify_token`](InteractionHookLayer::verify_token)); with `axum`,
//!   an `error` event when a [`CompletionError`] or a [`MissingSession`]
//!   becomes a response.
//! - `seal`: [`HookSession::seal`], [`open`](HookSession::open),
//!   [`seal_for`](HookSession::seal_for) and
//!   [`open_for`](HookSession::open_for): journey state the browser carries
//!   but cannot read, forge, keep past the session or move to another
//!   session or purpose (XChaCha20-Poly1305, key derived from the hook
//!   secret with HKDF-SHA256).
//! - `attempts`: [`attempts::AttemptLimiter`], limits on wrong codes or
//!   resends per session that hold across requests, and
//!   [`attempts::Answers`], one response per session, with the in-memory
//!   [`attempts::MemoryStore`].
//! - `redis` (implies `attempts`): [`attempts::RedisStore`], counts and
//!   answers shared by every replica of the hook.
//! - `redis-tls` (implies `redis`): `rediss://` URLs and a private
//!   certificate authority
//!   ([`RedisStore::connect_with_root_ca`](attempts::RedisStore::connect_with_root_ca)),
//!   through rustls.
//! - `redis-cluster` (implies `redis`):
//!   [`RedisStore::connect_cluster`](attempts::RedisStore::connect_cluster),
//!   counts in a Redis Cluster.
//! - `metrics`: tokens accepted and refused, completions, attempts and
//!   store round trips through the `metrics` facade; the application
//!   installs the exporter. Every metric is listed in [`metrics`].
//! - `config`: [`config::HookSettings`] and
//!   [`InteractionHookLayer::from_env`], the settings every deployment has
//!   (`HOOK_SECRET`, `HOOK_ISSUER`, `HOOK_URL`, or a tenants file,
//!   `HOOK_TENANTS`) read and checked, with errors that name the setting
//!   and never show a secret.
//! - `webhooks` (implies `attempts`): [`webhooks::WebhookVerifier`] and
//!   [`webhooks::WebhookLayer`], MATTR VII's signed webhooks verified
//!   (HTTP Message Signatures with Ed25519, `Content-Digest`), handed to
//!   the handler as a typed [`webhooks::WebhookDelivery`], once per event
//!   across replicas; through `ed25519-dalek` and `sha2`.
//! - `test-util`: [`testing::MockIssuer`], which plays MATTR VII in tests,
//!   and [`testing::SimulatedTenant`], whole issuances for a development
//!   server; with `redis` also [`testing::RedisServer`], a throwaway
//!   `redis-server`; with `webhooks` also [`testing::WebhookSigner`], which
//!   signs webhook deliveries as MATTR VII does.
//! - `cli` (implies `test-util`): the `mattr-hook` command, a simulated
//!   MATTR VII for a hook in any language, a session token explainer and a
//!   token minter (`cargo install --path hook-layer --features cli`). It
//!   adds nothing to the library; clap, axum and tokio are the command's.

// With every feature on (as on docs.rs, and in CI) every link above must
// resolve; with some off, the items they name are not there.
#![cfg_attr(
    not(all(
        feature = "axum",
        feature = "seal",
        feature = "attempts",
        feature = "redis-tls",
        feature = "redis-cluster",
        feature = "metrics",
        feature = "config",
        feature = "test-util",
        feature = "webhooks",
        any(feature = "rust-crypto", feature = "aws-lc-rs")
    )),
    allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)
)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules, bottom to top. Each uses only the modules declared above
// it (tests aside), so no two modules import each other and the crate reads
// from the bottom up. When two modules come to need each other, the part
// they share moves down into a module of its own.

// Parsing helpers, free of the rest of the crate.
mod base64url;
mod clock;
mod members;
mod query;
mod token_source;
mod url_memo;
mod url_spelling;

// What the hook counts (recorded only with the feature `metrics`).
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(not(feature = "metrics"))]
mod metrics;

// HS256 keys, the sealing key derived from the secret, and the secret.
mod jwt;
#[cfg(feature = "seal")]
mod seal_key;
mod secret;

// What a token's issuer and audience are checked against; the tenants.
mod expected;
mod tenant;

// The verification settings, and the verified session, which holds them.
mod policy;
mod session;

// The refusals, the steps that make them, and the whole policy.
mod check;
mod rejection;
mod verify;

// Signing back.
mod completion;

// The journey toolkit: sealed state, attempt limits, one answer a session.
#[cfg(feature = "attempts")]
pub mod attempts;
#[cfg(feature = "seal")]
mod seal;

// MATTR VII's signed webhooks: parsers, verifier, layer (feature
// `webhooks`).
#[cfg(feature = "webhooks")]
pub mod webhooks;

// The tower and axum surface: the service, its future, the extractor.
#[cfg(feature = "axum")]
mod extract;
mod future;
mod service;

// The layer, where a hook is configured: the crate's front door.
mod layer;

// Settings read from the environment or a file, into a layer (feature
// `config`).
#[cfg(feature = "config")]
pub mod config;

// Test support: MockIssuer (feature test-util), the unit tests' fixtures.
#[cfg(test)]
mod fixtures;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

// Documentation only: the guides.
pub mod guide;

pub use check::Check;
pub use clock::{Clock, SystemClock};
pub use completion::{Completion, CompletionError, Failure, HookRedirect, JsonRedirect};
#[cfg(feature = "axum")]
pub use extract::MissingSession;
pub use future::ResponseFuture;
pub use layer::InteractionHookLayer;
pub use policy::SESSION_TOKEN_PARAM;
pub use rejection::{DefaultOnRejection, JsonOnRejection, OnRejection, Rejection};
#[cfg(feature = "seal")]
pub use seal::{MAX_SEALED_LEN, OpenError, SealError};
pub use secret::{HookSecret, MIN_SECRET_LEN, SecretError};
pub use service::InteractionHook;
pub use session::{ClaimsMap, HookSession};
pub use tenant::{Tenant, TenantError};
pub use token_source::TokenSource;

/// The crate README's code blocks, compiled and run as doctests. They use
/// the journey toolkit, the axum extractor and `MockIssuer`, and verify
/// tokens, so they run only when those features and a backend are on
/// (`cargo test -p hook-layer --doc --all-features`).
#[cfg(doctest)]
#[cfg_attr(
    all(
        feature = "axum",
        feature = "seal",
        feature = "attempts",
        feature = "test-util",
        feature = "config",
        feature = "webhooks",
        any(feature = "rust-crypto", feature = "aws-lc-rs")
    ),
    doc = include_str!("../README.md")
)]
pub struct ReadmeDoctests;
