//! axum extractors for [`HookSession`].

use std::convert::Infallible;
use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::session::HookSession;

/// `HookSession<C>` as a handler argument. It is in the request extensions
/// only when [`InteractionHookLayer`](crate::InteractionHookLayer) (built
/// with the same claims type `C`) verified the request.
impl<S, C> FromRequestParts<S> for HookSession<C>
where
    S: Send + Sync,
    C: Send + Sync + 'static,
{
    type Rejection = MissingSession;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(|| MissingSession {
                claims: std::any::type_name::<C>(),
                layer_claims: parts.extensions.get::<LayerClaims>().map(|layer| layer.0),
            })
    }
}

/// `Option<HookSession<C>>`: `None` where the layer is not installed, or is
/// installed with another claims type (the session is stored under its
/// exact type, so a mismatch cannot be told apart from absence).
impl<S, C> OptionalFromRequestParts<S> for HookSession<C>
where
    S: Send + Sync,
    C: Send + Sync + 'static,
{
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}

/// The claims type of the layer that verified a request, recorded in its
/// extensions next to the session.
#[derive(Clone, Copy)]
pub(crate) struct LayerClaims(pub(crate) &'static str);

/// The `HookSession` extractor ran on a route that
/// [`InteractionHookLayer`](crate::InteractionHookLayer) does not cover, or
/// the layer reads a different claims type. A server bug, so a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingSession {
    claims: &'static str,
    layer_claims: Option<&'static str>,
}

impl MissingSession {
    /// The claims type of the layer that verified the request, when the
    /// route is behind one: the handler asked for another.
    pub fn layer_claims(&self) -> Option<&'static str> {
        self.layer_claims
    }
}

impl fmt::Display for MissingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.layer_claims {
            Some(layer) => write!(
                f,
                "this route is behind InteractionHookLayer, but the layer reads claims as `{layer}` \
                 while the handler asks for HookSession<{}>: use one type in both \
                 (the layer's `.claims::<T>()` and the handler's `HookSession<T>`)",
                self.claims
            ),
            None => write!(
                f,
                "no HookSession<{}> in the request: is this route behind InteractionHookLayer, \
                 built with `.claims::<{}>()`?",
                self.claims, self.claims
            ),
        }
    }
}

impl std::error::Error for MissingSession {}

impl IntoResponse for MissingSession {
    fn into_response(self) -> Response {
        #[cfg(feature = "tracing")]
        tracing::error!("{self}");
        let body = match self.layer_claims {
            Some(_) => format!("Server misconfiguration: {self}."),
            None => {
                "Server misconfiguration: this route is not behind InteractionHookLayer.".to_owned()
            }
        };
        (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
    }
}
