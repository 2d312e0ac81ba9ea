//! What the clients of one session saw: every response token given out
//! (in a redirect to MATTR VII, or offered again on an answered page),
//! whether a page said the issuance was completed or had ended, how its
//! code answers went, and a short trace of its requests.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use example_server::otp::MAX_FAILED_CODES;
use hook_layer::testing::{MockIssuer, MockIssuerError, Outcome};
use reqwest::StatusCode;

use crate::journeys::Answer;

/// The answered page's headings (example-server's `answered::title`).
pub(crate) const READS_COMPLETED: &str = "This issuance has already been completed";
pub(crate) const READS_ENDED: &str = "This issuance has already ended";

/// How a response token ends the issuance, as MATTR VII reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Completed,
    /// "The one-time code was entered incorrectly 3 times."
    TooManyWrongCodes,
    /// "The one-time code could not be checked.": every check of the
    /// session was used by requests whose store calls were lost.
    CodesUnchecked,
    /// A failure the soak never asks for.
    Other(String),
}

impl Ending {
    fn of(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Completed { .. } => Self::Completed,
            Outcome::Failed { message } if message.contains("entered incorrectly") => {
                Self::TooManyWrongCodes
            }
            Outcome::Failed { message } if message.contains("could not be checked") => {
                Self::CodesUnchecked
            }
            Outcome::Failed { message } => Self::Other(message.clone()),
        }
    }

    pub(crate) fn completes(&self) -> bool {
        *self == Self::Completed
    }
}

/// A response token seen by some client.
pub(crate) struct Response {
    pub(crate) ending: Ending,
    /// It had not expired when some client was given it: MATTR VII would
    /// have taken it then. (A response lives 60 s, so the page that offers
    /// it again long after offers one MATTR VII refuses.)
    pub(crate) usable: bool,
    /// Its `exp`: from then on the hook no longer offers it.
    pub(crate) expires_at: u64,
}

/// Who reads the response tokens: MATTR VII now, and MATTR VII at the
/// start of the run (for which no response of the run has expired yet), to
/// tell a response given out too late from one that is not genuine.
pub(crate) struct Readers {
    pub(crate) now: MockIssuer,
    pub(crate) at_start: MockIssuer,
}

/// What an answer to a code said.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Back to the code page: wrong, with attempts left.
    TryAgain,
    /// A response token, in a redirect to MATTR VII or offered on the
    /// answered page (`409`).
    Response(Ending),
    /// Anything else, described.
    Other(String),
}

impl Reply {
    pub(crate) fn of(answer: &Answer) -> Self {
        let location = answer.location.as_deref();
        match (answer.status, location, &answer.ending) {
            (StatusCode::SEE_OTHER, Some(to), _)
                if to.starts_with('/') && to.contains("note=wrong-") =>
            {
                Self::TryAgain
            }
            (StatusCode::SEE_OTHER | StatusCode::CONFLICT, _, Some(ending)) => {
                Self::Response(ending.clone())
            }
            (status, location, _) => Self::Other(format!("{status} to {location:?}")),
        }
    }
}

/// One request of a session, for its trace.
pub(crate) struct Step {
    pub(crate) at: Instant,
    pub(crate) what: &'static str,
    pub(crate) replica: usize,
    /// The status, or 0 for a failed request.
    pub(crate) status: u16,
    /// The first characters of the signature of the response token the
    /// answer carried.
    pub(crate) response: Option<String>,
}

/// Everything one session's clients saw.
pub(crate) struct Seen {
    pub(crate) number: u64,
    /// The session token, for the return after the run.
    pub(crate) token: String,
    /// Once the code page was reached: its sealed progress and the code.
    pub(crate) code_step: Option<(String, String)>,
    /// Every response token seen, by its signature (the token's last
    /// segment, an HMAC over the rest).
    pub(crate) responses: BTreeMap<String, Response>,
    /// Responses given out after they had expired.
    pub(crate) expired_offers: u64,
    /// Some page said "This issuance has already been completed".
    pub(crate) read_completed: bool,
    /// Some page said "This issuance has already ended".
    pub(crate) read_ended: bool,
    /// 5xx answers and failed requests.
    pub(crate) failed_requests: u64,
    /// Pages it should not have met, and responses MATTR VII would refuse.
    pub(crate) problems: Vec<String>,
    pub(crate) codes: Codes,
    /// Given up after a minute of failures at one step.
    pub(crate) abandoned: bool,
    /// Its first response token came on the return after the run.
    pub(crate) finished_on_return: bool,
    /// On the return its response had expired, and the page offered none.
    pub(crate) expired_on_return: bool,
    pub(crate) trace: Vec<Step>,
}

impl Seen {
    pub(crate) fn new(number: u64, token: String) -> Self {
        Self {
            number,
            token,
            code_step: None,
            responses: BTreeMap::new(),
            expired_offers: 0,
            read_completed: false,
            read_ended: false,
            failed_requests: 0,
            problems: Vec::new(),
            codes: Codes::default(),
            abandoned: false,
            finished_on_return: false,
            expired_on_return: false,
            trace: Vec::new(),
        }
    }

