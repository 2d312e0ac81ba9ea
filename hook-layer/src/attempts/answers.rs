//! One signed response per session: the first response signed for a
//! session is kept in the store, atomically, and only that one ever leaves
//! the hook.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::{AttemptError, AttemptLimiter, AttemptStore, StoreError};
use crate::completion::{Completion, CompletionError, Failure, HookRedirect, Prepared, count_sent};
use crate::session::{HookSession, SessionCore};

/// Makes sure a session is answered once: one signed response (a
/// completion or a failure) per session `state`, however many requests ask
/// for one, across threads, processes and replicas sharing the store, and
/// whatever fails in between.
///
/// A reloaded last step, a double tap, two tabs, or the session token
/// replayed from the browser's history would otherwise sign a second
/// response for the same issuance. With [`Completion::redirect_once`] and
/// [`Failure::redirect_once`] the response is signed, then offered to the
/// store with [`AttemptStore::put_if_absent`] (one atomic round trip; `SET
/// NX GET` on Redis). The first response put is the session's answer, and
/// only it is ever returned: a later request, on any replica, gets
/// [`AnswerError::AlreadyAnswered`] with that stored answer, whatever it
/// asked for, so a completion racing a decline ends with one outcome that
/// every later page reads the same way.
///
/// Because the answer is kept, a reply lost on the way (the store wrote it,
/// then its acknowledgement timed out, and the holder was told to try
/// again) is not lost: the retry reads it back and can offer it ("this
/// step was already answered; continue to your wallet").
///
/// Everything that can fail other than the HMAC itself (the claims, the
/// URL's length) is checked before anything is stored, so a refused
/// completion does not use up the session's answer.
///
/// The answer lives as long as an attempt count would (one leeway past the
/// token's end), under its own keys (`answered:...`), so it can share a
/// store with the attempt limiters. On a store that forgets on restart
/// ([`MemoryStore`](super::MemoryStore)), a session that began before the
/// restart is refused ([`AnswerError::SessionBeforeStore`]) rather than
/// answered a second time.
///
/// ```
/// use std::sync::Arc;
/// use hook_layer::attempts::{AnswerError, Answered, Answers, MemoryStore};
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
/// assert!(answers.answered(&session).await?.is_none());
/// let redirect = session.complete().claim("termsAccepted", true)?.redirect_once(&answers).await?;
/// // A decline after that signs nothing, and gets the completion back.
/// match session.fail("Declined.").redirect_once(&answers).await {
///     Err(AnswerError::AlreadyAnswered(answer)) => {
///         assert_eq!(answer.outcome(), Answered::Completed);
///         assert_eq!(answer.redirect().url(), redirect.url());
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Answers {
    /// Used for its store, keys, lifetimes and metrics; never to count.
    marks: AttemptLimiter,
}

/// How a session was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// With claims: the issuance went on.
    Completed,
    /// With an error that failed the issuance: it will not go on from here.
    Ended,
}

impl Answered {
    /// The word it is stored under.
    fn word(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Ended => "ended",
        }
    }
}

/// The response a session was answered with, as the store keeps it: how,
/// and the signed redirect back to MATTR VII. `Debug` shows neither URL
/// nor token.
#[derive(Clone)]
pub struct StoredAnswer {
    outcome: Answered,
    redirect: HookRedirect,
    /// The response's `exp` had passed when it was read.
    expired: bool,
}

impl StoredAnswer {
    /// Whether the session was completed or ended.
    pub fn outcome(&self) -> Answered {
        self.outcome
    }

    /// The signed redirect back to MATTR VII: the one response of this
    /// session, to offer the holder again ("continue to your wallet").
    pub fn redirect(&self) -> &HookRedirect {
        &self.redirect
    }

    /// The signed redirect, owned.
    pub fn into_redirect(self) -> HookRedirect {
        self.redirect
    }

    /// Whether the response's own lifetime (`exp`, see
    /// `InteractionHookLayer::response_lifetime`) had passed when it was
    /// read, by the layer's clock. MATTR VII then refuses it, so offering
    /// it again leads nowhere: tell the holder the issuance was answered,
    /// and to start again from their wallet. No newer response is ever
    /// signed in its place.
    pub fn expired(&self) -> bool {
        self.expired
    }

