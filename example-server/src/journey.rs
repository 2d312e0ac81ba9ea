//! The hook in the browser: welcome, terms of service, extra details, a
//! one-time code, then back to MATTR VII. Every route is behind the layer,
//! and the session token travels from page to page in links, form actions
//! and redirects.
//!
//! Post/redirect/get: a form step that succeeds answers `303 See Other` to
//! the next step's page, with what that page needs in its query (the
//! session token and the sealed progress), so the address bar shows the
//! page the holder is on and a reload repeats nothing: no second code is
//! sent and no code is checked twice. A wrong code also answers with a
//! redirect to the code page, whose `note` says how many attempts are left.
//! Only a form with mistakes is answered in place, `422`, so that what was
//! typed is kept.
//!
//! Once the session is answered (completed or failed), every page of it
//! says so instead (see `answered.rs`). What the steps do is in `steps.rs`,
//! shared with the native app's JSON API (`api.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use hook_layer::attempts::StoredAnswer;
use hook_layer::{Rejection, SESSION_TOKEN_PARAM};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::answered::{self, AnsweredGuard, Refusals};
use crate::claims::UserClaims;
use crate::config::Config;
use crate::delivery::{self, Channel, CodeSender, Recipient};
use crate::details::{DetailsErrors, DetailsForm, today};
use crate::otp::MAX_FAILED_CODES;
use crate::pages::{self, Claim, render};
use crate::progress::Progress;
use crate::steps::{
    self, Checked, Dispatch, Ended, Session, Steps, Trouble, open_progress, seal_progress,
};

/// Where `--load-test-routes` mounts the welcome page without the layer
/// (and so without the answered-session guard).
pub const LOAD_TEST_WELCOME: &str = "/load-test/welcome";
/// Where `--load-test-routes` mounts the welcome page behind the layer but
/// not the answered-session guard.
pub const LOAD_TEST_UNGUARDED: &str = "/load-test/layer-only";

/// The code page's `note` after "Send a new code".
const NOTE_RESENT: &str = "resent";
/// The code page's `note` when the session has had all its codes.
const NOTE_SENDS_USED: &str = "sends-used";
/// The code page's `note` after a wrong code: `wrong-2` is "2 attempts
/// left". The note only words the page; the count is in the store.
const NOTE_WRONG: &str = "wrong-";

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
    steps: Steps,
    /// In dev mode, the simulated MATTR VII's start page: the way on from
    /// pages that end the journey.
    dev_start: Option<&'static str>,
}

/// The journey's routes, behind the interaction hook layer, and the native
/// app's JSON API beside them.
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
    let steps = Steps::new(config, sender);
    let answered_guard = AnsweredGuard {
        answers: steps.answers.clone(),
        refusals: WebRefusals { dev_start },
        store_answers_at_once: config.attempts_in_memory(),
    };
    let mut router = Router::new()
        .route(&paths.welcome, get(welcome))
        .route(&paths.terms, get(terms).post(decide_terms))
        .route(&paths.details, get(details).post(submit_details))
        .route(&paths.verify, get(code).post(verify_code))
        .route(&paths.resend, post(resend_code))
        // Inside the layer: the session is verified before it is looked up.
        .route_layer(answered_guard.clone())
        // `route_layer`: only matched routes are guarded, so an unknown path is
        // a 404, not a refused token.
        .route_layer(layer.clone());
    if config.load_test_routes {
        // The welcome page twice more, for `scripts/load.sh` to compare
        // with the hook's: with neither the layer nor the answered-session
        // guard (added after `.route_layer`, so outside both), and behind
        // the layer alone. Neither signs anything.
        router = router
            .route(LOAD_TEST_WELCOME, get(unguarded_welcome))
            .merge(
                Router::new()
                    .route(LOAD_TEST_UNGUARDED, get(welcome))
                    .route_layer(layer),
            );
    }
    let api = crate::api::router(config, steps.clone());
    router
        .with_state(Journey {
            paths: Arc::new(paths),
            steps,
            dev_start,
        })
        .merge(api)
}

