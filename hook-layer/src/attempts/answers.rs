//! One signed response per session: an "answered" mark, set atomically in
//! the same store as the attempt counts, before the response is signed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::{AttemptError, AttemptLimiter, AttemptStore, StoreError};
use crate::completion::{Completion, CompletionError, Failure, HookRedirect, Prepared};
use crate::session::HookSession;

/// Makes sure a session is answered once: one signed response (a
/// completion or a failure) per session `state`, however many requests ask
/// for one, across threads, processes and replicas sharing the store.
///
/// A reloaded last step, a double tap, two tabs, or the session token
/// replayed from the browser's history would otherwise sign a second
/// response for the same issuance. With [`Completion::redirect_once`] and
/// [`Failure::redirect_once`] the first request to get that far marks the
/// session answered (one atomic round trip to the store, `INCR` on Redis)
/// and only then signs; every later one gets
/// [`AnswerError::AlreadyAnswered`] and nothing is signed. Everything that
/// can fail other than the HMAC itself (the claims, the URL's length) is
/// checked before the mark is set, so a refused completion does not use up
/// the session's answer.
///
/// The mark lives as long as an attempt count would (one leeway past the
/// token's end), under its own keys (`answered:...`), so it can share a
/// store with the attempt limiters.
///
/// ```
/// use std::sync::Arc;
/// use hook_layer::attempts::{AnswerError, Answers, MemoryStore};
/// use hook_layer::testing::MockIssuer;
/// use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let secret = HookSecret::from_bytes(&[7; 32])?;
/// let layer = InteractionHookLayer::new(secret.clone());
/// let session: HookSession = layer.verify_token(&MockIssuer::new(secret).session().token())?;
/// let answers = Answers::new(Arc::new(MemoryStore::default()));
///
/// assert!(!answers.is_answered(&session).await?);
/// let redirect = session.complete().claim("termsAccepted", true)?.redirect_once(&answers).await?;
/// assert!(answers.is_answered(&session).await?);
/// // A second submission of the last step signs nothing.
/// let again = session.complete().redirect_once(&answers).await;
/// assert!(matches!(again, Err(AnswerError::AlreadyAnswered)));
/// # let _ = redirect;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Answers {
    marks: AttemptLimiter,
    /// Set just before the mark by a completion, so a page can say the
    /// issuance went on. Without it, an answered session reads as ended.
    /// (Two rare cases read as completed although nothing was sent: a
    /// completion whose store failed between this and its signature, and a
    /// completion that lost the race for the mark to a failure.)
    completions: AttemptLimiter,
}

/// How a session was answered, as [`Answers::answered`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// With claims: the issuance went on.
    Completed,
    /// With an error that failed the issuance: it will not go on from here.
    Ended,
}

impl Answers {
    /// Answers kept in `store` (the attempt limiters' store, typically).
    pub fn new(store: Arc<dyn AttemptStore>) -> Self {
        let mut marks = AttemptLimiter::new("answered", 1, Arc::clone(&store));
        marks.key_prefix = "answered:";
        let mut completions = AttemptLimiter::new("answered-completed", 1, store);
        completions.key_prefix = "answered-completed:";
        Self { marks, completions }
    }

    /// Sets the longest a mark may be kept, as
    /// [`AttemptLimiter::max_count_lifetime`]; a session accepted for longer
    /// cannot be answered ([`AnswerError::SessionTooLong`]).
    #[must_use]
    pub fn max_count_lifetime(mut self, lifetime: Duration) -> Self {
        self.marks = self.marks.max_count_lifetime(lifetime);
        self.completions = self.completions.max_count_lifetime(lifetime);
        self
    }

    /// Whether `session` was answered already (by this process or another
    /// sharing the store). A page can say so instead of showing a form
    /// whose submission would be refused.
    pub async fn is_answered<C>(&self, session: &HookSession<C>) -> Result<bool, StoreError> {
        let core = session.core();
        let now = core.policy.now();
        let count = self.marks.store.count(&self.marks.key(core), now).await?;
        Ok(count > 0)
    }

