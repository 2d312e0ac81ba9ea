//! Why a request was refused, and the response it gets.

use std::fmt;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};

use crate::check::Check;

/// The reasons of [`Rejection::MalformedToken`] that belong to a check
/// other than [`Check::Form`]: the verifier refuses with these constants,
/// and [`Rejection::check`] knows the step by them.
pub(crate) mod malformed {
    /// The `Authorization` header is there but is not a bearer token.
    pub(crate) const AUTHORIZATION: &str = "the Authorization header is not `Bearer <token>`";
    /// The payload is not base64url.
    pub(crate) const PAYLOAD_BASE64: &str = "the payload is not base64url";
    /// The decoded payload is not UTF-8.
    pub(crate) const PAYLOAD_UTF8: &str = "the payload is not UTF-8";
    /// The decoded payload is not a JSON object, or repeats a name.
    pub(crate) const PAYLOAD_OBJECT: &str =
        "the payload is not a JSON object with unique claim names";
    /// Every reason that refuses the payload.
    pub(crate) const PAYLOAD: [&str; 3] = [PAYLOAD_BASE64, PAYLOAD_UTF8, PAYLOAD_OBJECT];
}

/// Why the layer refused a request. The inner service never sees a refused
/// request.
///
/// Every variant has a stable [status](Rejection::status), a stable
/// machine-readable [code](Rejection::code) and a short `Display` message
/// that never contains the token, the secret or a claim value. The statuses
/// follow RFC 6750 section 3.1: `400` for a request the layer cannot read
/// (`invalid_request`), `401` for a token it does not accept
/// (`invalid_token`, or no error code when there is no token at all).
///
/// | code | status |
/// |---|---|
/// | `missing_token` | 401 |
/// | `duplicate_token`, `conflicting_tokens`, `token_in_query`, `bad_encoding`, `token_too_long` | 400 |
/// | `malformed_token`, `critical_header`, `wrong_algorithm`, `bad_signature` | 401 |
/// | `expired`, `not_yet_valid`, `no_lifetime` | 401 |
/// | `wrong_issuer`, `wrong_audience`, `missing_claim`, `invalid_claim` | 401 |
/// | `invalid_redirect_url` | 401 |
/// | `claims_mismatch`, `crypto_failure` | 500 |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The request has no session token parameter, or it is empty.
    MissingToken,
    /// The session token parameter, or the `Authorization` header, appears
    /// more than once.
    DuplicateToken,
    /// The request carries one token in the query and another in its
    /// `Authorization: Bearer` header (with
    /// [`TokenSource::QueryOrBearer`](crate::TokenSource::QueryOrBearer)).
    ConflictingTokens,
    /// The request carries a session token parameter in its query, where
    /// [`TokenSource::Bearer`](crate::TokenSource::Bearer) takes none: the
    /// token belongs in the `Authorization: Bearer` header alone, and a
    /// query may be logged on its way.
    TokenInQuery,
    /// The parameter has bad percent-encoding or does not decode to UTF-8.
    BadEncoding,
    /// The parameter is longer than the configured maximum (checked before
    /// any decoding).
    TokenTooLong {
        /// The parameter's length as sent, in bytes.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// Not a compact JWS: wrong number of segments, bad base64url, or a
    /// header or payload that is not a JSON object.
    MalformedToken(&'static str),
    /// The header has a `crit` parameter: it demands extensions this
    /// verifier does not implement (RFC 7515 section 4.1.11).
    CriticalHeader,
    /// The header's `alg` is not exactly `HS256`.
    WrongAlgorithm,
    /// The signature does not match the hook secret.
    BadSignature,
    /// Past `exp` (plus leeway), or, for a token without `exp`, older than
    /// the maximum age.
    Expired,
    /// Before `nbf`, or `iat` in the future (beyond the leeway).
    NotYetValid,
    /// Neither `exp` nor `iat`: the token's lifetime cannot be bounded.
    /// [`InteractionHookLayer::allow_tokens_without_lifetime`](crate::InteractionHookLayer::allow_tokens_without_lifetime)
    /// accepts such tokens, with the risk its documentation explains.
    NoLifetime,
    /// `iss` is not the configured issuer (tenant URL).
    WrongIssuer,
    /// `aud` does not name the configured audience (hook URL).
    WrongAudience,
    /// A required claim (`iss`, `aud`, `state`, `redirectUrl`) is absent.
    MissingClaim(&'static str),
    /// A claim has the wrong type or an impossible value.
    InvalidClaim(&'static str),
    /// The user claims do not fit the claims type the layer was built with.
    /// The token is authentic, so this is the server's configuration: the
    /// type expects a claim the tenant is not configured to send (make it
    /// an `Option`), or the wrong type. Hence a 500.
    ClaimsMismatch,
    /// `redirectUrl` fails the redirect policy; the reason says which rule.
    InvalidRedirectUrl(&'static str),
    /// The crypto provider failed; not the client's fault (500).
    CryptoFailure,
}

impl Rejection {
    /// The HTTP status of the default response.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::DuplicateToken
            | Self::ConflictingTokens
            | Self::TokenInQuery
            | Self::BadEncoding
            | Self::TokenTooLong { .. } => StatusCode::BAD_REQUEST,
            Self::ClaimsMismatch | Self::CryptoFailure => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The check that refused the token: every [`Check`] before it in
    /// [`Check::ALL`] passed, and none after it ran (for a layer serving
    /// one tenant; see [`Check`]).
    ///
    /// ```
    /// use hook_layer::{Check, Rejection};
    ///
    /// assert_eq!(Rejection::BadSignature.check(), Check::Signature);
    /// assert_eq!(Rejection::MissingClaim("aud").check(), Check::Audience);
    /// ```
    pub fn check(&self) -> Check {
        match self {
            Self::MissingToken
            | Self::DuplicateToken
            | Self::ConflictingTokens
            | Self::TokenInQuery
            | Self::BadEncoding => Check::Request,
            Self::TokenTooLong { .. } => Check::Length,
            // The payload is decoded only once the signature has passed,
            // and the Authorization header is read before the token.
            Self::MalformedToken(why) if malformed::PAYLOAD.contains(why) => Check::Payload,
            Self::MalformedToken(malformed::AUTHORIZATION) => Check::Request,
            Self::MalformedToken(_) => Check::Form,
            Self::CriticalHeader | Self::WrongAlgorithm => Check::Header,
            Self::BadSignature | Self::CryptoFailure => Check::Signature,
            Self::Expired | Self::NotYetValid | Self::NoLifetime => Check::Lifetime,
            Self::WrongIssuer => Check::Issuer,
            Self::WrongAudience => Check::Audience,
            Self::MissingClaim(claim) | Self::InvalidClaim(claim) => match *claim {
                "iss" => Check::Issuer,
                "aud" => Check::Audience,
                "state" => Check::State,
                "redirectUrl" => Check::RedirectUrl,
                "claims" => Check::Claims,
                _ => Check::Lifetime,
            },
            Self::InvalidRedirectUrl(_) => Check::RedirectUrl,
            Self::ClaimsMismatch => Check::Claims,
        }
    }

    /// A stable, machine-readable name for the cause, e.g. `bad_signature`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::DuplicateToken => "duplicate_token",
            Self::ConflictingTokens => "conflicting_tokens",
            Self::TokenInQuery => "token_in_query",
            Self::BadEncoding => "bad_encoding",
            Self::TokenTooLong { .. } => "token_too_long",
            Self::MalformedToken(_) => "malformed_token",
            Self::CriticalHeader => "critical_header",
            Self::WrongAlgorithm => "wrong_algorithm",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::NoLifetime => "no_lifetime",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::ClaimsMismatch => "claims_mismatch",
            Self::InvalidRedirectUrl(_) => "invalid_redirect_url",
            Self::CryptoFailure => "crypto_failure",
        }
    }

    /// The default response: the status, the message as `text/plain`, a
    /// `WWW-Authenticate` challenge on 401s, `Cache-Control: no-store`, and
    /// the rejection itself in the response extensions.
    ///
    /// Custom responses can start from here with their own body.
    pub fn to_response<B>(&self, body: B) -> Response<B> {
        let mut response = Response::new(body);
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge() {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response.extensions_mut().insert(self.clone());
        response
    }

    /// RFC 6750 section 3: no error code when there was no token at all.
    /// A token in the query of a bearer-only endpoint is a request in the
    /// wrong form (`invalid_request`), challenged whether or not it also
    /// sent the header, so that the client learns where the token goes.
    fn challenge(&self) -> Option<&'static str> {
        match self.status() {
            StatusCode::UNAUTHORIZED if *self == Self::MissingToken => Some("Bearer"),
            StatusCode::UNAUTHORIZED => Some("Bearer error=\"invalid_token\""),
            _ if *self == Self::TokenInQuery => Some("Bearer error=\"invalid_request\""),
            _ => None,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingToken => f.write_str("the request carries no session token"),
            Self::DuplicateToken => {
                f.write_str("the session token parameter appears more than once")
            }
            Self::ConflictingTokens => f.write_str(
                "the request carries different session tokens in its query and its \
                 Authorization header",
            ),
            Self::TokenInQuery => f.write_str(
                "the session token goes in the Authorization header (Bearer) only, not in the \
                 query",
            ),
            Self::BadEncoding => {
                f.write_str("the session token parameter is not valid percent-encoded UTF-8")
            }
            Self::TokenTooLong { len, max } => {
                write!(
                    f,
                    "the session token is {len} bytes long; the limit is {max}"
                )
            }
            Self::MalformedToken(why) => write!(f, "the session token is malformed: {why}"),
            Self::CriticalHeader => f.write_str(
                "the session token header has a `crit` parameter, which is not supported",
            ),
            Self::WrongAlgorithm => f.write_str("the session token is not signed with HS256"),
            Self::BadSignature => f.write_str("the session token signature is not valid"),
            Self::Expired => f.write_str("the session token has expired"),
            Self::NotYetValid => {
                f.write_str("the session token is not valid yet; check the server clock")
            }
            Self::NoLifetime => f.write_str(
                "the session token has neither `exp` nor `iat`; if the tenant sends such tokens, \
                 see InteractionHookLayer::allow_tokens_without_lifetime",
            ),
            Self::WrongIssuer => f.write_str("the session token was issued by another tenant"),
            Self::WrongAudience => f.write_str("the session token is addressed to another hook"),
            Self::MissingClaim(claim) => write!(f, "the session token has no `{claim}` claim"),
            Self::InvalidClaim(claim) => {
                write!(f, "the session token's `{claim}` claim is not valid")
            }
            Self::ClaimsMismatch => {
                f.write_str("the session token's user claims do not have the expected shape")
            }
            Self::InvalidRedirectUrl(why) => {
                write!(
                    f,
                    "the session token's `redirectUrl` is not acceptable: {why}"
                )
            }
            Self::CryptoFailure => f.write_str("the session token could not be checked"),
        }
    }
}

impl std::error::Error for Rejection {}

/// Builds the response for a refused request. Set with
/// [`InteractionHookLayer::on_rejection`](crate::InteractionHookLayer::on_rejection).
///
/// Any `Fn(&Rejection) -> Response<B>` implements it, e.g. to render an HTML
/// error page. The layer adds the rejection to the response extensions and
/// `Cache-Control: no-store` / `Referrer-Policy: no-referrer` where the
/// response has none.
pub trait OnRejection<B> {
    /// The response for `rejection`.
    fn on_rejection(&self, rejection: &Rejection) -> Response<B>;
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(&Rejection) -> Response<B>,
{
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        self(rejection)
    }
}

/// The default [`OnRejection`]: [`Rejection::to_response`] with the message
/// as a plain-text body, for any body type that can be made from a
/// `String` (axum's `Body`, `http_body_util::Full`, `String`, ...).
/// For other body types (an empty body, a boxed body), pass a closure to
/// [`on_rejection`](crate::InteractionHookLayer::on_rejection).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultOnRejection;

impl<B> OnRejection<B> for DefaultOnRejection
where
    B: From<String>,
{
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        rejection.to_response(B::from(rejection.to_string()))
    }
}

/// An [`OnRejection`] for JSON APIs, such as the backend of a native app:
/// [`Rejection::to_response`] with `Content-Type: application/json` and the
/// body `{"error": "<code>", "message": "<message>"}`, where `error` is the
/// stable [`code`](Rejection::code) and `message` the `Display` text. Like
/// every refusal, it never holds the token or a claim value.
///
/// ```
/// use hook_layer::{HookSecret, InteractionHookLayer, JsonOnRejection, TokenSource};
///
/// let secret = HookSecret::from_bytes(&[7; 32])?;
/// let api = InteractionHookLayer::new(secret)
///     .token_source(TokenSource::Bearer)
///     .on_rejection(JsonOnRejection);
/// # Ok::<(), hook_layer::SecretError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonOnRejection;

impl<B> OnRejection<B> for JsonOnRejection
where
    B: From<String>,
{
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        let body = serde_json::json!({
            "error": rejection.code(),
            "message": rejection.to_string(),
        });
        let mut response = rejection.to_response(B::from(body.to_string()));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Rejection {
    fn into_response(self) -> axum_core::response::Response {
        DefaultOnRejection.on_rejection(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A malformed token is refused at the step that read the bad part:
    /// the payload's reasons after the signature, the header's reason
    /// before the token, every other reason at the form.
    #[test]
    fn malformed_reasons_name_their_check() {
        for reason in malformed::PAYLOAD {
            assert_eq!(Rejection::MalformedToken(reason).check(), Check::Payload);
        }
        assert_eq!(
            Rejection::MalformedToken(malformed::AUTHORIZATION).check(),
            Check::Request
        );
        for reason in [
            "expected three dot-separated segments",
            "the header is not base64url",
            "the header is not UTF-8",
        ] {
            assert_eq!(Rejection::MalformedToken(reason).check(), Check::Form);
        }
    }

    #[test]
    fn statuses_follow_rfc_6750() {
        assert_eq!(Rejection::DuplicateToken.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            Rejection::TokenTooLong {
                len: 5000,
                max: 4096
            }
            .status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(Rejection::BadSignature.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            Rejection::CryptoFailure.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );

        let missing = DefaultOnRejection.on_rejection(&Rejection::MissingToken);
        let missing: Response<String> = missing;
        assert_eq!(missing.headers()[WWW_AUTHENTICATE], "Bearer");
        let forged: Response<String> = DefaultOnRejection.on_rejection(&Rejection::BadSignature);
        assert_eq!(
            forged.headers()[WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        let bad: Response<String> = DefaultOnRejection.on_rejection(&Rejection::BadEncoding);
        assert!(bad.headers().get(WWW_AUTHENTICATE).is_none());
        let in_query: Response<String> = DefaultOnRejection.on_rejection(&Rejection::TokenInQuery);
        assert_eq!(in_query.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            in_query.headers()[WWW_AUTHENTICATE],
            "Bearer error=\"invalid_request\""
        );
    }

    #[test]
    fn json_refusals_carry_code_and_message() {
        let response: Response<String> = JsonOnRejection.on_rejection(&Rejection::BadSignature);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "error": "bad_signature",
                "message": "the session token signature is not valid",
            })
        );
        let conflict: Response<String> =
            JsonOnRejection.on_rejection(&Rejection::ConflictingTokens);
        assert_eq!(conflict.status(), StatusCode::BAD_REQUEST);
        assert!(conflict.body().contains("\"error\":\"conflicting_tokens\""));
    }

    #[test]
    fn default_response_carries_message_and_rejection() {
        let response: Response<String> = DefaultOnRejection.on_rejection(&Rejection::Expired);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.body(), "the session token has expired");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(
            response.extensions().get::<Rejection>(),
            Some(&Rejection::Expired)
        );
    }
}
