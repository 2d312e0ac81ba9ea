//! The traffic: journeys across the replicas, the holders' return after
//! the run, and what they saw.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::LOCATION;

use crate::lock;
use crate::sessions::{Ending, Readers, Reply, Seen, Step};

/// A 5xx answer or a failed request, with when it was in flight.
pub(crate) struct Failure {
    pub(crate) sent: Instant,
    pub(crate) done: Instant,
    pub(crate) what: String,
    /// The session it was a request of.
    pub(crate) session: u64,
}

/// What the requests saw, over all sessions.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) requests: u64,
    /// Answers to a code that say whether it was right (a "not right"
    /// page, a redirect, or the answered page), when each came.
    pub(crate) code_answers: Vec<Instant>,
    pub(crate) failures: Vec<Failure>,
}

/// Everything the workers share.
pub(crate) struct Run {
    /// Signs session tokens (`now`) and reads responses.
    pub(crate) readers: Readers,
    pub(crate) bases: Vec<String>,
    pub(crate) http: reqwest::Client,
    pub(crate) sessions: AtomicU64,
    pub(crate) tally: Mutex<Tally>,
    /// Every session, once its journey is over.
    pub(crate) seen: Mutex<Vec<Seen>>,
}

/// An answer: the status, the redirect's location or the page, and how
/// the response token it gave out (if any) ends the issuance.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
    pub(crate) ending: Option<Ending>,
}

/// The text between `before` and the next `"` or `<`.
pub(crate) fn after<'h>(html: &'h str, before: &str) -> Option<&'h str> {
    let start = html.find(before)? + before.len();
    let end = html[start..].find(['"', '<'])?;
    Some(&html[start..start + end])
}

/// A holder told "try again in a moment" (or whose request failed) tries
/// again after this, then after twice as long each time, up to
/// [`LONGEST_WAIT`]: most retries land after the outage, as a person's
/// would, rather than use up the session's code checks on a store that
/// is not answering.
const FIRST_WAIT: Duration = Duration::from_millis(200);
const LONGEST_WAIT: Duration = Duration::from_secs(3);

