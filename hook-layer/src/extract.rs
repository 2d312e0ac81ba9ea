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
            .ok_or(MissingSession {
                claims: std::any::type_name::<C>(),
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

/// The `HookSession` extractor ran on a route that
/// [`InteractionHookLayer`](crate::InteractionHookLayer) does not cover, or
/// the layer reads a different claims type. A server bug, so a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingSession {
    claims: &'static str,
}

impl fmt::Display for MissingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no HookSession<{}> in the request: is this route behind InteractionHookLayer, \
             built with `.claims::<{}>()`?",
            self.claims, self.claims
        )
    }
}

impl std::error::Error for MissingSession {}

impl IntoResponse for MissingSession {
    fn into_response(self) -> Response {
        #[cfg(feature = "tracing")]
        tracing::error!("{self}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server misconfiguration: this route is not behind InteractionHookLayer.",
        )
            .into_response()
    }
}
