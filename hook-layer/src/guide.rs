//! Guides: the protocol, the path to a live hook, journeys of several
//! pages, and security. Documentation only; nothing here is code.
//!
//! - [`going_live`]: from the MATTR Portal to a live hook: the
//!   configuration on the tenant, the secret, the claims and their Rust
//!   types, an https address (tunnels, proxies), tests before the first
//!   holder.
//! - [`journey`]: several pages: the token from page to page, sealed
//!   state, attempt limits, one answer per session.
//! - [`protocol`]: the interaction hook protocol as this crate implements
//!   it: both tokens, the redirect, size limits, answering once, a native
//!   hook.
//! - [`security`]: the threat model, every check and where it is tested,
//!   rotating the secret, reporting a vulnerability.
//!
//! The protocol and security guides are also the repository's
//! `PROTOCOL.md` and `SECURITY.md`.

// Each guide is a Markdown file inside the package (`docs/`), so that the
// crate's documentation builds wherever the package is published. Their
// examples are doctests, which need the journey toolkit and MockIssuer.

#[cfg_attr(
    all(feature = "test-util", any(feature = "rust-crypto", feature = "aws-lc-rs")),
    doc = include_str!("../docs/going-live.md")
)]
#[cfg_attr(
    not(all(
        feature = "test-util",
        any(feature = "rust-crypto", feature = "aws-lc-rs")
    )),
    doc = "From the MATTR Portal to a live hook. (This guide is built with the \
           features `test-util` and `rust-crypto` or `aws-lc-rs`, as on docs.rs.)"
)]
pub mod going_live {}

#[cfg_attr(
    all(
        feature = "seal",
        feature = "attempts",
        feature = "test-util",
        any(feature = "rust-crypto", feature = "aws-lc-rs")
    ),
    doc = include_str!("../docs/journey.md")
)]
#[cfg_attr(
    not(all(
        feature = "seal",
        feature = "attempts",
        feature = "test-util",
        any(feature = "rust-crypto", feature = "aws-lc-rs")
    )),
    doc = "Journeys of several pages. (This guide is built with the features \
           `seal`, `attempts`, `test-util` and `rust-crypto` or `aws-lc-rs`, as \
           on docs.rs.)"
)]
pub mod journey {}

#[doc = include_str!("../docs/protocol.md")]
///
/// [`InteractionHookLayer::allow_tokens_without_lifetime`]: crate::InteractionHookLayer::allow_tokens_without_lifetime
/// [`HookSession::complete`]: crate::HookSession::complete
/// [`HookSession::fail`]: crate::HookSession::fail
/// [`MockIssuer::read_redirect`]: crate::testing::MockIssuer::read_redirect
/// [`HookRedirect::json`]: crate::HookRedirect::json
/// [`attempts::Answers`]: crate::attempts::Answers
pub mod protocol {}

#[doc = include_str!("../docs/security.md")]
///
/// [`TokenSource::Bearer`]: crate::TokenSource::Bearer
/// [`.allow_tokens_without_lifetime()`]: crate::InteractionHookLayer::allow_tokens_without_lifetime
/// [`attempts::Answers`]: crate::attempts::Answers
/// [`Completion::redirect_once`]: crate::Completion::redirect_once
/// [`Failure::redirect_once`]: crate::Failure::redirect_once
/// [`MockIssuer`]: crate::testing::MockIssuer
/// [`HookSession::open`]: crate::HookSession::open
/// [`InteractionHookLayer::previous_secret`]: crate::InteractionHookLayer::previous_secret
/// [`Tenant::previous_secret`]: crate::Tenant::previous_secret
pub mod security {}
