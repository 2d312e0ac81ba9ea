//! The tower `Service` that guards the hook's routes.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::policy::Policy;
use crate::rejection::OnRejection;
use crate::token_source::{Bearer, TokenSource, bearer};

/// The middleware made by [`InteractionHookLayer`](crate::InteractionHookLayer).
///
/// Verification is synchronous and happens in `call`, so the inner service
/// needs no `Clone` and readiness is simply delegated to it. A refused
/// request is answered without calling the inner service.
pub struct InteractionHook<S, C, R> {
    inner: S,
    policy: Arc<Policy>,
    on_rejection: R,
    _claims: PhantomData<fn() -> C>,
}

impl<S, C, R> InteractionHook<S, C, R> {
    pub(crate) fn new(inner: S, policy: Arc<Policy>, on_rejection: R) -> Self {
        Self {
            inner,
            policy,
            on_rejection,
            _claims: PhantomData,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, R, ReqBody, ResBody> Service<Request<ReqBody>> for InteractionHook<S, C, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Send + Sync + 'static,
    R: OnRejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        match self
            .policy
            .verify_request::<C>(request.uri(), request.headers())
        {
            Ok(session) => {
                let extensions = request.extensions_mut();
                extensions.insert(session);
                // Lets the extractor tell "no layer" from "a layer with
                // another claims type" when a handler asks for the wrong one.
                #[cfg(feature = "axum")]
                extensions.insert(crate::extract::LayerClaims(std::any::type_name::<C>()));
                ResponseFuture::called(self.inner.call(request))
            }
            Err(rejection) => {
                let mut response = self.on_rejection.on_rejection(&rejection);
                if self.policy.source != TokenSource::Query {
                    challenge_bearer(&mut response, request.headers());
                }
                response.extensions_mut().insert(rejection);
                ResponseFuture::refused(response)
            }
        }
    }
}

/// RFC 6750 section 3: a refusal of a request that sent a bearer token
/// says why in `WWW-Authenticate`, whatever the response's own body. The
/// default response already challenges its 401s; this covers 400s and
/// responses of an `OnRejection` of the application's.
fn challenge_bearer<B>(response: &mut Response<B>, request: &http::HeaderMap) {
    use http::header::WWW_AUTHENTICATE;
    if matches!(bearer(request), Bearer::Absent)
        || response.headers().contains_key(WWW_AUTHENTICATE)
    {
        return;
    }
    let challenge = match response.status() {
        http::StatusCode::BAD_REQUEST => "Bearer error=\"invalid_request\"",
        http::StatusCode::UNAUTHORIZED => "Bearer error=\"invalid_token\"",
        _ => return,
    };
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, http::HeaderValue::from_static(challenge));
}

impl<S: Clone, C, R: Clone> Clone for InteractionHook<S, C, R> {
    fn clone(&self) -> Self {
        Self::new(
            self.inner.clone(),
            Arc::clone(&self.policy),
            self.on_rejection.clone(),
        )
    }
}

impl<S: fmt::Debug, C, R> fmt::Debug for InteractionHook<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractionHook")
            .field("inner", &self.inner)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
