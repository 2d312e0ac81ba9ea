//! Finishing the interaction: the signed response token and the redirect
//! back to MATTR VII.

use std::fmt;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY};
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::jwt;
use crate::policy::SESSION_TOKEN_PARAM;
use crate::query;
use crate::session::{ClaimsMap, HookSession, SessionCore};

impl<C> HookSession<C> {
    /// Starts a successful completion: the issuance continues, with the
    /// claims added to it. The secret, `state`, `iss`/`aud` and lifetimes
    /// are taken care of.
    ///
    /// ```
    /// # use hook_layer::{HookSession, HookRedirect, CompletionError};
    /// fn finish(session: &HookSession, name: &str) -> Result<HookRedirect, CompletionError> {
    ///     session
    ///         .complete()
    ///         .claim("preferredName", name)?
    ///         .claim("termsAccepted", true)?
    ///         .persist(["preferredName"])
    ///         .redirect()
    /// }
    /// ```
    pub fn complete(&self) -> Completion<'_> {
        Completion {
            session: self.core(),
            claims: ClaimsMap::new(),
            persist: Vec::new(),
        }
    }

    /// Fails the issuance: MATTR VII ends the journey and shows it as
    /// failed. `message` goes into the response token's `error.message`.
    ///
    /// ```
    /// # use hook_layer::{HookSession, HookRedirect, CompletionError};
    /// fn refuse(session: &HookSession) -> Result<HookRedirect, CompletionError> {
    ///     session.fail("Insufficient identity assurance level").redirect()
    /// }
    /// ```
    pub fn fail(&self, message: impl Into<String>) -> Failure<'_> {
        Failure {
            session: self.core(),
            message: message.into(),
        }
    }
}

/// A successful end to the interaction, being built: claims to return to
/// MATTR VII and, optionally, which of them to persist on the tenant's
/// user record. Made by [`HookSession::complete`].
#[must_use = "a completion does nothing until `redirect` is called"]
pub struct Completion<'s> {
    session: &'s SessionCore,
    claims: ClaimsMap,
    persist: Vec<String>,
}

impl<'s> Completion<'s> {
    /// Adds (or replaces) one claim.
    pub fn claim(
        mut self,
        name: impl Into<String>,
        value: impl Serialize,
    ) -> Result<Self, CompletionError> {
        let value = serde_json::to_value(value)
            .map_err(|error| counted(CompletionError::Serialize(error)))?;
        self.claims.insert(name.into(), value);
        Ok(self)
    }

    /// Adds every field of `claims`, which must serialize to a JSON object
    /// (a struct or a map), e.g. a typed profile.
    pub fn claims(mut self, claims: &impl Serialize) -> Result<Self, CompletionError> {
        match serde_json::to_value(claims)
            .map_err(|error| counted(CompletionError::Serialize(error)))?
        {
            Value::Object(fields) => self.claims.extend(fields),
            _ => return Err(counted(CompletionError::ClaimsNotAnObject)),
        }
        Ok(self)
    }

    /// Asks MATTR VII to store these returned claims on the tenant's user
    /// record (`claimsToPersist`). Without it, returned claims serve this
    /// issuance only. Every name must be a returned claim.
    pub fn persist<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for name in names {
            let name = name.into();
            if !self.persist.contains(&name) {
                self.persist.push(name);
            }
        }
        self
    }

    /// Signs the response token and builds the redirect back to MATTR VII.
    pub fn redirect(self) -> Result<HookRedirect, CompletionError> {
        self.prepare()?.sign()
    }

    /// Everything [`redirect`](Self::redirect) does but the signature.
    pub(crate) fn prepare(self) -> Result<Prepared<'s>, CompletionError> {
        if let Some(unknown) = self
            .persist
            .iter()
            .find(|name| !self.claims.contains_key(*name))
        {
            return Err(counted(CompletionError::PersistUnknownClaim(
                unknown.clone(),
            )));
        }
        let persist = (!self.persist.is_empty()).then_some(self.persist.as_slice());
        Prepared::new(
            self.session,
            Outcome::Completed {
                claims: &self.claims,
                persist,
            },
        )
    }
}

/// A failed end to the interaction, made by [`HookSession::fail`].
#[must_use = "a failure does nothing until `redirect` is called"]
pub struct Failure<'s> {
    session: &'s SessionCore,
    message: String,
}

