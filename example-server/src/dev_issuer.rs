//! A simulated MATTR VII, for trying the journey without a tenant: it
//! starts an issuance for a sample user (minting the session token MATTR VII
//! would) and, at the callback, reads the hook's response as MATTR VII
//! would and shows the outcome.
//!
//! Compiled only with the `dev` feature. Its pages (`templates/dev/`) have
//! their own name and colours, so that it is plain where the hook starts
//! and ends.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use hook_layer::SESSION_TOKEN_PARAM;
use hook_layer::testing::{MockIssuer, Outcome};
use http::StatusCode;
use serde::Deserialize;

use crate::config::Config;
use crate::pages::{Claim, render};

/// The simulated tenant's start page. Its pages live under `/dev`, so that
/// they never collide with a journey mounted at the root.
pub const START_PATH: &str = "/dev";
/// Where the simulated tenant receives the hook's response.
pub const CALLBACK_PATH: &str = "/dev/callback";
/// Where the start page's form posts.
const BEGIN_PATH: &str = "/dev/start";
/// Issuances remembered at once; past this the oldest is forgotten.
const MAX_OPEN_ISSUANCES: usize = 10_000;
/// How long an issuance waits for the hook: the session token's lifetime
/// plus the layer's default leeway.
const ISSUANCE_TIMEOUT: Duration = Duration::from_secs(MockIssuer::SESSION_TIMEOUT.as_secs() + 30);

struct DevIssuer {
    mock: MockIssuer,
    hook_url: String,
    open: Mutex<OpenIssuances>,
}

/// The `state`s of issuances waiting for the hook, as a tenant keeps them:
/// a response must answer one of them, once, before it times out. Bounded:
/// starting many issuances forgets the oldest, never all of them.
#[derive(Default)]
struct OpenIssuances {
    started: HashMap<String, Instant>,
    /// Oldest first; may still hold issuances already answered, which are
    /// dropped when they reach the front.
    order: VecDeque<(Instant, String)>,
}

impl OpenIssuances {
    fn open(&mut self, state: String, now: Instant) {
        self.forget_expired(now);
        while self.order.len() >= MAX_OPEN_ISSUANCES {
            self.forget_oldest();
        }
        self.started.insert(state.clone(), now);
        self.order.push_back((now, state));
    }

    /// Whether `state` was waiting; it is not any more.
    fn answer(&mut self, state: &str, now: Instant) -> bool {
        self.forget_expired(now);
        self.started.remove(state).is_some()
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
            && self.started.get(&state) == Some(&started)
        {
            self.started.remove(&state);
        }
    }
}

/// `/dev` (start page), `/dev/start` and `/dev/callback`.
pub fn router(config: &Config) -> Router {
    let tenant = config.tenant();
    let mock = MockIssuer::new(tenant.secrets[0].clone())
        .tenant(tenant.issuer.clone())
        .hook_url(tenant.hook_url.clone())
        .redirect_url(format!("{}{CALLBACK_PATH}", config.base_url()));
    let issuer = DevIssuer {
        mock,
        // Normalised (`https://abcd.ngrok.app/`), to append the query to.
        hook_url: url::Url::parse(&tenant.hook_url)
            .map_or_else(|_| tenant.hook_url.clone(), String::from),
        open: Mutex::default(),
    };
    Router::new()
        .route(START_PATH, get(start_page))
        .route(BEGIN_PATH, post(start))
        .route(CALLBACK_PATH, get(callback))
        .with_state(Arc::new(issuer))
}

#[derive(Template)]
#[template(path = "dev/start.html")]
struct StartPage {
    start: &'static str,
}

async fn start_page() -> Response {
    render(StatusCode::OK, &StartPage { start: BEGIN_PATH })
}

/// The simulated MATTR VII's error page.
#[derive(Template)]
#[template(path = "dev/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    start: &'static str,
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage {
        title,
        message,
        start: START_PATH,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    email: String,
}

async fn start(State(issuer): State<Arc<DevIssuer>>, Form(form): Form<StartForm>) -> Response {
    let state = match random_state() {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(%error, "no randomness for a state");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Could not start",
                "Try again.",
            );
        }
    };
    issuer
        .open
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .open(state.clone(), Instant::now());
    let mut session = issuer.mock.session().state(state);
    for (name, value) in [("given_name", form.given_name), ("email", form.email)] {
        if !value.trim().is_empty() {
            session = session.claim(name, value.trim());
        }
    }
    let url = format!(
        "{}?{SESSION_TOKEN_PARAM}={}",
        issuer.hook_url,
        session.token()
    );
    let mut response = axum::response::IntoResponse::into_response(Redirect::to(&url));
    response.headers_mut().insert(
        http::header::REFERRER_POLICY,
        http::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// 128 random bits, hex: an unguessable `state`.
fn random_state() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[derive(Deserialize)]
struct Callback {
    session_token: Option<String>,
}

async fn callback(State(issuer): State<Arc<DevIssuer>>, Query(query): Query<Callback>) -> Response {
    let Some(token) = query.session_token else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "No response",
            "The hook sent no session_token.",
        );
    };
    let response = match issuer.mock.read_token(&token) {
        Ok(response) => response,
        Err(error) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Response refused",
                &format!("MATTR VII would refuse it: {error}."),
            );
        }
    };
    let known = issuer
        .open
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .answer(&response.state, Instant::now());
    if !known {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Unknown issuance",
            "This response answers no issuance in progress: it was already used (reloading the outcome page does that), or the server restarted.",
        );
    }
    let (claims, persisted, failure) = match response.outcome {
        Outcome::Completed {
            claims,
            claims_to_persist,
        } => {
            let claims = claims
                .iter()
                .map(|(name, value)| Claim::named(name, value))
                .collect();
            (claims, claims_to_persist, None)
        }
        Outcome::Failed { message } => (Vec::new(), Vec::new(), Some(message)),
    };
    let page = OutcomePage {
        failure,
        claims,
        persisted,
        state: response.state,
        start: START_PATH,
    };
    render(StatusCode::OK, &page)
}

/// The outcome of an issuance, as MATTR VII read the hook's response.
#[derive(Template)]
#[template(path = "dev/outcome.html")]
struct OutcomePage {
    /// The hook's reason, when it failed the interaction.
    failure: Option<String>,
    /// The claims it returned, under their own names, when it completed.
    claims: Vec<Claim>,
    /// The claims to store on the user record.
    persisted: Vec<String>,
    state: String,
    start: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuances_are_answered_once_and_time_out() {
        let start = Instant::now();
        let mut open = OpenIssuances::default();
        open.open("a".into(), start);
        open.open("b".into(), start + Duration::from_secs(10));
        assert!(open.answer("a", start + Duration::from_secs(20)));
        assert!(
            !open.answer("a", start + Duration::from_secs(21)),
            "answered twice"
        );
        let late = start + Duration::from_secs(10) + ISSUANCE_TIMEOUT + Duration::from_secs(1);
        assert!(!open.answer("b", late), "timed out");
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
        assert!(!open.answer("first", now), "the oldest is forgotten");
        assert!(open.answer("second", now), "the others are kept");
        assert!(open.answer(&(MAX_OPEN_ISSUANCES - 2).to_string(), now));
    }
}
