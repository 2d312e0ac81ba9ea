//! Finishing the interaction: the signed response token and the redirect
//! back to MATTR VII.

use std::fmt;

use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::query;
use crate::session::{ClaimsMap, HookSession, SessionCore};
use crate::verify::SESSION_TOKEN_PARAM;

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

impl Completion<'_> {
    /// Adds (or replaces) one claim.
    pub fn claim(
        mut self,
        name: impl Into<String>,
        value: impl Serialize,
    ) -> Result<Self, CompletionError> {
        let value = serde_json::to_value(value).map_err(CompletionError::Serialize)?;
        self.claims.insert(name.into(), value);
        Ok(self)
    }

    /// Adds every field of `claims`, which must serialize to a JSON object
    /// (a struct or a map), e.g. a typed profile.
    pub fn claims(mut self, claims: &impl Serialize) -> Result<Self, CompletionError> {
        match serde_json::to_value(claims).map_err(CompletionError::Serialize)? {
            Value::Object(fields) => self.claims.extend(fields),
            _ => return Err(CompletionError::ClaimsNotAnObject),
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
        if let Some(unknown) = self
            .persist
            .iter()
            .find(|name| !self.claims.contains_key(*name))
        {
            return Err(CompletionError::PersistUnknownClaim(unknown.clone()));
        }
        let persist = (!self.persist.is_empty()).then_some(self.persist.as_slice());
        sign_and_redirect(
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

impl Failure<'_> {
    /// Signs the error response token and builds the redirect back to
    /// MATTR VII.
    pub fn redirect(self) -> Result<HookRedirect, CompletionError> {
        sign_and_redirect(
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

fn sign_and_redirect(
    session: &SessionCore,
    outcome: Outcome<'_>,
) -> Result<HookRedirect, CompletionError> {
    let policy = &session.policy;
    let issued_at = policy.now();
    let (claims, claims_to_persist, error) = match outcome {
        Outcome::Completed { claims, persist } => (Some(claims), persist, None),
        Outcome::Failed { message } => (None, None, Some(ErrorClaim { message })),
    };
    // The response goes the other way: from the hook (the incoming
    // audience) to the tenant (the incoming issuer).
    let payload = ResponseClaims {
        iss: &session.audience,
        aud: &session.issuer,
        iat: issued_at,
        exp: issued_at.saturating_add(policy.response_lifetime),
        state: &session.state,
        claims,
        claims_to_persist,
        error,
    };
    let json = serde_json::to_vec(&payload).map_err(CompletionError::Serialize)?;
    let token = policy
        .secret
        .keys()
        .sign(&json)
        .map_err(|_| CompletionError::Signing)?;

    let mut url = session.redirect_url.clone();
    query::replace_param(&mut url, SESSION_TOKEN_PARAM, &token);
    // `Url` serializes to ASCII, so bytes are characters here.
    let len = url.as_str().len();
    if len > policy.max_url_len {
        return Err(CompletionError::UrlTooLong {
            len,
            max: policy.max_url_len,
        });
    }
    Ok(HookRedirect {
        url: url.into(),
        token,
    })
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
                len - max
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
