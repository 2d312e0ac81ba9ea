//! The checks a session token goes through, in the order the verifier
//! makes them, so that a refusal can say which one failed and which ones
//! passed before it.

use std::fmt;

/// One step of verification. [`Check::ALL`] lists them in the order the
/// layer makes them; [`Rejection::check`](crate::Rejection::check) names
/// the step that refused a token, so every step before it passed and none
/// after it ran.
///
/// The order is that of a layer serving one tenant (with any number of
/// secrets). A layer serving several tenants reads `iss` before the
/// signature, to choose whose secrets to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The request carries exactly one token, well encoded, where the
    /// layer reads it.
    Request,
    /// The token is no longer than the configured maximum.
    Length,
    /// Three base64url segments, the first a JSON object.
    Form,
    /// The header says `HS256` and demands no extension (`crit`).
    Header,
    /// The signature matches the hook secret (or a previous one).
    Signature,
    /// The payload is a JSON object with unique claim names.
    Payload,
    /// `exp`, `nbf` and `iat` are NumericDates that make the token valid now.
    Lifetime,
    /// `iss` is the tenant.
    Issuer,
    /// `aud` names the hook.
    Audience,
    /// `state` is a string.
    State,
    /// `redirectUrl` passes the redirect policy.
    RedirectUrl,
    /// The user claims fit the claims type.
    Claims,
}

impl Check {
    /// Every check, in the order the layer makes them.
    pub const ALL: [Check; 12] = [
        Check::Request,
        Check::Length,
        Check::Form,
        Check::Header,
        Check::Signature,
        Check::Payload,
        Check::Lifetime,
        Check::Issuer,
        Check::Audience,
        Check::State,
        Check::RedirectUrl,
        Check::Claims,
    ];

    /// A short, stable name, e.g. `signature`.
    pub fn name(self) -> &'static str {
        match self {
            Check::Request => "request",
            Check::Length => "length",
            Check::Form => "form",
            Check::Header => "header",
            Check::Signature => "signature",
            Check::Payload => "payload",
            Check::Lifetime => "lifetime",
            Check::Issuer => "issuer",
            Check::Audience => "audience",
            Check::State => "state",
            Check::RedirectUrl => "redirect_url",
            Check::Claims => "claims",
        }
    }

    /// What the check asks of the token, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Check::Request => "one session token, well encoded, where the layer reads it",
            Check::Length => "no longer than the maximum token length",
            Check::Form => "three base64url segments, the header a JSON object",
            Check::Header => "alg HS256, no crit",
            Check::Signature => "HMAC-SHA256 under the hook secret",
            Check::Payload => "a JSON object with unique claim names",
            Check::Lifetime => "exp, nbf and iat make it valid now (with the leeway)",
            Check::Issuer => "iss is the tenant",
            Check::Audience => "aud names the hook",
            Check::State => "state is a string",
            Check::RedirectUrl => "redirectUrl passes the redirect policy",
            Check::Claims => "claims is an object that fits the claims type",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
