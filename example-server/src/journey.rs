//! The hook itself: welcome, terms of service, extra details, a one-time
//! code, then back to MATTR VII. Every route is behind the layer, and the
//! session token travels from page to page in links and form actions.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use hook_layer::attempts::{AttemptError, AttemptLimiter};
use hook_layer::{CompletionError, HookRedirect, HookSession, SESSION_TOKEN_PARAM};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::claims::UserClaims;
use crate::config::Config;
use crate::delivery::{self, Channel, CodeSender, Recipient};
use crate::details::{DetailsErrors, DetailsForm, today};
use crate::otp::{self, MAX_CODES_SENT, MAX_FAILED_CODES};
use crate::pages::{self, Claim, render};
use crate::progress::{Details, Progress, SEALED_FOR};

type Session = HookSession<UserClaims>;

/// Where `--load-test-routes` mounts the welcome page without the layer.
pub const LOAD_TEST_WELCOME: &str = "/load-test/welcome";

/// Where each step lives, under the hook URL's path.
struct Paths {
    welcome: String,
    terms: String,
    details: String,
    verify: String,
    resend: String,
}

#[derive(Clone)]
struct Journey {
    paths: Arc<Paths>,
    /// Gets one-time codes to the holder (see `delivery.rs`).
    sender: Arc<dyn CodeSender>,
    /// Wrong one-time codes per session.
    checks: AttemptLimiter,
    /// One-time codes sent per session.
    sends: AttemptLimiter,
}

/// The journey's routes, behind the interaction hook layer.
pub fn router(config: &Config) -> Router {
    router_with_sender(config, delivery::for_config(config))
}

/// The journey's routes, with one-time codes sent by `sender`.
fn router_with_sender(config: &Config, sender: Arc<dyn CodeSender>) -> Router {
    // A hook URL without a path mounts the journey at the root: welcome at
    // `/`, the steps at `/terms` and so on.
    let base = config.hook_path().trim_end_matches('/');
    let paths = Paths {
        welcome: if base.is_empty() { "/" } else { base }.to_owned(),
        terms: format!("{base}/terms"),
        details: format!("{base}/details"),
        verify: format!("{base}/verify"),
        resend: format!("{base}/resend"),
    };
    let dev_start = crate::dev_start(config);
    #[cfg_attr(not(feature = "dev"), allow(unused_mut))]
    let mut layer = config.settings.layer().claims::<UserClaims>().on_rejection(
        move |rejection: &hook_layer::Rejection| pages::rejection(rejection, dev_start),
    );
    #[cfg(feature = "dev")]
    if config.dev_issuer {
        // The simulated MATTR VII's callback is on this server, usually on
        // 127.0.0.1 over http.
        layer = layer.allow_loopback_redirects();
    }
    let mut router = Router::new()
        .route(&paths.welcome, get(welcome))
        .route(&paths.terms, get(terms).post(decide_terms))
        .route(&paths.details, post(submit_details))
        .route(&paths.verify, post(verify_code))
        .route(&paths.resend, post(resend_code))
        // `route_layer`: only matched routes are guarded, so an unknown path is
        // a 404, not a refused token.
        .route_layer(layer);
    if config.load_test_routes {
        // Added after `.route_layer`, so outside it.
        router = router.route(LOAD_TEST_WELCOME, get(unguarded_welcome));
    }
    router.with_state(Journey {
        paths: Arc::new(paths),
        sender,
        checks: AttemptLimiter::new("code-check", MAX_FAILED_CODES, Arc::clone(&config.attempts)),
        sends: AttemptLimiter::new("code-send", MAX_CODES_SENT, Arc::clone(&config.attempts)),
    })
}

/// `path?session_token=...`: a step's URL for this session (the template
/// escapes it).
fn action(path: &str, session: &Session) -> String {
    format!("{path}?{SESSION_TOKEN_PARAM}={}", session.token())
}

async fn welcome(State(journey): State<Journey>, session: Session) -> Response {
    welcome_page(&journey, session.claims(), session.token())
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage<'a> {
    name: &'a str,
    /// The claims the hook received, under readable labels.
    shared: Vec<Claim>,
    terms: &'a str,
    token_param: &'a str,
    token: &'a str,
}

