//! The response future of [`InteractionHook`](crate::InteractionHook).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::header::{CACHE_CONTROL, REFERRER_POLICY};
use http::{HeaderValue, Response};
use pin_project_lite::pin_project;

pin_project! {
    /// Either the inner service's future or a ready refusal; no boxing.
    ///
    /// Every response, from the handler or a refusal, leaves with
    /// `Cache-Control: no-store` and `Referrer-Policy: no-referrer` unless it
    /// set its own: hook pages carry a bearer token in their URL and
    /// personal claims in their body.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Called { #[pin] future: F },
        Refused { response: Option<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn called(future: F) -> Self {
        Self {
            kind: Kind::Called { future },
        }
    }

    pub(crate) fn refused(response: Response<B>) -> Self {
        Self {
            kind: Kind::Refused {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut response = match self.project().kind.project() {
            KindProj::Called { future } => ready!(future.poll(cx))?,
            KindProj::Refused { response } => response
                .take()
                .expect("ResponseFuture polled after completion"),
        };
        protect(&mut response);
        Poll::Ready(Ok(response))
    }
}

fn protect<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers
        .entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
}