    /// The stored form: the outcome's word, the response's `exp`, the
    /// token, separated by spaces. The URL is not kept: it is rebuilt from
    /// the session's own `redirectUrl`.
    fn encode(outcome: Answered, expires_at: u64, token: &str) -> String {
        format!("{} {expires_at} {token}", outcome.word())
    }

    /// Reads what [`encode`](Self::encode) wrote, at `now`. Anything else
    /// is an error of the store's: nothing is signed in its place.
    fn decode(session: &SessionCore, value: &str, now: u64) -> Result<Self, StoreError> {
        let unreadable = || StoreError::unavailable("the stored answer cannot be read");
        let mut parts = value.split(' ');
        let (Some(word), Some(expires_at), Some(token), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unreadable());
        };
        let outcome = [Answered::Completed, Answered::Ended]
            .into_iter()
            .find(|outcome| outcome.word() == word)
            .ok_or_else(unreadable)?;
        let expires_at: u64 = expires_at.parse().map_err(|_| unreadable())?;
        let redirect = HookRedirect::again(session, token.to_owned()).map_err(|_| unreadable())?;
        Ok(Self {
            outcome,
            redirect,
            expired: now >= expires_at,
        })
    }
}

impl fmt::Debug for StoredAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredAnswer")
            .field("outcome", &self.outcome)
            .field("expired", &self.expired)
            .finish_non_exhaustive()
    }
}

impl Answers {
    /// Answers kept in `store` (the attempt limiters' store, typically).
    pub fn new(store: Arc<dyn AttemptStore>) -> Self {
        let mut marks = AttemptLimiter::new("answered", 1, store);
        marks.key_prefix = "answered:";
        Self { marks }
    }

    /// Sets the longest an answer may be kept, as
    /// [`AttemptLimiter::max_count_lifetime`]; a session accepted for longer
    /// cannot be answered ([`AnswerError::SessionTooLong`]).
    #[must_use]
    pub fn max_count_lifetime(mut self, lifetime: Duration) -> Self {
        self.marks = self.marks.max_count_lifetime(lifetime);
        self
    }

    /// How `session` was answered, if it was (by this process or another
    /// sharing the store), with the response it was given: one store round
    /// trip. A page can offer that response instead of showing a form
    /// whose submission would only get it back.
    ///
    /// Fails with [`AnswerError::SessionBeforeStore`] for a session the
    /// store cannot vouch for (see [`Answers`]), and
    /// [`AnswerError::Store`] when the store fails.
    pub async fn answered<C>(
        &self,
        session: &HookSession<C>,
    ) -> Result<Option<StoredAnswer>, AnswerError> {
        let core = session.core();
        let now = core.policy.now();
        if !self.marks.store_has_seen(core, now) {
            return Err(AnswerError::SessionBeforeStore);
        }
        let key = self.marks.key(core);
        let value = self.marks.store.get(&key, now).await;
        match value.map_err(AnswerError::Store)? {
            None => Ok(None),
            Some(value) => Ok(Some(
                StoredAnswer::decode(core, &value, now).map_err(AnswerError::Store)?,
            )),
        }
    }

