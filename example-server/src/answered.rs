//! A session is answered once. The first signed response (a completion or
//! a failure) is kept in the attempt store with the session
//! (`hook_layer::attempts::Answers`), and it is the only one that ever
//! leaves the hook: after it, every page and call of that session says how
//! the issuance went and offers that same response again ("continue to
//! your wallet"), instead of showing its form. A reloaded last step, a
//! second tab, the back button, a replayed link, or a reply lost in a
//! store outage cannot send a second answer for the same issuance, and
//! cannot strand the holder without one.
//!
//! The guard is a tower layer inside the hook layer: one store lookup per
//! request, no boxing of the route behind it. The answer is `409
//! Conflict` with a page (or JSON); a store that does not answer gets the
//! "try again" response; a session that began before a restart of a hook
//! whose store is in memory gets "start again from your wallet".

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use askama::Template;
use axum::extract::Request;
use axum::response::Response;
use hook_layer::attempts::{AnswerError, Answered, Answers, StoredAnswer};
use http::StatusCode;
use pin_project_lite::pin_project;
use serde_json::{Value, json};
use tower_layer::Layer;
use tower_service::Service;

use crate::claims::Session;
use crate::pages::{RESTART, render};

/// `completed` or `ended`, as the JSON API says it.
pub fn name(outcome: Answered) -> &'static str {
    match outcome {
        Answered::Completed => "completed",
        Answered::Ended => "ended",
    }
}

/// The page's heading, and the JSON API's message.
pub fn title(outcome: Answered) -> &'static str {
    match outcome {
        Answered::Completed => "This issuance has already been completed",
        Answered::Ended => "This issuance has already ended",
    }
}

/// The responses of the [`AnsweredGuard`], as pages or as JSON.
pub(crate) trait Refusals: Clone + Send + Sync + 'static {
    /// The session was answered already, with `answer`.
    fn answered(&self, answer: &StoredAnswer) -> Response;
    /// The session began before the hook restarted, on a store in memory.
    fn restarted(&self) -> Response;
    /// The store could not say whether it was.
    fn store_down(&self) -> Response;
}

/// Lets a request through only while its session is unanswered. Goes
/// inside the hook layer, so the session is verified already.
#[derive(Clone)]
pub(crate) struct AnsweredGuard<R> {
    pub(crate) answers: Answers,
    pub(crate) refusals: R,
    /// The store answers at once (it is this process's memory): the guard
    /// then decides inside `call`, and neither clones the route behind it
    /// nor boxes a future.
    pub(crate) store_answers_at_once: bool,
}

impl<R: Refusals> AnsweredGuard<R> {
    /// What the lookup of a session's answer means for its request: `None`
    /// to let it through (unanswered), or the response that refuses it.
    fn judge(&self, lookup: Result<Option<StoredAnswer>, AnswerError>) -> Option<Response> {
        match lookup {
            Ok(None) => None,
            Ok(Some(answer)) => Some(self.refusals.answered(&answer)),
            Err(AnswerError::SessionBeforeStore) => Some(self.refusals.restarted()),
            Err(error) => {
                tracing::error!(%error, "attempt store unavailable; no code sent or checked");
                Some(self.refusals.store_down())
            }
        }
    }
}

impl<S, R: Clone> Layer<S> for AnsweredGuard<R> {
    type Service = Guarded<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded {
            inner,
            guard: Arc::new(self.clone()),
        }
    }
}

/// A route behind the [`AnsweredGuard`].
#[derive(Clone)]
pub(crate) struct Guarded<S, R> {
    inner: S,
    guard: Arc<AnsweredGuard<R>>,
}

pin_project! {
    /// The future of a [`Guarded`] route.
    #[project = GuardedProjection]
    pub(crate) enum GuardedFuture<F> {
        /// Let through, decided at once: the route's own future.
        Through { #[pin] inner: F },
        /// Refused, decided at once.
        Refused { response: Option<Response> },
        /// Waiting on a shared store, then on the route.
        Waiting { future: BoxFuture },
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<F: Future<Output = Result<Response, Infallible>>> Future for GuardedFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GuardedProjection::Through { inner } => inner.poll(cx),
            // Polled again after it was ready: an empty response rather
            // than a panic.
            GuardedProjection::Refused { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_default()))
            }
            GuardedProjection::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S, R> Service<Request> for Guarded<S, R>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
    R: Refusals,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GuardedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // Always there behind the layer; without one, the handler's own
        // extractor reports the server's mistake.
        let Some(session) = request.extensions().get::<Session>() else {
            return GuardedFuture::Through {
                inner: self.inner.call(request),
            };
        };
        if self.guard.store_answers_at_once {
            let lookup = {
                let lookup = std::pin::pin!(self.guard.answers.answered(session));
                lookup.poll(&mut Context::from_waker(Waker::noop()))
            };
            // Not at once after all (Pending): ask again below, and wait.
            if let Poll::Ready(lookup) = lookup {
                return match self.guard.judge(lookup) {
                    None => GuardedFuture::Through {
                        inner: self.inner.call(request),
                    },
                    Some(refusal) => GuardedFuture::Refused {
                        response: Some(refusal),
                    },
                };
            }
        }
        // The service that was polled ready goes into the future; a clone
        // stays for the next call, as tower's middleware do.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = Arc::clone(&self.guard);
        GuardedFuture::Waiting {
            future: Box::pin(async move {
                let Some(session) = request.extensions().get::<Session>() else {
                    return inner.call(request).await;
                };
                match guard.judge(guard.answers.answered(session).await) {
                    None => inner.call(request).await,
                    Some(refusal) => Ok(refusal),
                }
            }),
        }
    }
}

