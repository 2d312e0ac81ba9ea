//! [`SimulatedTenant`]: MATTR VII's side of whole issuances, for a
//! development server (the example server's `/dev` pages, `mattr-hook
//! issuer`). It starts issuances and checks the hook's answers; the HTTP
//! around it belongs to whoever serves it.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use url::Url;

use super::{HookResponse, MockIssuer, MockIssuerError, Outcome};
use crate::policy::SESSION_TOKEN_PARAM;
use crate::query;
use crate::session::ClaimsMap;

/// The longest URL MATTR VII takes back: the whole callback address, with
/// the response token in it.
pub const MAX_CALLBACK_URL_LEN: usize = 2000;
/// Issuances remembered at once; past this the oldest is forgotten.
const MAX_OPEN_ISSUANCES: usize = 10_000;
/// How long an issuance waits for the hook: the session token's lifetime
/// plus the layer's default leeway.
const ISSUANCE_TIMEOUT: Duration = Duration::from_secs(MockIssuer::SESSION_TIMEOUT.as_secs() + 30);

/// A simulated MATTR VII tenant: it starts issuances (a session token, and
/// the hook address to send the browser to) and checks each answer as
/// MATTR VII would, including that it answers an issuance in progress,
/// once.
///
/// ```
/// use hook_layer::testing::{Callback, MockIssuer, SimulatedTenant};
/// use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
///
/// let secret = HookSecret::from_bytes(&[7; 32])?;
/// let tenant = SimulatedTenant::new(
///     MockIssuer::new(secret.clone()).redirect_url("http://127.0.0.1:8080/callback"),
///     MockIssuer::HOOK_URL,
/// )?;
/// let layer = InteractionHookLayer::new(secret)
///     .issuer(MockIssuer::TENANT)
///     .audience(MockIssuer::HOOK_URL)
///     .allow_loopback_redirects();
///
/// let start = tenant.start(&Default::default())?;
/// let session: HookSession = layer.verify(&start.url.parse()?)?;
/// let redirect = session.complete().redirect()?;
/// let answer = tenant.callback(redirect.url());
/// assert!(matches!(answer, Callback::Completed { .. }));
/// // The same answer again: the issuance is over.
/// let again = tenant.callback(redirect.url());
/// assert_eq!(again.refused_check(), Some("state"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SimulatedTenant {
    mock: MockIssuer,
    hook_url: Url,
    open: Mutex<OpenIssuances>,
}

/// An issuance just started: where to send the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct Start {
    /// The issuance's `state`.
    pub state: String,
    /// The hook URL with the session token in its query.
    pub url: String,
}

impl fmt::Debug for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL holds a bearer token.
        f.debug_struct("Start")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Why an issuance could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The system gave no randomness for a `state`.
    NoRandomness(getrandom::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRandomness(error) => write!(f, "no randomness for a state: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

/// What the simulated tenant made of one answer from the hook.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Callback {
    /// A valid answer: the issuance continues with these claims.
    Completed {
        /// The issuance's `state`.
        state: String,
        /// The returned claims.
        claims: ClaimsMap,
        /// `claimsToPersist`.
        claims_to_persist: Vec<String>,
    },
    /// A valid answer failing the issuance.
    Failed {
        /// The issuance's `state`.
        state: String,
        /// `error.message`.
        message: String,
    },
    /// MATTR VII would refuse the answer.
    Rejected {
        /// The `state` it claims to answer, when the token could be read.
        state: Option<String>,
        /// The check that failed: `url_length`, `session_token`,
        /// `algorithm`, `signature`, `iss`, `aud`, `lifetime`, `shape` or
        /// `state`.
        check: &'static str,
        /// Why, for a person; never the token.
        reason: String,
    },
}

impl Callback {
    /// The check that refused the answer, if it was refused.
    pub fn refused_check(&self) -> Option<&'static str> {
        match self {
            Self::Rejected { check, .. } => Some(check),
            _ => None,
        }
    }

    /// The HTTP status the tenant's page answers with: 200 for a valid
    /// answer (completed or failed), 400 for a refused one.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Rejected { .. } => http::StatusCode::BAD_REQUEST,
            _ => http::StatusCode::OK,
        }
    }

    /// The answer as one JSON object, for a log line: `state`, `outcome`
    /// (`completed`, `failed` or `rejected`), then the claims, the error
    /// message, or the failed check and reason.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Completed {
                state,
                claims,
                claims_to_persist,
            } => json!({
                "state": state,
                "outcome": "completed",
                "claims": claims,
                "claimsToPersist": claims_to_persist,
            }),
            Self::Failed { state, message } => json!({
                "state": state,
                "outcome": "failed",
                "message": message,
            }),
            Self::Rejected {
                state,
                check,
                reason,
            } => json!({
                "state": state,
                "outcome": "rejected",
                "check": check,
                "reason": reason,
            }),
        }
    }
}