    /// Signs `prepared` and keeps it as the session's answer, unless the
    /// session has one already: then that one comes back in the error, and
    /// the new signature is dropped unseen.
    async fn answer(&self, prepared: Prepared<'_>) -> Result<HookRedirect, AnswerError> {
        prepared.check_length().map_err(AnswerError::Completion)?;
        let core = prepared.session();
        let failed = prepared.failed();
        let response_expires_at = prepared.expires_at();
        let (now, expires_at) = self.marks.count_expiry(core).map_err(AnswerError::from)?;
        let redirect = prepared.sign_uncounted().map_err(AnswerError::Completion)?;
        let outcome = if failed {
            Answered::Ended
        } else {
            Answered::Completed
        };
        let value = StoredAnswer::encode(outcome, response_expires_at, redirect.token());
        let key = self.marks.key(core);
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let put = self
            .marks
            .store
            .put_if_absent(&key, &value, now, expires_at)
            .await;
        #[cfg(feature = "metrics")]
        self.marks
            .metrics
            .store_round_trip(self.marks.name(), started.elapsed());
        match put.map_err(AnswerError::Store)? {
            None => {
                count_sent(core, failed);
                Ok(redirect)
            }
            Some(there) => Err(AnswerError::AlreadyAnswered(
                StoredAnswer::decode(core, &there, now).map_err(AnswerError::Store)?,
            )),
        }
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

/// Why [`Completion::redirect_once`] or [`Failure::redirect_once`] sent
/// no new response, or why [`Answers::answered`] could not tell.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnswerError {
    /// The session was answered already, with this response: tell the
    /// holder the issuance has already been completed (or has ended), and
    /// offer them the response to continue to their wallet. Nothing new
    /// was signed.
    AlreadyAnswered(StoredAnswer),
    /// The session's token is no longer accepted by the layer's clock.
    SessionOver,
    /// The session's token is accepted for longer than an answer may be
    /// kept.
    SessionTooLong {
        /// The longest an answer is kept.
        max: Duration,
    },
    /// The session began before the store started keeping answers (the
    /// hook restarted since, on a store in memory): it may have been
    /// answered before, so it is not answered again. The holder starts
    /// again from their wallet.
    SessionBeforeStore,
    /// The store failed or did not answer in time: no response was given
    /// out. The holder may try again; if the store kept a response before
    /// failing, the retry gets that one back.
    Store(StoreError),
    /// The response could not be signed (see [`CompletionError`]); nothing
    /// was kept.
    Completion(CompletionError),
}

impl AnswerError {
    /// A status for the response: 409 when answered already or when the
    /// session began before the store, 401 when the session is over, 503
    /// when the store failed, 500 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::AlreadyAnswered(_) | Self::SessionBeforeStore => StatusCode::CONFLICT,
            Self::SessionOver => StatusCode::UNAUTHORIZED,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::SessionTooLong { .. } | Self::Completion(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AttemptError> for AnswerError {
    fn from(error: AttemptError) -> Self {
        match error {
            AttemptError::SessionOver => Self::SessionOver,
            AttemptError::SessionTooLong { max } => Self::SessionTooLong { max },
            AttemptError::SessionBeforeStore => Self::SessionBeforeStore,
            AttemptError::Store(error) => Self::Store(error),
            // Answers never count, so never exhaust a count.
            AttemptError::Exhausted { .. } => {
                Self::Store(StoreError::unavailable("an answer was refused as a count"))
            }
        }
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyAnswered(answer) => write!(
                f,
                "this session has already been answered ({})",
                answer.outcome.word()
            ),
            Self::SessionOver => f.write_str("the session is over; start again"),
            Self::SessionTooLong { max } => write!(
                f,
                "the session lasts longer than an answer can be remembered ({} s)",
                max.as_secs()
            ),
            Self::SessionBeforeStore => f.write_str(
                "the session began before the hook last restarted and may have been \
                 answered already; start again",
            ),
            Self::Store(error) => {
                write!(f, "the session's answer could not be kept or read: {error}")
            }
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
    use std::sync::Mutex;

    use super::*;
    use crate::attempts::{MemoryStore, ValueFuture};
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

    fn memory() -> Answers {
        Answers::new(Arc::new(MemoryStore::default()))
    }

    /// 64 concurrent completions and failures of one session, on a
    /// multi-thread runtime: exactly one is signed, and every other request
    /// gets that one back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_answers_sign_exactly_once() {
        let answers = memory();
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
        let mut given_back = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(redirect) => signed.push(redirect),
                Err(AnswerError::AlreadyAnswered(answer)) => given_back.push(answer),
                Err(other) => panic!("{other}"),
            }
        }
        assert_eq!((signed.len(), given_back.len()), (1, 63));
        let read = issuer().read_redirect(signed[0].url()).unwrap();
        assert_eq!(read.state, session.state());
        let outcome = match read.outcome {
            Outcome::Completed { .. } => Answered::Completed,
            Outcome::Failed { .. } => Answered::Ended,
        };
        for answer in &given_back {
            assert_eq!(answer.redirect().url(), signed[0].url());
            assert_eq!(answer.outcome(), outcome);
        }
        let stored = answers.answered(&session).await.unwrap().unwrap();
        assert_eq!(stored.redirect().token(), signed[0].token());
        assert_eq!(stored.outcome(), outcome);
    }