fn welcome_page(journey: &Journey, claims: &UserClaims, token: &str) -> Response {
    let mut shared = Vec::new();
    for (key, value) in [("given_name", &claims.given_name), ("email", &claims.email)] {
        if let Some(value) = value {
            shared.push(Claim::labelled(key, &Value::String(value.clone())));
        }
    }
    shared.extend(
        claims
            .other
            .iter()
            .map(|(key, value)| Claim::labelled(key, value)),
    );
    let page = WelcomePage {
        name: claims.given_name.as_deref().unwrap_or("there"),
        shared,
        terms: &journey.paths.terms,
        token_param: SESSION_TOKEN_PARAM,
        token,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct UncheckedToken {
    #[serde(default)]
    session_token: String,
}

/// The welcome page for the sample user, *without* the layer: the token is
/// echoed unverified. Mounted only with `--load-test-routes`, so that a load
/// test can compare the hook's first page with the same page minus the
/// layer (see `scripts/load.sh`).
async fn unguarded_welcome(
    State(journey): State<Journey>,
    Query(query): Query<UncheckedToken>,
) -> Response {
    let claims = UserClaims {
        given_name: Some("Ada".to_owned()),
        email: Some("ada@example.com".to_owned()),
        other: BTreeMap::new(),
    };
    welcome_page(&journey, &claims, &query.session_token)
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    action: String,
}

async fn terms(State(journey): State<Journey>, session: Session) -> Response {
    let page = TermsPage {
        action: action(&journey.paths.terms, &session),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct TermsForm {
    #[serde(default)]
    decision: String,
}

async fn decide_terms(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<TermsForm>,
) -> Response {
    match form.decision.as_str() {
        "accept" => {
            let progress = Progress {
                terms_accepted: true,
                ..Progress::default()
            };
            let (form, errors) = (DetailsForm::default(), DetailsErrors::default());
            details_page(&journey, &session, &progress, &form, &errors)
        }
        "decline" => finish(
            &session,
            Ending::Declined,
            session
                .fail("The holder declined the terms of service.")
                .redirect(),
        ),
        _ => pages::error_page(
            StatusCode::BAD_REQUEST,
            "Choose an option",
            "Accept or decline the terms.",
        ),
    }
}

#[derive(Template)]
#[template(path = "details.html")]
struct DetailsPage<'a> {
    action: String,
    /// Sealed progress.
    progress: String,
    form: &'a DetailsForm,
    errors: &'a DetailsErrors,
}

impl DetailsPage<'_> {
    fn invalid(&self) -> bool {
        self.errors.preferred_name.is_some() || self.errors.date_of_birth.is_some()
    }
}

fn details_page(
    journey: &Journey,
    session: &Session,
    progress: &Progress,
    form: &DetailsForm,
    errors: &DetailsErrors,
) -> Response {
    let Some(sealed) = seal(session, progress) else {
        return could_not_continue();
    };
    let page = DetailsPage {
        action: action(&journey.paths.details, session),
        progress: sealed,
        form,
        errors,
    };
    let status = if page.invalid() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

async fn submit_details(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<DetailsForm>,
) -> Response {
    let Some(mut progress) = open_progress(&session, &form.progress).filter(|p| p.terms_accepted)
    else {
        return start_again();
    };
    match form.validate(today()) {
        Ok(details) => {
            progress.details = Some(details);
            send_code(&journey, &session, progress, CodeSend::First).await
        }
        Err(errors) => details_page(&journey, &session, &progress, &form, &errors),
    }
}

/// The progress sealed in a form, if it is genuine, unexpired and this
/// session's.
fn open_progress(session: &Session, sealed: &str) -> Option<Progress> {
    session.open_for(SEALED_FOR, sealed).ok()
}

/// The progress sealed for the next page's form.
fn seal(session: &Session, progress: &Progress) -> Option<String> {
    session
        .seal_for(SEALED_FOR, progress)
        .inspect_err(|error| tracing::error!(%error, "could not seal the journey's progress"))
        .ok()
}

fn start_again() -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "Something went wrong",
        "This page was opened out of order or its form was changed.",
    )
}

fn could_not_continue() -> Response {
    pages::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "We could not continue",
        "Something went wrong on our side. Please try again.",
    )
}

/// The attempt store (Redis, or memory) could not count: nothing is sent
/// or checked without a count.
fn store_unavailable(error: &AttemptError) -> Response {
    tracing::error!(%error, "attempt store unavailable; no code sent or checked");
    pages::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        "We cannot handle one-time codes right now. Nothing was checked; try again in a minute.",
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeSend {
    First,
    Again,
}

/// Sends a new code, if the session may have another, and shows the code
/// page.
async fn send_code(
    journey: &Journey,
    session: &Session,
    mut progress: Progress,
    send: CodeSend,
) -> Response {
    match journey.sends.attempt(session).await {
        Ok(_) => {}
        Err(AttemptError::Exhausted { limit }) => {
            let error = format!(
                "You have been sent {limit} codes, the most for one session. Enter the last one you received."
            );
            return code_page(journey, session, &progress, Note::Error(error));
        }
        Err(error) => return store_unavailable(&error),
    }
    let code = match otp::new_code() {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(%error, "no randomness for a one-time code");
            return could_not_continue();
        }
    };
    let to = Recipient::from_claims(session.claims());
    if let Err(error) = journey.sender.send(&to, &code).await {
        tracing::error!(%error, to = %to.masked(journey.sender.channel()), "could not send a one-time code");
        let problem =
            "We could not send you a code just now. Wait a moment, then choose “Send a new code”.";
        return code_page(
            journey,
            session,
            &progress,
            Note::Unavailable(problem.to_owned()),
        );
    }
    progress.code = Some(code);
    let note = match send {
        CodeSend::First => Note::None,
        CodeSend::Again => Note::Notice("A new code is on its way.".to_owned()),
    };
    code_page(journey, session, &progress, note)
}