impl SimulatedTenant {
    /// A tenant minting with `mock` (its secret, `iss` and `redirectUrl`,
    /// where the answers must come back) for the hook at `hook_url`, which
    /// is the `aud` of its tokens and where it sends the browser.
    pub fn new(mock: MockIssuer, hook_url: &str) -> Result<Self, url::ParseError> {
        // `aud` spelled as configured (MATTR VII sends the hook URL as it
        // was set); the address the browser is sent to, normalised
        // (`https://abcd.ngrok.app/`) to append the query to.
        let mock = mock.hook_url(hook_url);
        let hook_url = Url::parse(hook_url)?;
        Ok(Self {
            mock,
            hook_url,
            open: Mutex::default(),
        })
    }

    /// The hook URL, normalised.
    pub fn hook_url(&self) -> &str {
        self.hook_url.as_str()
    }

    /// Starts an issuance for a user with `claims`: a fresh, unguessable
    /// `state`, remembered until it is answered or times out, and the
    /// hook's address with the session token, for a 303.
    pub fn start(&self, claims: &ClaimsMap) -> Result<Start, StartError> {
        let state = random_state().map_err(StartError::NoRandomness)?;
        self.lock().open(state.clone(), Instant::now());
        let token = self
            .mock
            .session()
            .state(state.clone())
            .claims(claims)
            .token();
        let mut url = self.hook_url.clone();
        url.query_pairs_mut()
            .append_pair(SESSION_TOKEN_PARAM, &token);
        Ok(Start {
            state,
            url: url.into(),
        })
    }

    /// Checks an answer as MATTR VII would, in order: the whole URL
    /// within [`MAX_CALLBACK_URL_LEN`], one `session_token`, the token
    /// itself ([`MockIssuer::read_token`]: algorithm, signature, `iss` and
    /// `aud` swapped, lifetime, shape), then its `state`: an issuance in
    /// progress, not answered before. A valid answer closes the issuance.
    ///
    /// `url` is the callback as received: the whole address, or the
    /// request target (`/callback?session_token=...`), which is measured
    /// as if on the `redirectUrl`'s origin.
    pub fn callback(&self, url: &str) -> Callback {
        let response = match self.read(url) {
            Ok(response) => response,
            Err(rejected) => return rejected,
        };
        let state = response.state;
        let reason = match self.lock().answer(&state, Instant::now()) {
            Answer::Open => None,
            Answer::AlreadyAnswered => Some("this issuance was already answered"),
            Answer::Unknown => Some(
                "the state answers no issuance in progress (changed, timed out, \
                 or from before a restart)",
            ),
        };
        if let Some(reason) = reason {
            return Callback::Rejected {
                state: Some(state),
                check: "state",
                reason: reason.to_owned(),
            };
        }
        match response.outcome {
            Outcome::Completed {
                claims,
                claims_to_persist,
            } => Callback::Completed {
                state,
                claims,
                claims_to_persist,
            },
            Outcome::Failed { message } => Callback::Failed { state, message },
        }
    }

    /// Reads an answer as [`callback`](Self::callback) does, without its
    /// last check (the `state` of an issuance in progress): what can be
    /// said of an answer alone. A refusal is a [`Callback::Rejected`].
    pub fn read(&self, url: &str) -> Result<HookResponse, Callback> {
        let rejected = |state: Option<String>, check, reason: String| {
            Err(Callback::Rejected {
                state,
                check,
                reason,
            })
        };
        let len = if url.starts_with('/') {
            self.redirect_origin_len() + url.len()
        } else {
            url.len()
        };
        if len > MAX_CALLBACK_URL_LEN {
            let too_long = MockIssuerError::TooLong { len };
            return rejected(None, too_long.check(), too_long.to_string());
        }
        let query = url.split_once('?').map_or("", |(_, query)| query);
        let query = query.split_once('#').map_or(query, |(query, _)| query);
        let token = match query::find_raw(query, SESSION_TOKEN_PARAM) {
            Ok(Some(token)) if !token.is_empty() => token,
            Ok(_) => {
                return rejected(None, "session_token", MockIssuerError::NoToken.to_string());
            }
            Err(_) => {
                return rejected(None, "session_token", MockIssuerError::BadQuery.to_string());
            }
        };
        let Ok(token) = query::decode_strict(token) else {
            return rejected(None, "session_token", MockIssuerError::BadQuery.to_string());
        };
        self.read_token(&token)
    }