impl<'s> Failure<'s> {
    /// Signs the error response token and builds the redirect back to
    /// MATTR VII.
    pub fn redirect(self) -> Result<HookRedirect, CompletionError> {
        self.prepare()?.sign()
    }

    /// Everything [`redirect`](Self::redirect) does but the signature.
    pub(crate) fn prepare(self) -> Result<Prepared<'s>, CompletionError> {
        Prepared::new(
            self.session,
            Outcome::Failed {
                message: &self.message,
            },
        )
    }
}

/// What the response token says: claims or an error, never both.
enum Outcome<'a> {
    Completed {
        claims: &'a ClaimsMap,
        persist: Option<&'a [String]>,
    },
    Failed {
        message: &'a str,
    },
}

/// The response token's payload, as MATTR VII reads it.
#[derive(Serialize)]
struct ResponseClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<&'a ClaimsMap>,
    #[serde(rename = "claimsToPersist", skip_serializing_if = "Option::is_none")]
    claims_to_persist: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorClaim<'a>>,
}

#[derive(Serialize)]
struct ErrorClaim<'a> {
    message: &'a str,
}

/// Counts a completion error by kind (a no-op without the `metrics`
/// feature), and passes it on.
fn counted(error: CompletionError) -> CompletionError {
    crate::metrics::completion_error(error.code());
    error
}

/// A response ready to sign: its payload serialized under the HS256 header,
/// everything but the signature. Splitting the two lets a caller commit to
/// answering (an "answered" mark) only once nothing but the HMAC is left.
pub(crate) struct Prepared<'s> {
    session: &'s SessionCore,
    /// `header.payload`, base64url.
    signing_input: String,
    failed: bool,
    /// The response's `exp`, Unix seconds.
    #[cfg_attr(not(feature = "attempts"), allow(dead_code))]
    expires_at: u64,
}

impl<'s> Prepared<'s> {
    fn new(session: &'s SessionCore, outcome: Outcome<'_>) -> Result<Self, CompletionError> {
        let policy = &session.policy;
        let issued_at = policy.now();
        let failed = matches!(outcome, Outcome::Failed { .. });
        let (claims, claims_to_persist, error) = match outcome {
            Outcome::Completed { claims, persist } => (Some(claims), persist, None),
            Outcome::Failed { message } => (None, None, Some(ErrorClaim { message })),
        };
        // The response goes the other way: from the hook (the incoming
        // audience) to the tenant (the incoming issuer).
        let expires_at = issued_at.saturating_add(policy.response_lifetime);
        let payload = ResponseClaims {
            iss: &session.audience,
            aud: &session.issuer,
            iat: issued_at,
            exp: expires_at,
            state: &session.state,
            claims,
            claims_to_persist,
            error,
        };
        let json = serde_json::to_vec(&payload)
            .map_err(|error| counted(CompletionError::Serialize(error)))?;
        Ok(Self {
            session,
            signing_input: jwt::signing_input(&json),
            failed,
            expires_at,
        })
    }

    /// The session being answered.
    #[cfg(feature = "attempts")]
    pub(crate) fn session(&self) -> &'s SessionCore {
        self.session
    }

    /// Whether this response fails the issuance.
    #[cfg(feature = "attempts")]
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// The response's `exp`, Unix seconds.
    #[cfg(feature = "attempts")]
    pub(crate) fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Fails as [`sign`](Self::sign) would for the URL's length, without
    /// signing: a token's length does not depend on its signature's value.
    #[cfg(feature = "attempts")]
    pub(crate) fn check_length(&self) -> Result<(), CompletionError> {
        let mut placeholder = String::with_capacity(self.signing_input.len() + 44);
        placeholder.push_str(&self.signing_input);
        placeholder.push('.');
        placeholder.extend(std::iter::repeat_n('A', jwt::ENCODED_TAG_LEN));
        url_within_limit(self.session, &placeholder)
            .map(drop)
            .map_err(counted)
    }

    /// Signs, builds the redirect, and counts the completion.
    pub(crate) fn sign(self) -> Result<HookRedirect, CompletionError> {
        let (session, failed) = (self.session, self.failed);
        let redirect = self.sign_uncounted()?;
        count_sent(session, failed);
        Ok(redirect)
    }

    /// Signs and builds the redirect without counting it as sent: for a
    /// caller that may yet send another response instead
    /// ([`Answers`](crate::attempts::Answers)), and counts with
    /// [`count_sent`] once it knows.
    pub(crate) fn sign_uncounted(self) -> Result<HookRedirect, CompletionError> {
        let session = self.session;
        let token = session
            .secret()
            .keys()
            .append_signature(self.signing_input)
            .map_err(|_| counted(CompletionError::Signing))?;
        let url = url_within_limit(session, &token).map_err(counted)?;
        Ok(HookRedirect { url, token })
    }
}