/// A message on the code page.
enum Note {
    None,
    /// News, e.g. that a new code was sent.
    Notice(String),
    /// What went wrong with the last submission, shown at the code field.
    Error(String),
    /// Nothing the holder did: a code could not be sent.
    Unavailable(String),
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    action: String,
    resend: String,
    /// Sealed progress.
    progress: String,
    /// How the code reached the holder.
    channel: Channel,
    /// The code itself, for [`Channel::Screen`] only.
    dev_code: Option<String>,
    /// Where it went, masked, for email and SMS.
    recipient: String,
    /// Whether a code was sent at all (the first can fail to go out).
    sent: bool,
    notice: Option<String>,
    problem: Option<String>,
    error: Option<String>,
    /// Whether this build has dev mode, to say how to see codes.
    dev_build: bool,
}

fn code_page(journey: &Journey, session: &Session, progress: &Progress, note: Note) -> Response {
    let Some(sealed) = seal(session, progress) else {
        return could_not_continue();
    };
    let channel = journey.sender.channel();
    let (status, notice, problem, error) = match note {
        Note::None => (StatusCode::OK, None, None, None),
        Note::Notice(notice) => (StatusCode::OK, Some(notice), None, None),
        Note::Error(error) => (StatusCode::UNPROCESSABLE_ENTITY, None, None, Some(error)),
        Note::Unavailable(problem) => (StatusCode::SERVICE_UNAVAILABLE, None, Some(problem), None),
    };
    let page = CodePage {
        action: action(&journey.paths.verify, session),
        resend: action(&journey.paths.resend, session),
        progress: sealed,
        channel,
        dev_code: progress.code.clone().filter(|_| channel == Channel::Screen),
        recipient: Recipient::from_claims(session.claims()).masked(channel),
        sent: progress.code.is_some(),
        notice,
        problem,
        error,
        dev_build: cfg!(feature = "dev"),
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    progress: String,
    #[serde(default)]
    code: String,
}

/// Reserves an attempt, then checks the code: however many requests arrive
/// at once, on however many replicas, no more than `MAX_FAILED_CODES` codes
/// are ever checked for a session.
async fn verify_code(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Response {
    let progress = open_progress(&session, &form.progress);
    let Some((progress, details)) = progress.and_then(|p| {
        let details = p.details.clone()?;
        Some((p, details))
    }) else {
        return start_again();
    };
    let Some(expected) = progress.code.clone() else {
        // The first code could not be sent: nothing to check yet.
        let error = "No code has been sent yet. Choose “Send a new code”.".to_owned();
        return code_page(&journey, &session, &progress, Note::Error(error));
    };
    if otp::normalize(&form.code).is_empty() {
        // Not an attempt: nothing was entered.
        let error = "Enter the 6-digit code.".to_owned();
        return code_page(&journey, &session, &progress, Note::Error(error));
    }
    let too_many =
        || format!("The one-time code was entered incorrectly {MAX_FAILED_CODES} times.");
    let attempt = match journey.checks.attempt(&session).await {
        Ok(attempt) => attempt,
        Err(AttemptError::Exhausted { .. }) => {
            return finish(
                &session,
                Ending::TooManyWrongCodes,
                session.fail(too_many()).redirect(),
            );
        }
        Err(error) => return store_unavailable(&error),
    };
    if otp::matches(&expected, &form.code) {
        return finish(
            &session,
            Ending::Completed,
            complete_with(&session, details),
        );
    }
    if attempt.remaining == 0 {
        return finish(
            &session,
            Ending::TooManyWrongCodes,
            session.fail(too_many()).redirect(),
        );
    }
    let left = attempt.remaining;
    let plural = if left == 1 { "" } else { "s" };
    let error = format!("That code is not right. {left} attempt{plural} left.");
    code_page(&journey, &session, &progress, Note::Error(error))
}

#[derive(Deserialize)]
struct ResendForm {
    #[serde(default)]
    progress: String,
}

async fn resend_code(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<ResendForm>,
) -> Response {
    match open_progress(&session, &form.progress) {
        Some(progress) if progress.details.is_some() => {
            send_code(&journey, &session, progress, CodeSend::Again).await
        }
        _ => start_again(),
    }
}

/// The successful end: the collected details go back to MATTR VII, and the
/// preferred name is stored on the user record.
fn complete_with(session: &Session, details: Details) -> Result<HookRedirect, CompletionError> {
    let Details {
        preferred_name,
        date_of_birth,
    } = details;
    session
        .complete()
        .claim("preferredName", preferred_name)?
        .claim("dateOfBirth", date_of_birth)?
        .claim("termsAccepted", true)?
        .persist(["preferredName"])
        .redirect()
}

/// How a journey ended, for the one log line it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Completed,
    Declined,
    TooManyWrongCodes,
}

impl Ending {
    /// The `ending` label of `example_server_journeys_ended_total`.
    fn label(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Declined => "declined",
            Self::TooManyWrongCodes => "too_many_wrong_codes",
        }
    }
}

