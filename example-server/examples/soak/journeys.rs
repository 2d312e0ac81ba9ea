//! The traffic: journeys across the replicas, and what they saw.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use example_server::otp::MAX_FAILED_CODES;
use hook_layer::testing::{MockIssuer, Outcome};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

use crate::lock;

/// A 5xx answer or a failed request, with when it was in flight.
pub(crate) struct Failure {
    pub(crate) sent: Instant,
    pub(crate) done: Instant,
    pub(crate) what: String,
}

/// What the journeys saw.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    /// Journeys given up after a minute of 5xx or errors at one step.
    pub(crate) abandoned: u64,
    /// Journeys that met a page they should not have (a 4xx, say).
    pub(crate) unexpected: Vec<String>,
    pub(crate) requests: u64,
    /// Answers to a code that say whether it was right (a "not right"
    /// page or a redirect), when each came.
    pub(crate) code_answers: Vec<Instant>,
    /// Sessions with more code checks than the limit: a third "not
    /// right" page, or a completion after the limit of wrong codes.
    pub(crate) over_limit: u64,
    /// Right codes refused although fewer than the limit of wrong codes
    /// had been answered.
    pub(crate) refused_early: u64,
    pub(crate) failures: Vec<Failure>,
}

/// Everything the workers share.
pub(crate) struct Run {
    pub(crate) issuer: MockIssuer,
    pub(crate) bases: Vec<String>,
    pub(crate) http: reqwest::Client,
    pub(crate) sessions: AtomicU64,
    pub(crate) tally: Mutex<Tally>,
}

/// An answer: the status, and the redirect's location or the page.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

/// The text between `before` and the next `"` or `<`.
pub(crate) fn after<'h>(html: &'h str, before: &str) -> Option<&'h str> {
    let start = html.find(before)? + before.len();
    let end = html[start..].find(['"', '<'])?;
    Some(&html[start..start + end])
}