/// Counts a response sent for `session`: a completion, or a failure.
pub(crate) fn count_sent(session: &SessionCore, failed: bool) {
    let policy = &session.policy;
    policy
        .metrics
        .completed(session.tenant, failed, || policy.tenant_labels());
}

/// The redirect URL carrying `token`, if within the layer's limit.
fn url_within_limit(session: &SessionCore, token: &str) -> Result<String, CompletionError> {
    let url = query::with_param(&session.redirect_url, SESSION_TOKEN_PARAM, token);
    // `Url` serializes to ASCII and the token is ASCII, so bytes are
    // characters here.
    let max = session.policy.max_url_len;
    if url.len() > max {
        return Err(CompletionError::UrlTooLong {
            len: url.len(),
            max,
        });
    }
    Ok(url)
}

/// The signed end of an interaction: the response token and the URL that
/// carries it back to MATTR VII.
///
/// Turn it into a `303 See Other` with [`HookRedirect::into_http`] (or
/// `From`, or axum's `IntoResponse`), or use the token and URL directly,
/// e.g. from a native app. `Debug` shows neither.
#[derive(Clone)]
pub struct HookRedirect {
    url: String,
    token: String,
}

impl HookRedirect {
    /// The redirect carrying `token`, signed earlier for `session` and
    /// kept (a stored answer), rebuilt from the session's own
    /// `redirectUrl`, so that what was kept can send the holder nowhere
    /// else.
    #[cfg(feature = "attempts")]
    pub(crate) fn again(session: &SessionCore, token: String) -> Result<Self, CompletionError> {
        let url = url_within_limit(session, &token)?;
        Ok(Self { url, token })
    }

    /// The redirect URL: the session's `redirectUrl` with `session_token`
    /// set, within the configured length limit.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The signed response token alone.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A `303 See Other` to [`url`](Self::url), with `Cache-Control:
    /// no-store` and `Referrer-Policy: no-referrer`, for any body type.
    pub fn into_http<B: Default>(self) -> Response<B> {
        let mut response = Response::new(B::default());
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        match HeaderValue::try_from(self.url) {
            Ok(location) => {
                headers.insert(LOCATION, location);
                *response.status_mut() = StatusCode::SEE_OTHER;
            }
            // A serialized `Url` is always a valid header value; should that
            // ever change, fail the request rather than panic.
            Err(_) => *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR,
        }
        response
    }
}

impl HookRedirect {
    /// The redirect as JSON, for a native app that opens the URL itself:
    /// `200 OK` with `{"redirectUrl": "<url>"}`, `Content-Type:
    /// application/json`, `Cache-Control: no-store` and `Referrer-Policy:
    /// no-referrer`. (axum: return `redirect.json()`.)
    pub fn json(self) -> JsonRedirect {
        JsonRedirect(self)
    }
}

/// A [`HookRedirect`] answered as JSON rather than as a `303`: made by
/// [`HookRedirect::json`]. `Debug` shows neither URL nor token.
#[derive(Debug, Clone)]
pub struct JsonRedirect(HookRedirect);

impl JsonRedirect {
    /// The redirect inside.
    pub fn redirect(&self) -> &HookRedirect {
        &self.0
    }

    /// `200 OK` with `{"redirectUrl": "<url>"}`, for any body type that can
    /// be made from a `String`.
    pub fn into_http<B: From<String>>(self) -> Response<B> {
        let body = serde_json::json!({ "redirectUrl": self.0.url }).to_string();
        let mut response = Response::new(B::from(body));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }
}