/// The page for an answered session.
#[derive(Template)]
#[template(path = "answered.html")]
struct AnsweredPage<'a> {
    title: &'a str,
    completed: bool,
    message: &'a str,
    /// The session's one response, offered again: none once it expired.
    continue_to: Option<&'a str>,
    continue_label: &'a str,
    advice: &'a str,
    /// In dev mode, the simulated MATTR VII's start page.
    dev_start: Option<&'a str>,
}

/// `409 Conflict`: the page saying this issuance has already been
/// completed, or has ended, with its one response offered again (the way
/// back to the wallet) and, in dev mode, the simulated MATTR VII's start
/// page. A response past its own lifetime is not offered (MATTR VII would
/// refuse it): the holder starts again from the wallet.
pub(crate) fn page(answer: &StoredAnswer, dev_start: Option<&str>) -> Response {
    let outcome = answer.outcome();
    let (message, continue_label, advice) = match (outcome, answer.expired()) {
        (Answered::Completed, false) => (
            "Your answers were accepted. Nothing more can be changed here.",
            "Continue to your wallet",
            "Your wallet receives your credential when you continue.",
        ),
        (Answered::Completed, true) => (
            "Your answers were accepted, but too long ago to continue from here.",
            "",
            RESTART,
        ),
        (Answered::Ended, _) => (
            "No credential will be issued in this issuance, and nothing more can be sent from here.",
            "Return to your wallet",
            RESTART,
        ),
    };
    render(
        StatusCode::CONFLICT,
        &AnsweredPage {
            title: title(outcome),
            completed: outcome == Answered::Completed,
            message,
            continue_to: offered(answer),
            continue_label,
            advice,
            dev_start,
        },
    )
}

/// The JSON API's body for an answered session (sent with `409`), with
/// the session's one response for the app to open (`null` once it
/// expired: the holder starts again from the wallet).
pub(crate) fn json_body(answer: &StoredAnswer) -> Value {
    let outcome = answer.outcome();
    json!({
        "error": "already_answered",
        "message": format!("{}.", title(outcome)),
        "answered": name(outcome),
        "redirectUrl": offered(answer),
    })
}

/// The response to offer again, unless it expired.
pub(crate) fn offered(answer: &StoredAnswer) -> Option<&str> {
    (!answer.expired()).then(|| answer.redirect().url())
}

/// What a session that began before a restart is told, as a heading and a
/// message: its hook keeps attempts and answers in memory, so it cannot
/// tell whether the session was answered before.
pub(crate) const RESTARTED: (&str, &str) = (
    "Please start again",
    "This service restarted since your issuance began, so it cannot go on with it.",
);

#[cfg(all(test, feature = "dev"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use hook_layer::attempts::MemoryStore;
    use hook_layer::testing::MockIssuer;
    use hook_layer::{HookSecret, HookSession, InteractionHookLayer};

    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// The page offers the session's one response while MATTR VII would
    /// take it, and sends the holder back to the wallet once it expired.
    #[tokio::test]
    async fn an_expired_response_is_not_offered() {
        let secret = HookSecret::from_bytes(&[5; 32]).unwrap();
        let now = Arc::new(AtomicU64::new(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        ));
        let read = Arc::clone(&now);
        let layer = InteractionHookLayer::new(secret.clone())
            .clock(move || UNIX_EPOCH + Duration::from_secs(read.load(Ordering::SeqCst)));
        let token = MockIssuer::new(secret).session().token();
        let session: HookSession = layer.verify_token(&token).unwrap();
        // The layer's clock jumps ahead of the store's age below.
        let store = MemoryStore::default().serve_earlier_sessions();
        let answers = Answers::new(Arc::new(store));
        let redirect = session.complete().redirect_once(&answers).await.unwrap();

        let answer = answers.answered(&session).await.unwrap().unwrap();
        let offered = body(page(&answer, None)).await;
        assert!(offered.contains("Continue to your wallet"), "{offered}");
        assert!(offered.contains(&redirect.url().replace('&', "&amp;")));
        assert_eq!(json_body(&answer)["redirectUrl"], redirect.url());

        now.fetch_add(61, Ordering::SeqCst);
        let answer = answers.answered(&session).await.unwrap().unwrap();
        let response = page(&answer, None);
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let late = body(response).await;
        assert!(
            late.contains("This issuance has already been completed"),
            "{late}"
        );
        assert!(late.contains("too long ago"), "{late}");
        assert!(
            !late.contains("session_token="),
            "an expired response offered: {late}"
        );
        assert_eq!(json_body(&answer)["redirectUrl"], Value::Null);
    }
}