impl Run {
    /// Sends the request `build` makes for a replica's base URL, moving to
    /// the other replica and trying again after any 5xx or failed request,
    /// for at most a minute; `None` then. Every answer's response tokens
    /// go into `seen`.
    pub(crate) async fn send(
        &self,
        seen: &mut Seen,
        what: &'static str,
        replica: &mut usize,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Option<Answer> {
        let give_up = Instant::now() + Duration::from_secs(60);
        let mut wait = FIRST_WAIT;
        loop {
            let index = *replica % self.bases.len();
            let base = &self.bases[index];
            *replica += 1;
            let sent = Instant::now();
            let result = build(base).send().await;
            lock(&self.tally).requests += 1;
            let mut step = Step {
                at: sent,
                what,
                replica: index,
                status: 0,
                response: None,
            };
            let failed = match result {
                Ok(response) if response.status().is_server_error() => {
                    step.status = response.status().as_u16();
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
                    let carried = seen.record(status, location.as_deref(), &body, &self.readers);
                    step.status = status.as_u16();
                    step.response = carried
                        .as_ref()
                        .map(|(_, signature)| signature.chars().take(8).collect());
                    let ending = carried.map(|(ending, _)| ending);
                    seen.trace.push(step);
                    return Some(Answer {
                        status,
                        location,
                        body,
                        ending,
                    });
                }
                Err(error) => format!("{base}: {error}"),
            };
            let done = Instant::now();
            seen.trace.push(step);
            seen.failed_requests += 1;
            lock(&self.tally).failures.push(Failure {
                sent,
                done,
                what: failed,
                session: seen.number,
            });
            if Instant::now() > give_up {
                return None;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(LONGEST_WAIT);
        }
    }

    /// One journey from the welcome page to the answer, and a look at the
    /// welcome page again after it: a number of wrong codes set by the
    /// session's number (0 to 5), then the right code, each request on
    /// the other replica.
    pub(crate) async fn journey(&self) {
        let number = self.sessions.fetch_add(1, Ordering::Relaxed);
        let token = self
            .readers
            .now
            .session()
            .state(format!("soak-{number}"))
            .claim("given_name", "Ada")
            .claim("email", "ada@example.com")
            .token();
        let mut seen = Seen::new(number, token);
        let mut replica = number as usize;
        match self.walk(&mut seen, number % 6, &mut replica).await {
            Ok(true) => {}
            Ok(false) => seen.abandoned = true,
            Err(unexpected) => seen.problems.push(unexpected),
        }
        lock(&self.seen).push(seen);
    }

    /// `Ok(true)` at the end, `Ok(false)` if abandoned, or what was
    /// unexpected.
    async fn walk(
        &self,
        seen: &mut Seen,
        wrong_codes: u64,
        replica: &mut usize,
    ) -> Result<bool, String> {
        let query = format!("session_token={}", seen.token);
        let welcome = self
            .send(seen, "welcome", replica, |base| {
                self.http.get(format!("{base}/interaction?{query}"))
            })
            .await;
        match welcome {
            None => return Ok(false),
            Some(answer) if answer.status == StatusCode::OK => {}
            Some(answer) => return Err(format!("welcome: {}", answer.status)),
        }
        // Each step that succeeds redirects to the next page
        // (post/redirect/get), opened on the other replica.
        let terms = self
            .send(seen, "terms", replica, |base| {
                self.http
                    .post(format!("{base}/interaction/terms?{query}"))
                    .form(&[("decision", "accept")])
            })
            .await;
        let Some(details) = self.follow(seen, replica, terms, "terms").await? else {
            return Ok(false);
        };
        let progress = after(&details, r#"name="progress" value=""#).ok_or("details: no form")?;
        let sent = self
            .send(seen, "details", replica, |base| {
                self.http
                    .post(format!("{base}/interaction/details?{query}"))
                    .form(&[
                        ("progress", progress),
                        ("preferred_name", "Ada"),
                        ("date_of_birth", "1990-04-21"),
                    ])
            })
            .await;
        let Some(code_page) = self.follow(seen, replica, sent, "details").await? else {
            return Ok(false);
        };
        let progress = after(&code_page, r#"name="progress" value=""#)
            .ok_or("code page: no form")?
            .to_owned();
        let code = after(&code_page, r#"id="dev-code">"#)
            .ok_or("code page: no code")?
            .to_owned();
        seen.code_step = Some((progress.clone(), code.clone()));
        let wrong = if code == "000000" { "111111" } else { "000000" };

        for _ in 0..wrong_codes {
            let Some(answer) = self
                .submit(seen, "wrong code", replica, &progress, wrong)
                .await
            else {
                return Ok(false);
            };
            if seen.codes.wrong(&Reply::of(&answer))? {
                break;
            }
        }
        let Some(answer) = self
            .submit(seen, "right code", replica, &progress, &code)
            .await
        else {
            return Ok(false);
        };
        seen.codes.right(&Reply::of(&answer))?;

        // Back to the hook's first page, as from the browser's history:
        // the session is answered, so the page offers its one response.
        let again = self
            .send(seen, "welcome again", replica, |base| {
                self.http.get(format!("{base}/interaction?{query}"))
            })
            .await;
        match again {
            None => Ok(false),
            Some(answer) if answer.status == StatusCode::CONFLICT && answer.ending.is_some() => {
                Ok(true)
            }
            Some(answer) => Err(format!("welcome after the answer: {}", answer.status)),
        }
    }

    /// The holder comes back after the run, when Redis is up and no outage
    /// is due, and submits the right code once more: an answered session
    /// offers its one response again; one that was not answered goes on,
    /// and must now be answered.
    pub(crate) async fn come_back(&self, seen: &mut Seen, replica: &mut usize) {
        let Some((progress, code)) = seen.code_step.clone() else {
            return;
        };
        let had_response = seen.answered();
        let Some(answer) = self.submit(seen, "return", replica, &progress, &code).await else {
            seen.problems
                .push("on the return after the run: a minute of failures".to_owned());
            return;
        };
        let reply = Reply::of(&answer);
        match reply {
            Reply::Response(_) if had_response => {}
            // Its response expired since: nothing is offered, and the page
            // sends the holder back to the wallet (`record` counts any other
            // 409 without a response as a problem).
            Reply::Other(_) if had_response && answer.status == StatusCode::CONFLICT => {
                seen.expired_on_return = seen.all_expired();
            }
            Reply::Response(_) => {
                seen.finished_on_return = seen.answered();
                if let Err(unexpected) = seen.codes.right(&reply) {
                    seen.problems.push(unexpected);
                }
            }
            other => seen
                .problems
                .push(format!("on the return after the run: {other:?}")),
        }
    }

    /// The page a step's `303 See Other` leads to, opened on the next
    /// replica; `None` when abandoned.
    async fn follow(
        &self,
        seen: &mut Seen,
        replica: &mut usize,
        answer: Option<Answer>,
        step: &'static str,
    ) -> Result<Option<String>, String> {
        let Some(answer) = answer else {
            return Ok(None);
        };
        let location = match (answer.status, answer.location) {
            (StatusCode::SEE_OTHER, Some(location)) if location.starts_with('/') => location,
            (status, location) => return Err(format!("{step}: {status} to {location:?}")),
        };
        let page = self
            .send(seen, step, replica, |base| {
                self.http.get(format!("{base}{location}"))
            })
            .await;
        match page {
            None => Ok(None),
            Some(page) if page.status == StatusCode::OK => Ok(Some(page.body)),
            Some(page) => Err(format!("{step}, then {location}: {}", page.status)),
        }
    }

    async fn submit(
        &self,
        seen: &mut Seen,
        what: &'static str,
        replica: &mut usize,
        progress: &str,
        code: &str,
    ) -> Option<Answer> {
        let query = format!("session_token={}", seen.token);
        let answer = self
            .send(seen, what, replica, |base| {
                self.http
                    .post(format!("{base}/interaction/verify?{query}"))
                    .form(&[("progress", progress), ("code", code)])
            })
            .await?;
        lock(&self.tally).code_answers.push(Instant::now());
        Some(answer)
    }
}
