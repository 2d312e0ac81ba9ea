//! The journey's steps without their pages: what the browser journey
//! (`journey.rs`) and the native app's JSON API (`api.rs`) both do, so
//! that both keep the same validation, sealed progress, attempt limits and
//! single answer per session. Each step returns what happened; the caller
//! turns it into a page, a redirect or JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hook_layer::attempts::{AnswerError, Answers, AttemptError, AttemptLimiter, StoredAnswer};
use hook_layer::{Completion, CompletionError, HookRedirect};

pub(crate) use crate::claims::Session;
use crate::config::Config;
use crate::delivery::{CodeSender, Recipient};
use crate::otp::{self, MAX_CODES_SENT, MAX_FAILED_CODES};
use crate::progress::{Details, Progress, SEALED_FOR};

/// How long a submission that finds every code check used waits for the
/// requests making those checks to answer the session: each is at most two
/// store calls and a signature from its answer, and a store call gives up
/// after `RedisStore::DEFAULT_TIMEOUT` (2 s).
const SETTLE: Duration = Duration::from_secs(5);

/// What the steps share: how codes go out, the limits, and the answers.
/// Cloning is cheap.
#[derive(Clone)]
pub(crate) struct Steps {
    /// Gets one-time codes to the holder (see `delivery.rs`).
    pub(crate) sender: Arc<dyn CodeSender>,
    /// Codes checked per session, reserved before each check: however many
    /// submissions arrive at once, on however many replicas, no more than
    /// `MAX_FAILED_CODES` codes are ever checked for a session.
    checks: AttemptLimiter,
    /// Wrong codes per session, counted after each wrong check: the one
    /// that reaches the limit fails the issuance. Only a check can add to
    /// it, so reaching the limit means that every check was wrong and no
    /// right code is still being answered.
    wrong: AttemptLimiter,
    /// Codes sent per session.
    sends: AttemptLimiter,
    /// One signed response per session.
    pub(crate) answers: Answers,
}

impl Steps {
    /// The steps with `config`'s attempt store and codes sent by `sender`.
    pub(crate) fn new(config: &Config, sender: Arc<dyn CodeSender>) -> Self {
        let store = &config.attempts;
        Self {
            sender,
            checks: AttemptLimiter::new("code-check", MAX_FAILED_CODES, Arc::clone(store)),
            wrong: AttemptLimiter::new("code-wrong", MAX_FAILED_CODES, Arc::clone(store)),
            sends: AttemptLimiter::new("code-send", MAX_CODES_SENT, Arc::clone(store)),
            answers: Answers::new(Arc::clone(store)),
        }
    }

    /// Whether and how the session was answered, with its one response.
    pub(crate) async fn answered(
        &self,
        session: &Session,
    ) -> Result<Option<StoredAnswer>, Trouble> {
        self.answers
            .answered(session)
            .await
            .map_err(|error| Trouble::of_answer(&error))
    }

    /// The holder declined the terms: the issuance fails.
    pub(crate) async fn decline(&self, session: &Session) -> Ended {
        let answer = session
            .fail("The holder declined the terms of service.")
            .redirect_once(&self.answers)
            .await;
        self.finish(session, Ending::Declined, answer).await
    }

    /// Sends a new code, if the session may have another. On success the
    /// progress holds it, in place of any earlier code.
    pub(crate) async fn send_code(&self, session: &Session, mut progress: Progress) -> Dispatch {
        match self.sends.attempt(session).await {
            Ok(_) => {}
            Err(AttemptError::Exhausted { limit }) => return Dispatch::Exhausted { limit },
            Err(error) => return Dispatch::Trouble(Trouble::of_attempt(&error)),
        }
        let code = match otp::new_code() {
            Ok(code) => code,
            Err(error) => {
                tracing::error!(%error, "no randomness for a one-time code");
                return Dispatch::Trouble(Trouble::Broken);
            }
        };
        let to = Recipient::from_claims(session.claims());
        if let Err(error) = self.sender.send(&to, &code).await {
            tracing::error!(%error, to = %to.masked(self.sender.channel()), "could not send a one-time code");
            return Dispatch::Undelivered;
        }
        progress.code = Some(code);
        Dispatch::Sent(progress)
    }

