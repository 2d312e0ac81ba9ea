//! The hook itself: welcome, terms of service, extra details, a one-time
//! code, then back to MATTR VII. Every route is behind the layer, and the
//! session token travels from page to page in links and form actions.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use hook_layer::attempts::{AttemptError, AttemptLimiter};
use hook_layer::{
    CompletionError, HookRedirect, HookSession, InteractionHookLayer, SESSION_TOKEN_PARAM,
};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::details::{DetailsErrors, DetailsForm, today};
use crate::otp::{self, MAX_CODES_SENT, MAX_FAILED_CODES};
use crate::pages::{self, claims_list, escape, html, layout};
use crate::progress::{Details, Progress};

/// The user claims MATTR VII passes on: the two this example greets with,
/// and whatever else the hook is configured to receive.
#[derive(Debug, Clone, Deserialize)]
pub struct UserClaims {
    /// OpenID Connect `given_name`.
    pub given_name: Option<String>,
    /// OpenID Connect `email`.
    pub email: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

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
    show_code: bool,
    /// Wrong one-time codes per session.
    checks: AttemptLimiter,
    /// One-time codes sent per session.
    sends: AttemptLimiter,
}

/// The journey's routes, behind the interaction hook layer.
pub fn router(config: &Config) -> Router {
    // A hook URL without a path mounts the journey at the root: welcome at
    // `/`, the steps at `/terms` and so on.
    let base = config.hook_url.path().trim_end_matches('/');
    let paths = Paths {
        welcome: if base.is_empty() { "/" } else { base }.to_owned(),
        terms: format!("{base}/terms"),
        details: format!("{base}/details"),
        verify: format!("{base}/verify"),
        resend: format!("{base}/resend"),
    };
    let mut layer = InteractionHookLayer::new(config.secret.clone())
        .issuer(config.issuer.clone())
        .audience(config.audience.clone())
        .claims::<UserClaims>()
        .on_rejection(pages::rejection);
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
        show_code: config.dev_issuer,
        checks: AttemptLimiter::new("code-check", MAX_FAILED_CODES, Arc::clone(&config.attempts)),
        sends: AttemptLimiter::new("code-send", MAX_CODES_SENT, Arc::clone(&config.attempts)),
    })
}

/// `path?session_token=...`: a step's URL for this session.
fn action(path: &str, session: &Session) -> String {
    escape(&format!("{path}?{SESSION_TOKEN_PARAM}={}", session.token()))
}

async fn welcome(State(journey): State<Journey>, session: Session) -> Response {
    welcome_page(&journey, session.claims(), session.token())
}