    /// Records the response tokens an answer gives out, each read as MATTR
    /// VII would, and what its page says; how the token it carries ends
    /// the issuance, and that token's signature.
    pub(crate) fn record(
        &mut self,
        status: StatusCode,
        location: Option<&str>,
        body: &str,
        readers: &Readers,
    ) -> Option<(Ending, String)> {
        let mut carried = None;
        if let Some(location) = location.filter(|location| !location.starts_with('/')) {
            carried = self.response(location, readers, "a redirect");
        }
        if body.contains(READS_COMPLETED) {
            self.read_completed = true;
        }
        if body.contains(READS_ENDED) {
            self.read_ended = true;
        }
        for url in offered(body) {
            let ending = self.response(&url, readers, "an offered response");
            carried = carried.or(ending);
        }
        // Past its response's lifetime an answered session's page offers
        // nothing (MATTR VII would refuse it): the holder is told to start
        // again from the wallet.
        if status == StatusCode::CONFLICT && carried.is_none() && !self.all_expired() {
            self.problems.push(format!(
                "409 with no response offered: {}",
                first_line(body)
            ));
        }
        carried
    }

    fn response(&mut self, url: &str, readers: &Readers, what: &str) -> Option<(Ending, String)> {
        let read = match readers.at_start.read_redirect(url) {
            Ok(read) => read,
            Err(error) => {
                self.problems
                    .push(format!("{what} MATTR VII would refuse: {error}"));
                return None;
            }
        };
        if read.state != format!("soak-{}", self.number) {
            self.problems
                .push(format!("{what} for another session (state {})", read.state));
            return None;
        }
        let usable = match readers.now.read_redirect(url) {
            Ok(_) => true,
            Err(MockIssuerError::Expired) => {
                self.expired_offers += 1;
                false
            }
            Err(error) => {
                self.problems
                    .push(format!("{what} MATTR VII would refuse: {error}"));
                false
            }
        };
        let signature = response_token(url)
            .and_then(|token| token.rsplit('.').next().map(str::to_owned))
            .unwrap_or_default();
        let ending = Ending::of(&read.outcome);
        let response = self.responses.entry(signature.clone()).or_insert(Response {
            ending: ending.clone(),
            usable: false,
            expires_at: read.expires_at,
        });
        response.usable |= usable;
        Some((ending, signature))
    }

    /// Whether a response that completes the issuance (or fails it) was
    /// given out while MATTR VII would take it.
    pub(crate) fn given_out(&self, completed: bool) -> bool {
        self.responses
            .values()
            .any(|response| response.usable && response.ending.completes() == completed)
    }

    /// Whether the session was given a response and every response it was
    /// given has expired by now. The hook decided before this clock read,
    /// so a response it found expired is expired here too.
    pub(crate) fn all_expired(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        !self.responses.is_empty()
            && self
                .responses
                .values()
                .all(|response| response.expires_at <= now)
    }

    /// Whether any response was given out while MATTR VII would take it.
    pub(crate) fn answered(&self) -> bool {
        self.responses.values().any(|response| response.usable)
    }
}

/// The response URLs a page offers ("Continue to your wallet"): the
/// buttons' links that carry a `session_token`, unescaped.
fn offered(page: &str) -> impl Iterator<Item = String> + '_ {
    page.split(r#"<a class="button" href=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.contains("session_token="))
        .map(|href| href.replace("&amp;", "&"))
}

/// The response token in a redirect back to MATTR VII.
fn response_token(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(name, _)| name == "session_token")
        .map(|(_, token)| token.into_owned())
}

/// The page's `<h1>`, or its start, to say what a page was.
fn first_line(body: &str) -> String {
    body.split("<h1>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or(body)
        .chars()
        .take(80)
        .collect()
}

/// What one session's code answers showed.
#[derive(Default)]
pub(crate) struct Codes {
    /// Wrong codes answered by a way back to the code page ("That code is
    /// not right").
    pub(crate) try_again: u64,
    /// Wrong codes answered (a "not right" page, or the issuance's end):
    /// each took at least one check from the session's count.
    pub(crate) wrong_answered: u64,
    /// A wrong code ended the issuance: no code may complete it any more.
    pub(crate) ended: bool,
    /// More code checks than the limit: a third "not right" answer (the
    /// third wrong code must fail the issuance), or a completion after the
    /// limit of wrong codes was answered.
    pub(crate) over_limit: bool,
    /// The issuance ended although fewer wrong codes than the limit were
    /// answered: a check counted in the store whose answer was lost in an
    /// outage (counts end one too high, never too low).
    pub(crate) ended_early: bool,
}

impl Codes {
    /// Takes the answer to a wrong code; whether it ended the issuance.
    pub(crate) fn wrong(&mut self, reply: &Reply) -> Result<bool, String> {
        self.wrong_answered += 1;
        match reply {
            Reply::TryAgain => {
                self.try_again += 1;
                if self.try_again >= MAX_FAILED_CODES {
                    self.over_limit = true;
                }
                Ok(false)
            }
            Reply::Response(ending) if ending.completes() => {
                Err("a wrong code completed".to_owned())
            }
            Reply::Response(_) => {
                self.ended = true;
                if self.wrong_answered < MAX_FAILED_CODES {
                    self.ended_early = true;
                }
                Ok(true)
            }
            Reply::Other(other) => Err(format!("wrong code: {other}")),
        }
    }

    /// Takes the answer to the right code.
    pub(crate) fn right(&mut self, reply: &Reply) -> Result<(), String> {
        match reply {
            Reply::Response(ending) if ending.completes() => {
                if self.ended || self.wrong_answered >= MAX_FAILED_CODES {
                    self.over_limit = true;
                }
                Ok(())
            }
            Reply::Response(_) => {
                if !self.ended && self.wrong_answered < MAX_FAILED_CODES {
                    self.ended_early = true;
                }
                Ok(())
            }
            Reply::TryAgain => Err("the right code was answered as wrong".to_owned()),
            Reply::Other(other) => Err(format!("right code: {other}")),
        }
    }
}