/// The pages of the answered-session guard.
#[derive(Clone)]
struct WebRefusals {
    dev_start: Option<&'static str>,
}

impl Refusals for WebRefusals {
    fn answered(&self, answer: &StoredAnswer) -> Response {
        answered::page(answer, self.dev_start)
    }

    fn restarted(&self) -> Response {
        restarted()
    }

    fn store_down(&self) -> Response {
        store_unavailable()
    }
}

/// `path?session_token=...[&progress=...][&note=...]`: a step's URL for
/// this session, percent-encoded (templates escape it for HTML).
fn step_url(path: &str, session: &Session, progress: Option<&str>, note: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair(SESSION_TOKEN_PARAM, session.token());
    if let Some(progress) = progress {
        query.append_pair("progress", progress);
    }
    if let Some(note) = note {
        query.append_pair("note", note);
    }
    format!("{path}?{}", query.finish())
}

/// A form's action: the step's path with this session's token.
fn action(path: &str, session: &Session) -> String {
    step_url(path, session, None, None)
}

/// `303 See Other` to the page of the step at `path`, carrying `progress`
/// sealed, and `note`.
fn see_step(path: &str, session: &Session, progress: &Progress, note: Option<&str>) -> Response {
    match seal_progress(session, progress) {
        Some(sealed) => Redirect::to(&step_url(path, session, Some(&sealed), note)).into_response(),
        None => could_not_continue(),
    }
}

/// The query of a step's page: the sealed progress, and a note.
#[derive(Deserialize)]
struct StepQuery {
    #[serde(default)]
    progress: String,
    #[serde(default)]
    note: String,
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
            see_step(&journey.paths.details, &session, &progress, None)
        }
        "decline" => journey.ended(journey.steps.decline(&session).await),
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

/// The details form, empty, once the terms are accepted.
async fn details(
    State(journey): State<Journey>,
    session: Session,
    Query(query): Query<StepQuery>,
) -> Response {
    match open_progress(&session, &query.progress).filter(|p| p.terms_accepted) {
        Some(progress) => details_page(
            &journey,
            &session,
            &progress,
            &DetailsForm::default(),
            &DetailsErrors::default(),
        ),
        None => start_again(),
    }
}

fn details_page(
    journey: &Journey,
    session: &Session,
    progress: &Progress,
    form: &DetailsForm,
    errors: &DetailsErrors,
) -> Response {
    let Some(sealed) = seal_progress(session, progress) else {
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
            progress.code = None;
            send_code(&journey, &session, progress, CodeSend::First).await
        }
        Err(errors) => details_page(&journey, &session, &progress, &form, &errors),
    }
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

/// The session began before this hook restarted, and the hook keeps its
/// attempts and answers in memory (`409`).
fn restarted() -> Response {
    let (title, message) = answered::RESTARTED;
    pages::error_page(
        StatusCode::CONFLICT,
        title,
        &format!("{message} {}", pages::RESTART),
    )
}

/// The attempt store (Redis, or memory) did not answer: nothing is sent,
/// checked or signed without it. (Logged where it happened.)
fn store_unavailable() -> Response {
    pages::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        "We cannot go on with your issuance right now. Nothing was checked or sent; try again in a minute.",
    )
}

impl Journey {
    /// The page for trouble that stopped a step.
    fn trouble(&self, trouble: Trouble) -> Response {
        match trouble {
            Trouble::StoreDown => store_unavailable(),
            Trouble::SessionOver => pages::rejection(&Rejection::Expired, self.dev_start),
            Trouble::Restarted => restarted(),
            Trouble::Broken => could_not_continue(),
        }
    }