    /// A completion and a decline racing, many rounds: one wins, the other
    /// gets the winner back, and the stored outcome is the winner's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_completion_and_a_decline_racing_end_one_way() {
        let answers = memory();
        for round in 0..200 {
            let session = session_with(&format!("race-{round}"));
            let (completed, declined) = tokio::join!(
                {
                    let (answers, session) = (answers.clone(), session.clone());
                    tokio::spawn(async move { session.complete().redirect_once(&answers).await })
                },
                {
                    let (answers, session) = (answers.clone(), session.clone());
                    tokio::spawn(
                        async move { session.fail("Declined.").redirect_once(&answers).await },
                    )
                },
            );
            let (winner, outcome, loser) = match (completed.unwrap(), declined.unwrap()) {
                (Ok(won), Err(AnswerError::AlreadyAnswered(lost))) => {
                    (won, Answered::Completed, lost)
                }
                (Err(AnswerError::AlreadyAnswered(lost)), Ok(won)) => (won, Answered::Ended, lost),
                (a, b) => panic!("round {round}: {a:?} / {b:?}"),
            };
            assert_eq!(loser.outcome(), outcome);
            assert_eq!(loser.redirect().token(), winner.token());
            let stored = answers.answered(&session).await.unwrap().unwrap();
            assert_eq!(stored.outcome(), outcome);
            assert_eq!(stored.redirect().url(), winner.url());
        }
    }

    #[tokio::test]
    async fn a_completion_that_cannot_be_signed_keeps_the_answer() {
        let answers = memory();
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
        assert!(answers.answered(&session).await.unwrap().is_none());
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
        assert_eq!(
            error.to_string(),
            "this session has already been answered (ended)"
        );
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
        assert!(answers.answered(&one).await.unwrap().is_none());
        one.complete().redirect_once(&answers).await.unwrap();
        assert_eq!(
            answers.answered(&one).await.unwrap().unwrap().outcome(),
            Answered::Completed
        );
        assert!(answers.answered(&two).await.unwrap().is_none());
        two.complete().redirect_once(&answers).await.unwrap();
    }

    /// Keeps values in a [`MemoryStore`], but can lose the reply to a put
    /// after making it, as a Redis whose acknowledgement times out does.
    #[derive(Default)]
    struct LosesReplies {
        inner: MemoryStore,
        lose_next: Mutex<bool>,
    }