    /// How `session` was answered, if it was: one store round trip when it
    /// was not, two when it was.
    pub async fn answered<C>(
        &self,
        session: &HookSession<C>,
    ) -> Result<Option<Answered>, StoreError> {
        if !self.is_answered(session).await? {
            return Ok(None);
        }
        let core = session.core();
        let now = core.policy.now();
        let completed = self
            .completions
            .store
            .count(&self.completions.key(core), now)
            .await?;
        Ok(Some(if completed > 0 {
            Answered::Completed
        } else {
            Answered::Ended
        }))
    }

    /// Marks the session answered, then signs `prepared`; refuses without
    /// signing when it was answered already.
    async fn answer(&self, prepared: Prepared<'_>) -> Result<HookRedirect, AnswerError> {
        prepared.check_length().map_err(AnswerError::Completion)?;
        let core = prepared.session();
        let failed = prepared.failed();
        let (now, expires_at) = self.marks.count_expiry(core).map_err(AnswerError::from)?;
        if !failed {
            // Only for the words of a later page, and written first, so
            // that a second tap of the last step, refused below, already
            // reads "completed". A failure to write it is not worth
            // withholding the response for: the page then says "ended".
            let _ = self
                .completions
                .reserve(&self.completions.key(core), now, expires_at)
                .await;
        }
        self.marks
            .reserve(&self.marks.key(core), now, expires_at)
            .await
            .map_err(AnswerError::from)?;
        prepared.sign().map_err(AnswerError::Completion)
    }
}

impl Completion<'_> {
    /// Signs the response token and builds the redirect, as
    /// [`redirect`](Self::redirect) does, but at most once per session:
    /// see [`Answers`].
    pub async fn redirect_once(self, answers: &Answers) -> Result<HookRedirect, AnswerError> {
        let prepared = self.prepare().map_err(AnswerError::Completion)?;
        answers.answer(prepared).await
    }
}

impl Failure<'_> {
    /// Signs the error response token and builds the redirect, as
    /// [`redirect`](Self::redirect) does, but at most once per session:
    /// see [`Answers`].
    pub async fn redirect_once(self, answers: &Answers) -> Result<HookRedirect, AnswerError> {
        let prepared = self.prepare().map_err(AnswerError::Completion)?;
        answers.answer(prepared).await
    }
}

/// Why [`Completion::redirect_once`] or [`Failure::redirect_once`] signed
/// nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnswerError {
    /// The session was answered already: tell the holder the issuance has
    /// already been completed (or has ended), and send them back to their
    /// wallet.
    AlreadyAnswered,
    /// The session's token is no longer accepted by the layer's clock.
    SessionOver,
    /// The session's token is accepted for longer than a mark may be kept.
    SessionTooLong {
        /// The longest a mark is kept.
        max: Duration,
    },
    /// The store failed or did not answer in time: nothing was signed; the
    /// holder may try again.
    Store(StoreError),
    /// The response could not be signed (see [`CompletionError`]); the
    /// session was not marked answered unless only the signature failed.
    Completion(CompletionError),
}