    /// The redirect back to MATTR VII, or the page saying why there is
    /// none.
    fn ended(&self, ended: Ended) -> Response {
        match ended {
            Ended::Redirect(redirect) => redirect.into_response(),
            Ended::AlreadyAnswered(answer) => answered::page(&answer, self.dev_start),
            Ended::Trouble(trouble) => self.trouble(trouble),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeSend {
    First,
    Again,
}

/// Sends a new code, if the session may have another, and sends the
/// browser to the code page.
async fn send_code(
    journey: &Journey,
    session: &Session,
    progress: Progress,
    send: CodeSend,
) -> Response {
    let verify = &journey.paths.verify;
    match journey.steps.send_code(session, progress.clone()).await {
        Dispatch::Sent(progress) => {
            let note = (send == CodeSend::Again).then_some(NOTE_RESENT);
            see_step(verify, session, &progress, note)
        }
        Dispatch::Exhausted { .. } => see_step(verify, session, &progress, Some(NOTE_SENDS_USED)),
        // Not a success, so answered in place: choosing "Send a new code"
        // is the way on.
        Dispatch::Undelivered => {
            let problem = "We could not send you a code just now. Wait a moment, then choose “Send a new code”.";
            code_page(
                journey,
                session,
                &progress,
                Note::Unavailable(problem.to_owned()),
            )
        }
        Dispatch::Trouble(trouble) => journey.trouble(trouble),
    }
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

/// The code page as the answer to a form: `422` with an error, `503` when
/// a code could not be sent.
fn code_page(journey: &Journey, session: &Session, progress: &Progress, note: Note) -> Response {
    let status = match note {
        Note::None | Note::Notice(_) => StatusCode::OK,
        Note::Error(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Note::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    code_page_with_status(journey, session, progress, note, status)
}

fn code_page_with_status(
    journey: &Journey,
    session: &Session,
    progress: &Progress,
    note: Note,
    status: StatusCode,
) -> Response {
    let Some(sealed) = seal_progress(session, progress) else {
        return could_not_continue();
    };
    let channel = journey.steps.sender.channel();
    let (notice, problem, error) = match note {
        Note::None => (None, None, None),
        Note::Notice(notice) => (Some(notice), None, None),
        Note::Error(error) => (None, None, Some(error)),
        Note::Unavailable(problem) => (None, Some(problem), None),
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

/// The code page, with what its `note` says. A GET that shows it, so `200`
/// even with a message about the last submission.
async fn code(
    State(journey): State<Journey>,
    session: Session,
    Query(query): Query<StepQuery>,
) -> Response {
    let Some(progress) = open_progress(&session, &query.progress).filter(|p| p.details.is_some())
    else {
        return start_again();
    };
    let note = match query.note.as_str() {
        NOTE_RESENT => Note::Notice("A new code is on its way.".to_owned()),
        NOTE_SENDS_USED => Note::Error(steps::sends_used_message(crate::otp::MAX_CODES_SENT)),
        note => match note
            .strip_prefix(NOTE_WRONG)
            .and_then(|left| left.parse::<u64>().ok())
        {
            Some(left @ 1..MAX_FAILED_CODES) => Note::Error(steps::wrong_code_message(left)),
            _ => Note::None,
        },
    };
    code_page_with_status(&journey, &session, &progress, note, StatusCode::OK)
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    progress: String,
    #[serde(default)]
    code: String,
}

/// Checks the code (see `Steps::check_code`): the right one, or the last
/// wrong one, ends the journey; a wrong one goes back to the code page.
async fn verify_code(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Response {
    let Some(progress) = open_progress(&session, &form.progress).filter(|p| p.details.is_some())
    else {
        return start_again();
    };
    let verify = &journey.paths.verify;
    match journey
        .steps
        .check_code(&session, &progress, &form.code)
        .await
    {
        Checked::NothingSent => {
            let error = "No code has been sent yet. Choose “Send a new code”.".to_owned();
            code_page(&journey, &session, &progress, Note::Error(error))
        }
        Checked::Empty => {
            let error = "Enter the 6-digit code.".to_owned();
            code_page(&journey, &session, &progress, Note::Error(error))
        }
        Checked::Wrong { left } => {
            let note = format!("{NOTE_WRONG}{left}");
            see_step(verify, &session, &progress, Some(&note))
        }
        Checked::Ended(ended) => journey.ended(ended),
        Checked::Trouble(trouble) => journey.trouble(trouble),
    }
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