fn welcome_page(journey: &Journey, claims: &UserClaims, token: &str) -> Response {
    let name = claims.given_name.as_deref().unwrap_or("there");
    let mut shared = serde_json::Map::new();
    for (key, value) in [("given_name", &claims.given_name), ("email", &claims.email)] {
        if let Some(value) = value {
            shared.insert(key.to_owned(), Value::String(value.clone()));
        }
    }
    shared.extend(claims.other.clone());
    let main = format!(
        r#"<h1>Hello, {name}</h1>
<p class="lead">Before Acme issues your credential there are three short steps: our terms of service, a few details, and a one-time code. It takes about a minute.</p>
<h2>Shared from your sign-in</h2>
{claims}
<form method="get" action="{terms}">
<input type="hidden" name="{param}" value="{token}">
<div class="actions"><button type="submit">Continue</button></div>
</form>"#,
        name = escape(name),
        claims = claims_list(&shared),
        terms = escape(&journey.paths.terms),
        param = SESSION_TOKEN_PARAM,
        token = escape(token),
    );
    html(StatusCode::OK, layout("Welcome", Some(1), &main))
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

async fn terms(State(journey): State<Journey>, session: Session) -> Response {
    let main = format!(
        r#"<h1>Terms of service</h1>
<p class="lead">Please read and accept the terms to continue.</p>
<div class="terms" tabindex="0" role="region" aria-label="Terms of service">
<p><strong>1. The credential.</strong> Acme issues a digital credential to your wallet that states the details you confirm in this journey. You control where you present it.</p>
<p><strong>2. Your details.</strong> The preferred name you give is stored with your account so we can use it next time; your date of birth is placed in this credential only.</p>
<p><strong>3. Accuracy.</strong> You confirm the details you give are true. A credential obtained with false details may be revoked.</p>
<p><strong>4. Revocation.</strong> Acme may revoke the credential if these terms are broken or the details change.</p>
</div>
<form method="post" action="{action}">
<div class="actions">
<button type="submit" name="decision" value="accept">Accept and continue</button>
<button type="submit" name="decision" value="decline" class="secondary">Decline</button>
</div>
</form>"#,
        action = action(&journey.paths.terms, &session),
    );
    html(StatusCode::OK, layout("Terms of service", Some(2), &main))
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
            session
                .fail("The holder declined the terms of service")
                .redirect(),
        ),
        _ => pages::error_page(
            StatusCode::BAD_REQUEST,
            "Choose an option",
            "Accept or decline the terms.",
        ),
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
    let invalid = errors.preferred_name.is_some() || errors.date_of_birth.is_some();
    let mut main = String::from("<h1>A few details</h1>");
    if invalid {
        // Name and link each field with a problem, not just "highlighted".
        let mut summary = String::from(
            r#"<div class="notice error" role="alert">Please correct these fields:<ul>"#,
        );
        let labelled = [
            ("preferred_name", "Preferred name", errors.preferred_name),
            ("date_of_birth", "Date of birth", errors.date_of_birth),
        ];
        for (id, label, error) in labelled {
            if let Some(error) = error {
                let _ = write!(
                    summary,
                    r##"<li><a href="#{id}">{label}</a>: {}</li>"##,
                    escape(error)
                );
            }
        }
        summary.push_str("</ul></div>");
        main.push_str(&summary);
    } else {
        main.push_str(r#"<p class="lead">These go into your credential.</p>"#);
    }
    let _ = write!(
        main,
        r#"<form method="post" action="{action}" novalidate>
<input type="hidden" name="progress" value="{progress}">
{name}
{birth}
<div class="actions"><button type="submit">Continue</button></div>
</form>"#,
        action = action(&journey.paths.details, session),
        progress = escape(&sealed),
        name = field(
            "preferred_name",
            "Preferred name",
            "What should we call you?",
            "text",
            &form.preferred_name,
            errors.preferred_name,
            r#"autocomplete="nickname" maxlength="40""#
        ),
        birth = field(
            "date_of_birth",
            "Date of birth",
            "For example 1990-04-21.",
            "date",
            &form.date_of_birth,
            errors.date_of_birth,
            r#"autocomplete="bday""#
        ),
    );
    let status = if invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = if invalid {
        "Error: your details"
    } else {
        "Your details"
    };
    html(status, layout(title, Some(3), &main))
}

/// A labelled input with its hint and, when invalid, its error, all tied
/// to the input for screen readers.
fn field(
    name: &str,
    label: &str,
    hint: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
    extra: &str,
) -> String {
    let (class, error_html, invalid) = match error {
        Some(message) => (
            "field invalid",
            format!(
                r#"<span class="field-error" id="{name}-error">{}</span>"#,
                escape(message)
            ),
            format!(r#" aria-invalid="true" aria-describedby="{name}-hint {name}-error""#),
        ),
        None => (
            "field",
            String::new(),
            format!(r#" aria-describedby="{name}-hint""#),
        ),
    };
    format!(
        r#"<div class="{class}"><label for="{name}">{label}</label><span class="hint" id="{name}-hint">{hint}</span>{error_html}<input type="{kind}" id="{name}" name="{name}" value="{value}" required {extra}{invalid}></div>"#,
        value = escape(value),
    )
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
    session.open(sealed).ok()
}

/// The progress sealed for the next page's form.
fn seal(session: &Session, progress: &Progress) -> Option<String> {
    session
        .seal(progress)
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
    if !journey.show_code {
        deliver_code(session);
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
    /// What went wrong with the last submission.
    Error(String),
}

fn code_page(journey: &Journey, session: &Session, progress: &Progress, note: Note) -> Response {
    let Some(sealed) = seal(session, progress) else {
        return could_not_continue();
    };
    let delivery = match (&progress.code, journey.show_code) {
        (Some(code), true) => format!(
            r#"<div class="notice dev" role="status">Dev mode: your code is <strong id="dev-code">{}</strong>. A real hook sends it by SMS or email.</div>"#,
            escape(code)
        ),
        _ => r#"<p class="lead">Enter the 6-digit code sent to the email address on your account.</p>
<div class="notice dev" role="status">This example server has no way to send codes: run it with <code>--dev-issuer</code> to see them on this page.</div>"#
            .to_owned(),
    };
    let notice = match &note {
        Note::Notice(message) => format!(
            r#"<div class="notice ok" role="status">{}</div>"#,
            escape(message)
        ),
        _ => String::new(),
    };
    let error = match note {
        Note::Error(message) => Some(message),
        _ => None,
    };
    let (class, error_html, invalid) = match &error {
        Some(message) => (
            "field invalid",
            format!(
                r#"<span class="field-error" id="code-error" role="alert">{}</span>"#,
                escape(message)
            ),
            r#" aria-invalid="true" aria-describedby="code-error""#,
        ),
        None => ("field", String::new(), ""),
    };
    let main = format!(
        r#"<h1>Enter your one-time code</h1>
{notice}{delivery}
<form method="post" action="{action}" novalidate>
<input type="hidden" name="progress" value="{progress}">
<div class="{class}"><label for="code">One-time code</label>{error_html}<input type="text" id="code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required{invalid}></div>
<div class="actions"><button type="submit">Verify and finish</button></div>
</form>
<form method="post" action="{resend}">
<input type="hidden" name="progress" value="{progress}">
<div class="actions"><button type="submit" class="secondary">Send a new code</button></div>
</form>"#,
        action = action(&journey.paths.verify, session),
        resend = action(&journey.paths.resend, session),
        progress = escape(&sealed),
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = if error.is_some() {
        "Error: one-time code"
    } else {
        "One-time code"
    };
    html(status, layout(title, Some(4), &main))
}

/// Where a real hook would hand the code to an SMS or email service. This
/// example has none configured; it says so, without the code itself.
fn deliver_code(session: &Session) {
    let to = session
        .claims()
        .email
        .as_deref()
        .map_or_else(|| "no email claim".to_owned(), mask_email);
    tracing::info!(
        to,
        "one-time code issued; this example has no mail transport, run with --dev-issuer to show codes"
    );
}

/// `ada@example.com` -> `a***@example.com`: enough to tell, not to harvest.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
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
    let Some((progress, details, expected)) = progress.and_then(|p| {
        let details = p.details.clone()?;
        let code = p.code.clone()?;
        Some((p, details, code))
    }) else {
        return start_again();
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
        Err(AttemptError::Exhausted { .. }) => return finish(session.fail(too_many()).redirect()),
        Err(error) => return store_unavailable(&error),
    };
    if otp::matches(&expected, &form.code) {
        return finish(complete_with(&session, details));
    }
    if attempt.remaining == 0 {
        return finish(session.fail(too_many()).redirect());
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

/// The redirect back to MATTR VII, or a page saying it could not be made.
fn finish(redirect: Result<HookRedirect, CompletionError>) -> Response {
    match redirect {
        Ok(redirect) => redirect.into_response(),
        Err(error) => {
            tracing::error!(%error, "could not complete the interaction");
            pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "We could not finish",
                "Your answers could not be sent back to the issuer.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails() {
        assert_eq!(mask_email("ada@example.com"), "a***@example.com");
        assert_eq!(mask_email("not an email"), "***");
    }
}