    impl AttemptStore for LosesReplies {
        fn reserve<'a>(
            &'a self,
            key: &'a str,
            now: u64,
            at: u64,
        ) -> super::super::ReserveFuture<'a> {
            self.inner.reserve(key, now, at)
        }

        fn put_if_absent<'a>(
            &'a self,
            key: &'a str,
            value: &'a str,
            now: u64,
            expires_at: u64,
        ) -> ValueFuture<'a> {
            let put = self.inner.put_if_absent(key, value, now, expires_at);
            let lose = std::mem::take(&mut *self.lose_next.lock().unwrap());
            Box::pin(async move {
                let put = put.await;
                if lose {
                    return Err(StoreError::Timeout {
                        after: Duration::from_secs(2),
                    });
                }
                put
            })
        }

        fn get<'a>(&'a self, key: &'a str, now: u64) -> ValueFuture<'a> {
            self.inner.get(key, now)
        }
    }

    /// The answer was kept but its reply lost: the holder is told to try
    /// again, and the retry gets the kept response back, not a new one.
    #[tokio::test]
    async fn a_reply_lost_after_the_answer_was_kept_gives_it_back() {
        let store = Arc::new(LosesReplies::default());
        let answers = Answers::new(store.clone());
        let session = session();
        *store.lose_next.lock().unwrap() = true;
        let lost = session
            .complete()
            .claim("n", 1)
            .unwrap()
            .redirect_once(&answers)
            .await;
        assert!(matches!(
            lost,
            Err(AnswerError::Store(StoreError::Timeout { .. }))
        ));
        let kept = answers.answered(&session).await.unwrap().unwrap();
        assert_eq!(kept.outcome(), Answered::Completed);
        let read = issuer().read_redirect(kept.redirect().url()).unwrap();
        assert!(matches!(read.outcome, Outcome::Completed { .. }));
        // The retry, whichever way it goes, gets that one.
        let retry = session
            .complete()
            .claim("n", 2)
            .unwrap()
            .redirect_once(&answers)
            .await;
        let Err(AnswerError::AlreadyAnswered(again)) = retry else {
            panic!("{retry:?}");
        };
        assert_eq!(again.redirect().token(), kept.redirect().token());
    }

    /// What the store keeps cannot send the holder anywhere but the
    /// session's own `redirectUrl`, and what cannot be read signs nothing.
    #[tokio::test]
    async fn a_stored_answer_is_rebuilt_for_the_session_or_refused() {
        let store = Arc::new(MemoryStore::default());
        let answers = Answers::new(store.clone());
        let session = session();
        let key = answers.marks.key(session.core());
        for junk in [
            "",
            "completed",
            "completed eyJ.x.y",
            "maybe 1 eyJ.x.y",
            "completed soon eyJ.x.y",
            "completed 1 a b",
        ] {
            let other = session_with(&format!("junk-{}", junk.len()));
            let key = answers.marks.key(other.core());
            store
                .put_if_absent(&key, junk, NOW, NOW + 60)
                .await
                .unwrap();
            let read = answers.answered(&other).await;
            assert!(
                matches!(read, Err(AnswerError::Store(_))),
                "{junk:?}: {read:?}"
            );
            let signed = other.complete().redirect_once(&answers).await;
            assert!(
                matches!(signed, Err(AnswerError::Store(_))),
                "{junk:?}: {signed:?}"
            );
        }
        store
            .put_if_absent(&key, &format!("ended {} tok.en.x", NOW + 60), NOW, NOW + 60)
            .await
            .unwrap();
        let answer = answers.answered(&session).await.unwrap().unwrap();
        assert_eq!(answer.outcome(), Answered::Ended);
        assert!(!answer.expired());
        assert!(
            answer
                .redirect()
                .url()
                .starts_with(crate::testing::MockIssuer::REDIRECT_URL),
            "{}",
            answer.redirect().url()
        );
        assert_eq!(answer.redirect().token(), "tok.en.x");
        assert!(!format!("{answer:?}").contains("tok.en.x"));
    }

    /// A kept response outlives its own lifetime (the session's is
    /// longer): read after its `exp`, it says so, and is still the only
    /// one.
    #[tokio::test]
    async fn a_kept_response_past_its_lifetime_reads_as_expired() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let now = Arc::new(AtomicU64::new(NOW));
        let read = Arc::clone(&now);
        let layer = layer_at(NOW).clock(move || {
            std::time::UNIX_EPOCH + Duration::from_secs(read.load(Ordering::SeqCst))
        });
        let session: HookSession = layer.verify_token(&issuer().session().token()).unwrap();
        let answers = Answers::new(Arc::new(MemoryStore::default().serve_earlier_sessions()));
        let redirect = session.complete().redirect_once(&answers).await.unwrap();
        // The default response lifetime is 60 s.
        now.store(NOW + 59, Ordering::SeqCst);
        assert!(!answers.answered(&session).await.unwrap().unwrap().expired());
        now.store(NOW + 60, Ordering::SeqCst);
        let late = answers.answered(&session).await.unwrap().unwrap();
        assert!(late.expired());
        assert_eq!(late.redirect().token(), redirect.token());
        let Err(AnswerError::AlreadyAnswered(again)) =
            session.fail("Declined.").redirect_once(&answers).await
        else {
            panic!("a second response");
        };
        assert!(again.expired());
        assert_eq!(again.redirect().token(), redirect.token());
    }

    /// On a store in memory, a session that began before the store was
    /// made (before a restart) is neither answered nor read as unanswered.
    #[tokio::test]
    async fn a_session_from_before_a_memory_store_is_not_answered() {
        use std::time::{SystemTime, UNIX_EPOCH};
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let layer = crate::InteractionHookLayer::new(crate::fixtures::secret());
        let mock = crate::testing::MockIssuer::new(crate::fixtures::secret());
        let earlier: HookSession = layer
            .verify_token(&mock.session().set("iat", now - 60).token())
            .unwrap();
        let fresh: HookSession = layer.verify_token(&mock.session().token()).unwrap();
        let answers = memory();
        assert!(matches!(
            answers.answered(&earlier).await,
            Err(AnswerError::SessionBeforeStore)
        ));
        let error = earlier
            .complete()
            .redirect_once(&answers)
            .await
            .unwrap_err();
        assert!(matches!(error, AnswerError::SessionBeforeStore), "{error}");
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert!(fresh.complete().redirect_once(&answers).await.is_ok());
        // An application that accepts the risk serves it.
        let trusting = Answers::new(Arc::new(MemoryStore::default().serve_earlier_sessions()));
        assert!(earlier.complete().redirect_once(&trusting).await.is_ok());
    }
}