impl<B: From<String>> From<JsonRedirect> for Response<B> {
    fn from(redirect: JsonRedirect) -> Self {
        redirect.into_http()
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for JsonRedirect {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http()
    }
}

impl<B: Default> From<HookRedirect> for Response<B> {
    fn from(redirect: HookRedirect) -> Self {
        redirect.into_http()
    }
}

impl fmt::Debug for HookRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookRedirect")
            .field("url_len", &self.url.len())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for HookRedirect {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http()
    }
}

/// Why a completion could not be signed and sent. The handler gets it
/// before any response is sent; its response is a plain 500 that shows no
/// claim.
#[derive(Debug)]
#[non_exhaustive]
pub enum CompletionError {
    /// A claim value failed to serialize to JSON.
    Serialize(serde_json::Error),
    /// [`Completion::claims`] was given something that is not a JSON object.
    ClaimsNotAnObject,
    /// A name passed to [`Completion::persist`] is not a returned claim.
    PersistUnknownClaim(String),
    /// The redirect URL would be longer than the limit.
    UrlTooLong {
        /// The URL's length, in characters.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The crypto provider failed to sign.
    Signing,
}

impl CompletionError {
    /// The status of the default response: always 500, since the request
    /// was fine and the server could not finish it.
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// A stable, machine-readable name for the kind of error:
    /// `serialize`, `claims_not_an_object`, `persist_unknown_claim`,
    /// `url_too_long` or `signing`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Serialize(_) => "serialize",
            Self::ClaimsNotAnObject => "claims_not_an_object",
            Self::PersistUnknownClaim(_) => "persist_unknown_claim",
            Self::UrlTooLong { .. } => "url_too_long",
            Self::Signing => "signing",
        }
    }
}

impl fmt::Display for CompletionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serialize(error) => {
                write!(f, "a returned claim could not be serialized: {error}")
            }
            Self::ClaimsNotAnObject => {
                f.write_str("returned claims must serialize to a JSON object")
            }
            Self::PersistUnknownClaim(name) => {
                write!(
                    f,
                    "`{name}` is listed to persist but is not a returned claim"
                )
            }
            Self::UrlTooLong { len, max } => write!(
                f,
                "the redirect URL back to MATTR VII would be {len} characters, {} over the \
                 {max}-character limit; return fewer or shorter claims",
                len.saturating_sub(*max)
            ),
            Self::Signing => f.write_str("the response token could not be signed"),
        }
    }
}