    /// Checks `submitted` against the code in `progress`: an attempt is
    /// reserved first, and the right code completes the issuance with the
    /// details collected.
    pub(crate) async fn check_code(
        &self,
        session: &Session,
        progress: &Progress,
        submitted: &str,
    ) -> Checked {
        let (Some(details), Some(expected)) = (&progress.details, &progress.code) else {
            // The first code could not be sent: nothing to check yet.
            return Checked::NothingSent;
        };
        if otp::normalize(submitted).is_empty() {
            // Not an attempt: nothing was entered.
            return Checked::Empty;
        }
        match self.checks.attempt(session).await {
            Ok(_) => {}
            Err(AttemptError::Exhausted { .. }) => {
                return Checked::Ended(self.after_every_check(session).await);
            }
            Err(error) => return Checked::Trouble(Trouble::of_attempt(&error)),
        }
        if otp::matches(expected, submitted) {
            return Checked::Ended(self.complete(session, details.clone()).await);
        }
        match self.wrong.attempt(session).await {
            Ok(attempt) if attempt.remaining > 0 => Checked::Wrong {
                left: attempt.remaining,
            },
            Ok(_) | Err(AttemptError::Exhausted { .. }) => {
                let message =
                    format!("The one-time code was entered incorrectly {MAX_FAILED_CODES} times.");
                let answer = session.fail(message).redirect_once(&self.answers).await;
                Checked::Ended(
                    self.finish(session, Ending::TooManyWrongCodes, answer)
                        .await,
                )
            }
            Err(error) => Checked::Trouble(Trouble::of_attempt(&error)),
        }
    }

    /// A code was submitted after every check of the session was used.
    /// Normally the requests that made those checks answer the session (a
    /// right code completes it, the last wrong one fails it), and this one
    /// gets that answer once it is there. But a check whose store call
    /// timed out was counted without being made, and after an outage every
    /// check may be used that way: then, once the others have had
    /// [`SETTLE`] to answer, no code can be checked any more and the
    /// failure is signed, so that the issuance ends rather than stays
    /// unanswered. Whichever answer is kept first is the session's.
    async fn after_every_check(&self, session: &Session) -> Ended {
        let deadline = Instant::now() + SETTLE;
        let mut pause = Duration::from_millis(50);
        loop {
            match self.answers.answered(session).await {
                Ok(Some(answer)) => return Ended::AlreadyAnswered(answer),
                // A store that fails while we wait may come back before the
                // deadline: keep asking rather than send the holder away
                // to start the wait again.
                Ok(None) | Err(AnswerError::Store(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(800));
                }
                Ok(None) => break,
                Err(error) => return Ended::Trouble(Trouble::of_answer(&error)),
            }
        }
        let answer = session
            .fail("The one-time code could not be checked.")
            .redirect_once(&self.answers)
            .await;
        self.finish(session, Ending::CodeUnchecked, answer).await
    }

    /// The successful end: the collected details go back to MATTR VII, and
    /// the preferred name is stored on the user record.
    async fn complete(&self, session: &Session, details: Details) -> Ended {
        let answer = match completion(session, details) {
            Ok(completion) => completion.redirect_once(&self.answers).await,
            Err(error) => Err(AnswerError::Completion(error)),
        };
        self.finish(session, Ending::Completed, answer).await
    }

    /// What became of an answer. Either way one log line says how the
    /// journey ended: with the first characters of its `state`, to find it
    /// in the tenant's logs, and never a claim or a code.
    async fn finish(
        &self,
        session: &Session,
        ending: Ending,
        answer: Result<HookRedirect, AnswerError>,
    ) -> Ended {
        let state: String = session.state().chars().take(6).collect();
        let error = match answer {
            Ok(redirect) => {
                metrics::counter!(crate::prometheus::JOURNEYS_ENDED, "ending" => ending.label())
                    .increment(1);
                match ending {
                    Ending::Completed => tracing::info!(state, "interaction completed"),
                    Ending::Declined => {
                        tracing::info!(state, reason = "terms declined", "interaction failed");
                    }
                    Ending::TooManyWrongCodes => {
                        tracing::info!(
                            state,
                            reason = "too many wrong codes",
                            "interaction failed"
                        );
                    }
                    Ending::CodeUnchecked => {
                        tracing::info!(
                            state,
                            reason = "every code check was lost",
                            "interaction failed"
                        );
                    }
                }
                return Ended::Redirect(redirect);
            }
            Err(error) => error,
        };
        match error {
            AnswerError::AlreadyAnswered(answer) => {
                tracing::debug!(state, ?ending, "already answered; its answer given back");
                Ended::AlreadyAnswered(answer)
            }
            AnswerError::SessionOver => Ended::Trouble(Trouble::SessionOver),
            AnswerError::SessionBeforeStore => Ended::Trouble(Trouble::Restarted),
            AnswerError::Store(error) => {
                tracing::error!(state, ?ending, %error, "attempt store unavailable; nothing sent");
                Ended::Trouble(Trouble::StoreDown)
            }
            error => {
                tracing::error!(state, ?ending, %error, "could not complete the interaction");
                Ended::Trouble(Trouble::Broken)
            }
        }
    }
}