impl AnswerError {
    /// A status for the response: 409 when answered already, 401 when the
    /// session is over, 503 when the store failed, 500 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::AlreadyAnswered => StatusCode::CONFLICT,
            Self::SessionOver => StatusCode::UNAUTHORIZED,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::SessionTooLong { .. } | Self::Completion(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AttemptError> for AnswerError {
    fn from(error: AttemptError) -> Self {
        match error {
            // A limit of one, used: the session was answered.
            AttemptError::Exhausted { .. } => Self::AlreadyAnswered,
            AttemptError::SessionOver => Self::SessionOver,
            AttemptError::SessionTooLong { max } => Self::SessionTooLong { max },
            AttemptError::Store(error) => Self::Store(error),
        }
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyAnswered => f.write_str("this session has already been answered"),
            Self::SessionOver => f.write_str("the session is over; start again"),
            Self::SessionTooLong { max } => write!(
                f,
                "the session lasts longer than an answer can be remembered ({} s)",
                max.as_secs()
            ),
            Self::Store(error) => write!(f, "the session could not be marked answered: {error}"),
            Self::Completion(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for AnswerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(error) => Some(error),
            Self::Completion(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for AnswerError {
    /// The status and the message as plain text; a page of the
    /// application's own reads better for `AlreadyAnswered`.
    fn into_response(self) -> axum_core::response::Response {
        let mut response = http::Response::new(axum_core::body::Body::from(self.to_string()));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempts::MemoryStore;
    use crate::fixtures::{NOW, issuer, layer_at};
    use crate::testing::Outcome;

    fn session() -> HookSession {
        session_with("s")
    }

    fn session_with(state: &str) -> HookSession {
        layer_at(NOW)
            .verify_token(&issuer().session().state(state).token())
            .unwrap()
    }

    /// 64 concurrent completions and failures of one session, on a
    /// multi-thread runtime: exactly one is signed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_answers_sign_exactly_once() {
        let answers = Answers::new(Arc::new(MemoryStore::default()));
        let session = session();
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let (answers, session, barrier) =
                    (answers.clone(), session.clone(), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    if i % 2 == 0 {
                        session.complete().redirect_once(&answers).await
                    } else {
                        session.fail("Declined.").redirect_once(&answers).await
                    }
                })
            })
            .collect();
        let mut signed = Vec::new();
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(redirect) => signed.push(redirect),
                Err(AnswerError::AlreadyAnswered) => refused += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert_eq!((signed.len(), refused), (1, 63));
        let read = issuer().read_redirect(signed[0].url()).unwrap();
        assert_eq!(read.state, session.state());
        assert!(answers.is_answered(&session).await.unwrap());
    }

    #[tokio::test]
    async fn a_completion_that_cannot_be_signed_keeps_the_answer() {
        let answers = Answers::new(Arc::new(MemoryStore::default()));
        let session = session();
        let too_long = session.complete().claim("big", "x".repeat(4000)).unwrap();
        assert!(matches!(
            too_long.redirect_once(&answers).await,
            Err(AnswerError::Completion(CompletionError::UrlTooLong { .. }))
        ));
        let unknown = session.complete().persist(["missing"]);
        assert!(matches!(
            unknown.redirect_once(&answers).await,
            Err(AnswerError::Completion(
                CompletionError::PersistUnknownClaim(_)
            ))
        ));
        assert!(!answers.is_answered(&session).await.unwrap());
        let redirect = session.fail("Declined.").redirect_once(&answers).await;
        let read = issuer().read_redirect(redirect.unwrap().url()).unwrap();
        assert_eq!(
            read.outcome,
            Outcome::Failed {
                message: "Declined.".into()
            }
        );
        let error = session
            .complete()
            .redirect_once(&answers)
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert_eq!(error.to_string(), "this session has already been answered");
    }

    #[tokio::test]
    async fn sessions_and_limiters_do_not_share_answers() {
        let store: Arc<dyn AttemptStore> = Arc::new(MemoryStore::default());
        let answers = Answers::new(Arc::clone(&store));
        // A limiter of the application's, named like the marks.
        let limiter = AttemptLimiter::new("answered", 1, store);
        let one = session_with("one");
        let two = session_with("two");
        limiter.attempt(&one).await.unwrap();
        assert!(!answers.is_answered(&one).await.unwrap());
        assert_eq!(answers.answered(&one).await.unwrap(), None);
        one.complete().redirect_once(&answers).await.unwrap();
        assert_eq!(
            answers.answered(&one).await.unwrap(),
            Some(Answered::Completed)
        );
        assert!(!answers.is_answered(&two).await.unwrap());
        two.complete().redirect_once(&answers).await.unwrap();
    }
}