/// The redirect back to MATTR VII, or a page saying it could not be made.
/// Either way one log line says how the journey ended: with the first
/// characters of its `state`, to find it in the tenant's logs, and never a
/// claim or a code.
fn finish(
    session: &Session,
    ending: Ending,
    redirect: Result<HookRedirect, CompletionError>,
) -> Response {
    let state: String = session.state().chars().take(6).collect();
    match redirect {
        Ok(redirect) => {
            metrics::counter!(crate::prometheus::JOURNEYS_ENDED, "ending" => ending.label())
                .increment(1);
            match ending {
                Ending::Completed => tracing::info!(state, "interaction completed"),
                Ending::Declined => {
                    tracing::info!(state, reason = "terms declined", "interaction failed");
                }
                Ending::TooManyWrongCodes => {
                    tracing::info!(state, reason = "too many wrong codes", "interaction failed");
                }
            }
            redirect.into_response()
        }
        Err(error) => {
            tracing::error!(state, ?ending, %error, "could not complete the interaction");
            pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "We could not finish",
                "Your answers could not be sent back to the issuer.",
            )
        }
    }
}

#[cfg(all(test, feature = "dev"))]
mod tests {
    use hook_layer::testing::MockIssuer;
    use tokio::net::TcpListener;

    use super::*;
    use crate::delivery::{DeliveryError, Sending};

    /// A provider that is down.
    struct Down;

    impl CodeSender for Down {
        fn channel(&self) -> Channel {
            Channel::Email
        }

        fn send<'a>(&'a self, _to: &'a Recipient, _code: &'a str) -> Sending<'a> {
            Box::pin(std::future::ready(Err(DeliveryError::Failed(
                "provider down".to_owned(),
            ))))
        }
    }

    /// The text after `before`, up to the next `"`.
    fn after<'h>(html: &'h str, before: &str) -> &'h str {
        let start = html.find(before).expect(before) + before.len();
        &html[start..start + html[start..].find('"').unwrap()]
    }

    /// A code that cannot be sent is not a dead end: the page says so
    /// (503), nothing is checked, and "Send a new code" is the way on.
    #[tokio::test]
    async fn a_code_that_cannot_be_sent_says_so() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let secret = [9u8; 32];
        let config = Config::new(&secret, &base, &format!("{base}/interaction"), false).unwrap();
        let app = router_with_sender(&config, Arc::new(Down));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let token = MockIssuer::new(hook_layer::HookSecret::from_bytes(&secret).unwrap())
            .tenant(base.clone())
            .hook_url(config.tenant().hook_url.clone())
            .redirect_url("https://tenant.vii.au01.mattr.global/callback")
            .session()
            .claim("email", "ada@example.com")
            .token();
        let http = reqwest::Client::new();
        let step = |path: &str| format!("{base}/interaction/{path}?session_token={token}");

        let details = http
            .post(step("terms"))
            .form(&[("decision", "accept")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let progress = after(&details, r#"name="progress" value=""#);
        let response = http
            .post(step("details"))
            .form(&[
                ("progress", progress),
                ("preferred_name", "Ada"),
                ("date_of_birth", "1990-04-21"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("We could not send you a code just now"),
            "{page}"
        );
        assert!(
            page.contains("We send a 6-digit code to a***@example.com."),
            "{page}"
        );

        let progress = after(&page, r#"name="progress" value=""#);
        let response = http
            .post(step("verify"))
            .form(&[("progress", progress), ("code", "123456")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("No code has been sent yet"), "{page}");
    }
}
