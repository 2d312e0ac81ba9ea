//! A session is answered once. After the signed response (a completion or
//! a failure) has gone back to MATTR VII, every page and call of that
//! session says so instead of showing its form, and nothing more is signed:
//! a reloaded last step, a second tab, the back button or a replayed link
//! cannot send a second answer for the same issuance.
//!
//! The mark lives in the attempt store (`hook_layer::attempts::Answers`),
//! so it holds across replicas sharing Redis. The answer is `409 Conflict`
//! with a page (or JSON) saying whether the issuance was completed or
//! ended; a store that does not answer gets the "try again" response.

use askama::Template;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hook_layer::attempts::{Answered, Answers};
use http::StatusCode;
use serde_json::{Value, json};

use crate::pages::{RESTART, render};
use crate::steps::Session;

/// How an answered session is told to the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Answered with claims: the issuance went on.
    Completed,
    /// Answered with an error (declined, too many wrong codes), or answered
    /// in a way that could not be read.
    Ended,
}

impl From<Answered> for Finished {
    fn from(answered: Answered) -> Self {
        match answered {
            Answered::Completed => Self::Completed,
            Answered::Ended => Self::Ended,
        }
    }
}

impl Finished {
    /// `completed` or `ended`, as the JSON API says it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Ended => "ended",
        }
    }

    /// The page's heading, and the JSON API's message.
    pub fn title(self) -> &'static str {
        match self {
            Self::Completed => "This issuance has already been completed",
            Self::Ended => "This issuance has already ended",
        }
    }
}

/// The responses of the [`refuse_answered`] guard, as pages or as JSON.
pub(crate) trait Refusals: Clone + Send + Sync + 'static {
    /// The session was answered already.
    fn answered(&self, finished: Finished) -> Response;
    /// The store could not say whether it was.
    fn store_down(&self) -> Response;
}

/// State of the [`refuse_answered`] middleware.
#[derive(Clone)]
pub(crate) struct Guard<R> {
    pub(crate) answers: Answers,
    pub(crate) refusals: R,
}

/// Lets a request through only while its session is unanswered. Runs
/// inside the hook layer, so the session is verified already.
pub(crate) async fn refuse_answered<R: Refusals>(
    State(guard): State<Guard<R>>,
    request: Request,
    next: Next,
) -> Response {
    // Always there behind the layer; without one, the handler's own
    // extractor reports the server's mistake.
    let Some(session) = request.extensions().get::<Session>() else {
        return next.run(request).await;
    };
    match guard.answers.answered(session).await {
        Ok(None) => next.run(request).await,
        Ok(Some(answered)) => guard.refusals.answered(answered.into()),
        Err(error) => {
            tracing::error!(%error, "attempt store unavailable; no code sent or checked");
            guard.refusals.store_down()
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
    advice: &'a str,
    /// In dev mode, the simulated MATTR VII's start page.
    dev_start: Option<&'a str>,
}

/// `409 Conflict`: the page saying this issuance has already been
/// completed, or has ended, with the way back to the wallet (and, in dev
/// mode, to the simulated MATTR VII's start page).
pub(crate) fn page(finished: Finished, dev_start: Option<&str>) -> Response {
    let (message, advice) = match finished {
        Finished::Completed => (
            "Your answers have been sent to the issuer. Nothing more can be changed here.",
            "Return to your wallet to receive your credential.",
        ),
        Finished::Ended => (
            "No credential will be issued in this issuance, and nothing more can be sent from here.",
            RESTART,
        ),
    };
    render(
        StatusCode::CONFLICT,
        &AnsweredPage {
            title: finished.title(),
            completed: finished == Finished::Completed,
            message,
            advice,
            dev_start,
        },
    )
}

/// The JSON API's body for an answered session (sent with `409`).
pub(crate) fn json_body(finished: Finished) -> Value {
    json!({
        "error": "already_answered",
        "message": format!("{}.", finished.title()),
        "answered": finished.name(),
    })
}