impl std::error::Error for CompletionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Serialize(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for CompletionError {
    fn into_response(self) -> axum_core::response::Response {
        #[cfg(feature = "tracing")]
        tracing::error!(error = %self, "interaction hook could not complete");
        let mut response = axum_core::response::IntoResponse::into_response((
            self.status(),
            "The interaction could not be completed. Please try again later.",
        ));
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::testing::MockIssuer;
    use crate::{HookSecret, InteractionHookLayer};

    const NOW: u64 = 1_764_422_400;

    fn secret() -> HookSecret {
        HookSecret::from_bytes(b"completion tests key, 32 bytes!!").unwrap()
    }

    fn layer() -> InteractionHookLayer {
        InteractionHookLayer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
    }

    fn session_with(redirect_url: &str) -> HookSession {
        let mock = MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
        let token = mock
            .session()
            .state("af0ifjsldkj")
            .redirect_url(redirect_url)
            .token();
        layer().verify_token(&token).unwrap()
    }

    fn session() -> HookSession {
        session_with(MockIssuer::REDIRECT_URL)
    }

    /// The header and payload of a compact token, as JSON.
    fn decode(token: &str) -> (Value, Value) {
        let mut parts = token.split('.');
        let mut next = || {
            let bytes = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        (next(), next())
    }

    #[test]
    fn success_payload_is_exactly_the_protocols() {
        let redirect = session()
            .complete()
            .claim("preferredName", "Ada")
            .unwrap()
            .claim("termsAccepted", true)
            .unwrap()
            .redirect()
            .unwrap();
        let (header, payload) = decode(redirect.token());
        assert_eq!(header, json!({ "alg": "HS256", "typ": "JWT" }));
        assert_eq!(
            payload,
            json!({
                "iss": MockIssuer::HOOK_URL,
                "aud": MockIssuer::TENANT,
                "iat": NOW,
                "exp": NOW + 60,
                "state": "af0ifjsldkj",
                "claims": { "preferredName": "Ada", "termsAccepted": true },
            })
        );
    }

    #[test]
    fn success_with_claims_to_persist() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Details {
            preferred_name: &'static str,
            date_of_birth: &'static str,
        }
        let details = Details {
            preferred_name: "Ada",
            date_of_birth: "1815-12-10",
        };
        let redirect = session()
            .complete()
            .claims(&details)
            .unwrap()
            .persist(["preferredName"])
            .persist(["preferredName".to_owned()])
            .redirect()
            .unwrap();
        let (_, payload) = decode(redirect.token());
        assert_eq!(
            payload,
            json!({
                "iss": MockIssuer::HOOK_URL,
                "aud": MockIssuer::TENANT,
                "iat": NOW,
                "exp": NOW + 60,
                "state": "af0ifjsldkj",
                "claims": { "preferredName": "Ada", "dateOfBirth": "1815-12-10" },
                "claimsToPersist": ["preferredName"],
            })
        );
    }

    #[test]
    fn an_empty_completion_returns_empty_claims() {
        let (_, payload) = decode(session().complete().redirect().unwrap().token());
        assert_eq!(payload["claims"], json!({}));
        assert!(payload.get("claimsToPersist").is_none());
        assert!(payload.get("error").is_none());
    }

    #[test]
    fn failure_payload_is_exactly_the_protocols() {
        let redirect = session()
            .fail("Insufficient identity assurance level")
            .redirect()
            .unwrap();
        let (_, payload) = decode(redirect.token());
        assert_eq!(
            payload,
            json!({
                "iss": MockIssuer::HOOK_URL,
                "aud": MockIssuer::TENANT,
                "iat": NOW,
                "exp": NOW + 60,
                "state": "af0ifjsldkj",
                "error": { "message": "Insufficient identity assurance level" },
            })
        );
    }

    #[test]
    fn response_lifetime_comes_from_the_layer() {
        let layer = layer().response_lifetime(Duration::from_secs(15));
        let mock = MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
        let session: HookSession = layer.verify_token(&mock.session().token()).unwrap();
        let (_, payload) = decode(session.complete().redirect().unwrap().token());
        assert_eq!(
            (payload["iat"].as_u64(), payload["exp"].as_u64()),
            (Some(NOW), Some(NOW + 15))
        );
    }

    #[test]
    fn refuses_what_the_protocol_cannot_carry() {
        let session = session();
        assert!(matches!(
            session.complete().claims(&"text"),
            Err(CompletionError::ClaimsNotAnObject)
        ));
        assert!(matches!(
            session.complete().claims(&[1, 2]),
            Err(CompletionError::ClaimsNotAnObject)
        ));
        let map_with_bad_keys = std::collections::BTreeMap::from([(vec![1u8], 1)]);
        assert!(matches!(
            session.complete().claim("x", map_with_bad_keys),
            Err(CompletionError::Serialize(_))
        ));
        let unknown = session
            .complete()
            .claim("a", 1)
            .unwrap()
            .persist(["b"])
            .redirect();
        assert!(matches!(unknown, Err(CompletionError::PersistUnknownClaim(name)) if name == "b"));
    }

    fn url_of(redirect_url: &str) -> String {
        session_with(redirect_url)
            .complete()
            .redirect()
            .unwrap()
            .url()
            .to_owned()
    }

    #[test]
    fn the_token_is_added_to_the_redirect_url_properly() {
        let token_of = |url: &str| {
            let session = session_with(url);
            let redirect = session.complete().redirect().unwrap();
            (redirect.url().to_owned(), redirect.token().to_owned())
        };
        let (url, token) = token_of("https://t.example/cb");
        assert_eq!(url, format!("https://t.example/cb?session_token={token}"));
        let (url, token) = token_of("https://t.example/cb?flow=vci&x=a%20b");
        assert_eq!(
            url,
            format!("https://t.example/cb?flow=vci&x=a%20b&session_token={token}")
        );
        let (url, token) = token_of("https://t.example/cb?flow=1#done");
        assert_eq!(
            url,
            format!("https://t.example/cb?flow=1&session_token={token}#done")
        );
        let (url, token) = token_of("https://t.example/cb?session_token=stale&a=1");
        assert_eq!(
            url,
            format!("https://t.example/cb?a=1&session_token={token}")
        );
        // Characters that need encoding come out encoded, as `Url` writes them.
        let (url, token) = token_of("https://t.example/c%C3%A9/é?q=é");
        assert_eq!(
            url,
            format!("https://t.example/c%C3%A9/%C3%A9?q=%C3%A9&session_token={token}")
        );
    }

    #[test]
    fn the_redirect_url_limit_holds_at_its_edge() {
        let base = "https://t.example/";
        let padding_for = |target: usize| {
            let probe = url_of(base).len();
            "p".repeat(target - probe)
        };
        let at_limit = format!("{base}{}", padding_for(2000));
        assert_eq!(url_of(&at_limit).len(), 2000);
        let under = &at_limit[..at_limit.len() - 1];
        assert_eq!(url_of(under).len(), 1999);

        let over = format!("{at_limit}p");
        let error = session_with(&over).complete().redirect().unwrap_err();
        assert!(matches!(
            error,
            CompletionError::UrlTooLong {
                len: 2001,
                max: 2000
            }
        ));
        assert_eq!(
            error.to_string(),
            "the redirect URL back to MATTR VII would be 2001 characters, 1 over the \
             2000-character limit; return fewer or shorter claims"
        );
        let failed = session_with(&over).fail("no").redirect().unwrap_err();
        assert!(matches!(failed, CompletionError::UrlTooLong { .. }));
    }

    #[test]
    fn big_claims_are_an_error_not_a_broken_redirect() {
        let photo = "A".repeat(1500);
        let error = session()
            .complete()
            .claim("photo", photo)
            .unwrap()
            .redirect()
            .unwrap_err();
        let CompletionError::UrlTooLong { len, max } = error else {
            panic!("{error:?}")
        };
        assert!(len > max && max == 2000, "{len}");
        assert!(!error.to_string().contains("AAAA"));
    }

    #[test]
    fn the_redirect_response() {
        let redirect = session().complete().redirect().unwrap();
        let url = redirect.url().to_owned();
        assert!(!format!("{redirect:?}").contains(redirect.token()));
        let response: Response<()> = redirect.into();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[LOCATION], url.as_str());
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
    }

    #[test]
    fn mock_issuer_reads_back_both_outcomes() {
        use crate::testing::Outcome;
        let mock = MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
        let session = session();
        let done = session
            .complete()
            .claim("a", 1)
            .unwrap()
            .persist(["a"])
            .redirect()
            .unwrap();
        let read = mock.read_redirect(done.url()).unwrap();
        assert_eq!(read.state, "af0ifjsldkj");
        assert_eq!(
            read.outcome,
            Outcome::Completed {
                claims: json!({ "a": 1 }).as_object().unwrap().clone(),
                claims_to_persist: vec!["a".to_owned()],
            }
        );
        let failed = mock
            .read_redirect(session.fail("declined").redirect().unwrap().url())
            .unwrap();
        assert_eq!(
            failed.outcome,
            Outcome::Failed {
                message: "declined".to_owned()
            }
        );

        let later = MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW + 60));
        assert_eq!(
            later.read_redirect(done.url()).unwrap_err(),
            crate::testing::MockIssuerError::Expired
        );
    }

    /// A layer may be allowed longer redirects than 2000 characters; the
    /// mock issuer still refuses them, as a browser may cut them short.
    #[test]
    fn mock_issuer_refuses_redirects_over_the_safe_limit() {
        use crate::testing::{MAX_CALLBACK_URL_LEN, MockIssuerError};
        let mock = MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
        let token = mock.session().token();
        let session: HookSession = layer()
            .max_redirect_url_length(4000)
            .verify_token(&token)
            .unwrap();
        let long = session
            .complete()
            .claim("note", "n".repeat(2500))
            .unwrap()
            .redirect()
            .unwrap();
        let len = long.url().len();
        assert!(len > MAX_CALLBACK_URL_LEN && len <= 4000, "{len}");
        assert_eq!(
            mock.read_redirect(long.url()).unwrap_err(),
            MockIssuerError::TooLong { len }
        );
        let short = session
            .complete()
            .claim("note", "n")
            .unwrap()
            .redirect()
            .unwrap();
        assert!(mock.read_redirect(short.url()).is_ok());
    }
}