    /// Reads a response token alone ([`MockIssuer::read_token`]), its
    /// refusal as a [`Callback::Rejected`].
    pub fn read_token(&self, token: &str) -> Result<HookResponse, Callback> {
        self.mock
            .read_token(token)
            .map_err(|error| Callback::Rejected {
                state: None,
                check: error.check(),
                reason: error.to_string(),
            })
    }

    /// `scheme://host:port` of the `redirectUrl`.
    fn redirect_origin_len(&self) -> usize {
        Url::parse(self.mock.redirect_target())
            .map_or(0, |url| url.origin().ascii_serialization().len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenIssuances> {
        // The bookkeeping stays consistent whatever panicked while holding it.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for SimulatedTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatedTenant")
            .field("mock", &self.mock)
            .finish_non_exhaustive()
    }
}

impl MockIssuerError {
    /// The check this refusal failed, as [`Callback::Rejected`] names it.
    pub fn check(&self) -> &'static str {
        match self {
            Self::NotAUrl | Self::WrongDestination => "destination",
            Self::TooLong { .. } => "url_length",
            Self::NoToken | Self::BadQuery => "session_token",
            Self::Rejected(why) => match why.as_str() {
                "InvalidAlgorithm" => "algorithm",
                "InvalidSignature" | "InvalidKeyFormat" => "signature",
                "InvalidIssuer" => "iss",
                "InvalidAudience" => "aud",
                _ => "shape",
            },
            Self::Expired => "lifetime",
            Self::Shape(_) => "shape",
        }
    }
}

/// 128 random bits, hex: an unguessable `state`.
fn random_state() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

enum Answer {
    Open,
    AlreadyAnswered,
    Unknown,
}

/// The `state`s of issuances, as a tenant keeps them: an answer must
/// answer one in progress, once, before it times out. Bounded: starting
/// many issuances forgets the oldest, never all of them.
#[derive(Default)]
struct OpenIssuances {
    /// When each was started, and whether it has been answered.
    started: HashMap<String, (Instant, bool)>,
    /// Oldest first.
    order: VecDeque<(Instant, String)>,
}

impl OpenIssuances {
    fn open(&mut self, state: String, now: Instant) {
        self.forget_expired(now);
        while self.order.len() >= MAX_OPEN_ISSUANCES {
            self.forget_oldest();
        }
        self.started.insert(state.clone(), (now, false));
        self.order.push_back((now, state));
    }

    /// Whether `state` was waiting; it is answered now.
    fn answer(&mut self, state: &str, now: Instant) -> Answer {
        self.forget_expired(now);
        match self.started.get_mut(state) {
            Some((_, true)) => Answer::AlreadyAnswered,
            Some((_, answered)) => {
                *answered = true;
                Answer::Open
            }
            None => Answer::Unknown,
        }
    }

    fn forget_expired(&mut self, now: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(started, _)| now.duration_since(*started) > ISSUANCE_TIMEOUT)
        {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((started, state)) = self.order.pop_front()
            && self.started.get(&state).map(|(at, _)| at) == Some(&started)
        {
            self.started.remove(&state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(answer: Answer) -> &'static str {
        match answer {
            Answer::Open => "open",
            Answer::AlreadyAnswered => "answered",
            Answer::Unknown => "unknown",
        }
    }

    #[test]
    fn issuances_are_answered_once_and_time_out() {
        let start = Instant::now();
        let mut open = OpenIssuances::default();
        open.open("a".into(), start);
        open.open("b".into(), start + Duration::from_secs(10));
        assert_eq!(
            answered(open.answer("a", start + Duration::from_secs(20))),
            "open"
        );
        assert_eq!(
            answered(open.answer("a", start + Duration::from_secs(21))),
            "answered"
        );
        let late = start + Duration::from_secs(10) + ISSUANCE_TIMEOUT + Duration::from_secs(1);
        assert_eq!(answered(open.answer("b", late)), "unknown", "timed out");
        assert!(open.started.is_empty() && open.order.is_empty());
    }

    #[test]
    fn a_flood_of_issuances_forgets_the_oldest_only() {
        let now = Instant::now();
        let mut open = OpenIssuances::default();
        open.open("first".into(), now);
        open.open("second".into(), now);
        for i in 0..MAX_OPEN_ISSUANCES - 1 {
            open.open(i.to_string(), now);
        }
        assert!(open.started.len() <= MAX_OPEN_ISSUANCES);
        assert_eq!(answered(open.answer("first", now)), "unknown");
        assert_eq!(answered(open.answer("second", now)), "open");
        let last = (MAX_OPEN_ISSUANCES - 2).to_string();
        assert_eq!(answered(open.answer(&last, now)), "open");
    }
}