/// The completion for `details`, before it is signed.
fn completion(session: &Session, details: Details) -> Result<Completion<'_>, CompletionError> {
    let Details {
        preferred_name,
        date_of_birth,
    } = details;
    Ok(session
        .complete()
        .claim("preferredName", preferred_name)?
        .claim("dateOfBirth", date_of_birth)?
        .claim("termsAccepted", true)?
        .persist(["preferredName"]))
}

/// The progress sealed in a form or a URL, if it is genuine, unexpired and
/// this session's.
pub(crate) fn open_progress(session: &Session, sealed: &str) -> Option<Progress> {
    session.open_for(SEALED_FOR, sealed).ok()
}

/// The progress sealed for the next step.
pub(crate) fn seal_progress(session: &Session, progress: &Progress) -> Option<String> {
    session
        .seal_for(SEALED_FOR, progress)
        .inspect_err(|error| tracing::error!(%error, "could not seal the journey's progress"))
        .ok()
}

/// "That code is not right. 2 attempts left."
pub(crate) fn wrong_code_message(left: u64) -> String {
    let plural = if left == 1 { "" } else { "s" };
    format!("That code is not right. {left} attempt{plural} left.")
}

/// Why a session may not have another code.
pub(crate) fn sends_used_message(limit: u64) -> String {
    format!(
        "You have been sent {limit} codes, the most for one session. Enter the last one you received."
    )
}

/// How a journey ended, for the one log line it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Completed,
    Declined,
    TooManyWrongCodes,
    /// Every code check was used without one being made (store outages).
    CodeUnchecked,
}

impl Ending {
    /// The `ending` label of `example_server_journeys_ended_total`.
    fn label(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Declined => "declined",
            Self::TooManyWrongCodes => "too_many_wrong_codes",
            Self::CodeUnchecked => "code_unchecked",
        }
    }
}

/// Something other than the holder's answers stopped a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trouble {
    /// The attempt store did not answer: nothing was sent, checked or
    /// signed; the holder may try again.
    StoreDown,
    /// The session's token stopped being accepted while the step ran.
    SessionOver,
    /// The session began before this hook restarted, and its store is in
    /// memory: it may have had attempts or an answer that are forgotten.
    Restarted,
    /// Our side: no randomness, a response that cannot be signed, a session
    /// longer than counts are kept.
    Broken,
}

impl Trouble {
    /// The trouble behind a refused attempt (other than the limit), logged.
    fn of_attempt(error: &AttemptError) -> Self {
        match error {
            AttemptError::SessionOver => Self::SessionOver,
            AttemptError::SessionBeforeStore => Self::Restarted,
            AttemptError::Store(_) => {
                tracing::error!(%error, "attempt store unavailable; no code sent or checked");
                Self::StoreDown
            }
            _ => {
                tracing::error!(%error, "no attempt could be counted");
                Self::Broken
            }
        }
    }

    /// The trouble behind a failed lookup of the session's answer, logged.
    fn of_answer(error: &AnswerError) -> Self {
        match error {
            AnswerError::SessionOver => Self::SessionOver,
            AnswerError::SessionBeforeStore => Self::Restarted,
            AnswerError::Store(_) => {
                tracing::error!(%error, "attempt store unavailable; no code sent or checked");
                Self::StoreDown
            }
            _ => {
                tracing::error!(%error, "the session's answer could not be read");
                Self::Broken
            }
        }
    }
}

/// The end of an issuance, as a step met it.
pub(crate) enum Ended {
    /// Signed and kept: send the holder (or the app) back to MATTR VII.
    Redirect(HookRedirect),
    /// The session was answered already, with this response: nothing new
    /// was signed, and this one can be offered again.
    AlreadyAnswered(StoredAnswer),
    /// Nothing was signed.
    Trouble(Trouble),
}

/// What sending a code did.
pub(crate) enum Dispatch {
    /// Sent: the progress, holding the new code.
    Sent(Progress),
    /// The session has had its `limit` codes; nothing was sent.
    Exhausted {
        /// The most codes a session is sent.
        limit: u64,
    },
    /// The code sender failed: counted, but not sent; another may be asked
    /// for.
    Undelivered,
    /// Nothing was sent.
    Trouble(Trouble),
}

/// What checking a code did.
pub(crate) enum Checked {
    /// No code has been sent yet, so none was checked.
    NothingSent,
    /// Nothing was entered; not counted.
    Empty,
    /// Wrong, with `left` wrong codes before the issuance fails.
    Wrong {
        /// Wrong codes left.
        left: u64,
    },
    /// The issuance ended: the right code, or the last wrong one.
    Ended(Ended),
    /// Nothing was checked.
    Trouble(Trouble),
}