impl Run {
    /// Sends the request `build` makes for a replica's base URL, moving to
    /// the other replica and trying again after any 5xx or failed request,
    /// for at most a minute; `None` then.
    pub(crate) async fn send(
        &self,
        replica: &mut usize,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Option<Answer> {
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            let base = &self.bases[*replica % self.bases.len()];
            *replica += 1;
            let sent = Instant::now();
            let result = build(base).send().await;
            let done = Instant::now();
            lock(&self.tally).requests += 1;
            let what = match result {
                Ok(response) if response.status().is_server_error() => {
                    format!("{} from {base}", response.status())
                }
                Ok(response) => {
                    let status = response.status();
                    let location = response
                        .headers()
                        .get(LOCATION)
                        .and_then(|location| location.to_str().ok())
                        .map(str::to_owned);
                    let body = response.text().await.unwrap_or_default();
                    return Some(Answer {
                        status,
                        location,
                        body,
                    });
                }
                Err(error) => format!("{base}: {error}"),
            };
            lock(&self.tally)
                .failures
                .push(Failure { sent, done, what });
            if Instant::now() > give_up {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One journey from the welcome page to a redirect back: a number of
    /// wrong codes set by the session's number (0 to 5), then the right
    /// code, each request on the other replica.
    pub(crate) async fn journey(&self) {
        let number = self.sessions.fetch_add(1, Ordering::Relaxed);
        let token = self
            .issuer
            .session()
            .state(format!("soak-{number}"))
            .claim("given_name", "Ada")
            .claim("email", "ada@example.com")
            .token();
        let mut replica = number as usize;
        let outcome = self.walk(&token, number % 6, &mut replica).await;
        let mut tally = lock(&self.tally);
        match outcome {
            Ok(Some(true)) => tally.completed += 1,
            Ok(Some(false)) => tally.failed += 1,
            Ok(None) => tally.abandoned += 1,
            Err(unexpected) => tally.unexpected.push(unexpected),
        }
    }

    /// `Ok(Some(completed))`, `Ok(None)` if abandoned, or what was
    /// unexpected.
    pub(crate) async fn walk(
        &self,
        token: &str,
        wrong_codes: u64,
        replica: &mut usize,
    ) -> Result<Option<bool>, String> {
        let query = format!("session_token={token}");
        let page = |answer: Option<Answer>, step: &str| match answer {
            None => Ok(None),
            Some(answer) if answer.status == StatusCode::OK => Ok(Some(answer.body)),
            Some(answer) => Err(format!("{step}: {}", answer.status)),
        };
        let welcome = self
            .send(replica, |base| {
                self.http.get(format!("{base}/interaction?{query}"))
            })
            .await;
        if page(welcome, "welcome")?.is_none() {
            return Ok(None);
        }
        // Each step that succeeds redirects to the next page
        // (post/redirect/get), opened on the other replica.
        let terms = self
            .send(replica, |base| {
                self.http
                    .post(format!("{base}/interaction/terms?{query}"))
                    .form(&[("decision", "accept")])
            })
            .await;
        let Some(details) = self.follow(replica, terms, "terms").await? else {
            return Ok(None);
        };
        let progress = after(&details, r#"name="progress" value=""#).ok_or("details: no form")?;
        let sent = self
            .send(replica, |base| {
                self.http
                    .post(format!("{base}/interaction/details?{query}"))
                    .form(&[
                        ("progress", progress),
                        ("preferred_name", "Ada"),
                        ("date_of_birth", "1990-04-21"),
                    ])
            })
            .await;
        let Some(code_page) = self.follow(replica, sent, "details").await? else {
            return Ok(None);
        };
        let progress = after(&code_page, r#"name="progress" value=""#)
            .ok_or("code page: no form")?
            .to_owned();
        let code = after(&code_page, r#"id="dev-code">"#)
            .ok_or("code page: no code")?
            .to_owned();
        let wrong = if code == "000000" { "111111" } else { "000000" };

        let mut session = Session::default();
        for _ in 0..wrong_codes {
            let Some(answer) = self.submit(replica, &query, &progress, wrong).await else {
                return Ok(None);
            };
            if session.wrong_answered(&answer, &self.issuer)? {
                break;
            }
        }
        let Some(answer) = self.submit(replica, &query, &progress, &code).await else {
            return Ok(None);
        };
        let completed = session.right_answered(&answer, &self.issuer)?;
        let mut tally = lock(&self.tally);
        if session.over_limit {
            tally.over_limit += 1;
        }
        if session.refused_early {
            tally.refused_early += 1;
        }
        Ok(Some(completed))
    }

    /// The page a step's `303 See Other` leads to, opened on the next
    /// replica; `None` when abandoned.
    async fn follow(
        &self,
        replica: &mut usize,
        answer: Option<Answer>,
        step: &str,
    ) -> Result<Option<String>, String> {
        let Some(answer) = answer else {
            return Ok(None);
        };
        let location = match (answer.status, answer.location) {
            (StatusCode::SEE_OTHER, Some(location)) if location.starts_with('/') => location,
            (status, location) => return Err(format!("{step}: {status} to {location:?}")),
        };
        let page = self
            .send(replica, |base| self.http.get(format!("{base}{location}")))
            .await;
        match page {
            None => Ok(None),
            Some(page) if page.status == StatusCode::OK => Ok(Some(page.body)),
            Some(page) => Err(format!("{step}, then {location}: {}", page.status)),
        }
    }

    pub(crate) async fn submit(
        &self,
        replica: &mut usize,
        query: &str,
        progress: &str,
        code: &str,
    ) -> Option<Answer> {
        let answer = self
            .send(replica, |base| {
                self.http
                    .post(format!("{base}/interaction/verify?{query}"))
                    .form(&[("progress", progress), ("code", code)])
            })
            .await?;
        lock(&self.tally).code_answers.push(Instant::now());
        Some(answer)
    }
}

/// What one session's code answers showed.
#[derive(Default)]
pub(crate) struct Session {
    /// Wrong codes answered by a way back to the code page ("That code is
    /// not right").
    pub(crate) try_again: u64,
    /// Wrong codes answered (a "not right" page or a failing redirect):
    /// each took one attempt from the session's count.
    pub(crate) wrong_answered: u64,
    /// The issuance was failed: no code may complete it any more.
    pub(crate) ended: bool,
    pub(crate) over_limit: bool,
    pub(crate) refused_early: bool,
}

impl Session {
    /// Whether the wrong code ended the issuance.
    pub(crate) fn wrong_answered(
        &mut self,
        answer: &Answer,
        issuer: &MockIssuer,
    ) -> Result<bool, String> {
        self.wrong_answered += 1;
        if answer.status == StatusCode::SEE_OTHER && back_to_the_hook(answer, "note=wrong-") {
            self.try_again += 1;
            // With a limit of 3, the third wrong code fails the issuance:
            // a third "not right" answer is a fourth check.
            if self.try_again >= MAX_FAILED_CODES {
                self.over_limit = true;
            }
            return Ok(false);
        }
        let answered_already = answer.status == StatusCode::CONFLICT
            && answer.body.contains("This issuance has already ended");
        if answered_already
            || answer.status == StatusCode::SEE_OTHER
                && back_to_the_hook(answer, "note=no-attempts")
        {
            // Every check is used, or the session was answered, although
            // fewer wrong codes were answered here: an attempt (or the
            // failure it signed) counted just before Redis went down, whose
            // answer was lost (counts can end one too high, never too low).
            self.ended = true;
            if self.wrong_answered < MAX_FAILED_CODES {
                self.refused_early = true;
            }
            return Ok(true);
        }
        match (answer.status, outcome(answer, issuer)?) {
            (StatusCode::SEE_OTHER, Some(false)) => {
                self.ended = true;
                if self.wrong_answered < MAX_FAILED_CODES {
                    self.refused_early = true;
                }
                Ok(true)
            }
            (StatusCode::SEE_OTHER, Some(true)) => Err("a wrong code completed".to_owned()),
            (status, _) => Err(format!("wrong code: {status} to {:?}", answer.location)),
        }
    }

    /// Whether the right code completed the issuance.
    pub(crate) fn right_answered(
        &mut self,
        answer: &Answer,
        issuer: &MockIssuer,
    ) -> Result<bool, String> {
        // Refused without signing: the session was answered (it failed),
        // or no attempt was left.
        let refused = (answer.status == StatusCode::CONFLICT
            && answer.body.contains("This issuance has already ended"))
            || (answer.status == StatusCode::SEE_OTHER
                && back_to_the_hook(answer, "note=no-attempts"));
        if refused {
            if !self.ended && self.wrong_answered < MAX_FAILED_CODES {
                self.refused_early = true;
            }
            return Ok(false);
        }
        // Completed by an earlier try of this same request, whose answer
        // was lost while Redis went down: the retry signs nothing more.
        if answer.status == StatusCode::CONFLICT
            && answer
                .body
                .contains("This issuance has already been completed")
        {
            if self.ended || self.wrong_answered >= MAX_FAILED_CODES {
                self.over_limit = true;
            }
            return Ok(true);
        }
        match (answer.status, outcome(answer, issuer)?) {
            (StatusCode::SEE_OTHER, Some(true)) => {
                if self.ended || self.wrong_answered >= MAX_FAILED_CODES {
                    self.over_limit = true;
                }
                Ok(true)
            }
            (StatusCode::SEE_OTHER, Some(false)) => {
                if self.wrong_answered < MAX_FAILED_CODES {
                    self.refused_early = true;
                }
                Ok(false)
            }
            (status, _) => Err(format!("right code: {status} to {:?}", answer.location)),
        }
    }
}

/// Whether `answer` leads back to a page of the hook whose address has
/// `note` (post/redirect/get), rather than to MATTR VII.
fn back_to_the_hook(answer: &Answer, note: &str) -> bool {
    answer
        .location
        .as_deref()
        .is_some_and(|location| location.starts_with('/') && location.contains(note))
}

/// For a redirect back, whether it completes the issuance.
pub(crate) fn outcome(answer: &Answer, issuer: &MockIssuer) -> Result<Option<bool>, String> {
    let Some(location) = &answer.location else {
        return Ok(None);
    };
    match issuer.read_redirect(location) {
        Ok(read) => Ok(Some(matches!(read.outcome, Outcome::Completed { .. }))),
        Err(error) => Err(format!("a redirect MATTR VII would refuse: {error}")),
    }
}
